"""The leptomeningeal pathway written by hand from ``shared/leptomeningeal/CONTRACT.md``: the
baseline that the generated evaluator is measured against (``bench_evaluator.py``).

Written the way a careful engineer would write it without a compiler: a table of inputs that
one loop validates (every problem at once, the same messages as the reference interpreter),
then the pathway as plain ``if`` statements over a dict of values, building a frozen, slotted
result. Texts are abbreviated from the contract; the structure (which actions, in which order,
the path and what is pending) is the flagship's.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A recommended action with where and why it was recommended."""

    id: str
    text: str
    detail: str | None
    kind: str
    strength: str
    citations: tuple[str, ...]
    step: str
    because: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Caution:
    """A warning shown with the result."""

    id: str
    text: str
    citations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Note:
    """A committee note on the path."""

    node: str
    text: str


@dataclass(frozen=True, slots=True)
class Pending:
    """A decision that waits for unknown inputs."""

    decision: str
    inputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Result:
    """The result for one patient."""

    guideline: str
    version: str
    recommendations: tuple[Recommendation, ...]
    cautions: tuple[Caution, ...]
    notes: tuple[Note, ...]
    path: tuple[str, ...]
    pending: tuple[Pending, ...]

    @property
    def actions(self) -> tuple[str, ...]:
        """The recommended action ids, in order."""
        return tuple(r.id for r in self.recommendations)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a patient."""

    key: str
    message: str


class InvalidPatient(ValueError):
    """A patient that cannot be evaluated; ``problems`` lists every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.key}: {p.message}" for p in problems))
        self.problems = tuple(problems)


# ----------------------------------------------------------------------------- inputs

ENUMS: dict[str, tuple[str, ...]] = {
    "primary_site": ("lung", "breast", "melanoma", "other", "unknown"),
    "histology": ("adenocarcinoma", "squamous", "small_cell", "other", "unknown"),
    "egfr": ("mutant", "wild_type"),
    "alk": ("positive", "negative"),
    "braf": ("mutant", "wild_type"),
    "her2": ("positive", "negative"),
    "lm_pattern": ("linear", "nodular", "mixed", "none"),
    "csf_flow": ("unobstructed", "obstructed", "not_assessed"),
    "csf_cytology_result": ("positive", "negative", "equivocal", "not_done"),
}
BOOLEANS = (
    "extracranial_disease_controlled", "neuraxis_mri_done", "symptomatic_focal_lesions",
    "cranial_neuropathy", "spinal_cord_compression", "severe_symptoms", "ommaya_feasible",
    "craniospinal_rt_planned", "lung_mass_biopsied", "high_clinical_suspicion",
)
OPTIONAL = frozenset({"egfr", "alk", "braf", "her2", "lm_pattern"})
INPUTS = (
    "primary_site", "histology", "egfr", "alk", "braf", "her2", "kps", "life_expectancy_months",
    "extracranial_disease_controlled", "neuraxis_mri_done", "lm_pattern", "csf_flow",
    "symptomatic_focal_lesions", "cranial_neuropathy", "spinal_cord_compression",
    "severe_symptoms", "ommaya_feasible", "craniospinal_rt_planned", "lung_mass_biopsied",
    "csf_cytology_result", "high_clinical_suspicion",
)


def did_you_mean(word: str, candidates: tuple[str, ...] | list[str]) -> str | None:
    """The nearest candidate to a misspelling, or None."""
    pool = sorted(set(candidates))
    prefixed = [c for c in pool if len(word) >= 3 and c.lower().startswith(word.lower())]
    if len(prefixed) == 1:
        return prefixed[0]
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        return lowered[matches[0]] if matches else None
    return matches[0]


