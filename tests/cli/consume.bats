#!/usr/bin/env bats
# platctl consume on the PostgreSQL queue, with the builtin AI provider (no network).
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
	F="$BATS_TEST_TMPDIR/files"
	mkdir -p "$F"
	printf 'Master services agreement between Acme and Globex.\nValid until 2027-03-31.\n' >"$F/contract.txt"
	printf '# Policy\n\nAll laptops are encrypted.\n' >"$F/policy.md"
	printf '<html><body><h1>Report</h1><p>Q3 revenue grew.</p></body></html>' >"$F/report.html"
}

sql() {
	test_psql -d "$TEST_DB" -Atc "$1"
}

@test "consume --once processes every queued document and reports a JSON summary" {
	"$PLATCTL" upload "$F/contract.txt" "$F/policy.md" "$F/report.html" >/dev/null
	run --separate-stderr "$PLATCTL" consume --once -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$output" == *'"processed":	3'* ]]
	[[ "$output" == *'"failed":	0'* ]]
	[ "$(sql "SELECT count(*) FROM documents WHERE status = 'processed'")" -eq 3 ]
	[ "$(sql "SELECT count(*) FROM chunks")" -gt 0 ]
	# nothing left: a second run handles nothing
	run --separate-stderr "$PLATCTL" consume --once -o json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"processed":	0'* ]]
}

@test "--max-messages stops after N events and leaves the rest queued" {
	"$PLATCTL" upload "$F/contract.txt" "$F/policy.md" "$F/report.html" >/dev/null
	run --separate-stderr "$PLATCTL" consume --max-messages 1 -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$output" == *'"processed":	1'* ]]
	[ "$(sql "SELECT count(*) FROM documents WHERE status = 'processed'")" -eq 1 ]
	# with several workers the limit still holds across them
	run --separate-stderr "$PLATCTL" consume --max-messages 1 -c 4 -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$output" == *'"processed":	1'* ]]
	[ "$(sql "SELECT count(*) FROM documents WHERE status = 'processed'")" -eq 2 ]
	run --separate-stderr "$PLATCTL" consume --once -o json
	[[ "$output" == *'"processed":	1'* ]]
}

@test "a document that cannot be extracted is retried, then dead-lettered and marked failed (exit 1)" {
	printf '%%PDF-1.4\nthis is not a real pdf\n' >"$F/broken.pdf"
	"$PLATCTL" upload "$F/broken.pdf" >/dev/null
	run --separate-stderr "$PLATCTL" consume --idle-exit 8 --max-attempts 2 -o json
	[ "$status" -eq 1 ] || { echo "$output $stderr"; false; }
	[[ "$output" == *'"dead_lettered":	1'* ]]
	[[ "$stderr" == *"2 processing attempts failed, 1 event dead-lettered"* ]]
	[ "$(sql "SELECT status FROM documents WHERE name = 'broken.pdf'")" = failed ]
	[ "$(sql "SELECT count(*) FROM outbox WHERE dead_lettered_at IS NOT NULL")" -eq 1 ]
}

@test "--idle-exit ends a worker with an empty queue; SIGTERM ends it with exit 0" {
	run --separate-stderr timeout 20 "$PLATCTL" consume --idle-exit 1 -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$output" == *'"processed":	0'* ]]
	"$PLATCTL" consume >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	sleep 1
	# a document uploaded while it waits is picked up through LISTEN
	"$PLATCTL" upload "$F/policy.md" >/dev/null
	for _ in $(seq 50); do
		[ "$(sql "SELECT status FROM documents")" = processed ] && break
		sleep 0.2
	done
	kill -TERM "$pid"
	wait "$pid"
	[ "$(sql "SELECT status FROM documents")" = processed ]
}

@test "two consumers with several workers process each document exactly once" {
	for i in $(seq 12); do printf 'Document %s about invoices and contracts.\n' "$i" >"$F/d$i.txt"; done
	"$PLATCTL" upload "$F"/d*.txt >/dev/null
	"$PLATCTL" consume --once -c 3 -o json >"$BATS_TEST_TMPDIR/a" 2>/dev/null 3>&- &
	a=$!
	"$PLATCTL" consume --once -c 3 -o json >"$BATS_TEST_TMPDIR/b" 2>/dev/null 3>&- &
	b=$!
	wait "$a"
	wait "$b"
	[ "$(sql "SELECT count(*) FROM documents WHERE status = 'processed'")" -eq 12 ]
	total=$(cat "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" | jq -s 'map(.processed) | add')
	[ "$total" -eq 12 ]
}

