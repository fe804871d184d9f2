"""The HTML handout (targets/html.py): strict HTML5, self-contained, escaped, accessible,
deterministic, and printable (checked in a real chromium when one can be launched)."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import itertools
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import html5lib
import pytest
from click.testing import CliRunner

from compiler.model import Model
from compiler.pipeline import check_file
from targets import BuildRequest
from targets.html import (
    CONTRAST_PAIRS,
    INSTALL_HINT,
    PALETTE,
    UnsafeSvg,
    clean_text,
    emit,
    prepare_svg,
    render_html,
)
from tests.guides import buildable

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"
FIXTURES = ROOT / "tests" / "fixtures" / "html"
ADVERSARIAL = FIXTURES / "adversarial.guide"
FLOW_SVG = FIXTURES / "flow.svg"
CSS = ROOT / "targets" / "templates" / "handout.css.j2"
GUIDES = list(buildable())
SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
#: Elements that load something or run something: none may appear in a handout.
FORBIDDEN = {"script", "link", "iframe", "frame", "object", "embed", "img", "image", "audio",
             "video", "source", "track", "base", "form", "input", "picture", "foreignObject",
             "noscript", "template", "applet"}
LOADING_ATTRS = {"src", "srcset", "poster", "data", "action", "formaction", "background",
                 "ping", "manifest", "longdesc", "codebase", "archive", "cite"}
HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{ 7*7 }}",
           "{% raw %}")


# ----------------------------------------------------------------------------- helpers


@functools.cache
def load(path: Path) -> Model | None:
    """The checked model (the solver's analysis is not needed for a handout), or None."""
    return check_file(path, analyze=False).model


def real_svg(model: Model) -> str | None:
    """The real flowchart from targets.dot, or None without targets.dot or Graphviz."""
    if importlib.util.find_spec("targets.dot") is None:
        return None
    dot = importlib.import_module("targets.dot")
    svg: str | None = dot.render_svg_text(model, BuildRequest(frozenset({"html", "svg"})))
    return svg


def flowchart_svg(model: Model) -> str:
    """The real flowchart; the test is skipped without targets.dot or Graphviz."""
    svg = real_svg(model)
    if svg is None:
        pytest.skip("no flowchart SVG: targets.dot or Graphviz `dot` is not available")
    return svg


def parse_strict(text: str) -> ET.Element:
    """Parse as HTML5, failing on any parse error."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    root: ET.Element = parser.parse(text)
    return root


def local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def elements(root: ET.Element) -> Iterator[ET.Element]:
    return (e for e in root.iter() if isinstance(e.tag, str))


def text_of(el: ET.Element) -> str:
    return "".join(el.itertext())


def assert_self_contained(root: ET.Element, model: Model) -> None:
    """No script, no loaded resource, every link in-page (or a reference's http(s) URL)."""
    ids = {e.get("id") for e in elements(root) if e.get("id")}
    ref_urls = {r.url for r in model.references.values() if r.url}
    all_ids = [e.get("id") or "" for e in elements(root) if e.get("id")]
    assert len(all_ids) == len(set(all_ids)), "duplicate ids"
    assert "\ufffd" not in "".join(all_ids)
    for el in elements(root):
        name = local(el.tag)
        assert name not in FORBIDDEN, f"<{name}> in the handout"
        for key, value in el.attrib.items():
            attr = local(key).lower()
            assert not attr.startswith("on"), f"event handler {attr} on <{name}>"
            assert attr not in LOADING_ATTRS, f"{attr}= on <{name}>"
            if attr == "style":
                assert "url(" not in value.replace("url(#", ""), value
            if attr == "href" or key == XLINK_HREF:
                if value.startswith("#"):
                    assert value[1:] in ids, f"link to a missing anchor {value}"
                else:
                    assert name == "a" and "ext" in (el.get("class") or "").split(), value
                    assert re.match(r"^https?://", value) and value in ref_urls, value
        if name == "style":
            css = el.text or ""
            assert "@import" not in css and "url(" not in css and "@font-face" not in css


def assert_headings_ordered(root: ET.Element) -> None:
    levels = [int(local(e.tag)[1]) for e in elements(root)
              if re.fullmatch(r"h[1-6]", local(e.tag))]
    assert levels and levels[0] == 1 and levels.count(1) == 1, levels
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, f"heading level skips from h{before} to h{after}"


def as_parsed(text: str) -> str:
    """Model text as an HTML parser gives it back: forbidden code points replaced, CR as LF."""
    cleaned = clean_text(text)
    assert isinstance(cleaned, str)
    return cleaned.replace("\r\n", "\n").replace("\r", "\n")


def guide_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture(params=GUIDES, ids=guide_id)
def model(request: pytest.FixtureRequest) -> Model:
    found = load(request.param)
    assert found is not None, f"{guide_id(request.param)} does not check clean"
    return found


# ----------------------------------------------------------------------------- every handout


def check_handout(model: Model, svg: str | None) -> ET.Element:
    text = render_html(model, svg)
    root = parse_strict(text)
    assert root.get("lang") == "en"
    assert_self_contained(root, model)
    assert_headings_ordered(root)
    assert "<script" not in text.lower()
    h1 = [e for e in elements(root) if local(e.tag) == "h1"]
    assert text_of(h1[0]) == as_parsed(model.meta.title)
    body = text_of(root)
    assert model.source_sha256 in body
    assert model.meta.version in body
    for ref in model.references.values():
        assert root.find(f".//li[@id='ref-{ref.label}']") is not None
    return root


def test_handout_without_svg(model: Model) -> None:
    root = check_handout(model, None)
    assert INSTALL_HINT in text_of(root)
    assert not any(local(e.tag) == "svg" for e in elements(root))


def test_handout_with_svg(model: Model) -> None:
    root = check_handout(model, flowchart_svg(model))
    (svg,) = [e for e in elements(root) if e.tag == f"{SVG_NS}svg" and e.get("role") == "img"]
    assert svg.find(f"{SVG_NS}title") is not None and svg.find(f"{SVG_NS}desc") is not None


def test_handout_with_graphviz_fixture_svg() -> None:
    flagship = load(FLAGSHIP)
    assert flagship is not None
    text = render_html(flagship, FLOW_SVG.read_text())
    root = check_handout(flagship, FLOW_SVG.read_text())
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text
    (svg,) = [e for e in elements(root) if e.tag == f"{SVG_NS}svg"]
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "flow-title"
    assert svg.get("aria-describedby") == "flow-desc"
    assert svg.get("width") is None and svg.get("viewBox")
    title = svg.find(f"{SVG_NS}title")
    assert title is not None and title.get("id") == "flow-title"
    assert text_of(title) == f"Flowchart: {flagship.meta.title}"
    assert INSTALL_HINT not in text_of(root)


def test_forbidden_code_points_are_replaced() -> None:
    assert clean_text("a\x00b\x85c\ud800d\ufffee\U0010ffff\u2028f\tg\nh") == (
        "a\ufffdb\ufffdc\ufffdd\ufffde\ufffd\u2028f\tg\nh")
    assert clean_text(7) == 7


# ----------------------------------------------------------------------------- the content


def test_flagship_sections_follow_the_model() -> None:
    model = load(FLAGSHIP)
    assert model is not None
    text = render_html(model, None)
    root = parse_strict(text)
    body = text_of(root)
    h2 = [text_of(e) for e in elements(root) if local(e.tag) == "h2"]
    for heading in ("Diagnostic work-up", "The algorithm in words", "Flowchart",
                    "Where the source is silent", "Pitfalls", "References", "Version history"):
        assert heading in h2
    for section in model.sections:
        if section.id != "summary":
            assert section.title in h2
    assert model.meta.disclaimer and model.meta.disclaimer in body
    # Every decision and each of its branches is written out.
    for decision in model.decisions():
        assert decision.question in body
        for branch in decision.branches:
            assert (branch.label or branch.condition.words) in body
    # Every recommended action shows with its strength in words.
    for action in model.actions.values():
        if action.id != "whole_brain_radiotherapy":
            assert action.text in body
    recs = [e for e in elements(root) if "rec-line" in (e.get("class") or "")]
    assert recs
    for rec in recs:
        assert text_of(rec).startswith(("Recommended", "Consider"))
    # Citations are numbered links to the reference list.
    assert '<a href="#ref-1" class="cite">[1]</a>' in text
    # Every note citing a consensus reference is in the "source is silent" table.
    consensus = {r.id for r in model.references.values() if r.kind == "consensus"}
    silent = root.find(".//section[@id='s-silent']")
    assert silent is not None
    silent_text = text_of(silent)
    notes = [n for node in model.pathway.nodes.values() for n in getattr(node, "notes", ())]
    for decision in model.decisions():
        notes += [n for b in decision.branches for n in b.notes]
        if decision.otherwise is not None:
            notes += list(decision.otherwise.notes)
    for note in notes:
        if set(note.citations) & consensus:
            assert note.text in silent_text
    pitfalls = root.find(".//section[@id='s-pitfalls']")
    assert pitfalls is not None
    reasons = [r.reason for r in model.nevers] + [r.reason for r in model.requires]
    reasons += [r.reason for r in model.conflicts] + [r.text for r in model.cautions]
    for reason in reasons:
        assert reason in text_of(pitfalls)


def test_summary_section_or_first_sentence_of_scope() -> None:
    model = load(ADVERSARIAL)
    assert model is not None
    root = parse_strict(render_html(model, None))
    summary = root.find(".//section[@id='s-summary']")
    assert summary is not None and "Key {{ 7*7 }}" in text_of(summary)
    flagship = load(FLAGSHIP)
    assert flagship is not None and flagship.meta.scope
    root = parse_strict(render_html(flagship, None))
    summary = root.find(".//section[@id='s-summary']")
    assert summary is not None
    if not any(s.id == "summary" for s in flagship.sections):
        first = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", flagship.meta.scope)[0]
        assert first in text_of(summary)


def test_print_stylesheet_paper_sizes() -> None:
    model = load(FLAGSHIP)
    assert model is not None
    a4 = render_html(model, None)
    letter = render_html(model, None, paper="letter")
    assert re.search(r"@page\s*\{\s*size: A4;", a4) and "@page flow { size: A4 landscape;" in a4
    assert re.search(r"@page\s*\{\s*size: letter;", letter)
    assert "@page flow { size: letter landscape;" in letter
    assert "counter(page)" in a4
    assert "break-inside: avoid" in a4 and "page: flow" in a4
    assert re.search(r"@page\s*\{\s*size: A3;", render_html(model, None, paper="a3"))
    assert "@page flow { size: ledger landscape;" in render_html(model, None, paper="tabloid")
    with pytest.raises(ValueError, match="paper"):
        render_html(model, None, paper="a5")


# ----------------------------------------------------------------------------- hostile text


def test_adversarial_text_renders_as_text() -> None:
    model = load(ADVERSARIAL)
    assert model is not None
    text = render_html(model, None)
    root = parse_strict(text)
    assert_self_contained(root, model)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "{{ 7*7 }}" in text and "{% raw %}" in text
    assert "49" not in text.replace(model.source_sha256, "")
    assert "javascript:" not in " ".join(str(v) for e in elements(root) for v in e.attrib.values())
    h1 = next(e for e in elements(root) if local(e.tag) == "h1")
    assert text_of(h1) == model.meta.title
    body = text_of(root)
    for hostile in HOSTILE:
        assert body.count(hostile) >= 5, hostile
    for place in (model.meta.owner, model.actions["test_it"].text, model.references["r1"].title,
                  model.references["r1"].source or "", model.nevers[0].reason):
        assert place in body
    assert not any(local(e.tag) in ("img", "script") for e in elements(root))


def test_adversarial_with_svg() -> None:
    model = load(ADVERSARIAL)
    assert model is not None
    root = parse_strict(render_html(model, flowchart_svg(model)))
    assert_self_contained(root, model)


@pytest.mark.parametrize("bad", [
    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><g/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    '<a xlink:href="https://evil.example/"><text>x</text></a></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)">x</a></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><image href="x.png"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url(http://x/y)"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><style>@import "http://x/y.css";</style></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><text><![CDATA[x><script>alert(1)</script>]]>'
    '</text></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><g></svg>',
    "not an svg at all",
])
def test_unsafe_svg_is_refused(bad: str) -> None:
    with pytest.raises(UnsafeSvg):
        prepare_svg(bad)


def test_emit_leaves_out_an_unsafe_svg(tmp_path: Path) -> None:
    model = load(FLAGSHIP)
    assert model is not None
    bad = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    out = emit(model, tmp_path, BuildRequest(frozenset({"html"}), svg=bad))
    assert [e.path for e in out if e.path] == [tmp_path / "leptomeningeal.html"]
    assert any(e.warning and "left out" in e.warning for e in out)
    assert "<script" not in (tmp_path / "leptomeningeal.html").read_text()


# ----------------------------------------------------------------------------- emit, CLI


def test_emit_writes_atomically(tmp_path: Path) -> None:
    model = load(FLAGSHIP)
    assert model is not None
    out = emit(model, tmp_path, BuildRequest(frozenset({"html"}), paper="letter"))
    path = tmp_path / "leptomeningeal.html"
    assert out[0].path == path and out[0].warning is None
    assert any(e.warning and INSTALL_HINT in e.warning for e in out)
    assert sorted(os.listdir(tmp_path)) == ["leptomeningeal.html"]
    assert path.read_text(encoding="utf-8") == render_html(model, None, "letter")


def test_cli_build_html(tmp_path: Path) -> None:
    from cli.main import cli

    result = CliRunner().invoke(cli, ["build", str(FLAGSHIP), "-o", str(tmp_path), "-t",
                                      "html"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "leptomeningeal.html").read_text(encoding="utf-8")
    model = load(FLAGSHIP)
    assert model is not None
    assert_self_contained(parse_strict(text), model)


def test_deterministic(tmp_path: Path) -> None:
    first = check_file(FLAGSHIP, analyze=False).model
    second = check_file(FLAGSHIP, analyze=False).model
    assert first is not None and second is not None
    svg = FLOW_SVG.read_text()
    assert render_html(first, svg) == render_html(second, svg)
    emit(first, tmp_path, BuildRequest(frozenset({"html"})))
    (tmp_path / "b").mkdir()
    emit(second, tmp_path / "b", BuildRequest(frozenset({"html"})))
    assert ((tmp_path / "leptomeningeal.html").read_bytes()
            == (tmp_path / "b" / "leptomeningeal.html").read_bytes())


# ----------------------------------------------------------------------------- contrast


def luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of #rrggbb."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_function() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_colour_pairs_meet_wcag_aa() -> None:
    for fg, bg in CONTRAST_PAIRS:
        ratio = contrast(PALETTE[fg], PALETTE[bg])
        assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}"


def test_stylesheet_colours_come_from_the_palette() -> None:
    css = CSS.read_text()
    assert not re.findall(r"#[0-9a-fA-F]{3,8}\b", css), "a colour outside PALETTE"
    used = set(re.findall(r"var\(--([a-z-]+)\)", css)) - {"font", "mono"}
    assert used <= set(PALETTE)
    # A rule that sets both a text colour and a background must be a checked pair.
    pairs = set(CONTRAST_PAIRS)
    for body in re.findall(r"\{([^{}]*)\}", css):
        fg = re.search(r"(?<![-\w])color:\s*var\(--([a-z-]+)\)", body)
        bg = re.search(r"background:\s*var\(--([a-z-]+)\)", body)
        if fg and bg:
            assert (fg.group(1), bg.group(1)) in pairs, body


# ----------------------------------------------------------------------------- in a browser


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright is not installed ({exc})")
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium not found (apt-get install chromium)")
    args = ["--disable-gpu", "--no-first-run", "--disable-background-networking"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(0, "--no-sandbox")
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=executable, headless=True, args=args)
        except Exception as exc:
            pytest.skip(f"chromium at {executable} could not be launched: {exc}")
        yield b
        b.close()


class Watched:
    """A page with every console message, dialog, page error and request recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.page = browser.new_page(viewport={"width": 1000, "height": 900})
        self.console: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)
        self.page.goto(self.url, wait_until="load")


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """The (width, height) in points of each page of a PDF chromium wrote."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert len(boxes) == len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    return [(float(w), float(h)) for w, h in boxes]


@pytest.mark.browser
def test_browser_flagship(browser: Any, tmp_path: Path) -> None:
    model = load(FLAGSHIP)
    assert model is not None
    svg = real_svg(model) or FLOW_SVG.read_text()
    path = tmp_path / "leptomeningeal.html"
    path.write_text(render_html(model, svg), encoding="utf-8")
    w = Watched(browser, path)
    w.page.screenshot(path=str(tmp_path / "handout.png"), full_page=True)
    assert (tmp_path / "handout.png").stat().st_size > 10_000
    assert w.page.evaluate("document.querySelectorAll('script').length") == 0
    assert w.page.evaluate("document.querySelector('svg.flow') !== null")
    pdf = w.page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    pages = pdf_pages(pdf)
    assert 3 <= len(pages) <= 40, len(pages)
    portrait = [p for p in pages if p[0] < p[1]]
    landscape = [p for p in pages if p[0] > p[1]]
    assert portrait and all(abs(p[0] - 595) < 2 and abs(p[1] - 842) < 2 for p in portrait)
    assert len(landscape) >= 1, "the flowchart has its own landscape page"
    # The source appendix: closed, opens to the source as written, never printed.
    shown = "document.querySelector('details.source-text')"
    assert w.page.evaluate(f"{shown}.open") is False
    w.page.evaluate(f"{shown}.open = true")
    assert w.page.inner_text("details.source-text pre.guide").strip() == model.source.strip()
    w.page.emulate_media(media="print")
    assert w.page.evaluate(
        "getComputedStyle(document.querySelector('.source-appendix')).display") == "none"
    w.page.emulate_media(media="screen")
    letter = tmp_path / "letter.html"
    letter.write_text(render_html(model, None, paper="letter"), encoding="utf-8")
    w2 = Watched(browser, letter)
    sizes = pdf_pages(w2.page.pdf(prefer_css_page_size=True))
    assert all(abs(wd - 612) < 2 and abs(ht - 792) < 2 for wd, ht in sizes), sizes
    for watched in (w, w2):
        assert not [c for c in watched.console if c.startswith("error")], watched.console
        assert watched.errors == [] and watched.dialogs == []
        assert watched.requests == [watched.url], watched.requests
        watched.page.close()


@pytest.mark.browser
def test_browser_adversarial(browser: Any, tmp_path: Path) -> None:
    model = load(ADVERSARIAL)
    assert model is not None
    path = tmp_path / "adversarial.html"
    path.write_text(render_html(model, FLOW_SVG.read_text()), encoding="utf-8")
    w = Watched(browser, path)
    w.page.wait_for_timeout(100)
    assert w.console == [] and w.dialogs == [] and w.errors == []
    assert w.requests == [w.url]
    assert w.page.evaluate("document.querySelectorAll('script, img').length") == 0
    assert w.page.inner_text("h1") == model.meta.title
    assert 1 <= len(pdf_pages(w.page.pdf(format="A4"))) <= 20
    w.page.close()


def test_pathway_shapes_are_written_out() -> None:
    model = load(FIXTURES / "shapes.guide")
    assert model is not None
    text = render_html(model, None)
    root = parse_strict(text)
    algorithm = root.find(".//section[@id='s-algorithm']")
    assert algorithm is not None
    words = " ".join(text_of(algorithm).split())
    assert "Start, as independent parts:" in words
    assert "Then, as independent parts:" in words
    assert "No path from the start reaches this step." in words
    assert "End of this part of the pathway" in words and "End: End" not in words
    status = root.find(".//span[@class='status status-under_review']")
    assert status is not None and text_of(status) == "Under review"
    summary = root.find(".//section[@id='s-summary']")
    assert summary is not None and "Otherwise refer." in text_of(summary)
    assert "Second sentence of the scope." in text_of(root)
    link = root.find(".//a[@class='ext']")
    assert link is not None and link.get("href") == "https://example.org/g1"
    assert 'a.ext::after { content: " <" attr(href) ">"' in text
    silent = root.find(".//section[@id='s-silent']")
    assert silent is not None
    for note in ("Decision note.", "The source says nothing above 5.", "Runs on its own.",
                 "Refer when the source is silent.", "Adopted unanimously."):
        assert note in text_of(silent)
    pitfalls = root.find(".//section[@id='s-pitfalls']")
    assert pitfalls is not None and "Give slowly." in text_of(pitfalls)


def test_minimal_guideline() -> None:
    model = load(FIXTURES / "minimal.guide")
    assert model is not None
    root = parse_strict(render_html(model, None))
    body = " ".join(text_of(root).split())
    assert "DRAFT" in body and "declares no references" in body
    assert "Start: → End of this part of the pathway" in body
    assert root.find(".//section[@id='s-pitfalls']") is None


def test_svg_fragment_urls_are_kept() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="10pt" height="5pt" viewBox="0 0 10 5">'
           '<defs><linearGradient id="g"/></defs>'
           '<rect style="fill:url(#g);stroke:red" fill="url(#g)"/></svg>')
    prepared = prepare_svg(svg)
    assert 'width="10pt"' not in prepared.open_tag and 'viewBox="0 0 10 5"' in prepared.open_tag
    assert 'url(#g)' in prepared.body


@pytest.mark.browser
def test_browser_superscripts_do_not_overlap_the_word_before(browser: Any,
                                                             tmp_path: Path) -> None:
    """Chromium's font metrics differ a little from cairo's: the run before a raised reference
    number is given the width Graphviz measured, so the number never overlaps it."""
    model = load(FLAGSHIP)
    assert model is not None
    svg = real_svg(model)
    assert svg is not None
    path = tmp_path / "handout.html"
    path.write_text(render_html(model, svg), encoding="utf-8")
    w = Watched(browser, path)
    total, overlapping = w.page.evaluate("""() => {
      const texts = [...document.querySelectorAll('svg.flow text')];
      let total = 0, bad = 0;
      for (let i = 1; i < texts.length; i++) {
        const t = texts[i], prev = texts[i - 1];
        if (t.getAttribute('baseline-shift') !== 'super') continue;
        if (prev.getAttribute('y') !== t.getAttribute('y')) continue;
        total++;
        const end = prev.getStartPositionOfChar(0).x + prev.getComputedTextLength();
        if (end - t.getStartPositionOfChar(0).x > 0.5) bad++;
      }
      return [total, bad];
    }""")
    assert total > 20 and overlapping == 0, (total, overlapping)
    w.page.close()


def test_patient_data_table_lists_every_input() -> None:
    """One row per input, in declaration order: label and key, values, unit (with a declared
    conversion), typical range and what a missing item means (required, waits, a default)."""
    for path in (ROOT / "guidelines" / "alteplase.guide",
                 ROOT / "tests" / "fixtures" / "eval" / "sets.guide"):
        model = load(path)
        assert model is not None
        root = parse_strict(render_html(model, None))
        table = root.find(".//section[@id='s-data']/table")
        assert table is not None
        rows = [[text_of(c) for c in tr if local(c.tag) in ("th", "td")]
                for tr in elements(table) if local(tr.tag) == "tr"][1:]
        assert [r[0] for r in rows] == [f"{i.label}{i.name}" for i in model.inputs.values()]
        by_key = {r[0]: r[1:] for r in rows}
        if model.meta.id == "alteplase":
            assert by_key["Blood glucoseglucose"] == [
                "A number from 0.5 to 60", "mmol/L (or mg/dL: 18.016 mg/dL = 1 mmol/L)", "2–30",
                "Required"]
            assert by_key["INRinr"][3] == "Optional: unknown, the pathway waits for it"
            assert by_key["Ageage"][:3] == ["A whole number from 18 to 120", "years", "18–100"]
            assert by_key["Time of the treatment decisionassessed_at"][0].startswith(
                "A date and time")
        else:
            assert by_key["Contraindicationscontraindications"][3] == \
                "Optional: taken as none of them"


@pytest.mark.browser
def test_browser_patient_data_on_a_phone(browser: Any, tmp_path: Path) -> None:
    """On a narrow screen each row of the patient data is a card: no column is squeezed."""
    model = load(ROOT / "guidelines" / "alteplase.guide")
    assert model is not None
    path = tmp_path / "alteplase.html"
    path.write_text(render_html(model, None), encoding="utf-8")
    w = Watched(browser, path)
    w.page.set_viewport_size({"width": 375, "height": 800})
    width = w.page.evaluate("document.querySelector('#s-data table').scrollWidth")
    assert width <= 375
    shown = w.page.evaluate(
        "getComputedStyle(document.querySelector('#s-data thead')).display")
    assert shown == "none"
    label = w.page.evaluate(
        "getComputedStyle(document.querySelector('#s-data td'), '::before').content")
    assert label == '"Values"'
    w.page.close()
