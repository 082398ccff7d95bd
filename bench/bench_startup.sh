#!/usr/bin/env bash
# Start-up time of the binary: `platctl version` against `aws --version` (Debian's awscli,
# the interop peer), measured in the same run. Goal: <= 1/50 of aws. Also printed: the
# floor under platctl — an empty program linked with exactly the shared libraries platctl
# needs (from its DT_NEEDED entries), and /bin/true — and how many shared libraries
# platctl and its parser helper load (ldd). With hyperfine installed it measures (-N, no
# shell, after warm-up runs; medians); without, medians of timed loops.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${BENCH_RUNS:-100}
AWS_RUNS=${BENCH_AWS_RUNS:-10}
AWS=${BENCH_AWS:-/usr/bin/aws}
PLATCTL=${BENCH_PLATCTL:-./platctl} # another build to compare with
[ -x "$AWS" ] || AWS=$(command -v aws)

bench_scratch startup

# What is timed must work: a platctl that fails fast would look fast.
bench_check "platctl version --short" "$("$PLATCTL" version --short)" "$("$PLATCTL" version -o json | jq -r .version)"
"$AWS" --version >/dev/null 2>&1 || bench_fail "aws --version does not run"

# The floor: main() { return 0; } with platctl's own DT_NEEDED libraries, in its order.
needed=$(readelf -d "$PLATCTL" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/-l:\1/p' | tr '\n' ' ')
printf 'int main(void) { return 0; }\n' >"$work/floor.c"
# shellcheck disable=SC2086 # one word per library
cc -o "$work/floor" "$work/floor.c" -Wl,--no-as-needed $needed

# median_ms RUNS CMD...: the median wall time of one run, in milliseconds.
if command -v hyperfine >/dev/null; then
	median_ms() {
		local runs=$1
		shift
		hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" "$*" >/dev/null 2>&1
		jq '.results[0].median * 1000' "$work/h.json"
	}
	how="hyperfine, medians"
else
	median_ms() {
		local runs=$1 t0 t1 times=()
		shift
		"$@" >/dev/null 2>&1 || true
		for _ in 1 2 3 4 5; do
			t0=$(date +%s%N)
			for ((i = 0; i < runs; i++)); do "$@" >/dev/null 2>&1 || true; done
			t1=$(date +%s%N)
			times+=("$(echo "($t1 - $t0) / $runs / 1000000" | bc -l)")
		done
		printf '%s\n' "${times[@]}" | sort -g | sed -n 3p
	}
	how="timed loops, medians of 5"
fi

# platctl before and after the anchors (the mean of the two), so drift on a shared
# machine hits both sides.
plat1=$(median_ms "$RUNS" "$PLATCTL" version)
aws=$(median_ms "$AWS_RUNS" "$AWS" --version)
floor=$(median_ms "$RUNS" "$work/floor")
truth=$(median_ms "$RUNS" /bin/true)
plat2=$(median_ms "$RUNS" "$PLATCTL" version)
plat=$(echo "($plat1 + $plat2) / 2" | bc -l)

helper=$(dirname "$PLATCTL")/platctl-extract
libs=$(ldd "$PLATCTL" | wc -l)
hlibs="no platctl-extract"
[ ! -x "$helper" ] || hlibs="platctl-extract $(ldd "$helper" | wc -l) (the parsers: poppler, GLib, cairo, libzip, libseccomp)"
printf 'startup (%s): platctl version %.1f ms; aws --version %.1f ms -> 1/%.0f of aws (goal <= 1/50)\n' \
	"$how" "$plat" "$aws" "$(echo "$aws / $plat" | bc -l)"
printf '  floor: an empty program linked like platctl (its %d libraries and theirs) %.1f ms (%.0f%% of platctl version); /bin/true %.1f ms\n' \
	"$(echo "$needed" | wc -w)" "$floor" "$(echo "100 * $floor / $plat" | bc -l)" "$truth"
printf '  shared libraries (ldd): platctl %d, %s\n' "$libs" "$hlibs"
