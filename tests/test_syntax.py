"""The parser on small files: every syntax error names the right code, line and column, says
what was meant and renders with a caret; valid files exercise every construct of the grammar
and give the tree (and the spans) they should.

Invalid inputs live in ``tests/fixtures/syntax/``. Each starts with comment lines that state
what the parser must say::

    # expect: E002 12:5            code and line[:column] of each diagnostic, in order
    # message: did you mean `when`? text the first diagnostic's message contains
    # hint: a branch such as        text its hint contains
    # note: is a keyword            text one of its notes contains

The line numbers count those comment lines. ``empty.guide`` cannot hold a comment (it would
not be empty); its expectation is in ``_WITHOUT_HEADER`` below. Valid inputs live in
``tests/fixtures/valid/``; ``tests/test_format.py`` formats them too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path
from typing import TypeVar

import pytest
from lark import Lark, Token

from dsl import ast
from dsl.diagnostics import Diagnostic, GuidecError, Severity, render
from dsl.parser import GRAMMAR, check_syntax, parse

ROOT = Path(__file__).resolve().parent.parent
SYNTAX = ROOT / "tests" / "fixtures" / "syntax"
VALID = ROOT / "tests" / "fixtures" / "valid"

SYNTAX_FILES = sorted(SYNTAX.glob("*.guide"))
VALID_FILES = sorted(VALID.glob("*.guide"))


def read(path: Path) -> str:
    """A fixture exactly as stored (no newline translation)."""
    return path.read_bytes().decode("utf-8")


# ----------------------------------------------------------------------------- expectations


@dataclass
class Expected:
    """What one invalid fixture must produce."""

    diagnostics: list[tuple[str, int, int | None]] = field(default_factory=list)
    message: list[str] = field(default_factory=list)
    hint: list[str] = field(default_factory=list)
    note: list[str] = field(default_factory=list)


_WITHOUT_HEADER = {
    "empty.guide": Expected([("E004", 1, 1)], ["the file is empty"], ["guideline"]),
}

_DIRECTIVE = re.compile(r"#\s*(expect|message|hint|note):\s?(.*)")
_EXPECT = re.compile(r"([EWI]\d{3})\s+(\d+)(?::(\d+))?")


def expected(path: Path) -> Expected:
    """The expectations stated in the leading comment lines of a fixture."""
    if path.name in _WITHOUT_HEADER:
        return _WITHOUT_HEADER[path.name]
    out = Expected()
    for line in read(path).split("\n"):
        if not line.startswith("#"):
            break
        m = _DIRECTIVE.fullmatch(line.rstrip())
        if m is None:
            continue
        key, value = m.groups()
        if key == "expect":
            e = _EXPECT.fullmatch(value.strip())
            assert e is not None, f"{path.name}: bad expect line {line!r}"
            col = int(e.group(3)) if e.group(3) else None
            out.diagnostics.append((e.group(1), int(e.group(2)), col))
        else:
            getattr(out, key).append(value)
    return out


# ----------------------------------------------------------------------------- rendering

_CARET = re.compile(r"(\s*) \| ( *)(\^+)")


def shown_line(text: str) -> str:
    """A source line as ``render`` shows it: tabs as spaces, unprintables replaced."""
    text = text.replace("\t", " ")
    text = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in text)
    return text if len(text) <= 160 else text[:157] + "..."


def assert_renders(d: Diagnostic, source: str) -> None:
    """`file:line:col: error[CODE]: message`, then the source line and a caret under the span."""
    out = render(d, source)
    rows = out.split("\n")
    assert rows[0] == (f"{d.span.file}:{d.span.line}:{d.span.column}: "
                       f"{d.severity.value}[{d.code}]: {d.message}")
    lines = source.split("\n")
    if not source.strip():
        return  # an empty file has no line to point at
    assert 1 <= d.span.line <= len(lines), f"line {d.span.line} of a {len(lines)}-line file"
    gutter = str(d.span.line)
    source_rows = [r for r in rows if r.startswith(f"{gutter} | ")]
    assert source_rows == [f"{gutter} | {shown_line(lines[d.span.line - 1])}"], out
    carets = [m for r in rows if (m := _CARET.fullmatch(r))]
    assert len(carets) == 1, out
    assert len(carets[0].group(1)) == len(gutter)
    assert len(carets[0].group(2)) == d.span.column - 1, out


# ----------------------------------------------------------------------------- invalid files


def test_there_are_syntax_fixtures() -> None:
    assert len(SYNTAX_FILES) >= 15
    for path in SYNTAX_FILES:
        assert expected(path).diagnostics, f"{path.name} states no `# expect:` line"


@pytest.mark.parametrize("path", SYNTAX_FILES, ids=lambda p: p.name)
def test_syntax_error(path: Path) -> None:
    text = read(path)
    want = expected(path)
    name = str(path.relative_to(ROOT))
    with pytest.raises(GuidecError) as info:
        parse(text, name)
    diags = list(info.value.diagnostics)
    assert [(d.code, d.span.line) for d in diags] == [(c, ln) for c, ln, _ in want.diagnostics]
    for d, (_, _, col) in zip(diags, want.diagnostics, strict=True):
        if col is not None:
            assert d.span.column == col, render(d, text)
    assert check_syntax(text, name) == diags
    first = diags[0]
    assert first.severity is Severity.ERROR
    for part in want.message:
        assert part in first.message, render(first, text)
    for part in want.hint:
        assert first.hint is not None and part in first.hint, render(first, text)
    for part in want.note:
        assert any(part in n for n in first.notes), render(first, text)
    for d in diags:
        assert d.span.file == name
        assert d.span.line >= 1 and d.span.column >= 1
        assert_renders(d, text)


def test_diagnostic_lines_count_only_line_feeds() -> None:
    """The parser counts lines at "\\n" only; a form feed or U+2028 in a comment does not
    start a line, so a diagnostic's line and the source line shown must agree with that."""
    text = 'guideline g "t"  # page\x0cbreak\ninput y "y": bolean\n'
    [d] = check_syntax(text)
    assert (d.code, d.span.line, d.span.column) == ("E002", 2, 14)
    assert_renders(d, text)

    text = 'guideline g "t"  # a\u2028b\x0cc\ninput x "x":'
    [d] = check_syntax(text)
    assert d.code == "E004"
    assert d.span.line == 2, render(d, text)
    assert_renders(d, text)


