"""The flagship's release 2.0.0 against the clinical review of 1.0.0.

Each finding of the review is pinned by a `case "Review: ..."` of the flagship that passes on
2.0.0 and fails on 1.0.0 (kept as tests/fixtures/releases/leptomeningeal-1.0.0.guide, the file
at the revision the release was compared with). The example patients are the patients of cases,
so their outcomes are pinned too, and the release review (CHANGES.md) is the current output of
`guidec diff`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler import model as m
from compiler.cases import coverage, run_case, run_cases
from compiler.diff import compute, load_version, read_spec, render_markdown
from compiler.interpreter import InvalidPatient, evaluate
from compiler.pipeline import check_file

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"
RELEASE_1 = ROOT / "tests" / "fixtures" / "releases" / "leptomeningeal-1.0.0.guide"
EXAMPLES = sorted((ROOT / "guidelines" / "examples").glob("*.json"))
CHANGES = ROOT / "guidelines" / "leptomeningeal.CHANGES.md"


@pytest.fixture(scope="module")
def current() -> m.Model:
    result = check_file(str(FLAGSHIP))
    assert result.model is not None
    return result.model


@pytest.fixture(scope="module")
def previous() -> m.Model:
    result = check_file(str(RELEASE_1))
    assert result.model is not None and result.model.meta.version == "1.0.0"
    return result.model


def review_cases(model: m.Model) -> list[m.Case]:
    return [c for c in model.cases if c.title.startswith("Review: ")]


def test_the_flagship_is_release_2_with_no_finding(current: m.Model) -> None:
    result = check_file(str(FLAGSHIP))
    assert (current.meta.version, current.meta.status) == ("2.0.0", "approved")
    assert [d.code for d in result.diagnostics if d.severity.name != "INFO"] == []
    assert any(c.version == "2.0.0" for c in current.changelog)


def test_every_case_passes_and_covers_the_whole_pathway(current: m.Model) -> None:
    results = run_cases(current)
    assert len(results) >= 70
    assert [r.case.title for r in results if not r.passed] == []
    cov = coverage(current, results)
    assert (cov.untaken, cov.unreached, cov.unrecommended) == ([], [], [])


def test_every_review_finding_is_pinned_by_a_case_that_fails_on_1_0_0(
        current: m.Model, previous: m.Model) -> None:
    pinned = review_cases(current)
    assert len(pinned) >= 14
    assert [c.title for c in pinned if run_case(previous, c).passed] == []
    assert [c.title for c in pinned if not run_case(current, c).passed] == []


def _known(patient: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in patient.items() if v is not None}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_patient_is_the_patient_of_a_case(path: Path, current: m.Model) -> None:
    patient = json.loads(path.read_text(encoding="utf-8"))
    titles = [c.title for c in current.cases if _known(c.patient) == patient]
    assert titles, f"{path.name} is no case's patient: its outcome is pinned by nothing"

@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.stem.startswith("review_")],
                         ids=lambda p: p.stem)
def test_an_example_of_a_finding_is_treated_differently_by_1_0_0(
        path: Path, current: m.Model, previous: m.Model) -> None:
    patient = json.loads(path.read_text(encoding="utf-8"))
    now = evaluate(current, patient)
    try:
        then = evaluate(previous, patient)
    except InvalidPatient:
        return  # 1.0.0 could not even take this patient
    assert (then.actions, then.pending) != (now.actions, now.pending)


def test_the_release_review_is_the_current_diff(current: m.Model) -> None:
    old = load_version(*read_spec(str(RELEASE_1)))
    new = load_version(*read_spec(str(FLAGSHIP)))
    expected = render_markdown(compute(old, new, 3)) + "\n"
    assert CHANGES.read_text(encoding="utf-8") == expected, (
        "guidelines/leptomeningeal.CHANGES.md is stale: regenerate it with `guidec diff "
        "99a3b27:guidelines/leptomeningeal.guide guidelines/leptomeningeal.guide --format "
        "markdown > guidelines/leptomeningeal.CHANGES.md`")
    for case in review_cases(current):
        assert f"- **{case.title}**" in expected
