"""Case blocks: run a guideline's clinical vignettes on the reference interpreter, and measure
what they cover.

A case is a patient (a named patient with changes) and expectations about the result:

- ``expect A, B``: at least these actions are recommended;
- ``expect no A, B``: none of these is recommended;
- ``expect only A, B`` / ``expect only nothing``: exactly these (in any order);
- ``expect pending X, Y``: the result waits for these inputs;
- ``expect pending nothing``: no decision or step of the result is pending;
- ``expect pending at D``: this decision (or step) is pending;
- ``expect caution C``: this caution is shown;
- ``expect path N1, N2, ...``: the path is exactly these nodes.

Coverage counts the branches taken (``otherwise`` included), the steps reached and the actions
recommended by at least one case. An action that no step can recommend (one named only by
``never``) is not counted. Nothing here prints: the CLI (``guidec test``) and the pytest
plugin render the results with :func:`render_case` and :func:`render_coverage`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from compiler import interpreter as it
from compiler import model as m

#: The strength of an action as a clinician reads it.
STRENGTH_WORDS = {"strong": "Use", "conditional": "Consider"}


@dataclass(frozen=True, slots=True)
class Failure:
    """One expectation that does not hold: what was expected and what happened."""

    expectation: m.Expectation
    expected: tuple[str, ...]
    actual: tuple[str, ...]
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one case (``problems`` when its patient is not valid)."""

    case: m.Case
    outcome: it.Outcome | None
    problems: tuple[it.Problem, ...] = ()
    failures: tuple[Failure, ...] = ()

    @property
    def passed(self) -> bool:
        """True when the patient is valid and every expectation holds."""
        return self.outcome is not None and not self.failures and not self.outcome.stuck


def run_case(model: m.Model, case: m.Case) -> CaseResult:
    """Evaluate a case's patient and check each of its expectations."""
    try:
        outcome = it.evaluate(model, case.patient)
    except it.InvalidPatient as exc:
        return CaseResult(case, None, exc.problems)
    failures = [f for e in case.expectations if (f := _check(e, outcome)) is not None]
    return CaseResult(case, outcome, (), tuple(failures))


def run_cases(model: m.Model) -> list[CaseResult]:
    """Run every case of a model, in source order."""
    return [run_case(model, c) for c in model.cases]


def _check(e: m.Expectation, o: it.Outcome) -> Failure | None:
    names = e.names
    if e.kind in ("some", "none", "only"):
        actual = o.actions
    elif e.kind == "pending" and not names:
        # `expect pending nothing`: no decision waits, whether or not on an input.
        actual = tuple(dict.fromkeys((*(str(p["decision"]) for p in o.pending),
                                      *o.pending_inputs)))
        return Failure(e, (), actual, (), actual) if actual else None
    elif e.kind == "pending":
        actual = o.pending_inputs
    elif e.kind == "pending_at":
        actual = tuple(str(p["decision"]) for p in o.pending)
    elif e.kind == "caution":
        actual = tuple(str(c["id"]) for c in o.cautions)
    elif e.kind == "path":
        actual = o.path
    else:  # pragma: no cover - the parser knows no other kind
        raise ValueError(f"unknown expectation {e.kind}")
    missing = tuple(n for n in names if n not in actual)
    if e.kind == "none":
        present = tuple(n for n in names if n in actual)
        return Failure(e, names, actual, (), present) if present else None
    if e.kind == "only":
        extra = tuple(a for a in actual if a not in names)
        return Failure(e, names, actual, missing, extra) if missing or extra else None
    if e.kind == "path":
        if actual == names:
            return None
        return Failure(e, names, actual, missing, tuple(n for n in actual if n not in names))
    return Failure(e, names, actual, missing) if missing else None


# ----------------------------------------------------------------------------- coverage


@dataclass(frozen=True, slots=True)
class BranchRef:
    """A branch of a decision (``index`` None for `otherwise`) and where it is."""

    decision: str
    index: int | None
    text: str
    line: int


@dataclass(frozen=True)
class Coverage:
    """What the cases reach, and what they do not."""

    branches: tuple[BranchRef, ...]
    steps: tuple[m.Step, ...]
    actions: tuple[m.Action, ...]
    taken: frozenset[tuple[str, int | None]] = field(default_factory=frozenset)
    reached: frozenset[str] = field(default_factory=frozenset)
    recommended: frozenset[str] = field(default_factory=frozenset)

    @property
    def untaken(self) -> list[BranchRef]:
        """Branches no case takes."""
        return [b for b in self.branches if (b.decision, b.index) not in self.taken]

    @property
    def unreached(self) -> list[m.Step]:
        """Steps no case reaches."""
        return [s for s in self.steps if s.id not in self.reached]

    @property
    def unrecommended(self) -> list[m.Action]:
        """Recommendable actions that no case recommends."""
        return [a for a in self.actions if a.id not in self.recommended]

    @property
    def complete(self) -> bool:
        """True when every branch, step and action is covered."""
        return not (self.untaken or self.unreached or self.unrecommended)

    @property
    def total(self) -> int:
        """How many branches, steps and actions there are to cover."""
        return len(self.branches) + len(self.steps) + len(self.actions)

    @property
    def covered(self) -> int:
        """How many of them the cases cover."""
        return self.total - len(self.untaken) - len(self.unreached) - len(self.unrecommended)

    @property
    def percent(self) -> float:
        """The share covered, in percent (100 when there is nothing to cover)."""
        return 100.0 * self.covered / self.total if self.total else 100.0


