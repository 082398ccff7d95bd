#!/usr/bin/env bats
# Events over Kafka: upload publishes with the idempotent producer, consume works as a
# consumer group and stores offsets after each commit, a sweeper republishes what the
# broker never confirmed. Each test gets its own mock cluster (3 brokers, over TCP).
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
	kafka_setup
	F="$BATS_TEST_TMPDIR/files"
	mkdir -p "$F"
}

teardown() {
	kafka_teardown
}

sql() {
	test_psql -d "$TEST_DB" -Atc "$1"
}

topic() { # topic [kcat format]: every message now on it
	kcat -b "$TEST_KAFKA_BROKERS" -C -t "$1" -e -q -f "${2:-%k %h\n}" 2>/dev/null
}

@test "upload publishes each event keyed by document id, with type, tenant and request id headers" {
	make_documents "$F" 3
	run --separate-stderr env PLATCTL_REQUEST_ID=0123456789abcdef0123456789abcdef "$PLATCTL" upload -r "$F" -o ids
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(sql "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")" -eq 3 ]
	run topic platctl.documents
	[ "${#lines[@]}" -eq 3 ]
	tenant=$(sql "SELECT id FROM tenants WHERE name = 'default'")
	for id in $(sql "SELECT id FROM documents"); do
		grep -qx "$id event_type=document.uploaded,tenant_id=$tenant,request_id=0123456789abcdef0123456789abcdef,outbox_id=[0-9]*" <<<"$output"
	done
	# the value is the event as JSON
	topic platctl.documents '%s\n' | head -1 | grep -q '"event_type":"document.uploaded"'
}

@test "consume --once processes every event, publishes document.processed, and a second run finds nothing" {
	make_documents "$F" 5
	"$PLATCTL" upload -r "$F" >/dev/null
	run --separate-stderr "$PLATCTL" consume --once -c 2 -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$output" == *'"processed":	5'* ]]
	[[ "$output" == *'"published":	5'* ]]
	assert_processed_once 5
	[ "$(topic platctl.documents | grep -c event_type=document.processed)" -eq 5 ]
	# offsets were committed: nothing is processed again
	run --separate-stderr "$PLATCTL" consume --once -o json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"processed":	0'* ]]
	[[ "$output" == *'"skipped":	0'* ]]
}

@test "brokers down for 20 s during uploads: uploads keep the documents, every event is delivered after recovery" {
	make_documents "$F" 5
	"$ROOT/tests/services/kafka.sh" down "$TEST_KAFKA_DIR"
	start=$SECONDS
	for i in 1 2 3 4 5; do
		run --separate-stderr env PLATCTL_EVENTS_KAFKA_PUBLISH_TIMEOUT=2s "$PLATCTL" upload "$F/doc$i.txt"
		[ "$status" -eq 7 ]
		[[ "$stderr" == *"Kafka did not confirm 1 event"*"republish"* ]]
		sleep 2
	done
	while [ $((SECONDS - start)) -lt 20 ]; do sleep 1; done
	[ "$(sql "SELECT count(*) FROM documents")" -eq 5 ]
	[ "$(sql "SELECT count(*) FROM outbox WHERE published_at IS NULL")" -eq 5 ]
	"$ROOT/tests/services/kafka.sh" up "$TEST_KAFKA_DIR"
	# the sweeper republishes what was never confirmed; the workers then process it
	run --separate-stderr env PLATCTL_EVENTS_KAFKA_REPUBLISH_AFTER=1s "$PLATCTL" consume --idle-exit 6 -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$output" == *'"processed":	5'* ]]
	[ "$(sql "SELECT count(*) FROM outbox WHERE published_at IS NULL")" -eq 0 ]
	assert_processed_once 5
}

