"""Case blocks: every kind of expectation, the failure diff, coverage of branches, steps and
actions, `guidec test`, and the pytest plugin that runs cases as test items."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from compiler import model as m
from compiler.cases import coverage, render_case, render_coverage, run_case, run_cases
from compiler.pipeline import check_text

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"

GUIDE = """\
guideline cases "Cases"
  version 1.0.0
  status approved
  updated 2026-01-01
  owner "Tests"

reference r1 guideline "A reference"

input score "Score": integer 0..10
input marker "Marker": optional one of pos, neg
input flag "Flag": boolean

action a other "A" strong cite r1
action b other "B" conditional cite r1
action c other "C" strong cite r1
action x other "X" strong cite r1

pathway
  start -> triage

  decide triage "Triage" first
    when score >= 8 "High" -> high
    when marker == pos "Positive" -> positive
    otherwise -> done

  step high "High"
    recommend a
    recommend b when flag
    then -> done
  step positive "Positive"
    recommend c
    then -> done
  end done

never x "Never X." cite r1
caution flagged "Flagged." when flag cite r1

patient base score = 9, marker = neg, flag = true
{cases}
"""

PASSING = """
case "high" from base
  expect a, b
  expect only a, b
  expect no c
  expect caution flagged
  expect path triage, high, done
  expect pending nothing
case "waits for the marker" from base with score = 2, marker = unknown
  expect only nothing
  expect pending marker
  expect pending at triage
"""

FAILING = """
case "wrong" from base with flag = false
  expect a, b
  expect only a, c
  expect no a
  expect caution flagged
  expect path triage, done
  expect pending marker
case "invalid patient" from base with marker = neg, score = 10
  expect a
case "nothing should wait" from base with score = 2, marker = unknown
  expect pending nothing
