#!/usr/bin/env bats
# POST /v1/documents as multipart/form-data (curl -F, a browser's form): the file part is
# the document, streamed to the spool as it arrives, the fields are what the query gives a
# raw upload; the same validation, deduplication and atomicity.
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
	PLATCTL_PRINCIPAL=ada "$PLATCTL" user add ada --role admin --no-password >/dev/null
	TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name up --role editor | jq -r .token)
	AUTH=(-H "Authorization: Bearer $TOKEN")
	serve_start "$BATS_TEST_TMPDIR/serve.log"
	printf 'a form upload\nsecond line\n' >"$BATS_TEST_TMPDIR/a.txt"
}

teardown() {
	serve_stop
}

# STATUS curl-args...: POST /v1/documents; the body in $body.
post() {
	local want=$1 code
	shift
	code=$(curl -sS -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' "${AUTH[@]}" "$@" "$URL/v1/documents")
	body=$(cat "$BATS_TEST_TMPDIR/body")
	[ "$code" = "$want" ] || { echo "want $want, got $code: $body" >&2; return 1; }
}

documents() { test_psql -d "$TEST_DB" -c "SELECT count(*) FROM documents"; }

@test "serve form upload: the file part is the document, the fields its metadata; again is 200 unchanged" {
	post 201 -F "file=@$BATS_TEST_TMPDIR/a.txt" -F title=Form -F tag=team=ops -F tag=tier=1
	local id
	id=$(jq -r .id <<<"$body")
	[ "$(jq -r .name <<<"$body")" = a.txt ]
	[ "$(jq -r .title <<<"$body")" = Form ]
	[ "$(jq -c .tags <<<"$body")" = '{"team":"ops","tier":"1"}' ]
	curl -fsS "${AUTH[@]}" -o "$BATS_TEST_TMPDIR/back" "$URL/v1/documents/$id/content"
	cmp "$BATS_TEST_TMPDIR/back" "$BATS_TEST_TMPDIR/a.txt"
	post 200 -F "file=@$BATS_TEST_TMPDIR/a.txt"
	[ "$(jq -r .outcome <<<"$body")" = unchanged ]
	# A name field wins over the file's; query parameters still count.
	printf 'other content\n' >"$BATS_TEST_TMPDIR/b.txt"
	code=$(curl -sS -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' "${AUTH[@]}" -F "file=@$BATS_TEST_TMPDIR/b.txt" \
		-F name=renamed.txt "$URL/v1/documents?class=report")
	[ "$code" = 201 ]
	[ "$(jq -r .name "$BATS_TEST_TMPDIR/body")" = renamed.txt ]
	[ "$(documents)" = 2 ]
}

@test "serve form upload: no file, two files, no boundary, a bad name, too large, too many fields, cut short: 4xx and nothing stored" {
	post 400 -F title=alone
	[[ "$(jq -r .detail <<<"$body")" == *"no file part"* ]]
	post 400 -F "file=@$BATS_TEST_TMPDIR/a.txt" -F "other=@$BATS_TEST_TMPDIR/a.txt"
	[[ "$(jq -r .detail <<<"$body")" == *"more than one file"* ]]
	post 400 -H 'Content-Type: multipart/form-data' --data-binary 'no boundary here'
	[[ "$(jq -r .detail <<<"$body")" == *boundary* ]]
	# The file's name is checked as a raw upload's name is (422, as there).
	post 422 -F "file=@$BATS_TEST_TMPDIR/a.txt;filename=../../etc/passwd"
	[[ "$(jq -r .detail <<<"$body")" == *"invalid document name"* ]]
	head -c 70000 /dev/zero | tr '\0' 'x' >"$BATS_TEST_TMPDIR/big.txt"
	post 413 -F "file=@$BATS_TEST_TMPDIR/big.txt"
	local many=()
	for i in $(seq 81); do many+=(-F "tag=k$i=v"); done
	post 400 "${many[@]}" -F "file=@$BATS_TEST_TMPDIR/a.txt"
	[[ "$(jq -r .detail <<<"$body")" == *"more than 80 fields"* ]]
	# A form cut off before its closing boundary.
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n\r\npartial' \
		>"$BATS_TEST_TMPDIR/cut"
	post 400 -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary "@$BATS_TEST_TMPDIR/cut"
	[ "$(documents)" = 0 ]
	[ -z "$(find "$BATS_TEST_TMPDIR/store" -type f 2>/dev/null)" ]
}

@test "serve form upload: a client gone mid-file leaves no row and no object" {
	python3 - "$ADDR" "$TOKEN" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
head = (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"gone.txt\"\r\n\r\n" + b"y" * 20000)
s.sendall(b"POST /v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + sys.argv[2].encode() +
          b"\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 60000\r\n\r\n" + head)
time.sleep(0.3)
s.close()
PY
	sleep 0.5
	[ "$(documents)" = 0 ]
	[ -z "$(find "$BATS_TEST_TMPDIR/store" -type f 2>/dev/null)" ]
	# The server is fine afterwards.
	post 201 -F "file=@$BATS_TEST_TMPDIR/a.txt"
}
