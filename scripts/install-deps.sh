#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain: interpreters for the fixture apps,
# the tools some tests drive (tmux, openssl, gzip, chromium; without them build.rs marks those tests
# ignored, or under CI=true they fail), and Node 22 (from npm, into target/node22) so cluster
# tests also run on a second Node major, and the npm `@pm2/io` (into target/pm2-io) that the
# axm_options tests load into their apps.
# Idempotent; only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v bash >/dev/null 2>&1 || missing+=(bash)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v gzip >/dev/null 2>&1 || missing+=(gzip)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
# Headless Chromium drives the dashboard's browser test (tests/e2e/plus.rs).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# `pm2 export systemd`'s units are checked with systemd-analyze verify.
# and the sockets systemd passes to pm2-rs itself with systemd-socket-activate
# (tests/e2e/listen_systemd.rs); both are in Debian's systemd package.
if ! command -v systemd-analyze >/dev/null 2>&1 || ! command -v systemd-socket-activate >/dev/null 2>&1; then
  missing+=(systemd)
fi
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
# pm2 deploy's end-to-end tests: two sshd hosts in network namespaces, deployed with git.
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "missing: ${missing[*]} (install them, then re-run)" >&2
    exit 1
  fi
fi
if [ ! -x target/node22/node_modules/node/bin/node ]; then
  npm install --silent --no-audit --no-fund --prefix target/node22 node@22
  # build.rs probes for Node 22 when the tests are built: make it look again.
  touch build.rs
fi
if [ ! -f target/pm2-client/node_modules/pm2/package.json ]; then
  # PM2 7's Node API client (`require('pm2')`), which the rpc.sock/pub.sock tests drive.
  npm install --silent --no-audit --no-fund --prefix target/pm2-client pm2@7.0.4
  touch build.rs
fi
if [ ! -f target/pm2-client5/node_modules/pm2/package.json ]; then
  # And PM2 5's, which modules on npm still bundle.
  npm install --silent --no-audit --no-fund --prefix target/pm2-client5 pm2@5.4.3
  touch build.rs
fi
if [ ! -f target/pm2-io/node_modules/@pm2/io/package.json ]; then
  npm install --silent --no-audit --no-fund --prefix target/pm2-io @pm2/io@6.1.0
  # build.rs probes for it when the tests are built: make it look again.
  touch build.rs
fi
if [ ! -x target/py-export/bin/kubernetes-validate ] || [ ! -x target/py-export/bin/check-jsonschema ]; then
  # The validators of `pm2 export k8s|compose`'s files: the Kubernetes schemas and the
  # Compose spec's (both offline once installed), in their own venv.
  python3 -m venv target/py-export
  target/py-export/bin/pip install --quiet kubernetes-validate==1.37.0 check-jsonschema==0.39.0
  touch build.rs
fi
