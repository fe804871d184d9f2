"""Types: resolve the names of a syntax-tree expression and type it, giving a model expression.

Errors found here: an undefined name in a condition (E101), an enum compared with a number
(E201), a value its enum does not have (E202), a literal outside its input's range (E203) or
off its step (E204), a boolean used as a number or a number as a condition (E205), `is
recommended` outside a rule (E206), and comparisons that mix types (E207).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import assert_never

from compiler import model as m
from compiler import units
from compiler.names import Scope
from dsl import ast
from dsl.diagnostics import Diagnostic, error, suggestion, warning


class Resolver:
    """Turns ``ast.Expr`` into ``model.Expr`` for one guideline, collecting diagnostics."""

    def __init__(self, scope: Scope, inputs: dict[str, m.Input]) -> None:
        self.scope = scope
        self.inputs = inputs
        self.diags: list[Diagnostic] = []
        self.let_labels: dict[str, str] = {}
        self._lets: dict[str, m.LetRef | None] = {}

    # -- entry points
    def condition(self, expr: ast.Expr, allow_recommended: bool = False) -> m.Condition | None:
        """Resolve an expression used as a condition (it must be boolean)."""
        before = len(self.diags)
        e = self.expr(expr, allow_recommended)
        if e is None or any(d.is_error for d in self.diags[before:]):
            return None
        if e.type != "boolean":
            self.diags.append(error(
                "E205", f"this condition is a {self._type_words(e)}, not true or false",
                expr.span, hint="compare it, e.g. `kps >= 70`"))
            return None
        return m.Condition(e, to_text(e), to_words(e, self.inputs, self.let_labels), expr.span)

    def let(self, name: str) -> m.LetRef | None:
        """Resolve a let by name (memoised; None when its definition has errors)."""
        if name in self._lets:
            return self._lets[name]
        self._lets[name] = None  # guards against cycles, which names.py reports
        decl = self.scope.lets[name]
        e = self._points(decl.expr) if isinstance(decl.expr, ast.Points) else \
            self.expr(decl.expr, False)
        ref = m.LetRef.of(name, e, decl.name.span) if e is not None else None
        self._lets[name] = ref
        return ref

    # -- expressions
    def expr(self, e: ast.Expr, rec: bool) -> m.Expr | None:
        """Resolve and type one expression; None after an error."""
        if isinstance(e, ast.Name):
            return self._name(e)
        if isinstance(e, ast.Moment):
            return self._moment(e)
        if isinstance(e, ast.Elapsed):
            return self._elapsed(e, rec)
        if isinstance(e, ast.Number):
            if e.unit is not None and units.unit(e.unit) is None:
                self.diags.append(error(
                    "E211", f"'{e.unit}' is not a unit guidec knows", e.span,
                    hint=suggestion(e.unit, units.codes()) or
                    "see the units table in the language reference"))
                return None
            return m.Const(e.value, "number", e.span, e.unit)
        if isinstance(e, ast.Bool):
            return m.Const(e.value, "boolean", e.span)
        if isinstance(e, ast.Not):
            o = self._bool(e.operand, rec)
            return m.Not(o, e.span) if o is not None else None
        if isinstance(e, (ast.And, ast.Or)):
            ops = [self._bool(o, rec) for o in e.operands]
            if any(o is None for o in ops):
                return None
            cls = m.And if isinstance(e, ast.And) else m.Or
            return cls(tuple(o for o in ops if o is not None), e.span)
        if isinstance(e, ast.IsKnown):
            o = self.expr(e.operand, rec)
            return m.Known(o, e.known, e.span) if o is not None else None
        if isinstance(e, ast.IsRecommended):
            if not rec:
                self.diags.append(error(
                    "E206", "`is recommended` can only be used in a rule", e.span,
                    hint="use it in `never`, `require` or `caution` conditions"))
                return None
            if e.action.name not in self.scope.actions:
                self.diags.append(error(
                    "E103", f"there is no action named `{e.action.name}`", e.action.span,
                    hint=suggestion(e.action.name, self.scope.actions)))
                return None
            return m.Recommended(e.action.name, e.span)
        if isinstance(e, ast.In):
            return self._in(e, rec)
        if isinstance(e, ast.Compare):
            return self._compare(e, rec)
        if isinstance(e, ast.Arith):
            left = self._number(e.left, rec)
            right = self._number(e.right, rec)
            if left is None or right is None:
                return None
            if {self.unit_of(left), self.unit_of(right)} & {"date", "datetime"}:
                self.diags.append(error(
                    "E211", "dates are not added or subtracted", e.span,
                    hint="write `days between a and b` (or `hours between`) and compare it "
                         "with a duration, e.g. `< 14 days`"))
                return None
            agreed = self._same_unit(left, right, e.span)
            if agreed is None:
                return None
            return m.Arith(e.op, agreed[0], agreed[1], e.span)
        if isinstance(e, ast.Scale):
            o = self._number(e.operand, rec)
            return m.Scale(o, e.factor.value, e.span) if o is not None else None
        if isinstance(e, ast.Divide):
            return self._divide(e, rec)
        if isinstance(e, ast.Xor | ast.Implies):
            a, b = self._bool(e.left, rec), self._bool(e.right, rec)
            if a is None or b is None:
                return None
            return (xor if isinstance(e, ast.Xor) else implies)(a, b, e.span)
        if isinstance(e, ast.Between):
            return self._between(e, rec)
        if isinstance(e, ast.Has):
            return self._has(e, rec)
        if isinstance(e, ast.Points):
            self.diags.append(error(
                "E210", "a points score is written as a let of its own", e.span,
                hint='name it, e.g. `let curb65 "CURB-65 score" = points (1 if confusion, ...)`,'
                     " then compare it: `curb65 >= 3`"))
            return None
        raise TypeError(f"unexpected expression {type(e).__name__}")

    def _moment(self, e: ast.Moment) -> m.Expr | None:
        kind = "datetime" if e.with_time else "date"
        value = units.moment(e.text, e.with_time)
        low = units.moment(units.EARLIEST + ("T00:00" if e.with_time else ""), e.with_time)
        high = units.moment(units.LATEST + ("T23:59:59" if e.with_time else ""), e.with_time)
        assert low is not None and high is not None
        if value is None or not low <= value <= high:
            self.diags.append(error(
                "E203", f"{e.text} is outside the dates guidec takes ({units.EARLIEST} to "
                f"{units.LATEST})", e.span, hint="check the year"))
            return None
        return m.Const(Fraction(value), "number", e.span, kind, e.text)

    def _elapsed(self, e: ast.Elapsed, rec: bool) -> m.Expr | None:
        start, end = self._number(e.start, rec), self._number(e.end, rec)
        if start is None or end is None:
            return None
        kinds = {self.unit_of(start), self.unit_of(end)}
        if not kinds <= {"date", "datetime"} or (kinds == {"date"} and e.unit != "days"):
            self.diags.append(error(
                "E211", f"`{e.unit} between` takes two dates and times"
                + (" (or two dates, for `days`)" if e.unit == "days" else ""), e.span,
                hint="declare the inputs `datetime` (or `date`), e.g. the time of onset and "
                     "the time of assessment"))
            return None
        # A date beside a date and time counts from its midnight (UTC), in seconds.
        a, b = (x if kinds == {"date"} or self.unit_of(x) == "datetime"
                else m.Scale(x, Fraction(units.DAY_SECONDS), x.span) for x in (start, end))
        _, seconds = units.ELAPSED[e.unit]
        per = Fraction(1) if kinds == {"date"} else Fraction(1, seconds)
        meaning = m.Scale(m.Arith("-", b, a, e.span), per, e.span)
        return m.Derived(e.unit, (start, end), meaning, e.span)

    def _points(self, e: ast.Points) -> m.Points | None:
        criteria: list[m.Criterion] = []
        ok = True
        for p in e.items:
            before = len(self.diags)
            c = self.expr(p.condition, False)
            if c is not None and c.type != "boolean":
                self.diags.append(error(
                    "E210", f"a score counts conditions; this criterion is a "
                    f"{self._type_words(c)}", p.condition.span,
                    hint="compare it, e.g. `2 if age >= 75`"))
            if c is None or any(d.is_error for d in self.diags[before:]):
                ok = False
                continue
            if p.weight.value == 0:
                self.diags.append(error(
                    "E210", "a criterion scores 0 points, so it never counts", p.weight.span,
                    hint="give it its points, or remove it"))
                ok = False
                continue
            label = p.label if p.label is not None else \
                to_words(c, self.inputs, self.let_labels)
            criteria.append(m.Criterion(p.weight.value, c, label, p.span))
        return m.Points(tuple(criteria), e.span) if ok else None

    def _divide(self, e: ast.Divide, rec: bool) -> m.Expr | None:
        o = self._number(e.operand, rec)
        if not isinstance(e.divisor, ast.Number) or e.divisor.value == 0:
            what = "zero" if isinstance(e.divisor, ast.Number) else \
                f"`{_written(e.divisor)}`"
            self.diags.append(error(
                "E209", f"a quantity can be divided only by a number written here, not by "
                f"{what}", e.divisor.span,
                hint="a ratio of two inputs is not linear, so the solver could not prove the "
                     "pathway; compare `a > b * 2` instead of `a / b > 2`"
                if not isinstance(e.divisor, ast.Number) else "divide by a non-zero number"))
            return None
        if o is None:
            return None
        return divide(o, m.Const(e.divisor.value, "number", e.divisor.span), e.span)

    def _has(self, e: ast.Has, rec: bool) -> m.Expr | None:
        o = self.expr(e.operand, rec)
        if o is None:
            return None
        if not o.type.startswith("set:"):
            self.diags.append(error(
                "E207", "`has` needs a set input on its left", e.operand.span,
                hint="declare the input `set of a, b, c`; for a choice (enum) use `in (a, b)`"))
            return None
        if not self._declared(o, e.values):
            return None
        return has(o, e.mode, tuple(v.name for v in e.values), e.span)

    def _declared(self, o: m.Expr, listed: tuple[ast.Ident, ...]) -> bool:
        """Whether every listed name is a value of the enum or set ``o`` (E202 for each that
        is not)."""
        values = _enum_values(o.type)
        ok = True
        for v in listed:
            if v.name not in values:
                ok = False
                self.diags.append(error(
                    "E202", f"`{v.name}` is not a value of `{_owner(o)}`", v.span,
                    hint=suggestion(v.name, values) or f"its values are: {', '.join(values)}"))
        return ok

    def _between(self, e: ast.Between, rec: bool) -> m.Expr | None:
        low = self._compare(ast.Compare(e.span, ">=", e.operand, e.low), rec)
        high = self._compare(ast.Compare(e.span, "<=", e.operand, e.high), rec)
        if low is None or high is None:
            return None
        assert isinstance(low, m.Cmp) and isinstance(high, m.Cmp)
        if low.left.type != "number":
            self.diags.append(error(
                "E207", "`between` needs a number on its left", e.operand.span,
                hint="for a choice use `in (a, b)`"))
            return None
        return between(low.left, low.right, high.right, e.span)

    def _name(self, e: ast.Name) -> m.Expr | None:
        if e.name in self.inputs:
            inp = self.inputs[e.name]
            if inp.kind == "set":
                return m.InputRef(e.name, "set:" + inp.name + ":" + ",".join(inp.values), e.span)
            return m.InputRef(e.name, _enum_type(inp) if inp.kind == "enum" else inp.type,
                              e.span)
        if e.name in self.scope.lets:
            ref = self.let(e.name)
            if ref is None:
                return None
            return m.LetRef(ref.name, ref.expr, ref.type, e.span, ref.digest)
        hint = suggestion(e.name, self.scope.values())
        if hint is None:
            enum_owner = [i.name for i in self.inputs.values() if e.name in i.values]
            if enum_owner:
                hint = f"`{e.name}` is a value of `{enum_owner[0]}`: write " \
                       f"`{enum_owner[0]} == {e.name}`"
        self.diags.append(error("E101", f"there is no input or let named `{e.name}`", e.span,
                                hint=hint))
        return None

    def _bool(self, e: ast.Expr, rec: bool) -> m.Expr | None:
        r = self.expr(e, rec)
        if r is None:
            return None
        if r.type != "boolean":
            self.diags.append(error(
                "E205", f"a {self._type_words(r)} is used where a condition is needed", e.span,
                hint="compare it, e.g. `kps >= 70` or `egfr == mutant`"))
            return None
        return r

    def _number(self, e: ast.Expr, rec: bool) -> m.Expr | None:
        r = self.expr(e, rec)
        if r is None:
            return None
        if r.type != "number":
            code = "E205" if r.type == "boolean" else "E201"
            self.diags.append(error(
                code, f"a {self._type_words(r)} is used as a number", e.span,
                hint="only integer and number inputs take part in arithmetic"))
            return None
        return r

    def _type_words(self, e: m.Expr) -> str:
        if e.type.startswith("enum"):
            return "choice (enum)"
        if e.type.startswith("set:"):
            return "set of values"
        return {"boolean": "true/false value", "number": "number"}.get(e.type, e.type)

    def _enum_value(self, target: m.Expr, e: ast.Expr) -> m.Expr | None:
        """Resolve ``e`` as a value of the enum ``target`` (a bare name is a value)."""
        values = _enum_values(target.type)
        if isinstance(e, ast.Name) and e.name not in self.inputs and e.name not in self.scope.lets:
            if e.name in values:
                return m.Const(e.name, target.type, e.span)
            owner = _owner(target)
            self.diags.append(error(
                "E202", f"`{e.name}` is not a value of `{owner}`", e.span,
                hint=suggestion(e.name, values) or f"its values are: {', '.join(values)}"))
            return None
        if isinstance(e, ast.Name) and e.name in values and e.name in self.inputs:
            return m.Const(e.name, target.type, e.span)
        r = self.expr(e, False)
        if r is None:
            return None
        if r.type == "number":
            self.diags.append(error(
                "E201", f"`{_owner(target)}` is a choice, not a number", e.span,
                hint=f"compare it with one of its values: {', '.join(values)}"))
            return None
        if r.type != target.type:
            self.diags.append(error(
                "E207", f"`{_owner(target)}` cannot be compared with a {self._type_words(r)}",
                e.span, hint=f"its values are: {', '.join(values)}"))
            return None
        return r

    def _in(self, e: ast.In, rec: bool) -> m.Expr | None:
        o = self.expr(e.operand, rec)
        if o is None:
            return None
        if not o.type.startswith("enum"):
            self.diags.append(error(
                "E207", "`in (...)` needs a choice (enum) input on its left", e.operand.span,
                hint="for numbers use comparisons, e.g. `kps >= 70 and kps <= 90`"))
            return None
        if not self._declared(o, e.values):
            return None
        return m.Member(o, tuple(v.name for v in e.values), e.span)

    def _compare(self, e: ast.Compare, rec: bool) -> m.Expr | None:
        left_enum = self._enum_side(e.left)
        right_enum = self._enum_side(e.right)
        if left_enum is not None or right_enum is not None:
            if left_enum is not None:
                left = self.expr(e.left, rec)
                if left is None:
                    return None
                right = self._enum_value(left, e.right)
                op = e.op
            else:
                left = self.expr(e.right, rec)
                if left is None:
                    return None
                right = self._enum_value(left, e.left)
                op = m.SWAPPED[e.op]
            if right is None:
                return None
            if op not in ("==", "!="):
                self.diags.append(error(
                    "E201", f"a choice (enum) cannot be compared with `{e.op}`", e.span,
                    hint="use == or !=, or `in (a, b)`"))
                return None
            return m.Cmp(op, left, right, e.span)
        left = self.expr(e.left, rec)
        right = self.expr(e.right, rec)
        if left is None or right is None:
            return None
        if left.type.startswith("set:") or right.type.startswith("set:"):
            bad = left if left.type.startswith("set:") else right
            self.diags.append(error(
                "E207", f"`{_owner(bad)}` is a set of values: test it with `has`", e.span,
                hint=f"e.g. `{_owner(bad)} has {_enum_values(bad.type)[0]}` or "
                     f"`{_owner(bad)} has none of ({', '.join(_enum_values(bad.type)[:2])})`"))
            return None
        if left.type == "boolean" and right.type == "boolean":
            if e.op not in ("==", "!="):
                self.diags.append(error(
                    "E205", f"true/false values cannot be compared with `{e.op}`", e.span,
                    hint="use == or !=, or the condition itself"))
                return None
            return m.Cmp(e.op, left, right, e.span)
        if left.type != "number" or right.type != "number":
            bad = left if left.type != "number" else right
            self.diags.append(error(
                "E205", f"a {self._type_words(bad)} is compared with a number", bad.span,
                hint="compare numbers with numbers"))
            return None
        agreed = self._same_unit(left, right, e.span)
        if agreed is None:
            return None
        left, right = agreed
        self._check_literal(left, right, e.op)
        self._check_literal(right, left, m.SWAPPED[e.op])
        return m.Cmp(e.op, left, right, e.span)

    def unit_of(self, e: m.Expr) -> str | None:
        """The UCUM code of a numeric expression: an input's, a quantity's, or what its parts
        share (None: a plain number)."""
        if isinstance(e, m.InputRef):
            return self.inputs[e.name].ucum
        if isinstance(e, m.Const):
            return e.unit
        if isinstance(e, m.LetRef):
            return self.unit_of(e.expr)
        if isinstance(e, m.Arith):
            return self.unit_of(e.left) or self.unit_of(e.right)
        if isinstance(e, m.Scale):
            return self.unit_of(e.operand)
        if isinstance(e, m.Derived) and e.form == "divide":
            return self.unit_of(e.args[0])
        if isinstance(e, m.Derived) and e.form in units.ELAPSED:
            return units.ELAPSED[e.form][0]
        return None

    def _same_unit(self, left: m.Expr, right: m.Expr, span: ast.Span
                   ) -> tuple[m.Expr, m.Expr] | None:
        """Both sides of a comparison or a sum in one unit: a quantity literal is converted to
        the other side's unit (exactly, with the input's declared conversions); E211 when
        they do not convert, or a quantity meets a plain literal."""
        lu, ru = self.unit_of(left), self.unit_of(right)
        if lu == ru:
            return left, right
        if lu is not None and ru is not None:
            if isinstance(right, m.Const):
                converted = self._convert(right, left, lu)
                return (left, converted) if converted is not None else None
            if isinstance(left, m.Const):
                converted = self._convert(left, right, ru)
                return (converted, right) if converted is not None else None
            self.diags.append(error(
                "E211", f"{units.display(lu)} and {units.display(ru)} are compared or added "
                "as they are", span, hint="compare quantities in one unit"))
            return None
        plain, unit = (right, lu) if lu is not None else (left, ru)
        assert unit is not None
        if isinstance(plain, m.Const):
            self.diags.append(error(
                "E211", f"a quantity in {units.display(unit)} is compared with a number "
                "without a unit", plain.span,
                hint="write the unit: " + to_text(m.Const(plain.value, "number", plain.span,
                                                          unit))))
        else:
            self.diags.append(error(
                "E211", f"a quantity in {units.display(unit)} is compared with a number "
                "without a unit", span, hint="compare quantities of one kind"))
        return None

    def _convert(self, lit: m.Const, other: m.Expr, unit: str) -> m.Const | None:
        """The quantity ``lit`` in ``unit`` (the unit of ``other``)."""
        assert isinstance(lit.value, Fraction) and lit.unit is not None
        declared = self.inputs[other.name].conversions if isinstance(other, m.InputRef) else ()
        f = units.factor(lit.unit, unit, declared)
        if f is None:
            self.diags.append(error(
                "E211", f"{units.display(lit.unit)} does not convert to {units.display(unit)}",
                lit.span, hint=f"write the threshold in {units.display(unit)}" + (
                    f", or declare the substance's factor on the input: convert N "
                    f"'{lit.unit}'" if isinstance(other, m.InputRef) else "")))
            return None
        return m.Const(lit.value * f, "number", lit.span, unit, given=(lit.value, lit.unit))

    def _enum_side(self, e: ast.Expr) -> m.Input | None:
        if isinstance(e, ast.Name) and e.name in self.inputs:
            inp = self.inputs[e.name]
            return inp if inp.kind == "enum" else None
        if isinstance(e, ast.Name) and e.name in self.scope.lets:
            ref = self.let(e.name)
            if ref is not None and ref.type.startswith("enum"):
                return m.Input(e.name, e.name, "enum", True, values=_enum_values(ref.type))
        return None

    def _check_literal(self, side: m.Expr, lit: m.Expr, op: str) -> None:
        """A literal compared with an input must lie in its range and on its step."""
        if not isinstance(side, m.InputRef) or not isinstance(lit, m.Const):
            return
        inp = self.inputs[side.name]
        value = lit.value
        assert isinstance(value, Fraction)
        if inp.empty:
            return  # an empty range is already an error (E110)
        if not inp.in_range(value) and not (inp.low_open and value == inp.low and
                                            op in ("<=", ">")) and \
                not (inp.high_open and value == inp.high and op in (">=", "<")):
            rng = _range_words(inp)
            self.diags.append(error(
                "E203", f"{value_text(value)} is outside the range of `{inp.name}` ({rng})",
                lit.span, hint="the comparison is then always true or always false"))
        elif inp.step is not None and op in ("==", "!=") and \
                (value - (inp.low or 0)) % inp.step != 0:
            self.diags.append(error(
                "E204", f"`{inp.name}` takes steps of {value_text(inp.step)}: "
                f"{value_text(value)} is not one of its values", lit.span,
                hint=f"use a multiple of {value_text(inp.step)}"))
        elif inp.kind == "integer" and op in ("==", "!=") and value.denominator != 1:
            self.diags.append(error(
                "E204", f"`{inp.name}` is an integer: {value_text(value)} is not one of its "
                "values", lit.span, hint="use a whole number"))
        elif inp.typical is not None and not inp.typical[0] <= value <= inp.typical[1]:
            lo, hi = inp.typical
            unit = f" {inp.unit}" if inp.unit else ""
            self.diags.append(warning(
                "W201", f"{to_text(lit)} is outside the typical range of "
                f"`{inp.name}` "
                f"({value_text(lo)} to {value_text(hi)}{unit})", lit.span,
                hint="a threshold in another unit, or a typo? If the source names this "
                     "extreme, widen the typical range"))


# The derived forms and what each means (see :class:`compiler.model.Derived`).
def xor(a: m.Expr, b: m.Expr, span: ast.Span) -> m.Derived:
    """`a xor b`: ``a != b`` (Kleene: unknown when either is)."""
    return m.Derived("xor", (a, b), m.Cmp("!=", a, b, span), span)


def implies(a: m.Expr, b: m.Expr, span: ast.Span) -> m.Derived:
    """`a implies b`: ``not a or b``."""
    return m.Derived("implies", (a, b), m.Or((m.Not(a, span), b), span), span)


def between(x: m.Expr, low: m.Expr, high: m.Expr, span: ast.Span) -> m.Derived:
    """`x between low and high`: ``x >= low and x <= high``."""
    return m.Derived("between", (x, low, high),
                     m.And((m.Cmp(">=", x, low, span), m.Cmp("<=", x, high, span)), span), span)


def has(x: m.Expr, mode: str, values: tuple[str, ...], span: ast.Span) -> m.Expr:
    """`x has v` (mode ``one``): :class:`~compiler.model.Contains`; `x has any of (...)`,
    `none of`, `all of`: the disjunction, its negation, the conjunction of each value's."""
    each = [m.Contains(x, v, span) for v in values]
    if mode == "one":
        return each[0]
    meaning: m.Expr
    if mode == "all":
        meaning = m.And(tuple(each), span) if len(each) > 1 else each[0]
    else:
        meaning = m.Or(tuple(each), span) if len(each) > 1 else each[0]
        if mode == "none":
            meaning = m.Not(meaning, span)
    return m.Derived(mode, (x, *(m.Const(v, x.type, span) for v in values)), meaning, span)


