"""The HTML handout: one printable, self-contained page per guideline.

``render_html(model, svg)`` turns the checked model (and the flowchart SVG, when Graphviz could
draw it) into one HTML5 document: inline CSS, the SVG inline, no script, no font and no request
beyond the page itself, so it works offline, attached to an e-mail, and printed on A4 or Letter.
Every section is generated from the model; the templates (``targets/templates``) only lay it
out. Autoescaping is on and no model text is ever used as template source, so a title such as
``{{ 7*7 }}`` or ``<script>`` prints as itself.

The output is deterministic: the same model gives the same bytes (no generation date, source
order everywhere).
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from compiler import model as m
from dsl.files import write_bytes
from dsl.highlight import highlight_html
from targets import BuildRequest, Emitted, views

# ----------------------------------------------------------------------------- wording

STRENGTH_WORDS = {"strong": "Recommended", "conditional": "Consider"}
KIND_WORDS = {
    "diagnostic": "Diagnostic", "systemic": "Systemic therapy", "radiotherapy": "Radiotherapy",
    "intrathecal": "Intrathecal therapy", "supportive": "Supportive care",
    "referral": "Referral", "monitoring": "Monitoring", "other": "Other",
}
REFERENCE_KIND_WORDS = {
    "guideline": "Guideline", "research": "Research", "review": "Review",
    "consensus": "Committee consensus", "other": "Other",
}
STATUS_WORDS = {"draft": "Draft", "under_review": "Under review", "approved": "Approved"}
PAPER_SIZES = {"a4": "A4", "letter": "letter", "a3": "A3", "tabloid": "ledger"}

#: The handout's colours (CSS custom properties). Every pair in CONTRAST_PAIRS meets WCAG AA.
PALETTE = {
    "ink": "#1b1f24", "muted": "#4a5561", "paper": "#ffffff", "rule": "#c9d1d9",
    "accent": "#0b5cad", "panel": "#f3f6f9",
    "strong-bg": "#1d6b3a", "strong-fg": "#ffffff",
    "cond-bg": "#fff1c7", "cond-fg": "#6b4400",
    "danger": "#a3231b", "danger-bg": "#fdf0ef", "danger-fg": "#ffffff",
    "warn-bg": "#fff4d6", "warn-fg": "#6b4400",
    "consensus": "#5b2a86", "consensus-bg": "#f4eefa",
}
#: (foreground, background) pairs the stylesheet uses for text.
CONTRAST_PAIRS = (
    ("ink", "paper"), ("muted", "paper"), ("accent", "paper"), ("ink", "panel"),
    ("muted", "panel"), ("accent", "panel"), ("strong-fg", "strong-bg"),
    ("cond-fg", "cond-bg"), ("danger", "danger-bg"), ("ink", "danger-bg"),
    ("muted", "danger-bg"), ("accent", "danger-bg"), ("danger-fg", "danger"),
    ("warn-fg", "warn-bg"), ("consensus", "consensus-bg"), ("ink", "consensus-bg"),
    ("strong-bg", "panel"), ("cond-fg", "panel"), ("consensus", "panel"), ("danger", "panel"),
    ("accent", "consensus-bg"), ("danger", "paper"), ("consensus", "paper"),
    ("ink", "warn-bg"),
)

INSTALL_HINT = "apt-get install graphviz"

# ----------------------------------------------------------------------------- view model
#
# The templates read these small records, never the model itself: every decision about what
# to show (what is inlined, numbered, linked) is made here, in typed Python.


@dataclass(frozen=True)
class Cite:
    """A citation as shown: the reference's printed label, its number or the author's ``C1``
    (and whether it is a committee resolution)."""

    label: str
    consensus: bool


@dataclass(frozen=True)
class Para:
    """A paragraph or note: text with its citations."""

    text: str
    cites: tuple[Cite, ...]


@dataclass(frozen=True)
class Rec:
    """One recommended action where a step recommends it."""

    text: str
    kind: str
    kind_word: str
    strength: str
    strength_word: str
    detail: str | None
    cites: tuple[Cite, ...]
    when: str | None
    #: GRADE beside the strength: certainty ("⊕⊕◯◯ low certainty"), or a good practice
    #: statement; "" when the committee recorded neither.
    grade: str = ""


@dataclass(frozen=True)
class Target:
    """What happens next: a link to a numbered block, an inlined leaf step, or an end."""

    kind: str  # "block", "step" (inlined) or "end"
    label: str
    anchor: str | None = None
    number: int = 0
    recs: tuple[Rec, ...] = ()
    notes: tuple[Para, ...] = ()
    then: tuple[Target, ...] = ()


@dataclass(frozen=True)
class BranchView:
    """A branch of a decision, in words."""

    label: str
    words: str | None
    otherwise: bool
    targets: tuple[Target, ...]
    notes: tuple[Para, ...]


@dataclass(frozen=True)
class Block:
    """A numbered block of the algorithm in words: a decision or a step."""

    number: int
    anchor: str
    kind: str  # "decision" or "step"
    title: str
    policy: str | None = None
    notes: tuple[Para, ...] = ()
    branches: tuple[BranchView, ...] = ()
    recs: tuple[Rec, ...] = ()
    see_workup: bool = False
    then: tuple[Target, ...] = ()
    unreached: bool = False


@dataclass(frozen=True)
class WorkupStep:
    """A step that recommends diagnostics, with only its diagnostic recommendations."""

    title: str
    anchor: str
    place: str
    recs: tuple[Rec, ...]
    notes: tuple[Para, ...]


@dataclass(frozen=True)
class SilentRow:
    """A committee note citing a consensus reference, where it sits and what the pathway does."""

    where: str
    anchor: str | None
    detail: str | None
    note: Para
    instead_targets: tuple[Target, ...] = ()
    instead_recs: tuple[Rec, ...] = ()


@dataclass(frozen=True)
class RuleView:
    """A pitfall rule: never, require, conflict or caution."""

    kind: str
    kind_word: str
    text: str
    rule: str
    cites: tuple[Cite, ...]


@dataclass(frozen=True)
class SectionView:
    """A prose section."""

    anchor: str
    title: str
    paragraphs: tuple[Para, ...]


@dataclass(frozen=True)
class RefView:
    """A reference as listed, under the label it is cited by (the source's number, or the
    author's label such as ``C1``)."""

    label: str
    anchor: str
    kind: str
    kind_word: str
    title: str
    source: str | None
    year: int | None
    url: str | None
    url_text: str | None
    notes: tuple[Para, ...]
    tail: str


@dataclass(frozen=True)
class Flowchart:
    """The prepared inline SVG: its opening tag and the rest, both already safe markup."""

    open_tag: Markup
    body: Markup


# ----------------------------------------------------------------------------- SVG


class UnsafeSvg(ValueError):
    """The flowchart SVG holds something a self-contained handout must not (script, ...)."""


_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>\[]*(\[[^\]]*\])?\s*>", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FORBIDDEN_ELEMENTS = {
    "script", "foreignobject", "iframe", "object", "embed", "image", "img", "audio", "video",
    "link", "meta", "base", "form", "animate", "set", "animatemotion", "animatetransform",
    "handler", "listener",
}