@test "1,000 documents through 3 consumers while consumers are killed with -9: each processed once" {
	export PLATCTL_EVENTS_LEASE=2s # a killed worker's events come back after 2 s
	make_documents "$F/many" 1000
	"$PLATCTL" upload -r "$F/many" -j 4 >/dev/null
	consume_with_kills 1000 4 4
	assert_processed_once 1000
	[ "$(sql "SELECT count(*) FROM outbox WHERE event_type = 'document.uploaded' AND processed_at IS NULL")" -eq 0 ]
	echo "# $(sql "SELECT count(*) FROM documents WHERE attempts > 1") documents were delivered more than once" >&3
}

# The summary comes from the fake Anthropic API, slowed down by a script step.
slow_summaries() {
	export PLATCTL_AI_CHAT_PROVIDER=anthropic PLATCTL_AI_ANTHROPIC_BASE_URL="$TEST_AI_URL"
	export PLATCTL_AI_ANTHROPIC_API_KEY="$TEST_AI_KEY" PLATCTL_AI_EXTERNAL_ALLOW='*'
	curl -fsS -X DELETE "$TEST_AI_URL/__control/script" >/dev/null
	curl -fsS -X POST -H 'content-type: application/json' \
		--data "{\"path\": \"/v1/messages\", \"delay_ms\": $1}" "$TEST_AI_URL/__control/script" >/dev/null
}

@test "a worker renews its lease: a document slower than the lease is not taken by another worker" {
	export PLATCTL_EVENTS_LEASE=2s
	slow_summaries 7000
	"$PLATCTL" upload "$F/report.html" >/dev/null
	"$PLATCTL" consume --once -o json >"$BATS_TEST_TMPDIR/a" 2>"$BATS_TEST_TMPDIR/a.err" 3>&- &
	a=$!
	# two leases after it claimed the document (on a loaded machine the claim itself can take
	# seconds), the first worker is still waiting for its summary
	wait_for 20 "SELECT status FROM documents" processing
	sleep 4
	run --separate-stderr "$PLATCTL" consume --once -o json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"processed":	0'* ]]
	wait "$a"
	grep -q '"processed":	1' "$BATS_TEST_TMPDIR/a"
	[ "$(sql "SELECT attempts FROM outbox WHERE event_type = 'document.uploaded'")" -eq 1 ]
	[ "$(sql "SELECT ai_provider FROM documents")" = anthropic ]
}

@test "SIGTERM waits events.grace_period, then leaves the document for redelivery (exit 7)" {
	export PLATCTL_EVENTS_LEASE=2s PLATCTL_EVENTS_GRACE_PERIOD=1s
	slow_summaries 8000
	"$PLATCTL" upload "$F/report.html" >/dev/null
	"$PLATCTL" consume -o json >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	for _ in $(seq 50); do
		[ "$(sql "SELECT status FROM documents")" = processing ] && break
		sleep 0.1
	done
	start=$SECONDS
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 7 ]
	[ $((SECONDS - start)) -le 4 ]
	grep -q "stopped with 1 document still in progress; its event will be delivered again" "$BATS_TEST_TMPDIR/err"
	[ "$(sql "SELECT processed_at IS NULL FROM outbox WHERE event_type = 'document.uploaded'")" = t ]
	# once the lease is over another consumer finishes it
	curl -fsS -X DELETE "$TEST_AI_URL/__control/script" >/dev/null
	sleep 2
	run --separate-stderr "$PLATCTL" consume --once -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$output" == *'"processed":	1'* ]]
	assert_processed_once 1
}

