"""Behavioural diff: which patients two versions of a guideline treat differently, proven with z3.

Both versions are encoded over ONE set of input variables (an input keeps its name across
versions), so a patient is a single assignment that both must accept. Each expression is a pair
of Booleans (definitely true, definitely false), mirroring ``compiler.interpreter``; a node is
reached when one of its incoming edges is taken (one Boolean per node, never an enumeration of
paths); an action is recommended when a step that recommends it is reached and the condition
definitely holds. z3 shares identical terms, so an action whose encoding did not change is
proven unchanged without a query.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3

from compiler import model as m
from compiler.analysis.engine import typical_band
from compiler.interpreter import InvalidPatient, Outcome, evaluate_values, validate
from compiler.limits import Deadline, interruptible, limited_check
from compiler.solver import pathway
from compiler.solver.inputs import declare
from compiler.solver.terms import TF, InputVars, Terms
from compiler.units import DAY_SECONDS, moment, moment_text, moved_to

RLIMIT = 2_000_000_000  # per query: deterministic across machines, unlike a timeout


@dataclass(frozen=True)
class Witness:
    """A patient both versions accept, with what each version does for it."""

    patient: dict[str, object]
    old_path: tuple[str, ...]
    new_path: tuple[str, ...]
    old_summary: str
    new_summary: str
    #: The title of the committee's case whose patient this is; None for a solver's patient.
    case: str | None = None

    def to_json(self) -> dict[str, object]:
        """JSON form."""
        out: dict[str, object] = {
            "patient": self.patient, "old_path": list(self.old_path),
            "new_path": list(self.new_path), "old": self.old_summary, "new": self.new_summary}
        if self.case is not None:
            out["case"] = self.case
        return out


@dataclass(frozen=True)
class BehaviourChange:
    """An action ``gained`` or ``lost`` by some patients, or a decision whose pending changed."""

    kind: str  # gained | lost | pending
    subject: str
    witnesses: tuple[Witness, ...]

    def to_json(self) -> dict[str, object]:
        """JSON form: the action (or decision), the change and its witnesses."""
        key = "decision" if self.kind == "pending" else "action"
        return {key: self.subject, "change": self.kind,
                "witnesses": [w.to_json() for w in self.witnesses]}


@dataclass
class BehaviourResult:
    """All behavioural changes; ``decided`` is False when some query hit its limit."""

    changes: list[BehaviourChange] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        """True when every query was answered."""
        return not self.undecided


# ----------------------------------------------------------------------------- encoding

Pair = tuple[Any, Any]  # (definitely true, definitely false) or (value, known)


class Space:
    """The shared input variables of the versions being compared."""

    def __init__(self, models: list[m.Model]) -> None:
        self.solver = z3.Solver()
        self.inputs: dict[str, list[m.Input]] = {}
        for model in models:
            for name, inp in model.inputs.items():
                self.inputs.setdefault(name, []).append(inp)
        self.enum_values: dict[str, list[str]] = {}
        self.TRUE = z3.BoolVal(True)
        self.FALSE = z3.BoolVal(False)
        #: The variables of each input, as the analysis's terms read them.
        self.vars: dict[str, InputVars] = {}
        self.memo: dict[m.Expr, tuple[TF, bool]] = {}
        self.names: dict[int, Any] = {}
        self.value: dict[str, Any] = {}
        self.known: dict[str, Any] = {}
        domain: list[Any] = []
        #: Builds the constraints on inputs (the versions' encodings share its constants).
        self.terms = Terms(z3.main_ctx(), self.TRUE, self.FALSE)
        for name, decls in self.inputs.items():
            declared = declare(self.terms, name, decls)
            iv = declared.vars
            self.vars[name] = iv
            self.value[name], self.known[name] = iv.value, iv.known
            if declared.enum_values:
                self.enum_values[name] = list(declared.enum_values)
            domain += [z3.Implies(iv.known, c) for c in declared.domain]
        self.solver.add(*domain)
        self.plausible = self._plausible(max((x.meta.updated for x in models), default=""))

    def _plausible(self, updated: str) -> list[Any]:
        """What a witness that reads like a patient satisfies where the change allows: each
        number inside its typical range, and the dates and times within the year up to
        the later version's `updated` date (the solver's would start in 1900 or 1970)."""
        out: list[Any] = []
        anchor = moment(updated, False)
        for name, decls in self.inputs.items():
            inp, value, known = decls[-1], self.value[name], self.known[name]
            if not all(d.kind == inp.kind for d in decls):
                continue
            if inp.kind in ("date", "datetime") and anchor is not None:
                per = DAY_SECONDS if inp.kind == "datetime" else 1
                out.append(z3.Implies(known, z3.And(value >= (anchor - 366) * per,
                                                    value < (anchor + 1) * per)))
                continue
            band = typical_band(inp)
            if band is not None and inp.kind in ("integer", "number"):
                out.append(z3.Implies(known, z3.And(value >= _real(band[0]),
                                                    value <= _real(band[1]))))
        return out

    def name(self, term: Any, hint: str) -> Any:
        """A Boolean standing for ``term`` (defined once, shared by identical terms), so that a
        node's reachability is one variable, not a term that grows along the pathway."""
        if z3.is_true(term) or z3.is_false(term) or z3.is_const(term):
            return term
        key = term.get_id()
        if key not in self.names:
            var = z3.Bool(f"{hint}!{len(self.names)}")
            self.names[key] = var
            self.solver.add(var == term)
        return self.names[key]

    def patient(self, model: z3.ModelRef) -> dict[str, object]:
        """A JSON-ready patient from a solver model (unknown optionals omitted)."""
        out: dict[str, object] = {}
        for name, decls in self.inputs.items():
            known = model.eval(self.known[name], model_completion=True)
            if not z3.is_true(known):
                continue
            if decls[0].kind == "set":
                members = self.value[name]
                out[name] = [x for x, b in members.items()
                             if z3.is_true(model.eval(b, model_completion=True))]
                continue
            v = model.eval(self.value[name], model_completion=True)
            if name in self.enum_values:
                out[name] = self.enum_values[name][v.as_long()]
            elif decls[0].kind == "boolean":
                out[name] = z3.is_true(v)
            elif decls[0].kind in ("date", "datetime"):
                out[name] = moment_text(v.as_long(), decls[0].kind == "datetime")
            else:
                frac = Fraction(v.as_fraction()) if z3.is_rational_value(v) \
                    else Fraction(v.as_long())
                out[name] = int(frac) if frac.denominator == 1 else float(frac)
        return out

    def pin(self, values: Mapping[str, object]) -> Any:
        """A constraint that holds for exactly this patient (model values or a JSON patient;
        an input left out or None is unknown)."""
        same = []
        for name in self.inputs:
            v = values.get(name)
            if v is None:
                same.append(self.terms.neg(self.known[name]))
                continue
            var = self.value[name]
            same.append(self.known[name])
            decl = self.inputs[name][0]
            if decl.kind in ("date", "datetime") and isinstance(v, str):
                from compiler.units import moment

                v = moment(v, decl.kind == "datetime")
            elif isinstance(v, dict) and decl.ucum is not None:  # a value with its unit
                per = decl.per_unit(str(v.get("unit")))
                raw = v.get("value")
                if per is not None and isinstance(raw, int | float):
                    v = float(Fraction(repr(raw)) * per) if isinstance(raw, float) \
                        else Fraction(raw) * per
            if isinstance(var, dict):  # a set input: its values listed, or a frozenset
                same += [b if x in v else self.terms.neg(b)  # type: ignore[operator]
                         for x, b in var.items()]
            elif name in self.enum_values:
                same.append(var == self.enum_values[name].index(str(v)))
            elif isinstance(v, bool):
                same.append(var == v)
            else:
                exact = Fraction(repr(v)) if isinstance(v, float) else Fraction(str(v))
                same.append(var == self.terms.num(exact))
        return self.terms.conj(*same)

    def block(self, patient: Mapping[str, object]) -> Any:
        """A constraint excluding exactly this patient."""
        return self.terms.neg(self.pin(patient))

