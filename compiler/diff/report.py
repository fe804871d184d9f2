"""The report of ``guidec diff``: structure, interface and behaviour, as text, Markdown or JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from compiler import model as m
from compiler.diff.behaviour import (
    BehaviourChange,
    BehaviourResult,
    Witness,
    behavioural_diff,
    case_patients,
    outcome_summary,
)
from compiler.diff.structure import Change, StructuralDiff, Version, structural_diff
from compiler.interpreter import InvalidPatient, Outcome, evaluate


@dataclass(frozen=True)
class CaseChange:
    """A case of the committee's whose patient one version treats differently from the other
    (or accepts while the other refuses it)."""

    title: str
    patient: dict[str, object]
    old: str
    new: str

    def to_json(self) -> dict[str, object]:
        """JSON form."""
        return {"case": self.title, "patient": self.patient, "old": self.old, "new": self.new}


@dataclass
class DiffReport:
    """Everything ``guidec diff`` found."""

    old: Version
    new: Version
    structure: StructuralDiff
    behaviour: BehaviourResult
    cases: list[CaseChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def behaviour_changed(self) -> bool:
        """True when some patient is treated differently (or it could not be decided)."""
        return bool(self.behaviour.changes) or not self.behaviour.decided

    @property
    def breaking(self) -> list[Change]:
        """Interface changes that break consumers of the generated evaluator."""
        return self.structure.breaking


def compute(old: Version, new: Version, max_witnesses: int = 3) -> DiffReport:
    """Compare two checked versions."""
    structure = structural_diff(old.model, new.model)
    behaviour = behavioural_diff(old.model, new.model, max_witnesses)
    return DiffReport(old, new, structure, behaviour, case_changes(old.model, new.model))


def case_changes(old: m.Model, new: m.Model) -> list[CaseChange]:
    """The committee's cases (both versions') whose recommendations, pending decisions or
    validity differ between the versions: the review's own patients, in the new file's order."""
    out: list[CaseChange] = []
    for title, patient in case_patients(old, new):
        a, b = _outcome(old, patient), _outcome(new, patient)
        if _essence(a) != _essence(b):
            out.append(CaseChange(title, patient, _said(a), _said(b)))
    return out


def _outcome(model: m.Model, patient: dict[str, object]) -> Outcome | InvalidPatient:
    try:
        return evaluate(model, {k: v for k, v in patient.items() if k in model.inputs})
    except InvalidPatient as exc:
        return exc


def _essence(o: Outcome | InvalidPatient) -> object:
    if isinstance(o, InvalidPatient):
        return None
    pending = tuple((p["decision"], str(p["inputs"])) for p in o.pending)
    return o.actions, pending, tuple(c["id"] for c in o.cautions)


def _said(o: Outcome | InvalidPatient) -> str:
    if isinstance(o, InvalidPatient):
        return "not a valid patient: " + "; ".join(str(p) for p in o.problems)
    return outcome_summary(o)


def _whose(w: Witness) -> str:
    return f" (case “{w.case}”)" if w.case is not None else ""


def _where(c: Change) -> str:
    a = f"old line {c.old_line}" if c.old_line else ""
    b = f"new line {c.new_line}" if c.new_line else ""
    return ", ".join(x for x in (a, b) if x)


def _patient(w: dict[str, object]) -> str:
    return json.dumps(w, sort_keys=True, ensure_ascii=False)


def _behaviour_line(b: BehaviourChange,
                    code: Callable[[str], str] = lambda s: f"`{s}`") -> str:
    if b.kind == "pending":
        return f"pending at {code(b.subject)} changed"
    verb = "gained" if b.kind == "gained" else "lost"
    when = "now" if verb == "gained" else "no longer"
    return f"{code(b.subject)} {verb}: some patients {when} get it"


def render_text(r: DiffReport) -> str:
    """Plain text for a terminal."""
    out = [f"--- {r.old.label} (version {r.old.model.meta.version})",
           f"+++ {r.new.label} (version {r.new.model.meta.version})", ""]
    out.append("Structure:")
    if not r.structure.changes:
        out.append("  no structural change")
    for c in r.structure.changes:
        flag = "  [breaking]" if c.breaking else ""
        out.append(f"  {c.kind:8} {c.category} {c.subject}: {c.detail} ({_where(c)}){flag}")
    out.append("")
    out.append("Interface (consumers of the generated evaluator):")
    if r.breaking:
        for c in r.breaking:
            out.append(f"  BREAKING: {c.kind} {c.category} {c.subject}: {c.detail}")
    else:
        out.append("  compatible")
    out.append("")
    out.append("Behaviour:")
    if not r.behaviour.decided:
        for u in r.behaviour.undecided:
            out.append(f"  could not decide: {u}")
    if not r.behaviour.changes and r.behaviour.decided:
        out.append("  no behavioural change (proven for every patient both versions allow)")
    for b in r.behaviour.changes:
        out.append(f"  {_behaviour_line(b)}")
        for w in b.witnesses:
            out.append(f"    patient{_whose(w)}: {_patient(w.patient)}")
            out.append(f"      old: {w.old_summary}")
            out.append(f"      new: {w.new_summary}")
    out += ["", "Cases whose outcome changed:"]
    if not r.cases:
        out.append("  none")
    for case in r.cases:
        out.append(f"  {case.title}")
        out.append(f"    patient: {_patient(case.patient)}")
        out.append(f"      old: {case.old}")
        out.append(f"      new: {case.new}")
    return "\n".join(out)


#: Characters that end a line in some Markdown renderer: a raw one inside a table cell or a
#: list item would start a new block (and could forge a verdict line).
_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x85\u2028\u2029]+")
#: What Markdown could read as formatting, a link, HTML or a cell's end; an underscore only
#: at a word's edge (inside a word, as in `lung_mass`, it never emphasises).
_MD_SPECIAL = re.compile(r"([\\`*\[\]<|~])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _md_escape(text: str) -> str:
    """Text from a guideline as plain Markdown text on one line: every character Markdown could
    read as syntax is backslash-escaped, and line breaks become spaces."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(), _LINE_BREAKS.sub(" ", text))


