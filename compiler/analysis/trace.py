"""One patient through the pathway: the analysis's own fast evaluation of conditions and
decisions (:class:`Trace`), which the reference interpreter confirms for every witness."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import assert_never

from compiler import model as m
from compiler.interpreter import (
    decide,
    evaluate_expr,
    unknown_inputs,
)


@dataclass
class Trace:
    """What happens to one patient, as :mod:`compiler.interpreter` decides it, without wording.

    ``decided`` maps a reached decision to how it went: ``("taken", (i,))``,
    ``("otherwise", ())``, ``("pending", waiting branches)``, ``("overlap", true branches)`` or
    ``("gap", ())``. The analysis runs this for many candidate patients: conditions are compiled
    once (:func:`compile_condition`, the interpreter's Kleene logic) and the interpreter's result
    wording is skipped. Every witness the analysis shows is re-checked with the interpreter.
    """

    values: Mapping[str, m.Value]
    reached: set[str] = field(default_factory=set)
    decided: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    fired: set[tuple[str, int]] = field(default_factory=set)
    recommended: frozenset[str] = frozenset()
    pending: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    truth: dict[int, m.Value] = field(default_factory=dict)
    fast: dict[str, object] = field(default_factory=dict)

    def holds(self, cond: m.Condition) -> m.Value:
        """The three-valued value of a pathway condition for this patient (memoised)."""
        key = id(cond.expr)
        if key in self.truth:
            return self.truth[key]
        v = _compiled(cond.expr)(self.fast)
        self.truth[key] = v  # type: ignore[assignment]
        return v  # type: ignore[return-value]

    def rule(self, cond: m.Condition | None) -> m.Value:
        """A rule condition (it may ask which actions are recommended); None means always."""
        if cond is None:
            return True
        return evaluate_expr(cond.expr, self.values, self.recommended)

    def pending_on(self, node: str, name: str) -> bool:
        """Whether ``node`` waits for the input ``name``."""
        return any(n == node and name in inputs for n, inputs in self.pending)


def trace(model: m.Model, values: Mapping[str, m.Value]) -> Trace:
    """Walk the pathway for validated ``values`` (see :func:`compiler.interpreter.validate`)."""
    return _walker(model).walk(values)


class _Walker:
    """A model's pathway with every condition compiled once, walked per patient."""

    def __init__(self, model: m.Model) -> None:
        self.model = model
        self.start = [n for n in model.pathway.start if n in model.pathway.nodes]
        self.steps: dict[str, tuple[list[tuple[m.RecommendSite, Fn | None]], tuple[str, ...]]] = {}
        self.decisions: dict[str, tuple[m.Decision, list[tuple[int, Fn]]]] = {}
        for nid, node in model.pathway.nodes.items():
            if isinstance(node, m.Step):
                self.steps[nid] = ([(site, compile_condition(site.condition.expr)
                                     if site.condition is not None else None)
                                    for site in node.recommends], node.next)
            elif isinstance(node, m.Decision):
                self.decisions[nid] = (node, [(id(b.condition.expr),
                                               compile_condition(b.condition.expr))
                                              for b in node.branches])

    def walk(self, values: Mapping[str, m.Value]) -> Trace:
        t = Trace(values)
        # Whole numbers compare as ints: exact, and much faster than Fraction.
        fast: dict[str, object] = {
            k: (int(v) if isinstance(v, Fraction) and v.denominator == 1 else v)
            for k, v in values.items()}
        t.fast = fast
        truth = t.truth
        reached = t.reached
        recs: set[str] = set()
        todo = list(self.start)
        while todo:
            nid = todo.pop()
            if nid in reached:
                continue
            reached.add(nid)
            step = self.steps.get(nid)
            if step is not None:
                sites, nxt = step
                for site, fn in sites:
                    held = True if fn is None else fn(fast)
                    if held is True:
                        t.fired.add((nid, site.index))
                        recs.update(site.actions)
                    elif held is None:
                        assert site.condition is not None
                        truth[id(site.condition.expr)] = None
                        t.pending.append((nid, unknown_inputs(site.condition.expr, values)))
                    elif site.condition is not None:
                        truth[id(site.condition.expr)] = held  # type: ignore[assignment]
                todo.extend(nxt)
                continue
            dec = self.decisions.get(nid)
            if dec is None:
                continue
            node, fns = dec
            results: list[object] = []
            for key, fn in fns:
                r = fn(fast)
                truth[key] = r  # type: ignore[assignment]
                results.append(r)
            kind, idx = _decide(node, results)
            t.decided[nid] = (kind, idx)
            if kind == "taken":
                todo.extend(node.branches[idx[0]].targets)
            elif kind == "otherwise":
                assert node.otherwise is not None
                todo.extend(node.otherwise.targets)
            elif kind == "pending":
                inputs: list[str] = []
                for i in idx:
                    expr = node.branches[i].condition.expr
                    inputs.extend(x for x in unknown_inputs(expr, values) if x not in inputs)
                t.pending.append((nid, tuple(inputs)))
        t.recommended = frozenset(recs)
        return t


_WALKERS: dict[int, tuple[m.Model, _Walker]] = {}


def _walker(model: m.Model) -> _Walker:
    hit = _WALKERS.get(id(model))
    if hit is None or hit[0] is not model:
        _WALKERS.clear()
        _COMPILED.clear()
        hit = (model, _Walker(model))
        _WALKERS[id(model)] = hit
    return hit[1]


def _decide(d: m.Decision, results: list[object]) -> tuple[str, tuple[int, ...]]:
    # The interpreter's policy; "none" is `otherwise` when there is one, else a gap.
    verdict, which = decide(d.policy, results)
    if verdict == "none":
        return ("otherwise", ()) if d.otherwise is not None else ("gap", ())
    return verdict, which


Fn = Callable[[Mapping[str, object]], object]


_COMPILED: dict[int, tuple[m.Expr, Fn]] = {}


def _compiled(e: m.Expr) -> Fn:
    hit = _COMPILED.get(id(e))
    if hit is None or hit[0] is not e:
        hit = (e, compile_condition(e))
        _COMPILED[id(e)] = hit
    return hit[1]


def compile_condition(e: m.Expr) -> Fn:
    """A Python function of the patient's values equal to ``evaluate_expr(e, values)`` (for
    pathway conditions: no `is recommended`), with Kleene logic and ``None`` for unknown."""
    if isinstance(e, m.InputRef):
        name = e.name
        return lambda v: v.get(name)
    if isinstance(e, m.Const):
        c: object = e.value
        if isinstance(c, Fraction) and c.denominator == 1:
            c = int(c)
        return lambda v: c
    if isinstance(e, m.LetRef):
        # A let read twice (or by a chain of lets each read twice) is computed once per
        # patient: its value is kept in the patient's (fresh, per walk) value dict.
        inner, key = _compiled(e.expr), ("let", e.name)

        def let_value(v: Mapping[str, object]) -> object:
            try:
                return v[key]  # type: ignore[index]
            except KeyError:
                r = v[key] = inner(v)  # type: ignore[index]
                return r

        return let_value
    if isinstance(e, m.And):
        parts = [compile_condition(o) for o in e.operands]

        def conj(v: Mapping[str, object]) -> object:
            result: object = True
            for f in parts:
                x = f(v)
                if x is False:
                    return False
                if x is None:
                    result = None
            return result
        return conj
    if isinstance(e, m.Or):
        parts = [compile_condition(o) for o in e.operands]

        def disj(v: Mapping[str, object]) -> object:
            result: object = False
            for f in parts:
                x = f(v)
                if x is True:
                    return True
                if x is None:
                    result = None
            return result
        return disj
    if isinstance(e, m.Not):
        f = compile_condition(e.operand)

        def neg(v: Mapping[str, object]) -> object:
            x = f(v)
            return None if x is None else not x
        return neg
    if isinstance(e, m.Known):
        f = compile_condition(e.operand)
        want = e.known
        return lambda v: (f(v) is not None) == want
    if isinstance(e, m.Member):
        f = compile_condition(e.operand)
        allowed = frozenset(e.values)

        def member(v: Mapping[str, object]) -> object:
            x = f(v)
            return None if x is None else x in allowed
        return member
    if isinstance(e, m.Cmp):
        left, right, op = compile_condition(e.left), compile_condition(e.right), m.COMPARISONS[e.op]

        def cmp(v: Mapping[str, object]) -> object:
            a, b = left(v), right(v)
            if a is None or b is None:
                return None
            return op(a, b)
        return cmp
    if isinstance(e, m.Arith):
        left, right = compile_condition(e.left), compile_condition(e.right)
        plus = e.op == "+"

        def arith(v: Mapping[str, object]) -> object:
            a, b = left(v), right(v)
            if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
                return None
            assert isinstance(a, int | Fraction) and isinstance(b, int | Fraction)
            return a + b if plus else a - b
        return arith
    if isinstance(e, m.Scale):
        f = compile_condition(e.operand)
        factor = e.factor

        def scale(v: Mapping[str, object]) -> object:
            x = f(v)
            if x is None or isinstance(x, bool):
                return None
            assert isinstance(x, int | Fraction)
            return x * factor
        return scale
    if isinstance(e, m.Derived):
        return compile_condition(e.meaning)
    if isinstance(e, m.Contains):
        f, value = compile_condition(e.operand), e.value

        def contains(v: Mapping[str, object]) -> object:
            x = f(v)
            return None if x is None else value in x  # type: ignore[operator]
        return contains
    if isinstance(e, m.Points):
        scored = [(compile_condition(c.condition), c.weight) for c in e.criteria]
        whole = e.whole

        def points(v: Mapping[str, object]) -> object:
            total = Fraction(0)
            for f, w in scored:
                held = f(v)
                if held is None:
                    return None
                if held:
                    total += w
            return int(total) if whole else total
        return points
    if isinstance(e, m.Recommended):
        # Only rules read `is recommended`, and the trace checks them on its own results.
        raise TypeError("`is recommended` cannot be compiled for a pathway condition")
    assert_never(e)
