"""`nodeapi`: PM2's Node API as `require('pm2')` sees it, with PM2 7's own npm client.

`pm2.list()` latency with 5 and 100 apps (the call scripts, modules and dashboards make
most), and bus throughput: log lines per second a `launchBus()` subscriber receives from an
app printing as fast as it can.
"""

import json
import os
import subprocess
import time

from ..common import BENCH_DIR, log
from ..managers import Session, start_apps
from ..stats import summary

SCRIPT = os.path.join(BENCH_DIR, "nodeapi.js")
SPEW = os.path.join(BENCH_DIR, "spew.js")
#: lines the bus benchmark's app prints
BUS_LINES = 200000


def node_api(ctx, m, *args, timeout=300):
    """Runs bench/nodeapi.js against `m`'s daemon; its JSON report."""
    package = os.path.join(ctx.npm_dir, "node_modules", "pm2")
    out = subprocess.run(["node", SCRIPT, package, *map(str, args)], env=m.env, cwd=m.home,
                         capture_output=True, text=True, timeout=timeout, check=False)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"{m.label}: nodeapi.js gave nothing: {out.stderr[-400:]}")
    return json.loads(lines[-1])


def run(ctx, res):
    """Fills res["api_list_<n>"] and res["api_bus"] per manager."""
    for n in ctx.args.list_apps:
        for label in ctx.labels:
            with Session(ctx, label) as m:
                log(f"[nodeapi] {label}: starting {n} apps")
                start_apps(m, ctx.app, n)
                time.sleep(1.0)
                r = node_api(ctx, m, "list", ctx.args.runs, ctx.args.warmup)
                s = summary(r["list_ms"])
                res.setdefault(f"api_list_{n}", {})[label] = s
                log(f"[nodeapi] {label} pm2.list() {n} apps: median {s['median']:.2f} ms")
    for label in ctx.labels:
        with Session(ctx, label) as m:
            m.run("ping")
            r = node_api(ctx, m, "bus", BUS_LINES, SPEW)
            rate = r["lines"] / r["secs"] if r.get("secs") else 0.0
            res.setdefault("api_bus", {})[label] = {"lines": r["lines"], "secs": r["secs"],
                                                    "lines_per_s": rate}
            log(f"[nodeapi] {label} bus: {r['lines']} lines in {r['secs']:.2f} s "
                f"({rate:,.0f}/s)")