@test "a document that fails every attempt goes to the dead-letter topic with its error (exit 1)" {
	printf '%%PDF-1.4\nthis is not a real pdf\n' >"$F/broken.pdf"
	make_documents "$F" 1
	"$PLATCTL" upload "$F/broken.pdf" "$F/doc1.txt" >/dev/null
	run --separate-stderr "$PLATCTL" consume --once --max-attempts 2 -o json
	[ "$status" -eq 1 ]
	[[ "$output" == *'"processed":	1'* ]]
	[[ "$output" == *'"failed":	1'* ]]
	[[ "$output" == *'"dead_lettered":	1'* ]]
	[[ "$stderr" == *"2 processing attempts failed, 1 event dead-lettered"* ]]
	id=$(sql "SELECT id FROM documents WHERE name = 'broken.pdf'")
	[ "$(sql "SELECT status FROM documents WHERE id = '$id'")" = failed ]
	[ -n "$(sql "SELECT dead_lettered_at FROM outbox WHERE aggregate_id = '$id'")" ]
	run topic platctl.documents.dead-letter '%k|%h\n'
	[ "${#lines[@]}" -eq 1 ]
	echo "$output"; [[ "$output" == "$id|"*"error="*"not a readable PDF"*"attempts=2"* ]]
	# documents retry publishes a fresh event, and the next run tries again
	"$PLATCTL" documents retry "$id" >/dev/null
	[ "$(sql "SELECT count(*) FROM outbox WHERE aggregate_id = '$id' AND published_at IS NOT NULL")" -eq 2 ]
}

@test "1,000 documents through 3 consumers in one group while consumers are killed with -9: each processed once" {
	make_documents "$F" 1000
	"$PLATCTL" upload -r "$F" -j 4 >/dev/null
	consume_with_kills 1000 4 8
	assert_processed_once 1000
	echo "# $(sql "SELECT count(*) FROM documents WHERE attempts > 1") documents were delivered more than once" >&3
}

@test "SIGTERM: in-flight work finishes, offsets are committed on close, exit 0" {
	make_documents "$F" 40
	"$PLATCTL" upload -r "$F" >/dev/null
	"$PLATCTL" consume -o json >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for _ in $(seq 1 100); do
		[ "$(sql "SELECT count(*) FROM documents WHERE status = 'processed'")" -gt 0 ] && break
		sleep 0.1
	done
	kill -TERM "$pid"
	wait "$pid"
	done_before=$(sql "SELECT count(*) FROM documents WHERE status = 'processed'")
	[ "$(sql "SELECT count(*) FROM documents WHERE status = 'processing'")" -eq 0 ]
	# the next run starts after the committed offsets: nothing is done twice
	run --separate-stderr "$PLATCTL" consume --once -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$output" == *'"skipped":	0'* ]]
	[[ "$output" == *"\"processed\":	$((40 - done_before))"* ]]
	assert_processed_once 40
}

@test "unreachable brokers: upload keeps the document and exits 7; kafka without brokers is a configuration error" {
	make_documents "$F" 1
	run --separate-stderr env PLATCTL_EVENTS_KAFKA_BROKERS=127.0.0.1:1 PLATCTL_EVENTS_KAFKA_PUBLISH_TIMEOUT=1s \
		"$PLATCTL" upload "$F/doc1.txt"
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"the documents are stored"* ]]
	[ "$(sql "SELECT count(*) FROM documents")" -eq 1 ]
	# events.backend kafka without brokers is a configuration error
	run --separate-stderr env PLATCTL_EVENTS_BACKEND=kafka PLATCTL_EVENTS_KAFKA_BROKERS= "$PLATCTL" consume --once
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"events.kafka.brokers is not set"* ]]
}

@test "a document whose worker dies every time is given up and dead-lettered after --max-attempts" {
	make_documents "$F" 1
	"$PLATCTL" upload "$F/doc1.txt" >/dev/null
	sql "UPDATE documents SET status = 'processing', attempts = 2" >/dev/null # two deliveries that never reported
	run --separate-stderr "$PLATCTL" consume --once --max-attempts 2 -o json
	[ "$status" -eq 1 ]
	[[ "$output" == *'"dead_lettered":	1'* ]]
	[ "$(sql "SELECT status FROM documents")" = failed ]
	[[ "$(topic platctl.documents.dead-letter '%h\n')" == *"error=gave up after 2 deliveries"* ]]
}

sql_is() { # sql_is SQL VALUE
	[ "$(sql "$1")" = "$2" ]
}

ctl() { # a control command for the mock cluster (see tests/services/kafka_mock.c)
	"$ROOT/tests/services/kafka.sh" ctl "$TEST_KAFKA_DIR" "$@"
}

