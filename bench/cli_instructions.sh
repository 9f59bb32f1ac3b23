#!/bin/bash
# Instructions one CLI command executes, counted by callgrind (deterministic, unlike wall
# time on a shared machine), with N apps (`exec sleep 100000`) running under a native
# daemon; then the dynamic linker's share (LD_DEBUG=statistics) and, for comparison, the
# floor: /bin/true under the same tool. Not run by the harness.
#
#   bench/cli_instructions.sh PM2_BINARY N 'jlist' ['list' ...]
#
# Needs: valgrind (callgrind_annotate), bash; apt-get install valgrind.
# Build with symbols first, so the profile names functions:
#   CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
#     cargo build --release --target-dir target/prof
# Prints, per command, its instruction total and the output size; the profiles stay in
# the work folder for `callgrind_annotate --inclusive=yes`.
set -euo pipefail
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 2; }
BIN=$(realpath "$1"); N=$2; shift 2
WORK=$(mktemp -d /tmp/pm2rs-cli-callgrind.XXXXXX)
export PM2_HOME=$WORK/home
mkdir -p "$PM2_HOME"
cd "$WORK"
printf '#!/bin/sh\nexec sleep 100000\n' > app.sh && chmod +x app.sh
trap '"$BIN" kill >/dev/null 2>&1 || true' EXIT
"$BIN" ping >/dev/null
for i in $(seq 1 "$N"); do "$BIN" start app.sh --name "app-$i" >/dev/null; done
"$BIN" jlist >/dev/null # every instance sampled once, as in a steady state
total() { callgrind_annotate "$1" 2>/dev/null | grep -m1 "PROGRAM TOTALS" | awk '{print $1}'; }
valgrind --tool=callgrind --callgrind-out-file="$WORK/true.out" /bin/true 2>/dev/null
echo "floor /bin/true: $(total "$WORK/true.out") instructions"
for cmd in "$@"; do
    name=${cmd// /_}
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --callgrind-out-file="$WORK/$name.out" "$BIN" $cmd \
        > "$WORK/$name.stdout" 2>/dev/null
    # shellcheck disable=SC2086
    reloc=$(LD_DEBUG=statistics "$BIN" $cmd 2>&1 >/dev/null | grep -m1 "total startup time" || true)
    echo "pm2 $cmd: $(total "$WORK/$name.out") instructions, $(wc -c < "$WORK/$name.stdout") bytes out; ld.so: ${reloc##*:}"
done
echo "profiles: $WORK"
