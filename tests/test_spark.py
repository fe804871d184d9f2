"""The SQL transpiled to Spark, on a local Spark session (2 cores), against the interpreter:
20,000 random patients of the flagship; the truth tables (each decision's inputs unknown,
true- and false-making in every combination) and random patients of the shipped guidelines
and of the fixtures that use dates, sets, units, scores, lets, pending and odd strings; and
`guidec eval --engine spark` end to end. One session serves the module, and each guide is
one query (Spark's cost is per query, not per row), all in one test: one xdist worker does
the Spark work while the other runs the rest of the suite (tests/conftest.py puts this module
first)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from cli.cohort_spark import session
from cli.main import cli
from compiler import model as m
from targets.sql import generate, lit, transpile
from tests.test_sql import (
    FLAGSHIP,
    GUIDES,
    ROOT,
    disagreements,
    model_of,
    normalised,
    table_patients,
    truth_rows,
    typed_table,
)

#: Random patients on Spark (beside each guide's truth table): the issue's 20,000 of the
#: flagship and some of the other shipped guidelines (DuckDB runs 2,000 of every guide).
RANDOM = {FLAGSHIP: 20_000, ROOT / "guidelines" / "alteplase.guide": 500,
          ROOT / "guidelines" / "curb65.guide": 500}
FEATURES = [ROOT / "tests" / "fixtures" / "eval" / f"{n}.guide"
            for n in ("adversarial", "sets", "time", "units", "scores", "numbers", "operators",
                      "diamonds", "reassess")] + \
    [ROOT / "tests" / "fixtures" / "check" / "pending.guide",
     ROOT / "tests" / "fixtures" / "check" / "undecided.guide",
     ROOT / "tests" / "fixtures" / "diff" / "reorganised_lets.guide"]
#: The guides run on Spark (a query each, about a second apiece): the shipped ones and those
#: that use each feature (DuckDB runs every guide).
SPARK_GUIDES = [p for p in GUIDES if p in RANDOM or p in FEATURES]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    s = session("local[2]")
    s.conf.set("spark.sql.shuffle.partitions", "2")
    yield s
    s.stop()


def on_spark(spark: Any, model: m.Model, rows: list[dict[str, Any]],
             tmp: Path) -> list[tuple[Any, ...]]:
    """The rows through the Spark SQL (typed in DuckDB, handed over as Parquet)."""
    con = duckdb.connect()
    typed_table(con, model, rows)
    parquet = tmp / f"{model.meta.id}.parquet"
    con.execute(f"COPY patients TO {lit(str(parquet))} (FORMAT PARQUET)")
    spark.read.parquet(str(parquet)).createOrReplaceTempView("patients")
    table = spark.sql(transpile(generate(model), "spark")).orderBy("guidec_row").toArrow()
    return normalised(table.to_pylist())


@pytest.fixture(scope="module")
def results(spark: Any, tmp_path_factory: pytest.TempPathFactory
            ) -> dict[Path, tuple[list[dict[str, Any]], list[tuple[Any, ...]]]]:
    """Per guide: its rows (truth table, then random patients) and Spark's answers."""
    tmp = tmp_path_factory.mktemp("spark")
    out = {}
    for path in SPARK_GUIDES:
        model = model_of(path)
        rows = truth_rows(model)
        if path in RANDOM:
            rows += table_patients(model, RANDOM[path], seed=17)
        out[path] = (rows, on_spark(spark, model, rows, tmp) if rows else [])
    return out


def test_spark_agrees_with_the_interpreter(
        results: dict[Path, tuple[list[dict[str, Any]], list[tuple[Any, ...]]]]) -> None:
    """One test for every guide, so that the Spark work runs on one xdist worker."""
    wrong = {}
    for path, (rows, got) in results.items():
        bad = disagreements(model_of(path), rows, got)
        if bad:
            wrong[path.stem] = (len(bad), len(rows), bad[0])
    assert wrong == {}
    rows, got = results[FLAGSHIP]
    assert len(got) == len(rows) >= 20_000
    assert sum(1 for g in got if g[0]) > 1_000 and sum(1 for g in got if g[2]) > 1_000


