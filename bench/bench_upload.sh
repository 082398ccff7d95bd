#!/usr/bin/env bash
# Upload of 1,000 small files with -j 4 to the file driver: files/s, and where the time
# goes (PostgreSQL vs storage vs reading+hashing, summed over the 4 workers, from the
# upload's own log line). Anchor, same run: `sha256sum` + `cp` of the same files into a
# directory — the filesystem floor without any bookkeeping. Checked before the ratio: upload
# printed N ids, the database has N document rows and queued events, the store N objects,
# and the anchor copied N files.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_FILES:-1000}
. bench/lib.sh
bench_start upload
bench_database bench_upload

mkdir -p "$work/files"
for i in $(seq 1 "$N"); do
	# 1-4 KiB of text each, all different
	head -c $((1024 + (i * 37) % 3072)) /dev/urandom | base64 >"$work/files/doc$i.txt"
done
cat "$work"/files/* >/dev/null

t0=$(date +%s.%N)
./platctl -v upload -r "$work/files" -j 4 -o ids >"$work/ids" 2>"$work/log" || bench_fail "platctl upload exited $?" "$work/log"
t1=$(date +%s.%N)
mkdir -p "$work/anchor"
t2=$(date +%s.%N)
sha256sum "$work"/files/* >/dev/null
cp "$work"/files/* "$work/anchor/"
sync -f "$work/anchor"
t3=$(date +%s.%N)

bench_check "ids upload printed" "$(sort -u "$work/ids" | grep -c .)" "$N" "$work/log"
bench_check "document rows, queued upload events" "$(psql -qAtX -v ON_ERROR_STOP=1 -d bench_upload -F ' ' -c "
	SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM outbox WHERE event_type = 'document.uploaded')")" "$N $N"
bench_check "objects in the store" "$(find "$work/store" -type f | wc -l)" "$N"
bench_check "files the anchor copied" "$(find "$work/anchor" -type f | wc -l)" "$N"

wall=$(echo "$t1 - $t0" | bc -l)
anchor=$(echo "$t3 - $t2" | bc -l)
grep -q '"upload finished"' "$work/log" || bench_fail "no \"upload finished\" line in upload's log" "$work/log"
split=$(grep '"upload finished"' "$work/log" | python3 -c '
import json, sys
d = json.loads(sys.stdin.readline())
h, s, p = int(d["hash_ms"]), int(d["storage_ms"]), int(d["postgres_ms"])
t = max(h + s + p, 1)
print(f"postgres {p/t:.0%}, storage {s/t:.0%}, hashing {h/t:.0%} of {t/1000:.2f} worker-seconds")')
printf 'upload %d small files -j 4: %.2fs = %.0f files/s; %s\n' "$N" "$wall" "$(echo "$N / $wall" | bc -l)" "$split"
printf '  anchor sha256sum + cp + sync: %.2fs -> platctl takes %.1fx the filesystem floor\n' "$anchor" \
	"$(echo "$wall / $anchor" | bc -l)"
