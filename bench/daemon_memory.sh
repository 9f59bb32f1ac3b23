#!/bin/bash
# Where the daemon's resident memory goes with N idle apps (`exec sleep 100000`): VmRSS,
# smaps_rollup's split (anonymous vs file-backed), and the resident kB of each kind of
# mapping from /proc/<pid>/smaps (the binary's text and data, libc and other libraries,
# the heap, thread stacks, other anonymous mappings: glibc's per-thread arenas). Not run
# by the harness.
#
#   bench/daemon_memory.sh PM2_BINARY N [SETTLE_SECONDS] [starts|ecosystem]
#
# `starts` (the default): N x `pm2 start app.sh --name app-I`; `ecosystem`: the N apps
# (`sleep 100000`, interpreter none, as `run.py idle` starts them) from one ecosystem JSON,
# which is how 1,000 apps are started in reasonable time.
#
# Needs: bash, awk, python3 (only /proc is read).
set -euo pipefail
BIN=$(realpath "$1"); N=$2; SETTLE=${3:-5}; MODE=${4:-starts}
WORK=$(mktemp -d /tmp/pm2rs-memory.XXXXXX)
export PM2_HOME=$WORK/home
mkdir -p "$PM2_HOME"
cd "$WORK"
printf '#!/bin/sh\nexec sleep 100000\n' > app.sh && chmod +x app.sh
trap '"$BIN" kill >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
"$BIN" ping >/dev/null
if [ "$MODE" = ecosystem ]; then
    python3 -c 'import json,sys; print(json.dumps({"apps": [{"name": f"app-{i}", "script": "/bin/sleep", "args": "100000", "interpreter": "none"} for i in range(int(sys.argv[1]))]}))' "$N" > eco.json
    "$BIN" start eco.json >/dev/null
    for _ in $(seq 1 600); do
        online=$("$BIN" jlist | python3 -c 'import json,sys; print(sum(p["pm2_env"]["status"] == "online" for p in json.load(sys.stdin)))')
        [ "$online" -ge "$N" ] && break
        sleep 1
    done
else
    for i in $(seq 1 "$N"); do "$BIN" start app.sh --name "app-$i" >/dev/null; done
fi
sleep "$SETTLE" # the housekeeping tick after the last request trims the heap
PID=$(cat "$PM2_HOME/pm2.pid")
grep -E 'VmRSS|VmHWM|Threads' "/proc/$PID/status"
grep -E '^(Rss|Pss_Anon|Pss_File|Anonymous|Private_Dirty|Shared_Clean)' "/proc/$PID/smaps_rollup"
python3 - "$PID" "$BIN" <<'PY'
import sys, collections
pid, binary = sys.argv[1], sys.argv[2]
kinds = collections.Counter()
name = None
for line in open(f"/proc/{pid}/smaps"):
    parts = line.split()
    if len(parts) >= 5 and "-" in parts[0] and ":" not in parts[0]:
        path = parts[5] if len(parts) > 5 else ""
        perms = parts[1]
        if path == binary or path.endswith("/" + binary.rsplit("/", 1)[-1]):
            name = "pm2 binary " + ("text" if "x" in perms else "data/rodata")
        elif "libc" in path:
            name = "libc"
        elif path.startswith("/"):
            name = "other libraries/files"
        elif path == "[heap]":
            name = "heap (main arena)"
        elif path == "[stack]":
            name = "main stack"
        elif path.startswith("["):
            name = path
        else:
            name = "anonymous (thread stacks, glibc thread arenas)"
    elif parts and parts[0] == "Rss:":
        kinds[name] += int(parts[1])
for kind, kb in kinds.most_common():
    print(f"{kb:8d} kB  {kind}")
print(f"{sum(kinds.values()):8d} kB  total")
PY
