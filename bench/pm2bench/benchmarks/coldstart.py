"""`coldstart`: `pm2 ping` with no daemon running (the CLI spawns the daemon, waits for it)."""

import time

from ..common import log
from ..managers import Session
from ..procfs import pid_alive
from ..stats import summary


def ping_cold(m):
    """Time one `pm2 ping` that has to start the daemon, then stop that daemon."""
    assert m.daemon_pid() is None or not pid_alive(m.daemon_pid())
    dt = m.time_cmd("ping", timeout=60)
    pid = m.daemon_pid()
    if not pid or not pid_alive(pid):
        raise RuntimeError(f"{m.label}: no live daemon after ping")
    m.kill_daemon_only()
    time.sleep(0.2)
    return dt


def run(ctx, res):
    """Fills res["coldstart"][label]; the first run in a fresh home is discarded."""
    runs = ctx.args.cold_runs
    for label in ctx.labels:
        with Session(ctx, label) as m:
            xs = [ping_cold(m) for _ in range(runs + 1)][1:]
            s = summary(xs)
            res.setdefault("coldstart", {})[label] = s
            log(f"[coldstart] {label}: median {s['median']:.1f} ms p90 {s['p90']:.1f} ms")
