"""The Pygments lexer for `.guide` (dsl/highlight.py): registered as an entry point; it loses
no character; it lexes every file the parser accepts without an Error token and marks what the
parser's lexer rejects; every keyword is coloured as one; its HTML escapes every string; the
docs' ```guide blocks and the handout's source appendix use it."""

from __future__ import annotations

import re
from pathlib import Path

import html5lib
import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Keyword, Operator

from compiler.pipeline import check_file
from dsl.diagnostics import GuidecError
from dsl.highlight import GuideLexer, highlight_html
from dsl.parser import KEYWORDS, parse
from targets.html import render_html

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*(ROOT / "tests" / "fixtures").rglob("*.guide"),
                *(ROOT / "guidelines").rglob("*.guide")])
DOCS = [ROOT / "README.md", ROOT / "dsl" / "README.md"]
ADVERSARIAL = ROOT / "tests" / "fixtures" / "html" / "adversarial.guide"


def test_registered_as_a_pygments_entry_point() -> None:
    assert isinstance(get_lexer_by_name("guide"), GuideLexer)
    assert isinstance(get_lexer_for_filename("pathway.guide"), GuideLexer)


def _errors(text: str) -> list[str]:
    return [v for tok, v in GuideLexer().get_tokens(text) if tok in Error]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_lexes_what_the_parser_accepts_clean_and_loses_nothing(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    lexer = GuideLexer(stripnl=False, ensurenl=False)
    assert "".join(v for _, v in lexer.get_tokens(text)) == text.replace("\r\n", "\n")
    try:
        parse(text, str(path))
    except GuidecError as exc:
        if exc.diagnostics[0].code in ("E001", "E003"):  # a character the lexer rejects
            assert _errors(text), path
        return
    assert _errors(text) == []


def test_every_keyword_is_coloured_as_one() -> None:
    for word in KEYWORDS:
        tokens = [(tok, v) for tok, v in GuideLexer().get_tokens(word) if v.strip()]
        assert len(tokens) == 1 and (tokens[0][0] in Keyword or tokens[0][0] in Operator), \
            (word, tokens)
    assert [tok for tok, v in GuideLexer().get_tokens("step_count") if v.strip()] == \
        [GuideLexer().get_tokens("x").__next__()[0]]


def test_the_html_escapes_every_string() -> None:
    source = ADVERSARIAL.read_text(encoding="utf-8")
    out = highlight_html(source)
    assert "<script" not in out and "</pre><" not in out[:-len("</code></pre>")]
    tree = html5lib.parse(out, namespaceHTMLElements=False)
    pre = tree.find(".//pre")
    assert pre is not None and "".join(pre.itertext()) == source


def _guide_blocks(text: str) -> list[str]:
    return re.findall(r"^```guide\n(.*?)^```", text, re.M | re.S)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_docs_guide_blocks_lex_clean(doc: Path) -> None:
    blocks = _guide_blocks(doc.read_text(encoding="utf-8"))
    assert blocks
    for block in blocks:
        assert _errors(block) == [], block[:200]


def test_the_docs_render_with_highlighted_blocks(tmp_path: Path) -> None:
    import subprocess
    import sys

    subprocess.run([sys.executable, str(ROOT / "tools" / "docs.py"), str(tmp_path)],
                   check=True, capture_output=True)
    for doc, page in ((DOCS[0], "index.html"), (DOCS[1], "language.html")):
        html = (tmp_path / page).read_text(encoding="utf-8")
        assert html.count('<pre class="guide">') == \
            len(_guide_blocks(doc.read_text(encoding="utf-8")))
        assert '<span class="kd">' in html
    assert 'href="language.html' in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_the_handout_appends_the_source_highlighted() -> None:
    result = check_file(ROOT / "guidelines" / "leptomeningeal.guide", analyze=False)
    assert result.model is not None
    page = render_html(result.model, None)
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    pre = tree.find(".//details[@class='source-text']/pre[@class='guide']")
    assert pre is not None
    assert "".join(pre.itertext()) == result.model.source
    assert pre.find(".//span[@class='kd']") is not None
    assert ".contents, .source-appendix { display: none; }" in page  # not printed