# ----------------------------------------------------------------------------- valid files

#: The keyword each kind of node starts with: its span must start there.
_LEADING = {
    ast.Header: "guideline", ast.Changelog: "changelog", ast.Reference: "reference",
    ast.Note: "note", ast.Input: "input", ast.Assume: "assume", ast.Let: "let",
    ast.Action: "action", ast.Section: "section", ast.Paragraph: "text", ast.Pathway: "pathway",
    ast.Step: "step", ast.Recommend: "recommend", ast.Decide: "decide", ast.Branch: "when",
    ast.Otherwise: "otherwise", ast.End: "end", ast.Never: "never", ast.Require: "require",
    ast.Conflict: "conflict", ast.Caution: "caution", ast.Patient: "patient", ast.Case: "case",
    ast.Expect: "expect", ast.Allow: "allow", ast.Comment: "#",
}


def _at(lines: list[str], line: int, column: int, end_column: int) -> str:
    return lines[line - 1][column - 1:end_column - 1]


@cache
def parsed(name: str) -> tuple[str, ast.Guideline]:
    text = read(VALID / name)
    return text, parse(text, name)


def test_there_are_valid_fixtures() -> None:
    assert len(VALID_FILES) >= 4


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: p.name)
def test_valid_file_parses_with_sound_spans(path: Path) -> None:
    text, g = parsed(path.name)
    assert check_syntax(text, path.name) == []
    lines = text.split("\n")
    for node in [*g.walk(), *g.comments]:
        sp = node.span
        where = f"{type(node).__name__} at {sp}"
        assert sp.file == path.name, where
        assert 1 <= sp.line <= sp.end_line <= len(lines), where
        assert sp.column >= 1 and sp.end_column >= 1, where
        assert (sp.line, sp.column) < (sp.end_line, sp.end_column), where
        # A span ends just after its last character, never after trailing blanks.
        last = lines[sp.end_line - 1][:sp.end_column - 1]
        assert last and not last[-1].isspace(), where
        if type(node) in _LEADING:
            word = _LEADING[type(node)]
            assert lines[sp.line - 1][sp.column - 1:].startswith(word), where
        if isinstance(node, (ast.Ident, ast.Name)):
            assert sp.line == sp.end_line
            assert _at(lines, sp.line, sp.column, sp.end_column) == node.name, where
        if isinstance(node, ast.Number):
            assert _at(lines, sp.line, sp.column, sp.end_column) == node.text, where


