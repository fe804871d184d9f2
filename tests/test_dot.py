"""The flowchart target (targets/dot.py): valid DOT for every guideline, a golden file, one
printed page, hostile text carried as text, byte-identical output, and life without Graphviz.

Regenerate the golden file with ``GUIDEC_REGEN_GOLDEN=1 pytest tests/test_dot.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from compiler.model import Decision, Model
from compiler.pipeline import check_file
from targets import BuildRequest, Emitted, dot
from tests.guides import buildable

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SMALL = FIXTURES / "dot" / "small.guide"
ADVERSARIAL = FIXTURES / "dot" / "adversarial.guide"
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"
GOLDEN = ROOT / "tests" / "golden" / "small.dot"
#: pdftotext's word boxes are this many times the font size for the print font (measured).
WORD_BOX_EM = 1.147
HAS_DOT = shutil.which("dot") is not None

needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")

_models: dict[Path, Model | None] = {}


def load(path: Path) -> Model | None:
    """The checked model, or None when the file has errors. The solver's findings do not
    change the model a flowchart is drawn from, so the analysis is skipped for speed."""
    if path not in _models:
        _models[path] = check_file(path, analyze=False).model
    return _models[path]


def model_of(path: Path) -> Model:
    model = load(path)
    assert model is not None, f"{path} does not check clean"
    return model


def request(*formats: str, paper: str = "a4", orientation: str = "landscape") -> BuildRequest:
    return BuildRequest(frozenset(formats), explicit=True, paper=paper, orientation=orientation)


def every_guideline() -> list[Path]:
    return list(buildable())


def svg_text(svg: bytes | str) -> str:
    """All the text an SVG shows, whitespace removed (wrapping only moves line breaks)."""
    root = ET.fromstring(svg)
    return re.sub(r"\s+", "", "".join(el.text or "" for el in root.iter()
                                      if el.tag.endswith("}text")))


# pdfinfo and pdftotext come from poppler-utils, which `make test` installs (as it installs
# Graphviz): without them these tests fail, never skip.
def pdf_pages(path: Path) -> tuple[int, float, float]:
    """The page count and the first page's size in points, read by pypdf from the PDF."""
    from pypdf import PdfReader

    pages = PdfReader(path).pages
    box = pages[0].mediabox
    return len(pages), float(box.width), float(box.height)


def smallest_glyph_height_pt(path: Path) -> float:
    """The height of the smallest word box in the PDF, in points (pdftotext -bbox)."""
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    heights = [float(b) - float(a) for a, b in
               re.findall(r'<word [^>]*yMin="([\d.]+)"[^>]*yMax="([\d.]+)"', out)]
    assert heights, "the PDF has no text"
    return min(heights)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def warnings(emitted: list[Emitted]) -> list[str]:
    return [e.warning for e in emitted if e.warning]


# ----------------------------------------------------------------------------- text


def test_escape_markup_and_backslashes() -> None:
    assert dot.esc('a "b" <c> & {d}') == "a &quot;b&quot; &lt;c&gt; &amp; {d}"
    assert dot.esc("C:\\new\\N") == "C:\\\\new\\\\N"


def test_clean_turns_separators_into_breaks_and_drops_controls() -> None:
    assert dot.wrap("one\u2028two\r\nthree\x00", 40) == ["one", "two", "three"]
    assert dot.esc("\ud800 x") == "\ufffd x"


def test_wrap_respects_width_and_breaks_long_words() -> None:
    lines = dot.wrap("a " * 30 + "x" * 50, 20)
    assert all(len(line) <= 20 for line in lines)


# ----------------------------------------------------------------------------- the DOT


@needs_dot
@pytest.mark.parametrize("path", every_guideline(), ids=lambda p: str(p.relative_to(ROOT)))
@pytest.mark.parametrize("layout", [dot.DEFAULT_LAYOUT, dot.Layout("TB", 36, "first", 2),
                                    dot.Layout("LR", 24, "end", 1, decisions="table"),
                                    dot.Layout("TB", 36, "first", 2, decisions="table")],
                         ids=["LR", "TB", "LR-table", "TB-table"])
