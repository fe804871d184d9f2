"""Lowering: the syntax tree and its scope become the checked :class:`~compiler.model.Model`.

Also checks what only makes sense while lowering: header fields (E108), kinds of actions and
references (E109), input declarations (E110), patient and case values (E208), and evidence:
every action and rule cites a reference (E301, a warning while the status is draft).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from fractions import Fraction
from typing import Any

from compiler import model as m
from compiler import units
from compiler.names import Scope
from compiler.types import Resolver, to_words, value_text
from dsl import ast
from dsl.diagnostics import Diagnostic, Severity, error, suggestion, warning

_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,7}")


class Lowerer:
    """Builds the model; collects diagnostics in ``diags``."""

    def __init__(self, g: ast.Guideline, scope: Scope, source: str) -> None:
        self.g = g
        self.scope = scope
        self.source = source
        self.diags: list[Diagnostic] = []
        self.inputs = {name: self._input(i) for name, i in scope.inputs.items()}
        self.resolver = Resolver(scope, self.inputs)
        self.resolver.let_labels = {n: (lt.label or n.replace("_", " "))
                                    for n, lt in scope.lets.items()}
        self.draft = False

    # -- header
    def meta(self) -> m.Meta:
        h = self.g.header
        status = h.status.name if h.status is not None else "draft"
        if h.status is not None and status not in m.STATUSES:
            self.diags.append(error(
                "E108", f"`{status}` is not a status", h.status.span,
                hint=suggestion(status, m.STATUSES) or "use draft, under_review or approved"))
        self.draft = status == "draft"
        missing = [f for f in ("version", "updated", "owner") if getattr(h, f) is None]
        if missing:
            self.diags.append(error(
                "E108", f"the guideline header lacks {', '.join(missing)}", h.name.span,
                hint="add e.g. `version 1.0.0`, `updated 2026-01-24`, `owner \"Committee\"`"))
        if h.status is None:
            self.diags.append(error(
                "E108", "the guideline header lacks a status", h.name.span,
                hint="add `status draft`, `status under_review` or `status approved`"))
        return m.Meta(h.name.name, h.title, h.version or "0.0.0", status, h.updated or "",
                      h.owner or "", h.scope, h.disclaimer, h.source, h.banner)

    # -- evidence
    def _cites(self, idents: tuple[ast.Ident, ...], what: str, span: ast.Span) -> tuple[str, ...]:
        if not idents:
            sev = Severity.WARNING if self.draft else Severity.ERROR
            self.diags.append(Diagnostic(
                "E301", sev, f"{what} cites no reference", span,
                hint="add `cite <reference>`; a committee resolution is a reference of kind "
                     "`consensus`"))
        return tuple(i.name for i in idents)

    def _reference_label(self, r: ast.Reference, number: int) -> str:
        """The printed label: the author's, when well formed, else the number."""
        if r.label is None:
            return str(number)
        if not _LABEL.fullmatch(r.label):
            self.diags.append(error(
                "E111", f"the label {json.dumps(r.label)} of reference `{r.name.name}` is not a "
                "citation label", r.label_at or r.span,
                hint="use 1-8 letters, digits or '-', starting with a letter or digit, "
                "e.g. `label \"C1\"`"))
            return str(number)
        return r.label

    def _check_labels(self, g: ast.Guideline, refs: dict[str, m.Reference]) -> None:
        """Each printed label cites one reference: no two alike, and no author's label that
        reads as another reference's number."""
        decl = {r.name.name: r for r in g.items if isinstance(r, ast.Reference)}
        seen: dict[str, str] = {}
        numbers = {str(ref.number): rid for rid, ref in refs.items()}
        for rid, ref in refs.items():
            at = decl[rid].label_at or decl[rid].span
            other = numbers.get(ref.label)
            if decl[rid].label is not None and other is not None and other != rid \
                    and refs[other].label == str(refs[other].number):
                self.diags.append(error(
                    "E113", f"the label {json.dumps(ref.label)} of reference `{rid}` is the "
                    f"number reference `{other}` is cited by", at,
                    hint=f"label `{other}` too, or choose a label that is not a number in use"))
            elif ref.label in seen:
                self.diags.append(error(
                    "E112", f"reference `{rid}` is labelled {json.dumps(ref.label)}, like "
                    f"reference `{seen[ref.label]}`", at,
                    hint="give each reference its own label"))
            seen.setdefault(ref.label, rid)

    def _note(self, n: ast.Note) -> m.Note:
        return m.Note(n.text, tuple(c.name for c in n.citations), n.span)

    # -- inputs
    def _input(self, i: ast.Input) -> m.Input:
        inp = self._with_default(i, self._typed_input(i))
        t = i.type
        if not isinstance(t, ast.IntegerType | ast.NumberType) or t.typical_low is None \
                or t.typical_high is None:
            return inp
        lo, hi = t.typical_low.value, t.typical_high.value
        if lo > hi or not inp.in_range(lo) or not inp.in_range(hi) or (
                inp.kind == "integer" and (lo.denominator != 1 or hi.denominator != 1)):
            self.diags.append(error(
                "E110", f"the typical range of `{inp.name}` ({t.typical_low.text}.."
                f"{t.typical_high.text}) is not a range of its values ({inp.range_text})",
                t.typical_low.span, hint="write typical LOW..HIGH inside the input's range"))
            return inp
        return dataclasses.replace(inp, typical=(lo, hi))

    def _with_default(self, i: ast.Input, inp: m.Input) -> m.Input:
        if i.default is None:
            return inp
        if not i.optional:
            self.diags.append(error(
                "E110", f"`{inp.name}` is required, so it has no default", i.default.span,
                hint="a default says what absence means: write `optional` before the type"))
            return inp
        ok, _ = self._value(ast.Assignment(i.default.span, i.name, i.default), inp)
        if not ok:
            return inp
        d = i.default
        default: bool | Fraction | str | frozenset[str] = \
            d.value if isinstance(d, ast.Number | ast.Bool) else \
            frozenset(x.name for x in d.values) if isinstance(d, ast.SetValue) else d.name
        if isinstance(d, ast.Number) and d.unit is not None:
            per = inp.per_unit(d.unit)
            assert per is not None  # _value checked it
            default = d.value * per
        return dataclasses.replace(inp, optional=False, default=default)

    def _typed_input(self, i: ast.Input) -> m.Input:
        t = i.type
        name = i.name.name
        if isinstance(t, ast.BooleanType):
            return m.Input(name, i.label, "boolean", i.optional, span=i.span)
        if isinstance(t, ast.DateType):
            kind = "datetime" if t.with_time else "date"
            first = units.moment(units.EARLIEST + ("T00:00" if t.with_time else ""),
                                 t.with_time)
            last = units.moment(units.LATEST + ("T23:59:59" if t.with_time else ""),
                                t.with_time)
            assert first is not None and last is not None
            return m.Input(name, i.label, kind, i.optional, Fraction(first), Fraction(last),
                           ucum=kind)
        if isinstance(t, ast.EnumType | ast.SetType):
            kind = "enum" if isinstance(t, ast.EnumType) else "set"
            values: list[str] = []
            for v in t.values:
                if v.name in values:
                    self.diags.append(error("E110", f"the value `{v.name}` is listed twice",
                                            v.span, hint="list each value once"))
                else:
                    values.append(v.name)
            return m.Input(name, i.label, kind, i.optional, values=tuple(values), span=i.span)
        low = t.low.value if t.low is not None else None
        high = t.high.value if t.high is not None else None
        if low is not None and high is not None and (
                low > high or (low == high and (t.low_open or t.high_open))):
            shown = f"{value_text(low)} > {value_text(high)}" if low > high else \
                m.Input(name, "", "number", False, low, high, low_open=t.low_open,
                        high_open=t.high_open).range_text
            self.diags.append(error(
                "E110", f"the range of `{name}` is empty ({shown})", t.span,
                hint="write LOW..HIGH with LOW <= HIGH"))
        if isinstance(t, ast.IntegerType):
            step = t.step.value if t.step is not None else None
            for bound in (t.low, t.high, t.step):
                if bound is not None and bound.value.denominator != 1:
                    self.diags.append(error(
                        "E110", f"`{name}` is an integer: {bound.text} is not a whole number",
                        bound.span, hint="use whole numbers for an integer's range and step"))
            if step is not None and step <= 0:
                self.diags.append(error("E110", "a step must be positive", t.span,
                                        hint="e.g. `step 10`"))
                step = None
            return m.Input(name, i.label, "integer", i.optional, low, high, step, span=i.span,
                           low_open=t.low_open, high_open=t.high_open, **self._units(t))
        return m.Input(name, i.label, "number", i.optional, low, high, None, span=i.span,
                       low_open=t.low_open, high_open=t.high_open, **self._units(t))

    def _units(self, t: ast.IntegerType | ast.NumberType) -> dict[str, Any]:
        """An input's unit: a UCUM code checked against the table, or a label (unchecked,
        W202 when it spells a code the table knows); its declared conversions."""
        if t.unit is None:
            return {}
        if not t.ucum:
            known = units.unit(str(t.unit))
            if known is not None:
                self.diags.append(warning(
                    "W202", f"the unit \"{t.unit}\" is a label: write it as the UCUM code "
                    f"'{known.code}' to have comparisons checked and converted",
                    getattr(t.unit, "span", t.span), hint=f"unit '{known.code}'"))
            return {"unit": str(t.unit)}
        code = units.unit(str(t.unit))
        if code is None:
            self.diags.append(error(
                "E211", f"'{t.unit}' is not a unit guidec knows", getattr(t.unit, "span", t.span),
                hint=suggestion(str(t.unit), units.codes()) or
                "see the units table in the language reference, or write a label: unit \"...\""))
            return {"unit": str(t.unit)}
        conversions = []
        for c in t.conversions:
            other = units.unit(c.unit or "")
            if other is None or c.value <= 0:
                self.diags.append(error(
                    "E211", f"'{c.unit}' is not a unit guidec knows" if other is None else
                    "a conversion factor is positive", c.span,
                    hint=suggestion(str(c.unit), units.codes()) or "e.g. convert 18.016 'mg/dL'"))
                continue
            conversions.append((other.code, c.value))
        return {"unit": code.display, "ucum": code.code, "conversions": tuple(conversions)}

    # -- patients
    def _value(self, a: ast.Assignment, declared: m.Input | None = None) -> tuple[bool, object]:
        inp = declared or self.inputs.get(a.key.name)
        if inp is None:
            return False, None
        v = a.value
        if isinstance(v, ast.Name) and v.name == "unknown" and "unknown" not in inp.values:
            if declared is not None:
                self.diags.append(error(
                    "E208", "a default is a value, not unknown", v.span,
                    hint="without a default, an absent optional input is unknown"))
                return False, None
            if inp.default is not None:
                self.diags.append(error(
                    "E208", f"`{inp.name}` has a default, so it is never unknown", v.span,
                    hint="leave it out of the patient for its default, or give a value"))
                return False, None
            if not inp.optional:
                self.diags.append(error(
                    "E208", f"`{inp.name}` is required: it cannot be unknown", v.span,
                    hint="give it a value, or declare the input `optional`"))
                return False, None
            return True, None
        if inp.kind in ("date", "datetime"):
            with_time = inp.kind == "datetime"
            if not isinstance(v, ast.Moment) or v.with_time != with_time:
                example = "2026-12-04T14:30" if with_time else "2026-12-04"
                self.diags.append(error(
                    "E208", f"`{inp.name}` is {'a date and time' if with_time else 'a date'}",
                    v.span, hint=f"write it as {example}"))
                return False, None
            when = units.moment(v.text, with_time)
            if when is None or not inp.in_range(Fraction(when)):
                self.diags.append(error(
                    "E203", f"{v.text} is outside the range of `{inp.name}`", v.span,
                    hint=f"`{inp.name}` is {inp.range_text}"))
                return False, None
            return True, v.text
        if isinstance(v, ast.Moment):
            self.diags.append(error("E208", f"`{inp.name}` is not a date", v.span,
                                    hint=f"`{inp.name}` is {inp.kind_words}"))
            return False, None
        if inp.kind == "set":
            if not isinstance(v, ast.SetValue):
                self.diags.append(error(
                    "E208", f"`{inp.name}` is a set: list its values in parentheses", v.span,
                    hint=f"e.g. `{inp.name} = ({inp.values[0]})`, or `{inp.name} = ()` for none"))
                return False, None
            listed: list[str] = []
            for x in v.values:
                if x.name not in inp.values:
                    self.diags.append(error(
                        "E202", f"`{x.name}` is not a value of `{inp.name}`", x.span,
                        hint=suggestion(x.name, inp.values) or
                        f"its values are: {', '.join(inp.values)}"))
                    return False, None
                if x.name in listed:
                    self.diags.append(error("E208", f"`{x.name}` is listed twice", x.span,
                                            hint="list each value once"))
                    return False, None
                listed.append(x.name)
            return True, [x for x in inp.values if x in listed]
        if isinstance(v, ast.SetValue):
            self.diags.append(error(
                "E208", f"`{inp.name}` takes one value, not a list", v.span,
                hint="a list is the value of a `set of` input"))
            return False, None
        if inp.kind == "boolean":
            if isinstance(v, ast.Bool):
                return True, v.value
            self.diags.append(error("E208", f"`{inp.name}` is true or false", v.span,
                                    hint="write `true` or `false`"))
            return False, None
        if inp.kind == "enum":
            if isinstance(v, ast.Name) and v.name in inp.values:
                return True, v.name
            shown = v.name if isinstance(v, ast.Name) else "this value"
            self.diags.append(error(
                "E202", f"`{shown}` is not a value of `{inp.name}`", v.span,
                hint=suggestion(shown, inp.values) or f"its values are: {', '.join(inp.values)}"))
            return False, None
        if not isinstance(v, ast.Number):
            self.diags.append(error("E208", f"`{inp.name}` is a number", v.span,
                                    hint="write a number, e.g. 80 or 0.5"))
            return False, None
        value = v.value
        if v.unit is not None:
            per = inp.per_unit(v.unit)
            if per is None:
                where = f"in {inp.unit}" if inp.ucum else "a plain number (it has no unit)"
                self.diags.append(error(
                    "E211", f"`{inp.name}` is {where}: '{v.unit}' does not convert", v.span,
                    hint=f"give the value in {inp.unit}" if inp.ucum else "drop the unit"))
                return False, None
            value = value * per
        if not inp.in_range(value):
            self.diags.append(error(
                "E203", f"{v.text} is outside the range of `{inp.name}`", v.span,
                hint=f"`{inp.name}` is {inp.range_text}"))
            return False, None
        if inp.kind == "integer" and (value.denominator != 1 or (
                inp.step is not None and (value - (inp.low or 0)) % inp.step != 0)):
            self.diags.append(error(
                "E204", f"{v.text} is not a value of `{inp.name}`", v.span,
                hint=f"use a multiple of {value_text(inp.step or Fraction(1))}"))
            return False, None
        if v.unit is not None and v.unit != inp.ucum:
            # A patient may give a value with its unit; the evaluator converts it.
            return True, {"value": _json_number(v.value), "unit": v.unit}
        return True, _json_number(value)

    def _values(self, values: tuple[ast.Assignment, ...]) -> dict[str, object]:
        out: dict[str, object] = {}
        for a in values:
            ok, value = self._value(a)
            if ok:
                out[a.key.name] = value
        return out

    # -- the whole model
    def lower(self) -> m.Model:
        """Build the model (call :meth:`meta` first through this method)."""
        g = self.g
        meta = self.meta()
        refs: dict[str, m.Reference] = {}
        for r in g.items:
            if isinstance(r, ast.Reference) and r.name.name not in refs:
                if r.kind.name not in m.REFERENCE_KINDS:
                    self.diags.append(error(
                        "E109", f"`{r.kind.name}` is not a kind of reference", r.kind.span,
                        hint=suggestion(r.kind.name, m.REFERENCE_KINDS)
                        or f"use one of: {', '.join(m.REFERENCE_KINDS)}"))
                number = len(refs) + 1
                refs[r.name.name] = m.Reference(
                    r.name.name, r.kind.name, r.title, r.source, r.year, r.url,
                    tuple(self._note(n) for n in r.notes), number, r.span,
                    self._reference_label(r, number))
        self._check_labels(g, refs)
        lets: dict[str, m.Let] = {}
        for name, lt in self.scope.lets.items():
            ref = self.resolver.let(name)
            if ref is not None:
                words = to_words(ref.expr, self.resolver.inputs, self.resolver.let_labels)
                lets[name] = m.Let(name, lt.label, ref.expr, lt.span, words)
        assumptions = []
        for a in g.items:
            if isinstance(a, ast.Assume):
                expr: ast.Expr = a.condition
                if a.unless is not None:
                    expr = ast.Or(a.span, (a.unless, a.condition))
                cond = self.resolver.condition(expr)
                if cond is not None:
                    assumptions.append(m.Assumption(cond, a.text, m.inputs_of(cond.expr), a.span))
        actions: dict[str, m.Action] = {}
        for ac in g.items:
            if isinstance(ac, ast.Action) and ac.name.name not in actions:
                if ac.kind.name not in m.ACTION_KINDS:
                    self.diags.append(error(
                        "E109", f"`{ac.kind.name}` is not a kind of action", ac.kind.span,
                        hint=suggestion(ac.kind.name, m.ACTION_KINDS)
                        or f"use one of: {', '.join(m.ACTION_KINDS)}"))
                certainty = ac.certainty.name if ac.certainty is not None else None
                if ac.certainty is not None and certainty not in m.CERTAINTIES:
                    self.diags.append(error(
                        "E109", f"`{certainty}` is not a certainty of evidence",
                        ac.certainty.span, hint=suggestion(str(certainty), m.CERTAINTIES)
                        or f"use one of: {', '.join(m.CERTAINTIES)}"))
                    certainty = None
                if ac.good_practice and ac.certainty is not None:
                    self.diags.append(error(
                        "E115", f"the action `{ac.name.name}` is a good practice statement, "
                        "which GRADE does not grade", ac.certainty.span,
                        hint="remove `certainty`, or `good_practice` if the evidence was "
                             "graded"))
                actions[ac.name.name] = m.Action(
                    ac.name.name, ac.kind.name, ac.text, ac.strength or "strong", ac.detail,
                    self._cites(ac.citations, f"the action `{ac.name.name}`", ac.name.span),
                    ac.span, str(ac.short) if ac.short is not None else None,
                    "against" if ac.against else "for", certainty,
                    "good_practice" if ac.good_practice else "graded")
        sections = tuple(
            m.Section(s.name.name, s.title, tuple(
                m.Paragraph(p.text, tuple(c.name for c in p.citations), p.span)
                for p in s.paragraphs), s.span)
            for s in g.items if isinstance(s, ast.Section))
        pathway = self._pathway()
        nevers: list[m.NeverRule] = []
        requires, conflicts, cautions = [], [], []
        for r in g.items:
            if isinstance(r, ast.Never):
                cond = self.resolver.condition(r.condition, True) if r.condition else None
                names = ", ".join(a.name for a in r.actions)
                cites = self._cites(r.citations, f"`never {names}`", r.span)
                nevers.extend(m.NeverRule(a.name, cond, r.reason, cites, r.span)
                              for a in r.actions)
            elif isinstance(r, ast.Require):
                rc = self.resolver.condition(r.condition, True)
                if rc is not None:
                    requires.append(m.RequireRule(
                        r.action.name, rc, r.reason,
                        self._cites(r.citations, f"`require {r.action.name}`", r.span), r.span))
            elif isinstance(r, ast.Conflict):
                conflicts.append(m.ConflictRule(
                    r.first.name, r.second.name, r.reason,
                    self._cites(r.citations, "the conflict rule", r.span), r.span))
            elif isinstance(r, ast.Caution):
                cc = self.resolver.condition(r.condition, True)
                if cc is not None:
                    cautions.append(m.CautionRule(
                        r.name.name, r.text, cc,
                        self._cites(r.citations, f"the caution `{r.name.name}`", r.span),
                        r.span))
        patients = {
            p.name.name: m.Patient(p.name.name, p.description, self._values(p.values), p.span)
            for p in g.items if isinstance(p, ast.Patient)
        }
        cases = []
        for c in g.items:
            if isinstance(c, ast.Case):
                base = dict(patients[c.base.name].values) if c.base and c.base.name in patients \
                    else {}
                base.update(self._values(c.values))
                cases.append(m.Case(c.title, c.base.name if c.base else None, base, tuple(
                    m.Expectation(e.kind, tuple(n.name for n in e.names), e.span)
                    for e in c.expectations), c.span))
        allows = tuple(m.Allow(a.code.name, a.node.name, a.reason, a.span)
                       for a in g.items if isinstance(a, ast.Allow))
        changelog = tuple(m.ChangelogEntry(c.version, c.date, c.text, c.span)
                          for c in g.items if isinstance(c, ast.Changelog))
        self.diags.extend(self.resolver.diags)
        return m.Model(
            meta, changelog, refs, self.inputs, tuple(assumptions), lets, actions, sections,
            pathway, tuple(nevers), tuple(requires), tuple(conflicts), tuple(cautions), patients,
            tuple(cases), allows, g.span.file, hashlib.sha256(self.source.encode()).hexdigest(),
            self.source)

    def _pathway(self) -> m.Pathway:
        p = self.scope.pathway
        if p is None:
            self.diags.append(error(
                "E404", "the guideline has no pathway", self.g.header.name.span,
                hint="add `pathway` with `start -> <step>` and its steps and decisions"))
            return m.Pathway((), {}, self.g.header.span)
        nodes: dict[str, m.PathNode] = {}
        for n in p.nodes:
            if n.name.name in nodes:
                continue
            if isinstance(n, ast.Step):
                sites: list[m.RecommendSite] = []
                notes: list[m.Note] = []
                for it in n.items:
                    if isinstance(it, ast.Note):
                        notes.append(self._note(it))
                        continue
                    cond = self.resolver.condition(it.condition) if it.condition else None
                    sites.append(m.RecommendSite(tuple(a.name for a in it.actions), cond,
                                                 n.name.name, len(sites), it.span,
                                                 str(it.label) if it.label is not None
                                                 else None))
                nodes[n.name.name] = m.Step(n.name.name, n.title, tuple(sites), tuple(notes),
                                            tuple(t.name for t in n.then or ()), n.span,
                                            _page(n.page))
            elif isinstance(n, ast.Decide):
                branches: list[m.Branch] = []
                for b in n.branches:
                    cond = self.resolver.condition(b.condition)
                    if cond is None:
                        cond = m.Condition(m.Const(False, "boolean", b.span), "false", "false",
                                           b.span)
                    branches.append(m.Branch(len(branches), cond, b.label,
                                             tuple(t.name for t in b.targets),
                                             tuple(self._note(x) for x in b.notes), b.span))
                ow = None
                if n.otherwise is not None:
                    o = n.otherwise
                    ow = m.Otherwise(o.label, tuple(t.name for t in o.targets),
                                     tuple(self._note(x) for x in o.notes), o.span)
                nodes[n.name.name] = m.Decision(
                    n.name.name, n.question, n.policy or "unique",
                    tuple(self._note(x) for x in n.notes), tuple(branches), ow, n.span,
                    _page(n.page))
            else:
                nodes[n.name.name] = m.End(n.name.name, n.title, n.span)
        return m.Pathway(tuple(t.name for t in p.start), nodes, p.span)


def _page(page: ast.Page | None) -> m.PageBreak | None:
    return None if page is None else m.PageBreak(page.title, page.span)


def _json_number(v: Fraction) -> object:
    if v.denominator == 1:
        return int(v)
    return float(v)


def warn_allow_unused(model: m.Model, used: set[tuple[str, str]]) -> list[Diagnostic]:
    """An `allow` that silenced nothing (W105): probably stale after an edit."""
    return [warning("W105", f"`allow {a.code} at {a.node}` silences nothing", a.span,
                    hint="remove it; the warning it accepted is gone")
            if not a.code.startswith("E") else
            warning("W105", f"`allow {a.code} at {a.node}` silences nothing: an error cannot be "
                    "accepted", a.span, hint="fix the error; only warnings and notes can be "
                    "allowed")
            for a in model.allows if (a.code, a.node) not in used]
