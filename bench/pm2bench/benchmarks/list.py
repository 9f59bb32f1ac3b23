"""`list`: wall time of one `pm2 list` / `pm2 jlist` call with 5 and 100 apps."""

import statistics
import subprocess
import time

from ..common import log
from ..managers import Session, start_apps
from ..stats import summary


def spawn_true(n):
    """Wall times (ms) of spawning /bin/true the way a CLI call is spawned: the harness floor."""
    out = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        subprocess.run(["/bin/true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL)
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


def time_command(m, cmd, runs, warm):
    """Summary of `runs` timed calls of `pm2 <cmd>` after `warm` untimed ones."""
    for _ in range(warm):
        m.time_cmd(cmd)
    s = summary([m.time_cmd(cmd) for _ in range(runs)])
    # harness floor right after: /bin/true spawned the same way
    s["true_floor_median"] = statistics.median(spawn_true(runs))
    return s


def run(ctx, res):
    """Fills res["spawn_true_ms"] and res["list_<n>"], res["jlist_<n>"] per manager."""
    runs, warm = ctx.args.runs, ctx.args.warmup
    spawn_true(warm)
    res["spawn_true_ms"] = summary(spawn_true(runs))
    for n in ctx.args.list_apps:
        for label in ctx.labels:
            with Session(ctx, label) as m:
                log(f"[list] {label}: starting {n} apps")
                start_apps(m, ctx.app, n)
                time.sleep(1.0)
                for cmd in ("list", "jlist"):
                    s = time_command(m, cmd, runs, warm)
                    res.setdefault(f"{cmd}_{n}", {})[label] = s
                    log(f"[list] {label} {cmd} {n} apps: median {s['median']:.2f} ms "
                        f"p90 {s['p90']:.2f} ms")
