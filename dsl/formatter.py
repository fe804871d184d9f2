"""The canonical layout of guideline sources (`guidec fmt`).

``format_source(text)`` parses and prints a file so that ``parse(fmt(x)) == parse(x)``,
``fmt(fmt(x)) == fmt(x)`` and every comment is kept, in its order. The layout: two-space
indentation, one clause a line, lines of at most 100 columns where possible (a long text
becomes adjacent literals ``"..." "..."`` on continuation lines; a long condition breaks
before ``and``/``or`` and other operators).

Comments are placed by source position, not by source line. Each printed line is made of
pieces (a keyword, a name, a text, part of a condition), and each piece knows the span of
the source tokens it prints (a text's span comes with it: :class:`dsl.ast.Text`); a piece
that prints only keywords may know none. Taking the comments in source order:

1. a comment inside a piece (between two literals of one text, inside a parenthesised
   condition printed as one piece) goes on its own line before the line that piece starts on;
2. a comment after code on its source line ends the line that prints the last piece before
   it, unless that line also prints code written after the comment (a clause joined onto one
   line): then it goes on its own line before that line;
3. any other comment goes on its own line before the line that prints the first piece after
   it (at the end of the file if there is none);
4. no comment goes between two lines of one text split over lines, nor after a line of
   keywords only (`detail` when its text does not fit beside it): it moves before the first
   of those lines;
5. a comment never goes before one placed earlier: it moves down, onto its own line, just
   after that one (so a line keeps one end-of-line comment; the next follows on its own line).

The output satisfies these rules with every comment where it is, which makes formatting
idempotent. An own-line comment is indented like the line it precedes and keeps one blank
line the author left before or after it; the blank lines between items come first.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dsl import ast
from dsl.parser import parse

WIDTH = 100
INDENT = "  "

#: A source position (line, column), as spans count them.
Pos = tuple[int, int]
#: The source positions a piece prints, start and end (exclusive), when known.
At = tuple[Pos, Pos] | None

# ----------------------------------------------------------------------------- pieces


def quote(text: str) -> str:
    """A text as one string literal; line and paragraph separators and controls escaped."""
    out = json.dumps(text, ensure_ascii=False)
    return (out.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
            .replace("\u0085", "\\u0085"))


def _chunks(text: str) -> list[str]:
    """Words with their trailing spaces, the units a long text is split into."""
    out: list[str] = []
    word = ""
    for i, ch in enumerate(text):
        word += ch
        if ch == " " and (i + 1 == len(text) or text[i + 1] != " "):
            out.append(word)
            word = ""
    if word:
        out.append(word)
    return out


def at(x: ast.Node | ast.Span | str | None) -> At:
    """Where a node, a span or a parsed text was written (None when not known)."""
    span = x if isinstance(x, ast.Span) else getattr(x, "span", None)
    if not isinstance(span, ast.Span) or span.line <= 0:
        return None
    return (span.line, span.column), (span.end_line, span.end_column)


def first_word(node: ast.Node, word: str) -> At:
    """Where the keyword ``word`` that starts ``node`` was written."""
    span = node.span
    if span.line <= 0:
        return None
    return (span.line, span.column), (span.line, span.column + len(word))


def last_word(node: ast.Node, word: str) -> At:
    """Where the keyword ``word`` that ends ``node`` was written."""
    span = node.span
    if span.line <= 0:
        return None
    return (span.end_line, span.end_column - len(word)), (span.end_line, span.end_column)


@dataclass
class Piece:
    """One unit of a clause: ``text`` placed as a whole, or a splittable string; ``at`` is
    where its tokens were in the source."""

    text: str
    string: str | None = None
    at: At = None
    #: Printed right after the string, even when it is split (the `:` after an input's label).
    suffix: str = ""


def s(value: str) -> Piece:
    """A splittable string piece."""
    return Piece(quote(value), value, at(value))


def w(text: str, where: At = None) -> Piece:
    """An atomic piece (keyword, name, list, expression part)."""
    return Piece(text, None, where)


@dataclass
class Line:
    """One printed line: its text, where its pieces were in the source, and whether it is
    bound to the next line (a text split over both, or keywords only), with no comment
    between them."""

    text: str
    ats: list[tuple[Pos, Pos]] = field(default_factory=list)
    crosses: bool = False


def fill(first: str, pieces: list[Piece], cont: str, head: At = None) -> list[Line]:
    """Lay ``pieces`` out after the prefix ``first`` (whose source position is ``head``),
    wrapping onto lines that start with ``cont``; a text that does not fit is split at spaces
    into adjacent literals."""
    lines = [Line(first, [head] if head else [])]

    def sep(line: str) -> str:
        return "" if not line.strip() or line.endswith(("(", " ")) else " "

    def room() -> int:
        line = lines[-1].text
        return WIDTH - len(line) - len(sep(line))

    def wrap() -> None:
        if lines[-1].text.strip() and lines[-1].text != cont:
            lines.append(Line(cont))

    def put(text: str, where: At) -> None:
        line = lines[-1]
        line.text += sep(line.text) + text
        if where and where not in line.ats:
            line.ats.append(where)

    for p in pieces:
        if p.string is None or len(p.text) <= room() or len(cont) + len(p.text) <= WIDTH:
            if len(p.text) > room():
                wrap()
            put(p.text, p.at)
            continue
        parts = _chunks(p.string) or [""]
        if len(quote(parts[0])) > room():
            wrap()
        current = ""
        for k, chunk in enumerate(parts):
            tail = len(p.suffix) if k + 1 == len(parts) else 0
            if current and len(quote(current + chunk)) + tail > room():
                put(quote(current), p.at)
                lines[-1].crosses = True
                lines.append(Line(cont))
                current = chunk
            else:
                current += chunk
        put(quote(current) + p.suffix, p.at)
    for i, line in enumerate(lines):
        line.text = line.text.rstrip()
        # A line of keywords only (`detail` when its text does not fit beside it) holds no
        # comment of its own: it stays with the line that follows.
        line.crosses = line.crosses or (not line.ats and i + 1 < len(lines))
    return lines


# ----------------------------------------------------------------------------- expressions

# Binding strength, loosest first: implies, or, xor, and, not, comparisons, sums, products.
_PREC = {ast.Implies: 0.0, ast.Or: 1.0, ast.Xor: 1.5, ast.And: 2.0, ast.Not: 3.0,
         ast.Compare: 4.0, ast.IsKnown: 4.0, ast.In: 4.0, ast.Between: 4.0, ast.Has: 4.0,
         ast.IsRecommended: 4.0, ast.Arith: 5.0, ast.Scale: 6.0, ast.Divide: 6.0}


def _prec(e: ast.Expr) -> float:
    if isinstance(e, ast.And) and e.parens:
        return 7.0  # the author's parentheses are printed by expr_text/expr_pieces
    return _PREC.get(type(e), 7.0)


def range_text(t: ast.IntegerType | ast.NumberType) -> str:
    """An input's range as written: ` 0..100`, ` > 0`, ` >= 0 and < 10`, or ""."""
    if t.low is not None and t.high is not None and not t.low_open and not t.high_open:
        return f" {t.low.text}..{t.high.text}"
    out = ""
    if t.low is not None:
        out = f" {'>' if t.low_open else '>='} {t.low.text}"
    if t.high is not None:
        out += (" and" if out else "") + f" {'<' if t.high_open else '<='} {t.high.text}"
    return out


