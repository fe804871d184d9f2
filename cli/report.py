"""Rendering check results for people and tools: text (rustc-like), JSON lines, SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Sequence

from compiler.pipeline import CheckResult
from dsl.diagnostics import Diagnostic, Severity, count, render

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def text_report(results: Sequence[CheckResult], color: bool = False) -> str:
    """Every diagnostic of every file, then the accepted warnings, then a one-line summary."""
    out: list[str] = []
    total_e = total_w = 0
    for r in results:
        for d in r.diagnostics:
            out.append(render(d, r.source, color))
            out.append("")
        for allow, d in sorted(r.allowed, key=lambda a: a[0].span.line):
            out.append(f"{allow.span}: accepted[{d.code}] at {allow.node}: {d.message}")
            out.append(f"  = reason: {allow.reason}")
            out.append("")
        e, w = count(r.diagnostics)
        total_e += e
        total_w += w
    files = len(results)
    noun = "file" if files == 1 else "files"
    if total_e or total_w:
        out.append(f"{files} {noun} checked: {total_e} error{'s' * (total_e != 1)}, "
                   f"{total_w} warning{'s' * (total_w != 1)}")
    else:
        out.append(f"{files} {noun} checked: no errors, no warnings")
    return "\n".join(out)


def json_report(results: Sequence[CheckResult]) -> str:
    """One JSON object per finding, one per line (accepted findings carry `accepted`)."""
    lines = []
    for r in results:
        for d in r.diagnostics:
            lines.append(json.dumps(d.to_json(), sort_keys=True, ensure_ascii=False))
        for allow, d in r.allowed:
            obj = d.to_json()
            obj["accepted"] = allow.reason
            lines.append(json.dumps(obj, sort_keys=True, ensure_ascii=False))
    return "\n".join(lines)


def _sarif_level(d: Diagnostic) -> str:
    return {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}[
        d.severity]


def sarif_report(results: Sequence[CheckResult], version: str) -> str:
    """A SARIF 2.1.0 log, so code-scanning tools show findings on their lines."""
    rules: dict[str, dict[str, object]] = {}
    sarif_results = []
    for r in results:
        for d in r.diagnostics:
            rules.setdefault(d.code, {"id": d.code, "shortDescription": {"text": d.code}})
            message = d.message
            if d.hint:
                message += f" (hint: {d.hint})"
            item: dict[str, object] = {
                "ruleId": d.code,
                "level": _sarif_level(d),
                "message": {"text": message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": d.span.file},
                    "region": {"startLine": max(d.span.line, 1),
                               "startColumn": max(d.span.column, 1),
                               "endLine": max(d.span.end_line, d.span.line, 1),
                               "endColumn": max(d.span.end_column, 1)},
                }}],
            }
            props: dict[str, object] = {}
            if d.witness is not None:
                props["witness"] = dict(d.witness)
            if d.path:
                props["path"] = list(d.path)
            if props:
                item["properties"] = props
            sarif_results.append(item)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "guidec", "version": version,
                                "rules": [rules[k] for k in sorted(rules)]}},
            "results": sarif_results,
        }],
    }
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False)