def show(raw: object) -> str:
    """A value as the messages quote it."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return f'"{raw}"'
    if raw is None:
        return "null"
    if isinstance(raw, int | float):
        return repr(raw)
    if isinstance(raw, list):
        return "a list"
    return "an object" if isinstance(raw, dict) else type(raw).__name__


def _number(name: str, raw: object, integer: bool, problems: list[Problem]) -> object:
    if isinstance(raw, float) and not math.isfinite(raw):
        problems.append(Problem(name, "must be a finite number, not NaN or infinity"))
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        what = "an integer" if integer else "a number"
        problems.append(Problem(name, f"must be {what}, not {show(raw)}"))
        return None
    if integer:
        if isinstance(raw, float):
            if not raw.is_integer():
                problems.append(Problem(name, f"must be an integer, not {show(raw)}"))
                return None
            value = int(raw)
        else:
            value = raw
        if not 0 <= value <= 100:
            problems.append(Problem(name, f"{show(raw)} is out of range (0 to 100)"))
            return None
        if value % 10:
            problems.append(Problem(name, f"{show(raw)} is not a multiple of 10"))
            return None
        return value
    if raw < 0:
        problems.append(Problem(name, f"{show(raw)} is out of range (>= 0)"))
        return None
    return raw


def validate(patient: Mapping[str, object]) -> dict[str, object]:
    """The patient's values, or InvalidPatient listing every problem."""
    if not isinstance(patient, Mapping):
        raise InvalidPatient([Problem("(patient)", "a patient is a JSON object of inputs")])
    problems: list[Problem] = []
    for key in patient:
        if key not in INPUTS:
            near = did_you_mean(str(key), INPUTS)
            hint = f" (did you mean `{near}`?)" if near else ""
            problems.append(Problem(str(key), f"is not an input of this guideline{hint}"))
    values: dict[str, object] = {}
    for name in INPUTS:
        raw = patient.get(name)
        if raw is None:
            if name not in OPTIONAL:
                problems.append(Problem(name, "is required but missing" if name not in patient
                                        else "is required and cannot be null"))
            values[name] = None
        elif name in ENUMS:
            allowed = ENUMS[name]
            if isinstance(raw, str) and raw in allowed:
                values[name] = raw
            else:
                near = did_you_mean(raw, allowed) if isinstance(raw, str) else None
                hint = f" (did you mean `{near}`?)" if near else ""
                problems.append(Problem(name, f"must be one of {', '.join(allowed)}, "
                                              f"not {show(raw)}{hint}"))
        elif name in BOOLEANS:
            if isinstance(raw, bool):
                values[name] = raw
            else:
                problems.append(Problem(name, f"must be true or false, not {show(raw)}"))
        else:
            values[name] = _number(name, raw, name == "kps", problems)
    if problems:
        raise InvalidPatient(problems)
    if not values["neuraxis_mri_done"] and values["lm_pattern"] is not None:
        problems.append(Problem("neuraxis_mri_done, lm_pattern",
                                "breaks the assumption that the pattern is known only from MRI"))
    if not values["lung_mass_biopsied"] and values["histology"] != "unknown":
        problems.append(Problem("lung_mass_biopsied, histology",
                                "breaks the assumption that histology needs the biopsy"))
    if problems:
        raise InvalidPatient(problems)
    return values


# ----------------------------------------------------------------------------- the pathway

ACTIONS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "neuraxis_mri": ("Contrast MRI of the entire neuraxis", "diagnostic", "strong", ("r2",)),
    "lung_mass_biopsy": ("Biopsy the lung mass", "diagnostic", "strong", ("r3",)),
    "molecular_testing": ("EGFR, ALK, BRAF and HER2 testing", "diagnostic", "strong", ("r3",)),
    "csf_cytology": ("CSF cytology", "diagnostic", "strong", ("r2",)),
    "repeat_lumbar_puncture": ("Repeat lumbar puncture", "diagnostic", "strong", ("r1", "r2")),
    "egfr_tki": ("Third-generation EGFR TKI", "systemic", "strong", ("r1", "r2")),
    "alk_inhibitor": ("ALK inhibitor with CNS penetration", "systemic", "conditional", ("r3",)),
    "platinum_chemotherapy": ("Platinum-based chemotherapy", "systemic", "strong", ("r1",)),
    "focal_radiotherapy": ("Focal radiotherapy", "radiotherapy", "strong", ("r1", "r2")),
    "csf_flow_study": ("Confirm CSF flow", "diagnostic", "strong", ("r1", "r2", "c1")),
    "flow_restoring_radiotherapy": ("Radiotherapy to restore CSF flow", "radiotherapy",
                                    "conditional", ("r1",)),
    "intrathecal_methotrexate": ("Intrathecal methotrexate", "intrathecal", "conditional",
                                 ("r1",)),
    "ommaya_reservoir": ("Ommaya reservoir", "intrathecal", "strong", ("r1",)),
    "best_supportive_care": ("Best supportive care", "supportive", "strong", ("r1", "r2")),
    "palliative_focal_radiotherapy": ("Palliative focal radiotherapy", "radiotherapy",
                                      "conditional", ("r1", "r2")),
    "neurological_monitoring": ("Neurological monitoring", "monitoring", "strong", ("r2",)),
    "multidisciplinary_review": ("Multidisciplinary decision", "referral", "strong", ("c1",)),
}


DETAILS: dict[str, str] = {
    "csf_cytology": "At least 5-10 mL, processed within 30 minutes.",
    "intrathecal_methotrexate": "Twice weekly x4 weeks, weekly x4 weeks, then monthly.",
    "focal_radiotherapy": "To symptomatic lesions, cranial neuropathies, cord compression.",
}


def _rec(action: str, step: str, because: tuple[str, ...]) -> Recommendation:
    text, kind, strength, citations = ACTIONS[action]
    return Recommendation(action, text, DETAILS.get(action), kind, strength, citations, step,
                          because)