def expr_text(e: ast.Expr) -> str:
    """An expression with the fewest parentheses that keep its tree."""

    def wrap(sub: ast.Expr, least: float) -> str:
        t = expr_text(sub)
        return f"({t})" if _prec(sub) < least else t

    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.Number):
        return number_text(e)
    if isinstance(e, ast.Moment):
        return e.text
    if isinstance(e, ast.Elapsed):
        return f"{e.unit} between {wrap(e.start, 7)} and {wrap(e.end, 7)}"
    if isinstance(e, ast.Bool):
        return "true" if e.value else "false"
    if isinstance(e, ast.Or):
        return " or ".join(wrap(o, 2) for o in e.operands)
    if isinstance(e, ast.And):
        inner = " and ".join(wrap(o, 3) for o in e.operands)
        return f"({inner})" if e.parens else inner
    if isinstance(e, ast.Implies):
        return f"{wrap(e.left, 1)} implies {wrap(e.right, 1)}"
    if isinstance(e, ast.Xor):
        return f"{wrap(e.left, 2)} xor {wrap(e.right, 2)}"
    if isinstance(e, ast.Between):
        return f"{wrap(e.operand, 5)} between {wrap(e.low, 5)} and {wrap(e.high, 5)}"
    if isinstance(e, ast.Has):
        if e.mode == "one":
            return f"{wrap(e.operand, 5)} has {e.values[0].name}"
        return f"{wrap(e.operand, 5)} has {e.mode} of ({_names(e.values)})"
    if isinstance(e, ast.Divide):
        return f"{wrap(e.operand, 7)} / {wrap(e.divisor, 7)}"
    if isinstance(e, ast.Not):
        return "not " + wrap(e.operand, 3)
    if isinstance(e, ast.Compare):
        return f"{wrap(e.left, 5)} {e.op} {wrap(e.right, 5)}"
    if isinstance(e, ast.IsKnown):
        return f"{wrap(e.operand, 5)} is {'known' if e.known else 'unknown'}"
    if isinstance(e, ast.IsRecommended):
        return f"{e.action.name} is recommended"
    if isinstance(e, ast.In):
        return f"{wrap(e.operand, 5)} in ({', '.join(v.name for v in e.values)})"
    if isinstance(e, ast.Arith):
        return f"{wrap(e.left, 5)} {e.op} {wrap(e.right, 6)}"
    if isinstance(e, ast.Points):
        items = ", ".join(f"{p.weight.text} if {expr_text(p.condition)}" +
                          (f" {quote(p.label)}" if p.label is not None else "")
                          for p in e.items)
        return f"points ({items})"
    assert isinstance(e, ast.Scale), type(e)
    return f"{wrap(e.operand, 7)} * {e.factor.text}"


