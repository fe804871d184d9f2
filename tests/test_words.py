"""Conditions in clinical words: what the flowchart, the handout and `eval`'s "why" print for a
condition, and a let's definition for the glossary."""

from __future__ import annotations

import pytest

from compiler import model as m
from compiler.pipeline import check_text

GUIDE = """\
guideline words "Words"
  version 1.0.0
  status draft
  updated 2026-01-01
  owner "Tests"

input site "Primary tumour site": one of lung, breast, unknown
input histology "Histology": one of adeno, squamous, unknown
input egfr "EGFR mutation status": optional one of mutant, wild_type
input alk "ALK status": optional one of positive, negative
input life "Life expectancy": number >= 0 unit "months"
input kps "KPS": integer 0..100 step 10

let poor "poor performance" = kps < 70 or life < 1
let typed "primary type established" = site != unknown and (site != lung or histology != unknown)
let egfr_mutant "EGFR mutation known" = egfr is known and egfr == mutant
let driver "a driver known" = egfr_mutant or alk is known and alk == positive
let long_life = life >= 12

action a other "A"

pathway
  start -> s
  step s "S"
    recommend a when poor or typed or driver or long_life or egfr is unknown
    then -> done
  end done
"""


@pytest.fixture(scope="module")
def model() -> m.Model:
    result = check_text(GUIDE, "words.guide", analyze=False)
    assert result.model is not None, [d.message for d in result.diagnostics]
    return result.model


@pytest.mark.parametrize(("let", "words"), [
    ("poor", "KPS < 70 or life expectancy < 1 month"),
    ("typed", "Primary tumour site known and (primary tumour site: not lung or histology known)"),
    ("egfr_mutant", "EGFR mutation status: mutant"),
    ("driver", "EGFR mutation known or ALK status: positive"),
    ("long_life", "Life expectancy ≥ 12 months"),
])
def test_a_lets_definition_in_words_names_every_condition(model: m.Model, let: str,
                                                          words: str) -> None:
    assert model.lets[let].words == words


def test_a_condition_names_lets_by_their_labels(model: m.Model) -> None:
    [site] = model.steps()[0].recommends
    assert site.condition is not None
    assert site.condition.words == ("poor performance or primary type established or a driver "
                                    "known or long life or EGFR mutation status unknown")
