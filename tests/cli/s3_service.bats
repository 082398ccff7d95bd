#!/usr/bin/env bats
# The S3 test service itself (tests/services/s3.sh): s3rver behind a proxy that verifies
# AWS Signature Version 4 and injects faults, exercised with Debian's awscli, curl and a small
# signing client (tests/services/s3/request.js) for requests awscli will not make.
load helpers

S3="$BATS_TEST_DIRNAME/../services/s3.sh"
REQUEST="$BATS_TEST_DIRNAME/../services/s3/request.js"

setup_file() {
	eval "$("$S3" start --owner $$)"
	export TEST_S3_DIR TEST_S3_ENDPOINT TEST_S3_BUCKET AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
		AWS_DEFAULT_REGION AWS_EC2_METADATA_DISABLED
	export DATA="$BATS_FILE_TMPDIR/data"
	mkdir -p "$DATA"
	head -c 1000 /dev/urandom >"$DATA/small"
	head -c $((20 * 1024 * 1024)) /dev/urandom >"$DATA/big"
	head -c 200000 /dev/urandom >"$DATA/mid"
}

teardown_file() {
	"$S3" stop "$TEST_S3_DIR"
}

setup() {
	# Debian's awscli (2.x) when installed, whatever `aws` is on PATH otherwise; no profile,
	# config file or pager of the caller's.
	if [ -x /usr/bin/aws ]; then AWS_BIN=/usr/bin/aws; else AWS_BIN=aws; fi
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_CA_BUNDLE
	export AWS_CONFIG_FILE="$BATS_FILE_TMPDIR/no-aws-config" AWS_SHARED_CREDENTIALS_FILE="$BATS_FILE_TMPDIR/no-aws-credentials"
	export AWS_PAGER="" AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=4
	control DELETE faults >/dev/null
	KEY="t$BATS_TEST_NUMBER"
}

teardown() {
	[ -n "${OWNED_DIR:-}" ] && "$S3" stop "$OWNED_DIR" || true
}

aws_s3() {
	"$AWS_BIN" --endpoint-url "$TEST_S3_ENDPOINT" "$@"
}

# control METHOD PATH [JSON]: the unauthenticated control API.
control() {
	curl -fsS -X "$1" ${3:+-H 'content-type: application/json' --data "$3"} "$TEST_S3_ENDPOINT/__control/$2"
}

