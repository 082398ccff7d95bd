#!/usr/bin/env bash
# Kafka consume rate with a no-op stage: N events that need no processing (type
# document.processed, which consume reads, skips and stores the offset for — the whole
# consumer-group path without the pipeline) read by `platctl consume --once -c 1` in a
# fresh consumer group. Anchor, same run: kcat reading the same topic as a member of a
# fresh group (-G ... -e), i.e. librdkafka's consumer with nothing on top. Goal >= 0.8x.
# Both sides pay for joining the group (~3 s on the mock) and noticing the end; 600,000
# events make that a small part. Medians of REPS runs, alternating sides. The cluster is
# librdkafka's mock (tests/services/kafka.sh); its partitions keep about 5 MB each, so the
# events are spread over 32 partitions. Every run is checked before the ratio: kcat read N
# events; platctl's summary is the Kafka backend's with nothing processed or failed (it does
# not count events of other types, so it cannot say N), and its group has no lag left: a
# kcat member of the same group afterwards finds all N offsets committed and reads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_EVENTS:-600000}
REPS=${BENCH_REPS:-3}
command -v kcat >/dev/null || { echo "bench_consume: kcat is not installed (make deps)" >&2; exit 1; }
. bench/lib.sh
bench_start consume
eval "$(KAFKA_MOCK_BROKERS=1 KAFKA_MOCK_TOPICS=bench.events:32 tests/services/kafka.sh start --owner $$)"
bench_stop+=("tests/services/kafka.sh stop $TEST_KAFKA_DIR")

bench_database bench_consume
export PLATCTL_EVENTS_BACKEND=kafka PLATCTL_EVENTS_KAFKA_BROKERS=$TEST_KAFKA_BROKERS PLATCTL_EVENTS_KAFKA_TOPIC=bench.events
export PLATCTL_EVENTS_KAFKA_SESSION_TIMEOUT=6s

# The events, shaped like platctl's own (key, JSON value, headers).
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
	printf "%08d-0000-4000-8000-000000000000|{\"outbox_id\":%d,\"event_type\":\"document.processed\"}\n", i, i }' >"$work/events"
kcat -P -b "$TEST_KAFKA_BROKERS" -t bench.events -K '|' -H event_type=document.processed \
	-H tenant_id=00000000-0000-4000-8000-000000000000 -l "$work/events"

# Until the broker has them all (kcat -P can return before the last batch is in the log).
in_topic=0
for _ in $(seq 1 100); do
	in_topic=$(kcat -C -b "$TEST_KAFKA_BROKERS" -t bench.events -o beginning -e -q -f '.\n' 2>/dev/null | wc -l)
	[ "$in_topic" -eq "$N" ] && break
	sleep 0.2
done
bench_check "events in the topic" "$in_topic" "$N"

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

kcat_read() { # group topic
	kcat -b "$TEST_KAFKA_BROKERS" -G "$1" -X session.timeout.ms=6000 -X auto.offset.reset=earliest -e -q \
		-f '.\n' "$2" 2>/dev/null | wc -l
}

plat=() anchor=()
for r in $(seq "$REPS"); do
	t0=$(now)
	got=$(kcat_read "kcat-$r" bench.events)
	t1=$(now)
	bench_check "kcat run $r: events read" "$got" "$N"
	anchor+=("$(echo "$t1 - $t0" | bc -l)")

	t0=$(now)
	PLATCTL_EVENTS_KAFKA_GROUP="platctl-$r" ./platctl consume --once -c 1 -o json >"$work/summary" 2>"$work/log" ||
		bench_fail "platctl consume run $r exited $?" "$work/log"
	t1=$(now)
	plat+=("$(echo "$t1 - $t0" | bc -l)")
	# the Kafka backend's summary (it alone reports "published"), nothing processed or failed
	got=$(jq -r 'if has("published") then "\(.processed) processed, \(.failed + .dead_lettered) failed"
		else "not the kafka backend: \(tojson)" end' "$work/summary") || bench_fail "no JSON summary from consume" "$work/log"
	bench_check "platctl consume run $r" "$got" "0 processed, 0 failed" "$work/log"
	# every event was read and its offset committed: the group has no lag left
	bench_check "events platctl's group platctl-$r left unread" "$(kcat_read "platctl-$r" bench.events)" 0
done
pt=$(median "${plat[@]}") at=$(median "${anchor[@]}")
printf 'consume, no-op stage, %d events in 32 partitions: platctl %.2fs = %.0f events/s; kcat -G %.2fs = %.0f events/s -> %.2fx of kcat (goal >= 0.8x)\n' \
	"$N" "$pt" "$(echo "$N / $pt" | bc -l)" "$at" "$(echo "$N / $at" | bc -l)" "$(echo "$at / $pt" | bc -l)"
