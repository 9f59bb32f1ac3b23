"""The resource limits a run with many apps needs: open files and processes.

1,000 apps need about 7 fds each in the daemon (PM2 7 held 7,020 with 1,000 apps, pm2-rs
6,012) and one process each (more while the CLI, the daemon and bash run): a limit that is
too low makes starts fail half way, which would read as a slow manager. The harness raises
its soft limits to the hard ones (children inherit them) and checks them before it starts
the apps, so a short limit is a clear message, not a confusing result.
"""

import os
import resource

#: daemon fds needed per app (measured: PM2 7 ~7, pm2-rs ~6), with a margin
FDS_PER_APP = 10
#: fds and processes besides the apps (CLI, daemon threads, harness, other sessions' margin)
BASE_FDS = 1024
BASE_PROCS = 256


def raise_soft(which):
    """Raise the soft limit of `which` to its hard limit; returns the soft limit after."""
    soft, hard = resource.getrlimit(which)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        try:
            resource.setrlimit(which, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(which)[0]


def user_processes():
    """Processes (threads count for RLIMIT_NPROC, approximated by processes) of this uid."""
    uid, n = os.getuid(), 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.stat(f"/proc/{d}").st_uid == uid:
                    n += 1
            except OSError:
                pass
    return n


def read_int(path):
    """An integer from a /proc/sys file, or None."""
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def limit_problem(n, nofile, nproc, procs_now, pid_max):
    """Why `n` apps would not fit these limits, or None if they fit (infinite is -1)."""
    need_fds = FDS_PER_APP * n + BASE_FDS
    if nofile != resource.RLIM_INFINITY and nofile < need_fds:
        return (f"RLIMIT_NOFILE is {nofile} (hard limit included), {n} apps need about "
                f"{need_fds}: raise it (`ulimit -Hn {need_fds}` as root, or "
                f"/etc/security/limits.conf) or run with fewer apps")
    need_procs = procs_now + n + BASE_PROCS
    if nproc != resource.RLIM_INFINITY and nproc < need_procs:
        return (f"RLIMIT_NPROC is {nproc}, this user already runs {procs_now} processes "
                f"and {n} apps need {need_procs}: raise `ulimit -u` or run with fewer apps")
    if pid_max is not None and pid_max < need_procs:
        return f"kernel.pid_max is {pid_max}, below the {need_procs} processes needed"
    return None


def check_for(n):
    """Raise the soft limits, then (None or the problem, the limits seen) for `n` apps."""
    seen = {"nofile": raise_soft(resource.RLIMIT_NOFILE),
            "nproc": raise_soft(resource.RLIMIT_NPROC),
            "user_processes": user_processes(),
            "pid_max": read_int("/proc/sys/kernel/pid_max")}
    problem = limit_problem(n, seen["nofile"], seen["nproc"], seen["user_processes"],
                            seen["pid_max"])
    return problem, seen
