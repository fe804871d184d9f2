"""The benchmark's baseline is honest: the hand-written flagship evaluator
(tests/benchmarks/handwritten_leptomeningeal.py) decides what the guideline decides.

The generated evaluator is measured against it (`make bench`); a baseline that skipped work the
guideline does would make the generated code look slow, one that did less would flatter it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import interpreter as it
from compiler.pipeline import check_file
from tests.benchmarks import handwritten_leptomeningeal as hand
from tests.benchmarks.bench_evaluator import random_patients

FLAGSHIP = Path(__file__).resolve().parent.parent / "guidelines" / "leptomeningeal.guide"


@pytest.fixture(scope="module")
def model() -> object:
    result = check_file(str(FLAGSHIP), analyze=False)
    assert result.model is not None
    return result.model


def test_hand_written_baseline_agrees_with_the_guideline(model: object) -> None:
    patients = random_patients(model, 3000, seed=11)
    disagree = []
    for p in patients:
        want = it.evaluate(model, p)  # type: ignore[arg-type]
        got = hand.evaluate(p)
        seen = (got.actions, got.path, tuple((x.decision, x.inputs) for x in got.pending))
        expected = (want.actions, want.path,
                    tuple((x["decision"], tuple(x["inputs"])) for x in want.pending))  # type: ignore[arg-type]
        if seen != expected:
            disagree.append((p, seen, expected))
    assert disagree[:1] == []
    assert hand.evaluate(patients[0]).version == model.meta.version  # type: ignore[attr-defined]


def test_cases_of_the_flagship_agree(model: object) -> None:
    for case in model.cases:  # type: ignore[attr-defined]
        want = it.evaluate(model, dict(case.patient))  # type: ignore[arg-type]
        got = hand.evaluate(dict(case.patient))
        assert (got.actions, got.path) == (want.actions, want.path), case.title
