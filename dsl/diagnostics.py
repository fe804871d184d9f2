"""Diagnostics: one type for every finding of the parser and the checks, and its rendering.

A pass returns a list of :class:`Diagnostic`; it never prints. The CLI renders them like rustc
or Elm: ``file:line:col: error[E101]: message``, the source line, a caret under the span,
then the hint, the notes and (for the analysis) a witness patient.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from dsl.ast import Span


class Severity(StrEnum):
    """How bad a finding is; errors make commands exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a stable code, a severity, a message and where it is.

    ``witness`` is a complete patient (JSON-ready) that shows the problem, and ``path`` the node
    ids that patient takes, when the analysis found one.
    """

    code: str
    severity: Severity
    message: str
    span: Span
    hint: str | None = None
    notes: tuple[str, ...] = ()
    witness: Mapping[str, object] | None = field(default=None, compare=False)
    path: tuple[str, ...] = ()
    node: str | None = None

    def __post_init__(self) -> None:
        # Every code comes from the registry (dsl/codes.py), which the docs are built from.
        from dsl.codes import CODES

        if self.code not in CODES:
            raise ValueError(f"the diagnostic code {self.code} is not in dsl/codes.py")

    @property
    def is_error(self) -> bool:
        """True for an error (the command exits 1)."""
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order diagnostics by file, position, code and message."""
        return (self.span.file, self.span.line, self.span.column, self.code, self.message)

    def to_json(self) -> dict[str, object]:
        """The JSON form used by ``guidec check --format json``."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end": {"line": self.span.end_line, "column": self.span.end_column},
            "hint": self.hint,
            "notes": list(self.notes),
            "node": self.node,
            "witness": dict(self.witness) if self.witness is not None else None,
            "path": list(self.path),
        }


def error(code: str, message: str, span: Span, hint: str | None = None,
          notes: Sequence[str] = ()) -> Diagnostic:
    """Shorthand for an error diagnostic."""
    return Diagnostic(code, Severity.ERROR, message, span, hint, tuple(notes))


def warning(code: str, message: str, span: Span, hint: str | None = None,
            notes: Sequence[str] = ()) -> Diagnostic:
    """Shorthand for a warning diagnostic."""
    return Diagnostic(code, Severity.WARNING, message, span, hint, tuple(notes))


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest to ``word`` (a misspelling), or None when nothing is close."""
    import difflib

    pool = sorted(set(candidates))
    if not pool or len(word) > 2 * max(map(len, pool)) + 8:
        return None  # nothing that long is a misspelling, and comparing it would cost memory
    prefixed = [c for c in pool if len(word) >= 3 and c.lower().startswith(word.lower())]
    if len(prefixed) == 1:
        return prefixed[0]
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        return lowered[matches[0]] if matches else None
    return matches[0]


def suggestion(word: str, candidates: Iterable[str]) -> str | None:
    """A ready-made hint ``did you mean `x`?`` for a misspelling, or None."""
    near = did_you_mean(word, candidates)
    return f"did you mean `{near}`?" if near is not None else None


def render(diag: Diagnostic, source: str | None, color: bool = False) -> str:
    """Render one diagnostic as text: location, message, source line with caret, hint, notes.

    Everything quoted from the guideline is neutralised for the terminal before the colours
    are added, so a string of the guideline can neither fake a colour nor move the cursor.
    """
    from dsl.terminal import neutralise

    sev = diag.severity.value
    where, message = neutralise(str(diag.span)), neutralise(diag.message)
    head = f"{where}: {sev}[{diag.code}]: {message}"
    if color:
        colors = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m"}
        head = f"\x1b[1m{where}:\x1b[0m {colors[sev]}{sev}[{diag.code}]\x1b[0m: " \
               f"\x1b[1m{message}\x1b[0m"
    out = [head]
    out.extend(source_excerpt(source, diag.span))
    if diag.hint:
        out.append(f"  = hint: {neutralise(diag.hint)}")
    for note in diag.notes:
        out.append(f"  = note: {neutralise(note)}")
    if diag.path:
        out.append(f"  = path: {neutralise(' -> '.join(diag.path))}")
    if diag.witness is not None:
        import json

        out.append("  = witness patient:")
        text = json.dumps(diag.witness, indent=2, sort_keys=True, ensure_ascii=False)
        out.extend("    " + neutralise(line) for line in text.splitlines())
    return "\n".join(out)


#: A source line longer than this is shown as a window around the span.
EXCERPT_WIDTH = 120


@lru_cache(maxsize=4)
def _line_starts(source: str) -> tuple[int, ...]:
    """The offset of every line of ``source`` (lines end at line feeds, as the parser counts
    them); cached, so that rendering many diagnostics of one big file stays linear."""
    starts = [0]
    at = source.find("\n")
    while at != -1:
        starts.append(at + 1)
        at = source.find("\n", at + 1)
    return tuple(starts)


def source_excerpt(source: str | None, span: Span) -> list[str]:
    """The source line of ``span`` with a line-number gutter and a caret under the span.

    A long line is cut to a window around the span, marked with ``...`` where it was cut; a
    character that is not printable is shown as U+FFFD.
    """
    if source is None or span.line < 1:
        return []
    starts = _line_starts(source)
    if span.line > len(starts):
        return []
    begin = starts[span.line - 1]
    end = starts[span.line] - 1 if span.line < len(starts) else len(source)
    start = max(span.column, 1)
    if span.end_line == span.line and span.end_column > span.column:
        width = span.end_column - span.column
    else:
        width = max(end - begin - start + 1, 1)
    # The window: from a little before the span, at most EXCERPT_WIDTH characters.
    first = max(start - 1 - EXCERPT_WIDTH // 4, 0) if start > EXCERPT_WIDTH // 2 else 0
    text = source[begin + first:min(end, begin + first + EXCERPT_WIDTH)].replace("\t", " ")
    shown = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in text)
    lead = "..." if first else ""
    tail = "..." if begin + first + EXCERPT_WIDTH < end else ""
    shown = (lead + shown.rstrip() + tail) if tail else lead + shown
    col = start - first + len(lead)
    width = max(1, min(width, len(lead) + len(text) - col + 1))
    gutter = str(span.line)
    pad = " " * len(gutter)
    return [
        f"{pad} |",
        f"{gutter} | {shown}",
        f"{pad} | {' ' * (col - 1)}{'^' * width}",
    ]


def count(diags: Iterable[Diagnostic]) -> tuple[int, int]:
    """The number of errors and of warnings."""
    errors = warnings = 0
    for d in diags:
        if d.severity is Severity.ERROR:
            errors += 1
        elif d.severity is Severity.WARNING:
            warnings += 1
    return errors, warnings


class GuidecError(Exception):
    """Raised for diagnostics that stop a stage (a syntax error stops the parse)."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = tuple(diagnostics)
