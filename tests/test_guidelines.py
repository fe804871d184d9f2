"""The guidelines guidec ships: each checks clean, its cases pass with full coverage, and the
ones no committee has approved say they are drafts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from compiler.pipeline import check_file

ROOT = Path(__file__).resolve().parent.parent
GUIDES = sorted((ROOT / "guidelines").glob("*.guide"))
# Approved by the committee that owns it; every other shipped guideline is a draft.
APPROVED = {"leptomeningeal"}


def test_the_shipped_guidelines_are_the_three_expected() -> None:
    assert [p.stem for p in GUIDES] == ["alteplase", "curb65", "leptomeningeal"]


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: p.stem)
def test_guideline_checks_clean(path: Path) -> None:
    result = check_file(path)
    assert result.model is not None
    findings = [d for d in result.diagnostics if d.severity.name in ("ERROR", "WARNING")]
    assert findings == []


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: p.stem)
def test_guideline_cases_pass_with_full_coverage(path: Path) -> None:
    result = CliRunner().invoke(cli, ["test", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.output)
    assert len(report["cases"]) >= 20
    assert all(c["passed"] for c in report["cases"])
    cov = report["coverage"]
    assert cov["branches"]["untaken"] == []
    assert cov["steps"]["unreached"] == []
    assert cov["actions"]["unrecommended"] == []


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: p.stem)
def test_guideline_status_and_references(path: Path) -> None:
    model = check_file(path, analyze=False).model
    assert model is not None
    assert model.meta.status == ("approved" if path.stem in APPROVED else "draft")
    for ref in model.references.values():
        # A published guideline or study names where it is (a committee's record, or a
        # reference the source cites without listing it, need not).
        if ref.kind in ("guideline", "research"):
            assert ref.source and ref.year, ref.id


def test_alteplase_counts_days_from_a_date_to_a_date_and_time() -> None:
    """`days between surgery_on and assessed_at`: the date counts from its midnight."""
    from compiler.interpreter import evaluate

    model = check_file(ROOT / "guidelines" / "alteplase.guide", analyze=False).model
    assert model is not None
    base = {"last_known_well": "2026-12-04T08:00", "assessed_at": "2026-12-04T10:00",
            "age": 68, "ct": "no_acute_finding", "nihss": 12, "contraindications": [],
            "warfarin": False, "diabetes": False, "prior_stroke": False,
            "systolic_bp": 165, "diastolic_bp": 90, "glucose": 6.5}

    def ids(**extra: object) -> list[str]:
        return list(evaluate(model, {**base, **extra}).actions)

    # 2026-11-20T00:00 to 2026-12-04T10:00 is 14 days and 10 hours: not within 14 days.
    assert ids(surgery_on="2026-11-20") == ["alteplase", "maintain_bp"]
    # 2026-11-21T00:00 to 2026-12-04T10:00 is 13 days and 10 hours.
    assert ids(surgery_on="2026-11-21") == ["alteplase_selected", "maintain_bp"]
    # An offset moves the time to UTC: 11:30+01:00 is 10:30, 2.5 hours after 08:00.
    assert ids(last_known_well="2026-12-04T08:00",
               assessed_at="2026-12-04T12:31+01:00") == ["alteplase", "maintain_bp"]
