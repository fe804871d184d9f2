"""Reading guideline files: UTF-8 text, or a clear one-line error naming the file."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A file that cannot be read as a guideline (missing, a directory, not UTF-8, ...)."""


MAX_BYTES = 5_000_000


def read_source(path: str | Path) -> str:
    """Read a guideline file as UTF-8 text; raise :class:`InputError` with a clear message."""
    p = Path(path)
    if str(path) == "-":
        raise InputError("reading a guideline from standard input is not supported; name a file")
    if not p.exists():
        raise InputError(f"{path}: no such file")
    if p.is_dir():
        raise InputError(f"{path}: is a directory, not a .guide file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(data) > MAX_BYTES:
        raise InputError(f"{path}: {len(data):,} bytes is too large for a guideline "
                         f"(limit {MAX_BYTES:,})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: is not UTF-8 text (byte 0x{data[exc.start]:02x} at "
                         f"offset {exc.start}); save it as UTF-8") from None
    return text.removeprefix("\ufeff")
