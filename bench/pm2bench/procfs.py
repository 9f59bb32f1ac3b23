"""What the harness reads from /proc: liveness, memory, CPU time, fds, load average."""

import os


def pid_alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pids_with_home(home):
    """Pids whose environment holds PM2_HOME=<home> (home is a unique temp dir
    this harness created, so these are processes it started)."""
    marker = b"PM2_HOME=" + os.fsencode(home) + b"\0"
    me = os.getpid()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if marker in env or env.endswith(marker[:-1]):
            out.append(int(d))
    return out


def status_kib(pid, field):
    """A numeric field of /proc/<pid>/status (VmRSS, VmHWM, Threads), or None."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def rss_kib(pid):
    """VmRSS of `pid` in KiB; raises if the process has none (gone or a kernel thread)."""
    kib = status_kib(pid, "VmRSS")
    if kib is None:
        raise RuntimeError(f"no VmRSS for pid {pid}")
    return kib


def cpu_ticks(pid):
    """utime+stime (clock ticks) of the whole thread group, children excluded."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])


def sched_ns(pid):
    """Sum of on-CPU time (ns, /proc/<pid>/task/*/schedstat) of the daemon's live threads:
    a finer cross-check of the tick-based utime+stime."""
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def count_fds(pid):
    """Open file descriptors of `pid`, or None if /proc/<pid>/fd is unreadable."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def loadavg():
    """The 1/5/15-minute load average as "a b c", or None without /proc/loadavg."""
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return None
