"""`guidec eval FILE --cohort PATIENTS --engine duckdb`: a cohort through the SQL target on an
embedded DuckDB, from CSV, Parquet or JSON lines to JSON lines or Parquet. The query that
reads and converts the columns is built here in DuckDB's dialect; the Spark engine
(:mod:`cli.cohort_spark`) runs the same query transpiled.

Each input column is converted to the input's type; a value that does not convert (text in a
number column, a JSON string for a boolean, a number in a Parquet column for a choice) is a
problem on that row, keyed by its column, never a failure of the run. The output is written
to a temporary file beside the destination and renamed over it when complete.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
#: What a Parquet column's type (DuckDB's or Spark's name for it) holds.
_CATEGORIES = [(r"boolean", "boolean"),
               (r"u?(tiny|small|big|huge)?int(eger)?|float|double|real|decimal.*", "number"),
               (r"varchar|string|text", "text"), (r"date", "date"),
               (r"timestamp.*", "timestamp"), (r"(varchar|string|text)\[\]|array<string>",
                                               "texts")]
#: The categories a column of each kind of input may have in Parquet: its own, or text in
#: the one form that means the same in every engine.
_ACCEPTS = {"boolean": ("boolean", "text"), "integer": ("number", "text"),
            "number": ("number", "text"), "enum": ("text",), "set": ("texts",),
            "date": ("date", "text"), "datetime": ("timestamp",)}


class CohortError(Exception):
    """A cohort the engine cannot read (a usage error, exit 2)."""


class EngineMissing(Exception):
    """The engine asked for is not installed here (exit 3); the message says how to."""


def category(type_name: str) -> str:
    """``boolean``, ``number``, ``text``, ``date``, ``timestamp``, ``texts`` or ``other``."""
    name = type_name.strip().lower()
    for pattern, cat in _CATEGORIES:
        if re.fullmatch(pattern, name):
            return cat
    return "other"


def _json_source(path: Path, model: m.Model) -> str:
    """A JSON-lines file as rows, line by line, each input taken out of its object, so that
    a malformed line or a key that is not an input is a problem of that line."""
    where = lit(str(path))
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
    shape = ("CASE WHEN TRY_CAST(guidec_text AS JSON) IS NULL THEN ['(line)'] "
             "WHEN guidec_obj IS NULL THEN ['(patient)'] "
             f"ELSE {unknown} END")
    return (f"(SELECT guidec_line{extracted}, {shape} AS guidec_shape "
            f"FROM (SELECT guidec_line, guidec_text, {obj} AS guidec_obj FROM (SELECT "
            f"row_number() OVER () AS guidec_line, guidec_text FROM {lines}) "
            "WHERE trim(guidec_text) <> ''))")


def _typed(inp: m.Input, kind: str, cat: str | None) -> tuple[str, str]:
    """The typed value of an input's column and the condition of a value that does not
    convert (``cat``: the Parquet column's category; None when the column is absent)."""
    col = ident(inp.name)
    target = COLUMN_TYPES[inp.kind]
    if cat is None:
        return f"CAST(NULL AS {target})", "FALSE"
    if kind == "json":
        types = ", ".join(lit(t) for t in _JSON_TYPES[inp.kind])
        ok = f"(json_type({col}) IN ({types}))"
        raw = f"json_extract_string({col}, '$')" if inp.kind in ("enum", "date", "datetime") \
            else col
        value = f"CASE WHEN {ok} THEN TRY_CAST({raw} AS {target}) END"
        null = f"({col} IS NULL OR json_type({col}) = 'NULL')"
        return value, f"(NOT {null} AND {value} IS NULL)"
    if kind == "csv":
        value = f"TRY_CAST({col} AS {target})"
    elif cat not in _ACCEPTS[inp.kind]:
        value = f"CAST(NULL AS {target})"
    elif cat != "text":
        value = f"CAST({col} AS {target})"
    elif inp.kind == "boolean":
        value = f"CASE WHEN lower({col}) = 'true' THEN TRUE WHEN lower({col}) = 'false' " \
            "THEN FALSE END"
    elif inp.kind == "date":  # the one ISO form, as the evaluator reads a date
        value = f"CASE WHEN {col} LIKE '____-__-__' THEN TRY_CAST({col} AS DATE) END"
    elif inp.kind == "enum":
        value = col
    else:
        value = f"TRY_CAST({col} AS {target})"
    return value, f"({col} IS NOT NULL AND {value} IS NULL)"


def wrap(model: m.Model, source: str, kind: str, columns: dict[str, str],
         numbered: str) -> str:
    """The whole query in DuckDB's dialect: read, convert, evaluate; one row per patient
    (``line``, ``problems``, ``recommendations``, ``pending``, ``path``, ``stuck``).
    ``columns``: each column's category, by lower-case name; ``numbered``: the SQL of a
    row's line number."""
    typed, broken = [], []
    for inp in model.inputs.values():
        value, bad = _typed(inp, kind, columns.get(inp.name.lower()))
        typed.append(f"{value} AS {ident(inp.name)}")
        broken.append(f"CASE WHEN {bad} THEN {lit(inp.name)} END")
    bad = ("list_filter(CAST([" + ", ".join(broken) + "] AS VARCHAR[]), lambda guidec_p: "
           "guidec_p IS NOT NULL)") if broken else "CAST([] AS VARCHAR[])"
    if kind == "json":
        bad = f"list_concat(guidec_shape, {bad})"
    inner = generate(model, input_problems=True)
    # A value that did not convert is a problem of its key; the other values' problems are
    # listed with it (the assumptions are checked only when every value converts).
    problems = (
        "CASE WHEN array_length(guidec_bad) = 0 THEN guidec_problems "
        "ELSE list_concat(list_transform(guidec_bad, lambda guidec_k: [guidec_k]), "
        "list_filter(guidec_input_problems, lambda guidec_p: "
        "NOT list_contains(guidec_bad, guidec_p[1]))) END")
    if kind == "json":  # a line that is not a patient has that one problem
        problems = ("CASE WHEN list_contains(guidec_bad, '(line)') THEN [['(line)']] "
                    "WHEN list_contains(guidec_bad, '(patient)') THEN [['(patient)']] "
                    f"ELSE {problems} END")
    # Only the inputs' columns are read: another column may have any name.
    read = [ident(i.name) for i in model.inputs.values() if i.name.lower() in columns]
    if kind == "json":
        read.append("guidec_shape")
    return (
        f"WITH raw AS (SELECT {', '.join([f'{numbered} AS guidec_row', *read])} "
        f"FROM {source}),\n"
        f"patients AS (SELECT guidec_row, {', '.join([*typed, bad + ' AS guidec_bad'])}"
        " FROM raw),\n"
        f"evaluated AS (\n{inner})\n"
        f"SELECT guidec_row AS line,\n  {problems} AS problems,\n"
        + ",\n".join(f"  CASE WHEN array_length(guidec_bad) = 0 THEN guidec_{k} END AS {k}"
                     for k in ("recommendations", "pending", "path", "stuck")) +
        "\nFROM evaluated")  # in any order: the writer orders the rows by line


def query(model: m.Model, path: Path) -> str:
    """The DuckDB engine's query over the file (its suffix says how to read it)."""
    import duckdb

    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise CohortError(f"{path}: read as CSV (.csv), Parquet (.parquet) or JSON lines "
                          "(.jsonl); the suffix says which")
    source = (_json_source(path, model) if kind == "json" else
              f"read_csv({lit(str(path))}, all_varchar = true, header = true)"
              if kind == "csv" else f"read_parquet({lit(str(path))})")
    try:
        relation = duckdb.sql(f"DESCRIBE SELECT * FROM {source}")
        assert relation is not None
        described = relation.fetchall()
    except duckdb.Error as exc:
        raise CohortError(f"{path}: cannot be read ({str(exc).splitlines()[0]})") from None
    columns = {str(name).lower(): category(str(type_)) for name, type_, *_ in described}
    numbered = "guidec_line" if kind == "json" else "row_number() OVER ()"
    return wrap(model, source, kind, columns, numbered)


@contextmanager
def progress_bar(show: bool, label: str) -> Iterator[Callable[[float], None]]:
    """A bar on the terminal (stderr) driven by a percentage."""
    if not show:
        yield lambda pct: None
        return
    import sys

    import click

    stream = getattr(sys.stderr, "raw", sys.stderr)
    with click.progressbar(length=100, label=label, file=stream, show_eta=False) as bar:
        done = [0]

        def to(pct: float) -> None:
            step = max(0, min(100, int(pct)) - done[0])
            if step:
                bar.update(step)
                done[0] += step

        yield to
        to(100)


def polled(work: Callable[[], None], poll: Callable[[], float],
           advance: Callable[[float], None]) -> None:
    """Run ``work`` in a thread, reporting ``poll()`` (a percentage) every tenth of a second;
    re-raise what it raised."""
    failed: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.1)
        pct = poll()
        if pct >= 0:
            advance(pct)
    if failed:
        raise failed[0]


