"""`guidec eval FILE [PATIENT.json|-]`: what the guideline recommends for a patient, and why.

One patient runs on the reference interpreter; ``--cohort patients.jsonl`` streams a JSON-lines
cohort through the compiled evaluator (the module ``guidec build -t python`` writes, compiled in
memory). A guideline with check errors is still evaluated when its names and types resolve, so
that a witness patient from ``guidec check`` can be replayed: the result then shows ``stuck``.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from cli.main import EXIT_ENV, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from compiler import model as m
    from compiler.interpreter import Outcome

#: Error codes after which the model cannot be evaluated at all: syntax, unresolved names
#: (inputs, actions, nodes, patients, let cycles) and types.
_BLOCKING = ("E0", "E101", "E103", "E104", "E106", "E107", "E114", "E2")

#: At most this many invalid cohort lines are listed one by one on standard error.
MAX_LISTED = 20


class EvalError(Exception):
    """Bad input to `guidec eval`: a clear message and an exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


@click.command("eval", epilog="Example: guidec eval guidelines/leptomeningeal.guide "
               "patient.json\n\n\b\nMore:\n"
               "  guidec eval guidelines/leptomeningeal.guide --patient fit --format json\n"
               "  guidec eval guidelines/leptomeningeal.guide --cohort patients.jsonl "
               "-o results.jsonl")
@click.argument("file", type=click.Path())
@click.argument("patient_file", metavar="[PATIENT.json|-]", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for a clinician; json: the result object.")
@click.option("--patient", "patient_name", metavar="NAME",
              help="Evaluate a named example patient of the guideline.")
@click.option("--cohort", metavar="PATIENTS.jsonl", type=click.Path(),
              help="Evaluate one patient per line (JSON lines) with the compiled evaluator.")
@click.option("-o", "--output", metavar="RESULTS.jsonl", type=click.Path(dir_okay=False),
              help="With --cohort: write the results here (atomically) instead of stdout.")
@click.option("--progress/--no-progress", default=None,
              help="With --cohort: a progress bar on stderr (default: when it is a terminal).")
@click.option("--engine", type=click.Choice(["python", "duckdb", "spark"]), default=None,
              help="With --cohort: the compiled Python evaluator (JSON lines); the SQL on an "
                   "embedded DuckDB (CSV, Parquet or JSON lines in); or the SQL transpiled "
                   "to Spark (Parquet in). JSON lines or Parquet out, by -o's suffix. "
                   "Default: duckdb for .csv and .parquet, else python.")
@click.option("--spark-master", metavar="URL", default=None,
              help="With --engine spark: the cluster (default: local[*], every core here).")
def eval_(file: str, patient_file: str | None, fmt: str, patient_name: str | None,
          cohort: str | None, output: str | None, progress: bool | None,
          engine: str | None, spark_master: str | None) -> None:
    """Evaluate a patient against FILE: recommendations with strength, why, evidence, notes,
    and what is pending.

    The patient is a JSON object of inputs (a file, or - for standard input), or
    --patient NAME. An invalid patient lists every problem and exits 2. With --cohort, each
    output line is the result object, or {"line": N, "invalid": [...]} for an invalid line;
    a summary follows on standard error (standard output with -o). Exit 2 when a line was
    invalid, 1 when the guideline has errors (it is still evaluated when it can be).
    """
    try:
        if spark_master is not None and engine != "spark":
            raise EvalError("--spark-master goes with --engine spark")
        status = _run(file, patient_file, fmt, patient_name, cohort, output, progress, engine,
                      spark_master)
    except EvalError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.code)
    sys.exit(status)


