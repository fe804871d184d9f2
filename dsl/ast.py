"""The guidec syntax tree: small frozen records, each carrying the span it came from.

The tree records what the author wrote, not what it means: names are plain identifiers and are
resolved by ``compiler.names``. Every node has a :class:`Span`, so a diagnostic, a flowchart
node or a handout paragraph can point back at a source line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import MISSING, Field, FrozenInstanceError, dataclass, field
from fractions import Fraction
from typing import Any, ClassVar, dataclass_transform


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """Where a node came from: 1-based lines and columns; the end column is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NO_SPAN = Span("<none>", 0, 0, 0, 0)


@dataclass_transform(frozen_default=True, eq_default=False, field_specifiers=(field,))
class _NodeMeta(type):
    """Makes each node class a frozen, slotted record with a generated ``__init__``.

    This does what ``@dataclass(frozen=True, slots=True)`` did, at a fraction of the cost:
    dataclasses compiled three methods per class and re-created every slotted class, which
    dominated the start-up of ``guidec fmt``. Fields are the class's annotations, after its
    bases' fields; a default is a plain value or ``dataclasses.field(default=..., compare=...)``.
    """

    def __new__(mcls, name: str, bases: tuple[type, ...],
                ns: dict[str, Any]) -> _NodeMeta:
        inherited: tuple[str, ...] = ()
        defaults: dict[str, object] = {}
        uncompared: frozenset[str] = frozenset()
        for base in bases:
            inherited += getattr(base, "_fields", ())
            defaults.update(getattr(base, "_defaults", {}))
            uncompared |= getattr(base, "_uncompared", frozenset())
        own = tuple(k for k in ns.get("__annotations__", {}) if not k.startswith("_"))
        for key in own:
            if key in ns:
                value = ns.pop(key)
                if isinstance(value, Field):
                    if not value.compare:
                        uncompared |= {key}
                    if value.default is MISSING:
                        continue
                    value = value.default
                defaults[key] = value
        ns["__slots__"] = own
        ns["_fields"] = ns["__match_args__"] = inherited + own
        ns["_defaults"] = defaults
        ns["_uncompared"] = uncompared
        ns["_compared"] = tuple(f for f in inherited + own if f not in uncompared)
        ns["_sub"] = tuple(f for f in inherited + own if f != "span")
        cls = super().__new__(mcls, name, bases, ns)
        fields_ = inherited + own
        params = ", ".join(f"{f}=_d[{f!r}]" if f in defaults else f for f in fields_)
        body = "".join(f"\n _set(self, {f!r}, {f})" for f in fields_) or "\n pass"
        scope: dict[str, Any] = {"_set": object.__setattr__, "_d": defaults}
        exec(f"def __init__(self, {params}):{body}", scope)
        init = scope["__init__"]
        init.__qualname__ = f"{name}.__init__"
        cls.__init__ = init  # type: ignore[misc]
        return cls


class Node(metaclass=_NodeMeta):
    """Base class of every syntax node: frozen, with a span that equality ignores."""

    span: Span = field(compare=False)

    _fields: ClassVar[tuple[str, ...]]
    _defaults: ClassVar[dict[str, object]]
    _uncompared: ClassVar[frozenset[str]]
    _compared: ClassVar[tuple[str, ...]]
    #: The fields but the span: where child nodes may be.
    _sub: ClassVar[tuple[str, ...]]

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type[Node], tuple[object, ...]]:
        # Pickle and deepcopy rebuild a node through __init__: frozen, it has no setattr.
        return type(self), tuple(getattr(self, f) for f in self._fields)

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, f) for f in self._compared)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Node)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields if f != "span")
        return f"{type(self).__name__}({args})"

    def replace(self, **changes: object) -> Node:
        """A copy with some fields changed (``dataclasses.replace`` for nodes)."""
        values = {f: getattr(self, f) for f in self._fields}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return type(self)(**values)

    def children(self) -> Iterator[Node]:
        """Yield the direct child nodes, in source order."""
        for f in self._sub:
            value = getattr(self, f)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for v in value:
                    if isinstance(v, Node):
                        yield v

    def walk(self) -> Iterator[Node]:
        """Yield this node and every node below it, depth first, in source order."""
        # A stack, not nested generators: each level of `yield from` cost every node again.
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))


