"""Where names are written (compiler.occurrences), behind the editor's references and rename:
every span holds its name, and renaming each declared name of a shipped guideline at the
occurrences found gives a file that checks exactly as before (a missed use would be an
undefined name; a wrong one, an error or a changed meaning)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.names import Scope
from compiler.occurrences import Occurrence, at, occurrences, rename_problem
from compiler.pipeline import check_text, names, syntax
from dsl import ast
from dsl.diagnostics import GuidecError

ROOT = Path(__file__).resolve().parent.parent
GUIDES = sorted((ROOT / "guidelines").glob("*.guide"))
FIXTURES = sorted((ROOT / "tests" / "fixtures").rglob("*.guide"))


def _found(text: str) -> tuple[ast.Guideline, Scope, list[Occurrence]]:
    g = syntax(text, "x.guide")
    scope, _ = names(g, checks=False)
    return g, scope, occurrences(g, scope)


@pytest.mark.parametrize("path", FIXTURES + GUIDES, ids=lambda p: p.name)
def test_each_span_holds_its_name(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        _, _, found = _found(text)
    except GuidecError:
        return  # a syntax fixture: nothing to find
    lines = text.splitlines()
    for o in found:
        assert o.span.line == o.span.end_line
        assert lines[o.span.line - 1][o.span.column - 1:o.span.end_column - 1] == o.name, o
        assert at(found, o.span.line, o.span.column) == o
        assert at(found, o.span.line, o.span.end_column) == o  # just after the name


def _rename(text: str, found: list[Occurrence], target: Occurrence, new: str) -> str:
    lines = text.split("\n")
    for o in sorted((o for o in found if (o.kind, o.name) == (target.kind, target.name)),
                    key=lambda o: (o.span.line, o.span.column), reverse=True):
        ln = lines[o.span.line - 1]
        lines[o.span.line - 1] = ln[:o.span.column - 1] + new + ln[o.span.end_column - 1:]
    return "\n".join(lines)


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: p.name)
def test_renaming_every_declared_name_keeps_the_file_checking(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    before = check_text(text, "x.guide", analyze=False)
    assert before.ok
    _, _, found = _found(text)
    declared = [o for o in found if o.declaration]
    assert {o.kind for o in declared} >= {"value", "action", "node"}
    for target in declared:
        renamed = _rename(text, found, target, target.name + "_renamed")
        after = check_text(renamed, "x.guide", analyze=False)
        assert after.ok, (target, after.errors[:1])
        assert sorted(d.code for d in after.diagnostics) == \
            sorted(d.code for d in before.diagnostics), target
        # Nothing else moved: renaming back gives the file again.
        _, _, again = _found(renamed)
        back = next(o for o in again if o.declaration and o.kind == target.kind and
                    o.name == target.name + "_renamed")
        assert _rename(renamed, again, back, target.name) == text


def test_an_enum_value_is_not_a_use_of_a_name_spelt_the_same() -> None:
    text = (ROOT / "guidelines" / "leptomeningeal.guide").read_text(encoding="utf-8")
    _, _, found = _found(text)
    # `positive` is a value of alk and her2, never a declared name.
    assert all(o.name != "positive" for o in found)
    uses = [o for o in found if o.name == "histology" and not o.declaration]
    assert uses and all(o.kind == "value" for o in uses)


def test_a_rename_is_refused_with_a_reason() -> None:
    text = (ROOT / "guidelines" / "leptomeningeal.guide").read_text(encoding="utf-8")
    _, scope, found = _found(text)
    kps = next(o for o in found if o.name == "kps" and o.declaration)
    assert rename_problem(scope, kps, "karnofsky") is None
    assert rename_problem(scope, kps, "kps") is None  # unchanged: allowed, a no-op
    assert "already an input or let" in (rename_problem(scope, kps, "egfr") or "")
    assert "keyword" in (rename_problem(scope, kps, "pathway") or "")
    assert "not a name" in (rename_problem(scope, kps, "k-ps") or "")
    # Namespaces are apart: an input may take an action's name.
    action = next(iter(scope.actions))
    assert rename_problem(scope, kps, action) is None
