#!/usr/bin/env bash
# Runs every cargo-fuzz target (or the ones named) for N seconds each and prints, per target,
# the executions, the time and the crashes found.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      default: 60 s, every target in fuzz/fuzz_targets
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Inputs that make a
# target fail land in fuzz/artifacts/<target>/; once the bug is fixed, copy them to
# fuzz/regressions/<target>/, where the crate's `fuzz_regressions` test replays them in
# `cargo test` on stable. The growing corpora (fuzz/corpus/) stay out of git; the few
# hand-written starting inputs are in fuzz/seeds/<target>/, the tokens each decoder reads
# in fuzz/dicts/<target>.dict.
#
# Environment: FUZZ_NICE (default 19), FUZZ_RSS_MB (2048), FUZZ_MALLOC_MB (128: a single
# allocation that big from a few-KiB input is unbounded allocation), FUZZ_TIMEOUT (10 s per
# input: slower is a hang or a quadratic path), FUZZ_JOBS (1).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
nice_level=${FUZZ_NICE:-19}
rss_mb=${FUZZ_RSS_MB:-2048}
malloc_mb=${FUZZ_MALLOC_MB:-128}
timeout_s=${FUZZ_TIMEOUT:-10}

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in fuzz/fuzz_targets/*.rs; do
        targets+=("$(basename "$f" .rs)")
    done
fi

mkdir -p fuzz/logs
echo "building ${#targets[@]} fuzz targets..."
if ! nice -n "$nice_level" cargo +nightly fuzz build >fuzz/logs/build.log 2>&1; then
    tail -30 fuzz/logs/build.log
    echo "build failed (full log: fuzz/logs/build.log)" >&2
    exit 2
fi

# A libFuzzer statistic from the final stats of a run log.
stat() {
    sed -n "s/^stat::$1: *//p" "$2" | tail -1
}

failed=0
rows=()
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    seeds=()
    for d in "fuzz/seeds/$t" "fuzz/regressions/$t"; do
        [ -d "$d" ] && seeds+=("$d")
    done
    dict=()
    [ -f "fuzz/dicts/$t.dict" ] && dict=(-dict="fuzz/dicts/$t.dict")
    before=$(find "fuzz/artifacts/$t" -type f | wc -l)
    log="fuzz/logs/$t.log"
    echo "fuzzing $t for ${seconds}s (log: $log)"
    start=$(date +%s)
    nice -n "$nice_level" cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$malloc_mb" \
        -timeout="$timeout_s" -print_final_stats=1 "${dict[@]}" >"$log" 2>&1
    rc=$?
    elapsed=$(($(date +%s) - start))
    after=$(find "fuzz/artifacts/$t" -type f | wc -l)
    crashes=$((after - before))
    [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes="rc=$rc"
    [ "$rc" -ne 0 ] && failed=1
    execs=$(stat number_of_executed_units "$log")
    per_sec=$(stat average_exec_per_sec "$log")
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    rows+=("$(printf '%-16s %6ss %12s %9s %8s  %s' "$t" "$elapsed" "${execs:-?}" "${per_sec:-?}" "$corpus" "$crashes")")
done

printf '\n%-16s %7s %12s %9s %8s  %s\n' target time executions exec/s corpus crashes
printf '%s\n' "${rows[@]}"
if [ "$failed" -ne 0 ]; then
    echo "some targets failed: see fuzz/artifacts/<target>/ and fuzz/logs/<target>.log" >&2
    exit 1
fi