"""


def model_of(cases: str) -> m.Model:
    result = check_text(GUIDE.replace("{cases}", cases), "cases.guide", analyze=False)
    assert result.model is not None, [d.message for d in result.diagnostics]
    return result.model


def test_every_expectation_kind_passes() -> None:
    model = model_of(PASSING)
    results = run_cases(model)
    assert [r.passed for r in results] == [True, True]
    assert render_case(results[0]) == ["PASS  high"]


def test_failures_show_expected_and_actual() -> None:
    model = model_of(FAILING)
    r = run_case(model, model.cases[0])
    assert not r.passed
    kinds = [f.expectation.kind for f in r.failures]
    assert kinds == ["some", "only", "none", "caution", "path", "pending"]
    text = "\n".join(render_case(r, "cases.guide"))
    assert text.startswith("FAIL  wrong  (cases.guide:")
    assert "expect only a, c" in text
    assert "expected: a, c" in text and "actual:   a" in text
    assert "- missing:    b" in text and "- missing:    c" in text
    assert "+ recommended but should not be: a" in text
    assert "expected: triage -> done" in text and "actual:   triage -> high -> done" in text
    assert "path: triage -> high -> done" in text


def test_expect_pending_nothing_fails_on_a_pending_decision() -> None:
    model = model_of(FAILING)
    r = run_case(model, model.cases[2])
    assert not r.passed
    [failure] = r.failures
    assert (failure.expectation.kind, failure.expectation.names) == ("pending", ())
    assert failure.unexpected == ("triage", "marker")
    text = "\n".join(render_case(r))
    assert "expect pending nothing" in text and "triage" in text


def test_case_with_invalid_patient_fails_with_problems() -> None:
    bad = model_of(FAILING.replace("score = 10", "score = 10, flag = true"))
    r = run_case(bad, bad.cases[1])
    assert r.passed  # valid: score 10 is in range
    model = model_of(FAILING)
    patient = dict(model.cases[1].patient, score=11)
    case = m.Case("invalid patient", "base", patient, model.cases[1].expectations,
                  model.cases[1].span)
    r = run_case(model, case)
    assert not r.passed and r.outcome is None
    assert "11 is out of range (0 to 10)" in "\n".join(render_case(r))


def test_coverage_reports_what_no_case_reaches() -> None:
    model = model_of(PASSING)
    cov = coverage(model, run_cases(model))
    assert [(b.decision, b.index) for b in cov.untaken] == [("triage", 1), ("triage", None)]
    assert [s.id for s in cov.unreached] == ["positive"]
    assert [a.id for a in cov.unrecommended] == ["c"]  # x is named only by `never`
    lines = render_coverage(cov)
    assert lines[0] == "coverage: 1/3 branches, 1/2 steps, 2/3 actions (50.0%)"
    assert any("triage: otherwise" in line for line in lines)


def test_flagship_cases_pass_with_full_coverage() -> None:
    result = CliRunner().invoke(cli, ["test", str(FLAGSHIP)])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert "passed, 0 failed" in result.output


def write(tmp_path: Path, cases: str, name: str = "g.guide") -> Path:
    path = tmp_path / name
    path.write_text(GUIDE.replace("{cases}", cases), encoding="utf-8")
    return path


def test_guidec_test_exit_codes(tmp_path: Path) -> None:
    good = write(tmp_path, PASSING)
    r = CliRunner().invoke(cli, ["test", str(good)])
    assert r.exit_code == 0, r.output
    assert "PASS  high" in r.output and "2 cases: 2 passed, 0 failed" in r.output
    assert "coverage: 1/3 branches" in r.output
    r = CliRunner().invoke(cli, ["test", str(good), "--strict"])
    assert r.exit_code == 1
    bad = write(tmp_path, FAILING, "bad.guide")
    r = CliRunner().invoke(cli, ["test", str(good), str(bad)])
    assert r.exit_code == 1
    assert "FAIL  wrong" in r.output
    r = CliRunner().invoke(cli, ["test", str(tmp_path / "missing.guide")])
    assert r.exit_code == 2


def test_guidec_test_json(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["test", str(write(tmp_path, FAILING)), "--format", "json"])
    assert r.exit_code == 1
    report = json.loads(r.output)
    assert report[0]["cases"][0]["passed"] is False
    assert report[0]["coverage"]["steps"]["total"] == 2


def test_guidec_test_min_coverage(tmp_path: Path) -> None:
    """Coverage counts branches, steps and actions together: PASSING covers 1/3 branches,
    1/2 steps and 2/3 actions (`x` is a `never` action, not recommendable), 4/8 = 50%."""
    good = write(tmp_path, PASSING)
    r = CliRunner().invoke(cli, ["test", str(good), "--min-coverage", "60"])
    assert r.exit_code == 1
    assert "2/3 actions (50.0%)" in r.output
    assert "the cases cover 50.0%, below the minimum of 60%" in r.output
    r = CliRunner().invoke(cli, ["test", str(good), "--min-coverage", "50"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["test", str(good), "--min-coverage", "101"])
    assert r.exit_code == 2
    report = json.loads(CliRunner().invoke(cli, ["test", str(good), "--format", "json",
                                                 "--min-coverage", "60"]).output)
    assert report[0]["coverage"]["percent"] == 50.0
    assert report[0]["coverage"]["minimum"] == 60


def test_guidec_test_suggest(tmp_path: Path) -> None:
    """--suggest writes, for what no case covers, the solver's patient as a case block; the
    blocks pasted into the guideline pass and cover everything (one block covers a branch,
    its step and its action together); unreachable parts are named, not invented."""
    good = write(tmp_path, PASSING)
    r = CliRunner().invoke(cli, ["test", str(good), "--suggest"])
    assert r.exit_code == 0, r.output
    blocks = r.output.split("review what they expect):\n", 1)[1]
    assert blocks.count("\ncase ") == 2
    assert "(and step `positive`, action `c`)" in blocks
    pasted = write(tmp_path, PASSING + blocks, "pasted.guide")
    r = CliRunner().invoke(cli, ["test", str(pasted), "--strict"])
    assert r.exit_code == 0, r.output
    assert "4 cases: 4 passed, 0 failed" in r.output and "(100.0%)" in r.output
    r = CliRunner().invoke(cli, ["test", str(pasted), "--suggest"])
    assert "suggested" not in r.output  # nothing left to suggest
    report = json.loads(CliRunner().invoke(cli, ["test", str(good), "--suggest", "--format",
                                                 "json"]).output)
    assert [x["covers"] for x in report[0]["suggestions"]] == [
        "`triage` when marker == pos", "`triage` otherwise"]
    # A branch no patient takes (the guard repeats the first branch's) gets no invented case.
    dead = write(tmp_path, PASSING, "dead.guide")
    text = dead.read_text(encoding="utf-8").replace(
        'when marker == pos "Positive"', 'when score >= 9 "Positive"')
    dead.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(cli, ["test", str(dead), "--suggest"])
    assert "# no patient covers `triage` when score >= 9: `guidec check` says why" in r.output


def test_guidec_test_junit(tmp_path: Path) -> None:
    """JUnit XML that CI readers take: a suite per file, a case per case with its failure,
    the coverage as properties and, when asked for, as a case of its own; a guideline with
    errors is one errored case; a title with a control character stays well-formed."""
    import xml.etree.ElementTree as ET

    good = write(tmp_path, PASSING.replace('"high"', '"high \x01 <&>"'))
    bad = write(tmp_path, FAILING, "bad.guide")
    broken = tmp_path / "e.guide"
    broken.write_text(GUIDE.replace("{cases}", PASSING).replace("cite r1\naction b",
                                                                 "\naction b"),
                      encoding="utf-8")
    r = CliRunner().invoke(cli, ["test", str(good), str(bad), str(broken), "--format", "junit",
                                 "--min-coverage", "40"])
    assert r.exit_code == 1
    root = ET.fromstring(r.output)
    assert root.tag == "testsuites"
    good_s, bad_s, broken_s = root.findall("testsuite")
    assert (good_s.get("tests"), good_s.get("failures"), good_s.get("errors")) == ("3", "0", "0")
    names = [c.get("name") for c in good_s.findall("testcase")]
    assert names == ["high \ufffd <&>", "waits for the marker", "coverage"]
    props = {p.get("name"): p.get("value") for p in good_s.iter("property")}
    assert props["coverage_percent"] == "50.0" and props["guideline"] == "cases"
    assert bad_s.get("failures") == "2"  # "wrong" and "nothing should wait"
    wrong = bad_s.find("testcase[@name='wrong']")
    assert wrong is not None and wrong.get("line") == str(
        FAILING.splitlines().index('case "wrong" from base with flag = false') +
        GUIDE.splitlines().index("{cases}") + 1)
    failure = wrong.find("failure")
    assert failure is not None and (failure.get("message") or "").startswith("FAIL  wrong")
    assert "expected:" in (failure.text or "")
    assert broken_s.get("errors") == "1" and "E301" in (broken_s.find("testcase/error").text
                                                        or "")
    assert root.get("tests") == str(3 + 4 + 1) and root.get("failures") == "2"
    again = CliRunner().invoke(cli, ["test", str(good), str(bad), str(broken), "--format",
                                     "junit", "--min-coverage", "40"])
    assert again.output == r.output  # deterministic


def test_guidec_test_refuses_a_guideline_with_errors(tmp_path: Path) -> None:
    path = tmp_path / "e.guide"
    path.write_text(GUIDE.replace("{cases}", PASSING).replace("cite r1\naction b", "\naction b"),
                    encoding="utf-8")
    r = CliRunner().invoke(cli, ["test", str(path)])
    assert r.exit_code == 1
    assert "E301" in r.output and "its cases were not run" in r.output


# ----------------------------------------------------------------------------- pytest plugin


def pytest_run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "-p", "no:xdist", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def test_plugin_collects_cases_as_items(tmp_path: Path) -> None:
    (tmp_path / "guidelines").mkdir()
    write(tmp_path / "guidelines", PASSING + FAILING)
    proc = pytest_run("guidelines", "-v", cwd=tmp_path)
    out = proc.stdout
    assert proc.returncode == 1, out
    assert "g.guide::high PASSED" in out
    assert "g.guide::waits for the marker PASSED" in out
    assert "g.guide::wrong FAILED" in out
    assert "expected: a, c" in out
    assert "Traceback" not in out and "raise CaseFailed" not in out


def test_plugin_reports_check_errors_as_one_item(tmp_path: Path) -> None:
    path = tmp_path / "e.guide"
    path.write_text(GUIDE.replace("{cases}", PASSING).replace("cite r1\naction b", "\naction b"),
                    encoding="utf-8")
    proc = pytest_run(str(path), cwd=tmp_path)
    assert proc.returncode == 1
    assert "E301" in proc.stdout and "its cases were not run" in proc.stdout


def test_plugin_ignores_fixtures_and_python_runs(tmp_path: Path) -> None:
    (tmp_path / "fixtures").mkdir()
    write(tmp_path / "fixtures", FAILING)
    (tmp_path / "test_x.py").write_text("def test_x() -> None:\n    pass\n", encoding="utf-8")
    proc = pytest_run(".", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert "1 passed" in proc.stdout


@pytest.mark.parametrize("target", ["guidelines"])
def test_plugin_on_the_repository_guidelines(target: str) -> None:
    proc = pytest_run(target, "-q", cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert " passed" in proc.stdout
