"""`guidec fmt FILE... [--check]`: the canonical layout of guideline sources."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.main import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE


@click.command(epilog="Example: guidec fmt --check guidelines/*.guide")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 when a file is not canonical.")
@click.option("--diff", "show_diff", is_flag=True, help="With --check: show what would change.")
def fmt(files: tuple[str, ...], check_only: bool, show_diff: bool) -> None:
    """Rewrite guidelines in the canonical layout (comments are kept).

    A file with a syntax error is left untouched and reported (exit 1).
    """
    from dsl.diagnostics import GuidecError, render
    from dsl.files import OutputError
    from dsl.formatter import format_source
    from dsl.source import InputError, read_source

    status = EXIT_OK
    for f in files:
        try:
            text = read_source(f)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            status = max(status, EXIT_USAGE)
            continue
        try:
            formatted = format_source(text, f)
        except GuidecError as exc:
            for d in exc.diagnostics:
                click.echo(render(d, text), err=True)
            status = max(status, EXIT_FINDINGS)
            continue
        if formatted == text:
            continue
        if check_only:
            click.echo(f"{f}: not formatted", err=True)
            if show_diff:
                import difflib

                click.echo("".join(difflib.unified_diff(
                    text.splitlines(True), formatted.splitlines(True), f, f + " (formatted)")))
            status = max(status, EXIT_FINDINGS)
        else:
            try:
                _replace_unless_changed(Path(f), text, formatted)
            except OutputError as exc:
                click.echo(f"error: {exc}", err=True)
                status = max(status, EXIT_USAGE)
                continue
            click.echo(f"formatted {f}", err=True)
    sys.exit(status)


def _replace_unless_changed(path: Path, read: str, formatted: str) -> None:
    """Write ``formatted`` over ``path`` (keeping its permissions, through a symlink), unless
    the file changed since it was ``read``: an editor's save or an appended line would
    otherwise be lost."""
    from dsl.files import OutputError, atomic_writer
    from dsl.source import InputError, read_source

    with atomic_writer(path) as out:
        out.write(formatted)
        try:
            now = read_source(path)
        except InputError as exc:
            raise OutputError(str(exc)) from None
        if now != read:
            raise OutputError(f"{path}: changed while it was being formatted; it was left "
                              "as it is now: run guidec fmt again")
