"""Small helpers that write Python source safely: string literals that no text can break out
of, comments without line breaks, and expressions wrapped to the 100-column limit.

Used by :mod:`targets.python`; nothing here knows about guidelines.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The column limit of generated code (the project's ruff setting).
WIDTH = 100

# Operator precedence of generated expressions, loosest first.
OR, AND, NOT, CMP, ADD, MUL, ATOM = 1, 2, 3, 4, 5, 6, 7


def width(text: str) -> int:
    """Display width of ``text`` as linters count it (wide East Asian characters count 2)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def py_str(s: str) -> str:
    """A double-quoted Python literal for ``s``: printable characters as they are, everything
    else (newlines, U+2028, NUL, surrogates, ...) as an escape; never a raw line break."""
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])
    out.append('"')
    return "".join(out)


def comment_text(s: str) -> str:
    """Text safe inside a ``#`` comment: non-printable characters (line and paragraph
    separators, NUL, ...) become spaces and runs of spaces collapse."""
    cleaned = "".join(c if c.isprintable() else " " for c in s)
    return " ".join(cleaned.split())


def comment(text: str, indent: int) -> str:
    """A ``#`` comment line at ``indent`` that fits the width (shortened with ``...``)."""
    room = WIDTH - indent - 2
    # A character is at least one column wide: cut a long text first, then fit it exactly
    # (fitting a 40 KB condition a character at a time was quadratic).
    body = comment_text(text[:4 * WIDTH])
    if len(text) > 4 * WIDTH or width(body) > room:
        body = body[:room]
        while body and width(body) > room - 3:
            body = body[:-1]
        body = body.rstrip() + "..."
    return " " * indent + "# " + body


def str_chunks(s: str, room: int) -> list[str]:
    """``s`` as one or more literals each at most ``room`` columns wide (split between
    characters, preferably after a space), to be joined by implicit concatenation."""
    whole = py_str(s)
    if width(whole) <= room or not s:
        return [whole]
    chunks: list[str] = []
    start = 0
    while start < len(s):
        end = start
        best = -1
        while end < len(s) and width(py_str(s[start:end + 1])) <= room:
            end += 1
            if s[end - 1] == " ":
                best = end
        if end == start:  # a single character wider than the room: take it anyway
            end = start + 1
        elif end < len(s) and best > start:
            end = best
        chunks.append(py_str(s[start:end]))
        start = end
    return chunks


# ----------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Code:
    """A generated expression: its text, precedence and, for ``and``/``or``, its operands (so
    that a long condition can be wrapped one operand a line)."""

    text: str
    prec: int = ATOM
    op: str | None = None
    parts: tuple[Code, ...] = ()


TRUE = Code("True")
FALSE = Code("False")


def paren(c: Code, min_prec: int) -> str:
    """``c``'s text, parenthesised when it binds looser than ``min_prec``."""
    return f"({c.text})" if c.prec < min_prec else c.text


def conj(parts: Sequence[Code]) -> Code:
    """``a and b and ...`` with constants folded."""
    out: list[Code] = []
    for p in parts:
        if p == FALSE:
            return FALSE
        if p == TRUE or p in out:
            continue
        if p.op == "and":
            out.extend(q for q in p.parts if q not in out)
        else:
            out.append(p)
    if not out:
        return TRUE
    if len(out) == 1:
        return out[0]
    return Code(" and ".join(paren(p, AND) for p in out), AND, "and", tuple(out))


def disj(parts: Sequence[Code]) -> Code:
    """``a or b or ...`` with constants folded (an ``and`` operand gets parentheses)."""
    out: list[Code] = []
    for p in parts:
        if p == TRUE:
            return TRUE
        if p == FALSE or p in out:
            continue
        if p.op == "or":
            out.extend(q for q in p.parts if q not in out)
        else:
            out.append(p)
    if not out:
        return FALSE
    if len(out) == 1:
        return out[0]
    return Code(" or ".join(paren(p, NOT) for p in out), OR, "or", tuple(out))


def negate(c: Code) -> Code:
    """``not c`` (constants folded)."""
    if c == TRUE:
        return FALSE
    if c == FALSE:
        return TRUE
    if c.prec < NOT:
        return Code(f"not ({c.text})", NOT, "not", (c,))
    return Code("not " + c.text, NOT)


