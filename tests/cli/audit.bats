#!/usr/bin/env bats
# platctl audit list and platctl audit verify, on real PostgreSQL: filters, pages, bad
# input, and a chain tampered with directly in SQL by the superuser.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

# Four audit rows in the default tenant, ids 1-4: three uploads and a deletion of the first.
setup() {
	pipeline_setup
	F="$BATS_TEST_TMPDIR/files"
	mkdir -p "$F"
	printf 'Master services agreement between Acme and Globex.\n' >"$F/contract.txt"
	printf '# Policy\n\nAll laptops are encrypted.\n' >"$F/policy.md"
	printf 'Invoice 42: 1,200 EUR.\n' >"$F/invoice.txt"
	DOC1=$("$PLATCTL" upload "$F/contract.txt" -o ids)
	"$PLATCTL" upload "$F/policy.md" "$F/invoice.txt" >/dev/null
	"$PLATCTL" documents rm "$DOC1" >/dev/null
}

sql() {
	test_psql -d "$TEST_DB" -c "$1"
}

# SQL run with the append-only trigger out of the way, as a superuser could.
tamper() {
	sql "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change; $1; ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change" >/dev/null
}

# The hash plat_audit_append computes for a row, as SQL over audit_log's columns.
CANON_HASH="sha256(coalesce(prev_hash, ''::bytea) || convert_to(concat_ws('|', tenant_id::text,
	to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), principal, action,
	coalesce(object_type, ''), coalesce(object_id, ''), coalesce(request_id, ''), details::text), 'UTF8'))"

# Run audit verify -o json; sets status, output (the JSON) and stderr.
verify_json() {
	run --separate-stderr "$PLATCTL" audit verify -o json
}

field() {
	printf '%s' "$output" | jq -r "$1"
}

@test "audit list: newest first, a stable JSON schema, pages through a cursor" {
	run --separate-stderr "$PLATCTL" audit list -o json
	[ "$status" -eq 0 ]
	[ "$(field '.entries | length')" -eq 4 ]
	[ "$(field '[.entries[].id] | join(" ")')" = "4 3 2 1" ]
	[ "$(field '.entries[0] | keys_unsorted | join(",")')" = "id,at,principal,action,object_type,object_id,request_id,details,hash,prev_hash" ]
	[ "$(field '.next_cursor')" = "null" ]
	[ "$(field '.entries[0].action')" = "document.delete" ]
	[ "$(field '.entries[3].object_id')" = "$DOC1" ]
	[ "$(field '.entries[3].details.name')" = "contract.txt" ]
	[ "$(field '.entries[3].prev_hash')" = "null" ]
	[ "$(field '.entries[2].prev_hash')" = "$(field '.entries[3].hash')" ]
	[[ "$(field '.entries[0].at')" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$ ]]
	[[ "$(field '.entries[0].hash')" =~ ^[0-9a-f]{64}$ ]]
	[ "$(field '.entries[0].principal')" = "$(sql "SELECT principal FROM audit_log WHERE id = 4")" ]
	# two pages of 3 and 1
	run --separate-stderr "$PLATCTL" audit list --limit 3 -o json
	[ "$(field '[.entries[].id] | join(" ")')" = "4 3 2" ]
	cursor=$(field '.next_cursor')
	[ "$cursor" != "null" ]
	run --separate-stderr "$PLATCTL" audit list --limit 3 --cursor "$cursor" -o json
	[ "$status" -eq 0 ]
	[ "$(field '[.entries[].id] | join(" ")')" = "1" ]
	[ "$(field '.next_cursor')" = "null" ]
	# a table for people, ids for scripts, YAML
	run --separate-stderr "$PLATCTL" audit list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "ID"*"AT"*"PRINCIPAL"*"ACTION"*"OBJECT"*"REQUEST_ID" ]]
	[[ "${lines[1]}" == "4 "*"document.delete"*"document/$DOC1"* ]]
	[ "$("$PLATCTL" audit list -o ids | tr '\n' ' ')" = "4 3 2 1 " ]
	run --separate-stderr "$PLATCTL" audit list --limit 1 -o yaml
	[[ "$output" == *"action: document.delete"* && "$output" == *"next_cursor:"* ]]
	# more rows than the page: a warning on stderr, never on stdout
	run --separate-stderr "$PLATCTL" audit list --limit 2
	[ "${#lines[@]}" -eq 3 ]
	[[ "$stderr" == *"more audit rows follow"* ]]
}