def coverage(model: m.Model, results: Iterable[CaseResult]) -> Coverage:
    """The branches, steps and actions the cases reach."""
    branches: list[BranchRef] = []
    for d in model.decisions():
        for b in d.branches:
            branches.append(BranchRef(d.id, b.index, f"when {b.condition.text}", b.span.line))
        if d.otherwise is not None:
            branches.append(BranchRef(d.id, None, "otherwise", d.otherwise.span.line))
    recommendable: list[str] = []
    for s in model.steps():
        for site in s.recommends:
            recommendable.extend(a for a in site.actions if a not in recommendable)
    actions = tuple(a for a in model.actions.values() if a.id in recommendable)
    taken: set[tuple[str, int | None]] = set()
    reached: set[str] = set()
    recommended: set[str] = set()
    for r in results:
        if r.outcome is None:
            continue
        reached.update(r.outcome.path)
        recommended.update(r.outcome.actions)
        taken.update(r.outcome.branches)
    return Coverage(tuple(branches), model.steps(), actions, frozenset(taken),
                    frozenset(reached), frozenset(recommended))


# ----------------------------------------------------------------------------- rendering


_KIND_WORDS = {
    "some": "expect",
    "none": "expect no",
    "only": "expect only",
    "pending": "expect pending",
    "pending_at": "expect pending at",
    "caution": "expect caution",
    "path": "expect path",
}


def expectation_text(e: m.Expectation) -> str:
    """An expectation as written in the source."""
    if e.kind in ("only", "pending") and not e.names:
        return f"{_KIND_WORDS[e.kind]} nothing"
    return f"{_KIND_WORDS.get(e.kind, 'expect')} {', '.join(e.names)}"


def _listed(names: tuple[str, ...], sep: str = ", ") -> str:
    return sep.join(names) if names else "(nothing)"


def render_case(result: CaseResult, filename: str | None = None) -> list[str]:
    """``PASS  title`` or ``FAIL  title`` and, on failure, what was expected and what happened."""
    case = result.case
    where = f"  ({filename}:{case.span.line})" if filename else ""
    if result.passed:
        return [f"PASS  {case.title}"]
    lines = [f"FAIL  {case.title}{where}"]
    if result.outcome is None:
        lines.append("      the case's patient is not valid:")
        lines.extend(f"        {p}" for p in result.problems)
        return lines
    o = result.outcome
    for s in o.stuck:
        lines.append(f"      the decision `{s['decision']}` is stuck ({s['reason']}): the "
                     "guideline has a finding that `guidec check` reports")
    for f in result.failures:
        e = f.expectation
        lines.append(f"      line {e.span.line}: {expectation_text(e)}")
        sep = " -> " if e.kind == "path" else ", "
        lines.append(f"        expected: {_listed(f.expected, sep)}")
        lines.append(f"        actual:   {_listed(f.actual, sep)}")
        if e.kind == "none":
            lines.append(f"        + recommended but should not be: {', '.join(f.unexpected)}")
            continue
        if f.missing:
            lines.append(f"        - missing:    {', '.join(f.missing)}")
        if f.unexpected:
            lines.append(f"        + unexpected: {', '.join(f.unexpected)}")
    if result.failures:
        lines.append(f"      path: {' -> '.join(o.path)}")
        if o.pending:
            lines.append(f"      pending: {pending_text(o)}")
    return lines


def pending_text(o: it.Outcome) -> str:
    """``decision (input, ...); ...`` for the pending parts of an outcome."""
    parts = []
    for p in o.pending:
        inputs = p["inputs"]
        assert isinstance(inputs, list)
        parts.append(f"{p['decision']} ({', '.join(map(str, inputs))})")
    return "; ".join(parts)


def render_coverage(cov: Coverage) -> list[str]:
    """A coverage line, then one line per branch, step and action that no case reaches."""
    nb, ns, na = len(cov.branches), len(cov.steps), len(cov.actions)
    lines = [f"coverage: {nb - len(cov.untaken)}/{nb} branches, "
             f"{ns - len(cov.unreached)}/{ns} steps, "
             f"{na - len(cov.unrecommended)}/{na} actions ({cov.percent:.1f}%)"]
    for b in cov.untaken:
        lines.append(f"  branch not taken:         {b.decision}: {b.text} (line {b.line})")
    for s in cov.unreached:
        lines.append(f"  step not reached:         {s.id} (line {s.span.line})")
    for a in cov.unrecommended:
        lines.append(f"  action never recommended: {a.id} (line {a.span.line})")
    return lines
