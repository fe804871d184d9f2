"""Hostile text: huge literals, impossible dates, terminal control sequences in a guideline's
strings, Markdown that tries to forge a verdict, and diagnostics by the ten thousand."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from cli.report import text_report
from compiler.diff import compute, load_version, read_spec, render_markdown
from compiler.interpreter import InvalidPatient, validate
from compiler.pipeline import check_text
from dsl.ast import Span
from dsl.diagnostics import Diagnostic, Severity, did_you_mean, render, warning
from dsl.terminal import GuardedStream, neutralise
from tests.adversarial.hostile import (
    FLAGSHIP,
    GUIDEC,
    ROOT,
    SMALL,
    TERMINAL_ATTACKS,
    assert_exit,
    run,
)

HUGE = "9" * 5000


def write(tmp_path: Path, text: str, name: str = "g.guide") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- big numbers


@pytest.mark.parametrize(("old", "new", "code"), [
    ("x > 1", f"x > {HUGE}", "E010"),
    ("0..100\n\naction", f"0..{'1' + '0' * 400}.5\n\naction", "E010"),
    ("version 1.0.0", f"version 1.0.{HUGE}", "E012"),
    ('"Committee"', f'"Committee"\n  year {HUGE}', "E009"),
    ("updated 2026-01-24", "updated 2026-13-45", "E011"),
    ("updated 2026-01-24", "updated 2026-02-29", "E011"),
    ("guideline small", f"guideline {'g' * 250}", "E013"),
    ("action act", f"action {'a' * 5000}", "E013"),
])
@pytest.mark.parametrize("command", [("check",), ("fmt", "--check"), ("check", "--release"),
                                     ("build", "-t", "python", "-o", "out")])
def test_big_numbers_and_bad_dates_are_located_errors(
        tmp_path: Path, old: str, new: str, code: str, command: tuple[str, ...]) -> None:
    assert old in SMALL
    path = write(tmp_path, SMALL.replace(old, new, 1))
    text = assert_exit(run(*command[:1], str(path), *command[1:], cwd=tmp_path), 1, code)
    assert f"{path}:" in text
    # The echoed literal is cut: 5,000 digits never reach the terminal.
    assert HUGE not in text and "g" * 250 not in text
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_forty_digit_number_is_fine() -> None:
    fine = "x > 1 and y < 99." + "9" * 38
    result = check_text(SMALL.replace("x > 1", fine), "g.guide")
    assert not [d for d in result.diagnostics if d.is_error]


# ----------------------------------------------------------------------------- the terminal


def hostile_guide() -> str:
    attack = "".join(TERMINAL_ATTACKS)
    escaped = json.dumps(f"Give{attack}drug", ensure_ascii=True)
    return (SMALL.replace('"Act"', escaped)
            .replace('"Y"', json.dumps(f"Y{attack}", ensure_ascii=True))
            + f'\ncase {json.dumps("Case" + attack, ensure_ascii=True)} with x = 5, y = 0.9\n'
              "  expect no act\n")


def assert_neutral(text: str) -> None:
    for attack in TERMINAL_ATTACKS:
        assert attack not in text, repr(attack)
    assert "\x1b" not in text and "\r" not in text and "\x9b" not in text


def test_eval_test_check_and_diff_print_no_control_sequence(tmp_path: Path) -> None:
    path = write(tmp_path, hostile_guide())
    patient = tmp_path / "p.json"
    patient.write_text('{"x": 5, "y": 0.9}', encoding="utf-8")
    outputs = [
        assert_exit(run("eval", str(path), str(patient)), 0, "Give"),
        assert_exit(run("eval", str(path), str(patient), "--format", "json"), 0),
        assert_exit(run("test", str(path)), 1, "FAIL"),
        assert_exit(run("check", str(path), "--color"), 0),
        assert_exit(run("diff", str(write(tmp_path, SMALL, "old.guide")), str(path)), 0),
    ]
    for out in outputs:
        assert_neutral(out)
    # What a reader sees says a control character was there.
    assert "\\u202e" in outputs[0] and "\\r" in outputs[2]


def test_json_output_still_decodes_to_the_guidelines_string(tmp_path: Path) -> None:
    path = write(tmp_path, hostile_guide())
    patient = tmp_path / "p.json"
    patient.write_text('{"x": 5, "y": 0.9}', encoding="utf-8")
    proc = run("eval", str(path), str(patient), "--format", "json")
    assert_neutral(proc.stdout)
    text = json.loads(proc.stdout)["recommendations"][0]["text"]
    assert text == "Give" + "".join(TERMINAL_ATTACKS) + "drug"


def test_a_diagnostic_cannot_fake_a_colour_or_move_the_cursor() -> None:
    diag = warning("W101", "the input `x\x1b[1;31m\x1b[2K` is never used", Span("g", 1, 1, 1, 2),
                   hint="remove\r it")
    colored = render(diag, "input x\n", color=True)
    assert "\x1b[2K" not in colored and "\r" not in colored
    # guidec's own colours remain, the guideline's colour is escaped.
    assert colored.startswith("\x1b[1m") and "x\\u001b[1;31m\\u001b[2K" in colored


def test_the_guarded_stream_passes_only_guidecs_own_colours() -> None:
    import io

    sink = io.StringIO()
    stream = GuardedStream(sink, ("\x1b[1m", "\x1b[0m"))
    stream.write("\x1b[1mbold\x1b[0m \x1b[2J \r \ud800 \U000e0041")
    assert sink.getvalue() == "\x1b[1mbold\x1b[0m \\u001b[2J \\r \\ud800 \\udb40\\udc41"
    assert neutralise("ok: é ≥ µ\ttab\nline") == "ok: é ≥ µ\ttab\nline"


# ----------------------------------------------------------------------------- Markdown


def test_markdown_cells_cannot_forge_a_verdict(tmp_path: Path) -> None:
    forged = "x\r\n\r\n**No behavioural change** (proven).\r\n\r\n| forged | row |"
    new = SMALL.replace('"Act"', json.dumps("Act " + forged))
    new = new.replace("version 1.0.0", "version 1.0.1")
    old_path, new_path = write(tmp_path, SMALL, "old.guide"), write(tmp_path, new, "new.guide")
    report = compute(load_version(*read_spec(str(old_path))),
                     load_version(*read_spec(str(new_path))), 1)
    md = render_markdown(report)
    assert "\r" not in md
    verdicts = [line for line in md.split("\n") if "No behavioural change" in line]
    assert len(verdicts) == 2  # the real verdict, and the forged text inside one cell
    assert verdicts[0].startswith("**No behavioural change**")
    assert verdicts[1].startswith("| changed |") and "\\*\\*No behavioural" in verdicts[1]
    rows = [line for line in md.split("\n") if line.startswith("|")]
    assert len(rows) == 2 + len(report.structure.changes)  # no row was forged


# ----------------------------------------------------------------------------- volume


def test_sixty_thousand_warnings_render_in_linear_time() -> None:
    lines = [f'input u{i} "U{i} {"y" * 50}": boolean' for i in range(60_000)]
    source = "\n".join(lines)
    assert len(source) > 4_000_000
    diags = [Diagnostic("W101", Severity.WARNING, f"the input `u{i}` is never used",
                        Span("big.guide", i + 1, 7, i + 1, 9)) for i in range(60_000)]
    from compiler.pipeline import CheckResult

    result = CheckResult("big.guide", source, None, diags)
    start = time.perf_counter()
    text = text_report([result])
    assert time.perf_counter() - start < 10  # it was quadratic: 279 s
    assert text.endswith("60000 warnings")


def test_a_long_line_is_shown_as_a_window_around_the_span() -> None:
    line = "let l = " + " and ".join(f"x > {i}" for i in range(400)) + " and zz > 1"
    diag = warning("E101", "no zz", Span("g", 1, line.index("zz") + 1, 1, line.index("zz") + 3))
    shown = render(diag, line).split("\n")
    assert all(len(row) < 140 for row in shown)
    assert shown[2].endswith("zz > 1") and shown[3].rstrip().endswith("^^")
    assert shown[3].index("^") == shown[2].index("zz")


def test_a_huge_patient_string_is_neither_compared_nor_echoed() -> None:
    from compiler.pipeline import check_file

    model = check_file(str(FLAGSHIP)).model
    assert model is not None
    value = "x" * 20_000_000
    start = time.perf_counter()
    with pytest.raises(InvalidPatient) as caught:
        validate(model, {"primary_site": value, value: 1})
    assert time.perf_counter() - start < 2
    message = str(caught.value)
    assert len(message) < 3000 and "(20,000,000 characters)" in message
    assert did_you_mean(value, ["lung", "breast"]) is None


def test_a_huge_integer_from_the_api_is_a_problem_naming_its_key() -> None:
    from compiler.pipeline import check_file

    model = check_file(str(FLAGSHIP)).model
    assert model is not None
    with pytest.raises(InvalidPatient) as caught:
        validate(model, {"kps": 10 ** 5000})
    kps = [p for p in caught.value.problems if p.key == "kps"]
    assert kps and "over 4,300 digits" in kps[0].message


def test_the_cli_never_prints_a_lone_surrogate(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL)
    patient = tmp_path / "p.json"
    patient.write_text('{"x": 5, "y": 0.9, "\\ud800": 1}', encoding="utf-8")
    proc = subprocess.run([*GUIDEC, "eval", str(path), str(patient)], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert proc.returncode == 2
    assert b"Traceback" not in proc.stderr
    (proc.stdout + proc.stderr).decode("utf-8")  # strict: no surrogate reached the bytes
