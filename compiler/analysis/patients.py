"""Witness patients: input domains, the JSON form, readable rounded values and the pools of
candidate values."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from compiler import model as m
from compiler.analysis.gaps import _simple_cmp
from compiler.analysis.wording import WitnessError
from compiler.types import value_text


def _in_domain(inp: m.Input, v: m.Value) -> bool:
    if inp.kind == "boolean":
        return isinstance(v, bool)
    if inp.kind == "enum":
        return isinstance(v, str) and v in inp.values
    if inp.kind == "set":
        return isinstance(v, frozenset) and v <= set(inp.values)
    if not isinstance(v, Fraction):
        return False
    if not inp.in_range(v):
        return False
    if inp.kind in ("integer", "date", "datetime"):
        if v.denominator != 1:
            return False
        if inp.step is not None and (v - (inp.low or 0)) % inp.step != 0:
            return False
    return True


def _json_number(v: Fraction) -> int | float | None:
    if v.denominator == 1:
        return int(v)
    f = float(v)
    return f if Fraction(repr(f)) == v else None


def witness_json(model: m.Model, values: Mapping[str, m.Value]) -> dict[str, object]:
    """A patient as JSON-ready values: int, short decimal float, string, bool; unknown optional
    inputs omitted. Raises :class:`WitnessError` for a number JSON cannot carry exactly."""
    out: dict[str, object] = {}
    for name in model.inputs:
        v = values.get(name)
        if v is None:
            continue
        kind = model.inputs[name].kind
        if isinstance(v, Fraction) and kind in ("date", "datetime"):
            from compiler.units import moment_text

            out[name] = moment_text(int(v), kind == "datetime")
            continue
        if isinstance(v, Fraction):
            n = _json_number(v)
            if n is None:
                raise WitnessError(f"no short decimal for `{name}` = {v}")
            out[name] = n
        elif isinstance(v, frozenset):
            out[name] = [x for x in model.inputs[name].values if x in v]
        else:
            out[name] = v
    return out


def _digits(v: Fraction) -> tuple[int, int]:
    text = value_text(v).lstrip("-").replace(".", "").lstrip("0").rstrip("0") \
        if v.denominator != 1 else str(abs(v.numerator)).rstrip("0")
    return (0 if v.denominator == 1 else 1, len(text))


def _rounder(v: Fraction, inp: m.Input) -> list[Fraction]:
    """Rounder values near ``v`` (first the roundest) that the input allows."""
    cands: list[Fraction] = []
    for places in (-2, -1, 0, 1, 2, 3, 4, 6, 9, 12):
        c = Fraction(round(v, places))
        if c not in cands and c != v:
            cands.append(c)
    short = _json_number(v) is not None
    out = [c for c in cands if _in_domain(inp, c) and _json_number(c) is not None and
           (not short or _digits(c) < _digits(v))]
    return sorted(out, key=lambda c: (_digits(c), abs(c - v)))


def _pools(model: m.Model) -> dict[str, list[m.Value]]:
    """Candidate values per input: bounds, every constant it is compared with and its
    neighbours, every enum value, both booleans, and unknown for an optional input."""
    consts: dict[str, set[Fraction]] = {n: set() for n in model.inputs}

    def visit(e: m.Expr) -> None:
        simple = _simple_cmp(e)
        if simple is not None:
            consts[simple[0]].add(simple[2])
        if isinstance(e, (m.Cmp, m.Arith)):
            visit(e.left)
            visit(e.right)
        elif isinstance(e, (m.Scale, m.Not, m.Known, m.Member)):
            visit(e.operand)
        elif isinstance(e, (m.And, m.Or)):
            for o in e.operands:
                visit(o)
        elif isinstance(e, m.Derived):
            visit(e.meaning)
        elif isinstance(e, m.Points):
            for c in e.criteria:
                visit(c.condition)
        elif isinstance(e, m.LetRef) and e.name not in lets_seen:
            lets_seen.add(e.name)
            visit(e.expr)

    lets_seen: set[str] = set()
    for cond in _conditions(model):
        visit(cond.expr)
    pools: dict[str, list[m.Value]] = {}
    for name, inp in model.inputs.items():
        pool: list[m.Value]
        if inp.kind == "boolean":
            pool = [True, False]
        elif inp.kind == "enum":
            pool = list(inp.values)
        elif inp.kind == "set":
            # None present, each alone, all of them.
            pool = [frozenset(), *(frozenset({v}) for v in inp.values), frozenset(inp.values)]
        else:
            delta = inp.step or Fraction(1)
            raw = {inp.low, inp.high, Fraction(0)}
            for c in consts[name]:
                raw |= {c - delta, c, c + delta}
                if inp.kind == "number":
                    raw |= {c - Fraction(1, 2), c + Fraction(1, 2)}
            pool = [v for v in sorted(x for x in raw if x is not None) if _in_domain(inp, v)]
            if not pool:
                base = inp.low if inp.low is not None else (inp.high or Fraction(0))
                pool = [base] if _in_domain(inp, base) else []
        if inp.optional:
            pool = [*pool, None]
        pools[name] = pool if pool else [None]
    return pools


def _conditions(model: m.Model) -> list[m.Condition]:
    out: list[m.Condition] = [a.condition for a in model.assumptions]
    for node in model.pathway.nodes.values():
        if isinstance(node, m.Decision):
            out += [b.condition for b in node.branches]
        elif isinstance(node, m.Step):
            out += [s.condition for s in node.recommends if s.condition is not None]
    out += [r.condition for r in model.nevers if r.condition is not None]
    out += [r.condition for r in model.requires]
    return out
