"""The one statement of the interpreter's three-valued semantics in z3, for every use of the
solver: the analysis of one guideline (``compiler.encode``) and the behavioural diff of two
(``compiler.diff.behaviour``) both encode their conditions with :class:`Terms`.

Each boolean expression is a pair of z3 Bools ``(T, F)``: definitely true, definitely false
(unknown is neither); each number or enum expression a pair ``(value, known)``. When an
expression can never be unknown, ``F`` is ``Not(T)`` and shares its term. The differential
tests pin a patient in the solver and compare every pair with ``compiler.interpreter``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, assert_never

import z3

from compiler import model as m

Z = Any  # a z3 expression (z3 is untyped)
TF = tuple[Any, Any]


@dataclass(frozen=True, slots=True)
class InputVars:
    """The solver variables of one input: its value and whether it is known (``TRUE`` for
    an input that is always known)."""

    input: m.Input
    value: Z
    known: Z


def enum_values(t: str) -> tuple[str, ...]:
    """The values of an enum or set type string ``enum:owner:a,b,c``, ``set:owner:a,b,c``."""
    return tuple(t.split(":", 2)[2].split(",")) if t.startswith(("enum:", "set:")) else ()


class Terms:
    """The z3 terms of expressions over input variables, in one z3 context, with constant
    folding (``TRUE``/``FALSE`` are compared by identity) and a cache per expression.

    A subclass sets ``inputs`` (name -> :class:`InputVars`) and ``recommended`` (action ->
    term, for `A is recommended` in rules), and may override :meth:`enum_index` (two versions
    compared over one set of inputs number an enum's values by their union).
    """

    def __init__(self, ctx: Any, true: Z | None = None, false: Z | None = None) -> None:
        self.ctx = ctx
        self._ref = ctx.ref()
        self.TRUE = true if true is not None else z3.BoolVal(True, ctx)
        self.FALSE = false if false is not None else z3.BoolVal(False, ctx)
        self._cache: dict[int, tuple[m.Expr, TF, bool]] = {}
        self._nums: dict[Fraction, Z] = {}
        self.inputs: dict[str, InputVars] = {}
        self.recommended: dict[str, Z] = {}

    def enum_index(self, t: str, value: str) -> int:
        """The number that stands for an enum value of type ``t``."""
        return enum_values(t).index(value)

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
            return (z3.IntVal(self.enum_index(e.type, e.value), self.ctx), self.TRUE), True
        if isinstance(e, m.Arith):
            (lv, lk), ld = self._encode(e.left)
            (rv, rk), rd = self._encode(e.right)
            return ((lv + rv if e.op == "+" else lv - rv), self.conj(lk, rk)), ld and rd
        if isinstance(e, m.Scale):
            (v, k), d = self._encode(e.operand)
            return (v * self.num(e.factor), k), d
        if isinstance(e, m.Derived):
            return self._encode(e.meaning)
        if isinstance(e, m.Points):
            # A sum of if-then-elses over the criteria's "definitely true": still linear.
            parts = [(self._encode(c.condition), c.weight) for c in e.criteria]
            total = z3.Sum([z3.If(tf[0], self.num(w), self.num(Fraction(0))) for (tf, _), w
                            in parts])
            known = self.conj(*(self.disj(t, f) for ((t, f), _), _ in parts))
            return (total, known), all(d for (_, d), _ in parts)
        if isinstance(e, m.And | m.Or | m.Not | m.Known | m.Member | m.Recommended | m.Cmp |
                      m.Contains):
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
            t_ = e.operand.type
            inside = self.disj(*(v == self.enum_index(t_, x) for x in e.values))
            return self._tf(self.conj(k, inside), definite,
                            lambda: self.conj(k, self.neg(inside)))
        if isinstance(e, m.Recommended):
            r = self.recommended[e.action]
            return (r, self.neg(r)), True
        if isinstance(e, m.Contains):
            # A set input is one Boolean per declared value (see solver.inputs.declare).
            (members, k), definite = self._encode(e.operand)
            member = members[e.value]
            return self._tf(self.conj(k, member), definite,
                            lambda: self.conj(k, self.neg(member)))
        if isinstance(e, m.Cmp):
            left, op, right = m.unscaled(e.left, e.op, e.right)
            lv, lk = self.value(left)
            rv, rk = self.value(right)
            k = self.conj(lk, rk)
            definite = k is self.TRUE
            holds: Z = m.COMPARISONS[op](lv, rv)
            return self._tf(self.conj(k, holds), definite,
                            lambda: self.conj(k, self.neg(holds)))
        if isinstance(e, m.Derived):
            return self._encode(e.meaning)
        if isinstance(e, m.Arith | m.Scale | m.Points):
            raise TypeError(f"not a boolean expression: {type(e).__name__}")
        assert_never(e)

    # ------------------------------------------------------------------ decisions
    # The `unique` and `first` policies (``compiler.interpreter.decide``) over the (T, F)
    # pairs of a decision's branches, in order.
    def take(self, policy: str, tfs: list[TF], index: int) -> Z:
        """The decision takes branch ``index`` (given that it is reached)."""
        t = tfs[index][0]
        if policy == "first":
            return self.conj(t, *(f for _, f in tfs[:index]))
        return self.conj(t, *(f for j, (_, f) in enumerate(tfs) if j != index))

    def all_false(self, tfs: list[TF]) -> Z:
        """Every branch definitely false: `otherwise`, or a gap without one."""
        return self.conj(*(f for _, f in tfs))

    def any_overlap(self, tfs: list[TF]) -> Z:
        """Two branches definitely true (a `unique` decision is then stuck)."""
        n = len(tfs)
        return self.disj(*(self.conj(tfs[i][0], tfs[j][0]) for i in range(n)
                           for j in range(i + 1, n)))

    def waits_on(self, policy: str, tfs: list[TF], index: int) -> Z:
        """Branch ``index`` is unknown and the decision is pending on it."""
        u = self.unknown(tfs[index])
        if policy == "first":
            return self.conj(u, *(f for _, f in tfs[:index]))
        return self.conj(u, self.neg(self.any_overlap(tfs)))

    def pending_on(self, policy: str, tfs: list[TF]) -> Z:
        """The decision is pending (given that it is reached): it waits on some branch."""
        return self.disj(*(self.waits_on(policy, tfs, i) for i in range(len(tfs))))
