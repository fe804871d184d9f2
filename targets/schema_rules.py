"""The guideline's assumptions as JSON Schema 2020-12, so that a schema-valid patient is one
the evaluator accepts.

An assumption rejects a patient when its condition is false (unknown passes), so the schema
says ``not`` (the condition is false) for each. :func:`false_for` and :func:`true_for` build,
in Kleene's logic, the patients for whom a condition is definitely false or true: ``and`` and
``or`` become ``allOf``/``anyOf``, an input's value a ``const`` or a bound, "unknown" an absent
or null key, an input's ``default`` what absence means. JSON Schema cannot compare two numeric
fields, or a date with another, or a value given with a unit after conversion: such a
condition gives None, and the schema then names the assumption in a ``$comment``, checked by
the evaluator only.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from fractions import Fraction
from functools import partial

from compiler import model as m

Schema = dict[str, object]

TRUE: Schema = {}
FALSE: Schema = {"not": {}}

_BOUND = {"<": "exclusiveMaximum", "<=": "maximum", ">": "exclusiveMinimum", ">=": "minimum"}


def true_for(e: m.Expr, model: m.Model) -> Schema | None:
    """The patients for whom ``e`` is true, or None when JSON Schema cannot say."""
    return _holds(e, model, True)


def false_for(e: m.Expr, model: m.Model) -> Schema | None:
    """The patients for whom ``e`` is false (not unknown), or None when JSON Schema cannot
    say."""
    return _holds(e, model, False)


def _any(parts: list[Schema]) -> Schema:
    parts = [p for p in parts if p != FALSE]
    if not parts:
        return FALSE
    if TRUE in parts:
        return TRUE
    return parts[0] if len(parts) == 1 else {"anyOf": parts}


def _all(parts: list[Schema]) -> Schema:
    parts = [p for p in parts if p != TRUE]
    if FALSE in parts:
        return FALSE
    if not parts:
        return TRUE
    return parts[0] if len(parts) == 1 else {"allOf": parts}


def _given(name: str, value: Schema) -> Schema:
    """The key is present, not null, and its value matches ``value`` (which, when it says
    anything, never matches null)."""
    return {"required": [name],
            "properties": {name: {"not": {"type": "null"}} if value == TRUE else value}}


def _missing(name: str) -> Schema:
    """The key is absent or null."""
    return {"not": _given(name, TRUE)}


def _with_default(inp: m.Input, when_given: Schema, default_holds: bool | None) -> Schema:
    """``when_given`` for a present value, and for an absent one what its default makes the
    condition (None: unknown, no default)."""
    if default_holds:
        return _any([when_given, _missing(inp.name)])
    return when_given


def _holds(e: m.Expr, model: m.Model, want: bool) -> Schema | None:
    if isinstance(e, m.Const) and isinstance(e.value, bool):
        return TRUE if e.value == want else FALSE
    if isinstance(e, m.LetRef):
        return _holds(e.expr, model, want)
    if isinstance(e, m.Derived):
        return _holds(e.meaning, model, want)
    if isinstance(e, m.Not):
        return _holds(e.operand, model, not want)
    if isinstance(e, m.And | m.Or):
        parts = [_holds(o, model, want) for o in e.operands]
        if any(p is None for p in parts):
            return None
        every = isinstance(e, m.And) == want  # true and, false or: every operand must
        return _all(parts) if every else _any(parts)  # type: ignore[arg-type]
    if isinstance(e, m.Known):
        if not isinstance(e.operand, m.InputRef):
            return None
        inp = model.inputs[e.operand.name]
        if inp.default is not None:  # never unknown
            return TRUE if e.known == want else FALSE
        known = _given(inp.name, TRUE)
        return known if e.known == want else _missing(inp.name)
    if isinstance(e, m.InputRef) and e.type == "boolean":
        return _values(model.inputs[e.name], lambda v: v is want)
    if isinstance(e, m.Member) and isinstance(e.operand, m.InputRef):
        return _values(model.inputs[e.operand.name], lambda v: (v in e.values) == want)
    if isinstance(e, m.Contains) and isinstance(e.operand, m.InputRef):
        inp = model.inputs[e.operand.name]
        has: Schema = {"contains": {"const": e.value}}
        when = _given(inp.name, {"type": "array", **(has if want else {"not": has})})
        default = None if inp.default is None else (
            isinstance(inp.default, frozenset) and e.value in inp.default) == want
        return _with_default(inp, when, default)
    if isinstance(e, m.Cmp):
        return _cmp(e, model, want)
    return None


def _values(inp: m.Input, ok: Callable[[object], bool]) -> Schema | None:
    """A boolean or enum input whose value ``ok`` accepts (its default, when absent)."""
    if inp.kind == "boolean":
        values: list[object] = [True, False]
    elif inp.kind == "enum":
        values = list(inp.values)
    else:
        return None
    chosen = [v for v in values if ok(v)]
    when = _given(inp.name, {"enum": chosen}) if chosen else FALSE
    default = None if inp.default is None else ok(inp.default)
    return _with_default(inp, when, default)


def _cmp(e: m.Cmp, model: m.Model, want: bool) -> Schema | None:
    op = e.op if want else m.NEGATED[e.op]
    left, right = e.left, e.right
    if isinstance(left, m.Const) and isinstance(right, m.InputRef):
        left, right, op = right, left, m.SWAPPED[op]
    if not isinstance(left, m.InputRef):
        return None
    inp = model.inputs[left.name]
    if isinstance(right, m.Const):
        if inp.kind in ("boolean", "enum"):
            return _values(inp, lambda v: m.COMPARISONS[op](v, right.value))
        if inp.kind not in ("integer", "number") or inp.ucum is not None or \
                not isinstance(right.value, Fraction):
            return None  # a date is text; a value with a unit converts first
        c = right.value
        bound = _number(c)
        if op in _BOUND:
            when = _given(inp.name, {"type": "number", _BOUND[op]: bound})
        elif op == "==":
            when = _given(inp.name, {"type": "number", "const": bound})
        else:
            when = _given(inp.name, {"type": "number", "not": {"const": bound}})
        default = None if not isinstance(inp.default, Fraction) else \
            m.COMPARISONS[op](inp.default, c)
        return _with_default(inp, when, default)
    if isinstance(right, m.InputRef):
        other = model.inputs[right.name]
        if inp.kind not in ("boolean", "enum") or other.kind not in ("boolean", "enum"):
            return None  # JSON Schema cannot compare two numbers, or two dates
        pairs = []
        for u in _domain(inp):
            for v in _domain(other):
                if m.COMPARISONS[op](u, v):
                    a = _values(inp, partial(operator.eq, u))
                    b = _values(other, partial(operator.eq, v))
                    assert a is not None and b is not None
                    pairs.append(_all([a, b]))
        return _any(pairs)
    return None


def _domain(inp: m.Input) -> list[object]:
    return [True, False] if inp.kind == "boolean" else list(inp.values)


def _number(v: Fraction) -> int | float:
    return v.numerator if v.denominator == 1 else float(v)


def assumption_rules(model: m.Model) -> tuple[list[Schema], list[m.Assumption]]:
    """``not`` (the assumption is false) for each assumption JSON Schema can state, and the
    assumptions it cannot."""
    rules: list[Schema] = []
    left: list[m.Assumption] = []
    for a in model.assumptions:
        broken = false_for(a.condition.expr, model)
        if broken is None:
            left.append(a)
            continue
        rule: Schema = {"$comment": f"{a.rule}: {a.text or a.condition.words}",
                        "not": broken}
        rules.append(rule)
    return rules, left


# A calendar date from 1900 to 2200 (leap days included), as a regular expression: JSON Schema's
# "format" is only an annotation unless a validator opts in, and the evaluator takes a date
# and time without seconds, which RFC 3339's date-time does not.
_YEAR = r"(?:19\d\d|20\d\d|21\d\d|2200)"
_LEAP = r"(?:(?:19|20|21)(?:0[48]|[2468][048]|[13579][26])|2000)"
_DAY = (r"(?:" + _YEAR + r"-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])"
        r"|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8]))"
        r"|" + _LEAP + r"-02-29)")
_TIME = r"T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?"


def moment_pattern(with_time: bool) -> str:
    """The text of a date (or a date and time) the evaluator takes, as a JSON Schema
    ``pattern``: the calendar from 1900 to 2200 in the ISO 8601 forms of
    ``compiler.units.ISO_FORMS``. (A UTC offset that moves a time across 1900-01-01 or
    2200-12-31 is the one case the evaluator refuses and this allows.)"""
    return "^" + _DAY + (_TIME if with_time else "") + "$"
