"""The author's rules: `conflict` (E505), `never` (E506) and `require` (E507)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from compiler import model as m
from compiler.analysis.engine import Check
from compiler.analysis.trace import trace
from compiler.analysis.wording import _unsettled, _with_witness
from compiler.interpreter import (
    Outcome,
    evaluate_expr,
)
from compiler.solver.pathway import Paths
from compiler.solver.terms import Z
from dsl.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from compiler.analysis.engine import Analysis, Goal


def _g_conflict(a: Analysis, k: int, r: m.ConflictRule) -> Goal:
    enc = a.enc
    return a.goal(("conflict", k),
                  lambda p: enc.conj(enc.recommended[r.first], enc.recommended[r.second]),
                  lambda tr: r.first in tr.recommended and r.second in tr.recommended,
                  True, "always", None)


class ConflictCheck(Check):
    """E505: `conflict A, B` where one patient is recommended both."""

    name = "conflict"

    def goals(self, a: Analysis) -> None:
        for k, r in enumerate(a.model.conflicts):
            _g_conflict(a, k, r)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for k, r in enumerate(a.model.conflicts):
            g = a.goals[("conflict", k)]
            if g.status != "sat":
                out += _unsettled(g, self.name, f"`conflict {r.first}, {r.second}`", r.span)
                continue

            def confirm(o: Outcome, _v: Mapping[str, m.Value], r: m.ConflictRule = r) -> bool:
                return r.first in o.actions and r.second in o.actions

            assert g.values is not None
            out.append(_with_witness(a, g.values, g.test, confirm, Diagnostic(
                "E505", Severity.ERROR, f"`{r.first}` and `{r.second}` are both recommended to "
                "one patient, against `conflict`", r.span,
                "make the steps that recommend them exclusive", (f"the rule: {r.reason}",)),
                self.name, node_of=r.second))
        return out


def _g_never(a: Analysis, k: int, r: m.NeverRule) -> Goal:
    enc = a.enc

    def build(p: Paths) -> Z:
        if r.condition is None:
            return enc.recommended[r.action]
        return enc.conj(enc.recommended[r.action], enc.neg(enc.boolean(r.condition.expr)[1]))

    return a.goal(("never", k), build,
                  lambda tr: r.action in tr.recommended and tr.rule(r.condition) is not False,
                  True, "always", None)


class NeverCheck(Check):
    """E506: `never A when C` where a patient for whom C may hold is recommended A."""

    name = "never"

    def goals(self, a: Analysis) -> None:
        for k, r in enumerate(a.model.nevers):
            _g_never(a, k, r)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for k, r in enumerate(a.model.nevers):
            g = a.goals[("never", k)]
            when = f" when {r.condition.text}" if r.condition else ""
            if g.status != "sat":
                out += _unsettled(g, self.name, f"`never {r.action}{when}`", r.span)
                continue

            def confirm(o: Outcome, v: Mapping[str, m.Value], r: m.NeverRule = r) -> bool:
                return r.action in o.actions and (r.condition is None or evaluate_expr(
                    r.condition.expr, v, frozenset(o.actions)) is not False)

            notes = [f"the rule: {r.reason}"]
            assert g.values is not None
            if r.condition is not None:
                held = trace(a.model, g.values).rule(r.condition)
                notes.append(f"`{r.condition.text}` holds for the witness" if held is True else
                             f"`{r.condition.text}` is unknown for the witness, so it may hold")
            out.append(_with_witness(a, g.values, g.test, confirm, Diagnostic(
                "E506", Severity.ERROR, f"`{r.action}` is recommended where "
                f"`never {r.action}{when}` forbids it", r.span,
                "add the rule's condition to the recommendation, or route these patients "
                "elsewhere", tuple(notes)), self.name, node_of=r.action))
        return out


def _g_require(a: Analysis, k: int, r: m.RequireRule) -> Goal:
    enc = a.enc
    return a.goal(("require", k),
                  lambda p: enc.conj(enc.boolean(r.condition.expr)[0],
                                     enc.neg(enc.recommended[r.action])),
                  lambda tr: tr.rule(r.condition) is True and r.action not in tr.recommended,
                  True, "always", None)


class RequireCheck(Check):
    """E507: `require A when C` where C definitely holds and A is not recommended."""

    name = "require"

    def goals(self, a: Analysis) -> None:
        for k, r in enumerate(a.model.requires):
            _g_require(a, k, r)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for k, r in enumerate(a.model.requires):
            g = a.goals[("require", k)]
            if g.status != "sat":
                out += _unsettled(g, self.name, f"`require {r.action} when {r.condition.text}`",
                                  r.span)
                continue

            def confirm(o: Outcome, v: Mapping[str, m.Value], r: m.RequireRule = r) -> bool:
                return r.action not in o.actions and evaluate_expr(
                    r.condition.expr, v, frozenset(o.actions)) is True

            assert g.values is not None
            out.append(_with_witness(a, g.values, g.test, confirm, Diagnostic(
                "E507", Severity.ERROR, f"`{r.action}` is not recommended where "
                f"`require {r.action} when {r.condition.text}` demands it", r.span,
                "recommend it on every path where the condition holds",
                (f"the rule: {r.reason}",)), self.name, why=True))
        return out
