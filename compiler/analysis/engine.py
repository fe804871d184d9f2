"""The query engine: goals, the shared state of one run (the encoding and its solver, candidate
patients, incremental solving, unsat-core explanations), the check protocol and z3's resource
limit."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import z3

from compiler import model as m
from compiler import units
from compiler.analysis import settings
from compiler.analysis.patients import _in_domain, _json_number, _pools, _rounder, witness_json
from compiler.analysis.trace import trace
from compiler.analysis.wording import WitnessError, _cap_undecided, _fact, internal, undecided
from compiler.encode import Encoding
from compiler.interpreter import (
    InvalidPatient,
    Outcome,
    evaluate_expr,
    evaluate_values,
    validate,
)
from compiler.limits import Cancel, Deadline, limited_check
from compiler.solver.pathway import Fact, Paths
from compiler.solver.terms import Z
from dsl.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from compiler.analysis.trace import Trace


@dataclass(eq=False)
class Goal:
    """A question about some patient: ``build`` says it to the solver over a copy of the
    pathway, ``test`` says it of one patient's trace. ``watch`` says when to test it: when
    ``node`` is reached, pending or stuck, or (``always``) for every patient."""

    key: tuple[object, ...]
    build: Callable[[Paths], Z]
    test: Callable[[Trace], bool]
    violation: bool
    watch: str
    node: str | None
    status: str | None = None  # sat, unsat, unknown, error
    values: dict[str, m.Value] | None = None
    formula: Z = None
    error: str | None = None

    def met(self, tr: Trace) -> bool:
        """Whether this patient meets the goal (its watch condition, then its test)."""
        if self.watch == "reached" and self.node not in tr.reached:
            return False
        if self.watch == "pending" and all(n != self.node for n, _ in tr.pending):
            return False
        if self.watch == "stuck" and tr.decided.get(self.node or "", ("",))[0] not in (
                "overlap", "gap"):
            return False
        return self.test(tr)

    def fail(self, exc: BaseException) -> None:
        """This goal could not be asked (an internal failure of its check)."""
        self.status = "error"
        self.error = f"{type(exc).__name__}: {exc}"


@dataclass
class _Explanation:
    check: str
    build: Callable[[Paths], Z]
    make: Callable[[list[Fact] | None], Diagnostic]


class Analysis:
    """The shared state of one run: the encoding, its solver, the goals and the witnesses."""

    def __init__(self, model: m.Model, rlimit: int = settings.DEFAULT_RLIMIT,
                 rlimit_per_unit: int = settings.RLIMIT_PER_UNIT,
                 max_regions: int | None = settings.MAX_REGIONS,
                 fuzz: bool = True, cancel: Cancel | None = None) -> None:
        self.model = model
        self.enc = Encoding(model)
        if cancel is not None:
            cancel.attach(self.enc.ctx)
        self.solver = self.enc.solver
        units = (len(model.pathway.nodes) + len(model.inputs) + len(model.assumptions)
                 + sum(len(d.branches) for d in model.decisions())
                 + sum(len(s.recommends) for s in model.steps())
                 + len(model.nevers) + len(model.requires) + len(model.conflicts))
        self.budget = rlimit + rlimit_per_unit * units
        self.max_regions = max_regions
        self.fuzz = fuzz
        self.goals: dict[tuple[object, ...], Goal] = {}
        self._watch: dict[tuple[str, str | None], list[Goal]] = {}
        self.explanations: list[_Explanation] = []
        self.structural = _structurally_reached(model)
        self.structural_set = set(self.structural)
        self.witnessed: dict[str, int] = {}
        self._cumulative = _rlimit_is_cumulative()
        self.queries = 0
        self.unknowns = 0
        self.deadline = Deadline(cancel=cancel)

    # ------------------------------------------------------------------ goals
    def goal(self, key: tuple[object, ...], build: Callable[[Paths], Z],
             test: Callable[[Trace], bool], violation: bool, watch: str,
             node: str | None) -> Goal:
        """Register a goal (once per key; a second check asking the same shares it)."""
        g = self.goals.get(key)
        if g is None:
            g = Goal(key, build, test, violation, watch, node)
            self.goals[key] = g
            self._watch.setdefault((watch, node), []).append(g)
        return g

    def observe(self, values: Mapping[str, m.Value]) -> int:
        """Trace one valid patient and settle every open goal it meets; how many it settled."""
        tr = trace(self.model, values)
        keys: list[tuple[str, str | None]] = [("always", None)]
        keys += [("reached", n) for n in tr.reached]
        keys += [("pending", n) for n, _ in tr.pending]
        keys += [("stuck", d) for d, (kind, _) in tr.decided.items()
                 if kind in ("overlap", "gap")]
        settled = 0
        for k in keys:
            bucket = self._watch.get(k)
            if not bucket:
                continue
            rest = []
            for g in bucket:
                if g.status is not None:
                    continue
                try:
                    met = g.test(tr)
                except Exception as exc:
                    g.fail(exc)
                    continue
                if met:
                    g.status = "sat"
                    g.values = dict(values)
                    settled += 1
                else:
                    rest.append(g)
            self._watch[k] = rest
        return settled

    def open_goals(self) -> list[Goal]:
        """The goals not yet settled."""
        return [g for g in self.goals.values() if g.status is None]

    def main_formula(self, g: Goal) -> Z:
        """The goal over the main pathway (cached); FALSE when it cannot be built (the goal
        then fails: an internal failure of its check)."""
        if g.formula is None:
            try:
                g.formula = g.build(self.enc.main)
            except Exception as exc:
                g.fail(exc)
                return self.enc.FALSE
        return g.formula

    # ------------------------------------------------------------------ the solver
    @property
    def exhausted(self) -> bool:
        """Whether the run may ask no more questions: too many, too many undecided, or its
        time is up (the questions left are then undecided, W510)."""
        return (self.queries >= settings.MAX_QUERIES or self.unknowns >= settings.MAX_UNKNOWN
                or self.deadline.expired)

    def query(self, formula: Z, assumptions: Iterable[Z] = ()) -> tuple[str, Z]:
        """Check ``formula`` in a scope of its own, within the resource limit."""
        s = self.solver
        self.queries += 1
        limit = self.budget
        if self._cumulative:
            limit += int(s.statistics().get_key_value("rlimit count"))
        s.push()
        try:
            s.add(formula)
            r = limited_check(s, list(assumptions), limit, self.deadline)
            zm = s.model() if r == z3.sat else None
            if r == z3.unknown:
                self.unknowns += 1
            return str(r), zm
        finally:
            s.pop()

    def resolve(self) -> None:
        """Settle every open goal with the solver (see the module docstring).

        Coverage goals (usually possible) and violation goals (usually impossible) are asked
        about separately, each first all at once: for a sound guideline one "unsat" settles a
        whole group. When a patient settles only a little of a big group (each finding needs a
        patient of its own), the rest is asked about in batches, which the solver answers
        faster than one huge disjunction.
        """
        for violation in (False, True):
            goals = [g for g in self.open_goals() if g.violation is violation]
            if goals:
                self._resolve(goals)

    def _resolve(self, goals: list[Goal]) -> None:
        groups = [goals]
        while groups:
            group = [g for g in groups.pop() if g.status is None]
            for g in group:
                self.main_formula(g)
            group = [g for g in group if g.status is None]
            if not group:
                continue
            if self.exhausted:
                for g in group:
                    g.status = "unknown"
                continue
            r, zm = self.query(self.enc.disj(*(self.main_formula(g) for g in group)))
            if r == "sat":
                values = self.enc.patient(zm)
                before = len(group)
                if not self._valid(values) or self.observe(values) == 0 or \
                        all(g.status is None for g in group):
                    # The solver's patient meets a goal that its trace does not: report the
                    # disagreement on the goals the model satisfies rather than loop.
                    for g in group:
                        if g.status is None and z3.is_true(
                                zm.eval(self.main_formula(g), model_completion=True)):
                            g.status = "error"
                rest = [g for g in group if g.status is None]
                if len(rest) > settings.RESOLVE_BATCH and before - len(rest) < len(group) // 20:
                    groups += [rest[k:k + settings.RESOLVE_BATCH]
                               for k in range(0, len(rest), settings.RESOLVE_BATCH)][::-1]
                else:
                    groups.append(rest)
            elif r == "unsat":
                for g in group:
                    g.status = "unsat"
            elif len(group) == 1:
                group[0].status = "unknown"
            else:
                half = len(group) // 2
                groups += [group[half:], group[:half]]

    # ------------------------------------------------------------------ patients
    def _valid(self, values: Mapping[str, m.Value]) -> bool:
        for name, inp in self.model.inputs.items():
            v = values.get(name)
            if v is None:
                if not inp.optional:
                    return False
                continue
            if not _in_domain(inp, v):
                return False
        return all(evaluate_expr(a.condition.expr, values) is not False
                   for a in self.model.assumptions)

    def seed(self) -> None:
        """Settle goals with the guideline's own patients and cases, then boundary values."""
        for p in self.model.patients.values():
            self._try(p.values)
        for c in self.model.cases:
            self._try(c.patient)
        if not self.fuzz:
            return
        rng = random.Random(20260124)
        pools = _pools(self.model)
        for _ in range(settings.FUZZ_BATCHES):
            if not self.open_goals():
                return
            settled = 0
            for _ in range(settings.FUZZ_BATCH):
                values = {name: rng.choice(pool) for name, pool in pools.items()}
                if self._valid(values):
                    settled += self.observe(values)
            if settled == 0:
                return

    def _try(self, patient: Mapping[str, object]) -> None:
        try:
            values = validate(self.model, patient)
        except InvalidPatient:
            return
        self.observe(values)

    def witness(self, values: Mapping[str, m.Value], keep: Callable[[Trace], bool],
                confirm: Callable[[Outcome, Mapping[str, m.Value]], bool],
                ) -> tuple[dict[str, object], Outcome]:
        """A readable witness: numbers made rounder while ``keep`` still holds, then re-checked
        with the interpreter (``confirm`` on its outcome); raises :class:`WitnessError`."""
        vals = self.polish(values, keep)
        patient = witness_json(self.model, vals)
        try:
            checked = validate(self.model, patient)
        except InvalidPatient as exc:
            raise WitnessError(f"the witness is not a valid patient: {exc}") from None
        outcome = evaluate_values(self.model, checked)
        if not confirm(outcome, checked):
            raise WitnessError("the interpreter does not confirm the witness "
                               f"{patient} (path {' -> '.join(outcome.path)})")
        return patient, outcome

    def polish(self, values: Mapping[str, m.Value], keep: Callable[[Trace], bool]
               ) -> dict[str, m.Value]:
        """Move numbers into their typical ranges, then try rounder numbers, input by input,
        keeping each change for which ``keep`` (the finding) still holds."""
        vals = self.plausible(values, keep)
        trials = settings.POLISH_TRIALS
        for name, inp in self.model.inputs.items():
            v = vals.get(name)
            if not isinstance(v, Fraction) or isinstance(v, bool):
                continue
            band = typical_band(inp)
            if band is not None and band[0] <= v <= band[1]:
                cands = [c for c in _rounder(v, inp) if band[0] <= c <= band[1]]
            else:
                cands = _rounder(v, inp)
            # A number JSON cannot carry is rounded whatever the budget.
            budget = trials if _json_number(v) is not None else len(cands)
            vals, spent = self._first_kept(vals, name, cands, keep, budget)
            trials -= spent
        return vals

    def plausible(self, values: Mapping[str, m.Value], keep: Callable[[Trace], bool]
                  ) -> dict[str, m.Value]:
        """The witness with each number outside its typical range moved inside where the
        finding allows (greedily, input by input: those the finding needs stay out, and no
        other moves). An input without `typical` counts its declared range's middle half as
        typical, so no witness shows a blood pressure of 0 where 120 serves as well."""
        vals = self._dated(dict(values), keep)
        trials = settings.PLAUSIBLE_TRIALS
        for name, inp in self.model.inputs.items():
            v = vals.get(name)
            band = typical_band(inp)
            if not isinstance(v, Fraction) or band is None or band[0] <= v <= band[1]:
                continue
            vals, spent = self._first_kept(vals, name, _typical_candidates(inp, band, v),
                                           keep, trials)
            trials -= spent
        return vals

    def _dated(self, vals: dict[str, m.Value], keep: Callable[[Trace], bool]
               ) -> dict[str, m.Value]:
        """The witness with its dates and times on the guideline's `updated` day
        (:func:`compiler.units.moved_to`), if the finding still holds there."""
        moments = {name: (int(v), self.model.inputs[name].kind == "datetime")
                   for name, v in vals.items()
                   if isinstance(v, Fraction) and self.model.inputs[name].kind in
                   ("date", "datetime")}
        for moved in units.moved_to(moments, self.model.meta.updated):
            trial = {**vals, **{name: Fraction(v) for name, v in moved.items()}}
            if self._valid(trial) and keep(trace(self.model, trial)):
                return trial
        return vals

    def _first_kept(self, vals: dict[str, m.Value], name: str, candidates: list[Fraction],
                    keep: Callable[[Trace], bool], budget: int
                    ) -> tuple[dict[str, m.Value], int]:
        """``vals`` with ``name`` set to the first candidate that makes a valid patient for
        whom ``keep`` still holds (each trace tried counts against ``budget``), and the
        traces spent."""
        spent = 0
        for c in candidates:
            if spent >= budget:
                break
            trial = {**vals, name: c}
            if not self._valid(trial):
                continue
            spent += 1
            if keep(trace(self.model, trial)):
                return trial, spent
        return vals, spent

    # ------------------------------------------------------------------ explanations
    def explain(self, check: str, build: Callable[[Paths], Z],
                make: Callable[[list[Fact] | None], Diagnostic]) -> None:
        """Ask for the conditions that make ``build`` impossible; ``make`` gets them (or
        None when they cannot be found) once every check has reported."""
        self.explanations.append(_Explanation(check, build, make))

    def core(self, formula: Z, lits: list[Z], facts: Mapping[int, Fact]) -> list[Fact] | None:
        """The tracked facts that together make ``formula`` impossible (small, not minimum)."""
        q = z3.Bool(f"explain!{len(self.explanations)}!{self.queries}", self.enc.ctx)
        s = self.solver
        s.push()
        try:
            s.add(self.enc.implies(q, formula))
            r, _ = self._check_assuming([q, *lits])
            if r != "unsat":
                return None
            core_ids = {c.get_id() for c in s.unsat_core()}
            core = [x for x in lits if x.get_id() in core_ids]
            if len(core) <= 16:
                i = 0
                while i < len(core):
                    trial = core[:i] + core[i + 1:]
                    r, _ = self._check_assuming([q, *trial])
                    if r == "unsat":
                        ids = {c.get_id() for c in s.unsat_core()}
                        core = [x for x in trial if x.get_id() in ids]
                    else:
                        i += 1
            return [facts[x.get_id()] for x in core]
        finally:
            s.pop()

    def _check_assuming(self, assumptions: list[Z]) -> tuple[str, Z]:
        s = self.solver
        self.queries += 1
        limit = self.budget
        if self._cumulative:
            limit += int(s.statistics().get_key_value("rlimit count"))
        r = limited_check(s, assumptions, limit, self.deadline)
        if r == z3.unknown:
            self.unknowns += 1
        return str(r), None

    def run_explanations(self) -> list[Diagnostic]:
        """Explain every requested unsat finding (the literals' scope is already popped)."""
        if not self.explanations:
            return []
        out: list[Diagnostic] = []
        tracked = self.enc.paths(tracked=True)
        facts = [*self.enc.facts, *tracked.facts]
        by_id = {f.literal.get_id(): f for f in facts}
        lits = [f.literal for f in facts]
        self.solver.push()
        try:
            self.solver.add(*tracked.definitions)
            for i, ex in enumerate(self.explanations):
                try:
                    found = self.core(ex.build(tracked), lits, by_id) \
                        if i < settings.MAX_EXPLAINED and not self.exhausted else None
                    out.append(ex.make(found))
                except Exception as exc:
                    out.append(internal(ex.check, exc, self.model))
        finally:
            self.solver.pop()
        return out

    # ------------------------------------------------------------------ running
    def run(self, kinds: Sequence[type[Check]] | None = None) -> list[Diagnostic]:
        """Every check (``kinds``: by default ``compiler.analysis.CHECKS``), in order; each
        check's failure is an E511 and the others still run."""
        if kinds is None:
            from compiler.analysis import CHECKS

            kinds = CHECKS
        diags: list[Diagnostic] = []
        s = self.solver
        s.push()
        popped = False
        try:
            s.add(*self.enc.domain_literals())
            r, zm = self.query(self.enc.TRUE)
            if r == "unsat":
                s.pop()
                popped = True
                return [self._no_patient()]
            if r != "sat":
                return [undecided("whether any patient meets the assumptions",
                                  "assumptions", self.model.pathway.span, None)]
            checks: list[Check] = []
            for cls in kinds:
                c = cls()
                try:
                    c.goals(self)
                    checks.append(c)
                except Exception as exc:
                    diags.append(internal(c.name, exc, self.model))
            try:
                self.observe(self.enc.patient(zm))
                self.seed()
                self.resolve()
            except Exception as exc:
                for g in self.open_goals():
                    g.fail(exc)
            for c in checks:
                try:
                    diags += c.report(self)
                except Exception as exc:
                    diags.append(internal(c.name, exc, self.model))
        finally:
            if not popped:
                s.pop()
        diags += self.run_explanations()
        return _cap_undecided(diags)

    def _no_patient(self) -> Diagnostic:
        by_id = {f.literal.get_id(): f for f in self.enc.facts}
        lits = [f.literal for f in self.enc.facts]
        found = self.core(self.enc.TRUE, lits, by_id)
        first = self.model.assumptions[0].span if self.model.assumptions else \
            self.model.pathway.span
        notes: list[str] = []
        if found:
            first = min((f.span for f in found if f.kind == "assumption"), default=first,
                        key=lambda sp: (sp.line, sp.column))
            notes.append("these cannot all hold: " + "; ".join(_fact(f) for f in found))
        return Diagnostic("E508", Severity.ERROR, "no patient satisfies the assumptions", first,
                          "relax or remove one of these assumptions", tuple(notes))


