"""Issue 2 benchmarks: parser throughput on a generated 1,000-rule guideline, and the start-up
cost of `guidec fmt --check` on a small file against `python -c "import lark, click"`."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def generate(rules: int) -> str:
    """A syntactically rich guideline with ``rules`` never/require/conflict/caution rules and a
    decision per ten rules."""
    out = ['guideline bench "Benchmark"', "  version 1.0.0", "  status draft",
           "  updated 2026-01-01", '  owner "bench"', "",
           'reference r1 guideline "Ref" source "Somewhere" year 2026']
    for i in range(10):
        out.append(f'input n{i} "Number {i}": integer 0..100 step 1')
        out.append(f'input e{i} "Enum {i}": one of a, b, c')
        out.append(f'input b{i} "Flag {i}": boolean')
    for i in range(rules // 10 + 1):
        out.append(f'action act{i} systemic "Action {i}" strong cite r1')
    out.append("pathway")
    out.append("  start -> d0")
    for i in range(rules // 10):
        nxt = f"d{i + 1}" if i + 1 < rules // 10 else "done"
        out.append(f'  decide d{i} "Question {i}?"')
        out.append(f'    when n{i % 10} < 30 and e{i % 10} == a -> s{i}')
        out.append(f'    when n{i % 10} >= 30 or not b{i % 10} -> {nxt}')
        out.append(f'    otherwise -> {nxt}')
        out.append(f'  step s{i} "Step {i}"')
        out.append(f'    recommend act{i} when b{(i + 1) % 10} and n{(i + 2) % 10} > 10')
        out.append(f'    then -> {nxt}')
    out.append('  end done "Done"')
    kinds = ("never act{a} when n{k} > {v} and e{k} != b \"reason\" cite r1",
             "require act{a} when b{k} and n{k} <= {v} \"reason\" cite r1",
             "conflict act{a}, act{b} \"reason\" cite r1",
             "caution c{i} \"text\" when e{k} in (a, c) and n{k} + n{j} > {v} cite r1")
    for i in range(rules):
        t = kinds[i % 4]
        out.append(t.format(a=i % (rules // 10), b=(i + 1) % (rules // 10), k=i % 10,
                            j=(i + 3) % 10, v=i % 90, i=i))
    return "\n".join(out) + "\n"


def bench_parse(rules: int = 1000, repeat: int = 5) -> tuple[int, float]:
    """Lines per second of ``dsl.parser.parse`` (best of ``repeat``)."""
    from dsl.parser import parse

    text = generate(rules)
    parse(text, "warm.guide")
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        parse(text, "bench.guide")
        times.append(time.perf_counter() - t0)
    lines = text.count("\n")
    return lines, lines / min(times)


def _time(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def bench_fmt_startup(runs: int = 15) -> tuple[float, float]:
    """Median whole-process seconds of `guidec fmt --check small.guide` and of the baseline
    `python -c "import lark, click"`, interleaved in one run."""
    small = ROOT / "tests" / "benchmarks" / "small.guide"
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "small.guide"
        target.write_text(small.read_text(encoding="utf-8"), encoding="utf-8")
        guidec = [str(Path(sys.executable).with_name("guidec")), "fmt", "--check", str(target)]
        base = [sys.executable, "-c", "import lark, click"]
        _time(guidec, 2)
        fmt_times, base_times = [], []
        for _ in range(runs):
            fmt_times.append(_time(guidec, 1))
            base_times.append(_time(base, 1))
    return statistics.median(fmt_times), statistics.median(base_times)


def main() -> None:
    """Print the issue 2 figures."""
    lines, lps = bench_parse()
    print(f"parse: 1,000-rule guideline, {lines:,} lines: {lps:,.0f} lines/s")
    fmt_s, base_s = bench_fmt_startup()
    ratio = fmt_s / base_s
    verdict = "ok" if ratio <= 1.5 else "OVER the 1.5x goal"
    print(f"startup: guidec fmt --check small file {fmt_s * 1000:.0f} ms; "
          f'python -c "import lark, click" {base_s * 1000:.0f} ms; ratio {ratio:.2f} ({verdict})')


if __name__ == "__main__":
    main()
