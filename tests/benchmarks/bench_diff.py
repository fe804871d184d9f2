"""Issue 8 benchmark: `guidec diff` of two 1,000-decision guidelines that differ in one
threshold, whole process, printed with the start-up of `guidec --version` as a baseline."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path


def chain(n: int, threshold: int = 50) -> str:
    """A chain of ``n`` decisions over three integer inputs and an enum; decision n//2 uses
    ``threshold``."""
    out = ['guideline chain "Chain"', "  version 1.0.0", "  status draft",
           "  updated 2026-01-01", '  owner "bench"', "",
           'reference r1 guideline "Ref" source "S" year 2026']
    for i in range(3):
        out.append(f'input n{i} "Number {i}": integer 0..100')
    out.append('input e "Enum": one of a, b, c')
    for i in range(n):
        out.append(f'action act{i} systemic "Action {i}" strong cite r1')
    out += ["pathway", "  start -> d0"]
    for i in range(n):
        nxt = f"d{i + 1}" if i + 1 < n else "done"
        t = threshold if i == n // 2 else 30 + i % 40
        out += [f'  decide d{i} "Question {i}?"',
                f"    when n{i % 3} < {t} and e == a -> s{i}",
                f"    when n{i % 3} >= {t} -> {nxt}",
                f"    when n{i % 3} < {t} and e != a -> {nxt}",
                f'  step s{i} "Step {i}"', f"    recommend act{i}", f"    then -> {nxt}"]
    out.append('  end done "Done"')
    return "\n".join(out) + "\n"


def main() -> None:
    """Print the whole-process time of the diff."""
    guidec = str(Path(sys.executable).with_name("guidec"))
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old.guide"
        new = Path(tmp) / "new.guide"
        old.write_text(chain(1000, 50), encoding="utf-8")
        new.write_text(chain(1000, 55), encoding="utf-8")
        t0 = time.perf_counter()
        subprocess.run([guidec, "--version"], capture_output=True, check=True)
        base = time.perf_counter() - t0
        t0 = time.perf_counter()
        proc = subprocess.run([guidec, "diff", str(old), str(new), "--format", "json"],
                              capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - t0
    import json

    report = json.loads(proc.stdout) if proc.returncode == 0 else {}
    changed = [b["action"] for b in report.get("behavioural", []) if "action" in b]
    print(f"diff: two 1,000-decision guidelines, one threshold apart: {elapsed:.2f} s whole "
          f"process (guidec --version: {base:.2f} s); behavioural changes: {changed}")


if __name__ == "__main__":
    main()
