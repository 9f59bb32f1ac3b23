"""One process manager (PM2 or pm2-rs) driven through its CLI in its own temporary PM2_HOME.

Every manager is stopped the same way, never by name: `pm2 kill`, then SIGKILL of the daemon
pids seen in `$PM2_HOME/pm2.pid`, then SIGKILL of any process whose environment carries the
unique temporary PM2_HOME.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from .common import log
from .procfs import pid_alive, pids_with_home


def _output_tail(b):
    return (b or b"").decode(errors="replace")[-2000:]


def sigkill(pid):
    """SIGKILL a pid this harness started; a pid already gone is fine."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


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
        """The argv of one CLI call."""
        return [self.binary, *args]

    def run(self, *args, check=True, timeout=120, capture=True):
        """Run one CLI call; with `check`, a non-zero exit raises with its output."""
        out = subprocess.PIPE if capture else subprocess.DEVNULL
        r = subprocess.run(self.cmd(*args), env=self.env, timeout=timeout,
                           stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise RuntimeError(
                f"{self.label}: {' '.join(args)} exited {r.returncode}\n"
                f"stdout: {_output_tail(r.stdout)}\n"
                f"stderr: {_output_tail(r.stderr)}")
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
        """The pid in $PM2_HOME/pm2.pid, or None."""
        try:
            with open(os.path.join(self.home, "pm2.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def note_daemon(self):
        """Remember the current daemon pid so `kill` can make sure it is gone."""
        pid = self.daemon_pid()
        if pid:
            self.seen_pids.add(pid)

    def jlist(self):
        """`pm2 jlist` parsed."""
        r = self.run("jlist")
        out = r.stdout.decode(errors="replace")
        # PM2 may print banners before the JSON; take from the first '['
        i = out.find("[")
        return json.loads(out[i:]) if i >= 0 else []

    def wait_online(self, n, timeout=120):
        """Poll `jlist` until `n` apps are online; raises after `timeout` s."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            apps = self.jlist()
            online = [a for a in apps if app_status(a) == "online"]
            last = (len(apps), len(online))
            if len(online) >= n:
                return apps
            time.sleep(0.5)
        raise RuntimeError(f"{self.label}: only {last} (apps, online) after {timeout}s, wanted {n}")

    def wait_daemon_gone(self, pid, timeout=10):
        """Poll until `pid` is gone; False if it outlived `timeout` s."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.01)
        return False

    def kill(self):
        """`pm2 kill`, then SIGKILL what is left. Never raises."""
        self.note_daemon()
        try:
            subprocess.run(self.cmd("kill"), env=self.env, timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL)
        except Exception as e:  # noqa: BLE001
            log(f"[{self.label}] pm2 kill failed: {e}")
        for p in sorted(self.seen_pids):
            if pid_alive(p) and not self.wait_daemon_gone(p, 5):
                log(f"[{self.label}] daemon {p} survived `pm2 kill`: SIGKILL")
                sigkill(p)
        for p in pids_with_home(self.home):
            if pid_alive(p):
                log(f"[{self.label}] leftover process {p} from {self.home}: SIGKILL")
                sigkill(p)

    def kill_daemon_only(self):
        """Between cold-start runs: `pm2 kill` and wait for the pid to vanish."""
        pid = self.daemon_pid()
        self.run("kill", check=False)
        if pid and not self.wait_daemon_gone(pid, 10):
            os.kill(pid, signal.SIGKILL)
            self.wait_daemon_gone(pid, 5)


def app_status(app):
    """PM2's status name of one `jlist` entry."""
    return (app.get("pm2_env") or {}).get("status")


def app_restarts(app):
    """The restart count of one `jlist` entry."""
    return (app.get("pm2_env") or {}).get("restart_time")


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


def start_apps(m, app, n):
    """Start n copies of `app` named app-0..app-(n-1), wait until all online."""
    if n == 0:
        return
    if m.label == "pm2":
        # one ecosystem file: much faster to set up than n CLI round trips
        eco = os.path.join(m.home, "apps.json")
        with open(eco, "w") as f:
            json.dump({"apps": [{"name": f"app-{i}", "script": app}
                                for i in range(n)]}, f)
        m.run("start", eco, timeout=300)
    else:
        for i in range(n):
            m.run("start", app, "--name", f"app-{i}")
    m.wait_online(n)