def _grammar_coverage() -> tuple[set[str], set[str]]:
    """The rule names (or aliases) and terminals the grammar can produce."""
    lark = _full_lark()
    rules: set[str] = set()
    for r in lark.rules:
        if r.alias:
            rules.add(str(r.alias))
        elif not r.options.expand1 and not r.origin.name.startswith("_"):
            rules.add(str(r.origin.name))
    terminals = {t.name for t in lark.terminals} - set(lark.ignore_tokens)
    return rules, terminals


@lru_cache(maxsize=1)
def _full_lark() -> Lark:
    """The grammar with every token kept, to see which keywords a file uses."""
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", keep_all_tokens=True,
                maybe_placeholders=False)


def test_valid_files_exercise_every_construct() -> None:
    rules, terminals = _grammar_coverage()
    seen_rules: set[str] = set()
    seen_terminals: set[str] = set()
    operators: set[str] = set()
    for path in VALID_FILES:
        tree = _full_lark().parse(read(path))
        seen_rules |= {str(t.data) for t in tree.iter_subtrees()}
        for tok in tree.scan_values(lambda v: isinstance(v, Token)):
            seen_terminals.add(tok.type)
            if tok.type in ("COMPARE", "ADDOP"):
                operators.add(str(tok))
    assert rules - seen_rules == set()
    assert terminals - seen_terminals == set()
    assert operators == {"==", "!=", "<", "<=", ">", ">=", "+", "-"}
    # The AST-level variants the grammar cannot tell apart by rule name.
    nodes = [n for p in VALID_FILES for n in parsed(p.name)[1].walk()]
    assert {n.policy for n in nodes if isinstance(n, ast.Decide)} == {None, "unique", "first"}
    assert {n.strength for n in nodes if isinstance(n, ast.Action)} == {
        None, "strong", "conditional"}
    assert {n.kind for n in nodes if isinstance(n, ast.Expect)} == {
        "some", "none", "only", "pending", "pending_at", "caution", "path"}
    assert any(isinstance(n, ast.Expect) and n.kind == "only" and not n.names for n in nodes)
    assert any(isinstance(n, ast.Number) and n.value < 0 for n in nodes)
    assert {n.label is None for n in nodes if isinstance(n, ast.Let)} == {True, False}
    assert {n.title is None for n in nodes if isinstance(n, ast.End)} == {True, False}
    assert {n.label is None for n in nodes if isinstance(n, ast.Otherwise)} == {True, False}
    assert {n.condition is None for n in nodes if isinstance(n, ast.Never)} == {True, False}
    assert {n.description is None for n in nodes if isinstance(n, ast.Patient)} == {True, False}
    assert any(isinstance(n, ast.Step) and n.then is not None and len(n.then) > 1 for n in nodes)
    comments = [c for p in VALID_FILES for c in parsed(p.name)[1].comments]
    trailing = [_is_trailing(read(VALID / c.span.file), c) for c in comments]
    assert True in trailing and False in trailing


def _is_trailing(text: str, c: ast.Comment) -> bool:
    return bool(text.split("\n")[c.span.line - 1][:c.span.column - 1].strip())


# ----------------------------------------------------------------------------- spot checks


N = TypeVar("N", bound=ast.Node)


def of(g: ast.Guideline, kind: type[N]) -> list[N]:
    """The top-level items of one class, typed."""
    return [i for i in g.items if isinstance(i, kind)]


def _one(g: ast.Guideline, kind: type[N], name: str) -> N:
    for item in of(g, kind):
        ident = getattr(item, "name", None)
        if isinstance(ident, ast.Ident) and ident.name == name:
            return item
    raise AssertionError(f"no {kind.__name__} {name}")


def _num(text: str) -> ast.Number:
    return ast.Number(ast.NO_SPAN, Fraction(text), text)


def _name(name: str) -> ast.Name:
    return ast.Name(ast.NO_SPAN, name)