def _wrapped(e: ast.Expr, least: float) -> list[Piece]:
    pieces = expr_pieces(e)
    if _prec(e) >= least:
        return pieces
    return _parenthesised(pieces)


def _parenthesised(pieces: list[Piece]) -> list[Piece]:
    if len(pieces) == 1:
        return [w(f"({pieces[0].text})", pieces[0].at)]
    return [w("(" + pieces[0].text, pieces[0].at), *pieces[1:-1],
            w(pieces[-1].text + ")", pieces[-1].at)]


#: A comparison this short is never broken across lines: `a\n    < b` reads badly.
_WHOLE = 40


def expr_pieces(e: ast.Expr) -> list[Piece]:
    """An expression as pieces that may break before `and`/`or`, `+`/`-`, comparison operators
    and after commas, at any depth; joined with spaces they read as :func:`expr_text`."""
    if isinstance(e, (ast.Or, ast.And)):
        word = "or" if isinstance(e, ast.Or) else "and"
        least = 2 if isinstance(e, ast.Or) else 3
        out = _wrapped(e.operands[0], least)
        for o in e.operands[1:]:
            more = _wrapped(o, least)
            out += lead(word, more)
        if isinstance(e, ast.And) and e.parens:
            return _parenthesised(out)
        return out
    if isinstance(e, ast.Implies):
        return [*_wrapped(e.left, 1), *lead("implies", _wrapped(e.right, 1))]
    if isinstance(e, ast.Xor):
        return [*_wrapped(e.left, 2), *lead("xor", _wrapped(e.right, 2))]
    if isinstance(e, ast.Between):
        return [*_wrapped(e.operand, 5), *lead("between", _wrapped(e.low, 5)),
                *lead("and", _wrapped(e.high, 5))]
    if isinstance(e, ast.Not):
        return lead("not", _wrapped(e.operand, 3))
    if isinstance(e, ast.Compare):
        if len(expr_text(e)) <= _WHOLE:
            return [w(expr_text(e), at(e))]
        return [*_wrapped(e.left, 5), *lead(e.op, _wrapped(e.right, 5))]
    if isinstance(e, ast.Arith):
        return [*_wrapped(e.left, 5), *lead(e.op, _wrapped(e.right, 6))]
    if isinstance(e, ast.In):
        return [*_wrapped(e.operand, 5), *listed(e.values, "in (", ")")]
    if isinstance(e, ast.Has) and e.mode != "one":
        return [*_wrapped(e.operand, 5), *listed(e.values, f"has {e.mode} of (", ")")]
    if isinstance(e, ast.IsKnown):
        word = "known" if e.known else "unknown"
        return [*_wrapped(e.operand, 5), w(f"is {word}", last_word(e, word))]
    return [w(expr_text(e), at(e))]


