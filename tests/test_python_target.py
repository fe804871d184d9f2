"""The Python target: a standalone, typed, lint-clean evaluator module that agrees with the
reference interpreter, refuses invalid patients with the same problems, cannot be broken out of
by any string of the guideline, and is byte-identical for the same source."""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from compiler import GUIDEC_VERSION
from compiler import interpreter as it
from compiler import model as m
from compiler.pipeline import check_file
from targets import BuildRequest
from targets.pyformat import comment, py_str
from targets.python import dump_schema, emit, generate, load, patient_schema, result_schema

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"
FIXTURES = ROOT / "tests" / "fixtures" / "eval"
BIN = Path(sys.executable).parent


@cache
def model_of(path: Path) -> m.Model:
    """The checked model of a guideline (without the solver: the model is the same)."""
    result = check_file(path, analyze=False)
    assert result.model is not None, [str(d.message) for d in result.diagnostics]
    return result.model


@cache
def module_of(path: Path) -> Any:
    """The generated evaluator of a guideline, compiled in memory."""
    return load(model_of(path))


def problems(exc: BaseException) -> list[tuple[str, str]]:
    """(key, message) pairs of an InvalidPatient from either side."""
    return [(p.key, p.message) for p in exc.problems]  # type: ignore[attr-defined]


def both(path: Path, patient: object) -> tuple[Any, Any]:
    """(interpreter, generated): each a to_dict() or a list of problems."""
    model, mod = model_of(path), module_of(path)
    try:
        a: Any = it.evaluate(model, patient).to_dict()  # type: ignore[arg-type]
    except it.InvalidPatient as exc:
        a = problems(exc)
    try:
        b: Any = mod.evaluate(patient).to_dict()
    except mod.InvalidPatient as exc:
        b = problems(exc)
    return a, b