# json EXPR: evaluates a Python expression over the JSON document on stdin, bound to d.
json() {
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# get_equals KEY FILE: the object's content is FILE's (fetched with the signing client).
get_equals() {
	run node "$REQUEST" -o "$BATS_TEST_TMPDIR/get" GET "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$1"
	[ "$output" = "HTTP 200" ]
	cmp "$2" "$BATS_TEST_TMPDIR/get"
}

# The object is not in the bucket (a signed HEAD answers 404).
not_stored() {
	run node "$REQUEST" HEAD "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$1"
	[ "${lines[0]}" = "HTTP 404" ]
}

alive() {
	ps -o stat= -p "$1" 2>/dev/null | grep -qv Z
}

@test "a small file goes up and comes back byte-identical through the signature check" {
	aws_s3 s3 cp "$DATA/small" "s3://$TEST_S3_BUCKET/$KEY/small" --only-show-errors
	aws_s3 s3 cp "s3://$TEST_S3_BUCKET/$KEY/small" "$BATS_TEST_TMPDIR/small" --only-show-errors
	cmp "$DATA/small" "$BATS_TEST_TMPDIR/small"
	run aws_s3 s3api head-object --bucket "$TEST_S3_BUCKET" --key "$KEY/small" --query ContentLength
	[ "$status" -eq 0 ]
	[ "$output" = 1000 ]
	aws_s3 s3api get-object --bucket "$TEST_S3_BUCKET" --key "$KEY/small" --range bytes=100-199 "$BATS_TEST_TMPDIR/range" >/dev/null
	cmp <(tail -c +101 "$DATA/small" | head -c 100) "$BATS_TEST_TMPDIR/range"
	aws_s3 s3 rm "s3://$TEST_S3_BUCKET/$KEY/small" --only-show-errors
	not_stored "$KEY/small"
	# every request was signed and checked
	grep -q "PUT /$TEST_S3_BUCKET/$KEY/small 200 auth=ok" "$TEST_S3_DIR/server.log"
	grep -q "DELETE /$TEST_S3_BUCKET/$KEY/small 204 auth=ok" "$TEST_S3_DIR/server.log"
}

@test "a 20 MiB file goes up as a multipart upload and comes back byte-identical" {
	aws_s3 s3 cp "$DATA/big" "s3://$TEST_S3_BUCKET/$KEY/big" --only-show-errors
	grep -q "POST /$TEST_S3_BUCKET/$KEY/big?uploads 200 auth=ok" "$TEST_S3_DIR/server.log"
	grep -q "PUT /$TEST_S3_BUCKET/$KEY/big?uploadId=[0-9a-f]*&partNumber=3 200 auth=ok" "$TEST_S3_DIR/server.log"
	grep -q "POST /$TEST_S3_BUCKET/$KEY/big?uploadId=[0-9a-f]* 200 auth=ok" "$TEST_S3_DIR/server.log"
	aws_s3 s3 cp "s3://$TEST_S3_BUCKET/$KEY/big" "$BATS_TEST_TMPDIR/big" --only-show-errors
	cmp "$DATA/big" "$BATS_TEST_TMPDIR/big"
	# nothing is left in the proxy's spool
	[ -z "$(ls -A "$TEST_S3_DIR/data/spool")" ]
}

@test "s3 ls lists a prefix, and ListObjectsV2 pages through continuation tokens" {
	for k in a/1 a/2 a/3 b/1; do
		run node "$REQUEST" PUT "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/$k" "$DATA/small"
		[ "${lines[0]}" = "HTTP 200" ]
	done
	run aws_s3 s3 ls "s3://$TEST_S3_BUCKET/$KEY/a/"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[0]} == *" 1000 1" ]]
	[[ $output != *"b/"* ]]
	run aws_s3 s3 ls "s3://$TEST_S3_BUCKET/$KEY/"
	[[ $output == *"PRE a/"* && $output == *"PRE b/"* ]]
	# one key per page: the CLI follows NextContinuationToken to the end
	run aws_s3 s3api list-objects-v2 --bucket "$TEST_S3_BUCKET" --prefix "$KEY/" --page-size 1 --query 'Contents[].Key' --output text
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | tr -s '\t ' '\n\n' | grep -c .)" -eq 4 ]
	[ "$(grep -c "list-type=2.*continuation-token=" "$TEST_S3_DIR/server.log")" -ge 3 ]
	run aws_s3 s3api list-objects-v2 --bucket "$TEST_S3_BUCKET" --prefix "$KEY/" --max-keys 2 --no-paginate
	[ "$(echo "$output" | json 'd["IsTruncated"], d["KeyCount"], bool(d["NextContinuationToken"])')" = "(True, 2, True)" ]
}

@test "a wrong secret is refused with SignatureDoesNotMatch and nothing is stored" {
	run env AWS_SECRET_ACCESS_KEY=not-the-secret "$AWS_BIN" --endpoint-url "$TEST_S3_ENDPOINT" \
		s3 cp "$DATA/small" "s3://$TEST_S3_BUCKET/$KEY/small" --only-show-errors
	[ "$status" -ne 0 ]
	[[ $output == *SignatureDoesNotMatch* ]]
	run env AWS_ACCESS_KEY_ID=AKIDUNKNOWN "$AWS_BIN" --endpoint-url "$TEST_S3_ENDPOINT" \
		s3api put-object --bucket "$TEST_S3_BUCKET" --key "$KEY/small" --body "$DATA/small"
	[ "$status" -ne 0 ]
	[[ $output == *InvalidAccessKeyId* ]]
	not_stored "$KEY/small"
	grep -q "PUT /$TEST_S3_BUCKET/$KEY/small 403 auth=fail:SignatureDoesNotMatch" "$TEST_S3_DIR/server.log"
}

@test "requests without authentication get 403 AccessDenied" {
	run curl -sS -w '\n%{http_code}' "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/x"
	[ "${lines[-1]}" = 403 ]
	[[ $output == *'<?xml version="1.0" encoding="UTF-8"?>'* ]]
	[[ $output == *"<Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>"* ]]
	run curl -sS -w '\n%{http_code}' -X PUT --data-binary @"$DATA/small" "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/x"
	[ "${lines[-1]}" = 403 ]
	[[ $output == *"<Code>AccessDenied</Code>"* ]]
	run curl -sS -w '\n%{http_code}' "$TEST_S3_ENDPOINT/"
	[ "${lines[-1]}" = 403 ]
	not_stored "$KEY/x"
}

