"""`guidec eval --cohort --engine duckdb`: JSON lines, CSV and Parquet through the SQL target
give, line by line, what the Python engine gives (valid or not, the problems' keys, the
recommendations and the path)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import duckdb
from click.testing import CliRunner

from cli.main import cli
from compiler import interpreter as it
from compiler.pipeline import check_file
from tests.test_differential import constants, patient

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["eval", str(FLAGSHIP), *args])


def cohort(tmp_path: Path, n: int = 1500) -> tuple[Path, list[str]]:
    model = check_file(FLAGSHIP, analyze=False).model
    assert model is not None
    rnd = random.Random(23)
    consts = constants(model)
    lines = [json.dumps(patient(rnd, model, consts)) for _ in range(n)]
    lines[7] = '{"kps": 80,'  # malformed
    lines[11] = "[1, 2]"  # not an object
    lines[13] = ""  # blank lines are skipped, as the Python engine skips them
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, lines


def by_line(path: Path, source: list[str]) -> dict[int, tuple[Any, ...]]:
    """line -> (problem keys, recommendation ids, path) from either engine's JSON lines (the
    Python engine's results have no line number: one per line that is not blank)."""
    out: dict[int, tuple[Any, ...]] = {}
    python = "python" in path.name
    numbers = [n for n, text in enumerate(source, 1) if text.strip()]
    for n, text in zip(numbers, path.read_text(encoding="utf-8").splitlines(), strict=True):
        row = json.loads(text)
        if python:
            line = row.get("line", n)
            if "invalid" in row:
                out[line] = (sorted({k for p in row["invalid"] for k in p.get("keys") or
                                     [p["key"]]}), None, None)
            else:
                out[line] = ([], [r["id"] for r in row["recommendations"]], row["path"])
        else:
            keys = sorted({k for p in row["problems"] for k in p})
            out[row["line"]] = (keys, None, None) if keys else (
                [], [r["id"] for r in row["recommendations"]], row["path"])
    return out


def test_json_lines_on_duckdb_agree_with_python(tmp_path: Path) -> None:
    src, lines = cohort(tmp_path)
    py, dk = tmp_path / "python.jsonl", tmp_path / "duck.jsonl"
    a = run("--cohort", str(src), "-o", str(py))
    b = run("--cohort", str(src), "--engine", "duckdb", "-o", str(dk))
    assert a.exit_code == b.exit_code == 2  # some lines were invalid
    left, right = by_line(py, lines), by_line(dk, lines)
    # The Python engine numbers the lines it evaluates; a blank line is not a patient.
    assert len(left) == len(right)
    mismatched = [(k, left[k], right.get(k)) for k in left if left[k] != right.get(k)]
    assert mismatched[:2] == []
    assert right[8][0] == ["(line)"] and right[12][0] == ["(patient)"]
    summary = b.output.splitlines()
    assert any(line.startswith("1,499 patients: ") for line in summary), b.output


def test_csv_and_parquet_on_duckdb(tmp_path: Path) -> None:
    model = check_file(FLAGSHIP, analyze=False).model
    assert model is not None
    base = json.loads((ROOT / "guidelines" / "examples" / "egfr_mutant_linear.json")
                      .read_text(encoding="utf-8"))
    rows = [base, {**base, "kps": "eighty"}, {**base, "kps": 75},
            {**base, "neuraxis_mri_done": False}]
    path = tmp_path / "patients.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(model.inputs))
        w.writeheader()
        for r in rows:
            w.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in r.items()})
    out = tmp_path / "results.parquet"
    r = run("--cohort", str(path), "-o", str(out))  # duckdb by default for CSV
    assert r.exit_code == 2, r.output
    got = duckdb.sql(f"SELECT line, problems, recommendations FROM '{out}' ORDER BY line"
                     ).fetchall()
    assert [g[0] for g in got] == [1, 2, 3, 4]
    expected = it.evaluate(model, base)
    assert [x["id"] for x in got[0][2]] == list(expected.actions)
    assert got[1][1] == [["kps"]] and got[2][1] == [["kps"]]
    assert got[3][1] == [["neuraxis_mri_done", "lm_pattern"]] and got[3][2] is None
    assert "patients.csv:2: not valid (kps)" in r.output
    parquet = tmp_path / "patients.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{path}')) TO '{parquet}' (FORMAT PARQUET)")
    r = run("--cohort", str(parquet), "-o", str(tmp_path / "again.jsonl"))
    assert r.exit_code == 2, r.output
    again = [json.loads(x) for x in (tmp_path / "again.jsonl").read_text().splitlines()]
    assert [x["line"] for x in again] == [1, 2, 3, 4]
    assert [y["id"] for y in again[0]["recommendations"]] == list(expected.actions)


def test_bad_cohorts_are_usage_errors_and_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    odd = tmp_path / "patients.xlsx"
    odd.write_text("x", encoding="utf-8")
    r = run("--cohort", str(odd), "--engine", "duckdb", "-o", str(out))
    assert r.exit_code == 2 and "the suffix says which" in r.output
    r = run("--cohort", str(tmp_path / "missing.csv"), "-o", str(out))
    assert r.exit_code == 2 and "no such file" in r.output
    assert not out.exists()
    r = run("--patient", "x", "--engine", "duckdb")
    assert r.exit_code == 2 and "--engine goes with --cohort" in r.output


def test_progress_bar_on_request(tmp_path: Path) -> None:
    """`--progress` draws the bar on standard error (here not a terminal: click prints its
    label); the results and the summary are unchanged."""
    import subprocess
    import sys

    src, _ = cohort(tmp_path, n=200)
    out = tmp_path / "out.parquet"
    r = subprocess.run([sys.executable, "-m", "cli", "eval", str(FLAGSHIP), "--cohort",
                        str(src), "--engine", "duckdb", "--progress", "-o", str(out)],
                       cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 2
    assert "evaluating" in r.stderr and "199 patients: " in r.stdout
    assert duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchall() == [(199,)]
