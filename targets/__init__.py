"""Targets: each turns the checked model (``compiler.model.Model``) into files.

A target reads only the model: it never parses and never re-checks. Each target module has
``emit(model, outdir, request) -> list[Emitted]``; the CLI (``guidec build``) picks them.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compiler.model import Model

#: format -> the module that emits it. The flowchart formats come from one module.
MODULES = {
    "python": "targets.python",
    "schema": "targets.python",
    "dot": "targets.dot",
    "svg": "targets.dot",
    "pdf": "targets.dot",
    "png": "targets.dot",
    "html": "targets.html",
    "package": "targets.package",
    "sql": "targets.sql",
}
#: What ``guidec build`` writes without ``-t``: every format but the package, which makes
#: its directory a project of its own, and the SQL, for registries (asked for by name).
DEFAULT_FORMATS = tuple(f for f in MODULES if f not in ("package", "sql"))
#: The order the modules run in: the handout inlines the flowchart's SVG.
ORDER = ("targets.python", "targets.dot", "targets.html", "targets.package", "targets.sql")


@dataclass(frozen=True)
class BuildRequest:
    """What ``guidec build`` asks of the targets.

    ``formats`` are the output formats asked for (python, schema, dot, svg, pdf, png, html,
    package);
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


def available(formats: set[str]) -> set[str]:
    """The formats whose target module this installation has."""
    return {f for f in formats if importlib.util.find_spec(MODULES[f]) is not None}


def build(model: Model, outdir: Path, request: BuildRequest, out: list[Emitted]) -> None:
    """Emit every format the request asks for into ``outdir``, module by module in
    :data:`ORDER`, appending to ``out`` as each module finishes (so that when a write fails,
    with :class:`dsl.files.OutputError`, ``out`` holds what was written before it)."""
    for name in ORDER:
        if not any(MODULES[f] == name for f in request.formats):
            continue
        module = importlib.import_module(name)
        if name == "targets.html":
            request = replace(request, svg=_flowchart_svg(model, request))
        out.extend(module.emit(model, outdir, request))


def _flowchart_svg(model: Model, request: BuildRequest) -> str | None:
    """The flowchart as SVG text for the handout, or None without Graphviz."""
    if importlib.util.find_spec("targets.dot") is None:
        return None
    dot = importlib.import_module("targets.dot")
    svg: str | None = dot.render_svg_text(model, request)
    return svg
