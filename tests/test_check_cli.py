"""`guidec check` end to end (issue 3): exit codes, and witnesses and paths in the text, JSON and
SARIF outputs (SARIF checked against the properties SARIF 2.1.0 requires)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "check"
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"


def guidec(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)


def test_warnings_only_exit_0() -> None:
    proc = guidec("check", str(FIXTURES / "shadowed.guide"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning[W502]" in proc.stdout
    assert "0 errors, 1 warning" in proc.stdout


def test_errors_exit_1_with_witness_and_path_in_text() -> None:
    proc = guidec("check", "--no-color", str(FIXTURES / "performance_literal.guide"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "error[E504]: no branch of `performance` applies when kps == 70 and " \
           "life_expectancy_months >= 1" in out
    assert "error[E503]" in out
    assert "= witness patient:" in out
    assert "= path: performance" in out
    assert "Traceback" not in proc.stderr


def test_unreadable_exit_2() -> None:
    proc = guidec("check", str(FIXTURES / "no-such.guide"))
    assert proc.returncode == 2
    assert "no such file" in proc.stderr


def test_flagship_exit_0() -> None:
    proc = guidec("check", str(FLAGSHIP))
    assert proc.returncode == 0, proc.stdout
    assert "no errors, no warnings" in proc.stdout


def test_json_lines_carry_witness_and_path() -> None:
    proc = guidec("check", "--format", "json", str(FIXTURES / "performance_literal.guide"),
                  str(FIXTURES / "shadowed.guide"))
    assert proc.returncode == 1
    found = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {f["code"] for f in found} == {"E503", "E504", "W502"}
    for f in found:
        assert set(f) >= {"code", "severity", "message", "file", "line", "column", "end",
                          "hint", "notes", "node", "witness", "path"}
        if f["code"] in ("E503", "E504"):
            assert f["witness"] and f["path"] == ["performance"]
            assert f["node"] == "performance"
        else:
            assert f["witness"] is None and f["node"] == "choose"


def _require(obj: dict[str, Any], *keys: str) -> None:
    for key in keys:
        assert key in obj, f"SARIF: missing required `{key}` in {sorted(obj)}"


def check_sarif(log: dict[str, Any]) -> None:
    """The properties SARIF 2.1.0 requires, and the types of those guidec fills."""
    _require(log, "version", "runs")
    assert log["version"] == "2.1.0"
    assert log.get("$schema", "").endswith("sarif-2.1.0.json")
    assert isinstance(log["runs"], list) and log["runs"]
    for run in log["runs"]:
        _require(run, "tool")
        _require(run["tool"], "driver")
        driver = run["tool"]["driver"]
        _require(driver, "name")
        rules = {r["id"] for r in driver.get("rules", [])}
        for rule in driver.get("rules", []):
            _require(rule, "id")
            if "shortDescription" in rule:
                _require(rule["shortDescription"], "text")
        for result in run.get("results", []):
            _require(result, "message")
            assert isinstance(result["message"].get("text"), str) and result["message"]["text"]
            assert result.get("level") in ("none", "note", "warning", "error")
            assert result.get("ruleId") in rules
            for loc in result.get("locations", []):
                phys = loc["physicalLocation"]
                assert isinstance(phys["artifactLocation"]["uri"], str)
                region = phys["region"]
                assert region["startLine"] >= 1 and region["startColumn"] >= 1
                assert region["endLine"] >= region["startLine"] and region["endColumn"] >= 1
            if "properties" in result:
                assert isinstance(result["properties"], dict)


@pytest.mark.parametrize("fixture", ["performance_literal", "pending", "unreachable"])
def test_sarif_is_structurally_valid(fixture: str) -> None:
    proc = guidec("check", "--format", "sarif", str(FIXTURES / f"{fixture}.guide"))
    log = json.loads(proc.stdout)
    check_sarif(log)
    results = log["runs"][0]["results"]
    assert results
    for r in results:
        if r["ruleId"] in ("E503", "E504", "I509"):
            assert "witness" in r["properties"] and "path" in r["properties"]
    if fixture == "pending":
        assert [r["level"] for r in results] == ["note"]
        assert proc.returncode == 0
