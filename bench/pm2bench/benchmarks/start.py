"""`start`: wall time of `pm2 start` of one more app with 0 and 100 apps already running.

The app started is the same `app.sh` as the others, under a name of its own (`x`); after
each timed start an untimed `pm2 delete x` puts the table back, so every run starts from
the same N. A cost that grows with N (state rewritten whole, every app's environment
encoded for the table printed after the start) shows as a ratio above 1 between the rows.
"""

from ..common import log
from ..managers import Session, start_apps
from ..stats import summary
from .list import spawn_true

import statistics


def time_starts(m, app, runs, warm):
    """Summary of `runs` timed `start app --name x` calls (after `warm`), each undone."""
    def once():
        dt = m.time_cmd("start", app, "--name", "x")
        m.run("delete", "x")
        return dt
    for _ in range(warm):
        once()
    return summary([once() for _ in range(runs)])


def run(ctx, res):
    """Fills res["start_<n>"][label] for each n of --start-apps."""
    runs, warm = ctx.args.runs, ctx.args.warmup
    for n in ctx.args.start_apps:
        for label in ctx.labels:
            with Session(ctx, label) as m:
                log(f"[start] {label}: starting {n} apps")
                m.run("ping")
                start_apps(m, ctx.app, n)
                s = time_starts(m, ctx.app, runs, warm)
                s["true_floor_median"] = statistics.median(spawn_true(runs))
                res.setdefault(f"start_{n}", {})[label] = s
                log(f"[start] {label} start with {n} apps: median {s['median']:.2f} ms "
                    f"p90 {s['p90']:.2f} ms")
