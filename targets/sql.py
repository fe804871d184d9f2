"""The guideline as SQL over a table of patients (``guidec build FILE -o DIR -t sql``).

``DIR/<id>.sql`` is one query (DuckDB's dialect) over a relation named ``patients``, one column
per input (NULL is unknown), any other columns passed through. It adds, per patient:
``guidec_problems`` (each problem's keys: the evaluator's validation), and for a valid patient
``guidec_recommendations`` (id, strength, step; in path order, each action once),
``guidec_pending`` (decision, inputs), ``guidec_path`` and ``guidec_stuck`` (decision,
reason); an invalid patient gets its problems and nothing else, as ``evaluate`` decides.

How it keeps the interpreter's meaning:
- Conditions are SQL's three-valued logic, which is Kleene's: ``AND``/``OR``/``NOT`` over NULL
  agree with the interpreter's unknown. A branch is taken by ``CASE WHEN c``, waits by
  ``c IS NULL``; nothing depends on ``IS TRUE``, which some dialects rewrite.
- The walk: each node's events (visited, recommended, waiting, stuck) are a list built from its
  successors' lists, node by node from the ends back (one CTE per level, so a node reached
  along many paths is written once). The pathway's events are then the unfolded depth-first
  walk; keeping each event's first occurrence is exactly the interpreter's "each node at most
  once" (in a DAG, a node's second visit repeats events already listed).

Not yet expressed (the build says so and writes nothing): dates and times, values given with
units other than the input's own, and inputs of a set type.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from compiler import model as m
from dsl.files import write_text
from targets import BuildRequest, Emitted


class Unsupported(Exception):
    """A construct the SQL target does not express yet."""


def ident(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A string literal: only ``'`` is special in standard SQL, doubled."""
    return "'" + text.replace("'", "''") + "'"


def _num(v: Fraction) -> str:
    if v.denominator == 1:
        return str(v.numerator)
    return repr(float(v))


def _text_list(items: list[str]) -> str:
    return "CAST([" + ", ".join(lit(i) for i in items) + "] AS VARCHAR[])"


class _Exprs:
    """Model expressions as SQL (lets read from their columns)."""

    def __init__(self, model: m.Model) -> None:
        self.model = model

    def sql(self, e: m.Expr) -> str:
        if isinstance(e, m.Const):
            if isinstance(e.value, bool):
                return "TRUE" if e.value else "FALSE"
            if isinstance(e.value, Fraction):
                if e.unit in ("date", "datetime"):
                    raise Unsupported("dates and times")
                return _num(e.value)
            return lit(e.value)
        if isinstance(e, m.InputRef):
            inp = self.model.inputs[e.name]
            if inp.kind in ("date", "datetime", "set"):
                raise Unsupported(f"an input of type {inp.kind} (`{e.name}`)")
            return ident(e.name)
        if isinstance(e, m.LetRef):
            return ident(f"let:{e.name}")
        if isinstance(e, m.Not):
            return f"(NOT {self.sql(e.operand)})"
        if isinstance(e, m.And | m.Or):
            word = " AND " if isinstance(e, m.And) else " OR "
            return "(" + word.join(self.sql(o) for o in e.operands) + ")"
        if isinstance(e, m.Known):
            return f"({self.sql(e.operand)} IS {'NOT ' if e.known else ''}NULL)"
        if isinstance(e, m.Cmp):
            near = self._threshold(e)
            if near is not None:
                return near
            op = {"==": "=", "!=": "<>"}.get(e.op, e.op)
            return f"({self.sql(e.left)} {op} {self.sql(e.right)})"
        if isinstance(e, m.Member):
            return f"({self.sql(e.operand)} IN (" + ", ".join(lit(v) for v in e.values) + "))"
        if isinstance(e, m.Arith):
            return f"({self.sql(e.left)} {e.op} {self.sql(e.right)})"
        if isinstance(e, m.Scale):
            return f"({self.sql(e.operand)} * {_num(e.factor)})"
        if isinstance(e, m.Derived):
            return self.sql(e.meaning)
        if isinstance(e, m.Points):
            parts = [f"CASE WHEN {self.sql(c.condition)} THEN {_num(c.weight)} "
                     f"WHEN {self.sql(c.condition)} IS NULL THEN NULL ELSE 0 END"
                     for c in e.criteria]
            return "(" + " + ".join(parts) + ")"
        raise Unsupported(f"the expression {type(e).__name__}")

    def _threshold(self, e: m.Cmp) -> str | None:
        """A number input against a constant no double's shortest text equals (1.5 mg/dL in
        umol/L): the evaluator compares the value's shortest decimal text exactly, so the
        comparison is made against the nearest double on the right side of the constant."""
        left, op, right = e.left, e.op, e.right
        if isinstance(left, m.Const):
            left, right = right, left
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        if not isinstance(left, m.InputRef) or not isinstance(right, m.Const) or \
                not isinstance(right.value, Fraction) or isinstance(right.value, bool):
            return None
        c = right.value
        near = float(c)
        shown = Fraction(repr(near))
        if shown == c:
            return None
        x = ident(left.name)
        if op in ("==", "!="):
            return f"(CASE WHEN {x} IS NULL THEN NULL ELSE {'FALSE' if op == '==' else 'TRUE'} END)"
        if op in (">", ">="):
            t = near if shown > c else math.nextafter(near, math.inf)
            return f"({x} >= {t!r})"
        t = near if shown < c else math.nextafter(near, -math.inf)
        return f"({x} <= {t!r})"