@test "a presigned GET works with curl; a tampered or expired one is refused" {
	aws_s3 s3 cp "$DATA/small" "s3://$TEST_S3_BUCKET/$KEY/small" --only-show-errors
	url=$(aws_s3 s3 presign "s3://$TEST_S3_BUCKET/$KEY/small" --expires-in 300)
	[[ $url == "$TEST_S3_ENDPOINT/"*X-Amz-Signature=* ]]
	curl -fsS "$url" -o "$BATS_TEST_TMPDIR/got"
	cmp "$DATA/small" "$BATS_TEST_TMPDIR/got"
	# change one character of the signature
	last=${url: -1}
	if [ "$last" = 0 ]; then repl=1; else repl=0; fi
	run curl -sS -w '\n%{http_code}' "${url%?}$repl"
	[ "${lines[-1]}" = 403 ]
	[[ $output == *"<Code>SignatureDoesNotMatch</Code>"* ]]
	# a signed query parameter changed
	run curl -sS -w '\n%{http_code}' "${url/X-Amz-Expires=300/X-Amz-Expires=301}"
	[ "${lines[-1]}" = 403 ]
	[[ $output == *"<Code>SignatureDoesNotMatch</Code>"* ]]
	# expired: signed two minutes ago, valid for one
	url=$(node "$REQUEST" --presign 60 --date-offset -120 GET "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/small")
	run curl -sS -w '\n%{http_code}' "$url"
	[ "${lines[-1]}" = 403 ]
	[[ $output == *"<Code>AccessDenied</Code><Message>Request has expired</Message>"* ]]
	# presigned by @smithy/signature-v4, with response header overrides in the signed query
	url=$(node "$REQUEST" --presign 60 GET "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/small?response-content-type=text/plain")
	run curl -sS -D "$BATS_TEST_TMPDIR/headers" -o "$BATS_TEST_TMPDIR/got2" -w '%{http_code}' "$url"
	[ "$output" = 200 ]
	grep -qi '^content-type: text/plain' "$BATS_TEST_TMPDIR/headers"
	cmp "$DATA/small" "$BATS_TEST_TMPDIR/got2"
	# a presigned PUT
	url=$(node "$REQUEST" --presign 60 PUT "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/put")
	curl -fsS -T "$DATA/mid" "$url"
	run node "$REQUEST" -o "$BATS_TEST_TMPDIR/put" GET "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/put"
	[ "$output" = "HTTP 200" ]
	cmp "$DATA/mid" "$BATS_TEST_TMPDIR/put"
}

@test "a body that does not match x-amz-content-sha256 is refused and nothing is stored" {
	wrong=$(printf 'something else' | sha256sum | cut -d' ' -f1)
	run node "$REQUEST" --payload-hash "$wrong" PUT "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/mid" "$DATA/mid"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "HTTP 400" ]
	[[ $output == *"<Code>XAmzContentSHA256Mismatch</Code>"* ]]
	[[ $output == *"<ClientComputedContentSHA256>$wrong</ClientComputedContentSHA256>"* ]]
	not_stored "$KEY/mid"
	[ -z "$(ls -A "$TEST_S3_DIR/data/spool")" ]
	# the same request with the right hash, and with UNSIGNED-PAYLOAD, is stored
	run node "$REQUEST" PUT "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/mid" "$DATA/mid"
	[ "${lines[0]}" = "HTTP 200" ]
	run node "$REQUEST" --payload-hash UNSIGNED-PAYLOAD PUT "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/unsigned" "$DATA/mid"
	[ "${lines[0]}" = "HTTP 200" ]
	get_equals "$KEY/unsigned" "$DATA/mid"
	# a wrong Content-MD5 is refused too
	run node "$REQUEST" -H 'content-md5: AAAAAAAAAAAAAAAAAAAAAA==' PUT "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/md5" "$DATA/mid"
	[ "${lines[0]}" = "HTTP 400" ]
	[[ $output == *"<Code>BadDigest</Code>"* ]]
	not_stored "$KEY/md5"
}

@test "aws-chunked uploads are decoded, their chunk signatures checked, and a bad chunk stores nothing" {
	run node "$REQUEST" --chunked 65536 PUT "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/chunked" "$DATA/mid"
	[ "${lines[0]}" = "HTTP 200" ]
	get_equals "$KEY/chunked" "$DATA/mid"
	run aws_s3 s3api head-object --bucket "$TEST_S3_BUCKET" --key "$KEY/chunked" --query ContentEncoding --output text
	[ "$output" = None ]
	run node "$REQUEST" --chunked 65536 --signed-trailer PUT "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/trailer" "$DATA/mid"
	[ "${lines[0]}" = "HTTP 200" ]
	get_equals "$KEY/trailer" "$DATA/mid"
	run node "$REQUEST" --chunked 65536 --tamper-chunk 2 PUT "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/tampered" "$DATA/mid"
	[ "${lines[0]}" = "HTTP 403" ]
	[[ $output == *"<Code>SignatureDoesNotMatch</Code>"* ]]
	run node "$REQUEST" --chunked 65536 --decoded-length 199999 PUT "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/short" "$DATA/mid"
	[ "${lines[0]}" = "HTTP 400" ]
	[[ $output == *"<Code>IncompleteBody</Code>"* ]]
	run node "$REQUEST" --chunked 65536 --unsigned-trailer --bad-trailer PUT "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/badsum" "$DATA/mid"
	[ "${lines[0]}" = "HTTP 400" ]
	[[ $output == *"<Code>BadDigest</Code>"* ]]
	for k in tampered short badsum; do not_stored "$KEY/$k"; done
}