def _md_code(text: str) -> str:
    """Text from a guideline as one inline code span, whatever backticks it holds."""
    text = _LINE_BREAKS.sub(" ", text).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_markdown(r: DiffReport) -> str:
    """Markdown ready to paste into a review."""
    out = [f"## guidec diff: `{r.old.model.meta.id}` {r.old.model.meta.version} → "
           f"{r.new.model.meta.version}", ""]
    verdict = "**Behaviour changed.**" if r.behaviour.changes else (
        "**No behavioural change** (proven)." if r.behaviour.decided
        else "**Behaviour could not be decided.**")
    out.append(f"{verdict} Interface: {'**breaking**' if r.breaking else 'compatible'}.")
    out += ["", "### Structural changes", ""]
    if r.structure.changes:
        out += ["| change | what | detail | lines |", "|---|---|---|---|"]
        for c in r.structure.changes:
            flag = " ⚠ breaking" if c.breaking else ""
            out.append(f"| {c.kind}{flag} | {c.category} {_md_code(c.subject)} | "
                       f"{_md_escape(c.detail)} | {_where(c)} |")
    else:
        out.append("None.")
    out += ["", "### Behavioural changes", ""]
    if not r.behaviour.changes:
        out.append("None." if r.behaviour.decided else "Could not be decided: " +
                   _md_escape("; ".join(r.behaviour.undecided)))
    for b in r.behaviour.changes:
        out.append(f"- {_behaviour_line(b, _md_code)}")
        for w in b.witnesses:
            out.append(f"  - patient{_md_escape(_whose(w))} {_md_code(_patient(w.patient))}")
            out.append(f"    - old: {_md_escape(w.old_summary)}")
            out.append(f"    - new: {_md_escape(w.new_summary)}")
    out += ["", "### Cases whose outcome changed", ""]
    if not r.cases:
        out.append("None of the cases of either version.")
    for case in r.cases:
        out.append(f"- **{_md_escape(case.title)}**")
        out.append(f"  - patient {_md_code(_patient(case.patient))}")
        out.append(f"  - old: {_md_escape(case.old)}")
        out.append(f"  - new: {_md_escape(case.new)}")
    return "\n".join(out)


def render_json(r: DiffReport) -> dict[str, object]:
    """The JSON form: structure, interface and behaviour with witnesses and both paths."""
    return {
        "old": {"label": r.old.label, "version": r.old.model.meta.version},
        "new": {"label": r.new.label, "version": r.new.model.meta.version},
        "structural": [c.to_json() for c in r.structure.changes],
        "breaking": [c.to_json() for c in r.breaking],
        "behaviour_changed": r.behaviour_changed,
        "decided": r.behaviour.decided,
        "undecided": list(r.behaviour.undecided),
        "behavioural": [b.to_json() for b in r.behaviour.changes],
        "cases": [c.to_json() for c in r.cases],
    }
