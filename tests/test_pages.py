"""The pocket edition (issue 14): a chart too large for one A4 or Letter page at 8 pt is
printed on several pages of that paper, each at 8 pt or more, split at sub-pathway
boundaries with paired connectors; and `page` pins a split.

Pages are read from the PDF itself with pypdf; the text size from pdftotext's word boxes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from compiler import analysis
from compiler.model import End, Model
from compiler.pipeline import check_file
from targets import BuildRequest, dot, pages
from tests.doubled import doubled_flagship
from tests.test_dot import FIXTURES, FLAGSHIP, WORD_BOX_EM, smallest_glyph_height_pt, svg_text

PAPERS = {"a4": (595.28, 841.89), "letter": (612.0, 792.0)}
#: The page counts measured for each (guideline, paper, orientation): the bound a change
#: must not exceed (see the README's "The printed flowchart" for how they were measured).
MOST_PAGES = {
    ("flagship", "a4", "portrait"): 4, ("flagship", "a4", "landscape"): 8,
    ("flagship", "letter", "portrait"): 5, ("flagship", "letter", "landscape"): 7,
    ("doubled", "a4", "portrait"): 7, ("doubled", "a4", "landscape"): 16,
    ("doubled", "letter", "portrait"): 8, ("doubled", "letter", "landscape"): 14,
}


def _model(name: str, tmp: Path) -> Model:
    if name == "flagship":
        path = FLAGSHIP
    else:
        path = tmp / "doubled.guide"
        path.write_text(doubled_flagship(), encoding="utf-8")
    result = check_file(path, analyze=False)
    assert result.model is not None
    return result.model


def _build(model: Model, out: Path, paper: str, orientation: str) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    req = BuildRequest(frozenset({"pdf", "svg"}), explicit=True, paper=paper,
                       orientation=orientation)
    emitted = dot.emit(model, out, req)
    return [e.warning for e in emitted if e.warning]


def _page_sources(out: Path, ident: str) -> list[str]:
    found = sorted(out.glob(f"{ident}.page*.dot"),
                   key=lambda p: int(re.search(r"page(\d+)", p.name)[1]))  # type: ignore[index]
    return [p.read_text(encoding="utf-8") for p in found]


_NODE = re.compile(r'^\t+"?(n_\w+)"? \[', re.M)
_TO = re.compile(r'^\t+"x-to-(\w+)-(\w+|\(start\))" \[label=<[^\n]*?page (\d+)</B>', re.M)
_FROM = re.compile(r'^\t+"x-from-(\w+)" \[label=<[^\n]*?from pages? ([\d, ]+)</B>', re.M)


def _check_pages(model: Model, sources: list[str]) -> None:
    """Every pathway node on exactly one page; every connector paired with an entry."""
    drawn: dict[str, list[int]] = {}
    for number, source in enumerate(sources, 1):
        assert f"Page {number} of {len(sources)}" in source
        for node in _NODE.findall(source):
            drawn.setdefault(node, []).append(number)
    wanted = {f"n_{n.id}" for n in model.pathway.nodes.values() if not isinstance(n, End)}
    assert set(drawn) == wanted
    assert all(len(on) == 1 for on in drawn.values()), drawn
    # (what a page is entered for, a page it is entered from), as the entries print them.
    entries = {(root, int(p)) for source in sources
               for root, listed in _FROM.findall(source) for p in listed.split(",")}
    entered_on = {root: number for number, source in enumerate(sources, 1)
                  for root, _ in _FROM.findall(source)}
    leaving = set()
    for number, source in enumerate(sources, 1):
        for target, _, to_page in _TO.findall(source):
            to_page_n = int(to_page)
            assert to_page_n != number
            assert drawn[f"n_{target}"] == [to_page_n], (target, to_page_n)
            assert entered_on[target] == to_page_n
            assert (target, number) in entries, (target, number)
            leaving.add((target, number))
    # Every entry names a page that leaves for it.
    assert entries == leaving


def _glyphs_per_page(pdf: Path, tmp: Path) -> Iterator[float]:
    from pypdf import PdfWriter

    for i, page in enumerate(PdfReader(pdf).pages):
        one = tmp / f"one{i}.pdf"
        writer = PdfWriter()
        writer.add_page(page)
        with one.open("wb") as f:
            writer.write(f)
        yield smallest_glyph_height_pt(one) / WORD_BOX_EM


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
@pytest.mark.parametrize("paper", ["a4", "letter"])
@pytest.mark.parametrize("name", ["flagship", "doubled"])
def test_every_page_prints_at_8pt(tmp_path: Path, name: str, paper: str,
                                  orientation: str) -> None:
    model = _model(name, tmp_path)
    out = tmp_path / "out"
    assert _build(model, out, paper, orientation) == []
    reader = PdfReader(out / f"{model.meta.id}.pdf")
    count = len(reader.pages)
    assert 1 < count <= MOST_PAGES[name, paper, orientation]
    width, height = PAPERS[paper]
    if orientation == "landscape":
        width, height = height, width
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - width) <= 1.5
        assert abs(float(page.mediabox.height) - height) <= 1.5
    for pt in _glyphs_per_page(out / f"{model.meta.id}.pdf", tmp_path):
        assert pt >= dot.MIN_PRINTED_PT - 0.06, pt
    sources = _page_sources(out, model.meta.id)
    assert len(sources) == count
    _check_pages(model, sources)
    # One SVG per page beside the one-sheet SVG.
    for number in range(1, count + 1):
        ET.parse(out / f"{model.meta.id}.page{number}.svg")
    assert (out / f"{model.meta.id}.svg").exists()
    assert not (out / f"{model.meta.id}.page{count + 1}.svg").exists()


def test_page_one_has_the_index_and_each_page_its_own_references(tmp_path: Path) -> None:
    model = _model("flagship", tmp_path)
    out = tmp_path / "out"
    _build(model, out, "a4", "portrait")
    sources = [s.replace("<BR/>", " ") for s in _page_sources(out, model.meta.id)]
    first = sources[0]
    assert "On these pages" in first
    for number in range(2, len(sources) + 1):
        assert f"<B>Page {number}</B>: " in first
    for number, source in enumerate(sources, 1):
        assert "Version 2.0.0 · status: approved" in source
        # The legend: the tag and name of every kind the guideline uses (no other), the key.
        used = {a.kind for a in model.actions.values()}
        for name, kind in dot.KINDS.items():
            shown = f">{kind.tag}</FONT>" in source and f">{name}</FONT>" in source
            assert shown == (name in used), name
        assert "strong recommendation" in source
        assert ("Its disclaimer:" in source) == (number == len(sources))
        assert "Scope:" not in source or number == 1
    # The pitfalls page lists its own references, not every reference of the guideline.
    with_panel = [s for s in sources if "Pitfalls (proven for every patient)" in s]
    assert with_panel
    assert all("References:</B>" in s for s in sources if "→ page" in s or "from page" in s)


def test_a_page_clause_starts_a_page(tmp_path: Path) -> None:
    text = FLAGSHIP.read_text(encoding="utf-8").replace(
        '  step monitoring "Monitoring during treatment"\n',
        '  step monitoring "Monitoring during treatment"\n    page "Monitoring"\n')
    path = tmp_path / "pinned.guide"
    path.write_text(text, encoding="utf-8")
    model = check_file(path, analyze=False).model
    assert model is not None
    assert pages.pinned(model) == ["monitoring"]
    book = dot.edition(model, BuildRequest(frozenset({"pdf"}), paper="a4",
                                           orientation="portrait"))
    sheet = next(s for s in book.sheets if "monitoring" in s.nodes)
    assert sheet.roots[0] == "monitoring"
    assert sheet.number > 1
    assert all("Monitoring" in dict(book.sheets[0].index)[n] for n in [sheet.number])
    # Its connectors use the page's title.
    assert any("Monitoring" in p.source and "x-to-monitoring" in p.source
               for p in book.posters)


def test_dominators_split_at_sub_pathways() -> None:
    model = analysis.model_of(FLAGSHIP.read_text(encoding="utf-8"), str(FLAGSHIP))
    tree = pages.Tree(model)
    assert tree.idom["systemic"] == "good_care"
    assert tree.idom["focal_therapy"] == "groups"  # reached from two steps
    regions = tree.regions(["systemic"])
    assert regions["systemic"] == ["systemic", "systemic_review", "egfr_therapy",
                                   "alk_therapy", "platinum"]
    assert "systemic" not in regions[pages.ROOT]


def test_hostile_text_across_pages(tmp_path: Path) -> None:
    model = check_file(FIXTURES / "dot" / "adversarial_pages.guide", analyze=False).model
    assert model is not None
    book = dot.edition(model, BuildRequest(frozenset({"svg"}), paper="a4",
                                           orientation="portrait"))
    assert len(book.posters) >= 3
    texts = []
    for poster in book.posters:
        assert "<script>" not in poster.source and "<img" not in poster.source
        svg = dot.render(poster.source, "svg")
        root = ET.fromstring(svg)
        for el in root.iter():
            assert el.tag.rsplit("}", 1)[-1] not in ("script", "img", "foreignObject")
        texts.append(svg_text(svg))
    joined = "".join(texts)
    # The page titles, on the connectors, the entries' pages and the index, stay text.
    assert 'Pagetwo"><imgsrc=xonerror=alert(1)>{{7*7}}' in joined
    assert "Page<script>alert(1)</script>\\N" in joined
    assert "frompage1" in joined


def test_diff_reports_a_moved_page_as_a_layout_change() -> None:
    from compiler.diff import load_version, structural_diff

    text = FLAGSHIP.read_text(encoding="utf-8")
    old = load_version("old.guide", text)
    new = load_version("new.guide", text.replace(
        '  step monitoring "Monitoring during treatment"\n',
        '  step monitoring "Monitoring during treatment"\n    page "Monitoring"\n'))
    assert old.model is not None and new.model is not None
    changes = structural_diff(old.model, new.model).changes
    assert [(c.kind, c.subject, c.detail, c.breaking) for c in changes] == [
        ("changed", "monitoring", 'printed: no page of its own -> starts page "Monitoring"',
         False)]


def test_first_decisions_are_tables_with_rows_in_order_in_every_layout() -> None:
    """Graphviz does not keep separate boxes in order inside the poster's cluster, so a
    `first` decision is a table even among hexagons: its rows read in the order checked."""
    model = check_file(FLAGSHIP, analyze=False).model
    assert model is not None
    firsts = [n for n in model.pathway.nodes.values()
              if getattr(n, "policy", None) == "first"]
    assert len(firsts) >= 3
    for layout in (dot.Layout("LR", 24, "end", 1), dot.Layout("TB", 36, "first", 2)):
        source = dot.build_source(model, layout)
        assert "hexagon: decision" in source.replace("<BR/>", " ")
        assert "decision checked in order" in source.replace("<BR/>", " ")
        for decision in firsts:
            assert f'"x-when-{decision.id}-' not in source
            label = re.search(rf"^\t+n_{decision.id} \[label=<(.*)$", source, re.M)
            assert label is not None
            numbers = [int(n) for n in re.findall(r'PORT="b\d+"><FONT[^>]*>(\d+)\. ', label[1])]
            assert numbers == sorted(numbers) and numbers[0] == 1, numbers
