"""Text to syntax tree: ``parse(text, filename) -> ast.Guideline``.

Lark does the parsing with the LALR grammar in ``grammar.lark`` (strict: no conflicts); a
transformer builds the frozen dataclasses of :mod:`dsl.ast`, each with its span. A syntax
error becomes a :class:`~dsl.diagnostics.Diagnostic` that says what was expected in an
author's words and, for a misspelt keyword, which one was meant.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import date, datetime
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from dsl import ast
from dsl.diagnostics import Diagnostic, GuidecError, did_you_mean, error
from dsl.lexer import plugins as lexer_plugins

GRAMMAR = Path(__file__).with_name("grammar.lark")

#: Every keyword of the language, for did-you-mean on misspellings.
KEYWORDS = (
    "guideline", "version", "status", "updated", "owner", "scope", "disclaimer", "changelog",
    "banner", "label", "reference", "source", "year", "url", "note", "input", "optional",
    "boolean", "integer",
    "number", "one", "of", "step", "unit", "assume", "unless", "let", "action", "strong",
    "conditional", "short", "detail", "section", "text", "cite", "pathway", "start", "recommend",
    "when", "then", "decide", "unique", "first", "otherwise", "end", "never", "require",
    "conflict", "caution", "patient", "with", "case", "from", "expect", "no", "only",
    "nothing", "pending", "at", "path", "allow", "and", "or", "not", "is", "known", "unknown",
    "recommended", "in", "true", "false", "page", "xor", "implies", "between",
    "points", "if", "default",
    "set", "has", "any", "none", "all", "against", "certainty", "good_practice", "typical",
    "convert", "date", "datetime", "minutes", "hours", "days", "weeks",
)

_CODE = re.compile(r"[EWI]\d{3}")

#: Keywords that cannot be names (`unknown` can be an enum value; `page`, a layout clause that
#: came later, stays a valid name so that no guideline written before it breaks).
RESERVED = frozenset(KEYWORDS) - {"unknown", "page", "any", "none", "all", "date",
                                   "datetime", "weeks"}


class _Comments:
    """Collects `#` comments during one parse (Lark calls back for ignored terminals), per
    thread: the language server parses in its worker thread too."""

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def tokens(self) -> list[Token]:
        """The comments of this thread's current parse."""
        found: list[Token] = self._local.__dict__.setdefault("tokens", [])
        return found

    @tokens.setter
    def tokens(self, value: list[Token]) -> None:
        self._local.tokens = value

    def __call__(self, token: Token) -> Token:
        self.tokens.append(token)
        return token


_COMMENTS = _Comments()


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        strict=True,
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _COMMENTS},
        cache=True,
        _plugins=lexer_plugins(),
    )


def parse(text: str, filename: str = "<input>") -> ast.Guideline:
    """Parse guideline source text into a syntax tree.

    Raises :class:`~dsl.diagnostics.GuidecError` with located diagnostics on a syntax error.
    """
    parser = _lark()
    _COMMENTS.tokens = []
    try:
        tree = parser.parse(text)
    except UnexpectedInput as exc:
        raise GuidecError([_syntax_error(exc, text, filename)]) from None
    except RecursionError:
        raise GuidecError([_too_deep(text, filename)]) from None
    comments = tuple(
        ast.Comment(_token_span(t, filename), str(t)[1:].rstrip()) for t in _COMMENTS.tokens
    )
    try:
        guideline = _Builder(filename, text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, GuidecError):
            raise exc.orig_exc from None
        if isinstance(exc.orig_exc, RecursionError):
            raise GuidecError([_too_deep(text, filename)]) from None
        raise
    except RecursionError:
        raise GuidecError([_too_deep(text, filename)]) from None
    assert isinstance(guideline, ast.Guideline)
    return ast.Guideline(guideline.span, guideline.header, guideline.items, comments)


def expected_after(text: str) -> tuple[list[str], bool] | None:
    """What the grammar accepts after ``text`` (a document up to the cursor): its keywords
    there, sorted, and whether a name may come. None when ``text`` has a syntax error."""
    _COMMENTS.tokens = []
    try:
        interactive: Any = _lark().parse_interactive(text)
        interactive.exhaust_lexer()
        accepts = set(interactive.accepts())
    except (UnexpectedInput, RecursionError):
        return None
    return sorted(set(_expected_keywords(accepts))), "NAME" in accepts


def _too_deep(text: str, filename: str) -> Diagnostic:
    """A condition nested beyond what can be parsed: pointed at its deepest line."""
    lines = text.split("\n")
    line = max(range(len(lines)), key=lambda i: lines[i].count("(") + lines[i].count("not "))
    return error("E008", "this condition is nested too deeply", ast.Span(
        filename, line + 1, 1, line + 1, len(lines[line]) + 1),
        hint="split it into named conditions with `let`")


def parse_file(path: str | Path) -> ast.Guideline:
    """Read a UTF-8 file and parse it (the file name goes into every span)."""
    p = Path(path)
    return parse(p.read_text(encoding="utf-8"), str(path))


# ----------------------------------------------------------------------------- tree building


def _token_span(tok: Token, filename: str) -> ast.Span:
    return ast.Span(filename, tok.line or 0, tok.column or 0, tok.end_line or 0,
                    tok.end_column or 0)


