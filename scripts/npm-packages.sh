#!/usr/bin/env bash
# Builds the npm packages of pm2-rs for this machine's platform from a pm2 binary and packs
# them (`npm pack`), without publishing anything:
#
#   scripts/npm-packages.sh OUT_DIR [PM2_BINARY] [--local]
#
#   OUT_DIR      where the package folders and the .tgz files go (created)
#   PM2_BINARY   default target/release/pm2 (run `cargo build --release` first)
#   --local      the main package takes its platform package from the tarball in OUT_DIR
#                (a `file:` dependency) instead of the registry: for installing from the
#                tarballs alone, as the tests do
#
# Two packages come out: `pm2-rs` (the commands: bin/ shims that install.js links to the
# binary) and `@pm2-rs/<platform>-<arch>` (the binary, with `os`/`cpu` so npm installs only
# the one that fits). A release publishes the platform packages first, then pm2-rs:
#   npm publish OUT_DIR/pm2-rs-linux-x64-<v>.tgz --access public   (one per platform built)
#   npm publish OUT_DIR/pm2-rs-<v>.tgz
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:?usage: scripts/npm-packages.sh OUT_DIR [PM2_BINARY] [--local]}
binary=${2:-target/release/pm2}
local_dep=false
for arg in "$@"; do [ "$arg" = "--local" ] && local_dep=true; done
[ "$binary" = "--local" ] && binary=target/release/pm2

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
case "$(uname -m)" in
    x86_64) cpu=x64 ;;
    aarch64) cpu=arm64 ;;
    *) echo "no npm platform name for $(uname -m)" >&2; exit 1 ;;
esac
platform="linux-$cpu"
[ -x "$binary" ] || { echo "no pm2 binary at $binary (cargo build --release)" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
plat_dir="$out/platform-$platform"
main_dir="$out/pm2-rs"
rm -rf "$plat_dir" "$main_dir"

# The platform package: the binary alone.
mkdir -p "$plat_dir/bin"
cp "$binary" "$plat_dir/bin/pm2"
# A debug build carries its symbols; a package does not need them.
strip "$plat_dir/bin/pm2" 2>/dev/null || true
chmod 755 "$plat_dir/bin/pm2"
cat > "$plat_dir/package.json" <<JSON
{
  "name": "@pm2-rs/$platform",
  "version": "$version",
  "description": "The pm2-rs binary for $platform (installed by the pm2-rs package)",
  "license": "MIT",
  "os": ["linux"],
  "cpu": ["$cpu"],
  "files": ["bin/pm2"],
  "preferUnplugged": true
}
JSON
(cd "$out" && npm pack --silent "$plat_dir" >/dev/null)
plat_tgz="$out/pm2-rs-$platform-$version.tgz"

# The main package: the commands.
cp -r npm/pm2-rs "$main_dir"
sed -i "s/@VERSION@/$version/g" "$main_dir/package.json"
if $local_dep; then
    node -e '
        const fs = require("fs");
        const [file, name, tgz] = process.argv.slice(1);
        const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
        pkg.optionalDependencies = { [name]: "file:" + tgz };
        fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
    ' "$main_dir/package.json" "@pm2-rs/$platform" "$plat_tgz"
fi
(cd "$out" && npm pack --silent "$main_dir" >/dev/null)
echo "$plat_tgz"
echo "$out/pm2-rs-$version.tgz"
