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

STYLE = """
body { font: 16px/1.55 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; color: #1b1f24; }
pre { background: #f3f6f9; padding: 0.6rem 0.8rem; overflow-x: auto; border-radius: 4px;
      font: 0.85rem/1.45 ui-monospace, monospace; }
code { font-family: ui-monospace, monospace; }
table { border-collapse: collapse; } td, th { border: 1px solid #c9d1d9; padding: 0.2rem 0.5rem; }
pre.guide .c1, pre.guide .cs { color: #4a5561; font-style: italic; }
pre.guide .kd, pre.guide .k, pre.guide .ow, pre.guide .kt, pre.guide .kc {
  color: #0b5cad; font-weight: 600; }
pre.guide .nf { font-weight: 700; }
pre.guide .s2, pre.guide .s1, pre.guide .se { color: #1d6b3a; }
pre.guide .m, pre.guide .mo { color: #6b4400; }
pre.guide .nl { color: #5b2a86; }
pre.guide .err { color: #a3231b; text-decoration: underline wavy; }
"""


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
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
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
