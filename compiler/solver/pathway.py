"""The pathway in z3, stated once for the analysis and the diff: one Boolean per node that
says it is reached (the OR of its incoming edges: from the start; from a reached step; from a
decision that is reached and takes the branch under its policy; from `otherwise` when every
branch is definitely false), recommendations, and what waits for a result.

How a node's reachability becomes a term is the caller's: the analysis names it with a fresh
variable and a definition it asserts in scopes (and tracks each condition under a literal for
unsat cores); the diff names identical terms once and sweeps the two versions' nodes together.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from compiler import model as m
from compiler.solver.terms import TF, Terms, Z
from dsl.ast import Span


@dataclass(frozen=True, slots=True)
class Fact:
    """A tracked constraint: it holds when ``literal`` is true. ``text`` says it for a person."""

    literal: Z
    kind: str  # domain, assumption, branch, site
    text: str
    span: Span
    key: str


@dataclass
class Paths:
    """Reached, taken, fired and recommended terms of one copy of the pathway."""

    reached: dict[str, Z] = field(default_factory=dict)
    branch_tf: dict[str, list[TF]] = field(default_factory=dict)
    site_tf: dict[tuple[str, int], TF | None] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    definitions: list[Z] = field(default_factory=list)


#: Names a node's reachability: (node id, the terms of its incoming edges) -> a term.
Reach = Callable[[str, list[Z]], Z]
#: Encodes a branch or recommendation condition: (kind, key, condition) -> its (T, F) pair.
Condition = Callable[[str, str, m.Condition], TF]


def topological(p: m.Pathway) -> list[str]:
    """The nodes, each after every node with an edge into it (then any left in a cycle)."""
    indegree = dict.fromkeys(p.nodes, 0)
    for nid in p.nodes:
        for t in p.successors(nid):
            if t in indegree:
                indegree[t] += 1
    ready = deque(n for n in p.nodes if indegree[n] == 0)
    order: list[str] = []
    while ready:
        n = ready.popleft()
        order.append(n)
        for t in p.successors(n):
            if t in indegree:
                indegree[t] -= 1
                if indegree[t] == 0:
                    ready.append(t)
    placed = set(order)
    return order + [n for n in p.nodes if n not in placed]


def build(terms: Terms, model: m.Model, reach: Reach, condition: Condition,
          nodes: Iterable[str] | None = None, paths: Paths | None = None) -> Paths:
    """One copy of the pathway over ``terms`` (``nodes``: only these; the rest unreachable)."""
    p = paths if paths is not None else Paths()
    pathway = model.pathway
    keep = set(nodes) if nodes is not None else set(pathway.nodes)
    incoming: dict[str, list[Z]] = {nid: [] for nid in pathway.nodes if nid in keep}
    for t in pathway.start:
        if t in incoming:
            incoming[t].append(terms.TRUE)
    for nid in topological(pathway):
        if nid not in keep:
            continue
        node = pathway.nodes[nid]
        r = p.reached[nid] = reach(nid, incoming[nid])
        if isinstance(node, m.Step):
            for site in node.recommends:
                p.site_tf[(nid, site.index)] = None if site.condition is None else \
                    condition("site", f"site:{nid}:{site.index}", site.condition)
            for t in node.next:
                if t in incoming:
                    incoming[t].append(r)
        elif isinstance(node, m.Decision):
            tfs = p.branch_tf[nid] = [
                condition("branch", f"branch:{nid}:{b.index}", b.condition)
                for b in node.branches]
            for b in node.branches:
                taken = terms.conj(r, terms.take(node.policy, tfs, b.index))
                for t in b.targets:
                    if t in incoming:
                        incoming[t].append(taken)
            if node.otherwise is not None:
                otherwise = terms.conj(r, terms.all_false(tfs))
                for t in node.otherwise.targets:
                    if t in incoming:
                        incoming[t].append(otherwise)
    return p


def fired(terms: Terms, p: Paths, step: str, index: int) -> Z:
    """The step is reached and its recommendation ``index`` applies."""
    tf = p.site_tf[(step, index)]
    r = p.reached[step]
    return r if tf is None else terms.conj(r, tf[0])


def recommended(terms: Terms, model: m.Model, p: Paths) -> dict[str, Z]:
    """Per action: some step that recommends it is reached and its condition holds."""
    sites: dict[str, list[Z]] = {a: [] for a in model.actions}
    for step in model.steps():
        if step.id not in p.reached:
            continue
        for site in step.recommends:
            for a in site.actions:
                if a in sites:
                    sites[a].append(fired(terms, p, step.id, site.index))
    return {a: terms.disj(*fs) for a, fs in sites.items()}


def pending(terms: Terms, model: m.Model, p: Paths, nid: str) -> Z:
    """The node is reached and waits for a result: a decision pending under its policy, or a
    step with a recommendation whose condition is unknown."""
    node = model.pathway.nodes[nid]
    r = p.reached[nid]
    if isinstance(node, m.Decision):
        return terms.conj(r, terms.pending_on(node.policy, p.branch_tf[nid]))
    if isinstance(node, m.Step):
        tfs = [tf for s in node.recommends if (tf := p.site_tf[(nid, s.index)]) is not None]
        return terms.conj(r, terms.disj(*(terms.unknown(tf) for tf in tfs)))
    return terms.FALSE
