"""The registry of diagnostic codes: every code guidec reports, once.

Each :class:`Code` has its severity (a pass may lower E301 to a warning while the guideline
is a draft), a title (what it finds), an example message and the fixture that shows it. The
passes create diagnostics through :func:`dsl.diagnostics.error` and friends, which refuse a
code that is not here; the language reference's tables are generated from this registry
(``python tools/codes.py --update``, checked by a test); ``guidec explain CODE`` prints a
code's page.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl.diagnostics import Severity


@dataclass(frozen=True, slots=True)
class Code:
    """One diagnostic code: ``title`` says what it finds, ``example`` a message it prints
    (Markdown), ``fixture`` the repository file that shows it (None: only a run shows it)."""

    code: str
    severity: Severity
    title: str
    example: str
    fixture: str | None
    #: The severity words the docs print ("error (warning while `status draft`)").
    severity_words: str


def _code(code: str, severity: str, title: str, example: str = "",
          fixture: str | None = None) -> Code:
    word = severity.split(" ", 1)[0]
    return Code(code, Severity(word), title, example, fixture, severity)


def _order(code: Code) -> tuple[str, str, str]:
    # By family (the hundreds), then number; the names' warnings (W1xx) after their errors.
    family, number = code.code[1], code.code[2:]
    return (family, code.code[0] if family == "1" else "", number)


CODES: dict[str, Code] = {c.code: c for c in sorted((
    _code("E001", "error",
          "unexpected character, or a text not closed on its line",
          "",
          "tests/fixtures/syntax/junk_characters.guide"),
    _code("E002", "error",
          "unexpected word or symbol (with what was expected and a did-you-mean)",
          "",
          "tests/fixtures/syntax/branch_without_condition.guide"),
    _code("E003", "error",
          "invalid escape in a text",
          "",
          "tests/fixtures/syntax/bad_escape.guide"),
    _code("E004", "error",
          "the file is empty or ends too early",
          "",
          "tests/fixtures/syntax/comments_only.guide"),
    _code("E005", "error",
          "a field given twice in one clause (header; a reference's `source`, `year`, `url`; an "
          "action's `short`, `detail`)",
          "",
          "tests/fixtures/syntax/action_detail_twice.guide"),
    _code("E006", "error",
          "`allow` with something that is not a diagnostic code",
          "",
          "tests/fixtures/syntax/bad_allow_code.guide"),
    _code("E007", "error",
          "`is recommended` after something that is not an action name",
          "",
          "tests/fixtures/syntax/recommended_not_a_name.guide"),
    _code("E008", "error", "a condition nested too deeply to read (split it with `let`)"),
    _code("E009", "error",
          "a reference's `year` that is not a year (a whole number from 1000 to 9999)",
          "",
          "tests/fixtures/syntax/year_not_whole.guide"),
    _code("E010", "error",
          "a number with more than 40 significant digits (far beyond any clinical value; bounds "
          "must stay within a float)",
          "",
          "tests/fixtures/syntax/number_too_long.guide"),
    _code("E011", "error",
          "an `updated` or `changelog` date that is not a date of the calendar (ISO 8601)",
          "",
          "tests/fixtures/syntax/date_not_in_calendar.guide"),
    _code("E012", "error",
          "a version part (major, minor, patch) longer than 9 digits",
          "",
          "tests/fixtures/syntax/version_part_too_long.guide"),
    _code("E013", "error",
          "a name longer than 64 characters (names become file names and identifiers)",
          "",
          "tests/fixtures/syntax/name_too_long.guide"),
    _code("E014", "error",
          "a document larger than guidec reads (5,000,000 bytes): the editor's server does not "
          "check it, as `guidec check` refuses the file"),
    _code("E101", "error",
          "no input or let by that name (with a did-you-mean)",
          "``there is no input or let named `kpss` ``",
          "tests/fixtures/check/e101_undefined_name.guide"),
    _code("W101", "warning",
          "an input no condition reads",
          "``the input `age` is never used by a condition``",
          "tests/fixtures/check/w101_unused_input.guide"),
    _code("E102", "error",
          "a name declared twice in its namespace",
          "``the action `treat` is declared twice``",
          "tests/fixtures/check/e102_duplicate.guide"),
    _code("W102", "warning",
          "an action never recommended nor forbidden",
          "``the action `rest` is never recommended``",
          "tests/fixtures/check/w102_unused_action.guide"),
    _code("E103", "error",
          "no action (or caution) by that name",
          "``there is no action named `treatment` ``",
          "tests/fixtures/check/e103_undefined_action.guide"),
    _code("W103", "warning",
          "a reference never cited",
          "``the reference `r2` is never cited``",
          "tests/fixtures/check/w103_unused_reference.guide"),
    _code("E104", "error",
          "no pathway node by that name",
          "``there is no pathway node named `finish` ``",
          "tests/fixtures/check/e104_undefined_node.guide"),
    _code("W104", "warning",
          "a let never used",
          "``the let `frail` is never used``",
          "tests/fixtures/check/w104_unused_let.guide"),
    _code("E105", "error",
          "no reference by that name",
          "``there is no reference named `r2` ``",
          "tests/fixtures/check/e105_undefined_reference.guide"),
    _code("W105", "warning",
          "an `allow` that silences nothing (an error can never be allowed)",
          "`` `allow W501 at care` silences nothing ``",
          "tests/fixtures/check/w105_allow_unused.guide"),
    _code("E106", "error",
          "no patient by that name",
          "``there is no patient named `fitt` ``",
          "tests/fixtures/check/e106_undefined_patient.guide"),
    _code("E107", "error",
          "a let that refers to itself",
          "``the let `fit` refers to itself``",
          "tests/fixtures/check/e107_let_cycle.guide"),
    _code("E108", "error",
          "header: a missing field or an unknown status",
          "``the guideline header lacks owner``",
          "tests/fixtures/check/e108_header.guide"),
    _code("E109", "error",
          "an unknown kind of action or reference, or an unknown certainty of evidence",
          "`` `systemic_therapy` is not a kind of action ``",
          "tests/fixtures/check/e109_kind.guide"),
    _code("E110", "error",
          "a malformed input: empty range, fractional integer bound, repeated enum value",
          "``the range of `kps` is empty (100 > 0)``",
          "tests/fixtures/check/e110_input.guide"),
    _code("E111", "error",
          "a reference label that is not 1-8 letters, digits or `-`",
          "``the label \"C 1\" of reference `c1` is not a citation label``",
          "tests/fixtures/check/e111_e113_reference_labels.guide"),
    _code("E112", "error",
          "two references with the same label",
          "``reference `c2` is labelled \"C1\", like reference `c1` ``",
          "tests/fixtures/check/e111_e113_reference_labels.guide"),
    _code("E113", "error",
          "a reference label that is the number another reference is cited by",
          "``the label \"2\" of reference `c1` is the number reference `r2` is cited by``",
          "tests/fixtures/check/e111_e113_reference_labels.guide"),
    _code("E114", "error",
          "a chain of lets (a let defined through another, and so on) longer than 1,000",
          "``the let `l1000` is defined through a chain of 1,001 lets; a chain has at most 1,000``",
          "tests/fixtures/check/e114_let_chain_too_long.guide"),
    _code("E115", "error",
          "a grading that does not hold together: a certainty on a good practice statement",
          "``the action `hydrate` is a good practice statement, which GRADE does not grade``",
          "tests/fixtures/check/e115_grading.guide"),
    _code("W201", "warning",
          "a threshold outside the input's typical range (a unit slip such as mg/dL for "
          "mmol/L, or a typo)",
          "``400 is outside the typical range of `glucose` (3 to 30 mmol/L)``",
          "tests/fixtures/check/w201_atypical_threshold.guide"),
    _code("E201", "error",
          "a choice (enum) compared with a number or with `<`",
          "`` `site` is a choice, not a number ``",
          "tests/fixtures/check/e201_enum_number.guide"),
    _code("E202", "error",
          "a value its enum does not have",
          "`` `lungs` is not a value of `site` ``",
          "tests/fixtures/check/e202_enum_value.guide"),
    _code("E203", "error",
          "a literal outside the input's range",
          "``120 is outside the range of `kps` (0 to 100)``",
          "tests/fixtures/check/e203_out_of_range.guide"),
    _code("E204", "error",
          "a value off the input's step, or a fraction for an integer",
          "`` `kps` takes steps of 10: 75 is not one of its values ``",
          "tests/fixtures/check/e204_off_step.guide"),
    _code("E205", "error",
          "a number used as a condition, or true/false as a number",
          "``this condition is a number, not true or false``",
          "tests/fixtures/check/e205_not_a_condition.guide"),
    _code("E206", "error",
          "`is recommended` outside a rule",
          "`` `is recommended` can only be used in a rule ``",
          "tests/fixtures/check/e206_recommended_outside_rule.guide"),
    _code("E207", "error",
          "other mixed comparisons; `in (...)` on a non-enum",
          "`` `in (...)` needs a choice (enum) input on its left ``",
          "tests/fixtures/check/e207_in_number.guide"),
    _code("E208", "error",
          "a patient or case value of the wrong type; unknown for a required input",
          "`` `fit` is true or false ``",
          "tests/fixtures/check/e208_patient_value.guide"),
    _code("E209", "error",
          "a division by something other than a non-zero number",
          "``a quantity can be divided only by a number written here, not by `weight` ``",
          "tests/fixtures/check/e209_divide.guide"),
    _code("E210", "error",
          "a points score over a non-condition, with a criterion of 0 points, or not a let",
          "``a score counts conditions; this criterion is a number``",
          "tests/fixtures/check/e210_points.guide"),
    _code("E211", "error",
          "a unit guidec does not know, quantities that do not convert, or a quantity compared "
          "with a number without a unit",
          "``a quantity in mmol/L is compared with a number without a unit``",
          "tests/fixtures/check/e211_units.guide"),
    _code("W202", "warning",
          "an input's unit written as a label that spells a UCUM code the table knows",
          "``the unit \"mmol/L\" is a label: write it as the UCUM code 'mmol/L' to have "
          "comparisons checked and converted``",
          "tests/fixtures/check/e211_units.guide"),
    _code("E301", "error (warning while `status draft`)",
          "an action or rule that cites no reference",
          "``the action `treat` cites no reference``",
          "tests/fixtures/check/e301_uncited.guide"),
    _code("E401", "error",
          "the pathway loops back",
          "``the pathway loops back to `care` ``",
          "tests/fixtures/check/e401_cycle.guide"),
    _code("E402", "error",
          "a step with no `then`",
          "``the step `care` has no way on``",
          "tests/fixtures/check/e402_no_way_on.guide"),
    _code("W403", "warning",
          "a node no path from the start reaches (edges only; W501 covers conditions)",
          "``no path from the start reaches `orphan` ``",
          "tests/fixtures/check/w403_unreached_node.guide"),
    _code("E404", "error",
          "no pathway",
          "``the guideline has no pathway``",
          "tests/fixtures/check/e404_no_pathway.guide"),
    _code("W405", "warning",
          "a `page` on the only first node (the first page starts there)",
          "`` `page` on `care` has no effect: the first page starts there ``",
          "tests/fixtures/check/w405_page_on_first.guide"),
    _code("W501", "warning",
          "a branch, `otherwise` or conditional recommendation that never applies, with the "
          "conditions (and lines) that contradict, from an unsat core",
          "``the branch `kps > 80` of `low` is never taken: it cannot hold where the decision is "
          "reached`` — note: `` `kps > 80` (line 27) contradicts `kps < 50` (line 23) ``",
          "tests/fixtures/check/unreachable.guide"),
    _code("W502", "warning",
          "a branch of a `first` decision that earlier branches cover",
          "``the branch `kps >= 70` of `choose` is shadowed: an earlier branch holds whenever it "
          "does`` — note: ``covered by `kps >= 50` (line 21)``",
          "tests/fixtures/check/shadowed.guide"),
    _code("E503", "error",
          "two branches of a `unique` decision that hold for one patient (witness)",
          "``two branches of `profile` hold for one patient: `egfr == mutant` and `alk == "
          "positive` ``",
          "tests/fixtures/check/overlap.guide"),
    _code("E504", "error",
          "a decision without `otherwise` and patients for whom every branch is definitely false:"
          " one finding per region, in words, each with a witness (every region, numbered; "
          "`--max-regions N` caps them)",
          "``no branch of `flow` applies when csf_flow == not_assessed``",
          "tests/fixtures/check/gap.guide"),
    _code("E505", "error",
          "`conflict A, B`: a patient is recommended both (witness, path)",
          "`` `support` and `intrathecal` are both recommended to one patient, against `conflict`"
          " ``",
          "tests/fixtures/check/conflict.guide"),
    _code("E506", "error",
          "`never A when C`: A is recommended to a patient for whom C may hold, i.e. is not "
          "definitely false (witness, path)",
          "`` `intrathecal` is recommended where `never intrathecal when csf_flow == obstructed` "
          "forbids it ``",
          "tests/fixtures/check/never.guide"),
    _code("E507", "error",
          "`require A when C`: C definitely holds and A is not recommended (witness, path; notes "
          "name the decisions that were pending or stuck)",
          "`` `repeat_lp` is not recommended where `require repeat_lp when cytology in (negative,"
          " equivocal) and suspicion` demands it ``",
          "tests/fixtures/check/require.guide"),
    _code("E508", "error",
          "assumptions no patient satisfies, with the assumptions (and input ranges) that "
          "contradict",
          "``no patient satisfies the assumptions`` — note: ``these cannot all hold: the "
          "assumption `kps > 60` (line 13); the assumption `kps < 40` (line 14)``",
          "tests/fixtures/check/assumptions.guide"),
    _code("I509", "info",
          "a decision or step that can be pending, and on which unknown inputs (witness, path)",
          "``the decision `systemic` can be pending: it cannot decide while `egfr` is unknown``",
          "tests/fixtures/check/pending.guide"),
    _code("W510", "warning",
          "a question the solver could not decide within its resource limit (z3's rlimit, backed "
          "by 10 s per query and 60 s per run: `GUIDEC_QUERY_SECONDS`, `GUIDEC_RUN_SECONDS`), "
          "naming the check and the node (never a hang); at most 20 per check, then one that "
          "counts the rest",
          "``could not decide whether any patient reaches `care` within the solver's limit "
          "(reachability check)``",
          "tests/fixtures/check/undecided.guide"),
    _code("E511", "error",
          "an internal failure of one check, or a witness the interpreter does not confirm; the "
          "other checks still run",
          "``internal failure in the overlap check: RuntimeError: ...``"),
    _code("E601", "error",
          "`--release`: a release needs `status approved`",
          "``a release needs status approved, not draft``"),
    _code("E602", "error",
          "`--release --since REV`: behaviour changed since REV but the version is not greater",
          "``behaviour changed since HEAD~1 but the version is still 2.0.0``"),
    _code("E603", "error",
          "`--release --since REV`: behaviour changed but the changelog has no entry for the new "
          "version",
          "``behaviour changed since HEAD~1 but the changelog has no entry for 2.1.0``"),
    _code("E604", "error",
          "`--release --since REV`: a breaking interface change (an input or action removed or "
          "narrowed) without a new major version",
          "``a breaking interface change needs a new major version (now 2.1.0)``"),
    _code("E605", "error",
          "`--release --since REV`: the version at REV cannot be read or checked",
          "``cannot compare with HEAD~1: ...``"),
), key=_order)}


def lookup(code: str) -> Code:
    """The registered code; KeyError for a code guidec does not have."""
    return CODES[code]