#: In CSS: an @import, or a url() that is not a fragment of this document.
_EXTERNAL_CSS = re.compile(r"@import|url\(\s*+(?!['\"]?#)", re.IGNORECASE)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _check_svg(root: ET.Element) -> None:
    for el in root.iter():
        tag = _local(el.tag) if isinstance(el.tag, str) else ""
        if tag in _FORBIDDEN_ELEMENTS:
            raise UnsafeSvg(f"the flowchart SVG contains a <{tag}> element")
        for key, value in el.attrib.items():
            name = _local(key)
            if name.startswith("on"):
                raise UnsafeSvg(f"the flowchart SVG has an event handler ({name})")
            if name in ("href", "src") and not value.startswith("#"):
                raise UnsafeSvg(f"the flowchart SVG links outside the page ({value[:40]})")
            if _EXTERNAL_CSS.search(value):
                raise UnsafeSvg("the flowchart SVG refers to an external url()")
        if tag == "style" and el.text and _EXTERNAL_CSS.search(el.text):
            raise UnsafeSvg("the flowchart SVG's style loads an external resource")


def prepare_svg(svg: str) -> Flowchart:
    """Make Graphviz's SVG fit to inline: prolog removed, sizes made fluid, checked safe.

    Raises :class:`UnsafeSvg` when the SVG is not well-formed or holds scripts, event handlers
    or references outside the page.
    """
    text = _COMMENT.sub("", _PROLOG.sub("", svg)).strip()
    if "<![CDATA[" in text or "<?" in text or "<!" in text:
        raise UnsafeSvg("the flowchart SVG holds a CDATA section or a declaration")
    start = text.find("<svg")
    end = text.rfind("</svg>")
    if start < 0 or end < 0:
        raise UnsafeSvg("the flowchart is not an SVG document")
    text = text[start:end + len("</svg>")]
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise UnsafeSvg(f"the flowchart SVG is not well-formed ({exc})") from None
    if _local(root.tag) != "svg":
        raise UnsafeSvg("the flowchart's root element is not <svg>")
    _check_svg(root)
    close = text.index(">")
    if text[close - 1] == "/":
        raise UnsafeSvg("the flowchart SVG is empty")
    attrs = text[len("<svg"):close]
    attrs = re.sub(r'\s(width|height|role|aria-[a-z]+|style|class)="[^"]*"', "", attrs)
    open_tag = (f'<svg{attrs.rstrip()} class="flow" role="img" aria-labelledby="flow-title"'
                f' aria-describedby="flow-desc">')
    return Flowchart(Markup(open_tag), Markup(text[close + 1:]))


