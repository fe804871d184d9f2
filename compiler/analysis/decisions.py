"""Decisions: two branches of a `unique` decision for one patient (E503), and patients no
branch takes (E504)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from compiler import model as m
from compiler.analysis import settings
from compiler.analysis.engine import Check
from compiler.analysis.gaps import _gap_regions
from compiler.analysis.goals import _decisions, _ints, _otherwise_f, _overlaps, _pairs
from compiler.analysis.wording import _errors, _with_witness, undecided
from compiler.interpreter import (
    Outcome,
)
from dsl.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from compiler.analysis.engine import Analysis, Goal


def _g_overlap(a: Analysis, d: m.Decision, i: int, j: int) -> None:
    enc = a.enc
    a.goal(("overlap", d.id, i, j),
           lambda p: enc.conj(p.reached[d.id], enc.both_true(p, d, i, j)),
           lambda tr: _overlaps(tr.decided.get(d.id), i, j), True, "stuck", d.id)


class OverlapCheck(Check):
    """E503: two branches of a `unique` decision that hold for one patient."""

    name = "overlap"

    def goals(self, a: Analysis) -> None:
        for d in _decisions(a):
            if d.policy == "unique":
                for i, j in _pairs(len(d.branches)):
                    _g_overlap(a, d, i, j)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for d in _decisions(a):
            if d.policy != "unique":
                continue
            for i, j in _pairs(len(d.branches)):
                g = a.goals[("overlap", d.id, i, j)]
                bi, bj = d.branches[i], d.branches[j]
                if g.status == "sat":
                    out.append(self._found(a, d, g, bi, bj))
                elif g.status == "unknown":
                    out.append(undecided(f"whether branches {i + 1} and {j + 1} of `{d.id}` "
                                         "overlap", self.name, bj.span, d.id))
                else:
                    out += _errors([g], self.name, bj.span, d.id)
        return out

    def _found(self, a: Analysis, d: m.Decision, g: Goal, bi: m.Branch, bj: m.Branch
               ) -> Diagnostic:
        def confirm(o: Outcome, _v: Mapping[str, m.Value]) -> bool:
            return any(s["decision"] == d.id and s["reason"] == "overlap"
                       and bi.index in _ints(s["branches"]) and bj.index in _ints(s["branches"])
                       for s in o.stuck)

        assert g.values is not None
        return _with_witness(a, g.values, g.test, confirm, Diagnostic(
            "E503", Severity.ERROR, f"two branches of `{d.id}` hold for one patient: "
            f"`{bi.condition.text}` and `{bj.condition.text}`", bj.span,
            "make the branches exclusive, or make the decision `first` if their order decides",
            (f"`{bi.condition.text}` (line {bi.span.line}) and `{bj.condition.text}` "
             f"(line {bj.span.line}) both hold for the witness: a `unique` decision is then "
             "stuck",), node=d.id), self.name)


def _g_gap(a: Analysis, d: m.Decision) -> None:
    a.goal(("gap", d.id), _otherwise_f(a, d),
           lambda tr: tr.decided.get(d.id, ("",))[0] == "gap", True, "stuck", d.id)


class GapCheck(Check):
    """E504: a decision without `otherwise` where some patients match no branch."""

    name = "gap"

    def goals(self, a: Analysis) -> None:
        for d in _decisions(a):
            if d.otherwise is None:
                _g_gap(a, d)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for d in _decisions(a):
            g = a.goals.get(("gap", d.id))
            if g is None:
                continue
            if g.status == "sat" and a.witnessed.get(self.name, 0) >= settings.MAX_WITNESSES:
                out.append(Diagnostic(
                    "E504", Severity.ERROR, f"no branch of `{d.id}` applies to some patients "
                    "who reach it", d.span, "add a branch for these patients, or `otherwise`",
                    (f"(regions not described: more than {settings.MAX_WITNESSES} gap findings)",),
                    node=d.id))
            elif g.status == "sat":
                out += _gap_regions(a, d, self.name)
            elif g.status == "unknown":
                out.append(undecided(f"whether every patient matches a branch of `{d.id}`",
                                     self.name, d.span, d.id))
            else:
                out += _errors([g], self.name, d.span, d.id)
        return out