def _event(kind: str, node: str, action: str = "", strength: str = "",
           waits: str | None = None) -> str:
    """One event of the walk: v(isited), r(ecommended), w(aits), s(tuck)."""
    return (f"{{'t': {lit(kind)}, 'n': {lit(node)}, 'a': {lit(action)}, "
            f"'s': {lit(strength)}, 'w': {waits or 'CAST([] AS VARCHAR[])'}}}")


_EMPTY = "list_filter([" + _event("v", "") + "], lambda guidec_e: FALSE)"


def _firsts(items: str) -> str:
    """The list with each element's first occurrence only, in order."""
    return (f"list_filter({items}, lambda guidec_x, guidec_i: "
            f"list_position({items}, guidec_x) = guidec_i)")


def _concat(parts: list[str]) -> str:
    parts = [p for p in parts if p != _EMPTY]
    if not parts:
        return _EMPTY
    return parts[0] if len(parts) == 1 else "list_concat(" + ", ".join(parts) + ")"


class _Query:
    def __init__(self, model: m.Model) -> None:
        self.model = model
        self.ex = _Exprs(model)

    def unknown(self, conds: list[m.Expr]) -> str:
        """The inputs the conditions read that are NULL, each once, in order."""
        names: list[str] = []
        for c in conds:
            names.extend(i for i in m.inputs_of(c) if i not in names)
        items = ", ".join(f"CASE WHEN {ident(n)} IS NULL THEN {lit(n)} END" for n in names)
        return (f"list_filter(CAST([{items}] AS VARCHAR[]), lambda guidec_x: "
                "guidec_x IS NOT NULL)"
                if names else "CAST([] AS VARCHAR[])")

    def node_events(self, nid: str) -> str:
        node = self.model.pathway.nodes[nid]
        out = ["[" + _event("v", nid) + "]"]
        if isinstance(node, m.Step):
            for site in node.recommends:
                recs = "[" + ", ".join(_event("r", nid, a, self.model.actions[a].strength)
                                       for a in site.actions) + "]"
                if site.condition is None:
                    out.append(recs)
                    continue
                c = self.ex.sql(site.condition.expr)
                wait = "[" + _event("w", nid, str(site.index),
                                    waits=self.unknown([site.condition.expr])) + "]"
                out.append(f"CASE WHEN {c} THEN {recs} WHEN {c} IS NULL THEN {wait} "
                           f"ELSE {_EMPTY} END")
            out += [ident(f"e:{t}") for t in node.next]
        elif isinstance(node, m.Decision):
            out.append(self.decide(node))
        return _concat(out)

    def targets(self, targets: tuple[str, ...]) -> str:
        return _concat([ident(f"e:{t}") for t in targets])

    def decide(self, d: m.Decision) -> str:
        conds = [self.ex.sql(b.condition.expr) for b in d.branches]
        exprs = [b.condition.expr for b in d.branches]
        if d.otherwise is not None:
            none = self.targets(d.otherwise.targets)
        else:
            none = "[" + _event("s", d.id, "gap") + "]"
        arms = []
        if d.policy == "first":
            for b, c, e in zip(d.branches, conds, exprs, strict=True):
                arms.append(f"WHEN {c} THEN {self.targets(b.targets)}")
                arms.append(f"WHEN {c} IS NULL THEN [" +
                            _event("w", d.id, waits=self.unknown([e])) + "]")
            return "CASE " + " ".join(arms) + f" ELSE {none} END"
        trues = " + ".join(f"CASE WHEN {c} THEN 1 ELSE 0 END" for c in conds)
        waits = _firsts("list_concat(" + ", ".join(
            f"CASE WHEN {c} IS NULL THEN {self.unknown([e])} ELSE CAST([] AS VARCHAR[]) END"
            for c, e in zip(conds, exprs, strict=True)) + ")")
        arms.append(f"WHEN ({trues}) > 1 THEN [" + _event("s", d.id, "overlap") + "]")
        arms.append("WHEN " + " OR ".join(f"{c} IS NULL" for c in conds) +
                    " THEN [" + _event("w", d.id, waits=waits) + "]")
        arms += [f"WHEN {c} THEN {self.targets(b.targets)}"
                 for b, c in zip(d.branches, conds, strict=True)]
        return "CASE " + " ".join(arms) + f" ELSE {none} END"

    def problems(self) -> tuple[str, str]:
        """The validation of each input (by key), then of the assumptions."""
        items = []
        for inp in self.model.inputs.values():
            col = ident(inp.name)
            bad: list[str] = []
            if not inp.may_be_absent:
                bad.append(f"{col} IS NULL")
            if inp.kind == "enum":
                bad.append(f"{col} NOT IN (" + ", ".join(lit(v) for v in inp.values) + ")")
            if inp.kind in ("integer", "number"):
                if inp.kind == "integer":
                    bad.append(f"{col} <> floor({col})")
                if inp.low is not None:
                    bad.append(f"{col} {'<=' if inp.low_open else '<'} {_num(inp.low)}")
                if inp.high is not None:
                    bad.append(f"{col} {'>=' if inp.high_open else '>'} {_num(inp.high)}")
                if inp.step is not None:
                    low = _num(inp.low or Fraction(0))
                    bad.append(f"(({col} - {low}) / {_num(inp.step)}) <> "
                               f"floor(({col} - {low}) / {_num(inp.step)})")
            if inp.default is not None and inp.kind not in ("boolean", "enum", "integer",
                                                            "number"):
                raise Unsupported(f"a default on a {inp.kind} input")
            if bad:
                items.append(f"CASE WHEN {' OR '.join(bad)} THEN {_text_list([inp.name])} END")
        values = "list_filter(CAST([" + ", ".join(items) + "] AS VARCHAR[][]), " \
            "lambda guidec_p: guidec_p IS NOT NULL)" if items else "CAST([] AS VARCHAR[][])"
        broken = [f"CASE WHEN NOT {self.ex.sql(a.condition.expr)} THEN "
                  f"{_text_list(list(a.inputs))} END" for a in self.model.assumptions]
        assumed = "list_filter(CAST([" + ", ".join(broken) + "] AS VARCHAR[][]), " \
            "lambda guidec_p: guidec_p IS NOT NULL)" if broken else "CAST([] AS VARCHAR[][])"
        return values, assumed

    def source(self) -> str:
        model = self.model
        for name in [*model.inputs, *model.lets]:
            if name.lower().startswith("guidec_"):
                raise Unsupported(f"a name beginning `guidec_` (`{name}`), which the SQL's own "
                                  "columns and lambdas use")
        for inp in model.inputs.values():
            if inp.kind in ("date", "datetime", "set"):
                raise Unsupported(f"an input of type {inp.kind} (`{inp.name}`)")
        ctes: list[tuple[str, list[str]]] = []
        # Inputs with a default: absence reads as the default.
        defaults = [f"COALESCE({ident(i.name)}, {self._default(i)}) AS {ident(i.name)}"
                    for i in model.inputs.values() if i.default is not None]
        values, assumed = self.problems()
        ctes.append(("input_problems", [f"{values} AS {ident('guidec_input_problems')}"]))
        if defaults:
            ctes.append(("with_defaults", ["* REPLACE (" + ", ".join(defaults) + ")"]))
        for level in _let_levels(model):
            ctes.append((f"lets_{len(ctes)}", [
                f"{self.ex.sql(model.lets[n].expr)} AS {ident('let:' + n)}" for n in level]))
        ctes.append(("checked", [
            f"CASE WHEN len({ident('guidec_input_problems')}) = 0 THEN {assumed} "
            f"ELSE {ident('guidec_input_problems')} END AS {ident('guidec_problems')}"]))
        for level in _node_levels(model):
            ctes.append((f"walk_{len(ctes)}", [
                f"{self.node_events(n)} AS {ident('e:' + n)}" for n in level]))
        walk = _concat([ident(f"e:{s}") for s in model.pathway.start])
        ctes.append(("walked", [f"{walk} AS guidec_all"]))
        ctes.append(("firsts", [
            "list_filter(guidec_all, lambda guidec_e, guidec_i: "
            "list_position(guidec_all, guidec_e) = guidec_i) AS guidec_events"]))
        lines = ["-- Generated by guidec from " + model.filename.rsplit("/", 1)[-1] +
                 f" (guideline {model.meta.id} {model.meta.version}, {model.meta.status}, "
                 f"SHA-256 {model.source_sha256}).",
                 "-- Reads the relation `patients` (one column per input, NULL is unknown); "
                 "do not edit: regenerate it with `guidec build -t sql`.",
                 "WITH"]
        prev = "patients"
        for i, (name, cols) in enumerate(ctes):
            head = "*" if not cols[0].startswith("* REPLACE") else cols.pop(0)
            sep = "," if i + 1 < len(ctes) else ""
            body = ",\n    ".join([head, *cols])
            lines.append(f"  {name} AS (SELECT\n    {body}\n  FROM {prev}){sep}")
            prev = name
        valid = f"len({ident('guidec_problems')}) = 0"
        recs = "list_filter(guidec_events, lambda guidec_r: guidec_r.t = 'r')"
        lines.append("SELECT * EXCLUDE (guidec_all, guidec_events, guidec_input_problems, " +
                     ", ".join([ident("let:" + n) for n in model.lets] +
                               [ident("e:" + n) for n in model.pathway.nodes]) + "),")
        lines.append(
            f"  CASE WHEN {valid} THEN list_transform(list_filter({recs}, lambda guidec_f, "
            f"guidec_i: list_position(list_transform({recs}, lambda guidec_x: guidec_x.a), "
            "guidec_f.a) = guidec_i), lambda guidec_e: {'id': guidec_e.a, "
            "'strength': guidec_e.s, 'step': guidec_e.n}) END "
            "AS guidec_recommendations,")
        lines.append(
            f"  CASE WHEN {valid} THEN list_transform(list_filter(guidec_events, lambda guidec_e: "
            "guidec_e.t = 'w'), lambda guidec_e: {'decision': guidec_e.n, "
            "'inputs': guidec_e.w}) END AS guidec_pending,")
        lines.append(
            f"  CASE WHEN {valid} THEN list_transform(list_filter(guidec_events, lambda guidec_e: "
            "guidec_e.t = 'v'), lambda guidec_e: guidec_e.n) END AS guidec_path,")
        lines.append(
            f"  CASE WHEN {valid} THEN list_transform(list_filter(guidec_events, lambda guidec_e: "
            "guidec_e.t = 's'), lambda guidec_e: {'decision': guidec_e.n, "
            "'reason': guidec_e.a}) END AS guidec_stuck")
        lines.append("FROM firsts")
        return "\n".join(lines) + "\n"

    def _default(self, inp: m.Input) -> str:
        d = inp.default
        if isinstance(d, bool):
            return "TRUE" if d else "FALSE"
        if isinstance(d, Fraction):
            return _num(d)
        if isinstance(d, str):
            return lit(d)
        raise Unsupported(f"a default on a {inp.kind} input")