def fit() -> dict[str, object]:
    return dict(model_of(FLAGSHIP).patients["fit"].values)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flagship built with `guidec build -t python -t schema` into a fresh directory."""
    out = tmp_path_factory.mktemp("build")
    proc = subprocess.run([str(BIN / "guidec"), "build", str(FLAGSHIP), "-o", str(out),
                           "-t", "python", "-t", "schema"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


# ----------------------------------------------------------------------------- the module


def test_build_writes_module_and_schemas(built: Path) -> None:
    names = sorted(p.name for p in built.iterdir())
    assert names == ["leptomeningeal.py", "leptomeningeal.result.schema.json",
                     "leptomeningeal.schema.json"]


def test_module_imports_only_the_standard_library(built: Path) -> None:
    tree = ast.parse((built / "leptomeningeal.py").read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.module is not None
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    assert not imported & {"dsl", "compiler", "targets"}


def test_module_runs_standalone(built: Path) -> None:
    patient = built / "fit.json"
    patient.write_text(json.dumps(fit()), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-I", str(built / "leptomeningeal.py"), str(patient)],
                          capture_output=True, text=True, cwd=built, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == it.evaluate(model_of(FLAGSHIP), fit()).to_dict()
    patient.write_text('{"kps": 75}', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-I", str(built / "leptomeningeal.py"), str(patient)],
                          capture_output=True, text=True, cwd=built, env=env, timeout=60)
    assert proc.returncode == 2
    assert "kps: 75 is not a multiple of 10" in proc.stderr


def test_flagship_module_passes_mypy_strict_and_ruff(built: Path) -> None:
    module = built / "leptomeningeal.py"
    mypy = subprocess.run([str(BIN / "mypy"), "--strict", "--no-incremental", str(module)],
                          capture_output=True, text=True, cwd=built, timeout=300)
    assert mypy.returncode == 0, mypy.stdout
    assert_ruff_clean(module)


def assert_ruff_clean(module: Path) -> None:
    """Clean under this project's rules (100 columns) and under ruff's defaults (a consumer's
    project with no configuration: ``ruff check --isolated``)."""
    for config in (["--config", str(ROOT / "pyproject.toml")], ["--isolated"]):
        ruff = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", *config, str(module)],
                              capture_output=True, text=True, cwd=module.parent, timeout=120)
        assert ruff.returncode == 0, (config, ruff.stdout)


@pytest.mark.parametrize("name", ["adversarial", "numbers", "diamonds"])
def test_fixture_modules_pass_mypy_strict_and_ruff(name: str, tmp_path: Path) -> None:
    model = model_of(FIXTURES / f"{name}.guide")
    module = tmp_path / f"{model.meta.id}.py"
    module.write_text(generate(model), encoding="utf-8")
    mypy = subprocess.run([str(BIN / "mypy"), "--strict", "--no-incremental", str(module)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert mypy.returncode == 0, mypy.stdout
    assert_ruff_clean(module)


def test_reads_like_hand_written_code() -> None:
    source = generate(model_of(FLAGSHIP))
    # Every branch and conditional recommendation carries its source line.
    assert re.search(r"\n +# line \d+: when egfr_mutant -> egfr_therapy\n", source)
    assert re.search(r"\n +# line \d+: otherwise -> workup\n", source)
    # Required inputs are read directly, optional ones with explicit None handling.
    assert "if not neuraxis_mri_done:" in source
    assert 'elif egfr is not None and egfr == "mutant":' in source
    # The recommendations are constants, not built per call.
    assert "_BEST_SUPPORTIVE_CARE = Recommendation(" in source
    assert all(len(line) <= 100 for line in source.splitlines())


def test_result_api_and_constants() -> None:
    mod = module_of(FLAGSHIP)
    result = mod.evaluate(fit())
    assert dataclasses.is_dataclass(type(result))
    assert getattr(type(result), "__dataclass_params__").frozen  # noqa: B009
    assert not hasattr(result, "__dict__")  # slotted
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.path = ()
    assert [f.name for f in dataclasses.fields(result)] == [
        "guideline", "version", "status", "source_sha256", "recommendations", "cautions",
        "notes", "path", "pending", "scores"]
    rec = result.recommendations[0]
    assert [f.name for f in dataclasses.fields(rec)] == [
        "id", "text", "detail", "kind", "strength", "citations", "step", "because", "direction",
        "certainty", "grading"]
    # A recommendation reached by one path only is a constant, not built per call.
    frail = {**fit(), "kps": 50}
    assert mod.evaluate(frail).recommendations[0] is mod.evaluate(frail).recommendations[0]
    assert result.actions == ("egfr_tki", "intrathecal_methotrexate", "ommaya_reservoir",
                              "neurological_monitoring")
    assert list(result.to_dict()) == ["guideline", "version", "status", "source_sha256",
                                      "recommendations", "cautions", "notes", "path", "pending"]
    assert issubclass(mod.InvalidPatient, ValueError)
    # The module's metadata agrees with the model (every guideline: test_metadata_*).
    assert (mod.STATUS, result.status, result.approved) == ("approved", "approved", True)
    assert mod.GUIDEC_VERSION == GUIDEC_VERSION


CLEAN = [FLAGSHIP, *sorted(p for p in FIXTURES.glob("*.guide") if p.stem != "stuck")]


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: p.stem)
def test_named_patients_and_cases_agree(path: Path) -> None:
    model = model_of(path)
    patients = [p.values for p in model.patients.values()] + [c.patient for c in model.cases]
    for patient in patients:
        a, b = both(path, dict(patient))
        assert a == b


# ----------------------------------------------------------------------------- validation

INVALID: list[tuple[str, dict[str, object]]] = [
    ("missing required", {"kps": None}),
    ("undeclared key", {"egrf": "mutant"}),
    ("undeclared key far from any", {"zzz": 1}),
    ("true is not an integer", {"kps": True}),
    ("a string is not a number", {"life_expectancy_months": "80"}),
    ("not an integer", {"kps": 80.5}),
    ("out of range", {"kps": 110}),
    ("negative", {"life_expectancy_months": -0.5}),
    ("off step", {"kps": 75}),
    ("NaN", {"life_expectancy_months": math.nan}),
    ("infinity", {"life_expectancy_months": math.inf}),
    ("minus infinity", {"kps": -math.inf}),
    ("enum near miss", {"egfr": "mutnat"}),
    ("enum wrong case", {"csf_flow": "Obstructed"}),
    ("enum not a string", {"egfr": 1}),
    ("boolean as string", {"ommaya_feasible": "true"}),
    ("list value", {"kps": [80]}),
    ("object value", {"histology": {"a": 1}}),
    ("broken assumption", {"neuraxis_mri_done": False}),
    ("two broken assumptions", {"lung_mass_biopsied": False}),
    ("everything at once", {"kps": 75, "egrf": 1, "alk": "pos", "severe_symptoms": None}),
]


@pytest.mark.parametrize("label,change", INVALID, ids=[x[0] for x in INVALID])
def test_invalid_patients_have_the_interpreters_problems(label: str,
                                                         change: dict[str, object]) -> None:
    patient = {**fit(), **change}
    patient = {k: v for k, v in patient.items() if not (v is None and k == "kps")}
    a, b = both(FLAGSHIP, patient)
    assert isinstance(a, list) and a, label
    assert a == b


def test_problem_details() -> None:
    a, _ = both(FLAGSHIP, {**fit(), "egrf": "x", "egfr": "mutnat", "kps": True})
    assert ("egrf", "is not an input of this guideline (did you mean `egfr`?)") in a
    assert ("egfr", 'must be one of mutant, wild_type, not "mutnat" (did you mean `mutant`?)') \
        in a
    assert ("kps", "must be an integer, not true") in a


@pytest.mark.parametrize("patient", [None, [], "x", 3, [("kps", 80)]])
def test_not_an_object(patient: object) -> None:
    a, b = both(FLAGSHIP, patient)
    assert a == b == [("(patient)", "a patient is a JSON object of inputs")]


def test_integral_float_is_an_integer() -> None:
    a, b = both(FLAGSHIP, {**fit(), "kps": 80.0})
    assert a == b and isinstance(a, dict)
    assert a == both(FLAGSHIP, fit())[0]


def test_optional_null_and_absent_are_unknown() -> None:
    wild = {**fit(), "egfr": "wild_type"}
    absent = {k: v for k, v in wild.items() if k != "egfr"}
    a1, b1 = both(FLAGSHIP, absent)
    a2, b2 = both(FLAGSHIP, {**wild, "egfr": None})
    assert a1 == b1 == a2 == b2
    assert a1["pending"] == [{"decision": "systemic", "inputs": ["egfr"]}]


def test_mapping_that_is_not_a_dict() -> None:
    from types import MappingProxyType

    a, b = both(FLAGSHIP, MappingProxyType(fit()))
    assert a == b and isinstance(a, dict)


# ----------------------------------------------------------------------------- escaping


def test_adversarial_strings_round_trip() -> None:
    """Every string constant of the module is one of the guideline's strings, intact; the
    module parses; nothing runs at import but definitions."""
    model = model_of(FIXTURES / "adversarial.guide")
    source = generate(model)
    tree = ast.parse(source)
    consts = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
              and isinstance(n.value, str)}
    for a in model.actions.values():
        assert a.text in consts
    for n in model.pathway.nodes.values():
        if isinstance(n, m.Step):
            assert all(note.text in consts for note in n.notes)
    for c in model.cautions:
        assert c.text in consts
    top = {type(n).__name__ for n in tree.body}
    assert top <= {"Expr", "ImportFrom", "Import", "Assign", "AnnAssign", "ClassDef",
                   "FunctionDef", "If"}
    for line in source.splitlines():
        assert "\x00" not in line and "\u2028" not in line and "\u2029" not in line
        assert "\x85" not in line
    mod = load(model)
    result = mod.evaluate(dict(model.patients["base"].values))
    assert "Action text \"\"\" ''' \\ \n\r {x} \u2028 \u0000 end" in [
        r.text for r in result.recommendations]
    assert result.to_dict() == it.evaluate(model, model.patients["base"].values).to_dict()


def test_python_keywords_and_local_names_as_input_names() -> None:
    model = model_of(FIXTURES / "adversarial.guide")
    source = generate(model)
    assert "None_ = " in source or "None_," in source
    mod = load(model)
    base = dict(model.patients["base"].values)
    for change in ({"None": True}, {"b0": None}, {"why": None}, {"class": None}, {"l": 9}):
        a, b = both(FIXTURES / "adversarial.guide", {**base, **change})
        assert a == b
    assert mod.evaluate(base).actions


@pytest.mark.parametrize("text", [
    'a"b', "a'b", '"""', "'''", "\\", "\\n", "\n", "\r\n", "{x}", "\u2028", "\u2029", "\x00",
    "\x85", "\ud800", "é漢字🙂", "#", "\t", "\x1b[31m",
])
def test_py_str_is_exact(text: str) -> None:
    literal = py_str(text)
    assert ast.literal_eval(literal) == text
    assert "\n" not in literal and "\r" not in literal and "\u2028" not in literal


