"""The reference interpreter: the semantics of a checked guideline, for one patient.

This module defines what a guideline means; the solver encoding (``compiler.analysis``) and the
generated evaluator (``targets.python``) are both tested against it.

- Conditions are three-valued (Kleene): ``True``, ``False`` and ``None`` (unknown). A comparison
  that reads an unknown input is unknown; ``is known`` / ``is unknown`` never are.
- A `unique` decision takes the branch that is definitely true when every other branch is
  definitely false; a `first` decision takes the first branch that is definitely true when every
  earlier one is definitely false; `otherwise` is taken when every branch is definitely false.
- A decision that cannot be taken because a condition is unknown is *pending*: the result names
  it and the unknown inputs its undecided conditions read, and nothing after it on that part of
  the path is recommended. A `recommend A when C` whose C is unknown also adds C's unknown inputs
  to pending.
- A patient in a gap (every branch false, no otherwise) or an overlap (two `unique` branches
  true) makes that decision *stuck*: the part stops there and the result says why. A guideline
  that passes ``guidec check`` has no stuck patient; the analysis replays its witnesses here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import assert_never

from compiler import model as m
from compiler import units
from dsl.diagnostics import did_you_mean

Tri = bool | None


# ----------------------------------------------------------------------------- patients


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a patient: the keys it concerns (one; none for the patient as a
    whole; several for a broken assumption), what is wrong in clinical words, and for a
    broken assumption the guideline's own wording of it (``rule``)."""

    keys: tuple[str, ...]
    message: str
    rule: str | None = None

    @property
    def key(self) -> str:
        """The keys as one text (``(patient)`` for the patient as a whole)."""
        return ", ".join(self.keys) if self.keys else "(patient)"

    @property
    def pointers(self) -> tuple[str, ...]:
        """A JSON pointer (RFC 6901) to each key, for a form to mark its fields."""
        return tuple("/" + k.replace("~", "~0").replace("/", "~1") for k in self.keys) or ("",)

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"keys": list(self.keys), "pointers": list(self.pointers),
                "message": self.message, "rule": self.rule}

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class InvalidPatient(ValueError):
    """A patient the guideline cannot evaluate; ``problems`` lists every problem at once."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = tuple(problems)


def _number(raw: object) -> Fraction | None:
    """A JSON number as an exact value (floats by their shortest decimal), or None."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return None
        return Fraction(repr(raw))
    return Fraction(raw)


def _hint(word: object, pool: Iterable[str]) -> str:
    """`` (did you mean `x`?)`` for a near miss of ``word`` among ``pool``, else nothing."""
    near = did_you_mean(word, pool) if isinstance(word, str) else None
    return f" (did you mean `{near}`?)" if near else ""


def validate(model: m.Model, patient: Mapping[str, object]) -> dict[str, m.Value]:
    """Check a patient (decoded JSON) against the inputs and assumptions; return its values.

    Raises :class:`InvalidPatient` listing every problem, each naming its key.
    """
    if not isinstance(patient, Mapping):
        raise InvalidPatient([Problem((), "a patient is a JSON object of inputs")])
    problems: list[Problem] = []
    values: dict[str, m.Value] = {}
    for key in patient:
        if key not in model.inputs:
            hint = _hint(str(key), model.inputs)
            problems.append(Problem((shown_text(str(key)),),
                                    f"is not an input of this guideline{hint}"))
    for name, inp in model.inputs.items():
        raw = patient.get(name)
        if raw is None and inp.default is not None:
            values[name] = inp.default  # absence means the declared default
            continue
        if raw is None:
            if not inp.optional:
                why = "is required but missing" if name not in patient else \
                    "is required and cannot be null"
                problems.append(Problem((name,), why))
            values[name] = None
            continue
        value = _convert(inp, raw, problems)
        values[name] = value
    if problems:
        raise InvalidPatient(problems)
    for a in model.assumptions:
        if evaluate_expr(a.condition.expr, values) is False:
            problems.append(Problem(a.inputs, a.message, a.rule))
    if problems:
        raise InvalidPatient(problems)
    return values