class VersionEncoding(Terms):
    """One model encoded over a :class:`Space`: its conditions in the analysis's terms
    (:class:`~compiler.solver.terms.Terms`; z3 shares identical terms between the versions),
    its pathway with one named Boolean per node."""

    def __init__(self, model: m.Model, space: Space,
                 partner: VersionEncoding | None = None) -> None:
        super().__init__(z3.main_ctx(), space.TRUE, space.FALSE)
        self.inputs = space.vars
        self.model = model
        self.space = space
        self.partner = partner
        self.undecided: list[str] = []
        self.assumptions = [self.neg(self.boolean(a.condition.expr)[1])
                            for a in model.assumptions]
        space.solver.add(*self.assumptions)
        self.reached: dict[str, Any] = {}
        self.pending: dict[str, Any] = {}
        self._pathway()

    def enum_index(self, t: str, value: str) -> int:
        """Enum values are numbered by the union of both versions' values of the input."""
        return self.space.enum_values[t.split(":", 2)[1]].index(value)

    def _encode(self, e: m.Expr) -> tuple[TF, bool]:
        # An expression both versions share (by value) is encoded once for both. The diff
        # encodes no rule, so no `is recommended`, whose meaning is each version's own.
        if isinstance(e, m.Recommended):
            return super()._encode(e)
        memo = self.space.memo
        hit = memo.get(e)
        if hit is None:
            hit = memo[e] = super()._encode(e)
        return hit

    # -- pathway
    def _pathway(self) -> None:
        def reach(nid: str, edges: list[Any]) -> Any:
            return self._merge(nid, self.disj(*edges)) if edges else self.FALSE

        def condition(kind: str, key: str, cond: m.Condition) -> TF:
            return self.boolean(cond.expr)

        self.paths = pathway.build(self, self.model, reach, condition)
        self.reached = self.paths.reached
        # Rules may ask `A is recommended`; recommendations never depend on rules.
        self.recommended = {a: r for a, r in pathway.recommended(
            self, self.model, self.paths).items() if not r.eq(self.FALSE)}
        self.pending = {nid: pathway.pending(self, self.model, self.paths, nid)
                        for nid, node in self.model.pathway.nodes.items()
                        if not isinstance(node, m.End)}

    def _merge(self, nid: str, term: Any) -> Any:
        """The node's reachability variable; when the other version has the same node and the
        solver proves it reached by the same patients, reuse that version's variable, so that
        every term downstream is identical and needs no query (SAT sweeping)."""
        var = self.space.name(term, "reached")
        other = self.partner.reached.get(nid) if self.partner is not None else None
        if other is None or other.eq(var):
            return var
        solver = self.space.solver
        solver.push()
        solver.add(z3.Xor(other, var))
        verdict = check(solver)
        solver.pop()
        if verdict == z3.unsat:
            return other
        if verdict == z3.unknown:
            self.undecided.append(f"reachability of {nid} (solver limit reached)")
        return var