def _ids(*names: str) -> tuple[ast.Ident, ...]:
    return tuple(ast.Ident(ast.NO_SPAN, n) for n in names)


def test_declarations() -> None:
    _, g = parsed("declarations.guide")
    h = g.header
    assert (h.name.name, h.title, h.version, h.updated) == (
        "declarations", "Every declaration of the language", "2.1.0", "2026-01-24")
    assert h.status is not None and h.status.name == "draft"
    assert h.owner == "Syntax tests"
    assert h.scope == ('Adults with a "quoted" scope, a backslash \\ and a tab\there; '
                       "two literals side by side.")
    assert h.disclaimer == "Not for clinical use. Ünïcödé and é escapes."
    assert (h.source, h.banner) == ("The source document, as cited",
                                    "Its own status banner, quoted")
    assert (h.span.line, h.span.column, h.span.end_line) == (4, 1, 13)

    assert [(c.version, c.date) for c in of(g, ast.Changelog)] == [
        ("2.1.0", "2026-01-24"), ("1.0.0", "2025-06-01")]
    r1 = _one(g, ast.Reference, "r1")
    assert isinstance(r1, ast.Reference)
    assert (r1.kind.name, r1.source, r1.year, r1.url) == (
        "guideline", "A publisher", 2026, "https://example.org/r1?a=1&b=2")
    assert [(n.text, n.citations) for n in r1.notes] == [("A note on the reference.",
                                                          _ids("c1"))]
    assert (r1.span.line, r1.span.end_line) == (18, 20)
    r2 = _one(g, ast.Reference, "r2")
    assert isinstance(r2, ast.Reference)
    assert (r2.source, r2.year, r2.url, r2.notes) == (None, 1999, None, ())

    types = {i.name.name: (i.type, i.optional) for i in of(g, ast.Input)
             if isinstance(i, ast.Input)}
    sp = ast.NO_SPAN
    assert types["fit"] == (ast.BooleanType(sp), False)
    assert types["biopsied"] == (ast.BooleanType(sp), True)
    assert types["kps"] == (ast.IntegerType(sp, _num("0"), _num("100"), _num("10"),
                                            typical_low=_num("40"), typical_high=_num("100")),
                            False)
    assert types["age"] == (ast.IntegerType(sp, _num("18"), None, None), False)
    assert types["lines"] == (ast.IntegerType(sp, None, _num("5"), None), False)
    assert types["weight"] == (ast.NumberType(sp, _num("0.5"), _num("300"), "kg",
                                              typical_low=_num("40"), typical_high=_num("120")),
                               False)
    assert types["clearance"] == (ast.NumberType(sp, _num("0"), _num("250"), "mL/min", True,
                                                 True), False)
    assert types["recent_surgery"] == (ast.BooleanType(sp), True)
    assert types["contraindications"] == (ast.SetType(sp, _ids("bleeding", "surgery",
                                                               "pregnancy")), True)
    assert types["months"] == (ast.NumberType(sp, _num("0"), None, "months"), False)
    assert types["delta"] == (ast.NumberType(sp, _num("-10.5"), _num("-0.25"), None), False)
    assert types["ratio"] == (ast.NumberType(sp, None, _num("2"), None), False)
    assert types["score"] == (ast.NumberType(sp, None, None, None), True)
    assert types["histology"] == (ast.EnumType(sp, _ids("adenocarcinoma", "squamous",
                                                        "unknown")), False)
    assert types["egfr"] == (ast.EnumType(sp, _ids("mutant", "wild_type")), True)
    delta = types["delta"][0]
    assert isinstance(delta, ast.NumberType) and delta.low is not None
    assert delta.low.value == Fraction(-21, 2)

    a1, a2, a3 = of(g, ast.Assume)
    assert a1 == ast.Assume(sp, ast.Compare(sp, "==", _name("histology"), _name("unknown")),
                            _name("biopsied"), "Histology needs tissue.")
    assert a2 == ast.Assume(sp, ast.IsKnown(sp, _name("egfr"), False), _name("biopsied"), None)
    assert a3 == ast.Assume(sp, ast.Compare(sp, ">=", _name("kps"), _num("0")), None, None)

    lets = {lt.name.name: lt for lt in of(g, ast.Let) if isinstance(lt, ast.Let)}
    assert lets["poor"].label == "Poor performance"
    assert lets["poor"].expr == ast.Or(sp, (
        ast.Compare(sp, "<", _name("kps"), _num("70")),
        ast.Compare(sp, "<", _name("months"), _num("1"))))
    assert lets["dose_ok"].label is None
    assert lets["dose_ok"].expr == ast.And(sp, (
        ast.Compare(sp, ">", ast.Arith(sp, "+", ast.Arith(
            sp, "-", ast.Scale(sp, _name("weight"), _num("0.5")), _num("10")), _name("age")),
            _num("-3")),
        ast.Not(sp, ast.Compare(sp, "<=", _name("ratio"), _num("1.5")))))
    assert lets["marker_known"].expr == ast.IsKnown(sp, _name("egfr"), True)
    assert lets["flags"].expr == ast.Or(sp, (
        ast.Compare(sp, "==", _name("fit"), ast.Bool(sp, True)),
        ast.Compare(sp, "!=", _name("biopsied"), ast.Bool(sp, False))))

    actions = {a.name.name: a for a in of(g, ast.Action) if isinstance(a, ast.Action)}
    assert (actions["treat"].short, actions["watch"].short) == ("Systemic", None)
    assert (actions["treat"].kind.name, actions["treat"].strength, actions["treat"].detail,
            actions["treat"].citations) == ("systemic", "strong", "First line.", _ids("r1", "r2"))
    assert (actions["watch"].strength, actions["watch"].citations) == ("conditional", _ids("c1"))
    assert (actions["refer"].strength, actions["refer"].detail, actions["refer"].citations) == (
        None, None, ())
    summary, empty = of(g, ast.Section)
    assert isinstance(summary, ast.Section) and isinstance(empty, ast.Section)
    assert [(p.text, p.citations) for p in summary.paragraphs] == [
        ("Treat fit patients.", _ids("r1")), ("Uncited paragraph.", ())]
    assert empty.paragraphs == ()


