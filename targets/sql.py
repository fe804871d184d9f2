"""The guideline as SQL over a table of patients (``guidec build FILE -o DIR -t sql``).

``DIR/<id>.sql`` is one query (DuckDB's dialect) over a relation named ``patients``, one column
per input (NULL is unknown); ``<id>.spark.sql`` is the same query for Spark (:func:`transpile`).
Per patient it yields the columns that are not inputs (a patient's id), passed through, and
``guidec_problems`` (each problem's keys: the evaluator's validation), and for a valid patient
``guidec_recommendations`` (id, strength, step; in path order, each action once),
``guidec_pending`` (decision, inputs), ``guidec_path`` and ``guidec_stuck`` (decision,
reason); an invalid patient gets its problems and NULL for the rest, as ``evaluate`` decides.
(``input_problems``, for the cohort engine: also the values' problems alone.)

How it keeps the interpreter's meaning:
- Conditions are SQL's three-valued logic, which is Kleene's: ``AND``/``OR``/``NOT`` over NULL
  agree with the interpreter's unknown. A branch is taken by ``CASE WHEN c``, waits by
  ``c IS NULL``; nothing depends on ``IS TRUE``, which some dialects rewrite. A number is
  compared with a constant exactly as the interpreter's fractions compare it (a duration's
  scale moved onto the constant; a constant no double's shortest text equals, such as 1.5 mg/dL
  in umol/L, replaced by the nearest double on the right side).
- Two phases, for speed. Per patient, only integers: a bit per invalid value and broken
  assumption; each decision's and conditional recommendation's outcome (with which inputs are
  unknown when it waits), zero where the walk does not go; packed into BIGINT keys. Then, once
  per distinct key (about 1,400 among a million random patients), the problems and the walk:
  each node's place is its least path from the start, and the events of each kind sorted by it
  are the interpreter's depth-first order, each node once (a node's first visit is along its
  least path). One join hands each patient its row.
- Only constructs that mean the same in every claimed dialect (:data:`DIALECTS`): no index
  lambdas, no list searching, ``date_diff`` and ``hour``/``minute``/``second`` for times.

Columns: BOOLEAN, a number, VARCHAR for a choice, VARCHAR[] for a set, DATE and TIMESTAMP
(UTC) for dates and times; a value is in the input's own unit. In the results, the names
(nodes, actions, inputs, strengths, reasons) are ENUMs in DuckDB and text in Spark.
"""

from __future__ import annotations

import math
from collections.abc import Callable
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


def _one_of(x: str, values: tuple[str, ...] | list[str]) -> str:
    """``x IN (...)`` as equalities (the same three-valued result; DuckDB evaluates a short
    chain of equalities faster than IN)."""
    return "(" + " OR ".join(f"{x} = {lit(v)}" for v in values) + ")"


def _enum(values: list[str]) -> str:
    """DuckDB's type of one of ``values`` (VARCHAR when there are none: an ENUM has some);
    written as VARCHAR in the other dialects (:func:`transpile`)."""
    if not values:
        return "VARCHAR"
    return "ENUM(" + ", ".join(lit(v) for v in values) + ")"


def _text_list(items: list[str]) -> str:
    return "CAST([" + ", ".join(lit(i) for i in items) + "] AS VARCHAR[])"


class _Exprs:
    """Model expressions as SQL (lets read from their columns)."""

    def __init__(self, model: m.Model, ref: dict[str, str]) -> None:
        self.model = model
        self.ref = ref
        #: The choices (enum inputs), each with its value's number in ``e:<input>``.
        self.choices = [n for n, i in model.inputs.items() if i.kind == "enum"]

    def sql(self, e: m.Expr) -> str:
        if isinstance(e, m.Const):
            if isinstance(e.value, bool):
                return "TRUE" if e.value else "FALSE"
            if isinstance(e.value, Fraction):
                return _num(e.value)
            return lit(e.value)
        if isinstance(e, m.InputRef):
            inp = self.model.inputs[e.name]
            col = self.ref[e.name]
            # Days and whole seconds since 1970 (UTC), as the interpreter counts, in
            # functions every claimed dialect has (a fraction of a second is dropped, as
            # the interpreter drops it: floor, also before 1970).
            if inp.kind == "date":
                return f"date_diff('day', DATE '1970-01-01', {col})"
            if inp.kind == "datetime":
                return (f"(date_diff('day', DATE '1970-01-01', CAST({col} AS DATE)) * 86400 + "
                        f"hour({col}) * 3600 + minute({col}) * 60 + second({col}))")
            return col
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
            chosen = self._choice(e)
            if chosen is not None:
                return chosen
            near = self._threshold(e)
            if near is not None:
                return near
            op = {"==": "=", "!=": "<>"}.get(e.op, e.op)
            return f"({self.sql(e.left)} {op} {self.sql(e.right)})"
        if isinstance(e, m.Contains):
            return f"list_contains({self.sql(e.operand)}, {lit(e.value)})"
        if isinstance(e, m.Member):
            if isinstance(e.operand, m.InputRef) and e.operand.name in self.choices:
                values = self.model.inputs[e.operand.name].values
                code = ident(f"e:{e.operand.name}")
                return "(" + " OR ".join(f"{code} = {values.index(v)}" for v in e.values) + ")"
            return _one_of(self.sql(e.operand), e.values)
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

    def _choice(self, e: m.Cmp) -> str | None:
        """A choice compared with one of its values: the value's number against the choice's
        (``e:<input>``, computed once per patient; string comparisons cost more)."""
        left, right = e.left, e.right
        if isinstance(left, m.Const):
            left, right = right, left
        if isinstance(left, m.InputRef) and left.name in self.choices and \
                isinstance(right, m.Const) and isinstance(right.value, str) and \
                e.op in ("==", "!="):
            values = self.model.inputs[left.name].values
            if right.value in values:
                op = "=" if e.op == "==" else "<>"
                return f"({ident('e:' + left.name)} {op} {values.index(right.value)})"
        return None

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
        x = self.ref[left.name]
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