# ----------------------------------------------------------------------------- the diff


def outcome_summary(out: Outcome) -> str:
    """What a version does for a patient, in one line: recommendations, pending and path."""
    recs = ", ".join(out.actions) or "nothing"
    pend = "; pending " + ", ".join(f"{p['decision']} on {', '.join(p['inputs'])}"  # type: ignore[arg-type]
                                    for p in out.pending) if out.pending else ""
    return f"recommends {recs}{pend} (path {' -> '.join(out.path)})"


@dataclass(frozen=True)
class _Replayed:
    """A patient evaluated by both versions (each sees only the inputs it declares)."""

    patient: dict[str, object]
    old: Outcome
    new: Outcome
    case: str | None = None

    def witness(self) -> Witness:
        return Witness(self.patient, self.old.path, self.new.path, outcome_summary(self.old),
                       outcome_summary(self.new), self.case)

    def shows(self, kind: str, subject: str, new_to_old: dict[str, str]) -> bool:
        """Whether this patient shows the change ``kind`` of ``subject``."""
        if kind == "pending":
            return (subject in _pending_at(self.old)) != (subject in _pending_at(self.new))
        was = new_to_old.get(subject, subject) in self.old.actions
        now = subject in self.new.actions
        return (now and not was) if kind == "gained" else (was and not now)


def _pending_at(out: Outcome) -> set[str]:
    return {str(p["decision"]) for p in out.pending}


