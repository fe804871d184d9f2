"""The guidec syntax tree: small frozen dataclasses, each carrying the span it came from.

The tree records what the author wrote, not what it means: names are plain identifiers and are
resolved by ``compiler.names``. Every node has a :class:`Span`, so a diagnostic, a flowchart
node or a handout paragraph can point back at a source line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from fractions import Fraction


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


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Node:
    """Base class of every syntax node."""

    span: Span = field(compare=False, repr=False)

    # Equality, hashing and repr are shared here rather than generated for each of the ~45 node
    # classes: dataclasses compiles every generated method, which dominated start-up.
    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, f.name) for f in fields(self) if f.compare)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Node)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __repr__(self) -> str:
        args = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                         if f.name != "span")
        return f"{type(self).__name__}({args})"

    def children(self) -> Iterator[Node]:
        """Yield the direct child nodes, in source order."""
        for f in fields(self):
            if f.name == "span":
                continue
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for v in value:
                    if isinstance(v, Node):
                        yield v

    def walk(self) -> Iterator[Node]:
        """Yield this node and every node below it, depth first, in source order."""
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Ident(Node):
    """A name as written where it is used or declared (with its own span)."""

    name: str


# ----------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Name(Node):
    """A reference to an input, a `let`, or (right of a comparison) an enum value."""

    name: str


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Number(Node):
    """A decimal literal, kept exact."""

    value: Fraction
    text: str


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Bool(Node):
    """`true` or `false`."""

    value: bool


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Compare(Node):
    """`left OP right` with OP one of == != < <= > >=."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Arith(Node):
    """`left + right` or `left - right`."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Scale(Node):
    """`operand * factor`, multiplication by a literal."""

    operand: Expr
    factor: Number


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class And(Node):
    """Kleene conjunction of two or more operands."""

    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Or(Node):
    """Kleene disjunction of two or more operands."""

    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Not(Node):
    """Kleene negation."""

    operand: Expr


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class IsKnown(Node):
    """`x is known` (known=True) or `x is unknown` (known=False); never itself unknown."""

    operand: Expr
    known: bool


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class In(Node):
    """`x in (a, b, c)`: membership of an enum value."""

    operand: Expr
    values: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class IsRecommended(Node):
    """`A is recommended`: only in rule conditions (never, require, caution)."""

    action: Ident


Expr = (
    Name | Number | Bool | Compare | Arith | Scale | And | Or | Not | IsKnown | In |
    IsRecommended
)

# ----------------------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True, repr=False, eq=False)
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


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Changelog(Node):
    """`changelog VERSION DATE "text"`."""

    version: str
    date: str
    text: str


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Note(Node):
    """`note "text" [cite ...]`, a committee note shown with its node."""

    text: str
    citations: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Reference(Node):
    """`reference ID KIND "title" [source "..."] [year N] [url "..."] [note ...]`."""

    name: Ident
    kind: Ident
    title: str
    source: str | None
    year: int | None
    url: str | None
    notes: tuple[Note, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class BooleanType(Node):
    """`boolean`."""


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class IntegerType(Node):
    """`integer [LOW..HIGH | >= LOW | <= HIGH] [step N]`."""

    low: Number | None
    high: Number | None
    step: Number | None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class NumberType(Node):
    """`number [range] [unit "..."]`."""

    low: Number | None
    high: Number | None
    unit: str | None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class EnumType(Node):
    """`one of a, b, c`."""

    values: tuple[Ident, ...]


InputType = BooleanType | IntegerType | NumberType | EnumType


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Input(Node):
    """`input ID "label": TYPE [optional]`."""

    name: Ident
    label: str
    type: InputType
    optional: bool


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Assume(Node):
    """`assume C [unless D] ["text"]`: C holds for every valid patient (unless D holds)."""

    condition: Expr
    unless: Expr | None
    text: str | None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Let(Node):
    """`let ID ["label"] = EXPR`, a named condition or quantity."""

    name: Ident
    label: str | None
    expr: Expr


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Action(Node):
    """`action ID KIND "text" [strong|conditional] [detail "..."] [cite ...]`."""

    name: Ident
    kind: Ident
    text: str
    strength: str | None
    detail: str | None
    citations: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Paragraph(Node):
    """`text "..." [cite ...]` inside a section."""

    text: str
    citations: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Section(Node):
    """`section ID "title"` followed by paragraphs: prose that is not a decision."""

    name: Ident
    title: str
    paragraphs: tuple[Paragraph, ...]


# ----------------------------------------------------------------------------- pathway


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Recommend(Node):
    """`recommend A[, B] [when C]` inside a step."""

    actions: tuple[Ident, ...]
    condition: Expr | None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Step(Node):
    """`step ID "title"` with recommendations, notes and `then -> targets`."""

    name: Ident
    title: str
    items: tuple[Recommend | Note, ...]
    then: tuple[Ident, ...] | None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Branch(Node):
    """`when C ["label"] -> targets` with its notes."""

    condition: Expr
    label: str | None
    targets: tuple[Ident, ...]
    notes: tuple[Note, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Otherwise(Node):
    """`otherwise ["label"] -> targets` with its notes."""

    label: str | None
    targets: tuple[Ident, ...]
    notes: tuple[Note, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Decide(Node):
    """`decide ID "question" [unique|first]` with branches and an optional otherwise."""

    name: Ident
    question: str
    policy: str | None
    notes: tuple[Note, ...]
    branches: tuple[Branch, ...]
    otherwise: Otherwise | None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class End(Node):
    """`end ID ["title"]`."""

    name: Ident
    title: str | None


PathNode = Step | Decide | End


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Pathway(Node):
    """`pathway start -> targets` followed by its nodes."""

    start: tuple[Ident, ...]
    nodes: tuple[PathNode, ...]


# ----------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Never(Node):
    """`never A [when C] "reason" [cite ...]`."""

    action: Ident
    condition: Expr | None
    reason: str
    citations: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Require(Node):
    """`require A when C "reason" [cite ...]`."""

    action: Ident
    condition: Expr
    reason: str
    citations: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Conflict(Node):
    """`conflict A, B "reason" [cite ...]`."""

    first: Ident
    second: Ident
    reason: str
    citations: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Caution(Node):
    """`caution ID "text" when C [cite ...]`: a warning shown with the result."""

    name: Ident
    text: str
    condition: Expr
    citations: tuple[Ident, ...]


# ----------------------------------------------------------------------------- patients


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Assignment(Node):
    """`key = value` in a patient or a case; an enum value or `unknown` is a Name."""

    key: Ident
    value: Number | Bool | Name


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Patient(Node):
    """`patient ID ["description"] key = value, ...`: a named example patient."""

    name: Ident
    description: str | None
    values: tuple[Assignment, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Expect(Node):
    """One expectation of a case.

    kind is ``some`` (expect A, B), ``none`` (expect no A), ``only`` (expect only A, B),
    ``pending`` (expect pending INPUT, ...), ``pending_at`` (expect pending at DECISION),
    ``caution`` (expect caution ID) or ``path`` (expect path NODE, ...).
    """

    kind: str
    names: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Case(Node):
    """`case "title" [from PATIENT] [with key = value, ...]` and its expectations."""

    title: str
    base: Ident | None
    values: tuple[Assignment, ...]
    expectations: tuple[Expect, ...]


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Allow(Node):
    """`allow CODE at NODE "reason"`: an accepted warning, listed in the check output."""

    code: Ident
    node: Ident
    reason: str


Item = (
    Changelog | Reference | Input | Assume | Let | Action | Section | Pathway | Never |
    Require | Conflict | Caution | Patient | Case | Allow
)


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Comment(Node):
    """A `#` comment; kept by the parser for the formatter."""

    text: str


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Guideline(Node):
    """A whole `.guide` file."""

    header: Header
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False)

    def of_type(self, kind: type[Item]) -> tuple[Item, ...]:
        """The top-level items of one class, in source order."""
        return tuple(i for i in self.items if isinstance(i, kind))