def test_strings_stay_in_their_literals_in_every_dialect() -> None:
    """Parsed back, each dialect's query holds exactly the DuckDB query's string literals:
    no text of the adversarial fixture ended a literal early or began one (Spark escapes
    a backslash, which DuckDB does not treat as special)."""
    import sqlglot
    from sqlglot import exp

    for path in (p for p in GUIDES if "adversarial" in p.stem):
        text = generate(model_of(path))
        duck = sqlglot.parse_one(text, read="duckdb")
        for enum in list(duck.find_all(exp.DataType)):
            if enum.this == exp.DataType.Type.ENUM:  # DuckDB's type of the names only
                enum.replace(exp.DataType.build("VARCHAR"))
        want = sorted(s.this for s in duck.find_all(exp.Literal) if s.is_string)
        spark_sql = transpile(text, "spark")
        got = sorted(s.this for s in sqlglot.parse_one(spark_sql, read="spark")
                     .find_all(exp.Literal) if s.is_string)
        assert got == want
        assert transpile(text, "spark") == spark_sql  # deterministic


def test_engine_spark_end_to_end(spark: Any, tmp_path: Path) -> None:
    """`guidec eval --engine spark` on a small Parquet file (one column of the wrong type,
    one enum value unknown) gives, line by line, what `--engine duckdb` gives."""
    base = json.loads((ROOT / "guidelines" / "examples" / "egfr_mutant_linear.json")
                      .read_text(encoding="utf-8"))
    parquet = tmp_path / "cohort.parquet"
    rows = [{**base, "patient_id": f"P{i}"} for i in range(6)]
    rows[1]["histology"] = "adenoma"
    rows[2]["kps"] = 75
    rows[3]["neuraxis_mri_done"] = False
    rows[4].pop("egfr")
    source = tmp_path / "cohort.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * REPLACE (CAST(kps AS VARCHAR) || ' ' AS kps) FROM "
                f"read_json({lit(str(source))})) TO {lit(str(parquet))} (FORMAT PARQUET)")
    outputs = {}
    for engine in ("spark", "duckdb"):
        out = tmp_path / f"{engine}.jsonl"
        r = CliRunner().invoke(cli, ["eval", str(FLAGSHIP), "--cohort", str(parquet),
                                     "--engine", engine, "-o", str(out)])
        assert r.exit_code == 2, r.output  # rows 2, 3 and 4 are not valid
        assert "6 patients: 3 evaluated, 3 invalid" in r.output
        outputs[engine] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert outputs["spark"] == outputs["duckdb"]
    lines = outputs["spark"]
    assert [x["line"] for x in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[1]["problems"] == [["histology"]] and lines[1]["recommendations"] is None
    assert lines[2]["problems"] == [["kps"]]  # text "75 " converts; 75 is off the scale
    assert lines[3]["problems"] == [["neuraxis_mri_done", "lm_pattern"]]
    assert lines[4]["pending"] == [{"decision": "systemic", "inputs": ["egfr"]}]
    expected = [r["id"] for r in lines[0]["recommendations"]]
    assert expected and lines[5]["recommendations"] == lines[0]["recommendations"]


def test_engine_spark_usage_errors(tmp_path: Path) -> None:
    csv = tmp_path / "cohort.csv"
    csv.write_text("kps\n80\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["eval", str(FLAGSHIP), "--cohort", str(csv), "--engine",
                                 "spark"])
    assert r.exit_code == 2 and "--engine spark reads Parquet" in r.output
    r = CliRunner().invoke(cli, ["eval", str(FLAGSHIP), "--cohort", str(csv),
                                 "--spark-master", "local[1]"])
    assert r.exit_code == 2 and "--spark-master goes with --engine spark" in r.output
