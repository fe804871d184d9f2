"""Every console transcript of the docs is real output of the current code
(tools/transcripts.py re-runs each command); and the tool itself finds a stale transcript,
honours `...` elisions and exit codes, and rewrites a stale output."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import transcripts  # noqa: E402

CLEAN = ROOT / "tests" / "fixtures" / "check" / "clean.guide"
BROKEN = ROOT / "tests" / "fixtures" / "check" / "e105_undefined_reference.guide"


def test_the_docs_transcripts_are_current() -> None:
    stale = [s for path in transcripts.DOCS for s in transcripts.process(path, update=False)]
    assert stale == [], "\n\n".join(stale) + "\n\nrun `python tools/transcripts.py --update`"


def test_the_docs_have_transcripts() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count("```console") >= 4
    for cmd in ("$ guidec check", "$ guidec test", "$ guidec eval", "$ guidec diff"):
        assert cmd in text


def doc(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "doc.md"
    path.write_text(f"Intro.\n\n```console\n{body}```\n\nAfter.\n", encoding="utf-8")
    return path


def test_a_stale_output_is_found_and_updated(tmp_path: Path) -> None:
    path = doc(tmp_path, f"$ guidec check {CLEAN}\nsomething it never printed\n")
    stale = transcripts.process(path, update=True)
    assert len(stale) == 1 and "doc.md:4:" in stale[0] and "+1 file checked" in stale[0]
    assert transcripts.process(path, update=False) == []
    text = path.read_text(encoding="utf-8")
    assert "something it never printed" not in text and text.endswith("After.\n")


def test_exit_codes_and_elisions(tmp_path: Path) -> None:
    good = doc(tmp_path, f"$ guidec check {BROKEN}\n...\n1 file checked: 1 error, 1 warning\n"
                         "[exit 1]\n")
    assert transcripts.process(good, update=False) == []
    no_exit = doc(tmp_path, f"$ guidec check {BROKEN}\n...\n1 file checked: 1 error, 1 warning\n")
    assert len(transcripts.process(no_exit, update=False)) == 1


def test_matching() -> None:
    assert transcripts.matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert transcripts.matches(["a", "...", "b"], ["a", "b"])
    assert not transcripts.matches(["a", "...", "d"], ["a", "b", "c"])
    assert not transcripts.matches(["a"], ["a", "b"])
    assert transcripts.updated(["a", "...", "z"], ["1", "2", "3", "4"]) == ["1", "...", "4"]


def test_the_expected_outputs_are_current() -> None:
    """What users read (check, eval, test and diff output) kept as input/output pairs in
    tests/expected/*.console; `python tools/transcripts.py --update tests/expected/*.console`
    refreshes them after a deliberate change (review the diff)."""
    files = sorted(transcripts.EXPECTED.glob("*.console"))
    kinds = {p.read_text(encoding="utf-8").split()[2] for p in files}
    assert {"check", "eval", "test", "diff"} <= kinds
    stale = [s for path in files for s in transcripts.process(path, update=False)]
    assert stale == [], "\n\n".join(stale) + (
        "\n\nrun `python tools/transcripts.py --update tests/expected/*.console`")


def test_an_expected_output_file_is_one_transcript(tmp_path: Path) -> None:
    path = tmp_path / "x.console"
    path.write_text(f"$ guidec check {CLEAN}\nnot what it prints\n", encoding="utf-8")
    stale = transcripts.process(path, update=True)
    assert len(stale) == 1 and "x.console:1:" in stale[0]
    second = path.read_text(encoding="utf-8").splitlines()[1]
    assert second == "1 file checked: no errors, no warnings"
