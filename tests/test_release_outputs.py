"""What every output of the flagship carries (contract version 2, "What every output carries").

- A dose never appears without its schedule: wherever an output shows intrathecal methotrexate
  15 mg, it shows "twice weekly x4 weeks, weekly x4 weeks, then monthly" too; every action's
  detail travels with its recommendation.
- The source's banner and its whole disclaimer, apart from the committee's approval.
- The committee's reference is cited as C1 everywhere, never as a number the source uses; the
  whole-brain radiotherapy pitfall shows the source's "3, 5".
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from compiler import interpreter as it
from compiler.pipeline import check_file
from targets import dot, html, python

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"
EXAMPLE = ROOT / "guidelines" / "examples" / "egfr_mutant_linear.json"
DOSE = "15 mg"
SCHEDULE = "Twice weekly x4 weeks, weekly x4 weeks, then monthly"
BANNER = "Educational purpose only • Exercise caution as content is pending human review"
LAST = "Dr.Oracle assumes no liability for clinical decisions based on this content."


@pytest.fixture(scope="module")
def model() -> object:
    result = check_file(str(FLAGSHIP))
    assert result.model is not None
    return result.model


def flat(text: str) -> str:
    """Text with markup, escapes and line breaks gone: what a reader reads."""
    text = re.sub(r"<BR/>|<br/>|<br>", " ", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = text.replace("&amp;", "&").replace("&quot;", '"').replace("&#x27;", "'")
    return " ".join(text.split())


def flat_lines(text: str) -> str:
    """Like :func:`flat`, keeping the line breaks (for source text)."""
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("&amp;", "&").replace("&quot;", '"').replace("&#x27;", "'")


def assert_dose_with_schedule(text: str, where: str) -> None:
    doses = flat(text).count(DOSE)
    assert doses > 0, f"{where}: no dose at all (the test would prove nothing)"
    assert flat(text).count(SCHEDULE) >= doses, f"{where}: a dose without its schedule"


def eval_text(*args: str) -> str:
    r = CliRunner().invoke(cli, ["eval", str(FLAGSHIP), *args])
    assert r.exit_code == 0, r.output
    return r.output


# ----------------------------------------------------------------------------- detail


def test_the_flagship_schedule_is_the_sources(model: object) -> None:
    act = model.actions["intrathecal_methotrexate"]  # type: ignore[attr-defined]
    assert DOSE in act.text and act.detail == SCHEDULE + "."


def test_no_output_shows_a_dose_without_its_schedule(model: object, tmp_path: Path) -> None:
    assert_dose_with_schedule(eval_text(str(EXAMPLE)), "guidec eval")
    assert_dose_with_schedule(eval_text(str(EXAMPLE), "--format", "json"), "guidec eval json")
    cohort = tmp_path / "c.jsonl"
    cohort.write_text(EXAMPLE.read_text(encoding="utf-8").replace("\n", "") + "\n",
                      encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(cli, ["eval", str(FLAGSHIP), "--cohort", str(cohort), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert_dose_with_schedule(out.read_text(encoding="utf-8"), "guidec eval --cohort")
    assert_dose_with_schedule(dot.build_source(model), "flowchart DOT")  # type: ignore[arg-type]
    page = html.render_html(model, None)  # type: ignore[arg-type]
    # The handout's source appendix is the guideline as written (not printed): there each dose
    # is in its action's declaration, whose `detail` clause carries the schedule.
    appendix = re.search(r'<details class="source-text">.*?</details>', page, re.S)
    assert appendix is not None
    assert_dose_with_schedule(page.replace(appendix[0], ""), "handout")
    declarations = re.split(r"\n(?=\S)", flat_lines(appendix[0]))
    dosed = [d for d in declarations if DOSE in d]
    assert dosed and all(SCHEDULE in d for d in dosed), "source appendix"
    # The generated evaluator, run as a user runs it.
    module = tmp_path / "leptomeningeal.py"
    module.write_text(python.generate(model), encoding="utf-8")  # type: ignore[arg-type]
    proc = subprocess.run([sys.executable, str(module), str(EXAMPLE)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert_dose_with_schedule(proc.stdout, "generated evaluator")


def test_every_recommendation_carries_its_actions_detail(model: object) -> None:
    patient = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    out = it.evaluate(model, patient)  # type: ignore[arg-type]
    actions = model.actions  # type: ignore[attr-defined]
    assert [r.detail for r in out.recommendations] == [actions[r.id].detail
                                                       for r in out.recommendations]
    text = flat(eval_text(str(EXAMPLE)))
    for r in out.recommendations:
        if r.detail:
            assert r.detail in text


# ----------------------------------------------------------------------------- the source


def test_banner_and_whole_disclaimer_apart_from_the_approval(model: object) -> None:
    meta = model.meta  # type: ignore[attr-defined]
    assert meta.banner == BANNER and meta.disclaimer.endswith(LAST)
    page = html.render_html(model, None)  # type: ignore[arg-type]
    source = page[page.index('<footer id="s-source"'):]
    document = source[:source.index('class="source-encoding"')]
    encoding = source[source.index('class="source-encoding"'):source.index('"source-appendix"')]
    assert BANNER in document and LAST in document and "Approved" not in document
    assert "approved by Neuro-oncology guideline committee" in encoding and BANNER not in encoding
    chart = flat(dot.build_source(model))  # type: ignore[arg-type]
    assert BANNER in chart and LAST in chart
    assert chart.index(BANNER) < chart.index("This encoding: leptomeningeal 2.0.0, approved")
    text = flat(eval_text(str(EXAMPLE)))
    assert BANNER in text and LAST in text


# ----------------------------------------------------------------------------- references


def test_the_committee_reference_is_c1_everywhere(model: object, tmp_path: Path) -> None:
    refs = model.references  # type: ignore[attr-defined]
    assert refs["c1"].label == "C1" and refs["s5"].label == "5"
    assert [refs[r].label for r in ("r1", "r2", "r3", "r4")] == ["1", "2", "3", "4"]
    review = eval_text(str(ROOT / "guidelines" / "examples" / "kps70_review.json"))
    assert "[C1] Committee resolution" in review and "[6]" not in review
    source = dot.build_source(model)  # type: ignore[arg-type]
    assert "<SUP>C1</SUP>" in source and "<SUP>6</SUP>" not in source
    assert "<SUP>3,5</SUP>" in source  # the whole-brain radiotherapy pitfall, as the source
    page = html.render_html(model, None)  # type: ignore[arg-type]
    assert '<a href="#ref-C1" class="cite cite-consensus">[C1]</a>' in page
    assert 'id="ref-C1"' in page and "[6]" not in page
    module = tmp_path / "leptomeningeal.py"
    module.write_text(python.generate(model), encoding="utf-8")  # type: ignore[arg-type]
    proc = subprocess.run(
        [sys.executable, "-c", "import leptomeningeal as m; "
         "print(m.REFERENCES['c1'].label, m.REFERENCES['s5'].label, repr(m.BANNER))"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.stdout.strip() == f"C1 5 {BANNER!r}", proc.stderr
