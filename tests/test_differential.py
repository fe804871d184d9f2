"""Differential test: the generated evaluator and the reference interpreter agree.

For random patients (mostly valid, sometimes with unknown optional inputs, sometimes with
invalid values or keys) both return the same ``to_dict()``, or both refuse the patient with the
same problem list. 10,000 patients for the flagship, 500 for every other guideline and fixture
that checks clean. Numbers are drawn around every constant of the guideline (the value itself,
its float neighbours, integral floats) so that exactness at thresholds is exercised.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import interpreter as it
from compiler import model as m
from compiler.pipeline import check_file
from targets.python import load
from tests.guides import buildable

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"
OTHERS = [p for p in buildable(analyzed=True) if p != FLAGSHIP]

ABSENT = object()


@cache
def subject(path: Path) -> tuple[m.Model, Any, tuple[Fraction, ...]]:
    """The model (when the guideline checks clean), its compiled module and its constants."""
    model = check_file(path).model
    assert model is not None, f"{path.name} does not check clean"
    return model, load(model), constants(model)


def constants(model: m.Model) -> tuple[Fraction, ...]:
    """Every number the guideline compares with, bounds and steps included."""
    found: set[Fraction] = set()

    def visit(e: m.Expr) -> None:
        if isinstance(e, m.Const) and isinstance(e.value, Fraction):
            found.add(e.value)
        elif isinstance(e, m.Scale):
            found.add(e.factor)
            visit(e.operand)
        elif isinstance(e, m.LetRef):
            visit(e.expr)
        elif isinstance(e, m.Cmp | m.Arith):
            visit(e.left)
            visit(e.right)
        elif isinstance(e, m.Not | m.Known | m.Member):
            visit(e.operand)
        elif isinstance(e, m.And | m.Or):
            for o in e.operands:
                visit(o)
        elif isinstance(e, m.Points):
            for c in e.criteria:
                visit(c.condition)
        elif isinstance(e, m.Derived):
            visit(e.meaning)
            if e.form == "divide":  # the quotient's own boundary: x / k == c at x = c * k
                found.update(c * k for c in found.copy() for k in
                             [a.value for a in e.args[1:] if isinstance(a, m.Const)
                              and isinstance(a.value, Fraction)])

    exprs: list[m.Expr] = [a.condition.expr for a in model.assumptions]
    exprs += [c.condition.expr for c in model.cautions]
    for node in model.pathway.nodes.values():
        if isinstance(node, m.Step):
            exprs += [s.condition.expr for s in node.recommends if s.condition]
        elif isinstance(node, m.Decision):
            exprs += [b.condition.expr for b in node.branches]
    for e in exprs:
        visit(e)
    for inp in model.inputs.values():
        found.update(x for x in (inp.low, inp.high, inp.step) if x is not None)
    return tuple(sorted(found))


def _number(rnd: random.Random, inp: m.Input, consts: tuple[Fraction, ...]) -> object:
    low = inp.low if inp.low is not None else Fraction(-1000)
    high = inp.high if inp.high is not None else Fraction(1000)
    r = rnd.random()
    if inp.kind == "integer":
        step = inp.step or Fraction(1)
        base = inp.low or Fraction(0)
        if r < 0.5 and consts:
            c = rnd.choice(consts)
            k = math.floor((c - base) / step) + rnd.choice((-1, 0, 0, 1))
            v = base + k * step
        else:
            count = int((high - low) / step)
            v = low + rnd.randint(0, max(count, 0)) * step
        v = min(max(v, low), high)
        n = int(v)
        return float(n) if rnd.random() < 0.05 else n
    if r < 0.55 and consts:
        c = rnd.choice(consts)
        f = float(c)
        pick = rnd.random()
        if pick < 0.4:
            out: float | int = int(c) if c.denominator == 1 and rnd.random() < 0.5 else f
        elif pick < 0.7:
            out = math.nextafter(f, math.inf if rnd.random() < 0.5 else -math.inf)
        else:
            out = f + rnd.choice((-1, 1)) * rnd.choice((0.5, 0.1, 1e-9, 1, 3))
    elif r < 0.8:
        out = rnd.uniform(float(low), float(high))
    else:
        out = rnd.randint(int(low), int(high))
    if float(out) < low or float(out) > high:
        out = float(low) if rnd.random() < 0.5 else float(high)
    return out


INVALID_VALUES: tuple[object, ...] = (True, False, "80", "", 80.5, -1e9, 1e9, math.nan,
                                      math.inf, -math.inf, [], {}, [1], None, 0.1)


def _value(rnd: random.Random, inp: m.Input, consts: tuple[Fraction, ...]) -> object:
    if inp.may_be_absent and rnd.random() < 0.2:
        return ABSENT if rnd.random() < 0.5 else None
    if inp.kind == "boolean":
        return rnd.random() < 0.5
    if inp.kind == "enum":
        return rnd.choice(inp.values)
    if inp.kind == "set":
        return [v for v in inp.values if rnd.random() < 0.4]
    if inp.kind in ("date", "datetime"):
        # Near one another (a durations' thresholds are hours or days), sometimes anywhere.
        from compiler.units import moment, moment_text
        with_time = inp.kind == "datetime"
        anchor = moment("2026-12-04T08:00" if with_time else "2026-12-04", with_time)
        assert anchor is not None
        when = anchor + (rnd.randint(-40, 40) * 900 if with_time else rnd.randint(-30, 30))
        if rnd.random() < 0.1:
            when = int(_number(rnd, inp, consts))  # type: ignore[call-overload]
        return moment_text(when, with_time)
    value = _number(rnd, inp, consts)
    if inp.ucum is not None and rnd.random() < 0.25 and isinstance(value, int | float):
        # The same value given in another unit the input accepts.
        code, factor = rnd.choice(inp.accepted_units())
        given = Fraction(repr(value)) / factor
        shown = int(given) if given.denominator == 1 else float(given)
        return {"value": shown, "unit": code}
    return value


def _invalid(rnd: random.Random, inp: m.Input) -> object:
    if inp.kind in ("date", "datetime") and rnd.random() < 0.6:
        return rnd.choice(("2026-02-30", "2026-12-04T25:00", "2026-12-04 10:00", "1850-01-01",
                           "04/12/2026", "2026-12-04T10:00" if inp.kind == "date" else
                           "2026-12-04", 20261204))
    if inp.kind == "set" and rnd.random() < 0.5:
        return rnd.choice(([inp.values[0], inp.values[0]], [inp.values[0] + "x"], "x", {}))
    if inp.ucum is not None and rnd.random() < 0.5:
        return rnd.choice(({"value": 1, "unit": inp.ucum.lower() + "x"}, {"value": "1",
                           "unit": inp.ucum}, {"value": 1}, {"value": 1, "unit": 5}))
    if inp.kind == "enum" and rnd.random() < 0.5:
        v = rnd.choice(inp.values)
        return rnd.choice((v.upper(), v[:-1], v + "s", " " + v))
    if inp.kind == "integer" and inp.step is not None and rnd.random() < 0.3:
        return int((inp.low or 0) + inp.step / 2) if inp.step > 1 else 0.5
    return rnd.choice(INVALID_VALUES)


def patient(rnd: random.Random, model: m.Model, consts: tuple[Fraction, ...]) -> dict[str, Any]:
    """A random patient: three times in four a valid one (drawn again until it meets the
    assumptions), else one with one to three invalid values or keys."""
    def draw() -> dict[str, Any]:
        return {name: _value(rnd, inp, consts) for name, inp in model.inputs.items()}

    p = draw()
    names = list(model.inputs)
    if rnd.random() < 0.75:
        for _ in range(40):
            values = _values(model, p)
            if values is not None and not any(
                    it.evaluate_expr(a.condition.expr, values) is False
                    for a in model.assumptions):
                break
            p = draw()
        return {k: v for k, v in p.items() if v is not ABSENT}
    out = {k: v for k, v in p.items() if v is not ABSENT}
    for _ in range(rnd.randint(1, 3)):
        r = rnd.random()
        if r < 0.15 and names:
            name = rnd.choice(names)
            out[name[:-1] or "x" if rnd.random() < 0.5 else name + "_x"] = 1
        elif r < 0.25 and out:
            del out[rnd.choice(list(out))]
        elif names:
            name = rnd.choice(names)
            out[name] = _invalid(rnd, model.inputs[name])
    return out


def _values(model: m.Model, p: dict[str, Any]) -> dict[str, m.Value] | None:
    try:
        return it.validate(model, {k: v for k, v in p.items() if v is not ABSENT})
    except it.InvalidPatient:
        return None


def agree(model: m.Model, module: Any, p: dict[str, Any]) -> str:
    """Assert both sides agree on ``p``; returns "valid" or "invalid"."""
    try:
        outcome = it.evaluate(model, p)
    except it.InvalidPatient as exc:
        with pytest.raises(module.InvalidPatient) as info:
            module.evaluate(p)
        assert [(x.key, x.message) for x in info.value.problems] == \
            [(x.key, x.message) for x in exc.problems], p
        return "invalid"
    if outcome.stuck:
        with pytest.raises(module.Stuck) as stuck:
            module.evaluate(p)
        assert stuck.value.decision in [s["decision"] for s in outcome.stuck]
        return "valid"
    assert module.evaluate(p).to_dict() == outcome.to_dict(), p
    return "valid"


FAST = settings(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_flagship_10000_patients() -> None:
    model, module, consts = subject(FLAGSHIP)
    seen = {"valid": 0, "invalid": 0}

    @settings(FAST, max_examples=10_000)
    @given(st.integers(0, 2**64))
    def check(seed: int) -> None:
        p = patient(random.Random(seed), model, consts)
        seen[agree(model, module, p)] += 1

    check()
    assert seen["valid"] + seen["invalid"] >= 10_000
    assert seen["valid"] > 4_000 and seen["invalid"] > 500, seen


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_other_guidelines_500_patients(path: Path) -> None:
    model, module, consts = subject(path)
    seen = {"valid": 0, "invalid": 0}

    @settings(FAST, max_examples=500)
    @given(st.integers(0, 2**64))
    def check(seed: int) -> None:
        p = patient(random.Random(seed), model, consts)
        seen[agree(model, module, p)] += 1

    check()
    assert seen["valid"] > 100, seen


@pytest.mark.parametrize("value,expected", [
    (0.1, True), (0.1000000000000000055511151231257827, True), (0.30000000000000004, True),
    (math.nextafter(0.1, 1), False), (-0.5, True), (-0.49999999999999994, False),
])
def test_float_equality_at_decimal_thresholds(value: float, expected: bool) -> None:
    """`ratio == 0.1` holds for the float 0.1 (its shortest decimal is 0.1), not for its
    neighbour; both sides agree."""
    model, module, _ = subject(ROOT / "tests" / "fixtures" / "eval" / "numbers.guide")
    p = {"weight": 50, "age": 40, "score": 15, "ratio": value, "big": 0, "flag": False}
    if value == 0.30000000000000004:
        p = {**p, "ratio": 0.5, "tiny": value}
        expected = False
    d = module.evaluate(p).to_dict()
    assert d == it.evaluate(model, p).to_dict()
    assert ("a" in [r["id"] for r in d["recommendations"]]) is expected
