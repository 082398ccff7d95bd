#!/usr/bin/env bats
# platctl migrate against a real PostgreSQL.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	isolate
	fresh_db
}

@test "up, status, verify, down and up again leave an identical schema" {
	run --separate-stderr "$PLATCTL" migrate status -o json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["version"]==0 and d["pending"]>=1, d'
	run "$PLATCTL" migrate up
	[ "$status" -eq 0 ]
	[[ "$output" == *"applied 0001_initial"* ]]
	pg_dump -h "$TEST_PG_HOST" -p "$TEST_PG_PORT" -U postgres --schema-only "$TEST_DB" >"$BATS_TEST_TMPDIR/first.sql"
	run "$PLATCTL" migrate verify
	[ "$status" -eq 0 ]
	run "$PLATCTL" migrate down --to 0
	[ "$status" -eq 0 ]
	[[ "$output" == *"reverted 0001_initial"* ]]
	[ "$(test_psql -d "$TEST_DB" -c "SELECT count(*) FROM pg_tables WHERE schemaname='public' AND tablename <> 'schema_migrations'")" = 0 ]
	run "$PLATCTL" migrate up
	[ "$status" -eq 0 ]
	pg_dump -h "$TEST_PG_HOST" -p "$TEST_PG_PORT" -U postgres --schema-only "$TEST_DB" >"$BATS_TEST_TMPDIR/second.sql"
	# pg_dump's \restrict lines carry a random key on every run
	diff <(grep -v '^\\\(un\)\?restrict ' "$BATS_TEST_TMPDIR/first.sql") \
		<(grep -v '^\\\(un\)\?restrict ' "$BATS_TEST_TMPDIR/second.sql")
	[ "$(grep -c 'CREATE TABLE' "$BATS_TEST_TMPDIR/second.sql")" -ge 11 ]
	# the default tenant exists and the principal is recorded
	[ "$(test_psql -d "$TEST_DB" -c "SELECT name FROM tenants")" = default ]
	[ "$(test_psql -d "$TEST_DB" -c "SELECT DISTINCT applied_by FROM schema_migrations")" = "$(id -un)" ]
	PLATCTL_PRINCIPAL=ci-bot "$PLATCTL" migrate down --to 0
	PLATCTL_PRINCIPAL=ci-bot "$PLATCTL" migrate up
	[ "$(test_psql -d "$TEST_DB" -c "SELECT DISTINCT applied_by FROM schema_migrations")" = ci-bot ]
}

@test "four concurrent migrate up processes apply each migration exactly once" {
	for i in 1 2 3 4; do
		"$PLATCTL" migrate up -o json >"$BATS_TEST_TMPDIR/up.$i" 2>"$BATS_TEST_TMPDIR/err.$i" &
	done
	fails=0
	for job in $(jobs -p); do wait "$job" || fails=$((fails + 1)); done
	[ "$fails" -eq 0 ] || { cat "$BATS_TEST_TMPDIR"/err.*; false; }
	total=$(cat "$BATS_TEST_TMPDIR"/up.* | python3 -c '
import json, sys
docs = sys.stdin.read().replace("}\n{", "}\x00{").split("\x00")
print(sum(len(json.loads(d)["applied"]) for d in docs))')
	latest=$("$PLATCTL" migrate status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["latest"])')
	[ "$total" -eq "$latest" ]
	[ "$(test_psql -d "$TEST_DB" -c "SELECT count(*) FROM schema_migrations")" -eq "$latest" ]
}

@test "a tampered checksum is reported by verify (exit 6) and blocks up" {
	"$PLATCTL" migrate up >/dev/null
	test_psql -d "$TEST_DB" -c "UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1"
	run --separate-stderr "$PLATCTL" migrate verify
	[ "$status" -eq 6 ]
	[[ "$stderr" == *"migration 0001_initial was changed after it was applied"* ]]
	run "$PLATCTL" migrate status
	[[ "$output" == *"modified"* ]]
	run --separate-stderr "$PLATCTL" migrate up
	[ "$status" -eq 6 ]
}

@test "unreachable server: exit 7 naming host and port, never the password" {
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	export PLATCTL_DATABASE_URL="postgresql://app:Hunter2Secret@127.0.0.1:$port/plat"
	export PLATCTL_DATABASE_CONNECT_TIMEOUT=1s
	run --separate-stderr "$PLATCTL" migrate status
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"cannot connect to PostgreSQL at 127.0.0.1:$port"* ]]
	[[ "$stderr$output" != *Hunter2Secret* ]]
	run --separate-stderr "$PLATCTL" -vv migrate up
	[ "$status" -eq 7 ]
	[[ "$stderr$output" != *Hunter2Secret* ]]
}

@test "wrong password: exit 4; missing database.url: exit 3" {
	test_psql -d postgres -c "DROP ROLE IF EXISTS bats_pw" -c "CREATE ROLE bats_pw LOGIN PASSWORD 'right-one'"
	# the test cluster trusts everyone; a password check needs scram for this role
	export PLATCTL_DATABASE_URL="postgresql://bats_pw:Wr0ngPassw0rd@127.0.0.1:$TEST_PG_PORT/$TEST_DB"
	hba=$(test_psql -d postgres -c "SHOW hba_file")
	if [ -w "$hba" ]; then
		cp "$hba" "$BATS_TEST_TMPDIR/hba.bak"
		{ echo "host all bats_pw 127.0.0.1/32 scram-sha-256"; cat "$BATS_TEST_TMPDIR/hba.bak"; } >"$hba"
		test_psql -d postgres -c "SELECT pg_reload_conf()" >/dev/null
		run --separate-stderr "$PLATCTL" migrate status
		cp "$BATS_TEST_TMPDIR/hba.bak" "$hba"
		test_psql -d postgres -c "SELECT pg_reload_conf()" >/dev/null
		[ "$status" -eq 4 ]
		[[ "$stderr" == *"password authentication failed"* ]]
		[[ "$stderr$output" != *Wr0ngPassw0rd* ]]
	fi
	unset PLATCTL_DATABASE_URL
	run --separate-stderr "$PLATCTL" migrate status
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"database.url is not set"* ]]
}

@test "--no-wait exits 7 while another migration holds the lock; without it, up waits" {
	key=$(printf '%d' 0x706c61746d696772)
	test_psql -d "$TEST_DB" -c "SELECT pg_advisory_lock($key), pg_sleep(4)" >/dev/null 3>&- &
	holder=$!
	sleep 1
	run --separate-stderr "$PLATCTL" migrate up --no-wait
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"another migration is running"* ]]
	start=$(date +%s)
	run "$PLATCTL" migrate up
	[ "$status" -eq 0 ]
	[ $(($(date +%s) - start)) -ge 1 ] # it waited for the holder
	wait "$holder"
}

@test "down: --steps, --to, and bad combinations" {
	"$PLATCTL" migrate up >/dev/null
	run --separate-stderr "$PLATCTL" migrate down --to 0 --steps 1
	[ "$status" -eq 2 ]
	run --separate-stderr "$PLATCTL" migrate down --steps 0
	[ "$status" -eq 2 ]
	run --separate-stderr "$PLATCTL" migrate up --to 9999
	[ "$status" -eq 2 ]
	run "$PLATCTL" migrate down --steps 1 -o json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["reverted"])==1 and d["version"]==d["reverted"][0]["version"]-1, d'
	"$PLATCTL" migrate down --to 0 >/dev/null # whatever number of migrations there are
	run "$PLATCTL" migrate down
	[ "$status" -eq 0 ]
	[[ "$output" == *"nothing to revert"* ]]
}
