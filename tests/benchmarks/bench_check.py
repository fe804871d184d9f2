"""Issue 3 benchmark: whole `guidec check` (a subprocess, solver included) on generated guidelines.

A guideline of N decisions in a chain, each with three branches over three integer inputs and an
enum (unique and first decisions alternate), a step with a recommendation after two of the
branches, N/10 `never` rules and N/10 `conflict` rules; for N = 100, 1,000 and 5,000. The
guidelines are sound (the check finds no error and no warning; one optional enum makes some
decisions able to wait, which the check reports as information). Goals: N = 1,000 within 5 s,
and time(5,000) / time(1,000) <= 6.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIZES = (100, 1000, 5000)
INTS = 10
ENUMS = 3


def preamble(ident: str, title: str) -> list[str]:
    """A benchmark guideline's header and its one reference."""
    return [f'guideline {ident} "{title}"', "  version 1.0.0", "  status draft",
            "  updated 2026-01-01", '  owner "bench"', "",
            'reference r1 guideline "Ref" source "Somewhere" year 2026']


def action_pairs(n: int) -> list[str]:
    """The actions a{k} and b{k} of each of ``n`` decisions."""
    return [f'action {x}{k} systemic "Action {x}{k}" strong cite r1'
            for k in range(n) for x in ("a", "b")]


def generate(n: int) -> str:
    """A sound guideline with ``n`` decisions in a chain (see the module docstring)."""
    out = preamble("bench_check", "Check benchmark")
    for i in range(INTS):
        out.append(f'input n{i} "Number {i}": integer 0..100')
    for i in range(ENUMS):
        optional = "optional " if i == ENUMS - 1 else ""
        out.append(f'input e{i} "Choice {i}": {optional}one of a, b, c')
    out += action_pairs(n)
    out.append("pathway")
    out.append("  start -> d0")
    for k in range(n):
        x, y, z = f"n{k % INTS}", f"n{(k + 3) % INTS}", f"n{(k + 7) % INTS}"
        e = f"e{k % ENUMS}"
        nxt = f"d{k + 1}" if k + 1 < n else "done"
        policy = " first" if k % 2 else ""
        out.append(f'  decide d{k} "Question {k}?"{policy}')
        out.append(f"    when {x} < 30 and {e} == a -> s{k}")
        out.append(f"    when {x} >= 30 and {y} > 50 -> t{k}")
        out.append(f"    when {x} >= 30 and {y} <= 50 and {z} >= 20 -> {nxt}")
        out.append(f"    otherwise -> {nxt}")
        out.append(f'  step s{k} "Step s{k}"')
        out.append(f"    recommend a{k}")
        out.append(f"    then -> {nxt}")
        out.append(f'  step t{k} "Step t{k}"')
        out.append(f"    recommend b{k} when {z} > 10")
        out.append(f"    then -> {nxt}")
    out.append('  end done "Done"')
    for k in range(0, n, 10):
        x = f"n{k % INTS}"
        out.append(f'never a{k} when {x} >= 30 "a{k} only below 30" cite r1')
        out.append(f'conflict a{k}, b{k} "exclusive" cite r1')
    return "\n".join(out) + "\n"


def time_check(n: int, runs: int = 1, path: Path | None = None
               ) -> tuple[float, float, int, dict[str, int]]:
    """Best wall-clock and CPU seconds of `guidec check --format json` on a generated guideline
    (a subprocess; ``path``: this file instead), its exit code and its findings by code."""
    with tempfile.TemporaryDirectory() as tmp:
        if path is None:
            path = Path(tmp) / f"chain{n}.guide"
            path.write_text(generate(n), encoding="utf-8")
        cmd = [sys.executable, "-m", "cli", "check", "--format", "json", str(path)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        best = best_cpu = float("inf")
        proc = None
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env,
                                  check=False)
            best = min(best, time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            best_cpu = min(best_cpu, after.ru_utime - before.ru_utime
                           + after.ru_stime - before.ru_stime)
        assert proc is not None
        codes: dict[str, int] = {}
        for line in proc.stdout.splitlines():
            if line.strip():
                code = json.loads(line)["code"]
                codes[code] = codes.get(code, 0) + 1
        if proc.returncode not in (0, 1):
            print(proc.stderr, file=sys.stderr)
        return best, best_cpu, proc.returncode, codes


def main() -> None:
    """Print the table: N, wall-clock and CPU seconds, exit code, findings; then the goals."""
    wall: dict[int, float] = {}
    cpu: dict[int, float] = {}
    print(f"{'N':>6} {'seconds':>8} {'cpu s':>7} {'exit':>4}  findings")
    for n in SIZES:
        seconds, cpu_s, code, codes = time_check(n, runs=1 if n >= 5000 else 2)
        wall[n], cpu[n] = seconds, cpu_s
        found = ", ".join(f"{c} x{k}" for c, k in sorted(codes.items())) or "none"
        print(f"{n:>6} {seconds:>8.2f} {cpu_s:>7.2f} {code:>4}  {found}", flush=True)
    ratio = wall[5000] / wall[1000]
    cpu_ratio = cpu[5000] / cpu[1000]
    print(f"N=1,000 within 5 s: {'ok' if wall[1000] <= 5.0 else 'NO'} ({wall[1000]:.2f} s)")
    print(f"time(5,000)/time(1,000) = {ratio:.2f} ({'ok' if ratio <= 6 else 'OVER'} the 6x goal; "
          f"CPU time {cpu_ratio:.2f})")
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        print(f"note: load average {load:.1f} on {os.cpu_count()} cores: other work shares the "
              "machine, so wall-clock figures are inflated")


if __name__ == "__main__":
    main()
