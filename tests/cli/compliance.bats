#!/usr/bin/env bats
# platctl compliance run, findings and report on real PostgreSQL: documents whose fields
# are set in SQL with dates relative to today, two runs at once, exit codes, a stopped
# database, and bad input.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

sql() {
	test_psql -d "$TEST_DB" -c "$1"
}

# A processed document of class contract with these fields; prints its id.
doc() {
	local name=$1 fields=$2 tags=${3:-'{}'}
	sql "INSERT INTO documents (tenant_id, name, content_type, size_bytes, sha256, storage_key, created_by, status,
	       class, fields, tags)
	     SELECT id, '$name', 'text/plain', 1, encode(sha256('$name'::bytea), 'hex'), '$name', 'test', 'processed',
	       'contract', '$fields'::jsonb, '$tags'::jsonb FROM tenants WHERE name = 'default' RETURNING id"
}

day() {
	test_psql -d "$TEST_DB" -c "SELECT to_char((now() AT TIME ZONE 'UTC')::date + $1, '${2:-YYYY-MM-DD}')"
}

setup() {
	pipeline_setup
	RULES="$BATS_TEST_TMPDIR/rules"
	mkdir -p "$RULES"
	cat >"$RULES/10-contracts.yaml" <<-'EOF'
	rules:
	  - name: contract-expiry
	    kind: expiry
	    classes: [contract]
	    fields: [expires_on, valid_until]
	    within: 30d
	    steps: [30, 7, 1]
	    owner: legal@example.com
	  - name: contract-fields
	    kind: required_fields
	    severity: low
	    classes: [contract]
	    fields: [parties]
	  - name: chain
	    kind: audit_chain
	    severity: critical
	EOF
	export PLATCTL_COMPLIANCE_RULES="$RULES"
	SOON=$(doc soon.pdf "{\"expires_on\": \"$(day 10)\", \"parties\": [\"A\"]}")
	PAST=$(doc past.pdf "{\"valid_until\": \"$(day -3 DD.MM.YYYY)\", \"parties\": [\"A\"]}")
	FAR=$(doc far.pdf "{\"expires_on\": \"$(day 300)\"}")
}

field() {
	printf '%s' "$output" | jq -r "$1"
}

@test "compliance run: a summary, findings upserted, a rerun changes nothing" {
	run --separate-stderr "$PLATCTL" compliance run -o json --fail-on critical
	[ "$status" -eq 0 ]
	[ "$(field '.skipped')" = "false" ]
	[ "$(field '.opened')" -eq 3 ]
	[ "$(field '.resolved')" -eq 0 ]
	[ "$(field '.open_by_severity.high')" -eq 1 ]
	[ "$(field '.rules | map(.name) | join(",")')" = "contract-expiry,contract-fields,chain" ]
	[ "$(field '.rules[0].checked')" -eq 3 ]
	[ "$(field '.reminders | map(.name) | join(",")')" = "past.pdf,soon.pdf" ]
	[ "$(field '.reminders[1].to[0]')" = "legal@example.com" ]
	[ "$(field '.findings | length')" -eq 3 ]
	run_id=$(field '.run_id')
	[ "$(sql "SELECT status FROM compliance_runs WHERE id = '$run_id'")" = "succeeded" ]
	[ "$(sql "SELECT count(*) FROM audit_log WHERE action = 'compliance.run' AND object_id = '$run_id'")" -eq 1 ]
	run --separate-stderr "$PLATCTL" compliance run -o json --fail-on critical
	[ "$status" -eq 0 ]
	[ "$(field '.opened')" -eq 0 ]
	[ "$(field '.resolved')" -eq 0 ]
	[ "$(field '.open')" -eq 3 ]
	[ "$(field '.reminders | length')" -eq 0 ]
	# The table: one row per rule, then the totals.
	run --separate-stderr "$PLATCTL" compliance run --fail-on critical
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == RULE* ]]
	[[ "$output" == *"contract-expiry"*"expiry"* ]]
	[[ "${lines[-1]}" == "3 rules, "*"0 opened, 0 resolved, 3 open (critical 0, high 1, medium 1, low 1, info 0)"* ]]
}