def _kleene_and(*xs: bool | None) -> bool | None:
    if False in xs:
        return False
    return None if None in xs else True


def _kleene_or(*xs: bool | None) -> bool | None:
    if True in xs:
        return True
    return None if None in xs else False


def _eq(value: object, wanted: str) -> bool | None:
    return None if value is None else value == wanted


def evaluate(patient: Mapping[str, object]) -> Result:
    """Evaluate one patient (decoded JSON); raises InvalidPatient."""
    v = validate(patient)
    recs: list[Recommendation] = []
    notes: list[Note] = []
    path = ["performance"]
    pending: list[Pending] = []
    site, histology = v["primary_site"], v["histology"]
    egfr, alk, braf, her2 = v["egfr"], v["alk"], v["braf"], v["her2"]
    kps, months = v["kps"], v["life_expectancy_months"]
    assert isinstance(kps, int) and isinstance(months, int | float)
    biopsied, mri = v["lung_mass_biopsied"], v["neuraxis_mri_done"]
    focal = v["symptomatic_focal_lesions"] or v["cranial_neuropathy"] or \
        v["spinal_cord_compression"]
    lung_adeno = site == "lung" and histology == "adenocarcinoma"
    primary_known = site != "unknown" and (site != "lung" or histology != "unknown")

    # Rule 1: poor performance first, never pending.
    if kps < 70 or months < 1:
        why: tuple[str, ...] = ("poor performance",)
        path += ["poor_care", "supportive_end"]
        notes += [Note("poor_care", "Supportive care first."),
                  Note("poor_care", "No aggressive chemotherapy."),
                  Note("poor_care", "No work-up; drivers: individual decision.")]
        recs.append(_rec("best_supportive_care", "poor_care", why))
        if v["severe_symptoms"] and focal:
            recs.append(_rec("palliative_focal_radiotherapy", "poor_care",
                             (*why, "severe focal site")))
        driver = egfr == "mutant" or alk == "positive" or braf == "mutant" or her2 == "positive"
        if driver or (lung_adeno and (egfr is None or alk is None)):
            recs.append(_rec("multidisciplinary_review", "poor_care", (*why, "driver")))
        return _result(v, recs, notes, path, pending)

    # Rule 2: the work-up, whenever a result is missing.
    why = ("not poor performance",)
    path.append("workup")
    notes.append(Note("workup", "Lung adenocarcinomas: 84-96%."))
    if not mri:
        recs.append(_rec("neuraxis_mri", "workup", (*why, "no MRI")))
    if not biopsied:
        recs.append(_rec("lung_mass_biopsy", "workup", (*why, "not biopsied")))
    if lung_adeno and None in (egfr, alk, braf, her2):
        recs.append(_rec("molecular_testing", "workup", (*why, "marker missing")))
    cytology = v["csf_cytology_result"]
    if cytology == "not_done":
        recs.append(_rec("csf_cytology", "workup", (*why, "cytology not done")))
    if cytology in ("negative", "equivocal") and v["high_clinical_suspicion"] and mri:
        recs.append(_rec("repeat_lumbar_puncture", "workup", (*why, "negative cytology")))
    if biopsied and not primary_known:
        recs.append(_rec("multidisciplinary_review", "workup", (*why, "primary unknown")))

    # Rule 3: the diagnosis, then the primary type, before any treatment.
    path.append("diagnosis")
    pattern = v["lm_pattern"]
    if cytology == "positive":
        why += ("cytology positive",)
    elif not mri:
        path.append("awaiting_workup")
        return _result(v, recs, notes, path, pending)
    elif pattern is None:
        pending.append(Pending("diagnosis", ("lm_pattern",)))
        return _result(v, recs, notes, path, pending)
    elif pattern != "none":
        why += ("deposits on MRI",)
    elif v["high_clinical_suspicion"]:
        path.append("awaiting_workup")
        return _result(v, recs, notes, path, pending)
    else:
        notes.append(Note("diagnosis", "Not established."))
        path.append("not_established")
        return _result(v, recs, notes, path, pending)
    # The primary type, then rule 4: the performance groups.
    path.append("groups")
    if not primary_known:
        path.append("awaiting_workup")
        return _result(v, recs, notes, path, pending)
    why += ("primary type established",)
    if kps == 70:
        notes.append(Note("groups", "KPS 70: individual decision."))
        path.append("kps70_care")
        recs.append(_rec("multidisciplinary_review", "kps70_care", (*why, "KPS 70")))
        path += ["focal_therapy"]
        notes.append(Note("focal_therapy", "Faster relief than chemotherapy."))
        if focal:
            recs.append(_rec("focal_radiotherapy", "focal_therapy", (*why, "focal indication")))
        path += ["done", "monitoring"]
        recs.append(_rec("neurological_monitoring", "monitoring", (*why, "KPS 70")))
        return _result(v, recs, notes, path, pending)
    why += ("KPS > 70",)
    path += ["good_care", "systemic"]
    notes += [Note("good_care", "Control CNS and extracranial disease together."),
              Note("good_care", "Uncontrolled extracranial disease: individual decision.")]
    referred = False
    if not v["extracranial_disease_controlled"]:
        recs.append(_rec("multidisciplinary_review", "good_care", (*why, "not controlled")))
        referred = True
    seen_done = False

    # Rule 5: the first row that definitely holds; an unknown row waits.
    step, reason = None, ""
    egfr_mutant, alk_positive = egfr == "mutant", alk == "positive"
    if site != "lung":
        step, reason = "systemic_review", "not lung"
    elif egfr_mutant and alk_positive:
        step, reason = "systemic_review", "both drivers"
    elif egfr_mutant:
        step, reason = "egfr_therapy", "EGFR mutant"
    elif alk_positive:
        step, reason = "alk_therapy", "ALK positive"
    elif histology != "adenocarcinoma":
        step, reason = "systemic_review", "not adenocarcinoma"
    else:
        wild = _kleene_and(_eq(egfr, "wild_type"), _eq(alk, "negative"))
        other = _kleene_and(wild, _kleene_or(_eq(braf, "mutant"), _eq(her2, "positive")))
        none = _kleene_and(wild, _eq(braf, "wild_type"), _eq(her2, "negative"))
        if other:
            step, reason = "systemic_review", "BRAF or HER2"
        elif other is None:
            pending.append(Pending("systemic", tuple(
                n for n, x in (("egfr", egfr), ("alk", alk), ("braf", braf), ("her2", her2))
                if x is None)))
        elif none:
            step, reason = "platinum", "no driver"
    if step is not None:
        action = {"systemic_review": "multidisciplinary_review", "egfr_therapy": "egfr_tki",
                  "alk_therapy": "alk_inhibitor", "platinum": "platinum_chemotherapy"}[step]
        notes.append(Note("systemic", reason))
        path += [step, "done"]
        seen_done = True
        if not (referred and action == "multidisciplinary_review"):
            recs.append(_rec(action, step, (*why, reason)))
        referred = referred or action == "multidisciplinary_review"

    # Rule 6: local therapy and monitoring, beside the systemic choice.
    path.append("focal_therapy")
    notes.append(Note("focal_therapy", "Faster relief than chemotherapy."))
    if focal:
        recs.append(_rec("focal_radiotherapy", "focal_therapy", (*why, "focal indication")))
    if not seen_done:
        path.append("done")
        seen_done = True
    path.append("intrathecal")
    flow = v["csf_flow"]
    step = None
    if pattern is None:
        pending.append(Pending("intrathecal", ("lm_pattern",)))
    elif pattern in ("mixed", "none"):
        notes.append(Note("intrathecal", "Mixed or no deposits: individual decision."))
        step, action = "intrathecal_review", "multidisciplinary_review"
    elif pattern == "nodular":
        notes.append(Note("intrathecal", "Nodular: none."))
    elif v["craniospinal_rt_planned"]:
        notes.append(Note("intrathecal", "Craniospinal RT: no methotrexate."))
    elif flow == "obstructed":
        notes.append(Note("intrathecal", "Obstructed flow: restore it first."))
        step, action = "restore_flow", "flow_restoring_radiotherapy"
    elif flow == "not_assessed":
        notes.append(Note("intrathecal", "Confirm flow first."))
        step, action = "flow_study", "csf_flow_study"
    else:
        path.append("intrathecal_therapy")
        because = (*why, "thin linear deposits, unobstructed flow")
        recs.append(_rec("intrathecal_methotrexate", "intrathecal_therapy", because))
        if v["ommaya_feasible"]:
            recs.append(_rec("ommaya_reservoir", "intrathecal_therapy",
                             (*because, "Ommaya feasible")))
    if step is not None:
        path.append(step)
        if not (referred and action == "multidisciplinary_review"):
            recs.append(_rec(action, step, (*why, step)))
    path.append("monitoring")
    recs.append(_rec("neurological_monitoring", "monitoring", why))
    return _result(v, recs, notes, path, pending)


def _result(v: dict[str, object], recs: list[Recommendation], notes: list[Note],
            path: list[str], pending: list[Pending]) -> Result:
    cautions: list[Caution] = []
    if v["craniospinal_rt_planned"]:
        cautions.append(Caution("craniospinal_methotrexate", "Avoid methotrexate.", ("r1",)))
    if v["csf_flow"] == "obstructed":
        cautions.append(Caution("obstructed_flow", "No intrathecal chemotherapy.", ("r1",)))
    return Result("leptomeningeal", "2.0.0", tuple(recs), tuple(cautions), tuple(notes),
                  tuple(path), tuple(pending))
