"""`guidec fmt FILE... [--check]`: the canonical layout of guideline sources."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from compiler.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE


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
            _write_atomic(Path(f), formatted)
            click.echo(f"formatted {f}", err=True)
    sys.exit(status)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
