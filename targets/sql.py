"""The guideline as SQL over a table of patients (``guidec build FILE -o DIR -t sql``).

``DIR/<id>.sql`` is one query (DuckDB's dialect) over a relation named ``patients``, one column
per input (NULL is unknown), any other columns passed through. It adds, per patient:
``guidec_problems`` (each problem's keys: the evaluator's validation), ``guidec_input_problems``
(those of the values alone, before the assumptions are checked), and for a valid patient
``guidec_recommendations`` (id, strength, step; in path order, each action once),
``guidec_pending`` (decision, inputs), ``guidec_path`` and ``guidec_stuck`` (decision,
reason); an invalid patient gets its problems and nothing else, as ``evaluate`` decides.

How it keeps the interpreter's meaning:
- Conditions are SQL's three-valued logic, which is Kleene's: ``AND``/``OR``/``NOT`` over NULL
  agree with the interpreter's unknown. A branch is taken by ``CASE WHEN c``, waits by
  ``c IS NULL``; nothing depends on ``IS TRUE``, which some dialects rewrite. A number is
  compared with a constant exactly as the interpreter's fractions compare it (a duration's
  scale moved onto the constant; a constant no double's shortest text equals, such as 1.5 mg/dL
  in umol/L, replaced by the nearest double on the right side).
- Two phases, for speed. Per patient, only scalars: each decision's outcome (the branch, or
  waiting, none, overlap), each conditional recommendation's, and which inputs are unknown.
  Then, once per distinct combination of those (a few hundred among millions of patients), the
  walk: each node's events (visited, recommended, waiting, stuck) are a list built from its
  successors' lists, node by node from the ends back (one CTE per level, so a node reached
  along many paths is written once); keeping each event's first occurrence is exactly the
  interpreter's "each node at most once" (in a DAG, a second visit repeats events already
  listed). The results join back to the patients.

Columns: BOOLEAN, a number, VARCHAR for a choice, VARCHAR[] for a set, DATE and TIMESTAMP
(UTC) for dates and times; a value is in the input's own unit.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from compiler import model as m
from dsl.files import write_text
from targets import BuildRequest, Emitted

#: The column type of each kind of input (an integer as DOUBLE, so that 80.5 can be refused
#: as the evaluator refuses it, rather than rounded on the way in).
COLUMN_TYPES = {"boolean": "BOOLEAN", "integer": "DOUBLE", "number": "DOUBLE",
                "enum": "VARCHAR", "set": "VARCHAR[]", "date": "DATE", "datetime": "TIMESTAMP"}


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
                return _num(e.value)
            return lit(e.value)
        if isinstance(e, m.InputRef):
            inp = self.model.inputs[e.name]
            if inp.kind == "date":  # whole days since 1970, as the interpreter counts
                return f"CAST({ident(e.name)} - DATE '1970-01-01' AS BIGINT)"
            if inp.kind == "datetime":  # whole seconds since 1970 (UTC)
                return f"CAST(floor(epoch({ident(e.name)})) AS BIGINT)"
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
            e = _unscaled(e)
            near = self._threshold(e)
            if near is not None:
                return near
            op = {"==": "=", "!=": "<>"}.get(e.op, e.op)
            return f"({self.sql(e.left)} {op} {self.sql(e.right)})"
        if isinstance(e, m.Contains):
            return f"list_contains({self.sql(e.operand)}, {lit(e.value)})"
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
            op = m.SWAPPED[op]
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


def _unscaled(e: m.Cmp) -> m.Cmp:
    """``x * k op c`` as ``x op c / k`` (:func:`compiler.model.unscaled`): durations compare
    exactly, as the interpreter's fractions do, where a double's 1/3600 would not."""
    left, op, right = m.unscaled(e.left, e.op, e.right)
    return m.Cmp(op, left, right, e.span)


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

    # Phase 1, per patient: scalars only. Each decision's outcome (a branch, waiting, none,
    # overlap), each conditional recommendation's (given, not, waiting) and which inputs are
    # unknown: together they decide the walk.
    def outcome(self, d: m.Decision) -> str:
        """``o:<decision>``: the branch taken (0, 1, ...), -1 none of them (otherwise, or a
        gap), -2 overlap (`unique`), -3 waiting (`unique`), -10 - i waiting at branch i
        (`first`)."""
        conds = [self.ex.sql(b.condition.expr) for b in d.branches]
        if d.policy == "first":
            arms = [f"WHEN {c} THEN {i} WHEN {c} IS NULL THEN {-10 - i}"
                    for i, c in enumerate(conds)]
            return "CASE " + " ".join(arms) + " ELSE -1 END"
        trues = " + ".join(f"CASE WHEN {c} THEN 1 ELSE 0 END" for c in conds)
        arms = [f"WHEN ({trues}) > 1 THEN -2",
                "WHEN " + " OR ".join(f"{c} IS NULL" for c in conds) + " THEN -3",
                *(f"WHEN {c} THEN {i}" for i, c in enumerate(conds))]
        return "CASE " + " ".join(arms) + " ELSE -1 END"

    def waiting_branches(self, d: m.Decision) -> str:
        """``u:<decision>``: which branches of a `unique` decision are unknown (a bit each)."""
        return "(" + " + ".join(f"CASE WHEN {self.ex.sql(b.condition.expr)} IS NULL "
                                f"THEN {1 << i} ELSE 0 END"
                                for i, b in enumerate(d.branches)) + ")"

    def site(self, site: m.RecommendSite) -> str:
        """``s:<step>:<k>``: 1 recommended, 0 not, -1 waiting."""
        assert site.condition is not None
        c = self.ex.sql(site.condition.expr)
        return f"CASE WHEN {c} THEN 1 WHEN {c} IS NULL THEN -1 ELSE 0 END"

    def signature(self) -> list[tuple[str, str]]:
        """(column, expression) of every scalar the walk reads."""
        out: list[tuple[str, str]] = []
        for node in self.model.pathway.nodes.values():
            if isinstance(node, m.Decision):
                out.append((f"o:{node.id}", self.outcome(node)))
                if node.policy != "first":
                    out.append((f"u:{node.id}", self.waiting_branches(node)))
            elif isinstance(node, m.Step):
                out += [(f"s:{node.id}:{site.index}", self.site(site))
                        for site in node.recommends if site.condition is not None]
        out += [(f"n:{name}", f"({ident(name)} IS NULL)") for name in self._read()]
        return out

    def _read(self) -> list[str]:
        """The inputs the pathway's conditions read (whose being unknown a result names)."""
        names: list[str] = []
        for node in self.model.pathway.nodes.values():
            conds = [b.condition.expr for b in node.branches] if isinstance(node, m.Decision) \
                else [s.condition.expr for s in node.recommends if s.condition is not None] \
                if isinstance(node, m.Step) else []
            for c in conds:
                names.extend(i for i in m.inputs_of(c) if i not in names)
        return names

    # Phase 2, per distinct signature (a few hundred for a million patients): the walk.
    def unknown(self, conds: list[m.Expr]) -> str:
        """The inputs the conditions read that are unknown, each once, in order."""
        names: list[str] = []
        for c in conds:
            names.extend(i for i in m.inputs_of(c) if i not in names)
        items = ", ".join(f"CASE WHEN {ident('n:' + n)} THEN {lit(n)} END" for n in names)
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
                col = ident(f"s:{nid}:{site.index}")
                wait = "[" + _event("w", nid, str(site.index),
                                    waits=self.unknown([site.condition.expr])) + "]"
                out.append(f"CASE {col} WHEN 1 THEN {recs} WHEN -1 THEN {wait} "
                           f"ELSE {_EMPTY} END")
            out += [ident(f"e:{t}") for t in node.next]
        elif isinstance(node, m.Decision):
            out.append(self.decide(node))
        return _concat(out)

    def targets(self, targets: tuple[str, ...]) -> str:
        return _concat([ident(f"e:{t}") for t in targets])

    def decide(self, d: m.Decision) -> str:
        col = ident(f"o:{d.id}")
        exprs = [b.condition.expr for b in d.branches]
        if d.otherwise is not None:
            none = self.targets(d.otherwise.targets)
        else:
            none = "[" + _event("s", d.id, "gap") + "]"
        arms = [f"WHEN {i} THEN {self.targets(b.targets)}" for i, b in enumerate(d.branches)]
        if d.policy == "first":
            arms += [f"WHEN {-10 - i} THEN [" + _event("w", d.id, waits=self.unknown([e])) + "]"
                     for i, e in enumerate(exprs)]
        else:
            bits = ident(f"u:{d.id}")
            waits = _firsts("list_concat(" + ", ".join(
                f"CASE WHEN ({bits} // {1 << i}) % 2 = 1 THEN {self.unknown([e])} "
                "ELSE CAST([] AS VARCHAR[]) END" for i, e in enumerate(exprs)) + ")")
            arms.append("WHEN -2 THEN [" + _event("s", d.id, "overlap") + "]")
            arms.append("WHEN -3 THEN [" + _event("w", d.id, waits=waits) + "]")
        return f"CASE {col} " + " ".join(arms) + f" ELSE {none} END"

    def problems(self) -> tuple[str, str]:
        """The validation of each input (by key), then of the assumptions."""
        items: list[tuple[str, str]] = []
        for inp in self.model.inputs.values():
            col = ident(inp.name)
            bad: list[str] = []
            if not inp.may_be_absent:
                bad.append(f"{col} IS NULL")
            if inp.kind == "enum":
                bad.append(f"{col} NOT IN (" + ", ".join(lit(v) for v in inp.values) + ")")
            if inp.kind in ("integer", "number"):
                bad.append(f"isnan({col}) OR isinf({col})")
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
            if inp.kind == "set":
                allowed = ", ".join(lit(v) for v in inp.values)
                bad.append(f"len(list_filter({col}, lambda guidec_v: guidec_v IS NULL OR "
                           f"guidec_v NOT IN ({allowed}))) > 0")
                bad.append(f"len(list_distinct({col})) <> len({col})")
            if inp.kind in ("date", "datetime"):
                low, high = ("DATE '1900-01-01'", "DATE '2200-12-31'") if inp.kind == "date" \
                    else ("TIMESTAMP '1900-01-01 00:00:00'", "TIMESTAMP '2200-12-31 23:59:59'")
                bad.append(f"{col} < {low} OR {col} > {high}")
            if bad:
                items.append((" OR ".join(bad), _text_list([inp.name])))
        # Built only for a patient with a problem: most patients have none.
        values = ("CASE WHEN " + " OR ".join(f"({b})" for b, _ in items) +
                  " THEN list_filter(CAST([" +
                  ", ".join(f"CASE WHEN {b} THEN {k} END" for b, k in items) +
                  "] AS VARCHAR[][]), lambda guidec_p: guidec_p IS NOT NULL) "
                  "ELSE CAST([] AS VARCHAR[][]) END") if items else "CAST([] AS VARCHAR[][])"
        conds = [f"NOT {self.ex.sql(a.condition.expr)}" for a in self.model.assumptions]
        broken = [f"CASE WHEN {c} THEN {_text_list(list(a.inputs))} END"
                  for c, a in zip(conds, self.model.assumptions, strict=True)]
        assumed = ("CASE WHEN " + " OR ".join(f"({c})" for c in conds) +
                   " THEN list_filter(CAST([" + ", ".join(broken) + "] AS VARCHAR[][]), "
                   "lambda guidec_p: guidec_p IS NOT NULL) ELSE CAST([] AS VARCHAR[][]) END"
                   ) if broken else "CAST([] AS VARCHAR[][])"
        return values, assumed

    def source(self) -> str:
        model = self.model
        for name in [*model.inputs, *model.lets]:
            if name.lower().startswith("guidec_"):
                raise Unsupported(f"a name beginning `guidec_` (`{name}`), which the SQL's own "
                                  "columns and lambdas use")
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
        signature = self.signature()
        ctes.append(("scalars", [f"{e} AS {ident(c)}" for c, e in signature]))
        cols = [ident(c) for c, _ in signature]
        walk_ctes: list[tuple[str, list[str]]] = []
        for level in _node_levels(model):
            walk_ctes.append((f"walk_{len(walk_ctes)}", [
                f"{self.node_events(n)} AS {ident('e:' + n)}" for n in level]))
        walk = _concat([ident(f"e:{s}") for s in model.pathway.start])
        walk_ctes.append(("walked", [f"{walk} AS guidec_all"]))
        walk_ctes.append(("firsts", [f"{_firsts('guidec_all')} AS guidec_events"]))
        lines = ["-- Generated by guidec from " + model.filename.rsplit("/", 1)[-1] +
                 f" (guideline {model.meta.id} {model.meta.version}, {model.meta.status}, "
                 f"SHA-256 {model.source_sha256}).",
                 "-- Reads the relation `patients` (one column per input, NULL is unknown); "
                 "do not edit: regenerate it with `guidec build -t sql`.",
                 "WITH"]
        lines += _chain(ctes, "patients")
        lines[-1] += ","
        # The walk once per distinct signature of a valid patient, then joined back.
        signatures = ", ".join(cols) if cols else "1 AS guidec_one"
        lines.append(f"  signatures AS (SELECT DISTINCT {signatures} FROM "
                     f"{ctes[-1][0]} WHERE len({ident('guidec_problems')}) = 0),")
        lines += _chain(walk_ctes, "signatures")
        lines[-1] += ","
        recs = "list_filter(guidec_events, lambda guidec_r: guidec_r.t = 'r')"
        results = [
            f"list_transform(list_filter({recs}, lambda guidec_f, guidec_i: "
            f"list_position(list_transform({recs}, lambda guidec_x: guidec_x.a), "
            "guidec_f.a) = guidec_i), lambda guidec_e: {'id': guidec_e.a, "
            "'strength': guidec_e.s, 'step': guidec_e.n}) AS guidec_recommendations",
            "list_transform(list_filter(guidec_events, lambda guidec_e: guidec_e.t = 'w'), "
            "lambda guidec_e: {'decision': guidec_e.n, 'inputs': guidec_e.w}) "
            "AS guidec_pending",
            "list_transform(list_filter(guidec_events, lambda guidec_e: guidec_e.t = 'v'), "
            "lambda guidec_e: guidec_e.n) AS guidec_path",
            "list_transform(list_filter(guidec_events, lambda guidec_e: guidec_e.t = 's'), "
            "lambda guidec_e: {'decision': guidec_e.n, 'reason': guidec_e.a}) "
            "AS guidec_stuck"]
        keys = cols if cols else ["guidec_one"]
        lines.append("  outcomes AS (SELECT " + ", ".join([*keys, *results]) + " FROM firsts)")
        hidden = [*(ident("let:" + n) for n in model.lets), *cols]
        on = " AND ".join(f"p.{c} = o.{c}" for c in cols) or "TRUE"
        lines.append("SELECT p.*" + (" EXCLUDE (" + ", ".join(hidden) + ")" if hidden else "") +
                     ", " +
                     ", ".join(f"o.guidec_{k}" for k in ("recommendations", "pending", "path",
                                                          "stuck")))
        lines.append(f"FROM {ctes[-1][0]} AS p LEFT JOIN outcomes AS o ON "
                     f"len(p.{ident('guidec_problems')}) = 0 AND {on}")
        return "\n".join(lines) + "\n"

    def _default(self, inp: m.Input) -> str:
        d = inp.default
        if isinstance(d, bool):
            return "TRUE" if d else "FALSE"
        if isinstance(d, Fraction):
            return _num(d)
        if isinstance(d, str):
            return lit(d)
        if isinstance(d, frozenset):
            return _text_list([v for v in inp.values if v in d])
        raise Unsupported(f"a default on a {inp.kind} input")


def _chain(ctes: list[tuple[str, list[str]]], source: str) -> list[str]:
    """CTEs each selecting everything of the one before, and its own columns."""
    lines = []
    prev = source
    for i, (name, cols) in enumerate(ctes):
        head = cols[0] if cols and cols[0].startswith("* REPLACE") else "*"
        own = cols[1:] if head != "*" else cols
        body = ",\n    ".join([head, *own])
        sep = "," if i + 1 < len(ctes) else ""
        lines.append(f"  {name} AS (SELECT\n    {body}\n  FROM {prev}){sep}")
        prev = name
    return lines


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

