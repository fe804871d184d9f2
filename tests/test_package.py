"""`guidec build -t package`: the evaluator as a project a developer installs offline and
type-checks, with its metadata, its Literal types and its Patient TypedDict."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from compiler import GUIDEC_VERSION
from compiler import model as m
from compiler.pipeline import check_file
from targets.python import load
from tests.guides import buildable, model_of

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"
CONSUMERS = ROOT / "tests" / "fixtures" / "package"
BIN = Path(sys.executable).parent
PATIENT = ROOT / "guidelines" / "examples" / "egfr_mutant_linear.json"


def build_package(guide: Path, out: Path) -> Path:
    result = CliRunner().invoke(cli, ["build", str(guide), "-o", str(out), "-t", "package"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The flagship's project, and a fresh venv with it installed from the directory, with no
    index (the project builds itself)."""
    tmp = tmp_path_factory.mktemp("package")
    project = build_package(FLAGSHIP, tmp / "project")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index",
                          "--no-cache-dir", "--quiet", str(project)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    yield project, venv / "bin" / "python"


def test_the_project_layout(installed: tuple[Path, Path]) -> None:
    project, _ = installed
    files = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
    assert files == ["README.md", "_guidec_backend.py", "leptomeningeal/__init__.py",
                     "leptomeningeal/__main__.py", "leptomeningeal/patient.schema.json",
                     "leptomeningeal/py.typed", "leptomeningeal/result.schema.json",
                     "pyproject.toml"]
    toml = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert 'name = "guideline-leptomeningeal"' in toml and 'version = "2.0.0"' in toml
    assert "requires = []" in toml


def test_installed_offline_and_usable(installed: tuple[Path, Path]) -> None:
    _, python = installed
    code = ("import importlib.resources as r, json, leptomeningeal as g\n"
            f"p = json.load(open(r'{PATIENT}'))\n"
            "res = g.evaluate(p)\n"
            "s = json.loads((r.files('leptomeningeal') / 'patient.schema.json').read_text())\n"
            "print(g.STATUS, g.VERSION, res.status, res.actions[0], s['type'],"
            " g.__file__.endswith('site-packages/leptomeningeal/__init__.py'))")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60,
                         cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["approved", "2.0.0", "approved", "egfr_tki", "object", "True"]


def test_pip_wheel_builds_the_same_wheel_twice(installed: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    project, python = installed
    wheels = []
    for run in ("a", "b"):
        out = subprocess.run([str(python), "-m", "pip", "wheel", "--no-index", "--no-deps",
                              "--no-cache-dir", "--quiet", "-w", str(tmp_path / run),
                              str(project)], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        [wheel] = (tmp_path / run).glob("*.whl")
        wheels.append(wheel)
    assert wheels[0].name == "guideline_leptomeningeal-2.0.0-py3-none-any.whl"
    assert wheels[0].read_bytes() == wheels[1].read_bytes()


def mypy(python: Path, file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "mypy"), "--strict", "--no-incremental",
                           "--no-error-summary", "--python-executable", str(python), str(file)],
                          capture_output=True, text=True, timeout=300, cwd=file.parent)


