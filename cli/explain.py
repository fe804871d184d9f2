"""`guidec explain [CODE]`: what a diagnostic code finds, an example, and the fixture that shows
it checked live (as `rustc --explain` and `ruff rule` do); without a code, every code."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from cli.main import EXIT_OK, EXIT_USAGE

#: The repository root: fixtures are shown when guidec runs from a source checkout.
ROOT = Path(__file__).resolve().parent.parent


def _plain(markdown: str) -> str:
    # ``text`` and `text` read as text in a terminal: keep the inner backticks of names.
    return re.sub(r"``\s?(.*?)\s?``", r"\1", markdown)


@click.command(epilog="Example: guidec explain E504")
@click.argument("code", required=False)
def explain(code: str | None) -> None:
    """Explain a diagnostic CODE (E504, W501, ...), or list every code."""
    from cli.report import text_report
    from dsl.codes import CODES
    from dsl.diagnostics import did_you_mean

    if code is None:
        for c in CODES.values():
            click.echo(f"{c.code}  {c.severity.value:<7}  {_plain(c.title)}")
        sys.exit(EXIT_OK)
    entry = CODES.get(code.upper())
    if entry is None:
        near = did_you_mean(code.upper(), CODES)
        hint = f"; did you mean {near}?" if near else ""
        click.echo(f"error: guidec has no diagnostic code {code}{hint} "
                   "(`guidec explain` lists them)", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{entry.code} ({entry.severity_words}): {_plain(entry.title)}")
    if entry.example:
        click.echo(f"\nFor example: {_plain(entry.example)}")
    shown = entry.fixture
    fixture = ROOT / shown if shown else None
    if fixture is None or shown is None:
        click.echo("\nNo fixture shows it: it needs a run (a release, an internal failure, or "
                   "the editor's server).")
    elif not fixture.is_file():
        click.echo(f"\nShown by {shown} in guidec's source repository.")
    else:
        click.echo(f"\nShown by {shown}:\n")
        text = fixture.read_text(encoding="utf-8", errors="replace")
        click.echo("\n".join("    " + line if line else "" for line in text.splitlines()))
        click.echo(f"\nWhat `guidec check {shown}` prints:\n")
        from compiler.pipeline import check_text, read_source

        click.echo(text_report([check_text(read_source(fixture), shown)]))
    sys.exit(EXIT_OK)