def _let_levels(model: m.Model) -> list[list[str]]:
    level: dict[str, int] = {}
    for name, let in model.lets.items():  # a let reads only lets declared before it
        deps = [e.name for e in m.subexpressions(let.expr, into_lets=False)
                if isinstance(e, m.LetRef)]
        level[name] = 1 + max((level[d] for d in deps if d in level), default=-1)
    return _grouped(level)


def _node_levels(model: m.Model) -> list[list[str]]:
    level: dict[str, int] = {}

    def of(nid: str) -> int:
        if nid not in level:
            level[nid] = 1 + max((of(s) for s in model.pathway.successors(nid)), default=-1)
        return level[nid]

    for nid in model.pathway.nodes:
        of(nid)
    return _grouped(level)


def _grouped(level: dict[str, int]) -> list[list[str]]:
    out: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name, k in level.items():
        out[k].append(name)
    return out


def generate(model: m.Model) -> str:
    """The query (raises :class:`Unsupported`)."""
    return _Query(model).source()


def emit(model: m.Model, outdir: Path, request: BuildRequest) -> list[Emitted]:
    """Write ``<id>.sql`` (format ``sql``)."""
    try:
        text = generate(model)
    except Unsupported as exc:
        return [Emitted(None, failed=True,
                        warning=f"the SQL was not written: it cannot express {exc} yet")]
    path = outdir / f"{model.meta.id}.sql"
    write_text(path, text)
    return [Emitted(path)]

