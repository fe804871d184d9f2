"""The goal builders the checks share (closures over their node and index, so that each goal
keeps its own) and small helpers over decisions and what they wait for."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from compiler import model as m
from compiler.solver.pathway import Paths
from compiler.solver.terms import Z

if TYPE_CHECKING:
    from compiler.analysis.engine import Analysis, Goal


def _g_reach(a: Analysis, nid: str) -> Goal:
    return a.goal(("reach", nid), lambda p: p.reached[nid], lambda tr: True, False, "reached",
                  nid)


def _holds_f(a: Analysis, d: m.Decision, i: int) -> Callable[[Paths], Z]:
    return lambda p: a.enc.conj(p.reached[d.id], p.branch_tf[d.id][i][0])


def _clear_f(a: Analysis, d: m.Decision, i: int) -> Callable[[Paths], Z]:
    enc = a.enc
    return lambda p: enc.conj(p.reached[d.id], p.branch_tf[d.id][i][0],
                              *(enc.neg(t) for t, _ in p.branch_tf[d.id][:i]))


def _alone_f(a: Analysis, d: m.Decision, i: int) -> Callable[[Paths], Z]:
    enc = a.enc
    return lambda p: enc.conj(p.reached[d.id], p.branch_tf[d.id][i][0],
                              *(enc.neg(t) for j, (t, _) in enumerate(p.branch_tf[d.id])
                                if j != i))


def _taken_f(a: Analysis, d: m.Decision, i: int) -> Callable[[Paths], Z]:
    return lambda p: a.enc.taken(p, d, i)


def _otherwise_f(a: Analysis, d: m.Decision) -> Callable[[Paths], Z]:
    return lambda p: a.enc.conj(p.reached[d.id], a.enc.all_false(p.branch_tf[d.id]))


def _fired_f(a: Analysis, step: str, k: int) -> Callable[[Paths], Z]:
    return lambda p: a.enc.fired(p, step, k)


def _g_branch(a: Analysis, d: m.Decision, b: m.Branch) -> None:
    nid, i = d.id, b.index
    a.goal(("taken", nid, i), _taken_f(a, d, i),
           lambda tr: tr.decided.get(nid) == ("taken", (i,)), False, "reached", nid)
    a.goal(("holds", nid, i), _holds_f(a, d, i),
           lambda tr: tr.holds(b.condition) is True, False, "reached", nid)
    if d.policy == "first" and i > 0:
        a.goal(("clear", nid, i), _clear_f(a, d, i),
               lambda tr: tr.holds(b.condition) is True and all(
                   tr.holds(x.condition) is not True for x in d.branches[:i]),
               False, "reached", nid)
    if d.policy == "unique" and len(d.branches) > 1:
        a.goal(("alone", nid, i), _alone_f(a, d, i),
               lambda tr: tr.holds(b.condition) is True and all(
                   tr.holds(x.condition) is not True for x in d.branches if x.index != i),
               False, "reached", nid)


def _g_decision(a: Analysis, d: m.Decision) -> None:
    _g_reach(a, d.id)
    for b in d.branches:
        _g_branch(a, d, b)


def _g_otherwise(a: Analysis, d: m.Decision) -> None:
    a.goal(("otherwise", d.id), _otherwise_f(a, d),
           lambda tr: tr.decided.get(d.id, ("",))[0] == "otherwise", False, "reached", d.id)


def _g_fired(a: Analysis, step: str, k: int) -> None:
    a.goal(("fired", step, k), _fired_f(a, step, k), lambda tr: (step, k) in tr.fired, False,
           "reached", step)


def _decisions(a: Analysis) -> list[m.Decision]:
    return [d for d in a.model.decisions() if d.id in a.structural_set]


def _pairs(n: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def _overlaps(decided: tuple[str, tuple[int, ...]] | None, i: int, j: int) -> bool:
    return decided is not None and decided[0] == "overlap" and i in decided[1] and j in decided[1]


def _ints(x: object) -> list[int]:
    return [v for v in x if isinstance(v, int)] if isinstance(x, list) else []


def _strs(x: object) -> list[str]:
    return [v for v in x if isinstance(v, str)] if isinstance(x, list) else []


def _waits(a: Analysis, node: m.PathNode) -> dict[str, list[Callable[[Paths], Z]]]:
    """Per optional input: the ways ``node`` can wait for it (formulas over a pathway copy)."""
    out: dict[str, list[Callable[[Paths], Z]]] = {}

    def optional_reads(cond: m.Condition) -> list[str]:
        if a.enc.definite(cond.expr):
            return []
        return [x for x in m.inputs_of(cond.expr) if a.model.inputs[x].optional]

    if isinstance(node, m.Decision):
        for b in node.branches:
            for x in optional_reads(b.condition):
                out.setdefault(x, []).append(_waits_branch(a, node, b.index))
    elif isinstance(node, m.Step):
        for site in node.recommends:
            if site.condition is not None:
                for x in optional_reads(site.condition):
                    out.setdefault(x, []).append(_waits_site(a, node.id, site.index))
    return out


def _waits_branch(a: Analysis, d: m.Decision, i: int) -> Callable[[Paths], Z]:
    return lambda p: a.enc.waits_on(d.policy, p.branch_tf[d.id], i)


def _waits_site(a: Analysis, step: str, k: int) -> Callable[[Paths], Z]:
    def build(p: Paths) -> Z:
        tf = p.site_tf[(step, k)]
        return a.enc.unknown(tf) if tf is not None else a.enc.FALSE
    return build