@pytest.mark.parametrize("text", ["a\nimport os", "x\u2028y", "nul\x00", "cr\rlf", "\x85"])
def test_comments_cannot_break_out(text: str) -> None:
    line = comment(text, 4)
    assert len(line.splitlines()) == 1
    tree = ast.parse("x = 1\n" + line + "\n")
    assert len(tree.body) == 1


def test_stdlib_names_as_guideline_id_still_work() -> None:
    # The id is only a file name; the module's own names are all claimed safely.
    model = model_of(FIXTURES / "numbers.guide")
    mod = load(model)
    assert isinstance(mod, ModuleType)


# ----------------------------------------------------------------------------- determinism


def test_byte_identical_under_different_hash_seeds(tmp_path: Path) -> None:
    code = ("import sys; from compiler.pipeline import check_file; from targets.python import "
            "generate; sys.stdout.write(generate(check_file(sys.argv[1], analyze=False).model))")
    outs = []
    for seed in ("0", "1", "12345", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-c", code, str(FIXTURES / "diamonds.guide")],
                              capture_output=True, cwd=ROOT, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout)
        proc = subprocess.run([sys.executable, "-c", code, str(FLAGSHIP)],
                              capture_output=True, cwd=ROOT, env=env, timeout=120)
        outs.append(proc.stdout)
    assert outs[0::2] == [outs[0]] * 4
    assert outs[1::2] == [outs[1]] * 4