def test_pathway() -> None:
    _, g = parsed("pathway.guide")
    [pw] = of(g, ast.Pathway)
    assert isinstance(pw, ast.Pathway)
    assert pw.start == _ids("workup", "side")
    assert (pw.span.line, pw.span.column, pw.span.end_line) == (23, 1, 59)
    workup, choose, side, treat_step, comfort_step, done, other = pw.nodes
    # `page ["title"]` pins a page of the printed pocket edition.
    assert isinstance(side, ast.Decide) and side.page is not None
    assert (side.page.title, side.page.span.line, side.page.span.column) == (
        "The side branch", 46, 5)
    assert isinstance(comfort_step, ast.Step) and comfort_step.page is not None
    assert comfort_step.page.title is None
    assert workup.page is None and choose.page is None
    assert isinstance(workup, ast.Step)
    assert workup.then == _ids("choose", "side")
    r1, r2, n1, n2 = workup.items
    sp = ast.NO_SPAN
    assert r1 == ast.Recommend(sp, _ids("scan"), None)
    assert r1.label is None
    [treat_rec] = treat_step.items
    assert isinstance(treat_rec, ast.Recommend)
    assert (treat_rec.label, treat_rec.condition) == ("if fit", _name("fit"))
    assert r2 == ast.Recommend(sp, _ids("scan", "biopsy"), ast.Or(sp, (
        ast.Compare(sp, "==", _name("histology"), _name("unknown")),
        ast.IsKnown(sp, _name("egfr"), False))))
    assert (r2.span.line, r2.span.column, r2.span.end_line, r2.span.end_column) == (29, 5, 29, 72)
    assert n1 == ast.Note(sp, "A step note.", _ids("r1"))
    assert n2 == ast.Note(sp, "An uncited step note.", ())
    assert (workup.span.line, workup.span.column, workup.span.end_line) == (27, 3, 32)

    assert isinstance(choose, ast.Decide)
    assert (choose.name.name, choose.question, choose.policy) == ("choose", "Which branch?",
                                                                  "first")
    assert [n.citations for n in choose.notes] == [_ids("r1", "r2")]
    b1, b2, b3, b4 = choose.branches
    # A branch spans from its `when` to the end of its last note.
    assert (b1.span.line, b1.span.column, b1.span.end_line, b1.span.end_column) == (36, 5, 38, 35)
    assert b1.label == "Targetable"
    assert b1.targets == _ids("treat_step")
    assert b1.condition == ast.And(sp, (
        ast.In(sp, _name("histology"), _ids("adenocarcinoma", "squamous")),
        ast.Compare(sp, "==", _name("egfr"), _name("mutant"))))
    assert [n.text for n in b1.notes] == ["A branch note.", "A second branch note."]
    assert b1.targets[0].span.line == 36 and b1.targets[0].span.column == 85
    assert (b2.span.line, b2.span.end_line, b2.label, b2.notes) == (39, 39, None, ())
    assert b2.condition == ast.Or(sp, (ast.Not(sp, _name("fit")),
                                       ast.Compare(sp, "<", _name("kps"), _num("70"))))
    assert b3.targets == _ids("treat_step", "done")
    assert b3.condition == ast.And(sp, (
        ast.Compare(sp, ">=", ast.Scale(sp, ast.Arith(sp, "-", _name("weight"), _name("dose")),
                                        _num("2")), _num("-1.5")),
        ast.Or(sp, (_name("fit"), ast.Compare(sp, ">", ast.Arith(sp, "+", _name("kps"),
                                                                 _num("10")), _num("80"))))))
    # `unknown` right of `==` is an enum value, a plain name.
    assert b4.condition == ast.Compare(sp, "==", _name("histology"), _name("unknown"))
    assert choose.otherwise is not None
    assert (choose.otherwise.label, choose.otherwise.targets) == ("Anything else", _ids("done"))
    assert [n.text for n in choose.otherwise.notes] == ["An otherwise note."]
    assert (choose.otherwise.span.line, choose.otherwise.span.end_line) == (42, 43)

    assert isinstance(side, ast.Decide) and side.policy == "unique"
    assert side.otherwise == ast.Otherwise(sp, None, _ids("done"), ())
    assert isinstance(treat_step, ast.Step) and treat_step.then == _ids("done")
    assert isinstance(comfort_step, ast.Step) and comfort_step.then is None
    assert done == ast.End(sp, ast.Ident(sp, "done"), "Done")
    assert other == ast.End(sp, ast.Ident(sp, "other"), None)
    assert (other.span.line, other.span.column, other.span.end_column) == (59, 3, 12)


