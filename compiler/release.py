"""Release gates (`guidec check --release [--since REV]`): what a committee must settle before
it approves a version."""

from __future__ import annotations

import re
from pathlib import Path

from compiler.pipeline import CheckResult
from dsl.ast import Span
from dsl.diagnostics import Diagnostic, error

_SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def _version(text: str) -> tuple[int, int, int]:
    match = _SEMVER.fullmatch(text)
    if match is None:
        return (0, 0, 0)
    major, minor, patch = (int(g) for g in match.groups())
    return (major, minor, patch)


def release_gates(result: CheckResult, since: str | None) -> list[Diagnostic]:
    """E601 status not approved; with ``since``: E602 behaviour changed without a greater
    version, E603 no changelog entry for the new version, E604 a breaking interface change
    without a new major version, E605 the old version cannot be read."""
    model = result.model
    if model is None:
        return []
    head = Span(result.filename, 1, 1, 1, 2)
    out: list[Diagnostic] = []
    if model.meta.status != "approved":
        out.append(error("E601", f"a release needs status approved, not {model.meta.status}",
                         head, hint="set `status approved` once the committee has approved it"))
    if since is None:
        return out
    from compiler.diff import DiffError, compute, load_version, read_spec

    path = Path(result.filename)
    spec = f"{since}:./{path.name}"
    try:
        old = load_version(*read_spec(spec, cwd=path.parent.resolve()))
    except DiffError as exc:
        if "does not exist" in str(exc) or "exists on disk, but not in" in str(exc):
            return out  # a new guideline: nothing to compare with
        out.append(error("E605", f"cannot compare with {since}: {exc}", head,
                         hint="name a git revision where the file exists"))
        return out
    new = load_version(result.filename, result.source)
    report = compute(old, new, 1)
    old_v, new_v = _version(old.model.meta.version), _version(model.meta.version)
    if report.behaviour_changed:
        if new_v <= old_v:
            out.append(error(
                "E602", f"behaviour changed since {since} but the version is still "
                f"{model.meta.version}", head,
                hint=f"raise the version above {old.model.meta.version}",
                notes=[_first_change(report)]))
        if not any(c.version == model.meta.version for c in model.changelog):
            out.append(error(
                "E603", f"behaviour changed since {since} but the changelog has no entry for "
                f"{model.meta.version}", head,
                hint=f'add `changelog {model.meta.version} {model.meta.updated} "what changed"`'))
    if report.breaking and new_v[0] <= old_v[0]:
        what = "; ".join(f"{c.kind} {c.category} {c.subject}" for c in report.breaking[:3])
        out.append(error(
            "E604", f"a breaking interface change needs a new major version (now "
            f"{model.meta.version}, was {old.model.meta.version})", head,
            hint=f"use version {old_v[0] + 1}.0.0", notes=[f"breaking: {what}"]))
    return out


def _first_change(report: object) -> str:
    changes = getattr(getattr(report, "behaviour", None), "changes", [])
    if not changes:
        return "the solver could not prove the behaviour unchanged"
    c = changes[0]
    return f"for example `{c.subject}` {c.kind}"