@test "a missing taxonomy file is a configuration error (exit 3) and nothing is claimed" {
	"$PLATCTL" upload "$F/policy.md" >/dev/null
	PLATCTL_AI_TAXONOMY="$BATS_TEST_TMPDIR/none.yaml" run --separate-stderr "$PLATCTL" consume --once
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"cannot open taxonomy"* ]]
	[ "$(sql "SELECT status FROM documents")" = queued ]
	[ "$(sql "SELECT count(*) FROM outbox WHERE attempts > 0")" -eq 0 ]
}

@test "consume needs no installed data files: built, not installed, the taxonomy is compiled in" {
	# a copy of the binary outside the tree, run from an empty directory, with empty HOME
	# and XDG dirs, no /etc/platctl files and a configuration that does not set ai.taxonomy
	mkdir -p "$BATS_TEST_TMPDIR/bin" "$BATS_TEST_TMPDIR/cwd" "$HOME/.local/share" "$HOME/.cache"
	cp "$PLATCTL" "$(dirname "$PLATCTL")/platctl-extract" "$BATS_TEST_TMPDIR/bin/"
	export XDG_DATA_HOME="$HOME/.local/share" XDG_CACHE_HOME="$HOME/.cache"
	cfg="$BATS_TEST_TMPDIR/config.yaml"
	printf 'database:\n  url: %s\nstorage:\n  url: %s\n' "$PLATCTL_DATABASE_URL" "$PLATCTL_STORAGE_URL" >"$cfg"
	unset PLATCTL_DATABASE_URL PLATCTL_STORAGE_URL PLATCTL_AI_TAXONOMY
	cd "$BATS_TEST_TMPDIR/cwd"
	p() { "$BATS_TEST_TMPDIR/bin/platctl" --config "$cfg" "$@"; }
	p upload "$F/contract.txt" "$F/policy.md" >/dev/null
	run --separate-stderr p consume --once -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jq .processed <<<"$output")" -eq 2 ]
	[ "$(sql "SELECT string_agg(name || '=' || class, ' ' ORDER BY name) FROM documents")" = "contract.txt=contract policy.md=policy" ]
	run --separate-stderr p config show ai.taxonomy -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jq -r '.keys[0].source + " " + (.keys[0].value // "unset")' <<<"$output")" = "default unset" ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/cwd")" ]
}

@test "an empty ai.taxonomy means the builtin taxonomy too" {
	"$PLATCTL" upload "$F/contract.txt" >/dev/null
	PLATCTL_AI_TAXONOMY= run --separate-stderr "$PLATCTL" consume --once -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(sql "SELECT class FROM documents")" = contract ]
}

@test "--metrics-file writes Prometheus metrics: outcomes, lag and stage latencies" {
	"$PLATCTL" upload "$F/contract.txt" "$F/policy.md" "$F/report.html" >/dev/null
	m="$BATS_TEST_TMPDIR/consume.prom"
	run --separate-stderr "$PLATCTL" consume --once --metrics-file "$m"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	grep -qx 'platctl_consume_events_total 3' "$m"
	grep -qx 'platctl_consume_documents_total{outcome="processed"} 3' "$m"
	grep -qx '# TYPE platctl_consume_lag_seconds histogram' "$m"
	grep -qx 'platctl_consume_lag_seconds_count 3' "$m"
	grep -qx 'platctl_consume_lag_seconds_bucket{le="+Inf"} 3' "$m"
	grep -qx 'platctl_pipeline_stage_seconds_count{stage="extract"} 3' "$m"
	grep -qx 'platctl_pipeline_stage_seconds_count{stage="embed"} 3' "$m"
	# buckets are cumulative: never decreasing
	grep '^platctl_pipeline_stage_seconds_bucket{stage="total"' "$m" | awk '{ if ($2 < prev) exit 1; prev = $2 }'
	[ -z "$(find "$BATS_TEST_TMPDIR" -name 'consume.prom.tmp*')" ]
	# a file that cannot be written is refused before any work
	"$PLATCTL" upload "$F/contract.txt" --new-version >/dev/null
	run --separate-stderr "$PLATCTL" consume --once --metrics-file /nonexistent/dir/m.prom
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"cannot write metrics to /nonexistent/dir/m.prom"* ]]
	[ "$(sql "SELECT count(*) FROM documents WHERE status = 'queued'")" -eq 1 ]
}

