#!/usr/bin/env bats
# Webhooks: subscriptions made with platctl webhook (and the REST routes), deliveries sent
# by platctl serve to the receiver of tests/services/notify.sh, which checks every
# signature as platctl-notify(7) says. Retries after 5xx with the same delivery id, a
# refusal that fails at once, attempts that run out, redelivery, deliveries that wait for a
# server that is down and survive the database dropping the deliverer's connection.
load helpers

setup_file() {
	pg_setup_file
	eval "$("$ROOT/tests/services/notify.sh" start --owner $$)"
	export TEST_NOTIFY_DIR TEST_WEBHOOK_URL
}

teardown_file() {
	"$ROOT/tests/services/notify.sh" stop "$TEST_NOTIFY_DIR"
	pg_teardown_file
}

setup() {
	pipeline_setup
	curl -fsS -X DELETE "$TEST_WEBHOOK_URL/__control/received" >/dev/null
	export PLATCTL_WEBHOOKS_BACKOFF=200ms PLATCTL_NOTIFY_WEBHOOK_TIMEOUT=2s
	SERVER_PID=
}

teardown() {
	if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID"
		wait "$SERVER_PID" || true
	fi
}

start_server() {
	"$PLATCTL" -v --log-format json serve --listen 127.0.0.1:0 --threads 2 2>>"$BATS_TEST_TMPDIR/serve.log" &
	SERVER_PID=$!
	ADDR=
	for _ in $(seq 100); do
		ADDR=$(jq -r 'select(.msg == "listening") | .address' "$BATS_TEST_TMPDIR/serve.log" 2>/dev/null | tail -n 1)
		[ -n "$ADDR" ] && break
		sleep 0.1
	done
	[ -n "$ADDR" ]
	URL="http://$ADDR"
}

stop_server() {
	kill -TERM "$SERVER_PID"
	local rc=0
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=
	[ "$rc" -eq 0 ]
	: >"$BATS_TEST_TMPDIR/serve.log"
}

# PATH EVENTS: a webhook to the receiver's PATH, its secret handed to the receiver; sets HOOK.
add_hook() {
	local secret
	secret=$("$PLATCTL" webhook add "$TEST_WEBHOOK_URL$1" --events "$2")
	[[ $secret =~ ^whsec_[0-9a-f]{64}$ ]]
	curl -fsS -X POST "$TEST_WEBHOOK_URL/__control/secret" -d "{\"path\": \"$1\", \"secret\": \"$secret\"}" >/dev/null
	HOOK=$("$PLATCTL" -o json webhook list | jq -r --arg u "$TEST_WEBHOOK_URL$1" '.[] | select(.url == $u) | .id')
	[ -n "$HOOK" ]
}

received() { curl -fsS "$TEST_WEBHOOK_URL/__control/received"; }

# ID STATUS: wait (up to 20 s) until the newest delivery of webhook ID has STATUS.
wait_delivery() {
	for _ in $(seq 200); do
		[ "$("$PLATCTL" -o json webhook deliveries "$1" --limit 1 | jq -r '.[0].status // empty')" = "$2" ] && return 0
		sleep 0.1
	done
	"$PLATCTL" -o json webhook deliveries "$1" >&2
	return 1
}

upload() { # NAME: a text document; prints its id
	printf 'webhook test %s\n' "$1" >"$BATS_TEST_TMPDIR/$1"
	"$PLATCTL" -o json upload "$BATS_TEST_TMPDIR/$1" | jq -r '.. | .id? // empty' | head -n 1
}

