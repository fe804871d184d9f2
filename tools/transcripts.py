"""Re-run the console transcripts of the docs, so they are real output of the current code.

A transcript is a fenced block opened with ```` ```console ````. In it, a line starting with
``$ guidec `` is a command; the lines after it, up to the next command or the end of the
block, are what the command printed (standard output, then standard error). A line ``...``
stands for any run of lines (for long outputs); ``[exit N]`` as the last line of a command's
output is its exit status when it is not 0. Commands run from the repository root with this
repository's code, 100 columns, no colour.

    python tools/transcripts.py --check README.md dsl/README.md    # exit 1 with a diff if stale
    python tools/transcripts.py --update README.md dsl/README.md   # rewrite the outputs

The expected-output files ``tests/expected/*.console`` are transcripts too, a whole file each
(what users read: `check`, `eval`, `test` and `diff` output); without arguments the tool
takes the docs and those files.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md", ROOT / "dsl" / "README.md")
#: Expected-output files: one transcript each, input and output kept together.
EXPECTED = ROOT / "tests" / "expected"
ELLIPSIS = "..."
_EXIT = re.compile(r"^\[exit (\d+)\]$")


@dataclass
class Command:
    """One command of a transcript: where it is, what it runs and what the docs say it prints."""

    line: int  # 1-based line of the `$ ` line in the file
    argv: list[str]
    expected: list[str]


def blocks(lines: list[str], whole: bool = False) -> list[tuple[int, int]]:
    """(first, last) line indices of each console block's body (``whole``: the file is one
    block, as an expected-output file ``tests/expected/*.console`` is)."""
    if whole:
        return [(0, len(lines))]
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i, line in enumerate(lines):
        if start is None and line.strip() == "```console":
            start = i + 1
        elif start is not None and line.strip() == "```":
            out.append((start, i))
            start = None
    return out


def commands(lines: list[str], first: int, last: int) -> list[Command]:
    """The commands of one block's body ``lines[first:last]``."""
    out: list[Command] = []
    for i in range(first, last):
        line = lines[i]
        if line.startswith("$ "):
            out.append(Command(i + 1, shlex.split(line[2:]), []))
        elif out:
            out[-1].expected.append(line)
    return out


def run(argv: list[str]) -> list[str]:
    """The lines a command prints, ending with ``[exit N]`` when N is not 0."""
    if not argv or argv[0] != "guidec":
        raise SystemExit(f"transcripts: only guidec commands can be re-run, not {argv!r}")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100", "NO_COLOR": "1",
           "TERM": "dumb"}
    proc = subprocess.run([sys.executable, "-m", "cli", *argv[1:]], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=300)
    lines = (proc.stdout + proc.stderr).splitlines()
    if proc.returncode:
        lines.append(f"[exit {proc.returncode}]")
    return lines


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected`` with each ``...`` line standing for any run."""
    pattern = "".join(r"(?:[^\n]*\n)*?" if line.strip() == ELLIPSIS
                      else re.escape(line.rstrip()) + r"\n" for line in expected)
    text = "".join(line.rstrip() + "\n" for line in actual)
    return re.fullmatch(pattern, text) is not None


def updated(expected: list[str], actual: list[str]) -> list[str]:
    """New expected lines: ``actual``, keeping one ``...`` elision with as many lines before
    and after it as the docs showed."""
    if ELLIPSIS not in [e.strip() for e in expected]:
        return actual
    k = [e.strip() for e in expected].index(ELLIPSIS)
    head, tail = expected[:k], expected[k + 1:]
    if len(head) + len(tail) >= len(actual):
        return actual
    return [*actual[:len(head)], ELLIPSIS, *actual[len(actual) - len(tail):]]


def process(path: Path, update: bool) -> list[str]:
    """Check (or update) one file; the stale commands as ``file:line`` diffs."""
    lines = path.read_text(encoding="utf-8").split("\n")
    stale: list[str] = []
    # From the last block up, so rewriting one block keeps the earlier line numbers.
    for first, last in reversed(blocks(lines, whole=path.suffix == ".console")):
        cmds = commands(lines, first, last)
        new_body: list[str] = []
        for cmd in cmds:
            actual = run(cmd.argv)
            expected = [e for e in cmd.expected]
            while expected and not expected[-1].strip():
                expected.pop()
            if not matches(expected, actual):
                rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                diff = "\n".join(difflib.unified_diff(expected, actual, "documented", "actual",
                                                      lineterm=""))
                stale.append(f"{rel}:{cmd.line}: `{' '.join(cmd.argv)}` is stale\n{diff}")
                expected = updated(expected, actual)
            new_body += [f"$ {shlex.join(cmd.argv)}", *expected]
        if update and cmds:
            lines[first:last] = new_body
    if update and stale:
        path.write_text("\n".join(lines), encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    """Check or update the transcripts of the given files (default: the docs)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 when a transcript is stale")
    mode.add_argument("--update", action="store_true", help="rewrite the stale outputs")
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    stale: list[str] = []
    for path in args.files or [*DOCS, *sorted(EXPECTED.glob("*.console"))]:
        stale += process(path.resolve(), args.update)
    for s in stale:
        print(s, end="\n\n")
    if stale and args.check:
        print(f"{len(stale)} stale transcript(s): run `python tools/transcripts.py --update`")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