_NO_INPUTS = "CAST([] AS VARCHAR[])"

#: The kinds of event of the walk, each a list of structs: ``k``, the sort key (the node's
#: place in the depth-first walk, then the event's place in the node; NULL when it did not
#: happen), and the fields of its result; for a recommendation also ``f``, whether it is the
#: action's first. An empty list's type comes from a dummy element without a key.
_EVENTS = {
    "visits": "{'k': CAST(NULL AS VARCHAR), 'n': ''}",
    "recommends": "{'k': CAST(NULL AS VARCHAR), 'f': FALSE, 'id': '', 'strength': '', "
                  "'step': ''}",
    "waits": f"{{'k': CAST(NULL AS VARCHAR), 'decision': '', 'inputs': {_NO_INPUTS}}}",
    "stuck": "{'k': CAST(NULL AS VARCHAR), 'decision': '', 'reason': ''}",
}


def _visit(key: str, node: str) -> tuple[str, str]:
    return "visits", f"{{'k': {key}, 'n': {lit(node)}}}"


def _wait(key: str, node: str, inputs: str) -> tuple[str, str]:
    return "waits", f"{{'k': {key}, 'decision': {lit(node)}, 'inputs': {inputs}}}"


def _stuck(key: str, node: str, reason: str) -> tuple[str, str]:
    return "stuck", f"{{'k': {key}, 'decision': {lit(node)}, 'reason': {lit(reason)}}}"


def _present(items: list[tuple[str, str]]) -> str:
    """The texts whose conditions hold, in order (a VARCHAR[])."""
    if not items:
        return _NO_INPUTS
    listed = ", ".join(f"CASE WHEN {c} THEN {lit(t)} END" for c, t in items)
    return f"list_filter(CAST([{listed}] AS VARCHAR[]), lambda guidec_x: guidec_x IS NOT NULL)"


def _mask(names: list[str], ref: dict[str, str]) -> str:
    """A bit per input that is unknown (0 when the list is empty)."""
    if not names:
        return "0"
    return "(" + " + ".join(f"CASE WHEN {ref[n]} IS NULL THEN {1 << b} ELSE 0 END"
                            for b, n in enumerate(names)) + ")"


def _bit(value: str, b: int) -> str:
    """Whether bit ``b`` of a non-negative integer expression is set (integer division and
    remainder, which every claimed dialect has)."""
    return f"(({value}) // {1 << b}) % 2 = 1" if b else f"({value}) % 2 = 1"


class _Code:
    """One scalar of a patient's signature: its column, its SQL (0 .. size - 1) and size."""

    def __init__(self, column: str, node: str, expr: str, size: int) -> None:
        self.column, self.node, self.expr, self.size = column, node, expr, size
        self.key = 0  # which packed key holds it
        self.scale = 1  # and at which place


class _Keys:
    """The sort keys of a node's events, in order: the node's path, a dot, a number (below
    every child's path, whose next character is a digit); NULL unless ``cond`` holds."""

    def __init__(self, path: str) -> None:
        self.path, self.count = path, 0

    def __call__(self, cond: str | None = None) -> str:
        self.count += 1
        k = f"{self.path} || {lit(f'.{self.count:02d}')}"
        return k if cond is None else f"CASE WHEN {cond} THEN {k} END"


_MAX_KEY = 1 << 62  # a packed key stays a positive BIGINT
#: The most text the reach of every node may take written out in one CTE (beyond it, a
#: pathway with many joins, a CTE per level keeps the text linear).
_INLINE_REACH = 20_000


