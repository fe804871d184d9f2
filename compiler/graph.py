"""Graph checks over the pathway: cycles (E401), steps with no way on (E402), nodes that no
path from the start reaches (W403) and a `page` that cannot start a page (W405).
Reachability under the patients' conditions is the analysis's job (``compiler.analysis``);
this pass looks at the edges only."""

from __future__ import annotations

from compiler import model as m
from dsl.diagnostics import Diagnostic, error, warning


def check_graph(model: m.Model) -> list[Diagnostic]:
    """Return the graph findings of a model's pathway."""
    p = model.pathway
    diags: list[Diagnostic] = []
    for node in p.nodes.values():
        if isinstance(node, m.Step) and not node.next:
            diags.append(error(
                "E402", f"the step `{node.id}` has no way on", node.span,
                hint="end it with `then -> <node>`, e.g. an `end` node: `then -> done`"))
    reached: set[str] = set()
    todo = [t for t in p.start if t in p.nodes]
    while todo:
        cur = todo.pop()
        if cur in reached:
            continue
        reached.add(cur)
        todo.extend(t for t in p.successors(cur) if t in p.nodes)
    for node_id, node in p.nodes.items():
        if node_id not in reached:
            d = warning("W403", f"no path from the start reaches `{node_id}`", node.span,
                        hint="link it from a step or a branch, or remove it")
            diags.append(_at(d, node_id))
    diags.extend(_cycles(model))
    if len(p.start) == 1 and p.start[0] in p.nodes:
        first = p.nodes[p.start[0]]
        if not isinstance(first, m.End) and first.page is not None:
            diags.append(_at(warning(
                "W405", f"`page` on `{first.id}` has no effect: the first page starts there",
                first.page.span, hint="remove it, or put it on a node further on"), first.id))
    return diags


def _at(d: Diagnostic, node: str) -> Diagnostic:
    return Diagnostic(d.code, d.severity, d.message, d.span, d.hint, d.notes, d.witness, d.path,
                      node)


def _cycles(model: m.Model) -> list[Diagnostic]:
    p = model.pathway
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(p.nodes, white)
    diags: list[Diagnostic] = []
    for root in p.nodes:
        if color[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        trail: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                color[node] = grey
                trail.append(node)
            succ = [t for t in p.successors(node) if t in p.nodes]
            if i < len(succ):
                stack.append((node, i + 1))
                nxt = succ[i]
                if color[nxt] == grey:
                    loop = [*trail[trail.index(nxt):], nxt]
                    diags.append(error(
                        "E401", f"the pathway loops back to `{nxt}`", p.nodes[node].span,
                        hint="a pathway runs forward: point this edge to a later node or an end",
                        notes=[f"cycle: {' -> '.join(loop)}"]))
                elif color[nxt] == white:
                    stack.append((nxt, 0))
            else:
                color[node] = black
                trail.pop()
    return diags
