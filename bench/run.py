#!/usr/bin/env python3
"""Side-by-side benchmarks of pm2-rs against real PM2 7 (Python 3 stdlib only).

Subcommands: list, coldstart, rss, crash, logs, cluster, idle, all, report. See bench/README.md.

Every benchmark gives each manager its own temporary PM2_HOME and always stops
that manager's daemon at the end (`pm2 kill`, then SIGKILL of the pid in
$PM2_HOME/pm2.pid if it is still alive, then SIGKILL of any leftover process
whose environment carries that unique temporary PM2_HOME). Nothing is ever
killed by name.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PM2_SPEC = os.environ.get("PM2_NPM_SPEC", "pm2@7")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- statistics

def pct(xs, p):
    """Nearest-rank style percentile with linear interpolation."""
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(xs):
    return {
        "n": len(xs),
        "median": statistics.median(xs) if xs else float("nan"),
        "p90": pct(xs, 90),
        "min": min(xs) if xs else float("nan"),
        "max": max(xs) if xs else float("nan"),
    }


# ---------------------------------------------------------------- processes

def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie counts as dead
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


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Manager:
    """One process manager (PM2 or pm2-rs) bound to its own temporary PM2_HOME."""

    def __init__(self, label, binary, workdir):
        self.label = label
        self.binary = binary
        self.home = tempfile.mkdtemp(prefix=f"home-{label}-", dir=workdir)
        self.env = dict(os.environ)
        self.env["PM2_HOME"] = self.home
        # keep PM2 quiet and local: no update checks, no telemetry, no colours
        self.env.setdefault("PM2_DISABLE_VERSION_CHECK", "true")
        self.env["FORCE_COLOR"] = "0"
        self.env["NO_COLOR"] = "1"
        self.seen_pids = set()

    def cmd(self, *args):
        return [self.binary, *args]

    def run(self, *args, check=True, timeout=120, capture=True):
        r = subprocess.run(
            self.cmd(*args), env=self.env, timeout=timeout,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        if check and r.returncode != 0:
            raise RuntimeError(
                f"{self.label}: {' '.join(args)} exited {r.returncode}\n"
                f"stdout: {(r.stdout or b'').decode(errors='replace')[-2000:]}\n"
                f"stderr: {(r.stderr or b'').decode(errors='replace')[-2000:]}")
        self.note_daemon()
        return r

    def time_cmd(self, *args, timeout=60):
        """Wall time (ms) of one CLI invocation, output to /dev/null."""
        t0 = time.perf_counter_ns()
        r = subprocess.run(self.cmd(*args), env=self.env, timeout=timeout,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL)
        dt = (time.perf_counter_ns() - t0) / 1e6
        if r.returncode != 0:
            raise RuntimeError(f"{self.label}: {' '.join(args)} exited {r.returncode}")
        self.note_daemon()
        return dt

    def daemon_pid(self):
        try:
            with open(os.path.join(self.home, "pm2.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def note_daemon(self):
        pid = self.daemon_pid()
        if pid:
            self.seen_pids.add(pid)

    def jlist(self):
        r = self.run("jlist")
        out = r.stdout.decode(errors="replace")
        # PM2 may print banners before the JSON; take from the first '['
        i = out.find("[")
        return json.loads(out[i:]) if i >= 0 else []

    def wait_online(self, n, timeout=120):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            apps = self.jlist()
            online = [a for a in apps if (a.get("pm2_env") or {}).get("status") == "online"]
            last = (len(apps), len(online))
            if len(online) >= n:
                return apps
            time.sleep(0.5)
        raise RuntimeError(f"{self.label}: only {last} (apps, online) after {timeout}s, wanted {n}")

    def wait_daemon_gone(self, pid, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.01)
        return False

    def kill(self):
        """`pm2 kill`, then SIGKILL what is left. Never raises."""
        pid = self.daemon_pid()
        if pid:
            self.seen_pids.add(pid)
        try:
            subprocess.run(self.cmd("kill"), env=self.env, timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL)
        except Exception as e:  # noqa: BLE001
            log(f"[{self.label}] pm2 kill failed: {e}")
        for p in sorted(self.seen_pids):
            if pid_alive(p) and not self.wait_daemon_gone(p, 5):
                log(f"[{self.label}] daemon {p} survived `pm2 kill`: SIGKILL")
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in pids_with_home(self.home):
            if pid_alive(p):
                log(f"[{self.label}] leftover process {p} from {self.home}: SIGKILL")
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def kill_daemon_only(self):
        """Between cold-start runs: `pm2 kill` and wait for the pid to vanish."""
        pid = self.daemon_pid()
        self.run("kill", check=False)
        if pid and not self.wait_daemon_gone(pid, 10):
            os.kill(pid, signal.SIGKILL)
            self.wait_daemon_gone(pid, 5)


class Session:
    """Context manager: a Manager whose daemon is always stopped on exit."""

    def __init__(self, ctx, label):
        self.ctx, self.label = ctx, label

    def __enter__(self):
        binary = self.ctx.bins[self.label]
        self.m = Manager(self.label, binary, self.ctx.workdir)
        return self.m

    def __exit__(self, *exc):
        self.m.kill()
        shutil.rmtree(self.m.home, ignore_errors=True)
        return False


# ---------------------------------------------------------------- setup

class Ctx:
    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="pm2-bench-")
        self.bins = {}
        self.pm2_version = None
        self.npm_dir = None
        self.npm_dir_is_temp = False

    def cleanup(self):
        if not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
            if self.npm_dir_is_temp:
                shutil.rmtree(self.npm_dir, ignore_errors=True)

    def setup(self):
        # real PM2, from npm into a private folder (never global)
        d = self.args.pm2_npm or os.environ.get("PM2_NPM_DIR")
        if not d:
            d = tempfile.mkdtemp(prefix="pm2-npm-")
            self.npm_dir_is_temp = True
        self.npm_dir = os.path.abspath(d)
        pm2_js = os.path.join(self.npm_dir, "node_modules", "pm2", "package.json")
        if not os.path.exists(pm2_js):
            log(f"installing {PM2_SPEC} into {self.npm_dir} ...")
            subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                            "--prefix", self.npm_dir, PM2_SPEC], check=True,
                           stdout=sys.stderr)
        with open(pm2_js) as f:
            self.pm2_version = json.load(f)["version"]
        self.bins["pm2"] = os.path.join(self.npm_dir, "node_modules", ".bin", "pm2")

        # ours
        if self.args.pm2_rs:
            ours = os.path.abspath(self.args.pm2_rs)
        else:
            log("building pm2-rs with cargo build --release ...")
            subprocess.run(["cargo", "build", "--release", "--bin", "pm2"], cwd=self.args.src,
                           check=True, stdout=sys.stderr)
            tdir = os.environ.get("CARGO_TARGET_DIR", os.path.join(self.args.src, "target"))
            ours = os.path.join(tdir, "release", "pm2")
        if not os.access(ours, os.X_OK):
            raise SystemExit(f"pm2-rs binary not found: {ours}")
        self.bins["pm2-rs"] = ours
        self.ours_rev = git_rev(self.args.src)

        # the trivial long-running app (same file for both managers)
        self.app = os.path.join(self.workdir, "app.sh")
        with open(self.app, "w") as f:
            f.write("#!/bin/sh\nexec sleep 100000\n")
        os.chmod(self.app, 0o755)


def git_rev(src):
    try:
        r = subprocess.run(["git", "-C", src, "log", "-1", "--format=%h %s"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode == 0:
            return r.stdout.strip()
    except Exception:  # noqa: BLE001
        pass
    return "?"


def start_apps(m, ctx, n):
    """Start n copies of app.sh named app-0..app-(n-1), wait until all online."""
    if n == 0:
        return
    if m.label == "pm2":
        # one ecosystem file: much faster to set up than n CLI round trips
        eco = os.path.join(m.home, "apps.json")
        with open(eco, "w") as f:
            json.dump({"apps": [{"name": f"app-{i}", "script": ctx.app}
                                for i in range(n)]}, f)
        m.run("start", eco, timeout=300)
    else:
        for i in range(n):
            m.run("start", ctx.app, "--name", f"app-{i}")
    m.wait_online(n)


# ---------------------------------------------------------------- benchmarks

def spawn_true(n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        subprocess.run(["/bin/true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL)
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


def bench_list(ctx, res):
    runs, warm = ctx.args.runs, ctx.args.warmup
    # harness overhead: spawning /bin/true the same way
    spawn_true(warm)
    res["spawn_true_ms"] = summary(spawn_true(runs))
    for n in ctx.args.list_apps:
        for label in ctx.labels:
            with Session(ctx, label) as m:
                log(f"[list] {label}: starting {n} apps")
                start_apps(m, ctx, n)
                time.sleep(1.0)
                for cmd in ("list", "jlist"):
                    for _ in range(warm):
                        m.time_cmd(cmd)
                    xs = [m.time_cmd(cmd) for _ in range(runs)]
                    s = summary(xs)
                    # harness floor right after: /bin/true spawned the same way
                    s["true_floor_median"] = statistics.median(spawn_true(runs))
                    res.setdefault(f"{cmd}_{n}", {})[label] = s
                    log(f"[list] {label} {cmd} {n} apps: median {s['median']:.2f} ms "
                        f"p90 {s['p90']:.2f} ms")


def bench_coldstart(ctx, res):
    runs = ctx.args.cold_runs
    for label in ctx.labels:
        with Session(ctx, label) as m:
            xs = []
            for i in range(runs + 1):  # first run (fresh home) is a discarded warm-up
                assert m.daemon_pid() is None or not pid_alive(m.daemon_pid())
                dt = m.time_cmd("ping", timeout=60)
                pid = m.daemon_pid()
                if not pid or not pid_alive(pid):
                    raise RuntimeError(f"{label}: no live daemon after ping")
                if i > 0:
                    xs.append(dt)
                m.kill_daemon_only()
                time.sleep(0.2)
            s = summary(xs)
            res.setdefault("coldstart", {})[label] = s
            log(f"[coldstart] {label}: median {s['median']:.1f} ms p90 {s['p90']:.1f} ms")


def bench_rss(ctx, res):
    settle = ctx.args.settle
    for n in (0, ctx.args.rss_apps):
        for label in ctx.labels:
            with Session(ctx, label) as m:
                m.run("ping")
                start_apps(m, ctx, n)
                time.sleep(settle)
                pid = m.daemon_pid()
                samples = []
                for _ in range(5):
                    samples.append(rss_kib(pid))
                    time.sleep(0.4)
                # largest of the samples (GC timing makes Node's RSS wobble)
                kib = max(samples)
                res.setdefault(f"rss_{n}", {})[label] = {"kib": kib, "samples": samples}
                log(f"[rss] {label} {n} apps: daemon {pid} VmRSS {kib} KiB {samples}")


def compile_crash(ctx, logfile, out):
    src = os.path.join(HERE, "crash.c")
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        raise SystemExit("need a C compiler (cc) for the crash benchmark")
    subprocess.run([cc, "-O2", "-o", out, src, f'-DCRASH_LOG_PATH="{logfile}"'], check=True)


def intervals_ms(logfile, skip=5):
    with open(logfile) as f:
        ts = [int(x) for x in f.read().split()]
    ts = ts[skip:]
    return [(b - a) / 1000.0 for a, b in zip(ts, ts[1:])]


def bench_crash(ctx, res):
    n = ctx.args.crash_starts
    # bare baseline: a shell loop spawning the same binary sequentially
    d = tempfile.mkdtemp(prefix="crash-bare-", dir=ctx.workdir)
    lf = os.path.join(d, "starts.log")
    exe = os.path.join(d, "crash")
    compile_crash(ctx, lf, exe)
    subprocess.run(["sh", "-c", f'i=0; while [ $i -lt {n + 5} ]; do {shlex.quote(exe)}; i=$((i+1)); done'],
                   check=True)
    s = summary(intervals_ms(lf))
    res.setdefault("crash", {})["bare_sh"] = s
    log(f"[crash] bare sh loop: median {s['median']:.3f} ms")
    # bare baseline 2: Python posix_spawn + waitpid
    lf2 = os.path.join(d, "starts2.log")
    exe2 = os.path.join(d, "crash2")
    compile_crash(ctx, lf2, exe2)
    for _ in range(n + 5):
        pid = os.posix_spawn(exe2, [exe2], os.environ)
        os.waitpid(pid, 0)
    s = summary(intervals_ms(lf2))
    res["crash"]["bare_py"] = s
    log(f"[crash] bare python loop: median {s['median']:.3f} ms")

    for label in ctx.labels:
        with Session(ctx, label) as m:
            lf = os.path.join(m.home, "starts.log")
            exe = os.path.join(m.home, "crash")
            compile_crash(ctx, lf, exe)
            m.run("ping")
            if label == "pm2":
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
            deadline = time.time() + ctx.args.crash_timeout
            count = 0
            while time.time() < deadline:
                time.sleep(0.2)
                try:
                    with open(lf) as f:
                        count = len(f.read().split())
                except OSError:
                    count = 0
                if count >= n + 5:
                    break
            status = None
            try:
                apps = m.jlist()
                status = [(a.get("pm2_env") or {}).get("status") for a in apps]
                restarts = [(a.get("pm2_env") or {}).get("restart_time") for a in apps]
            except Exception as e:  # noqa: BLE001
                restarts = str(e)
            m.run("delete", "all", check=False)
            xs = intervals_ms(lf)[:n]
            s = summary(xs)
            s["starts_seen"] = count
            s["status_at_end"] = status
            s["restart_time_at_end"] = restarts
            res["crash"][label] = s
            log(f"[crash] {label}: {count} starts, median {s['median']:.3f} ms "
                f"p90 {s['p90']:.3f} ms, status {status}")


# ---------------------------------------------------------------- logs

def compile_spew(ctx):
    out = os.path.join(ctx.workdir, "spew")
    if not os.path.exists(out):
        cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        if not cc:
            raise SystemExit("need a C compiler (cc) for the logs benchmark")
        subprocess.run([cc, "-O2", "-o", out, os.path.join(HERE, "spew.c")], check=True)
    return out


def cpu_ticks(pid):
    """utime+stime (clock ticks) of the whole thread group, children excluded."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def now_us():
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
        if len(ln) == 99 and ln[9:10] == b" " and ln[:9].isdigit():
            seen.add(int(ln[:9]))
        else:
            bad += 1
    lost = n - len([s for s in seen if s < n])
    return len(lines), lost, bad


