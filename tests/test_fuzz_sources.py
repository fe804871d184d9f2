"""Mutation fuzzing: broken guidelines give located diagnostics, never a traceback.

3,000 mutants of the valid fixtures and the flagship (``random.Random(1234)``, so every run
sees the same ones): lines deleted, duplicated or swapped, junk tokens inserted, the text cut
short, stray quotes, NUL bytes and random bytes decoded with ``errors="replace"``. Each mutant
either parses or raises GuidecError with diagnostics that point into the file and render; a
mutant that parses goes through the checks (without the solver) and the formatter's round trip.
A failure names the mutant: ``mutant(i)`` rebuilds it.
"""

from __future__ import annotations

import random
import traceback
from functools import cache, lru_cache
from pathlib import Path

import pytest

from compiler.pipeline import check_text
from dsl import ast
from dsl.diagnostics import Diagnostic, GuidecError, render
from dsl.formatter import format_guideline, format_source
from dsl.parser import parse

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [*sorted((ROOT / "tests" / "fixtures" / "valid").glob("*.guide")),
         ROOT / "guidelines" / "leptomeningeal.guide"]
TOTAL = 3000
KINDS = ("delete_line", "duplicate_line", "swap_lines", "junk_token", "truncate",
         "stray_quote", "nul_byte", "random_bytes")
JUNK = ('"', "->", "(", ")", ",", "..", "==", "<=", "*", "-", ":", "=", "#", "\\", '"\\q"',
        '"\\u12"', "1.2.3", "2026-01-01", "-0.5", "when", "unknown", "not", "and", "or",
        "is", "in", "step", "end", "then", "expect", "guideline", "recommended", "nothing",
        "\t", "\ufffd", "\u2028", "é", "😀", "@", "$", "'", "`", "{", "}")


def _insert(rng: random.Random, text: str, piece: str) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + piece + text[at:]


def _mutate(rng: random.Random, text: str, kind: str) -> str:
    lines = text.split("\n")
    if kind == "delete_line":
        for _ in range(rng.randint(1, 3)):
            if len(lines) > 1:
                del lines[rng.randrange(len(lines))]
        return "\n".join(lines)
    if kind == "duplicate_line":
        i = rng.randrange(len(lines))
        lines.insert(rng.randrange(len(lines) + 1), lines[i])
        return "\n".join(lines)
    if kind == "swap_lines":
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines)
    if kind == "junk_token":
        for _ in range(rng.randint(1, 3)):
            text = _insert(rng, text, rng.choice(["", " "]) + rng.choice(JUNK) + " ")
        return text
    if kind == "truncate":
        return text[:rng.randrange(len(text) + 1)]
    if kind == "stray_quote":
        for _ in range(rng.randint(1, 2)):
            text = _insert(rng, text, '"')
        return text
    if kind == "nul_byte":
        return _insert(rng, text, "\x00" * rng.randint(1, 2))
    assert kind == "random_bytes"
    noise = bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
    return _insert(rng, text, noise.decode("utf-8", errors="replace"))


#: The flagship is 20 times the size of a fixture, and as much slower to parse, check and
#: format: it gets 3 mutants in 100 (the time of about half of all the others).
FLAGSHIP_SHARE = 0.03


@lru_cache(maxsize=1)
def mutants() -> tuple[tuple[str, str, str], ...]:
    """The 3,000 mutants, in a fixed order: (kind, name of the file mutated, text)."""
    rng = random.Random(1234)
    sources = {p.name: p.read_bytes().decode("utf-8") for p in SEEDS}
    *fixtures, flagship = sources
    out = []
    for i in range(TOTAL):
        kind = KINDS[i % len(KINDS)]
        seed = flagship if rng.random() < FLAGSHIP_SHARE else rng.choice(fixtures)
        out.append((kind, seed, _mutate(rng, sources[seed], kind)))
    return tuple(out)


def mutant(i: int) -> str:
    """Mutant number ``i`` (as named in a failure)."""
    return mutants()[i][2]


@cache
def outcome(i: int) -> ast.Guideline | GuidecError | str:
    """What parsing mutant ``i`` gives: a tree, a GuidecError, or any other exception's
    traceback."""
    try:
        return parse(mutant(i), "f.guide")
    except GuidecError as exc:
        return exc
    except Exception:
        return f"parse raised\n{traceback.format_exc(limit=-3)}"


def _of_kind(kind: str) -> list[int]:
    return [i for i, (k, _, _) in enumerate(mutants()) if k == kind]