@test "a skewed clock is refused with RequestTimeTooSkewed" {
	run node "$REQUEST" --date-offset -1200 GET "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/x"
	[ "${lines[0]}" = "HTTP 403" ]
	[[ $output == *"<Code>RequestTimeTooSkewed</Code>"* ]]
	run node "$REQUEST" --date-offset 600 GET "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/x"
	[ "${lines[0]}" = "HTTP 404" ]
}

@test "injected 503s are seen by curl and retried by awscli" {
	aws_s3 s3 cp "$DATA/small" "s3://$TEST_S3_BUCKET/$KEY/small" --only-show-errors
	url=$(aws_s3 s3 presign "s3://$TEST_S3_BUCKET/$KEY/small")
	before=$(control GET stats | json 'd["faults_injected"]')
	control POST faults "{\"mode\":\"status\",\"status\":503,\"count\":2,\"method\":\"GET\",\"path_prefix\":\"/$TEST_S3_BUCKET/$KEY/\"}" >/dev/null
	for _ in 1 2; do
		run curl -sS -w '\n%{http_code}' "$url"
		[ "${lines[-1]}" = 503 ]
		[[ $output == *"<Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"* ]]
	done
	curl -fsS "$url" | cmp - "$DATA/small"
	# awscli gets the next two as 503s too, retries, and succeeds
	control POST faults "{\"mode\":\"status\",\"status\":500,\"count\":2,\"method\":\"GET\",\"path_prefix\":\"/$TEST_S3_BUCKET/$KEY/\"}" >/dev/null
	aws_s3 s3api get-object --bucket "$TEST_S3_BUCKET" --key "$KEY/small" "$BATS_TEST_TMPDIR/got" >/dev/null
	cmp "$DATA/small" "$BATS_TEST_TMPDIR/got"
	[ "$(control GET faults | json 'len(d["active"])')" = 0 ]
	[ "$(control GET stats | json 'd["faults_injected"]')" -eq $((before + 4)) ]
	[ "$(grep -c "GET /$TEST_S3_BUCKET/$KEY/small 500 auth=ok error=InternalError fault=status:500" "$TEST_S3_DIR/server.log")" -eq 2 ]
}

@test "an injected reset drops the connection; a delay holds the request" {
	aws_s3 s3 cp "$DATA/small" "s3://$TEST_S3_BUCKET/$KEY/small" --only-show-errors
	url=$(aws_s3 s3 presign "s3://$TEST_S3_BUCKET/$KEY/small")
	control POST faults '{"mode":"reset","count":1}' >/dev/null
	run curl -sS -o /dev/null -w '%{http_code}' "$url"
	[ "$status" -eq 52 ] || [ "$status" -eq 56 ] # empty reply / connection reset
	[ "$output" = 000 ] || [[ $output == *"000" ]]
	curl -fsS "$url" | cmp - "$DATA/small"
	# awscli retries a reset upload
	control POST faults "{\"mode\":\"reset\",\"count\":1,\"method\":\"PUT\"}" >/dev/null
	aws_s3 s3 cp "$DATA/mid" "s3://$TEST_S3_BUCKET/$KEY/mid" --only-show-errors
	aws_s3 s3 cp "s3://$TEST_S3_BUCKET/$KEY/mid" - | cmp - "$DATA/mid"
	grep -q "PUT /$TEST_S3_BUCKET/$KEY/mid reset auth=ok fault=reset" "$TEST_S3_DIR/server.log"
	control POST faults '{"mode":"delay","ms":1000,"count":1}' >/dev/null
	run curl -sS -o /dev/null -w '%{http_code} %{time_total}' "$url"
	[ "${output%% *}" = 200 ]
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 0.95 else 1)' "${output##* }"
	# bad fault definitions are refused
	run curl -sS -w '\n%{http_code}' -X POST --data '{"mode":"explode"}' "$TEST_S3_ENDPOINT/__control/faults"
	[ "${lines[-1]}" = 400 ]
}

