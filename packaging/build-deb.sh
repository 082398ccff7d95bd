#!/usr/bin/env bash
# Build the Debian package from a clean export of the tree: packaging/debian is copied
# to debian/ in a temporary copy, so the source tree keeps the layout the project uses.
# Usage: packaging/build-deb.sh [OUTDIR]   (needs debhelper and the build dependencies)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/deb}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$work/platctl"
git -C "$top" ls-files -z | (cd "$top" && xargs -0 cp --parents -t "$work/platctl")
cp -r "$top/packaging/debian" "$work/platctl/debian"
(cd "$work/platctl" && dpkg-buildpackage -b -us -uc >&2)
mv "$work"/*.deb "$out"/
ls "$out"/*.deb