@test "compliance run: --fail-on decides the exit code; renewal resolves; --dry-run changes nothing" {
	run --separate-stderr "$PLATCTL" compliance run --fail-on high
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"open findings at or above high"* ]]
	run --separate-stderr "$PLATCTL" compliance run --fail-on critical
	[ "$status" -eq 0 ]
	run --separate-stderr "$PLATCTL" compliance run --fail-on medium --only contract-fields
	[ "$status" -eq 0 ] # only low findings in that rule
	run --separate-stderr "$PLATCTL" compliance run --fail-on low --kind required_fields
	[ "$status" -eq 1 ]
	sql "UPDATE documents SET fields = jsonb_set(fields, '{valid_until}', to_jsonb('$(day 400)'::text)) WHERE id = '$PAST'"
	before=$(sql "SELECT count(*) FROM audit_log")
	run --separate-stderr "$PLATCTL" compliance run --dry-run -o json --fail-on high
	[ "$status" -eq 0 ]
	[ "$(field '.dry_run')" = "true" ]
	[ "$(field '.resolved')" -eq 1 ]
	[ "$(sql "SELECT status FROM findings WHERE document_id = '$PAST'")" = "open" ]
	[ "$(sql "SELECT count(*) FROM audit_log")" -eq "$before" ]
	run --separate-stderr "$PLATCTL" compliance run -o json --fail-on high
	[ "$status" -eq 0 ]
	[ "$(field '.resolved')" -eq 1 ]
	[ "$(sql "SELECT status || ' ' || resolved_by FROM findings WHERE document_id = '$PAST'")" = "resolved system" ]
}

@test "compliance run: a second run at the same time says already running and exits 0; --wait waits" {
	# Hold up the first run inside its lock: it cannot write its run row while this holds the table.
	# (6 s: what follows takes a few seconds on a loaded machine, and must happen while it holds)
	test_psql -d "$TEST_DB" -c "BEGIN; LOCK TABLE compliance_runs IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT" >/dev/null &
	holder=$!
	for _ in $(seq 100); do
		[ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE c.relname = 'compliance_runs' AND l.mode = 'AccessExclusiveLock' AND l.granted
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")" -eq 1 ] && break
		sleep 0.1
	done
	"$PLATCTL" compliance run -o json --fail-on critical >"$BATS_TEST_TMPDIR/first.json" 2>/dev/null &
	first=$!
	for _ in $(seq 50); do
		[ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" -eq 1 ] && break
		sleep 0.1
	done
	run --separate-stderr "$PLATCTL" compliance run -o json
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"already running"* ]]
	[ "$(field '.skipped')" = "true" ]
	[ "$(field '.reason')" = "already running" ]
	"$PLATCTL" compliance run -o json --wait --fail-on critical >"$BATS_TEST_TMPDIR/third.json" 2>/dev/null &
	third=$!
	sleep 1
	kill -0 "$third" # still waiting for the lock
	[ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")" -eq 1 ]
	wait "$holder"
	wait "$first"
	wait "$third"
	[ "$(jq -r .opened "$BATS_TEST_TMPDIR/first.json")" -eq 3 ]
	[ "$(jq -r .skipped "$BATS_TEST_TMPDIR/third.json")" = "false" ]
	[ "$(jq -r .opened "$BATS_TEST_TMPDIR/third.json")" -eq 0 ]
	[ "$(sql "SELECT count(*) FROM compliance_runs")" -eq 2 ]
}

