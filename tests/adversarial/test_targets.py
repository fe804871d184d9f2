"""Hypothesis draws hostile strings for every string position of a guideline; every target
must carry them as text: the Python module compiles and returns them exactly, Graphviz accepts
the DOT and its SVG has no active content, the handout parses with the same elements as a
clean one and links nowhere but to itself and to http(s)."""

from __future__ import annotations

import ast
import subprocess
import xml.etree.ElementTree as ET
from functools import cache

import html5lib
from hypothesis import HealthCheck, given, settings

from compiler.model import Model
from compiler.pipeline import check_text
from targets import BuildRequest
from targets.dot import build_source
from targets.html import render_html
from targets.python import generate, load
from tests.adversarial.strategies import hostile_guide, plain_guide

PATIENT = {"x": 60, "y": 0.9}
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def model_of(source: str) -> Model:
    result = check_text(source, "hostile.guide")
    errors = [d for d in result.diagnostics if d.is_error]
    assert result.model is not None and not errors, errors[:1]
    return result.model


def tags_and_links(document: str) -> tuple[set[str], list[str]]:
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    tree = parser.parse(document)
    tags = {el.tag for el in tree.iter() if isinstance(el.tag, str)}
    for el in tree.iter():
        assert not any(k.lower().startswith("on") for k in el.attrib), el.attrib
    links = [el.attrib["href"] for el in tree.iter() if "href" in el.attrib]
    return tags, links


def svg_of(dot_source: str) -> str:
    proc = subprocess.run(["dot", "-Tsvg"], input=dot_source.encode("utf-8"),
                          capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return proc.stdout.decode("utf-8")


@cache
def clean_tags() -> frozenset[str]:
    model = model_of(plain_guide())
    return frozenset(tags_and_links(render_html(model, svg_of(build_source(model))))[0])


@SETTINGS
@given(hostile_guide())
def test_the_python_module_carries_every_string_exactly(guide: tuple[str, dict[str, str]]) -> None:
    source, used = guide
    model = model_of(source)
    code = generate(model)
    tree = ast.parse(code)
    constants = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    for position in ("action text", "reference"):
        assert used[position] in constants, position
    module = load(model)
    result = module.evaluate(dict(PATIENT))
    [rec] = result.recommendations
    assert rec.text == model.actions["act"].text == used["action text"]
    assert rec.detail == model.actions["act"].detail


@SETTINGS
@given(hostile_guide())
def test_the_flowchart_and_the_handout_stay_text(guide: tuple[str, dict[str, str]]) -> None:
    source, _ = guide
    model = model_of(source)
    svg = svg_of(build_source(model))
    root = ET.fromstring(svg)
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        assert tag not in ("script", "foreignObject", "iframe", "object", "embed")
        assert not any(k.rsplit("}", 1)[-1].lower().startswith("on") for k in el.attrib)
    document = render_html(model, svg, BuildRequest(frozenset({"html"})).paper)
    tags, links = tags_and_links(document)
    assert tags <= clean_tags() | {"br"}, tags - clean_tags()
    for link in links:
        assert link.startswith(("#", "https://", "http://")), link
    assert "javascript:" not in " ".join(links).lower()
