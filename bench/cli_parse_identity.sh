#!/bin/bash
# Whether two pm2 binaries answer the same to the command lines that only clap sees:
# help (`--help`, `-h`), usage errors, suggestions, and the usage of each command word (every
# name and alias, from the first binary's bash completion plus the aliases of
# crates/cli/src/args*), each with the same stdout, stderr and exit code. Run against the
# baseline when the parser changes (it proved the lazy command tree byte-identical). No
# daemon is contacted: every line tried is refused or answered by clap before it would be.
#
#   bench/cli_parse_identity.sh OLD_PM2 NEW_PM2
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/pm2rs-parse-identity.XXXXXX)
# Both run as `pm2`: usage lines name the program as invoked.
mkdir "$WORK/old" "$WORK/new"
cp "$1" "$WORK/old/pm2"; cp "$2" "$WORK/new/pm2"
OLD=$WORK/old/pm2 NEW=$WORK/new/pm2
export PM2_HOME=$WORK/home # never a real home, in case a line did reach a daemon
words=$("$OLD" completion bash | grep -oE '^ +pm2,[^)]+\)' | sed 's/ *pm2,//; s/)//' | sort -u)
aliases=$(grep -ohE 'alias(es)? = (\[[^]]*\]|"[^"]*")' "$HERE"/crates/cli/src/args.rs \
    "$HERE"/crates/cli/src/args/*.rs | grep -oE '"[^"]*"' | tr -d '"')
lines=("" "--help" "-h" "strat" "nosuchcommand x" "--name x" "--no-colr" "help start" "-s")
for w in $words $aliases; do
    case $w in __daemon | __names | completion) continue ;; esac # run, not parsed
    lines+=("$w --help" "$w -h" "$w --not-a-flag" "$w --nam" "$w --envv x"
        "-s $w --no-color --bogus" "$w --help --bogus")
done
same=0 differ=0
for line in "${lines[@]}"; do
    # shellcheck disable=SC2086
    a=$("$OLD" $line 2>&1; echo "exit $?") || true
    # shellcheck disable=SC2086
    b=$("$NEW" $line 2>&1; echo "exit $?") || true
    if [ "$a" == "$b" ]; then same=$((same + 1)); else
        differ=$((differ + 1)); echo "DIFFERS: pm2 $line"; diff <(echo "$a") <(echo "$b") | head -20 || true
    fi
done
rm -rf "$WORK"
echo "$same command lines answered the same, $differ differ"
[ "$differ" -eq 0 ]
