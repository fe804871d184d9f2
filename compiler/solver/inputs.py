"""The solver variables of an input, and the values its declarations allow: one statement for
the analysis of one guideline and for the diff of two versions (an input keeps its name across
versions; a patient both must accept is one assignment)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import z3

from compiler import model as m
from compiler.solver.terms import InputVars, Terms, Z


@dataclass(frozen=True, slots=True)
class Declared:
    """An input's variables, the constraints its declarations put on a known value (each
    declaration's), and an enum's values numbered by their union (in order of appearance)."""

    vars: InputVars
    domain: tuple[Z, ...]
    enum_values: tuple[str, ...]


def declare(terms: Terms, name: str, decls: Sequence[m.Input]) -> Declared:
    """The variables of the input ``name`` as ``decls`` declare it (one declaration, or one
    per version). ``known`` is ``terms.TRUE`` when a declaration requires the input (a patient
    every version accepts then gives it); declarations of different numeric kinds make a real,
    kept whole where a declaration is an integer."""
    ctx = terms.ctx
    kinds = {d.kind for d in decls}
    kind = decls[0].kind if len(kinds) == 1 else "number"
    known = terms.TRUE if not all(d.optional for d in decls) else \
        z3.Bool(f"known!{name}", ctx)
    dom: list[Z] = []
    values: list[str] = []
    if kind == "boolean":
        value = z3.Bool(f"in!{name}", ctx)
    elif kind == "set":
        # One Boolean per value (by name: two versions share a value's variable).
        for d in decls:
            values.extend(v for v in d.values if v not in values)
        value = {v: z3.Bool(f"in!{name}!{v}", ctx) for v in values}
        for d in decls:
            dom.extend(terms.neg(value[v]) for v in values if v not in d.values)
    elif kind == "enum":
        for d in decls:
            values.extend(v for v in d.values if v not in values)
        value = z3.Int(f"in!{name}", ctx)
        for d in decls:
            if list(d.values) == values[:len(d.values)]:
                dom += [value >= 0, value < len(d.values)]
            else:
                dom.append(terms.disj(*(value == values.index(v) for v in d.values)))
    else:
        # Dates are whole days and dates and times whole seconds, like integers.
        whole = ("integer", "date", "datetime")
        value = (z3.Int if kind in whole else z3.Real)(f"in!{name}", ctx)
        for i, d in enumerate(decls):
            if d.low is not None:
                dom.append(value > terms.num(d.low) if d.low_open else value >= terms.num(d.low))
            if d.high is not None:
                dom.append(value < terms.num(d.high) if d.high_open else
                           value <= terms.num(d.high))
            if d.kind == "integer" and d.step is not None and d.step != 1:
                k = z3.Int(f"step!{name}" + (f"!{i}" if i else ""), ctx)
                dom.append(value == terms.num(d.low or Fraction(0)) + terms.num(d.step) * k)
            elif d.kind in whole and kind not in whole:
                dom.append(z3.IsInt(value))
    return Declared(InputVars(decls[0], value, known), tuple(dom), tuple(values))
