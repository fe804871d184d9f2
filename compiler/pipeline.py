"""The pipeline, one function per stage: text -> syntax tree (:func:`syntax`) -> names
(:func:`names`) -> the model with its types (:func:`lower`) -> graph checks -> the solver's
analysis. Every command gets its model here.

``check_text`` runs every stage that applies and returns all their diagnostics (sorted) with
the model when there are no errors; :func:`model_of` is the model even with errors, for the
commands that still read one (`eval` replaying a witness, `diff` of a draft). Nothing here
prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from compiler import model as m
from compiler.graph import check_graph
from compiler.limits import Cancel
from compiler.lower import Lowerer, warn_allow_unused
from compiler.names import Scope, check_let_cycles, check_references, check_unused, collect
from dsl import ast
from dsl.diagnostics import Diagnostic, GuidecError, Severity
from dsl.parser import parse
from dsl.source import InputError, read_source

__all__ = ["CheckResult", "InputError", "check_file", "check_text", "lower", "model_of",
           "names", "read_source", "syntax"]


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


def syntax(text: str, filename: str = "<input>") -> ast.Guideline:
    """The syntax tree; raises :class:`~dsl.diagnostics.GuidecError` on a syntax error."""
    return parse(text, filename)


def names(g: ast.Guideline, checks: bool = True) -> tuple[Scope, list[Diagnostic]]:
    """Every declared name and the name findings (``checks=False``: declarations only)."""
    scope, diags = collect(g)
    if checks:
        diags += check_references(g, scope)
        diags += check_let_cycles(scope)
        diags += check_unused(g, scope)
    return scope, diags


def lower(g: ast.Guideline, scope: Scope, text: str) -> tuple[m.Model, list[Diagnostic]]:
    """The model, with the type and evidence findings made while building it."""
    lowerer = Lowerer(g, scope, text)
    model = lowerer.lower()
    return model, lowerer.diags


def model_of(text: str, filename: str = "<input>") -> m.Model | None:
    """The model of a guideline even when it has errors (None when it does not parse)."""
    try:
        g = syntax(text, filename)
    except GuidecError:
        return None
    scope, _ = names(g, checks=False)
    return lower(g, scope, text)[0]


def check_text(text: str, filename: str = "<input>", analyze: bool = True,
               max_regions: int | None = None,
               tree: Callable[[str], ast.Guideline] | None = None,
               cancel: Cancel | None = None) -> CheckResult:
    """Run every applicable stage over guideline source text; ``max_regions`` caps the gap
    regions described per decision (None: every one); ``tree`` parses the text instead of
    :func:`syntax` (the editor's incremental parser); ``cancel`` stops the solver's analysis
    from another thread (its findings are then incomplete)."""
    try:
        g = tree(text) if tree is not None else syntax(text, filename)
    except GuidecError as exc:
        return CheckResult(filename, text, None, list(exc.diagnostics))
    scope, diags = names(g)
    model, found = lower(g, scope, text)
    diags += found
    if not any(d.is_error for d in diags):
        diags += check_graph(model)
    stopped = cancel is not None and cancel.cancelled
    if analyze and not stopped and not any(d.is_error for d in diags):
        diags += _analysis(model, max_regions, cancel)
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


def _analysis(model: m.Model, max_regions: int | None,
              cancel: Cancel | None = None) -> list[Diagnostic]:
    import importlib.util

    if importlib.util.find_spec("compiler.analysis") is None:
        return []
    analysis = importlib.import_module("compiler.analysis")
    found: list[Diagnostic] = analysis.analyze(model, max_regions=max_regions, cancel=cancel)
    return found


def check_file(path: str | Path, analyze: bool = True,
               max_regions: int | None = None) -> CheckResult:
    """Read and check one file (raises :class:`InputError` when it cannot be read)."""
    return check_text(read_source(path), str(path), analyze, max_regions)
