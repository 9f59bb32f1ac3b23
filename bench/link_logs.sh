#!/bin/bash
# What an unwatched linked host costs with a chatty app: home A runs the dashboard, home
# B is linked to it and runs an app printing RATE lines a second; nobody follows B's
# logs. Prints the CPU seconds (utime+stime from /proc/<pid>/stat) the pm2-link agent
# (B), the dashboard (A) and B's daemon used over SECONDS, and the log lines the
# dashboard received (`log_lines` of /api/hosts, absent before it existed). Run it with
# the binary before and after a change, one after the other. Not run by the harness.
#
#   bench/link_logs.sh PM2_BINARY [SECONDS] [RATE]
#
# Needs: bash, node, python3, curl.
set -euo pipefail
BIN=$(realpath "$1"); SECS=${2:-20}; RATE=${3:-1000}
WORK=$(mktemp -d /tmp/pm2rs-linklogs.XXXXXX)
A=$WORK/a; B=$WORK/b; mkdir -p "$A" "$B"
trap 'PM2_HOME=$B "$BIN" kill >/dev/null 2>&1 || true; PM2_HOME=$A "$BIN" kill >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PM2_HOME=$A "$BIN" set pm2-plus:port "$PORT" >/dev/null
PM2_HOME=$A "$BIN" plus >/dev/null
SECRET=$(cat "$A/plus/link-secret")
PM2_HOME=$B "$BIN" link "$SECRET" "http://127.0.0.1:$PORT" hostb >/dev/null
cat > "$WORK/chatty.js" <<JS
const line = 'x'.repeat(90);
let n = 0;
setInterval(() => { for (let i = 0; i < $RATE / 100; i++) console.log(line + ' ' + (++n)); }, 10);
JS
PM2_HOME=$B "$BIN" start "$WORK/chatty.js" >/dev/null
pid_of() { PM2_HOME=$1 "$BIN" jlist | python3 -c 'import json,sys; print(next(p["pid"] for p in json.load(sys.stdin) if p["name"] == sys.argv[1]))' "$2"; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sleep 3 # warm-up: the link connects, the app starts
AGENT=$(pid_of "$B" pm2-link); DASH=$(pid_of "$A" pm2-plus); DAEMON=$(cat "$B/pm2.pid")
TICK=$(getconf CLK_TCK)
a0=$(cpu "$AGENT"); d0=$(cpu "$DASH"); m0=$(cpu "$DAEMON")
sleep "$SECS"
a1=$(cpu "$AGENT"); d1=$(cpu "$DASH"); m1=$(cpu "$DAEMON")
LINES=$(curl -s -H "Authorization: Bearer $(cat "$A/plus/api-token")" "http://127.0.0.1:$PORT/api/hosts" \
  | python3 -c 'import json,sys; print(next((h.get("log_lines", "n/a") for h in json.load(sys.stdin) if h["host"] == "hostb"), "n/a"))')
python3 - "$TICK" "$SECS" "$a0" "$a1" "$d0" "$d1" "$m0" "$m1" "$LINES" <<'PY'
import sys
tick, secs = float(sys.argv[1]), float(sys.argv[2])
a0, a1, d0, d1, m0, m1 = map(float, sys.argv[3:9])
pct = lambda x, y: f"{(y - x) / tick:.2f} s ({(y - x) / tick / secs * 100:.1f} % of a core)"
print(f"agent {pct(a0, a1)}; dashboard {pct(d0, d1)}; B's daemon {pct(m0, m1)}; log_lines {sys.argv[9]}")
PY
