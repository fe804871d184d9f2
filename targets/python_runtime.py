"""The fixed part of every generated evaluator (``targets.python`` copies it verbatim).

This file is a real module so that it is linted, type-checked and unit-tested like the rest of
the code base; the generator copies the text between the ``BEGIN RUNTIME`` and ``END RUNTIME``
markers into each generated module, which therefore imports nothing but the standard library.
The semantics are those of :mod:`compiler.interpreter`: the validation messages below are the
interpreter's, word for word, and the differential tests hold them equal.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, NamedTuple

# What each generated module defines before the runtime, from its guideline (its own action
# ids, node ids, ... as Literal types); plain strings stand in for them here.
ActionId = str
NodeId = str
InputName = str
ReferenceId = str
CautionId = str

# BEGIN RUNTIME
# ----------------------------------------------------------------------------- results

#: How strongly an action is recommended: ``strong`` ("use") or ``conditional`` ("consider").
Strength = Literal["strong", "conditional"]
#: The kind of an action.
Kind = Literal["diagnostic", "systemic", "radiotherapy", "intrathecal", "supportive",
               "referral", "monitoring", "other"]
#: GRADE: a recommendation for or against; the certainty of the evidence; graded or a good
#: practice statement.
Direction = Literal["for", "against"]
Certainty = Literal["high", "moderate", "low", "very_low"]
Grading = Literal["graded", "good_practice"]
#: The committee's status of the guideline: only ``approved`` logic is meant for patients.
Status = Literal["draft", "under_review", "approved"]


@dataclass(frozen=True, slots=True)
class Reference:
    """A reference a recommendation cites: ``label`` is how every output cites it (the
    source's number, or the committee's own label such as ``C1``)."""

    label: str
    title: str
    source: str | None
    year: int | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A recommended action: what to do, how strongly, on what evidence, and why.

    ``detail`` is the action's detail (a schedule, a volume, a target), shown with ``text``
    wherever it is shown, so a dose never appears without its schedule.
    ``strength`` is ``strong`` ("use") or ``conditional`` ("consider"); ``citations`` are
    reference ids; ``step`` is the pathway step that recommends it; ``because`` is the path in
    words (each branch taken, then the condition of the recommendation, if any).
    """

    id: ActionId
    text: str
    detail: str | None
    kind: Kind
    strength: Strength
    citations: tuple[ReferenceId, ...]
    step: NodeId
    because: tuple[str, ...]
    #: GRADE: ``for`` or ``against``; the certainty of the evidence (``high``, ``moderate``,
    #: ``low``, ``very_low``, or None when not stated); ``graded`` or ``good_practice``.
    direction: Direction = "for"
    certainty: Certainty | None = None
    grading: Grading = "graded"

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"id": self.id, "text": self.text, "detail": self.detail, "kind": self.kind,
                "strength": self.strength, "direction": self.direction,
                "certainty": self.certainty, "grading": self.grading,
                "citations": list(self.citations), "step": self.step,
                "because": list(self.because)}


@dataclass(frozen=True, slots=True)
class Caution:
    """A warning shown with the result because its condition holds for the patient."""

    id: CautionId
    text: str
    citations: tuple[ReferenceId, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"id": self.id, "text": self.text, "citations": list(self.citations)}


@dataclass(frozen=True, slots=True)
class Note:
    """A committee note on the patient's path (``node`` is the step or decision)."""

    node: NodeId
    text: str

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"node": self.node, "text": self.text}


