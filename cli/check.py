"""`guidec check FILE...`: syntax, names, types, graph and the solver's proofs."""

from __future__ import annotations

import sys

import click

from cli.main import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, _version
from compiler.pipeline import CheckResult, InputError, check_file


@click.command(epilog="Example: guidec check guidelines/leptomeningeal.guide --format json")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True, help="text for people, json (one finding a line), sarif 2.1.0.")
@click.option("--color/--no-color", default=None, help="Colour the text output (default: tty).")
@click.option("--release", is_flag=True,
              help="Also apply the release gates: status approved; with --since, a greater "
                   "version and a changelog entry when behaviour changed, and a new major "
                   "version for a breaking interface change.")
@click.option("--since", metavar="REV", default=None,
              help="With --release: compare with the guideline at this git revision.")
@click.option("--max-regions", type=click.IntRange(min=1), default=None, metavar="N",
              help="Describe at most N gap regions per decision (default: every one).")
def check(files: tuple[str, ...], fmt: str, color: bool | None, release: bool,
          since: str | None, max_regions: int | None) -> None:
    """Check guidelines and report every finding with its location and a witness patient.

    Warnings alone exit 0; any error exits 1; an unreadable file exits 2.
    """
    import gc

    from cli.report import json_report, sarif_report, text_report

    # A big guideline is a large graph of small objects without reference cycles; the cyclic
    # collector's repeated full passes over it made checking superlinear (a 5,000-decision file
    # took 2.2x longer). This command is one short-lived process: leave the collector off.
    gc.disable()
    results: list[CheckResult] = []
    unreadable = False
    for f in files:
        try:
            results.append(check_file(f, max_regions=max_regions))
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            unreadable = True
    extra_errors = 0
    if release:
        from compiler.release import release_gates

        for r in results:
            gate = release_gates(r, since)
            r.diagnostics.extend(gate)
            extra_errors += sum(1 for d in gate if d.is_error)
    use_color = sys.stdout.isatty() if color is None else color
    if fmt == "text":
        click.echo(text_report(results, use_color))
    elif fmt == "json":
        out = json_report(results)
        if out:
            click.echo(out)
    else:
        click.echo(sarif_report(results, _version()))
    if unreadable:
        sys.exit(EXIT_USAGE)
    if extra_errors or any(not r.ok for r in results):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)
