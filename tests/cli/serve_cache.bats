#!/usr/bin/env bats
# The server's in-process cache of token lookups, tenant ids and document rows: a hit
# needs no database round trip, and a change by any writer — another instance, a command
# in direct mode, psql — is seen by the next read once the database's notification
# (migration 0014) arrives; while the listening connection is down the cache is off.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
	export PLATCTL_UPLOAD_MAX_SIZE=64KiB
	SERVER_PIDS=()
	PLATCTL_PRINCIPAL=ada "$PLATCTL" user add ada --role admin --no-password >/dev/null
	ADMIN_TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name adm --role admin | jq -r .token)
	printf 'cached words\n' >"$BATS_TEST_TMPDIR/a.txt"
	DOC=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json upload "$BATS_TEST_TMPDIR/a.txt" | jq -r '.. | .id? // empty' | head -n 1)
	AUTH=(-H "Authorization: Bearer $ADMIN_TOKEN")
}

teardown() {
	local p
	for p in "${SERVER_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# NAME [serve options]: a server on a free port, its URL in URL_NAME.
start() {
	local name=$1 log="$BATS_TEST_TMPDIR/serve-$1.log" addr=
	shift
	"$PLATCTL" -v --log-format json serve --listen 127.0.0.1:0 --threads 2 "$@" 2>"$log" &
	SERVER_PIDS+=($!)
	for _ in $(seq 100); do
		addr=$(jq -r 'select(.msg == "listening") | .address' "$log" 2>/dev/null | head -n 1)
		[ -n "$addr" ] && break
		sleep 0.1
	done
	[ -n "$addr" ]
	printf -v "URL_$name" 'http://%s' "$addr"
	# The cache serves once the listener's LISTEN is in place.
	wait_listening 1
}

# N: until N instances' listeners are connected.
wait_listening() {
	for _ in $(seq 100); do
		[ "$(test_psql -d "$TEST_DB" -c "SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'platctl serve events' AND datname = '$TEST_DB'")" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# URL KEY: the value of the cache's lookups counter for result KEY (hit, miss).
lookups() {
	curl -sS "$1/metrics" | awk -v want="platctl_cache_lookups_total{result=\"$2\"}" '$1 == want { print $2 }'
}

# URL JQ WANT: until GET of the document through URL gives WANT for JQ (at most 2 s).
until_doc() {
	local got=
	for _ in $(seq 40); do
		got=$(curl -sS "${AUTH[@]}" "$1/v1/documents/$DOC" | jq -r "$2")
		[ "$got" = "$3" ] && return 0
		sleep 0.05
	done
	echo "GET $1/v1/documents/$DOC: $2 is '$got', want '$3'" >&2
	return 1
}

@test "serve cache: a second read is a hit; changes by psql and by a command in direct mode are seen by the next reads" {
	start a
	curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" >/dev/null
	local hits0 hits1
	hits0=$(lookups "$URL_a" hit)
	curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" >"$BATS_TEST_TMPDIR/second.json"
	hits1=$(lookups "$URL_a" hit)
	# The token and the document (and the tenant) all came from the cache.
	[ "$(echo "$hits1 - $hits0 >= 2" | bc)" = 1 ]
	[ "$(jq -r .id "$BATS_TEST_TMPDIR/second.json")" = "$DOC" ]
	[ "$(jq -r '.summary // "none"' "$BATS_TEST_TMPDIR/second.json")" = none ]

	test_psql -d "$TEST_DB" -c "UPDATE documents SET summary = 'changed by psql' WHERE id = '$DOC'"
	until_doc "$URL_a" .summary 'changed by psql'

	PLATCTL_PRINCIPAL=ada "$PLATCTL" documents hold "$DOC" --reason "case 7" >/dev/null
	until_doc "$URL_a" .legal_hold true
	# Its history (audit rows) came with it.
	curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" | jq -e '[.history[].action] | index("document.hold") != null'

	PLATCTL_PRINCIPAL=ada "$PLATCTL" documents release "$DOC" >/dev/null
	PLATCTL_PRINCIPAL=ada "$PLATCTL" documents rm "$DOC" >/dev/null
	until_doc "$URL_a" .deleted true
}

@test "serve cache: a write through one instance is read back at once there, and seen by another instance" {
	start a
	start b
	wait_listening 2
	curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" >/dev/null
	curl -fsS "${AUTH[@]}" "$URL_b/v1/documents/$DOC" >/dev/null
	curl -fsS "${AUTH[@]}" "$URL_b/v1/documents/$DOC" >/dev/null
	curl -fsS "${AUTH[@]}" -H 'Content-Type: application/json' -d '{"reason":"case 9"}' \
		"$URL_a/v1/documents/$DOC/hold" >/dev/null
	# The same instance, no waiting: its own write dropped its entry.
	[ "$(curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" | jq -r .legal_hold)" = true ]
	until_doc "$URL_b" .legal_hold true
	[ "$(curl -fsS "${AUTH[@]}" "$URL_b/v1/documents/$DOC" | jq -r .hold_reason)" = "case 9" ]
}

@test "serve cache: a token revoked or a principal disabled outside the server is refused by the next requests" {
	start a
	local bob
	PLATCTL_PRINCIPAL=ada "$PLATCTL" user add bob --role viewer --service >/dev/null
	bob=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name bobs --role viewer --principal bob | jq -r .token)
	local ci
	ci=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name ci --role viewer | jq -r .token)
	for t in "$bob" "$ci" "$bob" "$ci"; do
		curl -fsS -o /dev/null -H "Authorization: Bearer $t" "$URL_a/v1/me"
	done
	PLATCTL_PRINCIPAL=ada "$PLATCTL" token revoke ci >/dev/null
	PLATCTL_PRINCIPAL=ada "$PLATCTL" user disable bob >/dev/null
	local code_ci= code_bob=
	for _ in $(seq 40); do
		code_ci=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ci" "$URL_a/v1/me")
		code_bob=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $bob" "$URL_a/v1/me")
		[ "$code_ci" = 401 ] && [ "$code_bob" = 401 ] && break
		sleep 0.05
	done
	[ "$code_ci" = 401 ]
	[ "$code_bob" = 401 ]
	# The admin's token was not touched by that.
	curl -fsS -o /dev/null "${AUTH[@]}" "$URL_a/v1/me"
}

@test "serve cache: off while its listening connection is down, coherent again once it is back" {
	start a
	curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" >/dev/null
	curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" >/dev/null
	test_psql -d "$TEST_DB" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'platctl serve events' AND datname = '$TEST_DB'" >/dev/null
	for _ in $(seq 40); do
		grep -q 'the database connection broke' "$BATS_TEST_TMPDIR/serve-a.log" && break
		sleep 0.05
	done
	grep -q 'the database connection broke' "$BATS_TEST_TMPDIR/serve-a.log"
	# Changed while nobody listens: no notification reaches the server, yet it reads the
	# change (the cache was emptied and is off).
	test_psql -d "$TEST_DB" -c "UPDATE documents SET summary = 'while deaf' WHERE id = '$DOC'"
	[ "$(curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" | jq -r .summary)" = 'while deaf' ]
	wait_listening 1
	curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" >/dev/null
	curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" >/dev/null
	test_psql -d "$TEST_DB" -c "UPDATE documents SET summary = 'heard again' WHERE id = '$DOC'"
	until_doc "$URL_a" .summary 'heard again'
}

@test "serve cache: server.cache_entries 0 turns it off; another tenant's id is never a hit" {
	PLATCTL_SERVER_CACHE_ENTRIES=0 start a
	curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" >/dev/null
	! curl -fsS "$URL_a/metrics" | grep -q platctl_cache_
	kill -TERM "${SERVER_PIDS[0]}"
	wait "${SERVER_PIDS[0]}" || true
	SERVER_PIDS=()

	start a
	PLATCTL_PRINCIPAL=ada "$PLATCTL" tenant add acme >/dev/null
	PLATCTL_TENANT=acme PLATCTL_PRINCIPAL=eve "$PLATCTL" user add eve --role admin --no-password >/dev/null
	local other
	other=$(PLATCTL_TENANT=acme PLATCTL_PRINCIPAL=eve "$PLATCTL" -o json token create --name e --role admin | jq -r .token)
	curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" >/dev/null
	curl -fsS "${AUTH[@]}" "$URL_a/v1/documents/$DOC" >/dev/null
	local code
	code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $other" "$URL_a/v1/documents/$DOC")
	[ "$code" = 404 ]
}
