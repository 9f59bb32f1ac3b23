#!/bin/bash
# `pm2 start` of one app with 0 apps running, two binaries interleaved: ROUNDS rounds, each
# one hyperfine run (-N, RUNS starts, each preceded by an untimed `delete`) of A then of B,
# each under its own daemon; prints every round's medians and the median of the rounds.
# Also strace -T of the daemon of each over STRACE_STARTS starts: its fdatasync, its
# cgroup.procs writes and its clone/clone3 (median and max, ms; strace slows each call).
#
#   bench/start_ab.sh A_BINARY B_BINARY [ROUNDS]     (default 5 rounds of 40 starts)
#
# Needs: hyperfine, strace, python3.
set -euo pipefail
A=$(realpath "$1"); B=$(realpath "$2"); ROUNDS=${3:-5}; RUNS=${RUNS:-40}
STRACE_STARTS=${STRACE_STARTS:-30}
WORK=$(mktemp -d /tmp/pm2rs-start-ab.XXXXXX)
cd "$WORK"
printf '#!/bin/sh\nexec sleep 100000\n' > app.sh && chmod +x app.sh
cleanup() { for x in a b; do PM2_HOME=$WORK/$x "$A" kill >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
bin_of() { [ "$1" = a ] && echo "$A" || echo "$B"; }
for x in a b; do
    PM2_HOME=$WORK/$x "$(bin_of $x)" start "$WORK/app.sh" --name x >/dev/null
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "A=$A"; echo "B=$B"
for r in $(seq 1 "$ROUNDS"); do
    for x in a b; do
        bin=$(bin_of $x)
        PM2_HOME=$WORK/$x hyperfine -N -w 5 -r "$RUNS" --export-json "$WORK/$x-$r.json" \
            -p "$bin delete x" "$bin start $WORK/app.sh --name x" >/dev/null 2>&1
    done
done
python3 - "$WORK" "$ROUNDS" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
for x in "ab":
    meds = [json.load(open(f"{work}/{x}-{r}.json"))["results"][0]["median"] * 1e3
            for r in range(1, rounds + 1)]
    print(f"{x.upper()}: rounds " + " ".join(f"{m:.2f}" for m in meds)
          + f"  -> median {statistics.median(meds):.2f} ms")
PY
for x in a b; do
    bin=$(bin_of $x)
    daemon=$(cat "$WORK/$x/pm2.pid")
    strace -f -T -e trace=fdatasync,write,clone,clone3 -p "$daemon" -o "$WORK/$x.strace" &
    tracer=$!
    sleep 1
    for i in $(seq 1 "$STRACE_STARTS"); do
        PM2_HOME=$WORK/$x "$bin" delete x >/dev/null
        PM2_HOME=$WORK/$x "$bin" start "$WORK/app.sh" --name x >/dev/null
    done
    kill "$tracer"; wait "$tracer" 2>/dev/null || true
    python3 - "$WORK/$x.strace" "$x" <<'PY'
import re, statistics, sys
calls = {"fdatasync": [], "cgroup.procs write": [], "clone/clone3": []}
for line in open(sys.argv[1]):
    m = re.search(r"<(\d+\.\d+)>\s*$", line)
    if not m:
        continue
    t = float(m.group(1)) * 1e3
    if "fdatasync(" in line:
        calls["fdatasync"].append(t)
    elif re.search(r'write\(\d+, "0\\n", 2\)', line):
        calls["cgroup.procs write"].append(t)
    elif re.search(r"\bclone3?\(", line) or "clone resumed" in line or "clone3 resumed" in line:
        calls["clone/clone3"].append(t)
for name, ts in calls.items():
    if ts:
        print(f"{sys.argv[2].upper()} {name:20} n={len(ts):3} median {statistics.median(ts):.3f} ms  max {max(ts):.3f} ms")
    else:
        print(f"{sys.argv[2].upper()} {name:20} n=  0")
PY
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