def test_rules_and_cases() -> None:
    _, g = parsed("rules_and_cases.guide")
    sp = ast.NO_SPAN
    never_treat, never_port, never_both = of(g, ast.Never)
    assert never_treat == ast.Never(sp, _ids("treat"), ast.Not(sp, _name("fit")),
                                    "Not when unfit.", _ids("r1"))
    assert never_port == ast.Never(sp, _ids("port"), None, "Never on its own.", ())
    assert never_both == ast.Never(
        sp, _ids("treat", "port"), ast.Compare(sp, "==", _name("histology"), _name("unknown")),
        "Neither without a histology.", _ids("r1"))
    [req] = of(g, ast.Require)
    assert req == ast.Require(sp, ast.Ident(sp, "port"), ast.And(sp, (
        ast.IsRecommended(sp, ast.Ident(sp, "treat")),
        ast.Compare(sp, "==", _name("marker"), _name("positive")))),
        "A port goes with treatment.", _ids("r1"))
    assert isinstance(req, ast.Require) and (req.span.line, req.span.end_line) == (39, 40)
    [conflict] = of(g, ast.Conflict)
    assert conflict == ast.Conflict(sp, ast.Ident(sp, "treat"), ast.Ident(sp, "comfort"),
                                    "Not both.", ())
    c1, c2, c3 = of(g, ast.Caution)
    assert c1 == ast.Caution(sp, ast.Ident(sp, "marker_pending"), "The marker is pending.",
                             ast.IsKnown(sp, _name("marker"), False), _ids("r1"))
    assert c2 == ast.Caution(sp, ast.Ident(sp, "low_kps"), "Low KPS.",
                             ast.Compare(sp, "<=", _name("kps"), _num("40")), ())
    assert c3 == ast.Caution(sp, ast.Ident(sp, "latex"), "Latex allergy.",
                             ast.Has(sp, _name("allergies"), "one", _ids("latex")), _ids("r1"))

    fit, unfit, plain = of(g, ast.Patient)
    assert isinstance(fit, ast.Patient) and isinstance(unfit, ast.Patient)
    assert isinstance(plain, ast.Patient)
    assert fit.description == "A fit patient"
    assert fit.values == (
        ast.Assignment(sp, ast.Ident(sp, "fit"), ast.Bool(sp, True)),
        ast.Assignment(sp, ast.Ident(sp, "kps"), _num("80")),
        ast.Assignment(sp, ast.Ident(sp, "histology"), _name("adenocarcinoma")),
        ast.Assignment(sp, ast.Ident(sp, "marker"), _name("positive")))
    assert unfit.description is None and unfit.values[2].value == _name("unknown")
    assert plain.description is None and len(plain.values) == 4
    assert plain.values[-1].value == ast.SetValue(sp, _ids("latex", "penicillin"))

    cases = of(g, ast.Case)
    assert [(c.title, c.base and c.base.name, len(c.values))
            for c in cases] == [("Fit treats", "fit_patient", 0), ("Unfit", "unfit", 0),
                                ("Pending marker", "fit_patient", 1),
                                ("Nothing at all", None, 4),
                                ("A temperature in its unit", "fit_patient", 1),
                                ("Dates in a case", "fit_patient", 2)]
    assert cases[-2].values[0].value == ast.Number(sp, Fraction("37.5"), "37.5", "Cel")
    assert [a.value for a in cases[-1].values] == [
        ast.Moment(sp, "2026-12-04", False), ast.Moment(sp, "2026-12-04T09:30", True)]
    expects = [(e.kind, tuple(n.name for n in e.names))
               for c in cases[:-2] for e in c.expectations]
    assert expects == [
        ("some", ("treat", "port")), ("none", ("comfort",)),
        ("path", ("choose", "treat_step", "done")),
        ("only", ("comfort",)), ("caution", ("low_kps", "marker_pending")),
        ("pending", ("marker",)), ("pending_at", ("choose",)),
        ("only", ()),
    ]
    allows = of(g, ast.Allow)
    assert [(a.code.name, a.node.name, a.reason) for a in allows
            ] == [("W102", "port", "Accepted."), ("I509", "choose", "Also accepted.")]


