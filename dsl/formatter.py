"""The canonical layout of guideline sources (`guidec fmt`).

``format_source(text)`` parses and prints a file so that ``parse(fmt(x)) == parse(x)``,
``fmt(fmt(x)) == fmt(x)`` and every comment is kept. The layout: two-space indentation, one
clause a line, lines of at most 100 columns where possible (a long text becomes adjacent
literals ``"..." "..."`` on continuation lines; a long condition breaks before a top-level
``and``/``or``). Comments on their own line stay before the clause that followed them; a
comment at the end of a line stays at the end of the clause that was on that line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dsl import ast
from dsl.parser import parse

WIDTH = 100
INDENT = "  "

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


@dataclass
class Piece:
    """One unit of a clause: ``text`` placed as a whole, or a splittable string."""

    text: str
    string: str | None = None


def s(value: str) -> Piece:
    """A splittable string piece."""
    return Piece(quote(value), value)


def w(text: str) -> Piece:
    """An atomic piece (keyword, name, list, expression part)."""
    return Piece(text)


def fill(first: str, pieces: list[Piece], cont: str) -> list[str]:
    """Lay ``pieces`` out after the prefix ``first``, wrapping onto lines that start with
    ``cont``; a text that does not fit is split at spaces into adjacent literals."""
    lines = [first]

    def sep(line: str) -> str:
        return "" if not line.strip() or line.endswith(("(", " ")) else " "

    def room() -> int:
        line = lines[-1]
        return WIDTH - len(line) - len(sep(line))

    def place(text: str) -> None:
        if len(text) > room() and lines[-1].strip() and lines[-1] != cont:
            lines.append(cont)
        lines[-1] += sep(lines[-1]) + text

    for p in pieces:
        if p.string is None or len(p.text) <= room() or len(cont) + len(p.text) <= WIDTH:
            place(p.text)
            continue
        parts = _chunks(p.string) or [""]
        if len(quote(parts[0])) > room() and lines[-1].strip() and lines[-1] != cont:
            lines.append(cont)
        current = ""
        for chunk in parts:
            if current and len(quote(current + chunk)) > room():
                lines[-1] += sep(lines[-1]) + quote(current)
                lines.append(cont)
                current = chunk
            else:
                current += chunk
        lines[-1] += sep(lines[-1]) + quote(current)
    return [ln.rstrip() for ln in lines]


# ----------------------------------------------------------------------------- expressions

_PREC = {ast.Or: 1, ast.And: 2, ast.Not: 3, ast.Compare: 4, ast.IsKnown: 4, ast.In: 4,
         ast.IsRecommended: 4, ast.Arith: 5, ast.Scale: 6}


def _prec(e: ast.Expr) -> int:
    return _PREC.get(type(e), 7)


def expr_text(e: ast.Expr) -> str:
    """An expression with the fewest parentheses that keep its tree."""

    def wrap(sub: ast.Expr, least: int) -> str:
        t = expr_text(sub)
        return f"({t})" if _prec(sub) < least else t

    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.Number):
        return e.text
    if isinstance(e, ast.Bool):
        return "true" if e.value else "false"
    if isinstance(e, ast.Or):
        return " or ".join(wrap(o, 2) for o in e.operands)
    if isinstance(e, ast.And):
        return " and ".join(wrap(o, 3) for o in e.operands)
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
    assert isinstance(e, ast.Scale)
    return f"{wrap(e.operand, 7)} * {e.factor.text}"


def _wrapped(e: ast.Expr, least: int) -> list[Piece]:
    pieces = expr_pieces(e)
    if _prec(e) >= least:
        return pieces
    return [w("(" + pieces[0].text), *pieces[1:-1], w(pieces[-1].text + ")")] \
        if len(pieces) > 1 else [w(f"({pieces[0].text})")]


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
        return out
    if isinstance(e, ast.Not):
        return lead("not", _wrapped(e.operand, 3))
    if isinstance(e, ast.Compare):
        return [*_wrapped(e.left, 5), *lead(e.op, _wrapped(e.right, 5))]
    if isinstance(e, ast.Arith):
        return [*_wrapped(e.left, 5), *lead(e.op, _wrapped(e.right, 6))]
    if isinstance(e, ast.In):
        names = [v.name for v in e.values]
        return [*_wrapped(e.operand, 5), *listed(names, "in (", ")")]
    if isinstance(e, ast.IsKnown):
        return [*_wrapped(e.operand, 5), w("is known" if e.known else "is unknown")]
    return [w(expr_text(e))]


def lead(word: str, pieces: list[Piece]) -> list[Piece]:
    """``pieces`` with ``word`` glued to the first, so a keyword never ends a line alone."""
    return [w(f"{word} {pieces[0].text}"), *pieces[1:]]


def _names(idents: Iterable[ast.Ident]) -> str:
    return ", ".join(i.name for i in idents)


def listed(words: list[str], before: str = "", after: str = "") -> list[Piece]:
    """A comma-separated list as pieces that may break after any comma."""
    out = [w(x + ("," if i + 1 < len(words) else "")) for i, x in enumerate(words)]
    if not out:
        return [w(before + after)] if before or after else []
    out[0] = w(before + out[0].text)
    out[-1] = w(out[-1].text + after)
    return out


def _cite(citations: tuple[ast.Ident, ...]) -> list[Piece]:
    return listed([c.name for c in citations], "cite ") if citations else []


def _value(v: ast.Number | ast.Bool | ast.Name) -> str:
    if isinstance(v, ast.Number):
        return v.text
    if isinstance(v, ast.Bool):
        return "true" if v.value else "false"
    return v.name


# ----------------------------------------------------------------------------- the printer


class Formatter:
    """Prints a guideline; comments are woven in by source line."""

    def __init__(self, comments: tuple[ast.Comment, ...], source: str | None) -> None:
        self.out: list[tuple[str, int, int]] = []  # text, source start line, end line
        lines = source.split("\n") if source is not None else []  # as the parser counts
        self.lines = lines
        self.own: list[ast.Comment] = []
        self.trailing: dict[int, ast.Comment] = {}
        for c in comments:
            before = lines[c.span.line - 1][: c.span.column - 1] if c.span.line <= len(lines) \
                else ""
            if before.strip():
                self.trailing[c.span.line] = c
            else:
                self.own.append(c)

    # -- output
    def flush(self, upto: int, indent: str) -> None:
        """Emit the own-line comments that come before source line ``upto``."""
        while self.own and self.own[0].span.line < upto:
            c = self.own.pop(0)
            before = c.span.line - 2  # keep one blank line the author left before a comment
            if 0 <= before < len(self.lines) and not self.lines[before].strip():
                self.blank()
            self.out.append((f"{indent}#{c.text}".rstrip(), c.span.line, c.span.line))
            after = c.span.line  # keep one blank line the author left after a comment
            if after < len(self.lines) and not self.lines[after].strip() and after + 1 < upto:
                self.blank()

    def emit(self, node: ast.Node, depth: int, lines: list[str],
             at: tuple[int, int] | None = None) -> None:
        """Emit the lines of one clause (already laid out) for ``node``; ``at`` is the source
        lines of a sub-clause (a header field, an action's `cite`, a step's `then`)."""
        start, end = at or (node.span.line, node.span.end_line)
        self.flush(start, INDENT * depth)
        for text in lines:
            self.out.append((text, start, end))

    def clause(self, node: ast.Node, depth: int, head: str, pieces: list[Piece],
               cont_depth: int | None = None, at: tuple[int, int] | None = None) -> None:
        """Lay out and emit ``head`` followed by ``pieces``."""
        indent = INDENT * depth
        cont = INDENT * (cont_depth if cont_depth is not None else max(depth + 1, 2))
        self.emit(node, depth, fill(indent + head, pieces, cont), at)

    def line_of(self, node: ast.Node, starts: str) -> int | None:
        """The source line, within ``node``, of the sub-clause that starts with ``starts``:
        sub-clauses carry no span of their own, and comments must stay beside them."""
        for ln in range(node.span.line + 1, node.span.end_line + 1):
            if ln <= len(self.lines) and self.lines[ln - 1].lstrip().startswith(starts):
                return ln
        return None

    def parts(self, node: ast.Node, starts: list[str]) -> list[tuple[int, int]]:
        """Source line ranges of ``node``'s head and of each sub-clause in ``starts`` (in order;
        a sub-clause not on a line of its own shares the line range before it)."""
        found = [self.line_of(node, s) for s in starts]
        bounds = [node.span.line] + [x for x in found if x is not None] + [node.span.end_line + 1]
        out: list[tuple[int, int]] = []
        current = (node.span.line, (sorted(bounds)[1] - 1) if len(bounds) > 2 else
                   node.span.end_line)
        out.append(current)
        for x in found:
            if x is None:
                out.append(out[-1])
                continue
            later = [b for b in bounds if b > x]
            out.append((x, (min(later) - 1) if later else node.span.end_line))
        return out

    def blank(self) -> None:
        """A blank line (never two in a row, never at the start)."""
        if self.out and self.out[-1][0] != "":
            self.out.append(("", 0, 0))

    def text(self) -> str:
        """The formatted file, with trailing comments placed at the end of their clause."""
        rows = [[text, start, end] for text, start, end in self.out]
        taken: set[int] = set()
        for line, c in sorted(self.trailing.items()):
            # The clause that starts latest while covering the comment's line owns it.
            owners = [i for i, (_, start, end) in enumerate(rows)
                      if isinstance(start, int) and isinstance(end, int)
                      and 0 < start <= line <= max(end, start)]
            owners = [i for i in owners if not str(rows[i][0]).lstrip().startswith("#")]
            if not owners:
                rows.append([f"#{c.text}".rstrip(), line, line])
                continue
            best = max(owners, key=lambda i: (rows[i][1], i))
            if best in taken:
                # A clause laid out anew keeps one trailing comment; the others follow it on
                # their own lines, indented like the next line (where a second pass puts them).
                where = max(i for i in owners if rows[i][1] == rows[best][1]) + 1
                while where < len(rows) and str(rows[where][0]).lstrip().startswith("#") and \
                        rows[where][1] == rows[where][2] and int(str(rows[where][1])) < line:
                    where += 1
                below = next((str(r[0]) for r in rows[where:] if str(r[0]).strip()), "")
                indent = below[: len(below) - len(below.lstrip())]
                rows.insert(where, [f"{indent}#{c.text}".rstrip(), line, line])
                taken = {i + 1 if i >= where else i for i in taken}
                continue
            taken.add(best)
            rows[best][0] = f"{rows[best][0]}  #{c.text}".rstrip()
        while rows and rows[-1][0] == "":
            rows.pop()
        return "\n".join(str(r[0]) for r in rows) + "\n"

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
        self.flush(10**9, "")

    def visit_Header(self, h: ast.Header, depth: int) -> None:
        names = [n for n in ("version", "status", "updated", "owner", "scope", "disclaimer")
                 if getattr(h, n) is not None]
        self.clause(h, depth, f"guideline {h.name.name}", [s(h.title)],
                    at=self.parts(h, names)[0])
        sub = depth + 1
        fields: list[tuple[str, list[Piece]]] = []
        if h.version is not None:
            fields.append(("version", [w(h.version)]))
        if h.status is not None:
            fields.append(("status", [w(h.status.name)]))
        if h.updated is not None:
            fields.append(("updated", [w(h.updated)]))
        for name in ("owner", "scope", "disclaimer"):
            value = getattr(h, name)
            if value is not None:
                fields.append((name, [s(value)]))
        spans = self.parts(h, [name for name, _ in fields])
        for (name, pieces), at in zip(fields, spans[1:], strict=True):
            self.clause(h, sub, name, pieces, sub + 1, at)

    def visit_Changelog(self, c: ast.Changelog, depth: int) -> None:
        self.clause(c, depth, f"changelog {c.version} {c.date}", [s(c.text)])

    def visit_Reference(self, r: ast.Reference, depth: int) -> None:
        head, source, url = self.parts(r, ["source" if r.source is not None else "year", "url"])
        self.clause(r, depth, f"reference {r.name.name} {r.kind.name}", [s(r.title)], at=head)
        pieces: list[Piece] = []
        if r.source is not None:
            pieces += [w("source"), s(r.source)]
        if r.year is not None:
            pieces.append(w(f"year {r.year}"))
        if pieces:
            self.clause(r, depth + 1, pieces[0].text, pieces[1:], at=source)
        if r.url is not None:
            self.clause(r, depth + 1, "url", [s(r.url)], at=url)
        for n in r.notes:
            self.visit(n, depth + 1)

    def visit_Note(self, n: ast.Note, depth: int) -> None:
        self.clause(n, depth, "note", [s(n.text), *_cite(n.citations)])

    def visit_Input(self, i: ast.Input, depth: int) -> None:
        t = i.type
        opt = "optional " if i.optional else ""
        if isinstance(t, ast.BooleanType):
            typ = [w(opt + "boolean")]
        elif isinstance(t, ast.EnumType):
            typ = listed([v.name for v in t.values], f"{opt}one of ")
        else:
            rng = ""
            if t.low is not None and t.high is not None:
                rng = f" {t.low.text}..{t.high.text}"
            elif t.low is not None:
                rng = f" >= {t.low.text}"
            elif t.high is not None:
                rng = f" <= {t.high.text}"
            if isinstance(t, ast.IntegerType):
                step = f" step {t.step.text}" if t.step is not None else ""
                typ = [w(f"{opt}integer{rng}{step}")]
            else:
                typ = [w(f"{opt}number{rng}")]
                if t.unit is not None:
                    typ += [w("unit"), s(t.unit)]
        label = quote(i.label) + ":"
        head = f"input {i.name.name} {label}"
        if len(head) + 1 + len(typ[0].text) <= WIDTH:
            self.clause(i, depth, head, typ)
        else:
            self.clause(i, depth, f"input {i.name.name}", [Piece(label, None), *typ])

    def visit_Assume(self, a: ast.Assume, depth: int) -> None:
        pieces = expr_pieces(a.condition)
        if a.unless is not None:
            pieces += lead("unless", expr_pieces(a.unless))
        self.clause(a, depth, "assume", pieces)
        if a.text is not None:
            self.clause(a, depth + 1, "", [s(a.text)])

    def visit_Let(self, lt: ast.Let, depth: int) -> None:
        head = f"let {lt.name.name}"
        label = [s(lt.label)] if lt.label is not None else []
        one = fill(INDENT * depth + head, [*label, w("="), *expr_pieces(lt.expr)], INDENT)
        if len(one) == 1:
            self.emit(lt, depth, one)
            return
        indent = INDENT * depth
        first = fill(indent + head, [*label, w("=")], indent + INDENT)
        rest = fill(indent + INDENT, expr_pieces(lt.expr), indent + INDENT * 2)
        self.emit(lt, depth, first + rest)

    def visit_Action(self, a: ast.Action, depth: int) -> None:
        pieces = [s(a.text)] + ([w(a.strength)] if a.strength else [])
        head, detail, cite = self.parts(a, ["detail", "cite"])
        self.clause(a, depth, f"action {a.name.name} {a.kind.name}", pieces, at=head)
        if a.detail is not None:
            self.clause(a, depth + 1, "detail", [s(a.detail)], at=detail)
        if a.citations:
            self.clause(a, depth + 1, "cite", listed([c.name for c in a.citations]), at=cite)

    def visit_Section(self, sec: ast.Section, depth: int) -> None:
        self.clause(sec, depth, f"section {sec.name.name}", [s(sec.title)])
        for p in sec.paragraphs:
            self.clause(p, depth + 1, "text", [s(p.text), *_cite(p.citations)])

    def visit_Pathway(self, p: ast.Pathway, depth: int) -> None:
        head, start = self.parts(p, ["start"])
        self.emit(p, depth, ["pathway"], head)
        self.clause(p, depth + 1, "start ->", listed([t.name for t in p.start]), at=start)
        for node in p.nodes:
            self.blank()
            self.visit(node, depth + 1)

    def visit_Step(self, st: ast.Step, depth: int) -> None:
        head, then = self.parts(st, ["then"])
        first_item = st.items[0].span.line - 1 if st.items else head[1]
        self.clause(st, depth, f"step {st.name.name}", [s(st.title)],
                    at=(head[0], min(head[1], first_item)))
        for it in st.items:
            self.visit(it, depth + 1)
        if st.then is not None:
            self.clause(st, depth + 1, "then ->", listed([t.name for t in st.then]), at=then)

    def visit_Recommend(self, r: ast.Recommend, depth: int) -> None:
        pieces = lead("when", expr_pieces(r.condition)) if r.condition is not None else []
        self.clause(r, depth, "recommend", [*listed([a.name for a in r.actions]), *pieces])

    def visit_Decide(self, d: ast.Decide, depth: int) -> None:
        pieces = [s(d.question)] + ([w(d.policy)] if d.policy else [])
        self.clause(d, depth, f"decide {d.name.name}", pieces)
        for n in d.notes:
            self.visit(n, depth + 1)
        for b in d.branches:
            self.visit(b, depth + 1)
        if d.otherwise is not None:
            self.visit(d.otherwise, depth + 1)

    def visit_Branch(self, b: ast.Branch, depth: int) -> None:
        pieces = [*expr_pieces(b.condition)]
        if b.label is not None:
            pieces.append(s(b.label))
        pieces += listed([t.name for t in b.targets], "-> ")
        self.clause(b, depth, "when", pieces)
        for n in b.notes:
            self.visit(n, depth + 1)

    def visit_Otherwise(self, o: ast.Otherwise, depth: int) -> None:
        pieces = [*([s(o.label)] if o.label is not None else []),
                  *listed([t.name for t in o.targets], "-> ")]
        self.clause(o, depth, "otherwise", pieces)
        for n in o.notes:
            self.visit(n, depth + 1)

    def visit_End(self, e: ast.End, depth: int) -> None:
        self.clause(e, depth, f"end {e.name.name}", [s(e.title)] if e.title is not None else [])

    def _rule(self, node: ast.Node, depth: int, head: list[Piece], reason: str,
              citations: tuple[ast.Ident, ...]) -> None:
        first, second = self.parts(node, ['"'])
        self.clause(node, depth, head[0].text, head[1:], at=first)
        self.clause(node, depth + 1, "", [s(reason), *_cite(citations)], at=second)

    def visit_Never(self, n: ast.Never, depth: int) -> None:
        head = [w(f"never {n.action.name}")]
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
        self.clause(c, depth + 1, "when", [*expr_pieces(c.condition), *_cite(c.citations)])

    def _assignments(self, values: tuple[ast.Assignment, ...]) -> list[Piece]:
        texts = [f"{a.key.name} = {_value(a.value)}" for a in values]
        return [w(t + ("," if i + 1 < len(texts) else "")) for i, t in enumerate(texts)]

    def visit_Patient(self, p: ast.Patient, depth: int) -> None:
        first = p.values[0].span.line if p.values else p.span.end_line
        self.clause(p, depth, f"patient {p.name.name}",
                    [s(p.description)] if p.description is not None else [],
                    at=(p.span.line, max(p.span.line, first - 1)))
        self.clause(p, depth + 1, "", self._assignments(p.values),
                    at=(first, p.span.end_line))

    def visit_Case(self, c: ast.Case, depth: int) -> None:
        pieces = [s(c.title)]
        if c.base is not None:
            pieces.append(w(f"from {c.base.name}"))
        if c.values:
            pieces += lead("with", self._assignments(c.values))
        self.clause(c, depth, "case", pieces, depth + 2)
        for e in c.expectations:
            self.visit(e, depth + 1)

    def visit_Expect(self, e: ast.Expect, depth: int) -> None:
        words = {"some": "expect", "none": "expect no", "only": "expect only",
                 "pending": "expect pending", "pending_at": "expect pending at",
                 "caution": "expect caution", "path": "expect path"}[e.kind]
        names = [w(n.name + ("," if i + 1 < len(e.names) else ""))
                 for i, n in enumerate(e.names)]
        if e.kind == "only" and not e.names:
            names = [w("nothing")]
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
