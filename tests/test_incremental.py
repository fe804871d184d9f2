"""The editor's incremental parse (dsl/incremental.py) gives the tree a whole parse gives,
spans and comments included, on every fixture and after random edits of the shipped
guidelines; after a one-line edit it parses one piece, and after a line inserted above, it
moves the pieces below instead of parsing them again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dsl import ast
from dsl.diagnostics import GuidecError
from dsl.incremental import IncrementalParser
from dsl.parser import parse

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*(ROOT / "tests" / "fixtures").rglob("*.guide"),
                *(ROOT / "guidelines").glob("*.guide")])
GUIDES = sorted((ROOT / "guidelines").glob("*.guide"))


def deep(x: Any) -> Any:
    """Everything a tree holds, spans included (node equality ignores them)."""
    if isinstance(x, ast.Node):
        return (type(x).__name__, x.span,
                tuple(deep(getattr(x, f)) for f in x._fields if f != "span"))
    if isinstance(x, tuple):
        return tuple(deep(v) for v in x)
    if isinstance(x, ast.Text):
        return ("text", str(x), x.span)
    return x


def outcome(parse_: Any, text: str) -> Any:
    try:
        g = parse_(text)
    except GuidecError as exc:
        return ("error", [(d.code, d.message, d.span) for d in exc.diagnostics])
    return deep(g), deep(g.comments)


def test_every_fixture_parses_as_a_whole_parse() -> None:
    for path in FILES:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert outcome(IncrementalParser("x.guide").parse, text) == \
            outcome(lambda t: parse(t, "x.guide"), text), path


def test_one_edit_parses_one_piece_and_an_inserted_line_moves_the_rest() -> None:
    text = (ROOT / "guidelines" / "leptomeningeal.guide").read_text(encoding="utf-8")
    p = IncrementalParser("x.guide")
    p.parse(text)
    assert p.parsed > 100
    edited = text.replace("kps < 70", "kps < 60", 1)
    assert deep(p.parse(edited)) == deep(parse(edited, "x.guide"))
    assert (p.parsed, p.moved) == (1, 0)
    moved = edited.replace("\ninput kps", "\n# new\ninput kps", 1)
    assert deep(p.parse(moved)) == deep(parse(moved, "x.guide"))
    assert p.parsed == 1 and p.moved > 100
    broken = moved.replace("pathway\n", "pathway oops\n", 1)
    assert outcome(p.parse, broken) == outcome(lambda t: parse(t, "x.guide"), broken)


def test_an_item_indented_among_the_nodes_is_kept() -> None:
    text = (ROOT / "guidelines" / "leptomeningeal.guide").read_text(encoding="utf-8")
    lines = text.split("\n")
    last_node = max(k for k, ln in enumerate(lines) if ln.startswith("  end "))
    rule = next(k for k, ln in enumerate(lines) if ln.startswith("never "))
    moved = [*lines[:last_node + 1], "  " + lines[rule], *lines[last_node + 1:rule],
             *lines[rule + 1:]]
    edited = "\n".join(moved)
    assert outcome(IncrementalParser("x.guide").parse, edited) == \
        outcome(lambda t: parse(t, "x.guide"), edited)


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A shipped guideline and a few versions of it, each one line edit from the last:
    a line deleted, duplicated, moved or swapped for another line of the file."""
    text = draw(st.sampled_from(GUIDES)).read_text(encoding="utf-8")
    versions = []
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        k = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["delete", "duplicate", "replace", "blank", "indent"]))
        if how == "delete":
            del lines[k]
        elif how == "duplicate":
            lines.insert(k, lines[j])
        elif how == "replace":
            lines[k] = lines[j]
        elif how == "blank":
            lines.insert(k, "")
        else:
            lines[k] = "  " + lines[k]
        versions.append("\n".join(lines))
    return text, versions


@settings(max_examples=60, deadline=None)
@given(edits())
def test_random_edits_parse_as_a_whole_parse(case: tuple[str, list[str]]) -> None:
    text, versions = case
    p = IncrementalParser("x.guide")
    p.parse(text)
    for version in versions:
        assert outcome(p.parse, version) == outcome(lambda t: parse(t, "x.guide"), version)


def test_walk_is_depth_first_in_source_order() -> None:
    def reference(node: ast.Node) -> list[ast.Node]:
        out = [node]
        for child in node.children():
            out += reference(child)
        return out

    g = parse((ROOT / "guidelines" / "leptomeningeal.guide").read_text(encoding="utf-8"))
    assert [id(n) for n in g.walk()] == [id(n) for n in reference(g)]
