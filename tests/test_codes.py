"""The registry of diagnostic codes (dsl/codes.py) is the one list: every code the passes
report is in it, every entry is reported somewhere and shown by its fixture, the docs' tables
are generated from it, and `guidec explain` prints a code's page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dsl.ast import NO_SPAN
from dsl.codes import CODES, Code
from dsl.diagnostics import Diagnostic, Severity, error

ROOT = Path(__file__).resolve().parent.parent
GUIDEC = [sys.executable, "-m", "cli"]
_LITERAL = re.compile(r'"([EWI]\d{3})"')


def _reported() -> set[str]:
    """Every code literal in the passes and the driver."""
    found: set[str] = set()
    for layer in ("dsl", "compiler", "cli"):
        for path in (ROOT / layer).rglob("*.py"):
            if path.name == "codes.py":
                continue
            found |= set(_LITERAL.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_reported_code_is_registered_and_every_entry_reported() -> None:
    reported = _reported()
    assert reported - set(CODES) == set()
    assert set(CODES) - reported == set()


def test_an_unregistered_code_is_refused() -> None:
    with pytest.raises(ValueError, match="E999"):
        error("E999", "no such finding", NO_SPAN)
    with pytest.raises(ValueError):
        Diagnostic("X001", Severity.ERROR, "no", NO_SPAN)


@pytest.mark.parametrize("code", [c for c in CODES.values() if c.fixture],
                         ids=lambda c: c.code)
def test_each_fixture_shows_its_code(code: Code) -> None:
    assert code.fixture is not None
    text = (ROOT / code.fixture).read_text(encoding="utf-8", errors="replace")
    expected = re.findall(r"#\s*expect(?:-info)?:\s*([EWI]\d{3})", text)
    assert code.code in expected


def test_every_code_but_the_run_only_ones_has_a_fixture() -> None:
    without = sorted(c.code for c in CODES.values() if c.fixture is None)
    # E008 needs a nesting deeper than a fixture should hold (tests build it); E511 is an
    # internal failure; E601-E605 need a release run (tests/test_diff.py makes them); E014 is
    # the editor's, for a document over the size limit (tests/test_lsp.py makes it).
    assert without == ["E008", "E014", "E511", "E601", "E602", "E603", "E604", "E605"]


def test_severity_matches_the_code_letter() -> None:
    for c in CODES.values():
        assert c.code[0] == {"error": "E", "warning": "W", "info": "I"}[c.severity.value]


def test_the_docs_tables_are_generated_from_the_registry() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "codes.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    doc = (ROOT / "dsl" / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| ([EWI]\d{3}) \|", doc, re.M)
    assert set(listed) == set(CODES)


def test_the_readme_names_only_registered_codes() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\b([EWI]\d{3})\b", text))
    for low, high in re.findall(r"\b([EWI]\d{3})[–-]([EWI]\d{3})\b", text):
        named |= {f"{low[0]}{n:03d}" for n in range(int(low[1:]), int(high[1:]) + 1)
                  if f"{low[0]}{n:03d}" in CODES}
    assert named - set(CODES) == set()


def test_explain_prints_the_page_with_the_fixture_checked() -> None:
    proc = subprocess.run([*GUIDEC, "explain", "e504"], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("E504 (error): a decision without `otherwise`")
    assert "Shown by tests/fixtures/check/gap.guide:" in out
    assert "error[E504]: no branch of `flow` applies when csf_flow == not_assessed" in out


def test_explain_lists_every_code_and_refuses_an_unknown_one() -> None:
    listing = subprocess.run([*GUIDEC, "explain"], capture_output=True, text=True)
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()] == list(CODES)
    wrong = subprocess.run([*GUIDEC, "explain", "E5O4"], capture_output=True, text=True)
    assert wrong.returncode == 2
    assert "did you mean E504?" in wrong.stderr
    release = subprocess.run([*GUIDEC, "explain", "E601"], capture_output=True, text=True)
    assert release.returncode == 0 and "No fixture shows it" in release.stdout
