"""`guidec build FILE -o DIR [-t TARGET]...`: generate the evaluator, flowchart and handout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.main import EXIT_ENV, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from targets import DEFAULT_FORMATS, MODULES

if TYPE_CHECKING:
    from targets import Emitted

#: The formats `-t` accepts (each emitted by a module of ``targets``).
TARGETS = tuple(MODULES)


@click.command(epilog="Example: guidec build guidelines/leptomeningeal.guide -o build -t python")
@click.argument("file", type=click.Path())
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Directory to write into (created if missing).")
@click.option("-t", "--target", "targets", multiple=True, type=click.Choice(TARGETS),
              help="A target to build; repeat for several. Default: every target but "
                   "package (an installable project, written into DIR) and sql.")
@click.option("--paper", type=click.Choice(["a4", "letter", "a3", "tabloid"]), default="a4",
              show_default=True,
              help="Paper size of the flowchart PDF and the handout's print stylesheet "
                   "(a3 and tabloid, 11x17 in, for wall posters).")
@click.option("--orientation", type=click.Choice(["auto", "landscape", "portrait"]),
              default="auto", show_default=True,
              help="Orientation of the flowchart PDF; auto: the one that prints the largest "
                   "text.")
def build(file: str, outdir: str, targets: tuple[str, ...], paper: str,
          orientation: str) -> None:
    """Check FILE, then generate its targets into DIR; a guideline with errors is refused (1).

    Without Graphviz the .dot is still written: that is a warning when rendering was only
    implied, and exit 3 when a rendered format (svg, pdf, png) was asked for.
    """
    import targets as target_modules
    from cli.report import text_report
    from compiler.pipeline import InputError, check_file
    from dsl.files import OutputError, describe
    from targets import BuildRequest

    try:
        result = check_file(file)
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if result.model is None:
        click.echo(text_report([result]), err=True)
        click.echo(f"error: {file} has errors; nothing was built", err=True)
        sys.exit(EXIT_FINDINGS)
    model = result.model
    formats = set(targets) if targets else set(DEFAULT_FORMATS)
    available = target_modules.available(formats)
    for f in sorted(formats - available):
        click.echo(f"warning: the {f} target is not available in this version", err=True)
    out = Path(outdir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        click.echo(f"error: cannot create {outdir}: {describe(exc)}", err=True)
        sys.exit(EXIT_USAGE)
    request = BuildRequest(frozenset(available), bool(targets), paper, orientation)
    emitted: list[Emitted] = []
    try:
        target_modules.build(model, out, request, emitted)
    except OutputError as exc:
        _report(emitted)
        click.echo(f"error: {exc}; the files above were written, the rest were not", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(_report(emitted, request.explicit))


def _report(emitted: list[Emitted], explicit: bool = False) -> int:
    """Print what was written and the warnings; the exit status they make."""
    status = EXIT_OK
    for e in emitted:
        if e.path is not None:
            click.echo(f"wrote {e.path}" + (f" ({e.note})" if e.note else ""))
        if e.warning:
            click.echo(f"{'error' if e.failed else 'warning'}: {e.warning}", err=True)
        if e.failed:
            status = EXIT_FINDINGS
        elif e.missing_tool and explicit and status == EXIT_OK:
            status = EXIT_ENV
    return status
