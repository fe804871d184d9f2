"""Static analysis with a solver: every logic defect of a guideline, each with a witness patient.

``analyze(model)`` runs after the name, type and graph checks (``compiler.check`` calls it when
there is no error). It proves, over every patient the inputs and assumptions allow:

====  ========  ==============================================================================
code  severity  finding
====  ========  ==============================================================================
W501  warning   a branch, `otherwise` or conditional recommendation that can never apply
W502  warning   a branch of a `first` decision that earlier branches cover (shadowed)
E503  error     two branches of a `unique` decision that one patient matches (overlap)
E504  error     a decision without `otherwise` that some patients match no branch of (gap)
E505  error     `conflict A, B` broken: one patient is recommended both
E506  error     `never A when C` broken: A is recommended where C may hold
E507  error     `require A when C` broken: C definitely holds and A is not recommended
E508  error     assumptions that no patient satisfies
I509  info      a decision or step that can be pending, and on which inputs
W510  warning   a question the solver could not decide within its resource limit
E511  error     an internal failure of one check (the other checks still run)
====  ========  ==============================================================================

How it works (see ``compiler.encode`` for the encoding). Each check registers *goals*: a z3
formula over the pathway and a test of the same thing on one patient's :class:`Trace`. Coverage
goals (a node is reached, a branch taken, a recommendation applies, a decision waits) are
expected to be possible; violation goals (overlap, gap, a broken rule) are expected to be
impossible. Candidate patients (the guideline's own patients and cases, then boundary values
chosen deterministically) settle most goals without the solver. One incremental solver then
settles the rest: it is asked for a patient meeting *any* open goal; a patient settles at least
one (usually many) and the question is asked again; "unsat" settles every open goal at once,
"unknown" (resource limit) splits the goals in halves, and a single undecided goal is a W510.
So a sound guideline costs a handful of solver queries, whatever its size. Every witness is
re-checked with the reference interpreter; unsat findings are explained from an unsat core over
tracked conditions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3

from compiler import model as m
from compiler.encode import Encoding, Fact, Paths, Z
from compiler.interpreter import (
    InvalidPatient,
    Outcome,
    evaluate_expr,
    evaluate_values,
    unknown_inputs,
    validate,
)
from compiler.limits import Deadline, interruptible, limited_check
from compiler.types import to_text, value_text
from dsl.ast import Span
from dsl.diagnostics import Diagnostic, Severity

#: Resource limit of one solver query: a base plus a share per unit of guideline size
#: (nodes, branches, recommendations, rules, inputs), so results repeat on any machine.
DEFAULT_RLIMIT = 20_000_000
RLIMIT_PER_UNIT = 5_000
#: Gap regions described per decision.
MAX_REGIONS = 5
#: Unsat findings explained from a core (the others say so).
MAX_EXPLAINED = 50
#: Findings per check shown with a witness (each is re-checked by the interpreter); the others
#: are still reported, without one.
MAX_WITNESSES = 100
#: Solver queries per run, and queries that may run out of resources (each costs a whole
#: budget): past either, the goals still open are undecided (W510), so a run always ends soon.
MAX_QUERIES = 3000
MAX_UNKNOWN = 16
FUZZ_BATCH = 16
FUZZ_BATCHES = 8
POLISH_TRIALS = 12
#: Goals per solver query once a big group turns out to need a patient per goal.
RESOLVE_BATCH = 256

__all__ = ["CHECKS", "Trace", "analyze", "model_of", "trace"]


# ============================================================================ one patient


@dataclass
class Trace:
    """What happens to one patient, as :mod:`compiler.interpreter` decides it, without wording.

    ``decided`` maps a reached decision to how it went: ``("taken", (i,))``,
    ``("otherwise", ())``, ``("pending", waiting branches)``, ``("overlap", true branches)`` or
    ``("gap", ())``. The analysis runs this for many candidate patients: conditions are compiled
    once (:func:`compile_condition`, the interpreter's Kleene logic) and the interpreter's result
    wording is skipped. Every witness the analysis shows is re-checked with the interpreter.
    """

    values: Mapping[str, m.Value]
    reached: set[str] = field(default_factory=set)
    decided: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    fired: set[tuple[str, int]] = field(default_factory=set)
    recommended: frozenset[str] = frozenset()
    pending: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    truth: dict[int, m.Value] = field(default_factory=dict)
    fast: dict[str, object] = field(default_factory=dict)

    def holds(self, cond: m.Condition) -> m.Value:
        """The three-valued value of a pathway condition for this patient (memoised)."""
        key = id(cond.expr)
        if key in self.truth:
            return self.truth[key]
        v = _compiled(cond.expr)(self.fast)
        self.truth[key] = v  # type: ignore[assignment]
        return v  # type: ignore[return-value]

    def rule(self, cond: m.Condition | None) -> m.Value:
        """A rule condition (it may ask which actions are recommended); None means always."""
        if cond is None:
            return True
        return evaluate_expr(cond.expr, self.values, self.recommended)

    def pending_on(self, node: str, name: str) -> bool:
        """Whether ``node`` waits for the input ``name``."""
        return any(n == node and name in inputs for n, inputs in self.pending)


def trace(model: m.Model, values: Mapping[str, m.Value]) -> Trace:
    """Walk the pathway for validated ``values`` (see :func:`compiler.interpreter.validate`)."""
    return _walker(model).walk(values)


class _Walker:
    """A model's pathway with every condition compiled once, walked per patient."""

    def __init__(self, model: m.Model) -> None:
        self.model = model
        self.start = [n for n in model.pathway.start if n in model.pathway.nodes]
        self.steps: dict[str, tuple[list[tuple[m.RecommendSite, Fn | None]], tuple[str, ...]]] = {}
        self.decisions: dict[str, tuple[m.Decision, list[tuple[int, Fn]]]] = {}
        for nid, node in model.pathway.nodes.items():
            if isinstance(node, m.Step):
                self.steps[nid] = ([(site, compile_condition(site.condition.expr)
                                     if site.condition is not None else None)
                                    for site in node.recommends], node.next)
            elif isinstance(node, m.Decision):
                self.decisions[nid] = (node, [(id(b.condition.expr),
                                               compile_condition(b.condition.expr))
                                              for b in node.branches])

    def walk(self, values: Mapping[str, m.Value]) -> Trace:
        t = Trace(values)
        # Whole numbers compare as ints: exact, and much faster than Fraction.
        fast: dict[str, object] = {
            k: (int(v) if isinstance(v, Fraction) and v.denominator == 1 else v)
            for k, v in values.items()}
        t.fast = fast
        truth = t.truth
        reached = t.reached
        recs: set[str] = set()
        todo = list(self.start)
        while todo:
            nid = todo.pop()
            if nid in reached:
                continue
            reached.add(nid)
            step = self.steps.get(nid)
            if step is not None:
                sites, nxt = step
                for site, fn in sites:
                    held = True if fn is None else fn(fast)
                    if held is True:
                        t.fired.add((nid, site.index))
                        recs.update(site.actions)
                    elif held is None:
                        assert site.condition is not None
                        truth[id(site.condition.expr)] = None
                        t.pending.append((nid, unknown_inputs(site.condition.expr, values)))
                    elif site.condition is not None:
                        truth[id(site.condition.expr)] = held  # type: ignore[assignment]
                todo.extend(nxt)
                continue
            dec = self.decisions.get(nid)
            if dec is None:
                continue
            node, fns = dec
            results: list[object] = []
            for key, fn in fns:
                r = fn(fast)
                truth[key] = r  # type: ignore[assignment]
                results.append(r)
            kind, idx = _decide(node, results)
            t.decided[nid] = (kind, idx)
            if kind == "taken":
                todo.extend(node.branches[idx[0]].targets)
            elif kind == "otherwise":
                assert node.otherwise is not None
                todo.extend(node.otherwise.targets)
            elif kind == "pending":
                inputs: list[str] = []
                for i in idx:
                    expr = node.branches[i].condition.expr
                    inputs.extend(x for x in unknown_inputs(expr, values) if x not in inputs)
                t.pending.append((nid, tuple(inputs)))
        t.recommended = frozenset(recs)
        return t


_WALKERS: dict[int, tuple[m.Model, _Walker]] = {}


def _walker(model: m.Model) -> _Walker:
    hit = _WALKERS.get(id(model))
    if hit is None or hit[0] is not model:
        _WALKERS.clear()
        _COMPILED.clear()
        hit = (model, _Walker(model))
        _WALKERS[id(model)] = hit
    return hit[1]


def _decide(d: m.Decision, results: list[object]) -> tuple[str, tuple[int, ...]]:
    if d.policy == "first":
        for i, r in enumerate(results):
            if r is True:
                return "taken", (i,)
            if r is None:
                return "pending", (i,)
    else:
        trues = tuple(i for i, r in enumerate(results) if r is True)
        if len(trues) > 1:
            return "overlap", trues
        unknown = tuple(i for i, r in enumerate(results) if r is None)
        if unknown:
            return "pending", unknown
        if trues:
            return "taken", trues
    if d.otherwise is not None:
        return "otherwise", ()
    return "gap", ()


Fn = Callable[[Mapping[str, object]], object]
_COMPILED: dict[int, tuple[m.Expr, Fn]] = {}


def _compiled(e: m.Expr) -> Fn:
    hit = _COMPILED.get(id(e))
    if hit is None or hit[0] is not e:
        hit = (e, compile_condition(e))
        _COMPILED[id(e)] = hit
    return hit[1]


def compile_condition(e: m.Expr) -> Fn:
    """A Python function of the patient's values equal to ``evaluate_expr(e, values)`` (for
    pathway conditions: no `is recommended`), with Kleene logic and ``None`` for unknown."""
    if isinstance(e, m.InputRef):
        name = e.name
        return lambda v: v.get(name)
    if isinstance(e, m.Const):
        c: object = e.value
        if isinstance(c, Fraction) and c.denominator == 1:
            c = int(c)
        return lambda v: c
    if isinstance(e, m.LetRef):
        # A let read twice (or by a chain of lets each read twice) is computed once per
        # patient: its value is kept in the patient's (fresh, per walk) value dict.
        inner, key = _compiled(e.expr), ("let", e.name)

        def let_value(v: Mapping[str, object]) -> object:
            try:
                return v[key]  # type: ignore[index]
            except KeyError:
                r = v[key] = inner(v)  # type: ignore[index]
                return r

        return let_value
    if isinstance(e, m.And):
        parts = [compile_condition(o) for o in e.operands]

        def conj(v: Mapping[str, object]) -> object:
            result: object = True
            for f in parts:
                x = f(v)
                if x is False:
                    return False
                if x is None:
                    result = None
            return result
        return conj
    if isinstance(e, m.Or):
        parts = [compile_condition(o) for o in e.operands]

        def disj(v: Mapping[str, object]) -> object:
            result: object = False
            for f in parts:
                x = f(v)
                if x is True:
                    return True
                if x is None:
                    result = None
            return result
        return disj
    if isinstance(e, m.Not):
        f = compile_condition(e.operand)

        def neg(v: Mapping[str, object]) -> object:
            x = f(v)
            return None if x is None else not x
        return neg
    if isinstance(e, m.Known):
        f = compile_condition(e.operand)
        want = e.known
        return lambda v: (f(v) is not None) == want
    if isinstance(e, m.Member):
        f = compile_condition(e.operand)
        allowed = frozenset(e.values)

        def member(v: Mapping[str, object]) -> object:
            x = f(v)
            return None if x is None else x in allowed
        return member
    if isinstance(e, m.Cmp):
        left, right, op = compile_condition(e.left), compile_condition(e.right), m.COMPARISONS[e.op]

        def cmp(v: Mapping[str, object]) -> object:
            a, b = left(v), right(v)
            if a is None or b is None:
                return None
            return op(a, b)
        return cmp
    if isinstance(e, m.Arith):
        left, right = compile_condition(e.left), compile_condition(e.right)
        plus = e.op == "+"

        def arith(v: Mapping[str, object]) -> object:
            a, b = left(v), right(v)
            if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
                return None
            assert isinstance(a, int | Fraction) and isinstance(b, int | Fraction)
            return a + b if plus else a - b
        return arith
    if isinstance(e, m.Scale):
        f = compile_condition(e.operand)
        factor = e.factor

        def scale(v: Mapping[str, object]) -> object:
            x = f(v)
            if x is None or isinstance(x, bool):
                return None
            assert isinstance(x, int | Fraction)
            return x * factor
        return scale
    raise TypeError(f"{type(e).__name__} cannot be compiled for a pathway condition")


# ============================================================================ goals


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


class WitnessError(Exception):
    """The interpreter does not confirm what the solver found (an internal failure)."""


@dataclass
class _Explanation:
    check: str
    build: Callable[[Paths], Z]
    make: Callable[[list[Fact] | None], Diagnostic]


class Analysis:
    """The shared state of one run: the encoding, its solver, the goals and the witnesses."""

    def __init__(self, model: m.Model, rlimit: int = DEFAULT_RLIMIT,
                 rlimit_per_unit: int = RLIMIT_PER_UNIT, max_regions: int = MAX_REGIONS,
                 fuzz: bool = True) -> None:
        self.model = model
        self.enc = Encoding(model)
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
        self.deadline = Deadline()

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
        return (self.queries >= MAX_QUERIES or self.unknowns >= MAX_UNKNOWN
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
                if len(rest) > RESOLVE_BATCH and before - len(rest) < len(group) // 20:
                    groups += [rest[k:k + RESOLVE_BATCH]
                               for k in range(0, len(rest), RESOLVE_BATCH)][::-1]
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
        for _ in range(FUZZ_BATCHES):
            if not self.open_goals():
                return
            settled = 0
            for _ in range(FUZZ_BATCH):
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
        """Try rounder numbers, input by input, keeping those for which ``keep`` holds."""
        vals = dict(values)
        trials = POLISH_TRIALS
        for name, inp in self.model.inputs.items():
            v = vals.get(name)
            if not isinstance(v, Fraction) or isinstance(v, bool):
                continue
            for c in _rounder(v, inp):
                if trials <= 0 and _json_number(v) is not None:
                    break
                trial = {**vals, name: c}
                if not self._valid(trial):
                    continue
                trials -= 1
                if keep(trace(self.model, trial)):
                    vals = trial
                    break
        return vals

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
                        if i < MAX_EXPLAINED and not self.exhausted else None
                    out.append(ex.make(found))
                except Exception as exc:
                    out.append(internal(ex.check, exc, self.model))
        finally:
            self.solver.pop()
        return out

    # ------------------------------------------------------------------ running
    def run(self) -> list[Diagnostic]:
        """Every check, in order; each check's failure is an E511 and the others still run."""
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
            for cls in CHECKS:
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


# ============================================================================ the checks


class Check:
    """One check: it registers goals, then reports from their outcome."""

    name = "check"

    def goals(self, a: Analysis) -> None:
        """Register the goals this check needs."""

    def report(self, a: Analysis) -> list[Diagnostic]:
        """Diagnostics from the settled goals."""
        return []


# -- goal builders (closures over their arguments, so each goal keeps its own node and index)


def _g_reach(a: Analysis, nid: str) -> Goal:
    return a.goal(("reach", nid), lambda p: p.reached[nid], lambda tr: True, False, "reached",
                  nid)


def _holds_f(a: Analysis, d: m.Decision, i: int) -> Callable[[Paths], Z]:
    return lambda p: a.enc.conj(p.reached[d.id], p.branch_tf[d.id][i][0])


def _clear_f(a: Analysis, d: m.Decision, i: int) -> Callable[[Paths], Z]:
    enc = a.enc
    return lambda p: enc.conj(p.reached[d.id], p.branch_tf[d.id][i][0],
                              *(enc.neg(t) for t, _ in p.branch_tf[d.id][:i]))


def _alone_f(a: Analysis, d: m.Decision, i: int) -> Callable[[Paths], Z]:
    enc = a.enc
    return lambda p: enc.conj(p.reached[d.id], p.branch_tf[d.id][i][0],
                              *(enc.neg(t) for j, (t, _) in enumerate(p.branch_tf[d.id])
                                if j != i))


def _taken_f(a: Analysis, d: m.Decision, i: int) -> Callable[[Paths], Z]:
    return lambda p: a.enc.taken(p, d, i)


def _otherwise_f(a: Analysis, d: m.Decision) -> Callable[[Paths], Z]:
    return lambda p: a.enc.conj(p.reached[d.id], a.enc.all_false(p, d))


def _fired_f(a: Analysis, step: str, k: int) -> Callable[[Paths], Z]:
    return lambda p: a.enc.fired(p, step, k)


def _g_branch(a: Analysis, d: m.Decision, b: m.Branch) -> None:
    nid, i = d.id, b.index
    a.goal(("taken", nid, i), _taken_f(a, d, i),
           lambda tr: tr.decided.get(nid) == ("taken", (i,)), False, "reached", nid)
    a.goal(("holds", nid, i), _holds_f(a, d, i),
           lambda tr: tr.holds(b.condition) is True, False, "reached", nid)
    if d.policy == "first" and i > 0:
        a.goal(("clear", nid, i), _clear_f(a, d, i),
               lambda tr: tr.holds(b.condition) is True and all(
                   tr.holds(x.condition) is not True for x in d.branches[:i]),
               False, "reached", nid)
    if d.policy == "unique" and len(d.branches) > 1:
        a.goal(("alone", nid, i), _alone_f(a, d, i),
               lambda tr: tr.holds(b.condition) is True and all(
                   tr.holds(x.condition) is not True for x in d.branches if x.index != i),
               False, "reached", nid)


def _g_decision(a: Analysis, d: m.Decision) -> None:
    _g_reach(a, d.id)
    for b in d.branches:
        _g_branch(a, d, b)


def _g_otherwise(a: Analysis, d: m.Decision) -> None:
    a.goal(("otherwise", d.id), _otherwise_f(a, d),
           lambda tr: tr.decided.get(d.id, ("",))[0] == "otherwise", False, "reached", d.id)


def _g_fired(a: Analysis, step: str, k: int) -> None:
    a.goal(("fired", step, k), _fired_f(a, step, k), lambda tr: (step, k) in tr.fired, False,
           "reached", step)


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


def _g_overlap(a: Analysis, d: m.Decision, i: int, j: int) -> None:
    enc = a.enc
    a.goal(("overlap", d.id, i, j),
           lambda p: enc.conj(p.reached[d.id], enc.both_true(p, d, i, j)),
           lambda tr: _overlaps(tr.decided.get(d.id), i, j), True, "stuck", d.id)


class OverlapCheck(Check):
    """E503: two branches of a `unique` decision that hold for one patient."""

    name = "overlap"

    def goals(self, a: Analysis) -> None:
        for d in _decisions(a):
            if d.policy == "unique":
                for i, j in _pairs(len(d.branches)):
                    _g_overlap(a, d, i, j)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for d in _decisions(a):
            if d.policy != "unique":
                continue
            for i, j in _pairs(len(d.branches)):
                g = a.goals[("overlap", d.id, i, j)]
                bi, bj = d.branches[i], d.branches[j]
                if g.status == "sat":
                    out.append(self._found(a, d, g, bi, bj))
                elif g.status == "unknown":
                    out.append(undecided(f"whether branches {i + 1} and {j + 1} of `{d.id}` "
                                         "overlap", self.name, bj.span, d.id))
                else:
                    out += _errors([g], self.name, bj.span, d.id)
        return out

    def _found(self, a: Analysis, d: m.Decision, g: Goal, bi: m.Branch, bj: m.Branch
               ) -> Diagnostic:
        def confirm(o: Outcome, _v: Mapping[str, m.Value]) -> bool:
            return any(s["decision"] == d.id and s["reason"] == "overlap"
                       and bi.index in _ints(s["branches"]) and bj.index in _ints(s["branches"])
                       for s in o.stuck)

        assert g.values is not None
        return _with_witness(a, g.values, g.test, confirm, Diagnostic(
            "E503", Severity.ERROR, f"two branches of `{d.id}` hold for one patient: "
            f"`{bi.condition.text}` and `{bj.condition.text}`", bj.span,
            "make the branches exclusive, or make the decision `first` if their order decides",
            (f"`{bi.condition.text}` (line {bi.span.line}) and `{bj.condition.text}` "
             f"(line {bj.span.line}) both hold for the witness: a `unique` decision is then "
             "stuck",), node=d.id), self.name)


def _g_gap(a: Analysis, d: m.Decision) -> None:
    a.goal(("gap", d.id), _otherwise_f(a, d),
           lambda tr: tr.decided.get(d.id, ("",))[0] == "gap", True, "stuck", d.id)


class GapCheck(Check):
    """E504: a decision without `otherwise` where some patients match no branch."""

    name = "gap"

    def goals(self, a: Analysis) -> None:
        for d in _decisions(a):
            if d.otherwise is None:
                _g_gap(a, d)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for d in _decisions(a):
            g = a.goals.get(("gap", d.id))
            if g is None:
                continue
            if g.status == "sat" and a.witnessed.get(self.name, 0) >= MAX_WITNESSES:
                out.append(Diagnostic(
                    "E504", Severity.ERROR, f"no branch of `{d.id}` applies to some patients "
                    "who reach it", d.span, "add a branch for these patients, or `otherwise`",
                    (f"(regions not described: more than {MAX_WITNESSES} gap findings)",),
                    node=d.id))
            elif g.status == "sat":
                out += _gap_regions(a, d, self.name)
            elif g.status == "unknown":
                out.append(undecided(f"whether every patient matches a branch of `{d.id}`",
                                     self.name, d.span, d.id))
            else:
                out += _errors([g], self.name, d.span, d.id)
        return out


def _g_conflict(a: Analysis, k: int, r: m.ConflictRule) -> Goal:
    enc = a.enc
    return a.goal(("conflict", k),
                  lambda p: enc.conj(enc.recommended[r.first], enc.recommended[r.second]),
                  lambda tr: r.first in tr.recommended and r.second in tr.recommended,
                  True, "always", None)


class ConflictCheck(Check):
    """E505: `conflict A, B` where one patient is recommended both."""

    name = "conflict"

    def goals(self, a: Analysis) -> None:
        for k, r in enumerate(a.model.conflicts):
            _g_conflict(a, k, r)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for k, r in enumerate(a.model.conflicts):
            g = a.goals[("conflict", k)]
            if g.status != "sat":
                out += _unsettled(g, self.name, f"`conflict {r.first}, {r.second}`", r.span)
                continue

            def confirm(o: Outcome, _v: Mapping[str, m.Value], r: m.ConflictRule = r) -> bool:
                return r.first in o.actions and r.second in o.actions

            assert g.values is not None
            out.append(_with_witness(a, g.values, g.test, confirm, Diagnostic(
                "E505", Severity.ERROR, f"`{r.first}` and `{r.second}` are both recommended to "
                "one patient, against `conflict`", r.span,
                "make the steps that recommend them exclusive", (f"the rule: {r.reason}",)),
                self.name, node_of=r.second))
        return out


def _g_never(a: Analysis, k: int, r: m.NeverRule) -> Goal:
    enc = a.enc

    def build(p: Paths) -> Z:
        if r.condition is None:
            return enc.recommended[r.action]
        return enc.conj(enc.recommended[r.action], enc.neg(enc.boolean(r.condition.expr)[1]))

    return a.goal(("never", k), build,
                  lambda tr: r.action in tr.recommended and tr.rule(r.condition) is not False,
                  True, "always", None)


class NeverCheck(Check):
    """E506: `never A when C` where a patient for whom C may hold is recommended A."""

    name = "never"

    def goals(self, a: Analysis) -> None:
        for k, r in enumerate(a.model.nevers):
            _g_never(a, k, r)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for k, r in enumerate(a.model.nevers):
            g = a.goals[("never", k)]
            when = f" when {r.condition.text}" if r.condition else ""
            if g.status != "sat":
                out += _unsettled(g, self.name, f"`never {r.action}{when}`", r.span)
                continue

            def confirm(o: Outcome, v: Mapping[str, m.Value], r: m.NeverRule = r) -> bool:
                return r.action in o.actions and (r.condition is None or evaluate_expr(
                    r.condition.expr, v, frozenset(o.actions)) is not False)

            notes = [f"the rule: {r.reason}"]
            assert g.values is not None
            if r.condition is not None:
                held = trace(a.model, g.values).rule(r.condition)
                notes.append(f"`{r.condition.text}` holds for the witness" if held is True else
                             f"`{r.condition.text}` is unknown for the witness, so it may hold")
            out.append(_with_witness(a, g.values, g.test, confirm, Diagnostic(
                "E506", Severity.ERROR, f"`{r.action}` is recommended where "
                f"`never {r.action}{when}` forbids it", r.span,
                "add the rule's condition to the recommendation, or route these patients "
                "elsewhere", tuple(notes)), self.name, node_of=r.action))
        return out


def _g_require(a: Analysis, k: int, r: m.RequireRule) -> Goal:
    enc = a.enc
    return a.goal(("require", k),
                  lambda p: enc.conj(enc.boolean(r.condition.expr)[0],
                                     enc.neg(enc.recommended[r.action])),
                  lambda tr: tr.rule(r.condition) is True and r.action not in tr.recommended,
                  True, "always", None)


class RequireCheck(Check):
    """E507: `require A when C` where C definitely holds and A is not recommended."""

    name = "require"

    def goals(self, a: Analysis) -> None:
        for k, r in enumerate(a.model.requires):
            _g_require(a, k, r)

    def report(self, a: Analysis) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        for k, r in enumerate(a.model.requires):
            g = a.goals[("require", k)]
            if g.status != "sat":
                out += _unsettled(g, self.name, f"`require {r.action} when {r.condition.text}`",
                                  r.span)
                continue

            def confirm(o: Outcome, v: Mapping[str, m.Value], r: m.RequireRule = r) -> bool:
                return r.action not in o.actions and evaluate_expr(
                    r.condition.expr, v, frozenset(o.actions)) is True

            assert g.values is not None
            out.append(_with_witness(a, g.values, g.test, confirm, Diagnostic(
                "E507", Severity.ERROR, f"`{r.action}` is not recommended where "
                f"`require {r.action} when {r.condition.text}` demands it", r.span,
                "recommend it on every path where the condition holds",
                (f"the rule: {r.reason}",)), self.name, why=True))
        return out


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


#: The checks, in order (tests may monkeypatch one to show that the others still run).
CHECKS: list[type[Check]] = [ReachabilityCheck, ShadowCheck, OverlapCheck, GapCheck,
                             ConflictCheck, NeverCheck, RequireCheck, PendingCheck]


# ============================================================================ helpers


def _decisions(a: Analysis) -> list[m.Decision]:
    return [d for d in a.model.decisions() if d.id in a.structural_set]


def _pairs(n: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def _overlaps(decided: tuple[str, tuple[int, ...]] | None, i: int, j: int) -> bool:
    return decided is not None and decided[0] == "overlap" and i in decided[1] and j in decided[1]


def _ints(x: object) -> list[int]:
    return [v for v in x if isinstance(v, int)] if isinstance(x, list) else []


def _strs(x: object) -> list[str]:
    return [v for v in x if isinstance(v, str)] if isinstance(x, list) else []


def _names(names: Iterable[str], conj: str = "and") -> str:
    items = [f"`{n}`" for n in names]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _waits(a: Analysis, node: m.PathNode) -> dict[str, list[Callable[[Paths], Z]]]:
    """Per optional input: the ways ``node`` can wait for it (formulas over a pathway copy)."""
    out: dict[str, list[Callable[[Paths], Z]]] = {}

    def optional_reads(cond: m.Condition) -> list[str]:
        if a.enc.definite(cond.expr):
            return []
        return [x for x in m.inputs_of(cond.expr) if a.model.inputs[x].optional]

    if isinstance(node, m.Decision):
        for b in node.branches:
            for x in optional_reads(b.condition):
                out.setdefault(x, []).append(_waits_branch(a, node, b.index))
    elif isinstance(node, m.Step):
        for site in node.recommends:
            if site.condition is not None:
                for x in optional_reads(site.condition):
                    out.setdefault(x, []).append(_waits_site(a, node.id, site.index))
    return out


def _waits_branch(a: Analysis, d: m.Decision, i: int) -> Callable[[Paths], Z]:
    return lambda p: a.enc.waits_on(p, d, i)


def _waits_site(a: Analysis, step: str, k: int) -> Callable[[Paths], Z]:
    def build(p: Paths) -> Z:
        tf = p.site_tf[(step, k)]
        return a.enc.unknown(tf) if tf is not None else a.enc.FALSE
    return build


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


def _errors(goals: list[Goal], check: str, span: Span, node: str | None) -> list[Diagnostic]:
    return [Diagnostic("E511", Severity.ERROR,
                       f"internal failure in the {check} check: " + (
                           g.error or "the solver and the interpreter disagree about "
                           + " ".join(str(k) for k in g.key)), span,
                       "please report this with the guideline; the other checks ran",
                       node=node) for g in goals if g.status == "error"]


def _unsettled(g: Goal, check: str, what: str, span: Span) -> list[Diagnostic]:
    if g.status == "unknown":
        return [undecided(f"whether {what} can be broken", check, span, None)]
    return _errors([g], check, span, None)


#: Undecided questions (W510) listed one by one per check; the rest are counted in one more.
MAX_UNDECIDED = 20


def _cap_undecided(diags: list[Diagnostic]) -> list[Diagnostic]:
    """At most MAX_UNDECIDED W510 per check, and one that counts the others: a run that hit
    its time limit on 500 branches does not print 125,000 warnings."""
    out: list[Diagnostic] = []
    seen: dict[str, int] = {}
    extra: dict[str, tuple[Diagnostic, int]] = {}
    for d in diags:
        if d.code != "W510":
            out.append(d)
            continue
        check = d.message.rsplit("(", 1)[-1].removesuffix(" check)")
        seen[check] = seen.get(check, 0) + 1
        if seen[check] <= MAX_UNDECIDED:
            out.append(d)
        else:
            first, n = extra.get(check, (d, 0))
            extra[check] = (first, n + 1)
    for check, (first, n) in extra.items():
        out.append(Diagnostic(
            "W510", Severity.WARNING,
            f"could not decide {n:,} more questions within the solver's limit ({check} check)",
            first.span, "simplify the conditions involved, or split the decision",
            node=first.node))
    return out


def undecided(what: str, check: str, span: Span, node: str | None) -> Diagnostic:
    """W510: the solver could not decide ``what`` within its resource limit."""
    return Diagnostic("W510", Severity.WARNING,
                      f"could not decide {what} within the solver's limit ({check} check)",
                      span, "simplify the conditions involved, or split the decision",
                      node=node)


def internal(check: str, exc: BaseException, model: m.Model) -> Diagnostic:
    """E511: one check failed; the others still ran."""
    return Diagnostic("E511", Severity.ERROR,
                      f"internal failure in the {check} check: {type(exc).__name__}: {exc}",
                      model.pathway.span, "please report this with the guideline; the other "
                      "checks ran")


def _with_witness(a: Analysis, values: Mapping[str, m.Value], keep: Callable[[Trace], bool],
                  confirm: Callable[[Outcome, Mapping[str, m.Value]], bool], d: Diagnostic,
                  check: str, node_of: str | None = None, why: bool = False) -> Diagnostic:
    """``d`` with a polished witness and its path, re-checked by the interpreter (or E511).

    ``node_of``: the node is the step that recommended this action; ``why``: add notes on the
    decisions that were pending or stuck for the witness."""
    a.witnessed[check] = a.witnessed.get(check, 0) + 1
    if a.witnessed[check] > MAX_WITNESSES:
        return Diagnostic(d.code, d.severity, d.message, d.span, d.hint, (
            *d.notes, f"(no witness shown: more than {MAX_WITNESSES} findings of this check)"),
            node=d.node)
    try:
        patient, outcome = a.witness(values, keep, confirm)
    except WitnessError as exc:
        return Diagnostic("E511", Severity.ERROR, f"internal failure in the {check} check: {exc}",
                          d.span, "please report this with the guideline; the other checks ran",
                          node=d.node)
    node = d.node
    if node_of is not None:
        node = next((r.step for r in outcome.recommendations if r.id == node_of), node)
    notes = list(d.notes)
    if why:
        notes += [f"`{p['decision']}` is pending on {_names(_strs(p['inputs']))}"
                  for p in outcome.pending]
        notes += [f"`{x['decision']}` is stuck ({x['reason']})" for x in outcome.stuck]
    return Diagnostic(d.code, d.severity, d.message, d.span, d.hint, tuple(notes), patient,
                      outcome.path, node)


def _fact(f: Fact) -> str:
    return f"{f.text} (line {f.span.line})"


def _explained(code: str, message: str, span: Any, node: str, hint: str, own: str | None,
               shadow: bool = False) -> Callable[[list[Fact] | None], Diagnostic]:
    def make(facts: list[Fact] | None) -> Diagnostic:
        notes: list[str] = []
        if facts is None:
            notes.append("(the conditions involved were not isolated)")
        else:
            mine = [f for f in facts if f.key == own]
            others = sorted((f for f in facts if f.key != own),
                            key=lambda f: (f.span.line, f.span.column))
            earlier = [f for f in others if shadow and f.kind == "branch" and
                       f.key.startswith(f"branch:{node}:")]
            rest = [f for f in others if f not in earlier]
            if earlier:
                notes.append("covered by " + " and ".join(_fact(f) for f in earlier))
                if rest:
                    notes.append("given " + "; ".join(_fact(f) for f in rest))
            elif mine and rest:
                notes.append(f"{_fact(mine[0])} contradicts " + "; ".join(_fact(f) for f in rest))
            elif mine:
                notes.append(f"{_fact(mine[0])} can never hold")
            elif rest:
                notes.append("these cannot all hold: " + "; ".join(_fact(f) for f in rest))
        sev = Severity.WARNING
        return Diagnostic(code, sev, message, span, hint, tuple(notes), node=node)
    return make


# ---------------------------------------------------------------------------- gaps


def _atoms(exprs: Iterable[m.Expr]) -> list[m.Expr]:
    """The comparisons and other non-connective parts of conditions (through lets)."""
    out: list[m.Expr] = []

    def visit(e: m.Expr) -> None:
        if isinstance(e, (m.And, m.Or)):
            for o in e.operands:
                visit(o)
        elif isinstance(e, m.Not):
            visit(e.operand)
        elif isinstance(e, m.LetRef) and e.type == "boolean":
            if e.name not in lets_seen:
                lets_seen.add(e.name)
                visit(e.expr)
        elif isinstance(e, m.Const):
            return
        elif e not in out:
            out.append(e)

    lets_seen: set[str] = set()
    for e in exprs:
        visit(e)
    return out


def _gap_regions(a: Analysis, d: m.Decision, check: str) -> list[Diagnostic]:
    """One E504 per gap region (up to ``max_regions``), each with a witness in it."""
    enc = a.enc
    p = enc.main
    atoms = _atoms(b.condition.expr for b in d.branches)
    tfs = [enc.boolean(x) for x in atoms]
    reached = p.reached[d.id]
    gap = enc.conj(reached, enc.all_false(p, d))

    def lit(i: int, v: m.Value) -> Z:
        t, f = tfs[i]
        if v is True:
            return t
        if v is False:
            return f
        return enc.unknown((t, f))

    found: list[Z] = []
    out: list[Diagnostic] = []
    more = False
    for _ in range(a.max_regions + 1):
        if a.exhausted:
            out.append(undecided(f"every gap region of `{d.id}`", check, d.span, d.id))
            break
        r, zm = a.query(enc.conj(gap, *(enc.neg(x) for x in found)))
        if r == "unsat":
            break
        if r != "sat":
            out.append(undecided(f"every gap region of `{d.id}`", check, d.span, d.id))
            break
        if len(found) == a.max_regions:
            more = True
            break
        values = enc.patient(zm)
        truth = [evaluate_expr(x, values) for x in atoms]
        keep = list(range(len(atoms)))
        # Drop what is least telling first: booleans and choices, then numeric facts that are
        # false, and the numeric facts that are true last (they name the region's numbers).
        order = sorted(keep, key=lambda i: (_numeric_atom(atoms[i]), truth[i] is True, i))
        for i in order:
            trial = [j for j in keep if j != i]
            region = enc.conj(*(lit(j, truth[j]) for j in trial))
            r2, _ = a.query(enc.conj(reached, region,
                                     enc.disj(enc.neg(enc.all_false(p, d)), *found)))
            if r2 == "unsat":
                keep = trial
        region = enc.conj(*(lit(j, truth[j]) for j in keep))
        found.append(region)
        kept = [(atoms[j], truth[j]) for j in keep]
        words = describe(kept, a.model)

        def in_region(tr: Trace, kept: list[tuple[m.Expr, m.Value]] = kept) -> bool:
            return tr.decided.get(d.id, ("",))[0] == "gap" and all(
                evaluate_expr(x, tr.values) == v for x, v in kept)

        msg = f"no branch of `{d.id}` applies when {words}" if words else \
            f"no branch of `{d.id}` applies to some patients who reach it"
        out.append(_with_witness(
            a, values, in_region,
            lambda o, _v: any(s["decision"] == d.id and s["reason"] == "gap" for s in o.stuck),
            Diagnostic("E504", Severity.ERROR, msg, d.span,
                       "add a branch for these patients, or `otherwise -> ...`",
                       ("every branch is false there: "
                        + "; ".join(f"`{b.condition.text}` (line {b.span.line})"
                                    for b in d.branches),), node=d.id),
            check))
    if more and out:
        last = out[-1]
        out[-1] = Diagnostic(last.code, last.severity, last.message, last.span, last.hint,
                             (*last.notes, f"more gap regions exist: only the first "
                              f"{a.max_regions} are shown"), last.witness, last.path, last.node)
    return out


def _numeric_atom(e: m.Expr) -> bool:
    return isinstance(e, m.Cmp) and e.left.type == "number"


_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def describe(region: list[tuple[m.Expr, m.Value]], model: m.Model) -> str:
    """A region of patients in source syntax, e.g. ``kps == 70 and life_expectancy >= 1``."""
    order: list[str] = []
    numeric: dict[str, list[tuple[str, Fraction]]] = {}
    enums: dict[str, set[str]] = {}
    flags: dict[str, str] = {}
    other: dict[str, str] = {}

    def slot(name: str) -> None:
        if name not in order:
            order.append(name)

    for e, v in region:
        if v is None:
            names = m.inputs_of(e)
            for x in names:
                slot(x)
                flags[x] = f"{x} is unknown"
            if not names:
                key = to_text(e)
                slot(key)
                other[key] = f"({key}) is unknown"
            continue
        simple = _simple_cmp(e)
        if simple is not None:
            name, op, c = simple
            slot(name)
            numeric.setdefault(name, []).append((op if v else _NEGATE[op], c))
            continue
        if isinstance(e, m.Cmp) and isinstance(e.left, m.InputRef) and \
                isinstance(e.right, m.Const) and isinstance(e.right.value, str):
            name = e.left.name
            values = set(model.inputs[name].values)
            inside = {e.right.value} if e.op == "==" else values - {e.right.value}
            slot(name)
            enums[name] = enums.get(name, values) & (inside if v else values - inside)
            continue
        if isinstance(e, m.Member) and isinstance(e.operand, m.InputRef):
            name = e.operand.name
            values = set(model.inputs[name].values)
            inside = set(e.values)
            slot(name)
            enums[name] = enums.get(name, values) & (inside if v else values - inside)
            continue
        if isinstance(e, m.InputRef):
            slot(e.name)
            flags[e.name] = e.name if v else f"not {e.name}"
            continue
        if isinstance(e, m.Known) and isinstance(e.operand, m.InputRef):
            slot(e.operand.name)
            known = e.known == v
            flags[e.operand.name] = f"{e.operand.name} is {'known' if known else 'unknown'}"
            continue
        key = to_text(e)
        slot(key)
        other[key] = key if v else f"not ({key})"
    rank = {name: k for k, name in enumerate(model.inputs)}
    order.sort(key=lambda name: rank.get(name, len(rank)))
    parts: list[str] = []
    for name in order:
        if name in flags:
            parts.append(flags[name])
        if name in numeric:
            parts += _bounds(model.inputs[name], numeric[name])
        if name in enums:
            allowed = [x for x in model.inputs[name].values if x in enums[name]]
            missing = [x for x in model.inputs[name].values if x not in enums[name]]
            if len(allowed) == 1:
                parts.append(f"{name} == {allowed[0]}")
            elif len(missing) == 1:
                parts.append(f"{name} != {missing[0]}")
            elif missing:
                parts.append(f"{name} in ({', '.join(allowed)})")
        if name in other:
            parts.append(other[name])
    return " and ".join(parts)


def _simple_cmp(e: m.Expr) -> tuple[str, str, Fraction] | None:
    if not isinstance(e, m.Cmp) or e.left.type != "number":
        return None
    if isinstance(e.left, m.InputRef) and isinstance(e.right, m.Const) and \
            isinstance(e.right.value, Fraction):
        return e.left.name, e.op, e.right.value
    if isinstance(e.right, m.InputRef) and isinstance(e.left, m.Const) and \
            isinstance(e.left.value, Fraction):
        return e.right.name, _FLIP[e.op], e.left.value
    return None


def _bounds(inp: m.Input, cons: list[tuple[str, Fraction]]) -> list[str]:
    name = inp.name
    eq = [c for op, c in cons if op == "=="]
    if eq:
        return [f"{name} == {value_text(eq[0])}"]
    lows = [(c, op == ">") for op, c in cons if op in (">", ">=")]
    highs = [(c, op == "<") for op, c in cons if op in ("<", "<=")]
    low = max(lows, key=lambda x: (x[0], x[1])) if lows else None
    high = min(highs, key=lambda x: (x[0], not x[1])) if highs else None
    single = _single_value(inp, low, high)
    out: list[str] = []
    if single is not None:
        out.append(f"{name} == {value_text(single)}")
    else:
        if low is not None and not (low[0] == inp.low and not low[1]):
            out.append(f"{name} {'>' if low[1] else '>='} {value_text(low[0])}")
        if high is not None and not (high[0] == inp.high and not high[1]):
            out.append(f"{name} {'<' if high[1] else '<='} {value_text(high[0])}")
    out += [f"{name} != {value_text(c)}" for op, c in cons if op == "!="]
    return out


def _single_value(inp: m.Input, low: tuple[Fraction, bool] | None,
                  high: tuple[Fraction, bool] | None) -> Fraction | None:
    """The only value the input can take between two bounds, if there is exactly one."""
    if low is None or high is None:
        return None
    if inp.kind == "number":
        return low[0] if low[0] == high[0] and not low[1] and not high[1] else None
    step = inp.step or Fraction(1)
    base = inp.low if inp.low is not None else Fraction(0)
    first = base + step * math.ceil((low[0] - base) / step)
    if low[1] and first == low[0]:
        first += step
    last = base + step * math.floor((high[0] - base) / step)
    if high[1] and last == high[0]:
        last -= step
    return first if first == last else None


# ---------------------------------------------------------------------------- patients


def _in_domain(inp: m.Input, v: m.Value) -> bool:
    if inp.kind == "boolean":
        return isinstance(v, bool)
    if inp.kind == "enum":
        return isinstance(v, str) and v in inp.values
    if not isinstance(v, Fraction):
        return False
    if inp.low is not None and v < inp.low:
        return False
    if inp.high is not None and v > inp.high:
        return False
    if inp.kind == "integer":
        if v.denominator != 1:
            return False
        if inp.step is not None and (v - (inp.low or 0)) % inp.step != 0:
            return False
    return True


def _json_number(v: Fraction) -> int | float | None:
    if v.denominator == 1:
        return int(v)
    f = float(v)
    return f if Fraction(repr(f)) == v else None


def witness_json(model: m.Model, values: Mapping[str, m.Value]) -> dict[str, object]:
    """A patient as JSON-ready values: int, short decimal float, string, bool; unknown optional
    inputs omitted. Raises :class:`WitnessError` for a number JSON cannot carry exactly."""
    out: dict[str, object] = {}
    for name in model.inputs:
        v = values.get(name)
        if v is None:
            continue
        if isinstance(v, Fraction):
            n = _json_number(v)
            if n is None:
                raise WitnessError(f"no short decimal for `{name}` = {v}")
            out[name] = n
        else:
            out[name] = v
    return out


def _digits(v: Fraction) -> tuple[int, int]:
    text = value_text(v).lstrip("-").replace(".", "").lstrip("0").rstrip("0") \
        if v.denominator != 1 else str(abs(v.numerator)).rstrip("0")
    return (0 if v.denominator == 1 else 1, len(text))


def _rounder(v: Fraction, inp: m.Input) -> list[Fraction]:
    """Rounder values near ``v`` (first the roundest) that the input allows."""
    cands: list[Fraction] = []
    for places in (-2, -1, 0, 1, 2, 3, 4, 6, 9, 12):
        c = Fraction(round(v, places))
        if c not in cands and c != v:
            cands.append(c)
    short = _json_number(v) is not None
    out = [c for c in cands if _in_domain(inp, c) and _json_number(c) is not None and
           (not short or _digits(c) < _digits(v))]
    return sorted(out, key=lambda c: (_digits(c), abs(c - v)))


def _pools(model: m.Model) -> dict[str, list[m.Value]]:
    """Candidate values per input: bounds, every constant it is compared with and its
    neighbours, every enum value, both booleans, and unknown for an optional input."""
    consts: dict[str, set[Fraction]] = {n: set() for n in model.inputs}

    def visit(e: m.Expr) -> None:
        simple = _simple_cmp(e)
        if simple is not None:
            consts[simple[0]].add(simple[2])
        if isinstance(e, (m.Cmp, m.Arith)):
            visit(e.left)
            visit(e.right)
        elif isinstance(e, (m.Scale, m.Not, m.Known, m.Member)):
            visit(e.operand)
        elif isinstance(e, (m.And, m.Or)):
            for o in e.operands:
                visit(o)
        elif isinstance(e, m.LetRef) and e.name not in lets_seen:
            lets_seen.add(e.name)
            visit(e.expr)

    lets_seen: set[str] = set()
    for cond in _conditions(model):
        visit(cond.expr)
    pools: dict[str, list[m.Value]] = {}
    for name, inp in model.inputs.items():
        pool: list[m.Value]
        if inp.kind == "boolean":
            pool = [True, False]
        elif inp.kind == "enum":
            pool = list(inp.values)
        else:
            delta = inp.step or Fraction(1)
            raw = {inp.low, inp.high, Fraction(0)}
            for c in consts[name]:
                raw |= {c - delta, c, c + delta}
                if inp.kind == "number":
                    raw |= {c - Fraction(1, 2), c + Fraction(1, 2)}
            pool = [v for v in sorted(x for x in raw if x is not None) if _in_domain(inp, v)]
            if not pool:
                base = inp.low if inp.low is not None else (inp.high or Fraction(0))
                pool = [base] if _in_domain(inp, base) else []
        if inp.optional:
            pool = [*pool, None]
        pools[name] = pool if pool else [None]
    return pools


def _conditions(model: m.Model) -> list[m.Condition]:
    out: list[m.Condition] = [a.condition for a in model.assumptions]
    for node in model.pathway.nodes.values():
        if isinstance(node, m.Decision):
            out += [b.condition for b in node.branches]
        elif isinstance(node, m.Step):
            out += [s.condition for s in node.recommends if s.condition is not None]
    out += [r.condition for r in model.nevers if r.condition is not None]
    out += [r.condition for r in model.requires]
    return out


# ---------------------------------------------------------------------------- z3 rlimit

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


# ============================================================================ entry points


def analyze(model: m.Model, *, rlimit: int = DEFAULT_RLIMIT,
            rlimit_per_unit: int = RLIMIT_PER_UNIT, max_regions: int = MAX_REGIONS,
            fuzz: bool = True) -> list[Diagnostic]:
    """Every logic finding of a checked model (see the module docstring); never prints.

    ``rlimit`` (plus ``rlimit_per_unit`` per unit of size) bounds each solver query;
    ``max_regions`` bounds the gap regions described per decision; ``fuzz=False`` leaves every
    question to the solver (the results are the same, only slower to reach on big guidelines).
    """
    try:
        analysis = Analysis(model, rlimit, rlimit_per_unit, max_regions, fuzz)
    except Exception as exc:
        return [internal("encoding", exc, model)]
    with interruptible(analysis.enc.ctx):
        return analysis.run()


def model_of(text: str, filename: str = "<input>") -> m.Model | None:
    """The model of a guideline even when it has errors (None when it does not parse)."""
    from compiler.lower import Lowerer
    from compiler.names import collect
    from dsl.diagnostics import GuidecError
    from dsl.parser import parse

    try:
        g = parse(text, filename)
    except GuidecError:
        return None
    scope, _ = collect(g)
    return Lowerer(g, scope, text).lower()
