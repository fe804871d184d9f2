"""The flowchart target: the pathway as a one-page Graphviz poster (DOT, SVG, PDF, PNG).

The poster follows the clinical-algorithm conventions (SMDM): rounded terminals for the start
and the ends, boxes for steps with their recommendations, hexagons for decisions, the branch
conditions on the edges in clinical words. A recommendation carries a kind tag whose colour
comes from the Okabe-Ito palette (colour-blind safe) and whose text repeats what the colour
says; the never/require/conflict/caution rules sit in a red-bordered "Pitfalls" panel.

The DOT is built with the ``graphviz`` package and rendered with the system ``dot``. For print,
every layout in :data:`LAYOUTS` is measured (``dot -Tplain``) and the one whose text prints
largest on the requested paper is kept; ``size`` then scales it onto the page and ``margin``
centres it, so the PDF is one page of exactly that paper.
"""

from __future__ import annotations

import functools
import html
import io
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

import graphviz

from compiler import model as m
from dsl.files import write_bytes
from targets import BuildRequest, Emitted, MissingTool, pages, views

#: The formats this module writes; the rendered ones need the system ``dot``.
FORMATS = frozenset({"dot", "svg", "pdf", "png"})
RENDERED = ("svg", "pdf", "png")
INSTALL_HINT = "apt-get install graphviz; brew install graphviz"

#: Paper sizes in inches, portrait (width, height).
PAPER = {"a4": (8.27, 11.69), "letter": (8.5, 11.0), "a3": (11.69, 16.54),
         "tabloid": (11.0, 17.0)}
#: The next sheet up, for a chart that does not fit at 8 pt.
_LARGER = {"a4": "a3", "letter": "tabloid"}
#: Blank border kept around the drawing on paper, in inches (printers need about 5 mm).
MARGIN = 0.25
#: The smallest text allowed on paper, in points.
MIN_PRINTED_PT = 8.0
#: A small chart is enlarged to fill the page, but not beyond this.
MAX_SCALE = 1.6
#: Resolution of the PNG (dots per inch): print-ready; 8 pt text is then 33 px high.
PNG_DPI = 300
DOT_TIMEOUT_S = 120

#: The print font: narrow, so that more of a large pathway fits a page at a legible size.
PRINT_FONT = "Liberation Sans Narrow,Arial Narrow,Nimbus Sans Narrow,sans-serif"
#: The screen font for the handout's inline SVG: the metrics of Arial and Helvetica, which
#: every browser has, so the text a browser draws fits the boxes Graphviz measured.
SCREEN_FONT = "Liberation Sans,Arial,Helvetica,sans-serif"
#: Every size is a multiple of this; the page scale decides the printed size.
BODY_PT = 10.0
#: A little over the mean width of a character of body text, in ems, per font (measured with
#: Graphviz): sets the length of the header and footer lines for a drawing's width.
CHAR_EM = {PRINT_FONT: 0.42, SCREEN_FONT: 0.5}
INK = "#222222"
MUTED = "#555555"
PITFALL_RED = "#D55E00"
DECISION_FILL = "#F2F2F2"
TERMINAL_FILL = "#E6E6E6"
WHITE = "#FFFFFF"


@dataclass(frozen=True)
class Kind:
    """How an action kind looks: a short tag, its Okabe-Ito colour and a readable ink on it."""

    tag: str
    fill: str
    ink: str


KINDS: dict[str, Kind] = {
    "diagnostic": Kind("Dx", "#56B4E9", "#000000"),
    "systemic": Kind("Sys", "#0072B2", WHITE),
    "radiotherapy": Kind("RT", "#E69F00", "#000000"),
    "intrathecal": Kind("IT", "#CC79A7", "#000000"),
    "supportive": Kind("Supp", "#009E73", "#000000"),
    "referral": Kind("Ref", "#F0E442", "#000000"),
    "monitoring": Kind("Mon", "#000000", WHITE),
    "other": Kind("Other", "#BBBBBB", "#000000"),
}


@dataclass(frozen=True)
class Layout:
    """One way to lay the poster out.

    ``rankdir`` LR (left to right) or TB (top to bottom); ``wrap`` the line length of box text
    in characters; ``pitfalls`` where the panel goes: ``end`` (after the last rank), ``start``
    (beside the start) or ``first`` (beside the first step); ``pitfall_columns`` its columns;
    (``footer``: below the drawing, above the references, in ``pitfall_columns`` columns);
    ``line`` the line length of the header and footer; ``font`` the font family list;
    ``decisions`` ``hexagon`` (the question, each branch's conditions in a box on its own
    arrow) or ``table`` (the question over one row per branch, each arrow leaving its row).
    """

    rankdir: str = "LR"
    wrap: int = 24
    pitfalls: str = "start"
    pitfall_columns: int = 1
    line: int = 100
    font: str = PRINT_FONT
    decisions: str = "hexagon"


DEFAULT_LAYOUT = Layout()
LAYOUTS = tuple(
    [Layout("LR", w, p, c) for w in (20, 24, 28) for p in ("end", "start", "first")
     for c in (1, 2)]
    + [Layout("LR", w, "footer", c) for w in (24, 28, 32) for c in (4, 5)]
    + [Layout("TB", w, p, c) for w in (30, 36, 44) for p in ("end", "start", "first")
       for c in (1, 2)])
#: Tried when no layout in :data:`LAYOUTS` prints at 8 pt: decisions as tables save the
#: column of condition boxes.
TABLE_LAYOUTS = tuple(replace(layout, decisions="table") for layout in LAYOUTS)


def default_layout(request: BuildRequest) -> Layout:
    """The layout used when nothing can be measured (no Graphviz): suits the orientation."""
    if request.orientation == "portrait":
        return Layout("TB", 36, "first", 2)
    return Layout("LR", 24, "start", 1)


@dataclass(frozen=True)
class Page:
    """The drawing on paper: its size and the margins that centre it (inches), its scale."""

    width: float
    height: float
    margin_x: float
    margin_y: float
    scale: float