# ----------------------------------------------------------------------------- building


def _first_sentence(text: str) -> str:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text.strip(), maxsplit=1)
    return parts[0]


def _reference_tail(title: str) -> str:
    """The punctuation after a reference's title: none when the title already ends a sentence."""
    return "" if title.rstrip().endswith((".", "?", "!")) else "."


def _midsentence(words: str) -> str:
    """Condition words as they read after "when": "A focal site ..." -> "a focal site ..."."""
    first = words.split(" ", 1)[0]
    if first == "A" or (first[:1].isupper() and first[1:].islower()):
        return words[0].lower() + words[1:]
    return words


def _safe_url(url: str | None) -> str | None:
    if url is not None and re.match(r"^https?://[^\s<>\"']+$", url, re.IGNORECASE):
        return url
    return None


class _Builder:
    """Turns the model into the records the template reads."""

    def __init__(self, model: m.Model) -> None:
        self.model = model
        self.nodes = model.pathway.nodes
        self.consensus = {r.id for r in model.references.values() if r.kind == "consensus"}
        self._order_nodes()

    # -- citations and recommendations

    def cites(self, ids: tuple[str, ...]) -> tuple[Cite, ...]:
        refs = self.model.references
        return tuple(Cite(refs[i].label, refs[i].kind == "consensus") for i in ids if i in refs)

    def paras(self, notes: tuple[m.Note, ...] | tuple[m.Paragraph, ...]) -> tuple[Para, ...]:
        return tuple(Para(n.text, self.cites(n.citations)) for n in notes)

    def rec(self, action_id: str, when: m.Condition | None) -> Rec:
        a = self.model.actions[action_id]
        word = STRENGTH_WORDS.get(a.strength, a.strength.capitalize()) if a.direction == "for" \
            else a.verb
        grade = "good practice statement" if a.grading == "good_practice" else (
            f"{m.CERTAINTY_SYMBOLS[a.certainty]} {a.certainty.replace('_', ' ')} certainty"
            if a.certainty is not None else "")
        return Rec(a.text, a.kind, KIND_WORDS.get(a.kind, a.kind.capitalize()),
                   a.strength + ("-against" if a.direction == "against" else ""), word,
                   a.detail, self.cites(a.citations),
                   _midsentence(when.words) if when is not None else None, grade)

    def recs(self, step: m.Step, kinds: frozenset[str] | None = None) -> tuple[Rec, ...]:
        out: list[Rec] = []
        for site in step.recommends:
            for action_id in site.actions:
                if kinds is None or self.model.actions[action_id].kind in kinds:
                    out.append(self.rec(action_id, site.condition))
        return tuple(out)

    # -- the shape of the algorithm in words

    def _is_leaf_step(self, node: m.PathNode) -> bool:
        return isinstance(node, m.Step) and all(
            isinstance(self.nodes.get(t), m.End) for t in node.next)

    def _order_nodes(self) -> None:
        """Depth-first order from the start; which nodes get a numbered block of their own.

        A decision always does. A step does unless it is a leaf (only ends follow it) reached
        only from decisions' branches: such a step is written out inside each branch.
        """
        from_step_or_start = set(self.model.pathway.start)
        reached: set[str] = set(self.model.pathway.start)
        for node in self.nodes.values():
            reached.update(self.model.pathway.successors(node.id))
            if isinstance(node, m.Step):
                from_step_or_start.update(node.next)
        order: list[str] = []
        seen: set[str] = set()
        stack = list(reversed(self.model.pathway.start))
        while stack:
            nid = stack.pop()
            if nid in seen or nid not in self.nodes:
                continue
            seen.add(nid)
            order.append(nid)
            stack.extend(reversed(self.model.pathway.successors(nid)))
        order.extend(nid for nid in self.nodes if nid not in seen)
        self.order = order
        # The end most of the pathway leads to; written out steps do not repeat it.
        incoming = {nid: 0 for nid, n in self.nodes.items() if isinstance(n, m.End)}
        for nid in self.nodes:
            for succ in self.model.pathway.successors(nid):
                if succ in incoming:
                    incoming[succ] += 1
        self.common_end = max(incoming, key=lambda e: incoming[e], default=None)
        self.block_ids = [
            nid for nid in order
            if isinstance(self.nodes[nid], m.Decision)
            or (isinstance(self.nodes[nid], m.Step)
                and (not self._is_leaf_step(self.nodes[nid]) or nid in from_step_or_start
                     or nid not in reached))
        ]
        self.number = {nid: i + 1 for i, nid in enumerate(self.block_ids)}
        self.unreached = {nid for nid in self.nodes if nid not in seen}
        # Where an inlined step is shown: the first decision block that branches to it.
        self.anchor: dict[str, str] = {nid: f"node-{nid}" for nid in self.block_ids}
        self.place: dict[str, str] = {}
        for nid in self.block_ids:
            node = self.nodes[nid]
            for succ in self.model.pathway.successors(nid):
                if succ not in self.anchor and isinstance(self.nodes.get(succ), m.Step):
                    self.anchor[succ] = f"node-{nid}"
                    self.place[succ] = f"{self.number[nid]}. {self._title(node)}"
        for nid in self.block_ids:
            self.place[nid] = f"{self.number[nid]}. {self._title(self.nodes[nid])}"

    @staticmethod
    def _title(node: m.PathNode) -> str:
        if isinstance(node, m.Decision):
            return node.question
        if node.title:
            return node.title
        return node.id.replace("_", " ").capitalize()

    def target(self, nid: str) -> Target:
        """A link to ``nid``'s block, the end it is, or (a leaf step) the step written out."""
        node = self.nodes[nid]
        if isinstance(node, m.End):
            return Target("end", f"End: {node.title}" if node.title
                          else "End of this part of the pathway")
        if nid in self.number:
            return Target("block", self._title(node), self.anchor[nid], self.number[nid])
        assert isinstance(node, m.Step)
        ends = tuple(self.target(t) for t in node.next if t != self.common_end)
        return Target("step", node.title, self.anchor.get(nid), 0, self.recs(node),
                      self.paras(node.notes), ends)

    def targets(self, ids: tuple[str, ...]) -> tuple[Target, ...]:
        return tuple(self.target(t) for t in ids)

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        for nid in self.block_ids:
            node = self.nodes[nid]
            if isinstance(node, m.Decision):
                policy = ("Checked in this order: the first row that holds applies."
                          if node.policy == "first" else "Exactly one row applies.")
                branches = [
                    BranchView(b.label or b.condition.words,
                               views.stands_for(b.label, b.condition),
                               False, self.targets(b.targets), self.paras(b.notes))
                    for b in node.branches
                ]
                if node.otherwise is not None:
                    o = node.otherwise
                    branches.append(BranchView(o.label or "None of the above", None, True,
                                               self.targets(o.targets),
                                               self.paras(o.notes)))
                out.append(Block(self.number[nid], self.anchor[nid], "decision", node.question,
                                 policy, self.paras(node.notes), tuple(branches),
                                 unreached=nid in self.unreached))
            elif isinstance(node, m.Step):
                recs = self.recs(node)
                see_workup = bool(recs) and all(r.kind == "diagnostic" for r in recs)
                out.append(Block(self.number[nid], self.anchor[nid], "step", node.title,
                                 notes=self.paras(node.notes), recs=recs,
                                 see_workup=see_workup,
                                 then=self.targets(node.next),
                                 unreached=nid in self.unreached))
        return out

    def workup(self) -> list[WorkupStep]:
        out: list[WorkupStep] = []
        for nid in self.order:
            node = self.nodes[nid]
            if isinstance(node, m.Step):
                recs = self.recs(node, frozenset({"diagnostic"}))
                if recs:
                    out.append(WorkupStep(node.title, self.anchor.get(nid, f"node-{nid}"),
                                          self.place.get(nid, ""), recs,
                                          self.paras(node.notes)))
        return out

    # -- where the source is silent

    def _cites_consensus(self, note: m.Note) -> bool:
        return any(c in self.consensus for c in note.citations)

    def silent(self) -> list[SilentRow]:
        rows: list[SilentRow] = []
        done: set[str] = set()

        def step_rows(step: m.Step) -> None:
            if step.id in done:
                return
            done.add(step.id)
            consensus_recs = tuple(
                r for r in self.recs(step) if any(c.consensus for c in r.cites))
            for note in step.notes:
                if self._cites_consensus(note):
                    inline = step.id not in self.number
                    rows.append(SilentRow(self.place.get(step.id, step.title),
                                          self.anchor.get(step.id),
                                          f"Step: {step.title}" if inline else None,
                                          Para(note.text, self.cites(note.citations)),
                                          instead_recs=consensus_recs or self.recs(step)))

        for nid in self.order:
            node = self.nodes[nid]
            if isinstance(node, m.Decision):
                where = self.place.get(nid, node.question)
                anchor = self.anchor.get(nid)
                for note in node.notes:
                    if self._cites_consensus(note):
                        rows.append(SilentRow(where, anchor, None,
                                              Para(note.text, self.cites(note.citations))))
                arms: list[tuple[str, tuple[m.Note, ...], tuple[str, ...]]] = [
                    (b.label or b.condition.words, b.notes, b.targets) for b in node.branches]
                if node.otherwise is not None:
                    arms.append((node.otherwise.label or "None of the above",
                                 node.otherwise.notes, node.otherwise.targets))
                for label, notes, targets in arms:
                    for note in notes:
                        if self._cites_consensus(note):
                            rows.append(SilentRow(where, anchor, f"Branch: {label}",
                                                  Para(note.text, self.cites(note.citations)),
                                                  instead_targets=self.targets(targets)))
            elif isinstance(node, m.Step):
                step_rows(node)
        for ref in self.model.references.values():
            for note in ref.notes:
                if self._cites_consensus(note):
                    rows.append(SilentRow(f"Reference {ref.label}", f"ref-{ref.label}", None,
                                          Para(note.text, self.cites(note.citations))))
        return rows

    # -- pitfalls

    def rules(self) -> list[RuleView]:
        # A rule prints in its own words (the source's), then what guidec proves of it: the
        # printed wording never overstates the source, and the proof is never hidden.
        found: list[tuple[int, int, RuleView]] = []
        for i, rv in enumerate(views.rules(self.model)):
            found.append((rv.line, i, RuleView(rv.kind, "Proven", rv.text,
                                               f"guidec proves: {rv.proof}.",
                                               self.cites(rv.citations))))
        for i, ca in enumerate(self.model.cautions):
            rule = f"Shown with the result when {_midsentence(ca.condition.words)}"
            found.append((ca.span.line, i, RuleView("caution", "Caution", ca.text, rule,
                                                    self.cites(ca.citations))))
        found.sort(key=lambda t: (t[0], t[1]))
        return [r for _, _, r in found]

    # -- the rest

    def sections(self) -> list[SectionView]:
        return [SectionView(f"sec-{s.id}", s.title, self.paras(s.paragraphs))
                for s in self.model.sections if s.id != "summary"]

    def definitions(self) -> list[tuple[str, str, str]]:
        """(anchor, label, words) of each labelled `let` the printed conditions use."""
        return [(f"def-{let.name}", let.label or let.name, let.words)
                for let in views.definitions(self.model)]

    def references(self) -> list[RefView]:
        out: list[RefView] = []
        for r in sorted(self.model.references.values(), key=lambda r: r.number):
            url = _safe_url(r.url)
            out.append(RefView(r.label, f"ref-{r.label}", r.kind,
                               REFERENCE_KIND_WORDS.get(r.kind, r.kind.capitalize()), r.title,
                               r.source, r.year, url, r.url if url is None else None,
                               self.paras(r.notes), _reference_tail(r.title)))
        return out

    def flow_description(self) -> str:
        decisions = len(self.model.decisions())
        steps = len(self.model.steps())
        starts = ", ".join(self._title(self.nodes[s]) for s in self.model.pathway.start
                           if s in self.nodes)
        return (f"Flowchart of the pathway: {decisions} decision"
                f"{'s' if decisions != 1 else ''} and {steps} step{'s' if steps != 1 else ''},"
                f" starting at {starts}. The same pathway is written out in words in the "
                f"section 'The algorithm in words'.")


