#!/bin/bash
# Instructions the daemon executes for K requests with N apps running, counted by callgrind
# (deterministic, unlike wall time on a shared machine). Not run by the harness.
#
#   bench/daemon_instructions.sh PM2_BINARY N K start   # K x `pm2 start app.sh --name xI`
#   bench/daemon_instructions.sh PM2_BINARY N K cycle   # K x (`start ... --name x`, `delete x`)
#
# The daemon runs as `valgrind --tool=callgrind --instr-atstart=no pm2 __daemon` in a fresh
# PM2_HOME; instrumentation is switched on (callgrind_control -i on) only after the N apps
# (`exec sleep 100000`) are online, so the total is the K requests' alone. Apps run natively
# (no --trace-children). Prints callgrind_annotate's PROGRAM TOTALS; the profile stays in
# the work folder for `callgrind_annotate --inclusive=yes`.
set -euo pipefail
BIN=$(realpath "$1"); N=$2; K=$3; MODE=$4
WORK=$(mktemp -d /tmp/pm2rs-callgrind.XXXXXX)
export PM2_HOME=$WORK/home
mkdir -p "$PM2_HOME"
cd "$WORK"
printf '#!/bin/sh\nexec sleep 100000\n' > app.sh && chmod +x app.sh
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/callgrind.out" \
    "$BIN" __daemon > "$WORK/valgrind.log" 2>&1 &
VG=$!
trap '"$BIN" kill >/dev/null 2>&1 || true; wait $VG || true' EXIT
# Wait for the sockets (a ping before them would spawn a second, native daemon).
for _ in $(seq 1 300); do [ -S "$PM2_HOME/rpc.sock" ] && break; sleep 0.1; done
for i in $(seq 1 "$N"); do "$BIN" start app.sh --name "app-$i" >/dev/null; done
callgrind_control -i on $VG >/dev/null 2>&1
for i in $(seq 1 "$K"); do
    if [ "$MODE" = start ]; then
        "$BIN" start app.sh --name "x$i" >/dev/null
    else
        "$BIN" start app.sh --name x >/dev/null
        "$BIN" delete x >/dev/null
    fi
done
callgrind_control -i off $VG >/dev/null 2>&1
"$BIN" kill >/dev/null 2>&1 || true
wait $VG || true
trap - EXIT
callgrind_annotate "$WORK/callgrind.out" 2>/dev/null | grep -m1 "PROGRAM TOTALS" || true
echo "profile: $WORK/callgrind.out"
