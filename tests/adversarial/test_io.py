"""Files and streams under hostile use: an output that is an input, a device, a link or
read-only; a cohort with broken lines; a run interrupted by Ctrl-C or SIGTERM; a full disk;
concurrent builds; fmt racing an editor; git revisions that look like options."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dsl import files
from dsl.files import OutputError, atomic_writer, check_output, write_text
from tests.adversarial.hostile import FLAGSHIP, GUIDEC, ROOT, SMALL, assert_exit, run
from tests.adversarial.strategies import RAW_PATIENTS


@pytest.fixture(scope="module")
def fit() -> str:
    from compiler.pipeline import check_file

    model = check_file(str(FLAGSHIP)).model
    assert model is not None
    return json.dumps(dict(model.patients["fit"].values))


def cohort(tmp_path: Path, lines: list[str], name: str = "patients.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


# ----------------------------------------------------------------------------- -o refused


@pytest.mark.parametrize("case", ["the cohort", "a symlink to the cohort", "a hard link",
                                  "the guide", "a fifo", "a device", "read-only",
                                  "a directory", "a missing directory"])
def test_an_output_that_must_not_be_written_is_refused_first(
        tmp_path: Path, fit: str, case: str) -> None:
    patients = cohort(tmp_path, [fit])
    guide = tmp_path / "g.guide"
    guide.write_bytes(FLAGSHIP.read_bytes())
    before = {p: p.read_bytes() for p in (patients, guide)}
    out = tmp_path / "out.jsonl"
    if case == "the cohort":
        out = patients
    elif case == "a symlink to the cohort":
        out.symlink_to(patients)
    elif case == "a hard link":
        os.link(patients, out)
    elif case == "the guide":
        out = guide
    elif case == "a fifo":
        os.mkfifo(out)
    elif case == "a device":
        out = Path("/dev/null")
    elif case == "read-only":
        out.write_text("old\n", encoding="utf-8")
        out.chmod(0o444)
    elif case == "a directory":
        out.mkdir()
    else:
        out = tmp_path / "missing" / "out.jsonl"
    proc = run("eval", str(guide), "--cohort", str(patients), "-o", str(out))
    assert_exit(proc, 2, str(out))
    assert {p: p.read_bytes() for p in (patients, guide)} == before
    assert proc.stdout == ""  # refused before anything was evaluated
    assert not leftovers(tmp_path)
    if case == "a fifo":
        assert stat.S_ISFIFO(out.stat().st_mode)
    if case == "read-only":
        assert out.read_text(encoding="utf-8") == "old\n"


def test_a_writable_output_keeps_its_mode_and_a_symlink_stays_a_link(
        tmp_path: Path, fit: str) -> None:
    patients = cohort(tmp_path, [fit])
    target = tmp_path / "results.jsonl"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert_exit(run("eval", str(FLAGSHIP), "--cohort", str(patients), "-o", str(link)), 0)
    assert link.is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert json.loads(target.read_text(encoding="utf-8"))["recommendations"]


# ----------------------------------------------------------------------------- bad lines


def test_each_bad_line_is_one_invalid_line(tmp_path: Path, fit: str) -> None:
    huge = "9" * 5000
    lines = [fit, '{"kps": ' + huge + "}", '{"kps": 80, "kps": 90}',
             '{"primary_site": "\\ud800"}', '{"\\udc00": 1}', "[1, 2]", "{not json",
             '{"kps": NaN}', "[" * 50_000 + "]" * 50_000, fit]
    patients = cohort(tmp_path, lines)
    out = tmp_path / "results.jsonl"
    proc = run("eval", str(FLAGSHIP), "--cohort", str(patients), "-o", str(out))
    text = assert_exit(proc, 2, "kps: a number of 5,000 digits is too large",
                       "kps: appears twice in one object")
    assert huge not in text
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(results) == len(lines)
    assert "recommendations" in results[0] and "recommendations" in results[-1]
    assert all("invalid" in r for r in results[1:-1])
    assert "\\ud800" in out.read_text(encoding="utf-8")  # written as JSON writes it


@pytest.mark.parametrize("name", sorted(RAW_PATIENTS))
def test_a_raw_patient_file_is_a_result_or_a_clear_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / "patient.json"
    path.write_bytes(RAW_PATIENTS[name])
    for extra in ((), ("--format", "json")):
        proc = run("eval", str(FLAGSHIP), str(path), *extra)
        assert_exit(proc, 2)
        assert "9" * 100 not in proc.stdout + proc.stderr


def test_a_patient_file_too_large_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from cli import eval as cmd_eval

    path = tmp_path / "patient.json"
    with path.open("wb") as f:
        f.truncate(cmd_eval.MAX_PATIENT_BYTES + 1)  # sparse: no disk, no time
    assert_exit(run("eval", str(FLAGSHIP), str(path)), 2, "too large")


def test_a_source_too_large_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.guide"
    with path.open("wb") as f:
        f.truncate(50_000_000)
    start = time.perf_counter()
    for command in (("check",), ("fmt", "--check"), ("build", "-o", str(tmp_path / "o"))):
        assert_exit(run(*command[:1], str(path), *command[1:]), 2, "too large")
    assert time.perf_counter() - start < 30


# ----------------------------------------------------------------------------- signals


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_cohort_leaves_the_old_output_and_no_temporary_file(
        tmp_path: Path, fit: str, sig: signal.Signals, code: int) -> None:
    patients = tmp_path / "patients.jsonl"
    patients.write_text((fit + "\n") * 300_000, encoding="utf-8")
    out = tmp_path / "results.jsonl"
    out.write_text("old\n", encoding="utf-8")
    proc = subprocess.Popen([*GUIDEC, "eval", str(FLAGSHIP), "--cohort", str(patients), "-o",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while not leftovers(tmp_path) and time.monotonic() < deadline:  # it is writing
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert b"Traceback" not in err
    assert out.read_text(encoding="utf-8") == "old\n"
    assert not leftovers(tmp_path)


# ----------------------------------------------------------------------------- streams


def test_standard_output_on_a_full_disk_is_a_clear_error() -> None:
    with open("/dev/full", "w") as full:
        for args in (("eval", str(FLAGSHIP), "--patient", "fit"), ("check", str(FLAGSHIP))):
            proc = subprocess.run([*GUIDEC, *args], stdout=full, stderr=subprocess.PIPE,
                                  text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                  timeout=120)
            assert proc.returncode == 2, proc.stderr
            assert "No space left on device" in proc.stderr
            assert "Traceback" not in proc.stderr


def test_a_closed_pipe_is_a_quiet_exit(tmp_path: Path, fit: str) -> None:
    patients = tmp_path / "patients.jsonl"
    patients.write_text((fit + "\n") * 20_000, encoding="utf-8")
    proc = subprocess.run(f"{sys.executable} -m cli eval {FLAGSHIP} --cohort "
                          f"{patients} | head -c 10", shell=True, capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=120, executable="/bin/bash")
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr
    assert len(proc.stdout) == 10


# ----------------------------------------------------------------------------- writing


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old", encoding="utf-8")

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OutputError, match="the disk is full"):
        write_text(path, "new")
    assert path.read_text(encoding="utf-8") == "old"
    assert not leftovers(tmp_path)
    with pytest.raises(KeyboardInterrupt), atomic_writer(path) as f:
        f.write("half")
        raise KeyboardInterrupt
    assert path.read_text(encoding="utf-8") == "old" and not leftovers(tmp_path)


def test_check_output_accepts_new_and_regular_files(tmp_path: Path) -> None:
    check_output(tmp_path / "new.txt")
    (tmp_path / "old.txt").write_text("x", encoding="utf-8")
    check_output(tmp_path / "old.txt", [tmp_path / "other.txt"])
    with pytest.raises(OutputError, match="is the input"):
        check_output(tmp_path / "old.txt", [tmp_path / "." / "old.txt"])


def test_concurrent_builds_never_show_half_a_file(tmp_path: Path) -> None:
    guide = tmp_path / "g.guide"
    guide.write_text(SMALL, encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(6):
        procs = [subprocess.Popen([*GUIDEC, "build", str(guide), "-o", str(out), "-t",
                                   "python", "-t", "schema"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env) for _ in range(3)]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0 and b"Traceback" not in err, err
        compile((out / "small.py").read_text(encoding="utf-8"), "small.py", "exec")
        json.loads((out / "small.schema.json").read_text(encoding="utf-8"))
        assert not leftovers(out)


def test_build_into_a_file_name_too_long_or_a_file_is_a_clear_error(tmp_path: Path) -> None:
    guide = tmp_path / "g.guide"
    guide.write_text(SMALL, encoding="utf-8")
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    assert_exit(run("build", str(guide), "-o", str(tmp_path / "afile")), 2)
    assert_exit(run("build", str(guide), "-o", str(tmp_path / ("d" * 300))), 2,
                "file name is too long")


def test_graphviz_rejecting_a_chart_is_not_graphviz_missing(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    dot = fake / "dot"
    dot.write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 1\n",
                   encoding="utf-8")
    dot.chmod(0o755)
    guide = tmp_path / "g.guide"
    guide.write_text(SMALL, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{fake}:{os.environ['PATH']}"}
    proc = subprocess.run([*GUIDEC, "build", str(guide), "-o", str(tmp_path / "o"), "-t",
                           "svg"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "syntax error in line 1" in proc.stderr and "install" not in proc.stderr
    assert "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------- fmt


def test_fmt_keeps_the_mode_and_the_symlink(tmp_path: Path) -> None:
    target = tmp_path / "real.guide"
    target.write_text(SMALL.replace("  start -> s", "  start   ->   s"), encoding="utf-8")
    target.chmod(0o664)
    link = tmp_path / "link.guide"
    link.symlink_to(target)
    assert_exit(run("fmt", str(link)), 0)
    assert link.is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o664
    assert target.read_text(encoding="utf-8") == SMALL


def test_fmt_never_loses_a_line_appended_while_it_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import fmt as cmd_fmt
    from dsl import formatter

    path = tmp_path / "g.guide"
    messy = SMALL.replace("  start -> s", "  start   ->   s")
    path.write_text(messy, encoding="utf-8")
    original = formatter.format_source

    def slow_editor(text: str, name: str) -> str:
        out = original(text, name)
        with path.open("a", encoding="utf-8") as f:  # the author saves meanwhile
            f.write("# appended\n")
        return out

    monkeypatch.setattr(formatter, "format_source", slow_editor)
    with pytest.raises(SystemExit) as exited:
        cmd_fmt.fmt.main([str(path)], standalone_mode=False)
    assert exited.value.code == 2
    assert path.read_text(encoding="utf-8") == messy + "# appended\n"
    assert not leftovers(tmp_path)


# ----------------------------------------------------------------------------- diff and git


def git_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    (repo / "g.guide").write_text(SMALL, encoding="utf-8")
    (repo / "bin.guide").write_bytes(bytes(range(256)) * 4)
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True)
    return repo


def test_a_revision_that_looks_like_an_option_is_refused(tmp_path: Path) -> None:
    repo = git_repo(tmp_path)
    for spec in (f"--output={repo}/pwned:x", "-p:g.guide", f"--output={repo}/pwned:g.guide"):
        assert_exit(run("diff", "--", spec, "g.guide", cwd=repo), 2, "cannot start with '-'")
    assert not (repo / "pwned").exists()


@pytest.mark.parametrize(("old", "needle"), [("nope:g.guide", "nope"),
                                             ("HEAD:bin.guide", "not UTF-8"),
                                             ("HEAD:missing.guide", "missing.guide")])
def test_diff_on_a_bad_revision_or_a_binary_file(tmp_path: Path, old: str, needle: str) -> None:
    repo = git_repo(tmp_path)
    assert_exit(run("diff", old, "g.guide", cwd=repo), 2, needle)


def test_diff_outside_a_git_repository(tmp_path: Path) -> None:
    (tmp_path / "g.guide").write_text(SMALL, encoding="utf-8")
    assert_exit(run("diff", "HEAD:g.guide", "g.guide", cwd=tmp_path), 2, "not a git repository")


def test_the_progress_bar_still_draws_on_a_terminal(tmp_path: Path, fit: str) -> None:
    """The guard that neutralises what a guideline prints lets guidec's own progress bar
    redraw itself (carriage returns) on a terminal."""
    import pty

    patients = tmp_path / "patients.jsonl"
    patients.write_text((fit + "\n") * 30_000, encoding="utf-8")
    main, sub = pty.openpty()
    proc = subprocess.Popen([*GUIDEC, "eval", str(FLAGSHIP), "--cohort", str(patients), "-o",
                             str(tmp_path / "out.jsonl"), "--progress"],
                            stdout=subprocess.DEVNULL, stderr=sub,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    os.close(sub)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(main)
    assert proc.returncode == 0
    assert b"\r\x1b[?25levaluating" in seen and b"100%" in seen and b"\\r" not in seen
