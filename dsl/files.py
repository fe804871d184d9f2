"""Writing files so that nothing already written is lost.

Every file guidec writes goes through :func:`atomic_writer`: the text goes to a temporary file
with a unique name in the target's directory, and replaces the target only when it is complete.
A reader never sees half a file; a failed, interrupted or concurrent run leaves the old file
and no temporary one. A symlink is written through (its target is replaced, the link stays)
and the target keeps its permissions. :func:`check_output` refuses, before anything is written,
an output that is an input, or not a regular writable file.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


class OutputError(Exception):
    """An output path that cannot or must not be written; the message says why."""


def describe(error: OSError) -> str:
    """An OS error in words, for a message after the path."""
    if error.errno == errno.ENAMETOOLONG:
        return "the file name is too long for this file system"
    if error.errno == errno.ENOSPC:
        return "the disk is full"
    if error.errno == errno.EDQUOT:
        return "the disk quota is exceeded"
    if error.errno == errno.EROFS:
        return "the file system is read-only"
    return error.strerror or str(error)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_output(path: str | Path, inputs: Iterable[str | Path] = ()) -> None:
    """Raise :class:`OutputError` unless ``path`` may be replaced by a new file: it is new (in
    a writable directory) or a regular, writable file, and it is none of ``inputs`` (also
    through a symlink or a hard link)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({describe(exc)})") from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{path}: is {_kind(st.st_mode)}; give a file name to write")
        for source in inputs:
            try:
                other = Path(source).stat()
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                raise OutputError(f"{path}: is the input {source}; writing the results there "
                                  "would destroy it, so give another file name")
        if not st.st_mode & 0o222 or not os.access(p, os.W_OK):
            raise OutputError(f"{path}: is read-only")
    directory = Path(os.path.realpath(p)).parent
    if not directory.is_dir():
        raise OutputError(f"{path}: the directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: the directory {directory} is not writable")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_writer(path: str | Path, errors: str = "strict") -> Iterator[IO[str]]:
    """A text file to write ``path``'s new content into (UTF-8, line feeds); it replaces
    ``path`` when the block ends without an exception. Raises :class:`OutputError` for a path
    that cannot be written. ``errors`` is the encoding's error handler."""
    with _replacing(path, binary=False, errors=errors) as f:
        yield f


@contextmanager
def _replacing(path: str | Path, binary: bool, errors: str = "strict") -> Iterator[IO[Any]]:
    target = Path(os.path.realpath(path))  # through a symlink: replace its target, keep it
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:40]}.",
                                   suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({describe(exc)})") from None
    try:
        os.fchmod(fd, mode)
        f: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(
            fd, "w", encoding="utf-8", newline="\n", errors=errors)
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot be written ({describe(exc)})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8, line feeds), atomically."""
    with atomic_writer(path) as f:
        f.write(text)


def write_bytes(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, atomically."""
    with _replacing(path, binary=True) as f:
        f.write(data)
