"""What can wait for a result: decisions and steps that can be pending, and on which inputs
(I509)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from compiler import model as m
from compiler.analysis.engine import Check
from compiler.analysis.goals import _strs, _waits
from compiler.analysis.wording import _errors, _names, _with_witness, undecided
from compiler.interpreter import (
    Outcome,
)
from compiler.solver.pathway import Paths
from compiler.solver.terms import Z
from dsl.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from compiler.analysis.engine import Analysis, Goal


def _g_pending(a: Analysis, nid: str, x: str, ways: list[Callable[[Paths], Z]]) -> None:
    enc = a.enc
    a.goal(("pending", nid, x),
           lambda p: enc.conj(p.reached[nid], enc.is_unknown_input(x),
                              enc.disj(*(w(p) for w in ways))),
           lambda tr: tr.pending_on(nid, x), False, "pending", nid)


class PendingCheck(Check):
    """I509: decisions and steps that can wait for an unknown input, and which inputs."""

    name = "pending"

    def goals(self, a: Analysis) -> None:
        for nid in a.structural:
            for x, ways in _waits(a, a.model.pathway.nodes[nid]).items():
                _g_pending(a, nid, x, ways)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for nid in a.structural:
            node = a.model.pathway.nodes[nid]
            found = []
            for x in _waits(a, node):
                g = a.goals[("pending", nid, x)]
                if g.status == "sat":
                    found.append(g)
                elif g.status == "unknown":
                    out.append(undecided(f"whether `{nid}` can wait for `{x}`", self.name,
                                         node.span, nid))
                else:
                    out += _errors([g], self.name, node.span, nid)
            if found:
                out.append(self._found(a, node, found))
        return out

    def _found(self, a: Analysis, node: m.PathNode, found: list[Goal]) -> Diagnostic:
        names = [str(g.key[2]) for g in found]
        first = found[0]

        def confirm(o: Outcome, _v: Mapping[str, m.Value]) -> bool:
            return any(p["decision"] == node.id and names[0] in _strs(p["inputs"])
                       for p in o.pending)

        kind = "decision" if isinstance(node, m.Decision) else "step"
        what = "decide" if kind == "decision" else "apply a recommendation"
        assert first.values is not None
        return _with_witness(a, first.values, first.test, confirm, Diagnostic(
            "I509", Severity.INFO, f"the {kind} `{node.id}` can be pending: it cannot {what} "
            f"while {_names(names, 'or')} is unknown", node.span,
            "fine when intended: the result then names the inputs to obtain",
            (f"the witness has `{names[0]}` unknown",), node=node.id), self.name)
