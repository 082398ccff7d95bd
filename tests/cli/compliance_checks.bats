#!/usr/bin/env bats
# The rule kinds integrity, orphans and pii end to end: platctl upload, consume and
# compliance run against PostgreSQL and S3 (s3rver behind the SigV4-checking, fault-injecting
# proxy of tests/services/s3.sh).
load helpers

setup_file() {
	pg_setup_file
	s3_setup_file
}

teardown_file() {
	s3_teardown_file
	pg_teardown_file
}

setup() {
	isolate
	fresh_db
	"$PLATCTL" migrate up >/dev/null
	export PLATCTL_STORAGE_URL="s3://$TEST_S3_BUCKET/c$BATS_TEST_NUMBER-$$"
	export PLATCTL_STORAGE_S3_ENDPOINT="$TEST_S3_ENDPOINT" PLATCTL_STORAGE_S3_PATH_STYLE=true
	export PLATCTL_STORAGE_S3_REGION=us-east-1 PLATCTL_STORAGE_S3_MAX_RETRIES=2 PLATCTL_STORAGE_S3_TIMEOUT=5s
	faults_clear
	RULES="$BATS_TEST_TMPDIR/rules"
	mkdir -p "$RULES"
	cat >"$RULES/checks.yaml" <<'EOF'
rules:
- name: objects
  kind: integrity
  severity: critical
- name: orphans
  kind: orphans
  severity: high
  processing_timeout: 30m
- name: no-pii
  kind: pii
  severity: medium
  classes: [marketing]
EOF
	F="$BATS_TEST_TMPDIR/files"
	mkdir -p "$F"
	printf 'Spring flyer. Questions to j.doe@example.com or +49 30 1234567.\n' >"$F/flyer.txt"
	printf 'Quarterly figures: order no. 0042-1234-5678 of 2026-11-15, EUR 1.234,56.\n' >"$F/figures.txt"
	printf 'A third document that will be corrupted in the store.\n' >"$F/third.txt"
}

teardown() {
	faults_clear
}

faults() { # JSON
	curl -fsS -X POST -H 'Content-Type: application/json' --data "$1" "$TEST_S3_ENDPOINT/__control/faults" >/dev/null
}

faults_clear() {
	[ -n "${TEST_S3_ENDPOINT:-}" ] && curl -fsS -X DELETE "$TEST_S3_ENDPOINT/__control/faults" >/dev/null || true
}

# A value of the run summary (-o json) in $output.
summary() {
	printf '%s' "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {"d": d}))' "$1"
}

key_of() {
	test_psql -d "$TEST_DB" -c "SELECT storage_key FROM documents WHERE name = '$1'"
}

upload_all() {
	for f in flyer figures third; do
		"$PLATCTL" upload "$F/$f.txt" >/dev/null
	done
	"$PLATCTL" consume --once >/dev/null 2>&1
	test_psql -d "$TEST_DB" -c "UPDATE documents SET class = 'marketing'"
}

