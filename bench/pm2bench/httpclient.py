"""A client loop for reload benchmarks: one new connection per request, every outcome kept
(latency, failure kind, the pid that answered), on a thread of its own."""

import http.client
import socket
import threading
import time

from .stats import pct


def classify(e):
    """The failure kind of an exception from one request (RemoteDisconnected, the server
    closing without an answer, is a ConnectionResetError too: it is tested first)."""
    if isinstance(e, http.client.RemoteDisconnected):
        return "closed"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, ConnectionResetError):
        return "reset"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "timeout"
    return type(e).__name__


def served_pid(status, body):
    """The pid of an answer of the fixtures (`pid=<pid>`, status 200), or None."""
    if status != 200 or not body.startswith(b"pid="):
        return None
    try:
        return int(body[4:])
    except ValueError:
        return None


def one_request(port, timeout):
    """(start s, ms, failure kind or None, pid or None) of one GET / on a new connection;
    the start is time.perf_counter()."""
    t0 = time.perf_counter()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            c.request("GET", "/", headers={"Connection": "close"})
            r = c.getresponse()
            status, body = r.status, r.read()
        finally:
            c.close()
        pid = served_pid(status, body)
        kind = None if pid is not None else f"status {status}"
    except (OSError, http.client.HTTPException) as e:
        pid, kind = None, classify(e)
    return t0, (time.perf_counter() - t0) * 1000.0, kind, pid


def outages(outcomes):
    """[ms] of each stretch without an answer: from the start of its first failed request
    to the start of the next answered one (or the end of the last request)."""
    out, began = [], None
    for t, ms, kind, _ in outcomes:
        if kind is not None and began is None:
            began = t
        elif kind is None and began is not None:
            out.append((t - began) * 1000.0)
            began = None
    if began is not None:
        t, ms, _, _ = outcomes[-1]
        out.append((t - began) * 1000.0 + ms)
    return out


def outcome_summary(outcomes):
    """sent, failed, failures by kind, time without an answer, pids served and
    p50/p99/max latency of the answered requests, from [(start, ms, kind, pid)].
    A failed request is often an instant refusal, so `failed` says how fast the loop
    spun as much as how long the app was away: `outage_ms` is the time it was."""
    ok = [ms for _, ms, kind, _ in outcomes if kind is None]
    kinds = {}
    for _, _, kind, _ in outcomes:
        if kind is not None:
            kinds[kind] = kinds.get(kind, 0) + 1
    gaps = outages(outcomes)
    return {"sent": len(outcomes), "failed": len(outcomes) - len(ok), "by_kind": kinds,
            "outage_ms": sum(gaps), "longest_outage_ms": max(gaps, default=0.0),
            "pids": len({pid for _, _, _, pid in outcomes if pid is not None}),
            "p50_ms": pct(ok, 50), "p99_ms": pct(ok, 99),
            "max_ms": max(ok) if ok else float("nan")}


class ClientLoop:
    """Requests back to back on a thread until `stop()`; `outcomes` grows meanwhile."""

    def __init__(self, port, timeout=2.0):
        self.port, self.timeout = port, timeout
        self.outcomes = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            self.outcomes.append(one_request(self.port, self.timeout))

    def start(self):
        """Start sending."""
        self._thread.start()
        return self

    def stop(self):
        """Stop after the request in flight; returns every outcome."""
        self._stop.set()
        self._thread.join()
        return self.outcomes

    def served_by_other_than(self, pids):
        """The pid of an answer since the start from a process not in `pids`, or None."""
        for _, _, _, pid in reversed(self.outcomes):
            if pid is not None and pid not in pids:
                return pid
        return None
