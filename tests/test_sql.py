"""The SQL target on DuckDB against the interpreter: the same problems (by key), the same
recommendations (id, strength, step, in order), pending decisions with their inputs, path and
stuck decisions, on random patients (invalid ones included) of every guideline it expresses."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import math
import random
import tempfile
from fractions import Fraction
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
from tests.test_differential import _value, constants, patient

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


def _states(model: m.Model, name: str, conds: list[m.Expr], rnd: random.Random,
            consts: tuple[Fraction, ...]) -> list[object]:
    """Unknown (None), then two known values of an input that make its comparisons in
    ``conds`` come out one way and the other."""
    inp = model.inputs[name]
    near: list[object] = []
    for c in conds:
        for e in m.subexpressions(c):
            if isinstance(e, m.Cmp):
                left, _, right = m.unscaled(e.left, e.op, e.right)
                pair = (left, right) if isinstance(left, m.InputRef) else (right, left)
                if isinstance(pair[0], m.InputRef) and pair[0].name == name and \
                        isinstance(pair[1], m.Const):
                    near.append(pair[1].value)
            elif isinstance(e, m.Member) and isinstance(e.operand, m.InputRef) and \
                    e.operand.name == name:
                near.extend(e.values)
            elif isinstance(e, m.Contains) and isinstance(e.operand, m.InputRef) and \
                    e.operand.name == name:
                near.append(e.value)
    if inp.kind == "boolean":
        return [None, True, False]
    if inp.kind == "enum":
        first = next((v for v in near if isinstance(v, str)), inp.values[0])
        other = next((v for v in inp.values if v != first), first)
        return [None, first, other]
    if inp.kind == "set":
        first = next((v for v in near if isinstance(v, str)), inp.values[0])
        return [None, [first], []]
    if inp.kind in ("integer", "number") and any(isinstance(v, Fraction) for v in near):
        c = next(v for v in near if isinstance(v, Fraction))
        d = inp.step or (Fraction(1) if inp.kind == "integer" else Fraction(1, 2))
        low = inp.low if inp.low is not None else Fraction(-10**6)
        high = inp.high if inp.high is not None else Fraction(10**6)
        out: list[object] = [None]
        for v in (c + d, c - d):
            v = min(max(v, low), high)
            out.append(int(v) if v.denominator == 1 else float(v))
        return out
    strict = dataclasses.replace(inp, optional=False, default=None)
    drawn: list[object] = []
    while len(drawn) < 2:
        v = _value(rnd, strict, consts)
        if fits(inp, v):
            drawn.append(v)
    return [None, *drawn]


def truth_rows(model: m.Model, seed: int = 5, most: int = 7) -> list[dict[str, Any]]:
    """For each decision and each conditional recommendation, every combination of unknown
    and two known values (true- and false-making) of the inputs its conditions read (the
    first ``most`` of them), over one valid patient."""
    rnd = random.Random(seed)
    consts = constants(model)
    bases: list[dict[str, Any]] = []  # valid patients, for the inputs a group leaves out
    for _ in range(2000):
        p = patient(rnd, model, consts)
        if not all(k in model.inputs and fits(model.inputs[k], v) for k, v in p.items()):
            continue
        try:
            it.evaluate(model, p)
        except it.InvalidPatient:
            continue
        bases.append(p)
        if len(bases) == 12:
            break
    groups: list[list[m.Expr]] = []
    for node in model.pathway.nodes.values():
        if isinstance(node, m.Decision):
            groups.append([b.condition.expr for b in node.branches])
        elif isinstance(node, m.Step):
            groups += [[s.condition.expr] for s in node.recommends if s.condition is not None]
    rows: list[dict[str, Any]] = []
    for conds in groups:
        names: list[str] = []
        for c in conds:
            names.extend(i for i in m.inputs_of(c) if i not in names)
        names = names[:most]
        # A required input is never unknown (its absence makes the patient invalid).
        states = [_states(model, n, conds, rnd, consts)[0 if model.inputs[n].may_be_absent
                                                        else 1:] for n in names]
        for combo in itertools.product(*states):
            # Over the first base with which the combination is valid (an assumption may
            # tie the group's inputs to others), else over the first.
            tried = []
            for base in bases or [{}]:
                p = {k: v for k, v in base.items() if k not in names}
                p.update({k: v for k, v in zip(names, combo, strict=True) if v is not None})
                tried.append(p)
                if python_side(model, p)[0] == []:
                    break
            rows.append(tried[-1] if python_side(model, tried[-1])[0] == [] else tried[0])
    return rows


def python_side(model: m.Model, p: dict[str, Any]) -> tuple[Any, ...]:
    try:
        o = it.evaluate(model, p)
    except it.InvalidPatient as exc:
        return sorted(x.keys for x in exc.problems), None, None, None, None
    return ([], [(r.id, r.strength, r.step) for r in o.recommendations],
            [(x["decision"], tuple(x["inputs"])) for x in o.pending],  # type: ignore[arg-type]
            list(o.path), [(x["decision"], x["reason"]) for x in o.stuck])


def typed_table(con: duckdb.DuckDBPyConnection, model: m.Model,
                rows: list[dict[str, Any]]) -> None:
    """The table ``patients`` on a DuckDB connection: ``guidec_row`` and a typed column per
    input (loaded as JSON lines with the columns' types given: much faster than row
    inserts)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False,
                                     encoding="utf-8") as f:
        for k, p in enumerate(rows):
            row = {name: cell(i, p.get(name)) for name, i in model.inputs.items()}
            f.write(json.dumps({"guidec_row": k, **row}, default=str) + "\n")
    types = ", ".join(f"{lit(k)}: {lit(COLUMN_TYPES[i.kind])}"
                      for k, i in model.inputs.items())
    con.execute(f"CREATE OR REPLACE TABLE patients AS SELECT * FROM read_json({lit(f.name)}, "
                f"format = 'newline_delimited', columns = {{'guidec_row': 'BIGINT'"
                f"{', ' + types if types else ''}}})")
    Path(f.name).unlink()


