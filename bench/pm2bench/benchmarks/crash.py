"""`crash`: interval between consecutive starts of an app that exits 1 at once, under each
manager and under bare loops (sh, Python posix_spawn) running the same binary."""

import json
import os
import shlex
import subprocess
import tempfile
import time

from ..common import BENCH_DIR, log
from ..cprog import compile_c
from ..managers import Session, app_restarts, app_status
from ..stats import summary

#: starts dropped at the beginning of each log (start-up noise)
SKIP = 5


def compile_crash(logfile, out):
    """Build crash.c with `logfile` compiled in as the file it appends its start time to."""
    compile_c(os.path.join(BENCH_DIR, "crash.c"), out, f'-DCRASH_LOG_PATH="{logfile}"',
              purpose="crash")


def intervals_ms(logfile, skip=SKIP):
    """Intervals (ms) between the recorded starts, the first `skip` starts dropped."""
    with open(logfile) as f:
        ts = [int(x) for x in f.read().split()]
    ts = ts[skip:]
    return [(b - a) / 1000.0 for a, b in zip(ts, ts[1:])]


def bare_loops(ctx, n, res):
    """The baselines: a shell loop, then a Python posix_spawn+waitpid loop."""
    d = tempfile.mkdtemp(prefix="crash-bare-", dir=ctx.workdir)
    lf = os.path.join(d, "starts.log")
    exe = os.path.join(d, "crash")
    compile_crash(lf, exe)
    loop = f'i=0; while [ $i -lt {n + SKIP} ]; do {shlex.quote(exe)}; i=$((i+1)); done'
    subprocess.run(["sh", "-c", loop], check=True)
    s = summary(intervals_ms(lf))
    res.setdefault("crash", {})["bare_sh"] = s
    log(f"[crash] bare sh loop: median {s['median']:.3f} ms")
    lf2 = os.path.join(d, "starts2.log")
    exe2 = os.path.join(d, "crash2")
    compile_crash(lf2, exe2)
    for _ in range(n + SKIP):
        pid = os.posix_spawn(exe2, [exe2], os.environ)
        os.waitpid(pid, 0)
    s = summary(intervals_ms(lf2))
    res["crash"]["bare_py"] = s
    log(f"[crash] bare python loop: median {s['median']:.3f} ms")


def start_crasher(m, exe):
    """Start crash under `m`: interpreter none, max_restarts 10000000, min_uptime 1000
    (PM2 through an ecosystem JSON: it has no --min-uptime flag)."""
    if m.label == "pm2":
        eco = os.path.join(m.home, "crash.json")
        with open(eco, "w") as f:
            json.dump({"apps": [{
                "name": "crash", "script": exe, "interpreter": "none",
                "max_restarts": 10000000, "min_uptime": 1000,
                "autorestart": True}]}, f)
        m.run("start", eco)
    else:
        m.run("start", exe, "--name", "crash", "--interpreter", "none",
              "--max-restarts", "10000000", "--min-uptime", "1000")


def wait_starts(logfile, want, timeout):
    """Poll the start log until it has `want` entries or `timeout` s pass; returns the count."""
    deadline = time.time() + timeout
    count = 0
    while time.time() < deadline:
        time.sleep(0.2)
        try:
            with open(logfile) as f:
                count = len(f.read().split())
        except OSError:
            count = 0
        if count >= want:
            break
    return count


def under_manager(ctx, label, n):
    """Summary of `n` respawn intervals under one manager."""
    with Session(ctx, label) as m:
        lf = os.path.join(m.home, "starts.log")
        exe = os.path.join(m.home, "crash")
        compile_crash(lf, exe)
        m.run("ping")
        start_crasher(m, exe)
        count = wait_starts(lf, n + SKIP, ctx.args.crash_timeout)
        status = None
        try:
            apps = m.jlist()
            status = [app_status(a) for a in apps]
            restarts = [app_restarts(a) for a in apps]
        except Exception as e:  # noqa: BLE001
            restarts = str(e)
        m.run("delete", "all", check=False)
        s = summary(intervals_ms(lf)[:n])
        s["starts_seen"] = count
        s["status_at_end"] = status
        s["restart_time_at_end"] = restarts
        return s


def run(ctx, res):
    """Fills res["crash"]: bare_sh, bare_py and one summary per manager."""
    n = ctx.args.crash_starts
    bare_loops(ctx, n, res)
    for label in ctx.labels:
        s = under_manager(ctx, label, n)
        res["crash"][label] = s
        log(f"[crash] {label}: {s['starts_seen']} starts, median {s['median']:.3f} ms "
            f"p90 {s['p90']:.3f} ms, status {s['status_at_end']}")