class Ident(Node):
    """A name as written where it is used or declared (with its own span)."""

    name: str


# ----------------------------------------------------------------------------- expressions


class Name(Node):
    """A reference to an input, a `let`, or (right of a comparison) an enum value."""

    name: str


class Number(Node):
    """A decimal literal, kept exact; ``unit`` is the UCUM code of a quantity (`7 'mmol/L'`)."""

    value: Fraction
    text: str
    unit: str | None = None


class Bool(Node):
    """`true` or `false`."""

    value: bool


class Compare(Node):
    """`left OP right` with OP one of == != < <= > >=."""

    op: str
    left: Expr
    right: Expr


class Arith(Node):
    """`left + right` or `left - right`."""

    op: str
    left: Expr
    right: Expr


class Scale(Node):
    """`operand * factor`, multiplication by a literal."""

    operand: Expr
    factor: Number


class And(Node):
    """Kleene conjunction of two or more operands; ``parens`` when the author wrote it in
    parentheses (the formatter keeps them: `a or (b and c)` reads as the author grouped it)."""

    operands: tuple[Expr, ...]
    parens: bool = False


class Or(Node):
    """Kleene disjunction of two or more operands."""

    operands: tuple[Expr, ...]


class Not(Node):
    """Kleene negation."""

    operand: Expr


class Xor(Node):
    """`left xor right`: exactly one of two conditions (unknown when either is)."""

    left: Expr
    right: Expr


class Implies(Node):
    """`left implies right`: `not left or right`, as a committee states a rule."""

    left: Expr
    right: Expr


class Has(Node):
    """`x has v` (mode ``one``), `x has any of (a, b)`, `x has none of (...)`, `x has all of
    (...)`: membership in a set input."""

    operand: Expr
    mode: str
    values: tuple[Ident, ...]


class Between(Node):
    """`operand between low and high`: both ends included."""

    operand: Expr
    low: Expr
    high: Expr


class Point(Node):
    """`N if C ["label"]` in a points score: the criterion C scores N points."""

    weight: Number
    condition: Expr
    label: str | None


class Points(Node):
    """`points (N if C ["label"], ...)`: a score, the sum of the points of the criteria that
    hold (a let's whole definition)."""

    items: tuple[Point, ...]


class Moment(Node):
    """A date (`2026-12-04`) or a date and time (`2026-12-04T14:30`), as written."""

    text: str
    with_time: bool


class Elapsed(Node):
    """`hours between A and B` (also `minutes`, `days`): the time from A to B in that unit."""

    unit: str
    start: Expr
    end: Expr


class Divide(Node):
    """`operand / divisor`; the divisor must be a non-zero literal (checked by the compiler,
    which names what else was written)."""

    operand: Expr
    divisor: Expr


class IsKnown(Node):
    """`x is known` (known=True) or `x is unknown` (known=False); never itself unknown."""

    operand: Expr
    known: bool


class In(Node):
    """`x in (a, b, c)`: membership of an enum value."""

    operand: Expr
    values: tuple[Ident, ...]


class IsRecommended(Node):
    """`A is recommended`: only in rule conditions (never, require, caution)."""

    action: Ident


Expr = (
    Name | Number | Bool | Compare | Arith | Scale | Divide | And | Or | Not | Xor | Implies |
    IsKnown | In | Between | Has | IsRecommended | Points | Moment | Elapsed
)

# ----------------------------------------------------------------------------- declarations


class Header(Node):
    """`guideline ID "title"` and its fields."""

    name: Ident
    title: str
    version: str | None
    status: Ident | None
    updated: str | None
    owner: str | None
    scope: str | None
    disclaimer: str | None
    #: The source document as cited, and its own status banner, quoted verbatim.
    source: str | None = None
    banner: str | None = None


class Changelog(Node):
    """`changelog VERSION DATE "text"`."""

    version: str
    date: str
    text: str


class Note(Node):
    """`note "text" [cite ...]`, a committee note shown with its node."""

    text: str
    citations: tuple[Ident, ...]