@test "a document whose worker dies every time is given up after --max-attempts deliveries" {
	"$PLATCTL" upload "$F/contract.txt" >/dev/null
	# two deliveries that started the document and never reported (as a crash leaves them)
	sql "UPDATE outbox SET attempts = 2, claimed_by = 'gone', claimed_until = now() - interval '1 second'" >/dev/null
	sql "UPDATE documents SET status = 'processing', attempts = 2" >/dev/null
	run --separate-stderr "$PLATCTL" consume --once --max-attempts 2 -o json
	[ "$status" -eq 1 ]
	[[ "$output" == *'"dead_lettered":	1'* ]]
	[ "$(sql "SELECT status FROM documents")" = failed ]
	[[ "$(sql "SELECT error FROM documents")" == "gave up after 2 deliveries that ended without a result"* ]]
	[ -n "$(sql "SELECT dead_lettered_at FROM outbox WHERE event_type = 'document.uploaded'")" ]
	# documents retry gives it a fresh start
	"$PLATCTL" documents retry "$(sql "SELECT id FROM documents")" >/dev/null
	run --separate-stderr "$PLATCTL" consume --once --max-attempts 2 -o json
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT status FROM documents")" = processed ]
}

# ---- the database going away under a running consume ----

teardown() {
	[ -n "${PRIVATE_PG_DIR:-}" ] && "$ROOT/tests/services/pg.sh" stop "$PRIVATE_PG_DIR"
	return 0
}

# A PostgreSQL of this test's own, to restart and stop without disturbing other tests:
# migrated, and everything (platctl, sql, assert_processed_once) pointed at it.
private_pg() {
	local env port
	env=$("$ROOT/tests/services/pg.sh" start --owner $$)
	PRIVATE_PG_DIR=$(sed -n "s/^export TEST_PG_DIR='\(.*\)'$/\1/p" <<<"$env")
	port=$(sed -n "s/^export PGPORT='\(.*\)'$/\1/p" <<<"$env")
	export TEST_PG_HOST=127.0.0.1 TEST_PG_PORT=$port TEST_DB=platctl
	export PLATCTL_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/platctl"
	"$PLATCTL" migrate up >/dev/null
}

private_pg_ctl() {
	local ctl=(/usr/lib/postgresql/15/bin/pg_ctl -D "$PRIVATE_PG_DIR/data" -l "$PRIVATE_PG_DIR/server.log" -w -t 30 "$@")
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "${ctl[@]}"; else "${ctl[@]}"; fi >/dev/null
}

# wait_for SECONDS SQL VALUE: until the query gives VALUE.
wait_for() {
	local i
	for ((i = 0; i < $1 * 5; i++)); do
		[ "$(sql "$2" 2>/dev/null)" = "$3" ] && return 0
		sleep 0.2
	done
	echo "after $1 s: $2 gives '$(sql "$2" 2>&1)', not '$3'"
	return 1
}

consumer_connections() {
	echo "SELECT count(*) >= $1 FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'platctl%'"
}

@test "PostgreSQL restarts under a running consume: its workers reconnect and process what is uploaded next" {
	private_pg
	"$PLATCTL" upload "$F/contract.txt" >/dev/null
	"$PLATCTL" consume -c 2 -o json >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	wait_for 20 "SELECT status FROM documents" processed
	private_pg_ctl restart -m fast
	"$PLATCTL" upload "$F/policy.md" >/dev/null
	wait_for 20 "SELECT count(*) FROM documents WHERE status = 'processed'" 2 || { cat "$BATS_TEST_TMPDIR/err"; false; }
	kill -TERM "$pid"
	wait "$pid"
	assert_processed_once 2
	grep -q "lost the database connection; reconnecting" "$BATS_TEST_TMPDIR/err"
	# a few lines about it, not one a second forever
	[ "$(grep -c 'database' "$BATS_TEST_TMPDIR/err")" -le 12 ]
	grep -q '"processed":	2' "$BATS_TEST_TMPDIR/out"
}

