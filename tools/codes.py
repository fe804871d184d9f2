"""Write the language reference's tables of diagnostic codes from the registry
(``dsl/codes.py``), so that the docs list every code, once, as the code reports it.

A table sits between ``<!-- codes: SELECTION -->`` and ``<!-- /codes -->`` in dsl/README.md.
SELECTION is ``all`` (code, severity, finding) or a list of code families by their hundreds
digit, e.g. ``1-4`` or ``5`` (code, severity, finding, example).

    python tools/codes.py --check     # exit 1 with a diff when a table is stale
    python tools/codes.py --update    # rewrite the tables
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dsl.codes import CODES, Code  # noqa: E402

DOC = ROOT / "dsl" / "README.md"
_BLOCK = re.compile(r"(<!-- codes: ([^>]*?) -->\n)(.*?)(<!-- /codes -->)", re.S)


def _family(code: Code) -> int:
    return int(code.code[1])


def table(selection: str) -> str:
    """The Markdown table for one selection."""
    if selection == "all":
        rows = ["| code | severity | finding |", "|---|---|---|"]
        rows += [f"| {c.code} | {c.severity_words} | {c.title} |" for c in CODES.values()]
        return "\n".join(rows) + "\n"
    low, _, high = selection.partition("-")
    families = range(int(low), int(high or low) + 1)
    rows = ["| code | severity | finding | example |", "|---|---|---|---|"]
    rows += [f"| {c.code} | {c.severity_words} | {c.title} | {c.example} |"
             for c in CODES.values() if _family(c) in families]
    return "\n".join(rows) + "\n"


def render(text: str) -> str:
    """The document with every table rewritten."""
    return _BLOCK.sub(lambda mo: mo[1] + table(mo[2].strip()) + mo[4], text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--update", action="store_true")
    args = parser.parse_args(argv)
    old = DOC.read_text(encoding="utf-8")
    new = render(old)
    if args.update:
        DOC.write_text(new, encoding="utf-8")
        return 0
    if old != new:
        sys.stdout.writelines(difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), str(DOC), "registry"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