class Reference(Node):
    """`reference ID KIND "title" [source "..."] [label "C1"] [year N] [url "..."] [note ...]`."""

    name: Ident
    kind: Ident
    title: str
    source: str | None
    year: int | None
    url: str | None
    notes: tuple[Note, ...]
    #: Where the year was written (an ``int`` cannot carry it as a :class:`Text` does).
    year_at: Span = field(default=NO_SPAN, compare=False)
    #: The printed label (e.g. ``C1``) instead of the reference's number.
    label: str | None = None
    label_at: Span = field(default=NO_SPAN, compare=False)


class BooleanType(Node):
    """`boolean`."""


class IntegerType(Node):
    """`integer [RANGE] [step N]`; a range is `LOW..HIGH` (both ends included) or one or two
    bounds, `> LOW` / `>= LOW` and `< HIGH` / `<= HIGH` (an open end is excluded)."""

    low: Number | None
    high: Number | None
    step: Number | None
    low_open: bool = False
    high_open: bool = False
    #: `typical LOW..HIGH`: where most patients lie (witnesses stay inside it).
    typical_low: Number | None = None
    typical_high: Number | None = None
    #: `unit "label"` (a label) or `unit 'code'` (``ucum``: a checked UCUM unit).
    unit: str | None = None
    ucum: bool = False
    #: `convert N 'unit'`: one of the input's unit is N of that unit (a substance's factor).
    conversions: tuple[Number, ...] = ()


class NumberType(Node):
    """`number [RANGE] [unit "..."]` (ranges as for :class:`IntegerType`)."""

    low: Number | None
    high: Number | None
    unit: str | None
    low_open: bool = False
    high_open: bool = False
    typical_low: Number | None = None
    typical_high: Number | None = None
    ucum: bool = False
    conversions: tuple[Number, ...] = ()


class EnumType(Node):
    """`one of a, b, c`."""

    values: tuple[Ident, ...]


class SetType(Node):
    """`set of a, b, c`: any number of the listed values (a patient gives a list)."""

    values: tuple[Ident, ...]


class DateType(Node):
    """`date` or `datetime` (``with_time``): a patient gives an ISO 8601 string."""

    with_time: bool


InputType = BooleanType | IntegerType | NumberType | EnumType | SetType | DateType


class Input(Node):
    """`input ID "label": [optional] TYPE [default VALUE]`; ``default`` is what absence
    means (only with `optional`)."""

    name: Ident
    label: str
    type: InputType
    optional: bool
    default: Number | Bool | Name | SetValue | None = None


class Assume(Node):
    """`assume C [unless D] ["text"]`: C holds for every valid patient (unless D holds)."""

    condition: Expr
    unless: Expr | None
    text: str | None


class Let(Node):
    """`let ID ["label"] = EXPR`, a named condition or quantity."""

    name: Ident
    label: str | None
    expr: Expr


class Action(Node):
    """`action ID KIND "text" [strong|conditional] [short "..."] [detail "..."] [cite ...]`;
    ``short`` is the wording for print (the flowchart), ``text`` the full recommendation."""

    name: Ident
    kind: Ident
    text: str
    strength: str | None
    detail: str | None
    citations: tuple[Ident, ...]
    short: str | None = None
    #: GRADE: a recommendation against the action; the certainty of the evidence (high,
    #: moderate, low, very_low); a good practice statement (ungraded).
    against: bool = False
    certainty: Ident | None = None
    good_practice: bool = False


class Paragraph(Node):
    """`text "..." [cite ...]` inside a section."""

    text: str
    citations: tuple[Ident, ...]


class Section(Node):
    """`section ID "title"` followed by paragraphs: prose that is not a decision."""

    name: Ident
    title: str
    paragraphs: tuple[Paragraph, ...]


# ----------------------------------------------------------------------------- pathway


class Recommend(Node):
    """`recommend A[, B] [when C ["label"]]` inside a step; the label says C in clinical
    words."""

    actions: tuple[Ident, ...]
    condition: Expr | None
    label: str | None = None


class Page(Node):
    """`page ["title"]` on a step or decision: in the printed pocket edition, the sub-pathway
    that starts here starts a page (titled so, or by the node's title)."""

    title: str | None


class Step(Node):
    """`step ID "title"` [page] with recommendations, notes and `then -> targets`."""

    name: Ident
    title: str
    items: tuple[Recommend | Note, ...]
    then: tuple[Ident, ...] | None
    page: Page | None = None