def divide(x: m.Expr, k: m.Const, span: ast.Span) -> m.Derived:
    """`x / k` for a non-zero literal ``k``: ``x * (1/k)``."""
    assert isinstance(k.value, Fraction) and k.value != 0
    return m.Derived("divide", (x, k), m.Scale(x, 1 / k.value, span), span)


def _written(e: ast.Expr) -> str:
    from dsl.formatter import expr_text

    return expr_text(e)


def _enum_type(inp: m.Input) -> str:
    return "enum:" + inp.name + ":" + ",".join(inp.values)


def _enum_values(t: str) -> tuple[str, ...]:
    return tuple(t.split(":", 2)[2].split(",")) if t.startswith(("enum:", "set:")) else ()


def _owner(e: m.Expr) -> str:
    return e.type.split(":", 2)[1] if e.type.startswith(("enum:", "set:")) else "this choice"


def _range_words(inp: m.Input) -> str:
    return inp.range_text


def value_text(v: Fraction) -> str:
    """A number as an author writes it: 70, 0.5, 0.30000000000000004; a fraction only when it
    has no finite decimal form (it then came from arithmetic, not from a literal)."""
    if v.denominator == 1:
        return str(v.numerator)
    d = v.denominator
    places = 0
    for p in (2, 5):
        count = 0
        while d % p == 0:
            d //= p
            count += 1
        places = max(places, count)
    if d != 1:
        return f"{v.numerator}/{v.denominator}"
    scaled = abs(v.numerator) * 10**places // v.denominator
    digits = str(scaled).rjust(places + 1, "0")
    text = f"{digits[:-places]}.{digits[-places:]}".rstrip("0").rstrip(".")
    return ("-" if v < 0 else "") + text


