"""`cluster`: HTTP throughput of a 2-worker Node cluster under each manager (wrk, keep-alive
and a new connection per request), and the requests that fail during 3 × `pm2 reload`."""

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

from ..common import log
from ..managers import Session, app_restarts, app_status

SERVER_JS = """const http = require('http');
http.createServer((q, s) => s.end('ok')).listen({port}, '127.0.0.1');
"""
#: `pm2 reload web` calls during one reload window
RELOADS = 3
#: wrk's socket error counters, in the order of its "Socket errors:" line
SOCKET_ERRORS = ("connect", "read", "write", "timeout")


def free_port():
    """A port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ok(port):
    """Does the server on `port` answer "ok"?"""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/")
        ok = c.getresponse().read() == b"ok"
        c.close()
        return ok
    except OSError:
        return False


def ensure_wrk():
    """None if wrk is there (installing it with apt-get as root), else why it is not."""
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
    """wrk -t2 -c64, with `Connection: close` when `close`."""
    c = ["wrk", "-t2", "-c64", f"-d{secs}s"]
    if close:
        c += ["-H", "Connection: close"]
    return c + [f"http://127.0.0.1:{port}/"]


def parse_wrk(text):
    """req/s, requests, socket errors, non-2xx and their sum `failed` from wrk's output."""
    r = {"raw": text.strip().splitlines()[-8:]}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    r["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    for i, k in enumerate(SOCKET_ERRORS):
        r[k] = int(m.group(i + 1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["non2xx"] = int(m.group(1)) if m else 0
    r["failed"] = sum(r[k] for k in SOCKET_ERRORS) + r["non2xx"]
    return r


def run_wrk(port, secs, close):
    """One wrk run, parsed."""
    p = subprocess.run(wrk_cmd(port, secs, close), capture_output=True, text=True,
                       timeout=secs + 60)
    return parse_wrk(p.stdout + p.stderr)


def reload_every(m, t0, gap):
    """`pm2 reload web` RELOADS times, `gap` s apart from `t0` (a call waits for the previous)."""
    reloads = []
    for k in range(RELOADS):
        wake = t0 + gap * (k + 1)
        if wake > time.time():
            time.sleep(wake - time.time())
        a = time.time()
        rr = m.run("reload", "web", check=False, timeout=60)
        reloads.append({"at_s": round(a - t0, 2), "ms": round((time.time() - a) * 1000, 1),
                        "rc": rr.returncode})
    return reloads


def wrk_with_reloads(m, port, close, ctx):
    """wrk for --reload-secs while the app is reloaded RELOADS times."""
    secs = ctx.args.reload_secs
    w = subprocess.Popen(wrk_cmd(port, secs, close), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    t0 = time.time()
    try:
        reloads = reload_every(m, t0, ctx.args.reload_gap)
        out, _ = w.communicate(timeout=secs + 60)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    r = parse_wrk(out)
    r["reloads"] = reloads
    return r


def start_server(m, label):
    """`pm2 start server.js --name web -i 2` on a free port; waits until it answers."""
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
    return port


def cluster_session(ctx, label, run):
    """One run under one manager, fresh daemon."""
    with Session(ctx, label) as m:
        port = start_server(m, label)
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
            r["status_at_end"] = [app_status(a) for a in apps]
            r["restarts_at_end"] = [app_restarts(a) for a in apps]
        except Exception as e:  # noqa: BLE001
            r["status_at_end"] = str(e)
        m.run("delete", "all", check=False)
        return r


def log_run(run, label, r):
    """One progress line per run."""
    reload_ms = [x["ms"] for x in r["reload_close"]["reloads"] + r["reload_keepalive"]["reloads"]]
    log(f"[cluster] run {run} {label}: keep-alive {r['keepalive']['rps']:.0f} req/s, "
        f"close {r['close']['rps']:.0f} req/s, failed during reloads: "
        f"close {r['reload_close']['failed']} ({r['reload_close']['requests']} req), "
        f"keep-alive {r['reload_keepalive']['failed']} "
        f"({r['reload_keepalive']['requests']} req); reloads {reload_ms} ms")


def aggregate(rs):
    """Median throughputs and per-run failure counts of one manager."""
    return {
        "runs": rs,
        "keepalive_rps": statistics.median(r["keepalive"]["rps"] for r in rs),
        "close_rps": statistics.median(r["close"]["rps"] for r in rs),
        "reload_close_failed": [r["reload_close"]["failed"] for r in rs],
        "reload_keepalive_failed": [r["reload_keepalive"]["failed"] for r in rs],
        "reload_close_requests": [r["reload_close"]["requests"] for r in rs],
        "reload_keepalive_requests": [r["reload_keepalive"]["requests"] for r in rs],
    }


def run(ctx, res):
    """Fills res["cluster"] (or {"skipped": why} without wrk); managers alternate per run."""
    why = ensure_wrk()
    if why:
        log(f"[cluster] SKIPPED: {why}")
        res["cluster"] = {"skipped": why}
        return
    raw = {}
    for run_no in range(ctx.args.cluster_runs):
        for label in ctx.labels:
            r = cluster_session(ctx, label, run_no)
            raw.setdefault(label, []).append(r)
            log_run(run_no, label, r)
    res["cluster"] = {label: aggregate(rs) for label, rs in raw.items()}
