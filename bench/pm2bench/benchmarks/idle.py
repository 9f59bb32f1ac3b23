"""`idle`: the daemon's CPU, memory, fds and threads with 1,000 idle instances, in a window
in which nothing talks to the daemon."""

import json
import os
import resource
import shutil
import subprocess
import time

from ..common import log
from ..machine import utc_now
from ..managers import Session, app_status
from ..procfs import count_fds, cpu_ticks, loadavg, pid_alive, rss_kib, sched_ns, status_kib


def raise_nofile():
    """Raise RLIMIT_NOFILE (soft) to the hard limit; children (CLI, daemon, apps) inherit
    it. Returns (soft before, soft after, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as e:
            log(f"[idle] could not raise RLIMIT_NOFILE to {want}: {e}")
    after = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft, after, hard


def online_count(m):
    """(apps listed, apps online), or (None, None) if `jlist` fails."""
    try:
        apps = m.jlist()
    except Exception as e:  # noqa: BLE001
        log(f"[idle] {m.label}: jlist failed: {e}")
        return None, None
    return len(apps), sum(1 for a in apps if app_status(a) == "online")


def start_all(m, n, timeout):
    """`pm2 start` of one ecosystem JSON with n `sleep 100000`; returns its exit code
    (or "timeout")."""
    sleep_bin = shutil.which("sleep") or "/bin/sleep"
    eco = os.path.join(m.home, "idle.json")
    with open(eco, "w") as f:
        json.dump({"apps": [{"name": f"app-{i}", "script": sleep_bin,
                             "args": ["100000"], "interpreter": "none"}
                            for i in range(n)]}, f)
    try:
        r = m.run("start", eco, check=False, capture=True, timeout=max(5.0, timeout))
    except subprocess.TimeoutExpired:
        log(f"[idle] {m.label}: `pm2 start` still running after {timeout:.0f} s")
        return "timeout"
    if r.returncode != 0:
        log(f"[idle] {m.label}: `pm2 start` exited {r.returncode}: "
            f"{(r.stderr or b'').decode(errors='replace')[-500:]}")
    return r.returncode


def wait_all_online(m, n, deadline, timeout):
    """Poll until n are online or `deadline`; returns (listed, online) at that moment."""
    while True:
        total, online = online_count(m)
        if online is not None and online >= n:
            return total, online
        if time.time() >= deadline:
            log(f"[idle] {m.label}: {online} of {n} online after "
                f"{timeout:.0f} s; measuring with those")
            return total, online
        time.sleep(1.0)


def measure_window(pid, secs):
    """The daemon's CPU over `secs` s in which nothing talks to it, then its footprint."""
    tick = os.sysconf("SC_CLK_TCK")
    c0, s0, w0 = cpu_ticks(pid), sched_ns(pid), time.monotonic()
    time.sleep(secs)
    c1, s1, w1 = cpu_ticks(pid), sched_ns(pid), time.monotonic()
    wall = w1 - w0
    cpu_s, sched_s = (c1 - c0) / tick, (s1 - s0) / 1e9
    return {"window_s": round(wall, 3), "cpu_s": cpu_s, "cpu_pct": cpu_s / wall * 100.0,
            "sched_cpu_s": sched_s, "sched_cpu_pct": sched_s / wall * 100.0,
            "rss_kib": rss_kib(pid), "hwm_kib": status_kib(pid, "VmHWM"),
            "threads": status_kib(pid, "Threads"), "daemon_fds": count_fds(pid)}


def idle_session(ctx, label, nofile):
    """One manager with --idle-apps instances: start, settle, measure, delete."""
    a = ctx.args
    n = a.idle_apps
    with Session(ctx, label) as m:
        m.run("ping")
        t0 = time.time()
        cli_rc = start_all(m, n, a.idle_start_timeout)
        t_cli = time.time() - t0
        total, online = wait_all_online(m, n, t0 + a.idle_start_timeout, a.idle_start_timeout)
        t_online = time.time() - t0
        pid = m.daemon_pid()
        if not pid or not pid_alive(pid):
            raise RuntimeError(f"{label}: no live daemon after starting {n} apps")
        time.sleep(a.idle_settle)
        w = measure_window(pid, a.idle_secs)
        _, online2 = online_count(m)  # after the window: did they stay up?
        res = {
            "apps_requested": n, "apps_listed": total, "apps_online": online,
            "apps_online_after": online2, "start_cli_rc": cli_rc,
            "start_cli_s": round(t_cli, 1), "all_online_s": round(t_online, 1),
            "settle_s": a.idle_settle, **w,
            "nofile_soft": nofile[1], "nofile_hard": nofile[2],
            "worker_interval": "30 s (PM2 default)" if label == "pm2"
            else "1 s (pm2-rs default, PM2_WORKER_INTERVAL=1000 ms)",
        }
        log(f"[idle] {label}: {online}/{n} online after {t_online:.1f} s (CLI {t_cli:.1f} s); "
            f"daemon {pid} CPU {w['cpu_s']:.2f} s in {w['window_s']:.1f} s = "
            f"{w['cpu_pct']:.2f} % of a core (schedstat {w['sched_cpu_s']:.3f} s); "
            f"VmRSS {w['rss_kib'] / 1024:.1f} MiB, {w['daemon_fds']} fds, "
            f"{w['threads']} threads; online after window {online2}")
        m.run("delete", "all", check=False, timeout=300)
        return res


def run(ctx, res):
    """Fills res["idle"]: the run's settings, its own date and load, one dict per manager."""
    nofile = raise_nofile()
    log(f"[idle] RLIMIT_NOFILE soft {nofile[0]} -> {nofile[1]} (hard {nofile[2]})")
    out = {"apps": ctx.args.idle_apps, "window_s": ctx.args.idle_secs,
           "settle_s": ctx.args.idle_settle, "start_timeout_s": ctx.args.idle_start_timeout,
           "nofile_before": nofile[0], "nofile": nofile[1], "nofile_hard": nofile[2],
           "pm2_rs": ctx.ours_rev, "date": utc_now()}
    start = loadavg()
    if start is not None:
        out["loadavg_start"] = start
    for label in ctx.labels:
        out[label] = idle_session(ctx, label, nofile)
    end = loadavg()
    if end is not None:
        out["loadavg_end"] = end
    res["idle"] = out