class Check:
    """One check: it registers goals, then reports from their outcome."""

    name = "check"

    def goals(self, a: Analysis) -> None:
        """Register the goals this check needs."""

    def report(self, a: Analysis) -> list[Diagnostic]:
        """Diagnostics from the settled goals."""
        return []


def typical_band(inp: m.Input) -> tuple[Fraction, Fraction] | None:
    """Where a plausible value of a numeric input lies: its `typical` range, else the middle
    half of a range bounded at both ends (None: no preference)."""
    if inp.typical is not None:
        return inp.typical
    if inp.kind not in ("integer", "number") or inp.low is None or inp.high is None:
        return None
    quarter = (inp.high - inp.low) / 4
    return inp.low + quarter, inp.high - quarter


def _typical_candidates(inp: m.Input, band: tuple[Fraction, Fraction],
                        v: Fraction) -> list[Fraction]:
    """Values to try for ``v`` inside ``band``: the nearest end, then the middle; each
    rounded where the input allows."""
    lo, hi = band
    near = lo if v < lo else hi
    out: list[Fraction] = []
    for c in (near, (lo + hi) / 2):
        for r in [*_rounder(c, inp), c]:
            if lo <= r <= hi and _in_domain(inp, r) and r not in out:
                out.append(r)
                break
    return out


def _structurally_reached(model: m.Model) -> list[str]:
    p = model.pathway
    seen: set[str] = set()
    todo = [t for t in p.start if t in p.nodes]
    while todo:
        cur = todo.pop()
        if cur not in seen:
            seen.add(cur)
            todo.extend(t for t in p.successors(cur) if t in p.nodes)
    return [n for n in p.nodes if n in seen]


_CUMULATIVE: bool | None = None


def _rlimit_is_cumulative() -> bool:
    """Whether this z3 counts ``rlimit`` over the solver's life rather than per check (it has
    differed between versions); measured once with a tiny solver."""
    global _CUMULATIVE
    if _CUMULATIVE is None:
        ctx = z3.Context()
        s = z3.Solver(ctx=ctx)
        x = z3.Int("x", ctx)
        s.add(x > 0, x < 100)
        s.set("rlimit", 5000)
        results = []
        for k in range(20):
            s.push()
            s.add(x != k)
            results.append(s.check())
            s.pop()
        _CUMULATIVE = results[0] == z3.sat and results[-1] != z3.sat
    return _CUMULATIVE
