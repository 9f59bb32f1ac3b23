"""`logs`: how fast each manager relays 1,000,000 lines of 100 bytes from an app's stdout
to its out log, at what daemon CPU and memory cost, against `spew > file` and
`spew | cat > file`."""

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from ..common import BENCH_DIR, log
from ..cprog import compile_c
from ..managers import Session
from ..procfs import cpu_ticks, rss_kib, status_kib

#: bytes per line spew.c writes
LINE = 100
#: the per-run fields whose medians the report reads
MEDIAN_FIELDS = ("ms", "write_ms", "ms_from_cli", "cpu_s", "cpu_s_plus_1s",
                 "rss_growth_kib", "rss_growth_plus_1s_kib")


def compile_spew(ctx):
    """Build spew.c once per run, in the workdir."""
    out = os.path.join(ctx.workdir, "spew")
    if not os.path.exists(out):
        compile_c(os.path.join(BENCH_DIR, "spew.c"), out, purpose="logs")
    return out


def now_us():
    """CLOCK_REALTIME in µs, the clock spew.c stamps its start with."""
    return time.time_ns() // 1000


def wait_size(path, expected, timeout, stall, poll=0.002):
    """Poll the size of `path` until it reaches `expected` bytes. Returns
    (CLOCK_REALTIME µs when it did or None, last size). Gives up after `timeout`
    seconds, or after `stall` seconds without growth once the file exists."""
    deadline = time.time() + timeout
    size, last_change = -1, time.time()
    while time.time() < deadline:
        try:
            s = os.stat(path).st_size
        except OSError:
            s = -1
        if s >= expected:
            return now_us(), s
        if s != size:
            size, last_change = s, time.time()
        elif s >= 0 and time.time() - last_change > stall:
            break
        time.sleep(poll)
    return None, size


