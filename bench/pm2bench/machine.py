"""The facts about the run that BENCHMARKS.md records under "Machine"."""

import datetime
import os
import platform
import subprocess

from .procfs import loadavg


def utc_now():
    """The date format of the report ("2026-11-21 08:46 UTC")."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def git_rev(src):
    """"<short hash> <subject>" of the checkout's HEAD, or "?"."""
    try:
        r = subprocess.run(["git", "-C", src, "log", "-1", "--format=%h %s"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode == 0:
            return r.stdout.strip()
    except Exception:  # noqa: BLE001
        pass
    return "?"


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _memory():
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            return f"{kib / 1024 / 1024:.1f} GiB"
    except OSError:
        return None


def _node_version():
    try:
        return subprocess.run(["node", "--version"], capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "?"


def machine_info(loadavg_start, pm2_version, pm2_rs_rev):
    """The dict saved as "machine" in the JSON dump (key order is the dump's order)."""
    info = {"nproc": os.cpu_count()}
    for key, value in (("cpu", _cpu_model()), ("memory", _memory())):
        if value is not None:
            info[key] = value
    info["kernel"] = platform.release()
    info["node"] = _node_version()
    end = loadavg()
    if end is not None:
        info["loadavg_end"] = end
    info["loadavg_start"] = loadavg_start
    info["pm2"] = pm2_version
    info["pm2_rs"] = pm2_rs_rev
    info["date"] = utc_now()
    return info
