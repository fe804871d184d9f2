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


@dataclass(frozen=True)
class InputView:
    """One patient datum as the handout's table lists it: what may be given, in which unit,
    what is typical, and what happens when it is missing."""

    name: str
    label: str
    values: str
    unit: str
    typical: str
    absent: str


def _range_words(inp: m.Input) -> str:
    whole = "A whole number" if inp.kind == "integer" else "A number"
    low = None if inp.low is None else m.number_text(inp.low)
    high = None if inp.high is None else m.number_text(inp.high)
    if low is not None and high is not None and not inp.low_open and not inp.high_open:
        return f"{whole} from {low} to {high}"
    parts = []
    if low is not None:
        parts.append(f"over {low}" if inp.low_open else f"at least {low}")
    if high is not None:
        parts.append(f"under {high}" if inp.high_open else f"up to {high}")
    return f"{whole} " + " and ".join(parts) if parts else whole


def _value_words(value: m.Value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, frozenset):
        return ", ".join(sorted(value)) if value else "none of them"
    if isinstance(value, str):
        return value
    return "unknown" if value is None else m.number_text(value)


def patient_data(model: m.Model) -> list[InputView]:
    """The inputs the pathway asks about, in declaration order, as the handout lists them."""
    out: list[InputView] = []
    for inp in model.inputs.values():
        if inp.kind == "boolean":
            values = "Yes or no"
        elif inp.kind == "enum":
            values = "One of: " + ", ".join(inp.values)
        elif inp.kind == "set":
            values = "Any of (a list, which may be empty): " + ", ".join(inp.values)
        elif inp.kind == "date":
            values = "A date (2026-12-04)"
        elif inp.kind == "datetime":
            values = "A date and time (2026-12-04T14:30, a UTC offset allowed)"
        else:
            values = _range_words(inp)
        unit = inp.unit or ""
        if inp.ucum is not None and inp.conversions:
            unit += " (or " + ", ".join(
                f"{code}: {m.number_text(per)} {code} = 1 {inp.unit}"
                for code, per in inp.conversions) + ")"
        typical = "" if inp.typical is None else \
            f"{m.number_text(inp.typical[0])}–{m.number_text(inp.typical[1])}"
        if inp.default is not None:
            absent = f"Optional: taken as {_value_words(inp.default)}"
        elif inp.optional:
            absent = "Optional: unknown, the pathway waits for it"
        else:
            absent = "Required"
        out.append(InputView(inp.name, inp.label, values, unit, typical, absent))
    return out