# ----------------------------------------------------------------------------- text and words

_PREC = {"implies": 0.0, "or": 1.0, "xor": 1.5, "and": 2.0, "not": 3.0, "cmp": 4.0,
         "add": 5.0, "mul": 6.0, "atom": 7.0}
_DERIVED_PREC = {"implies": 0.0, "xor": 1.5, "between": 4.0, "divide": 6.0, "any": 4.0,
                 "none": 4.0, "all": 4.0, "minutes": 7.0, "hours": 7.0, "days": 7.0}


def _prec(e: m.Expr) -> float:
    if isinstance(e, m.Derived):
        return _DERIVED_PREC[e.form]
    if isinstance(e, m.Points):
        return _PREC["atom"]
    if isinstance(e, m.Or):
        return _PREC["or"]
    if isinstance(e, m.And):
        return _PREC["and"]
    if isinstance(e, m.Not):
        return _PREC["not"]
    if isinstance(e, (m.Cmp, m.Known, m.Member, m.Recommended, m.Contains)):
        return _PREC["cmp"]
    if isinstance(e, m.Arith):
        return _PREC["add"]
    if isinstance(e, m.Scale):
        return _PREC["mul"]
    return _PREC["atom"]


def to_text(e: m.Expr) -> str:
    """The expression in source syntax (lets by name), e.g. `kps == 70 and not x`."""

    def wrap(sub: m.Expr, level: float) -> str:
        t = to_text(sub)
        return f"({t})" if _prec(sub) < level else t

    if isinstance(e, m.InputRef | m.LetRef):
        return e.name
    if isinstance(e, m.Const):
        if e.written is not None:
            return e.written
        if isinstance(e.value, bool):
            return "true" if e.value else "false"
        if isinstance(e.value, Fraction):
            value, unit = e.given or (e.value, e.unit)
            if unit in _DURATION_WORDS:
                return f"{value_text(value)} {_DURATION_WORDS[unit]}"
            return value_text(value) + (f" '{unit}'" if unit else "")
        return e.value
    if isinstance(e, m.Not):
        return "not " + wrap(e.operand, _PREC["not"])
    if isinstance(e, m.And):
        return " and ".join(wrap(o, _PREC["and"] + 1) for o in e.operands)
    if isinstance(e, m.Or):
        return " or ".join(wrap(o, _PREC["or"] + 1) for o in e.operands)
    if isinstance(e, m.Cmp):
        return f"{wrap(e.left, _PREC['add'])} {e.op} {wrap(e.right, _PREC['add'])}"
    if isinstance(e, m.Arith):
        return f"{wrap(e.left, _PREC['add'])} {e.op} {wrap(e.right, _PREC['mul'])}"
    if isinstance(e, m.Scale):
        return f"{wrap(e.operand, _PREC['mul'])} * {value_text(e.factor)}"
    if isinstance(e, m.Known):
        return f"{wrap(e.operand, _PREC['add'])} is {'known' if e.known else 'unknown'}"
    if isinstance(e, m.Member):
        return f"{wrap(e.operand, _PREC['add'])} in ({', '.join(e.values)})"
    if isinstance(e, m.Recommended):
        return f"{e.action} is recommended"
    if isinstance(e, m.Derived):
        a = e.args
        if e.form == "xor":
            return f"{wrap(a[0], 2)} xor {wrap(a[1], 2)}"
        if e.form == "implies":
            return f"{wrap(a[0], 1)} implies {wrap(a[1], 1)}"
        if e.form == "between":
            return f"{wrap(a[0], 5)} between {wrap(a[1], 5)} and {wrap(a[2], 5)}"
        if e.form in ("any", "none", "all"):
            return f"{wrap(a[0], 5)} has {e.form} of ({', '.join(to_text(v) for v in a[1:])})"
        if e.form in ("minutes", "hours", "days"):
            return f"{e.form} between {wrap(a[0], 7)} and {wrap(a[1], 7)}"
        return f"{wrap(a[0], 7)} / {wrap(a[1], 7)}"
    if isinstance(e, m.Contains):
        return f"{wrap(e.operand, _PREC['add'])} has {e.value}"
    if isinstance(e, m.Points):
        return "points (" + ", ".join(
            f"{value_text(c.weight)} if {to_text(c.condition)}" for c in e.criteria) + ")"
    assert_never(e)