def test_dot_accepts_every_guideline(path: Path, layout: dot.Layout) -> None:
    model = model_of(path)
    proc = subprocess.run(["dot", "-Tsvg"], input=dot.build_source(model, layout).encode(),
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Error" not in proc.stderr and b"Warning" not in proc.stderr, proc.stderr.decode()
    ET.fromstring(proc.stdout)


def test_golden_small_dot() -> None:
    source = dot.build_source(model_of(SMALL), dot.default_layout(request("dot")))
    if os.environ.get("GUIDEC_REGEN_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(source, encoding="utf-8")
    assert source == GOLDEN.read_text(encoding="utf-8"), (
        "tests/golden/small.dot is out of date: regenerate it with "
        "GUIDEC_REGEN_GOLDEN=1 pytest tests/test_dot.py and review the diff")


def test_chart_content() -> None:
    model = model_of(SMALL)
    source = dot.build_source(model)
    # A pending decision names what it waits for (here a `first` decision, drawn as a
    # table: in its dashed last row).
    assert re.findall(r'\t"(x-pending-[\w-]+)" \[', source) == []
    assert "Pending</B> until known: Marker status" in source.replace("<BR/>", " ")
    # Parallel steps go through one fork bar labelled "in parallel".
    assert '"x-fork-treat" [' in source and "then, in parallel:" in source
    # Strengths, conditions, kind tags and citation numbers.
    assert "<B>Scan the patient</B>" in source
    assert "<B>Consider:</B> Chemotherapy" in source
    assert "If not: scan done:" in source or "If not scan done:" in source
    assert "<SUP>1,2</SUP>" in source
    # The legend names the kinds of the guideline's actions, and no other.
    used = {a.kind for a in model.actions.values()}
    for name, kind in dot.KINDS.items():
        assert (f">{kind.tag}<" in source) == (name in used), name
    # Every kind of rule reaches the pitfalls panel in its own words (no "Never" tag the
    # author did not write), the cautions have their own section, and the draft is marked.
    for section in (dot.PITFALLS, dot.CAUTIONS):
        assert dot.esc(section) in source
    for rule in (*model.nevers, *model.requires, *model.conflicts):
        assert dot.esc(rule.reason).split(" ")[0] in source
    for word in ("Never", "Always", "Not both"):
        assert f">{word}<" not in source
    assert ">DRAFT<" in source
    assert model.source_sha256[:12] in source and "For tests only" in source


def test_chart_prints_short_wordings_and_condition_labels(tmp_path: Path) -> None:
    """`short` replaces an action's text on the chart (the handout keeps the full text), and a
    recommendation's label replaces its condition's generated words."""
    guide = tmp_path / "short.guide"
    guide.write_text(
        'guideline brief "Short" version 1.0.0 status draft updated 2026-01-01 owner "T"\n'
        'input fit "Fit for treatment": boolean\n'
        'action treat systemic "A long recommendation the chart has no room for" strong\n'
        '  short "Treat"\n'
        'action rest supportive "Rest and fluids" conditional\n'
        'pathway\n  start -> s\n'
        '  step s "Care"\n'
        '    recommend treat when fit "if fit enough"\n'
        '    recommend rest when not fit\n'
        '    recommend treat when not fit "Ommaya placed"\n'
        '    then -> done\n'
        '  end done\n', encoding="utf-8")
    source = dot.build_source(model_of(guide)).replace("<BR/>", " ")
    assert "<B>Treat</B>" in source and "no room for" not in source
    assert "If if fit enough:" not in source and "If fit enough:" in source
    assert "If Ommaya placed:" in source
    assert "<B>Consider:</B> Rest and fluids" in source and "If not fit for treatment:" in source


def test_decision_tables() -> None:
    """A decision drawn as a table: the question, one row per destination with its port, an
    arrow from each row, and what it waits for in a dashed last row (no floating note)."""
    model = model_of(SMALL)
    source = dot.build_source(model, dot.Layout("LR", 24, "end", 1, decisions="table"))
    decisions = [n for n in model.pathway.nodes.values() if isinstance(n, Decision)]
    assert decisions
    for decision in decisions:
        destinations = {b.targets for b in decision.branches} | (
            {decision.otherwise.targets} if decision.otherwise else set())
        ports = re.findall(rf"\tn_{decision.id}:(b\d+):e -> ", source)
        assert sorted(ports) == [f"b{i}" for i in range(len(destinations))]
        assert all(f'PORT="{p}"' in source for p in ports)
    assert "x-when-" not in source and "x-pending-" not in source
    assert re.search(r'STYLE="dashed"[^>]*><FONT[^>]*><B>Pending</B>', source)
    flat = source.replace("<BR/>", " ")
    assert "grey heading: a decision" in flat and "hexagon" not in flat


@needs_dot
def test_tables_only_when_hexagons_cannot_reach_8pt() -> None:
    assert dot.poster(model_of(SMALL), request("pdf")).layout.decisions == "hexagon"
    chosen = dot.poster(model_of(FLAGSHIP), request("pdf"))
    assert chosen.smallest_pt < dot.MIN_PRINTED_PT
    assert chosen.layout.decisions == "table"


def test_pitfalls_with_the_same_reason_are_shown_once() -> None:
    model = model_of(FLAGSHIP)
    rows = [r for r in dot.pitfalls(model) if r[0] != dot.DEFINITIONS]
    assert len({(word, text) for word, text, _ in rows}) == len(rows)
    rules = len(model.nevers) + len(model.requires) + len(model.conflicts) + len(model.cautions)
    assert 0 < len(rows) < rules  # `never A, B when C` is one entry


# ----------------------------------------------------------------------------- printing


@needs_dot
def test_a4_one_sheet_is_the_poster_the_pages_are_the_pdf(tmp_path: Path) -> None:
    """On A4 the one-sheet files (.dot, .png) stay the whole chart; the PDF is the pocket
    edition (tests/test_pages.py), so no warning says it prints too small."""
    req = request("pdf", "png", paper="a4", orientation="landscape")
    emitted = dot.emit(model_of(FLAGSHIP), tmp_path, req)
    assert not any("too large for one" in w for w in warnings(emitted)), warnings(emitted)
    one_sheet = (tmp_path / "leptomeningeal.dot").read_text(encoding="utf-8")
    assert "x-to-" not in one_sheet and "Page 1 of" not in one_sheet
    assert pdf_pages(tmp_path / "leptomeningeal.pdf")[0] > 1
    scale = dot._plain(subprocess.run(["dot", "-Tplain", str(tmp_path / "leptomeningeal.dot")],
                                      capture_output=True, check=True).stdout)[0]
    assert dot.BODY_PT * scale < dot.MIN_PRINTED_PT


@needs_dot
@pytest.mark.parametrize(("paper", "size", "floor"), [
    ("a3", (1190.55, 841.89), 7.0), ("tabloid", (1224, 792), 6.5)])
def test_flagship_wall_poster_prints_on_one_sheet(tmp_path: Path, paper: str,
                                                  size: tuple[float, float], floor: float) -> None:
    """A3 or tabloid (11x17 in) landscape: the flagship on one page, its smallest text at the
    size the warning names and never below the floor measured for 2.0.0.

    2.0.0 prints each action's detail, each label's condition and the definitions, so its
    one-sheet poster no longer reaches 8 pt (7.0 pt on A3): the 8 pt print comes with the
    multi-page pocket edition and the orientation search of issue 14 (tabloid: 6.5 pt).
    """
    emitted = dot.emit(model_of(FLAGSHIP), tmp_path, request("pdf", paper=paper))
    printed = [float(w.rsplit(" ", 2)[-2]) for w in warnings(emitted)]
    assert len(printed) == 1 and printed[0] >= floor, warnings(emitted)
    pages, width, height = pdf_pages(tmp_path / "leptomeningeal.pdf")
    assert pages == 1 and abs(width - size[0]) <= 1.5 and abs(height - size[1]) <= 1.5
    assert smallest_glyph_height_pt(tmp_path / "leptomeningeal.pdf") >= \
        (printed[0] - 0.05) * WORD_BOX_EM


@needs_dot
def test_small_pathway_prints_no_text_below_8pt(tmp_path: Path) -> None:
    emitted = dot.emit(model_of(SMALL), tmp_path, request("pdf"))
    assert warnings(emitted) == []
    assert pdf_pages(tmp_path / "small.pdf")[0] == 1
    assert smallest_glyph_height_pt(tmp_path / "small.pdf") >= 8.0 * WORD_BOX_EM


@needs_dot
@pytest.mark.parametrize("path", [SMALL, FIXTURES / "html" / "minimal.guide"],
                         ids=["small", "minimal"])
def test_placing_on_paper_keeps_the_layout(path: Path) -> None:
    # Scaling onto the page must not stretch the layout (ratio=fill once spread a two-node
    # chart over the whole page); Graphviz reports sizes about 0.22 in smaller with a margin.
    chosen = dot.poster(model_of(path), request("pdf", paper="letter", orientation="portrait"))
    natural = dot.measure(dot.build_source(model_of(path), chosen.layout))
    scale, w, h = dot._plain(dot._run_dot(["-Tplain"], chosen.source))
    assert abs(w - natural[0]) < 0.3 and abs(h - natural[1]) < 0.3, ((w, h), natural)
    assert scale == pytest.approx(chosen.page.scale)
    assert scale <= dot.MAX_SCALE * 1.001


@needs_dot
def test_flagship_png_has_a_sensible_size(tmp_path: Path) -> None:
    dot.emit(model_of(FLAGSHIP), tmp_path, request("png"))
    width, height = png_size(tmp_path / "leptomeningeal.png")
    # A4 landscape at 300 dpi: a print-ready raster.
    assert abs(width - 3508) <= 6 and abs(height - 2480) <= 6


# ----------------------------------------------------------------------------- hostile text


@needs_dot
def test_adversarial_strings_are_carried_as_text(tmp_path: Path) -> None:
    model = model_of(ADVERSARIAL)
    dot.emit(model, tmp_path, request("svg"))
    svg = (tmp_path / "adversarial.svg").read_bytes()
    root = ET.fromstring(svg)
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        assert tag not in ("script", "img", "foreignObject")
        assert not any(k.rsplit("}", 1)[-1].startswith("on") for k in el.attrib)
    text = svg_text(svg)
    for needle in ['Title"quoted"<script>alert(1)</script>{{7*7}}\U0001fa7a',
                   '"><imgsrc=xonerror=alert(1)>{braces}[brackets]&amp;&amp;]]>-->',
                   "Owner\\back\\slash\\N\\G\\L",
                   "Comfort\U0001fa7a{%raw%}C:\\new\\table",
                   "linetwo\U0001f600{%raw%}",
                   'Treat"><imgsrc=xonerror=alert(1)>\\N\\G',
                   "Ref<b>bold</b>&\"quotes\"",
                   "Caution\U0001fa7a\\G",
                   "Short<script>alert(2)</script>\\N{{6*6}}",
                   "IfLabel<b>x</b>\\G{y}:"]:
        assert needle in text, needle
    # U+2028 is a line break: the text on each side is on its own line.
    lines = [el.text or "" for el in root.iter() if el.tag.endswith("}text")]
    assert "Disclaimer line one" in lines and any(t.startswith("line two") for t in lines)
    # Nothing of the hostile text leaks into the DOT as markup.
    source = (tmp_path / "adversarial.dot").read_text(encoding="utf-8")
    assert "<script>" not in source and "<img" not in source and "<b>bold" not in source


# ----------------------------------------------------------------------------- determinism


@needs_dot
def test_output_is_byte_identical_across_runs(tmp_path: Path) -> None:
    outputs = []
    for run in ("one", "two"):
        out = tmp_path / run
        out.mkdir()
        dot.emit(model_of(FLAGSHIP), out, request("dot", "svg"))
        outputs.append(((out / "leptomeningeal.dot").read_bytes(),
                        (out / "leptomeningeal.svg").read_bytes()))
    assert outputs[0] == outputs[1]
    assert b"Generated by graphviz" in outputs[0][1]


@needs_dot
def test_handout_svg_uses_the_screen_font() -> None:
    screen = dot.render_svg_text(model_of(SMALL), request("html"))
    assert screen is not None and dot.SCREEN_FONT in screen and dot.PRINT_FONT not in screen
    ET.fromstring(screen.encode())


@needs_dot
def test_svg_superscripts_have_their_measured_size(tmp_path: Path) -> None:
    dot.emit(model_of(SMALL), tmp_path, request("svg"))
    svg = (tmp_path / "small.svg").read_text(encoding="utf-8")
    sizes = re.findall(r'baseline-shift="super"[^>]*font-size="([\d.]+)"', svg)
    assert sizes and {float(s) for s in sizes} == {dot.BODY_PT}


# ----------------------------------------------------------------------------- without Graphviz


def test_missing_graphviz_still_writes_the_dot(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which",
                        lambda name, *a, **k: None if name == "dot" else real_which(name))
    model = model_of(SMALL)
    emitted = dot.emit(model, tmp_path, request("svg", "pdf"))
    assert (tmp_path / "small.dot").read_text(encoding="utf-8") == dot.build_source(
        model, dot.default_layout(request("svg")))
    assert not (tmp_path / "small.svg").exists()
    [problem] = [e for e in emitted if e.warning]
    assert problem.missing_tool == "dot"
    assert "apt-get install graphviz; brew install graphviz" in (problem.warning or "")
    assert dot.render_svg_text(model, request("html")) is None
    # Asking only for the .dot needs no Graphviz.
    assert warnings(dot.emit(model, tmp_path, request("dot"))) == []


def _build_without_dot(tmp_path: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    env = {**os.environ, "PATH": str(empty), "PYTHONPATH": str(ROOT)}
    args = [a for t in targets for a in ("-t", t)]
    return subprocess.run([sys.executable, "-m", "cli", "build", str(SMALL), "-o",
                           str(tmp_path / "out"), *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_cli_without_graphviz_exit_3_when_asked(tmp_path: Path) -> None:
    proc = _build_without_dot(tmp_path, "svg")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "apt-get install graphviz; brew install graphviz" in proc.stderr
    assert (tmp_path / "out" / "small.dot").is_file()
    assert "Traceback" not in proc.stderr


def test_cli_without_graphviz_exit_0_when_implied(tmp_path: Path) -> None:
    proc = _build_without_dot(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "apt-get install graphviz" in proc.stderr
    assert (tmp_path / "out" / "small.dot").is_file()


# ----------------------------------------------------------------------------- decision tables


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_each_arrow_of_a_decision_table_leaves_its_own_row(rankdir: str) -> None:
    model = model_of(FLAGSHIP)
    source = dot.build_source(model, dot.Layout(rankdir, 24, "end", 1, decisions="table"))
    for d in model.decisions():
        ports = re.findall(rf"n_{d.id}:(b\d+):(\w+) ->", source)
        assert ports, d.id
        # One row (port) per arrow, each leaving by the row's side, never the table's bottom.
        assert [p for p, _ in ports] == [f"b{i}" for i in range(len(ports))]
        assert {side for _, side in ports} == {"e"}


def test_rows_of_a_first_decision_are_drawn_in_the_order_they_are_checked() -> None:
    model = model_of(FLAGSHIP)
    source = dot.build_source(model, dot.Layout("LR", 24, "end", 1, decisions="table"))
    for d in model.decisions():
        if d.policy != "first":
            continue
        line = next(x for x in source.splitlines() if x.strip().startswith(f"n_{d.id} ["))
        numbers = [int(n) for n in re.findall(r'PORT="b\d+"><FONT[^>]*>(\d+)\. ', line)]
        assert numbers == sorted(numbers) and numbers, (d.id, numbers)
    systemic = next(x for x in source.splitlines() if x.strip().startswith("n_systemic ["))
    rows = re.findall(r'PORT="(b\d+)"', systemic)
    assert len(rows) == 5  # 1-2 together, 3, 4, 5-6 together, 7: neighbours only share a row


@pytest.mark.parametrize("paper", ["a4", "a3"])
def test_without_an_orientation_the_one_that_prints_larger_is_chosen(paper: str) -> None:
    model = model_of(FLAGSHIP)
    chosen = {o: dot.poster(model, request("pdf", paper=paper, orientation=o))
              for o in ("auto", "landscape", "portrait")}
    best = max(chosen["landscape"].smallest_pt, chosen["portrait"].smallest_pt)
    assert chosen["auto"].smallest_pt == pytest.approx(best, abs=0.05)
    page = chosen["auto"].page
    # The flagship is taller than wide: portrait prints it larger on both sheets.
    assert page.height + 2 * page.margin_y > page.width + 2 * page.margin_x
    assert chosen["auto"].smallest_pt > chosen["landscape"].smallest_pt


def test_each_pitfall_reads_as_one_sentence_with_its_condition() -> None:
    model = model_of(FLAGSHIP)
    texts = [t for s, t, _ in dot.pitfalls(model) if s == dot.PITFALLS]
    for never in model.nevers:
        if never.condition is not None:
            assert any(t.startswith(never.reason) and t.endswith(
                f"(when: {never.condition.words})") for t in texts), never.reason
    for req in model.requires:
        assert any(t.endswith(f"(when: {req.condition.words})") for t in texts), req.reason
    unconditional = [n.reason for n in model.nevers if n.condition is None]
    assert unconditional and all(r in texts for r in unconditional)


def test_a_decision_waits_only_for_inputs_no_guard_settles(tmp_path: Path) -> None:
    """`surgery_on is known and ...` is false while the date is unknown: the alteplase chart
    says the risk decision waits for nothing, the mild-stroke one for `disabling`."""
    model = load(ROOT / "guidelines" / "alteplase.guide")
    assert model is not None
    decisions = {d.id: d for d in model.pathway.nodes.values() if isinstance(d, Decision)}
    assert dot.pending_inputs(model, decisions["eligible"]) == ()
    assert dot.pending_inputs(model, decisions["severity"]) == ("disabling",)
    assert dot.pending_inputs(model, decisions["screen"]) == ("inr",)
    assert dot.pending_inputs(model, decisions["bp_again"]) == (
        "systolic_bp_after", "diastolic_bp_after")
