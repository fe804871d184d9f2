"""The UCUM subset: its documented table, exact conversions, and quantities end to end."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from compiler import units
from compiler.interpreter import InvalidPatient, evaluate
from compiler.pipeline import check_file
from targets.python import load

ROOT = Path(__file__).resolve().parent.parent
UNITS_GUIDE = ROOT / "tests" / "fixtures" / "eval" / "units.guide"


def test_the_reference_lists_every_unit_of_the_table() -> None:
    text = (ROOT / "dsl" / "README.md").read_text(encoding="utf-8")
    for u in units.UNITS:
        assert f"| `'{u.code}'` |" in text, u.code


@pytest.mark.parametrize(("source", "target", "factor"), [
    ("g", "kg", Fraction(1, 1000)), ("kPa", "mm[Hg]", Fraction(1000) / Fraction(
        "133.322387415")), ("mmHg", "mm[Hg]", Fraction(1)), ("h", "min", Fraction(60)),
    ("mg/dL", "g/L", Fraction(1, 100)), ("mmol/L", "mg/dL", None), ("kg", "h", None),
])
def test_factors_are_exact_and_only_within_a_dimension(source: str, target: str,
                                                       factor: Fraction | None) -> None:
    assert units.factor(source, target) == factor


def test_a_substance_factor_converts_across_dimensions() -> None:
    # 1 mmol/L of glucose is 18.016 mg/dL: 90 mg/dL is 90 / 18.016 mmol/L.
    declared = (("mg/dL", Fraction("18.016")),)
    assert units.factor("mg/dL", "mmol/L", declared) == 1 / Fraction("18.016")
    assert units.factor("g/L", "mmol/L", declared) == 100 / Fraction("18.016")


def test_a_value_with_its_unit_agrees_in_the_interpreter_and_the_evaluator() -> None:
    model = check_file(UNITS_GUIDE).model
    assert model is not None
    module = load(model)
    base = {"sbp": 140, "weight": 70, "creatinine": 80}
    for glucose in ({"value": 45, "unit": "mg/dL"}, 2.5, {"value": 0.45, "unit": "g/L"}):
        patient = {**base, "glucose": glucose}
        assert evaluate(model, patient).to_dict() == module.evaluate(patient).to_dict()
        assert evaluate(model, patient).actions == ("correct_glucose",)
    for bad, words in (({"value": 45, "unit": "mg/dl"}, "did you mean `mg/dL`?"),
                       ({"value": 45, "unit": "kg"}, "does not convert to mmol/L"),
                       ({"value": 45}, 'a value with a unit is {"value": N')):
        patient = {**base, "glucose": bad}
        with pytest.raises(InvalidPatient) as info:
            evaluate(model, patient)
        [problem] = info.value.problems
        assert problem.key == "glucose" and words in problem.message
        with pytest.raises(module.InvalidPatient) as compiled:
            module.evaluate(patient)
        assert [(p.key, p.message) for p in compiled.value.problems] == \
            [(problem.key, problem.message)]


def test_the_patient_schema_takes_a_value_with_its_unit() -> None:
    from targets.python import patient_schema

    model = check_file(UNITS_GUIDE).model
    assert model is not None
    props = patient_schema(model)["properties"]
    assert isinstance(props, dict)
    glucose = props["glucose"]
    plain, given = glucose["anyOf"]
    assert plain["type"] == "number" and plain["exclusiveMinimum"] == 0
    assert given["required"] == ["value", "unit"]
    assert {"mg/dL", "g/L", "mmol/L"} <= set(given["properties"]["unit"]["enum"])
    assert "kg" not in given["properties"]["unit"]["enum"]


def test_the_generated_runtime_takes_the_same_iso_forms() -> None:
    """The evaluator module (standard library only) carries its own copy of the forms."""
    from targets import python_runtime

    assert {k: v.pattern for k, v in python_runtime._ISO_RE.items()} == units.ISO_FORMS
    for text, timed, ok in [("2026-12-04", False, True), ("2026-W49-5", False, False),
                            ("20261204", False, False), ("2026-12-04T10", True, False),
                            ("2026-12-04T10:30Z", True, True),
                            ("2026-12-04T10:30:15.5+01:00", True, True)]:
        assert (units.moment(text, timed) is not None) == ok, text
