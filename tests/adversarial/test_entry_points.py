"""Every command against every kind of unreadable or hostile guideline file: the documented
exit code, a message that names the file, never a traceback, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adversarial.hostile import SMALL, assert_exit, run

#: kind -> (file content, expected exit code, text the message holds)
FILES: dict[str, tuple[bytes | None, int, str]] = {
    "missing": (None, 2, "no such file"),
    "a directory": (b"", 2, "is a directory"),
    "not UTF-8": (SMALL.encode("utf-8").replace(b"Small", b"Sm\xffall"), 2, "not UTF-8"),
    "binary": (bytes(range(256)) * 8, 2, "not UTF-8"),
    "empty": (b"", 1, "E004"),
    "a NUL byte": (SMALL.replace("input x", "input\0x").encode("utf-8"), 1, "E001"),
    "only junk": (b"}}}{{{ ]]] \"\"\" ''' \\\\ \x1b[2J", 1, "error["),
    "a BOM": (b"\xef\xbb\xbf" + SMALL.encode("utf-8"), 0, ""),
}

COMMANDS = {
    "check": ("check", "{f}"),
    "fmt --check": ("fmt", "--check", "{f}"),
    "build": ("build", "{f}", "-o", "{out}", "-t", "python"),
    "eval": ("eval", "{f}", "--patient", "nobody"),
    "test": ("test", "{f}"),
    "diff": ("diff", "{f}", "{f}"),
}


@pytest.mark.parametrize("kind", sorted(FILES))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_on_every_bad_file(tmp_path: Path, command: str, kind: str) -> None:
    content, code, needle = FILES[kind]
    path = tmp_path / "g.guide"
    if kind == "a directory":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    out = tmp_path / "out"
    args = [a.format(f=path, out=out) for a in COMMANDS[command]]
    proc = run(*args)
    if kind == "a BOM":  # a BOM is read as UTF-8 text; each command then does its job
        assert "Traceback" not in proc.stdout + proc.stderr
        assert proc.returncode in (0, 1, 2), proc.stderr
        return
    if command == "diff" and code == 1:  # a side with errors cannot be compared at all
        code, needle = 2, "has errors"
    if command == "eval" and code == 0:
        code = 2
    text = assert_exit(proc, code, needle)
    assert str(path) in text or (kind == "missing" and "g.guide" in text)
    assert "\x1b[2J" not in text
    assert not out.exists() or not any(out.iterdir())
