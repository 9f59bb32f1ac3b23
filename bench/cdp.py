"""Headless Chromium held open on a page and driven over the DevTools protocol, stdlib
only (a minimal websocket client: text frames, no extensions), for the dashboard bench's
"one browser connected" case. The browser runs in its own process group, ended by close().
"""

import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request


class Browser:
    """Chromium with a fresh profile; `page` is a websocket to its one page."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="pm2-plus-bench-chromium-")
        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             # A tab in front of its user: headless Chromium would otherwise treat the
             # page as a background one (its renderer at nice 5, its timers throttled).
             "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
             "--disable-backgrounding-occluded-windows",
             "--remote-debugging-port=0", "--window-size=1400,900",
             f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            process_group=0)
        port = self._port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t.get("type") == "page")
        self.sock = _connect(page["webSocketDebuggerUrl"])
        self.next_id = 0

    def _port(self):
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    return int(f.readline())
            except (OSError, ValueError):
                time.sleep(0.1)
        raise RuntimeError("chromium wrote no DevToolsActivePort within 30 s")

    def pids(self):
        """The browser's processes (its group): for their CPU, if wanted."""
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def call(self, method, params=None):
        self.next_id += 1
        _send(self.sock, json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:
            msg = json.loads(_recv(self.sock))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expression):
        r = self.call("Runtime.evaluate",
                      {"expression": expression, "returnByValue": True, "awaitPromise": True})
        return r.get("result", {}).get("value")

    def wait(self, expression, within=30.0, what=None):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.1)
        raise RuntimeError(f"timed out after {within} s waiting for {what or expression}")

    def close(self):
        try:
            self.sock.close()
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)


def _connect(url):
    host_port, path = url[len("ws://"):].split("/", 1)
    host, port = host_port.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=120)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise RuntimeError("devtools closed the websocket handshake")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"devtools refused the websocket: {head[:80]!r}")
    return s


def _send(s, text):
    data = text.encode()
    n = len(data)
    head = bytes([0x81])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    mask = os.urandom(4)
    s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def _exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise RuntimeError("devtools closed the websocket")
        buf += chunk
    return buf


def _recv(s):
    """One message (continuation frames joined); pings are not expected from devtools."""
    message = b""
    while True:
        b0, b1 = _exact(s, 2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", _exact(s, 2))[0]
        elif n == 127:
            n = struct.unpack(">Q", _exact(s, 8))[0]
        message += _exact(s, n)
        if b0 & 0x80:
            return message.decode()
