"""The VS Code extension (editors/vscode): its TextMate grammar tokenises, as VS Code does
(vscode-textmate on Oniguruma, through node), every fixture the parser accepts without an
`invalid` scope, and marks the characters the parser rejects; every keyword is highlighted as
one; the documented `make vsix` packages the client, the grammar and the language
configuration."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from dsl.diagnostics import GuidecError
from dsl.parser import KEYWORDS, parse

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = VSCODE / "syntaxes" / "guide.tmLanguage.json"
FILES = sorted([*(ROOT / "tests" / "fixtures").rglob("*.guide"),
                *(ROOT / "guidelines").rglob("*.guide")])


@pytest.fixture(scope="module")
def invalid() -> dict[str, list[list[object]]]:
    """Each file's tokens with an `invalid` scope, from the extension's own tokenizer."""
    proc = subprocess.run(["node", str(VSCODE / "test" / "tokenize.js")],
                          input="\n".join(str(f) for f in FILES), capture_output=True,
                          text=True, timeout=300, check=True)
    found: dict[str, list[list[object]]] = json.loads(proc.stdout)
    return found


def _parses(path: Path) -> bool:
    try:
        parse(path.read_text(encoding="utf-8", errors="replace"), str(path))
    except GuidecError:
        return False
    return True


def test_every_file_the_parser_accepts_tokenises_clean(invalid: dict[str, list[list[object]]]
                                                       ) -> None:
    accepted = [f for f in FILES if _parses(f)]
    assert len(accepted) > 60
    dirty = {str(f.relative_to(ROOT)): invalid[str(f)][:3] for f in accepted if invalid[str(f)]}
    assert dirty == {}


@pytest.mark.parametrize("name, text", [
    ("junk_characters.guide", "@"), ("bad_escape.guide", "\\q"),
    ("unclosed_string.guide", '"'), ("stray_quote.guide", '"'), ("nul_byte.guide", "\x00")])
def test_what_the_lexer_rejects_is_marked_invalid(invalid: dict[str, list[list[object]]],
                                                  name: str, text: str) -> None:
    path = ROOT / "tests" / "fixtures" / "syntax" / name
    assert not _parses(path)
    assert any(tok[2] == text for tok in invalid[str(path)]), invalid[str(path)]


def test_every_keyword_is_highlighted_as_one() -> None:
    grammar = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    rules = [*grammar["repository"]["keyword"]["patterns"],
             *grammar["repository"]["literal"]["patterns"]]
    word_rules = [re.compile(r["match"]) for r in rules if r["match"].startswith(r"\b(?:")]
    missing = [k for k in KEYWORDS if not any(r.fullmatch(k) for r in word_rules)]
    assert missing == []
    # A name is not a keyword: `kps_low` is one name, not `kps` and a keyword.
    assert not any(r.fullmatch("step_count") for r in word_rules)


def test_the_extension_declares_the_language_and_starts_the_server() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    language = manifest["contributes"]["languages"][0]
    assert language["id"] == "guide" and language["extensions"] == [".guide"]
    assert manifest["contributes"]["grammars"][0]["scopeName"] == grammar_scope()
    client = (VSCODE / "extension.js").read_text(encoding="utf-8")
    assert '["lsp"]' in client and "guidec.copyWitness" in client
    from cli.lsp import COPY_WITNESS

    assert COPY_WITNESS in {c["command"] for c in manifest["contributes"]["commands"]}


def grammar_scope() -> str:
    scope: str = json.loads(GRAMMAR.read_text(encoding="utf-8"))["scopeName"]
    return scope


def test_make_vsix_packages_the_extension(tmp_path: Path) -> None:
    vsix = VSCODE / "guidec.vsix"
    vsix.unlink(missing_ok=True)
    proc = subprocess.run(["make", "-s", "vsix"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("extension/package.json"))
    assert {"extension.vsixmanifest", "extension/extension.js",
            "extension/language-configuration.json", "extension/syntaxes/guide.tmLanguage.json",
            "extension/node_modules/vscode-languageclient/package.json"} <= names
    assert not any(n.startswith(("extension/test/", "extension/node_modules/@vscode/vsce/"))
                   for n in names)
    assert manifest["name"] == "guidec" and manifest["main"] == "./extension.js"