class _Query:
    """The query of one model (see the module's docstring for its two phases)."""

    def __init__(self, model: m.Model, input_problems: bool = False) -> None:
        self.model = model
        self.input_problems = input_problems
        #: The SQL of each input's value: its column, or its column with the default.
        self.ref = {n: ident(f"d:{n}" if i.default is not None else n)
                    for n, i in model.inputs.items()}
        self.ex = _Exprs(model, self.ref)
        #: Each condition's column and SQL, filled by :meth:`codes`.
        self.conditions: list[tuple[str, str]] = []

    # Phase 1, per patient: the outcome of each decision and each conditional recommendation,
    # with which of their inputs are unknown when they wait, as small integers packed into as
    # few BIGINT keys as hold them (an invalid patient's keys say only its problems).
    def condition(self, column: str, e: m.Expr) -> str:
        """A condition's column (``c:...``), computed once, before the codes that read it."""
        self.conditions.append((column, self.ex.sql(e)))
        return ident(column)

    def codes(self) -> list[_Code]:
        """The outcome code of every decision and conditional recommendation."""
        self.conditions = []
        out: list[_Code] = []
        for node in self.model.pathway.nodes.values():
            if isinstance(node, m.Decision):
                out.append(self.decision_code(node))
            elif isinstance(node, m.Step):
                for site in node.recommends:
                    if site.condition is not None:
                        names = list(m.inputs_of(site.condition.expr))
                        c = self.condition(f"c:{node.id}:{site.index}", site.condition.expr)
                        out.append(_Code(
                            f"s:{node.id}:{site.index}", node.id,
                            f"COALESCE(CAST({c} AS INTEGER), 2 + {_mask(names, self.ref)})",
                            2 + (1 << len(names))))
        return out

    def decision_code(self, d: m.Decision) -> _Code:
        """0 none of the branches (otherwise, or a gap); 1 + i branch i. `first`: from
        1 + k, waiting at branch i with the bits of its unknown inputs. `unique`: 1 + k
        overlap; from 2 + k, waiting, with a bit per unknown branch and one per unknown input
        of any branch."""
        conds = [self.condition(f"c:{d.id}:{b.index}", b.condition.expr) for b in d.branches]
        k = len(conds)
        if d.policy == "first":
            arms, base = [], 1 + k
            for i, (c, b) in enumerate(zip(conds, d.branches, strict=True)):
                names = list(m.inputs_of(b.condition.expr))
                arms.append(f"WHEN {c} THEN {1 + i} WHEN {c} IS NULL THEN "
                            f"{base} + {_mask(names, self.ref)}")
                base += 1 << len(names)
            return _Code(f"o:{d.id}", d.id, "CASE " + " ".join(arms) + " ELSE 0 END", base)
        union = self.union(d)
        trues = " + ".join(f"CASE WHEN {c} THEN 1 ELSE 0 END" for c in conds)
        unknown = " + ".join(f"CASE WHEN {c} IS NULL THEN {1 << i} ELSE 0 END"
                             for i, c in enumerate(conds))
        arms = [f"WHEN {trues} > 1 THEN {1 + k}",
                "WHEN " + " OR ".join(f"{c} IS NULL" for c in conds) +
                f" THEN {2 + k} + ({unknown}) * {1 << len(union)} + {_mask(union, self.ref)}",
                *(f"WHEN {c} THEN {1 + i}" for i, c in enumerate(conds))]
        return _Code(f"o:{d.id}", d.id, "CASE " + " ".join(arms) + " ELSE 0 END",
                     2 + k + (1 << (k + len(union))))

    def union(self, d: m.Decision) -> list[str]:
        names: list[str] = []
        for b in d.branches:
            names.extend(i for i in m.inputs_of(b.condition.expr) if i not in names)
        return names

    @staticmethod
    def pack(codes: list[_Code], reached: bool) -> list[str]:
        """Set each code's key and place; the SQL of each key (0 when there is nothing to
        pack). With ``reached``, a node the walk does not reach counts as 0, so that patients
        who differ only there share a signature (fewer walks in phase 2)."""
        keys: list[list[_Code]] = [[]]
        scale = 1
        for c in codes:
            if c.size > _MAX_KEY:
                raise Unsupported(f"the decision or recommendation `{c.column[2:]}`, whose "
                                  "condition reads more inputs than a 62-bit key holds")
            if scale * c.size > _MAX_KEY:
                keys.append([])
                scale = 1
            c.key, c.scale = len(keys) - 1, scale
            keys[-1].append(c)
            scale *= c.size
        if not reached:  # flags (0 or 1): each condition gives its place directly
            return [" + ".join(f"CASE WHEN {c.expr} THEN CAST({c.scale} AS BIGINT) ELSE 0 END"
                               for c in key) or "0" for key in keys]
        return [" + ".join(f"CAST(CASE WHEN {ident('r:' + c.node)} THEN {ident(c.column)} "
                           "ELSE 0 END AS BIGINT)" + (f" * {c.scale}" if c.scale > 1 else "")
                           for c in key) or "0" for key in keys]

    @staticmethod
    def decoded(codes: list[_Code], keys: list[str]) -> list[str]:
        """Each code again, from its key (phase 2)."""
        return [(f"({keys[c.key]} // {c.scale}) % {c.size}" if c.scale > 1
                 else f"{keys[c.key]} % {c.size}") + f" AS {ident(c.column)}" for c in codes]

    # Phase 2, per distinct signature: where the walk goes and what happens there.
    def edges(self) -> dict[str, list[tuple[str | None, str | None, int]]]:
        """Into each node: (from node, the condition on its outcome ``o:<node>``, child
        number), with (None, None, j) for the j-th start."""
        nodes = self.model.pathway.nodes
        into: dict[str, list[tuple[str | None, str | None, int]]] = {n: [] for n in nodes}
        for j, t in enumerate(self.model.pathway.start):
            into[t].append((None, None, j))
        for nid, node in nodes.items():
            if isinstance(node, m.Step):
                for j, t in enumerate(node.next):
                    into[t].append((nid, None, j))
            elif isinstance(node, m.Decision):
                o = ident(f"o:{nid}")
                arms = [(f"{o} = {1 + b.index}", b.targets) for b in node.branches]
                if node.otherwise is not None:
                    arms.append((f"{o} = 0", node.otherwise.targets))
                for cond, targets in arms:
                    for j, t in enumerate(targets):
                        into[t].append((nid, cond, j))
        return into

    def levels(self, column: Callable[[str, list[tuple[str | None, str | None, int]]], str]
               ) -> list[list[tuple[str, str]]]:
        """A column per node, by levels from the start (each reads only earlier levels)."""
        nodes = self.model.pathway.nodes
        into = self.edges()
        level: dict[str, int] = {}

        def depth(nid: str) -> int:
            if nid not in level:
                level[nid] = 1 + max((depth(q) for q, _, _ in into[nid] if q is not None),
                                     default=-1)
            return level[nid]

        out: list[list[tuple[str, str]]] = [[] for _ in nodes]
        for nid in nodes:
            out[depth(nid)].append((nid, column(nid, into[nid])))
        return [lv for lv in out if lv]

    def reach_inlined(self) -> dict[str, str] | None:
        """``r:<node>`` for every node in terms of the outcomes alone (a predecessor's
        condition written out where it is read), or None when that text would pass
        :data:`_INLINE_REACH`: a chain of joins doubles it at each join, so its length is
        counted before any text is built."""
        into = self.edges()
        sizes: dict[str, int] = {}

        def size(nid: str) -> int:  # the length of of(nid), below
            if nid not in sizes:
                ways = [4 if q is None else size(q) + 2 if c is None else size(q) + 7 + len(c)
                        for q, c, _ in into[nid]]
                sizes[nid] = sum(ways) + 4 * (len(ways) - 1) if ways else 5
            return sizes[nid]

        if sum(size(n) for n in self.model.pathway.nodes) > _INLINE_REACH:
            return None
        done: dict[str, str] = {}

        def of(nid: str) -> str:
            if nid not in done:
                ways = ["TRUE" if q is None else f"({of(q)})" if c is None
                        else f"({of(q)} AND {c})" for q, c, _ in into[nid]]
                done[nid] = " OR ".join(ways) if ways else "FALSE"
            return done[nid]

        return {n: of(n) for n in self.model.pathway.nodes}

    @staticmethod
    def reach(nid: str, into: list[tuple[str | None, str | None, int]]) -> str:
        """``r:<node>``: whether the walk reaches the node (per patient, phase 1)."""
        ways = ["TRUE" if q is None else ident(f"r:{q}") if c is None
                else f"({ident(f'r:{q}')} AND {c})" for q, c, _ in into]
        return " OR ".join(ways) if ways else "FALSE"

    @staticmethod
    def path(nid: str, into: list[tuple[str | None, str | None, int]]) -> str:
        """``p:<node>`` (per signature, phase 2): the least (lexicographic) path to the node
        along the edges taken, each step a two-digit child number; NULL where the walk does
        not go. A depth-first walk that visits each node once meets nodes in exactly this
        order (a node's first visit is along its least path), so sorting the events by path
        gives the interpreter's order with no list searching."""
        ways = [lit(f"{j:02d}") if q is None else
                f"{ident(f'p:{q}')} || {lit(f'{j:02d}')}" if c is None else
                f"CASE WHEN {c} THEN {ident(f'p:{q}')} || {lit(f'{j:02d}')} END"
                for q, c, j in into]
        if not ways:
            return "CAST(NULL AS VARCHAR)"
        return ways[0] if len(ways) == 1 else "least(" + ", ".join(ways) + ")"

    def events(self) -> tuple[list[tuple[str, str]], dict[str, str]]:
        """The first-recommendation keys (``f:<action>``), and each kind of event as one
        list, sorted into the walk's order (an event that did not happen has no key)."""
        model = self.model
        items: list[tuple[str, str]] = []
        firsts: dict[str, list[str]] = {}
        recs: list[tuple[str, str, str]] = []
        for nid, node in model.pathway.nodes.items():
            key = _Keys(ident(f"p:{nid}"))
            items.append(_visit(key(), nid))
            if isinstance(node, m.Step):
                for site in node.recommends:
                    s = ident(f"s:{nid}:{site.index}")
                    fires = None if site.condition is None else f"{s} = 1"
                    for a in site.actions:
                        k = key(fires)
                        firsts.setdefault(a, []).append(k)
                        recs.append((k, a, nid))
                    if site.condition is not None:
                        names = list(m.inputs_of(site.condition.expr))
                        items.append(_wait(key(f"{s} >= 2"), nid, _present(
                            [(_bit(f"{s} - 2", b), n) for b, n in enumerate(names)])))
            elif isinstance(node, m.Decision):
                items += self.decision_events(node, key)
        for k, a, nid in recs:
            items.append(("recommends", f"{{'k': {k}, 'f': {k} = {ident('f:' + a)}, "
                                        f"'id': {lit(a)}, "
                                        f"'strength': {lit(model.actions[a].strength)}, "
                                        f"'step': {lit(nid)}}}"))
        first_cols = [(f"f:{a}", ks[0] if len(ks) == 1 else "least(" + ", ".join(ks) + ")")
                      for a, ks in firsts.items()]
        lists = {}
        for kind, dummy in _EVENTS.items():
            listed = [e for t, e in items if t == kind] or [dummy]
            lists[kind] = ("list_sort(list_filter([" + ", ".join(listed) +
                           "], lambda guidec_e: guidec_e.k IS NOT NULL))")
        return first_cols, lists

    def decision_events(self, d: m.Decision, key: _Keys) -> list[tuple[str, str]]:
        o = ident(f"o:{d.id}")
        k = len(d.branches)
        out: list[tuple[str, str]] = []
        if d.otherwise is None:
            out.append(_stuck(key(f"{o} = 0"), d.id, "gap"))
        if d.policy == "first":
            base = 1 + k
            for b in d.branches:
                names = list(m.inputs_of(b.condition.expr))
                size = 1 << len(names)
                here = f"{o} >= {base} AND {o} < {base + size}"
                out.append(_wait(key(here), d.id, _present(
                    [(_bit(f"{o} - {base}", i), n) for i, n in enumerate(names)])))
                base += size
            return out
        union = self.union(d)
        out.append(_stuck(key(f"{o} = {1 + k}"), d.id, "overlap"))
        # The inputs of each unknown branch in turn, each input once (its first mention).
        shift = len(union)
        listed: list[tuple[str, str]] = []
        for i, b in enumerate(d.branches):
            earlier = [j for j in range(i)]
            for n in m.inputs_of(b.condition.expr):
                if any(n in m.inputs_of(d.branches[j].condition.expr) for j in earlier):
                    before = " OR ".join(
                        _bit(f"{o} - {2 + k}", shift + j) for j in earlier
                        if n in m.inputs_of(d.branches[j].condition.expr))
                    cond = (f"{_bit(f'{o} - {2 + k}', shift + i)} AND "
                            f"{_bit(f'{o} - {2 + k}', union.index(n))} AND NOT ({before})")
                else:
                    cond = (f"{_bit(f'{o} - {2 + k}', shift + i)} AND "
                            f"{_bit(f'{o} - {2 + k}', union.index(n))}")
                listed.append((cond, n))
        out.append(_wait(key(f"{o} >= {2 + k}"), d.id, _present(listed)))
        return out

    def problems(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(input, condition) of each input's value that is not valid, then (condition, keys)
        of each assumption that does not hold."""
        items: list[tuple[str, str]] = []
        for inp in self.model.inputs.values():
            col = ident(inp.name)
            bad: list[str] = []
            if not inp.may_be_absent:
                bad.append(f"{col} IS NULL")
            if inp.kind == "enum":  # a value the choice does not have has no number
                bad.append(f"{col} IS NOT NULL AND {ident('e:' + inp.name)} IS NULL")
            if inp.kind in ("integer", "number"):
                low, high, step = inp.low, inp.high, inp.step
                # NaN sorts above every number in both claimed engines, and the infinities
                # lie outside any bounds: only an input without both needs `x - x <> 0`
                # (0 for every finite double only).
                if low is None or high is None:
                    bad.append(f"{col} - {col} <> 0")
                if low is not None:
                    bad.append(f"{col} {'<=' if inp.low_open else '<'} {_num(low)}")
                if high is not None:
                    bad.append(f"{col} {'>=' if inp.high_open else '>'} {_num(high)}")
                start = low or Fraction(0)
                whole = step is not None and step.denominator == 1 and start.denominator == 1
                if inp.kind == "integer" and not whole:
                    bad.append(f"{col} % 1 <> 0")
                if step is not None:  # a whole step from a whole start: whole values too
                    shifted = col if start == 0 else f"({col} - {_num(start)})"
                    bad.append(f"{shifted} % {_num(step)} <> 0" if step.denominator == 1
                               else f"({shifted} / {_num(step)}) % 1 <> 0")
            if inp.kind == "set":
                allowed = ", ".join(lit(v) for v in inp.values)
                bad.append(f"array_length(list_filter({col}, lambda guidec_v: guidec_v IS NULL "
                           f"OR guidec_v NOT IN ({allowed}))) > 0")
                bad.append(f"array_length(list_distinct({col})) <> array_length({col})")
            if inp.kind in ("date", "datetime"):
                first, last = ("DATE '1900-01-01'", "DATE '2200-12-31'") \
                    if inp.kind == "date" else ("TIMESTAMP '1900-01-01 00:00:00'",
                                                "TIMESTAMP '2200-12-31 23:59:59'")
                bad.append(f"{col} < {first} OR {col} > {last}")
            if bad:
                items.append((inp.name, " OR ".join(f"({b})" for b in bad)))
        assumed = [(f"NOT {self.ex.sql(a.condition.expr)}", _text_list(list(a.inputs)))
                   for a in self.model.assumptions]
        return items, assumed

    def source(self) -> str:
        model = self.model
        for name in [*model.inputs, *model.lets]:
            if name.lower().startswith("guidec_"):
                raise Unsupported(f"a name beginning `guidec_` (`{name}`), which the SQL's own "
                                  "columns and lambdas use")
        # Phase 1, per patient, in a chain of CTEs: defaults, lets, then every code (a bit per
        # value problem and per broken assumption; an outcome per decision and conditional
        # recommendation), where the walk goes, and the codes packed into keys.
        ctes: list[tuple[str, list[str]]] = []
        defaults = [f"COALESCE({ident(i.name)}, {self._default(i)}) AS {self.ref[i.name]}"
                    for i in model.inputs.values() if i.default is not None]
        if defaults:
            ctes.append(("with_defaults", defaults))
        if self.ex.choices:
            ctes.append(("chosen", [
                f"CASE {self.ref[n]} " + " ".join(f"WHEN {lit(v)} THEN {k}" for k, v in
                                                   enumerate(model.inputs[n].values)) +
                f" END AS {ident('e:' + n)}" for n in self.ex.choices]))
        for level in _let_levels(model):
            ctes.append((f"lets_{len(ctes)}", [
                f"{self.ex.sql(model.lets[n].expr)} AS {ident('let:' + n)}" for n in level]))
        values, assumed = self.problems()
        flags = [_Code(f"v:{name}", "", c, 2) for name, c in values]
        flags += [_Code(f"a:{i}", "", c, 2) for i, (c, _) in enumerate(assumed)]
        codes = self.codes()
        qs = self.pack(flags, reached=False)
        q_cols = [f"guidec_q{i}" for i in range(len(qs))]
        ctes.append(("conditions", [*(f"{e} AS {ident(c)}" for c, e in self.conditions),
                                    *(f"{q} AS {col}" for q, col in zip(qs, q_cols,
                                                                        strict=True))]))
        ctes.append(("coded", [f"{c.expr} AS {ident(c.column)}" for c in codes]))
        inlined = self.reach_inlined()
        if inlined is not None:
            # One CTE: each level is a CTE the engine must plan (a few ms apiece).
            ctes.append(("reached", [f"{e} AS {ident('r:' + n)}" for n, e in inlined.items()]))
        else:
            for reached in self.levels(self.reach):
                ctes.append((f"reached_{len(ctes)}", [f"{e} AS {ident('r:' + n)}"
                                                      for n, e in reached]))
        ks = self.pack(codes, reached=True)
        k_cols = [f"guidec_k{i}" for i in range(len(ks))]
        valid = " AND ".join(f"{q} = 0" for q in q_cols)
        made = [*(self.ref[i.name] for i in model.inputs.values() if i.default is not None),
                *(ident("let:" + n) for n in model.lets),
                *(ident("e:" + n) for n in self.ex.choices),
                *(ident(c) for c, _ in self.conditions), *(ident(c.column) for c in codes),
                *(ident("r:" + n) for n in model.pathway.nodes), *map(ident, model.inputs),
                q_cols[0]]
        # The join key: a valid patient's first outcome key (never negative), or -1 minus an
        # invalid patient's first problem key; any further keys beside it (an invalid
        # patient's outcome keys are -1). One BIGINT joins most guidelines' patients to
        # their problems and their outcome.
        ctes.append(("keyed", [
            f"CASE WHEN {valid} THEN {ks[0]} ELSE -1 - {q_cols[0]} END AS guidec_j0",
            *(f"CASE WHEN {valid} THEN {k} ELSE -1 END AS {col}"
              for k, col in zip(ks[1:], k_cols[1:], strict=True))]))
        lines = ["-- Generated by guidec from " + model.filename.rsplit("/", 1)[-1] +
                 f" (guideline {model.meta.id} {model.meta.version}, {model.meta.status}, "
                 f"SHA-256 {model.source_sha256}).",
                 "-- Reads the relation `patients` (one column per input, NULL is unknown); "
                 "do not edit: regenerate it with `guidec build -t sql`.",
                 f"-- Claimed dialects: DuckDB (`{model.meta.id}.sql`) and Spark "
                 f"(`{model.meta.id}.spark.sql`), the engines its tests run it on; sqlglot "
                 "writes others, untested.",
                 "WITH"]
        # The keys are computed once and kept (they are read twice), alone with the columns
        # that are not inputs (a patient's id), which pass through.
        lines += _chain(ctes, "patients", materialized={"keyed": True},
                        star={"keyed": "* EXCLUDE (" + ", ".join(made) + ")"})
        lines[-1] += ","
        # Phase 2, once per distinct pair of keys: the problems, and the walk.
        keys = ["guidec_j0", *q_cols[1:], *k_cols[1:]]
        lines.append("  signatures AS (SELECT DISTINCT " + ", ".join(keys) + " FROM keyed),")
        empty = "CAST([] AS VARCHAR[][])"

        def listing(items: list[tuple[str, str]]) -> str:
            if not items:
                return empty
            return ("list_filter(CAST([" + ", ".join(f"CASE WHEN {c} = 1 THEN {k} END"
                                                     for c, k in items) +
                    "] AS VARCHAR[][]), lambda guidec_p: guidec_p IS NOT NULL)")

        of_values = listing([(ident(f"v:{n}"), _text_list([n])) for n, _ in values])
        of_assumptions = listing([(ident(f"a:{i}"), named)
                                  for i, (_, named) in enumerate(assumed)])
        any_value = " OR ".join(f"{ident(f'v:{n}')} = 1" for n, _ in values) or "FALSE"
        listed = [f"CASE WHEN {any_value} THEN {of_values} ELSE {of_assumptions} END "
                  "AS guidec_problems"]
        if self.input_problems:
            listed.append(f"{of_values} AS guidec_input_problems")
        walk: list[tuple[str, list[str]]] = [
            ("unpacked", [f"CASE WHEN guidec_j0 < 0 THEN -1 - guidec_j0 ELSE 0 END AS "
                          f"{q_cols[0]}", "CASE WHEN guidec_j0 >= 0 THEN guidec_j0 ELSE -1 END "
                          f"AS {k_cols[0]}"]),
            ("problem_codes", self.decoded(flags, q_cols)), ("problem_lists", listed),
            ("codes", self.decoded(codes, k_cols))]
        for paths in self.levels(self.path):
            walk.append((f"paths_{len(walk)}", [f"{e} AS {ident('p:' + n)}" for n, e in paths]))
        first_cols, lists = self.events()
        if first_cols:
            walk.append(("firsts", [f"{e} AS {ident(c)}" for c, e in first_cols]))
        walk.append(("walked", [f"{e} AS guidec_ev_{kind}" for kind, e in lists.items()]))
        lines += _chain(walk, "signatures")
        lines[-1] += ","
        ok = f"CASE WHEN {valid} THEN "  # an invalid patient has no outcome
        # The names in the results are ENUMs (a byte or two each, not a string): every
        # patient's row copies them, and strings made half the query's time.
        node, action, name = (_enum(list(self.model.pathway.nodes)),
                              _enum(list(self.model.actions)), _enum(list(self.model.inputs)))
        strength = _enum(sorted({a.strength for a in self.model.actions.values()}))
        results = [
            f"CAST({ok}list_transform(list_filter(guidec_ev_recommends, lambda guidec_e: "
            "guidec_e.f), lambda guidec_e: {'id': guidec_e.id, 'strength': guidec_e.strength, "
            f"'step': guidec_e.step}}) END AS STRUCT(id {action}, strength {strength}, "
            f"step {node})[]) AS guidec_recommendations",
            f"CAST({ok}list_transform(guidec_ev_waits, lambda guidec_e: {{'decision': "
            "guidec_e.decision, 'inputs': guidec_e.inputs}) END AS STRUCT(decision "
            f"{node}, inputs {name}[])[]) AS guidec_pending",
            f"CAST({ok}list_transform(guidec_ev_visits, lambda guidec_e: guidec_e.n) END "
            f"AS {node}[]) AS guidec_path",
            f"CAST({ok}list_transform(guidec_ev_stuck, lambda guidec_e: {{'decision': "
            "guidec_e.decision, 'reason': guidec_e.reason}) END AS STRUCT(decision "
            f"{node}, reason {_enum(['gap', 'overlap'])})[]) AS guidec_stuck"]
        problem_cols = ["guidec_problems"] + (["guidec_input_problems"]
                                              if self.input_problems else [])
        problems = [f"CAST({c} AS {name}[][]) AS {c}" for c in problem_cols]
        lines.append("  outcomes AS (SELECT " + ", ".join([*keys, *problems, *results]) +
                     " FROM walked)")
        out = [f"o.{c}" for c in problem_cols]
        out += [f"o.guidec_{k}" for k in ("recommendations", "pending", "path", "stuck")]
        lines.append("SELECT p.* EXCLUDE (" + ", ".join(keys) + "), " + ", ".join(out))
        lines.append("FROM keyed AS p JOIN outcomes AS o ON " +
                     " AND ".join(f"p.{c} = o.{c}" for c in keys))
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


def _chain(ctes: list[tuple[str, list[str]]], source: str,
           materialized: dict[str, bool] | None = None,
           star: dict[str, str] | None = None) -> list[str]:
    """CTEs each selecting everything of the one before (or what ``star`` says), and its own
    columns."""
    lines = []
    prev = source
    for i, (name, cols) in enumerate(ctes):
        body = ",\n    ".join([(star or {}).get(name, "*"), *cols])
        sep = "," if i + 1 < len(ctes) else ""
        how = {True: "MATERIALIZED ", False: "NOT MATERIALIZED "}.get(
            (materialized or {}).get(name), "")  # type: ignore[arg-type]
        lines.append(f"  {name} AS {how}(SELECT\n    {body}\n  FROM {prev}){sep}")
        prev = name
    return lines


def _let_levels(model: m.Model) -> list[list[str]]:
    level: dict[str, int] = {}
    for name, let in model.lets.items():  # a let reads only lets declared before it
        deps = [e.name for e in m.subexpressions(let.expr, into_lets=False)
                if isinstance(e, m.LetRef)]
        level[name] = 1 + max((level[d] for d in deps if d in level), default=-1)
    return _grouped(level)


def _grouped(level: dict[str, int]) -> list[list[str]]:
    out: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name, k in level.items():
        out[k].append(name)
    return out


def generate(model: m.Model, input_problems: bool = False) -> str:
    """The query in DuckDB's dialect (raises :class:`Unsupported`); with ``input_problems``,
    also the column ``guidec_input_problems``: the problems of the values alone, before the
    assumptions are checked (the cohort engine merges them with the columns' type
    problems)."""
    return _Query(model, input_problems).source()


#: The dialects the SQL is claimed for: each is run on its engine by the tests, over every
#: true/false/unknown combination of each decision's conditions and against the interpreter.
#: sqlglot writes others (Trino, Snowflake, BigQuery, ...), but untested they are not claimed:
#: some rewrite constructs whose three-valued meaning matters (`x IS TRUE` to `x`).
DIALECTS = ("duckdb", "spark")


def transpile(text: str, dialect: str) -> str:
    """The DuckDB query in another claimed dialect, through sqlglot (the header comments
    kept as they are)."""
    if dialect == "duckdb":
        return text
    if dialect not in DIALECTS:
        raise Unsupported(f"the dialect `{dialect}` (claimed: {', '.join(DIALECTS)})")
    from importlib.metadata import version

    import sqlglot
    from sqlglot import exp

    lines = text.splitlines()
    header = [ln for ln in lines if ln.startswith("-- ")]
    body = "\n".join(ln for ln in lines if not ln.startswith("-- "))
    tree = sqlglot.parse_one(body, read="duckdb")
    for enum in list(tree.find_all(exp.DataType)):
        if enum.this == exp.DataType.Type.ENUM:  # DuckDB's: the names are text elsewhere
            enum.replace(exp.DataType.build("VARCHAR"))
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)  # a hint Spark does not take (it does not keep CTEs)
        if dialect == "spark" and cte.alias == "keyed":
            # Spark computes a CTE again wherever it is read; read through one identical
            # shuffle, the keys are computed once and the shuffle's output reused.
            cte.this.set("distribute", exp.Distribute(expressions=[exp.column("guidec_q0")]))
    if dialect == "spark" and isinstance(tree, exp.Select):
        # The outcomes are a row per distinct pair of keys: sent to every worker, they join
        # the patients where they lie (Spark cannot estimate their size, and might send the
        # patients instead).
        tree.set("hint", exp.Hint(expressions=[exp.Anonymous(
            this="BROADCAST", expressions=[exp.column("o")])]))
    out = tree.sql(dialect=dialect, pretty=True, unsupported_level=sqlglot.ErrorLevel.RAISE)
    return "\n".join([*header, f"-- {dialect.capitalize()} SQL, transpiled by sqlglot "
                       f"{version('sqlglot')} from the DuckDB query.", out]) + "\n"


def emit(model: m.Model, outdir: Path, request: BuildRequest) -> list[Emitted]:
    """Write ``<id>.sql`` (DuckDB) and ``<id>.<dialect>.sql`` for each other claimed dialect
    (format ``sql``)."""
    try:
        text = generate(model)
    except Unsupported as exc:
        return [Emitted(None, failed=True,
                        warning=f"the SQL was not written: it cannot express {exc} yet")]
    out = []
    for dialect in DIALECTS:
        name = f"{model.meta.id}.sql" if dialect == "duckdb" else \
            f"{model.meta.id}.{dialect}.sql"
        write_text(outdir / name, transpile(text, dialect))
        out.append(Emitted(outdir / name))
    return out