# wait_until SECONDS COMMAND...: until COMMAND succeeds.
wait_until() {
	local n=$1 i
	shift
	for ((i = 0; i < n * 5; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	echo "after $n s still false: $*"
	return 1
}

@test "an event released because dead-lettering failed is delivered again and dead-lettered, not skipped for the next one" {
	# one partition: the broken document's event, then a good one behind it
	kafka_teardown
	KAFKA_MOCK_TOPICS="platctl.documents:1 platctl.documents.dead-letter:1" kafka_setup
	printf '%%PDF-1.4\nthis is not a real pdf\n' >"$F/broken.pdf"
	make_documents "$F" 1
	"$PLATCTL" upload "$F/broken.pdf" >/dev/null
	"$PLATCTL" upload "$F/doc1.txt" >/dev/null
	ctl leader platctl.documents.dead-letter 0 -1 # produce requests to it time out
	PLATCTL_EVENTS_KAFKA_PUBLISH_TIMEOUT=1s PLATCTL_EVENTS_KAFKA_REPUBLISH_AFTER=1s timeout 90 \
		"$PLATCTL" consume --once --max-attempts 1 -o json >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_until 30 grep -q "dead-lettering failed; the event will be delivered again" "$BATS_TEST_TMPDIR/err"
	ctl leader platctl.documents.dead-letter 0 1
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 1 ] || { echo "exit $rc"; cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"; false; }
	id=$(sql "SELECT id FROM documents WHERE name = 'broken.pdf'")
	run topic platctl.documents.dead-letter '%k\n'
	[ "$output" = "$id" ] || { echo "dead letters: '$output'"; cat "$BATS_TEST_TMPDIR/out"; false; }
	[ -n "$(sql "SELECT dead_lettered_at FROM outbox WHERE aggregate_id = '$id'")" ]
	grep -q '"dead_lettered":	1' "$BATS_TEST_TMPDIR/out"
	grep -q '"processed":	1' "$BATS_TEST_TMPDIR/out"
	[ "$(sql "SELECT status FROM documents WHERE name = 'doc1.txt'")" = processed ]
	# nothing is left behind: the committed offset is past both, not past the good one only
	run --separate-stderr "$PLATCTL" consume --once -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$output" == *'"processed":	0'* ]]
	[[ "$output" == *'"dead_lettered":	0'* ]]
}

@test "--metrics-file on Kafka: failed attempts only ever go up; a dead-lettered event's last attempt counts as dead-lettered" {
	printf '%%PDF-1.4\nthis is not a real pdf\n' >"$F/broken.pdf"
	"$PLATCTL" upload "$F/broken.pdf" >/dev/null
	ctl leader platctl.documents.dead-letter 0 -1 # the dead-letter copy waits for a leader
	m="$BATS_TEST_TMPDIR/consume.prom"
	PLATCTL_EVENTS_KAFKA_PUBLISH_TIMEOUT=30s timeout 90 "$PLATCTL" consume --once --max-attempts 2 \
		--metrics-file "$m" -o json >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	# every value the file shows while it runs (rewritten every 5 s)
	(while kill -0 "$pid" 2>/dev/null; do
		sed -n 's/^platctl_consume_failed_attempts_total //p' "$m" 2>/dev/null || true
		sleep 0.2
	done) >"$BATS_TEST_TMPDIR/samples" &
	sampler=$!
	# both attempts failed; the dead-letter copy waits for longer than a metrics interval
	wait_until 30 sql_is "SELECT attempts || status FROM documents" 2failed
	sleep 6
	ctl leader platctl.documents.dead-letter 0 1
	rc=0
	wait "$pid" || rc=$?
	wait "$sampler" || true
	sed -n 's/^platctl_consume_failed_attempts_total //p' "$m" >>"$BATS_TEST_TMPDIR/samples" # as it ended
	[ "$rc" -eq 1 ] || { echo "exit $rc"; cat "$BATS_TEST_TMPDIR/err"; false; }
	echo "# samples: $(uniq "$BATS_TEST_TMPDIR/samples" | tr "\n" " ")" >&3
	awk 'NR > 1 && $1 < prev { exit 1 } { prev = $1 }' "$BATS_TEST_TMPDIR/samples" ||
		{ echo "platctl_consume_failed_attempts_total went down: $(uniq "$BATS_TEST_TMPDIR/samples" | tr '\n' ' ')"; false; }
	grep -qx 'platctl_consume_failed_attempts_total 1' "$m"
	grep -qx 'platctl_consume_documents_total{outcome="dead_lettered"} 1' "$m"
	grep -q '"failed":	1' "$BATS_TEST_TMPDIR/out"
	grep -q '"dead_lettered":	1' "$BATS_TEST_TMPDIR/out"
	[ "$(topic platctl.documents.dead-letter '%k\n' | wc -l)" -eq 1 ]
}
