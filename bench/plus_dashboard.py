#!/usr/bin/env python3
"""The dashboard's costs (issue 16), stdlib only, Linux only:

- the dashboard's RSS and CPU with N idle apps and one SSE client watching the table;
- the daemon's CPU over the same window, then with the dashboard stopped;
- how long an app's log line takes to reach an SSE client (`/api/logs`);
- with --browser, the same with headless Chromium holding the dashboard page open (over
  the DevTools protocol, `bench/cdp.py`): the page alone, then with one app's charts open
  (uPlot, fed every second), and the log line's time to the page's own log view.

    python3 bench/plus_dashboard.py --pm2 target/release/pm2 [--apps 100] [--seconds 30] [--browser]

CPU is read from /proc/<pid>/stat (utime + stime) and printed as a share of one core.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def share(pid, seconds):
    start = ticks(pid)
    time.sleep(seconds)
    return 100.0 * (ticks(pid) - start) / TICK / seconds


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class World:
    def __init__(self, pm2):
        self.pm2 = pm2
        self.dir = tempfile.mkdtemp(prefix="pm2-plus-bench-")
        self.env = dict(os.environ, PM2_HOME=os.path.join(self.dir, "home"))

    def run(self, *args):
        return subprocess.run([self.pm2, *args], env=self.env, capture_output=True, text=True, check=True)

    def pid_of(self, name):
        apps = json.loads(self.run("jlist").stdout)
        return next(a["pid"] for a in apps if a["name"] == name)

    def daemon_pid(self):
        with open(os.path.join(self.env["PM2_HOME"], "pm2.pid")) as f:
            return int(f.read())

    def token(self):
        with open(os.path.join(self.env["PM2_HOME"], "plus", "api-token")) as f:
            return f.read().strip()


def stream(port, token, path):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    return s


def drain(sock, received):
    try:
        while chunk := sock.recv(65536):
            received.append(len(chunk))
    except OSError:
        pass


def login_token(out):
    """The one-time token in the login link `pm2 plus` printed."""
    at = out.index("/login?token=") + len("/login?token=")
    end = at
    while end < len(out) and out[end] in "0123456789abcdef":
        end += 1
    return out[at:end]


def window(dash, daemon, seconds):
    """The dashboard's and the daemon's CPU (% of a core) over `seconds`, and the
    dashboard's RSS (MB) at the end."""
    d0, m0 = ticks(dash), ticks(daemon)
    time.sleep(seconds)
    return (100.0 * (ticks(dash) - d0) / TICK / seconds,
            100.0 * (ticks(daemon) - m0) / TICK / seconds, rss_kb(dash) / 1024)


def open_page(port, token):
    """Chromium logged in on the dashboard, its table live."""
    from cdp import Browser
    b = Browser()
    b.call("Page.navigate", {"url": f"http://127.0.0.1:{port}/login?token={token}"})
    b.wait("document.getElementById('live') && document.getElementById('live').textContent === 'live'",
           within=90, what="the page's table live")
    return b


def with_browser(w, port, token, dash, daemon, apps, seconds):
    b = open_page(port, token)
    try:
        cpu, dcpu, rss = window(dash, daemon, seconds)
        rows = b.eval("document.querySelectorAll('#processes tbody tr').length")
        print(f"dashboard, {apps} apps, headless Chromium on the page ({rows} rows live), {seconds} s: "
              f"RSS {rss:.1f} MB, CPU {cpu:.2f} % of a core; daemon {dcpu:.2f} %")
        b.eval("document.querySelector('#processes tr[data-name=\"s0\"] button[data-chart]').click()")
        b.wait("['cpu', 'memory', 'restarts'].every(m => state.charts[m] && state.charts[m].plot.data[0].length > 0)",
               within=90, what="s0's uPlot charts")
        cpu, dcpu, rss = window(dash, daemon, seconds)
        charts = b.eval("Object.keys(state.charts).length")
        print(f"dashboard, same, with s0's {charts} charts open (1 s refresh), {seconds} s: "
              f"RSS {rss:.1f} MB, CPU {cpu:.2f} % of a core; daemon {dcpu:.2f} %")
    finally:
        b.close()