@test "audit list filters: --actor, --action (exact and prefix), --object, --since, --until" {
	sql "INSERT INTO tenants (name) VALUES ('globex')" >/dev/null # a tenant of its own, never seen
	PLATCTL_PRINCIPAL=eve "$PLATCTL" upload "$F/contract.txt" --new-version >/dev/null
	ids() { "$PLATCTL" audit list "$@" -o ids | tr '\n' ' '; }
	[ "$(ids --actor eve)" = "5 " ]
	[ "$(ids --actor nobody)" = "" ]
	[ "$(ids --action document.delete)" = "4 " ]
	[ "$(ids --action document.upload)" = "5 3 2 1 " ]
	[ "$(ids --action 'document.*')" = "5 4 3 2 1 " ]
	[ "$(ids --action 'doc*')" = "5 4 3 2 1 " ]
	[ "$(ids --action 'document.up*' --actor eve)" = "5 " ]
	[ "$(ids --action 'document')" = "" ] # exact unless it ends in '*'
	[ "$(ids --action 'nosuch.*')" = "" ]
	[ "$(ids --object "document/$DOC1")" = "4 1 " ]
	[ "$(ids --object document)" = "5 4 3 2 1 " ]
	[ "$(ids --object folder)" = "" ]
	[ "$(ids --object "document/0f8fad5b-d9cb-469f-a165-70867728950e")" = "" ]
	# times: ages, dates, RFC 3339 with offsets; since is inclusive, until exclusive
	[ "$(ids --since 1h)" = "5 4 3 2 1 " ]
	[ "$(ids --since 2999-01-01)" = "" ]
	[ "$(ids --until 2000-01-01)" = "" ]
	[ "$(ids --until 1h)" = "" ]
	[ "$(ids --since 2000-01-01T00:00:00+02:00 --until 2999-12-31)" = "5 4 3 2 1 " ]
	at3=$("$PLATCTL" audit list -o json | jq -r '.entries[] | select(.id == 3) | .at')
	[ "$(ids --since "$at3")" = "5 4 3 " ]
	[ "$(ids --until "$at3")" = "2 1 " ]
	# the same instant written with an offset (Etc/GMT-3 is UTC+3)
	local_at=$(TZ=Etc/GMT-3 date -d "${at3%.*}Z" +%Y-%m-%dT%H:%M:%S).${at3#*.}
	[ "$(ids --since "${local_at%Z}+03:00")" = "5 4 3 " ]
}

@test "audit list refuses bad input with exit 2 and names the option" {
	bad() {
		run --separate-stderr "$PLATCTL" audit list "$@"
		[ "$status" -eq 2 ] || { echo "exit $status for: $*"; false; }
		[ -z "$output" ] || { echo "stdout for: $*: $output"; false; }
	}
	bad --since yesterday-ish
	[[ "$stderr" == *"option '--since': invalid time 'yesterday-ish': expected RFC 3339"* ]]
	bad --since 2026-02-30
	bad --since 2026-13-01
	bad --since 2026-01-01T25:00:00Z
	bad --since 2026-01-01T10:00:00+2
	bad --since 2026-01-01T10:00:00+0300
	bad --since '2026-01-01T10:00:00Z junk'
	bad --since 7y
	bad --since -7d
	bad --since ''
	bad --until 2026-1-1
	[[ "$stderr" == *"option '--until': invalid time '2026-1-1'"* ]]
	bad --since 2026-06-01 --until 2026-05-01
	[[ "$stderr" == *"the time range is empty"* ]]
	bad --limit 0
	bad --limit 1001
	bad --limit many
	[[ "$stderr" == *"--limit"* ]]
	bad --cursor garbage
	[[ "$stderr" == *"option '--cursor': invalid cursor 'garbage'"* ]]
	bad --cursor -5
	bad --cursor 0
	bad --cursor 99999999999999999999
	bad --action 'doc*ment'
	[[ "$stderr" == *"option '--action'"* ]]
	bad --action ''
	bad --object ''
	bad --object /abc
	bad --object document/
	[[ "$stderr" == *"option '--object': invalid object 'document/'"* ]]
	bad --actor ''
	bad extra-argument
	# a hostile value is shown escaped, never raw
	bad --since $'\e[31mred'
	[[ "$stderr" != *$'\e[31m'* ]]
}

@test "audit verify: an intact chain exits 0 with the count verified" {
	run --separate-stderr "$PLATCTL" audit verify
	[ "$status" -eq 0 ]
	head=$(sql "SELECT encode(last_hash, 'hex') FROM audit_heads")
	[ "$output" = "ok: 4 audit rows verified, the chain ends at id 4 (hash $head)" ]
	verify_json
	[ "$status" -eq 0 ]
	[ "$(field '.ok')" = "true" ]
	[ "$(field '.verified')" -eq 4 ]
	[ "$(field '.rows')" -eq 4 ]
	[ "$(field '.first_broken')" = "null" ]
	[ "$(field '.head.last_id')" -eq 4 ]
	[ "$(field '.head.last_hash')" = "$(sql "SELECT encode(hash, 'hex') FROM audit_log WHERE id = 4")" ]
	# a tenant without rows has nothing to verify, and that is fine
	sql "INSERT INTO tenants (name) VALUES ('empty')" >/dev/null
	PLATCTL_TENANT=empty run --separate-stderr "$PLATCTL" audit verify
	[ "$status" -eq 0 ]
	[ "$output" = "ok: the audit log is empty" ]
}

@test "audit verify catches an edited row: details, principal, time, or its hash" {
	tamper "UPDATE audit_log SET details = details || '{\"size\": 1}' WHERE id = 2"
	verify_json
	[ "$status" -eq 1 ]
	[ "$(field '.ok')" = "false" ]
	[ "$(field '.first_broken.id')" -eq 2 ]
	[ "$(field '.first_broken.reason')" = "row edited" ]
	[ "$(field '.first_broken.at')" = "$("$PLATCTL" audit list -o json | jq -r '.entries[] | select(.id == 2) | .at')" ]
	[ "$(field '.verified')" -eq 1 ]
	[[ "$stderr" == *"audit chain broken at id 2 ("*"): row edited (1 rows verified before it)"* ]]
	run --separate-stderr "$PLATCTL" audit verify
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"audit chain broken at id 2"* ]]
	# each column counts, the first edited row is the one named
	for change in "principal = 'mallory'" "at = at + interval '1 microsecond'" "action = 'document.view'" \
		"object_id = 'x'" "request_id = NULL" "hash = sha256('x')"; do
		tamper "UPDATE audit_log SET $change WHERE id = 3"
		verify_json
		[ "$status" -eq 1 ] || { echo "not caught: $change"; false; }
		[ "$(field '.first_broken.id')" -eq 2 ]
	done
}