def _report(problems: list[str], kind: str) -> str:
    shown = "\n\n".join(problems[:5])
    return f"{len(problems)} of the {kind} mutants failed; the first:\n\n{shown}"


def _diagnostic_problem(d: Diagnostic, text: str) -> str | None:
    if d.span.line < 1 or d.span.column < 1:
        return f"span {d.span} is not in the file ({d.code}: {d.message})"
    if not d.message.strip():
        return f"{d.code} has an empty message"
    if not (d.code.startswith("E00") and d.is_error):
        return f"a syntax error has code {d.code} / {d.severity}"
    try:
        render(d, text)
    except Exception:
        return f"render({d.code}) raised:\n{traceback.format_exc(limit=3)}"
    return None


def test_the_mutants_are_fixed_and_varied() -> None:
    assert len(SEEDS) >= 5
    assert len(mutants()) == TOTAL
    assert len({text for _, _, text in mutants()}) > TOTAL * 0.9
    seeds = {(kind, seed) for kind, seed, _ in mutants()}
    assert seeds == {(kind, p.name) for kind in KINDS for p in SEEDS}
    parsed = sum(1 for i in range(TOTAL) if isinstance(outcome(i), ast.Guideline))
    assert TOTAL * 0.1 < parsed < TOTAL * 0.9  # both outcomes are well exercised


@pytest.mark.parametrize("kind", KINDS)
def test_mutants_never_crash(kind: str) -> None:
    """Parse, diagnostics, rendering and the checks: GuidecError at most, nothing else."""
    problems: list[str] = []
    for i in _of_kind(kind):
        text, result = mutant(i), outcome(i)
        if isinstance(result, str):
            problems.append(f"mutant({i}): {result}")
            continue
        if isinstance(result, GuidecError):
            if not result.diagnostics:
                problems.append(f"mutant({i}): GuidecError without diagnostics")
            for d in result.diagnostics:
                problem = _diagnostic_problem(d, text)
                if problem:
                    problems.append(f"mutant({i}): {problem}")
            continue
        try:
            checked = check_text(text, "f.guide", analyze=False)
            assert isinstance(checked.diagnostics, list)
        except Exception:
            problems.append(f"mutant({i}): check_text raised\n{traceback.format_exc(limit=-3)}")
    assert not problems, _report(problems, kind)


def _comments(tree: ast.Guideline) -> list[str]:
    return [c.text for c in tree.comments]


@pytest.mark.parametrize("kind", KINDS)
def test_mutants_format_round_trip(kind: str) -> None:
    """Every mutant that parses: same tree after formatting, a fixed point, the same comments
    in the same order."""
    problems: list[str] = []
    for i in _of_kind(kind):
        text, tree = mutant(i), outcome(i)
        if not isinstance(tree, ast.Guideline):
            continue
        try:
            # format_guideline(parse(x), x) is format_source(x), without parsing x again.
            out = format_guideline(tree, text)
            again = parse(out, "f.guide")
            if again != tree:
                problems.append(f"mutant({i}): the tree changed")
            elif format_guideline(again, out) != out:
                problems.append(f"mutant({i}): formatting twice changes the text")
            elif _comments(again) != _comments(tree):
                problems.append(f"mutant({i}): comments changed: {_comments(tree)} -> "
                                f"{_comments(again)}")
        except Exception:
            problems.append(f"mutant({i}): {traceback.format_exc(limit=-3)}")
    assert not problems, _report(problems, kind)


@pytest.mark.parametrize("expr", [
    "(" * 300 + "a" + ")" * 300,
    "not " * 1000 + "a",
    " + ".join(["a"] * 1000) + " > 1",
    "a > 1 or (" * 300 + "a > 1" + ")" * 300,
], ids=["parentheses", "nots", "sum", "or-parentheses"])
def test_deep_nesting_is_a_diagnostic_not_a_crash(expr: str) -> None:
    """The tree builder recurses once per level: ~250 nested parentheses (or ~800 `not`s or
    terms of a sum) raise RecursionError, or lark's VisitError around it, from parse()."""
    text = f'guideline g "t"\ninput a "a": integer\nlet x = {expr}\n'
    try:
        tree = parse(text, "f.guide")
    except GuidecError as exc:
        for d in exc.diagnostics:
            assert _diagnostic_problem(d, text) is None
        return
    check_text(text, "f.guide", analyze=False)
    assert parse(format_source(text, "f.guide"), "f.guide") == tree
