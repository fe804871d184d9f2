"""`guidec test FILE...`: run the case blocks of guidelines and report what they cover."""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import click

from cli.main import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from compiler.cases import CaseResult, Coverage
    from compiler.pipeline import CheckResult


@click.command(epilog="Example: guidec test guidelines/leptomeningeal.guide")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text",
              show_default=True,
              help="text for people; json: one object per file; junit: JUnit XML for CI (a "
                   "test suite per file, a test case per case, coverage as properties).")
@click.option("--strict", is_flag=True,
              help="Also fail (exit 1) when a branch, step or action is not covered.")
@click.option("--min-coverage", "minimum", type=click.FloatRange(0, 100), default=None,
              metavar="PERCENT",
              help="Also fail (exit 1) when a file's cases cover less than PERCENT of its "
                   "branches, steps and actions together.")
@click.option("--suggest", is_flag=True,
              help="For each branch, step and action no case covers, print the solver's "
                   "patient that covers it as a case block to paste (and review).")
def test(files: tuple[str, ...], fmt: str, strict: bool, minimum: float | None,
         suggest: bool) -> None:
    """Run every `case` of FILES on the reference interpreter.

    Prints PASS or FAIL per case (with what was expected and what happened), then the
    branches, steps and actions no case reaches. Exit 1 when a case fails or a guideline has
    errors (or coverage falls short of --strict or --min-coverage), 2 when a file cannot be
    read.
    """
    from cli.report import text_report
    from compiler.cases import coverage, render_case, render_coverage, run_cases
    from compiler.pipeline import InputError, check_file

    status = EXIT_OK
    unreadable = False
    reports: list[dict[str, object]] = []
    suites: list[ET.Element] = []
    for n, f in enumerate(files):
        try:
            result = check_file(f)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            unreadable = True
            continue
        if fmt == "junit":
            suites.append(junit_suite(f, result, strict, minimum))
            if result.model is None or not _junit_passed(suites[-1]):
                status = EXIT_FINDINGS
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
        short = minimum is not None and cov.percent < minimum
        if failed or (strict and not cov.complete) or short:
            status = EXIT_FINDINGS
        suggestions = []
        if suggest and not cov.complete:
            from compiler.suggest import suggest as suggested

            suggestions = suggested(model, cov)
        if fmt == "json":
            reports.append(_json(f, results, cov, minimum))
            if suggest:
                reports[-1]["suggestions"] = [{"covers": x.covers, "case": x.text}
                                              for x in suggestions]
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
        if short:
            click.echo(f"error: {f}: the cases cover {cov.percent:.1f}%, below the minimum "
                       f"of {minimum:g}%")
        if suggestions:
            click.echo("\nsuggested cases (the solver's patients: paste, then review what "
                       "they expect):")
            for x in suggestions:
                click.echo("\n" + (x.text if x.text is not None else
                                   f"# no patient covers {x.covers}: `guidec check` says why"))
    if fmt == "json":
        click.echo(json.dumps(reports, indent=2, ensure_ascii=False))
    elif fmt == "junit":
        click.echo(_junit(suites), nl=False)
    if unreadable:
        sys.exit(EXIT_USAGE)
    sys.exit(status)


def _json(filename: str, results: list[CaseResult], cov: Coverage,
          minimum: float | None = None) -> dict[str, object]:
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
            "percent": round(cov.percent, 1),
            "minimum": minimum,
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


#: Characters XML 1.0 cannot hold at all (a case title may contain them): replaced.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def junit_suite(filename: str, result: CheckResult, strict: bool,
                minimum: float | None) -> ET.Element:
    """A ``<testsuite>`` for one file: a ``<testcase>`` per case (``<failure>`` with what was
    expected and what happened), one for the coverage when --strict or --min-coverage asks
    for it, or one ``<error>`` when the guideline has errors and its cases did not run."""
    from cli.report import text_report
    from compiler.cases import coverage, render_case, render_coverage, run_cases

    suite = ET.Element("testsuite", name=_x(filename))
    cases: list[ET.Element] = []
    if result.model is None:
        case = ET.SubElement(suite, "testcase", classname=_x(filename), name="check")
        n = len(result.errors)
        ET.SubElement(case, "error", message=f"the guideline has {n} error"
                      f"{'s' if n != 1 else ''}; its cases were not run").text = \
            _x(text_report([result]))
        cases.append(case)
    else:
        model = result.model
        results = run_cases(model)
        cov = coverage(model, results)
        props = ET.SubElement(suite, "properties")
        for name, value in (("guideline", model.meta.id), ("version", model.meta.version),
                            ("coverage_percent", f"{cov.percent:.1f}"),
                            ("coverage_covered", str(cov.covered)),
                            ("coverage_total", str(cov.total))):
            ET.SubElement(props, "property", name=name, value=_x(value))
        for r in results:
            case = ET.SubElement(suite, "testcase", classname=_x(model.meta.id),
                                 name=_x(r.case.title), file=_x(filename),
                                 line=str(r.case.span.line))
            if not r.passed:
                lines = render_case(r, filename)
                ET.SubElement(case, "failure", message=_x(lines[0])).text = \
                    _x("\n".join(lines[1:]))
            cases.append(case)
        if strict or minimum is not None:
            case = ET.SubElement(suite, "testcase", classname=_x(model.meta.id),
                                 name="coverage", file=_x(filename))
            short = (strict and not cov.complete) or \
                (minimum is not None and cov.percent < minimum)
            if short:
                want = "every branch, step and action" if strict and not cov.complete \
                    else f"at least {minimum:g}%"
                ET.SubElement(case, "failure", message=_x(
                    f"the cases cover {cov.percent:.1f}%; wanted {want}")).text = \
                    _x("\n".join(render_coverage(cov)))
            cases.append(case)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", "0")
    return suite


def _junit_passed(suite: ET.Element) -> bool:
    return suite.get("failures") == "0" and suite.get("errors") == "0"


def _junit(suites: list[ET.Element]) -> str:
    """The ``<testsuites>`` document (UTF-8 XML, deterministic)."""
    root = ET.Element("testsuites", name="guidec test")
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key) or 0) for s in suites)))
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