@dataclass(frozen=True, slots=True)
class Pending:
    """A decision (or a conditional recommendation of a step) that waits for unknown inputs."""

    decision: NodeId
    inputs: tuple[InputName, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"decision": self.decision, "inputs": list(self.inputs)}


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion of a points score for this patient: ``met`` is True, False or None
    (unknown)."""

    label: str
    points: int | float
    met: bool | None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"label": self.label, "points": self.points, "met": self.met}


@dataclass(frozen=True, slots=True)
class Score:
    """A points score of the guideline for this patient: ``value`` is None while a criterion
    is unknown; ``criteria`` say which scored."""

    id: str
    label: str
    value: int | float | None
    criteria: tuple[Criterion, ...]

    @property
    def scored(self) -> tuple[str, ...]:
        """The labels of the criteria met."""
        return tuple(c.label for c in self.criteria if c.met)

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"id": self.id, "label": self.label, "value": self.value,
                "criteria": [c.to_dict() for c in self.criteria]}


@dataclass(frozen=True, slots=True)
class Result:
    """What the guideline recommends for one patient, and why; ``status`` is the guideline's
    (a draft's result says it is one); ``scores`` holds each points score the guideline
    defines (none: the key is left out of ``to_dict``)."""

    guideline: str
    version: str
    status: Status
    source_sha256: str
    recommendations: tuple[Recommendation, ...]
    cautions: tuple[Caution, ...]
    notes: tuple[Note, ...]
    path: tuple[NodeId, ...]
    pending: tuple[Pending, ...]
    scores: tuple[Score, ...] = ()

    @property
    def approved(self) -> bool:
        """Whether the guideline's committee approved the logic that made this result."""
        return self.status == "approved"

    @property
    def actions(self) -> tuple[ActionId, ...]:
        """The recommended action ids, in order."""
        return tuple(r.id for r in self.recommendations)

    @property
    def pending_inputs(self) -> tuple[InputName, ...]:
        """Every input that some pending decision waits for, in order."""
        out: list[InputName] = []
        for p in self.pending:
            out.extend(i for i in p.inputs if i not in out)
        return tuple(out)

    def to_dict(self) -> dict[str, object]:
        """JSON form (the keys of the reference interpreter's ``Outcome.to_dict()``)."""
        d: dict[str, object] = {
            "guideline": self.guideline,
            "version": self.version,
            "status": self.status,
            "source_sha256": self.source_sha256,
            "recommendations": [r.to_dict() for r in self.recommendations],
            "cautions": [c.to_dict() for c in self.cautions],
            "notes": [n.to_dict() for n in self.notes],
            "path": list(self.path),
            "pending": [p.to_dict() for p in self.pending],
        }
        if self.scores:
            d["scores"] = [s.to_dict() for s in self.scores]
        return d


@dataclass(frozen=True, slots=True)
class ActionInfo:
    """An action of the guideline as declared: ``short`` is its wording for print."""

    text: str
    short: str | None
    detail: str | None
    kind: Kind
    strength: Strength
    direction: Direction
    certainty: Certainty | None
    grading: Grading
    citations: tuple[ReferenceId, ...]


@dataclass(frozen=True, slots=True)
class InputInfo:
    """An input of the guideline: its label, its type (``boolean``, ``integer``, ``number``,
    ``enum``, ``set``, ``date`` or ``datetime``), its unit, its values (an enum's or a set's)
    and whether a patient may leave it out."""

    label: str
    type: Literal["boolean", "integer", "number", "enum", "set", "date", "datetime"]
    unit: str | None
    values: tuple[str, ...]
    optional: bool


# ----------------------------------------------------------------------------- errors


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

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class NotApproved(RuntimeError):
    """``evaluate(patient, approved_only=True)`` on logic the committee has not approved."""

    def __init__(self, guideline: str, version: str, status: str) -> None:
        self.status = status
        super().__init__(f"{guideline} {version} is {status.replace('_', ' ')}, not approved: "
                         "its logic is not meant for patients (approved_only=True)")


class Stuck(RuntimeError):
    """No single branch of a decision holds (a gap or an overlap).

    A guideline that passes ``guidec check`` has no such patient; this is raised only for a
    module built from an unproven guideline.
    """

    def __init__(self, decision: str, reason: str, branches: tuple[int, ...] = ()) -> None:
        self.decision = decision
        self.reason = reason
        self.branches = branches
        which = f" (branches {', '.join(map(str, branches))})" if branches else ""
        super().__init__(f"the decision `{decision}` is stuck: {reason}{which}")


# ----------------------------------------------------------------------------- validation


class _Spec(NamedTuple):
    """How to read one input: the slow path of validation, used when the fast path fails."""

    name: str
    kind: str
    optional: bool
    low: Fraction | None
    high: Fraction | None
    step: Fraction | None
    values: tuple[str, ...]
    words: str
    range_text: str
    step_text: str
    low_open: bool = False
    high_open: bool = False
    default: object = None
    #: The units a value may be given in, with their factors (a UCUM input), and the unit.
    units: tuple[tuple[str, Fraction], ...] = ()
    unit: str = ""


def _did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest to ``word`` (a misspelling), or None when nothing is close."""
    pool = sorted(set(candidates))
    if not pool or len(word) > 2 * max(map(len, pool)) + 8:
        return None  # nothing that long is a misspelling, and comparing it would cost memory
    prefixed = [c for c in pool if len(word) >= 3 and c.lower().startswith(word.lower())]
    if len(prefixed) == 1:
        return prefixed[0]
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        return lowered[matches[0]] if matches else None
    return matches[0]


def _hint(word: object, pool: Iterable[str]) -> str:
    """`` (did you mean `x`?)`` for a near miss of ``word`` among ``pool``, else nothing."""
    near = _did_you_mean(word, pool) if isinstance(word, str) else None
    return f" (did you mean `{near}`?)" if near else ""


class _Huge:
    """A JSON integer longer than Python converts (4,300 digits), kept as its length so that
    the problem can name its key."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _json_int(text: str) -> int | _Huge:
    return int(text) if len(text) < 4300 else _Huge(len(text.lstrip("-")))


def _text(text: str) -> str:
    """A patient's string or key as a message quotes it: a long one is cut."""
    return text if len(text) <= 60 else f"{text[:60]}… ({len(text):,} characters)"


def _show(raw: object) -> str:
    """A patient value as the messages quote it."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return f'"{_text(raw)}"'
    if raw is None:
        return "null"
    if isinstance(raw, _Huge):
        return f"a number of {raw.digits:,} digits"
    if isinstance(raw, int) and abs(raw) >= 10 ** 18:
        digits = len(str(abs(raw))) if raw.bit_length() < 14000 else "over 4,300"
        return f"a number of {digits} digits"
    if isinstance(raw, int | float):
        return repr(raw)
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, dict):
        return "an object"
    return type(raw).__name__


def _exact(x: float) -> Fraction:
    """A number as an exact value; a float by its shortest decimal (``0.1`` is 1/10)."""
    return Fraction(repr(x)) if isinstance(x, float) else Fraction(x)


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


#: The ISO 8601 forms a date and a date and time take (``compiler.units.ISO_FORMS``).
_ISO_RE = {False: re.compile(r"\d{4}-\d{2}-\d{2}"),
           True: re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
                            r"(Z|[+-]\d{2}:\d{2})?")}


def _moment(name: str, with_time: bool, raw: object, low: Fraction, high: Fraction,
            problems: list[Problem]) -> int | None:
    """A date (days since 1970-01-01) or a date and time (seconds, UTC when an offset is
    given) from its ISO 8601 text, or None with the problem."""
    import datetime as dt

    example = "2026-12-04T14:30" if with_time else "2026-12-04"
    what = "a date and time" if with_time else "a date"
    value = None
    if isinstance(raw, str) and _ISO_RE[with_time].fullmatch(raw):
        try:
            if with_time:
                when = dt.datetime.fromisoformat(raw)
                if when.tzinfo is not None:
                    when = when.astimezone(dt.UTC).replace(tzinfo=None)
                delta = when - dt.datetime(1970, 1, 1)
                value = delta.days * 86400 + delta.seconds
            else:
                value = dt.date.fromisoformat(raw).toordinal() - 719163
        except ValueError:
            value = None
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
    problem."""
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


def _convert(spec: _Spec, raw: object, problems: list[Problem]) -> object:
    """One present value, checked and normalised (None after recording a problem)."""
    name = spec.name
    if spec.kind == "boolean":
        if isinstance(raw, bool):
            return raw
        problems.append(Problem((name,), f"must be true or false, not {_show(raw)}"))
        return None
    if spec.kind == "set":
        return _members(name, spec.values, raw, problems)
    if spec.kind in ("date", "datetime"):
        assert spec.low is not None and spec.high is not None
        return _moment(name, spec.kind == "datetime", raw, spec.low, spec.high, problems)
    if spec.kind == "enum":
        if isinstance(raw, str) and raw in spec.values:
            return spec.values[spec.values.index(raw)]
        hint = _hint(raw, spec.values)
        problems.append(Problem((name,), f"must be {spec.words}, not {_show(raw)}{hint}"))
        return None
    if isinstance(raw, float) and not math.isfinite(raw):
        problems.append(Problem((name,), "must be a finite number, not NaN or infinity"))
        return None
    converted = None
    if isinstance(raw, Mapping) and spec.units:
        converted = _quantity(name, raw, spec.units, spec.unit, problems)
        if converted is None:
            return None
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        problems.append(Problem((name,), f"must be {spec.words}, not {_show(raw)}"))
        return None
    value = _exact(raw) if converted is None else converted  # type: ignore[arg-type]
    shown = _show(raw) if converted is None else \
        f"{_show(raw['value'])} {raw['unit']}"  # type: ignore[index]
    if spec.kind == "integer" and value.denominator != 1:
        problems.append(Problem((name,), f"must be an integer, not {shown}"))
        return None
    if (spec.low is not None and (value < spec.low or (spec.low_open and value == spec.low))) \
            or (spec.high is not None and (value > spec.high or (spec.high_open
                                                                 and value == spec.high))):
        problems.append(Problem((name,), f"{shown} is out of range ({spec.range_text})"))
        return None
    if spec.step is not None and (value - (spec.low or 0)) % spec.step != 0:
        problems.append(Problem((name,), f"{shown} is not a multiple of {spec.step_text}"))
        return None
    if spec.kind == "integer":
        return int(value)
    if converted is not None:
        return int(value) if value.denominator == 1 else float(value)
    assert isinstance(raw, int | float)
    return float(raw) if isinstance(raw, float) else int(raw)


def _convert_all(patient: object, specs: tuple[_Spec, ...],
                 names: frozenset[str]) -> list[Any]:
    """Every value of a patient in input order, or InvalidPatient listing every problem."""
    if not isinstance(patient, Mapping):
        raise InvalidPatient([Problem((), "a patient is a JSON object of inputs")])
    problems: list[Problem] = []
    for key in patient:
        if key not in names:
            hint = _hint(str(key), names)
            problems.append(Problem((_text(str(key)),), f"is not an input of this guideline{hint}"))
    values: list[Any] = []
    for spec in specs:
        raw = patient.get(spec.name)
        if raw is None and spec.default is not None:
            values.append(spec.default)  # absence means the declared default
            continue
        if raw is None:
            if not spec.optional:
                why = "is required but missing" if spec.name not in patient else \
                    "is required and cannot be null"
                problems.append(Problem((spec.name,), why))
            values.append(None)
            continue
        values.append(_convert(spec, raw, problems))
    if problems:
        raise InvalidPatient(problems)
    return values


def _unknown(*groups: Iterable[tuple[InputName, object]]) -> tuple[InputName, ...]:
    """The names among ``(name, value)`` pairs whose value is unknown, each once, in order."""
    out: list[InputName] = []
    for reads in groups:
        for name, value in reads:
            if value is None and name not in out:
                out.append(name)
    return tuple(out)


def _holding(*branches: tuple[int, bool]) -> tuple[int, ...]:
    """The indices of the branches that hold (for an overlap)."""
    return tuple(i for i, held in branches if held)


def _points(*parts: int | Fraction | None) -> int | Fraction | None:
    """A score from its criteria's points (0 when not met, None when unknown)."""
    total: int | Fraction = 0
    for p in parts:
        if p is None:
            return None
        total += p
    return total


def _score(id_: str, label: str, criteria: tuple[tuple[str, int | Fraction, bool | None], ...]
           ) -> Score:
    """A score for the result: its value and which criteria were met."""
    value: int | Fraction | None = 0
    for _, points, met in criteria:
        if met is None:
            value = None
        elif met and value is not None:
            value += points
    shown = None if value is None else (value if isinstance(value, int) or value.denominator != 1
                                        else int(value))
    return Score(id_, label, float(shown) if isinstance(shown, Fraction) else shown,
                 tuple(Criterion(t, float(p) if isinstance(p, Fraction) else p, m)
                       for t, p, m in criteria))


def _because(r: Recommendation, because: tuple[str, ...]) -> Recommendation:
    """``r`` with another ``because`` (for a step reached along several paths)."""
    return Recommendation(r.id, r.text, r.detail, r.kind, r.strength, r.citations, r.step,
                          because, r.direction, r.certainty, r.grading)
# END RUNTIME
