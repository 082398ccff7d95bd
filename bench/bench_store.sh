#!/usr/bin/env bash
# Object storage upload throughput, each against its anchor in the same run:
#   file driver  vs  sha256sum of the same file   (goal: >= 0.8x, i.e. storing costs
#                                                   little more than hashing)
#   S3 driver    vs  aws s3 cp to the same server (goal: >= 1.5x)
# Medians of REPS runs, alternating the two sides so drift hits both. Prints ratios.
# Checked before the ratios: every command succeeded, every object platctl stored has the
# file's size and SHA-256 (its own put summary, and stat on the store), and so has every
# copy the anchors made.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${BENCH_SIZE_MB:-1024}
REPS=${BENCH_REPS:-3}
. bench/lib.sh
bench_scratch store

# Random data (not a sparse file): real reads, real hashing.
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom >"$work/data"
cat "$work/data" >/dev/null # warm the page cache for everyone

size=$((SIZE_MB * 1024 * 1024))
sha=$(sha256sum "$work/data" | cut -d' ' -f1)

# OUT command...: "wall_seconds cpu_seconds" (cpu = user + system of the command and
# children); the command's standard output goes to OUT. A failed command fails the run.
measure() {
	local out=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >"$out" 2>"$work/log" ||
		bench_fail "$* exited $?" "$work/log"
	awk '{printf "%s %.2f\n", $1, $2 + $3}' "$work/time"
}

# KEY PUT_JSON: platctl's put summary and the store's stat agree with the file.
check_put() {
	bench_check "platctl storage put $1: size and sha256" "$(jq -r '"\(.size) \(.sha256)"' "$2")" "$size $sha"
	bench_check "platctl storage stat $1: size" "$(./platctl storage stat "$1" -o json | jq .size)" "$size"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ratio() { echo "scale=2; $1 / $2" | bc -l; }

# ---- file driver vs sha256sum (and the disk's own durable write speed) ----
export PLATCTL_STORAGE_URL="file://$work/store"
plat=() anchor=() disk=()
for i in $(seq "$REPS"); do
	anchor+=("$(measure "$work/sum" sha256sum "$work/data" | cut -d' ' -f1)")
	bench_check "sha256sum run $i" "$(cut -d' ' -f1 "$work/sum")" "$sha"
	plat+=("$(measure "$work/put.json" ./platctl storage put "$work/data" "bench/file-$i" -o json | cut -d' ' -f1)")
	check_put "bench/file-$i" "$work/put.json"
	disk+=("$(measure /dev/null dd if="$work/data" of="$work/dd-$i" bs=1M conv=fsync | cut -d' ' -f1)")
	bench_check "dd run $i: bytes written" "$(stat -c %s "$work/dd-$i")" "$size"
	rm -f "$work/dd-$i"
done
pf=$(median "${plat[@]}") af=$(median "${anchor[@]}") df=$(median "${disk[@]}")
printf 'file driver put %d MiB: platctl %.2fs, sha256sum %.2fs -> %sx of sha256sum (goal >= 0.8x)\n' \
	"$SIZE_MB" "$pf" "$af" "$(ratio "$af" "$pf")"
printf '  the disk itself (dd conv=fsync) takes %.2fs -> platctl runs at %sx of the durable write speed\n' \
	"$df" "$(ratio "$df" "$pf")"

# ---- S3 driver vs aws s3 cp (Debian's awscli) ----
AWS=$(command -v /usr/bin/aws || command -v aws)
eval "$(tests/services/s3.sh start --owner $$)"
bench_stop+=("tests/services/s3.sh stop $TEST_S3_DIR")
export PLATCTL_STORAGE_URL="s3://$TEST_S3_BUCKET/bench" PLATCTL_STORAGE_S3_ENDPOINT="$TEST_S3_ENDPOINT"
export PLATCTL_STORAGE_S3_PATH_STYLE=true
plat=() anchor=() pcpu=() acpu=()
for i in $(seq "$REPS"); do
	m=$(measure /dev/null "$AWS" --endpoint-url "$TEST_S3_ENDPOINT" s3 cp "$work/data" "s3://$TEST_S3_BUCKET/bench/aws-$i")
	read -r w c <<<"$m"
	anchor+=("$w") acpu+=("$c")
	bench_check "aws s3 cp run $i: object size" "$("$AWS" --endpoint-url "$TEST_S3_ENDPOINT" s3api head-object \
		--bucket "$TEST_S3_BUCKET" --key "bench/aws-$i" --query ContentLength --output text)" "$size"
	m=$(measure "$work/put.json" ./platctl storage put "$work/data" "s3-$i" -o json)
	read -r w c <<<"$m"
	plat+=("$w") pcpu+=("$c")
	check_put "s3-$i" "$work/put.json"
done
ps=$(median "${plat[@]}") as=$(median "${anchor[@]}") pc=$(median "${pcpu[@]}") ac=$(median "${acpu[@]}")
printf 'S3 driver put %d MiB:   platctl %.2fs, aws s3 cp %.2fs -> speed-up %sx (goal >= 1.5x)\n' \
	"$SIZE_MB" "$ps" "$as" "$(ratio "$as" "$ps")"
printf '  client CPU: platctl %.2fs, aws s3 cp %.2fs -> %sx less CPU\n' "$pc" "$ac" "$(ratio "$ac" "$pc")"
