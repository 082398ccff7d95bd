#!/usr/bin/env bats
# Three `platctl serve` instances behind nginx (tests/services/nginx.sh) on one database:
# killing an instance loses no request that a retry can recover, and an event reaches a
# client connected to another instance than the one that made the change.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
	export PLATCTL_AUTH_ARGON2_MEMORY=1024 PLATCTL_AUTH_ARGON2_ITERATIONS=1
	printf 'ada-password\n' | PLATCTL_PRINCIPAL=ada "$PLATCTL" user add ada --role admin --password-stdin >/dev/null
	TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name ci --role admin | jq -r .token)
	PIDS=() ADDRS=()
	local i
	for i in 0 1 2; do
		"$PLATCTL" -v --log-format json serve --listen 127.0.0.1:0 --threads 2 2>"$BATS_TEST_TMPDIR/serve$i.log" &
		PIDS+=($!)
	done
	for i in 0 1 2; do
		local addr=
		for _ in $(seq 100); do
			addr=$(jq -r 'select(.msg == "listening") | .address' "$BATS_TEST_TMPDIR/serve$i.log" 2>/dev/null | head -n 1)
			[ -n "$addr" ] && break
			sleep 0.1
		done
		[ -n "$addr" ]
		ADDRS+=("$addr")
	done
	eval "$("$ROOT/tests/services/nginx.sh" start --owner $$ --upstream "${ADDRS[0]}" --upstream "${ADDRS[1]}" \
		--upstream "${ADDRS[2]}")"
	LB=$TEST_NGINX_URL
}

teardown() {
	[ -n "${TEST_NGINX_DIR:-}" ] && "$ROOT/tests/services/nginx.sh" stop "$TEST_NGINX_DIR"
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# GET PATH through nginx N times; prints the status codes that were not 200.
not_ok() {
	local n=$1 path=$2 i code
	for i in $(seq "$n"); do
		code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$LB$path")
		[ "$code" = 200 ] || echo "$code"
	done
}

@test "serve behind nginx: every instance serves, and killing one loses no GET" {
	[ -z "$(not_ok 30 /v1/me)" ]
	# Round robin reached all three.
	local i
	sleep 0.3
	for i in 0 1 2; do
		grep -q '"route":"/v1/me"' "$BATS_TEST_TMPDIR/serve$i.log"
	done
	kill -9 "${PIDS[1]}"
	wait "${PIDS[1]}" 2>/dev/null || true
	# nginx tries the next instance on a refused connection: nothing is lost.
	[ -z "$(not_ok 30 /v1/me)" ]
	[ -z "$(not_ok 10 /v1/documents)" ]
}

@test "serve behind nginx: an event reaches a client of another instance" {
	local auth=(-H "Authorization: Bearer $TOKEN")
	# A client on instance 0; the change is made through instance 2.
	curl -sS -N "${auth[@]}" "http://${ADDRS[0]}/v1/events" >"$BATS_TEST_TMPDIR/direct.sse" &
	local c1=$!
	# And one through nginx, wherever it lands, and a WebSocket through nginx.
	curl -sS -N "${auth[@]}" "$LB/v1/events" >"$BATS_TEST_TMPDIR/lb.sse" &
	local c2=$!
	python3 "$ROOT/tests/services/ws_client.py" "ws://${LB#http://}/v1/ws" "$TOKEN" 1 >"$BATS_TEST_TMPDIR/lb.ws" &
	local c3=$!
	# The WebSocket subscribes from now on once it is open: make the change after that.
	for _ in $(seq 100); do
		grep -q '^open' "$BATS_TEST_TMPDIR/lb.ws" && break
		sleep 0.1
	done
	sleep 1
	printf 'an event across instances\n' >"$BATS_TEST_TMPDIR/x.txt"
	curl -sS -o /dev/null "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/x.txt" "http://${ADDRS[2]}/v1/documents?name=x.txt"
	local f
	for f in direct lb; do
		for _ in $(seq 50); do
			grep -q '^event: document.queued' "$BATS_TEST_TMPDIR/$f.sse" && break
			sleep 0.1
		done
		grep -q '^event: document.queued' "$BATS_TEST_TMPDIR/$f.sse"
	done
	wait "$c3"
	sed -n 2p "$BATS_TEST_TMPDIR/lb.ws" | jq -e '.type == "document.queued"'
	kill "$c1" "$c2"
	wait "$c1" "$c2" 2>/dev/null || true
}

@test "serve_lb: the nginx example in etc/ is a configuration nginx accepts" {
	local d="$BATS_TEST_TMPDIR/nginx-example"
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
		-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	sed "s|/etc/ssl/certs/platctl.example.com.pem|$d/cert.pem|; s|/etc/ssl/private/platctl.example.com.key|$d/key.pem|" \
		"$ROOT/etc/nginx/platctl.conf" >"$d/site.conf"
	printf 'pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n  access_log off;\n  include %s/site.conf;\n}\n' \
		"$d" "$d" "$d" >"$d/nginx.conf"
	run nginx -t -c "$d/nginx.conf" -p "$d"
	[ "$status" -eq 0 ]
	[[ $output == *"test is successful"* ]]
}
