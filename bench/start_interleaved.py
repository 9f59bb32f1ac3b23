#!/usr/bin/env python3
"""`pm2 start` of one app by two or more pm2 binaries, interleaved round by round, so that
the load of a shared machine falls on each alike. Not run by the harness.

    python3 bench/start_interleaved.py N ROUNDS before=/path/pm2 after=/path/pm2

Each binary gets its own PM2_HOME with N idle apps (`exec sleep 100000`) and an app `x`;
each round, for each binary in turn: an untimed `delete x`, then a timed
`start app.sh --name x`. Prints per binary the wall-time median (and minimum), the CLI's
CPU (utime + stime, from wait4) and the daemon's CPU for the start (the sum of its
threads' /proc/<pid>/task/*/schedstat before and after), medians over ROUNDS after 5
warm-up rounds. Every daemon is stopped with `pm2 kill` at the end."""
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time

WARMUP = 5


def main():
    n, rounds = int(sys.argv[1]), int(sys.argv[2])
    bins = dict(arg.split("=", 1) for arg in sys.argv[3:])
    work = tempfile.mkdtemp(prefix="pm2rs-start-interleaved-")
    app = os.path.join(work, "app.sh")
    with open(app, "w") as f:
        f.write("#!/bin/sh\nexec sleep 100000\n")
    os.chmod(app, 0o755)
    env = {b: dict(os.environ, PM2_HOME=os.path.join(work, b)) for b in bins}

    def run(b, *args):
        subprocess.run([bins[b], *args], env=env[b], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def daemon_cpu_ns(pid):
        files = glob.glob(f"/proc/{pid}/task/*/schedstat")
        return sum(int(open(f).read().split()[0]) for f in files)

    results = {b: ([], [], []) for b in bins}
    try:
        pids = {}
        for b in bins:
            os.makedirs(os.path.join(work, b))
            run(b, "ping")
            for i in range(n):
                run(b, "start", app, "--name", f"app-{i}")
            run(b, "start", app, "--name", "x")
            with open(os.path.join(work, b, "pm2.pid")) as f:
                pids[b] = int(f.read())
        for r in range(rounds + WARMUP):
            for b in bins:
                run(b, "delete", "x")
                d0, t0 = daemon_cpu_ns(pids[b]), time.perf_counter()
                child = subprocess.Popen([bins[b], "start", app, "--name", "x"], env=env[b],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _, status, usage = os.wait4(child.pid, 0)
                wall, daemon = time.perf_counter() - t0, daemon_cpu_ns(pids[b]) - d0
                if status != 0:
                    sys.exit(f"{bins[b]} start failed ({status})")
                if r >= WARMUP:
                    w, c, d = results[b]
                    w.append(wall * 1e3)
                    c.append((usage.ru_utime + usage.ru_stime) * 1e3)
                    d.append(daemon / 1e6)
    finally:
        for b in bins:
            subprocess.run([bins[b], "kill"], env=env[b],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"{n} apps running, {rounds} rounds, load average at the end {load}")
    for b, (w, c, d) in results.items():
        print(f"{b:8} wall median {statistics.median(w):6.2f} ms (min {min(w):5.2f}), "
              f"CLI CPU {statistics.median(c):5.2f} ms, daemon CPU {statistics.median(d):5.2f} ms")


if __name__ == "__main__":
    main()
