"""Shared pieces of the adversarial suite: a small valid guideline to vary, and the CLI runner
that asserts a command ended as the convention says (code, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
GUIDEC = [sys.executable, "-m", "cli"]
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"

#: A small guideline that checks clean; tests replace its parts with hostile ones.
SMALL = '''guideline small "Small"
  version 1.0.0
  status approved
  updated 2026-01-24
  owner "Tests"

input x "X": integer 0..100
input y "Y": number 0..100

action act other "Act" strong
  cite r1

reference r1 consensus "Committee"

pathway
  start -> s

  step s "S"
    recommend act when x > 1 and y > 0.5
    then -> e

  end e
'''

#: Sequences that act on a terminal: erase the line, clear the screen, retitle the window, a
#: bare carriage return, a C1 CSI, a bidi override, a line separator, a colour.
TERMINAL_ATTACKS = ("\x1b[2K", "\x1b[2J", "\x1b]0;pwned\x07", "\r", "\x9b2K", "\u202e",
                    "\u2028", "\x1b[1;31m")


def run(*args: str, cwd: Path | None = None, stdin: str | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run guidec as a user would (a subprocess), capturing its output as text."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([*GUIDEC, *args], capture_output=True, text=True, cwd=cwd or ROOT,
                          env=env, timeout=timeout, input=stdin, errors="surrogateescape")


def assert_exit(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """The command exited with ``code``, without a traceback, and said each of ``needles``."""
    text = proc.stdout + proc.stderr
    assert proc.returncode == code, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    for needle in needles:
        assert needle in text, text[-3000:]
    return text