def _label(e: m.Expr, inputs: dict[str, m.Input]) -> str:
    if isinstance(e, m.InputRef):
        return inputs[e.name].label
    if isinstance(e, m.LetRef):
        return e.name.replace("_", " ")
    return to_words(e, inputs)


def _unit(e: m.Expr, inputs: dict[str, m.Input]) -> str:
    if isinstance(e, m.InputRef) and inputs[e.name].unit:
        return f" {inputs[e.name].unit}"
    return ""


_DURATION_WORDS = {"min": "minutes", "h": "hours", "d": "days", "wk": "weeks"}


def _quantity_words(c: m.Const) -> str | None:
    """A quantity as people print it (`90 mg/dL`, as written), or None for a plain number."""
    if c.unit is None:
        return None
    if c.written is not None:  # a date
        return c.written
    assert isinstance(c.value, Fraction)
    value, unit = c.given or (c.value, c.unit)
    if unit in _DURATION_WORDS:
        return f"{value_text(value)} {_DURATION_WORDS[unit]}"
    return f"{value_text(value)} {units.display(unit)}"


def _worded(e: m.And) -> list[m.Expr]:
    """The operands of a conjunction that its words say: `x is known and x == v` reads as
    `x: v`, since a value shown is a known one."""
    compared = {_subject(o) for o in e.operands if not isinstance(o, m.Known)}
    return [o for o in e.operands
            if not (isinstance(o, m.Known) and o.known and _subject(o) in compared)]


