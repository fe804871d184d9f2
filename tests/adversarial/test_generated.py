"""The generated module under hostile use: run as a script on every kind of bad patient file,
piped into `head`, and called with hostile values; and hostile names in the guideline."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import interpreter as it
from compiler.pipeline import check_file, check_text
from targets.python import load
from tests.adversarial.hostile import FLAGSHIP, ROOT, SMALL, assert_exit
from tests.adversarial.strategies import CLASHING_NAMES, RAW_PATIENTS, hostile_patient


@pytest.fixture(scope="module")
def module_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("module")
    subprocess.run([sys.executable, "-m", "cli", "build", str(FLAGSHIP), "-o",
                    str(out), "-t", "python"], check=True, capture_output=True,
                   env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return out / "leptomeningeal.py"


@pytest.fixture(scope="module")
def flagship() -> Any:
    model = check_file(str(FLAGSHIP)).model
    assert model is not None
    return model


def script(module: Path, *args: str,
           stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, str(module), *args], capture_output=True, input=stdin,
                          timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode,
                                       proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"))


@pytest.mark.parametrize("name", sorted(RAW_PATIENTS))
def test_the_script_turns_every_bad_file_into_a_clear_error(
        module_path: Path, tmp_path: Path, name: str) -> None:
    path = tmp_path / "patient.json"
    path.write_bytes(RAW_PATIENTS[name])
    for args, stdin in (((str(path),), None), (("-",), RAW_PATIENTS[name])):
        proc = script(module_path, *args, stdin=stdin)
        text = assert_exit(proc, 2, "error: ")
        assert "9" * 100 not in text
    if name == "a huge integer":
        assert "kps: must be an integer" in text and "5,000 digits" in text
    if name == "duplicate keys":
        assert "kps: appears twice in one object" in text


def test_the_script_reports_a_missing_file_and_bad_usage(module_path: Path) -> None:
    assert_exit(script(module_path, "/nonexistent.json"), 2, "cannot be read")
    assert_exit(script(module_path), 2, "usage:")


def test_the_script_piped_into_head_ends_quietly(module_path: Path, flagship: Any) -> None:
    import json

    patient = json.dumps(dict(flagship.patients["fit"].values), default=float)
    proc = subprocess.run(f"{sys.executable} {module_path} - | head -1", shell=True,
                          input=patient, capture_output=True, text=True, timeout=60,
                          executable="/bin/bash")
    assert proc.stdout == "{\n"
    assert proc.stderr == "", proc.stderr


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_patients_give_a_result_or_problems_naming_keys(data: st.DataObject) -> None:
    model = _flagship_model()
    module = _flagship_module()
    patient = data.draw(hostile_patient(tuple(model.inputs)))
    try:
        got = module.evaluate(patient).to_dict()
    except module.InvalidPatient as exc:
        keys = {p.key for p in exc.problems}
        assert keys and all(len(p.message) < 400 for p in exc.problems)
        with pytest.raises(it.InvalidPatient) as caught:
            it.evaluate(model, patient)
        assert {p.key for p in caught.value.problems} == keys
    else:
        assert got == it.evaluate(model, patient).to_dict()


def test_a_huge_string_is_neither_compared_nor_echoed_by_the_module() -> None:
    module = _flagship_module()
    start = time.perf_counter()
    with pytest.raises(module.InvalidPatient) as caught:
        module.evaluate({"primary_site": "x" * 20_000_000, "y" * 1_000_000: 1})
    assert time.perf_counter() - start < 2
    assert len(str(caught.value)) < 3000


@pytest.mark.parametrize("name", CLASHING_NAMES)
def test_names_that_clash_with_python_or_the_module_still_work(name: str) -> None:
    source = (SMALL.replace("input x ", f"input {name} ").replace("x > 1", f"{name} > 1"))
    result = check_text(source, "clash.guide")
    if result.model is None:  # a keyword of the language itself: a located error, no crash
        assert all(d.code.startswith("E0") for d in result.diagnostics if d.is_error)
        return
    module = load(result.model)
    assert module.evaluate({name: 5, "y": 0.9}).actions == ("act",)
    assert module.evaluate({name: 0, "y": 0.9}).actions == ()


_CACHE: dict[str, Any] = {}


def _flagship_model() -> Any:
    if "model" not in _CACHE:
        _CACHE["model"] = check_file(str(FLAGSHIP)).model
    return _CACHE["model"]


def _flagship_module() -> Any:
    if "module" not in _CACHE:
        _CACHE["module"] = load(_flagship_model())
    return _CACHE["module"]
