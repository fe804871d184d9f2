"""Reading guideline files: UTF-8 text, or a clear one-line error naming the file."""

from __future__ import annotations

import os
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
    data = read_limited(p, MAX_BYTES, "a guideline")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: is not UTF-8 text (byte 0x{data[exc.start]:02x} at "
                         f"offset {exc.start}); save it as UTF-8") from None
    return text.removeprefix("\ufeff")


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``, refusing (before reading it all) a file larger than ``limit``:
    the size is checked first, and at most ``limit + 1`` bytes are read (a device or a pipe
    has no size)."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise InputError(f"{path}: {size:,} bytes is too large for {what} "
                                 f"(limit {limit:,})")
            data = f.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise InputError(f"{path}: more than {limit:,} bytes is too large for {what}")
    return data