@test "webhook add, list, delete: bad input refused, the secret shown once, URLs without credentials" {
	run "$PLATCTL" webhook add ftp://example.com/x --events document.processed
	[ "$status" -eq 2 ]
	[[ $output == *"is not http:// or https://"* ]]
	run "$PLATCTL" webhook add http:// --events document.processed
	[ "$status" -eq 2 ]
	run "$PLATCTL" webhook add 'https://example.com/x#frag' --events document.processed
	[ "$status" -eq 2 ]
	[[ $output == *fragment* ]]
	run "$PLATCTL" webhook add https://example.com/x
	[ "$status" -eq 2 ]
	[[ $output == *"'--events' is required"* ]]
	run "$PLATCTL" webhook add https://example.com/x --events document.procesed
	[ "$status" -eq 2 ]
	[[ $output == *"unknown event 'document.procesed'"*document.processed* ]]
	run "$PLATCTL" webhook add https://example.com/x --events document.failed,
	[ "$status" -eq 2 ]
	[[ $output == *"empty event name"* ]]
	[ "$(test_psql -d "$TEST_DB" -c 'SELECT count(*) FROM webhooks')" = 0 ]

	run "$PLATCTL" -o json webhook add 'https://user:hunter2@hooks.example.com/in?token=s3cr3t' \
		--events 'document.failed, document.processed,document.failed' --description "ops channel"
	[ "$status" -eq 0 ]
	id=$(jq -r .id <<<"$output")
	secret=$(jq -r .secret <<<"$output")
	[[ $secret =~ ^whsec_[0-9a-f]{64}$ ]]
	[ "$(jq -c .events <<<"$output")" = '["document.failed","document.processed"]' ]
	[ "$(jq -r .url <<<"$output")" = https://user@hooks.example.com/in ]
	# The stored URL is the one given; listings and the audit trail carry no credentials.
	[ "$(test_psql -d "$TEST_DB" -c 'SELECT url FROM webhooks')" = 'https://user:hunter2@hooks.example.com/in?token=s3cr3t' ]
	run "$PLATCTL" -o json webhook list
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].url' <<<"$output")" = https://user@hooks.example.com/in ]
	[ "$(jq -r '.[0].pending, .[0].failed' <<<"$output" | tr '\n' ' ')" = "0 0 " ]
	[ "$(jq -r '.[0].description' <<<"$output")" = "ops channel" ]
	[[ $output != *whsec_* && $output != *hunter2* && $output != *s3cr3t* ]]
	run "$PLATCTL" webhook list
	[[ $output == *"https://user@hooks.example.com/in"* ]]
	run "$PLATCTL" -o json audit list
	[[ $output == *webhook.add* && $output != *whsec_* && $output != *hunter2* && $output != *s3cr3t* && $output != */in* ]]

	run "$PLATCTL" webhook delete not-a-uuid
	[ "$status" -eq 2 ]
	run "$PLATCTL" webhook delete 00000000-0000-4000-8000-000000000000
	[ "$status" -eq 5 ]
	run "$PLATCTL" webhook deliveries 00000000-0000-4000-8000-000000000000
	[ "$status" -eq 5 ]
	run "$PLATCTL" webhook deliveries --status sent
	[ "$status" -eq 2 ]
	run "$PLATCTL" webhook redeliver 00000000-0000-4000-8000-000000000000
	[ "$status" -eq 5 ]
	run "$PLATCTL" -o json webhook delete "$id"
	[ "$status" -eq 0 ]
	[ "$(jq -r .id <<<"$output")" = "$id" ]
	[ "$("$PLATCTL" -o json webhook list | jq length)" = 0 ]
}

@test "webhook: an event reaches the receiver signed, retried after 5xx with the same delivery id, other tenants' not" {
	"$PLATCTL" tenant add other >/dev/null
	add_hook /hook-a document.queued
	curl -fsS -X POST "$TEST_WEBHOOK_URL/__control/script" -d '[{"status": 500}, {"status": 503, "retry_after": "1"}]' >/dev/null
	start_server
	doc=$(upload a.txt)
	PLATCTL_TENANT=other upload b.txt >/dev/null
	wait_delivery "$HOOK" delivered
	got=$(received)
	[ "$(jq '[.[] | select(.path == "/hook-a")] | length' <<<"$got")" = 3 ]
	[ "$(jq '[.[] | select(.verified)] | length' <<<"$got")" = 3 ]
	[ "$(jq -r '[.[].status] | join(",")' <<<"$got")" = 500,503,200 ]
	[ "$(jq -r '[.[].headers["x-platctl-delivery"]] | unique | length' <<<"$got")" = 1 ]
	[ "$(jq -r '.[2].headers["x-platctl-event"]' <<<"$got")" = document.queued ]
	body=$(jq -r '.[2].body' <<<"$got")
	[ "$(jq -r .type <<<"$body")" = document.queued ]
	[ "$(jq -r .data.id <<<"$body")" = "$doc" ]
	[ "$(jq -r .data.name <<<"$body")" = a.txt ]
	# Retry-After: 1 made the third try wait at least a second after the second.
	d=$("$PLATCTL" -o json webhook deliveries "$HOOK")
	[ "$(jq -r '.[0].attempts, .[0].last_status, .[0].last_error, .[0].event' <<<"$d" | tr '\n' ' ')" = "3 200 null document.queued " ]
	[ "$(jq -r '.[0].headers["x-platctl-delivery"]' <<<"$got")" = "$(jq -r '.[0].id' <<<"$d")" ]
	[ "$(jq length <<<"$d")" = 1 ]
	grep -q '"msg":"webhook delivery failed; will retry"' "$BATS_TEST_TMPDIR/serve.log"
	! grep -q whsec_ "$BATS_TEST_TMPDIR/serve.log"
	[ "$("$PLATCTL" -o json webhook list | jq -r '.[0].last_status')" = delivered ]
}