@test "compliance run catches a flipped byte, a deleted and a stray object, a stuck document and PII over S3" {
	upload_all
	run --separate-stderr "$PLATCTL" compliance run --rules "$RULES" -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# Only the flyer holds personal data; every object is sound.
	[ "$(summary 'd["opened"]')" = 1 ]
	[ "$(summary '[r["checked"] for r in d["rules"]]')" = "[3, 6, 3]" ]
	run "$PLATCTL" compliance findings list -o json
	[[ "$output" == *"'flyer.txt' holds 1 e-mail address and 1 phone number"* ]]
	[[ "$output" != *"j.doe@"* && "$output" != *"1234567"* ]]
	[[ "$output" == *'j***@example.com'* ]]

	third=$(key_of third.txt)
	figures=$(key_of figures.txt)
	# A byte flipped in place, an object deleted, an object nobody uploaded.
	"$PLATCTL" storage get "$third" "$BATS_TEST_TMPDIR/third"
	printf 'a' | dd of="$BATS_TEST_TMPDIR/third" bs=1 seek=0 conv=notrunc status=none
	"$PLATCTL" storage put "$BATS_TEST_TMPDIR/third" "$third" >/dev/null
	"$PLATCTL" storage rm "$figures"
	printf 'stray' >"$BATS_TEST_TMPDIR/stray"
	stray="default/$(sha256sum "$BATS_TEST_TMPDIR/stray" | cut -d' ' -f1)"
	"$PLATCTL" storage put "$BATS_TEST_TMPDIR/stray" "$stray" >/dev/null
	# And a document whose worker died.
	test_psql -d "$TEST_DB" -c "UPDATE documents SET status = 'processing', updated_at = now() - interval '2 hours' WHERE name = 'flyer.txt'"

	run --separate-stderr "$PLATCTL" compliance run --rules "$RULES" -o json
	[ "$status" -eq 1 ] # critical and high findings are open (--fail-on high)
	# integrity: corrupt + missing; orphans: missing + stray + stuck (requeued); the flyer is
	# being processed again, judged on what it held, so its PII finding stands.
	[ "$(summary '[(r["name"], r["opened"], r["resolved"], r["open"]) for r in d["rules"]]')" = \
	  "[('objects', 2, 0, 2), ('orphans', 3, 0, 3), ('no-pii', 0, 0, 1)]" ]
	run "$PLATCTL" compliance findings list --status open -o json
	[[ "$output" == *"object '$third' of 'third.txt' does not match its sha256"* ]]
	[[ "$output" == *"object '$figures' of 'figures.txt' is missing from the store"* ]]
	[[ "$output" == *"'figures.txt' has no object in the store"* ]]
	[[ "$output" == *"object '$stray' in the store belongs to no document"* ]]
	[[ "$output" == *"'flyer.txt' was stuck in processing since"*"; requeued"* ]]
	[ "$(test_psql -d "$TEST_DB" -c "SELECT status FROM documents WHERE name = 'flyer.txt'")" = queued ]
	[ "$(test_psql -d "$TEST_DB" -c "SELECT principal FROM audit_log WHERE action = 'document.requeued'")" = system ]

	# A rerun once it is processed again: the stuck finding resolves, and the PII finding,
	# never resolved meanwhile, is not opened a second time.
	"$PLATCTL" consume --once >/dev/null 2>&1
	test_psql -d "$TEST_DB" -c "UPDATE documents SET class = 'marketing'"
	run --separate-stderr "$PLATCTL" compliance run --rules "$RULES" -o json
	[ "$status" -eq 1 ]
	[ "$(summary '[(r["name"], r["opened"], r["resolved"]) for r in d["rules"]]')" = \
	  "[('objects', 0, 0), ('orphans', 0, 1), ('no-pii', 0, 0)]" ]
	run --separate-stderr "$PLATCTL" compliance run --rules "$RULES" -o json
	[ "$(summary '(d["opened"], d["resolved"])')" = "(0, 0)" ]
}

@test "S3 failing during integrity fails the run with exit 7 and reports nothing" {
	upload_all
	run --separate-stderr "$PLATCTL" compliance run --rules "$RULES" --only objects -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	faults '{"mode": "status", "status": 500, "method": "GET", "count": -1}'
	run --separate-stderr "$PLATCTL" compliance run --rules "$RULES" --only objects -o json
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"HTTP 500"* ]]
	faults_clear
	# Nothing was recorded as missing or corrupt.
	[ "$(test_psql -d "$TEST_DB" -c "SELECT count(*) FROM findings WHERE rule = 'objects'")" = 0 ]
	run --separate-stderr "$PLATCTL" compliance run --rules "$RULES" --only objects -o json
	[ "$status" -eq 0 ]
	[ "$(summary '(d["opened"], d["open"])')" = "(0, 0)" ]
	# The connection reset on listing fails orphans the same way.
	faults '{"mode": "reset", "method": "GET", "count": -1}'
	run --separate-stderr "$PLATCTL" compliance run --rules "$RULES" --only orphans -o json
	[ "$status" -eq 7 ]
	[ "$(test_psql -d "$TEST_DB" -c "SELECT count(*) FROM findings WHERE rule = 'orphans'")" = 0 ]
}
