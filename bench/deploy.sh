#!/bin/bash
# Wall time of a two-host `pm2 deploy` (fetch, reset, link, hooks on both hosts), pm2-rs vs
# PM2 7, on the end-to-end tests' fixture: two sshd hosts in network namespaces
# (tests/e2e/fixtures/deploy). Root only. Each run deploys a new commit to both hosts.
# usage: bench/deploy.sh [runs]   PM2_REF=<PM2 7's bin/pm2>  PM2_RS=<pm2-rs binary>
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-5}
PM2_RS=${PM2_RS:-$ROOT/target/debug/pm2}
PM2_REF=${PM2_REF:-/work/pm2-npm/node_modules/.bin/pm2}
export FX; FX=$(mktemp -d /tmp/pm2dfx.XXXXXX); export T=pdbench
cleanup() {
  PM2_HOME=$FX/home-pm2 "$PM2_REF" kill >/dev/null 2>&1 || true
  "$ROOT/tests/e2e/fixtures/deploy/down.sh"; rm -f /tmp/pm2-deploy-pm2rs-bench.log
}
trap cleanup EXIT
"$ROOT/tests/e2e/fixtures/deploy/up.sh"
git init -q --bare -b main "$FX/repo.git"; git clone -q "$FX/repo.git" "$FX/work" 2>/dev/null
cd "$FX/work"
env_of() {
  printf '{"user":"root","host":["10.200.1.2","10.200.2.2"],"key":"%s","repo":"%s","ref":"origin/main","path":"%s","post-deploy":"true","ssh_options":["UserKnownHostsFile=%s","StrictHostKeyChecking=no","BatchMode=yes"]}' \
    "$FX/keys/id" "$FX/repo.git" "$1" "$FX/known_hosts"
}
printf '{"apps":[{"name":"a","script":"a.js"}],"deploy":{"rs":%s,"pm2":%s}}\n' \
  "$(env_of /tmp/app-rs)" "$(env_of /tmp/app-pm2)" > ecosystem.json
commit() { echo "$1" > v.txt; git add -A; git -c user.name=b -c user.email=b@b commit -qm "$1"; git push -q origin HEAD:main; }
run() { # tool env args...
  local bin=$PM2_RS; [ "$1" = pm2 ] && bin=$PM2_REF
  ip netns exec "$T-c" env HOME="$FX/localhome" PM2_HOME="$FX/home-$1" USER=pm2rs-bench \
    "$bin" deploy ecosystem.json "$2" "${@:3}" >/dev/null 2>&1
}
commit v0
run rs rs setup; run pm2 pm2 setup
declare -A total=([rs]=0 [pm2]=0)
for i in $(seq "$RUNS"); do
  commit "v$i"
  for tool in rs pm2; do
    t0=$(date +%s%N); run "$tool" "$tool" --force; t1=$(date +%s%N)
    total[$tool]=$(( ${total[$tool]} + (t1 - t0) / 1000000 ))
  done
done
echo "two-host deploy, mean of $RUNS runs: pm2-rs $(( ${total[rs]} / RUNS )) ms, PM2 7 $(( ${total[pm2]} / RUNS )) ms"