def _subject(e: m.Expr) -> str | None:
    """The input a comparison, membership or known-test is about (None for anything else)."""
    if isinstance(e, m.Cmp) and isinstance(e.left, m.InputRef) and isinstance(e.right, m.Const):
        return e.left.name
    if isinstance(e, m.Member | m.Known) and isinstance(e.operand, m.InputRef):
        return e.operand.name
    return None


def score_of(e: m.Expr) -> m.Points | None:
    """The points score an expression reads directly (a score's let), or None."""
    return e.expr if isinstance(e, m.LetRef) and isinstance(e.expr, m.Points) else None


def _band(e: m.Cmp, lets: dict[str, str]) -> str | None:
    """A score compared with a number, worded as the band of scores it picks (`CURB-65 score
    3–5`), as a committee's table prints it; None for anything else."""
    left, right, op = e.left, e.right, e.op
    if score_of(left) is None:
        left, right, op = right, left, m.SWAPPED[op]
    score = score_of(left)
    if score is None or not isinstance(right, m.Const) or not isinstance(right.value, Fraction) \
            or op == "!=" or not score.whole:
        return None
    assert isinstance(left, m.LetRef)
    c = right.value
    lo, hi = score.low, score.high
    if op == "==":
        lo = hi = c
    elif op in (">", ">="):
        lo = max(lo, Fraction(math.floor(c) + 1 if op == ">" else math.ceil(c)))
    else:
        hi = min(hi, Fraction(math.ceil(c) - 1 if op == "<" else math.floor(c)))
    name = lets.get(left.name) or left.name.replace("_", " ")
    if lo > hi:
        return f"{name}: no score"
    return f"{name} {value_text(Fraction(lo))}" if lo == hi else \
        f"{name} {value_text(Fraction(lo))}–{value_text(Fraction(hi))}"


