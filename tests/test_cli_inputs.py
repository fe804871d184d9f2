"""Bad input to the CLI: a clear one-line error naming the file, the right exit code, and never
a Python traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDEC = [sys.executable, "-m", "cli"]
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([*GUIDEC, *args], capture_output=True, text=True, cwd=cwd or ROOT,
                          env=env, timeout=120)


def assert_clean_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stdout + proc.stderr
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text
    for needle in needles:
        assert needle in text, text


def test_missing_file() -> None:
    assert_clean_error(run("check", "nope.guide"), 2, "nope.guide: no such file")


def test_directory(tmp_path: Path) -> None:
    assert_clean_error(run("check", str(tmp_path)), 2, "is a directory")


def test_not_utf8(tmp_path: Path) -> None:
    f = tmp_path / "latin1.guide"
    f.write_bytes('guideline x "caf\xe9"\n'.encode("latin-1"))
    assert_clean_error(run("check", str(f)), 2, "latin1.guide:1: is not UTF-8")


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.guide"
    f.write_text("", encoding="utf-8")
    proc = run("check", str(f))
    assert_clean_error(proc, 1, "empty.guide:1:1: error[E004]: the file is empty")


def test_ten_megabytes_of_junk(tmp_path: Path) -> None:
    f = tmp_path / "junk.guide"
    f.write_bytes(os.urandom(10 * 1024 * 1024))
    proc = run("check", str(f))
    assert_clean_error(proc, 2, "junk.guide")
    assert len((proc.stdout + proc.stderr).splitlines()) <= 3


def test_junk_text_gives_located_syntax_error(tmp_path: Path) -> None:
    f = tmp_path / "junk.guide"
    f.write_text("guideline x \"t\"\n}}}{{{ <<>> ;;\n", encoding="utf-8")
    assert_clean_error(run("check", str(f)), 1, "junk.guide:2:1: error[E001]")


def test_several_files_name_their_file(tmp_path: Path) -> None:
    a = tmp_path / "a.guide"
    b = tmp_path / "b.guide"
    a.write_text('guideline a "A"\ninptu x\n', encoding="utf-8")
    b.write_text('guideline b "B"\n  status drafty\n', encoding="utf-8")
    proc = run("check", str(a), str(b))
    assert_clean_error(proc, 1, "a.guide:2:1: error[E002]", "did you mean `input`?")
    assert "b.guide:" in proc.stdout
    assert "2 files checked" in proc.stdout


def test_one_missing_among_good_files_exits_2() -> None:
    proc = run("check", str(FLAGSHIP), "missing.guide")
    assert_clean_error(proc, 2, "missing.guide: no such file")


def test_unknown_command_suggests() -> None:
    assert_clean_error(run("chek", "x"), 2, "Did you mean `guidec check`?")


def test_unknown_option_is_usage_error() -> None:
    assert_clean_error(run("check", "--frmat", "json", str(FLAGSHIP)), 2, "No such option")


@pytest.mark.parametrize("command", ["check", "fmt", "build", "eval", "test", "diff"])
def test_help_has_an_example(command: str) -> None:
    proc = run(command, "--help")
    if proc.returncode == 2 and "No such command" in proc.stderr:
        pytest.skip(f"`guidec {command}` is not built yet")
    assert proc.returncode == 0
    assert "Example: guidec " in proc.stdout


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("guidec ")


def test_fmt_refuses_syntax_error_and_keeps_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.guide"
    text = 'guideline x "t"\ninput x "X": booleen\n'
    f.write_text(text, encoding="utf-8")
    proc = run("fmt", str(f))
    assert_clean_error(proc, 1, "bad.guide:2:14: error[E002]", "did you mean `boolean`?")
    assert f.read_text(encoding="utf-8") == text