@test "audit verify catches a deleted middle row, naming the row after the gap" {
	tamper "DELETE FROM audit_log WHERE id = 2"
	verify_json
	[ "$status" -eq 1 ]
	[ "$(field '.first_broken.id')" -eq 3 ]
	[ "$(field '.first_broken.reason')" = "row missing or reordered" ]
	[ "$(field '.rows')" -eq 3 ]
	[ "$(field '.verified')" -eq 1 ]
	[[ "$stderr" == *"audit chain broken at id 3"*"row missing or reordered"* ]]
	# the first row too
	tamper "DELETE FROM audit_log WHERE id = 1"
	verify_json
	[ "$status" -eq 1 ]
	[ "$(field '.first_broken.id')" -eq 3 ]
	[ "$(field '.verified')" -eq 0 ]
}

@test "audit verify catches reordered rows" {
	# two rows swap everything but their ids, hashes included: each row is sound, the links are not
	tamper "UPDATE audit_log a SET at = b.at, principal = b.principal, action = b.action,
		object_type = b.object_type, object_id = b.object_id, request_id = b.request_id,
		details = b.details, prev_hash = b.prev_hash, hash = b.hash
		FROM audit_log b WHERE (a.id, b.id) IN ((2, 3), (3, 2))"
	verify_json
	[ "$status" -eq 1 ]
	[ "$(field '.first_broken.id')" -eq 2 ]
	[ "$(field '.first_broken.reason')" = "row missing or reordered" ]
	[ "$(field '.verified')" -eq 1 ]
}

