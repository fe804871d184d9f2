"""`guidec eval FILE --cohort PATIENTS.parquet --engine spark`: the DuckDB engine's query,
transpiled to Spark SQL by sqlglot, on a Spark session (``local[*]`` unless ``--spark-master``
names a cluster). Parquet in; the results come back as Arrow and are written, atomically, by
the same code as the DuckDB engine's (JSON lines or Parquet by the suffix), in line order,
with the same summary.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from cli.cohort_duckdb import (
    CohortError,
    EngineMissing,
    category,
    finish,
    polled,
    progress_bar,
    wrap,
)
from compiler import model as m
from targets.sql import transpile


def session(master: str | None) -> Any:
    """A Spark session in UTC (the SQL counts times in UTC), or :class:`EngineMissing`. The
    JVM's own output is discarded: its errors reach Python as exceptions."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineMissing("--engine spark needs Java 17 or later: apt-get install "
                            "openjdk-17-jre-headless (or set JAVA_HOME)")
    try:
        from pyspark import SparkConf, SparkContext
        from pyspark.java_gateway import launch_gateway
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineMissing("--engine spark needs PySpark: pip install 'guidec[spark]'"
                            ) from None
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).disabled = True  # PySpark would print each error's context
    if SparkContext._active_spark_context is None:
        conf = (SparkConf().setMaster(master or "local[*]").setAppName("guidec")
                .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
                .set("spark.sql.session.timeZone", "UTC")
                # The keys are large expressions: compiled one by one, not fused into one
                # method the JVM would refuse to compile (measured: twice as fast).
                .set("spark.sql.codegen.wholeStage", "false"))
        gateway = launch_gateway(  # type: ignore[no-untyped-call]
            conf, popen_kwargs={"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL})
        SparkContext(conf=conf, gateway=gateway)
    return SparkSession.builder.getOrCreate()


def stage_progress(spark: Any) -> Any:
    """A poll of the share of Spark's tasks done so far (in the stages seen so far)."""
    tracker = spark.sparkContext.statusTracker()
    seen: dict[int, tuple[int, int]] = {}
    best = [0.0]

    def poll() -> float:
        for sid in tracker.getActiveStageIds():
            info = tracker.getStageInfo(sid)
            if info is not None:
                seen[sid] = (info.numCompletedTasks, info.numTasks)
        total = sum(t for _, t in seen.values())
        if total:
            best[0] = max(best[0], 99 * sum(d for d, _ in seen.values()) / total)
        return best[0]

    return poll


def numbered(df: Any) -> Any:
    """The rows with ``guidec_line``, their number in file order from 1. Spark's increasing
    id holds the part in its upper bits and the row within it below: one pass counts the
    parts' rows, and each row adds the rows of the parts before its own (no global sort,
    which would gather every row in one place)."""
    from pyspark.sql import functions as F

    ided = df.withColumn("guidec_mid", F.monotonically_increasing_id())
    part = F.shiftright(F.col("guidec_mid"), 33)
    sizes = dict(ided.groupBy(part.alias("part")).count().collect())
    before, offsets = 0, []
    for k in sorted(sizes):
        offsets += [F.lit(k), F.lit(before)]
        before += sizes[k]
    offset = F.create_map(*offsets)[part] if offsets else F.lit(0)
    return ided.withColumn("guidec_line", F.col("guidec_mid") - F.shiftleft(part, 33) +
                           offset + 1)


def run(model: m.Model, cohort: str, output: str | None, progress: bool = False,
        master: str | None = None, spark: Any = None) -> dict[str, Any]:
    """Evaluate a Parquet cohort on Spark; write or print the rows; return the counts for the
    summary (``spark``: a session to use instead of starting one)."""
    import duckdb

    src = Path(cohort)
    if not src.exists():
        raise CohortError(f"{cohort}: no such file")
    if src.suffix.lower() != ".parquet":
        raise CohortError(f"{cohort}: --engine spark reads Parquet (.parquet); convert it, "
                          "or use --engine duckdb")
    spark = spark or session(master)
    from pyspark.errors import PySparkException

    started = time.perf_counter()
    try:
        df = spark.read.parquet(str(src.resolve()))
    except PySparkException as exc:
        raise CohortError(f"{cohort}: cannot be read ({str(exc).splitlines()[0]})") from None
    columns = {f.name.lower(): category(f.dataType.simpleString()) for f in df.schema.fields}
    numbered(df).createOrReplaceTempView("guidec_source")
    sql = transpile(wrap(model, "guidec_source", "parquet", columns, "guidec_line"), "spark")
    # The rows come back through the driver as Arrow (a cluster's workers share no file
    # system with this machine); DuckDB writes them in line order.
    table: list[Any] = []
    try:
        with progress_bar(progress, "evaluating") as advance:
            polled(lambda: table.append(spark.sql(sql).toArrow()), stage_progress(spark),
                   advance)
    except PySparkException as exc:
        raise CohortError(f"{cohort}: cannot be evaluated ({str(exc).splitlines()[0]})"
                          ) from None
    con = duckdb.connect()
    con.register("spark_results", table[0])
    con.execute("CREATE TEMP TABLE results AS SELECT * FROM spark_results")
    return finish(con, output, started)