def lead(word: str, pieces: list[Piece]) -> list[Piece]:
    """``pieces`` with ``word`` glued to the first, so a keyword never ends a line alone."""
    return [w(f"{word} {pieces[0].text}", pieces[0].at), *pieces[1:]]


def _names(idents: Iterable[ast.Ident]) -> str:
    return ", ".join(i.name for i in idents)


def listed(idents: Iterable[ast.Ident], before: str = "", after: str = "") -> list[Piece]:
    """A comma-separated list of names as pieces that may break after any comma."""
    names = list(idents)
    out = [w(x.name + ("," if i + 1 < len(names) else ""), at(x)) for i, x in enumerate(names)]
    if not out:
        return [w(before + after)] if before or after else []
    out[0] = w(before + out[0].text, out[0].at)
    out[-1] = w(out[-1].text + after, out[-1].at)
    return out


def _cite(citations: tuple[ast.Ident, ...]) -> list[Piece]:
    return listed(citations, "cite ") if citations else []


#: Durations are printed with the language's words (`4.5 hours`), other units as UCUM codes.
_DURATIONS = {"min": "minutes", "h": "hours", "d": "days", "wk": "weeks"}


def number_text(n: ast.Number) -> str:
    """A number as written, with its unit when it is a quantity (`7 'mmol/L'`, `4.5 hours`)."""
    if n.unit is None:
        return n.text
    if n.unit in _DURATIONS:
        return f"{n.text} {_DURATIONS[n.unit]}"
    return f"{n.text} '{n.unit}'"


def _value(v: ast.Number | ast.Bool | ast.Name | ast.SetValue | ast.Moment) -> str:
    if isinstance(v, ast.Moment):
        return v.text
    if isinstance(v, ast.Number):
        return number_text(v)
    if isinstance(v, ast.SetValue):
        return "(" + _names(v.values) + ")"
    if isinstance(v, ast.Bool):
        return "true" if v.value else "false"
    return v.name


# ----------------------------------------------------------------------------- the printer


