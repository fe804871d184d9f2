"""`guidec diff`: two versions of a guideline compared by structure (``structure``), by
behaviour, proven with z3 over every patient both accept (``behaviour``), and reported as
text, Markdown or JSON (``report``)."""

from __future__ import annotations

from compiler.diff.report import (
    CaseChange,
    DiffReport,
    compute,
    render_json,
    render_markdown,
    render_text,
)
from compiler.diff.structure import (
    Change,
    DiffError,
    StructuralDiff,
    Version,
    load_version,
    outline,
    read_spec,
    structural_diff,
)

__all__ = ["CaseChange", "Change", "DiffError", "DiffReport", "StructuralDiff", "Version",
           "compute", "load_version", "outline", "read_spec", "render_json", "render_markdown",
           "render_text", "structural_diff"]
