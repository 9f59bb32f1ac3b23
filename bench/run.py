#!/usr/bin/env python3
"""Side-by-side benchmarks of pm2-rs against real PM2 7 (Python 3 stdlib only).

Subcommands: list, coldstart, rss, crash, all. See bench/README.md.

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
        "Generated by `bench/run.py` (see `bench/README.md`). Lower is better everywhere.",
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
           "crash": bench_crash}


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
