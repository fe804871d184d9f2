"""The pocket edition's pages: where the pathway may be split, and what each page holds.

A page holds whole *sub-pathways*. The sub-pathway that starts at a node is the set of nodes
it dominates (every path from the start to them passes through it): a decision's branch, or
one of a step's independent parts. Edges from the rest of the pathway into such a set all
arrive at its first node, so a sub-pathway moved to another page leaves one arrow per source
to replace by a connector ("-> page 3: ...") and one entry ("from page 1") on its own page.
(An arrow from inside it back into the rest, where the paths merge again, gets a connector
and an entry of its own.)

This module knows the pathway's shape only; measuring and drawing are :mod:`targets.dot`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from compiler import model as m

#: What the index calls a page that holds only (a part of) the Pitfalls panel.
PANEL_TITLE = "Pitfalls, cautions and definitions"
#: The virtual node above the pathway's start targets: the root of the dominator tree.
ROOT = ""


@dataclass(frozen=True)
class Sheet:
    """One page of the pocket edition as the chart draws it.

    ``roots`` are the sub-pathways it holds (their first nodes, in reading order; ``ROOT``
    is the start), ``nodes`` every pathway node drawn on it, ``page_of`` the page of every
    drawn node of the whole pathway (for the connectors' numbers), ``entries`` for each node
    entered from other pages those pages, ``index`` (page 1) every page's number and title.
    """

    number: int
    count: int
    roots: tuple[str, ...]
    nodes: frozenset[str]
    page_of: Mapping[str, int]
    entries: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    #: The entries of the Pitfalls panel on this page, as a slice (start, stop), or None.
    panel: tuple[int, int] | None = None
    index: tuple[tuple[int, str], ...] = ()

    @property
    def pitfalls(self) -> bool:
        """Whether (a part of) the Pitfalls panel is on this page."""
        return self.panel is not None

    @property
    def start(self) -> bool:
        """Whether the pathway's start is on this page."""
        return ROOT in self.roots


def title(model: m.Model, node_id: str) -> str:
    """What a page or a connector calls the sub-pathway that starts at ``node_id``: the
    title of its `page` clause, else the step's title or the decision's question."""
    if node_id == ROOT:
        # The start's page is called after where the pathway begins.
        first = [n for n in model.pathway.start if n in model.pathway.nodes]
        return title(model, first[0]) if first else "Start"
    node = model.pathway.nodes[node_id]
    if isinstance(node, m.End):
        return node.title or node.id
    if node.page is not None and node.page.title:
        return node.page.title
    return node.title if isinstance(node, m.Step) else node.question


def pinned(model: m.Model) -> list[str]:
    """The nodes whose `page` clause starts a page, in source order."""
    return [n.id for n in model.pathway.nodes.values()
            if not isinstance(n, m.End) and n.page is not None]


class Tree:
    """The dominator tree of the pathway's steps and decisions (ends are drawn once per
    source, so they never start a page), rooted at :data:`ROOT`."""

    def __init__(self, model: m.Model) -> None:
        p = model.pathway
        self.model = model
        drawn = [n for n, node in p.nodes.items() if not isinstance(node, m.End)]

        def succ(n: str) -> list[str]:
            targets = p.start if n == ROOT else p.successors(n)
            return [t for t in targets if t in p.nodes and not isinstance(p.nodes[t], m.End)]

        # Reading order: depth first from the start, successors in the order written.
        order: list[str] = []
        seen: set[str] = set()
        stack = [ROOT]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            order.append(n)
            stack.extend(reversed([t for t in succ(n) if t not in seen]))
        # A node no path reaches (W403) still prints: under the root, after the others.
        order += [n for n in drawn if n not in seen]
        self.order = order
        preds: dict[str, list[str]] = {n: [] for n in order}
        for n in order:
            for t in succ(n):
                preds[t].append(n)
        self.preds = preds
        # The dominators as sets, to a fixed point over the reading order: a pathway has at
        # most a few hundred nodes, and no cycles once E401 holds (a cycle only iterates more).
        every = set(order)
        dom: dict[str, set[str]] = {n: set(every) for n in order}
        dom[ROOT] = {ROOT}
        changed = True
        while changed:
            changed = False
            for n in order[1:]:
                into = [dom[q] for q in preds[n]] or [dom[ROOT]]
                new = set.intersection(*into) | {n}
                if new != dom[n]:
                    dom[n], changed = new, True
        # The immediate dominator is the strict dominator that all the others dominate.
        idom = {ROOT: ROOT}
        for n in order[1:]:
            idom[n] = max(dom[n] - {n}, key=lambda d: len(dom[d]))
        self.idom = idom
        self.children: dict[str, list[str]] = {n: [] for n in order}
        for n in order[1:]:
            self.children[idom[n]].append(n)

    def regions(self, cuts: Iterable[str]) -> dict[str, list[str]]:
        """Each cut's sub-pathway: the nodes below it in the tree down to the next cuts, in
        reading order (the root is always a cut)."""
        cut = set(cuts) | {ROOT}
        out: dict[str, list[str]] = {n: [] for n in self.order if n in cut}
        for n in self.order:
            top = n
            while top not in cut:
                top = self.idom[top]
            out[top].append(n)
        return out

    def weight(self, node_id: str) -> int:
        """How much a node prints, in characters: which part is heaviest when one must be cut."""
        if node_id == ROOT:
            return 10
        node = self.model.pathway.nodes[node_id]
        words: list[str] = []
        if isinstance(node, m.Step):
            words.append(node.title)
            for site in node.recommends:
                words += [site.label or (site.condition.words if site.condition else "")]
                for a in site.actions:
                    action = self.model.actions.get(a)
                    if action is not None:
                        words += [action.print_text, action.detail or ""]
            words += [n.text for n in node.notes]
        elif isinstance(node, m.Decision):
            words.append(node.question)
            words += [n.text for n in node.notes]
            for b in node.branches:
                words += [b.label or b.condition.words, *(n.text for n in b.notes)]
            if node.otherwise is not None:
                words += [node.otherwise.label or "otherwise",
                          *(n.text for n in node.otherwise.notes)]
        # Each box costs about a line of text beyond its words.
        return sum(len(w) for w in words) + 40

    def entries(self, node_id: str) -> list[str]:
        """The drawn nodes with an arrow into ``node_id`` (ROOT for the start)."""
        return self.preds.get(node_id, [])


def sheets(model: m.Model, tree: Tree, pages: list[list[str]],
           panels: Mapping[int, tuple[int, int]]) -> list[Sheet]:
    """The sheets for pages given as lists of region roots (the root's region first), with
    ``panels[i]`` the slice of the Pitfalls panel's entries on page ``i`` (0-based; a page
    of no regions holds only its panel)."""
    cuts = [r for page in pages for r in page]
    regions = tree.regions(cuts)
    page_of: dict[str, int] = {}
    for number, page in enumerate(pages, 1):
        for r in page:
            for n in regions[r]:
                page_of[n] = number
    index = tuple((number, "; ".join(title(model, r) for r in page) or PANEL_TITLE)
                  for number, page in enumerate(pages, 1))
    out = []
    for number, page in enumerate(pages, 1):
        nodes = frozenset(n for r in page for n in regions[r] if n != ROOT)
        entries: dict[str, tuple[int, ...]] = {}
        # Mostly a part's first node; but a part cut out of another may lead back into it
        # (a step's independent part that other steps also reach), so any node may be entered.
        for n in sorted(nodes, key=tree.order.index):
            elsewhere = sorted({page_of[q] for q in tree.entries(n)} - {number})
            if elsewhere:
                entries[n] = tuple(elsewhere)
        out.append(Sheet(number, len(pages), tuple(page), nodes, page_of, entries,
                         panels.get(number - 1), index if number == 1 else ()))
    return out