def _convert(inp: m.Input, raw: object, problems: list[Problem]) -> m.Value:
    name = inp.name
    if inp.kind == "boolean":
        if isinstance(raw, bool):
            return raw
        problems.append(Problem((name,), f"must be true or false, not {_show(raw)}"))
        return None
    if inp.kind == "set":
        return _members(name, inp.values, raw, problems)
    if inp.kind in ("date", "datetime"):
        assert inp.low is not None and inp.high is not None
        when = _moment(name, inp.kind == "datetime", raw, inp.low, inp.high, problems)
        return None if when is None else Fraction(when)
    if inp.kind == "enum":
        if isinstance(raw, str) and raw in inp.values:
            return raw
        hint = _hint(raw, inp.values)
        problems.append(Problem((name,), f"must be {inp.kind_words}, not {_show(raw)}{hint}"))
        return None
    if isinstance(raw, float) and not math.isfinite(raw):
        problems.append(Problem((name,), "must be a finite number, not NaN or infinity"))
        return None
    if isinstance(raw, Mapping) and inp.ucum is not None:
        value = _quantity(name, raw, inp.accepted_units(), inp.unit or inp.ucum, problems)
        if value is None:
            return None
        return _in_range(inp, value, f"{_show(raw['value'])} {raw['unit']}", problems)
    value = _number(raw)
    if value is None:
        problems.append(Problem((name,), f"must be {inp.kind_words}, not {_show(raw)}"))
        return None
    return _in_range(inp, value, _show(raw), problems)


def _in_range(inp: m.Input, value: Fraction, shown: str,
              problems: list[Problem]) -> Fraction | None:
    name = inp.name
    if inp.kind == "integer" and value.denominator != 1:
        problems.append(Problem((name,), f"must be an integer, not {shown}"))
        return None
    if not inp.in_range(value):
        problems.append(Problem((name,), f"{shown} is out of range ({inp.range_text})"))
        return None
    if inp.step is not None and (value - (inp.low or 0)) % inp.step != 0:
        step = m.number_text(inp.step)
        problems.append(Problem((name,), f"{shown} is not a multiple of {step}"))
        return None
    return value


def _quantity(name: str, raw: Mapping[object, object], accepted: tuple[tuple[str, Fraction], ...],
              unit: str, problems: list[Problem]) -> Fraction | None:
    """A value given with its unit (``{"value": 90, "unit": "mg/dL"}``) in the input's unit,
    rounded to the nearest double as any JSON number is, or None with the problem."""
    if set(raw) != {"value", "unit"}:
        problems.append(Problem((name,), f'a value with a unit is {{"value": N, "unit": "{unit}"}}'
                                         f", not {_show(raw)}"))
        return None
    given = raw["unit"]
    factors = dict(accepted)
    if not isinstance(given, str) or given not in factors:
        hint = _hint(given, factors)
        problems.append(Problem((name,), f"has the unit {_show(given)}, which does not convert to "
                                         f"{unit}{hint}"))
        return None
    value = raw["value"]
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not math.isfinite(value)):
        problems.append(Problem((name,), f"must be a number in {given}, not {_show(value)}"))
        return None
    exact = (Fraction(repr(value)) if isinstance(value, float) else Fraction(value)) * \
        factors[given]
    return exact if exact.denominator == 1 else Fraction(repr(float(exact)))


def _moment(name: str, with_time: bool, raw: object, low: Fraction, high: Fraction,
            problems: list[Problem]) -> int | None:
    """A date (days since 1970-01-01) or a date and time (seconds, UTC when an offset is
    given) from its ISO 8601 text, or None with the problem."""
    example = "2026-12-04T14:30" if with_time else "2026-12-04"
    what = "a date and time" if with_time else "a date"
    value = units.moment(raw, with_time) if isinstance(raw, str) else None
    if value is None:
        problems.append(Problem((name,), f"must be {what} such as {example}, not {_show(raw)}"))
        return None
    if not low <= value <= high:
        problems.append(Problem((name,), f"{_show(raw)} is outside the dates this guideline "
                                         "takes (1900 to 2200)"))
        return None
    return value


def _members(name: str, values: tuple[str, ...], raw: object,
             problems: list[Problem]) -> frozenset[str] | None:
    """The values of a set input (a JSON list of distinct declared values), or None with the
    problem. The generated evaluator's runtime states the same check in the same words."""
    if not isinstance(raw, list):
        problems.append(Problem((name,), f"must be a list of values among {', '.join(values)}, "
                                         f"not {_show(raw)}"))
        return None
    seen: set[str] = set()
    for x in raw:
        if not isinstance(x, str) or x not in values:
            hint = _hint(x, values)
            problems.append(Problem((name,), f"lists {_show(x)}, which is not one of "
                                             f"{', '.join(values)}{hint}"))
            return None
        if x in seen:
            problems.append(Problem((name,), f"lists {_show(x)} twice"))
            return None
        seen.add(x)
    return frozenset(seen)