def to_words(e: m.Expr, inputs: dict[str, m.Input], lets: dict[str, str] | None = None) -> str:
    """The expression in clinical words, from the inputs' labels (lets by their label)."""
    lets = lets or {}

    def sub(x: m.Expr, inner: bool = False) -> str:
        w = to_words(x, inputs, lets)
        if inner and (isinstance(x, m.Or) or (isinstance(x, m.And) and len(_worded(x)) > 1)):
            return f"({w})"
        return w

    def lower_first(s: str) -> str:
        # Mid-sentence a label loses its capital, unless it starts with an acronym (CSF, EGFR).
        if s.startswith("("):
            return "(" + lower_first(s[1:])
        return s[:1].lower() + s[1:] if s[:2] != s[:2].upper() else s

    def join(parts: list[str], word: str) -> str:
        return f" {word} ".join([parts[0], *(lower_first(p) for p in parts[1:])])

    if isinstance(e, m.InputRef):
        return inputs[e.name].label
    if isinstance(e, m.LetRef):
        return lets.get(e.name) or e.name.replace("_", " ")
    if isinstance(e, m.Const):
        return to_text(e).replace("_", " ")
    if isinstance(e, m.Not):
        if isinstance(e.operand, (m.InputRef, m.LetRef)):
            return "not " + lower_first(sub(e.operand))
        return "not (" + lower_first(sub(e.operand)) + ")"
    if isinstance(e, m.And):
        kept = _worded(e)
        if len(kept) == 1:
            return sub(kept[0])
        return join([sub(o, True) for o in kept], "and")
    if isinstance(e, m.Or):
        return join([sub(o, True) for o in e.operands], "or")
    if isinstance(e, m.Cmp):
        if e.left.type.startswith("enum") and isinstance(e.right, m.Const):
            value = str(e.right.value).replace("_", " ")
            if value == "unknown" and e.op == "!=":  # an enum's own `unknown` value
                return f"{_label(e.left, inputs)} known"
            return f"{_label(e.left, inputs)}: {value}" if e.op == "==" \
                else f"{_label(e.left, inputs)}: not {value}"
        if e.left.type == "boolean" and isinstance(e.right, m.Const):
            positive = (e.op == "==") == bool(e.right.value)
            return sub(e.left) if positive else "not " + lower_first(sub(e.left))
        band = _band(e, lets)
        if band is not None:
            return band
        op = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥"}.get(e.op, e.op)
        if isinstance(e.right, m.Const) and e.right.unit is not None:
            return f"{_label(e.left, inputs)} {op} {_quantity_words(e.right)}"
        unit = _unit(e.left, inputs)
        if isinstance(e.right, m.Const) and e.right.value == 1 and unit.endswith("s"):
            unit = unit[:-1]  # "1 month", not "1 months"
        return f"{_label(e.left, inputs)} {op} {_label(e.right, inputs)}{unit}"
    if isinstance(e, m.Known):
        return f"{_label(e.operand, inputs)} {'known' if e.known else 'unknown'}"
    if isinstance(e, m.Member):
        values = [v.replace("_", " ") for v in e.values]
        listed = ", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]
        return f"{_label(e.operand, inputs)}: {listed}"
    if isinstance(e, m.Arith):
        return f"{_label(e.left, inputs)} {e.op} {_label(e.right, inputs)}"
    if isinstance(e, m.Scale):
        return f"{value_text(e.factor)} × {_label(e.operand, inputs)}"
    if isinstance(e, m.Recommended):
        return f"{e.action.replace('_', ' ')} is recommended"
    if isinstance(e, m.Derived):
        a = e.args
        if e.form == "xor":
            return f"{sub(a[0], True)} or {lower_first(sub(a[1], True))}, not both"
        if e.form == "implies":
            return f"if {lower_first(sub(a[0], True))}, then {lower_first(sub(a[1], True))}"
        if e.form == "between":
            lo, hi = a[1], a[2]
            if isinstance(lo, m.Const) and isinstance(hi, m.Const) and lo.unit and hi.unit:
                low_words, high_words = _quantity_words(lo), _quantity_words(hi)
                assert low_words is not None and high_words is not None
                return f"{_label(a[0], inputs)} {low_words.rsplit(' ', 1)[0]}–{high_words}"
            unit = _unit(a[0], inputs)
            return f"{_label(a[0], inputs)} {_label(a[1], inputs)}–{_label(a[2], inputs)}{unit}"
        if e.form in ("any", "none", "all"):
            values = [str(v.value).replace("_", " ") for v in a[1:] if isinstance(v, m.Const)]
            word = {"any": " or ", "none": ", ", "all": " and "}[e.form]
            listed = ", ".join(values[:-1]) + word + values[-1] if len(values) > 1 \
                else values[0]
            return f"{_label(a[0], inputs)}: {'none of ' if e.form == 'none' else ''}{listed}"
        if e.form in ("minutes", "hours", "days"):
            return f"{e.form} from {lower_first(_label(a[0], inputs))} to " \
                   f"{lower_first(_label(a[1], inputs))}"
        return f"{_label(a[0], inputs)} ÷ {_label(a[1], inputs)}"
    if isinstance(e, m.Contains):
        return f"{_label(e.operand, inputs)}: {e.value.replace('_', ' ')}"
    if isinstance(e, m.Points):
        weights = {c.weight for c in e.criteria}
        if len(weights) == 1:
            w = weights.pop()
            return f"{value_text(w)} point{'' if w == 1 else 's'} each: " + \
                "; ".join(c.label for c in e.criteria)
        return "; ".join(f"{c.label} ({'+' if c.weight > 0 else ''}{value_text(c.weight)})"
                         for c in e.criteria)
    assert_never(e)
