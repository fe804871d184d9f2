"""`guidec eval`: one patient (file, standard input, named example), text for a clinician or the
result as JSON, every problem of an invalid patient, malformed JSON located, a guideline with
errors still evaluated (stuck shown), and cohorts streamed through the compiled module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from compiler import interpreter as it
from compiler.pipeline import check_file

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = str(ROOT / "guidelines" / "leptomeningeal.guide")
STUCK = str(ROOT / "tests" / "fixtures" / "eval" / "stuck.guide")


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["eval", *args], input=stdin)


def fit() -> dict[str, object]:
    model = check_file(FLAGSHIP, analyze=False).model
    assert model is not None
    return dict(model.patients["fit"].values)


def write(tmp_path: Path, data: object, name: str = "p.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_text_for_a_clinician(tmp_path: Path) -> None:
    r = run(FLAGSHIP, write(tmp_path, fit()))
    assert r.exit_code == 0, r.output
    out = r.output
    assert "What to do" in out
    assert "1. Use: Third-generation EGFR" in out
    assert "why:" in out and "EGFR-mutant lung cancer" in out
    assert "evidence: [1] Treatment of Leptomeningeal Carcinomatosis" in out
    assert "Notes" in out and "Path: performance → workup → diagnosis" in out
    assert all(len(line) <= 100 for line in out.splitlines())


def test_consider_and_pending(tmp_path: Path) -> None:
    r = run(FLAGSHIP, write(tmp_path, {**fit(), "egfr": None, "lm_pattern": None}))
    assert r.exit_code == 0, r.output
    assert "Waiting for" in r.output
    assert "EGFR mutation status (egfr)" in r.output
    assert "[systemic]" in r.output and "[intrathecal]" in r.output


def test_json_is_to_dict(tmp_path: Path) -> None:
    r = run(FLAGSHIP, write(tmp_path, fit()), "--format", "json")
    assert r.exit_code == 0, r.output
    model = check_file(FLAGSHIP, analyze=False).model
    assert model is not None
    assert json.loads(r.output) == it.evaluate(model, fit()).to_dict()


def test_named_patient() -> None:
    r = run(FLAGSHIP, "--patient", "fit", "--format", "json")
    assert r.exit_code == 0, r.output
    assert "egfr_tki" in [x["id"] for x in json.loads(r.output)["recommendations"]]
    r = run(FLAGSHIP, "--patient", "fitt")
    assert r.exit_code == 2
    assert "did you mean `fit`?" in r.output


def test_standard_input() -> None:
    r = run(FLAGSHIP, "-", "--format", "json", stdin=json.dumps(fit()))
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["guideline"] == "leptomeningeal"


def test_invalid_patient_lists_every_problem(tmp_path: Path) -> None:
    bad = {**fit(), "kps": 75, "egrf": "mutant", "csf_flow": "blocked"}
    del bad["histology"]
    r = run(FLAGSHIP, write(tmp_path, bad))
    assert r.exit_code == 2
    assert "the patient is not valid (4 problems)" in r.output
    for needle in ("kps: 75 is not a multiple of 10", "did you mean `egfr`?",
                   "histology: is required but missing", "csf_flow: must be one of"):
        assert needle in r.output
    r = run(FLAGSHIP, write(tmp_path, bad), "--format", "json")
    assert r.exit_code == 2
    start = r.output.index("{")
    invalid = json.loads(r.output[start:r.output.rindex("}") + 1])["invalid"]
    assert {"key": "kps", "keys": ["kps"], "pointers": ["/kps"],
            "message": "75 is not a multiple of 10", "rule": None} in invalid


@pytest.mark.parametrize("text,where", [
    ('{"kps": 80,\n "egfr": }', "p.json:2:10: malformed JSON"),
    ("", "p.json:1:1: malformed JSON"),
    ('{"kps": 80, "kps": 90}', "the key `kps` appears twice"),
    ("[" * 100_000, "malformed JSON"),
])
def test_malformed_json(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    r = run(FLAGSHIP, str(path))
    assert r.exit_code == 2
    assert where in r.output
    assert "Traceback" not in r.output


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b'{"a": "\xff"}')
    r = run(FLAGSHIP, str(path))
    assert r.exit_code == 2 and "is not UTF-8" in r.output


def test_usage_errors(tmp_path: Path) -> None:
    assert run(FLAGSHIP).exit_code == 2
    assert run(FLAGSHIP, "missing.json").exit_code == 2
    assert "missing.json: no such file" in run(FLAGSHIP, "missing.json").output
    assert run(FLAGSHIP, str(tmp_path)).exit_code == 2
    assert run("nope.guide", "--patient", "x").exit_code == 2
    r = run(FLAGSHIP, write(tmp_path, fit()), "-o", "x.jsonl")
    assert r.exit_code == 2 and "goes with --cohort" in r.output


def test_guideline_with_errors_is_evaluated_and_shows_stuck() -> None:
    r = run(STUCK, "--patient", "gap", "--format", "json")
    assert r.exit_code == 1
    body = r.output[r.output.index("{"):]
    out = json.loads(body[:body.rindex("}") + 1])
    assert out["stuck"] == [
        {"decision": "triage", "reason": "gap", "branches": []},
        {"decision": "overlap", "reason": "overlap", "branches": [0, 1]},
    ]
    text = run(STUCK, "--patient", "gap")
    assert "Stuck" in text.output and "(gap)" in text.output and "(overlap)" in text.output
    assert "E301" in text.output


def test_guideline_that_does_not_resolve_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.guide"
    bad.write_text(Path(STUCK).read_text(encoding="utf-8").replace("score < 3", "scroe < 3"),
                   encoding="utf-8")
    r = run(str(bad), "--patient", "gap")
    assert r.exit_code == 1
    assert "leave it without a meaning" in r.output


# ----------------------------------------------------------------------------- cohorts


def cohort(tmp_path: Path) -> tuple[Path, list[dict[str, object]]]:
    patients = [fit(), {**fit(), "egfr": None}, {**fit(), "kps": 70}]
    lines = [json.dumps(p) for p in patients]
    lines.insert(1, '{"kps": 75')            # line 2: malformed
    lines.insert(3, "")                      # line 4: blank, skipped
    lines.append(json.dumps({**fit(), "kps": 75}))  # line 6: invalid
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, patients


def test_cohort_to_file(tmp_path: Path) -> None:
    src, patients = cohort(tmp_path)
    out = tmp_path / "results.jsonl"
    r = run(FLAGSHIP, "--cohort", str(src), "-o", str(out))
    assert r.exit_code == 2, r.output  # some lines were invalid
    results = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(results) == 5
    model = check_file(FLAGSHIP, analyze=False).model
    assert model is not None
    assert results[0] == it.evaluate(model, patients[0]).to_dict()
    assert results[1]["line"] == 2 and results[1]["invalid"][0]["key"] == "(line)"
    assert results[2] == it.evaluate(model, patients[1]).to_dict()
    assert results[3] == it.evaluate(model, patients[2]).to_dict()
    assert results[4] == {"line": 6, "invalid": [
        {"key": "kps", "keys": ["kps"], "pointers": ["/kps"],
         "message": "75 is not a multiple of 10", "rule": None}]}
    assert "cohort.jsonl:2: (line): malformed JSON" in r.output
    assert "cohort.jsonl:6: kps: 75 is not a multiple of 10" in r.output
    assert "5 patients: 3 evaluated, 2 invalid" in r.output
    assert "egfr_tki" in r.output and "pending at systemic" in r.output
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_cohort_to_stdout_all_valid(tmp_path: Path) -> None:
    src = tmp_path / "c.jsonl"
    src.write_text(json.dumps(fit()) + "\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["eval", FLAGSHIP, "--cohort", str(src)])
    assert r.exit_code == 0, r.output
    first = r.output.splitlines()[0]
    assert json.loads(first)["guideline"] == "leptomeningeal"


def test_cohort_with_errors_uses_the_interpreter(tmp_path: Path) -> None:
    src = tmp_path / "c.jsonl"
    src.write_text(json.dumps({"score": 5, "flag": True}) + "\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    r = run(STUCK, "--cohort", str(src), "-o", str(out))
    assert r.exit_code == 1
    assert json.loads(out.read_text(encoding="utf-8"))["stuck"][0]["reason"] == "gap"


def test_cohort_keeps_the_old_output_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    out.write_text("old\n", encoding="utf-8")
    r = run(FLAGSHIP, "--cohort", str(tmp_path / "missing.jsonl"), "-o", str(out))
    assert r.exit_code == 2
    assert out.read_text(encoding="utf-8") == "old\n"


def test_no_traceback_through_the_real_command(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    path = tmp_path / "p.json"
    path.write_text("{oops", encoding="utf-8")
    for args in (["eval", FLAGSHIP, str(path)], ["eval", FLAGSHIP, "-"],
                 ["eval", FLAGSHIP, "--cohort", str(path)]):
        proc = subprocess.run([sys.executable, "-m", "cli", *args], input="[1, 2",
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert "Traceback" not in proc.stdout + proc.stderr
        assert proc.returncode == 2, proc.stderr