def test_a_correct_consumer_passes_mypy_strict(installed: tuple[Path, Path]) -> None:
    _, python = installed
    out = mypy(python, CONSUMERS / "consumer_ok.py")
    assert out.returncode == 0, out.stdout
    run = subprocess.run([str(python), str(CONSUMERS / "consumer_ok.py")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_mypy_strict_catches_each_mistake(installed: tuple[Path, Path]) -> None:
    """Each line marked `# E: code` has that error, and no other line has one."""
    _, python = installed
    path = CONSUMERS / "consumer_bad.py"
    expected = {(n, found[0]) for n, line in enumerate(path.read_text().splitlines(), 1)
                if (found := re.findall(r"  # E: ([\w-]+)$", line))}
    assert len(expected) == 9
    out = mypy(python, path)
    found = {(int(line.split(":")[1]), re.findall(r"\[([\w-]+)\]$", line)[0])
             for line in out.stdout.splitlines() if ": error:" in line}
    assert found == expected, out.stdout


def test_the_module_as_a_script_ends_quietly_on_a_closed_pipe(installed: tuple[Path, Path]
                                                               ) -> None:
    _, python = installed
    shell = f"'{python}' -m leptomeningeal '{PATIENT}' | head -c 10"
    out = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True,
                         text=True, timeout=60)
    assert out.stdout == '{\n  "guide'
    assert out.stderr == "" and out.returncode == 0


@pytest.mark.parametrize("path", list(buildable()), ids=lambda p: p.stem)
def test_metadata_agrees_with_the_model(path: Path) -> None:
    model = model_of(path)
    assert model is not None
    mod = load(model)
    meta = model.meta
    got = (mod.GUIDELINE, mod.VERSION, mod.STATUS, mod.UPDATED)
    assert got == (meta.id, meta.version, meta.status, meta.updated)
    assert mod.GUIDEC_VERSION == GUIDEC_VERSION
    assert list(mod.ACTIONS) == list(model.actions)
    for a in model.actions.values():
        info = mod.ACTIONS[a.id]
        assert (info.text, info.short, info.detail, info.kind, info.strength, info.direction,
                info.certainty, info.grading, info.citations) == (
            a.text, a.short, a.detail, a.kind, a.strength, a.direction, a.certainty,
            a.grading, a.citations)
    assert list(mod.INPUTS) == list(model.inputs)
    for i in model.inputs.values():
        got = mod.INPUTS[i.name]
        assert (got.label, got.type, got.unit, got.values, got.optional) == (
            i.label, i.kind, i.unit, i.values, i.may_be_absent)
    assert list(mod.NODES) == list(model.pathway.nodes)
    assert list(mod.REFERENCES) == list(model.references)
    for r in model.references.values():
        ref = mod.REFERENCES[r.id]
        assert (ref.title, ref.source, ref.year, ref.url) == (r.title, r.source, r.year, r.url)


def test_a_draft_says_so_and_can_be_refused() -> None:
    model = check_file(ROOT / "guidelines" / "curb65.guide", analyze=False).model
    assert model is not None and model.meta.status == "draft"
    mod = load(model)
    patient: dict[str, Any] = dict(model.patients["healthy_young"].values)
    result = mod.evaluate(patient)
    assert (result.status, result.approved, result.to_dict()["status"]) == (
        "draft", False, "draft")
    with pytest.raises(mod.NotApproved, match=r"curb65 0\.1\.0 is draft, not approved"):
        mod.evaluate(patient, approved_only=True)
    flagship = load(model_of(FLAGSHIP))
    approved = flagship.evaluate(json.loads(PATIENT.read_text()), approved_only=True)
    assert approved.approved


def test_a_problem_names_its_keys_and_pointers_in_clinical_words() -> None:
    model = model_of(FLAGSHIP)
    assert model is not None
    mod = load(model)
    bad = {**json.loads(PATIENT.read_text()), "neuraxis_mri_done": False}
    with pytest.raises(mod.InvalidPatient) as caught:
        mod.evaluate(bad)
    [problem] = caught.value.problems
    assert problem.keys == ("neuraxis_mri_done", "lm_pattern")
    assert problem.pointers == ("/neuraxis_mri_done", "/lm_pattern")
    assert problem.message == ("do not fit the guideline's assumption: The deposit pattern is "
                               "known only from the MRI.")
    assert "`" not in problem.message
    assert problem.rule == "assume neuraxis_mri_done or lm_pattern is unknown"
    assert problem.to_dict()["pointers"] == ["/neuraxis_mri_done", "/lm_pattern"]
    weird = mod.Problem(("a/b~c",), "x")
    assert weird.pointers == ("/a~1b~0c",)
    assert mod.Problem((), "x").pointers == ("",) and mod.Problem((), "x").key == "(patient)"


def test_a_name_python_cannot_import_is_refused(tmp_path: Path) -> None:
    source = FLAGSHIP.read_text(encoding="utf-8").replace(
        "guideline leptomeningeal ", "guideline json ", 1)
    path = tmp_path / "json.guide"
    path.write_text(source, encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(path), "-o", str(tmp_path / "out"),
                                      "-t", "package"])
    assert result.exit_code == 1
    assert "cannot be an importable package name" in result.output
    assert not (tmp_path / "out" / "pyproject.toml").exists()


def test_build_without_targets_writes_no_package(tmp_path: Path) -> None:
    model = check_file(ROOT / "tests" / "fixtures" / "eval" / "sets.guide", analyze=False).model
    assert isinstance(model, m.Model)
    result = CliRunner().invoke(cli, ["build", str(ROOT / "tests" / "fixtures" / "eval" /
                                                   "sets.guide"), "-o", str(tmp_path)])
    assert "pyproject.toml" not in result.output