@test "audit verify catches reordered contents that keep their hashes in place" {
	tamper "UPDATE audit_log a SET details = b.details, object_id = b.object_id
		FROM audit_log b WHERE (a.id, b.id) IN ((1, 3), (3, 1))"
	verify_json
	[ "$status" -eq 1 ]
	[ "$(field '.first_broken.id')" -eq 1 ]
	[ "$(field '.first_broken.reason')" = "row edited" ]
}

@test "audit verify catches deleted last rows against the head, also after later appends" {
	tamper "DELETE FROM audit_log WHERE id = 4"
	verify_json
	[ "$status" -eq 1 ]
	[ "$(field '.first_broken.reason')" = "chain truncated after id 3" ]
	[ "$(field '.first_broken.id')" -eq 4 ]
	[ "$(field '.first_broken.at')" = "null" ]
	[ "$(field '.verified')" -eq 3 ]
	[[ "$stderr" == *"audit chain broken at id 4: chain truncated after id 3"* ]]
	tamper "DELETE FROM audit_log WHERE id = 3"
	verify_json
	[ "$(field '.first_broken.reason')" = "chain truncated after id 2" ]
	# the next row chains onto the head, so the gap stays visible
	"$PLATCTL" upload "$F/contract.txt" --new-version >/dev/null
	verify_json
	[ "$status" -eq 1 ]
	[ "$(field '.first_broken.id')" -eq 5 ]
	[ "$(field '.first_broken.reason')" = "row missing or reordered" ]
}

@test "the head only moves forward, and a chain without its head is reported" {
	run test_psql -d "$TEST_DB" -c "DELETE FROM audit_heads"
	[ "$status" -ne 0 ]
	[[ "$output" == *"audit_heads only moves forward"* ]]
	run test_psql -d "$TEST_DB" -c "UPDATE audit_heads SET last_id = 3, rows = 3"
	[ "$status" -ne 0 ]
	sql "ALTER TABLE audit_heads DISABLE TRIGGER audit_heads_no_rewind; DELETE FROM audit_heads" >/dev/null
	verify_json
	[ "$status" -eq 1 ]
	[ "$(field '.first_broken.reason')" = "chain head missing" ]
	[ "$(field '.head')" = "null" ]
	# rows written around plat_audit_append (a forged row that chains correctly) are beyond the head
	sql "INSERT INTO audit_heads SELECT tenant_id, id, hash, 4 FROM audit_log WHERE id = 4" >/dev/null
	sql "INSERT INTO audit_log (tenant_id, at, principal, action, details, prev_hash, hash)
		SELECT tenant_id, now(), 'mallory', 'x', '{}', hash, sha256('forged') FROM audit_log WHERE id = 4" >/dev/null
	verify_json
	[ "$status" -eq 1 ]
	[ "$(field '.first_broken.id')" -eq 5 ]
	[ "$(field '.first_broken.reason')" = "row edited" ]
	tamper "UPDATE audit_log SET hash = $CANON_HASH WHERE id = 5"
	verify_json
	[ "$status" -eq 1 ]
	[ "$(field '.first_broken.id')" -eq 5 ]
	[ "$(field '.first_broken.reason')" = "row not recorded in the head" ]
	[ "$(field '.verified')" -eq 4 ]
}

@test "a rewritten chain that links up is caught by the head" {
	# edit row 4 and recompute its hash the way append does: the chain is consistent, the head is not
	tamper "UPDATE audit_log SET principal = 'mallory' WHERE id = 4"
	tamper "UPDATE audit_log SET hash = $CANON_HASH WHERE id = 4"
	verify_json
	[ "$status" -eq 1 ]
	[ "$(field '.first_broken.id')" -eq 4 ]
	[[ "$(field '.first_broken.reason')" == "chain rewritten"* ]]
}

