#!/usr/bin/env bats
# platctl serve against a live server on a free port, with the real PostgreSQL and the file
# store: status codes and bodies of every route, tokens (missing, forged, role), request
# ids, the protections (bad JSON, content type, body size) and the drain on SIGTERM.
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
	EDITOR_TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name ci --role editor | jq -r .token)
	VIEWER_TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name ro --role viewer | jq -r .token)
	printf 'hello server world\n' >"$BATS_TEST_TMPDIR/a.txt"
	DOC=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json upload "$BATS_TEST_TMPDIR/a.txt" | jq -r '.. | .id? // empty' | head -n 1)
	"$PLATCTL" -v --log-format json serve --listen 127.0.0.1:0 --threads 2 --max-body 4096 \
		2>"$BATS_TEST_TMPDIR/serve.log" &
	SERVER_PID=$!
	for _ in $(seq 100); do
		ADDR=$(jq -r 'select(.msg == "listening") | .address' "$BATS_TEST_TMPDIR/serve.log" 2>/dev/null | head -n 1)
		[ -n "$ADDR" ] && break
		sleep 0.1
	done
	[ -n "$ADDR" ]
	URL="http://$ADDR"
}

teardown() {
	if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID"
		wait "$SERVER_PID" || true
	fi
}

# STATUS METHOD PATH [curl args...]: the body lands in $body, the headers in $headers.
req() {
	local want=$1 method=$2 path=$3
	shift 3
	local code
	code=$(curl -sS -o "$BATS_TEST_TMPDIR/body" -D "$BATS_TEST_TMPDIR/headers" -w '%{http_code}' -X "$method" "$@" "$URL$path")
	body=$(cat "$BATS_TEST_TMPDIR/body")
	headers=$(cat "$BATS_TEST_TMPDIR/headers")
	if [ "$code" != "$want" ]; then
		echo "$method $path: want $want, got $code: $body" >&2
		return 1
	fi
}

# The body against the response schema /openapi.json documents for METHOD PATTERN STATUS.
check_schema() {
	curl -sS "$URL/openapi.json" >"$BATS_TEST_TMPDIR/openapi.json"
	python3 - "$BATS_TEST_TMPDIR/openapi.json" "$1" "$2" "$3" "$BATS_TEST_TMPDIR/body" <<'PY'
import json, sys
api = json.load(open(sys.argv[1])); method, pattern, status = sys.argv[2].lower(), sys.argv[3], sys.argv[4]
resp = api["paths"][pattern][method]["responses"]
r = resp.get(status) or resp["default"]
content = r["content"]
schema = (content.get("application/json") or content["application/problem+json"])["schema"]
if "$ref" in schema:
    schema = api["components"]["schemas"][schema["$ref"].split("/")[-1]]
body = json.load(open(sys.argv[5]))
types = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int, "null": type(None)}
def check(s, v, where):
    t = s.get("type")
    if t:
        ts = t if isinstance(t, list) else [t]
        assert any(isinstance(v, types[x]) and not (x == "integer" and isinstance(v, bool)) for x in ts), (where, t, v)
    if "const" in s:
        assert v == s["const"], (where, v)
    for k in s.get("required", []):
        assert k in v, (where, "missing", k)
    for k, sub in s.get("properties", {}).items():
        if isinstance(v, dict) and k in v:
            check(sub, v[k], where + "." + k)
    if "items" in s and isinstance(v, list):
        for i, x in enumerate(v):
            check(s["items"], x, "%s[%d]" % (where, i))
check(schema, body, "$")
PY
}

@test "serve: public routes answer without a token, with security headers" {
	req 200 GET /healthz
	check_schema GET /healthz 200
	grep -qi '^x-content-type-options: nosniff' <<<"$headers"
	grep -qi '^cache-control: no-store' <<<"$headers"
	req 200 GET /readyz
	check_schema GET /readyz 200
	req 200 GET /openapi.json
	[ "$(jq -r .openapi <<<"$body")" = 3.1.0 ]
	[ "$(jq -r '.paths | keys | length' <<<"$body")" -ge 8 ]
	req 200 GET /metrics
	grep -q '^platctl_http_requests_total{method="GET",route="/healthz",status="200"} 1' <<<"$body"
	grep -q '^platctl_http_in_flight' <<<"$body"
}

@test "serve: a missing, forged or unknown token is 401 on every /v1 route" {
	local routes=("GET /v1/me" "GET /v1/documents" "GET /v1/documents/$DOC" "DELETE /v1/documents/$DOC"
		"POST /v1/documents/$DOC/retry")
	for r in "${routes[@]}"; do
		set -- $r
		req 401 "$1" "$2"
		[ "$(jq -r .status <<<"$body")" = 401 ]
		grep -qi '^www-authenticate: bearer' <<<"$headers"
		req 401 "$1" "$2" -H 'Authorization: Bearer plat_forged_0000000000000000000000000000'
		[ "$(jq -r .detail <<<"$body")" = "invalid token" ]
		req 401 "$1" "$2" -H "Authorization: Bearer ${EDITOR_TOKEN%?}x"
	done
	req 401 POST /v1/search -H 'Content-Type: application/json' -d '{"query":"x"}'
	check_schema POST /v1/search 401
	# The token never reaches the log.
	! grep -q "$EDITOR_TOKEN" "$BATS_TEST_TMPDIR/serve.log"
}