# ----------------------------------------------------------------------------- rendering


#: Code points HTML forbids in a document (controls, surrogates, noncharacters).
_NOT_IN_HTML = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}"
              for plane in range(17))
    + "]")


def clean_text(value: object) -> object:
    """Every value the templates print: code points HTML forbids become U+FFFD."""
    if isinstance(value, Markup):
        return Markup(_NOT_IN_HTML.sub("\ufffd", str(value)))
    if isinstance(value, str):
        return _NOT_IN_HTML.sub("\ufffd", value)
    return value


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("targets", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=clean_text,
    )
    return env


_ENV = _environment()


def render_html(model: m.Model, svg: str | None, paper: str = "a4") -> str:
    """The handout of ``model`` as one self-contained HTML5 document.

    ``svg`` is the flowchart (Graphviz SVG text) to inline, or None for a placeholder with the
    install hint; ``paper`` (``a4``, ``letter``, ``a3`` or ``tabloid``) is the print
    stylesheet's. Raises
    :class:`UnsafeSvg` when the SVG holds a script, an event handler or an external reference.
    """
    if paper not in PAPER_SIZES:
        raise ValueError(f"unknown paper size {paper!r}: use one of {', '.join(PAPER_SIZES)}")
    b = _Builder(model)
    meta = model.meta
    summary = next((s for s in model.sections if s.id == "summary"), None)
    from_scope = False
    if summary is not None:
        summary_title = summary.title
        summary_paras = b.paras(summary.paragraphs)
        show_scope = meta.scope is not None
    elif meta.scope:
        summary_title = "In brief"
        first = _first_sentence(meta.scope)
        summary_paras = (Para(first, ()),)
        show_scope = first != meta.scope.strip()
        from_scope = True
    else:
        summary_title, summary_paras, show_scope = "", (), False

    workup = b.workup()
    silent = b.silent()
    rules = b.rules()
    sections = b.sections()
    contents: list[tuple[str, str]] = []
    if summary_paras:
        contents.append(("s-summary", summary_title))
    if workup:
        contents.append(("s-workup", "Diagnostic work-up"))
    contents.append(("s-algorithm", "The algorithm in words"))
    contents.append(("s-flowchart", "Flowchart"))
    if silent:
        contents.append(("s-silent", "Where the source is silent"))
    if rules:
        contents.append(("s-pitfalls", "Pitfalls"))
    definitions = b.definitions()
    if definitions:
        contents.append(("s-definitions", "Definitions"))
    patient_data = views.patient_data(model)
    if patient_data:
        contents.append(("s-data", "Patient data"))
    contents.extend((s.anchor, s.title) for s in sections)
    contents.append(("s-references", "References"))
    if model.changelog:
        contents.append(("s-history", "Version history"))
    contents.append(("s-source", "Source"))

    template = _ENV.get_template("handout.html.j2")
    return template.render(
        meta=meta,
        status_word=STATUS_WORDS.get(meta.status, meta.status),
        draft=meta.status == "draft",
        show_scope=show_scope,
        summary_title=summary_title,
        summary_paras=summary_paras,
        from_scope=from_scope,
        contents=contents,
        workup=workup,
        blocks=b.blocks(),
        start=b.targets(tuple(s for s in model.pathway.start if s in model.pathway.nodes)),
        flowchart=prepare_svg(svg) if svg is not None else None,
        flow_title=f"Flowchart: {meta.title}",
        flow_desc=b.flow_description(),
        install_hint=INSTALL_HINT,
        silent=silent,
        rules=rules,
        definitions=definitions,
        patient_data=patient_data,
        sections=sections,
        references=b.references(),
        changelog=model.changelog,
        source_name=os.path.basename(model.filename),
        source_sha256=model.source_sha256,
        source_html=Markup(highlight_html(model.source)) if model.source else None,
        source_lines=f"{len(model.source.splitlines()):,}",
        palette=PALETTE,
        page_size=PAPER_SIZES[paper],
        graded=any(a.certainty is not None or a.direction == "against" or
                   a.grading == "good_practice" for a in model.actions.values()),
    )


def _write_atomic(path: Path, data: bytes) -> None:
    write_bytes(path, data)


def emit(model: m.Model, outdir: Path, request: BuildRequest) -> list[Emitted]:
    """Write ``outdir/<id>.html``, the handout, atomically; warn when it has no flowchart.

    An SVG that cannot be inlined safely is left out (with a warning) rather than failing the
    build: the algorithm is always there in words.
    """
    emitted: list[Emitted] = []
    svg = request.svg
    try:
        text = render_html(model, svg, request.paper)
    except UnsafeSvg as exc:
        emitted.append(Emitted(None, warning=f"the handout's flowchart was left out: {exc}"))
        svg = None
        text = render_html(model, None, request.paper)
    path = Path(outdir) / f"{model.meta.id}.html"
    _write_atomic(path, text.encode("utf-8"))
    emitted.insert(0, Emitted(path))
    if request.svg is None:
        emitted.append(Emitted(None, warning=(
            "the handout has no flowchart: Graphviz `dot` is not available "
            f"(install it with `{INSTALL_HINT}`); the algorithm is still given in words")))
    return emitted