#: A value quoted in a problem is cut to this many characters.
SHOWN = 60


def shown_text(text: str) -> str:
    """A patient's string or key as quoted in a message: a long one is cut, with its length."""
    return text if len(text) <= SHOWN else f"{text[:SHOWN]}… ({len(text):,} characters)"


def _show(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return f'"{shown_text(raw)}"'
    if raw is None:
        return "null"
    if isinstance(raw, int) and abs(raw) >= 10 ** 18:
        return f"a number of {len(str(abs(raw))) if raw.bit_length() < 14000 else 'over 4,300'}" \
               " digits"
    if isinstance(raw, int | float):
        return repr(raw)
    return type(raw).__name__ if not isinstance(raw, list | dict) else \
        ("a list" if isinstance(raw, list) else "an object")


# ----------------------------------------------------------------------------- expressions


def evaluate_expr(e: m.Expr, values: Mapping[str, m.Value],
                  recommended: frozenset[str] = frozenset(),
                  lets: dict[str, m.Value] | None = None) -> m.Value:
    """Evaluate an expression with Kleene logic; ``None`` is unknown.

    ``lets`` keeps the value of each let met, so that a let read twice (or a chain of lets
    each read twice) is computed once.
    """
    if lets is None:
        lets = {}
    # One branch per kind of expression, ending in assert_never: mypy names this function
    # when a kind is added. (An if-chain: a `match` measured 10% slower here.)
    if isinstance(e, m.InputRef):
        return values.get(e.name)
    if isinstance(e, m.Const):
        return e.value
    if isinstance(e, m.LetRef):
        if e.name not in lets:
            lets[e.name] = evaluate_expr(e.expr, values, recommended, lets)
        return lets[e.name]
    if isinstance(e, m.And):
        result: Tri = True
        for o in e.operands:
            v = evaluate_expr(o, values, recommended, lets)
            if v is False:
                return False
            if v is None:
                result = None
        return result
    if isinstance(e, m.Or):
        result = False
        for o in e.operands:
            v = evaluate_expr(o, values, recommended, lets)
            if v is True:
                return True
            if v is None:
                result = None
        return result
    if isinstance(e, m.Not):
        v = evaluate_expr(e.operand, values, recommended, lets)
        return None if v is None else not v
    if isinstance(e, m.Known):
        v = evaluate_expr(e.operand, values, recommended, lets)
        return (v is not None) == e.known
    if isinstance(e, m.Member):
        v = evaluate_expr(e.operand, values, recommended, lets)
        return None if v is None else v in e.values
    if isinstance(e, m.Recommended):
        return e.action in recommended
    if isinstance(e, m.Cmp):
        left = evaluate_expr(e.left, values, recommended, lets)
        right = evaluate_expr(e.right, values, recommended, lets)
        if left is None or right is None:
            return None
        return bool(m.COMPARISONS[e.op](left, right))
    if isinstance(e, m.Arith):
        left = evaluate_expr(e.left, values, recommended, lets)
        right = evaluate_expr(e.right, values, recommended, lets)
        if not isinstance(left, Fraction) or not isinstance(right, Fraction):
            return None
        return left + right if e.op == "+" else left - right
    if isinstance(e, m.Scale):
        v = evaluate_expr(e.operand, values, recommended, lets)
        return v * e.factor if isinstance(v, Fraction) else None
    if isinstance(e, m.Derived):
        return evaluate_expr(e.meaning, values, recommended, lets)
    if isinstance(e, m.Contains):
        v = evaluate_expr(e.operand, values, recommended, lets)
        return None if v is None else e.value in v  # type: ignore[operator]
    if isinstance(e, m.Points):
        total = Fraction(0)
        known = True
        for c in e.criteria:
            held = evaluate_expr(c.condition, values, recommended, lets)
            if held is None:
                known = False
            elif held:
                total += c.weight
        return total if known else None
    assert_never(e)


def unknown_inputs(e: m.Expr, values: Mapping[str, m.Value]) -> tuple[str, ...]:
    """The inputs an expression reads that are unknown for this patient."""
    return tuple(i for i in m.inputs_of(e) if values.get(i) is None)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A recommended action with where and why it was recommended."""

    id: str
    text: str
    #: The action's detail (a schedule, a volume, a target): it travels with the text, so a
    #: dose is never shown without its schedule.
    detail: str | None
    kind: str
    strength: str
    citations: tuple[str, ...]
    step: str
    because: tuple[str, ...]
    #: GRADE: ``for`` or ``against``; the certainty of the evidence (``high``, ``moderate``,
    #: ``low``, ``very_low``, or None when not stated); ``graded`` or ``good_practice``.
    direction: str = "for"
    certainty: str | None = None
    grading: str = "graded"

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"id": self.id, "text": self.text, "detail": self.detail, "kind": self.kind,
                "strength": self.strength, "direction": self.direction,
                "certainty": self.certainty, "grading": self.grading,
                "citations": list(self.citations), "step": self.step,
                "because": list(self.because)}


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of evaluating one patient (``stuck`` is empty for a checked guideline)."""

    guideline: str
    version: str
    status: str
    source_sha256: str
    recommendations: tuple[Recommendation, ...]
    cautions: tuple[dict[str, object], ...]
    notes: tuple[dict[str, str], ...]
    path: tuple[str, ...]
    pending: tuple[dict[str, object], ...]
    stuck: tuple[dict[str, object], ...] = field(default=())
    #: (decision, branch index) for each decision taken, None for `otherwise` (not in to_dict).
    branches: tuple[tuple[str, int | None], ...] = field(default=())
    #: Each points score of the guideline: id, label, value and criteria (label, points, met).
    scores: tuple[dict[str, object], ...] = field(default=())

    @property
    def actions(self) -> tuple[str, ...]:
        """The recommended action ids, in order."""
        return tuple(r.id for r in self.recommendations)

    @property
    def pending_inputs(self) -> tuple[str, ...]:
        """Every input some pending decision waits for."""
        out: list[str] = []
        for p in self.pending:
            inputs = p["inputs"]
            assert isinstance(inputs, list)
            out.extend(i for i in inputs if i not in out)
        return tuple(out)

    def to_dict(self, with_stuck: bool = False) -> dict[str, object]:
        """JSON form: exactly the keys of the generated evaluator's ``Result.to_dict()``."""
        d: dict[str, object] = {
            "guideline": self.guideline,
            "version": self.version,
            "status": self.status,
            "source_sha256": self.source_sha256,
            "recommendations": [r.to_dict() for r in self.recommendations],
            "cautions": [dict(c) for c in self.cautions],
            "notes": [dict(n) for n in self.notes],
            "path": list(self.path),
            "pending": [dict(p) for p in self.pending],
        }
        if self.scores:
            d["scores"] = [dict(s) for s in self.scores]
        if with_stuck:
            d["stuck"] = [dict(s) for s in self.stuck]
        return d


#: The wording that led to a node, innermost first, as a linked chain (words, parent): sharing
#: the parent keeps a long pathway linear; the tuple is built only where a recommendation is made.
Why = tuple[str, "Why"] | None


def _because(why: Why) -> tuple[str, ...]:
    out: list[str] = []
    while why is not None:
        out.append(why[0])
        why = why[1]
    return tuple(reversed(out))


def _branch_words(b: m.Branch) -> str:
    return b.label or b.condition.words


class _Run:
    """One evaluation: walks the pathway, each part independently, each node at most once."""

    def __init__(self, model: m.Model, values: Mapping[str, m.Value]) -> None:
        self.model = model
        self.values = values
        self.visited: set[str] = set()
        self.path: list[str] = []
        self.recs: dict[str, Recommendation] = {}
        self.notes: list[dict[str, str]] = []
        self.pending: list[dict[str, object]] = []
        self.stuck: list[dict[str, object]] = []
        self.branches: list[tuple[str, int | None]] = []

    def note(self, node: str, notes: tuple[m.Note, ...]) -> None:
        for n in notes:
            self.notes.append({"node": node, "text": n.text})

    def wait(self, node: str, conditions: list[m.Condition]) -> None:
        inputs: list[str] = []
        for c in conditions:
            inputs.extend(i for i in unknown_inputs(c.expr, self.values) if i not in inputs)
        self.pending.append({"decision": node, "inputs": inputs})

    def visit(self, node_id: str, because: Why) -> None:
        # Parts are walked depth first in source order; a node reached twice runs once.
        stack: list[tuple[str, Why]] = [(node_id, because)]
        while stack:
            nid, why = stack.pop()
            if nid in self.visited:
                continue
            self.visited.add(nid)
            self.path.append(nid)
            node = self.model.pathway.nodes[nid]
            nxt = self.step(node, why)
            stack.extend(reversed(nxt))

    def step(self, node: m.PathNode, why: Why) -> list[tuple[str, Why]]:
        if isinstance(node, m.End):
            return []
        if isinstance(node, m.Step):
            self.note(node.id, node.notes)
            for site in node.recommends:
                reason = why
                if site.condition is not None:
                    held = evaluate_expr(site.condition.expr, self.values)
                    if held is None:
                        self.wait(node.id, [site.condition])
                        continue
                    if held is False:
                        continue
                    reason = (site.condition.words, why)
                for a in site.actions:
                    if a not in self.recs:
                        act = self.model.actions[a]
                        self.recs[a] = Recommendation(a, act.text, act.detail, act.kind,
                                                      act.strength, act.citations, node.id,
                                                      _because(reason), act.direction,
                                                      act.certainty, act.grading)
            return [(t, why) for t in node.next]
        return self.decide(node, why)

    def decide(self, d: m.Decision, why: Why) -> list[tuple[str, Why]]:
        self.note(d.id, d.notes)
        results = [evaluate_expr(b.condition.expr, self.values) for b in d.branches]
        verdict, which = decide(d.policy, results)
        if verdict == "overlap":
            self.stuck.append({"decision": d.id, "reason": "overlap",
                               "branches": list(which)})
            return []
        if verdict == "pending":
            self.wait(d.id, [d.branches[i].condition for i in which])
            return []
        taken = d.branches[which[0]] if verdict == "taken" else None
        if taken is not None:
            self.branches.append((d.id, taken.index))
            self.note(d.id, taken.notes)
            return [(t, (_branch_words(taken), why)) for t in taken.targets]
        if d.otherwise is not None:
            self.branches.append((d.id, None))
            self.note(d.id, d.otherwise.notes)
            words = d.otherwise.label or "none of the branches apply"
            return [(t, (words, why)) for t in d.otherwise.targets]
        self.stuck.append({"decision": d.id, "reason": "gap", "branches": []})
        return []


def decide(policy: str, results: Sequence[object]) -> tuple[str, tuple[int, ...]]:
    """A decision's verdict from its branches' three-valued results, under its policy:
    ("taken", (i,)); ("pending", the branches it waits on); ("overlap", the branches that
    hold, `unique` only); or ("none", ()), when every branch is definitely false (then
    `otherwise`, or a gap). The one statement of the `unique` and `first` policies; the
    solver encodings and the generated evaluator state it in their own terms and are tested
    against it."""
    if policy == "first":
        for i, r in enumerate(results):
            if r is True:
                return "taken", (i,)
            if r is None:
                return "pending", (i,)
        return "none", ()
    trues = tuple(i for i, r in enumerate(results) if r is True)
    if len(trues) > 1:
        return "overlap", trues
    unknown = tuple(i for i, r in enumerate(results) if r is None)
    if unknown:
        return "pending", unknown
    if trues:
        return "taken", trues
    return "none", ()


def evaluate_values(model: m.Model, values: Mapping[str, m.Value]) -> Outcome:
    """Evaluate already validated values (see :func:`validate`)."""
    run = _Run(model, values)
    for t in model.pathway.start:
        run.visit(t, None)
    recommended = frozenset(run.recs)
    cautions: tuple[dict[str, object], ...] = tuple(
        {"id": c.id, "text": c.text, "citations": list(c.citations)}
        for c in model.cautions
        if evaluate_expr(c.condition.expr, values, recommended) is True
    )
    meta = model.meta
    return Outcome(meta.id, meta.version, meta.status, model.source_sha256,
                   tuple(run.recs.values()), cautions, tuple(run.notes), tuple(run.path),
                   tuple(run.pending), tuple(run.stuck), tuple(run.branches),
                   scores(model, values))


def scores(model: m.Model, values: Mapping[str, m.Value]) -> tuple[dict[str, object], ...]:
    """Each points score of the guideline for these values, with the criteria met (True),
    not met (False) or unknown (None), as the result reports it."""
    out: list[dict[str, object]] = []
    for let in model.scores():
        assert isinstance(let.expr, m.Points)
        criteria = [{"label": c.label, "points": _json_value(c.weight),
                     "met": evaluate_expr(c.condition, values)} for c in let.expr.criteria]
        value = evaluate_expr(let.expr, values)
        out.append({"id": let.name, "label": let.label or let.name,
                    "value": None if value is None else _json_value(value),
                    "criteria": criteria})
    return tuple(out)


def _json_value(v: object) -> int | float:
    assert isinstance(v, Fraction)
    return v.numerator if v.denominator == 1 else float(v)


def evaluate(model: m.Model, patient: Mapping[str, object]) -> Outcome:
    """Validate a patient (decoded JSON) and evaluate it; raises :class:`InvalidPatient`."""
    return evaluate_values(model, validate(model, patient))