@test "serve: /v1/me and the documents routes, with the command's JSON" {
	local auth=(-H "Authorization: Bearer $EDITOR_TOKEN")
	req 200 GET /v1/me "${auth[@]}"
	check_schema GET /v1/me 200
	[ "$(jq -r .role <<<"$body")" = editor ]
	[ "$(jq -r .tenant <<<"$body")" = default ]
	req 200 GET '/v1/documents?limit=10' "${auth[@]}"
	check_schema GET /v1/documents 200
	[ "$(jq -r '.documents[0].id' <<<"$body")" = "$DOC" ]
	diff <(jq -S .documents <<<"$body") <(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json documents list | jq -S .documents)
	req 400 GET '/v1/documents?limit=0' "${auth[@]}"
	[ "$(jq -r .param <<<"$body")" = limit ]
	req 200 GET "/v1/documents/$DOC" "${auth[@]}"
	check_schema GET /v1/documents/{id} 200
	local etag
	etag=$(grep -i '^etag:' <<<"$headers" | cut -d' ' -f2 | tr -d '\r')
	[ -n "$etag" ]
	req 304 GET "/v1/documents/$DOC" "${auth[@]}" -H "If-None-Match: $etag"
	req 400 GET /v1/documents/not-a-uuid "${auth[@]}"
	check_schema GET /v1/documents/{id} 400
	req 404 GET /v1/documents/00000000-0000-0000-0000-000000000000 "${auth[@]}"
	req 409 POST "/v1/documents/$DOC/retry" "${auth[@]}" || req 200 POST "/v1/documents/$DOC/retry" "${auth[@]}"
	req 200 POST /v1/search "${auth[@]}" -H 'Content-Type: application/json' -d '{"query":"server","k":3}'
	check_schema POST /v1/search 200
	# A viewer reads but may not delete.
	req 403 DELETE "/v1/documents/$DOC" -H "Authorization: Bearer $VIEWER_TOKEN"
	grep -q 'editor or admin' <<<"$body"
	req 200 DELETE "/v1/documents/$DOC" "${auth[@]}"
	check_schema DELETE /v1/documents/{id} 200
	[ "$(jq -r .deleted <<<"$body")" = true ]
	cp "$BATS_TEST_TMPDIR/headers" "$BATS_TEST_TMPDIR/del.headers"
	req 200 GET "/v1/documents/$DOC" "${auth[@]}"
	[ "$(jq -r .status <<<"$body")" = deleted ]
	# The audit row carries the HTTP request's id.
	[ "$(jq -r '.history[-1].request_id' <<<"$body")" = "$(grep -i "^x-request-id:" "$BATS_TEST_TMPDIR/del.headers" | cut -d" " -f2 | tr -d "\r")" ]
}

@test "serve: unknown routes, methods, bad bodies and request ids" {
	local auth=(-H "Authorization: Bearer $EDITOR_TOKEN")
	req 404 GET /nope
	[ "$(jq -r .type <<<"$body")" = urn:platctl:error:not_found ]
	req 405 PUT /v1/documents
	grep -qi '^allow: GET, HEAD' <<<"$headers"
	req 415 POST /v1/search "${auth[@]}" -H 'Content-Type: text/plain' -d '{"query":"x"}'
	req 400 POST /v1/search "${auth[@]}" -H 'Content-Type: application/json' -d '{"query":'
	req 400 POST /v1/search "${auth[@]}" -H 'Content-Type: application/json' -d '{"k":3}'
	[ "$(jq -r .param <<<"$body")" = query ]
	head -c 10000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
	req 413 POST /v1/search "${auth[@]}" -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/big"
	req 413 POST /v1/search "${auth[@]}" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
		--data-binary @"$BATS_TEST_TMPDIR/big"
	req 200 GET /healthz -H 'X-Request-ID: my-req.42'
	grep -qi '^x-request-id: my-req.42' <<<"$headers"
	req 400 GET /healthz -H 'X-Request-ID: bad id!'
	[ "$(jq -r .status <<<"$body")" = 400 ]
	req 200 GET /healthz -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
	grep -qi '^traceparent: 00-4bf92f' <<<"$headers"
	# One log line per request, with the route pattern and the request id (written once the
	# reply went out, so after curl returned).
	sleep 0.5
	jq -c 'select(.msg == "request" and .request_id == "my-req.42" and .route == "/healthz" and .status == "200")' \
		"$BATS_TEST_TMPDIR/serve.log" | grep -q .
}

@test "serve: SIGTERM lets a slow request finish, then exits 0" {
	local auth=(-H "Authorization: Bearer $EDITOR_TOKEN")
	printf '{"query":"server","pad":"%s"}' "$(head -c 3000 /dev/zero | tr '\0' a)" >"$BATS_TEST_TMPDIR/slow"
	curl -sS -o "$BATS_TEST_TMPDIR/slow.out" -w '%{http_code}' --limit-rate 1k "${auth[@]}" \
		-H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/slow" "$URL/v1/search" \
		>"$BATS_TEST_TMPDIR/slow.code" &
	local curl_pid=$!
	sleep 1
	kill -TERM "$SERVER_PID"
	wait "$curl_pid"
	[ "$(cat "$BATS_TEST_TMPDIR/slow.code")" = 200 ]
	run wait "$SERVER_PID"
	[ "$status" -eq 0 ]
	SERVER_PID=
}