def test_comments_are_kept_in_order_with_their_places() -> None:
    text, g = parsed("comments.guide")
    got = [(c.text, c.span.line, c.span.column, _is_trailing(text, c)) for c in g.comments]
    assert got[:4] == [
        (" Valid fixture: comments on their own lines and at line ends, blank lines, and odd "
         "spacing.", 1, 1, False),
        (" A second leading comment.", 2, 1, False),
        (" end of the header", 9, 25, True),
        (" Between items, after a blank line.", 11, 1, False),
    ]
    assert (" a comment indented with a tab", 16, 2, False) in got
    assert got[-3:] == [("no space after the hash", 42, 1, False), ("", 43, 1, False),
                        (" the last comment", 44, 1, False)]
    assert len(got) == 22
    # The header starts at `guideline`, not at the comments before it.
    assert (g.header.span.line, g.header.span.column) == (4, 1)
    assert g.header.title == "Comments everywhere"


def test_unicode_names_are_not_names() -> None:
    """Names are ASCII: a letter outside A-Z is an unexpected character, not a crash."""
    [d] = check_syntax('guideline g "t"\ninput caf\u00e9 "x": boolean\n')
    assert (d.code, d.span.line, d.span.column) == ("E001", 2, 10)
    assert d.message == "unexpected character `\u00e9`"


def test_hints_use_what_the_parser_really_accepts() -> None:
    """LALR's merged states list `->` after an input's range; the hint must not."""
    head = 'guideline g "G"\n  version 1.0.0 status draft updated 2026-01-01 owner "T"\n'
    with pytest.raises(GuidecError) as info:
        parse(head + 'input x "X": integer 0..10 stp 1\n')
    [d] = info.value.diagnostics
    assert "did you mean `step`?" in d.message
    assert d.hint is not None and "->" not in d.hint
    with pytest.raises(GuidecError) as info:
        parse(head + 'input x "X": number == 0\n')
    [d] = info.value.diagnostics
    assert d.hint is not None and "`>= 0`" in d.hint
