"""The guidelines and fixtures the target tests run over: those that build (no check errors
before the solver analysis). Fixtures with errors exist to test the checks; listing only the
buildable ones at collection keeps target tests from skipping at run time."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from compiler.model import Model
from compiler.pipeline import check_file

ROOT = Path(__file__).resolve().parent.parent


@cache
def model_of(path: Path) -> Model | None:
    """The model of a guideline before the solver analysis, or None when it has errors."""
    return check_file(path, analyze=False).model


@cache
def buildable(analyzed: bool = False) -> tuple[Path, ...]:
    """Every guideline and fixture that checks without errors (with the solver when
    ``analyzed``), in a stable order."""
    paths = sorted({*ROOT.glob("guidelines/*.guide"), *ROOT.glob("tests/fixtures/**/*.guide")})
    if analyzed:
        return tuple(p for p in paths if check_file(p).model is not None)
    return tuple(p for p in paths if model_of(p) is not None)
