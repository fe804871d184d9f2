"""Issue 16 benchmark: `guidec check` (a subprocess, solver included) on a generated guideline of
N decisions over the newer constructs: quantities with units and conversions, durations between
two dates and times, a points score, a set input with `has any of`, `between`, `xor` and an
input with a default. Reports the time at N = 1,000 and the ratio time(5,000) / time(1,000)
(goal <= 6).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tests.benchmarks.bench_check import action_pairs, preamble, time_check

ROOT = Path(__file__).resolve().parents[2]
SIZES = (1000, 5000)


def generate(n: int) -> str:
    """A sound guideline with ``n`` decisions in a chain over units, a score and a set."""
    out = [*preamble("bench_language", "Language benchmark"),
           "input glucose \"Glucose\": number > 0 and <= 100 unit 'mmol/L' "
           "convert 18.016 'mg/dL' typical 2..30",
           "input sbp \"Systolic\": integer 40..300 unit 'mm[Hg]' typical 80..220",
           "input weight \"Weight\": number > 0 and <= 400 unit 'kg' typical 40..120",
           "input age \"Age\": integer 18..110",
           "input flags \"Flags\": optional set of a, b, c, d default ()",
           "input x1 \"X1\": boolean", "input x2 \"X2\": boolean",
           "input surgery \"Recent surgery\": optional boolean default false",
           'input onset "Onset": datetime', 'input seen "Seen": datetime',
           "assume hours between onset and seen >= 0 hours",
           'let score "Score" = points (1 if age >= 65, 2 if sbp < 90 \'mm[Hg]\', '
           "1 if flags has a, 1 if x1 xor x2)"]
    out += action_pairs(n)
    out.append("pathway")
    out.append("  start -> d0")
    for k in range(n):
        nxt = f"d{k + 1}" if k + 1 < n else "done"
        g = 60 + k % 200
        s = 11 + k % 10
        policy = " first" if k % 2 else ""
        out.append(f'  decide d{k} "Question {k}?"{policy}')
        out.append(f"    when score >= 3 and glucose > {g} 'mg/dL' -> s{k}")
        out.append(f"    when score < 3 and (sbp < {s} 'kPa' or flags has any of (b, c)) -> t{k}")
        out.append(f"    otherwise -> {nxt}")
        out.append(f'  step s{k} "Step s{k}"')
        out.append(f"    recommend a{k} when weight between 40000 'g' and 90 'kg' or surgery"
                   f" or hours between onset and seen <= {1 + k % 9} hours")
        out.append(f"    then -> {nxt}")
        out.append(f'  step t{k} "Step t{k}"')
        out.append(f"    recommend b{k}")
        out.append(f"    then -> {nxt}")
    out.append('  end done "Done"')
    return "\n".join(out) + "\n"


def main() -> None:
    """Print the timings as JSON."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            path = Path(tmp) / f"lang{n}.guide"
            path.write_text(generate(n), encoding="utf-8")
            wall, cpu, code, counts = time_check(n, path=path)
            results[n] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "exit": code,
                          "findings": counts}
    ratio = float(results[5000]["wall_s"]) / float(results[1000]["wall_s"])  # type: ignore
    print(json.dumps({"language_check": results, "ratio_5000_1000": round(ratio, 2)},
                     indent=2))


if __name__ == "__main__":
    sys.exit(main())
