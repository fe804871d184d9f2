"""The solver encoding of a checked guideline: every patient the inputs and assumptions allow.

It mirrors ``compiler.interpreter`` exactly:

- each input is a z3 variable by its declared type (``Int`` for integers, with range and step;
  ``Real`` for numbers, exact rationals; an ``Int`` index for enums; ``Bool`` for booleans), and
  an optional input has a "known" ``Bool``;
- each boolean expression is a pair of z3 Bools ``(T, F)``: definitely true, definitely false
  (unknown is neither); each number or enum expression a pair ``(value, known)``. When an
  expression can never be unknown, ``F`` is ``Not(T)`` and shares its term;
- one ``Bool`` per pathway node says that the node is reached: the OR of its incoming edges (from
  a step: the step is reached; from a branch: the decision is reached and takes the branch under
  its policy; from `otherwise`: the decision is reached and every branch is definitely false).
  A pending or stuck decision takes no edge. An action is recommended when a step that
  recommends it is reached and the recommendation's condition is definitely true.

Input ranges and assumptions are *facts* (:class:`Fact`): each holds under its own literal, so an
unsat core can name them. To explain why a branch can never be taken, :meth:`Encoding.paths`
builds a second, *tracked* copy of the pathway in which every branch and recommendation
condition also holds only under its literal; the core over those literals names the conditions,
with their lines, that contradict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, assert_never

import z3

from compiler import model as m
from dsl.ast import Span

Z = Any  # a z3 expression (z3 is untyped)
TF = tuple[Any, Any]


@dataclass(frozen=True, slots=True)
class Fact:
    """A tracked constraint: it holds when ``literal`` is true. ``text`` says it for a person."""

    literal: Z
    kind: str  # domain, assumption, branch, site
    text: str
    span: Span
    key: str


@dataclass(frozen=True, slots=True)
class InputVars:
    """The solver variables of one input: its value and whether it is known."""

    input: m.Input
    value: Z
    known: Z


@dataclass
class Paths:
    """Reached, taken, fired and recommended terms of one copy of the pathway."""

    reached: dict[str, Z] = field(default_factory=dict)
    branch_tf: dict[str, list[TF]] = field(default_factory=dict)
    site_tf: dict[tuple[str, int], TF | None] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    definitions: list[Z] = field(default_factory=list)


class Encoding:
    """The z3 terms of one model, in its own z3 context, with one solver.

    Building it asserts, at the solver's base level, the facts under their literals and the
    definitions of the main (untracked) pathway; the analysis asserts the literals in a scope.
    """

    def __init__(self, model: m.Model) -> None:
        self.model = model
        self.ctx = z3.Context()
        self._ref = self.ctx.ref()
        self.solver = z3.Solver(ctx=self.ctx)
        self.TRUE = z3.BoolVal(True, self.ctx)
        self.FALSE = z3.BoolVal(False, self.ctx)
        self._fresh = 0
        self._cache: dict[int, tuple[m.Expr, TF, bool]] = {}
        self._nums: dict[Fraction, Z] = {}
        self.facts: list[Fact] = []
        self.inputs: dict[str, InputVars] = {}
        self.assumption_tf: list[TF] = []
        for name, inp in model.inputs.items():
            self.inputs[name] = self._input(inp)
        for i, a in enumerate(model.assumptions):
            t, f = self.boolean(a.condition.expr)
            lit = self._bool("L!assume")
            self.solver.add(z3.Implies(lit, self.neg(f)))
            self.assumption_tf.append((t, f))
            self.facts.append(Fact(lit, "assumption", f"the assumption `{a.condition.text}`",
                                   a.span, f"assume:{i}"))
        self.main = self.paths()
        self.solver.add(*self.main.definitions)
        self.recommended: dict[str, Z] = self.recommended_in(self.main)

    # ------------------------------------------------------------------ helpers
    def _bool(self, name: str) -> Z:
        self._fresh += 1
        return z3.Bool(f"{name}!{self._fresh}", self.ctx)

    # z3py's And/Or/Not coerce and check every argument; these build the same terms through
    # the C API (the arguments are always Bool terms of this context) at a fraction of the cost.
    def _nary(self, make: Any, xs: list[Z]) -> Z:
        arr = (z3.Ast * len(xs))(*(x.as_ast() for x in xs))
        return z3.BoolRef(make(self._ref, len(xs), arr), self.ctx)

    def conj(self, *xs: Z) -> Z:
        """Conjunction with constant folding (``TRUE``/``FALSE`` are compared by identity)."""
        out = []
        for x in xs:
            if x is self.FALSE:
                return self.FALSE
            if x is not self.TRUE:
                out.append(x)
        if not out:
            return self.TRUE
        return out[0] if len(out) == 1 else self._nary(z3.Z3_mk_and, out)

    def disj(self, *xs: Z) -> Z:
        """Disjunction with constant folding."""
        out = []
        for x in xs:
            if x is self.TRUE:
                return self.TRUE
            if x is not self.FALSE:
                out.append(x)
        if not out:
            return self.FALSE
        return out[0] if len(out) == 1 else self._nary(z3.Z3_mk_or, out)

    def neg(self, x: Z) -> Z:
        """Negation with constant folding."""
        if x is self.TRUE:
            return self.FALSE
        if x is self.FALSE:
            return self.TRUE
        return z3.BoolRef(z3.Z3_mk_not(self._ref, x.as_ast()), self.ctx)

    def iff(self, a: Z, b: Z) -> Z:
        """``a == b`` for two Bool terms."""
        return z3.BoolRef(z3.Z3_mk_eq(self._ref, a.as_ast(), b.as_ast()), self.ctx)

    def implies(self, a: Z, b: Z) -> Z:
        """``a -> b`` for two Bool terms."""
        return z3.BoolRef(z3.Z3_mk_implies(self._ref, a.as_ast(), b.as_ast()), self.ctx)

    def unknown(self, tf: TF) -> Z:
        """Neither definitely true nor definitely false."""
        return self.conj(self.neg(tf[0]), self.neg(tf[1]))

    def num(self, v: Fraction) -> Z:
        """An exact numeral (an integer numeral when whole)."""
        hit = self._nums.get(v)
        if hit is None:
            if v.denominator == 1:
                hit = z3.IntVal(v.numerator, self.ctx)
            else:
                hit = z3.RealVal(f"{v.numerator}/{v.denominator}", self.ctx)
            self._nums[v] = hit
        return hit

    # ------------------------------------------------------------------ inputs
    def _input(self, inp: m.Input) -> InputVars:
        known = z3.Bool(f"known!{inp.name}", self.ctx) if inp.optional else self.TRUE
        dom: list[Z] = []
        if inp.kind == "boolean":
            value = z3.Bool(f"in!{inp.name}", self.ctx)
        elif inp.kind == "enum":
            value = z3.Int(f"in!{inp.name}", self.ctx)
            dom += [value >= 0, value < len(inp.values)]
        else:
            value = (z3.Int if inp.kind == "integer" else z3.Real)(f"in!{inp.name}", self.ctx)
            if inp.low is not None:
                dom.append(value >= self.num(inp.low))
            if inp.high is not None:
                dom.append(value <= self.num(inp.high))
            if inp.kind == "integer" and inp.step is not None and inp.step != 1:
                k = z3.Int(f"step!{inp.name}", self.ctx)
                dom.append(value == self.num(inp.low or Fraction(0)) + self.num(inp.step) * k)
        if dom:
            lit = self._bool(f"L!domain!{inp.name}")
            self.solver.add(z3.Implies(lit, self.conj(*dom)))
            self.facts.append(Fact(lit, "domain", domain_text(inp), inp.span,
                                   f"domain:{inp.name}"))
        return InputVars(inp, value, known)

    # ------------------------------------------------------------------ expressions
    def boolean(self, e: m.Expr) -> TF:
        """(definitely true, definitely false) of a boolean expression."""
        return self._encode(e)[0]

    def definite(self, e: m.Expr) -> bool:
        """True when the expression can never be unknown (every input it reads is required)."""
        return self._encode(e)[1]

    def value(self, e: m.Expr) -> TF:
        """(value, known) of any expression; a boolean's value is its "definitely true"."""
        if e.type == "boolean":
            t, f = self.boolean(e)
            return t, self.disj(t, f)
        return self._encode(e)[0]

    def _encode(self, e: m.Expr) -> tuple[TF, bool]:
        hit = self._cache.get(id(e))
        if hit is not None:
            return hit[1], hit[2]
        r = self._boolean(e) if e.type == "boolean" else self._value(e)
        self._cache[id(e)] = (e, r[0], r[1])
        return r

    def _value(self, e: m.Expr) -> tuple[TF, bool]:
        if isinstance(e, m.InputRef):
            iv = self.inputs[e.name]
            return (iv.value, iv.known), iv.known is self.TRUE
        if isinstance(e, m.LetRef):
            return self._encode(e.expr)
        if isinstance(e, m.Const):
            if isinstance(e.value, Fraction):
                return (self.num(e.value), self.TRUE), True
            assert isinstance(e.value, str)
            return (z3.IntVal(enum_values(e.type).index(e.value), self.ctx), self.TRUE), True
        if isinstance(e, m.Arith):
            (lv, lk), ld = self._encode(e.left)
            (rv, rk), rd = self._encode(e.right)
            return ((lv + rv if e.op == "+" else lv - rv), self.conj(lk, rk)), ld and rd
        if isinstance(e, m.Scale):
            (v, k), d = self._encode(e.operand)
            return (v * self.num(e.factor), k), d
        if isinstance(e, m.And | m.Or | m.Not | m.Known | m.Member | m.Recommended | m.Cmp):
            raise TypeError(f"not a value expression: {type(e).__name__}")
        assert_never(e)

    def _tf(self, t: Z, definite: bool, f: Callable[[], Z]) -> tuple[TF, bool]:
        return ((t, self.neg(t)) if definite else (t, f())), definite

    def _boolean(self, e: m.Expr) -> tuple[TF, bool]:
        if isinstance(e, m.Const):
            return ((self.TRUE, self.FALSE) if e.value is True else (self.FALSE, self.TRUE)), True
        if isinstance(e, m.InputRef):
            iv = self.inputs[e.name]
            if iv.known is self.TRUE:
                return (iv.value, self.neg(iv.value)), True
            return (self.conj(iv.known, iv.value), self.conj(iv.known, self.neg(iv.value))), False
        if isinstance(e, m.LetRef):
            return self._encode(e.expr)
        if isinstance(e, m.And):
            parts = [self._encode(o) for o in e.operands]
            definite = all(p[1] for p in parts)
            t = self.conj(*(p[0][0] for p in parts))
            return self._tf(t, definite, lambda: self.disj(*(p[0][1] for p in parts)))
        if isinstance(e, m.Or):
            parts = [self._encode(o) for o in e.operands]
            definite = all(p[1] for p in parts)
            t = self.disj(*(p[0][0] for p in parts))
            return self._tf(t, definite, lambda: self.conj(*(p[0][1] for p in parts)))
        if isinstance(e, m.Not):
            (t, f), definite = self._encode(e.operand)
            return (f, t), definite
        if isinstance(e, m.Known):
            _, k = self.value(e.operand)
            return ((k, self.neg(k)) if e.known else (self.neg(k), k)), True
        if isinstance(e, m.Member):
            (v, k), definite = self._encode(e.operand)
            values = enum_values(e.operand.type)
            inside = self.disj(*(v == values.index(x) for x in e.values))
            return self._tf(self.conj(k, inside), definite,
                            lambda: self.conj(k, self.neg(inside)))
        if isinstance(e, m.Recommended):
            r = self.recommended[e.action]
            return (r, self.neg(r)), True
        if isinstance(e, m.Cmp):
            lv, lk = self.value(e.left)
            rv, rk = self.value(e.right)
            k = self.conj(lk, rk)
            definite = k is self.TRUE
            holds: Z = m.COMPARISONS[e.op](lv, rv)
            return self._tf(self.conj(k, holds), definite,
                            lambda: self.conj(k, self.neg(holds)))
        if isinstance(e, m.Arith | m.Scale):
            raise TypeError(f"not a boolean expression: {type(e).__name__}")
        assert_never(e)

    # ------------------------------------------------------------------ the pathway
    def paths(self, tracked: bool = False, nodes: Iterable[str] | None = None) -> Paths:
        """One copy of the pathway (``nodes``: only these, the rest unreachable).

        With ``tracked``, every branch and recommendation condition holds only under its own
        literal (listed in ``facts``). The definitions are returned, not asserted.
        """
        model = self.model
        keep = set(nodes) if nodes is not None else set(model.pathway.nodes)
        p = Paths()
        tag = "t" if tracked else "m"
        for nid in model.pathway.nodes:
            if nid in keep:
                p.reached[nid] = self._bool(f"reached!{tag}!{nid}")
        incoming: dict[str, list[Z]] = {nid: [] for nid in p.reached}
        for t in model.pathway.start:
            if t in incoming:
                incoming[t].append(self.TRUE)
        for nid, r in p.reached.items():
            node = model.pathway.nodes[nid]
            if isinstance(node, m.Step):
                for site in node.recommends:
                    tf = None
                    if site.condition is not None:
                        tf = self._condition(p, site.condition, tracked, "site",
                                             f"site:{nid}:{site.index}")
                    p.site_tf[(nid, site.index)] = tf
                for t in node.next:
                    if t in incoming:
                        incoming[t].append(r)
            elif isinstance(node, m.Decision):
                p.branch_tf[nid] = [
                    self._condition(p, b.condition, tracked, "branch", f"branch:{nid}:{b.index}")
                    for b in node.branches]
                for b in node.branches:
                    tk = self.conj(r, self.take_condition(p, node, b.index))
                    for t in b.targets:
                        if t in incoming:
                            incoming[t].append(tk)
                if node.otherwise is not None:
                    ow = self.conj(r, self.all_false(p, node))
                    for t in node.otherwise.targets:
                        if t in incoming:
                            incoming[t].append(ow)
        for nid, edges in incoming.items():
            p.definitions.append(self.iff(p.reached[nid], self.disj(*edges)))
        return p

    def _condition(self, p: Paths, cond: m.Condition, tracked: bool, kind: str,
                   key: str) -> TF:
        t, f = self.boolean(cond.expr)
        if not tracked:
            return t, f
        lit = self._bool(f"L!{key}")
        tv = self._bool(f"T!{key}")
        if self.definite(cond.expr):
            p.definitions.append(self.implies(lit, self.iff(tv, t)))
            p.facts.append(Fact(lit, kind, f"`{cond.text}`", cond.span, key))
            return tv, self.neg(tv)
        fv = self._bool(f"F!{key}")
        p.definitions.append(self.implies(lit, self.conj(self.iff(tv, t), self.iff(fv, f))))
        p.definitions.append(self.neg(self.conj(tv, fv)))
        p.facts.append(Fact(lit, kind, f"`{cond.text}`", cond.span, key))
        return tv, fv

    def take_condition(self, p: Paths, d: m.Decision, index: int) -> Z:
        """The decision takes branch ``index`` (given that it is reached), per its policy."""
        tfs = p.branch_tf[d.id]
        t = tfs[index][0]
        if d.policy == "first":
            return self.conj(t, *(f for _, f in tfs[:index]))
        return self.conj(t, *(f for j, (_, f) in enumerate(tfs) if j != index))

    def taken(self, p: Paths, d: m.Decision, index: int) -> Z:
        """The decision is reached and takes branch ``index``."""
        return self.conj(p.reached[d.id], self.take_condition(p, d, index))

    def all_false(self, p: Paths, d: m.Decision) -> Z:
        """Every branch of ``d`` is definitely false (`otherwise`, or a gap without one)."""
        return self.conj(*(f for _, f in p.branch_tf[d.id]))

    def both_true(self, p: Paths, d: m.Decision, i: int, j: int) -> Z:
        """Branches ``i`` and ``j`` both definitely true."""
        tfs = p.branch_tf[d.id]
        return self.conj(tfs[i][0], tfs[j][0])

    def any_overlap(self, p: Paths, d: m.Decision) -> Z:
        """Two branches definitely true (a `unique` decision is then stuck)."""
        n = len(d.branches)
        return self.disj(*(self.both_true(p, d, i, j) for i in range(n)
                           for j in range(i + 1, n)))

    def waits_on(self, p: Paths, d: m.Decision, index: int) -> Z:
        """Branch ``index`` is unknown and the decision is pending on it."""
        tfs = p.branch_tf[d.id]
        u = self.unknown(tfs[index])
        if d.policy == "first":
            return self.conj(u, *(f for _, f in tfs[:index]))
        return self.conj(u, self.neg(self.any_overlap(p, d)))

    def is_unknown_input(self, name: str) -> Z:
        """The input ``name`` is unknown (always false for a required input)."""
        return self.neg(self.inputs[name].known)

    def fired(self, p: Paths, step: str, index: int) -> Z:
        """The step is reached and its recommendation ``index`` applies."""
        tf = p.site_tf[(step, index)]
        r = p.reached[step]
        return r if tf is None else self.conj(r, tf[0])

    def recommended_in(self, p: Paths) -> dict[str, Z]:
        """Per action: some step that recommends it is reached and its condition holds."""
        sites: dict[str, list[Z]] = {a: [] for a in self.model.actions}
        for step in self.model.steps():
            if step.id not in p.reached:
                continue
            for site in step.recommends:
                for a in site.actions:
                    if a in sites:
                        sites[a].append(self.fired(p, step.id, site.index))
        return {a: self.disj(*fs) for a, fs in sites.items()}

    # ------------------------------------------------------------------ patients
    def domain_literals(self) -> list[Z]:
        """The literals of the input ranges and the assumptions."""
        return [f.literal for f in self.facts]

    def patient(self, zmodel: Z) -> dict[str, m.Value]:
        """The input values of a z3 model (unknown optional inputs are None)."""
        out: dict[str, m.Value] = {}
        for name, iv in self.inputs.items():
            inp = iv.input
            if iv.known is not self.TRUE and not z3.is_true(
                    zmodel.eval(iv.known, model_completion=True)):
                out[name] = None
                continue
            v = zmodel.eval(iv.value, model_completion=True)
            if inp.kind == "boolean":
                out[name] = z3.is_true(v)
            elif inp.kind == "enum":
                out[name] = inp.values[v.as_long()]
            elif inp.kind == "integer":
                out[name] = Fraction(v.as_long())
            else:
                out[name] = Fraction(v.numerator_as_long(), v.denominator_as_long())
        return out

    def pin(self, values: Mapping[str, m.Value], names: Iterable[str] | None = None) -> Z:
        """A constraint fixing inputs (all, or ``names``) to ``values``."""
        parts = []
        for name in names if names is not None else self.inputs:
            iv = self.inputs[name]
            v = values.get(name)
            if v is None:
                parts.append(self.neg(iv.known))
                continue
            parts.append(iv.known)
            if isinstance(v, bool):
                parts.append(iv.value if v else z3.Not(iv.value))
            elif isinstance(v, str):
                parts.append(iv.value == iv.input.values.index(v))
            else:
                parts.append(iv.value == self.num(v))
        return self.conj(*parts)


def enum_values(t: str) -> tuple[str, ...]:
    """The values of an enum type string ``enum:owner:a,b,c``."""
    return tuple(t.split(":", 2)[2].split(",")) if t.startswith("enum:") else ()


def domain_text(inp: m.Input) -> str:
    """The declared values of an input, for explanations (`kps` is 0..100 step 10)."""
    from compiler.types import value_text

    if inp.kind == "enum":
        return f"the values of `{inp.name}`: {', '.join(inp.values)}"
    parts = []
    if inp.low is not None and inp.high is not None:
        parts.append(f"{value_text(inp.low)}..{value_text(inp.high)}")
    elif inp.low is not None:
        parts.append(f">= {value_text(inp.low)}")
    elif inp.high is not None:
        parts.append(f"<= {value_text(inp.high)}")
    if inp.step is not None:
        parts.append(f"step {value_text(inp.step)}")
    return f"the range of `{inp.name}`: {inp.kind} {' '.join(parts)}".rstrip()
