"""`guidec test --suggest`: for each branch, step and action no case covers, the solver's
patient that covers it, written as a `case` block the author can paste into the guideline.

The patient comes from the same analysis as `guidec check` (its goals "this branch is taken",
"this step is reached", "this recommendation fires"), made readable the same way (rounder
numbers, dates near the guideline's `updated` date), then run on the interpreter, whose
outcome becomes the case's expectations: what it recommends (`expect only`), the path it
takes and the decisions it waits at. The author reads them and keeps what the guideline
means; a suggestion that passes is not yet a reviewed case.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from compiler import model as m
from compiler.cases import Coverage
from compiler.interpreter import Outcome


@dataclass(frozen=True)
class Suggestion:
    """What a suggested case covers, and the case (None when no patient covers it: the
    guideline's `check` says why)."""

    covers: str
    text: str | None


def suggest(model: m.Model, cov: Coverage) -> list[Suggestion]:
    """A suggestion per uncovered branch, step and action, in that order."""
    from compiler.analysis.engine import Analysis
    from compiler.analysis.goals import _g_branch, _g_fired, _g_otherwise, _g_reach
    from compiler.analysis.wording import WitnessError

    a = Analysis(model)
    # (what it covers, the item as coverage counts it, the goals that cover it)
    wanted: list[tuple[str, tuple[str, object], list[tuple[object, ...]]]] = []
    for b in cov.untaken:
        d = model.pathway.nodes[b.decision]
        assert isinstance(d, m.Decision)
        if b.index is None:
            _g_otherwise(a, d)
            wanted.append((f"`{d.id}` otherwise", ("branch", (d.id, None)),
                           [("otherwise", d.id)]))
        else:
            _g_branch(a, d, d.branches[b.index])
            wanted.append((f"`{d.id}` {b.text}", ("branch", (d.id, b.index)),
                           [("taken", d.id, b.index)]))
    for s in cov.unreached:
        _g_reach(a, s.id)
        wanted.append((f"step `{s.id}`", ("step", s.id), [("reach", s.id)]))
    for act in cov.unrecommended:
        keys: list[tuple[object, ...]] = []
        for step in model.steps():
            for site in step.recommends:
                if act.id not in site.actions:
                    continue
                if site.condition is None:
                    _g_reach(a, step.id)
                    keys.append(("reach", step.id))
                else:
                    _g_fired(a, step.id, site.index)
                    keys.append(("fired", step.id, site.index))
        wanted.append((f"action `{act.id}`", ("action", act.id), keys))
    a.seed()
    a.resolve()
    out: list[Suggestion] = []
    done: set[tuple[str, object]] = set()  # what an earlier suggestion covers already
    for covers, item, keys in wanted:
        if item in done:
            continue
        text = None
        for key in keys:
            g = a.goals[key]
            if g.status != "sat" or g.values is None:
                continue
            try:
                patient, outcome = a.witness(g.values, g.met, lambda o, v: True)
            except WitnessError:
                continue
            also = {("branch", b) for b in outcome.branches} | \
                {("step", n) for n in outcome.path} | {("action", x) for x in outcome.actions}
            more = [c for c, i, _ in wanted if i in also and i != item and i not in done]
            done |= also
            title = f"Suggested: covers {covers}" + (f" (and {', '.join(more)})" if more
                                                      else "")
            text = case_text(model, title, patient, outcome)
            break
        out.append(Suggestion(covers, text))
    return out


def _value(model: m.Model, name: str, v: object) -> str:
    inp = model.inputs[name]
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "(" + ", ".join(str(x) for x in v) + ")"
    if isinstance(v, str):
        if inp.kind == "datetime":  # the DSL's datetime literal has no offset (UTC)
            return v.removesuffix("Z").removesuffix("+00:00")
        return v
    if isinstance(v, int | float):
        from compiler.types import value_text

        return value_text(Fraction(repr(v)) if isinstance(v, float) else Fraction(v))
    raise TypeError(f"no DSL text for {v!r}")


def case_text(model: m.Model, title: str, patient: dict[str, object],
              outcome: Outcome) -> str:
    """A `case` block: the patient's every known input, then what the interpreter does with
    it (the block parses as it stands; lines stay within 100 columns)."""
    title = title.replace("\\", "\\\\").replace('"', '\\"')
    items = [f"{k} = {_value(model, k, v)}" for k, v in patient.items()]
    items += [f"{n} = unknown" for n, i in model.inputs.items()
              if n not in patient and i.may_be_absent and i.default is None]
    lines = [f'case "{title}"']
    line = "    with"
    for k, item in enumerate(items):
        piece = f" {item}" + ("," if k + 1 < len(items) else "")
        if len(line) + len(piece) > 100 and line.strip() != "with":
            lines.append(line)
            line = "     " + piece.lstrip()
            continue
        line += piece
    if items:
        lines.append(line)
    actions = ", ".join(outcome.actions) or "nothing"
    lines.append(f"  expect only {actions}")
    lines += _wrapped("  expect path ", list(outcome.path))
    for p in outcome.pending:
        lines.append(f"  expect pending at {p['decision']}")
    return "\n".join(lines)


def _wrapped(head: str, names: list[str]) -> list[str]:
    lines, line = [], head.rstrip()
    for k, n in enumerate(names):
        piece = f" {n}" + ("," if k + 1 < len(names) else "")
        if len(line) + len(piece) > 100:
            lines.append(line)
            line = "     " + piece.lstrip()
            continue
        line += piece
    lines.append(line)
    return lines
