"""`guidec diff OLD NEW`: what changed between two versions, by structure and by behaviour."""

from __future__ import annotations

import json
import sys

import click

from cli.main import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE


@click.command(epilog="Example: guidec diff HEAD~1:guidelines/leptomeningeal.guide "
                      "guidelines/leptomeningeal.guide --format markdown")
@click.argument("old", required=False)
@click.argument("new", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True)
@click.option("--max-witnesses", type=click.IntRange(0, 100), default=3, show_default=True,
              help="Witness patients to show for each behavioural change.")
@click.option("--exit-code", "exit_code", is_flag=True,
              help="Exit 1 when behaviour changed (like `git diff --exit-code`).")
@click.option("--textconv", "textconv", metavar="FILE", default=None,
              help="Print a canonical outline of FILE for git's textconv and exit.")
def diff(old: str | None, new: str | None, fmt: str, max_witnesses: int, exit_code: bool,
         textconv: str | None) -> None:
    """Compare OLD and NEW (files or REV:path read through git).

    Reports structural changes with the lines on both sides, interface changes that break
    consumers of the generated evaluator, and behavioural changes proven with the solver: for
    each action, patients recommended it by one version and not the other.
    """
    from compiler.diff import DiffError, load_version, read_spec
    from compiler.pipeline import model_of

    if textconv is not None:
        try:
            label, text = read_spec(textconv)
        except DiffError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        model = model_of(text, label)
        if model is None:
            click.echo(text, nl=False)  # a file with a syntax error diffs as plain text
        else:
            from compiler.diff import outline

            click.echo(outline(model), nl=False)
        sys.exit(EXIT_OK)
    if old is None or new is None:
        raise click.UsageError("give OLD and NEW (files or REV:path)")
    try:
        a = load_version(*read_spec(old))
        b = load_version(*read_spec(new))
    except DiffError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    from compiler.diff import compute, render_json, render_markdown, render_text

    report = compute(a, b, max_witnesses)
    if fmt == "json":
        click.echo(json.dumps(render_json(report), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(render_markdown(report))
    else:
        click.echo(render_text(report))
    if exit_code and report.behaviour_changed:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)
