"""Names: the declaration tables, duplicates, undefined names and unused declarations.

Inputs and lets share the namespace of expressions; actions, pathway nodes, references,
patients and cautions each have their own (the flagship has an input `csf_cytology_result`
and an action `csf_cytology`). Every pass here returns diagnostics and never prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dsl import ast
from dsl.diagnostics import Diagnostic, error, suggestion, warning


@dataclass
class Scope:
    """Every declaration of a guideline, by namespace, in source order."""

    inputs: dict[str, ast.Input] = field(default_factory=dict)
    lets: dict[str, ast.Let] = field(default_factory=dict)
    actions: dict[str, ast.Action] = field(default_factory=dict)
    references: dict[str, ast.Reference] = field(default_factory=dict)
    nodes: dict[str, ast.Step | ast.Decide | ast.End] = field(default_factory=dict)
    patients: dict[str, ast.Patient] = field(default_factory=dict)
    cautions: dict[str, ast.Caution] = field(default_factory=dict)
    pathway: ast.Pathway | None = None

    def values(self) -> list[str]:
        """Every name an expression may use (inputs and lets)."""
        return [*self.inputs, *self.lets]


def _declare(table: dict[str, ast.Node], name: ast.Ident, node: ast.Node, what: str,
             diags: list[Diagnostic]) -> None:
    if name.name in table:
        first = table[name.name]
        diags.append(error(
            "E102", f"{what} `{name.name}` is declared twice", name.span,
            hint="rename one of them or remove the duplicate",
            notes=[f"first declared at {first.span}"]))
        return
    table[name.name] = node


def collect(g: ast.Guideline) -> tuple[Scope, list[Diagnostic]]:
    """Build the declaration tables; report duplicates (E102) and a second pathway (E102)."""
    scope = Scope()
    diags: list[Diagnostic] = []
    values: dict[str, ast.Node] = {}
    for item in g.items:
        if isinstance(item, ast.Input):
            _declare(values, item.name, item, "the input or let", diags)
            scope.inputs.setdefault(item.name.name, item)
        elif isinstance(item, ast.Let):
            _declare(values, item.name, item, "the input or let", diags)
            if item.name.name not in scope.inputs:
                scope.lets.setdefault(item.name.name, item)
        elif isinstance(item, ast.Action):
            _declare(scope.actions, item.name, item, "the action", diags)  # type: ignore[arg-type]
        elif isinstance(item, ast.Reference):
            _declare(scope.references, item.name, item, "the reference",  # type: ignore[arg-type]
                     diags)
        elif isinstance(item, ast.Patient):
            _declare(scope.patients, item.name, item, "the patient", diags)  # type: ignore[arg-type]
        elif isinstance(item, ast.Caution):
            _declare(scope.cautions, item.name, item, "the caution", diags)  # type: ignore[arg-type]
        elif isinstance(item, ast.Pathway):
            if scope.pathway is not None:
                diags.append(error("E102", "the guideline has two pathways", item.span,
                                   hint="merge them into one `pathway`",
                                   notes=[f"the first is at {scope.pathway.span}"]))
                continue
            scope.pathway = item
            for node in item.nodes:
                _declare(scope.nodes, node.name, node, "the pathway node",  # type: ignore[arg-type]
                         diags)
    return scope, diags


def _undefined(kind: str, ident: ast.Ident, known: Iterable[str], code: str) -> Diagnostic:
    names = list(known)
    hint = suggestion(ident.name, names)
    if hint is None:
        hint = f"declare it, or use one of: {', '.join(names[:8])}" if names else \
            f"declare the {kind} first"
    return error(code, f"there is no {kind} named `{ident.name}`", ident.span, hint=hint)


def check_references(g: ast.Guideline, scope: Scope) -> list[Diagnostic]:
    """Undefined actions (E103), nodes (E104), references (E105), patients (E106) and inputs
    in patients and cases (E101), outside expressions (those are typed in ``compiler.types``)."""
    diags: list[Diagnostic] = []

    def cites(idents: tuple[ast.Ident, ...]) -> None:
        for c in idents:
            if c.name not in scope.references:
                diags.append(_undefined("reference", c, scope.references, "E105"))

    def action(ident: ast.Ident) -> None:
        if ident.name not in scope.actions:
            diags.append(_undefined("action", ident, scope.actions, "E103"))

    def node(ident: ast.Ident) -> None:
        if ident.name not in scope.nodes:
            diags.append(_undefined("pathway node", ident, scope.nodes, "E104"))

    def assignments(values: tuple[ast.Assignment, ...]) -> None:
        seen: set[str] = set()
        for a in values:
            if a.key.name not in scope.inputs:
                diags.append(_undefined("input", a.key, scope.inputs, "E101"))
            if a.key.name in seen:
                diags.append(error("E102", f"`{a.key.name}` is given twice", a.key.span,
                                   hint="keep one value"))
            seen.add(a.key.name)

    for n in g.walk():
        if isinstance(n, (ast.Action, ast.Note, ast.Paragraph, ast.Never, ast.Require,
                          ast.Conflict, ast.Caution)):
            cites(n.citations)
    for item in g.items:
        if isinstance(item, ast.Pathway):
            for t in item.start:
                node(t)
            for pn in item.nodes:
                if isinstance(pn, ast.Step):
                    for si in pn.items:
                        if isinstance(si, ast.Recommend):
                            for a in si.actions:
                                action(a)
                    for t in pn.then or ():
                        node(t)
                elif isinstance(pn, ast.Decide):
                    for b in pn.branches:
                        for t in b.targets:
                            node(t)
                    if pn.otherwise is not None:
                        for t in pn.otherwise.targets:
                            node(t)
        elif isinstance(item, ast.Never):
            for a in item.actions:
                action(a)
        elif isinstance(item, ast.Require):
            action(item.action)
        elif isinstance(item, ast.Conflict):
            action(item.first)
            action(item.second)
        elif isinstance(item, ast.Patient):
            assignments(item.values)
        elif isinstance(item, ast.Case):
            if item.base is not None and item.base.name not in scope.patients:
                diags.append(_undefined("patient", item.base, scope.patients, "E106"))
            assignments(item.values)
            for e in item.expectations:
                for name in e.names:
                    if e.kind in ("some", "none", "only"):
                        action(name)
                    elif e.kind == "pending":
                        if name.name not in scope.inputs:
                            diags.append(_undefined("input", name, scope.inputs, "E101"))
                    elif e.kind in ("pending_at", "path"):
                        node(name)
                    elif e.kind == "caution" and name.name not in scope.cautions:
                        diags.append(_undefined("caution", name, scope.cautions, "E103"))
        elif isinstance(item, ast.Allow) and item.node.name not in scope.nodes:
            diags.append(_undefined("pathway node", item.node, scope.nodes, "E104"))
    return diags


def check_unused(g: ast.Guideline, scope: Scope) -> list[Diagnostic]:
    """Inputs no condition reads (W101), actions never recommended nor forbidden (W102),
    references never cited (W103) and lets never used (W104)."""
    used_values: set[str] = set()
    used_actions: set[str] = set()
    cited: set[str] = set()
    assumed: set[str] = set()  # an input only assumed about is still unused; a let is used
    cites = (ast.Action, ast.Note, ast.Paragraph, ast.Never, ast.Require, ast.Conflict,
             ast.Caution)
    for n in g.header.walk():
        if isinstance(n, cites):
            cited.update(c.name for c in n.citations)
    for item in g.items:  # one walk over the tree
        values = assumed if isinstance(item, ast.Assume) else used_values
        for n in item.walk():
            if isinstance(n, ast.Name):
                values.add(n.name)
            elif isinstance(item, ast.Assume):
                continue
            elif isinstance(n, cites):
                cited.update(c.name for c in n.citations)
                if isinstance(n, ast.Never):
                    used_actions.update(a.name for a in n.actions)
            elif isinstance(n, ast.Recommend):
                used_actions.update(a.name for a in n.actions)
    diags: list[Diagnostic] = []
    for name, inp in scope.inputs.items():
        if name not in used_values:
            diags.append(warning("W101", f"the input `{name}` is never used by a condition",
                                 inp.name.span, hint="remove it, or use it in the pathway"))
    for name, let in scope.lets.items():
        if name not in used_values and name not in assumed:
            diags.append(warning("W104", f"the let `{name}` is never used", let.name.span,
                                 hint="remove it, or use it in a condition"))
    for name, act in scope.actions.items():
        if name not in used_actions:
            diags.append(warning("W102", f"the action `{name}` is never recommended",
                                 act.name.span,
                                 hint="recommend it in a step, or forbid it with `never`"))
    for name, ref in scope.references.items():
        if name not in cited:
            diags.append(warning("W103", f"the reference `{name}` is never cited",
                                 ref.name.span, hint="cite it, or remove it"))
    return diags


def check_let_cycles(scope: Scope) -> list[Diagnostic]:
    """A let that refers to itself, directly or through other lets (E107), and a chain of lets
    longer than the language allows (E114).

    One depth-first walk over the lets (iterative, each let once): linear in their number,
    however long the chains and however often a let is read.
    """
    from compiler import MAX_LET_DEPTH

    diags: list[Diagnostic] = []
    deps = {
        name: list(dict.fromkeys(n.name for n in let.expr.walk()
                                 if isinstance(n, ast.Name) and n.name in scope.lets))
        for name, let in scope.lets.items()
    }
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    depth: dict[str, int] = {}
    too_deep: str | None = None
    for root in deps:
        if root in state:
            continue
        state[root] = 1
        path = [root]
        stack = [iter(deps[root])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done = path.pop()
                state[done] = 2
                depth[done] = 1 + max((depth.get(d, 0) for d in deps[done]), default=0)
                if depth[done] > MAX_LET_DEPTH and too_deep is None:
                    too_deep = done
                continue
            if state.get(nxt) == 1:
                cycle = " -> ".join([*path[path.index(nxt):], nxt])
                diags.append(error("E107", f"the let `{nxt}` refers to itself",
                                   scope.lets[nxt].name.span,
                                   hint="define it from inputs and other lets only",
                                   notes=[f"cycle: {cycle}"]))
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(deps[nxt]))
    if too_deep is not None:
        diags.append(error(
            "E114", f"the let `{too_deep}` is defined through a chain of {depth[too_deep]:,} "
            f"lets; a chain has at most {MAX_LET_DEPTH:,}", scope.lets[too_deep].name.span,
            hint="define it from the inputs more directly"))
    return diags
