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

from collections.abc import Iterable, Mapping
from fractions import Fraction

import z3

from compiler import model as m
from compiler.solver import pathway
from compiler.solver.inputs import declare
from compiler.solver.pathway import Fact, Paths
from compiler.solver.terms import TF, InputVars, Terms, Z


class Encoding(Terms):
    """The z3 terms of one model, in its own z3 context, with one solver: its conditions
    (:class:`~compiler.solver.terms.Terms`), its inputs' ranges and assumptions as facts, and
    copies of its pathway.

    Building it asserts, at the solver's base level, the facts under their literals and the
    definitions of the main (untracked) pathway; the analysis asserts the literals in a scope.
    """

    def __init__(self, model: m.Model) -> None:
        super().__init__(z3.Context())
        self.model = model
        self.solver = z3.Solver(ctx=self.ctx)
        self._fresh = 0
        self.facts: list[Fact] = []
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
        self.recommended = self.recommended_in(self.main)

    # ------------------------------------------------------------------ helpers
    def _bool(self, name: str) -> Z:
        self._fresh += 1
        return z3.Bool(f"{name}!{self._fresh}", self.ctx)

    # ------------------------------------------------------------------ inputs
    def _input(self, inp: m.Input) -> InputVars:
        declared = declare(self, inp.name, [inp])
        if declared.domain:
            lit = self._bool(f"L!domain!{inp.name}")
            self.solver.add(z3.Implies(lit, self.conj(*declared.domain)))
            self.facts.append(Fact(lit, "domain", domain_text(inp), inp.span,
                                   f"domain:{inp.name}"))
        return declared.vars

    # ------------------------------------------------------------------ the pathway
    def paths(self, tracked: bool = False, nodes: Iterable[str] | None = None) -> Paths:
        """One copy of the pathway (``nodes``: only these, the rest unreachable).

        With ``tracked``, every branch and recommendation condition holds only under its own
        literal (listed in ``facts``). The definitions are returned, not asserted.
        """
        p = Paths()
        tag = "t" if tracked else "m"

        def reach(nid: str, edges: list[Z]) -> Z:
            var = self._bool(f"reached!{tag}!{nid}")
            p.definitions.append(self.iff(var, self.disj(*edges)))
            return var

        def condition(kind: str, key: str, cond: m.Condition) -> TF:
            return self._condition(p, cond, tracked, kind, key)

        return pathway.build(self, self.model, reach, condition, nodes, p)

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
        return self.take(d.policy, p.branch_tf[d.id], index)

    def taken(self, p: Paths, d: m.Decision, index: int) -> Z:
        """The decision is reached and takes branch ``index``."""
        return self.conj(p.reached[d.id], self.take_condition(p, d, index))

    def both_true(self, p: Paths, d: m.Decision, i: int, j: int) -> Z:
        """Branches ``i`` and ``j`` both definitely true."""
        tfs = p.branch_tf[d.id]
        return self.conj(tfs[i][0], tfs[j][0])

    def is_unknown_input(self, name: str) -> Z:
        """The input ``name`` is unknown (always false for a required input)."""
        return self.neg(self.inputs[name].known)

    def fired(self, p: Paths, step: str, index: int) -> Z:
        """The step is reached and its recommendation ``index`` applies."""
        return pathway.fired(self, p, step, index)

    def recommended_in(self, p: Paths) -> dict[str, Z]:
        """Per action: some step that recommends it is reached and its condition holds."""
        return pathway.recommended(self, self.model, p)

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
            if inp.kind == "set":
                out[name] = frozenset(x for x, b in iv.value.items()
                                      if z3.is_true(zmodel.eval(b, model_completion=True)))
                continue
            v = zmodel.eval(iv.value, model_completion=True)
            if inp.kind == "boolean":
                out[name] = z3.is_true(v)
            elif inp.kind == "enum":
                out[name] = inp.values[v.as_long()]
            elif z3.is_int_value(v):
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
            if isinstance(v, frozenset):
                parts += [b if x in v else self.neg(b) for x, b in iv.value.items()]
            elif isinstance(v, bool):
                parts.append(iv.value if v else z3.Not(iv.value))
            elif isinstance(v, str):
                parts.append(iv.value == iv.input.values.index(v))
            else:
                parts.append(iv.value == self.num(v))
        return self.conj(*parts)


def domain_text(inp: m.Input) -> str:
    """The declared values of an input, for explanations (`kps` is 0..100 step 10)."""
    from compiler.types import value_text

    if inp.kind == "enum":
        return f"the values of `{inp.name}`: {', '.join(inp.values)}"
    parts = []
    if inp.low is not None and inp.high is not None and not inp.low_open \
            and not inp.high_open:
        parts.append(f"{value_text(inp.low)}..{value_text(inp.high)}")
    elif inp.low is not None or inp.high is not None:
        parts.append(inp.range_text)
    if inp.step is not None:
        parts.append(f"step {value_text(inp.step)}")
    return f"the range of `{inp.name}`: {inp.kind} {' '.join(parts)}".rstrip()