def costs(w, apps, seconds, browser):
    sleeper = os.path.join(w.dir, "sleep.sh")
    with open(sleeper, "w") as f:
        f.write("exec sleep 100000\n")
    eco = os.path.join(w.dir, "apps.json")
    with open(eco, "w") as f:
        json.dump({"apps": [{"name": f"s{i}", "script": sleeper} for i in range(apps)]}, f)
    w.run("start", eco)
    port = free_port()
    w.run("set", "pm2-plus:port", str(port))
    token = login_token(w.run("plus").stdout)
    client = stream(port, w.token(), "/api/events")
    received = []
    # The browser's part: read every event as it comes (an unread socket would stall it).
    reader = threading.Thread(target=drain, args=(client, received), daemon=True)
    reader.start()
    dash, daemon = w.pid_of("pm2-plus"), w.daemon_pid()
    d0, m0 = ticks(dash), ticks(daemon)
    time.sleep(seconds)
    dash_cpu = 100.0 * (ticks(dash) - d0) / TICK / seconds
    daemon_cpu = 100.0 * (ticks(daemon) - m0) / TICK / seconds
    print(f"dashboard, {apps} apps, 1 SSE client, {seconds} s: RSS {rss_kb(dash) / 1024:.1f} MB, "
          f"CPU {dash_cpu:.2f} % of a core")
    print(f"daemon meanwhile: CPU {daemon_cpu:.2f} %; the client got "
          f"{sum(received) / 1024:.0f} KB of table events")
    client.close()
    if browser:
        with_browser(w, port, token, dash, daemon, apps, seconds)
    w.run("plus", "stop")
    print(f"daemon, dashboard stopped, {seconds} s: CPU {share(daemon, seconds):.2f} %, "
          f"RSS {rss_kb(daemon) / 1024:.1f} MB")


def summary(what, seen):
    seen = sorted(seen)
    p = lambda q: seen[max(0, int(len(seen) * q) - 1)]
    print(f"log line -> {what}, {len(seen)} lines: median {statistics.median(seen):.1f} ms, "
          f"p90 {p(0.90):.1f} ms, p95 {p(0.95):.1f} ms, max {seen[-1]:.1f} ms")


def page_latency(port, token, samples):
    """The log line's time to the page's log view (its EventSource handler, after the
    page's own one appended the line), in the browser's clock (this machine's)."""
    b = open_page(port, token)
    try:
        # The page's own log view, and beside it a bare EventSource that draws nothing.
        b.eval("""(() => { window.lat = {page: [], bare: [], read: []};
          const timed = (source, into) => source.addEventListener('log', e => {
            const now = Date.now(), c = JSON.parse(e.data);
            for (const l of c.data.split('\\n')) if (l.startsWith('t=')) {
              if (into.length < %d) into.push(now - Number(l.slice(2)));
              if (into === window.lat.page && window.lat.read.length < %d)
                window.lat.read.push(c.at - Number(l.slice(2))); } });
          openLogs('talk', 'talk');
          timed(state.logs, window.lat.page);
          timed(new EventSource('/api/logs?app=talk'), window.lat.bare);
          return true; })()""" % (samples, samples))
        b.wait(f"window.lat.page.length >= {samples} && window.lat.bare.length >= {samples}",
               within=120, what=f"{samples} lines in the page")
        lat = b.eval("window.lat")
        summary("the page's log view in headless Chromium", lat["page"])
        summary("a bare EventSource in the same page", lat["bare"])
        summary("the daemon's read of it (its `at`)", lat["read"])
    finally:
        b.close()


def latency(w, samples, browser):
    app = os.path.join(w.dir, "talk.js")
    with open(app, "w") as f:
        f.write("setInterval(() => console.log('t=' + Date.now()), 50);\n")
    w.run("start", app, "--name", "talk")
    token = login_token(w.run("plus").stdout)
    with open(os.path.join(w.env["PM2_HOME"], "plus", "listening.json")) as f:
        port = int(json.load(f)["url"].rsplit(":", 1)[1])
    s = stream(port, w.token(), "/api/logs?app=talk")
    s.settimeout(5)
    buf, seen = b"", []
    while len(seen) < samples:
        buf += s.recv(65536)
        now = time.time() * 1000
        while b"\n\n" in buf:
            event, buf = buf.split(b"\n\n", 1)
            for line in event.split(b"\n"):
                if line.startswith(b"data: {"):
                    data = json.loads(line[6:]).get("data", "")
                    seen += [now - int(l[2:]) for l in data.splitlines() if l.startswith("t=")]
    s.close()
    summary("SSE client", seen)
    if browser:
        page_latency(port, token, samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pm2", default="target/release/pm2")
    ap.add_argument("--apps", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--browser", action="store_true",
                    help="also with headless Chromium holding the page open (needs `chromium`)")
    a = ap.parse_args()
    w = World(os.path.abspath(a.pm2))
    print(f"load average before: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    try:
        costs(w, a.apps, a.seconds, a.browser)
        latency(w, a.samples, a.browser)
        print(f"load average after: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    finally:
        subprocess.run([w.pm2, "kill"], env=w.env, capture_output=True)


if __name__ == "__main__":
    main()
