#!/usr/bin/env bash
# Object storage upload throughput, each against its anchor in the same run:
#   file driver  vs  sha256sum of the same file   (goal: >= 0.8x, i.e. storing costs
#                                                   little more than hashing)
#   S3 driver    vs  aws s3 cp to the same server (goal: >= 1.5x)
# Medians of REPS runs, alternating the two sides so drift hits both. Prints ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${BENCH_SIZE_MB:-1024}
REPS=${BENCH_REPS:-3}
work=$(mktemp -d /tmp/platctl-bench.XXXXXX)
s3dir=
cleanup() {
	[ -n "$s3dir" ] && tests/services/s3.sh stop "$s3dir"
	rm -rf "$work"
}
trap cleanup EXIT

# Random data (not a sparse file): real reads, real hashing.
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom >"$work/data"
cat "$work/data" >/dev/null # warm the page cache for everyone

# command...: "wall_seconds cpu_seconds" (cpu = user + system of the command and children)
measure() {
	/usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >/dev/null 2>&1
	awk '{printf "%s %.2f\n", $1, $2 + $3}' "$work/time"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ratio() { echo "scale=2; $1 / $2" | bc -l; }

# ---- file driver vs sha256sum (and the disk's own durable write speed) ----
export PLATCTL_STORAGE_URL="file://$work/store"
plat=() anchor=() disk=()
for i in $(seq "$REPS"); do
	anchor+=("$(measure sha256sum "$work/data" | cut -d' ' -f1)")
	plat+=("$(measure ./platctl storage put "$work/data" "bench/file-$i" | cut -d' ' -f1)")
	disk+=("$(measure dd if="$work/data" of="$work/dd-$i" bs=1M conv=fsync | cut -d' ' -f1)")
done
pf=$(median "${plat[@]}") af=$(median "${anchor[@]}") df=$(median "${disk[@]}")
printf 'file driver put %d MiB: platctl %.2fs, sha256sum %.2fs -> %sx of sha256sum (goal >= 0.8x)\n' \
	"$SIZE_MB" "$pf" "$af" "$(ratio "$af" "$pf")"
printf '  the disk itself (dd conv=fsync) takes %.2fs -> platctl runs at %sx of the durable write speed\n' \
	"$df" "$(ratio "$df" "$pf")"

# ---- S3 driver vs aws s3 cp (Debian's awscli) ----
AWS=$(command -v /usr/bin/aws || command -v aws)
eval "$(tests/services/s3.sh start --owner $$)"
s3dir=$TEST_S3_DIR
export PLATCTL_STORAGE_URL="s3://$TEST_S3_BUCKET/bench" PLATCTL_STORAGE_S3_ENDPOINT="$TEST_S3_ENDPOINT"
export PLATCTL_STORAGE_S3_PATH_STYLE=true
plat=() anchor=() pcpu=() acpu=()
for i in $(seq "$REPS"); do
	read -r w c < <(measure "$AWS" --endpoint-url "$TEST_S3_ENDPOINT" s3 cp "$work/data" "s3://$TEST_S3_BUCKET/bench/aws-$i")
	anchor+=("$w") acpu+=("$c")
	read -r w c < <(measure ./platctl storage put "$work/data" "s3-$i")
	plat+=("$w") pcpu+=("$c")
done
ps=$(median "${plat[@]}") as=$(median "${anchor[@]}") pc=$(median "${pcpu[@]}") ac=$(median "${acpu[@]}")
printf 'S3 driver put %d MiB:   platctl %.2fs, aws s3 cp %.2fs -> speed-up %sx (goal >= 1.5x)\n' \
	"$SIZE_MB" "$ps" "$as" "$(ratio "$as" "$ps")"
printf '  client CPU: platctl %.2fs, aws s3 cp %.2fs -> %sx less CPU\n' "$pc" "$ac" "$(ratio "$ac" "$pc")"