@test "another tenant's rows are never listed nor verified" {
	sql "INSERT INTO tenants (name) VALUES ('globex')" >/dev/null
	PLATCTL_TENANT=globex "$PLATCTL" upload "$F/invoice.txt" >/dev/null
	[ "$(PLATCTL_TENANT=globex "$PLATCTL" audit list -o ids | tr '\n' ' ')" = "5 " ]
	[ "$("$PLATCTL" audit list -o ids | tr '\n' ' ')" = "4 3 2 1 " ]
	[ "$(PLATCTL_TENANT=globex "$PLATCTL" audit list --object "document/$DOC1" -o ids)" = "" ]
	[ "$(PLATCTL_TENANT=globex "$PLATCTL" audit list --cursor 5 -o ids)" = "" ]
	# each tenant has its own chain: globex's first row starts a chain, interleaved ids do not matter
	"$PLATCTL" upload "$F/contract.txt" --new-version >/dev/null
	PLATCTL_TENANT=globex run --separate-stderr "$PLATCTL" audit verify -o json
	[ "$status" -eq 0 ]
	[ "$(field '.verified')" -eq 1 ]
	[ "$(field '.head.last_id')" -eq 5 ]
	verify_json
	[ "$status" -eq 0 ]
	[ "$(field '.verified')" -eq 5 ]
	# tampering in one tenant leaves the other's chain intact
	tamper "UPDATE audit_log SET principal = 'mallory' WHERE id = 5"
	PLATCTL_TENANT=globex run --separate-stderr "$PLATCTL" audit verify
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"audit chain broken at id 5"* ]]
	run --separate-stderr "$PLATCTL" audit verify
	[ "$status" -eq 0 ]
	PLATCTL_TENANT=nosuch run --separate-stderr "$PLATCTL" audit list
	[ "$status" -eq 5 ]
}

@test "migrating up backfills the heads of the chains already there" {
	sql "INSERT INTO tenants (name) VALUES ('globex')" >/dev/null
	PLATCTL_TENANT=globex "$PLATCTL" upload "$F/invoice.txt" >/dev/null
	# Back to before migration 0006 (audit_heads), whatever came after it.
	"$PLATCTL" migrate down --to 5 >/dev/null
	[ -z "$(sql "SELECT 1 FROM pg_tables WHERE tablename = 'audit_heads'")" ]
	"$PLATCTL" migrate up >/dev/null
	[ "$(sql "SELECT string_agg(last_id || ':' || rows, ' ' ORDER BY last_id) FROM audit_heads")" = "4:4 5:1" ]
	run --separate-stderr "$PLATCTL" audit verify -o json
	[ "$status" -eq 0 ]
	[ "$(field '.verified')" -eq 4 ]
	# and appends carry on from them
	"$PLATCTL" upload "$F/contract.txt" --new-version >/dev/null
	run --separate-stderr "$PLATCTL" audit verify -o json
	[ "$status" -eq 0 ]
	[ "$(field '.verified')" -eq 5 ]
	[ "$(sql "SELECT rows FROM audit_heads WHERE last_id = 6")" -eq 5 ]
}

@test "concurrent writers keep one intact chain and a head that counts every row" {
	for p in 1 2 3; do
		make_documents "$BATS_TEST_TMPDIR/batch$p" 8
		sed -i "s/^/writer $p: /" "$BATS_TEST_TMPDIR/batch$p"/*.txt
	done
	pids=()
	for p in 1 2 3; do
		"$PLATCTL" upload -r "$BATS_TEST_TMPDIR/batch$p" -j 3 >/dev/null &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid"; done
	verify_json
	[ "$status" -eq 0 ]
	[ "$(field '.verified')" -eq 28 ]
	[ "$(sql "SELECT rows FROM audit_heads")" -eq 28 ]
	[ "$(field '.head.last_id')" -eq "$(sql "SELECT max(id) FROM audit_log")" ]
}
