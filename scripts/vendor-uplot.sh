#!/bin/sh
# Re-fetches the dashboard's charting library, uPlot, from npm into
# crates/plus/assets/vendor/uplot/ (the minified IIFE build, its CSS and its MIT licence),
# and prints the files' sha256 for the README there.
#   scripts/vendor-uplot.sh [version]    (default: the one vendored now)
set -eu
version=${1:-1.6.32}
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/crates/plus/assets/vendor/uplot"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "uplot@$version" >/dev/null && tar xzf uplot-*.tgz)
grep -q '"license": "MIT"' "$tmp/package/package.json" || { echo "uplot@$version is not MIT: check its licence" >&2; exit 1; }
cp "$tmp/package/dist/uPlot.iife.min.js" "$tmp/package/dist/uPlot.min.css" "$tmp/package/LICENSE" "$dest/"
cd "$dest" && sha256sum uPlot.iife.min.js uPlot.min.css LICENSE
echo "uplot@$version in $dest: now set UPLOT_VERSION in crates/plus/src/assets.rs and the paths in index.html"