@test "the server ends consume's sessions (pg_terminate_backend): workers reconnect and carry on" {
	"$PLATCTL" consume -c 2 -o json >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	wait_for 20 "$(consumer_connections 2)" t
	[ "$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name LIKE 'platctl%'")" -ge 2 ]
	"$PLATCTL" upload "$F/contract.txt" >/dev/null
	wait_for 20 "SELECT status FROM documents" processed || { cat "$BATS_TEST_TMPDIR/err"; false; }
	# and again, now that they reconnected once
	wait_for 20 "$(consumer_connections 2)" t
	sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name LIKE 'platctl%'" >/dev/null
	"$PLATCTL" upload "$F/policy.md" >/dev/null
	wait_for 20 "SELECT count(*) FROM documents WHERE status = 'processed'" 2 || { cat "$BATS_TEST_TMPDIR/err"; false; }
	kill -TERM "$pid"
	wait "$pid"
	assert_processed_once 2
}

@test "PostgreSQL gone for longer than database.outage_limit: consume exits 7 and says why" {
	private_pg
	PLATCTL_DATABASE_OUTAGE_LIMIT=2s timeout 30 "$PLATCTL" consume -c 2 -o json \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	wait_for 20 "$(consumer_connections 2)" t
	private_pg_ctl stop -m fast
	start=$SECONDS
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 7 ] || { echo "exit $rc"; cat "$BATS_TEST_TMPDIR/err"; false; }
	[ $((SECONDS - start)) -le 12 ]
	grep -q "the database has been unreachable for longer than database.outage_limit (2s)" "$BATS_TEST_TMPDIR/err"
	grep -q '"processed":	0' "$BATS_TEST_TMPDIR/out"
}

# ---- acknowledgements that fail ----

# The first UPDATE of an outbox row that matches CONDITION (on NEW and OLD) fails, as if
# the statement had hit an error; later ones pass. The sequence counts outside the failed
# statement's transaction.
fail_first_outbox_update() {
	sql "CREATE SEQUENCE fault_seq;
	CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS \$\$
	BEGIN
		IF ($1) AND nextval('fault_seq') = 1 THEN RAISE EXCEPTION 'injected fault'; END IF;
		RETURN NEW;
	END \$\$;
	CREATE TRIGGER fault BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION fault();" >/dev/null
}

@test "an acknowledgement that fails is not renewed forever: the event comes back after its lease, processed once" {
	export PLATCTL_EVENTS_LEASE=2s
	fail_first_outbox_update "NEW.processed_at IS NOT NULL AND OLD.processed_at IS NULL"
	"$PLATCTL" upload "$F/contract.txt" >/dev/null
	run --separate-stderr timeout 60 "$PLATCTL" consume --idle-exit 4 -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# the redelivery finds the document processed, and acknowledges it
	[ -n "$(sql "SELECT processed_at FROM outbox WHERE event_type = 'document.uploaded'")" ]
	[ "$(sql "SELECT attempts FROM outbox WHERE event_type = 'document.uploaded'")" -eq 2 ]
	[[ "$output" == *'"processed":	1'* ]]
	[[ "$output" == *'"skipped":	1'* ]]
	assert_processed_once 1
	[[ "$stderr" == *"acknowledging failed; the event will be delivered again after its lease"* ]]
}

@test "giving an event back that fails is not renewed forever: it comes back after its lease and is dead-lettered" {
	export PLATCTL_EVENTS_LEASE=2s
	fail_first_outbox_update "OLD.claimed_by IS NOT NULL AND NEW.claimed_by IS NULL AND NEW.processed_at IS NULL"
	printf '%%PDF-1.4\nthis is not a real pdf\n' >"$F/broken.pdf"
	"$PLATCTL" upload "$F/broken.pdf" >/dev/null
	run --separate-stderr timeout 60 "$PLATCTL" consume --idle-exit 4 --max-attempts 2 -o json
	[ "$status" -eq 1 ] || { echo "$output $stderr"; false; }
	[[ "$stderr" == *"2 processing attempts failed, 1 event dead-lettered"* ]]
	[[ "$output" == *'"dead_lettered":	1'* ]]
	[ -n "$(sql "SELECT dead_lettered_at FROM outbox WHERE event_type = 'document.uploaded'")" ]
	[ "$(sql "SELECT status FROM documents")" = failed ]
	[[ "$stderr" == *"giving the event back failed; it will be delivered again after its lease"* ]]
}
