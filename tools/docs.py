"""Render the docs (the READMEs) to HTML in build/docs/, with each ```guide block highlighted
by guidec's Pygments lexer (``dsl/highlight.py``): one self-contained page per document, for
reading offline or publishing.

    python tools/docs.py [OUTDIR]     # default build/docs; `make docs`

Markdown is read by markdown-it-py (CommonMark, the dialect GitHub renders); links between the
READMEs point at the rendered pages.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dsl.highlight import highlight_html  # noqa: E402

#: The documents, and the page each becomes.
DOCS = {"README.md": "index.html", "dsl/README.md": "language.html",
        "editors/vscode/README.md": "vscode.html"}

#: A page's layout; the colours, the fonts and the source's token rules are the handout's.
LAYOUT = """
body { font: 16px/1.55 var(--font); max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       color: var(--ink); }
pre { background: var(--panel); padding: 0.6rem 0.8rem; overflow-x: auto; border-radius: 4px;
      font: 0.85rem/1.45 var(--mono); }
code { font-family: var(--mono); }
table { border-collapse: collapse; }
td, th { border: 1px solid var(--rule); padding: 0.2rem 0.5rem; }
"""


def stylesheet() -> str:
    """The handout stylesheet's `:root` (colours, fonts) and `pre.guide` rules, then
    :data:`LAYOUT`."""
    from targets.html import PALETTE, _environment

    css = _environment().get_template("handout.css.j2").render(palette=PALETTE,
                                                               page_size="A4")
    shared = re.findall(r"^(?::root|pre\.guide)[^{]*\{[^}]*\}", css, re.M)
    return "\n".join(shared) + LAYOUT


def _highlight(code: str, lang: str, _attrs: str) -> str:
    # markdown-it escapes the other blocks itself (an empty answer means "not mine").
    return highlight_html(code) if lang.strip() == "guide" else ""


def render(markdown: str, title: str) -> str:
    """One document as a whole HTML page."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"highlight": _highlight}).enable("table")
    body = md.render(markdown)
    for source, page in DOCS.items():
        body = re.sub(rf'href="(?:\./)?{re.escape(source)}(#[^"]*)?"',
                      lambda mo, page=page: f'href="{page}{mo[1] or ""}"', body)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{stylesheet()}</style>\n</head>\n"
            f"<body>\n{body}</body>\n</html>\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", default=str(ROOT / "build" / "docs"))
    args = parser.parse_args(argv)
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    for source, page in DOCS.items():
        text = (ROOT / source).read_text(encoding="utf-8")
        title = next((ln.lstrip("# ") for ln in text.splitlines() if ln.startswith("# ")),
                     source)
        (out / page).write_text(render(text, title), encoding="utf-8")
        print(f"wrote {out / page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