def case_patients(old: m.Model, new: m.Model) -> list[tuple[str, dict[str, object]]]:
    """The committee's vignettes as (title, patient): the new version's cases, then the old
    version's cases it no longer has, each patient once."""
    out: list[tuple[str, dict[str, object]]] = []
    seen: set[str] = set()
    titles = {c.title for c in new.cases}
    for case in [*new.cases, *(c for c in old.cases if c.title not in titles)]:
        key = json.dumps(case.patient, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append((case.title, dict(case.patient)))
    return out


def behavioural_diff(old: m.Model, new: m.Model, max_witnesses: int = 3,
                     renames: dict[str, str] | None = None) -> BehaviourResult:
    """Every action some patient gains or loses, and every decision whose pending changed."""
    if renames is None:
        from compiler.diff.structure import structural_diff

        renames = {c.subject.split(" -> ")[0]: c.subject.split(" -> ")[1]
                   for c in structural_diff(old, new).changes
                   if c.kind == "renamed" and c.category == "action"}
    # A fresh global context: z3's answers (the witnesses shown) would otherwise depend on
    # what earlier diffs in the same process left in it.
    z3.z3._main_ctx = None
    _DEADLINE[0] = Deadline()
    with interruptible(z3.main_ctx()):
        return _behavioural_diff(old, new, max_witnesses, renames)


def _behavioural_diff(old: m.Model, new: m.Model, max_witnesses: int,
                      renames: dict[str, str]) -> BehaviourResult:
    space = Space([old, new])
    solver = space.solver
    a = VersionEncoding(old, space)
    b = VersionEncoding(new, space, partner=a)
    result = BehaviourResult()
    result.undecided.extend(b.undecided)
    new_to_old = {v: k for k, v in renames.items()}
    false = z3.BoolVal(False)
    candidates: list[tuple[str, str, Any]] = []
    for action in dict.fromkeys([*(renames.get(x, x) for x in old.actions), *new.actions]):
        was = a.recommended.get(new_to_old.get(action, action), false)
        now = b.recommended.get(action, false)
        if not was.eq(now):  # identical terms (z3 shares them) need no proof
            candidates.append(("gained", action, b.conj(now, b.neg(was))))
            candidates.append(("lost", action, b.conj(was, b.neg(now))))
    for d in a.pending:
        if d in b.pending and not a.pending[d].eq(b.pending[d]):
            candidates.append(("pending", d, z3.Xor(a.pending[d], b.pending[d])))
    # The committee's own vignettes come first as witnesses: a reviewer knows those patients.
    vignettes = [r for title, patient in case_patients(old, new)
                 if (r := _replay(patient, old, new, title)) is not None]
    for kind, subject in _changed(solver, candidates, result):
        query = next(q for k, s, q in candidates if k == kind and s == subject)
        known = [r.witness() for r in vignettes if r.shows(kind, subject, new_to_old)]
        change = _witnesses(solver, space, query, old, new, max_witnesses, kind, subject,
                            result, known[:max_witnesses])
        if change is not None:
            result.changes.append(change)
    order = {("gained", s): i for i, (_, s, _) in enumerate(candidates)}
    result.changes.sort(key=lambda c: (c.kind == "pending", order.get(("gained", c.subject), 0),
                                       c.kind))
    return result


def _changed(solver: z3.Solver, candidates: list[tuple[str, str, Any]],
             result: BehaviourResult) -> list[tuple[str, str]]:
    """Which candidate differences some patient shows. One query proves that none does; each
    satisfying patient names every difference it shows, so the queries number the distinct
    changes plus one, not the candidates."""
    remaining = list(candidates)
    found: list[tuple[str, str]] = []
    while remaining:
        solver.push()
        solver.add(z3.Or(*[q for _, _, q in remaining]))
        verdict = check(solver)
        model = solver.model() if verdict == z3.sat else None
        solver.pop()
        if verdict == z3.unknown:
            result.undecided.extend(f"{k} {s} (solver limit reached)" for k, s, _ in remaining)
            break
        if model is None:
            break
        hits = [(k, s) for k, s, q in remaining
                if z3.is_true(model.eval(q, model_completion=True))]
        if not hits:  # cannot happen for a sound model; stop rather than loop
            result.undecided.extend(f"{k} {s}" for k, s, _ in remaining)
            break
        found.extend(hits)
        remaining = [c for c in remaining if (c[0], c[1]) not in hits]
    return found


def _witnesses(solver: z3.Solver, space: Space, query: Any, old: m.Model, new: m.Model,
               limit: int, kind: str, subject: str, result: BehaviourResult,
               known: list[Witness]) -> BehaviourChange | None:
    solver.push()
    solver.add(query)
    found = list(known)
    for w in known:  # the solver's patients, if any are needed, differ from the vignettes
        solver.add(space.block(w.patient))
    try:
        while len(found) < max(limit, 1):
            verdict, model = _find(solver, space)
            if verdict == z3.unknown:
                result.undecided.append(f"{kind} {subject} (solver limit reached)")
                break
            if model is None:
                break
            patient = space.patient(model)
            replayed = _replay(patient, old, new)
            if replayed is not None:
                found.append(_dated(replayed, space, old, new).witness())
            solver.add(space.block(patient))
    finally:
        solver.pop()
    if not found:
        return None
    return BehaviourChange(kind, subject, tuple(found[:limit]))


def _dated(replayed: _Replayed, space: Space, old: m.Model, new: m.Model) -> _Replayed:
    """The witness with its dates and times on the new version's `updated` day
    (:func:`compiler.units.moved_to`), if both versions still do what they did for it."""
    kinds = {name: decls[-1].kind for name, decls in space.inputs.items()
             if all(d.kind == decls[-1].kind for d in decls)}
    moments = {name: (v, kinds[name] == "datetime") for name, text in replayed.patient.items()
               if kinds.get(name) in ("date", "datetime") and isinstance(text, str)
               and (v := moment(text, kinds[name] == "datetime")) is not None}
    for moved in moved_to(moments, new.meta.updated):
        patient = {**replayed.patient,
                   **{name: moment_text(v, moments[name][1]) for name, v in moved.items()}}
        again = _replay(patient, old, new)
        if again is not None and (outcome_summary(again.old), outcome_summary(again.new)) == (
                outcome_summary(replayed.old), outcome_summary(replayed.new)):
            return again
    return replayed


def check(solver: z3.Solver, budget: int = RLIMIT) -> Any:
    """``solver.check()`` with a resource budget for this query alone (z3's rlimit counts
    from the solver's creation, so the limit is set relative to what was spent), and the
    time limits of :mod:`compiler.limits`."""
    stats = solver.statistics()
    spent = int(stats.get_key_value("rlimit count")) if "rlimit count" in stats.keys() else 0  # noqa: SIM118
    return limited_check(solver, [], spent + budget, _DEADLINE[0])


#: The deadline of the diff running now (one per behavioural_diff).
_DEADLINE: list[Deadline] = [Deadline()]


def _find(solver: z3.Solver, space: Space) -> tuple[Any, z3.ModelRef | None]:
    """Check, preferring patients inside typical ranges and with whole numbers, so that
    witnesses read like patients (each preference dropped when the change needs it)."""
    whole = [z3.IsInt(v) for v in space.value.values() if z3.is_real(v)]
    for prefer in ([*space.plausible, *whole], whole):
        if not prefer:
            continue
        solver.push()
        solver.add(*prefer)
        verdict = check(solver)
        model = solver.model() if verdict == z3.sat else None
        solver.pop()
        if model is not None:
            return verdict, model
    verdict = check(solver)
    return verdict, solver.model() if verdict == z3.sat else None


def _replay(patient: dict[str, object], old: m.Model, new: m.Model,
            case: str | None = None) -> _Replayed | None:
    # Each version sees only the inputs it declares (a new input is ignored by the old one).
    try:
        va = validate(old, {k: v for k, v in patient.items() if k in old.inputs})
        vb = validate(new, {k: v for k, v in patient.items() if k in new.inputs})
    except InvalidPatient:
        return None
    return _Replayed(patient, evaluate_values(old, va), evaluate_values(new, vb), case)


def _real(x: Fraction) -> Any:
    return z3.RealVal(f"{x.numerator}/{x.denominator}")