def run(model: m.Model, cohort: str, output: str | None,
        progress: bool = False) -> dict[str, Any]:
    """Evaluate the cohort; write the rows (JSON lines or Parquet, by ``output``'s suffix) or
    print them as JSON lines; return the counts for the summary."""
    import duckdb

    src = Path(cohort)
    if not src.exists():
        raise CohortError(f"{cohort}: no such file")
    sql = query(model, src)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
    started = time.perf_counter()
    try:
        with progress_bar(progress, "evaluating") as advance:
            polled(lambda: _execute(con, f"CREATE TEMP TABLE results AS {sql}"),
                   con.query_progress, advance)
    except duckdb.Error as exc:
        raise CohortError(f"{cohort}: cannot be read ({str(exc).splitlines()[0]})") from None
    return finish(con, output, started)


def _execute(con: Any, sql: str) -> None:
    con.execute(sql)


def finish(con: Any, output: str | None, started: float) -> dict[str, Any]:
    """Write the table ``results`` of a DuckDB connection, atomically, or print it; return
    the counts for the summary."""
    if output is None:
        import json

        cursor = con.execute("SELECT * FROM results ORDER BY line")
        names = [d[0] for d in cursor.description]
        while batch := cursor.fetchmany(10_000):
            for row in batch:
                print(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False,
                                 default=str))
    else:
        out = Path(output)
        fmt = "PARQUET" if out.suffix.lower() == ".parquet" else "JSON"
        tmp = out.with_name(f".{out.name}.guidec-tmp")
        try:
            con.execute(f"COPY (SELECT * FROM results ORDER BY line) TO {lit(str(tmp))} "
                        f"(FORMAT {fmt})")
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
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
