"""`make bench`: run every benchmark and print its figures (never part of `make test`)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

MODULES = ["bench_parse", "bench_check", "bench_language", "bench_evaluator", "bench_package",
           "bench_lsp",
           "bench_sql", "bench_diff"]


def main() -> int:
    """Run each benchmark module's ``main()`` that exists."""
    for name in MODULES:
        path = Path(__file__).with_name(f"{name}.py")
        if not path.exists():
            continue
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"tests.benchmarks.{name}")
        module.main()
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