class Formatter:
    """Prints a guideline line by line; :meth:`text` then places the comments (see the
    module's docstring)."""

    def __init__(self, comments: tuple[ast.Comment, ...], source: str | None) -> None:
        self.out: list[Line] = []
        self.comments = comments
        self.lines = source.split("\n") if source is not None else []  # as the parser counts

    # -- output
    def add(self, lines: list[Line]) -> None:
        """Emit laid-out lines."""
        self.out += lines

    def clause(self, node: ast.Node, depth: int, head: str, pieces: list[Piece],
               cont_depth: int | None = None, own: bool = True) -> None:
        """Lay out and emit ``head`` followed by ``pieces``; ``own`` says the head starts with
        the keyword that starts ``node`` (rather than a sub-clause's keyword)."""
        indent = INDENT * depth
        cont = INDENT * (cont_depth if cont_depth is not None else max(depth + 1, 2))
        where = first_word(node, head.split()[0]) if own and head else None
        self.add(fill(indent + head, pieces, cont, where))

    def blank(self) -> None:
        """A blank line between items (never two in a row, never at the start)."""
        if self.out and self.out[-1].text != "":
            self.out.append(Line(""))

    def _trailing(self, c: ast.Comment) -> bool:
        """Whether code precedes the comment on its source line."""
        line = self.lines[c.span.line - 1] if 0 < c.span.line <= len(self.lines) else ""
        return bool(line[: c.span.column - 1].strip())

    def _blank_source_line(self, number: int) -> bool:
        return 0 < number <= len(self.lines) and not self.lines[number - 1].strip()

    def text(self) -> str:
        """The formatted file, with the comments placed (the module's rules 1-5)."""
        rows = self.out
        first: dict[tuple[Pos, Pos], int] = {}
        last: dict[tuple[Pos, Pos], int] = {}
        for r, row in enumerate(rows):
            for where in row.ats:
                first.setdefault(where, r)
                last[where] = r
        pieces = sorted(first)
        starts = [p[0] for p in pieces]

        def before(r: int) -> int:
            """The row an own-line comment meant to precede row ``r`` goes before: past blank
            lines (the blank lines between items come first), and not inside a split text."""
            while r < len(rows) and not rows[r].text:
                r += 1
            while 0 < r <= len(rows) and rows[r - 1].crosses:
                r -= 1
            return r

        above: dict[int, list[tuple[ast.Comment, bool]]] = {}  # row -> own-line comments
        ends: dict[int, ast.Comment] = {}  # row -> its end-of-line comment
        done = (-1, 0)  # the slot of the previous comment: (row, 0 above it | 1 at its end)
        for c in self.comments:
            pos = (c.span.line, c.span.column)
            i = bisect_left(starts, pos)
            prev = pieces[i - 1] if i else None
            trailing = self._trailing(c)
            if prev is not None and pos < prev[1]:
                slot = (before(first[prev]), 0)
            elif trailing and prev is not None:
                r = last[prev]
                joined = rows[r].crosses or any(pos < where[0] for where in rows[r].ats)
                slot = (before(r), 0) if joined else (r, 1)
            else:
                slot = (before(first[pieces[i]]) if i < len(pieces) else len(rows), 0)
            if slot < done or (slot == done and slot[1] == 1):
                slot = done if done[1] == 0 else (before(done[0] + 1), 0)
            done = slot
            if slot[1] == 1:
                ends[slot[0]] = c
            else:
                above.setdefault(slot[0], []).append((c, not trailing))

        out: list[str] = []

        def blank() -> None:
            if out and out[-1] != "":
                out.append("")

        for r in range(len(rows) + 1):
            if r < len(rows) and not rows[r].text:
                blank()
                continue
            code = rows[r].text if r < len(rows) else ""
            indent = code[: len(code) - len(code.lstrip())]
            for c, alone in above.get(r, ()):
                # One blank line the author left before or after an own-line comment stays.
                if alone and self._blank_source_line(c.span.line - 1):
                    blank()
                out.append(f"{indent}#{c.text}".rstrip())
                if alone and self._blank_source_line(c.span.line + 1):
                    blank()
            if r < len(rows):
                c_end = ends.get(r)
                out.append(f"{code}  #{c_end.text}".rstrip() if c_end is not None else code)
        while out and out[-1] == "":
            out.pop()
        return "\n".join(out) + "\n"

    # -- dispatch (one visitor method per node class)
    def visit(self, node: ast.Node, depth: int = 0) -> None:
        """Print ``node`` by calling ``visit_<ClassName>``."""
        method: Callable[[ast.Node, int], None] = getattr(self, f"visit_{type(node).__name__}")
        method(node, depth)

    def visit_Guideline(self, g: ast.Guideline, depth: int) -> None:
        self.visit(g.header, depth)
        previous: type | None = type(g.header)
        for item in g.items:
            grouped = (ast.Changelog, ast.Reference, ast.Input, ast.Action, ast.Assume, ast.Let,
                       ast.Allow, ast.Never, ast.Require, ast.Conflict, ast.Caution)
            if type(item) is not previous or not isinstance(item, grouped):
                self.blank()
            self.visit(item, depth)
            previous = type(item)

    def visit_Header(self, h: ast.Header, depth: int) -> None:
        self.clause(h, depth, f"guideline {h.name.name}", [s(h.title)])
        sub = depth + 1
        fields: list[tuple[str, list[Piece]]] = []
        if h.version is not None:
            fields.append(("version", [w(h.version, at(h.version))]))
        if h.status is not None:
            fields.append(("status", [w(h.status.name, at(h.status))]))
        if h.updated is not None:
            fields.append(("updated", [w(h.updated, at(h.updated))]))
        for name in ("owner", "scope", "disclaimer", "source", "banner"):
            value = getattr(h, name)
            if value is not None:
                fields.append((name, [s(value)]))
        for name, pieces in fields:
            self.clause(h, sub, name, pieces, sub + 1, own=False)

    def visit_Changelog(self, c: ast.Changelog, depth: int) -> None:
        self.clause(c, depth, f"changelog {c.version} {c.date}", [s(c.text)])

    def visit_Reference(self, r: ast.Reference, depth: int) -> None:
        self.clause(r, depth, f"reference {r.name.name} {r.kind.name}", [s(r.title)])
        pieces: list[Piece] = []
        if r.source is not None:
            pieces += [w("source"), s(r.source)]
        if r.label is not None:
            pieces += [w("label"), s(r.label)]
        if r.year is not None:
            pieces.append(w(f"year {r.year}", at(r.year_at)))
        if pieces:
            self.clause(r, depth + 1, "", pieces, own=False)
        if r.url is not None:
            self.clause(r, depth + 1, "url", [s(r.url)], own=False)
        for n in r.notes:
            self.visit(n, depth + 1)

    def visit_Note(self, n: ast.Note, depth: int) -> None:
        self.clause(n, depth, "note", [s(n.text), *_cite(n.citations)])

    def visit_Input(self, i: ast.Input, depth: int) -> None:
        t = i.type
        opt = "optional " if i.optional else ""
        if isinstance(t, ast.BooleanType):
            typ = [w(opt + "boolean", at(t))]
        elif isinstance(t, ast.DateType):
            typ = [w(opt + ("datetime" if t.with_time else "date"), at(t))]
        elif isinstance(t, ast.EnumType):
            typ = listed(t.values, f"{opt}one of ")
        elif isinstance(t, ast.SetType):
            typ = listed(t.values, f"{opt}set of ")
        else:
            rng = range_text(t)
            typical = [w(f"typical {t.typical_low.text}..{t.typical_high.text}",
                         at(t.typical_low))] if t.typical_low is not None and \
                t.typical_high is not None else []
            units: list[Piece] = []
            if t.unit is not None:
                units = [w(f"unit '{t.unit}'", at(t.unit))] if t.ucum else \
                    [w("unit"), s(t.unit)]
            units += [w(f"convert {number_text(c)}", at(c)) for c in t.conversions]
            if isinstance(t, ast.IntegerType):
                step = f" step {t.step.text}" if t.step is not None else ""
                typ = [w(f"{opt}integer{rng}{step}", at(t)), *units, *typical]
            else:
                # The unit is a piece of its own, so this one ends with the range.
                bound = t.high or t.low
                where = first_word(t, "number")
                if bound is not None and where is not None and bound.span.line > 0:
                    where = where[0], (bound.span.end_line, bound.span.end_column)
                typ = [w(f"{opt}number{rng}", where), *units, *typical]
        if i.default is not None:
            typ.append(w(f"default {_value(i.default)}", at(i.default)))
        label = quote(i.label) + ":"
        head = f"input {i.name.name} {label}"
        if len(head) + 1 + len(typ[0].text) <= WIDTH:
            self.clause(i, depth, head, typ)
        else:
            self.clause(i, depth, f"input {i.name.name}",
                        [Piece(label, i.label, at(i.label), ":"), *typ])

    def visit_Assume(self, a: ast.Assume, depth: int) -> None:
        pieces = expr_pieces(a.condition)
        if a.unless is not None:
            pieces += lead("unless", expr_pieces(a.unless))
        self.clause(a, depth, "assume", pieces)
        if a.text is not None:
            self.clause(a, depth + 1, "", [s(a.text)], own=False)

    def visit_Let(self, lt: ast.Let, depth: int) -> None:
        head = f"let {lt.name.name}"
        label = [s(lt.label)] if lt.label is not None else []
        where = first_word(lt, "let")
        if isinstance(lt.expr, ast.Points):
            # A score reads as the committee's table: one criterion per line.
            indent = INDENT * depth
            lines = fill(indent + head, [*label, w("="), w("points (")], indent + INDENT, where)
            items = lt.expr.items
            for k, p in enumerate(items):
                comma = "," if k + 1 < len(items) else ""
                pieces = expr_pieces(p.condition)
                if p.label is not None:
                    # With its comma, the label is placed whole (a criterion's label is short).
                    pieces.append(w(quote(p.label) + comma, at(p.label)))
                else:
                    pieces[-1] = Piece(pieces[-1].text + comma, None, pieces[-1].at)
                lines += fill(indent + INDENT + f"{p.weight.text} if", pieces,
                              indent + INDENT * 2, at(p.weight))
            lines += fill(indent + ")", [], indent, last_word(lt.expr, ")"))
            self.add(lines)
            return
        one = fill(INDENT * depth + head, [*label, w("="), *expr_pieces(lt.expr)], INDENT, where)
        if len(one) == 1:
            self.add(one)
            return
        indent = INDENT * depth
        first = fill(indent + head, [*label, w("=")], indent + INDENT, where)
        rest = fill(indent + INDENT, expr_pieces(lt.expr), indent + INDENT * 2)
        self.add(first + rest)

    def visit_Action(self, a: ast.Action, depth: int) -> None:
        pieces = [s(a.text)] + ([w(a.strength, at(a.strength))] if a.strength else [])
        if a.against:
            pieces.append(w("against"))
        self.clause(a, depth, f"action {a.name.name} {a.kind.name}", pieces)
        if a.certainty is not None:
            self.clause(a, depth + 1, "certainty", [w(a.certainty.name, at(a.certainty))],
                        own=False)
        if a.good_practice:
            self.clause(a, depth + 1, "good_practice", [], own=False)
        if a.short is not None:
            self.clause(a, depth + 1, "short", [s(a.short)], own=False)
        if a.detail is not None:
            self.clause(a, depth + 1, "detail", [s(a.detail)], own=False)
        if a.citations:
            self.clause(a, depth + 1, "cite", listed(a.citations), own=False)

    def visit_Section(self, sec: ast.Section, depth: int) -> None:
        self.clause(sec, depth, f"section {sec.name.name}", [s(sec.title)])
        for p in sec.paragraphs:
            self.clause(p, depth + 1, "text", [s(p.text), *_cite(p.citations)])

    def visit_Pathway(self, p: ast.Pathway, depth: int) -> None:
        self.clause(p, depth, "pathway", [])
        self.clause(p, depth + 1, "start ->", listed(p.start), own=False)
        for node in p.nodes:
            self.blank()
            self.visit(node, depth + 1)

    def visit_Step(self, st: ast.Step, depth: int) -> None:
        self.clause(st, depth, f"step {st.name.name}", [s(st.title)])
        if st.page is not None:
            self.visit(st.page, depth + 1)
        for it in st.items:
            self.visit(it, depth + 1)
        if st.then is not None:
            self.clause(st, depth + 1, "then ->", listed(st.then), own=False)

    def visit_Recommend(self, r: ast.Recommend, depth: int) -> None:
        pieces = lead("when", expr_pieces(r.condition)) if r.condition is not None else []
        if r.label is not None:
            pieces.append(s(r.label))
        self.clause(r, depth, "recommend", [*listed(r.actions), *pieces])

    def visit_Decide(self, d: ast.Decide, depth: int) -> None:
        pieces = [s(d.question)] + ([w(d.policy, at(d.policy))] if d.policy else [])
        self.clause(d, depth, f"decide {d.name.name}", pieces)
        if d.page is not None:
            self.visit(d.page, depth + 1)
        for n in d.notes:
            self.visit(n, depth + 1)
        for b in d.branches:
            self.visit(b, depth + 1)
        if d.otherwise is not None:
            self.visit(d.otherwise, depth + 1)

    def visit_Page(self, p: ast.Page, depth: int) -> None:
        self.clause(p, depth, "page", [s(p.title)] if p.title is not None else [])

    def visit_Branch(self, b: ast.Branch, depth: int) -> None:
        pieces = [*expr_pieces(b.condition)]
        if b.label is not None:
            pieces.append(s(b.label))
        pieces += listed(b.targets, "-> ")
        self.clause(b, depth, "when", pieces)
        for n in b.notes:
            self.visit(n, depth + 1)

    def visit_Otherwise(self, o: ast.Otherwise, depth: int) -> None:
        pieces = [*([s(o.label)] if o.label is not None else []),
                  *listed(o.targets, "-> ")]
        self.clause(o, depth, "otherwise", pieces)
        for n in o.notes:
            self.visit(n, depth + 1)

    def visit_End(self, e: ast.End, depth: int) -> None:
        self.clause(e, depth, f"end {e.name.name}", [s(e.title)] if e.title is not None else [])

    def _rule(self, node: ast.Node, depth: int, head: list[Piece], reason: str,
              citations: tuple[ast.Ident, ...]) -> None:
        self.clause(node, depth, head[0].text, head[1:])
        self.clause(node, depth + 1, "", [s(reason), *_cite(citations)], own=False)

    def visit_Never(self, n: ast.Never, depth: int) -> None:
        head = [w("never"), *listed(n.actions)]
        if n.condition is not None:
            head += lead("when", expr_pieces(n.condition))
        self._rule(n, depth, head, n.reason, n.citations)

    def visit_Require(self, r: ast.Require, depth: int) -> None:
        head = [w(f"require {r.action.name}"), *lead("when", expr_pieces(r.condition))]
        self._rule(r, depth, head, r.reason, r.citations)

    def visit_Conflict(self, c: ast.Conflict, depth: int) -> None:
        self._rule(c, depth, [w(f"conflict {c.first.name}, {c.second.name}")], c.reason,
                   c.citations)

    def visit_Caution(self, c: ast.Caution, depth: int) -> None:
        self.clause(c, depth, f"caution {c.name.name}", [s(c.text)])
        self.clause(c, depth + 1, "when", [*expr_pieces(c.condition), *_cite(c.citations)],
                    own=False)

    def _assignments(self, values: tuple[ast.Assignment, ...]) -> list[Piece]:
        return [w(f"{a.key.name} = {_value(a.value)}" + ("," if i + 1 < len(values) else ""),
                  at(a)) for i, a in enumerate(values)]

    def visit_Patient(self, p: ast.Patient, depth: int) -> None:
        self.clause(p, depth, f"patient {p.name.name}",
                    [s(p.description)] if p.description is not None else [])
        self.clause(p, depth + 1, "", self._assignments(p.values), own=False)

    def visit_Case(self, c: ast.Case, depth: int) -> None:
        pieces = [s(c.title)]
        if c.base is not None:
            pieces.append(w(f"from {c.base.name}", at(c.base)))
        if c.values:
            pieces += lead("with", self._assignments(c.values))
        self.clause(c, depth, "case", pieces, depth + 2)
        for e in c.expectations:
            self.visit(e, depth + 1)

    def visit_Expect(self, e: ast.Expect, depth: int) -> None:
        words = {"some": "expect", "none": "expect no", "only": "expect only",
                 "pending": "expect pending", "pending_at": "expect pending at",
                 "caution": "expect caution", "path": "expect path"}[e.kind]
        names = [w(n.name + ("," if i + 1 < len(e.names) else ""), at(n))
                 for i, n in enumerate(e.names)]
        if e.kind in ("only", "pending") and not e.names:
            names = [w("nothing", last_word(e, "nothing"))]
        self.clause(e, depth, words, names, depth + 2)

    def visit_Allow(self, a: ast.Allow, depth: int) -> None:
        self.clause(a, depth, f"allow {a.code.name} at {a.node.name}", [s(a.reason)])


def format_guideline(g: ast.Guideline, source: str | None = None) -> str:
    """Print a syntax tree canonically (comments need ``source`` to tell trailing ones)."""
    f = Formatter(g.comments, source)
    f.visit(g)
    return f.text()


def format_source(text: str, filename: str = "<input>") -> str:
    """Parse and print a source canonically; raises GuidecError on a syntax error."""
    return format_guideline(parse(text, filename), text)