def logs_baseline(ctx, spew, mode, run):
    d = tempfile.mkdtemp(prefix=f"logs-{mode}-{run}-", dir=ctx.workdir)
    out, stamp = os.path.join(d, "out.log"), os.path.join(d, "stamp")
    n = ctx.args.log_lines
    procs = []
    try:
        with open(out, "wb") as f:
            if mode == "file":
                procs.append(subprocess.Popen([spew, str(n), stamp], stdout=f,
                                              stdin=subprocess.DEVNULL))
            else:
                p1 = subprocess.Popen([spew, str(n), stamp], stdout=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL)
                p2 = subprocess.Popen(["cat"], stdin=p1.stdout, stdout=f)
                p1.stdout.close()
                procs += [p1, p2]
        done, size = wait_size(out, n * 100, ctx.args.log_timeout, 10)
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


def logs_manager(ctx, label, spew, run):
    n = ctx.args.log_lines
    with Session(ctx, label) as m:
        m.run("ping")
        time.sleep(1.0)
        stamp = os.path.join(m.home, "spew.stamp")
        eco = os.path.join(m.home, "spew.json")
        with open(eco, "w") as f:
            json.dump({"apps": [{"name": "spew", "script": spew, "interpreter": "none",
                                 "args": [str(n), stamp], "autorestart": False}]}, f)
        out = os.path.join(m.home, "logs", "spew-out.log")
        pid = m.daemon_pid()
        tick = os.sysconf("SC_CLK_TCK")
        cpu0, rss0 = cpu_ticks(pid), rss_kib(pid)
        t_cli = now_us()
        m.run("start", eco)
        done, size = wait_size(out, n * 100, ctx.args.log_timeout, 10)
        t_end = now_us()
        cpu1, rss1, hwm1 = cpu_ticks(pid), rss_kib(pid), status_kib(pid, "VmHWM")
        start, end = read_stamp(stamp)
        time.sleep(1.0)
        cpu2, rss2 = cpu_ticks(pid), rss_kib(pid)
        try:
            apps = m.jlist()
            path = (apps[0].get("pm2_env") or {}).get("pm_out_log_path") if apps else None
        except Exception:  # noqa: BLE001
            path = None
        if path and os.path.abspath(path) != out:
            log(f"[logs] {label}: out log is {path}, expected {out}")
        m.run("delete", "all", check=False)
        lines, lost, bad = check_lines(out, n)
        r = {"ms": ((done or t_end) - start) / 1000.0, "complete": done is not None,
             "ms_from_cli": ((done or t_end) - t_cli) / 1000.0,
             "write_ms": (end - start) / 1000.0, "final_size": size,
             "cpu_s": (cpu1 - cpu0) / tick, "cpu_s_plus_1s": (cpu2 - cpu0) / tick,
             "rss_before_kib": rss0, "rss_growth_kib": rss1 - rss0,
             "rss_growth_plus_1s_kib": rss2 - rss0, "hwm_after_kib": hwm1,
             "lines": lines, "lost": lost, "malformed": bad}
        return r


