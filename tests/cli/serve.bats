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
	export PLATCTL_AUTH_ARGON2_MEMORY=1024 PLATCTL_AUTH_ARGON2_ITERATIONS=1 PLATCTL_UPLOAD_MAX_SIZE=64KiB
	export PLATCTL_SERVER_DOCS_DIR="$ROOT/build/docs"
	ADMIN_TOKEN=
	# The key that signs local accounts' access tokens.
	mkdir -p "$BATS_TEST_TMPDIR/keys"
	openssl genpkey -algorithm ed25519 -out "$BATS_TEST_TMPDIR/keys/2026-12.pem" 2>/dev/null
	chmod 600 "$BATS_TEST_TMPDIR/keys/2026-12.pem"
	export PLATCTL_AUTH_KEYS="$BATS_TEST_TMPDIR/keys"
	printf 'ada-password\n' | PLATCTL_PRINCIPAL=ada "$PLATCTL" user add ada --role admin --password-stdin >/dev/null
	EDITOR_TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name ci --role editor | jq -r .token)
	VIEWER_TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name ro --role viewer | jq -r .token)
	ADMIN_TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name adm --role admin | jq -r .token)
	printf 'hello server world\n' >"$BATS_TEST_TMPDIR/a.txt"
	DOC=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json upload "$BATS_TEST_TMPDIR/a.txt" | jq -r '.. | .id? // empty' | head -n 1)
	start_server
}

# A server on a free port (its log in serve.log), in SERVER_PID, ADDR and URL (https:// with
# --tls-cert); more serve options as arguments.
start_server() { serve_start "$BATS_TEST_TMPDIR/serve.log" --max-body 4096 "$@"; }

