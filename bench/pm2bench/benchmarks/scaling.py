"""`scaling`: `start`, `restart`, `stop` and `list` latency with 1, 10, 100 and 1,000 apps
running, each manager in the same run, against the floor of spawning `/bin/true`.

A cost that grows with the number of apps (state rewritten whole, every app encoded for the
table printed after a command) shows as a line that climbs with N in the plot; a flat line
is the goal. Each call's CPU time (the CLI's and the daemon's) is kept beside its wall
time: on a loaded machine wall time includes waiting for a CPU, CPU time does not.
Per N and manager: a fresh daemon in its own PM2_HOME, N idle `sleep` apps
from one ecosystem JSON (interpreter none, as `idle`), then repetitions of
`start app.sh --name x`, `restart x`, `stop x` (timed), `delete x` (not timed) and `list`
(timed), so every repetition sees the same N. PM2 7 at 1,000 apps needs seconds per call:
it gets --scale-slow-runs repetitions there instead of --scale-runs.
"""

import json
import os
import shutil
import statistics
import subprocess
import time

from ..callcost import call_cost
from ..common import log
from ..limits import check_for
from ..machine import utc_now
from ..managers import Session
from ..plot import ensure_plot_python, write_scaling_png
from ..procfs import loadavg
from ..scaling_view import COMMANDS, scaling_table
from ..stats import summary
from .list import spawn_true

#: from this many apps on, PM2 gets --scale-slow-runs repetitions
SLOW_FROM = 1000


def repetitions(label, n, args):
    """How many timed repetitions `label` gets with `n` apps."""
    if label == "pm2" and n >= SLOW_FROM:
        return min(args.scale_slow_runs, args.scale_runs)
    return args.scale_runs


def write_idle_ecosystem(m, n):
    """N `sleep 100000` apps named idle-0.. in one ecosystem JSON; returns its path."""
    sleep_bin = shutil.which("sleep") or "/bin/sleep"
    eco = os.path.join(m.home, "idle.json")
    with open(eco, "w") as f:
        json.dump({"apps": [{"name": f"idle-{i}", "script": sleep_bin, "args": ["100000"],
                             "interpreter": "none"} for i in range(n)]}, f)
    return eco


def one_repetition(m, app, timeout, cost=call_cost):
    """One timed start/restart/stop/list of app `x` with the N apps running:
    {cmd: {"wall", "cli_cpu", "daemon_cpu"}} (ms, from `cost`)."""
    out = {"start": cost(m, "start", app, "--name", "x", timeout=timeout),
           "restart": cost(m, "restart", "x", timeout=timeout),
           "stop": cost(m, "stop", "x", timeout=timeout)}
    m.run("delete", "x", timeout=timeout)
    out["list"] = cost(m, "list", timeout=timeout)
    return out


def summarise(costs):
    """The wall-time summary of one command's calls, with the medians of their CPU
    (the CLI's, the daemon's, and of their sum per call)."""
    s = summary([c["wall"] for c in costs])
    for key in ("cli_cpu", "daemon_cpu"):
        s[f"{key}_median"] = statistics.median(c[key] for c in costs)
    s["cpu_median"] = statistics.median(c["cli_cpu"] + c["daemon_cpu"] for c in costs)
    return s


def time_commands(m, app, runs, warm, timeout, cost=call_cost):
    """{cmd: summary} over `runs` repetitions after `warm` untimed ones, plus the floor
    measured between them (one `/bin/true` per timed call)."""
    for _ in range(warm):
        one_repetition(m, app, timeout, cost)
    samples = {c: [] for c in COMMANDS}
    floor = []
    for _ in range(runs):
        for c, x in one_repetition(m, app, timeout, cost).items():
            samples[c].append(x)
        floor += spawn_true(len(COMMANDS))
    out = {c: summarise(xs) for c, xs in samples.items()}
    out["floor"] = summary(floor)
    out["runs"] = runs
    return out


def session(ctx, label, n):
    """One manager with `n` idle apps: start them, settle, time the commands."""
    a = ctx.args
    timeout = 60 if n < SLOW_FROM else 300
    with Session(ctx, label) as m:
        m.run("ping")
        t0 = time.time()
        m.run("start", write_idle_ecosystem(m, n), timeout=600)
        m.wait_online(n, timeout=600)
        online_s = time.time() - t0
        time.sleep(a.scale_settle)  # let the start burst (spawns, first samples) pass
        runs = repetitions(label, n, a)
        r = time_commands(m, ctx.app, runs, min(a.warmup, runs), timeout)
        r["online_s"] = round(online_s, 1)
        r["loadavg"] = loadavg()
        log(f"[scaling] {label} {n} apps ({runs} runs): " + ", ".join(
            f"{c} {r[c]['median']:.1f} ms (CPU {r[c]['cpu_median']:.1f})" for c in COMMANDS)
            + f"; floor {r['floor']['median']:.2f} ms")
        return r  # the Session's `pm2 kill` stops the N apps


def preflight(ctx):
    """Before anything is measured: the plot's Python (unless --no-plot) and the limits
    the largest N needs; either missing stops the run with what to do."""
    if not ctx.args.no_plot:
        ensure_plot_python(ctx.args.plot_venv)
    problem, seen = check_for(max(ctx.args.scale_apps))
    if problem:
        raise SystemExit(f"scaling: {problem}")
    log(f"[scaling] limits: {seen}")


def floor_of(per_label):
    """The floor of one N: the median over every manager's block of its `/bin/true` runs."""
    xs = [r["floor"]["median"] for r in per_label.values()]
    return {"median": statistics.median(xs), "p90": max(r["floor"]["p90"]
                                                        for r in per_label.values())}


def run(ctx, res):
    """Fills res["scaling"]: settings, load, limits, and {str(n): {label: ..., "floor"}}.
    `preflight` has run before (bench/run.py calls it before any benchmark)."""
    a = ctx.args
    _, seen = check_for(max(a.scale_apps))
    out = {"apps": a.scale_apps, "runs": a.scale_runs, "slow_runs": a.scale_slow_runs,
           "slow_from": SLOW_FROM, "settle_s": a.scale_settle, "limits": seen,
           "date": utc_now(), "pm2_rs": ctx.ours_rev, "pm2_version": ctx.pm2_version,
           "nproc": os.cpu_count(), "loadavg_start": loadavg(), "by_n": {}}
    res["scaling"] = out
    for n in a.scale_apps:
        per = {}
        for label in ctx.labels:
            per[label] = session(ctx, label, n)
        per["floor"] = floor_of(per)
        out["by_n"][str(n)] = per
    out["loadavg_end"] = loadavg()
    print(scaling_table(out), flush=True)
    print(flush=True)
    print(scaling_table(out, cpu=True), flush=True)
    if not a.no_plot:  # a failing plot must not lose the measurements (--json keeps them)
        try:
            out["png"] = write_scaling_png(out, a.plot, a.plot_venv)
            log(f"[scaling] wrote {out['png']}")
        except (OSError, subprocess.SubprocessError, SystemExit) as e:
            out["png_error"] = str(e)
            log(f"[scaling] the plot failed: {e}; `report --from-json FILE --plot PNG` "
                f"draws it again")
