"""The shared contextual lexer (dsl/lexer.py) gives exactly Lark's tokens and errors, and the
syntax tree's records behave like the frozen dataclasses they replace."""

from __future__ import annotations

import copy
import pickle
import random
from dataclasses import FrozenInstanceError
from functools import lru_cache
from pathlib import Path

import lark
import pytest
from lark import Lark

from dsl import ast
from dsl import parser as dsl_parser
from dsl.lexer import TESTED_LARK, SharedContextualLexer

ROOT = Path(__file__).resolve().parents[1]
#: The comparisons need the shared lexer, which the parser uses only on tested Lark releases.
needs_tested_lark = pytest.mark.skipif(not lark.__version__.startswith(TESTED_LARK),
                                 reason=f"no shared lexer with lark {lark.__version__}")
SOURCES = sorted([*ROOT.glob("guidelines/*.guide"), *ROOT.glob("tests/**/*.guide")])


def _lark(plugin: bool) -> Lark:
    options: dict[str, object] = {}
    if plugin:
        options["_plugins"] = {"ContextualLexer": SharedContextualLexer}
    return Lark(dsl_parser.GRAMMAR.read_text(encoding="utf-8"), parser="lalr", strict=True,
                propagate_positions=True, maybe_placeholders=False, cache=True, **options)


@lru_cache(maxsize=1)
def _pair() -> tuple[Lark, Lark]:
    _lark(True)  # make sure the cache exists: the shared lexer is used on cached loads
    return _lark(False), _lark(True)


def _outcome(parser: Lark, text: str) -> str:
    try:
        tree = parser.parse(text)
    except Exception as exc:  # the error itself is compared
        return f"{type(exc).__name__}: {exc}"
    tokens = [(t.type, str(t), t.line, t.column, t.end_line, t.end_column)
              for t in tree.scan_values(lambda v: hasattr(v, "type"))]
    return repr(tree) + repr(tokens)


def test_the_parser_uses_the_shared_lexer_on_tested_lark_releases() -> None:
    dsl_parser.parse("guideline g \"G\"\n")
    tested = lark.__version__.startswith(TESTED_LARK)
    assert isinstance(dsl_parser._lark().parser.lexer, SharedContextualLexer) == tested


@needs_tested_lark
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_same_tokens_as_lark_on_every_guide(path: Path) -> None:
    plain, shared = _pair()
    text = path.read_text(encoding="utf-8", errors="replace")
    assert _outcome(shared, text) == _outcome(plain, text)


def _mutants(text: str, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    junk = ["", " ", "\n", "when", "->", "\"", "#", "1.0.0", "2026-01-01", ">=", "..", "-3.5",
            "not", "first", "unknown", "x_1", "(", ")", ",", "=", "*", "@", "note", "\"a\""]
    out = []
    for _ in range(n):
        pos = rng.randrange(len(text))
        cut = rng.randrange(0, 12)
        out.append(text[:pos] + rng.choice(junk) + text[pos + cut:])
    return out


@needs_tested_lark
def test_same_tokens_and_errors_as_lark_on_mutated_sources() -> None:
    plain, shared = _pair()
    text = (ROOT / "guidelines" / "leptomeningeal.guide").read_text(encoding="utf-8")
    for mutant in _mutants(text, 400, seed=7):
        assert _outcome(shared, mutant) == _outcome(plain, mutant)


@needs_tested_lark
def test_keywords_are_told_from_names_by_context() -> None:
    plain, shared = _pair()
    for text in ['guideline first "F"\n', 'guideline g "G" status first\n',
                 'guideline g "G"\ninput notes "N": boolean\n',
                 'guideline g "G"\ninput x "X": one of unknown, no_value\n']:
        assert _outcome(shared, text) == _outcome(plain, text)


def test_nodes_are_frozen_records() -> None:
    here, there = ast.Span("a", 1, 1, 1, 2), ast.Span("b", 9, 9, 9, 9)
    name = ast.Name(here, "kps")
    assert name == ast.Name(there, "kps")
    assert hash(name) == hash(ast.Name(there, "kps"))
    assert name != ast.Name(here, "age")
    assert repr(name) == "Name(name='kps')"
    with pytest.raises(FrozenInstanceError):
        name.name = "age"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        name.other = 1
    guideline = ast.Guideline(here, ast.Header(here, ast.Ident(here, "g"), "G", None, None,
                                               None, None, None, None), ())
    assert guideline.comments == ()
    commented = guideline.replace(comments=(ast.Comment(here, "# x"),))
    assert isinstance(commented, ast.Guideline)
    assert commented == guideline and commented.comments != guideline.comments
    with pytest.raises(TypeError):
        guideline.replace(nothing=1)
    with pytest.raises(TypeError):
        ast.Name(here)  # type: ignore[call-arg]
    assert [type(c).__name__ for c in guideline.walk()] == ["Guideline", "Header", "Ident"]


def test_trees_survive_pickle_and_deepcopy() -> None:
    """Frozen nodes are rebuilt through __init__, spans, comments and text spans included."""
    tree = dsl_parser.parse((ROOT / "guidelines" / "leptomeningeal.guide").read_text(
        encoding="utf-8"), "leptomeningeal.guide")
    for copied in (pickle.loads(pickle.dumps(tree)), copy.deepcopy(tree)):
        assert copied == tree and copied is not tree
        assert copied.comments == tree.comments
        assert [n.span for n in copied.walk()] == [n.span for n in tree.walk()]
        title, original = copied.header.title, tree.header.title
        assert isinstance(title, ast.Text) and isinstance(original, ast.Text)
        assert title.span == original.span
