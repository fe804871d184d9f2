"""Parsing again after an edit, for the editor: only the pieces of the file that changed.

A file is cut into pieces at the lines that start a top-level item (an item keyword in the
first column: `input`, `let`, `action`, `pathway`, ...) and, inside the pathway, at the lines
that start a node (`step`, `decide`, `end` after the indentation). Each piece is parsed on its
own, at its own lines (padded with empty lines, so that every span is where a whole parse puts
it), and kept: after an edit, a piece whose text and first line are unchanged is not parsed
again. Typing inside one node of the flagship re-parses that node, not its 870 lines.

The pieces give the same tree as a whole parse: the item and node keywords start nothing but
an item or a node, so where each piece parses, the whole parses the same way. When any piece
does not parse (an item split across the cut, a syntax error), the whole file is parsed, and
its diagnostics are exactly those of :func:`dsl.parser.parse`. The tests hold both parses
equal, spans and comments included, on every fixture and on random edits.
"""

from __future__ import annotations

import itertools
import re
from fractions import Fraction
from typing import TypeVar

from dsl import ast
from dsl.diagnostics import GuidecError
from dsl.parser import parse

_T = TypeVar("_T")

#: A line that starts a top-level item.
_ITEM = re.compile(r"(?:changelog|reference|input|assume|let|action|section|pathway|never|"
                   r"require|conflict|caution|patient|case|allow)\b")
#: A line that starts a pathway node.
_NODE = re.compile(r"[ \t]+(?:step|decide|end)\b")
#: A parsed piece: the header (the dummy one before items and nodes), then its items; and its
#: comments.
_Parsed = tuple[tuple[ast.Node, ...], tuple[ast.Comment, ...]]
_Cache = dict[tuple[str, str], tuple[int, _Parsed]]
#: What stands before a piece on its first line, so that the piece parses where it belongs.
_BEFORE_ITEMS = 'guideline g "g" '
_BEFORE_NODES = 'guideline g "g" pathway start -> g '


class IncrementalParser:
    """Parses successive versions of one document, re-parsing only the changed pieces."""

    def __init__(self, filename: str = "<input>") -> None:
        self.filename = filename
        self._pieces: _Cache = {}
        #: How many pieces the last :meth:`parse` parsed, and how many it moved (the rest
        #: came from before as they were).
        self.parsed = 0
        self.moved = 0

    def parse(self, text: str) -> ast.Guideline:
        """The syntax tree of ``text``, as :func:`dsl.parser.parse` gives it (raises its
        :class:`~dsl.diagnostics.GuidecError` on a syntax error)."""
        self.parsed = self.moved = 0
        try:
            tree = self._by_pieces(text)
        except GuidecError:
            tree = None
        if tree is None:
            self._pieces = {}
            self.parsed = 1
            return parse(text, self.filename)
        return tree

    def _by_pieces(self, text: str) -> ast.Guideline | None:
        lines = text.split("\n")
        starts = [k for k, line in enumerate(lines) if _ITEM.match(line)]
        if not starts or starts[0] == 0:
            return None
        kept: _Cache = {}
        header = self._piece("head", 0, "\n".join(lines[:starts[0]]) + "\n", kept)
        items: list[ast.Node] = list(header[0][1:])
        comments: list[ast.Comment] = list(header[1])
        bounds = [*starts, len(lines)]
        for begin, end in itertools.pairwise(bounds):
            if lines[begin].startswith("pathway"):
                found = self._pathway(lines, begin, end, kept)
                if found is None:
                    return None
                items.append(found[0])
                comments += found[1]
                continue
            got, remarks = self._piece("items", begin, "\n".join(lines[begin:end]) + "\n",
                                       kept)
            items += got[1:]
            comments += remarks
        self._pieces = kept
        head = header[0][0]
        assert isinstance(head, ast.Header)
        last = items[-1].span if items else head.span
        span = ast.Span(self.filename, head.span.line, head.span.column, last.end_line,
                        last.end_column)
        return ast.Guideline(span, head, tuple(items), tuple(comments))  # type: ignore[arg-type]

    def _pathway(self, lines: list[str], begin: int, end: int, kept: _Cache
                 ) -> tuple[ast.Pathway, list[ast.Comment]] | None:
        """The pathway from its lines: its head (`pathway start -> ...`), then each node."""
        starts = [k for k in range(begin + 1, end) if _NODE.match(lines[k])]
        bounds = [*starts, end]
        got, comments = self._piece("items", begin, "\n".join(lines[begin:bounds[0]]) + "\n",
                                    kept)
        if len(got) != 2 or not isinstance(got[1], ast.Pathway):
            return None
        head = got[1]
        nodes: list[ast.Node] = list(head.nodes)
        notes = list(comments)
        for a, b in itertools.pairwise(bounds):
            piece, more = self._piece("nodes", a, "\n".join(lines[a:b]) + "\n", kept)
            if len(piece) != 2 or not isinstance(piece[1], ast.Pathway):
                return None  # an item indented among the nodes: the whole parse places it
            nodes += piece[1].nodes
            notes += more
        last = nodes[-1].span if nodes else head.span
        span = ast.Span(self.filename, head.span.line, head.span.column, last.end_line,
                        last.end_column)
        return ast.Pathway(span, head.start, tuple(nodes)), notes  # type: ignore[arg-type]

    def _piece(self, kind: str, first: int, text: str, kept: _Cache) -> _Parsed:
        """The header (or the dummy header) and the items of one piece, parsed at its lines;
        from before when the same piece was there (moved when lines came or went above it)."""
        key = (kind, text)
        found = kept.get(key) or self._pieces.get(key)
        if found is None:
            before = "" if kind == "head" else \
                _BEFORE_ITEMS if kind == "items" else _BEFORE_NODES
            padded = before + "\n" * first + text if before else text
            tree = parse(padded, self.filename)
            self.parsed += 1
            found = (first, ((tree.header, *tree.items), tree.comments))
        elif found[0] != first:
            delta = first - found[0]
            nodes, comments = found[1]
            found = (first, (tuple(_moved(n, delta) for n in nodes),
                             tuple(_moved(c, delta) for c in comments)))
            self.moved += 1
        kept[key] = found
        return found[1]


def _moved(x: _T, delta: int) -> _T:
    """``x`` with every span ``delta`` lines down (a node, a text, a span, a tuple of them)."""
    kind = type(x)
    if kind in _ATOMS:
        return x
    if kind is tuple:
        return tuple([_moved(v, delta) for v in x])  # type: ignore[attr-defined,return-value]
    if kind is ast.Span:
        s: ast.Span = x  # type: ignore[assignment]
        if s.line <= 0:
            return x
        return ast.Span(s.file, s.line + delta, s.column, s.end_line + delta,  # type: ignore[return-value]
                        s.end_column)
    if kind is ast.Text:
        return ast.Text(str(x), _moved(x.span, delta))  # type: ignore[attr-defined,return-value]
    if isinstance(x, ast.Node):
        return kind(*[_moved(getattr(x, f), delta) for f in x._fields])
    return x


#: Values with no span inside, returned as they are.
_ATOMS = frozenset({str, int, float, bool, type(None), Fraction})


__all__ = ["IncrementalParser"]
