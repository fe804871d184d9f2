"""What the printed targets (the flowchart and the handout) say, decided once for both.

A printed label must never hide a condition: a branch labelled "KPS > 70" that also requires a
life expectancy of a month prints that requirement too. So a labelled branch prints its
condition in clinical words beside the label (unless they say the same thing), and every
labelled `let` a printed condition uses is defined in the Definitions. A rule prints in its
own words, the source's ("Do not use whole-brain radiotherapy routinely"), beside what guidec
proves of it, so the printed wording never overstates the source and the proof never hides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler import model as m

_NOT_WORD = re.compile(r"[^0-9a-z<>=]+")


def _normal(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def stands_for(label: str | None, condition: m.Condition) -> str | None:
    """The condition words to print beside ``label``: None when there is no label (the words
    are printed instead) or when label and words say the same thing."""
    if not label or _normal(label) == _normal(condition.words):
        return None
    return condition.words


def printed_conditions(model: m.Model) -> list[m.Condition]:
    """Every condition the flowchart or handout prints, in source order."""
    out: list[m.Condition] = []
    for node in model.pathway.nodes.values():
        if isinstance(node, m.Decision):
            out.extend(b.condition for b in node.branches)
        elif isinstance(node, m.Step):
            out.extend(s.condition for s in node.recommends if s.condition is not None)
    out.extend(n.condition for n in model.nevers if n.condition is not None)
    out.extend(r.condition for r in model.requires)
    out.extend(c.condition for c in model.cautions)
    return out


def definitions(model: m.Model) -> list[m.Let]:
    """The labelled lets that printed conditions use (directly or through other lets), in
    declaration order: each printed label of a let points to one of these."""
    used: set[str] = set()
    for cond in printed_conditions(model):
        used.update(e.name for e in m.subexpressions(cond.expr) if isinstance(e, m.LetRef))
    return [let for name, let in model.lets.items() if name in used and let.label]


@dataclass(frozen=True)
class RuleView:
    """One source rule as printed: its words, its citations and what guidec proves."""

    kind: str  # never | require | conflict
    text: str
    citations: tuple[str, ...]
    proof: str
    line: int
    #: The rule's condition in words, when it has one ("CSF flow obstructed").
    when: str | None = None


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _lower(text: str) -> str:
    first = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if first[1:].islower() else text


def rules(model: m.Model) -> list[RuleView]:
    """The proven rules, one entry per rule the author wrote (a `never A, B when C` is one
    entry naming both actions), in source order."""
    def name(action: str) -> str:
        # The id, as the rule is written: a proof names the action, it does not prescribe it
        # (the action's text may carry a dose, which is never printed without its schedule).
        return f"`{action}`"

    groups: dict[tuple[int, int], list[m.NeverRule]] = {}
    for never in model.nevers:
        groups.setdefault((never.span.line, never.span.column), []).append(never)
    out: list[RuleView] = []
    for (line, _), nevers in groups.items():
        first = nevers[0]
        what = _join([name(n.action) for n in nevers])
        when = f" when {_lower(first.condition.words)}" if first.condition else ""
        out.append(RuleView("never", first.reason, first.citations,
                            f"no patient is recommended {what}{when}", line,
                            first.condition.words if first.condition else None))
    for req in model.requires:
        out.append(RuleView("require", req.reason, req.citations,
                            f"every patient with {_lower(req.condition.words)} is recommended "
                            f"{name(req.action)}", req.span.line, req.condition.words))
    for con in model.conflicts:
        out.append(RuleView("conflict", con.reason, con.citations,
                            f"no patient is recommended both {name(con.first)} and "
                            f"{name(con.second)}", con.span.line))
    return sorted(out, key=lambda r: r.line)