stop_server() {
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" || true
	SERVER_PID=
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
types = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int, "number": (int, float),
         "null": type(None)}
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
	local routes=("GET /v1/me" "GET /v1/documents" "POST /v1/documents?name=x" "GET /v1/documents/$DOC"
		"GET /v1/documents/$DOC/content" "DELETE /v1/documents/$DOC" "POST /v1/documents/$DOC/retry"
		"POST /v1/documents/$DOC/hold" "POST /v1/documents/$DOC/release" "POST /v1/ask" "GET /v1/findings"
		"POST /v1/findings/$DOC/ack" "POST /v1/findings/$DOC/resolve" "GET /v1/audit" "GET /v1/audit/verify"
		"GET /v1/tokens" "POST /v1/tokens" "DELETE /v1/tokens/$DOC" "GET /v1/users" "POST /v1/users"
		"POST /v1/users/ada/disable" "POST /v1/users/ada/enable" "GET /v1/events" "GET /v1/ws" "GET /v1/webhooks"
		"POST /v1/webhooks" "DELETE /v1/webhooks/$DOC" "GET /v1/webhook-deliveries"
		"POST /v1/webhook-deliveries/$DOC/redeliver")
	# The editor's token with its last character changed (to one it does not end with).
	local forged="${EDITOR_TOKEN%?}x"
	[ "$forged" != "$EDITOR_TOKEN" ] || forged="${EDITOR_TOKEN%?}y"
	for r in "${routes[@]}"; do
		set -- $r
		req 401 "$1" "$2"
		[ "$(jq -r .status <<<"$body")" = 401 ]
		grep -qi '^www-authenticate: bearer' <<<"$headers"
		req 401 "$1" "$2" -H 'Authorization: Bearer plat_forged_0000000000000000000000000000'
		[ "$(jq -r .detail <<<"$body")" = "invalid token" ]
		req 401 "$1" "$2" -H "Authorization: Bearer $forged"
	done
	req 401 POST /v1/search -H 'Content-Type: application/json' -d '{"query":"x"}'
	check_schema POST /v1/search 401
	# The list above is every route the API description says needs a token.
	local covered declared
	covered=$(printf '%s\n' "${routes[@]}" "POST /v1/search" | sed -E "s/$DOC/{id}/; s/\?.*//; s#/users/ada/#/users/{name}/#" | sort)
	declared=$(curl -sS "$URL/openapi.json" | jq -r '.paths | to_entries[] | .key as $p | .value | to_entries[] |
		select(.value["x-permission"]) | "\(.key | ascii_upcase) \($p)"' | sort)
	[ "$covered" = "$declared" ]
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
	grep -qi '^allow: .*GET, HEAD' <<<"$headers"
	grep -qi '^allow: .*POST' <<<"$headers"
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

# The ids of the live documents, as the database has them.
live_docs() {
	test_psql -d "$TEST_DB" -c "SELECT count(*) FROM documents WHERE deleted_at IS NULL"
}

@test "serve: POST /v1/documents stores the body as upload does; content comes back verified, with ranges" {
	local auth=(-H "Authorization: Bearer $EDITOR_TOKEN")
	printf 'first line of b\nsecond line\n' >"$BATS_TEST_TMPDIR/b.txt"
	req 201 POST '/v1/documents?name=b.txt&title=Bee&tag=team=ops&tag=tier=1' "${auth[@]}" \
		-H 'Content-Type: application/octet-stream' --data-binary @"$BATS_TEST_TMPDIR/b.txt"
	check_schema POST /v1/documents 201
	local id
	id=$(jq -r .id <<<"$body")
	[ "$(jq -r .outcome <<<"$body")" = created ]
	[ "$(jq -r .title <<<"$body")" = Bee ]
	[ "$(jq -c .tags <<<"$body")" = '{"team":"ops","tier":"1"}' ]
	grep -qi "^location: /v1/documents/$id" <<<"$headers"
	# The same bytes again: nothing new, 200.
	req 200 POST '/v1/documents?name=b.txt' "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/b.txt"
	[ "$(jq -r .outcome <<<"$body")" = unchanged ]
	[ "$(jq -r .id <<<"$body")" = "$id" ]
	# The command sees what the API stored.
	PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json documents show "$id" | jq -e '.name == "b.txt"'

	req 200 GET "/v1/documents/$id/content" "${auth[@]}"
	cmp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_TMPDIR/b.txt"
	grep -qi '^content-type: text/plain' <<<"$headers"
	grep -qi "^etag: \"$(sha256sum "$BATS_TEST_TMPDIR/b.txt" | cut -d' ' -f1)\"" <<<"$headers"
	grep -qi "^content-disposition: attachment; filename\*=UTF-8''b.txt" <<<"$headers"
	req 206 GET "/v1/documents/$id/content" "${auth[@]}" -H 'Range: bytes=6-9'
	[ "$body" = line ]
	grep -qi '^content-range: bytes 6-9/28' <<<"$headers"
	req 206 GET "/v1/documents/$id/content" "${auth[@]}" -H 'Range: bytes=-5'
	[ "$body" = "line" ] # the last five bytes are "line\n"
	req 416 GET "/v1/documents/$id/content" "${auth[@]}" -H 'Range: bytes=500-'
	grep -qi '^content-range: bytes \*/28' <<<"$headers"
	[ "$(jq -r .status <<<"$body")" = 416 ]
	# A corrupted object is an error, never a wrong body.
	local key
	key=$(test_psql -d "$TEST_DB" -c "SELECT storage_key FROM documents WHERE id = '$id'")
	printf 'tampered line of b\nsecond line\n' >"$BATS_TEST_TMPDIR/tampered"
	"$PLATCTL" storage put "$BATS_TEST_TMPDIR/tampered" "$key" >/dev/null
	req 500 GET "/v1/documents/$id/content" "${auth[@]}"
	[[ "$(jq -r .detail <<<"$body")" == *"corrupt"* ]]
	! grep -q tampered "$BATS_TEST_TMPDIR/body"
	req 404 GET /v1/documents/00000000-0000-0000-0000-000000000000/content "${auth[@]}"
}

@test "serve: bad uploads: no name, bad names, too large, empty, a viewer, a client gone mid-body" {
	local auth=(-H "Authorization: Bearer $EDITOR_TOKEN")
	local before
	before=$(live_docs)
	printf 'x\n' >"$BATS_TEST_TMPDIR/x.txt"
	req 400 POST /v1/documents "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/x.txt"
	[ "$(jq -r .param <<<"$body")" = name ]
	req 422 POST '/v1/documents?name=../../etc/passwd' "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/x.txt" ||
		[ "$(jq -r .status <<<"$body")" = 400 ]
	req 400 POST '/v1/documents?name=a.txt&new_version=maybe' "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/x.txt"
	[ "$(jq -r .param <<<"$body")" = new_version ]
	: >"$BATS_TEST_TMPDIR/empty.txt"
	req 422 POST '/v1/documents?name=empty.txt' "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/empty.txt"
	head -c 70000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big.txt"
	req 413 POST '/v1/documents?name=big.txt' "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/big.txt"
	req 413 POST '/v1/documents?name=big.txt' "${auth[@]}" -H 'Transfer-Encoding: chunked' \
		--data-binary @"$BATS_TEST_TMPDIR/big.txt"
	# A viewer is refused before the body is read.
	req 403 POST '/v1/documents?name=x.txt' -H "Authorization: Bearer $VIEWER_TOKEN" --data-binary @"$BATS_TEST_TMPDIR/x.txt"
	req 401 POST '/v1/documents?name=x.txt' --data-binary @"$BATS_TEST_TMPDIR/x.txt"
	# A client that goes away half-way leaves no row and no object.
	head -c 60000 /dev/zero | tr '\0' b >"$BATS_TEST_TMPDIR/half.txt"
	local objects_before
	objects_before=$(find "$BATS_TEST_TMPDIR/store" -type f | wc -l)
	curl -sS -o /dev/null --limit-rate 8k "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/half.txt" \
		"$URL/v1/documents?name=half.txt" &
	local cpid=$!
	sleep 1.5
	kill "$cpid"
	wait "$cpid" || true
	sleep 0.5
	[ "$(live_docs)" = "$before" ]
	[ "$(find "$BATS_TEST_TMPDIR/store" -type f | wc -l)" = "$objects_before" ]
	# The server is fine afterwards.
	req 201 POST '/v1/documents?name=after.txt' "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/x.txt"
}

@test "serve: hold and release, ask, and the viewer's limits" {
	local auth=(-H "Authorization: Bearer $ADMIN_TOKEN") json=(-H 'Content-Type: application/json')
	req 400 POST "/v1/documents/$DOC/hold" "${auth[@]}" "${json[@]}" -d '{}'
	[ "$(jq -r .param <<<"$body")" = reason ]
	req 400 POST "/v1/documents/$DOC/hold" "${auth[@]}" "${json[@]}" -d '{"reason": 7}'
	[ "$(jq -r .param <<<"$body")" = reason ]
	req 403 POST "/v1/documents/$DOC/hold" -H "Authorization: Bearer $EDITOR_TOKEN" "${json[@]}" -d '{"reason":"x"}'
	req 200 POST "/v1/documents/$DOC/hold" "${auth[@]}" "${json[@]}" -d '{"reason":"case 42"}'
	check_schema POST /v1/documents/{id}/hold 200
	[ "$(jq -r .legal_hold <<<"$body")" = true ]
	req 409 POST "/v1/documents/$DOC/hold" "${auth[@]}" "${json[@]}" -d '{"reason":"again"}'
	# A held document cannot be deleted.
	req 409 DELETE "/v1/documents/$DOC" "${auth[@]}"
	req 200 POST "/v1/documents/$DOC/release" "${auth[@]}"
	[ "$(jq -r .legal_hold <<<"$body")" = false ]
	req 409 POST "/v1/documents/$DOC/release" "${auth[@]}"

	PLATCTL_PRINCIPAL=ada "$PLATCTL" consume --once >/dev/null 2>&1 || true
	req 200 POST /v1/ask -H "Authorization: Bearer $VIEWER_TOKEN" "${json[@]}" -d '{"question":"what does the server say hello to?"}'
	check_schema POST /v1/ask 200
	jq -e '.refused | type == "boolean"' <<<"$body"
	req 400 POST /v1/ask -H "Authorization: Bearer $VIEWER_TOKEN" "${json[@]}" -d '{"question":""}'
	[ "$(jq -r .param <<<"$body")" = question ]
	req 400 POST /v1/ask -H "Authorization: Bearer $VIEWER_TOKEN" "${json[@]}" -d '{"question":"x","min_support":2}'
	[ "$(jq -r .param <<<"$body")" = min_support ]
	req 400 POST /v1/search -H "Authorization: Bearer $VIEWER_TOKEN" "${json[@]}" -d '{"query":"x","k":2.5}'
	[ "$(jq -r .param <<<"$body")" = k ]
	req 422 POST /v1/search -H "Authorization: Bearer $VIEWER_TOKEN" "${json[@]}" -d '{"query":"x","tag":"=v"}'
	[ "$(jq -r .param <<<"$body")" = tag ]
}

@test "serve: tokens, users, the audit log and findings over the API" {
	local auth=(-H "Authorization: Bearer $ADMIN_TOKEN") json=(-H 'Content-Type: application/json')
	req 201 POST /v1/tokens "${auth[@]}" "${json[@]}" -d '{"name":"api-made","role":"viewer","expires":"1d"}'
	check_schema POST /v1/tokens 201
	local tid tok
	tid=$(jq -r .id <<<"$body")
	tok=$(jq -r .token <<<"$body")
	req 200 GET /v1/me -H "Authorization: Bearer $tok"
	[ "$(jq -r .role <<<"$body")" = viewer ]
	req 200 GET /v1/tokens "${auth[@]}"
	check_schema GET /v1/tokens 200
	jq -e --arg id "$tid" '.tokens | map(select(.id == $id)) | length == 1' <<<"$body"
	! grep -q "$tok" "$BATS_TEST_TMPDIR/body"
	req 400 POST /v1/tokens "${auth[@]}" "${json[@]}" -d '{"name":"x","role":"viewer","expires":"soon"}'
	[ "$(jq -r .param <<<"$body")" = expires ]
	req 400 POST /v1/tokens "${auth[@]}" "${json[@]}" -d '{"role":"viewer"}'
	req 403 POST /v1/tokens -H "Authorization: Bearer $EDITOR_TOKEN" "${json[@]}" -d '{"name":"x","role":"admin"}'
	req 200 DELETE "/v1/tokens/$tid" "${auth[@]}"
	[ "$(jq -r .status <<<"$body")" = revoked ]
	req 401 GET /v1/me -H "Authorization: Bearer $tok"
	req 400 DELETE /v1/tokens/nope "${auth[@]}"

	req 201 POST /v1/users "${auth[@]}" "${json[@]}" -d '{"name":"bob","role":"editor","password":"bob-secret-pw"}'
	check_schema POST /v1/users 201
	[ "$(jq -r .kind <<<"$body")" = user ]
	req 409 POST /v1/users "${auth[@]}" "${json[@]}" -d '{"name":"bob","role":"editor"}'
	req 400 POST /v1/users "${auth[@]}" "${json[@]}" -d '{"name":"svc","role":"editor","kind":"robot"}'
	[ "$(jq -r .param <<<"$body")" = kind ]
	req 200 GET /v1/users "${auth[@]}"
	check_schema GET /v1/users 200
	jq -e '.users | map(.name) | index("bob") != null' <<<"$body"
	req 200 POST /v1/users/bob/disable "${auth[@]}"
	[ "$(jq -r .disabled <<<"$body")" = true ]
	req 200 POST /v1/users/bob/enable "${auth[@]}"
	req 404 POST /v1/users/nobody/disable "${auth[@]}"
	! grep -q bob-secret-pw "$BATS_TEST_TMPDIR/serve.log"

	req 200 GET '/v1/audit?action=principal.*&limit=5' "${auth[@]}"
	check_schema GET /v1/audit 200
	jq -e '.entries | map(.action) | index("principal.disable") != null' <<<"$body"
	req 400 GET '/v1/audit?since=yesterday-ish' "${auth[@]}"
	[ "$(jq -r .param <<<"$body")" = since ]
	req 200 GET /v1/audit/verify "${auth[@]}"
	check_schema GET /v1/audit/verify 200
	[ "$(jq -r .ok <<<"$body")" = true ]
	req 403 GET /v1/audit -H "Authorization: Bearer $EDITOR_TOKEN"

	# A finding to work with: a contract without the field a rule requires.
	mkdir -p "$BATS_TEST_TMPDIR/rules"
	printf 'rules:\n  - name: contract-fields\n    kind: required_fields\n    severity: low\n    classes: [contract]\n    fields: [parties]\n' \
		>"$BATS_TEST_TMPDIR/rules/10.yaml"
	test_psql -d "$TEST_DB" -c "UPDATE documents SET class = 'contract', status = 'processed' WHERE id = '$DOC'" >/dev/null
	PLATCTL_COMPLIANCE_RULES="$BATS_TEST_TMPDIR/rules" "$PLATCTL" compliance run >/dev/null
	req 200 GET '/v1/findings?status=open' "${auth[@]}"
	check_schema GET /v1/findings 200
	local fid
	fid=$(jq -r '.findings[0].id' <<<"$body")
	[ "$(jq -r '.findings[0].rule' <<<"$body")" = contract-fields ]
	req 400 GET '/v1/findings?severity=huge' "${auth[@]}"
	[ "$(jq -r .param <<<"$body")" = severity ]
	req 200 POST "/v1/findings/$fid/ack" "${auth[@]}" "${json[@]}" -d '{"note":"on it"}'
	[ -n "$(jq -r .acknowledged_at <<<"$body")" ]
	req 200 POST "/v1/findings/$fid/resolve" "${auth[@]}"
	[ "$(jq -r .status <<<"$body")" = resolved ]
	req 409 POST "/v1/findings/$fid/resolve" "${auth[@]}"
	req 404 POST /v1/findings/00000000-0000-0000-0000-000000000000/ack "${auth[@]}"
	req 400 POST /v1/findings/x/ack "${auth[@]}"
}

# POST /v1/auth/token with a JSON body; the response in $body.
grant() {
	req "$1" POST /v1/auth/token -H 'Content-Type: application/json' -d "$2"
}

@test "serve: local accounts: password and refresh grants, rotation, reuse, logout, a disabled user" {
	grant 200 '{"grant_type":"password","username":"ada","password":"ada-password"}'
	check_schema POST /v1/auth/token 200
	local access refresh
	access=$(jq -r .access_token <<<"$body")
	refresh=$(jq -r .refresh_token <<<"$body")
	[ "$(jq -r .token_type <<<"$body")" = Bearer ]
	[ "$(jq -r .role <<<"$body")" = admin ]
	[ "$(jq -r .expires_in <<<"$body")" = 900 ]
	grep -qi '^cache-control: no-store' <<<"$headers"
	req 200 GET /v1/me -H "Authorization: Bearer $access"
	[ "$(jq -r .principal <<<"$body")" = ada ]
	[ "$(jq -r .token <<<"$body")" = access_token ]
	[ "$(jq -r .role <<<"$body")" = admin ]
	req 200 GET /v1/documents -H "Authorization: Bearer $access"

	# Wrong password and unknown user: the same answer.
	grant 401 '{"grant_type":"password","username":"ada","password":"wrong-password"}'
	[ "$(jq -r .detail <<<"$body")" = "invalid credentials" ]
	grant 401 '{"grant_type":"password","username":"nobody","password":"ada-password"}'
	[ "$(jq -r .detail <<<"$body")" = "invalid credentials" ]
	grant 400 '{"username":"ada","password":"ada-password"}'
	[ "$(jq -r .param <<<"$body")" = grant_type ]
	grant 400 '{"grant_type":"client_credentials"}'
	grant 404 '{"grant_type":"password","username":"ada","password":"ada-password","tenant":"nope"}'

	# A tampered access token is refused.
	req 401 GET /v1/me -H "Authorization: Bearer ${access%??}xx"

	# Refresh rotates; presenting the used token again revokes the whole family.
	grant 200 "{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$refresh\"}"
	local refresh2
	refresh2=$(jq -r .refresh_token <<<"$body")
	[ "$refresh2" != "$refresh" ]
	req 200 GET /v1/me -H "Authorization: Bearer $(jq -r .access_token <<<"$body")"
	grant 401 "{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$refresh\"}"
	grant 401 "{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$refresh2\"}"
	grant 401 '{"grant_type":"refresh_token","refresh_token":"platr_junk"}'

	# Logout revokes the refresh token.
	grant 200 '{"grant_type":"password","username":"ada","password":"ada-password"}'
	local refresh3
	refresh3=$(jq -r .refresh_token <<<"$body")
	req 200 POST /v1/auth/revoke -H 'Content-Type: application/json' -d "{\"token\":\"$refresh3\"}"
	check_schema POST /v1/auth/revoke 200
	grant 401 "{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$refresh3\"}"

	# Disabling a user stops its access token at once, not when it expires.
	printf 'bob-password\n' | PLATCTL_PRINCIPAL=ada "$PLATCTL" user add bob --role editor --password-stdin >/dev/null
	grant 200 '{"grant_type":"password","username":"bob","password":"bob-password"}'
	local bob
	bob=$(jq -r .access_token <<<"$body")
	req 200 GET /v1/me -H "Authorization: Bearer $bob"
	[ "$(jq -r .role <<<"$body")" = editor ]
	req 403 POST "/v1/documents/$DOC/hold" -H "Authorization: Bearer $bob" -H 'Content-Type: application/json' -d '{"reason":"x"}'
	PLATCTL_PRINCIPAL=ada "$PLATCTL" user disable bob >/dev/null
	req 401 GET /v1/me -H "Authorization: Bearer $bob"
	grant 401 '{"grant_type":"password","username":"bob","password":"bob-password"}'

	# Logins are audited; no password, access or refresh token reaches the log.
	PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json audit list --action 'auth.*' | jq -e '.entries | map(.action) | index("auth.login") != null and index("auth.refresh") != null and index("auth.login_failed") != null'
	! grep -q -e ada-password -e bob-password -e "$refresh" -e "$access" "$BATS_TEST_TMPDIR/serve.log"
}

# The ids and event names a client of GET /v1/events has got so far.
events_seen() {
	grep -E '^(id|event):' "$1" | paste - - | sed 's/^id: //; s/\tevent: / /'
}

# Wait until file $1 has a line matching $2 (5 s at most).
wait_for() {
	for _ in $(seq 50); do
		grep -q -- "$2" "$1" && return 0
		sleep 0.1
	done
	echo "no '$2' in $1:" >&2
	cat "$1" >&2
	return 1
}

@test "serve: GET /v1/events streams status changes and resumes after Last-Event-ID without a gap" {
	local auth=(-H "Authorization: Bearer $EDITOR_TOKEN")
	req 400 GET '/v1/events?after=x' "${auth[@]}"
	[ "$(jq -r .param <<<"$body")" = after ]
	req 401 GET /v1/events
	curl -sS -N "${auth[@]}" -D "$BATS_TEST_TMPDIR/ev.headers" "$URL/v1/events" >"$BATS_TEST_TMPDIR/ev1" &
	local c1=$!
	wait_for "$BATS_TEST_TMPDIR/ev1" '^retry: 2000'
	grep -qi '^content-type: text/event-stream' "$BATS_TEST_TMPDIR/ev.headers"
	printf 'an event document\n' >"$BATS_TEST_TMPDIR/e.txt"
	req 201 POST '/v1/documents?name=e.txt' "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/e.txt"
	local id
	id=$(jq -r .id <<<"$body")
	wait_for "$BATS_TEST_TMPDIR/ev1" '^event: document.queued'
	grep "^data: " "$BATS_TEST_TMPDIR/ev1" | tail -n 1 | cut -c7- | jq -e --arg id "$id" '.data.id == $id and .type == "document.queued"'
	req 200 GET /metrics
	grep -q '^platctl_http_event_streams 1' <<<"$body"
	local last
	last=$(grep '^id: ' "$BATS_TEST_TMPDIR/ev1" | tail -n 1 | cut -d' ' -f2)
	kill "$c1"
	wait "$c1" || true

	# While nobody listens: a delete and another upload.
	req 200 DELETE "/v1/documents/$id" "${auth[@]}"
	printf 'another\n' >"$BATS_TEST_TMPDIR/f.txt"
	req 201 POST '/v1/documents?name=f.txt' "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/f.txt"
	curl -sS -N "${auth[@]}" -H "Last-Event-ID: $last" "$URL/v1/events" >"$BATS_TEST_TMPDIR/ev2" &
	local c2=$!
	wait_for "$BATS_TEST_TMPDIR/ev2" '^event: document.queued'
	# Exactly what happened after $last, in order, nothing twice.
	events_seen "$BATS_TEST_TMPDIR/ev2" | awk '{print $2}' | tr '\n' ' ' | grep -qx 'document.deleted document.queued '
	events_seen "$BATS_TEST_TMPDIR/ev2" | awk -v last="$last" '$1 <= last { exit 1 }'
	# A live change still arrives on the resumed stream.
	req 200 POST "/v1/documents/$DOC/hold" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -d '{"reason":"x"}'
	PLATCTL_PRINCIPAL=ada "$PLATCTL" documents release "$DOC" >/dev/null
	test_psql -d "$TEST_DB" -c "UPDATE documents SET status = 'failed' WHERE id = '$DOC'" >/dev/null
	wait_for "$BATS_TEST_TMPDIR/ev2" '^event: document.failed'

	# SIGTERM ends the open stream and the server still exits 0.
	kill -TERM "$SERVER_PID"
	wait "$c2" || true
	local rc=0
	wait "$SERVER_PID" || rc=$?
	[ "$rc" -eq 0 ] || { echo "exit $rc"; tail -n 30 "$BATS_TEST_TMPDIR/serve.log"; false; }
	SERVER_PID=
}

@test "serve: POST /v1/ask streams its answer as Server-Sent Events when asked" {
	local auth=(-H "Authorization: Bearer $VIEWER_TOKEN") json=(-H 'Content-Type: application/json')
	printf 'The staging gateway rotates its certificates every ninety days.\nOperators renew the gateway certificates with the renew job.\n' \
		>"$BATS_TEST_TMPDIR/gw.txt"
	PLATCTL_PRINCIPAL=ada "$PLATCTL" upload "$BATS_TEST_TMPDIR/gw.txt" >/dev/null
	PLATCTL_PRINCIPAL=ada "$PLATCTL" consume --once >/dev/null 2>&1 || true
	PLATCTL_PRINCIPAL=ada "$PLATCTL" consume --once >/dev/null 2>&1 || true
	curl -sS -N "${auth[@]}" "${json[@]}" -H 'Accept: text/event-stream' -D "$BATS_TEST_TMPDIR/ask.headers" \
		-d '{"question":"how often does the staging gateway rotate its certificates?"}' "$URL/v1/ask" >"$BATS_TEST_TMPDIR/ask.sse"
	grep -qi '^content-type: text/event-stream' "$BATS_TEST_TMPDIR/ask.headers"
	# Token events, then one answer event with the same JSON as the plain response.
	[ "$(grep -c '^event: answer' "$BATS_TEST_TMPDIR/ask.sse")" = 1 ]
	[ "$(grep '^event:' "$BATS_TEST_TMPDIR/ask.sse" | tail -n 1)" = "event: answer" ]
	local answer
	answer=$(grep -A1 '^event: answer' "$BATS_TEST_TMPDIR/ask.sse" | sed -n 's/^data: //p')
	jq -e '.refused == false and (.sources | length) >= 1' <<<"$answer"
	local streamed
	streamed=$(grep -A1 '^event: token' "$BATS_TEST_TMPDIR/ask.sse" | sed -n 's/^data: //p' | jq -j .text)
	[ "$streamed" = "$(jq -j .answer <<<"$answer")" ]
	# A bad request is still a plain 400, not an event.
	req 400 POST /v1/ask "${auth[@]}" "${json[@]}" -H 'Accept: text/event-stream' -d '{"question":""}'
	[ "$(jq -r .param <<<"$body")" = question ]
}

@test "serve: a principal over server.rate_limit gets 429 with Retry-After; CORS for allowed origins only" {
	stop_server
	PLATCTL_SERVER_RATE_LIMIT=1 PLATCTL_SERVER_RATE_BURST=3 PLATCTL_SERVER_CORS_ORIGINS='https://app.example.com, https://b.example' \
		start_server
	local auth=(-H "Authorization: Bearer $EDITOR_TOKEN")
	# Eight at once on one connection: the burst of three passes, then 429s.
	local codes
	codes=$(curl -sS -w '%{http_code}\n' "${auth[@]}" $(for _ in $(seq 8); do echo "-o /dev/null $URL/v1/me"; done))
	[ "$(head -n 3 <<<"$codes" | sort -u)" = 200 ]
	[ "$(grep -c 429 <<<"$codes")" -ge 3 ]
	curl -sS -D "$BATS_TEST_TMPDIR/h429" "${auth[@]}" $(for _ in 1 2 3; do echo "-o /dev/null $URL/v1/me"; done)
	grep -qi '^retry-after: 1' "$BATS_TEST_TMPDIR/h429"
	# Another principal has its own bucket; the public probes have none.
	req 200 GET /v1/me -H "Authorization: Bearer $ADMIN_TOKEN"
	for _ in 1 2 3 4 5; do req 200 GET /healthz; done
	sleep 1.1
	req 200 GET /v1/me "${auth[@]}"

	# CORS: an allowed origin gets its headers (on errors too), another none.
	req 200 GET /healthz -H 'Origin: https://b.example'
	grep -qi '^access-control-allow-origin: https://b.example' <<<"$headers"
	grep -qi '^vary: origin' <<<"$headers"
	req 401 GET /v1/me -H 'Origin: https://app.example.com'
	grep -qi '^access-control-allow-origin: https://app.example.com' <<<"$headers"
	req 200 GET /healthz -H 'Origin: https://evil.example'
	! grep -qi '^access-control-allow-origin' <<<"$headers"
	req 204 OPTIONS /v1/documents -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: POST'
	grep -qi '^access-control-allow-methods: .*POST' <<<"$headers"
	grep -qi '^access-control-allow-headers: .*Authorization' <<<"$headers"
	req 403 OPTIONS /v1/documents -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'
}

@test "serve: HTTPS with --tls-cert and --tls-key; a missing, exposed, foreign or non-PEM key is refused at start" {
	stop_server
	local d="$BATS_TEST_TMPDIR/tls"
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out "$d/other.pem" 2>/dev/null
	chmod 600 "$d/key.pem" "$d/other.pem"
	cp "$d/key.pem" "$d/exposed.pem"
	chmod 644 "$d/exposed.pem"
	printf 'not a key\n' >"$d/junk.pem"
	chmod 600 "$d/junk.pem"
	run "$PLATCTL" serve --listen 127.0.0.1:0 --tls-cert "$d/cert.pem"
	[ "$status" -eq 2 ]
	[[ $output == *"'--tls-cert' and '--tls-key' go together"* ]]
	run "$PLATCTL" serve --listen 127.0.0.1:0 --tls-cert "$d/missing.pem" --tls-key "$d/key.pem"
	[ "$status" -eq 3 ]
	[[ $output == *"cannot read the TLS certificate"*missing.pem* ]]
	run "$PLATCTL" serve --listen 127.0.0.1:0 --tls-cert "$d/cert.pem" --tls-key "$d/exposed.pem"
	[ "$status" -eq 3 ]
	[[ $output == *"readable by everyone"* ]]
	run "$PLATCTL" serve --listen 127.0.0.1:0 --tls-cert "$d/cert.pem" --tls-key "$d/junk.pem"
	[ "$status" -eq 3 ]
	[[ $output == *"not PEM"* ]]
	run "$PLATCTL" serve --listen 127.0.0.1:0 --tls-cert "$d/cert.pem" --tls-key "$d/other.pem"
	[ "$status" -eq 3 ]
	[[ $output == *"do not match"* ]]
	[[ $output != *"BEGIN"* ]]

	start_server --tls-cert "$d/cert.pem" --tls-key "$d/key.pem"
	local url=$URL
	[[ $url == https://127.0.0.1:* ]]
	[ "$(curl -sS --cacert "$d/cert.pem" -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ]
	[ "$(curl -sS --cacert "$d/cert.pem" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $VIEWER_TOKEN" \
		"$url/v1/documents/$DOC")" = 200 ]
	# A certificate the client does not trust, and plain HTTP on the TLS port, get nothing.
	run curl -sS --max-time 5 "$url/healthz"
	[ "$status" -ne 0 ]
	run curl -sS --max-time 5 "http://${url#https://}/healthz"
	[[ $status -ne 0 || $output != *ok* ]]
	[ "$(curl -sS --cacert "$d/cert.pem" -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ]
}

@test "serve: hostile clients: 10,000 headers, 10,000 idle connections, a stalled request; memory stays bounded" {
	stop_server
	ulimit -n 20000
	start_server --timeout 2 --max-connections 1024
	req 200 GET /healthz
	run python3 - "${ADDR%:*}" "${ADDR##*:}" "$VIEWER_TOKEN" "$SERVER_PID" <<'PY'
import socket, sys, time
host, port, token, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def rss_kib():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def exchange(data, wait=10):
    s = socket.create_connection((host, port), timeout=wait)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return out

before = rss_kib()
# 10,000 headers (about 200 KiB): refused with a 4xx or the connection closed, never served.
hdrs = b"".join(b"X-H-%d: %d\r\n" % (i, i) for i in range(10000))
out = exchange(b"GET /v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() +
               b"\r\n" + hdrs + b"\r\n")
assert out == b"" or out.split(b" ")[1][:1] == b"4", out[:200]
print("10,000 headers:", out.split(b"\r\n")[0].decode() or "closed")

# A request that stops halfway through its headers is cut after --timeout (2 s).
s = socket.create_connection((host, port))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
t0 = time.time()
s.settimeout(15)
while s.recv(4096):
    pass
took = time.time() - t0
s.close()
assert 1.5 <= took <= 8, took
print("stalled request cut after %.1f s" % took)

# 10,000 connections that send nothing: beyond --max-connections they are closed at once.
idle = []
for i in range(10000):
    try:
        idle.append(socket.create_connection((host, port), timeout=5))
    except OSError as e:
        print("connect %d: %s" % (i, e))
        break
assert len(idle) >= 5000, len(idle)
time.sleep(0.5)
held = rss_kib()
print("RSS %d KiB before, %d KiB holding %d idle connections" % (before, held, len(idle)))
assert held < before + 64 * 1024, (before, held)
for s in idle:
    s.close()
PY
	echo "$output" >&3
	[ "$status" -eq 0 ]
	# Still serving, and nothing crashed.
	sleep 0.5
	req 200 GET /healthz
	req 200 GET "/v1/documents/$DOC" -H "Authorization: Bearer $VIEWER_TOKEN"
	kill -0 "$SERVER_PID"
}

@test "serve: GET /v1/ws carries the same feed as a WebSocket, resumes with ?after=, and closes with 1001 on SIGTERM" {
	local ws="ws://${URL#http://}/v1/ws" auth=(-H "Authorization: Bearer $EDITOR_TOKEN")
	local client="$ROOT/tests/services/ws_client.py"
	# Refusals: no token, a plain GET, a wrong version, a bad key, a bad resume id.
	run python3 "$client" "$ws" nope 1 5
	[ "$status" -eq 2 ]
	[[ $output == "HTTP/1.1 401"* ]]
	req 426 GET /v1/ws "${auth[@]}"
	grep -qi '^upgrade: websocket' <<<"$headers"
	grep -qi '^sec-websocket-version: 13' <<<"$headers"
	req 400 GET /v1/ws "${auth[@]}" -H 'Upgrade: websocket' -H 'Connection: Upgrade' -H 'Sec-WebSocket-Version: 8' \
		-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='
	[ "$(jq -r .param <<<"$body")" = Sec-WebSocket-Version ]
	req 400 GET /v1/ws "${auth[@]}" -H 'Upgrade: websocket' -H 'Connection: keep-alive, Upgrade' \
		-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: short'
	[ "$(jq -r .param <<<"$body")" = Sec-WebSocket-Key ]
	run python3 "$client" "$ws?after=-1" "$EDITOR_TOKEN" 1 5
	[ "$status" -eq 2 ]
	[[ $output == "HTTP/1.1 400"* ]]

	# A status change reaches a connected client as one text message.
	python3 "$client" "$ws" "$EDITOR_TOKEN" 1 >"$BATS_TEST_TMPDIR/ws1" &
	local c1=$!
	wait_for "$BATS_TEST_TMPDIR/ws1" '^open'
	printf 'a websocket event\n' >"$BATS_TEST_TMPDIR/w.txt"
	req 201 POST '/v1/documents?name=w.txt' "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/w.txt"
	local id
	id=$(jq -r .id <<<"$body")
	wait "$c1"
	sed -n 2p "$BATS_TEST_TMPDIR/ws1" | jq -e --arg id "$id" '.type == "document.queued" and .data.id == $id'
	local last
	last=$(sed -n 2p "$BATS_TEST_TMPDIR/ws1" | jq -r .id)

	# Disconnected meanwhile: a delete and another upload; ?after= gets both, in order, once.
	req 200 DELETE "/v1/documents/$id" "${auth[@]}"
	printf 'another websocket event\n' >"$BATS_TEST_TMPDIR/w2.txt"
	req 201 POST '/v1/documents?name=w2.txt' "${auth[@]}" --data-binary @"$BATS_TEST_TMPDIR/w2.txt"
	python3 "$client" "$ws?after=$last" "$EDITOR_TOKEN" 3 >"$BATS_TEST_TMPDIR/ws2" &
	local c2=$!
	wait_for "$BATS_TEST_TMPDIR/ws2" '^{'
	sleep 0.5
	[ "$(tail -n +2 "$BATS_TEST_TMPDIR/ws2" | jq -r .type | tr '\n' ' ')" = "document.deleted document.queued " ]
	tail -n +2 "$BATS_TEST_TMPDIR/ws2" | jq -r .id | awk -v last="$last" '$1 <= last { exit 1 }'
	req 200 GET /metrics
	grep -q '^platctl_http_event_streams 1' <<<"$body"

	# SIGTERM: the client gets close 1001 (it resumes elsewhere) and the server exits 0.
	kill -TERM "$SERVER_PID"
	local rc=0
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=
	[ "$rc" -eq 0 ] || { echo "exit $rc"; tail -n 30 "$BATS_TEST_TMPDIR/serve.log"; false; }
	wait "$c2" || true
	grep -qx 'close 1001' "$BATS_TEST_TMPDIR/ws2"
}

@test "serve: /docs is Swagger UI from this server (no CDN), only its own files, a strict CSP" {
	req 200 GET /docs
	grep -qi '^content-type: text/html' <<<"$headers"
	grep -qi "^content-security-policy: default-src 'none'; script-src 'self';" <<<"$headers"
	grep -qi '^cache-control: public' <<<"$headers"
	[[ $body == *'src="/docs/swagger-ui-bundle.js"'* && $body != *'https://'* ]]
	req 200 GET /docs/init.js
	[[ $body == *'url: "/openapi.json"'* ]]
	req 200 GET /docs/swagger-ui-bundle.js
	grep -qi '^content-type: text/javascript' <<<"$headers"
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/body")" -gt 100000 ]
	req 200 GET /docs/swagger-ui.css
	grep -qi '^content-type: text/css' <<<"$headers"
	# Nothing else is served from there, whatever the path says.
	req 404 GET /docs/swagger-ui.css.map
	req 404 GET /docs/LICENSE.swagger-ui
	req 404 GET /docs/../../etc/passwd --path-as-is
	req 404 GET /docs/%2e%2e%2f%2e%2e%2fetc%2fpasswd
	req 404 GET /docs/index.html/x
	# Without the files, /docs says where it looked.
	stop_server
	PLATCTL_SERVER_DOCS_DIR="$BATS_TEST_TMPDIR/none" start_server
	req 404 GET /docs
	[[ $(jq -r .detail <<<"$body") == *"not installed in '$BATS_TEST_TMPDIR/none' (server.docs_dir)"* ]]
}