@test "webhook: a refusal fails at once, attempts run out, redeliver sends the body again" {
	export PLATCTL_WEBHOOKS_ATTEMPTS=2
	add_hook /hook-r '*'
	curl -fsS -X POST "$TEST_WEBHOOK_URL/__control/script" -d '[{"status": 400}]' >/dev/null
	start_server
	upload r1.txt >/dev/null
	wait_delivery "$HOOK" failed
	d=$("$PLATCTL" -o json webhook deliveries "$HOOK" --status failed)
	[ "$(jq -r '.[0].attempts, .[0].last_status' <<<"$d" | tr '\n' ' ')" = "1 400 " ]
	[[ $(jq -r '.[0].last_error' <<<"$d") == *"HTTP 400"* ]]
	first=$(jq -r '.[0].id' <<<"$d")

	curl -fsS -X POST "$TEST_WEBHOOK_URL/__control/script" -d '[{"status": 502}, {"status": 502}]' >/dev/null
	upload r2.txt >/dev/null
	for _ in $(seq 200); do
		[ "$("$PLATCTL" -o json webhook deliveries "$HOOK" --status failed | jq length)" = 2 ] && break
		sleep 0.1
	done
	d=$("$PLATCTL" -o json webhook deliveries "$HOOK" --status failed --limit 1)
	[ "$(jq -r '.[0].attempts, .[0].last_status' <<<"$d" | tr '\n' ' ')" = "2 502 " ]
	[ "$("$PLATCTL" -o json webhook list | jq -r '.[0].failed')" = 2 ]

	run "$PLATCTL" -o json webhook redeliver "$first"
	[ "$status" -eq 0 ]
	again=$(jq -r .id <<<"$output")
	[ "$(jq -r .redelivery_of <<<"$output")" = "$first" ]
	wait_delivery "$HOOK" delivered
	got=$(received)
	# The redelivery carries the first delivery's body under its own id.
	[ "$(jq -r --arg id "$again" '[.[] | select(.headers["x-platctl-delivery"] == $id)] | length' <<<"$got")" = 1 ]
	[ "$(jq -r --arg id "$again" '.[] | select(.headers["x-platctl-delivery"] == $id) | .body' <<<"$got")" = \
		"$(jq -r --arg id "$first" '.[] | select(.headers["x-platctl-delivery"] == $id) | .body' <<<"$got")" ]
	[ "$(jq '[.[] | select(.verified | not)] | length' <<<"$got")" = 0 ]
}

@test "webhook: deliveries wait for a server that is down and survive a dropped database connection" {
	add_hook /hook-d document.queued
	upload d1.txt >/dev/null
	sleep 0.5
	[ "$("$PLATCTL" -o json webhook deliveries "$HOOK" | jq -r '.[0].status')" = pending ]
	start_server
	wait_delivery "$HOOK" delivered
	# The database drops the deliverer's connection; it reconnects and the next one arrives.
	test_psql -d "$TEST_DB" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'platctl serve webhooks'" >/dev/null
	upload d2.txt >/dev/null
	for _ in $(seq 200); do
		[ "$("$PLATCTL" -o json webhook deliveries "$HOOK" --status delivered | jq length)" = 2 ] && break
		sleep 0.1
	done
	[ "$("$PLATCTL" -o json webhook deliveries "$HOOK" --status delivered | jq length)" = 2 ]
	grep -q 'webhooks: the database connection broke' "$BATS_TEST_TMPDIR/serve.log"
	# A clean stop with nothing in flight; a delivery queued meanwhile waits for the next start.
	stop_server
	upload d3.txt >/dev/null
	[ "$("$PLATCTL" -o json webhook deliveries "$HOOK" --status pending | jq length)" = 1 ]
	start_server
	wait_delivery "$HOOK" delivered
	[ "$(received | jq '[.[] | select(.verified)] | length')" = 3 ]
}

