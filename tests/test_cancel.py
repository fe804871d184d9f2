"""The solver's run can be stopped from another thread (the editor's server does it when the
user edits the document being checked): the run ends early, without raising, and a run
cancelled before it starts asks nothing."""

from __future__ import annotations

import threading
import time

from compiler.limits import Cancel, Deadline
from compiler.pipeline import check_text
from dsl.parser import parse
from tests.benchmarks.bench_check import generate


def test_a_cancelled_run_asks_nothing() -> None:
    cancel = Cancel()
    cancel.cancel()
    assert Deadline(cancel=cancel).expired
    text = generate(40)
    whole = check_text(text, "x.guide")
    stopped = check_text(text, "x.guide", cancel=cancel)
    assert stopped.ok and whole.ok
    solver = {d.code for d in whole.diagnostics} - \
        {d.code for d in check_text(text, "x.guide", analyze=False).diagnostics}
    assert solver  # the whole run finds something the fast checks do not
    assert not solver & {d.code for d in stopped.diagnostics}


def test_cancelling_mid_run_stops_it_early() -> None:
    text = generate(600)
    g = parse(text, "x.guide")  # as the editor does: its tree is already there
    t0 = time.perf_counter()
    check_text(text, "x.guide", tree=lambda _: g)
    whole = time.perf_counter() - t0
    cancel = Cancel()
    done: list[float] = []
    worker = threading.Thread(target=lambda: (check_text(text, "x.guide", tree=lambda _: g,
                                                         cancel=cancel),
                                              done.append(time.perf_counter())))
    t0 = time.perf_counter()
    worker.start()
    time.sleep(whole / 10)
    cancel.cancel()
    worker.join(timeout=whole * 3)
    assert done, "the run did not end"
    assert done[0] - t0 < 0.8 * whole, (done[0] - t0, whole)
