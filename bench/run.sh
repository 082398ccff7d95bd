#!/usr/bin/env bash
# Runs every bench/bench_*.sh, or the ones named (bench/run.sh eval ingest). Each one
# measures platctl and its anchor in the same run and prints ratios (absolute times on
# shared machines mean little). Not part of check.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
if [ $# -gt 0 ]; then
	benches=()
	for n in "$@"; do
		[ -x "bench/bench_$n.sh" ] || { echo "bench: no benchmark bench/bench_$n.sh" >&2; exit 2; }
		benches+=("bench/bench_$n.sh")
	done
else
	benches=(bench/bench_*.sh)
fi
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
