"""Reachability (W501: a branch, `otherwise` or recommendation that never applies) and
shadowed branches of `first` decisions (W502)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import model as m
from compiler.analysis.engine import Check
from compiler.analysis.goals import (
    _clear_f,
    _decisions,
    _fired_f,
    _g_decision,
    _g_fired,
    _g_otherwise,
    _g_reach,
    _holds_f,
    _otherwise_f,
    _taken_f,
)
from compiler.analysis.wording import _errors, _explained, undecided
from dsl.ast import Span
from dsl.diagnostics import Diagnostic

if TYPE_CHECKING:
    from compiler.analysis.engine import Analysis, Goal


class ReachabilityCheck(Check):
    """W501: branches, `otherwise` and conditional recommendations that can never apply."""

    name = "reachability"

    def goals(self, a: Analysis) -> None:
        for nid in a.structural:
            node = a.model.pathway.nodes[nid]
            _g_reach(a, nid)
            if isinstance(node, m.Decision):
                _g_decision(a, node)
                if node.otherwise is not None:
                    _g_otherwise(a, node)
            elif isinstance(node, m.Step):
                for site in node.recommends:
                    if site.condition is not None:
                        _g_fired(a, nid, site.index)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for nid in a.structural:
            node = a.model.pathway.nodes[nid]
            reach = a.goals[("reach", nid)]
            if reach.status == "unknown":
                out.append(undecided(f"whether any patient reaches `{nid}`", self.name,
                                     node.span, nid))
            if reach.status != "sat":
                out += _errors([reach], self.name, node.span, nid)
                continue
            if isinstance(node, m.Decision):
                out += self._decision(a, node)
            elif isinstance(node, m.Step):
                for site in node.recommends:
                    out += self._site(a, node, site)
        return out

    def _other(self, g: Goal, what: str, span: Span, nid: str) -> list[Diagnostic]:
        if g.status == "unknown":
            return [undecided(what, self.name, span, nid)]
        return _errors([g], self.name, span, nid)

    def _site(self, a: Analysis, step: m.Step, site: m.RecommendSite) -> list[Diagnostic]:
        g = a.goals.get(("fired", step.id, site.index))
        if g is None or g.status == "sat":
            return []
        acts = ", ".join(site.actions)
        if g.status != "unsat":
            return self._other(g, f"whether `recommend {acts}` in `{step.id}` can apply",
                               site.span, step.id)
        cond = site.condition
        assert cond is not None
        a.explain(self.name, _fired_f(a, step.id, site.index), _explained(
            "W501", f"`recommend {acts} when {cond.text}` never applies in `{step.id}`",
            site.span, step.id, "fix or remove the condition: no patient who reaches the step "
            "meets it", f"site:{step.id}:{site.index}"))
        return []

    def _decision(self, a: Analysis, d: m.Decision) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        nid = d.id
        for b in d.branches:
            i = b.index
            taken = a.goals[("taken", nid, i)]
            if taken.status == "sat":
                continue
            what = f"whether the branch `{b.condition.text}` of `{nid}` can be taken"
            if taken.status != "unsat":
                out += self._other(taken, what, b.span, nid)
                continue
            holds = a.goals[("holds", nid, i)]
            clear = a.goals.get(("clear", nid, i))
            alone = a.goals.get(("alone", nid, i))
            key = f"branch:{nid}:{i}"
            if holds.status == "unsat":
                a.explain(self.name, _holds_f(a, d, i), _explained(
                    "W501", f"the branch `{b.condition.text}` of `{nid}` is never taken: it "
                    "cannot hold where the decision is reached", b.span, nid,
                    "fix or remove the branch", key))
            elif holds.status != "sat":
                out += self._other(holds, what, b.span, nid)
            elif clear is not None and clear.status != "sat":
                continue  # shadowed: the shadowing check reports it
            elif alone is not None and alone.status != "sat":
                continue  # it always overlaps another branch: the overlap check reports it
            else:
                a.explain(self.name, _taken_f(a, d, i), _explained(
                    "W501", f"the branch `{b.condition.text}` of `{nid}` is never taken: "
                    "whenever it holds, another branch is unknown and the decision waits",
                    b.span, nid, "decide the unknown case first, e.g. with `is known`", key))
        ow = a.goals.get(("otherwise", nid))
        if d.otherwise is not None and ow is not None and ow.status != "sat":
            if ow.status == "unsat":
                a.explain(self.name, _otherwise_f(a, d), _explained(
                    "W501", f"`otherwise` of `{nid}` is never taken: the branches cover every "
                    "patient who reaches it", d.otherwise.span, nid,
                    f"remove `otherwise`, or keep it with `allow W501 at {nid}`", None,
                    shadow=True))
            else:
                out += self._other(ow, f"whether `otherwise` of `{nid}` can be taken",
                                   d.otherwise.span, nid)
        return out


class ShadowCheck(Check):
    """W502: a branch of a `first` decision that earlier branches always take over."""

    name = "shadowing"

    def goals(self, a: Analysis) -> None:
        for d in _decisions(a):
            if d.policy == "first":
                _g_decision(a, d)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for d in _decisions(a):
            if d.policy != "first" or a.goals[("reach", d.id)].status != "sat":
                continue
            for b in d.branches[1:]:
                i = b.index
                if a.goals[("taken", d.id, i)].status != "unsat" or \
                        a.goals[("holds", d.id, i)].status != "sat":
                    continue
                clear = a.goals[("clear", d.id, i)]
                if clear.status == "unknown":
                    out.append(undecided(f"whether the branch `{b.condition.text}` of `{d.id}` "
                                         "is shadowed", self.name, b.span, d.id))
                elif clear.status == "unsat":
                    a.explain(self.name, _clear_f(a, d, i), _explained(
                        "W502", f"the branch `{b.condition.text}` of `{d.id}` is shadowed: an "
                        "earlier branch holds whenever it does", b.span, d.id,
                        "move it above the branches that cover it, or remove it",
                        f"branch:{d.id}:{i}", shadow=True))
                else:
                    out += _errors([clear], self.name, b.span, d.id)
        return out
