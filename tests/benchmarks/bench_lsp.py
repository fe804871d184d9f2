"""Issue 19 benchmark: the language server's latency, as an editor sees it.

`guidec lsp` runs as a subprocess on stdio, driven by a minimal JSON-RPC client (framed
messages on pipes, no library in between). After opening a document, each round changes one
threshold (alternately, so that every version differs and the solver has work) and times:

- from sending the change to the first `publishDiagnostics` for that version (syntax, names
  and types: goal under 50 ms, median and 95th percentile; the server parses again only the
  pieces of the file that changed, dsl/incremental.py);
- from sending the change to the second one, the solver's findings (the 0.4 s pause in
  typing included: goal under 2 s).

On the flagship (30 rounds of a changed threshold, 30 of a line inserted near the top, which
moves every line below it) and on the 1,000-decision guide of `bench_check` (5 rounds);
figures for both are reported, the goals apply to the flagship.
"""

from __future__ import annotations

import json
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"


class Client:
    """The server in a subprocess, and the messages it sends, each with its arrival time."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "cli", "lsp"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.inbox: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.ids = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = json.loads(out.read(length))
            self.inbox.put((time.perf_counter(), body))

    def send(self, method: str, params: dict[str, Any], request: bool = False) -> int | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.ids += 1
            message["id"] = self.ids
        data = json.dumps(message).encode("utf-8")
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        stdin.flush()
        return message.get("id")

    def wait(self, match: Any, timeout: float = 120.0) -> tuple[float, dict[str, Any]]:
        end = time.perf_counter() + timeout
        while True:
            at, body = self.inbox.get(timeout=max(0.01, end - time.perf_counter()))
            if match(body):
                return at, body

    def close(self) -> None:
        rid = self.send("shutdown", {}, request=True)
        self.wait(lambda b: b.get("id") == rid)
        self.send("exit", {})
        self.proc.wait(timeout=10)


def diagnostics_of(version: int) -> Any:
    return lambda b: (b.get("method") == "textDocument/publishDiagnostics" and
                      b["params"].get("version") == version)


def measure(text: str, old: str, new: str, rounds: int) -> dict[str, float]:
    """Open ``text``, then change ``old`` to ``new`` and back, ``rounds`` times."""
    client = Client()
    rid = client.send("initialize", {"processId": None, "rootUri": ROOT.as_uri(),
                                     "capabilities": {}}, request=True)
    client.wait(lambda b: b.get("id") == rid)
    client.send("initialized", {})
    uri = (ROOT / "bench.guide").as_uri()
    client.send("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "guide", "version": 1, "text": text}})
    client.wait(diagnostics_of(1))
    client.wait(diagnostics_of(1))  # the solver's, before the rounds start
    fast, solver = [], []
    for k in range(rounds):
        version = k + 2
        body = text.replace(old, new, 1) if k % 2 == 0 else text
        sent = time.perf_counter()
        client.send("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"text": body}]})
        first, _ = client.wait(diagnostics_of(version))
        second, _ = client.wait(diagnostics_of(version))
        fast.append(first - sent)
        solver.append(second - sent)
    client.close()

    def p95(xs: list[float]) -> float:
        return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]

    return {"rounds": rounds,
            "fast_median_ms": round(1000 * statistics.median(fast), 1),
            "fast_p95_ms": round(1000 * p95(fast), 1),
            "solver_median_s": round(statistics.median(solver), 2),
            "solver_p95_s": round(p95(solver), 2)}


def main() -> None:
    """Print the figures as JSON."""
    from tests.benchmarks.bench_check import generate

    flagship = FLAGSHIP.read_text(encoding="utf-8")
    figures: dict[str, Any] = {
        "flagship, a threshold changed": measure(flagship, "kps < 70", "kps < 60", rounds=30),
        "flagship, a line inserted at the top": measure(
            flagship, "\ninput kps", "\n# a new line\ninput kps", rounds=30),
        "1,000 decisions": measure(generate(1000), "n0 < 30", "n0 < 31", rounds=5),

    }
    flagship_runs = [v for k, v in figures.items() if k.startswith("flagship")]
    figures["goals"] = {
        "fast_under_50_ms": all(f["fast_p95_ms"] < 50 for f in flagship_runs),
        "solver_under_2_s": all(f["solver_p95_s"] < 2 for f in flagship_runs)}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
