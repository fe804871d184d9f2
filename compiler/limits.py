"""Bounds on the solver: a time limit per query and per run, and Ctrl-C during a query.

z3's ``rlimit`` (a count of basic steps) keeps results the same on every machine, and it is
the limit that normally decides when a query gives up. Some problems (pigeonhole-like
constraints, wide enumerations) spend a long time between two rlimit checks, so a wall-clock
limit backs it up: a query stops after ``QUERY_SECONDS``, and a run asks no more questions
after ``RUN_SECONDS`` (the questions left are undecided, W510). Both can be set with the
environment variables ``GUIDEC_QUERY_SECONDS`` and ``GUIDEC_RUN_SECONDS``.

z3 runs a query in C and Python delivers Ctrl-C only when it returns; :func:`interruptible`
interrupts the query from a helper thread as soon as the signal arrives, so that ``guidec
check`` stops at once (exit 130).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _seconds(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


#: Wall-clock limit of one solver query, in seconds.
QUERY_SECONDS = _seconds("GUIDEC_QUERY_SECONDS", 10.0)
#: After this many seconds a run asks no more questions.
RUN_SECONDS = _seconds("GUIDEC_RUN_SECONDS", 60.0)


class Cancel:
    """A run's off switch, flipped from another thread (the editor's server, when the user
    edits the document the solver is checking): the query running is interrupted and the run
    asks no more questions. Its findings are then incomplete: the caller drops them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._contexts: list[Any] = []
        self.cancelled = False

    def attach(self, ctx: Any) -> None:
        """Interrupt the queries of z3 context ``ctx`` on :meth:`cancel` (at once if it was
        already cancelled)."""
        with self._lock:
            self._contexts.append(ctx)
            if self.cancelled:
                ctx.interrupt()

    def cancel(self) -> None:
        """Stop the run: interrupt its query, and let it ask no more."""
        with self._lock:
            self.cancelled = True
            for ctx in self._contexts:
                ctx.interrupt()


class Deadline:
    """The time left to a run of the analysis (or of a diff), and its off switch."""

    def __init__(self, seconds: float | None = None, cancel: Cancel | None = None) -> None:
        self.end = time.monotonic() + (RUN_SECONDS if seconds is None else seconds)
        self.cancel = cancel

    @property
    def expired(self) -> bool:
        """Whether the run should ask no more questions."""
        return time.monotonic() >= self.end or (self.cancel is not None and
                                                self.cancel.cancelled)

    def query_ms(self) -> int:
        """The timeout of the next query in milliseconds: its own limit, or the run's rest."""
        rest = self.end - time.monotonic()
        return max(1, int(1000 * min(QUERY_SECONDS, rest)))


def limited_check(solver: Any, assumptions: Iterator[Any] | list[Any], rlimit: int,
                  deadline: Deadline) -> Any:
    """``solver.check(*assumptions)`` within ``rlimit`` (absolute, as z3 counts it) and the
    deadline's time."""
    solver.set("rlimit", rlimit)
    solver.set("timeout", deadline.query_ms())
    # z3's own Ctrl-C handler would swallow the signal (the query would just be "unknown");
    # without it Python sees Ctrl-C, and interruptible() cancels the query.
    solver.set("ctrl_c", False)
    return solver.check(*assumptions)


@contextmanager
def interruptible(ctx: Any) -> Iterator[None]:
    """While inside, Ctrl-C (and SIGTERM) interrupt the z3 query running in ``ctx``; Python
    then raises as usual when the query returns. A no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read, write = os.pipe()
    os.set_blocking(write, False)
    try:
        previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except ValueError:
        os.close(read)
        os.close(write)
        yield
        return
    stop = threading.Event()

    def watch() -> None:
        while True:
            try:
                data = os.read(read, 64)
            except OSError:
                return
            if stop.is_set() or not data:
                return
            if any(b in (signal.SIGINT, signal.SIGTERM) for b in data):
                ctx.interrupt()

    watcher = threading.Thread(target=watch, name="guidec-interrupt", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        stop.set()
        os.write(write, b"\0")  # wakes the watcher, which sees ``stop``
        watcher.join(1)
        os.close(write)
        os.close(read)
