"""`guidec test FILE...`: run the case blocks of guidelines and report what they cover."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from cli.main import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from compiler.cases import CaseResult, Coverage


@click.command(epilog="Example: guidec test guidelines/leptomeningeal.guide")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people; json: one object per file.")
@click.option("--strict", is_flag=True,
              help="Also fail (exit 1) when a branch, step or action is not covered.")
def test(files: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Run every `case` of FILES on the reference interpreter.

    Prints PASS or FAIL per case (with what was expected and what happened), then the
    branches, steps and actions no case reaches. Exit 1 when a case fails or a guideline has
    errors, 2 when a file cannot be read.
    """
    from cli.report import text_report
    from compiler.cases import coverage, render_case, render_coverage, run_cases
    from compiler.pipeline import InputError, check_file

    status = EXIT_OK
    unreadable = False
    reports: list[dict[str, object]] = []
    for n, f in enumerate(files):
        try:
            result = check_file(f)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            unreadable = True
            continue
        if fmt == "text" and len(files) > 1:
            click.echo(("\n" if n else "") + f"{f}")
        if result.model is None:
            status = EXIT_FINDINGS
            if fmt == "text":
                click.echo(text_report([result]))
                click.echo(f"error: {f} has errors; its cases were not run")
            else:
                reports.append({"file": f, "errors": [d.to_json() for d in result.errors],
                                "cases": [], "coverage": None})
            continue
        model = result.model
        results = run_cases(model)
        cov = coverage(model, results)
        failed = sum(1 for r in results if not r.passed)
        if failed or (strict and not cov.complete):
            status = EXIT_FINDINGS
        if fmt == "json":
            reports.append(_json(f, results, cov))
            continue
        for r in results:
            click.echo("\n".join(render_case(r, f)))
        if not results:
            click.echo(f"{f}: no cases")
        else:
            passed = len(results) - failed
            click.echo(f"{len(results)} case{'s' if len(results) != 1 else ''}: "
                       f"{passed} passed, {failed} failed")
        click.echo("\n".join(render_coverage(cov)))
    if fmt == "json":
        click.echo(json.dumps(reports, indent=2, ensure_ascii=False))
    if unreadable:
        sys.exit(EXIT_USAGE)
    sys.exit(status)


def _json(filename: str, results: list[CaseResult], cov: Coverage) -> dict[str, object]:
    from compiler.cases import expectation_text

    cases: list[dict[str, object]] = []
    for r in results:
        cases.append({
            "title": r.case.title,
            "line": r.case.span.line,
            "passed": r.passed,
            "invalid": [{"key": p.key, **p.to_dict()} for p in r.problems],
            "failures": [{"line": x.expectation.span.line,
                          "expectation": expectation_text(x.expectation),
                          "expected": list(x.expected), "actual": list(x.actual),
                          "missing": list(x.missing), "unexpected": list(x.unexpected)}
                         for x in r.failures],
        })
    return {
        "file": filename,
        "errors": [],
        "cases": cases,
        "coverage": {
            "branches": {"total": len(cov.branches), "untaken": [
                {"decision": b.decision, "branch": b.index if b.index is not None
                 else "otherwise", "text": b.text, "line": b.line} for b in cov.untaken]},
            "steps": {"total": len(cov.steps),
                      "unreached": [{"id": s.id, "line": s.span.line} for s in cov.unreached]},
            "actions": {"total": len(cov.actions),
                        "unrecommended": [{"id": a.id, "line": a.span.line}
                                          for a in cov.unrecommended]},
        },
    }