def _run(file: str, patient_file: str | None, fmt: str, patient_name: str | None,
         cohort: str | None, output: str | None, progress: bool | None,
         engine: str | None = None, spark_master: str | None = None) -> int:
    given = [x for x in (patient_file, patient_name, cohort) if x is not None]
    if len(given) != 1:
        raise EvalError("give one patient: a JSON file (or - for standard input), "
                        "--patient NAME, or --cohort PATIENTS.jsonl")
    if output is not None and cohort is None:
        raise EvalError("-o/--output goes with --cohort")
    if output is not None:
        from dsl.files import OutputError, check_output

        try:
            check_output(output, [file, *([cohort] if cohort else [])])
        except OutputError as exc:
            raise EvalError(str(exc)) from None
    model, has_errors = load_model(file)
    status = EXIT_FINDINGS if has_errors else EXIT_OK
    if engine is not None and cohort is None:
        raise EvalError("--engine goes with --cohort")
    if cohort is not None:
        if engine is None:
            engine = "duckdb" if Path(cohort).suffix.lower() in (".csv", ".parquet") \
                else "python"
        if engine in ("duckdb", "spark"):
            show = sys.stderr.isatty() if progress is None else progress
            invalid = run_cohort_sql(model, cohort, output, has_errors, engine, show,
                                     spark_master)
        else:
            invalid = run_cohort(model, cohort, output, has_errors, progress)
        return EXIT_USAGE if invalid else status
    if patient_name is not None:
        if patient_name not in model.patients:
            from dsl.diagnostics import suggestion

            hint = suggestion(patient_name, model.patients)
            known = ", ".join(model.patients) or "none"
            raise EvalError(f"{file} has no patient named `{patient_name}`"
                            + (f"; {hint}" if hint else f" (its patients: {known})"))
        data: object = dict(model.patients[patient_name].values)
        source = f"example patient `{patient_name}`"
    else:
        assert patient_file is not None
        data = read_patient(patient_file)
        source = "standard input" if patient_file == "-" else patient_file
    from compiler.interpreter import InvalidPatient, Problem, evaluate

    try:
        huge = huge_numbers(data)
        if huge:
            raise InvalidPatient([Problem((p["key"],), p["message"]) for p in huge])
        outcome = evaluate(model, data)  # type: ignore[arg-type]
    except InvalidPatient as exc:
        if fmt == "json":
            click.echo(json.dumps({"invalid": [{"key": p.key, **p.to_dict()}
                                               for p in exc.problems]}, indent=2,
                                  ensure_ascii=False))
        n = len(exc.problems)
        click.echo(f"error: {source}: the patient is not valid "
                   f"({n} problem{'s' if n != 1 else ''}):", err=True)
        for p in exc.problems:
            click.echo(f"  - {p}", err=True)
        return EXIT_USAGE
    if fmt == "json":
        click.echo(json.dumps(outcome.to_dict(with_stuck=has_errors), indent=2,
                              ensure_ascii=False))
    else:
        click.echo(outcome_text(model, outcome, source))
    return status


# ----------------------------------------------------------------------------- inputs


def load_model(file: str) -> tuple[m.Model, bool]:
    """The model of FILE and whether it has check errors (then it comes from the lowering
    alone, so that a witness replays; names and types must still resolve)."""
    from compiler.pipeline import InputError, check_file

    try:
        result = check_file(file)
    except InputError as exc:
        raise EvalError(str(exc)) from None
    if result.model is not None:
        return result.model, False
    errors = result.errors
    blocking = [d for d in errors if d.code.startswith(_BLOCKING)]
    if blocking:
        from cli.report import text_report

        click.echo(text_report([result]), err=True)
        raise EvalError(f"{file} has errors that leave it without a meaning; fix them first",
                        EXIT_FINDINGS)
    from compiler.pipeline import model_of

    model = model_of(result.source, file)
    assert model is not None  # it parsed: the errors are past the syntax
    for d in errors:
        click.echo(f"{d.span}: error[{d.code}]: {d.message}", err=True)
    n = len(errors)
    click.echo(f"warning: {file} has {n} error{'s' if n != 1 else ''}; evaluating it anyway "
               "(a decision with no single branch is reported as stuck)", err=True)
    return model, True


