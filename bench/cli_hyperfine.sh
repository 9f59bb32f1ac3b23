#!/bin/bash
# Wall time of the CLI's commonest calls, hyperfine medians without a shell (`-N`), beside
# the floor of spawning a trivial binary (/bin/true) in the same run: `list` with each N of
# idle apps (`exec sleep 100000`) under a daemon of this binary, `jlist` with the last N,
# and `start` of one app with 0 apps running (each timed start preceded by an untimed
# `delete`). Not run by the harness; the figures BENCHMARKS.md's CLI analysis quotes.
#
#   bench/cli_hyperfine.sh PM2_BINARY [N ...]        (default N: 5 100)
#   PM2_REF=/path/to/pm2 bench/cli_hyperfine.sh ...  (also PM2 7's `list` with the first N)
#
# Needs: hyperfine (apt-get install hyperfine), python3 (to read hyperfine's JSON).
set -euo pipefail
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
BIN=$(realpath "$1"); shift
[ $# -gt 0 ] || set -- 5 100
RUNS=${RUNS:-300}
WORK=$(mktemp -d /tmp/pm2rs-cli-hyperfine.XXXXXX)
cd "$WORK"
printf '#!/bin/sh\nexec sleep 100000\n' > app.sh && chmod +x app.sh
HOMES=()
cleanup() {
    for h in "${HOMES[@]}"; do PM2_HOME=$h "$BIN" kill >/dev/null 2>&1 || true; done
    if [ -n "${PM2_REF:-}" ]; then PM2_HOME=$WORK/ref "$PM2_REF" kill >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
median() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]
for x in r: print("%-44s median %7.3f ms  mean %7.3f ms" % (x["command"][-44:], x["median"]*1e3, x["mean"]*1e3))' "$1"; }
run() { hyperfine -N -w 30 -r "$RUNS" --export-json "$WORK/h.json" "$@" >/dev/null 2>&1; median "$WORK/h.json"; }
home_with() { # N apps under a daemon of BIN in a fresh home; prints the home
    local home=$WORK/home-$1
    HOMES+=("$home")
    mkdir -p "$home"
    PM2_HOME=$home "$BIN" ping >/dev/null
    for i in $(seq 1 "$1"); do PM2_HOME=$home "$BIN" start app.sh --name "app-$i" >/dev/null; done
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); binary $BIN"
for n in "$@"; do
    home_with "$n"
    echo "== $n apps"
    PM2_HOME=$WORK/home-$n run /bin/true "$BIN list" "$BIN jlist"
done
home_with 0
# x runs before each timed start (so each untimed `delete x` before it succeeds), then the
# start finds 0 apps running.
PM2_HOME=$WORK/home-0 "$BIN" start "$WORK/app.sh" --name x >/dev/null
echo "== start of one app, 0 apps running"
PM2_HOME=$WORK/home-0 RUNS=${START_RUNS:-60} run -p "$BIN delete x" "$BIN start $WORK/app.sh --name x"
if [ -n "${PM2_REF:-}" ]; then
    mkdir -p "$WORK/ref"
    export PM2_HOME=$WORK/ref
    for i in $(seq 1 "$1"); do "$PM2_REF" start app.sh --name "app-$i" >/dev/null; done
    echo "== PM2 7, $1 apps"
    RUNS=20 run /bin/true "$PM2_REF list"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