# ----------------------------------------------------------------------------- schemas


def test_patient_schema() -> None:
    s = patient_schema(model_of(FLAGSHIP))
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert s["additionalProperties"] is False
    assert "egfr" not in s["required"] and "kps" in s["required"]  # type: ignore[operator]
    props: Any = s["properties"]
    assert props["kps"] == {"title": "Karnofsky performance status", "type": "integer",
                            "minimum": 0, "maximum": 100, "multipleOf": 10}
    assert props["egfr"]["type"] == ["string", "null"]
    assert props["egfr"]["enum"] == ["mutant", "wild_type", None]
    assert props["life_expectancy_months"]["minimum"] == 0
    assert props["ommaya_feasible"]["type"] == "boolean"
    offset: Any = patient_schema(model_of(FIXTURES / "numbers.guide"))["properties"]
    assert offset["score"]["enum"] == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]


def test_result_schema_describes_to_dict() -> None:
    model = model_of(FLAGSHIP)
    s: Any = result_schema(model)
    assert s["required"] == ["guideline", "version", "status", "source_sha256",
                             "recommendations", "cautions", "notes", "path", "pending"]
    d = module_of(FLAGSHIP).evaluate(fit()).to_dict()
    assert set(d) == set(s["properties"])
    rec = s["properties"]["recommendations"]["items"]
    assert set(rec["required"]) == set(d["recommendations"][0])
    assert "egfr_tki" in rec["properties"]["id"]["enum"]


def test_schemas_are_deterministic(tmp_path: Path) -> None:
    model = model_of(FLAGSHIP)
    emit(model, tmp_path, BuildRequest(frozenset({"schema"})))
    text = (tmp_path / "leptomeningeal.schema.json").read_text(encoding="utf-8")
    assert text == dump_schema(patient_schema(model))
    assert text.endswith("}\n") and '  "$schema"' in text
    assert json.loads(text)["additionalProperties"] is False


def test_build_refuses_a_guideline_with_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.guide"
    bad.write_text((FIXTURES / "stuck.guide").read_text(encoding="utf-8"), encoding="utf-8")
    proc = subprocess.run([str(BIN / "guidec"), "build", str(bad), "-o", str(tmp_path / "o"),
                           "-t", "python"], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 1
    assert not (tmp_path / "o" / "stuck.py").exists()


def test_module_named_like_the_standard_library_warns(tmp_path: Path) -> None:
    source = (FIXTURES / "numbers.guide").read_text(encoding="utf-8")
    guide = tmp_path / "json.guide"
    guide.write_text(source.replace("guideline exact_numbers", "guideline json"),
                     encoding="utf-8")
    model = model_of(guide)
    emitted = emit(model, tmp_path, BuildRequest(frozenset({"python"})))
    assert (tmp_path / "json.py").exists()
    assert any(e.warning and "standard-library" in e.warning for e in emitted)


def test_inputs_named_like_the_modules_own_names_do_not_shadow_them() -> None:
    """`STATUS` and `approved_only` are the module's and evaluate's own names: inputs so named
    get other local names, and the draft is still refused."""
    from compiler.pipeline import check_text

    source = '''guideline clash "Names"
  version 1.0.0
  status draft
  updated 2026-01-01
  owner "Tests"

reference r1 guideline "A reference" year 2026

input STATUS "A status": one of approved, draft
input approved_only "A flag": boolean
action a other "A" cite r1

pathway
  start -> d

  decide d "Which?"
    when STATUS == approved and approved_only -> s
    otherwise -> done

  step s "S"
    recommend a
    then -> done

  end done
'''
    model = check_text(source, "clash.guide", analyze=False).model
    assert model is not None
    mod: Any = load(model)
    patient = {"STATUS": "approved", "approved_only": True}
    assert mod.evaluate(patient).actions == ("a",)
    with pytest.raises(mod.NotApproved):
        mod.evaluate(patient, approved_only=True)
