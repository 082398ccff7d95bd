#!/usr/bin/env bats
# platctl serve on S3 storage (s3rver behind the SigV4-checking proxy): uploads through
# the API land in the bucket, and GET /v1/documents/{id}/content either streams the
# verified bytes or, with server.content_redirect, answers 302 to a presigned URL that
# the proxy accepts for its lifetime only.
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
	export PLATCTL_STORAGE_URL="s3://$TEST_S3_BUCKET/serve$BATS_TEST_NUMBER-$$"
	export PLATCTL_STORAGE_S3_ENDPOINT="$TEST_S3_ENDPOINT" PLATCTL_STORAGE_S3_PATH_STYLE=true
	export PLATCTL_STORAGE_S3_REGION=us-east-1 PLATCTL_STORAGE_S3_MAX_RETRIES=2 PLATCTL_STORAGE_S3_TIMEOUT=5s
	PLATCTL_PRINCIPAL=ada "$PLATCTL" user add ada --role admin --no-password >/dev/null
	TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name adm --role admin | jq -r .token)
	AUTH=(-H "Authorization: Bearer $TOKEN")
	SERVER_PID=
	head -c 150000 /dev/urandom | base64 >"$BATS_TEST_TMPDIR/blob.txt"
}

teardown() {
	serve_stop
}

start_server() { serve_start "$BATS_TEST_TMPDIR/serve.log"; }

upload() {
	curl -fsS "${AUTH[@]}" -H 'Content-Type: application/octet-stream' --data-binary "@$BATS_TEST_TMPDIR/blob.txt" \
		"$URL/v1/documents?name=blob.txt" | jq -r .id
}

@test "serve on S3: content streams verified by default; with server.content_redirect, 302 to a presigned URL" {
	start_server
	local id
	id=$(upload)
	[ -n "$id" ]
	# By default the bytes come through the server.
	curl -fsS "${AUTH[@]}" -o "$BATS_TEST_TMPDIR/streamed" "$URL/v1/documents/$id/content"
	cmp "$BATS_TEST_TMPDIR/streamed" "$BATS_TEST_TMPDIR/blob.txt"
	serve_stop

	PLATCTL_SERVER_CONTENT_REDIRECT=2s start_server
	local code
	code=$(curl -sS "${AUTH[@]}" -o "$BATS_TEST_TMPDIR/moved.json" -D "$BATS_TEST_TMPDIR/headers" -w '%{http_code}' \
		"$URL/v1/documents/$id/content")
	[ "$code" = 302 ] || { echo "got $code: $(cat "$BATS_TEST_TMPDIR/moved.json")" >&2; false; }
	local location
	location=$(tr -d '\r' <"$BATS_TEST_TMPDIR/headers" | awk 'tolower($1) == "location:" { print $2 }')
	[[ "$location" == "$TEST_S3_ENDPOINT/"* ]]
	[[ "$location" == *X-Amz-Signature=* ]] || { echo "location: $location" >&2; cat "$BATS_TEST_TMPDIR/headers" >&2; false; }
	[ "$(jq -r .url "$BATS_TEST_TMPDIR/moved.json")" = "$location" ]
	[ "$(jq -r .sha256 "$BATS_TEST_TMPDIR/moved.json")" = "$(sha256sum "$BATS_TEST_TMPDIR/blob.txt" | cut -d' ' -f1)" ]
	jq -e '.expires_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' "$BATS_TEST_TMPDIR/moved.json"
	# The URL is a secret of the response: not in the server's log.
	! grep -qF "X-Amz-Signature" "$BATS_TEST_TMPDIR/serve.log"
	# Followed, it gives the bytes, without the bearer token (S3 would refuse two kinds of auth).
	curl -fsS -o "$BATS_TEST_TMPDIR/direct" "$location"
	cmp "$BATS_TEST_TMPDIR/direct" "$BATS_TEST_TMPDIR/blob.txt"
	# S3 does ranges itself.
	curl -fsS -r 10-19 -o "$BATS_TEST_TMPDIR/part" "$location"
	[ "$(wc -c <"$BATS_TEST_TMPDIR/part")" = 10 ]
	# redirect=false streams through the server as before.
	curl -fsS "${AUTH[@]}" -o "$BATS_TEST_TMPDIR/streamed2" "$URL/v1/documents/$id/content?redirect=false"
	cmp "$BATS_TEST_TMPDIR/streamed2" "$BATS_TEST_TMPDIR/blob.txt"
	code=$(curl -sS "${AUTH[@]}" -o "$BATS_TEST_TMPDIR/bad.json" -w '%{http_code}' "$URL/v1/documents/$id/content?redirect=maybe")
	[ "$code" = 400 ]
	[ "$(jq -r .param "$BATS_TEST_TMPDIR/bad.json")" = redirect ]
	# It lives as long as configured: then S3 (the proxy) refuses it.
	sleep 3
	code=$(curl -sS -o /dev/null -w '%{http_code}' "$location")
	[ "$code" = 403 ]
	# A deleted document has no URL.
	curl -fsS "${AUTH[@]}" -X DELETE "$URL/v1/documents/$id" >/dev/null
	code=$(curl -sS "${AUTH[@]}" -o /dev/null -w '%{http_code}' "$URL/v1/documents/$id/content")
	[ "$code" = 404 ]
	# The 302 is in the API description.
	curl -fsS "$URL/openapi.json" | jq -e '.paths["/v1/documents/{id}/content"].get.responses["302"].headers.Location'
}

@test "serve on file storage: server.content_redirect set still streams (no presigned URLs there)" {
	export PLATCTL_STORAGE_URL="file://$BATS_TEST_TMPDIR/store"
	PLATCTL_SERVER_CONTENT_REDIRECT=5m start_server
	local id
	id=$(upload)
	local code
	code=$(curl -sS "${AUTH[@]}" -o "$BATS_TEST_TMPDIR/got" -w '%{http_code}' "$URL/v1/documents/$id/content")
	[ "$code" = 200 ]
	cmp "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/blob.txt"
}
