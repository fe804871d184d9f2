"""Targets: each turns the checked model (``compiler.model.Model``) into files.

A target reads only the model: it never parses and never re-checks. Each target module has
``emit(model, outdir, request) -> list[Emitted]``; the CLI (``guidec build``) picks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class BuildRequest:
    """What ``guidec build`` asks of the targets.

    ``formats`` are the output formats asked for (python, schema, dot, svg, pdf, png, html);
    ``explicit`` is True when the user named them with ``-t`` (a missing tool is then exit 3,
    otherwise a warning). ``svg`` carries the rendered flowchart to the HTML target.
    """

    formats: frozenset[str]
    explicit: bool = False
    paper: str = "a4"
    orientation: str = "auto"
    svg: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Emitted:
    """A file a target wrote, or a warning about one it could not write: for want of a tool
    (``missing_tool``, exit 3), or because the tool rejected it (``failed``, exit 1)."""

    path: Path | None
    warning: str | None = None
    missing_tool: str | None = None
    failed: bool = False
    #: A few words on what the file holds, printed after its name ("3 A4 portrait pages").
    note: str | None = None


class MissingTool(Exception):
    """The environment lacks a tool (Graphviz ``dot``, chromium); the message says how to
    install it."""
