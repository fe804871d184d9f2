"""Issue 17 benchmark: the flagship's evaluator as a package (``-t package``) against the single
module (``-t python``): import time (a fresh interpreter importing it, median of 21
interleaved runs, the bare interpreter's start subtracted) and ``evaluate`` speed (20,000
random valid patients, best of 7, interleaved in one process).

Goal: both within 10% of the single module's.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"
RUNS = 21


def _load(name: str, path: Path, package: bool) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[str(path.parent)] if package else None)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _start(path: str | None) -> float:
    """Seconds for a fresh interpreter to start (and import the evaluator from ``path``)."""
    code = "import leptomeningeal" if path else "pass"
    env = {"PYTHONPATH": path} if path else {}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-S", "-c", code], check=True, env=env)
    return time.perf_counter() - t0


def main() -> None:
    """Print the figures as JSON."""
    from compiler.pipeline import check_file
    from targets.package import project_files
    from targets.python import generate
    from tests.benchmarks.bench_evaluator import per_patient, random_patients

    model = check_file(FLAGSHIP, analyze=False).model
    assert model is not None
    with tempfile.TemporaryDirectory() as tmp:
        single, project = Path(tmp) / "single", Path(tmp) / "project"
        single.mkdir()
        (single / "leptomeningeal.py").write_text(generate(model), encoding="utf-8")
        for rel, text in project_files(model).items():
            (project / rel).parent.mkdir(parents=True, exist_ok=True)
            (project / rel).write_text(text, encoding="utf-8")
        for where in (single, project):  # byte-compile once, as an installed copy is
            _start(str(where))
        bare, mod_t, pkg_t = [], [], []
        for _ in range(RUNS):
            bare.append(_start(None))
            mod_t.append(_start(str(single)))
            pkg_t.append(_start(str(project)))
        base = statistics.median(bare)
        import_module = statistics.median(mod_t) - base
        import_package = statistics.median(pkg_t) - base

        mod: Any = _load("lm_single", single / "leptomeningeal.py", False)
        pkg: Any = _load("lm_package", project / "leptomeningeal" / "__init__.py", True)
        patients = random_patients(model, 20_000)
        assert all(mod.evaluate(p).to_dict() == pkg.evaluate(p).to_dict() for p in patients)
        best_mod, best_pkg = float("inf"), float("inf")
        for _ in range(7):
            best_mod = min(best_mod, per_patient(mod.evaluate, patients, 1))
            best_pkg = min(best_pkg, per_patient(pkg.evaluate, patients, 1))
    print(json.dumps({
        "import_ms": {"module": round(import_module * 1e3, 2),
                      "package": round(import_package * 1e3, 2),
                      "ratio": round(import_package / import_module, 3)},
        "evaluate_us": {"module": round(best_mod * 1e6, 3), "package": round(best_pkg * 1e6, 3),
                        "ratio": round(best_pkg / best_mod, 3)},
        "goal": "both ratios <= 1.10",
    }, indent=2))


if __name__ == "__main__":
    sys.exit(main())
