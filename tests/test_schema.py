"""The patient schema says what `evaluate` accepts: for every guideline, its example patients,
its cases and 5,000 random patients are schema-valid exactly when the evaluator takes them
(assumptions included, as far as JSON Schema can state them); every result validates against
the result schema."""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from compiler import interpreter as it
from compiler import model as m
from targets.python import patient_schema, result_schema
from targets.schema_rules import assumption_rules, moment_pattern
from tests.guides import buildable
from tests.test_differential import ABSENT, _value, constants, patient, subject

GUIDES = list(buildable(analyzed=True))
RANDOM = 5000


@cache
def validators(path: Path) -> tuple[Any, Any]:
    model = subject(path)[0]
    patients = jsonschema.Draft202012Validator(patient_schema(model))
    results = jsonschema.Draft202012Validator(result_schema(model))
    return patients, results


def accepted(model: m.Model, p: object) -> bool:
    try:
        it.validate(model, p)  # type: ignore[arg-type]
    except it.InvalidPatient:
        return False
    return True


def problems(model: m.Model, p: dict[str, Any]) -> list[str]:
    try:
        it.validate(model, p)
    except it.InvalidPatient as exc:
        return [str(x) for x in exc.problems]
    return []


def unstated(model: m.Model) -> list[m.Assumption]:
    """The assumptions JSON Schema cannot state (two numbers or dates compared)."""
    return assumption_rules(model)[1]


def breaks_only_unstated(model: m.Model, p: dict[str, Any]) -> bool:
    """The patient is refused only for what the schema leaves to the evaluator: an assumption
    comparing two numbers or dates, or the range of a value given in another unit."""
    try:
        it.validate(model, p)
    except it.InvalidPatient as exc:
        rules = {a.rule for a in unstated(model)}
        # A value given with its unit is checked after conversion (range, whole number).
        converted = {k for k, v in p.items() if isinstance(v, dict)}
        return all(problem.rule in rules or (problem.keys and set(problem.keys) <= converted)
                   for problem in exc.problems)
    return False


def is_json(p: object) -> bool:
    try:
        json.dumps(p, allow_nan=False)
    except ValueError:
        return False
    return True


def samples(model: m.Model, seed: int) -> list[dict[str, Any]]:
    """Random patients: those of the differential test (mostly valid, some invalid), and as
    many drawn without regard to the assumptions, which then break often."""
    rnd = random.Random(seed)
    consts = constants(model)
    out = []
    for _ in range(RANDOM // 2):
        out.append(patient(rnd, model, consts))
        raw = {name: _value(rnd, inp, consts) for name, inp in model.inputs.items()}
        out.append({k: v for k, v in raw.items() if v is not ABSENT})
    return out


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: p.stem)
def test_schema_valid_exactly_when_evaluate_accepts(path: Path) -> None:
    model = subject(path)[0]
    patients, results = validators(path)
    examples = [dict(p.values) for p in model.patients.values()] + \
        [dict(c.patient) for c in model.cases]
    if path.stem == "leptomeningeal":  # and the example files beside it
        examples += [json.loads(f.read_text(encoding="utf-8"))
                     for f in sorted((path.parent / "examples").glob("*.json"))]
    disagree = []
    checked = 0
    for p in [*examples, *samples(model, 17)]:
        if not is_json(p):
            continue  # NaN and infinity are not JSON: no document carries them
        ok = patients.is_valid(p)
        if ok != accepted(model, p):
            if ok and breaks_only_unstated(model, p):
                continue  # the schema's $comment names these; the evaluator checks them
            disagree.append((ok, p))
        checked += 1
        if ok and accepted(model, p):
            results.validate(it.evaluate(model, p).to_dict())
    assert checked > RANDOM // 2
    assert [(ok, p, problems(model, p)) for ok, p in disagree[:3]] == []


def test_the_flagship_states_every_assumption() -> None:
    """The flagship's assumptions (MRI before a deposit pattern, biopsy before histology) are
    all in its schema: schema-valid means valid, with nothing left to the evaluator."""
    path = next(p for p in GUIDES if p.stem == "leptomeningeal")
    model = subject(path)[0]
    rules, left = assumption_rules(model)
    assert len(rules) == len(model.assumptions) >= 2 and left == []
    schema: Any = patient_schema(model)
    assert "$comment" not in schema


def test_two_numbers_compared_are_named_for_the_evaluator() -> None:
    path = next(p for p in GUIDES if p.stem == "curb65")
    schema: Any = patient_schema(subject(path)[0])
    assert "allOf" not in schema
    assert "diastolic_bp < systolic_bp" in schema["$comment"]


@pytest.mark.parametrize(("text", "timed", "ok"), [
    ("2026-12-04", False, True), ("2024-02-29", False, True), ("2026-02-29", False, False),
    ("2000-02-29", False, True), ("2100-02-29", False, False), ("1899-12-31", False, False),
    ("2200-12-31", False, True), ("2026-04-31", False, False), ("2026-12-04T10:30", True, True),
    ("2026-12-04T10:30:15.25+01:00", True, True), ("2026-12-04T24:00", True, False),
    ("2026-12-04", True, False), ("2026-12-04T10:30", False, False),
])
def test_the_date_pattern_is_the_evaluators_calendar(text: str, timed: bool, ok: bool) -> None:
    import re

    from compiler import units

    assert bool(re.fullmatch(moment_pattern(timed).strip("^$"), text)) == ok
    value = units.moment(text, timed)
    in_range = value is not None and text[:4] >= "1900" and text[:4] <= "2200"
    assert in_range == ok
