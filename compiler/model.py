"""The checked model: a guideline with every name resolved and every expression typed.

This is what the analysis, the interpreter and every target read. Nothing here refers to the
syntax tree except :class:`~dsl.ast.Span`, kept so that a flowchart node, a handout paragraph
or a runtime trace can point back at its source line. Each condition carries ``words``: the
clinical wording used by the flowchart, the handout and the interpreter's "because".
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

from dsl.ast import Span

#: A patient value: boolean, exact number, enum value, or the values of a set input present;
#: ``None`` is unknown.
Value = bool | Fraction | str | frozenset[str] | None

#: What each comparison operator of :class:`Cmp` means, for exact numbers (the interpreter),
#: solver terms (the analysis) and constants (the Python target's folding) alike.
COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}
#: Each comparison with its sides swapped (`a < b` is `b > a`).
SWAPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
#: Each comparison negated (`not a < b` is `a >= b`).
NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def number_text(v: Fraction) -> str:
    """A number as a patient's data shows it: ``70``, ``0.5``."""
    return str(v.numerator) if v.denominator == 1 else str(float(v))

# ----------------------------------------------------------------------------- expressions
#
# Types are "boolean", "number" and "enum" (with the enum's values). Every expression node has
# ``type`` and ``span``.


@dataclass(frozen=True, slots=True)
class InputRef:
    """The value of an input (unknown when an optional input is absent)."""

    name: str
    type: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Const:
    """A literal: boolean, exact number or enum value. A quantity (`90 'mg/dL'`) has its
    UCUM ``unit``; compared with an input it is converted to the input's unit, and
    ``given`` keeps the value and unit the author wrote, for the text and the words. A date's
    ``written`` is its ISO text."""

    value: bool | Fraction | str
    type: str
    span: Span = field(compare=False, repr=False)
    unit: str | None = None
    written: str | None = field(default=None, compare=False, repr=False)
    given: tuple[Fraction, str] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class LetRef:
    """A named `let`; ``expr`` is its (resolved) definition.

    Two references are equal when their names, types and ``digest`` (of the definition,
    through the lets it reads) are: comparing, hashing and printing a reference never walks
    its definition, so a chain of lets each read twice stays linear, not exponential.
    """

    name: str
    expr: Expr = field(compare=False, repr=False)
    type: str
    span: Span = field(compare=False, repr=False)
    digest: str = ""

    @staticmethod
    def of(name: str, expr: Expr, span: Span) -> LetRef:
        """The reference to a let defined as ``expr`` (its digest computed once here)."""
        import hashlib

        text = f"{name}:{expr.type}:{expr!r}"
        return LetRef(name, expr, expr.type, span, hashlib.sha256(text.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class Cmp:
    """A comparison; numbers compare with any operator, enums and booleans with == and !=."""

    op: str
    left: Expr
    right: Expr
    span: Span = field(compare=False, repr=False)
    type: str = "boolean"


@dataclass(frozen=True, slots=True)
class Arith:
    """`left + right` or `left - right` over numbers."""

    op: str
    left: Expr
    right: Expr
    span: Span = field(compare=False, repr=False)
    type: str = "number"


@dataclass(frozen=True, slots=True)
class Scale:
    """`operand * factor`, multiplication of a number by a literal."""

    operand: Expr
    factor: Fraction
    span: Span = field(compare=False, repr=False)
    type: str = "number"


@dataclass(frozen=True, slots=True)
class And:
    """Kleene conjunction."""

    operands: tuple[Expr, ...]
    span: Span = field(compare=False, repr=False)
    type: str = "boolean"


@dataclass(frozen=True, slots=True)
class Or:
    """Kleene disjunction."""

    operands: tuple[Expr, ...]
    span: Span = field(compare=False, repr=False)
    type: str = "boolean"


@dataclass(frozen=True, slots=True)
class Not:
    """Kleene negation."""

    operand: Expr
    span: Span = field(compare=False, repr=False)
    type: str = "boolean"


@dataclass(frozen=True, slots=True)
class Known:
    """`e is known` / `e is unknown`: whether ``operand`` has a value; never itself unknown."""

    operand: Expr
    known: bool
    span: Span = field(compare=False, repr=False)
    type: str = "boolean"


@dataclass(frozen=True, slots=True)
class Member:
    """`e in (a, b)` for an enum ``operand``."""

    operand: Expr
    values: tuple[str, ...]
    span: Span = field(compare=False, repr=False)
    type: str = "boolean"


@dataclass(frozen=True, slots=True)
class Contains:
    """`x has v`: the set input ``operand`` holds the value ``value``."""

    operand: Expr
    value: str
    span: Span = field(compare=False, repr=False)
    type: str = "boolean"


@dataclass(frozen=True, slots=True)
class Recommended:
    """`A is recommended` (rule conditions only): the result recommends action A."""

    action: str
    span: Span = field(compare=False, repr=False)
    type: str = "boolean"


@dataclass(frozen=True, slots=True)
class Derived:
    """A form the language derives from others: ``form`` and ``args`` are what the author
    wrote (for its text and words), ``meaning`` the expression it stands for, which every
    evaluator (interpreter, solver, generated code) reads instead.

    Forms: ``xor`` (a, b) means ``a != b``; ``implies`` (a, b) means ``not a or b``;
    ``between`` (x, low, high) means ``x >= low and x <= high``; ``divide`` (x, k) means
    ``x * (1/k)``. Kleene's tables agree with each meaning, unknown included.
    """

    form: str
    args: tuple[Expr, ...]
    meaning: Expr
    span: Span = field(compare=False, repr=False)

    @property
    def type(self) -> str:
        """The type of what it means."""
        return self.meaning.type


@dataclass(frozen=True, slots=True)
class Criterion:
    """One line of a points score: ``condition`` scores ``weight`` points; ``label`` is how
    results and printed outputs name it (the author's, or the condition in words)."""

    weight: Fraction
    condition: Expr
    label: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Points:
    """A points score: the sum of the weights of the criteria that hold; unknown while any
    criterion is unknown (give absence a meaning with an input's `default` where it has
    one). Only a let's whole definition (the result reports each score by that let)."""

    criteria: tuple[Criterion, ...]
    span: Span = field(compare=False, repr=False)
    type: str = "number"

    @property
    def low(self) -> Fraction:
        """The least score a patient can have."""
        return sum((c.weight for c in self.criteria if c.weight < 0), Fraction(0))

    @property
    def high(self) -> Fraction:
        """The greatest score a patient can have."""
        return sum((c.weight for c in self.criteria if c.weight > 0), Fraction(0))

    @property
    def whole(self) -> bool:
        """Whether every score is a whole number."""
        return all(c.weight.denominator == 1 for c in self.criteria)


Expr = (
    InputRef | Const | LetRef | Cmp | Arith | Scale | And | Or | Not | Known | Member |
    Recommended | Derived | Points | Contains
)


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition as used by a node or rule: the expression, its source text and its words."""

    expr: Expr
    text: str
    words: str
    span: Span = field(compare=False, repr=False)


# ----------------------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class Meta:
    """The guideline header."""

    id: str
    title: str
    version: str
    status: str
    updated: str
    owner: str
    scope: str | None
    disclaimer: str | None
    #: The source document as cited, and its status banner quoted verbatim: the source's own
    #: status, shown apart from the committee's approval of this encoding.
    source: str | None = None
    banner: str | None = None


@dataclass(frozen=True, slots=True)
class ChangelogEntry:
    """One version's entry in the change log."""

    version: str
    date: str
    text: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Note:
    """A committee note with its citations (reference ids)."""

    text: str
    citations: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Reference:
    """A declared reference; ``number`` is its 1-based position; ``label`` is how every output
    cites it: the author's ``label`` (e.g. ``C1``, apart from the source's numbers) or the
    number."""

    id: str
    kind: str
    title: str
    source: str | None
    year: int | None
    url: str | None
    notes: tuple[Note, ...]
    number: int
    span: Span = field(compare=False, repr=False)
    label: str = ""


@dataclass(frozen=True, slots=True)
class Input:
    """A typed patient fact. ``kind`` is boolean, integer, number, enum or set."""

    name: str
    label: str
    kind: str
    optional: bool
    low: Fraction | None = None
    high: Fraction | None = None
    step: Fraction | None = None
    unit: str | None = None
    values: tuple[str, ...] = ()
    span: Span = field(default=Span("<none>", 0, 0, 0, 0), compare=False, repr=False)
    #: An open end excludes its bound (`> 0`, `< 10`).
    low_open: bool = False
    high_open: bool = False
    #: What absence means (`optional ... default V`): a patient may leave the input out (or
    #: null) and then has this value. Such an input is never unknown, so ``optional`` (which
    #: says that the input may be unknown) is False for it.
    default: bool | Fraction | str | frozenset[str] | None = None
    #: `typical LOW..HIGH`: where most patients lie; witness patients stay inside it where
    #: the finding allows, and a threshold outside it is a warning (W201).
    typical: tuple[Fraction, Fraction] | None = None
    #: The UCUM code of a checked unit (``unit`` is then how it prints), and the input's own
    #: conversions: (unit, how many of it make one of this input's unit).
    ucum: str | None = None
    conversions: tuple[tuple[str, Fraction], ...] = ()

    def accepted_units(self) -> tuple[tuple[str, Fraction], ...]:
        """The units a patient may give this input's value in, each with its factor."""
        from compiler.units import accepted

        return accepted(self.ucum, self.conversions) if self.ucum is not None else ()

    def per_unit(self, code: str) -> Fraction | None:
        """What a value in ``code`` is multiplied by to be in this input's unit (None: it
        does not convert)."""
        from compiler.units import factor

        return factor(code, self.ucum, self.conversions) if self.ucum is not None else None

    @property
    def may_be_absent(self) -> bool:
        """Whether a patient may leave the input out (it is then unknown, or its default)."""
        return self.optional or self.default is not None

    @property
    def empty(self) -> bool:
        """Whether the declared range holds no number (an error, E110)."""
        return self.low is not None and self.high is not None and (
            self.low > self.high or (self.low == self.high and (self.low_open or
                                                                 self.high_open)))

    def in_range(self, v: Fraction) -> bool:
        """Whether a number lies within the declared range (not the step)."""
        if self.low is not None and (v < self.low or (self.low_open and v == self.low)):
            return False
        return self.high is None or not (v > self.high or (self.high_open and v == self.high))

    @property
    def type(self) -> str:
        """The expression type of this input: boolean, number or enum."""
        return "number" if self.kind in ("integer", "number", "date", "datetime") else self.kind

    @property
    def kind_words(self) -> str:
        """What a valid value is, as the patient-data problems say it ("must be ...")."""
        if self.kind == "boolean":
            return "true or false"
        if self.kind == "enum":
            return "one of " + ", ".join(self.values)
        if self.kind == "set":
            return "a list of distinct values among " + ", ".join(self.values)
        if self.kind == "date":
            return "a date such as 2026-12-04"
        if self.kind == "datetime":
            return "a date and time such as 2026-12-04T14:30"
        return "an integer" if self.kind == "integer" else "a number"

    @property
    def range_text(self) -> str:
        """The allowed range as the patient-data problems say it ("0 to 100"); "" for none."""
        if self.kind in ("date", "datetime"):
            from compiler.units import moment_text

            assert self.low is not None and self.high is not None
            with_time = self.kind == "datetime"
            return f"{moment_text(int(self.low), with_time)} to " \
                   f"{moment_text(int(self.high), with_time)}"
        low = number_text(self.low) if self.low is not None else None
        high = number_text(self.high) if self.high is not None else None
        if low is not None and high is not None and not self.low_open and not self.high_open:
            return f"{low} to {high}"
        parts = []
        if low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {low}")
        if high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {high}")
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class Assumption:
    """A constraint every valid patient meets; ``condition`` already folds in `unless`."""

    condition: Condition
    text: str | None
    inputs: tuple[str, ...]
    span: Span = field(compare=False, repr=False)

    @property
    def message(self) -> str:
        """What a patient who breaks it is told, in clinical words."""
        return f"do not fit the guideline's assumption: {self.text or self.condition.words}"

    @property
    def rule(self) -> str:
        """The assumption as the guideline writes it."""
        return f"assume {self.condition.text}"


@dataclass(frozen=True, slots=True)
class Let:
    """A named condition or quantity."""

    name: str
    label: str | None
    expr: Expr
    span: Span = field(compare=False, repr=False)
    #: The definition in clinical words (other lets by their labels): what a printed label
    #: stands for, shown in the glossary of the flowchart and the handout.
    words: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    """A recommendation that the pathway can make."""

    id: str
    kind: str
    text: str
    strength: str
    detail: str | None
    citations: tuple[str, ...]
    span: Span = field(compare=False, repr=False)
    #: The wording for print (the flowchart); None: print ``text``.
    short: str | None = None
    #: GRADE: ``for`` or ``against`` the action; the certainty of the evidence (high,
    #: moderate, low, very_low; None: not stated); ``graded``, or ``good_practice`` for a good
    #: practice statement (ungraded).
    direction: str = "for"
    certainty: str | None = None
    grading: str = "graded"

    @property
    def verb(self) -> str:
        """How a result opens the recommendation: Use, Consider, Do not use, Consider not
        using (a good practice statement reads as its strength says)."""
        return grade_verb(self.strength, self.direction)

    @property
    def grade_words(self) -> str:
        """The grading as GRADE states it: "strong recommendation against, low certainty of
        evidence", or "good practice statement"."""
        return grade_words(self.strength, self.direction, self.certainty, self.grading)

    @property
    def print_text(self) -> str:
        """What a printed chart says: the short wording when there is one."""
        return self.short or self.text


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph of a prose section."""

    text: str
    citations: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Section:
    """Prose that is not a decision (prognosis, monitoring, ...)."""

    id: str
    title: str
    paragraphs: tuple[Paragraph, ...]
    span: Span = field(compare=False, repr=False)


# ----------------------------------------------------------------------------- pathway


@dataclass(frozen=True, slots=True)
class RecommendSite:
    """`recommend A when C` in a step; ``condition`` None means always."""

    actions: tuple[str, ...]
    condition: Condition | None
    step: str
    index: int
    span: Span = field(compare=False, repr=False)
    #: The author's words for the condition (`recommend A when C "label"`).
    label: str | None = None


@dataclass(frozen=True, slots=True)
class PageBreak:
    """`page ["title"]`: the printed pocket edition starts a page at this node (layout only;
    no patient's result depends on it)."""

    title: str | None
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Step:
    """A step: recommendations, notes, and the nodes that follow (several run independently)."""

    id: str
    title: str
    recommends: tuple[RecommendSite, ...]
    notes: tuple[Note, ...]
    next: tuple[str, ...]
    span: Span = field(compare=False, repr=False)
    page: PageBreak | None = None


@dataclass(frozen=True, slots=True)
class Branch:
    """A branch of a decision; ``index`` counts from 0 in source order."""

    index: int
    condition: Condition
    label: str | None
    targets: tuple[str, ...]
    notes: tuple[Note, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Otherwise:
    """The `otherwise` branch: taken when every branch is definitely false."""

    label: str | None
    targets: tuple[str, ...]
    notes: tuple[Note, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision; ``policy`` is unique (default) or first."""

    id: str
    question: str
    policy: str
    notes: tuple[Note, ...]
    branches: tuple[Branch, ...]
    otherwise: Otherwise | None
    span: Span = field(compare=False, repr=False)
    page: PageBreak | None = None


@dataclass(frozen=True, slots=True)
class End:
    """An end of the pathway."""

    id: str
    title: str | None
    span: Span = field(compare=False, repr=False)


PathNode = Step | Decision | End


@dataclass(frozen=True, slots=True)
class Pathway:
    """The flow: start targets and the nodes in source order (``nodes`` is keyed by id)."""

    start: tuple[str, ...]
    nodes: dict[str, PathNode]
    span: Span = field(compare=False, repr=False)

    def successors(self, node_id: str) -> tuple[str, ...]:
        """Every node that can follow ``node_id`` directly."""
        node = self.nodes[node_id]
        if isinstance(node, Step):
            return node.next
        if isinstance(node, Decision):
            out: list[str] = []
            for b in node.branches:
                out.extend(t for t in b.targets if t not in out)
            if node.otherwise is not None:
                out.extend(t for t in node.otherwise.targets if t not in out)
            return tuple(out)
        return ()


# ----------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class NeverRule:
    """`never A [when C]`: no allowed patient where C may hold is recommended A."""

    action: str
    condition: Condition | None
    reason: str
    citations: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class RequireRule:
    """`require A when C`: every allowed patient where C definitely holds is recommended A."""

    action: str
    condition: Condition
    reason: str
    citations: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ConflictRule:
    """`conflict A, B`: no allowed patient is recommended both."""

    first: str
    second: str
    reason: str
    citations: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CautionRule:
    """`caution ID "text" when C`: a warning shown with the result when C definitely holds."""

    id: str
    text: str
    condition: Condition
    citations: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


# ----------------------------------------------------------------------------- patients


@dataclass(frozen=True, slots=True)
class Patient:
    """A named example patient (values as JSON-ready Python: bool, int/float, str, None)."""

    id: str
    description: str | None
    values: dict[str, object]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Expectation:
    """One `expect` line of a case (see :class:`dsl.ast.Expect` for the kinds)."""

    kind: str
    names: tuple[str, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Case:
    """A clinical vignette: a patient (base patient with changes) and what must result."""

    title: str
    base: str | None
    patient: dict[str, object]
    expectations: tuple[Expectation, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Allow:
    """An accepted warning: code at node, with the committee's reason."""

    code: str
    node: str
    reason: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Model:
    """A whole checked guideline. Dicts keep source order; treat them as read-only."""

    meta: Meta
    changelog: tuple[ChangelogEntry, ...]
    references: dict[str, Reference]
    inputs: dict[str, Input]
    assumptions: tuple[Assumption, ...]
    lets: dict[str, Let]
    actions: dict[str, Action]
    sections: tuple[Section, ...]
    pathway: Pathway
    nevers: tuple[NeverRule, ...]
    requires: tuple[RequireRule, ...]
    conflicts: tuple[ConflictRule, ...]
    cautions: tuple[CautionRule, ...]
    patients: dict[str, Patient]
    cases: tuple[Case, ...]
    allows: tuple[Allow, ...]
    filename: str
    source_sha256: str
    #: The guideline's text as written (the handout's appendix shows it).
    source: str = ""

    def decisions(self) -> tuple[Decision, ...]:
        """The decisions of the pathway in source order."""
        return tuple(n for n in self.pathway.nodes.values() if isinstance(n, Decision))

    def steps(self) -> tuple[Step, ...]:
        """The steps of the pathway in source order."""
        return tuple(n for n in self.pathway.nodes.values() if isinstance(n, Step))

    def scores(self) -> tuple[Let, ...]:
        """The lets defined as points scores, in source order (each result reports them)."""
        return tuple(x for x in self.lets.values() if isinstance(x.expr, Points))


def subexpressions(expr: Expr, into_lets: bool = True) -> Iterator[Expr]:
    """Every expression in ``expr``, itself first, through the definitions of lets (each let's
    definition once, however often it is read: a chain of lets each read twice stays linear);
    with ``into_lets=False``, the let references only."""
    stack = [expr]
    lets: set[str] = set()
    while stack:
        e = stack.pop()
        yield e
        if isinstance(e, LetRef):
            if into_lets and e.name not in lets:
                lets.add(e.name)
                stack.append(e.expr)
        elif isinstance(e, Cmp | Arith):
            stack += [e.right, e.left]
        elif isinstance(e, Scale | Not | Known | Member | Contains):
            stack.append(e.operand)
        elif isinstance(e, And | Or):
            stack += reversed(e.operands)
        elif isinstance(e, Derived):
            stack.append(e.meaning)
        elif isinstance(e, Points):
            stack += reversed([c.condition for c in e.criteria])


def inputs_of(expr: Expr) -> tuple[str, ...]:
    """The inputs an expression reads (through lets too), in first-use order."""
    out: dict[str, None] = {}
    for e in subexpressions(expr, into_lets=False):
        if isinstance(e, InputRef):
            out[e.name] = None
        elif isinstance(e, LetRef):
            out.update(dict.fromkeys(_let_inputs(e)))
    return tuple(out)


def unscaled(left: Expr, op: str, right: Expr) -> tuple[Expr, str, Expr]:
    """``x * f OP c`` as ``x OP' c / f``: the same comparison (exactly), without the
    fraction, so that `hours between a and b <= 4.5 hours` over whole seconds stays integer
    arithmetic (mixing integers and reals made the diff's queries run out of resources), and
    the SQL compares exactly where a double's 1/3600 would not."""
    for _ in range(2):
        inner = left
        while isinstance(inner, Derived):
            inner = inner.meaning
        if isinstance(inner, Scale) and isinstance(right, Const) and \
                isinstance(right.value, Fraction) and not isinstance(right.value, bool) \
                and inner.factor != 0:
            f = inner.factor
            return inner.operand, (op if f > 0 else SWAPPED[op]), \
                Const(right.value / f, "number", right.span)
        left, op, right = right, SWAPPED[op], left
    return left, op, right


def awaited_inputs(expr: Expr) -> tuple[str, ...]:
    """The inputs whose being unknown may leave ``expr`` unknown: those it reads, less those a
    guard settles (`x is known and ...` is false and `x is unknown or ...` true while `x` is
    unknown). Sound, not exact: the solver's I509 says which ones a patient can really wait
    for."""
    return tuple(_awaited(expr))


def _awaited(e: Expr) -> dict[str, None]:
    if isinstance(e, Known):
        return {}
    if isinstance(e, LetRef):
        return dict.fromkeys(_let_awaited(e))
    if isinstance(e, Not):
        return _awaited(e.operand)
    if isinstance(e, And | Or):
        settled = {g for op in e.operands if (g := _guard(op, isinstance(e, And))) is not None}
        out: dict[str, None] = {}
        for op in e.operands:
            out.update((x, None) for x in _awaited(op) if x not in settled)
        return out
    return dict.fromkeys(inputs_of(e))


def _guard(e: Expr, known: bool) -> str | None:
    """The input ``e`` tests as known (``known``) or as unknown, if it is such a test."""
    flip = False
    while isinstance(e, Not):
        e, flip = e.operand, not flip
    if isinstance(e, Known) and isinstance(e.operand, InputRef) and (e.known != flip) == known:
        return e.operand.name
    return None


def actions_of(expr: Expr) -> tuple[str, ...]:
    """The actions an expression asks about with `is recommended`."""
    out: dict[str, None] = {}
    for e in subexpressions(expr, into_lets=False):
        if isinstance(e, Recommended):
            out[e.action] = None
        elif isinstance(e, LetRef):
            out.update(dict.fromkeys(_let_actions(e)))
    return tuple(out)


# A let's inputs and actions, once per definition (a reference hashes by its digest): asking
# them of every let of a chain of 1,000 is then linear, not quadratic.
@lru_cache(maxsize=65536)
def _let_inputs(ref: LetRef) -> tuple[str, ...]:
    return inputs_of(ref.expr)


@lru_cache(maxsize=65536)
def _let_awaited(ref: LetRef) -> tuple[str, ...]:
    return awaited_inputs(ref.expr)


@lru_cache(maxsize=65536)
def _let_actions(ref: LetRef) -> tuple[str, ...]:
    return actions_of(ref.expr)


CERTAINTIES = ("high", "moderate", "low", "very_low")

#: GRADE's symbols for the certainty of evidence, as printed beside a recommendation.
CERTAINTY_SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very_low": "⊕◯◯◯"}


def grade_verb(strength: str, direction: str) -> str:
    """Use / Consider / Do not use / Consider not using."""
    if direction == "against":
        return "Do not use" if strength == "strong" else "Consider not using"
    return "Use" if strength == "strong" else "Consider"


def grade_words(strength: str, direction: str, certainty: str | None, grading: str) -> str:
    """A recommendation's grading in words (see :attr:`Action.grade_words`)."""
    if grading == "good_practice":
        return "good practice statement"
    words = f"{strength} recommendation" + (" against" if direction == "against" else "")
    if certainty is not None:
        words += f", {certainty.replace('_', ' ')} certainty of evidence"
    return words

ACTION_KINDS = (
    "diagnostic", "systemic", "radiotherapy", "intrathecal", "supportive", "referral",
    "monitoring", "other",
)
REFERENCE_KINDS = ("guideline", "research", "review", "consensus", "other")
STATUSES = ("draft", "under_review", "approved")