def wrap_expr(c: Code, indent: int) -> list[str]:
    """Lines (without the enclosing parentheses) for ``c`` at ``indent``: one operand of an
    ``and``/``or`` a line, nested groups in parentheses; an over-long atom is broken at spaces
    (generated conditions have no spaces inside string literals)."""
    pad = " " * indent
    if width(pad + c.text) <= WIDTH:
        return [pad + c.text]
    if c.op is None:
        return fill(c.text.split(" "), indent)
    if c.op == "not":
        return [pad + "not (", *wrap_expr(c.parts[0], indent + 4), pad + ")"]
    lines: list[str] = []
    for i, p in enumerate(c.parts):
        lead = "" if i == 0 else c.op + " "
        need_paren = p.prec < (AND if c.op == "and" else NOT)
        if need_paren:
            inner = wrap_expr(p, indent + 4)
            if len(inner) == 1 and width(pad + lead + "(" + p.text + ")") <= WIDTH:
                lines.append(pad + lead + "(" + p.text + ")")
            else:
                lines.append(pad + lead + "(")
                lines.extend(inner)
                lines.append(pad + ")")
        else:
            sub = wrap_expr(p, indent + len(lead))
            first = sub[0][indent + len(lead):]
            lines.append(pad + lead + first)
            lines.extend(sub[1:])
    return lines


def fill(words: Iterable[str], indent: int, limit: int = WIDTH) -> list[str]:
    """``words`` joined by spaces into lines indented by ``indent`` and at most ``limit``
    columns wide where they fit (a longer word stands alone on its line)."""
    pad = " " * indent
    lines: list[str] = []
    cur = ""
    for w in words:
        cand = f"{cur} {w}" if cur else w
        if cur and width(pad + cand) > limit:
            lines.append(pad + cur)
            cur = w
        else:
            cur = cand
    lines.append(pad + cur)
    return lines


def statement(head: str, c: Code, tail: str, indent: int) -> list[str]:
    """``head + c + tail`` on one line, or ``head(`` + wrapped ``c`` + ``)tail``."""
    pad = " " * indent
    line = f"{pad}{head}{c.text}{tail}"
    if width(line) <= WIDTH:
        return [line]
    return [f"{pad}{head}(", *wrap_expr(c, indent + 4), f"{pad}){tail}"]


# ----------------------------------------------------------------------------- literals


@dataclass(frozen=True)
class Call:
    """A call (or, with ``func`` empty, a tuple) to lay out over several lines if needed."""

    func: str
    args: tuple[object, ...]


@dataclass(frozen=True)
class Raw:
    """Source text used as is (a name or an expression)."""

    text: str


def flat(v: object) -> str:
    """The one-line source of a literal value."""
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, str):
        return py_str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, tuple):
        if len(v) == 1:
            return f"({flat(v[0])},)"
        return "(" + ", ".join(flat(x) for x in v) + ")"
    if isinstance(v, Call):
        return f"{v.func}(" + ", ".join(flat(x) for x in v.args) + ")"
    raise TypeError(f"cannot write {type(v).__name__} as a literal")


def layout(v: object, indent: int, head: str = "", tail: str = "") -> list[str]:
    """Lines for ``head + v + tail`` at ``indent``, breaking calls, tuples and long strings."""
    pad = " " * indent
    one = f"{pad}{head}{flat(v)}{tail}"
    if width(one) <= WIDTH:
        return [one]
    if isinstance(v, str):
        chunks = str_chunks(v, WIDTH - indent - 4)
        return [f"{pad}{head}(", *[f"{pad}    {c}" for c in chunks], f"{pad}){tail}"]
    if isinstance(v, tuple | Call):
        items: tuple[object, ...] = v.args if isinstance(v, Call) else v
        opener = f"{v.func}(" if isinstance(v, Call) else "("
        lines = [f"{pad}{head}{opener}"]
        for x in items:
            lines.extend(_item(x, indent + 4))
        lines.append(f"{pad}){tail}")
        return lines
    return [one]


def _item(x: object, indent: int) -> list[str]:
    """One element of a broken call or tuple: followed by a comma; a string split into chunks
    is parenthesised so the concatenation is unmistakable."""
    pad = " " * indent
    one = f"{pad}{flat(x)},"
    if width(one) <= WIDTH:
        return [one]
    if isinstance(x, str):
        chunks = str_chunks(x, WIDTH - indent - 4)
        return [f"{pad}(", *[f"{pad}    {c}" for c in chunks], f"{pad}),"]
    return layout(x, indent, "", ",")