def read_stamp(path, timeout=10):
    """spew's "<start_us> <end_us>", waiting up to `timeout` s for it to appear."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                a, b = f.read().split()
                return int(a), int(b)
        except (OSError, ValueError):
            time.sleep(0.01)
    raise RuntimeError(f"spew wrote no stamp to {path}")


def check_lines(path, n):
    """(lines in the file, lines of spew's expected output missing, malformed lines)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return 0, n, 0
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    seen, bad = set(), 0
    for ln in lines:
        if len(ln) == LINE - 1 and ln[9:10] == b" " and ln[:9].isdigit():
            seen.add(int(ln[:9]))
        else:
            bad += 1
    lost = n - len([s for s in seen if s < n])
    return len(lines), lost, bad


def spawn_baseline(spew, n, stamp, f, mode):
    """spew writing into the open file `f` directly ("file") or through `cat` ("pipe")."""
    if mode == "file":
        return [subprocess.Popen([spew, str(n), stamp], stdout=f, stdin=subprocess.DEVNULL)]
    p1 = subprocess.Popen([spew, str(n), stamp], stdout=subprocess.PIPE,
                          stdin=subprocess.DEVNULL)
    p2 = subprocess.Popen(["cat"], stdin=p1.stdout, stdout=f)
    p1.stdout.close()
    return [p1, p2]


def logs_baseline(ctx, spew, mode, run):
    """One baseline run without a manager."""
    d = tempfile.mkdtemp(prefix=f"logs-{mode}-{run}-", dir=ctx.workdir)
    out, stamp = os.path.join(d, "out.log"), os.path.join(d, "stamp")
    n = ctx.args.log_lines
    procs = []
    try:
        with open(out, "wb") as f:
            procs += spawn_baseline(spew, n, stamp, f, mode)
        done, size = wait_size(out, n * LINE, ctx.args.log_timeout, 10)
        start, end = read_stamp(stamp)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    lines, lost, bad = check_lines(out, n)
    shutil.rmtree(d, ignore_errors=True)
    if done is None:
        raise RuntimeError(f"baseline {mode}: only {size} bytes")
    return {"ms": (done - start) / 1000.0, "write_ms": (end - start) / 1000.0,
            "lines": lines, "lost": lost, "malformed": bad}


def write_spew_ecosystem(m, spew, n, stamp):
    """The ecosystem JSON both managers start spew from."""
    eco = os.path.join(m.home, "spew.json")
    with open(eco, "w") as f:
        json.dump({"apps": [{"name": "spew", "script": spew, "interpreter": "none",
                             "args": [str(n), stamp], "autorestart": False}]}, f)
    return eco


def check_out_log_path(m, out):
    """Warn if the manager logs somewhere else than the path the harness watches."""
    try:
        apps = m.jlist()
        path = (apps[0].get("pm2_env") or {}).get("pm_out_log_path") if apps else None
    except Exception:  # noqa: BLE001
        path = None
    if path and os.path.abspath(path) != out:
        log(f"[logs] {m.label}: out log is {path}, expected {out}")


def logs_manager(ctx, label, spew, run):
    """One run under one manager, fresh daemon."""
    n = ctx.args.log_lines
    with Session(ctx, label) as m:
        m.run("ping")
        time.sleep(1.0)
        stamp = os.path.join(m.home, "spew.stamp")
        eco = write_spew_ecosystem(m, spew, n, stamp)
        out = os.path.join(m.home, "logs", "spew-out.log")
        pid = m.daemon_pid()
        tick = os.sysconf("SC_CLK_TCK")
        cpu0, rss0 = cpu_ticks(pid), rss_kib(pid)
        t_cli = now_us()
        m.run("start", eco)
        done, size = wait_size(out, n * LINE, ctx.args.log_timeout, 10)
        t_end = now_us()
        cpu1, rss1, hwm1 = cpu_ticks(pid), rss_kib(pid), status_kib(pid, "VmHWM")
        start, end = read_stamp(stamp)
        time.sleep(1.0)
        cpu2, rss2 = cpu_ticks(pid), rss_kib(pid)
        check_out_log_path(m, out)
        m.run("delete", "all", check=False)
        lines, lost, bad = check_lines(out, n)
        return {"ms": ((done or t_end) - start) / 1000.0, "complete": done is not None,
                "ms_from_cli": ((done or t_end) - t_cli) / 1000.0,
                "write_ms": (end - start) / 1000.0, "final_size": size,
                "cpu_s": (cpu1 - cpu0) / tick, "cpu_s_plus_1s": (cpu2 - cpu0) / tick,
                "rss_before_kib": rss0, "rss_growth_kib": rss1 - rss0,
                "rss_growth_plus_1s_kib": rss2 - rss0, "hwm_after_kib": hwm1,
                "lines": lines, "lost": lost, "malformed": bad}


def aggregate(rs):
    """Medians and totals over the runs of one baseline or manager."""
    s = {"runs": rs}
    for f in MEDIAN_FIELDS:
        if f in rs[0]:
            s[f] = statistics.median(r[f] for r in rs)
    s["lost_total"] = sum(r["lost"] for r in rs)
    s["malformed_total"] = sum(r["malformed"] for r in rs)
    s["incomplete_runs"] = sum(1 for r in rs if not r.get("complete", True))
    return s


def run(ctx, res):
    """Fills res["logs"]; runs alternate baseline/PM2/pm2-rs."""
    spew = compile_spew(ctx)
    raw = {}
    for run_no in range(ctx.args.log_runs):
        for mode in ("file", "pipe"):
            r = logs_baseline(ctx, spew, mode, run_no)
            raw.setdefault(f"bare_{mode}", []).append(r)
            log(f"[logs] run {run_no} bare {mode}: {r['ms']:.1f} ms, {r['lines']} lines")
        for label in ctx.labels:
            r = logs_manager(ctx, label, spew, run_no)
            raw.setdefault(label, []).append(r)
            log(f"[logs] run {run_no} {label}: {r['ms']:.1f} ms (complete {r['complete']}), "
                f"daemon CPU {r['cpu_s']:.2f} s, RSS +{r['rss_growth_kib']} KiB, "
                f"lines {r['lines']} lost {r['lost']} malformed {r['malformed']}")
    out = {"lines": ctx.args.log_lines}
    for k, rs in raw.items():
        out[k] = aggregate(rs)
    res["logs"] = out
