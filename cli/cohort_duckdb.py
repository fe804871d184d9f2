"""`guidec eval FILE --cohort PATIENTS --engine duckdb`: a cohort through the SQL target on an
embedded DuckDB, from CSV, Parquet or JSON lines to JSON lines or Parquet.

Each input column is read as the file holds it and converted to the input's type; a value
that does not convert (text in a number column, a JSON string for a boolean) is a problem on
that row, keyed by its column, never a failure of the run. The output is written to a
temporary file beside the destination and renamed over it when complete.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from compiler import model as m
from targets.sql import COLUMN_TYPES, generate, ident, lit

#: Suffixes DuckDB reads, and what each is.
READERS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "json", ".ndjson": "json",
           ".json": "json"}
#: The JSON types a JSON-lines value of each kind may have (as ``json_type`` names them).
_JSON_TYPES = {"boolean": ("BOOLEAN",), "integer": ("BIGINT", "UBIGINT", "DOUBLE"),
               "number": ("BIGINT", "UBIGINT", "DOUBLE"), "enum": ("VARCHAR",),
               "set": ("ARRAY",), "date": ("VARCHAR",), "datetime": ("VARCHAR",)}


class CohortError(Exception):
    """A cohort the engine cannot read (a usage error, exit 2)."""


def _source(path: Path, kind: str, model: m.Model) -> str:
    """The file as rows, numbered from 1 in file order (a JSON-lines file line by line, each
    input taken out of its object, so that a malformed line or a key that is not an input is
    a problem of that line)."""
    where = lit(str(path))
    if kind == "csv":
        return f"read_csv({where}, all_varchar = true, header = true)"
    if kind == "parquet":
        return f"read_parquet({where})"
    lines = (f"read_csv({where}, columns = {{'guidec_text': 'VARCHAR'}}, header = false, "
             "delim = '\x1f', quote = '', escape = '', auto_detect = false)")
    names = ", ".join(lit(n) for n in model.inputs)
    # TRY_CAST: a malformed line is NULL here, never an error of the whole run.
    obj = ("CASE WHEN json_type(TRY_CAST(guidec_text AS JSON)) = 'OBJECT' "
           "THEN TRY_CAST(guidec_text AS JSON) END")
    unknown = (f"list_filter(json_keys(guidec_obj), lambda guidec_k: guidec_k NOT IN ({names}))"
               if model.inputs else "json_keys(guidec_obj)")
    extracted = "".join(f", json_extract(guidec_obj, {lit('$.' + n)}) AS {ident(n)}"
                        for n in model.inputs)
    # As the Python engine keys them: malformed JSON "(line)", JSON but not an object
    # "(patient)".
    shape = ("CASE WHEN TRY_CAST(guidec_text AS JSON) IS NULL THEN [['(line)']] "
             "WHEN guidec_obj IS NULL THEN [['(patient)']] "
             f"ELSE list_transform({unknown}, lambda guidec_k: [guidec_k]) END")
    return (f"(SELECT guidec_line{extracted}, {shape} AS guidec_shape "
            f"FROM (SELECT guidec_line, guidec_text, {obj} AS guidec_obj FROM (SELECT "
            f"row_number() OVER () AS guidec_line, guidec_text FROM {lines}) "
            "WHERE trim(guidec_text) <> ''))")


def _typed(inp: m.Input, kind: str, present: bool) -> tuple[str, str]:
    """The typed value of an input's column and the condition of a value that does not
    convert."""
    col = ident(inp.name)
    if not present:
        return f"CAST(NULL AS {COLUMN_TYPES[inp.kind]})", "FALSE"
    if kind == "json":
        types = ", ".join(lit(t) for t in _JSON_TYPES[inp.kind])
        ok = f"(json_type({col}) IN ({types}))"
        raw = f"json_extract_string({col}, '$')" if inp.kind in ("enum", "date", "datetime") \
            else col
        value = f"CASE WHEN {ok} THEN TRY_CAST({raw} AS {COLUMN_TYPES[inp.kind]}) END"
        null = f"({col} IS NULL OR json_type({col}) = 'NULL')"
        return value, f"(NOT {null} AND {value} IS NULL)"
    value = f"TRY_CAST({col} AS {COLUMN_TYPES[inp.kind]})"
    return value, f"({col} IS NOT NULL AND {value} IS NULL)"


def query(model: m.Model, path: Path) -> str:
    """The whole query: read, convert, evaluate; one row per patient in file order."""
    import duckdb

    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise CohortError(f"{path}: read as CSV (.csv), Parquet (.parquet) or JSON lines "
                          "(.jsonl); the suffix says which")
    source = _source(path, kind, model)
    try:
        relation = duckdb.sql(f"SELECT * FROM {source} LIMIT 0")
        assert relation is not None
        columns = {c.lower() for c in relation.columns}
    except duckdb.Error as exc:
        raise CohortError(f"{path}: cannot be read ({str(exc).splitlines()[0]})") from None
    numbered = "guidec_line" if kind == "json" else "row_number() OVER ()"
    typed, broken = [], []
    for inp in model.inputs.values():
        value, bad = _typed(inp, kind, inp.name.lower() in columns)
        typed.append(f"{value} AS {ident(inp.name)}")
        broken.append(f"CASE WHEN {bad} THEN [{lit(inp.name)}] END")
    problems = ("list_filter([" + ", ".join(broken) + "], lambda guidec_p: "
                "guidec_p IS NOT NULL)") if broken else "CAST([] AS VARCHAR[][])"
    if kind == "json":
        problems = f"list_concat(guidec_shape, {problems})"
    inner = generate(model)
    return (
        f"WITH raw AS (SELECT {numbered} AS guidec_row, * FROM {source}),\n"
        f"patients AS (SELECT guidec_row, {', '.join([*typed, problems + ' AS guidec_types'])}"
        " FROM raw),\n"
        f"evaluated AS (\n{inner})\n"
        "SELECT guidec_row AS line,\n"
        # A value that did not convert is a problem of its key; the other values' problems
        # are listed with it (the assumptions are checked only when every value is good).
        "  CASE WHEN list_has_any(flatten(guidec_types), ['(line)', '(patient)']) "
        "THEN guidec_types WHEN len(guidec_types) = 0 THEN guidec_problems "
        "ELSE list_concat(guidec_types, "
        "list_filter(guidec_input_problems, lambda guidec_p: NOT list_has_any(guidec_p, "
        "flatten(guidec_types)))) END AS problems,\n"
        + ",\n".join(f"  CASE WHEN len(guidec_types) = 0 THEN guidec_{k} END AS {k}"
                     for k in ("recommendations", "pending", "path", "stuck")) +
        "\nFROM evaluated ORDER BY guidec_row")


def run(model: m.Model, cohort: str, output: str | None) -> dict[str, Any]:
    """Evaluate the cohort; write the rows (JSON lines or Parquet, by ``output``'s suffix) or
    print them as JSON lines; return the counts for the summary."""
    import duckdb

    src = Path(cohort)
    if not src.exists():
        raise CohortError(f"{cohort}: no such file")
    sql = query(model, src)
    con = duckdb.connect()
    started = time.perf_counter()
    try:
        con.execute(f"CREATE TEMP TABLE results AS {sql}")
    except duckdb.Error as exc:
        raise CohortError(f"{cohort}: cannot be read ({str(exc).splitlines()[0]})") from None
    if output is None:
        import json

        cursor = con.execute("SELECT * FROM results")
        names = [d[0] for d in cursor.description]
        while batch := cursor.fetchmany(10_000):
            for row in batch:
                print(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False,
                                 default=str))
    else:
        out = Path(output)
        fmt = "PARQUET" if out.suffix.lower() == ".parquet" else "JSON"
        tmp = out.with_name(f".{out.name}.guidec-tmp")
        con.execute(f"COPY results TO {lit(str(tmp))} (FORMAT {fmt})")
        os.replace(tmp, out)
    seconds = time.perf_counter() - started
    counts = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE len(problems) = 0), "
        "count(*) FILTER (WHERE len(problems) > 0), "
        "count(*) FILTER (WHERE len(stuck) > 0) FROM results").fetchone()
    assert counts is not None
    actions = dict(con.execute(
        "SELECT r.id, count(*) FROM (SELECT unnest(recommendations) AS r FROM results) "
        "GROUP BY ALL").fetchall())
    pending = dict(con.execute(
        "SELECT p.decision, count(*) FROM (SELECT unnest(pending) AS p FROM results) "
        "GROUP BY ALL").fetchall())
    invalid = con.execute(
        "SELECT line, problems FROM results WHERE len(problems) > 0 ORDER BY line "
        "LIMIT 20").fetchall()
    return {"lines": counts[0], "evaluated": counts[1], "invalid": counts[2],
            "stuck": counts[3], "seconds": seconds, "actions": actions, "pending": pending,
            "listed": invalid}
