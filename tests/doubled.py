"""A larger guideline for the flowchart's pagination tests: the flagship's pathway twice over
(twice its decisions, and one more that chooses the copy), generated from its source."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"

_DECLARED = re.compile(r"^(  (?:step|decide|end) )(\w+)", re.M)
_TARGETS = re.compile(r"->\s*(\w+(?:,\s*\w+)*)")


def doubled_flagship() -> str:
    """The flagship's source with a second copy of its pathway (node ids with ``_b``), both
    under a first decision on a new boolean input."""
    text = FLAGSHIP.read_text(encoding="utf-8")
    head, rest = text.split("\npathway\n", 1)
    body, rules = rest.split("\n# ----", 1)
    body = body.replace("  start -> performance\n", "")

    def rename(part: str) -> str:
        part = _DECLARED.sub(lambda mo: mo[1] + mo[2] + "_b", part)
        return _TARGETS.sub(
            lambda mo: "-> " + ", ".join(n.strip() + "_b" for n in mo[1].split(",")), part)

    first = ('  start -> clinic\n\n  decide clinic "Which clinic follows the patient?"\n'
             '    when second_clinic "Second clinic" -> performance_b\n'
             '    otherwise "First clinic" -> performance\n')
    head = head.replace(
        '\ninput high_clinical_suspicion',
        '\ninput second_clinic "Followed by the second clinic": boolean'
        '\ninput high_clinical_suspicion', 1)
    return head + "\npathway\n" + first + body + rename(body) + "\n# ----" + rules
