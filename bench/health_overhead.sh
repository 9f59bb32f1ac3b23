#!/bin/bash
# Health-check overhead (issue 18): the daemon's CPU over 30 s with 100 apps (`/bin/sleep`)
# that each have an http health check every second against one local HTTP server, beside
# the same 100 apps without a check. Prints one line per mode.
#
# usage: bench/health_overhead.sh [path/to/pm2]   (default: target/release/pm2)
set -euo pipefail
PM2=$(realpath "${1:-target/release/pm2}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
run() {
  local mode=$1 dir="$WORK/$1"
  mkdir -p "$dir/www"
  export PM2_HOME="$dir/home"
  local port
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  python3 -m http.server "$port" --bind 127.0.0.1 --directory "$dir/www" >/dev/null 2>&1 &
  local server=$!
  python3 - "$mode" "$port" >"$dir/eco.json" <<'PY'
import json, sys
mode, port = sys.argv[1], int(sys.argv[2])
apps = []
for i in range(100):
    a = {"name": f"a{i}", "script": "/bin/sleep", "args": ["100000"], "interpreter": "none"}
    if mode == "checked":
        a["health_check"] = {"http": port, "path": "/", "interval": 1000}
    apps.append(a)
print(json.dumps({"apps": apps}))
PY
  (cd "$dir" && "$PM2" start eco.json >/dev/null)
  local pid t0 t1
  pid=$(cat "$PM2_HOME/pm2.pid")
  sleep 3 # settle: the starts are over
  t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  sleep 30
  t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  echo "$mode: daemon CPU over 30 s: $(( (t1 - t0) * 1000 / $(getconf CLK_TCK) )) ms," \
    "RSS $(awk '/VmRSS/{print $2" kB"}' "/proc/$pid/status")"
  "$PM2" kill >/dev/null
  kill "$server"
}
run plain
run checked
