"""The checking pipeline: text -> syntax tree -> names -> types -> checked model -> analysis.

``check_text`` runs every pass that applies and returns all their diagnostics (sorted) with the
model when there are no errors. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compiler import model as m
from compiler.graph import check_graph
from compiler.lower import Lowerer, warn_allow_unused
from compiler.names import check_let_cycles, check_references, check_unused, collect
from dsl.diagnostics import Diagnostic, GuidecError, Severity
from dsl.parser import parse
from dsl.source import InputError, read_source

__all__ = ["CheckResult", "InputError", "check_file", "check_text", "read_source"]


@dataclass
class CheckResult:
    """What checking one source gave: the model (None when there are errors) and diagnostics."""

    filename: str
    source: str
    model: m.Model | None
    diagnostics: list[Diagnostic]
    allowed: list[tuple[m.Allow, Diagnostic]] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        """The error diagnostics."""
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors


def check_text(text: str, filename: str = "<input>", analyze: bool = True) -> CheckResult:
    """Run every applicable pass over guideline source text."""
    try:
        g = parse(text, filename)
    except GuidecError as exc:
        return CheckResult(filename, text, None, list(exc.diagnostics))
    scope, diags = collect(g)
    diags += check_references(g, scope)
    diags += check_let_cycles(scope)
    diags += check_unused(g, scope)
    lowerer = Lowerer(g, scope, text)
    model = lowerer.lower()
    diags += lowerer.diags
    if not any(d.is_error for d in diags):
        diags += check_graph(model)
    if analyze and not any(d.is_error for d in diags):
        diags += _analysis(model)
    diags = sorted(set(diags), key=Diagnostic.sort_key)
    kept, allowed, used = [], [], set()
    for d in diags:
        match = next((a for a in model.allows
                      if a.code == d.code and a.node == d.node and not d.is_error), None)
        if match is not None:
            allowed.append((match, d))
            used.add((match.code, match.node))
        else:
            kept.append(d)
    kept += warn_allow_unused(model, used)
    has_errors = any(d.is_error for d in kept)
    return CheckResult(filename, text, None if has_errors else model, kept, allowed)


def _analysis(model: m.Model) -> list[Diagnostic]:
    import importlib.util

    if importlib.util.find_spec("compiler.analysis") is None:
        return []
    analysis = importlib.import_module("compiler.analysis")
    found: list[Diagnostic] = analysis.analyze(model)
    return found


def check_file(path: str | Path, analyze: bool = True) -> CheckResult:
    """Read and check one file (raises :class:`InputError` when it cannot be read)."""
    return check_text(read_source(path), str(path), analyze)