@test "compliance run: a stopped database exits 7; bad rules exit 3 with positions; bad options exit 2" {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	PLATCTL_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/none" PLATCTL_DATABASE_CONNECT_TIMEOUT=1s \
		run --separate-stderr "$PLATCTL" compliance run
	[ "$status" -eq 7 ]
	printf 'rules:\n  - name: x\n    kind: expiry\n    within: soon\n' >"$BATS_TEST_TMPDIR/bad.yaml"
	run --separate-stderr "$PLATCTL" compliance run --rules "$BATS_TEST_TMPDIR/bad.yaml"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"bad.yaml:"[0-9]*":"[0-9]*": "* ]]
	[ "$(sql "SELECT count(*) FROM compliance_runs")" -eq 0 ]
	run --separate-stderr "$PLATCTL" compliance run --kind expiry,nonsense
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown rule kind 'nonsense'"* ]]
	run --separate-stderr "$PLATCTL" compliance run --only no-such-rule
	[ "$status" -eq 5 ]
	run --separate-stderr "$PLATCTL" compliance run --fail-on severe
	[ "$status" -eq 2 ]
}

@test "compliance findings: list, show, ack and resolve, audited; bad input refused" {
	"$PLATCTL" compliance run --fail-on critical >/dev/null
	run --separate-stderr "$PLATCTL" compliance findings list -o json --severity high
	[ "$status" -eq 0 ]
	[ "$(field '.findings | length')" -eq 1 ]
	[ "$(field '.findings[0].document_name')" = "past.pdf" ]
	[[ "$(field '.findings[0].message')" == "'past.pdf' expired on "*"(3 days ago)" ]]
	id=$(field '.findings[0].id')
	run --separate-stderr "$PLATCTL" compliance findings list --limit 2 -o json
	[ "$(field '.findings | length')" -eq 2 ]
	cursor=$(field '.next_cursor')
	run --separate-stderr "$PLATCTL" compliance findings list --limit 2 --cursor "$cursor" -o json
	[ "$(field '.findings | length')" -eq 1 ]
	[ "$(field '.next_cursor')" = "null" ]
	run --separate-stderr "$PLATCTL" compliance findings list --document "$SOON" -o ids
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	run --separate-stderr "$PLATCTL" compliance findings show "$id" -o json
	[ "$status" -eq 0 ]
	[ "$(field '.rule')" = "contract-expiry" ]
	[ "$(field '.details.days_left')" -eq -3 ]
	run --separate-stderr "$PLATCTL" compliance findings ack "$id" --note "renewal under way" -o json
	[ "$status" -eq 0 ]
	[ "$(field '.status')" = "open" ]
	[ "$(field '.note')" = "renewal under way" ]
	# Acknowledged is still open, and still fails the run.
	run --separate-stderr "$PLATCTL" compliance run --fail-on high
	[ "$status" -eq 1 ]
	run --separate-stderr "$PLATCTL" compliance findings resolve "$id" -o json
	[ "$status" -eq 0 ]
	[ "$(field '.status')" = "resolved" ]
	run --separate-stderr "$PLATCTL" compliance findings resolve "$id"
	[ "$status" -eq 6 ]
	[ "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE object_id = '$id'")" = "finding.ack,finding.resolve" ]
	run --separate-stderr "$PLATCTL" compliance findings show not-an-id
	[ "$status" -eq 2 ]
	run --separate-stderr "$PLATCTL" compliance findings show 00000000-0000-0000-0000-000000000000
	[ "$status" -eq 5 ]
	run --separate-stderr "$PLATCTL" compliance findings list --since yesterday
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--since"* ]]
	run --separate-stderr "$PLATCTL" compliance findings list --cursor nope
	[ "$status" -eq 2 ]
	run --separate-stderr "$PLATCTL" compliance findings list --document nope
	[ "$status" -eq 2 ]
	# The next run still sees it: reopened.
	run --separate-stderr "$PLATCTL" compliance run -o json --fail-on critical
	[ "$(field '.opened')" -eq 1 ]
}

