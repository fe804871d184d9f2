"""Issue 4 benchmarks: per-patient time of the generated evaluator, the reference interpreter
and a hand-written function of the flagship (``handwritten_leptomeningeal.py``) over the same
20,000 random valid patients; and cohort throughput of ``guidec eval --cohort`` from JSON lines
to JSON lines (in process, and as a command with its start-up).

Goals: generated <= 1.25x hand-written; cohort >= 20,000 patients per second.
"""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"
PATIENTS = 20_000


def random_patients(model: Any, n: int, seed: int = 4) -> list[dict[str, object]]:
    """``n`` valid patients: every input drawn at random (optional ones unknown a quarter of
    the time), drawn again until the assumptions hold."""
    from compiler import interpreter as it

    rnd = random.Random(seed)
    out: list[dict[str, object]] = []
    while len(out) < n:
        p: dict[str, object] = {}
        for name, inp in model.inputs.items():
            if inp.optional and rnd.random() < 0.25:
                continue
            if inp.kind == "boolean":
                p[name] = rnd.random() < 0.5
            elif inp.kind == "enum":
                p[name] = rnd.choice(inp.values)
            elif inp.kind == "integer":
                low, high = int(inp.low or 0), int(inp.high or 100)
                p[name] = rnd.randrange(low, high + 1, int(inp.step or 1))
            else:
                p[name] = rnd.choice((0, 0.5, 0.99, 1, 2.5, 6, 12, 24.5))
        if not p.get("lung_mass_biopsied") and rnd.random() < 0.9:
            for k in ("egfr", "alk", "braf", "her2"):
                p.pop(k, None)
            p["histology"] = "unknown"
        if not p.get("neuraxis_mri_done") and rnd.random() < 0.9:
            p.pop("lm_pattern", None)
        try:
            it.validate(model, p)
        except it.InvalidPatient:
            continue
        out.append(p)
    return out


def per_patient(fn: Callable[[dict[str, object]], object], patients: list[dict[str, object]],
                repeat: int) -> float:
    """Best-of-``repeat`` seconds per patient."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for p in patients:
            fn(p)
        best = min(best, time.perf_counter() - t0)
    return best / len(patients)


def bench_evaluate(n: int = PATIENTS) -> dict[str, float]:
    """Seconds per patient: generated, hand-written, interpreter; and agreement counts."""
    from compiler import interpreter as it
    from compiler.pipeline import check_file
    from targets.python import load
    from tests.benchmarks import handwritten_leptomeningeal as hand

    model = check_file(FLAGSHIP, analyze=False).model
    assert model is not None
    module: Any = load(model)
    patients = random_patients(model, n)
    same_generated = sum(module.evaluate(p).to_dict() == it.evaluate(model, p).to_dict()
                         for p in patients)
    same_hand = 0
    for p in patients:
        a, h = module.evaluate(p), hand.evaluate(p)
        same_hand += (a.actions, a.path, tuple((x.decision, x.inputs) for x in a.pending)) == \
            (h.actions, h.path, tuple((x.decision, x.inputs) for x in h.pending))

    def interpreted(p: dict[str, object]) -> object:
        return it.evaluate(model, p)

    generated = per_patient(module.evaluate, patients, 7)
    handwritten = per_patient(hand.evaluate, patients, 7)
    interpreter = per_patient(interpreted, patients, 2)
    return {"generated": generated, "handwritten": handwritten, "interpreter": interpreter,
            "agree_generated": same_generated, "agree_hand": same_hand, "patients": len(patients)}


def bench_cohort(n: int = PATIENTS) -> dict[str, float]:
    """Patients per second of ``guidec eval --cohort`` (JSONL in, JSONL out)."""
    from cli.eval import run_cohort
    from compiler.pipeline import check_file

    model = check_file(FLAGSHIP, analyze=False).model
    assert model is not None
    patients = random_patients(model, n, seed=5)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "cohort.jsonl"
        src.write_text("".join(json.dumps(p) + "\n" for p in patients), encoding="utf-8")
        out = Path(tmp) / "results.jsonl"
        best = float("inf")
        import contextlib
        import io

        for _ in range(3):
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                t0 = time.perf_counter()
                run_cohort(model, str(src), str(out), False, False)
                best = min(best, time.perf_counter() - t0)
        lines = out.read_text(encoding="utf-8").count("\n")
        assert lines == n, lines
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "cli", "eval", str(FLAGSHIP),
                               "--cohort", str(src), "-o", str(out), "--no-progress"],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
        whole = time.perf_counter() - t0
        assert proc.returncode == 0, proc.stderr
    return {"in_process": n / best, "command": n / whole, "command_seconds": whole}


def main() -> None:
    """Print the figures."""
    r = bench_evaluate()
    gen, hand, interp = r["generated"], r["handwritten"], r["interpreter"]
    n = int(r["patients"])
    print(f"evaluate(), {n:,} random valid flagship patients (best of several runs):")
    print(f"  generated module   {gen * 1e6:8.2f} us/patient")
    print(f"  hand-written       {hand * 1e6:8.2f} us/patient")
    print(f"  interpreter        {interp * 1e6:8.2f} us/patient")
    ratio = gen / hand
    print(f"  generated / hand-written = {ratio:.2f}  (goal <= 1.25: "
          f"{'met' if ratio <= 1.25 else 'NOT met'})")
    print(f"  interpreter / generated  = {interp / gen:.1f}")
    print(f"  agreement: generated = interpreter on {int(r['agree_generated']):,}/{n:,}; "
          f"hand-written = generated (actions, path, pending) on {int(r['agree_hand']):,}/{n:,}")
    c = bench_cohort()
    print(f"guidec eval --cohort, {PATIENTS:,} lines JSONL -> JSONL:")
    print(f"  in process         {c['in_process']:>10,.0f} patients/s  (goal >= 20,000: "
          f"{'met' if c['in_process'] >= 20_000 else 'NOT met'})")
    print(f"  whole command      {c['command']:>10,.0f} patients/s  "
          f"({c['command_seconds']:.2f} s including start-up, check and compilation)")


if __name__ == "__main__":
    main()