def bench_logs(ctx, res):
    spew = compile_spew(ctx)
    runs = ctx.args.log_runs
    raw = {}
    for run in range(runs):
        for mode in ("file", "pipe"):
            r = logs_baseline(ctx, spew, mode, run)
            raw.setdefault(f"bare_{mode}", []).append(r)
            log(f"[logs] run {run} bare {mode}: {r['ms']:.1f} ms, {r['lines']} lines")
        for label in ctx.labels:
            r = logs_manager(ctx, label, spew, run)
            raw.setdefault(label, []).append(r)
            log(f"[logs] run {run} {label}: {r['ms']:.1f} ms (complete {r['complete']}), "
                f"daemon CPU {r['cpu_s']:.2f} s, RSS +{r['rss_growth_kib']} KiB, "
                f"lines {r['lines']} lost {r['lost']} malformed {r['malformed']}")
    out = {"lines": ctx.args.log_lines}
    for k, rs in raw.items():
        s = {"runs": rs}
        for f in ("ms", "write_ms", "ms_from_cli", "cpu_s", "cpu_s_plus_1s",
                  "rss_growth_kib", "rss_growth_plus_1s_kib"):
            if f in rs[0]:
                s[f] = statistics.median(r[f] for r in rs)
        s["lost_total"] = sum(r["lost"] for r in rs)
        s["malformed_total"] = sum(r["malformed"] for r in rs)
        s["incomplete_runs"] = sum(1 for r in rs if not r.get("complete", True))
        out[k] = s
    res["logs"] = out