@test "compliance report: markdown, json and csv" {
	"$PLATCTL" compliance run --fail-on critical >/dev/null
	id=$(sql "SELECT id FROM findings WHERE document_id = '$SOON' AND rule = 'contract-expiry'")
	"$PLATCTL" compliance findings resolve "$id" --note 'done, "really"' >/dev/null
	run --separate-stderr "$PLATCTL" compliance report --since 1d -o json
	[ "$status" -eq 0 ]
	[ "$(field '.runs.count')" -eq 1 ]
	[ "$(field '.opened')" -eq 3 ]
	[ "$(field '.resolved')" -eq 1 ]
	[ "$(field '.open')" -eq 2 ]
	[ "$(field '.open_by_rule | map(.rule) | sort | join(",")')" = "contract-expiry,contract-fields" ]
	run --separate-stderr "$PLATCTL" compliance report --since 1d
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "# Compliance report: default" ]
	[[ "$output" == *"## Open by rule"* ]]
	[[ "$output" == *"| rule | kind | open |"* ]]
	[[ "$output" == *"3 opened and 1 resolved in the period; 2 open now."* ]]
	run --separate-stderr "$PLATCTL" compliance report --since 1d -o markdown
	[ "${lines[0]}" = "# Compliance report: default" ]
	"$PLATCTL" compliance report --since 1d -o csv >"$BATS_TEST_TMPDIR/r.csv"
	[ "$(head -n 1 "$BATS_TEST_TMPDIR/r.csv")" = $'event,at,id,rule,severity,document_id,by,message\r' ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/r.csv")" -eq 5 ]
	# Every line ends in CRLF, and Python's csv reader agrees on the fields.
	[ "$(grep -c $'\r$' "$BATS_TEST_TMPDIR/r.csv")" -eq 5 ]
	python3 - "$BATS_TEST_TMPDIR/r.csv" <<-'EOF'
	import csv, sys
	rows = list(csv.DictReader(open(sys.argv[1], newline="")))
	assert len(rows) == 4, rows
	assert sorted(r["event"] for r in rows) == ["opened"] * 3 + ["resolved"], rows
	assert any("'past.pdf' expired on" in r["message"] for r in rows), rows
	EOF
	run --separate-stderr "$PLATCTL" compliance report
	[ "$status" -eq 2 ]
	run --separate-stderr "$PLATCTL" compliance report --since 1d --until 2d
	[ "$status" -eq 2 ]
	run --separate-stderr "$PLATCTL" compliance report --since nonsense
	[ "$status" -eq 2 ]
}

@test "compliance run: a document being processed again keeps its findings and their acknowledgement" {
	"$PLATCTL" compliance run --fail-on none >/dev/null
	id=$(sql "SELECT id FROM findings WHERE document_id = '$SOON'")
	"$PLATCTL" compliance findings ack "$id" --note "renewal under way" >/dev/null
	# A retry (or the orphans rule's requeue) puts it back in the queue; its last extracted
	# fields still stand until processing replaces them.
	sql "UPDATE documents SET status = 'queued', processed_at = now() - interval '1 day' WHERE id = '$SOON'" >/dev/null
	run --separate-stderr "$PLATCTL" compliance run --fail-on none -o json
	[ "$status" -eq 0 ]
	[ "$(field '.opened')" -eq 0 ]
	[ "$(field '.resolved')" -eq 0 ]
	[ "$(sql "SELECT status || '|' || acknowledged_by FROM findings WHERE id = '$id'")" = "open|$(id -un)" ]
	# A document never processed yet has no fields to judge: not in scope.
	NEW=$(doc new.pdf '{}')
	sql "UPDATE documents SET status = 'queued' WHERE id = '$NEW'" >/dev/null
	run --separate-stderr "$PLATCTL" compliance run --fail-on none -o json
	[ "$(sql "SELECT count(*) FROM findings WHERE document_id = '$NEW'")" -eq 0 ]
}