def normalised(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The query's rows (ordered by ``guidec_row``) as :func:`python_side` gives them."""
    out = []
    for r in records:
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


def sql_side(rows: list[dict[str, Any]], model: m.Model) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    typed_table(con, model, rows)
    result = con.sql(f"SELECT * FROM ({generate(model)}) ORDER BY guidec_row")
    names = [d[0] for d in result.description]
    return normalised([dict(zip(names, values, strict=True)) for values in result.fetchall()])


def disagreements(model: m.Model, rows: list[dict[str, Any]],
                  got: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    expected = [python_side(model, p) for p in rows]
    return [(p, e, s) for p, e, s in zip(rows, expected, got, strict=True) if e != s]


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: p.stem)
def test_duckdb_agrees_with_the_interpreter(path: Path) -> None:
    model = model_of(path)
    n = 100_000 if path == FLAGSHIP else 2_000
    rows = table_patients(model, n, seed=11)
    got = sql_side(rows, model)
    wrong = disagreements(model, rows, got)
    assert wrong[:2] == [], f"{len(wrong)} of {n} disagree"
    invalid = sum(1 for s in got if s[0])
    assert invalid < n and (invalid > 0 or not model.inputs)  # both kinds were exercised


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: p.stem)
def test_every_truth_combination_on_duckdb(path: Path) -> None:
    """Each decision's and conditional recommendation's inputs unknown, true-making and
    false-making, in every combination: DuckDB's three-valued logic is the interpreter's."""
    model = model_of(path)
    rows = truth_rows(model)
    wrong = disagreements(model, rows, sql_side(rows, model))
    assert wrong[:2] == [], f"{len(wrong)} of {len(rows)} disagree"


def test_the_truth_rows_wait_decide_and_refuse() -> None:
    """The flagship's combinations exercise all three outcomes (a test of the generator)."""
    model = model_of(FLAGSHIP)
    sides = [python_side(model, p) for p in truth_rows(model)]
    assert sum(1 for s in sides if s[0]) >= 5  # invalid
    assert sum(1 for s in sides if not s[0] and s[2]) >= 500  # waiting
    assert sum(1 for s in sides if not s[0] and not s[2]) >= 50  # decided


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


def test_several_keys_when_one_does_not_hold_the_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A guideline whose codes need more than one BIGINT (forced here with a small limit)
    packs them into several keys, problems and outcomes alike, with the same answers."""
    import targets.sql as sql

    model = model_of(FLAGSHIP)
    monkeypatch.setattr(sql, "_MAX_KEY", 1 << 12)
    text = generate(model)
    assert "guidec_q1" in text and "guidec_k1" in text
    rows = table_patients(model, 2_000, seed=29)
    wrong = disagreements(model, rows, sql_side(rows, model))
    assert wrong[:2] == [], f"{len(wrong)} of {len(rows)} disagree"


def test_a_chain_of_joins_keeps_the_text_linear() -> None:
    """Forty decisions in a row, each rejoined after its two steps: written out in one CTE,
    where the walk goes would double at each join; the query keeps a CTE per level, stays
    small, and agrees with the interpreter."""
    n = 40
    lines = ['guideline chain "Chain"', "  version 1.0.0", "  status draft",
             "  updated 2026-01-01", '  owner "Tests"', "",
             'reference r1 guideline "Ref" source "S" year 2026',
             *(f'input x{i} "X {i}": optional boolean' for i in range(n)),
             'action a other "A" strong cite r1', "pathway", "  start -> d0"]
    for i in range(n):
        after = f"d{i + 1}" if i + 1 < n else "done"
        lines += [f'  decide d{i} "D {i}?"', f"    when x{i} -> s{i}", f"    otherwise -> t{i}",
                  f'  step s{i} "S {i}"', "    recommend a", f"    then -> {after}",
                  f'  step t{i} "T {i}"', f"    then -> {after}"]
    lines.append('  end done "Done"')
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chain.guide"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = check_file(path, analyze=False)
    assert result.model is not None, [d.message for d in result.diagnostics]
    text = generate(result.model)
    assert "reached_" in text and len(text) < 400_000
    rows = table_patients(result.model, 300, seed=31)
    wrong = disagreements(result.model, rows, sql_side(rows, result.model))
    assert wrong[:2] == []
