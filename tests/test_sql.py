"""The SQL target on DuckDB against the interpreter: the same problems (by key), the same
recommendations (id, strength, step, in order), pending decisions with their inputs, path and
stuck decisions, on random patients (invalid ones included) of every guideline it expresses."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from cli.main import cli
from compiler import interpreter as it
from compiler import model as m
from compiler import units
from compiler.pipeline import check_file
from targets.sql import COLUMN_TYPES, Unsupported, generate, lit
from tests.guides import buildable
from tests.test_differential import constants, patient

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"
GUIDES = list(buildable(analyzed=True))


@cache
def model_of(path: Path) -> m.Model:
    model = check_file(path).model
    assert model is not None
    return model


def fits(inp: m.Input, v: object) -> bool:
    """Whether a JSON value can sit in the input's typed column (no text in a number)."""
    if v is None:
        return True
    if inp.kind == "boolean":
        return isinstance(v, bool)
    if inp.kind in ("integer", "number"):
        return isinstance(v, int | float) and not isinstance(v, bool) and \
            math.isfinite(v) and abs(v) < 1e15
    if inp.kind == "set":
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    if inp.kind in ("date", "datetime"):
        return isinstance(v, str) and units.moment(v, inp.kind == "datetime") is not None
    return isinstance(v, str)


def cell(inp: m.Input, v: object) -> object:
    """A JSON value as its column holds it (a date as a date, a time in UTC)."""
    if v is None or inp.kind not in ("date", "datetime"):
        return v
    assert isinstance(v, str)
    n = units.moment(v, inp.kind == "datetime")
    assert n is not None
    if inp.kind == "date":
        return dt.date(1970, 1, 1) + dt.timedelta(days=n)
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=n)


def table_patients(model: m.Model, n: int, seed: int) -> list[dict[str, Any]]:
    """Random patients of the differential test that a typed table can hold."""
    rnd = random.Random(seed)
    consts = constants(model)
    out: list[dict[str, Any]] = []
    while len(out) < n:
        p = patient(rnd, model, consts)
        if set(p) <= set(model.inputs) and all(fits(model.inputs[k], v) for k, v in p.items()):
            out.append(p)
    return out


def python_side(model: m.Model, p: dict[str, Any]) -> tuple[Any, ...]:
    try:
        o = it.evaluate(model, p)
    except it.InvalidPatient as exc:
        return sorted(x.keys for x in exc.problems), None, None, None, None
    return ([], [(r.id, r.strength, r.step) for r in o.recommendations],
            [(x["decision"], tuple(x["inputs"])) for x in o.pending],  # type: ignore[arg-type]
            list(o.path), [(x["decision"], x["reason"]) for x in o.stuck])


def sql_side(rows: list[dict[str, Any]], model: m.Model) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    # Loaded as JSON lines with the columns' types given: much faster than row inserts.
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False,
                                     encoding="utf-8") as f:
        for k, p in enumerate(rows):
            row = {name: cell(i, p.get(name)) for name, i in model.inputs.items()}
            f.write(json.dumps({"guidec_row": k, **row}, default=str) + "\n")
    types = ", ".join(f"{lit(k)}: {lit(COLUMN_TYPES[i.kind])}"
                      for k, i in model.inputs.items())
    con.execute(f"CREATE TABLE patients AS SELECT * FROM read_json({lit(f.name)}, "
                f"format = 'newline_delimited', columns = {{'guidec_row': 'BIGINT'"
                f"{', ' + types if types else ''}}})")
    Path(f.name).unlink()
    result = con.sql(f"SELECT * FROM ({generate(model)}) ORDER BY guidec_row")
    names = [d[0] for d in result.description]
    out = []
    for values in result.fetchall():
        r = dict(zip(names, values, strict=True))
        problems = sorted(tuple(k) for k in r["guidec_problems"])
        if problems:
            out.append((problems, r["guidec_recommendations"], r["guidec_pending"],
                        r["guidec_path"], r["guidec_stuck"]))
            continue
        out.append((problems,
                    [(x["id"], x["strength"], x["step"]) for x in r["guidec_recommendations"]],
                    [(x["decision"], tuple(x["inputs"])) for x in r["guidec_pending"]],
                    list(r["guidec_path"]),
                    [(x["decision"], x["reason"]) for x in r["guidec_stuck"]]))
    return out


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: p.stem)
def test_duckdb_agrees_with_the_interpreter(path: Path) -> None:
    model = model_of(path)
    n = 100_000 if path == FLAGSHIP else 1_000
    rows = table_patients(model, n, seed=11)
    got = sql_side(rows, model)
    expected = [python_side(model, p) for p in rows]
    wrong = [(p, e, s) for p, e, s in zip(rows, expected, got, strict=True) if e != s]
    assert wrong[:2] == [], f"{len(wrong)} of {n} disagree"
    invalid = sum(1 for s in got if s[0])
    assert invalid < n and (invalid > 0 or not model.inputs)  # both kinds were exercised


def test_a_decision_waiting_and_an_invalid_row_in_one_table() -> None:
    model = model_of(FLAGSHIP)
    base = {"primary_site": "lung", "histology": "adenocarcinoma", "lung_mass_biopsied": True,
            "kps": 80, "life_expectancy_months": 6, "neuraxis_mri_done": True,
            "lm_pattern": "linear", "csf_cytology_result": "positive",
            "csf_flow": "unobstructed", "extracranial_disease_controlled": True,
            "symptomatic_focal_lesions": False, "spinal_cord_compression": False,
            "craniospinal_rt_planned": False, "ommaya_feasible": True,
            "high_clinical_suspicion": True, "severe_symptoms": False,
            "cranial_neuropathy": False}
    rows = [base, {**base, "kps": 75, "histology": "adenoma"}]
    waiting, invalid = sql_side(rows, model)
    assert waiting[2] == [("systemic", ("egfr", "alk", "braf", "her2"))]
    assert waiting == python_side(model, base)
    assert invalid[0] == [("histology",), ("kps",)] and invalid[1:] == (None,) * 4


def test_strings_never_leave_their_literals() -> None:
    """The adversarial fixture's ids and values are quoted (a `'` doubled), and the query
    runs."""
    path = ROOT / "tests" / "fixtures" / "eval" / "adversarial.guide"
    model = model_of(path)
    text = generate(model)
    for v in (v for i in model.inputs.values() for v in i.values):
        assert "'" + v.replace("'", "''") + "'" in text
    assert generate(model) == text  # deterministic
    sql_side(table_patients(model, 50, seed=3), model)


def test_build_sql_and_a_refusal(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["build", str(FLAGSHIP), "-o", str(tmp_path), "-t", "sql"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "leptomeningeal.sql").read_text(encoding="utf-8") == \
        generate(model_of(FLAGSHIP))
    source = (ROOT / "tests" / "fixtures" / "eval" / "sets.guide").read_text(encoding="utf-8")
    reserved = tmp_path / "reserved.guide"
    reserved.write_text(source.replace("eligible", "guidec_eligible"), encoding="utf-8")
    r = CliRunner().invoke(cli, ["build", str(reserved), "-o", str(tmp_path), "-t", "sql"])
    assert r.exit_code == 1
    assert "the SQL was not written: it cannot express a name beginning `guidec_`" in r.output
    with pytest.raises(Unsupported):
        generate(check_file(reserved, analyze=False).model)  # type: ignore[arg-type]
