"""Where each declared name is written: its declaration and every use, by namespace.

The editor's find references and rename read this. Namespaces are those of
:mod:`compiler.names`: ``value`` (inputs and lets, the names expressions read), ``action``,
``reference``, ``node`` (the pathway's steps, decisions and ends), ``patient`` and
``caution``. An enum's values are not names of the guideline (they belong to their input), so
`histology == adenocarcinoma` is one use, of `histology`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler.names import Scope
from dsl import ast
from dsl.ast import Span

#: What a name may be (the grammar's identifier).
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Occurrence:
    """One place a name is written: its namespace, the name, where, and whether it is the
    declaration."""

    kind: str
    name: str
    span: Span
    declaration: bool = False


def occurrences(g: ast.Guideline, scope: Scope) -> list[Occurrence]:
    """Every declaration and use of a declared name, in source order. A use of a name that is
    not declared is left out (the name checks report it)."""
    found: list[Occurrence] = []
    tables = _namespaces(scope)

    def use(kind: str, ident: ast.Ident | ast.Name, declaration: bool = False) -> None:
        if ident.name in tables[kind]:
            found.append(Occurrence(kind, ident.name, ident.span, declaration))

    enum_values = _enum_value_positions(g, scope)
    for n in g.walk():
        if isinstance(n, ast.Name) and id(n) not in enum_values:
            use("value", n)
        citations = getattr(n, "citations", None)
        if isinstance(citations, tuple):
            for c in citations:
                use("reference", c)
        if isinstance(n, ast.IsRecommended):
            use("action", n.action)
        elif isinstance(n, (ast.Input, ast.Let)):
            use("value", n.name, declaration=True)
        elif isinstance(n, ast.Action):
            use("action", n.name, declaration=True)
        elif isinstance(n, ast.Reference):
            use("reference", n.name, declaration=True)
        elif isinstance(n, ast.Patient):
            use("patient", n.name, declaration=True)
        elif isinstance(n, ast.Caution):
            use("caution", n.name, declaration=True)
        elif isinstance(n, (ast.Step, ast.Decide, ast.End)):
            use("node", n.name, declaration=True)
            if isinstance(n, ast.Step):
                for t in n.then or ():
                    use("node", t)
        elif isinstance(n, (ast.Branch, ast.Otherwise)):
            for t in n.targets:
                use("node", t)
        elif isinstance(n, ast.Pathway):
            for t in n.start:
                use("node", t)
        elif isinstance(n, (ast.Recommend, ast.Never)):
            for a in n.actions:
                use("action", a)
        elif isinstance(n, ast.Require):
            use("action", n.action)
        elif isinstance(n, ast.Conflict):
            use("action", n.first)
            use("action", n.second)
        elif isinstance(n, ast.Assignment):
            use("value", n.key)
        elif isinstance(n, ast.Case) and n.base is not None:
            use("patient", n.base)
        elif isinstance(n, ast.Expect):
            kind = {"some": "action", "none": "action", "only": "action", "pending": "value",
                    "pending_at": "node", "path": "node", "caution": "caution"}[n.kind]
            for name in n.names:
                use(kind, name)
        elif isinstance(n, ast.Allow):
            use("node", n.node)
    found.sort(key=lambda o: (o.span.line, o.span.column))
    return found


def _namespaces(scope: Scope) -> dict[str, dict[str, object]]:
    """The declared names of each namespace."""
    return {"value": {**scope.inputs, **scope.lets}, "action": dict(scope.actions),
            "reference": dict(scope.references), "node": dict(scope.nodes),
            "patient": dict(scope.patients), "caution": dict(scope.cautions)}


def _enum_value_positions(g: ast.Guideline, scope: Scope) -> set[int]:
    """The Name nodes that are an enum's value (`x == value`, a default, a patient's value):
    they name a value of their input, not a declaration."""
    out: set[int] = set()
    for n in g.walk():
        if isinstance(n, ast.Compare) and n.op in ("==", "!="):
            for side, other in ((n.left, n.right), (n.right, n.left)):
                inp = scope.inputs.get(side.name) if isinstance(side, ast.Name) else None
                if inp is not None and isinstance(inp.type, ast.EnumType) and \
                        isinstance(other, ast.Name) and \
                        other.name in {v.name for v in inp.type.values}:
                    out.add(id(other))
        elif isinstance(n, ast.Input) and isinstance(n.default, ast.Name):
            out.add(id(n.default))
        elif isinstance(n, ast.Assignment) and isinstance(n.value, ast.Name):
            out.add(id(n.value))
    return out


def at(found: list[Occurrence], line: int, column: int) -> Occurrence | None:
    """The occurrence under a 1-based line and column (its end included, so that a cursor
    just after a name finds it)."""
    for o in found:
        s = o.span
        if s.line == line and s.column <= column <= s.end_column and s.end_line == line:
            return o
    return None


def rename_problem(scope: Scope, target: Occurrence, new: str) -> str | None:
    """Why ``target``'s name cannot become ``new`` (None when it can): not an identifier, a
    keyword, or the name of another declaration of the same namespace."""
    from dsl.parser import RESERVED

    if not IDENTIFIER.match(new):
        return f"`{new}` is not a name: use letters, digits and `_`, not starting with a digit"
    if new in RESERVED:
        return f"`{new}` is a keyword of the language"
    if new != target.name and new in _namespaces(scope)[target.kind]:
        what = {"value": "an input or let", "action": "an action", "reference": "a reference",
                "node": "a pathway node", "patient": "a patient", "caution": "a caution"}
        return f"`{new}` is already {what[target.kind]}: renaming would merge the two"
    return None
