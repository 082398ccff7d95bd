#!/usr/bin/env bash
# Runs every bench/bench_*.sh. Each one measures platctl and its anchor in the same run
# and prints ratios (absolute times on shared machines mean little). Not part of check.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
benches=(bench/bench_*.sh)
if [ ${#benches[@]} -eq 0 ]; then
	echo "bench: no benchmarks in bench/ yet"
	exit 0
fi
status=0
for b in "${benches[@]}"; do
	echo "== $b"
	"$b" || status=1
done
exit $status