# ---------------------------------------------------------------- cluster

SERVER_JS = """const http = require('http');
http.createServer((q, s) => s.end('ok')).listen({port}, '127.0.0.1');
"""


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ok(port):
    import http.client
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/")
        ok = c.getresponse().read() == b"ok"
        c.close()
        return ok
    except OSError:
        return False


def ensure_wrk():
    if shutil.which("wrk"):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "wrk not installed (and not root, or no apt-get): install wrk to run `cluster`"
    log("[cluster] wrk missing: apt-get install -y wrk")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, stdout=sys.stderr)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, stdout=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, stdout=sys.stderr)
    return None if shutil.which("wrk") else "apt-get install -y wrk failed"


def wrk_cmd(port, secs, close):
    c = ["wrk", "-t2", "-c64", f"-d{secs}s"]
    if close:
        c += ["-H", "Connection: close"]
    return c + [f"http://127.0.0.1:{port}/"]


def parse_wrk(text):
    import re
    r = {"raw": text.strip().splitlines()[-8:]}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    r["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    for i, k in enumerate(("connect", "read", "write", "timeout")):
        r[k] = int(m.group(i + 1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["non2xx"] = int(m.group(1)) if m else 0
    r["failed"] = r["connect"] + r["read"] + r["write"] + r["timeout"] + r["non2xx"]
    return r


def run_wrk(port, secs, close):
    p = subprocess.run(wrk_cmd(port, secs, close), capture_output=True, text=True,
                       timeout=secs + 60)
    return parse_wrk(p.stdout + p.stderr)


def wrk_with_reloads(m, port, close, ctx):
    secs, n, gap = ctx.args.reload_secs, 3, ctx.args.reload_gap
    w = subprocess.Popen(wrk_cmd(port, secs, close), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    t0 = time.time()
    reloads = []
    try:
        for k in range(n):
            wake = t0 + gap * (k + 1)
            if wake > time.time():
                time.sleep(wake - time.time())
            a = time.time()
            rr = m.run("reload", "web", check=False, timeout=60)
            reloads.append({"at_s": round(a - t0, 2), "ms": round((time.time() - a) * 1000, 1),
                            "rc": rr.returncode})
        out, _ = w.communicate(timeout=secs + 60)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    r = parse_wrk(out)
    r["reloads"] = reloads
    return r


def cluster_session(ctx, label, run):
    with Session(ctx, label) as m:
        port = free_port()
        app = os.path.join(m.home, "server.js")
        with open(app, "w") as f:
            f.write(SERVER_JS.format(port=port))
        m.run("ping")
        m.run("start", app, "--name", "web", "-i", "2")
        m.wait_online(2)
        deadline = time.time() + 30
        while not http_ok(port):
            if time.time() > deadline:
                raise RuntimeError(f"{label}: nothing answers on 127.0.0.1:{port}")
            time.sleep(0.1)
        r = {"port": port}
        run_wrk(port, 2, False)  # warm-up (JIT, connection setup paths)
        secs = ctx.args.wrk_secs
        r["keepalive"] = run_wrk(port, secs, False)
        r["close"] = run_wrk(port, secs, True)
        for key, close in (("reload_close", True), ("reload_keepalive", False)):
            m.wait_online(2)
            time.sleep(1.0)
            r[key] = wrk_with_reloads(m, port, close, ctx)
        try:
            apps = m.jlist()
            r["status_at_end"] = [(a.get("pm2_env") or {}).get("status") for a in apps]
            r["restarts_at_end"] = [(a.get("pm2_env") or {}).get("restart_time") for a in apps]
        except Exception as e:  # noqa: BLE001
            r["status_at_end"] = str(e)
        m.run("delete", "all", check=False)
        return r


def bench_cluster(ctx, res):
    why = ensure_wrk()
    if why:
        log(f"[cluster] SKIPPED: {why}")
        res["cluster"] = {"skipped": why}
        return
    raw = {}
    for run in range(ctx.args.cluster_runs):
        for label in ctx.labels:
            r = cluster_session(ctx, label, run)
            raw.setdefault(label, []).append(r)
            log(f"[cluster] run {run} {label}: keep-alive {r['keepalive']['rps']:.0f} req/s, "
                f"close {r['close']['rps']:.0f} req/s, failed during reloads: "
                f"close {r['reload_close']['failed']} ({r['reload_close']['requests']} req), "
                f"keep-alive {r['reload_keepalive']['failed']} "
                f"({r['reload_keepalive']['requests']} req); reloads "
                f"{[x['ms'] for x in r['reload_close']['reloads'] + r['reload_keepalive']['reloads']]} ms")
    out = {}
    for label, rs in raw.items():
        out[label] = {
            "runs": rs,
            "keepalive_rps": statistics.median(r["keepalive"]["rps"] for r in rs),
            "close_rps": statistics.median(r["close"]["rps"] for r in rs),
            "reload_close_failed": [r["reload_close"]["failed"] for r in rs],
            "reload_keepalive_failed": [r["reload_keepalive"]["failed"] for r in rs],
            "reload_close_requests": [r["reload_close"]["requests"] for r in rs],
            "reload_keepalive_requests": [r["reload_keepalive"]["requests"] for r in rs],
        }
    res["cluster"] = out


# ---------------------------------------------------------------- idle

def raise_nofile():
    """Raise RLIMIT_NOFILE (soft) to the hard limit; children (CLI, daemon, apps) inherit
    it. Returns (soft before, soft after, hard)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as e:
            log(f"[idle] could not raise RLIMIT_NOFILE to {want}: {e}")
    after = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft, after, hard


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
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def online_count(m):
    try:
        apps = m.jlist()
    except Exception as e:  # noqa: BLE001
        log(f"[idle] {m.label}: jlist failed: {e}")
        return None, None
    on = sum(1 for a in apps if (a.get("pm2_env") or {}).get("status") == "online")
    return len(apps), on


def idle_session(ctx, label, nofile):
    a = ctx.args
    n = a.idle_apps
    sleep_bin = shutil.which("sleep") or "/bin/sleep"
    with Session(ctx, label) as m:
        m.run("ping")
        eco = os.path.join(m.home, "idle.json")
        with open(eco, "w") as f:
            json.dump({"apps": [{"name": f"app-{i}", "script": sleep_bin,
                                 "args": ["100000"], "interpreter": "none"}
                                for i in range(n)]}, f)
        t0 = time.time()
        deadline = t0 + a.idle_start_timeout
        cli_rc = None
        try:
            r = m.run("start", eco, check=False, capture=True,
                      timeout=max(5.0, a.idle_start_timeout))
            cli_rc = r.returncode
            if r.returncode != 0:
                log(f"[idle] {label}: `pm2 start` exited {r.returncode}: "
                    f"{(r.stderr or b'').decode(errors='replace')[-500:]}")
        except subprocess.TimeoutExpired:
            cli_rc = "timeout"
            log(f"[idle] {label}: `pm2 start` still running after {a.idle_start_timeout:.0f} s")
        t_cli = time.time() - t0
        # wait (until the same deadline) for all n to be online; then keep what we have
        total, online = None, None
        while True:
            total, online = online_count(m)
            if online is not None and online >= n:
                break
            if time.time() >= deadline:
                log(f"[idle] {label}: {online} of {n} online after "
                    f"{a.idle_start_timeout:.0f} s; measuring with those")
                break
            time.sleep(1.0)
        t_online = time.time() - t0
        pid = m.daemon_pid()
        if not pid or not pid_alive(pid):
            raise RuntimeError(f"{label}: no live daemon after starting {n} apps")
        time.sleep(a.idle_settle)
        tick = os.sysconf("SC_CLK_TCK")
        # nothing talks to the daemon between these two reads
        c0, s0, w0 = cpu_ticks(pid), sched_ns(pid), time.monotonic()
        time.sleep(a.idle_secs)
        c1, s1, w1 = cpu_ticks(pid), sched_ns(pid), time.monotonic()
        rss, hwm = rss_kib(pid), status_kib(pid, "VmHWM")
        threads = status_kib(pid, "Threads")
        fds = count_fds(pid)
        wall = w1 - w0
        total2, online2 = online_count(m)  # after the window: did they stay up?
        cpu_s = (c1 - c0) / tick
        res = {
            "apps_requested": n, "apps_listed": total, "apps_online": online,
            "apps_online_after": online2, "start_cli_rc": cli_rc,
            "start_cli_s": round(t_cli, 1), "all_online_s": round(t_online, 1),
            "settle_s": a.idle_settle, "window_s": round(wall, 3),
            "cpu_s": cpu_s, "cpu_pct": cpu_s / wall * 100.0,
            "sched_cpu_s": (s1 - s0) / 1e9, "sched_cpu_pct": (s1 - s0) / 1e9 / wall * 100.0,
            "rss_kib": rss, "hwm_kib": hwm, "threads": threads, "daemon_fds": fds,
            "nofile_soft": nofile[1], "nofile_hard": nofile[2],
            "worker_interval": "30 s (PM2 default)" if label == "pm2"
            else "1 s (pm2-rs default, PM2_WORKER_INTERVAL=1000 ms)",
        }
        log(f"[idle] {label}: {online}/{n} online after {t_online:.1f} s (CLI {t_cli:.1f} s); "
            f"daemon {pid} CPU {cpu_s:.2f} s in {wall:.1f} s = {res['cpu_pct']:.2f} % of a core "
            f"(schedstat {res['sched_cpu_s']:.3f} s); VmRSS {rss / 1024:.1f} MiB, {fds} fds, "
            f"{threads} threads; online after window {online2}")
        m.run("delete", "all", check=False, timeout=300)
        return res


def bench_idle(ctx, res):
    nofile = raise_nofile()
    log(f"[idle] RLIMIT_NOFILE soft {nofile[0]} -> {nofile[1]} (hard {nofile[2]})")
    out = {"apps": ctx.args.idle_apps, "window_s": ctx.args.idle_secs,
           "settle_s": ctx.args.idle_settle, "start_timeout_s": ctx.args.idle_start_timeout,
           "nofile_before": nofile[0], "nofile": nofile[1], "nofile_hard": nofile[2],
           "pm2_rs": getattr(ctx, "ours_rev", "?"),
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    try:
        with open("/proc/loadavg") as f:
            out["loadavg_start"] = " ".join(f.read().split()[:3])
    except OSError:
        pass
    for label in ctx.labels:
        out[label] = idle_session(ctx, label, nofile)
    try:
        with open("/proc/loadavg") as f:
            out["loadavg_end"] = " ".join(f.read().split()[:3])
    except OSError:
        pass
    res["idle"] = out


# ---------------------------------------------------------------- report

def machine_info(ctx):
    info = {}
    info["nproc"] = os.cpu_count()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            info["memory"] = f"{kib / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    info["kernel"] = platform.release()
    try:
        info["node"] = subprocess.run(["node", "--version"], capture_output=True,
                                      text=True).stdout.strip()
    except OSError:
        info["node"] = "?"
    try:
        with open("/proc/loadavg") as f:
            info["loadavg_end"] = " ".join(f.read().split()[:3])
    except OSError:
        pass
    info["loadavg_start"] = getattr(ctx, "loadavg_start", "?")
    info["pm2"] = ctx.pm2_version
    info["pm2_rs"] = ctx.ours_rev
    info["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return info


def fmt_ms(s):
    return f"{s['median']:.2f} ms (p90 {s['p90']:.2f})"


def render(ctx, res):
    rows = []

    def verdict(ok):
        return "yes" if ok else "**no**"

    for n in ctx.args.list_apps:
        for cmd in ("list", "jlist"):
            r = res.get(f"{cmd}_{n}")
            if r and "pm2" in r and "pm2-rs" in r:
                ratio = r["pm2"]["median"] / r["pm2-rs"]["median"]
                tgt = "≥20x" if cmd == "list" else ""
                ok = verdict(ratio >= 20) if cmd == "list" else ""
                rows.append((f"`pm2 {cmd}`, {n} apps", fmt_ms(r["pm2"]), fmt_ms(r["pm2-rs"]),
                             f"{ratio:.1f}x faster", tgt, ok))
    r = res.get("coldstart")
    if r and "pm2" in r and "pm2-rs" in r:
        ratio = r["pm2"]["median"] / r["pm2-rs"]["median"]
        rows.append(("Daemon cold start (`pm2 ping`, no daemon)", fmt_ms(r["pm2"]),
                     fmt_ms(r["pm2-rs"]), f"{ratio:.1f}x faster", "", ""))
    for key, n in (("rss_0", 0), (f"rss_{ctx.args.rss_apps}", ctx.args.rss_apps)):
        r = res.get(key)
        if r and "pm2" in r and "pm2-rs" in r:
            a, b = r["pm2"]["kib"], r["pm2-rs"]["kib"]
            rows.append((f"Daemon VmRSS, {n} apps", f"{a / 1024:.1f} MiB", f"{b / 1024:.1f} MiB",
                         f"{b / a:.3f} of PM2 ({a / b:.1f}x less)", "≤0.1", verdict(b * 10 <= a)))
    r = res.get("crash")
    if r and "pm2" in r and "pm2-rs" in r:
        bare = r["bare_sh"]["median"]
        rows.append(("Crash→respawn interval (bare `sh` loop baseline)",
                     "", "", f"{fmt_ms(r['bare_sh'])}; Python posix_spawn loop "
                     f"{fmt_ms(r['bare_py'])}", "", ""))
        rows.append(("Crash→respawn interval", fmt_ms(r["pm2"]), fmt_ms(r["pm2-rs"]),
                     f"ours − bare = {r['pm2-rs']['median'] - bare:+.2f} ms; "
                     f"PM2 − bare = {r['pm2']['median'] - bare:+.2f} ms",
                     "ours ≤ bare+5 ms", verdict(r["pm2-rs"]["median"] - bare <= 5)))
    r = res.get("logs")
    if r and "pm2" in r and "pm2-rs" in r:
        a, b = r["pm2"], r["pm2-rs"]
        base, pipe = r["bare_file"]["ms"], r["bare_pipe"]["ms"]
        n = r.get("lines", 1000000)
        rows.append((f"Log relay, {n:,} × 100 B lines: baselines without a manager", "", "",
                     f"`spew > file` {base:.1f} ms; `spew \\| cat > file` {pipe:.1f} ms", "", ""))
        def best(x):
            return min(q["ms"] for q in x["runs"])
        rows.append(("Log relay: app start → last line on disk in the out log",
                     f"{a['ms']:.1f} ms (min {best(a):.1f})", f"{b['ms']:.1f} ms (min {best(b):.1f})",
                     f"ours {b['ms'] / base:.2f}x plain file by medians, {best(b) / best(r['bare_file']):.2f}x "
                     f"by minima ({b['ms'] / pipe:.2f}x / {best(b) / best(r['bare_pipe']):.2f}x "
                     f"`\\| cat`); PM2 {a['ms'] / base:.2f}x / {best(a) / best(r['bare_file']):.2f}x",
                     "≤1.1x plain file (both)",
                     verdict(b["ms"] <= 1.1 * base and best(b) <= 1.1 * best(r["bare_file"])
                             and b.get("incomplete_runs", 0) == 0)))
        rows.append(("Log relay: daemon CPU (utime+stime)", f"{a['cpu_s']:.2f} s",
                     f"{b['cpu_s']:.2f} s", f"{b['cpu_s'] / a['cpu_s']:.3f} of PM2"
                     if a["cpu_s"] else "", "≤1/3 of PM2", verdict(b["cpu_s"] * 3 <= a["cpu_s"])))
        rows.append(("Log relay: daemon VmRSS growth", f"{a['rss_growth_kib'] / 1024:.1f} MiB",
                     f"{b['rss_growth_kib'] / 1024:.1f} MiB", "", "<5 MB",
                     verdict(b["rss_growth_kib"] * 1024 < 5e6)))
        rows.append(("Log relay: lines lost (all runs)", f"{a['lost_total']}",
                     f"{b['lost_total']}", f"malformed lines: PM2 {a['malformed_total']}, "
                     f"ours {b['malformed_total']}", "0",
                     verdict(b["lost_total"] == 0 and b["malformed_total"] == 0)))
    r = res.get("cluster")
    if r and "skipped" in r:
        rows.append(("HTTP cluster `-i 2`", "", "", f"skipped: {r['skipped']}", "", ""))
    elif r and "pm2" in r and "pm2-rs" in r:
        a, b = r["pm2"], r["pm2-rs"]
        ka = b["keepalive_rps"] / a["keepalive_rps"] if a["keepalive_rps"] else float("inf")
        cl = b["close_rps"] / a["close_rps"] if a["close_rps"] else float("inf")
        rows.append(("HTTP `-i 2`, keep-alive (wrk -t2 -c64 -d10s)",
                     f"{a['keepalive_rps']:.0f} req/s", f"{b['keepalive_rps']:.0f} req/s",
                     f"{ka:.2f}x PM2", "≥1x PM2", verdict(ka >= 1)))
        rows.append(("HTTP `-i 2`, new connection per request (`Connection: close`)",
                     f"{a['close_rps']:.0f} req/s", f"{b['close_rps']:.0f} req/s",
                     f"{cl:.2f}x PM2", "≥1.3x PM2", verdict(cl >= 1.3)))

        def fails(x, key):
            return (f"{sum(x[key + '_failed'])} of {sum(x[key + '_requests'])} "
                    f"({'/'.join(str(v) for v in x[key + '_failed'])})")
        rows.append(("Failed requests during 3 × `pm2 reload`, connection per request",
                     fails(a, "reload_close"), fails(b, "reload_close"), "", "0",
                     verdict(sum(b["reload_close_failed"]) == 0)))
        rows.append(("Failed requests during 3 × `pm2 reload`, keep-alive",
                     fails(a, "reload_keepalive"), fails(b, "reload_keepalive"), "", "< PM2",
                     verdict(sum(b["reload_keepalive_failed"])
                             < sum(a["reload_keepalive_failed"]))))
    r = res.get("idle")
    if r and "pm2" in r and "pm2-rs" in r:
        a, b = r["pm2"], r["pm2-rs"]

        def idle_cpu(x):
            return (f"{x['cpu_s']:.2f} s = {x['cpu_pct']:.2f} % of a core "
                    f"({x['apps_online']} apps)")
        rows.append((f"Daemon CPU, {r['apps']:,} idle instances, {r['window_s']:.0f} s window",
                     idle_cpu(a), idle_cpu(b),
                     f"{b['cpu_s'] / a['cpu_s']:.2f}x PM2" if a["cpu_s"] else "",
                     "<1 % of a core", verdict(b["cpu_pct"] < 1.0
                                               and b["apps_online"] >= r["apps"])))
        rows.append((f"Daemon VmRSS, {r['apps']:,} idle instances",
                     f"{a['rss_kib'] / 1024:.1f} MiB ({a['apps_online']} apps)",
                     f"{b['rss_kib'] / 1024:.1f} MiB ({b['apps_online']} apps)",
                     f"{b['rss_kib'] / a['rss_kib']:.3f} of PM2", "", ""))
        rows.append((f"Time until {r['apps']:,} instances are online (one ecosystem JSON)",
                     f"{a['all_online_s']:.1f} s", f"{b['all_online_s']:.1f} s",
                     f"{a['all_online_s'] / b['all_online_s']:.1f}x faster"
                     if b["all_online_s"] else "", "", ""))
    out = ["| Metric | PM2 " + str(ctx.pm2_version) + " | pm2-rs | Ratio | Target | Met |",
           "|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def write_markdown(ctx, res, table, info, command):
    path = os.path.join(REPO, "BENCHMARKS.md")
    spawn = res.get("spawn_true_ms")
    lines = [
        "# Benchmarks: pm2-rs vs PM2 7",
        "",
        "Generated by `bench/run.py` (see `bench/README.md`). Lower is better everywhere except requests per second.",
        "",
        "## Results",
        "",
        table,
        "",
        "Notes:",
        f"- Latencies are wall time of one CLI invocation as seen by the harness "
        f"(Python `subprocess.run`, output to /dev/null), median and p90 over "
        f"{ctx.args.runs} runs after {ctx.args.warmup} warm-up runs"
        + (f"; spawning `/bin/true` the same way costs {spawn['median']:.2f} ms "
           f"(p90 {spawn['p90']:.2f}) at the start of the run" if spawn else "")
        + "; the raw results also give, per block, the /bin/true median measured right after "
        "it (`true_floor_median`). The harness floor is included in both managers' numbers, "
        "which understates ratios for pm2-rs.",
        f"- Apps: `app.sh` (`exec sleep 100000`, run through bash by both managers). "
        f"PM2 gets its apps from one ecosystem JSON, pm2-rs from repeated "
        f"`pm2 start app.sh --name app-N` (setup only, not timed).",
        f"- Cold start: `pm2 ping` with no daemon running (the CLI spawns the daemon and "
        f"waits for it), median over {ctx.args.cold_runs} runs, after a discarded first "
        f"run in the fresh PM2_HOME; `pm2 kill` between runs.",
        f"- RSS: VmRSS of the pid in `$PM2_HOME/pm2.pid`, {ctx.args.settle:.0f} s after the "
        f"apps are online, largest of 5 samples 0.4 s apart. Only the daemon, not the apps.",
        f"- Crash→respawn: `bench/crash.c` appends CLOCK_REALTIME µs to a file and exits 1; "
        f"interval between consecutive starts, first 5 starts dropped, "
        f"{ctx.args.crash_starts} intervals. Both managers: interpreter none, "
        f"max_restarts 10000000, min_uptime 1000 (PM2 via ecosystem JSON).",
    ]
    lg = res.get("logs")
    if lg:
        lines.append(
            f"- Log relay: `bench/spew.c` writes {lg.get('lines', 0):,} lines of exactly 100 bytes "
            f"(sequence number + filler) to stdout with write(2) in 64 KiB chunks, then idles "
            f"(started with autorestart off, interpreter none, default log settings, from the "
            f"same ecosystem JSON for both). Time runs from the app's own first instruction "
            f"(CLOCK_REALTIME it records) until `$PM2_HOME/logs/spew-out.log` reaches the exact "
            f"expected size (polled every 2 ms), so CLI and spawn overhead are excluded. Daemon "
            f"CPU is utime+stime of the pid in `pm2.pid` (whole thread group, children "
            f"excluded) from just before `pm2 start` to that moment; RSS growth is VmRSS at "
            f"that moment minus VmRSS before. Lines lost: sequence numbers missing from the "
            f"log. Baselines: the same binary with stdout redirected to a file (`spew > file`) "
            f"and through a pipe (`spew | cat > file`). Medians of {len(lg.get('pm2-rs', lg.get('pm2', {})).get('runs', []))} "
            f"runs; each manager run uses a fresh daemon.")
    cl = res.get("cluster")
    if cl and "skipped" not in cl:
        lines.append(
            "- HTTP cluster: `http.createServer((q,s)=>s.end('ok')).listen(port,'127.0.0.1')` "
            "started with `pm2 start server.js --name web -i 2`. Load: `wrk -t2 -c64 -d10s` "
            "(keep-alive) and the same with `-H 'Connection: close'` (wrk reconnects for every "
            "request), after a 2 s warm-up. Reloads: wrk runs 12 s while `pm2 reload web` is "
            "called 3 times, ~2 s apart (each call waits for the previous to return); "
            "failed = wrk socket errors (connect+read+write+timeout) + non-2xx responses, shown "
            "as total of all requests (per run). Medians of the per-run throughputs; managers "
            "alternate run by run, each run with a fresh daemon. The machine has only 2 cores: "
            "wrk, the 2 Node workers and the daemon share them, so absolute req/s are "
            "load-generator bound; the load generator is identical for both managers.")
    idle = res.get("idle")
    if idle and "pm2" in idle and "pm2-rs" in idle:
        pa, pb = idle["pm2"], idle["pm2-rs"]
        lines.append(
            f"- Idle instances: {idle['apps']:,} apps `sleep 100000` run directly "
            f"(`interpreter none`), started from one ecosystem JSON (names app-0..app-"
            f"{idle['apps'] - 1}) by both managers; wait until `jlist` shows them online "
            f"(PM2: {pa['apps_online']} online after {pa['all_online_s']:.0f} s, pm2-rs: "
            f"{pb['apps_online']} after {pb['all_online_s']:.0f} s), settle "
            f"{idle['settle_s']:.0f} s, then the daemon's utime+stime (`/proc/<pm2.pid>/stat`, "
            f"whole thread group) before and after a {idle['window_s']:.0f} s window in which "
            f"nothing talks to the daemon; % of one core = CPU seconds / window. Cross-check "
            f"from `/proc/<pid>/task/*/schedstat` (ns): PM2 {pa['sched_cpu_s']:.3f} s, pm2-rs "
            f"{pb['sched_cpu_s']:.3f} s. VmRSS read at the end of the window. Both at their "
            f"default sampling: pm2-rs samples every instance once per second "
            f"(`PM2_WORKER_INTERVAL`=1000 ms), PM2's worker runs every 30 s, i.e. about once "
            f"per window. The harness sets its soft RLIMIT_NOFILE to the hard limit for the run "
            f"(inherited by CLI, daemon and apps): {idle['nofile']}, was "
            f"{idle['nofile_before']}; daemon fds at the end: PM2 {pa['daemon_fds']}, "
            f"pm2-rs {pb['daemon_fds']}, so the limit was not hit."
            + (f" Measured separately from the other rows: pm2-rs {idle.get('pm2_rs')}, "
               f"{idle.get('date')}, load average {idle.get('loadavg_start')} → "
               f"{idle.get('loadavg_end')}; the other rows are from the run described "
               f"under Machine, merged unchanged."
               if idle.get("pm2_rs") != info.get("pm2_rs") else ""))
    lines += [
        "",
        "## Machine",
        "",
    ]
    for k in ("nproc", "cpu", "memory", "kernel", "node", "pm2", "pm2_rs", "date",
              "loadavg_start", "loadavg_end"):
        label = {"loadavg_start": "Load average at start (1/5/15 min)",
                 "loadavg_end": "Load average at end",
                 "pm2": "PM2 version", "pm2_rs": "pm2-rs commit", "nproc": "nproc",
                 "cpu": "CPU", "memory": "Memory", "kernel": "Kernel", "node": "Node",
                 "date": "Date"}[k]
        lines.append(f"- {label}: {info.get(k, '?')}")
    lines += ["", "## Command", "", "```", command, "```", "",
              "## Raw results", "", "```json", json.dumps(res, indent=1), "```", ""]
    extra = ctx.args.notes_file
    if extra and os.path.exists(extra):
        with open(extra) as f:
            lines += [f.read().rstrip(), ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    log(f"wrote {path}")


# ---------------------------------------------------------------- main

BENCHES = {"list": bench_list, "coldstart": bench_coldstart, "rss": bench_rss,
           "crash": bench_crash, "logs": bench_logs, "cluster": bench_cluster,
           "idle": bench_idle}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bench", choices=[*BENCHES, "all", "report"],
                    help="`report` re-renders BENCHMARKS.md from --from-json without running")
    ap.add_argument("--from-json", help="for `report`: a file written by --json")
    ap.add_argument("--pm2-rs", help="path to our pm2 binary (default: cargo build --release)")
    ap.add_argument("--src", default=REPO, help="pm2-rs checkout to build (and whose "
                    "commit is reported); default: this repository")
    ap.add_argument("--pm2-npm", help="folder holding (or to receive) `npm install pm2@7`; "
                    "default $PM2_NPM_DIR, else a fresh temp folder")
    ap.add_argument("--only", choices=["pm2", "pm2-rs"], help="run one manager only")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--list-apps", type=lambda s: [int(x) for x in s.split(",")],
                    default=[5, 100])
    ap.add_argument("--cold-runs", type=int, default=10)
    ap.add_argument("--rss-apps", type=int, default=100)
    ap.add_argument("--settle", type=float, default=5.0)
    ap.add_argument("--crash-starts", type=int, default=200)
    ap.add_argument("--crash-timeout", type=float, default=60.0)
    ap.add_argument("--log-lines", type=int, default=1000000)
    ap.add_argument("--log-runs", type=int, default=3)
    ap.add_argument("--log-timeout", type=float, default=120.0)
    ap.add_argument("--cluster-runs", type=int, default=3)
    ap.add_argument("--wrk-secs", type=int, default=10)
    ap.add_argument("--reload-secs", type=int, default=12)
    ap.add_argument("--reload-gap", type=float, default=2.0)
    ap.add_argument("--idle-apps", type=int, default=1000)
    ap.add_argument("--idle-secs", type=float, default=30.0)
    ap.add_argument("--idle-settle", type=float, default=10.0)
    ap.add_argument("--idle-start-timeout", type=float, default=300.0,
                    help="give up waiting for all --idle-apps to be online after this long "
                    "and measure with those that are")
    ap.add_argument("--write", action="store_true", help="write BENCHMARKS.md")
    ap.add_argument("--notes-file", default=os.path.join(HERE, "analysis.md"),
                    help="markdown appended to BENCHMARKS.md (default bench/analysis.md, "
                    "if present)")
    ap.add_argument("--json", help="also dump raw results here")
    ap.add_argument("--keep", action="store_true", help="keep the temp work folder")
    args = ap.parse_args()

    # turn SIGTERM/SIGHUP into exceptions so every `finally` (daemon kill) runs
    def _sig(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, _sig)
    signal.signal(signal.SIGHUP, _sig)

    if args.bench == "report":
        with open(args.from_json) as f:
            saved = json.load(f)
        ctx = Ctx(args)
        for k, v in saved.get("args", {}).items():
            if k not in ("bench", "from_json", "write", "notes_file", "json"):
                setattr(ctx.args, k, v)
        ctx.pm2_version = saved["machine"].get("pm2")
        table = render(ctx, saved["results"])
        print(table)
        if args.write:
            write_markdown(ctx, saved["results"], table, saved["machine"], saved["command"])
        ctx.cleanup()
        return

    ctx = Ctx(args)
    ctx.labels = [args.only] if args.only else ["pm2", "pm2-rs"]
    res = {}
    try:
        with open("/proc/loadavg") as f:
            ctx.loadavg_start = " ".join(f.read().split()[:3])
    except OSError:
        pass
    try:
        ctx.setup()
        names = list(BENCHES) if args.bench == "all" else [args.bench]
        for name in names:
            BENCHES[name](ctx, res)
    finally:
        ctx.cleanup()
    info = machine_info(ctx)
    table = render(ctx, res)
    command = "python3 bench/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print()
    print(table)
    print()
    for k, v in info.items():
        print(f"- {k}: {v}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": res, "machine": info, "command": command,
                       "args": vars(args)}, f, indent=1)
    if args.write:
        write_markdown(ctx, res, table, info, command)


if __name__ == "__main__":
    main()
