#!/bin/sh
# Lays out pm2-rs as an image has it, under ROOT: the binary at ROOT/usr/local/bin/pm2 and
# the commands PM2 users call (pm2-runtime, pm2-docker, pm2-dev) as links to it; `pm2`
# plays the program its name says. examples/Dockerfile runs it in its build stage, and
# the docker test (tests/e2e/docker_image.rs) runs it into a temporary root, so the two
# cannot drift apart.
#
#   sh examples/docker/install-pm2.sh ROOT PM2_BINARY
set -eu
root=${1:?usage: install-pm2.sh ROOT PM2_BINARY}
binary=${2:?usage: install-pm2.sh ROOT PM2_BINARY}
bin="$root/usr/local/bin"
mkdir -p "$bin"
cp "$binary" "$bin/pm2"
chmod 755 "$bin/pm2"
for name in pm2-runtime pm2-docker pm2-dev; do
    ln -sf pm2 "$bin/$name"
done