class Branch(Node):
    """`when C ["label"] -> targets` with its notes."""

    condition: Expr
    label: str | None
    targets: tuple[Ident, ...]
    notes: tuple[Note, ...]


class Otherwise(Node):
    """`otherwise ["label"] -> targets` with its notes."""

    label: str | None
    targets: tuple[Ident, ...]
    notes: tuple[Note, ...]


class Decide(Node):
    """`decide ID "question" [unique|first]` [page] with branches and an optional otherwise."""

    name: Ident
    question: str
    policy: str | None
    notes: tuple[Note, ...]
    branches: tuple[Branch, ...]
    otherwise: Otherwise | None
    page: Page | None = None


class End(Node):
    """`end ID ["title"]`."""

    name: Ident
    title: str | None


PathNode = Step | Decide | End


class Pathway(Node):
    """`pathway start -> targets` followed by its nodes."""

    start: tuple[Ident, ...]
    nodes: tuple[PathNode, ...]


# ----------------------------------------------------------------------------- rules


class Never(Node):
    """`never A[, B ...] [when C] "reason" [cite ...]`: one rule for each action."""

    actions: tuple[Ident, ...]
    condition: Expr | None
    reason: str
    citations: tuple[Ident, ...]


class Require(Node):
    """`require A when C "reason" [cite ...]`."""

    action: Ident
    condition: Expr
    reason: str
    citations: tuple[Ident, ...]


class Conflict(Node):
    """`conflict A, B "reason" [cite ...]`."""

    first: Ident
    second: Ident
    reason: str
    citations: tuple[Ident, ...]


class Caution(Node):
    """`caution ID "text" when C [cite ...]`: a warning shown with the result."""

    name: Ident
    text: str
    condition: Expr
    citations: tuple[Ident, ...]


# ----------------------------------------------------------------------------- patients


class SetValue(Node):
    """`(a, b)`: the value of a set input in a patient or a case (`()`: none of them)."""

    values: tuple[Ident, ...]


class Assignment(Node):
    """`key = value` in a patient or a case; an enum value or `unknown` is a Name."""

    key: Ident
    value: Number | Bool | Name | SetValue | Moment


class Patient(Node):
    """`patient ID ["description"] key = value, ...`: a named example patient."""

    name: Ident
    description: str | None
    values: tuple[Assignment, ...]


class Expect(Node):
    """One expectation of a case.

    kind is ``some`` (expect A, B), ``none`` (expect no A), ``only`` (expect only A, B),
    ``pending`` (expect pending INPUT, ...; no names: expect pending nothing), ``pending_at``
    (expect pending at DECISION), ``caution`` (expect caution ID) or ``path`` (expect path
    NODE, ...).
    """

    kind: str
    names: tuple[Ident, ...]


class Case(Node):
    """`case "title" [from PATIENT] [with key = value, ...]` and its expectations."""

    title: str
    base: Ident | None
    values: tuple[Assignment, ...]
    expectations: tuple[Expect, ...]


class Allow(Node):
    """`allow CODE at NODE "reason"`: an accepted warning, listed in the check output."""

    code: Ident
    node: Ident
    reason: str


Item = (
    Changelog | Reference | Input | Assume | Let | Action | Section | Pathway | Never |
    Require | Conflict | Caution | Patient | Case | Allow
)


class Comment(Node):
    """A `#` comment; kept by the parser for the formatter."""

    text: str


class Guideline(Node):
    """A whole `.guide` file."""

    header: Header
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False)

    def of_type(self, kind: type[Item]) -> tuple[Item, ...]:
        """The top-level items of one class, in source order."""
        return tuple(i for i in self.items if isinstance(i, kind))


class Text(str):
    """A text, version, date or keyword value as the parser read it, with the span of its
    literal(s) (``NO_SPAN`` when built elsewhere).

    It is equal to, and hashed like, the plain string, so the tree's equality ignores where a
    text was written, as it ignores every node's span; the formatter uses the span to keep a
    comment beside the text it was written beside.
    """

    span: Span

    def __new__(cls, value: str, span: Span = NO_SPAN) -> Text:
        """A string ``value`` that remembers its ``span``."""
        self = super().__new__(cls, value)
        self.span = span
        return self