def _decode_string(tok: Token, filename: str) -> str:
    try:
        value = json.loads(str(tok), strict=False)
    except json.JSONDecodeError:
        raise GuidecError([error(
            "E003", "this text has an invalid escape sequence", _token_span(tok, filename),
            hint='inside "..." use \\" for a quote, \\\\ for a backslash, \\n for a new line, '
                 "or \\uXXXX",
        )]) from None
    assert isinstance(value, str)
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise GuidecError([error(
            "E003", "this text has a lone surrogate escape (\\ud800-\\udfff)",
            _token_span(tok, filename),
            hint="write the character itself, or a surrogate pair for characters beyond "
                 "U+FFFF")])
    return value


#: A literal of the language has at most this many significant digits: far more than any
#: clinical threshold needs (exact decimals such as 0.1000000000000000000001 stay possible),
#: while every bound stays within a float's range in the generated evaluator.
MAX_DIGITS = 40

#: A name has at most this many characters: the guideline's name becomes file names, and the
#: others become identifiers of the generated code.
MAX_NAME = 64

#: A version's parts (major.minor.patch) have at most this many digits each.
MAX_VERSION_DIGITS = 9


def _shown(text: str, limit: int = 24) -> str:
    """A literal as quoted in a message: long ones cut, with their length."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _number(tok: Token, filename: str) -> ast.Number:
    text = str(tok)
    digits = text.lstrip("-").replace(".", "").lstrip("0")
    if len(digits) > MAX_DIGITS:
        raise GuidecError([error(
            "E010", f"the number `{_shown(text)}` has {len(digits)} digits; a number has at "
            f"most {MAX_DIGITS}", _token_span(tok, filename),
            hint="write the threshold as the guideline states it, e.g. `kps >= 70` or "
                 "`0.5`")])
    return ast.Number(_token_span(tok, filename), Fraction(text), text)


def _version(tok: Token, filename: str) -> ast.Text:
    text = str(tok)
    if any(len(part) > MAX_VERSION_DIGITS for part in text.split(".")):
        raise GuidecError([error(
            "E012", f"the version `{_shown(text)}` has a part longer than "
            f"{MAX_VERSION_DIGITS} digits", _token_span(tok, filename),
            hint="a version is major.minor.patch, e.g. `version 2.0.0`")])
    return ast.Text(text, _token_span(tok, filename))


def _date(tok: Token, filename: str) -> ast.Text:
    text = str(tok)
    try:
        date.fromisoformat(text)
    except ValueError:
        raise GuidecError([error(
            "E011", f"`{text}` is not a date of the calendar", _token_span(tok, filename),
            hint="write an ISO 8601 date, year-month-day, e.g. `2026-01-24`")]) from None
    return ast.Text(text, _token_span(tok, filename))


@v_args(meta=True)
class _Builder(Transformer[Token, Any]):
    """Builds :mod:`dsl.ast` nodes from the Lark tree."""

    def __init__(self, filename: str, text: str = "") -> None:
        super().__init__(visit_tokens=False)
        self.filename = filename
        self.text = text

    def _span(self, meta: Any) -> ast.Span:
        if getattr(meta, "empty", True):
            return ast.Span(self.filename, 0, 0, 0, 0)
        return ast.Span(self.filename, meta.line, meta.column, meta.end_line, meta.end_column)

    def _ident(self, tok: Token) -> ast.Ident:
        if tok.type == "NAME" and str(tok) in RESERVED:
            # Lark's contextual lexer would accept a keyword where only a name can stand;
            # the language reserves them, so that every name can be used everywhere.
            raise GuidecError([error(
                "E002", f"unexpected keyword `{tok}`", _token_span(tok, self.filename),
                hint=f"choose another name, e.g. `{tok}_`",
                notes=[f"`{tok}` is a keyword of the language and cannot be a name"])])
        if len(tok) > MAX_NAME:
            raise GuidecError([error(
                "E013", f"the name `{_shown(str(tok))}` has {len(tok)} characters; a name has "
                f"at most {MAX_NAME}", _token_span(tok, self.filename),
                hint="choose a shorter name; the title in quotes can say everything")])
        return ast.Ident(_token_span(tok, self.filename), str(tok))

    def _word(self, tok: Token) -> ast.Ident:
        """A kind, status or code: a fixed word, not a name, so keywords are fine here."""
        return ast.Ident(_token_span(tok, self.filename), str(tok))

    def _idents(self, items: list[Any]) -> tuple[ast.Ident, ...]:
        return tuple(self._ident(t) if isinstance(t, Token) else t for t in items)

    # -- small pieces
    def _text(self, tok: Token) -> ast.Text:
        return ast.Text(str(tok), _token_span(tok, self.filename))

    def string(self, meta: Any, toks: list[Token]) -> str:
        return ast.Text("".join(_decode_string(t, self.filename) for t in toks),
                        self._span(meta))

    def number(self, meta: Any, toks: list[Token]) -> ast.Number:
        return _number(toks[0], self.filename)

    def ident(self, meta: Any, toks: list[Token]) -> ast.Ident:
        return self._ident(toks[0])

    def cite(self, meta: Any, toks: list[Token]) -> tuple[ast.Ident, ...]:
        return self._idents(toks)

    def targets(self, meta: Any, toks: list[Token]) -> tuple[ast.Ident, ...]:
        return self._idents(toks)

    def note(self, meta: Any, items: list[Any]) -> ast.Note:
        cites = items[1] if len(items) > 1 else ()
        return ast.Note(self._span(meta), items[0], cites)

    def strength(self, meta: Any, toks: list[Token]) -> str:
        return self._text(toks[0])

    def policy(self, meta: Any, toks: list[Token]) -> str:
        return self._text(toks[0])

    # -- header
    def start(self, meta: Any, items: list[Any]) -> ast.Guideline:
        return ast.Guideline(self._span(meta), items[0], tuple(items[1:]))

    def header(self, meta: Any, items: list[Any]) -> ast.Header:
        name, title, *fields_ = items
        values: dict[str, Any] = {}
        for key, value, span in fields_:
            if key in values:
                raise GuidecError([error(
                    "E005", f"`{key}` is given twice in the guideline header", span,
                    hint=f"keep one `{key}` line")])
            values[key] = value
        return ast.Header(
            self._span(meta), self._ident(name), title, values.get("version"),
            values.get("status"), values.get("updated"), values.get("owner"),
            values.get("scope"), values.get("disclaimer"), values.get("source"),
            values.get("banner"))

    def h_version(self, meta: Any, toks: list[Token]) -> tuple[str, Any, ast.Span]:
        return ("version", _version(toks[0], self.filename), self._span(meta))

    def h_status(self, meta: Any, toks: list[Token]) -> tuple[str, Any, ast.Span]:
        return ("status", self._word(toks[0]), self._span(meta))

    def h_updated(self, meta: Any, toks: list[Token]) -> tuple[str, Any, ast.Span]:
        return ("updated", _date(toks[0], self.filename), self._span(meta))

    def h_owner(self, meta: Any, items: list[Any]) -> tuple[str, Any, ast.Span]:
        return ("owner", items[0], self._span(meta))

    def h_scope(self, meta: Any, items: list[Any]) -> tuple[str, Any, ast.Span]:
        return ("scope", items[0], self._span(meta))

    def h_disclaimer(self, meta: Any, items: list[Any]) -> tuple[str, Any, ast.Span]:
        return ("disclaimer", items[0], self._span(meta))

    def h_source(self, meta: Any, items: list[Any]) -> tuple[str, Any, ast.Span]:
        return ("source", items[0], self._span(meta))

    def h_banner(self, meta: Any, items: list[Any]) -> tuple[str, Any, ast.Span]:
        return ("banner", items[0], self._span(meta))

    def changelog(self, meta: Any, items: list[Any]) -> ast.Changelog:
        return ast.Changelog(self._span(meta), _version(items[0], self.filename),
                             _date(items[1], self.filename), items[2])

    def reference(self, meta: Any, items: list[Any]) -> ast.Reference:
        name, kind, title, *rest = items
        source = year = url = label = None
        year_at = label_at = ast.NO_SPAN
        notes: list[ast.Note] = []
        self._once([r for r in rest if not isinstance(r, ast.Note)],
                   f"the reference `{name}`")
        for r in rest:
            if isinstance(r, ast.Note):
                notes.append(r)
            elif r[0] == "source":
                source = r[1]
            elif r[0] == "label":
                label, label_at = r[1], r[2]
            elif r[0] == "year":
                year_at = _token_span(r[1], self.filename)
                value = Fraction(str(r[1])) if len(str(r[1])) <= 8 else Fraction(0)
                if value.denominator != 1 or not 1000 <= value <= 9999:
                    raise GuidecError([error(
                        "E009", f"`{_shown(str(r[1]))}` is not a year", year_at,
                        hint="write the year of publication, e.g. `year 2026`")])
                year = int(value)
            else:
                url = r[1]
        return ast.Reference(self._span(meta), self._ident(name), self._word(kind), title,
                             source, year, url, tuple(notes), year_at=year_at, label=label,
                             label_at=label_at)

    def _once(self, fields_: list[tuple[Any, ...]], where: str) -> None:
        """E005 for a field (``(key, value, span)``) given twice in one clause."""
        seen: set[str] = set()
        for key, _, span in fields_:
            if key in seen:
                raise GuidecError([error("E005", f"`{key}` is given twice in {where}", span,
                                         hint=f"keep one `{key}`")])
            seen.add(key)

    def ref_source(self, meta: Any, items: list[Any]) -> tuple[str, Any, ast.Span]:
        return ("source", items[0], self._span(meta))

    def ref_label(self, meta: Any, items: list[Any]) -> tuple[str, Any, ast.Span]:
        return ("label", items[0], self._span(meta))

    def ref_year(self, meta: Any, toks: list[Token]) -> tuple[str, Any, ast.Span]:
        return ("year", toks[0], self._span(meta))

    def ref_url(self, meta: Any, items: list[Any]) -> tuple[str, Any, ast.Span]:
        return ("url", items[0], self._span(meta))

    # -- inputs
    def input(self, meta: Any, items: list[Any]) -> ast.Input:
        optional = any(isinstance(it, Token) and it.type == "OPTIONAL" for it in items[2:])
        rest = [it for it in items[2:] if not isinstance(it, Token)]
        default = rest[1].value if len(rest) > 1 else None
        return ast.Input(self._span(meta), self._ident(items[0]), items[1], rest[0], optional,
                         default)

    def default(self, meta: Any, items: list[Any]) -> ast.Assignment:
        # Kept as an assignment (`input = value`) so that the compiler checks it as a patient
        # value is checked: type, range, step, enum value.
        return ast.Assignment(self._span(meta), ast.Ident(self._span(meta), ""), items[0])

    def t_boolean(self, meta: Any, items: list[Any]) -> ast.BooleanType:
        return ast.BooleanType(self._span(meta))

    def t_date(self, meta: Any, items: list[Any]) -> ast.DateType:
        return ast.DateType(self._span(meta), False)

    def t_datetime(self, meta: Any, items: list[Any]) -> ast.DateType:
        return ast.DateType(self._span(meta), True)

    # -- time: literals, durations, elapsed time
    def _when(self, tok: Token, with_time: bool) -> ast.Moment:
        text = str(tok)
        try:
            (datetime.fromisoformat if with_time else date.fromisoformat)(text)
        except ValueError:
            raise GuidecError([error(
                "E011", f"`{text}` is not a {'time' if with_time else 'date'} of the calendar",
                _token_span(tok, self.filename),
                hint="write an ISO 8601 date, e.g. `2026-01-24`, or a date and time, e.g. "
                     "`2026-01-24T14:30`")]) from None
        return ast.Moment(_token_span(tok, self.filename), text, with_time)

    def date_lit(self, meta: Any, items: list[Any]) -> ast.Moment:
        return self._when(items[0], False)

    def datetime_lit(self, meta: Any, items: list[Any]) -> ast.Moment:
        return self._when(items[0], True)

    def v_date(self, meta: Any, items: list[Any]) -> ast.Moment:
        return self._when(items[0], False)

    def v_datetime(self, meta: Any, items: list[Any]) -> ast.Moment:
        return self._when(items[0], True)

    def _duration(self, meta: Any, items: list[Any], unit: str) -> ast.Number:
        n: ast.Number = items[0]
        return n.replace(unit=unit)  # type: ignore[return-value]

    def in_minutes(self, meta: Any, items: list[Any]) -> ast.Number:
        return self._duration(meta, items, "min")

    def in_hours(self, meta: Any, items: list[Any]) -> ast.Number:
        return self._duration(meta, items, "h")

    def in_days(self, meta: Any, items: list[Any]) -> ast.Number:
        return self._duration(meta, items, "d")

    def in_weeks(self, meta: Any, items: list[Any]) -> ast.Number:
        return self._duration(meta, items, "wk")

    def minutes_between(self, meta: Any, items: list[Any]) -> ast.Elapsed:
        return ast.Elapsed(self._span(meta), "minutes", items[0], items[1])

    def hours_between(self, meta: Any, items: list[Any]) -> ast.Elapsed:
        return ast.Elapsed(self._span(meta), "hours", items[0], items[1])

    def days_between(self, meta: Any, items: list[Any]) -> ast.Elapsed:
        return ast.Elapsed(self._span(meta), "days", items[0], items[1])

    def t_integer(self, meta: Any, items: list[Any]) -> ast.IntegerType:
        return ast.IntegerType(self._span(meta), **self._numeric(items))

    def t_number(self, meta: Any, items: list[Any]) -> ast.NumberType:
        fields_ = self._numeric(items)
        del fields_["step"]  # the grammar gives a number no step
        return ast.NumberType(self._span(meta), **fields_)

    def _numeric(self, items: list[Any]) -> dict[str, Any]:
        """The fields of an integer or number type from its tagged clauses (see ``range_*``,
        ``int_step``, ``unit``, ``convert`` and ``typical``)."""
        out: dict[str, Any] = {"low": None, "high": None, "step": None, "unit": None,
                               "low_open": False, "high_open": False, "ucum": False,
                               "typical_low": None, "typical_high": None}
        converts: list[ast.Number] = []
        for tag, *rest in items:
            if tag == "range":
                out["low"], out["high"], out["low_open"], out["high_open"] = rest
            elif tag == "typical":
                out["typical_low"], out["typical_high"] = rest
            elif tag == "unit":
                out["unit"], out["ucum"] = rest
            elif tag == "convert":
                converts.append(rest[0])
            else:
                out["step"] = rest[0]
        out["conversions"] = tuple(converts)
        return out

    def typical(self, meta: Any, items: list[Any]) -> tuple[Any, ...]:
        return ("typical", items[0], items[1])

    def t_enum(self, meta: Any, items: list[Any]) -> ast.EnumType:
        return ast.EnumType(self._span(meta), tuple(items))

    def t_set(self, meta: Any, items: list[Any]) -> ast.SetType:
        return ast.SetType(self._span(meta), tuple(items))

    # A range is ("range", low, high, low_open, high_open); a bound is (number, open).
    def range_between(self, meta: Any, items: list[Any]) -> tuple[Any, ...]:
        return ("range", items[0], items[1], False, False)

    def range_low(self, meta: Any, items: list[Any]) -> tuple[Any, ...]:
        (low, low_open), (high, high_open) = items[0], items[1] if len(items) > 1 else \
            (None, False)
        return ("range", low, high, low_open, high_open)

    def range_high(self, meta: Any, items: list[Any]) -> tuple[Any, ...]:
        return ("range", None, items[0][0], False, items[0][1])

    def closed_end(self, meta: Any, items: list[Any]) -> tuple[Any, bool]:
        return (items[0], False)

    def open_end(self, meta: Any, items: list[Any]) -> tuple[Any, bool]:
        return (items[0], True)

    def int_step(self, meta: Any, items: list[Any]) -> tuple[str, ast.Number]:
        return ("step", items[0])

    def unit(self, meta: Any, items: list[Any]) -> tuple[str, Any, bool]:
        if isinstance(items[0], Token):  # 'UCUM'
            return ("unit", self._ucum(items[0]), True)
        return ("unit", items[0], False)

    def convert(self, meta: Any, items: list[Any]) -> tuple[str, ast.Number]:
        return ("convert", items[0].replace(unit=self._ucum(items[1])))

    def _ucum(self, tok: Token) -> ast.Text:
        return ast.Text(str(tok)[1:-1], _token_span(tok, self.filename))

    def quantity(self, meta: Any, items: list[Any]) -> ast.Number:
        return items[0].replace(unit=self._ucum(items[1]))  # type: ignore[no-any-return]

    def v_quantity(self, meta: Any, items: list[Any]) -> ast.Number:
        return items[0].replace(unit=self._ucum(items[1]))  # type: ignore[no-any-return]

    def assume(self, meta: Any, items: list[Any]) -> ast.Assume:
        cond = items[0]
        unless = None
        text = None
        for it in items[1:]:
            if isinstance(it, str):
                text = it
            else:
                unless = it
        return ast.Assume(self._span(meta), cond, unless, text)

    def let(self, meta: Any, items: list[Any]) -> ast.Let:
        if len(items) == 3:
            return ast.Let(self._span(meta), self._ident(items[0]), items[1], items[2])
        return ast.Let(self._span(meta), self._ident(items[0]), None, items[1])

    # -- actions and prose
    def action(self, meta: Any, items: list[Any]) -> ast.Action:
        name, kind, text, *rest = items
        strength = None
        detail = None
        short = None
        cites: tuple[ast.Ident, ...] = ()
        against = good_practice = False
        certainty: ast.Ident | None = None
        self._once([r for r in rest if isinstance(r, tuple) and r and r[0] in (
            "detail", "short", "against", "certainty", "good_practice")], f"the action `{name}`")
        for r in rest:
            if isinstance(r, str):
                strength = r
            elif isinstance(r, tuple) and r and r[0] == "detail":
                detail = r[1]
            elif isinstance(r, tuple) and r and r[0] == "short":
                short = r[1]
            elif isinstance(r, tuple) and r and r[0] == "against":
                against = True
            elif isinstance(r, tuple) and r and r[0] == "good_practice":
                good_practice = True
            elif isinstance(r, tuple) and r and r[0] == "certainty":
                certainty = r[1]
            else:
                cites = cites + r
        return ast.Action(self._span(meta), self._ident(name), self._word(kind), text,
                          strength, detail, cites, short, against, certainty, good_practice)

    def a_against(self, meta: Any, items: list[Any]) -> tuple[str, None, ast.Span]:
        return ("against", None, self._span(meta))

    def a_good_practice(self, meta: Any, items: list[Any]) -> tuple[str, None, ast.Span]:
        return ("good_practice", None, self._span(meta))

    def a_certainty(self, meta: Any, items: list[Any]) -> tuple[str, ast.Ident, ast.Span]:
        return ("certainty", self._word(items[0]), self._span(meta))

    def a_detail(self, meta: Any, items: list[Any]) -> tuple[str, str, ast.Span]:
        return ("detail", items[0], self._span(meta))

    def a_short(self, meta: Any, items: list[Any]) -> tuple[str, str, ast.Span]:
        return ("short", items[0], self._span(meta))

    def section(self, meta: Any, items: list[Any]) -> ast.Section:
        return ast.Section(self._span(meta), self._ident(items[0]), items[1], tuple(items[2:]))

    def paragraph(self, meta: Any, items: list[Any]) -> ast.Paragraph:
        cites = items[1] if len(items) > 1 else ()
        return ast.Paragraph(self._span(meta), items[0], cites)

    # -- pathway
    def pathway(self, meta: Any, items: list[Any]) -> ast.Pathway:
        return ast.Pathway(self._span(meta), items[0], tuple(items[1:]))

    def start_edge(self, meta: Any, items: list[Any]) -> tuple[ast.Ident, ...]:
        return items[0]  # type: ignore[no-any-return]

    def then(self, meta: Any, items: list[Any]) -> tuple[str, tuple[ast.Ident, ...]]:
        return ("then", items[0])

    def step(self, meta: Any, items: list[Any]) -> ast.Step:
        name, title, *rest = items
        then = None
        page = None
        body: list[ast.Recommend | ast.Note] = []
        for r in rest:
            if isinstance(r, tuple):
                then = r[1]
            elif isinstance(r, ast.Page):
                page = r
            else:
                body.append(r)
        return ast.Step(self._span(meta), self._ident(name), title, tuple(body), then, page)

    def page(self, meta: Any, items: list[Any]) -> ast.Page:
        return ast.Page(self._span(meta), items[0] if items else None)

    def recommend(self, meta: Any, items: list[Any]) -> ast.Recommend:
        actions = [i for i in items if isinstance(i, Token)]
        conds = [i for i in items if not isinstance(i, (Token, str))]
        labels = [i for i in items if isinstance(i, str) and not isinstance(i, Token)]
        return ast.Recommend(self._span(meta), self._idents(actions),
                             conds[0] if conds else None, labels[0] if labels else None)

    def decide(self, meta: Any, items: list[Any]) -> ast.Decide:
        name, question, *rest = items
        policy = None
        notes: list[ast.Note] = []
        branches: list[ast.Branch] = []
        otherwise = None
        page = None
        for r in rest:
            if isinstance(r, str):
                policy = r
            elif isinstance(r, ast.Page):
                page = r
            elif isinstance(r, ast.Note):
                notes.append(r)
            elif isinstance(r, ast.Branch):
                branches.append(r)
            else:
                otherwise = r
        return ast.Decide(self._span(meta), self._ident(name), question, policy, tuple(notes),
                          tuple(branches), otherwise, page)

    def branch(self, meta: Any, items: list[Any]) -> ast.Branch:
        cond = items[0]
        label = None
        rest = items[1:]
        if rest and isinstance(rest[0], str):
            label = rest[0]
            rest = rest[1:]
        return ast.Branch(self._span(meta), cond, label, rest[0], tuple(rest[1:]))

    def otherwise(self, meta: Any, items: list[Any]) -> ast.Otherwise:
        label = None
        rest = items
        if rest and isinstance(rest[0], str):
            label = rest[0]
            rest = rest[1:]
        return ast.Otherwise(self._span(meta), label, rest[0], tuple(rest[1:]))

    def end_node(self, meta: Any, items: list[Any]) -> ast.End:
        return ast.End(self._span(meta), self._ident(items[0]),
                       items[1] if len(items) > 1 else None)

    # -- rules
    def never(self, meta: Any, items: list[Any]) -> ast.Never:
        actions = self._idents([i for i in items if isinstance(i, Token)])
        rest = [i for i in items if not isinstance(i, Token)]
        cond = None
        if rest and not isinstance(rest[0], str):
            cond = rest[0]
            rest = rest[1:]
        cites = rest[1] if len(rest) > 1 else ()
        return ast.Never(self._span(meta), actions, cond, rest[0], cites)

    def require(self, meta: Any, items: list[Any]) -> ast.Require:
        cites = items[3] if len(items) > 3 else ()
        return ast.Require(self._span(meta), self._ident(items[0]), items[1], items[2], cites)

    def conflict(self, meta: Any, items: list[Any]) -> ast.Conflict:
        cites = items[3] if len(items) > 3 else ()
        return ast.Conflict(self._span(meta), self._ident(items[0]), self._ident(items[1]),
                            items[2], cites)

    def caution(self, meta: Any, items: list[Any]) -> ast.Caution:
        cites = items[3] if len(items) > 3 else ()
        return ast.Caution(self._span(meta), self._ident(items[0]), items[1], items[2], cites)

    # -- patients and cases
    def patient(self, meta: Any, items: list[Any]) -> ast.Patient:
        name = self._ident(items[0])
        desc = items[1] if isinstance(items[1], str) else None
        return ast.Patient(self._span(meta), name, desc, items[-1])

    def assignments(self, meta: Any, items: list[Any]) -> tuple[ast.Assignment, ...]:
        return tuple(items)

    def assignment(self, meta: Any, items: list[Any]) -> ast.Assignment:
        return ast.Assignment(self._span(meta), self._ident(items[0]), items[1])

    def v_true(self, meta: Any, items: list[Any]) -> ast.Bool:
        return ast.Bool(self._span(meta), True)

    def v_false(self, meta: Any, items: list[Any]) -> ast.Bool:
        return ast.Bool(self._span(meta), False)

    def v_set(self, meta: Any, items: list[Any]) -> ast.SetValue:
        return ast.SetValue(self._span(meta), tuple(items))

    def v_name(self, meta: Any, items: list[Any]) -> ast.Name:
        ident: ast.Ident = items[0]
        return ast.Name(ident.span, ident.name)

    def case(self, meta: Any, items: list[Any]) -> ast.Case:
        title = items[0]
        base = None
        values: tuple[ast.Assignment, ...] = ()
        expects: list[ast.Expect] = []
        for it in items[1:]:
            if isinstance(it, Token):
                base = self._ident(it)
            elif isinstance(it, ast.Expect):
                expects.append(it)
            else:
                values = it
        return ast.Case(self._span(meta), title, base, values, tuple(expects))

    def _expect(self, kind: str, meta: Any, toks: list[Token]) -> ast.Expect:
        return ast.Expect(self._span(meta), kind, self._idents(toks))

    def expect_some(self, meta: Any, toks: list[Token]) -> ast.Expect:
        return self._expect("some", meta, toks)

    def expect_none(self, meta: Any, toks: list[Token]) -> ast.Expect:
        return self._expect("none", meta, toks)

    def expect_only(self, meta: Any, toks: list[Token]) -> ast.Expect:
        return self._expect("only", meta, toks)

    def expect_pending(self, meta: Any, toks: list[Token]) -> ast.Expect:
        return self._expect("pending", meta, toks)

    def expect_pending_at(self, meta: Any, toks: list[Token]) -> ast.Expect:
        return self._expect("pending_at", meta, toks)

    def expect_caution(self, meta: Any, toks: list[Token]) -> ast.Expect:
        return self._expect("caution", meta, toks)

    def expect_path(self, meta: Any, toks: list[Token]) -> ast.Expect:
        return self._expect("path", meta, toks)

    def allow(self, meta: Any, items: list[Any]) -> ast.Allow:
        code = self._word(items[0])
        if not _CODE.fullmatch(code.name):
            raise GuidecError([error(
                "E006", f"`{code.name}` is not a diagnostic code", code.span,
                hint="a code is a letter E, W or I and three digits, e.g. `allow W201 at "
                     'performance "reason"`')])
        return ast.Allow(self._span(meta), code, self._ident(items[1]), items[2])

    # -- expressions
    def or_(self, meta: Any, items: list[Any]) -> ast.Expr:
        if len(items) == 1:  # `?rule -> alias` does not inline a single child
            return items[0]  # type: ignore[no-any-return]
        return ast.Or(self._span(meta), tuple(items))

    def and_(self, meta: Any, items: list[Any]) -> ast.Expr:
        if len(items) == 1:
            return items[0]  # type: ignore[no-any-return]
        return ast.And(self._span(meta), tuple(items), self._in_parens(meta))

    def _in_parens(self, meta: Any) -> bool:
        """Whether the author wrote parentheses right around this node (its text is
        balanced, so a `(` just before it and a `)` just after it are a pair). Found in the
        text rather than by a grammar rule: a rule would deepen the tree at every level of
        parentheses, however redundant."""
        # Scanned in place: slicing the text here made parsing quadratic in the file's size.
        text, i, j = self.text, meta.start_pos - 1, meta.end_pos
        while i >= 0 and text[i] in " \t\r\n\f":
            i -= 1
        while j < len(text) and text[j] in " \t\r\n\f":
            j += 1
        return i >= 0 and text[i] == "(" and j < len(text) and text[j] == ")"

    def not_(self, meta: Any, items: list[Any]) -> ast.Not:
        return ast.Not(self._span(meta), items[0])

    def compare(self, meta: Any, items: list[Any]) -> ast.Compare:
        return ast.Compare(self._span(meta), str(items[1]), items[0], items[2])

    def is_known(self, meta: Any, items: list[Any]) -> ast.IsKnown:
        return ast.IsKnown(self._span(meta), items[0], True)

    def is_unknown(self, meta: Any, items: list[Any]) -> ast.IsKnown:
        return ast.IsKnown(self._span(meta), items[0], False)

    def is_recommended(self, meta: Any, items: list[Any]) -> ast.IsRecommended:
        operand = items[0]
        if not isinstance(operand, ast.Name):
            raise GuidecError([error(
                "E007", "only an action can be `recommended`", self._span(meta),
                hint="write `<action> is recommended`, e.g. `intrathecal_methotrexate is "
                     "recommended`")])
        return ast.IsRecommended(self._span(meta), ast.Ident(operand.span, operand.name))

    def in_(self, meta: Any, items: list[Any]) -> ast.In:
        return ast.In(self._span(meta), items[0], tuple(items[1:]))

    def has(self, meta: Any, items: list[Any]) -> ast.Has:
        return ast.Has(self._span(meta), items[0], "one", (items[1],))

    def has_any(self, meta: Any, items: list[Any]) -> ast.Has:
        return ast.Has(self._span(meta), items[0], "any", tuple(items[1:]))

    def has_none(self, meta: Any, items: list[Any]) -> ast.Has:
        return ast.Has(self._span(meta), items[0], "none", tuple(items[1:]))

    def has_all(self, meta: Any, items: list[Any]) -> ast.Has:
        return ast.Has(self._span(meta), items[0], "all", tuple(items[1:]))

    def between(self, meta: Any, items: list[Any]) -> ast.Between:
        return ast.Between(self._span(meta), items[0], items[1], items[2])

    def xor(self, meta: Any, items: list[Any]) -> ast.Xor:
        return ast.Xor(self._span(meta), items[0], items[1])

    def implies(self, meta: Any, items: list[Any]) -> ast.Implies:
        return ast.Implies(self._span(meta), items[0], items[1])

    def points(self, meta: Any, items: list[Any]) -> ast.Points:
        return ast.Points(self._span(meta), tuple(items))

    def point(self, meta: Any, items: list[Any]) -> ast.Point:
        label = items[2] if len(items) > 2 else None
        return ast.Point(self._span(meta), items[0], items[1], label)

    def divide(self, meta: Any, items: list[Any]) -> ast.Divide:
        return ast.Divide(self._span(meta), items[0], items[1])


    def arith(self, meta: Any, items: list[Any]) -> ast.Arith:
        return ast.Arith(self._span(meta), str(items[1]), items[0], items[2])

    def scale(self, meta: Any, items: list[Any]) -> ast.Scale:
        return ast.Scale(self._span(meta), items[0], items[1])

    def ref(self, meta: Any, items: list[Any]) -> ast.Name:
        ident: ast.Ident = items[0]
        return ast.Name(ident.span, ident.name)

    def num(self, meta: Any, items: list[Any]) -> ast.Number:
        return items[0]  # type: ignore[no-any-return]

    def true_(self, meta: Any, items: list[Any]) -> ast.Bool:
        return ast.Bool(self._span(meta), True)

    def false_(self, meta: Any, items: list[Any]) -> ast.Bool:
        return ast.Bool(self._span(meta), False)


# ----------------------------------------------------------------------------- syntax errors

#: Words for terminals, as an author would read them.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "UNKNOWN": "`unknown`",
    "STRING": 'a quoted text such as "..."',
    "SIGNED": "a number",
    "VERSION": "a version such as 1.0.0",
    "DATE": "a date such as 2026-01-24",
    "COMPARE": "a comparison (==, !=, <, <=, >, >=)",
    "ADDOP": "+ or -",
    "STRONG": "`strong`",
    "CONDITIONAL": "`conditional`",
    "UNIQUE": "`unique`",
    "FIRST": "`first`",
    "OPTIONAL": "`optional`",
    "$END": "the end of the file",
}

#: When the expected terminals include all of a set, say what is expected in one phrase.
_CONTEXTS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"WHEN", "OTHERWISE"}),
     "a branch such as `when <condition> -> <step>` or `otherwise -> <step>`"),
    (frozenset({"RECOMMEND", "THEN"}),
     "a step item such as `recommend <action> when <condition>`, `note \"...\"` or "
     "`then -> <step>`"),
    (frozenset({"BOOLEAN", "INTEGER", "NUMBER", "ONE"}),
     "a type: `boolean`, `integer 0..100 step 10`, `number >= 0 unit \"...\"` or "
     "`one of a, b`"),
    (frozenset({"INPUT", "ACTION", "PATHWAY"}),
     "a declaration such as `input`, `action`, `reference`, `let`, `assume`, `pathway`, "
     "`never`, `require`, `conflict`, `caution`, `patient`, `case` or `section`"),
    (frozenset({"WHEN", "NOTE", "UNIQUE"}),
     "a branch such as `when <condition> -> <step>` (a decision needs at least one)"),
    (frozenset({"LPAR", "NAME", "SIGNED"}),
     "a condition such as `kps >= 70`, `egfr == mutant` or `not neuraxis_mri_done`"),
    (frozenset({"STEP", "DECIDE", "END"}),
     "a pathway node: `step <id> \"title\"`, `decide <id> \"question\"` or `end <id>`"),
)


def _expected_words(expected: set[str]) -> str:
    for needed, phrase in _CONTEXTS:
        if needed <= expected:
            return phrase
    words = []
    for name in sorted(expected):
        if name in _TERMINAL_WORDS:
            words.append(_TERMINAL_WORDS[name])
            continue
        literal = _literal(name)
        words.append(f"`{literal}`" if literal else name.lower())
    words = sorted(set(words))
    if len(words) == 1:
        return words[0]
    if len(words) <= 6:
        return ", ".join(words[:-1]) + " or " + words[-1]
    return ", ".join(words[:6]) + " or another clause"


def _literal(terminal: str) -> str | None:
    try:
        term = _lark().get_terminal(terminal)
    except KeyError:
        return None
    pattern = term.pattern
    if pattern.type == "str":
        return str(pattern.value)
    return None


def _expected_keywords(expected: set[str]) -> list[str]:
    out = []
    for name in expected:
        lit = _literal(name)
        if lit and lit.isidentifier():
            out.append(lit)
    return out


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the file"
    if tok.type == "STRING":
        return "a quoted text"
    if tok.type == "NAME":
        return f"name `{tok}`"
    lit = _literal(tok.type)
    if lit and lit.isidentifier():
        return f"keyword `{tok}`"
    return f"`{tok}`"


def _accepted(exc: UnexpectedToken) -> set[str]:
    """The terminals the parser would really accept where it stopped.

    LALR merges states, so ``exc.expected`` can list terminals that only a reduction would
    reject (``->`` after an input's range, say); trying each on a copy of the parser is exact.
    """
    expected = set(exc.expected)
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is None:
        return expected
    try:
        accepts = set(interactive.accepts())
    except Exception:  # the plain expected set is still a good answer
        return expected
    return accepts or expected


def _syntax_error(exc: UnexpectedInput, text: str, filename: str) -> Diagnostic:
    line = getattr(exc, "line", 0) or 0
    column = getattr(exc, "column", 0) or 0
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        span = ast.Span(filename, line, column, line, column + 1)
        if char == '"':
            return error("E001", "this quoted text is not closed on its line", span,
                         hint='close it with " on the same line; write \\n for a line break '
                              'or put two "..." "..." texts side by side')
        shown = repr(char) if not char.isprintable() or char.isspace() else f"`{char}`"
        return error("E001", f"unexpected character {shown}", span,
                     hint=f"expected {_expected_words(set(exc.allowed or ()))}")
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected: set[str] = _accepted(exc)
        if tok.type == "$END" and not text.strip():
            return error("E004", "the file is empty", ast.Span(filename, 1, 1, 1, 1),
                         hint='a guideline starts with `guideline <id> "title"`')
        if tok.type == "$END":
            last = text.rstrip().split("\n") or [""]
            end_line = max(1, len(last))
            span = ast.Span(filename, end_line, len(last[-1]) + 1, end_line, len(last[-1]) + 2)
            return error("E004", "the file ends too early", span,
                         hint=f"expected {_expected_words(expected)}")
        tok_span = _token_span(tok, filename)
        message = f"unexpected {_describe_token(tok)}"
        hint = f"expected {_expected_words(expected)}"
        arrows = [t for t in expected if _literal(t) == "->"]
        if arrows and len(expected) > 1:
            hint = "expected `->` and where the branch leads, e.g. `when <condition> -> <step>`"
        if tok.type == "COMPARE" and any(_literal(t) == ">=" for t in expected):
            hint = ("a range is written `0..100` (both ends included), `>= 0`, `> 0`, "
                    "`<= 10`, `< 10` or `> 0 and < 10` (then `step 10` for an integer, "
                    "`unit \"...\"` for a number)")
        notes: list[str] = []
        keywords = _expected_keywords(expected)
        if tok.type in ("NAME", "UNKNOWN") or str(tok).isidentifier():
            near = did_you_mean(str(tok), keywords)
            if near is None and not keywords:
                near = None
            if near is not None and near != str(tok):
                return error("E002", f"unexpected {_describe_token(tok)}: did you mean `{near}`?",
                             tok_span, hint=hint)
            if str(tok) in KEYWORDS and tok.type != "NAME":
                notes.append(f"`{tok}` is a keyword of the language and cannot be used here")
        return error("E002", message, tok_span, hint=hint, notes=notes)
    if isinstance(exc, UnexpectedEOF):
        span = ast.Span(filename, line, column, line, column + 1)
        return error("E004", "the file ends too early", span)
    span = ast.Span(filename, line, column, line, column + 1)
    return error("E002", "syntax error", span)


def check_syntax(text: str, filename: str = "<input>") -> list[Diagnostic]:
    """Parse and return the syntax diagnostics (empty when the text parses)."""
    try:
        parse(text, filename)
    except GuidecError as exc:
        return list(exc.diagnostics)
    return []


__all__ = ["GRAMMAR", "KEYWORDS", "RESERVED", "check_syntax", "expected_after", "parse",
           "parse_file"]
