#!/usr/bin/env python3
"""The log relay's flood, with what the app itself paid: interleaved runs of `spew > file`,
`spew | cat > file` and one or more pm2-rs binaries (fresh daemon each run).

usage: python3 bench/logs_app_costs.py RUNS LABEL=PM2_BINARY ...
  A label containing "-late" starts the flood 0.3 s after `pm2 start` returned (spew run
  through `sh -c 'sleep 0.3; exec spew ...'`), so the CLI and the daemon's start path do
  not run beside the flood's first milliseconds.
  A label containing "-other" puts the daemon's threads back on SCHED_OTHER (`chrt -o -p 0`)
  before the start, to compare with the SCHED_BATCH the daemon picks for itself.

Per run: ms (spew's first instruction -> the file holds every byte, as `run.py logs`), the
app's utime+stime, its voluntary context switches (each one a write that found the pipe
full and waited for the relay), its involuntary ones (preempted), and the daemon's CPU.
Wall times need a quiet machine; the app's counters mean something on a loaded one too.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pm2bench.benchmarks import logs as L  # noqa: E402
from pm2bench.managers import Manager  # noqa: E402

LINES = 1000000
TICK = os.sysconf("SC_CLK_TCK")


def pstats(pid):
    """(utime+stime ms, voluntary, involuntary context switches) of `pid`."""
    with open(f"/proc/{pid}/stat") as f:
        st = f.read().rsplit(")", 1)[1].split()
    with open(f"/proc/{pid}/status") as f:
        s = dict(line.split(":", 1) for line in f if ":" in line)
    return ((int(st[11]) + int(st[12])) * 1000 / TICK,
            int(s["voluntary_ctxt_switches"]), int(s["nonvoluntary_ctxt_switches"]))


def bare(wd, spew, mode):
    """One baseline run without a manager."""
    d = tempfile.mkdtemp(dir=wd)
    out, stamp = os.path.join(d, "out.log"), os.path.join(d, "stamp")
    with open(out, "wb") as f:
        procs = L.spawn_baseline(spew, LINES, stamp, f, mode)
    try:
        done, size = L.wait_size(out, LINES * L.LINE, 60, 10)
        start, _ = L.read_stamp(stamp)
        cpu, vol, invol = pstats(procs[0].pid)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    _, lost, bad = L.check_lines(out, LINES)
    subprocess.run(["rm", "-rf", d], check=False)
    if done is None or lost or bad:
        raise RuntimeError(f"{mode}: {size} bytes, {lost} lost, {bad} malformed")
    return dict(ms=(done - start) / 1000, app_ms=cpu, vol=vol, invol=invol, dcpu=0)


def managed(wd, spew, label, binary):
    """One run under a fresh pm2-rs daemon."""
    m = Manager(label, binary, wd)
    try:
        m.run("ping")
        time.sleep(0.5)
        if "-other" in label:
            for t in os.listdir(f"/proc/{m.daemon_pid()}/task"):
                subprocess.run(["chrt", "-o", "-p", "0", t], check=True)
        app = spew
        if "-late" in label:
            app = os.path.join(m.home, "spew-late.sh")
            with open(app, "w") as f:
                f.write(f"#!/bin/sh\nsleep 0.3\nexec {spew} \"$@\"\n")
            os.chmod(app, 0o755)
        stamp = os.path.join(m.home, "spew.stamp")
        eco = L.write_spew_ecosystem(m, app, LINES, stamp)
        out = os.path.join(m.home, "logs", "spew-out.log")
        dpid = m.daemon_pid()
        c0 = pstats(dpid)[0]
        m.run("start", eco)
        done, size = L.wait_size(out, LINES * L.LINE, 60, 10)
        start, _ = L.read_stamp(stamp)
        c1 = pstats(dpid)[0]
        cpu, vol, invol = pstats(m.jlist()[0]["pid"])
        m.run("delete", "all", check=False)
        _, lost, bad = L.check_lines(out, LINES)
        if done is None or lost or bad:
            raise RuntimeError(f"{label}: {size} bytes, {lost} lost, {bad} malformed")
        return dict(ms=(done - start) / 1000, app_ms=cpu, vol=vol, invol=invol, dcpu=c1 - c0)
    finally:
        m.kill()
        subprocess.run(["rm", "-rf", m.home], check=False)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    runs = int(sys.argv[1])
    bins = dict(a.split("=", 1) for a in sys.argv[2:])
    wd = tempfile.mkdtemp(prefix="pm2-logs-costs-")
    spew = L.compile_spew(types.SimpleNamespace(workdir=wd))
    res, loads = {}, []
    for r in range(runs):
        loads.append(open("/proc/loadavg").read().split()[0])
        for mode in ("file", "pipe"):
            res.setdefault(mode, []).append(bare(wd, spew, mode))
        for label, binary in bins.items():
            res.setdefault(label, []).append(managed(wd, spew, label, binary))
        print(r, {k: round(v[-1]["ms"], 1) for k, v in res.items()}, flush=True)
    subprocess.run(["rm", "-rf", wd], check=False)

    def med(v, f):
        return statistics.median(x[f] for x in v)

    floor = med(res["file"], "ms")
    for k, v in res.items():
        print(f"{k:16s} {med(v, 'ms'):6.1f} ms ({med(v, 'ms') / floor:5.3f}x, min "
              f"{min(x['ms'] for x in v):6.1f})  app cpu {med(v, 'app_ms'):4.0f} ms  "
              f"blocked {med(v, 'vol'):4.0f}  preempted {med(v, 'invol'):5.0f}  "
              f"daemon cpu {med(v, 'dcpu'):3.0f} ms")
    print("load average at each run's start:", " ".join(loads),
          "| at the end:", open("/proc/loadavg").read().strip())


if __name__ == "__main__":
    main()