@test "GET /__control/stats counts requests, methods, auth failures and faults" {
	control DELETE stats >/dev/null
	curl -s -o /dev/null "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/a"
	curl -s -o /dev/null -X PUT --data x "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$KEY/a"
	aws_s3 s3api head-bucket --bucket "$TEST_S3_BUCKET"
	control POST faults '{"mode":"status","status":503,"count":1}' >/dev/null
	curl -s -o /dev/null "$(aws_s3 s3 presign "s3://$TEST_S3_BUCKET/$KEY/a")"
	run control GET stats
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json 'd["requests_total"]')" = 4 ]
	[ "$(echo "$output" | json 'sorted(d["by_method"].items())')" = "[('GET', 2), ('HEAD', 1), ('PUT', 1)]" ]
	[ "$(echo "$output" | json 'd["auth_failures"], d["auth_failures_by_code"]["AccessDenied"]')" = "(2, 2)" ]
	[ "$(echo "$output" | json 'd["faults_injected"], d["auth_ok"]')" = "(1, 2)" ]
	[ "$(echo "$output" | json 'sorted(d["by_status"].items())')" = "[('200', 1), ('403', 2), ('503', 1)]" ]
}

@test "multipart operations s3rver lacks (ListParts, ListMultipartUploads, Abort) work" {
	head -c $((5 * 1024 * 1024)) /dev/urandom >"$BATS_TEST_TMPDIR/part1"
	id=$(aws_s3 s3api create-multipart-upload --bucket "$TEST_S3_BUCKET" --key "$KEY/mp" --query UploadId --output text)
	aws_s3 s3api upload-part --bucket "$TEST_S3_BUCKET" --key "$KEY/mp" --upload-id "$id" --part-number 1 --body "$BATS_TEST_TMPDIR/part1" >/dev/null
	aws_s3 s3api upload-part --bucket "$TEST_S3_BUCKET" --key "$KEY/mp" --upload-id "$id" --part-number 2 --body "$DATA/small" >/dev/null
	run aws_s3 s3api list-parts --bucket "$TEST_S3_BUCKET" --key "$KEY/mp" --upload-id "$id" --query 'Parts[].[PartNumber,Size]' --output text
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | tr -s '\t\n' '  ')" = "1 5242880 2 1000 " ]
	run aws_s3 s3api list-multipart-uploads --bucket "$TEST_S3_BUCKET" --prefix "$KEY/" --query 'Uploads[].[Key,UploadId]' --output text
	[ "$output" = "$KEY/mp	$id" ]
	aws_s3 s3api abort-multipart-upload --bucket "$TEST_S3_BUCKET" --key "$KEY/mp" --upload-id "$id"
	run aws_s3 s3api list-parts --bucket "$TEST_S3_BUCKET" --key "$KEY/mp" --upload-id "$id"
	[ "$status" -ne 0 ]
	[[ $output == *NoSuchUpload* ]]
	run aws_s3 s3api upload-part --bucket "$TEST_S3_BUCKET" --key "$KEY/mp" --upload-id "$id" --part-number 3 --body "$DATA/small"
	[[ $output == *NoSuchUpload* ]]
	not_stored "$KEY/mp"
}

@test "start refuses with a clear message when node_modules is missing" {
	mkdir -p "$BATS_TEST_TMPDIR/services/s3"
	cp "$S3" "$BATS_TEST_DIRNAME/../services/lib.sh" "$BATS_TEST_TMPDIR/services/"
	cp "$BATS_TEST_DIRNAME/../services/s3/server.js" "$BATS_TEST_TMPDIR/services/s3/"
	run "$BATS_TEST_TMPDIR/services/s3.sh" start --owner $$
	[ "$status" -eq 1 ]
	[[ $output == *"node_modules is missing; run make deps"* ]]
}

@test "the watchdog stops the service and removes everything when its owner is killed" {
	sleep 600 3>&- &
	owner=$!
	eval "$("$S3" start --owner $owner)"
	OWNED_DIR=$TEST_S3_DIR
	pid=$(cat "$OWNED_DIR/server.pid")
	alive "$pid"
	[[ $TEST_S3_ENDPOINT == http://127.0.0.1:* ]]
	curl -fsS "$TEST_S3_ENDPOINT/__control/health" >/dev/null
	kill -9 "$owner"
	for _ in $(seq 1 40); do
		[ -e "$OWNED_DIR" ] || break
		sleep 0.5
	done
	[ ! -e "$OWNED_DIR" ]
	! alive "$pid"
	run curl -sS "$TEST_S3_ENDPOINT/__control/health"
	[ "$status" -ne 0 ]
	OWNED_DIR=
}