def read_patient(name: str) -> object:
    """A patient from a JSON file or standard input (``-``); a clear error otherwise."""
    shown = "standard input" if name == "-" else name
    if name == "-":
        raw = sys.stdin.buffer.read(MAX_PATIENT_BYTES + 1)
        if len(raw) > MAX_PATIENT_BYTES:
            raise EvalError(f"standard input: more than {MAX_PATIENT_BYTES:,} bytes is too "
                            "large for a patient")
    else:
        from dsl.source import InputError, read_limited

        p = Path(name)
        if not p.exists():
            raise EvalError(f"{name}: no such file")
        if p.is_dir():
            raise EvalError(f"{name}: is a directory, not a patient file")
        try:
            raw = read_limited(p, MAX_PATIENT_BYTES, "a patient")
        except InputError as exc:
            raise EvalError(str(exc)) from None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise EvalError(f"{shown}: is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                        f"{exc.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise EvalError(f"{shown}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg}") from None
    except _Duplicate as exc:
        raise EvalError(f"{shown}: the key `{exc}` appears twice in one object") from None
    except RecursionError:
        raise EvalError(f"{shown}: malformed JSON: nested too deeply") from None


#: A patient file (or standard input) larger than this is refused before it is read whole.
MAX_PATIENT_BYTES = 64_000_000


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _Duplicate(k)
            seen.add(k)
    return out


class HugeNumber:
    """A JSON integer with more digits than Python converts (4,300): kept as its digit count,
    so that the patient's problem can name the key."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def problem(self) -> str:
        return f"a number of {self.digits:,} digits is too large"


def _int(text: str) -> int | HugeNumber:
    return int(text) if len(text) < 4300 else HugeNumber(len(text.lstrip("-")))


def huge_numbers(data: object) -> list[dict[str, str]]:
    """The problems of a decoded patient's keys whose numbers are too large to read."""
    if not isinstance(data, dict):
        return []
    return [{"key": str(k), "message": v.problem()} for k, v in data.items()
            if isinstance(v, HugeNumber)]


# ----------------------------------------------------------------------------- text output


def outcome_text(model: m.Model, outcome: Outcome, source: str, width: int = 100) -> str:
    """The result for a clinician: what to do (strength, why, evidence), cautions, what is
    pending, the committee's notes, the path."""
    import textwrap

    from compiler import model as mm

    meta = model.meta
    nodes = model.pathway.nodes
    out: list[str] = []

    def para(first: str, text: str, indent: int | None = None) -> None:
        rest = " " * (len(first) if indent is None else indent)
        out.extend(textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest,
                                 break_on_hyphens=False) or [first.rstrip()])

    def reference(rid: str) -> str:
        ref = model.references.get(rid)
        if ref is None:
            return rid
        extra = ", ".join(str(x) for x in (ref.source, ref.year) if x)
        return f"[{ref.label}] {ref.title}" + (f" ({extra})" if extra else "")

    def evidence(first: str, ids: tuple[str, ...] | list[str]) -> None:
        for k, rid in enumerate(ids):
            para(first if k == 0 else " " * len(first), reference(rid))

    def where(nid: str) -> str:
        node = nodes.get(nid)
        if isinstance(node, mm.Decision):
            return node.question
        if isinstance(node, mm.Step):
            return node.title
        return nid

    para("", meta.title)
    para("", f"{meta.id} {meta.version} ({meta.status}) · patient: {source}")
    out.append("")
    if outcome.scores:
        out.append("Scores")
        for sc in outcome.scores:
            criteria = sc["criteria"]
            assert isinstance(criteria, list)

            def listed(met: bool | None, criteria: list[object] = criteria) -> str:
                return "; ".join(f"{c['label']} ({'+' if c['points'] > 0 else ''}"
                                 f"{c['points']})" for c in criteria
                                 if isinstance(c, dict) and c["met"] is met)

            value = sc["value"]
            para("  ", f"{sc['label']}: {'unknown' if value is None else value}")
            if listed(True):
                para("    scored:   ", listed(True))
            if listed(None):
                para("    unknown:  ", listed(None))
        out.append("")
    if outcome.recommendations:
        out.append("What to do")
        for i, r in enumerate(outcome.recommendations, 1):
            verb = mm.grade_verb(r.strength, r.direction)
            act = model.actions.get(r.id)
            head = f"  {i}. "
            para(head, f"{verb}: {r.text} [{r.id}]")
            pad = " " * len(head)
            grading = mm.grade_words(r.strength, r.direction, r.certainty, r.grading)
            para(pad, f"{grading} · {r.kind} · step: {where(r.step)}")
            if act is not None and act.detail:
                para(pad + "detail:   ", act.detail)
            if r.because:
                para(pad + "why:      ", " → ".join(r.because))
            if r.citations:
                evidence(pad + "evidence: ", r.citations)
    else:
        out.append("No recommendation for this patient.")
    if outcome.cautions:
        out += ["", "Cautions"]
        for c in outcome.cautions:
            cites = c["citations"]
            assert isinstance(cites, list)
            para("  ! ", f"{c['text']} [{c['id']}]")
            if cites:
                evidence("    evidence: ", cites)
    if outcome.pending:
        out += ["", "Waiting for"]
        for p in outcome.pending:
            inputs = p["inputs"]
            assert isinstance(inputs, list)
            labels = ", ".join(f"{model.inputs[i].label} ({i})" if i in model.inputs else i
                               for i in inputs)
            para("  - ", f"{where(str(p['decision']))} [{p['decision']}]: needs "
                         f"{labels or 'more information'}")
        para("  ", "Nothing further is recommended on these parts until they are known.")
    if outcome.stuck:
        out += ["", "Stuck (the guideline has errors that `guidec check` reports)"]
        for s in outcome.stuck:
            branches = s["branches"]
            assert isinstance(branches, list)
            why = (f"branches {', '.join(map(str, branches))} hold at once (overlap)"
                   if s["reason"] == "overlap" else "no branch holds and there is no otherwise "
                   "(gap)")
            para("  - ", f"{where(str(s['decision']))} [{s['decision']}]: {why}")
    if outcome.notes:
        out += ["", "Notes"]
        for n in outcome.notes:
            para("  - ", f"{n['text']} ({where(n['node'])})")
    out.append("")
    para("Path: ", " → ".join(outcome.path))
    if meta.source or meta.banner or meta.disclaimer:
        # The source's own status and words, apart from this encoding's approval (the header).
        out += ["", "Source"]
        if meta.source:
            para("  ", meta.source)
        if meta.banner:
            para("  banner:     ", f"\u201c{meta.banner}\u201d")
        if meta.disclaimer:
            para("  disclaimer: ", f"\u201c{meta.disclaimer}\u201d")
    return "\n".join(out)


# ----------------------------------------------------------------------------- cohorts


@dataclass
class CohortStats:
    """Counts for the summary table."""

    lines: int = 0
    evaluated: int = 0
    invalid: int = 0
    stuck: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.actions: Counter[str] = Counter()
        self.pending: Counter[str] = Counter()


def run_cohort(model: m.Model, cohort: str, output: str | None, has_errors: bool,
               progress: bool | None) -> int:
    """Evaluate every line of a JSON-lines file; returns the number of invalid lines."""
    src = Path(cohort)
    if not src.exists():
        raise EvalError(f"{cohort}: no such file")
    if src.is_dir():
        raise EvalError(f"{cohort}: is a directory, not a JSON-lines file")
    evaluate, invalid_type = _evaluator(model, has_errors)
    stats = CohortStats()
    show = sys.stderr.isatty() if progress is None else progress
    try:
        fin = src.open("rb")
    except OSError as exc:
        raise EvalError(f"{cohort}: cannot be read ({exc.strerror})") from None
    listed = 0
    with fin, _sink(output) as fout:
        size = src.stat().st_size
        started = time.perf_counter()
        with _progress(show, size) as advance:
            for lineno, line, result in _stream(fin, evaluate, invalid_type, stats, advance):
                fout.write(result)
                if line is not None:
                    if listed < MAX_LISTED:
                        click.echo(f"{cohort}:{lineno}: {line}", err=True)
                    listed += 1
        stats.seconds = time.perf_counter() - started
    if listed > MAX_LISTED:
        click.echo(f"... and {listed - MAX_LISTED} more invalid lines", err=True)
    click.echo(summary(model, stats), err=output is None)
    return stats.invalid


def run_cohort_sql(model: m.Model, cohort: str, output: str | None, has_errors: bool,
                   engine: str, progress: bool, spark_master: str | None) -> int:
    """The cohort through the SQL target on DuckDB or Spark; returns the number of invalid
    rows."""
    if has_errors:
        raise EvalError(f"--engine {engine} runs a guideline that checks clean: fix its "
                        "errors, or use --engine python", EXIT_FINDINGS)
    from cli.cohort_duckdb import CohortError, EngineMissing
    from targets.sql import Unsupported

    try:
        if engine == "spark":
            from cli import cohort_spark

            counts = cohort_spark.run(model, cohort, output, progress, spark_master)
        else:
            from cli import cohort_duckdb

            counts = cohort_duckdb.run(model, cohort, output, progress)
    except (CohortError, Unsupported) as exc:
        raise EvalError(str(exc)) from None
    except EngineMissing as exc:
        raise EvalError(str(exc), EXIT_ENV) from None
    for line, problems in counts["listed"][:MAX_LISTED]:
        keys = "; ".join(", ".join(k) for k in problems)
        click.echo(f"{cohort}:{line}: not valid ({keys})", err=True)
    if counts["invalid"] > MAX_LISTED:
        click.echo(f"... and {counts['invalid'] - MAX_LISTED} more invalid rows", err=True)
    stats = CohortStats(counts["lines"], counts["evaluated"], counts["invalid"],
                        counts["stuck"], counts["seconds"])
    stats.actions.update(counts["actions"])
    stats.pending.update(counts["pending"])
    click.echo(summary(model, stats), err=output is None)
    return stats.invalid


def _evaluator(model: m.Model, has_errors: bool) -> tuple[Callable[[Any], dict[str, object]],
                                                            type[Exception]]:
    """``evaluate(patient) -> result dict`` and the invalid-patient exception: the compiled
    module, or the interpreter (with ``stuck``) for a guideline with errors."""
    if has_errors:
        from compiler import interpreter as it

        def by_interpreter(p: Any) -> dict[str, object]:
            return it.evaluate(model, p).to_dict(with_stuck=True)

        return by_interpreter, it.InvalidPatient
    from targets.python import load

    module: Any = load(model)
    ev = module.evaluate

    def compiled(p: Any) -> dict[str, object]:
        d: dict[str, object] = ev(p).to_dict()
        return d

    invalid: type[Exception] = module.InvalidPatient
    return compiled, invalid


def _stream(fin: IO[bytes], evaluate: Callable[[Any], dict[str, object]],
            invalid_type: type[Exception], stats: CohortStats,
            advance: Callable[[int], None]) -> Iterator[tuple[int, str | None, str]]:
    """(line number, the problem text of an invalid line or None, the output line)."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    decoder = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_int=_int)

    def loads(raw: bytes) -> object:
        return decoder.decode(raw.decode("utf-8"))

    actions, pending = stats.actions, stats.pending
    done = 0
    for lineno, raw in enumerate(fin, 1):
        done += len(raw)
        if lineno % 512 == 0:
            advance(done)
            done = 0
        if not raw.strip():
            continue
        stats.lines += 1
        problems: list[dict[str, str]]
        try:
            data = loads(raw)
        except UnicodeDecodeError:
            problems = [{"key": "(line)", "message": "is not UTF-8 text"}]
        except json.JSONDecodeError as exc:
            problems = [{"key": "(line)", "message": f"malformed JSON at column {exc.colno}: "
                                                     f"{exc.msg}"}]
        except _Duplicate as exc:
            problems = [{"key": str(exc), "message": "appears twice in one object"}]
        except (ValueError, RecursionError):
            problems = [{"key": "(line)", "message": "malformed JSON"}]
        else:
            problems = huge_numbers(data)
            if not problems:
                try:
                    result = evaluate(data)
                except invalid_type as exc:
                    problems = [{"key": p.key, **p.to_dict()}
                                for p in exc.problems]  # type: ignore[attr-defined]
                else:
                    stats.evaluated += 1
                    for r in result["recommendations"]:  # type: ignore[attr-defined]
                        actions[r["id"]] += 1
                    for p in result["pending"]:  # type: ignore[attr-defined]
                        pending[p["decision"]] += 1
                    if result.get("stuck"):
                        stats.stuck += 1
                    yield lineno, None, dumps(result) + "\n"
                    continue
        stats.invalid += 1
        text = "; ".join(f"{p['key']}: {p['message']}" for p in problems)
        yield lineno, text, dumps({"line": lineno, "invalid": problems}) + "\n"
    advance(done)


@contextmanager
def _sink(output: str | None) -> Iterator[IO[str]]:
    """Standard output, or a temporary file next to ``output`` renamed over it at the end (so
    that a reader never sees half a file, and a failed or interrupted run leaves the old
    file)."""
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    from dsl.files import OutputError, atomic_writer

    try:
        # A lone surrogate from a patient's string can only stand inside a JSON string:
        # written as \udXXX, it stays valid JSON with the same meaning.
        with atomic_writer(output, errors="backslashreplace") as f:
            yield f
    except OutputError as exc:
        raise EvalError(str(exc)) from None


@contextmanager
def _progress(show: bool, size: int) -> Iterator[Callable[[int], None]]:
    if not show or size == 0:
        yield lambda n: None
        return
    # The bar redraws itself with a carriage return and hides the cursor: it writes to the
    # terminal itself, not through the guard that neutralises what a guideline prints.
    stream = getattr(sys.stderr, "raw", sys.stderr)
    with click.progressbar(length=size, label="evaluating", file=stream,
                           show_eta=True) as bar:
        yield bar.update


def summary(model: m.Model, stats: CohortStats) -> str:
    """The table printed after a cohort: patients per recommendation, pending, invalid."""
    rate = stats.lines / stats.seconds if stats.seconds > 0 else 0.0
    lines = [f"{stats.lines:,} patients: {stats.evaluated:,} evaluated, {stats.invalid:,} "
             f"invalid, in {stats.seconds:.2f} s ({rate:,.0f} patients/s)"]
    n = max(stats.evaluated, 1)
    rows: list[tuple[str, int]] = []
    for a in model.actions:
        if stats.actions[a]:
            rows.append((a, stats.actions[a]))
    pend = [(f"pending at {d}", c) for d, c in stats.pending.items()]
    other = [("invalid", stats.invalid)]
    if stats.stuck:
        other.insert(0, ("stuck", stats.stuck))
    allrows = rows + pend + other
    w = max([len("recommendation"), *(len(k) for k, _ in allrows)])
    lines += ["", f"{'recommendation':<{w}}  {'patients':>9}  {'%':>6}"]
    lines.append(f"{'-' * w}  {'-' * 9}  {'-' * 6}")
    for k, c in rows:
        lines.append(f"{k:<{w}}  {c:>9,}  {100 * c / n:>6.1f}")
    for k, c in pend:
        lines.append(f"{k:<{w}}  {c:>9,}  {100 * c / n:>6.1f}")
    for k, c in other:
        pct = 100 * c / max(stats.lines, 1)
        lines.append(f"{k:<{w}}  {c:>9,}  {pct:>6.1f}")
    return "\n".join(lines)
