"""What a finding says: messages and notes (from unsat cores too), the cap on undecided
questions (W510), internal failures (E511) and the witness a finding carries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from compiler import model as m
from compiler.analysis import settings
from compiler.analysis.goals import _strs
from compiler.interpreter import (
    Outcome,
)
from compiler.solver.pathway import Fact
from dsl.ast import Span
from dsl.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from compiler.analysis.engine import Analysis, Goal
    from compiler.analysis.trace import Trace


class WitnessError(Exception):
    """The interpreter does not confirm what the solver found (an internal failure)."""


def _names(names: Iterable[str], conj: str = "and") -> str:
    items = [f"`{n}`" for n in names]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _errors(goals: list[Goal], check: str, span: Span, node: str | None) -> list[Diagnostic]:
    return [Diagnostic("E511", Severity.ERROR,
                       f"internal failure in the {check} check: " + (
                           g.error or "the solver and the interpreter disagree about "
                           + " ".join(str(k) for k in g.key)), span,
                       "please report this with the guideline; the other checks ran",
                       node=node) for g in goals if g.status == "error"]


def _unsettled(g: Goal, check: str, what: str, span: Span) -> list[Diagnostic]:
    if g.status == "unknown":
        return [undecided(f"whether {what} can be broken", check, span, None)]
    return _errors([g], check, span, None)


#: Undecided questions (W510) listed one by one per check; the rest are counted in one more.
MAX_UNDECIDED = 20


def _cap_undecided(diags: list[Diagnostic]) -> list[Diagnostic]:
    """At most MAX_UNDECIDED W510 per check, and one that counts the others: a run that hit
    its time limit on 500 branches does not print 125,000 warnings."""
    out: list[Diagnostic] = []
    seen: dict[str, int] = {}
    extra: dict[str, tuple[Diagnostic, int]] = {}
    for d in diags:
        if d.code != "W510":
            out.append(d)
            continue
        check = d.message.rsplit("(", 1)[-1].removesuffix(" check)")
        seen[check] = seen.get(check, 0) + 1
        if seen[check] <= MAX_UNDECIDED:
            out.append(d)
        else:
            first, n = extra.get(check, (d, 0))
            extra[check] = (first, n + 1)
    for check, (first, n) in extra.items():
        out.append(Diagnostic(
            "W510", Severity.WARNING,
            f"could not decide {n:,} more questions within the solver's limit ({check} check)",
            first.span, "simplify the conditions involved, or split the decision",
            node=first.node))
    return out


def undecided(what: str, check: str, span: Span, node: str | None) -> Diagnostic:
    """W510: the solver could not decide ``what`` within its resource limit."""
    return Diagnostic("W510", Severity.WARNING,
                      f"could not decide {what} within the solver's limit ({check} check)",
                      span, "simplify the conditions involved, or split the decision",
                      node=node)


def internal(check: str, exc: BaseException, model: m.Model) -> Diagnostic:
    """E511: one check failed; the others still ran."""
    return Diagnostic("E511", Severity.ERROR,
                      f"internal failure in the {check} check: {type(exc).__name__}: {exc}",
                      model.pathway.span, "please report this with the guideline; the other "
                      "checks ran")


def _with_witness(a: Analysis, values: Mapping[str, m.Value], keep: Callable[[Trace], bool],
                  confirm: Callable[[Outcome, Mapping[str, m.Value]], bool], d: Diagnostic,
                  check: str, node_of: str | None = None, why: bool = False) -> Diagnostic:
    """``d`` with a polished witness and its path, re-checked by the interpreter (or E511).

    ``node_of``: the node is the step that recommended this action; ``why``: add notes on the
    decisions that were pending or stuck for the witness."""
    a.witnessed[check] = a.witnessed.get(check, 0) + 1
    if a.witnessed[check] > settings.MAX_WITNESSES:
        return Diagnostic(d.code, d.severity, d.message, d.span, d.hint, (
            *d.notes,
            f"(no witness shown: more than {settings.MAX_WITNESSES} findings of this check)"),
            node=d.node)
    try:
        patient, outcome = a.witness(values, keep, confirm)
    except WitnessError as exc:
        return Diagnostic("E511", Severity.ERROR, f"internal failure in the {check} check: {exc}",
                          d.span, "please report this with the guideline; the other checks ran",
                          node=d.node)
    node = d.node
    if node_of is not None:
        node = next((r.step for r in outcome.recommendations if r.id == node_of), node)
    notes = list(d.notes)
    if why:
        notes += [f"`{p['decision']}` is pending on {_names(_strs(p['inputs']))}"
                  for p in outcome.pending]
        notes += [f"`{x['decision']}` is stuck ({x['reason']})" for x in outcome.stuck]
    return Diagnostic(d.code, d.severity, d.message, d.span, d.hint, tuple(notes), patient,
                      outcome.path, node)


def _fact(f: Fact) -> str:
    return f"{f.text} (line {f.span.line})"


def _explained(code: str, message: str, span: Any, node: str, hint: str, own: str | None,
               shadow: bool = False) -> Callable[[list[Fact] | None], Diagnostic]:
    def make(facts: list[Fact] | None) -> Diagnostic:
        notes: list[str] = []
        if facts is None:
            notes.append("(the conditions involved were not isolated)")
        else:
            mine = [f for f in facts if f.key == own]
            others = sorted((f for f in facts if f.key != own),
                            key=lambda f: (f.span.line, f.span.column))
            earlier = [f for f in others if shadow and f.kind == "branch" and
                       f.key.startswith(f"branch:{node}:")]
            rest = [f for f in others if f not in earlier]
            if earlier:
                notes.append("covered by " + " and ".join(_fact(f) for f in earlier))
                if rest:
                    notes.append("given " + "; ".join(_fact(f) for f in rest))
            elif mine and rest:
                notes.append(f"{_fact(mine[0])} contradicts " + "; ".join(_fact(f) for f in rest))
            elif mine:
                notes.append(f"{_fact(mine[0])} can never hold")
            elif rest:
                notes.append("these cannot all hold: " + "; ".join(_fact(f) for f in rest))
        sev = Severity.WARNING
        return Diagnostic(code, sev, message, span, hint, tuple(notes), node=node)
    return make