@test "webhook routes: add, list, delete and the delivery log over the API, admins only" {
	export PLATCTL_AUTH_ARGON2_MEMORY=1024 PLATCTL_AUTH_ARGON2_ITERATIONS=1
	export PLATCTL_PRINCIPAL=ada
	printf 'pw-ada-1234\n' | "$PLATCTL" user add ada --role admin --password-stdin >/dev/null
	ADMIN=$("$PLATCTL" -o json token create --name adm --role admin | jq -r .token)
	VIEWER=$("$PLATCTL" -o json token create --name ro --role viewer | jq -r .token)
	start_server
	api() { # STATUS METHOD PATH TOKEN [curl args]
		local want=$1 method=$2 path=$3 tok=$4
		shift 4
		local code
		code=$(curl -sS -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $tok" "$@" "$URL$path")
		body=$(cat "$BATS_TEST_TMPDIR/body")
		[ "$code" = "$want" ] || { echo "$method $path: want $want, got $code: $body" >&2; return 1; }
	}
	json=(-H 'Content-Type: application/json')
	api 400 POST /v1/webhooks "$ADMIN" "${json[@]}" -d '{"url": "http://127.0.0.1/x", "events": ["nope"]}'
	[ "$(jq -r .param <<<"$body")" = events ]
	api 400 POST /v1/webhooks "$ADMIN" "${json[@]}" -d '{"url": "gopher://x", "events": ["*"]}'
	[ "$(jq -r .param <<<"$body")" = url ]
	api 400 POST /v1/webhooks "$ADMIN" "${json[@]}" -d '{"url": "http://127.0.0.1/x", "events": "document.failed"}'
	api 400 POST /v1/webhooks "$ADMIN" "${json[@]}" -d '{"url": "http://127.0.0.1/x"}'
	api 403 POST /v1/webhooks "$VIEWER" "${json[@]}" -d '{"url": "http://127.0.0.1/x", "events": ["*"]}'
	api 201 POST /v1/webhooks "$ADMIN" "${json[@]}" \
		-d "{\"url\": \"$TEST_WEBHOOK_URL/hook-api\", \"events\": [\"document.queued\"], \"description\": \"api\"}"
	id=$(jq -r .id <<<"$body")
	secret=$(jq -r .secret <<<"$body")
	[[ $secret =~ ^whsec_ ]]
	curl -fsS -X POST "$TEST_WEBHOOK_URL/__control/secret" -d "{\"path\": \"/hook-api\", \"secret\": \"$secret\"}" >/dev/null
	api 200 GET /v1/webhooks "$ADMIN"
	[ "$(jq -r '.webhooks[0].id' <<<"$body")" = "$id" ]
	[[ $body != *whsec_* ]]
	api 403 GET /v1/webhooks "$VIEWER"
	upload api.txt >/dev/null
	wait_delivery "$id" delivered
	api 200 GET "/v1/webhook-deliveries?webhook=$id" "$ADMIN"
	[ "$(jq -r '.deliveries[0].status' <<<"$body")" = delivered ]
	delivery=$(jq -r '.deliveries[0].id' <<<"$body")
	api 400 GET "/v1/webhook-deliveries?webhook=nope" "$ADMIN"
	api 400 GET "/v1/webhook-deliveries?status=sent" "$ADMIN"
	api 201 POST "/v1/webhook-deliveries/$delivery/redeliver" "$ADMIN"
	[ "$(jq -r .redelivery_of <<<"$body")" = "$delivery" ]
	api 404 POST /v1/webhook-deliveries/00000000-0000-4000-8000-000000000000/redeliver "$ADMIN"
	api 400 DELETE /v1/webhooks/nope "$ADMIN"
	api 403 DELETE "/v1/webhooks/$id" "$VIEWER"
	api 200 DELETE "/v1/webhooks/$id" "$ADMIN"
	api 404 DELETE "/v1/webhooks/$id" "$ADMIN"
	[ "$(test_psql -d "$TEST_DB" -c 'SELECT count(*) FROM webhook_deliveries')" = 0 ]
}

@test "webhook: an idle server's delivery loop waits instead of polling the database" {
	start_server
	sleep 1
	# Transactions the server's sessions committed over two quiet seconds: a loop that
	# thinks something is due makes hundreds.
	local before after
	before=$(test_psql -d "$TEST_DB" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$TEST_DB'")
	sleep 2
	after=$(test_psql -d "$TEST_DB" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$TEST_DB'")
	echo "commits in 2 s: $((after - before))"
	[ $((after - before)) -lt 20 ]
	# Nothing pending is "nothing due" (NULL), not "due now".
	[ -z "$(test_psql -d "$TEST_DB" -c "SELECT platctl_webhook_next_due()")" ]
	# And still wakes for work.
	add_hook /hook-idle document.queued
	upload idle.txt >/dev/null
	wait_delivery "$HOOK" delivered
}
