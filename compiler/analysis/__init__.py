"""Static analysis with a solver: every logic defect of a guideline, each with a witness patient.

``analyze(model)`` runs after the name, type and graph checks (``compiler.pipeline`` calls it when
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

The package: ``engine`` (goals, the run, the solver queries), ``trace`` (one patient, fast),
one module per check family (``reach``, ``decisions``, ``rules``, ``pending``) over the goal
builders in ``goals``, and the helpers a finding is made with: ``wording``, ``gaps`` (a region
in words), ``patients`` (witnesses), ``settings`` (the limits).
"""

from __future__ import annotations

from compiler import model as m
from compiler.analysis import settings
from compiler.analysis.decisions import GapCheck, OverlapCheck
from compiler.analysis.engine import Analysis, Check, Goal, _rlimit_is_cumulative
from compiler.analysis.gaps import _atoms, describe
from compiler.analysis.patients import _json_number, _pools, _rounder, witness_json
from compiler.analysis.pending import PendingCheck
from compiler.analysis.reach import ReachabilityCheck, ShadowCheck
from compiler.analysis.rules import ConflictCheck, NeverCheck, RequireCheck
from compiler.analysis.trace import Trace, compile_condition, trace
from compiler.analysis.wording import WitnessError, internal
from compiler.limits import Cancel, interruptible
from compiler.pipeline import model_of
from dsl.diagnostics import Diagnostic

__all__ = [
    "CHECKS", "Analysis", "Check", "ConflictCheck", "GapCheck", "Goal", "NeverCheck",
    "OverlapCheck", "PendingCheck", "ReachabilityCheck", "RequireCheck", "ShadowCheck", "Trace",
    "WitnessError", "_atoms", "_json_number", "_pools", "_rlimit_is_cumulative", "_rounder",
    "analyze", "compile_condition", "describe", "model_of", "settings", "trace", "witness_json",
]


#: The checks, in order (tests may monkeypatch one to show that the others still run).
CHECKS: list[type[Check]] = [ReachabilityCheck, ShadowCheck, OverlapCheck, GapCheck,
                             ConflictCheck, NeverCheck, RequireCheck, PendingCheck]


def analyze(model: m.Model, *, rlimit: int = settings.DEFAULT_RLIMIT,
            rlimit_per_unit: int = settings.RLIMIT_PER_UNIT,
            max_regions: int | None = settings.MAX_REGIONS,
            fuzz: bool = True, cancel: Cancel | None = None) -> list[Diagnostic]:
    """Every logic finding of a checked model (see the module docstring); never prints.

    ``rlimit`` (plus ``rlimit_per_unit`` per unit of size) bounds each solver query;
    ``max_regions`` bounds the gap regions described per decision (None: all);
    ``fuzz=False`` leaves every question to the solver (the results are the same, only slower
    to reach on big guidelines); ``cancel``, flipped from another thread, stops the run (its
    findings are then incomplete).
    """
    try:
        analysis = Analysis(model, rlimit, rlimit_per_unit, max_regions, fuzz, cancel)
    except Exception as exc:
        return [internal("encoding", exc, model)]
    if cancel is not None and cancel.cancelled:
        return []
    with interruptible(analysis.enc.ctx):
        try:
            return analysis.run(CHECKS)
        except Exception:
            if cancel is not None and cancel.cancelled:
                return []  # z3 refuses every call once interrupted: the run is over
            raise
