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