# ----------------------------------------------------------------------------- text


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]")
_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029\x85]")
_NOT_XML = re.compile(r"[\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    """Line breaks (U+2028 too) become ``\\n`` and tabs spaces; other control characters go,
    and what XML cannot carry (lone surrogates, U+FFFE/U+FFFF) becomes U+FFFD."""
    text = _BREAKS.sub("\n", text).replace("\t", " ")
    return _NOT_XML.sub("\ufffd", _CONTROL.sub("", text))


def esc(text: str) -> str:
    """Escape text for a Graphviz HTML-like label.

    Markup characters become entities; a backslash is doubled because Graphviz expands
    ``\\N``, ``\\G`` and friends even inside HTML-like labels (after decoding entities).
    """
    return html.escape(_clean(text), quote=True).replace("\\", "\\\\")


def wrap(text: str, width: int) -> list[str]:
    """Wrap text into lines of at most ``width`` characters, keeping explicit line breaks."""
    return list(_wrap(text, width))


@functools.lru_cache(maxsize=4096)
def _wrap(text: str, width: int) -> tuple[str, ...]:
    # Cached: the pages of the pocket edition are drawn many times while they are planned.
    lines: list[str] = []
    for para in _clean(text).split("\n"):
        lines.extend(textwrap.wrap(para, width, break_on_hyphens=False) or [""])
    return tuple(lines)


@functools.lru_cache(maxsize=4096)
def _para(text: str, width: int) -> str:
    # Never empty: Graphviz rejects an empty <I></I> or <B></B> (a text of control characters
    # only is empty once cleaned).
    return "<BR/>".join(esc(line) for line in _wrap(text, width)) or " "


def _if(words: str, as_written: bool = False) -> str:
    """A condition as the head of a recommendation: "If ...:". An author's label keeps its
    capitals ("If Ommaya reservoir feasible") and may already start with "if"."""
    if re.match(r"(?i)if\b", words):
        return words[0].upper() + words[1:] + ":"
    return "If " + (words if as_written else _lower_first(words)) + ":"


def _lower_first(words: str) -> str:
    # "If lung mass biopsied", but "If CSF flow" and "If EGFR mutant" keep their capitals.
    first = words.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:].islower():
        return words[0].lower() + words[1:]
    return words


# ----------------------------------------------------------------------------- model views


def pitfalls(model: m.Model) -> list[tuple[str, str, tuple[str, ...]]]:
    """The panel's entries as (section, text, citations) in source order: the proven rules in
    their own words (the source's: no "Never" the source did not say), each rule the author
    wrote once; then the cautions; then the definitions of the labels the chart prints. Rules
    giving the same reason are shown once with their citations merged."""
    rows: dict[tuple[str, str], list[str]] = {}

    def add(section: str, text: str, cites: Iterable[str]) -> None:
        merged = rows.setdefault((section, text), [])
        merged.extend(c for c in cites if c not in merged)

    for rule in views.rules(model):
        # One sentence with its condition: a reason alone can read as always true.
        text = rule.text if rule.when is None else f"{rule.text} (when: {rule.when})"
        add(PITFALLS, text, rule.citations)
    for caution in model.cautions:
        add(CAUTIONS, f"{caution.text} (when: {caution.condition.words})", caution.citations)
    for let in views.definitions(model):
        add(DEFINITIONS, f"{let.label}: {let.words}", ())
    return [(section, text, tuple(cites)) for (section, text), cites in rows.items()]


BULLET = "\u2022"
PITFALLS = "Pitfalls (proven for every patient)"
CAUTIONS = "Cautions (shown with a result when they apply)"
DEFINITIONS = "Definitions"


def pending_inputs(model: m.Model, decision: m.Decision) -> tuple[str, ...]:
    """The optional inputs a decision's branch conditions may wait for (not those only read
    behind `x is known and ...`)."""
    out: list[str] = []
    for branch in decision.branches:
        for name in m.awaited_inputs(branch.condition.expr):
            inp = model.inputs.get(name)
            if inp is not None and inp.optional and name not in out:
                out.append(name)
    return tuple(out)


def _balanced(rows: list[str], cols: int) -> list[list[str]]:
    """Rows cut into ``cols`` runs, in order, of nearly equal height (in printed lines):
    Graphviz stretches the rows of a shorter column to the tallest one's height, so columns
    of equal height leave no gaps between the entries."""
    heights = [row.count("<BR/>") + 1 for row in rows]
    total = sum(heights)
    chunks: list[list[str]] = [[]]
    done = 0
    for row, h in zip(rows, heights, strict=True):
        # Start the next column when this row would end nearer the next column's share.
        share = total * len(chunks) / cols
        if chunks[-1] and len(chunks) < cols and done + h / 2 > share:
            chunks.append([])
        chunks[-1].append(row)
        done += h
    return chunks


# ----------------------------------------------------------------------------- the chart


class _Chart:
    """Builds the poster's DOT from the model for one layout.

    Pathway nodes are ``n_<id>``; the nodes the chart adds (start, forks, conditions, ends,
    pending notes, pitfalls) are ``x-...``, with a ``-`` no guideline name can contain.
    """

    def __init__(self, model: m.Model, layout: Layout, sheet: pages.Sheet | None = None,
                 ) -> None:
        self.model = model
        self.layout = layout
        self.sheet = sheet
        self.w = layout.wrap
        self.b = BODY_PT
        self.g = graphviz.Digraph(name=model.meta.id)
        #: The references cited on the chart so far (a page's footer lists only its own).
        self.cited: set[str] = set()

    # -- small pieces of markup

    def font(self, inner: str, scale: float = 1.0, color: str | None = None) -> str:
        col = f' COLOR="{color}"' if color else ""
        return f'<FONT POINT-SIZE="{self.b * scale:g}"{col}>{inner}</FONT>'

    def cites(self, ids: Iterable[str]) -> str:
        refs = self.model.references
        cited = sorted({refs[r] for r in ids if r in refs}, key=lambda r: r.number)
        self.cited.update(r.id for r in cited)
        if not cited:
            return ""
        return self.sup(",".join(esc(r.label) for r in cited))

    def sup(self, text: str) -> str:
        # cairo draws <SUP> at 1/1.2 of its size: declared 1.2x, it prints at body size.
        return f'<FONT POINT-SIZE="{self.b * 1.2:g}"><SUP>{text}</SUP></FONT>'

    def action_text(self, action: m.Action) -> str:
        # GRADE, where the committee recorded it: a certainty's symbols, "GPS" for a good
        # practice statement, and a recommendation against opens with what not to do.
        grade = (" " + m.CERTAINTY_SYMBOLS[action.certainty]) if action.certainty else (
            " (GPS)" if action.grading == "good_practice" else "")
        if action.strength == "conditional" or action.direction == "against":
            verb = action.verb + ":"
            lines = [esc(x) for x in wrap(f"{verb} {action.print_text}{grade}", self.w)]
            lines[0] = lines[0].replace(esc(verb), f"<B>{esc(verb)}</B>", 1)
            body = "<BR/>".join(lines)
            return f"<I>{body}</I>" if action.strength == "conditional" else f"<B>{body}</B>"
        return "<B>" + _para(action.print_text + grade, self.w) + "</B>"

    def tag(self, kind: Kind) -> str:
        return f'<B>{self.font(esc(kind.tag), color=kind.ink)}</B>'

    # -- the header and footer

    def header(self) -> str:
        meta = self.model.meta
        line = self.layout.line
        title = f"<B>{self.font(_para(meta.title, int(line / 1.8)), 1.8)}</B>"
        mark = ""
        if meta.status != "approved":
            word = "DRAFT" if meta.status == "draft" else meta.status.replace("_", " ").upper()
            mark = (f'<TD BGCOLOR="{PITFALL_RED}" VALIGN="MIDDLE">'
                    f'<B>{self.font(esc(word), 1.8, WHITE)}</B></TD>')
        sheet = self.sheet
        if sheet is not None:
            mark += (f'<TD ALIGN="RIGHT" VALIGN="MIDDLE">'
                     f'<B>{self.font(f"Page {sheet.number} of {sheet.count}", 1.8)}</B></TD>')
        span = f' COLSPAN="{1 + mark.count("<TD")}"' if mark else ""
        facts = (f"Version {meta.version} · status: {meta.status.replace('_', ' ')} · updated "
                 f"{meta.updated} · owner: {meta.owner} · source sha256 "
                 f"{self.model.source_sha256[:12]}")
        rows = [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{title}</TD>{mark}</TR>',
                f'<TR><TD{span} ALIGN="LEFT" BALIGN="LEFT">'
                f'{self.font(_para(facts, int(line / 1.1)), 1.1)}</TD></TR>']
        if sheet is not None and sheet.number > 1:
            here = "; ".join(pages.title(self.model, r) for r in sheet.roots) or \
                pages.PANEL_TITLE
            rows.append(f'<TR><TD{span} ALIGN="LEFT" BALIGN="LEFT">'
                        f'<B>{self.font(_para(here, int(line / 1.4)), 1.4)}</B></TD></TR>')
        if meta.scope and (sheet is None or sheet.number == 1):
            scope = "<B>Scope:</B> " + _para(meta.scope, int(line / 1.1))
            rows.append(f'<TR><TD{span} ALIGN="LEFT" BALIGN="LEFT">'
                        f'{self.font(scope, 1.1)}</TD></TR>')
        if sheet is not None and sheet.index:
            lines = [f"<B>Page {n}</B>: " + esc(words) for n, words in sheet.index]
            rows.append(f'<TR><TD{span} ALIGN="LEFT" BALIGN="LEFT">'
                        f'{self.font("<B>On these pages</B><BR/>" + "<BR/>".join(lines), 1.1)}'
                        "</TD></TR>")
        if self.model.actions:
            rows.append(f'<TR><TD{span} ALIGN="LEFT">{self.legend()}</TD></TR>')
        rows.append(f'<TR><TD{span} ALIGN="LEFT" BALIGN="LEFT">{self.font(self.key())}</TD></TR>')
        return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">'
                + "".join(rows) + "</TABLE>")

    def legend(self) -> str:
        # Only the kinds the chart shows: a key of eight colours for three is noise.
        used = {a.kind if a.kind in KINDS else "other" for a in self.model.actions.values()}
        # Fixed-size tags: a legend narrower than the header would otherwise stretch them.
        tag_w, tag_h = round(self.b * 3.4), round(self.b * 1.5)
        cells = [f'<TD BGCOLOR="{kind.fill}" BORDER="1" COLOR="{INK}" FIXEDSIZE="TRUE" '
                 f'WIDTH="{tag_w}" HEIGHT="{tag_h}">{self.tag(kind)}</TD>'
                 f'<TD ALIGN="LEFT">{self.font(esc(name))}</TD>'
                 for name, kind in KINDS.items() if name in used]
        per_row = len(cells) if self.layout.line >= 190 else -(-len(cells) // 2)
        rows = ["<TR>" + "".join(cells[i:i + per_row]) + "</TR>"
                for i in range(0, len(cells), per_row)]
        return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1">'
                + "".join(rows) + "</TABLE>")

    def key(self) -> str:
        tables = self.layout.decisions == "table"
        policies = {n.policy for n in self.model.pathway.nodes.values()
                    if isinstance(n, m.Decision)}
        firsts = "first" in policies
        decision = "hexagon: decision" if not tables and policies - {"first"} else ""
        if tables or firsts:
            decision += (" · " if decision else "") + (
                "grey heading: a decision, its branches below" if tables
                else "grey heading: a decision checked in order, its rows below")
        actions = self.model.actions.values()
        grade = ""
        if any(a.direction == "against" for a in actions):
            grade += " · Do not use: a recommendation against"
        if any(a.certainty for a in actions):
            grade += (" · certainty of evidence (GRADE): ⊕⊕⊕⊕ high, ⊕⊕⊕◯ moderate, ⊕⊕◯◯ low, "
                      "⊕◯◯◯ very low")
        if any(a.grading == "good_practice" for a in actions):
            grade += " · GPS: good practice statement"
        key = ("Bold: strong recommendation · Consider (italic): conditional · 1 (raised): "
               f"reference number · {decision} · bar: in parallel · dashed: waits for a "
               "result" + grade + (" · \u2192 page N: continued on page N" if self.sheet
                                    else ""))
        return (_para(key, self.layout.line)
                .replace("Bold:", "<B>Bold:</B>", 1)
                .replace("Consider (italic)", "<I><B>Consider</B> (italic)</I>", 1)
                .replace("1 (raised)", self.sup("1") + " (raised)", 1))

    def footer(self) -> str:
        meta = self.model.meta
        sheet = self.sheet
        line = self.layout.line
        parts = []
        panel = ""
        if (self.layout.pitfalls == "footer" and pitfalls(self.model)
                and (sheet is None or sheet.pitfalls)):
            panel = f'<TR><TD ALIGN="LEFT">{self.pitfalls_label()}</TD></TR>'
        # The source's own status and words, apart from this encoding's approval (below).
        # A page of the pocket edition lists its own references; the last one also carries
        # the source's words, which every page's banner line points to.
        whole = sheet is None or sheet.number == sheet.count
        source = []
        if meta.source and whole:
            source.append(f"Source document: {meta.source}.")
        if meta.banner:
            source.append(f"Its banner: \u201c{meta.banner}\u201d")
        if meta.disclaimer and not whole:
            source.append(f"Disclaimer: page {sheet.count if sheet else 1}.")
        if source:
            parts.append(_para(" ".join(source), line))
        if meta.disclaimer and whole:
            parts.append(_para(f"Its disclaimer: \u201c{meta.disclaimer}\u201d"
                               if meta.source or meta.banner else meta.disclaimer, line))
        refs = "   ".join(f"{r.label}. {r.title}" + (f" ({r.source}, {r.year})"
                                                      if r.source and r.year else "")
                          for r in self.model.references.values()
                          if sheet is None or r.id in self.cited)
        if refs:
            parts.append("<B>References:</B> " + _para(refs, line))
        parts.append(esc(f"This encoding: {meta.id} {meta.version}, {meta.status.replace('_', ' ')}"
                         f" by {meta.owner}, updated {meta.updated} · source sha256 "
                         f"{self.model.source_sha256[:12]} · built by guidec from "
                         f"{Path(self.model.filename).name}"))
        return ('<TABLE BORDER="0" CELLBORDER="0" CELLPADDING="1">' + panel + "<TR>"
                f'<TD ALIGN="LEFT" BALIGN="LEFT">{self.font("<BR/>".join(parts), color=MUTED)}'
                "</TD></TR></TABLE>")

    # -- nodes

    def step_label(self, step: m.Step) -> str:
        rows = [f'<TR><TD COLSPAN="2" ALIGN="LEFT" BALIGN="LEFT" BGCOLOR="{TERMINAL_FILL}">'
                f"<B>{self.font(_para(step.title, self.w))}</B></TD></TR>"]
        for site in step.recommends:
            for action_id in site.actions:
                action = self.model.actions[action_id]
                kind = KINDS.get(action.kind, KINDS["other"])
                text = ""
                if site.condition is not None:
                    words = (_if(site.label, as_written=True) if site.label
                             else _if(site.condition.words))
                    text = _para(words, self.w) + "<BR/>"
                text += self.action_text(action) + self.cites(action.citations)
                if action.detail:
                    # Upright and grey, at body size: a dose is never printed without it.
                    text += "<BR/>" + self.font(_para(action.detail, self.w), color=MUTED)
                rows.append(f'<TR><TD BGCOLOR="{kind.fill}" VALIGN="TOP">{self.tag(kind)}</TD>'
                            f'<TD ALIGN="LEFT" BALIGN="LEFT" VALIGN="TOP">{self.font(text)}'
                            "</TD></TR>")
        for note in step.notes:
            text = "<I>" + _para(note.text, self.w) + "</I>" + self.cites(note.citations)
            rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT" BALIGN="LEFT">'
                        f"{self.font(text, color=MUTED)}</TD></TR>")
        if sum(not self.is_end(t) for t in step.next) > 1:
            rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT" BALIGN="LEFT">'
                        f"{self.font('<I>' + _para('then, in parallel:', self.w) + '</I>')}"
                        "</TD></TR>")
        for t in step.next:
            end = self.model.pathway.nodes.get(t)
            if isinstance(end, m.End):
                text = "<B>" + _para("\u2192 " + (end.title or "End"), self.w) + "</B>"
                rows.append(f'<TR><TD COLSPAN="2" ALIGN="LEFT" BALIGN="LEFT" '
                            f'BGCOLOR="{TERMINAL_FILL}">{self.font(text)}</TD></TR>')
        return (f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" '
                f'COLOR="{INK}" BGCOLOR="{WHITE}">' + "".join(rows) + "</TABLE>")

    def decision_label(self, decision: m.Decision, width: int | None = None) -> str:
        width = width or max(18, self.w - 6)
        text = "<B>" + _para(decision.question, width) + "</B>"
        if decision.policy == "first":
            text += "<BR/>" + self.font("<I>first match, in order</I>", color=MUTED)
        for note in decision.notes:
            text += ("<BR/><I>" + _para(note.text, width) + "</I>"
                     + self.cites(note.citations))
        return self.font(text)

    def pitfalls_label(self) -> str:
        width = self.w + 8
        entries = pitfalls(self.model)
        continued = ""
        if self.sheet is not None and self.sheet.panel is not None:
            start, stop = self.sheet.panel
            if 0 < start < len(entries):
                continued = entries[start - 1][0]
            entries = entries[start:stop]
        rows: list[str] = []
        for section in (PITFALLS, CAUTIONS, DEFINITIONS):
            texts = [(t, c) for s, t, c in entries if s == section]
            if not texts:
                continue
            ink, fill = (WHITE, PITFALL_RED) if section == PITFALLS else (INK, TERMINAL_FILL)
            heading = section + (" (continued)" if section == continued else "")
            rows.append(f'<TR><TD ALIGN="LEFT" BGCOLOR="{fill}">'
                        f"<B>{self.font(esc(heading), 1.1, ink)}</B></TD></TR>")
            for text, cites in texts:
                if section == DEFINITIONS:
                    name, _, words = text.partition(": ")
                    body = f"<B>{_para(name, width)}</B>: " + _para(words, width)
                else:
                    body = _para(text, width) + self.cites(cites)
                rows.append(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" VALIGN="TOP">'
                            f"{self.font(BULLET + ' ' + body)}</TD></TR>")
        # Columns read down, then across: each is a table of its own, so a tall entry in one
        # column never stretches a row of another.
        cols = max(1, min(self.layout.pitfall_columns, len(rows)))
        chunks = _balanced(rows, cols)
        inner = ['<TD ALIGN="LEFT" VALIGN="TOP"><TABLE BORDER="0" CELLBORDER="0" '
                 'CELLSPACING="0" CELLPADDING="2">' + "".join(chunk) + "</TABLE></TD>"
                 for chunk in chunks]
        return (f'<TABLE BORDER="2" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" '
                f'COLOR="{PITFALL_RED}" BGCOLOR="{WHITE}"><TR>' + "".join(inner)
                + "</TR></TABLE>")

    # -- the graph

    def build(self, page: Page | None) -> graphviz.Digraph:
        g = self.g
        size = f"{self.b:g}"
        g.attr("graph", rankdir=self.layout.rankdir, fontname=self.layout.font, fontsize=size,
               label=f"<{self.header()}>", labelloc="t", labeljust="l", nodesep="0.12",
               ranksep="0.16", outputorder="edgesfirst", bgcolor="white", pad="0")
        if page is not None:
            g.attr("graph", size=f"{page.width:.4f},{page.height:.4f}!",
                   margin=f"{page.margin_x:.4f},{page.margin_y:.4f}")
        g.attr("node", fontname=self.layout.font, fontsize=size, fontcolor=INK, color=INK,
               shape="plain", margin="0")
        g.attr("edge", fontname=self.layout.font, fontsize=size, fontcolor=INK, color=INK,
               arrowsize="0.7")
        # The footer is the bottom label of a frameless cluster round everything.
        with g.subgraph(name="cluster_poster") as poster:
            if self.sheet is None:
                poster.attr(label=f"<{self.footer()}>", labelloc="b", labeljust="l",
                            pencolor="transparent")
            self.pathway(poster)
            panel = self.sheet is None or self.sheet.pitfalls
            if panel and pitfalls(self.model) and self.layout.pitfalls != "footer":
                self.pitfalls_panel(poster)
            if self.sheet is not None:
                # After the drawing: the footer lists the references the page cites.
                poster.attr(label=f"<{self.footer()}>", labelloc="b", labeljust="l",
                            pencolor="transparent")
        return g

    def pitfalls_panel(self, g: graphviz.Digraph) -> None:
        g.node("x-pitfalls", label=f"<{self.pitfalls_label()}>")
        with g.subgraph() as rank:
            if self.layout.pitfalls == "end":
                rank.attr(rank="sink")
                rank.node("x-pitfalls")
                return
            if self.sheet is not None and not self.sheet.start:
                # A later page: beside its first sub-pathway's entry, or alone.
                roots = [r for r in self.sheet.roots if r in self.sheet.nodes]
                if roots:
                    rank.attr(rank="same")
                    rank.node("x-pitfalls")
                    rank.node(f"x-from-{roots[0]}" if roots[0] in self.sheet.entries
                              else f"n_{roots[0]}")
                return
            rank.attr(rank="same")
            rank.node("x-pitfalls")
            first = self.model.pathway.start[0] if self.model.pathway.start else None
            beside_start = (self.layout.pitfalls == "start" or first is None
                            or self.is_end(first) or not self.drawn(first))
            rank.node("x-start" if beside_start else f"n_{first}")

    def is_end(self, node_id: str) -> bool:
        return isinstance(self.model.pathway.nodes.get(node_id), m.End)

    def drawn(self, node_id: str) -> bool:
        """Whether a pathway node is drawn here (on this page of the pocket edition)."""
        return self.sheet is None or node_id in self.sheet.nodes

    def pathway(self, g: graphviz.Digraph) -> None:
        pathway = self.model.pathway
        if self.sheet is None or self.sheet.start:
            g.node("x-start", label=f"<{self.font('<B>Start</B>')}>", shape="box",
                   style="rounded,filled", fillcolor=TERMINAL_FILL, margin="0.1,0.04")
            self.fan_out(g, "x-start", pathway.start, "(start)")
        if self.sheet is not None:
            for root, numbers in self.sheet.entries.items():
                self.entry(g, root, numbers)
        source = re.sub(r"[^\w.-]", "_", Path(self.model.filename).name)
        for node in pathway.nodes.values():
            if not self.drawn(node.id) and not isinstance(node, m.End):
                continue
            nid = f"n_{node.id}"
            # The comment (kept in the SVG) points a flowchart node back to its source line.
            where = f"{source}:{node.span.line}"
            if isinstance(node, m.Step):
                g.node(nid, label=f"<{self.step_label(node)}>", comment=where)
                # A step's ends are its last row (see step_label): no edges cross the chart.
                self.fan_out(g, nid, tuple(t for t in node.next if not self.is_end(t)),
                             node.id)
            elif isinstance(node, m.Decision) and (self.layout.decisions == "table"
                                                   or node.policy == "first"):
                # A `first` decision is a table in every layout: its rows are read top to
                # bottom in the order they are checked, which Graphviz does not keep for
                # separate boxes inside the poster's cluster.
                self.decision_table(g, node, where)
            elif isinstance(node, m.Decision):
                g.node(nid, label=f"<{self.decision_label(node)}>", shape="hexagon",
                       style="filled", fillcolor=DECISION_FILL, margin="0.02,0.04",
                       comment=where)
                self.decision_edges(g, node)

    def end_node(self, g: graphviz.Digraph, end_id: str, source: str) -> str:
        # One copy of an end per node that leads to it keeps the ends beside their sources.
        end = self.model.pathway.nodes[end_id]
        title = (end.title if isinstance(end, m.End) else None) or "End"
        nid = f"x-end-{end_id}-{source}"
        g.node(nid, label=f"<{self.font('<B>' + _para(title, max(14, self.w - 6)) + '</B>')}>",
               shape="box", style="rounded,filled", fillcolor=TERMINAL_FILL,
               margin="0.08,0.03")
        return nid

    def target(self, g: graphviz.Digraph, target: str, source: str) -> str:
        if self.is_end(target):
            return self.end_node(g, target, source)
        if self.drawn(target) or self.sheet is None or target not in self.sheet.page_of:
            return f"n_{target}"
        return self.connector(g, target, source)

    def connector(self, g: graphviz.Digraph, target: str, source: str) -> str:
        """Where an arrow leaves the page: "-> page 3" and the title of what follows there."""
        assert self.sheet is not None
        number = self.sheet.page_of[target]
        words = _para(pages.title(self.model, target), max(14, self.w - 6))
        nid = f"x-to-{target}-{source}"
        text = f"<B>\u2192 page {number}</B><BR/>{words}"
        g.node(nid, label=f"<{self.font(text)}>", shape="box", style="filled,bold",
               fillcolor=DECISION_FILL, margin="0.08,0.04")
        return nid

    def entry(self, g: graphviz.Digraph, root: str, numbers: tuple[int, ...]) -> None:
        """Where the pathway enters the page: "from page 1" pointing at what starts here."""
        listed = ", ".join(str(n) for n in numbers)
        word = "pages" if len(numbers) > 1 else "page"
        nid = f"x-from-{root}"
        g.node(nid, label=f"<{self.font(f'<B>from {word} {listed}</B>')}>", shape="box",
               style="filled,bold", fillcolor=DECISION_FILL, margin="0.08,0.04")
        g.edge(nid, f"n_{root}")

    def fork(self, g: graphviz.Digraph, fork: str, n: int) -> str:
        long, thin = f"{max(1.0, 0.6 * n):g}", "0.05"
        w, h = (thin, long) if self.layout.rankdir == "LR" else (long, thin)
        g.node(fork, label="", shape="box", style="filled", fillcolor=INK, height=h, width=w,
               fixedsize="true")
        return fork

    def fan_out(self, g: graphviz.Digraph, source: str, targets: tuple[str, ...],
                key: str) -> None:
        if len(targets) == 1:
            g.edge(source, self.target(g, targets[0], key))
        elif targets:
            fork = self.fork(g, f"x-fork-{key}", len(targets))
            g.edge(source, fork, arrowhead="none")
            for t in targets:
                g.edge(fork, self.target(g, t, key))

    def branch_target(self, g: graphviz.Digraph, targets: tuple[str, ...], key: str,
                      source: str) -> str:
        """The node a branch's edge points at: its target, or a fork to several."""
        if len(targets) == 1:
            return self.target(g, targets[0], source)
        fork = self.fork(g, f"x-fork-{key}", len(targets))
        for t in targets:
            g.edge(fork, self.target(g, t, source))
        return fork

    def branch_labels(self, g: graphviz.Digraph, decision: m.Decision,
                      width: int) -> list[tuple[str, list[str]]]:
        """(destination node, the markup of the branches that lead there), in order.

        Branches that lead to the same place share one edge: fewer crossings, and the
        alternatives are read together. In a `first` decision only neighbours share one, so
        that its rows are read top to bottom in the order they are checked.
        """
        rows: list[tuple[str, list[str]]] = []
        labels: dict[str, list[str]] = {}

        def add(dest: str, text: str) -> None:
            if decision.policy == "first":
                if rows and rows[-1][0] == dest:
                    rows[-1][1].append(text)
                else:
                    rows.append((dest, [text]))
            elif dest in labels:
                labels[dest].append(text)
            else:
                labels[dest] = [text]
                rows.append((dest, labels[dest]))

        for branch in decision.branches:
            words = branch.label or branch.condition.words
            prefix = f"{branch.index + 1}. " if decision.policy == "first" else ""
            dest = self.branch_target(g, branch.targets, f"{decision.id}-{branch.index}",
                                      decision.id)
            text = _para(prefix + words, width)
            hidden = views.stands_for(branch.label, branch.condition)
            if hidden:
                # What the label stands for: a printed label never hides a condition.
                text += "<BR/>" + self.font(_para("= " + hidden, width), color=MUTED)
            add(dest, text)
        if decision.otherwise is not None:
            other = decision.otherwise
            text = "<B>otherwise</B>"
            if other.label:
                text += ": " + _para(other.label, width)
            for note in other.notes:
                text += ("<BR/>" + self.font("<I>" + _para(note.text, width) + "</I>",
                                             color=MUTED) + self.cites(note.citations))
            dest = self.branch_target(g, other.targets, f"{decision.id}-otherwise",
                                      decision.id)
            add(dest, text)
        return rows

    def decision_edges(self, g: graphviz.Digraph, decision: m.Decision) -> None:
        """The hexagon's arrows, each through a box with its branches' conditions."""
        nid = f"n_{decision.id}"
        width = max(16, self.w - 4)
        joiner = "<BR/>" if decision.policy == "first" else "<BR/><I>or</I> "
        # Each condition is a node on its own path, so no label can be read as belonging to
        # the neighbouring arrow.
        for i, (dest, texts) in enumerate(self.branch_labels(g, decision, width)):
            lid = f"x-when-{decision.id}-{i}"
            cell = f'<TD ALIGN="LEFT" BALIGN="LEFT">{self.font(joiner.join(texts))}</TD>'
            table = f'<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR>{cell}</TR></TABLE>'
            g.node(lid, label=f"<{table}>", shape="box",
                   style="rounded,filled", fillcolor=WHITE, color=MUTED, penwidth="0.5",
                   margin="0.04,0.02")
            g.edge(nid, lid, arrowhead="none")
            g.edge(lid, dest)
        self.pending_note(g, decision, width)

    def decision_table(self, g: graphviz.Digraph, decision: m.Decision, where: str) -> None:
        """The decision as a table: the question over one row per destination, each arrow
        leaving its row. The same words as the hexagon's boxes, a column and many lines
        fewer."""
        nid = f"n_{decision.id}"
        width = max(16, self.w + 4)
        # Every arrow leaves the east side of its own row, in either orientation: leaving by
        # the south, every arrow but the last row's would start at the table's bottom edge.
        side = "e"
        joiner = "<BR/>" if decision.policy == "first" else "<BR/><I>or</I> "
        rows = [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" BGCOLOR="{DECISION_FILL}">'
                f"{self.decision_label(decision, width)}</TD></TR>"]
        for i, (dest, texts) in enumerate(self.branch_labels(g, decision, width)):
            rows.append(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" PORT="b{i}">'
                        f"{self.font(joiner.join(texts))}</TD></TR>")
            g.edge(f"{nid}:b{i}:{side}", dest)
        waits = pending_inputs(self.model, decision)
        if waits:
            # The table's last row, dashed like the hexagon's note: what the decision waits for.
            text = _para("Pending until known: " + ", ".join(
                self.model.inputs[n].label for n in waits), width)
            rows.append(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" STYLE="dashed" COLOR="{MUTED}">'
                        f"{self.font(text.replace('Pending', '<B>Pending</B>', 1), color=MUTED)}"
                        "</TD></TR>")
        table = (f'<TABLE BORDER="2" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
                 f'COLOR="{INK}" BGCOLOR="{WHITE}" STYLE="rounded">' + "".join(rows)
                 + "</TABLE>")
        g.node(nid, label=f"<{table}>", comment=where)

    def pending_note(self, g: graphviz.Digraph, decision: m.Decision, width: int) -> None:
        """A dashed note beside a decision that can wait for results, naming them."""
        nid = f"n_{decision.id}"
        waits = pending_inputs(self.model, decision)
        if waits:
            names = ", ".join(self.model.inputs[n].label for n in waits)
            text = _para("Pending until known; waits for: " + names, width)
            pid = f"x-pending-{decision.id}"
            g.node(pid, label=f"<{self.font(text.replace('Pending', '<B>Pending</B>', 1))}>",
                   shape="note", style="dashed", color=MUTED, fontcolor=MUTED,
                   margin="0.06,0.03")
            g.edge(nid, pid, style="dashed", color=MUTED, arrowhead="none")
            with g.subgraph() as same:
                same.attr(rank="same")
                same.node(nid)
                same.node(pid)


# ----------------------------------------------------------------------------- layout and fit


def build_source(model: m.Model, layout: Layout = DEFAULT_LAYOUT,
                 page: Page | None = None, sheet: pages.Sheet | None = None) -> str:
    """The poster's DOT for one layout; ``page`` places it on paper (None: natural size);
    ``sheet`` draws one page of the pocket edition rather than the whole pathway."""
    return str(_Chart(model, layout, sheet).build(page).source)


def paper_inches(request: BuildRequest) -> tuple[float, float]:
    """The paper (width, height) in inches for the request's paper and orientation (``auto``
    is landscape here: :func:`poster` tries both)."""
    w, h = PAPER.get(request.paper, PAPER["a4"])
    return (max(w, h), min(w, h)) if request.orientation != "portrait" else (w, h)


def fit(size: tuple[float, float], paper: tuple[float, float]) -> Page:
    """Scale a drawing of ``size`` (inches) to fill ``paper`` inside the margin, centred."""
    w, h = size
    pw, ph = paper
    scale = min((pw - 2 * MARGIN) / w, (ph - 2 * MARGIN) / h, MAX_SCALE)
    dw, dh = w * scale, h * scale
    return Page(dw, dh, (pw - dw) / 2, (ph - dh) / 2, scale)


class DotFailed(RuntimeError):
    """Graphviz ``dot`` is installed but failed (crashed, timed out, rejected the input)."""


def _dot_exe() -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise MissingTool(f"Graphviz `dot` was not found on PATH; install it: {INSTALL_HINT}")
    return exe


def _run_dot(args: Sequence[str], source: str) -> bytes:
    try:
        proc = subprocess.run([_dot_exe(), *args], input=source.encode("utf-8"),
                              capture_output=True, timeout=DOT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DotFailed(f"dot {' '.join(args)} failed: {exc}") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise DotFailed(f"dot {' '.join(args)} failed (exit {proc.returncode}): {err}")
    return proc.stdout


def _plain(plain: bytes) -> tuple[float, float, float]:
    # The first line of -Tplain is "graph SCALE WIDTH HEIGHT" (inches, before scaling).
    first = plain.split(b"\n", 1)[0].split()
    if len(first) < 4 or first[0] != b"graph":
        raise DotFailed("dot -Tplain gave no graph size")
    return float(first[1]), float(first[2]), float(first[3])


def _plain_size(plain: bytes) -> tuple[float, float]:
    _, w, h = _plain(plain)
    return w, h


def measure(source: str) -> tuple[float, float]:
    """The natural size of a DOT drawing in inches, from ``dot -Tplain``."""
    return _plain_size(_run_dot(["-Tplain"], source))


def measure_all(sources: Sequence[str]) -> list[tuple[float, float]]:
    """:func:`measure` for several drawings: one ``dot`` process per processor, each laying
    out its share of the files in turn (a process costs more than a small layout)."""
    if not sources:
        return []
    exe = _dot_exe()
    procs_n = min(len(sources), os.cpu_count() or 1)
    shares = [list(range(i, len(sources), procs_n)) for i in range(procs_n)]
    sizes: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="guidec-dot-") as tmp:
        paths = []
        for i, source in enumerate(sources):
            path = Path(tmp) / f"{i}.dot"
            path.write_text(source, encoding="utf-8")
            paths.append(str(path))
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for share in shares:
                procs.append(subprocess.Popen([exe, "-Tplain", *(paths[i] for i in share)],
                                              stdout=subprocess.PIPE, stderr=subprocess.PIPE))
            for share, proc in zip(shares, procs, strict=True):
                out, err = proc.communicate(timeout=DOT_TIMEOUT_S)
                if proc.returncode != 0:
                    raise DotFailed(f"dot -Tplain failed (exit {proc.returncode}): "
                                    f"{err.decode('utf-8', 'replace').strip()}")
                # Each layout's output starts with its "graph SCALE WIDTH HEIGHT" line.
                found = [_plain_size(line) for line in out.split(b"\n")
                         if line.startswith(b"graph ")]
                if len(found) != len(share):
                    raise DotFailed(f"dot -Tplain gave {len(found)} sizes for {len(share)} "
                                    "drawings")
                sizes.update(zip(share, found, strict=True))
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DotFailed(f"dot -Tplain failed: {exc}") from None
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    return [sizes[i] for i in range(len(sources))]


@dataclass(frozen=True)
class Poster:
    """The chosen layout, its place on paper and the final DOT."""

    layout: Layout
    page: Page
    source: str

    @property
    def smallest_pt(self) -> float:
        """The size of the smallest text on paper, in points."""
        return BODY_PT * self.page.scale


def place(model: m.Model, layout: Layout, paper: tuple[float, float],
          natural: tuple[float, float], sheet: pages.Sheet | None = None) -> Poster:
    """Put one layout on paper: scaled to fill the printable area, centred, one page.

    Graphviz's scale for a ``size`` depends a little on ``margin``, so the placement is
    measured (``-Tplain`` gives the scale it applied) and corrected until the page matches the
    paper to a hundredth of an inch.
    """
    pw, ph = paper
    page = fit(natural, paper)
    for attempt in range(5):
        source = build_source(model, layout, page, sheet)
        scale, w, h = _plain(_run_dot(["-Tplain"], source))
        dw, dh = w * scale, h * scale
        grow = min((pw - 2 * MARGIN) / dw, (ph - 2 * MARGIN) / dh, MAX_SCALE / scale)
        done = (abs(grow - 1) < 1e-3 and abs(dw + 2 * page.margin_x - pw) < 0.01
                and abs(dh + 2 * page.margin_y - ph) < 0.01)
        if done or attempt == 4:
            return Poster(layout, replace(page, scale=scale), source)
        page = Page(page.width * grow, page.height * grow, (pw - dw * grow) / 2,
                    (ph - dh * grow) / 2, scale * grow)
    raise AssertionError("unreachable")


def poster(model: m.Model, request: BuildRequest) -> Poster:
    """Measure every layout and keep the one whose text prints largest on the paper asked for
    (the conventional hexagons when several reach 8 pt; decision tables are tried only when no
    layout with hexagons does).

    The header and footer lines are then fitted to the chosen drawing's width. Raises
    :class:`~targets.MissingTool` without Graphviz and :class:`DotFailed` when it fails.
    """
    first = paper_inches(request)
    # Without an orientation asked for, both are tried: the one that prints larger wins.
    papers = [first, (first[1], first[0])] if request.orientation == "auto" else [first]
    layouts = list(LAYOUTS)
    sizes = measure_all([build_source(model, layout) for layout in layouts])

    def best_scale() -> float:
        return max(fit(size, paper).scale for size in sizes for paper in papers)

    if best_scale() * BODY_PT < MIN_PRINTED_PT:
        layouts += TABLE_LAYOUTS
        sizes += measure_all([build_source(model, layout) for layout in TABLE_LAYOUTS])
    options = [(i, paper) for i in range(len(layouts)) for paper in papers]

    def rank(option: tuple[int, tuple[float, float]]) -> tuple[float, bool, float, int]:
        # 8 pt first; then the conventional hexagons; then the largest text.
        i, paper = option
        pt = round(fit(sizes[i], paper).scale * BODY_PT, 6)
        return (min(pt, MIN_PRINTED_PT), layouts[i].decisions == "hexagon", pt,
                -options.index(option))

    best, paper = max(options, key=rank)
    width_pt = sizes[best][0] * 72
    line = max(60, int(width_pt / (BODY_PT * CHAR_EM[PRINT_FONT])))
    layout = replace(layouts[best], line=line)
    return place(model, layout, paper, measure(build_source(model, layout)))


# ----------------------------------------------------------------------------- the pocket edition


#: The layouts tried for each page of the pocket edition: fewer than the poster's, because a
#: page holds part of the pathway and pages are measured many times while they are planned.
PAGE_LAYOUTS = tuple(Layout(rankdir, w, "end", 1, decisions=d)
                     for rankdir, widths in (("LR", (22, 28)), ("TB", (32, 40)))
                     for w in widths for d in ("hexagon", "table"))
#: The same with the Pitfalls panel, for a page that holds it beside a part of the pathway.
PANEL_LAYOUTS = tuple(replace(layout, pitfalls=where, pitfall_columns=cols)
                      for layout in PAGE_LAYOUTS for where in ("end", "first")
                      for cols in (1, 2))
#: For a page of the panel alone: wider columns, more of them.
PANEL_ONLY_LAYOUTS = tuple(Layout("TB", w, "end", cols) for w in (30, 40, 52, 64)
                           for cols in (1, 2, 3, 4))


@dataclass(frozen=True)
class Edition:
    """The pocket edition: one :class:`Poster` per page, each on one sheet of the paper."""

    posters: tuple[Poster, ...]
    sheets: tuple[pages.Sheet, ...]

    @property
    def smallest_pt(self) -> float:
        """The smallest text on any page, in points."""
        return min(p.smallest_pt for p in self.posters)


def _rank(layout: Layout, pt: float, filled: float = 0.0) -> tuple[float, bool, float, float]:
    # 8 pt first; then the conventional hexagons; then the largest text (as the poster), to
    # a tenth of a point; then the layout that fills more of the page (a page whose header
    # sets its width prints at one size in many layouts: the tallest uses the paper best).
    return (min(round(pt, 6), MIN_PRINTED_PT), layout.decisions == "hexagon", round(pt, 1),
            filled)


def _filled(size: tuple[float, float], paper: tuple[float, float]) -> float:
    """The share of the printable area a drawing of ``size`` covers once fitted."""
    scale = fit(size, paper).scale
    return size[0] * size[1] * scale * scale / ((paper[0] - 2 * MARGIN) * (paper[1] - 2 * MARGIN))


def _layouts(roots: Sequence[str], panel: tuple[int, int] | None) -> tuple[Layout, ...]:
    if panel is None:
        return PAGE_LAYOUTS
    return PANEL_LAYOUTS if roots else PANEL_ONLY_LAYOUTS


_Query = tuple[tuple[str, ...], "tuple[int, int] | None"]


class _Planner:
    """Plans the pages for one paper.

    1. Cut the pathway bottom up (Kundu and Misra's partition of a tree): each node's
       sub-pathway, less the parts already cut, is measured; while it cannot print at 8 pt,
       its heaviest remaining part is cut off to start a page. This gives the fewest parts
       that each print at 8 pt when sizes add up, as a pathway's boxes nearly do.
    2. Pack the parts onto pages: each goes onto its own sub-pathway's page, or the first
       page with room, or a new one. A `page` clause always starts a page.
    3. The Pitfalls panel goes onto the page that recommends most of the actions its rules
       name, else the first page with room, else pages of its own (split when it must be).
    """

    def __init__(self, model: m.Model, paper: tuple[float, float],
                 sizes: dict[str, tuple[float, float]]) -> None:
        self.model = model
        self.paper = paper
        #: Natural sizes by DOT text, shared by the planners of both orientations.
        self.sizes = sizes
        self.tree = pages.Tree(model)
        self.pinned = set(pages.pinned(model))
        self.entries = len(pitfalls(model))
        self.cache: dict[tuple[tuple[str, ...], _Query], tuple[float, int]] = {}

    def draft(self, cuts: Sequence[str], roots: Sequence[str],
              panel: tuple[int, int] | None) -> pages.Sheet:
        """A draft of the page holding ``roots``: every other part on a page of its own."""
        drafts = [list(roots), *([r] for r in cuts if r not in roots)]
        return pages.sheets(self.model, self.tree, drafts,
                            {} if panel is None else {0: panel})[0]

    def measure(self, cuts: Sequence[str], queries: Sequence[_Query]) -> list[tuple[float, int]]:
        """For each (roots, panel) query, the largest text its page prints at and the index
        of the layout that prints it (all queries' layouts measured at once, in parallel)."""
        key = tuple(cuts)
        todo = list(dict.fromkeys(q for q in queries if (key, q) not in self.cache))
        sources: list[str] = []
        spans: list[tuple[int, int]] = []
        for roots, panel in todo:
            sheet = self.draft(cuts, roots, panel)
            layouts = _layouts(roots, panel)
            spans.append((len(sources), len(layouts)))
            sources += [build_source(self.model, layout, sheet=sheet) for layout in layouts]
        new = list(dict.fromkeys(s for s in sources if s not in self.sizes))
        self.sizes.update(zip(new, measure_all(new), strict=True))
        sizes = [self.sizes[s] for s in sources]
        for (roots, panel), (at, n) in zip(todo, spans, strict=True):
            layouts = _layouts(roots, panel)
            mine = sizes[at:at + n]
            pts = [fit(size, self.paper).scale * BODY_PT for size in mine]
            best = max(range(n), key=lambda i: _rank(layouts[i], pts[i],
                                                      _filled(mine[i], self.paper)))
            self.cache[key, (roots, panel)] = (pts[best], best)
        return [self.cache[key, q] for q in queries]

    def fits(self, cuts: Sequence[str], queries: Sequence[_Query]) -> list[bool]:
        return [pt >= MIN_PRINTED_PT - 1e-6 for pt, _ in self.measure(cuts, queries)]

    def cut(self) -> list[str]:
        tree = self.tree
        cuts = {n for n in tree.order if n == pages.ROOT or n in self.pinned}
        below: dict[str, int] = {}
        height: dict[str, int] = {}
        for v in reversed(tree.order):
            height[v] = 1 + max((height[c] for c in tree.children[v]), default=-1)
        # The nodes of one height do not depend on each other: measured together.
        for level in range(max(height.values()) + 1):
            todo = [v for v in tree.order if height[v] == level]
            while todo:
                ask = []
                for v in todo:
                    kids = [c for c in tree.children[v] if c not in cuts]
                    below[v] = tree.weight(v) + sum(below[c] for c in kids)
                    if kids:
                        ask.append(v)
                ordered = [n for n in tree.order if n in cuts or n in ask]
                ok = self.fits(ordered, [((v,), None) for v in ask])
                todo = [v for v, fine in zip(ask, ok, strict=True) if not fine]
                for v in todo:
                    kids = [c for c in tree.children[v] if c not in cuts]
                    cuts.add(max(kids, key=lambda c: (below[c], -tree.order.index(c))))
        return [n for n in tree.order if n in cuts]

    def plan(self) -> tuple[list[list[str]], dict[int, tuple[int, int]]]:
        """The pages as lists of parts (their first nodes) and the panel's slice on each
        page that holds a part of it."""
        tree = self.tree
        cuts = self.cut()
        placed: list[list[str]] = []
        page_of: dict[str, int] = {}
        for r in cuts:
            if not placed or r in self.pinned:
                page_of[r] = len(placed)
                placed.append([r])
                continue
            parent = tree.idom[r]
            while parent not in page_of:
                parent = tree.idom[parent]
            order = [page_of[parent]] + [i for i in range(len(placed)) if i != page_of[parent]]
            ok = self.fits(cuts, [((*placed[i], r), None) for i in order])
            into = next((i for i, fine in zip(order, ok, strict=True) if fine), None)
            page_of[r] = len(placed) if into is None else into
            if into is None:
                placed.append([r])
            else:
                placed[into].append(r)
        if not self.entries:
            return placed, {}
        whole = (0, self.entries)
        regions = tree.regions(cuts)
        named = {n.action for n in self.model.nevers} | {r.action for r in self.model.requires}
        named |= {c.first for c in self.model.conflicts} | {c.second for c in self.model.conflicts}

        def related(page: list[str]) -> int:
            nodes = [self.model.pathway.nodes.get(n) for r in page for n in regions[r]]
            return sum(a in named for node in nodes if isinstance(node, m.Step)
                       for site in node.recommends for a in site.actions)

        order = sorted(range(len(placed)), key=lambda i: (-related(placed[i]), i))
        ok = self.fits(cuts, [(tuple(placed[i]), whole) for i in order])
        into = next((i for i, fine in zip(order, ok, strict=True) if fine), None)
        if into is not None:
            return placed, {into: whole}
        # Pages of their own: as few as print at 8 pt, the entries shared out evenly.
        for count in range(1, self.entries + 1):
            bounds = [round(i * self.entries / count) for i in range(count + 1)]
            parts = list(pairwise(bounds))
            ok = self.fits(cuts, [((), part) for part in parts])
            if all(ok) or count == self.entries:
                first = len(placed)
                placed += [[] for _ in parts]
                return placed, {first + i: part for i, part in enumerate(parts)}
        raise AssertionError("unreachable")


def edition(model: m.Model, request: BuildRequest) -> Edition:
    """The pocket edition on the request's paper: the fewest pages that each print at 8 pt
    (see :class:`_Planner`); without an orientation asked for, the orientation that needs
    fewer pages (then prints larger)."""
    first = paper_inches(request)
    papers = [first, (first[1], first[0])] if request.orientation == "auto" else [first]
    best: Edition | None = None
    sizes: dict[str, tuple[float, float]] = {}
    for paper in papers:
        planner = _Planner(model, paper, sizes)
        placed, panels = planner.plan()
        sheets = pages.sheets(model, planner.tree, placed, panels)
        cuts = [r for page in placed for r in page]
        posters = []
        for sheet in sheets:
            # The layout the plan measured for this page (its page numbers aside, the same
            # drawing); its header and footer lines are then fitted to the drawing's width.
            layouts = _layouts(sheet.roots, sheet.panel)
            _, i = planner.measure(cuts, [(sheet.roots, sheet.panel)])[0]
            width = measure(build_source(model, layouts[i], sheet=sheet))[0]
            line = max(60, int(width * 72 / (BODY_PT * CHAR_EM[PRINT_FONT])))
            layout = replace(layouts[i], line=line)
            natural = measure(build_source(model, layout, sheet=sheet))
            posters.append(place(model, layout, paper, natural, sheet))
        found = Edition(tuple(posters), tuple(sheets))
        if best is None or (len(found.posters), -found.smallest_pt) < (
                len(best.posters), -best.smallest_pt):
            best = found
    assert best is not None
    return best


# ----------------------------------------------------------------------------- rendering


_SUPER = re.compile(r'(<text [^>]*baseline-shift="(?:super|sub)"[^>]*font-size=")([0-9.]+)(")')
_LEADING_SPACE = re.compile(r"(<text [^>]*>) ")


_TEXT = re.compile(r'<text text-anchor="start" x="([-0-9.]+)" y="([-0-9.]+)"([^>]*)>')


def _fit_runs_before_superscripts(svg: str) -> str:
    """Give the run of text before a superscript the width Graphviz measured for it: a
    browser's font metrics differ a little from cairo's, and the run would run into the
    raised number (chromium overlapped 10 of the flagship's 41)."""
    found = list(_TEXT.finditer(svg))
    fixes: dict[int, str] = {}
    for prev, cur in pairwise(found):
        if 'baseline-shift="super"' not in cur[3] or "baseline-shift" in prev[3]:
            continue
        if prev[2] != cur[2]:
            continue
        width = float(cur[1]) - float(prev[1])
        if width > 0:
            fixes[prev.end() - 1] = (f' textLength="{width:.2f}" '
                                     'lengthAdjust="spacingAndGlyphs"')
    out, at = [], 0
    for pos in sorted(fixes):
        out += [svg[at:pos], fixes[pos]]
        at = pos
    return "".join(out) + svg[at:]


def _fix_svg(svg: str) -> str:
    # Graphviz lays superscripts out at cairo's 1/1.2 size but writes the declared size into
    # the SVG, so browsers would draw them larger than measured; write the measured size.
    svg = _SUPER.sub(lambda mo: f"{mo[1]}{float(mo[2]) / 1.2:.2f}{mo[3]}", svg)
    svg = _fit_runs_before_superscripts(svg)
    # A text run that starts with a space ("Bold:" then " strong") loses it in a browser,
    # which collapses leading white space: keep it as a no-break space.
    return _LEADING_SPACE.sub("\\1&#160;", svg)


def render(source: str, fmt: str) -> bytes:
    """Render DOT text to ``fmt`` (svg, pdf, png) with the system ``dot``."""
    args = [f"-T{fmt}"]
    if fmt == "png":
        args.append(f"-Gdpi={PNG_DPI}")
    out = _run_dot(args, source)
    if fmt == "svg":
        out = _fix_svg(out.decode("utf-8")).encode("utf-8")
    return out


def render_svg_text(model: m.Model, request: BuildRequest) -> str | None:
    """The flowchart as SVG text for the HTML handout to inline; None without Graphviz.

    It is the poster's layout at its natural size (a page in a browser has no paper) in
    :data:`SCREEN_FONT`, whose metrics browsers have, rather than the narrow print font.
    """
    try:
        layout = poster(model, request).layout
        line = int(layout.line * CHAR_EM[PRINT_FONT] / CHAR_EM[SCREEN_FONT])
        layout = replace(layout, font=SCREEN_FONT, line=line)
        return render(build_source(model, layout), "svg").decode("utf-8")
    except (MissingTool, DotFailed):
        return None


def _write(path: Path, data: bytes) -> None:
    write_bytes(path, data)


def join_pdfs(pdfs: Sequence[bytes]) -> bytes:
    """One PDF of the pages of several (each a page of the pocket edition), with pypdf."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in pdfs:
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    # A fixed identity and no dates: the same pages give the same bytes.
    writer._ID = None
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stale_pages(outdir: Path, ident: str, formats: Iterable[str], count: int) -> None:
    # A page file left by an earlier build with more pages would pass for part of this one.
    pattern = re.compile(rf"{re.escape(ident)}\.page(\d+)\.({'|'.join(formats)})")
    for path in outdir.iterdir():
        found = pattern.fullmatch(path.name)
        if found and int(found[1]) > count and path.is_file():
            path.unlink()


def _orientation(page: Page) -> str:
    wide = page.width + 2 * page.margin_x > page.height + 2 * page.margin_y
    return "landscape" if wide else "portrait"


def emit(model: m.Model, outdir: Path, request: BuildRequest) -> list[Emitted]:
    """Write ``<id>.dot`` and render the svg/pdf/png asked for with Graphviz ``dot``.

    On A4 or Letter, a chart too large to print at 8 pt on one page becomes the pocket
    edition (:func:`edition`): the PDF holds its pages, and each page is also written as
    ``<id>.pageN.dot`` and, for svg and png, ``<id>.pageN.svg``/``.png`` beside the one-sheet
    file. On A3 or Tabloid (the wall poster) it stays on one sheet, with a warning giving the
    size it prints at. Without ``dot`` (or when it fails) the .dot is still written and an
    :class:`Emitted` carries the warning with ``missing_tool="dot"``.
    """
    wanted = FORMATS & request.formats
    if not wanted:
        return []
    rendered = [f for f in RENDERED if f in wanted]
    problem: str | None = None
    missing: str | None = None
    book: Edition | None = None
    try:
        one = poster(model, request)
        chosen: Poster | None = one
        if rendered and request.paper in _LARGER and one.smallest_pt < MIN_PRINTED_PT - 1e-6:
            book = edition(model, request)
    except MissingTool as exc:
        chosen, problem, missing = None, str(exc), "dot"
    except DotFailed as exc:
        chosen, problem = None, str(exc)
    source = chosen.source if chosen is not None else build_source(
        model, default_layout(request))
    ident = model.meta.id
    dot_path = outdir / f"{ident}.dot"
    _write(dot_path, source.encode("utf-8"))
    out = [Emitted(dot_path)]
    count = len(book.posters) if book is not None else 0
    if chosen is not None:
        try:
            if book is not None:
                for number, page in enumerate(book.posters, 1):
                    path = outdir / f"{ident}.page{number}.dot"
                    _write(path, page.source.encode("utf-8"))
                    out.append(Emitted(path))
            for fmt in rendered:
                path = outdir / f"{ident}.{fmt}"
                if fmt == "pdf" and book is not None:
                    _write(path, join_pdfs([render(p.source, "pdf") for p in book.posters]))
                    first = book.posters[0].page
                    out.append(Emitted(path, note=(
                        f"{count} {request.paper} {_orientation(first)} pages, text "
                        f"{book.smallest_pt:.1f} pt or larger")))
                    continue
                _write(path, render(source, fmt))
                out.append(Emitted(path, note="one sheet" if book is not None else None))
                if book is not None and fmt != "pdf":
                    for number, page in enumerate(book.posters, 1):
                        path = outdir / f"{ident}.page{number}.{fmt}"
                        _write(path, render(page.source, fmt))
                        out.append(Emitted(path))
            _stale_pages(outdir, ident, ["dot", *rendered], count)
        except DotFailed as exc:
            problem = str(exc)
        except OSError as exc:
            # Removing a stale page file failed: the build itself is complete.
            out.append(Emitted(None, warning=f"could not remove an old page file: {exc}"))
    if problem is not None:
        if rendered:
            out.append(Emitted(None, warning=(
                f"{problem}; {dot_path} was written but not rendered to "
                f"{', '.join(rendered)}"), missing_tool=missing, failed=missing is None))
        return out
    assert chosen is not None
    if book is not None and book.smallest_pt < MIN_PRINTED_PT - 1e-6:
        small = [n for n, p in enumerate(book.posters, 1) if p.smallest_pt < MIN_PRINTED_PT - 1e-6]
        out.append(Emitted(None, warning=(
            f"page {', '.join(map(str, small))} of the {request.paper} edition cannot print at "
            f"{MIN_PRINTED_PT:g} pt: its smallest text prints at {book.smallest_pt:.1f} pt; "
            f"--paper {_LARGER[request.paper]} prints the whole chart on one larger sheet")))
    elif book is None and rendered and chosen.smallest_pt < MIN_PRINTED_PT - 1e-6:
        out.append(Emitted(None, warning=(
            f"the flowchart is too large for one {request.paper} {_orientation(chosen.page)} "
            f"page at {MIN_PRINTED_PT:g} pt: its smallest text prints at "
            f"{chosen.smallest_pt:.1f} pt"
            + (f"; for a wall poster, --paper {_LARGER[request.paper]} is a larger sheet"
               if request.paper in _LARGER else ""))))
    return out
