"""What one CLI call costs: its wall time, and the CPU time it took, the CLI's own and the
daemon's. On a machine that other work loads, wall time includes waiting for a CPU; CPU
time does not, so a cost that grows with the number of apps still shows under load."""

import resource
import subprocess
import time

from .procfs import sched_ns


def children_cpu_s():
    """utime+stime of every child this process has reaped so far, in seconds."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def daemon_cpu_ns(pid):
    """The daemon's on-CPU ns (schedstat of its threads), or None without a daemon."""
    if not pid:
        return None
    try:
        return sched_ns(pid)
    except OSError:
        return None


def call_cost(m, *args, timeout=60):
    """{"wall", "cli_cpu", "daemon_cpu"} in ms of one `pm2 <args>` call (output to
    /dev/null); raises if it fails. Nothing else may reap children meanwhile (the CLI's
    CPU is the RUSAGE_CHILDREN delta). The daemon's CPU is that of the daemon running
    before the call (none if the call starts it): its own background work in the same
    window is included, a fraction of a ms per call at the default sampling."""
    pid = m.daemon_pid()
    d0, c0 = daemon_cpu_ns(pid), children_cpu_s()
    t0 = time.perf_counter_ns()
    r = subprocess.run(m.cmd(*args), env=m.env, timeout=timeout, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    wall = (time.perf_counter_ns() - t0) / 1e6
    c1, d1 = children_cpu_s(), daemon_cpu_ns(pid)
    if r.returncode != 0:
        raise RuntimeError(f"{m.label}: {' '.join(args)} exited {r.returncode}")
    m.note_daemon()
    daemon = (d1 - d0) / 1e6 if d0 is not None and d1 is not None else 0.0
    return {"wall": wall, "cli_cpu": (c1 - c0) * 1000.0, "daemon_cpu": daemon}
