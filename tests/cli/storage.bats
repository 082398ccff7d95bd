#!/usr/bin/env bats
# Object storage through `platctl storage`, with both drivers: a local directory, and S3
# through the SigV4-verifying proxy in front of s3rver (tests/services/s3.sh).
load helpers

setup_file() {
	s3_setup_file
}

teardown_file() {
	s3_teardown_file
}

setup() {
	isolate
	DATA="$BATS_TEST_TMPDIR/data"
	mkdir -p "$DATA"
	head -c 1000 /dev/urandom >"$DATA/small"
	: >"$DATA/empty"
	head -c $((12 * 1024 * 1024 + 123)) /dev/urandom >"$DATA/big" # three 5 MiB parts
	faults_clear
}

use_file() {
	export PLATCTL_STORAGE_URL="file://$BATS_TEST_TMPDIR/store"
}

use_s3() {
	export PLATCTL_STORAGE_URL="s3://$TEST_S3_BUCKET/t$BATS_TEST_NUMBER"
	export PLATCTL_STORAGE_S3_ENDPOINT="$TEST_S3_ENDPOINT" PLATCTL_STORAGE_S3_PATH_STYLE=true
	export PLATCTL_STORAGE_S3_REGION=us-east-1 PLATCTL_STORAGE_S3_PART_SIZE=5MiB PLATCTL_STORAGE_S3_MAX_RETRIES=3
	export PLATCTL_STORAGE_S3_TIMEOUT=5s
}

faults() { # JSON
	curl -fsS -X POST -H 'Content-Type: application/json' --data "$1" "$TEST_S3_ENDPOINT/__control/faults" >/dev/null
}

faults_clear() {
	[ -n "${TEST_S3_ENDPOINT:-}" ] && curl -fsS -X DELETE "$TEST_S3_ENDPOINT/__control/faults" >/dev/null || true
}

# Debian's awscli (make deps); another `aws` earlier on PATH may be a different major version.
AWS=$(command -v /usr/bin/aws || command -v aws)

awss3() {
	"$AWS" --endpoint-url "$TEST_S3_ENDPOINT" "$@"
}

round_trip() {
	for f in small empty big; do
		run --separate-stderr "$PLATCTL" storage put "$DATA/$f" "docs/$f" -o json
		[ "$status" -eq 0 ] || { echo "put $f: $stderr"; false; }
		[[ "$output" == *"\"sha256\":	\"$(sha256sum <"$DATA/$f" | cut -d' ' -f1)\""* ]]
		[[ "$output" == *"\"size\":	$(stat -c %s "$DATA/$f")"* ]]
		"$PLATCTL" storage get "docs/$f" "$DATA/$f.back"
		cmp "$DATA/$f" "$DATA/$f.back"
		[ "$("$PLATCTL" storage get "docs/$f" | sha256sum)" = "$(sha256sum <"$DATA/$f")" ]
	done
	run "$PLATCTL" storage stat docs/big -o json
	[[ "$output" == *"\"size\":	$(stat -c %s "$DATA/big")"* ]]
	# a byte range
	[ "$("$PLATCTL" storage get docs/big --offset 5242870 --length 20 | od -An -tx1)" = \
	  "$(tail -c +5242871 "$DATA/big" | head -c 20 | od -An -tx1)" ]
	# standard input, several parts
	cat "$DATA/big" | "$PLATCTL" storage put - docs/piped >/dev/null
	cmp <("$PLATCTL" storage get docs/piped) "$DATA/big"
	# listing, paged
	run "$PLATCTL" storage ls docs/ -o json --limit 2
	[[ "$output" == *'"key":	"docs/big"'* ]]
	[[ "$output" != *'"next_cursor":	null'* ]]
	run "$PLATCTL" storage ls docs/ --all -o json --limit 2
	[ "$(echo "$output" | grep -c '"key"')" -eq 4 ]
	[[ "$output" == *'"next_cursor":	null'* ]]
	# delete, then it is gone; deleting again succeeds (whatever the key says)
	"$PLATCTL" storage rm docs/small docs/small docs/no-such-bucket-notes.txt
	run --separate-stderr "$PLATCTL" storage get docs/small
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"object 'docs/small' not found"* ]]
	run --separate-stderr "$PLATCTL" storage stat docs/nothing
	[ "$status" -eq 5 ]
}

@test "file driver: put, get, range, stdin, list, delete round trip byte-identical" {
	use_file
	round_trip
}

@test "s3 driver: put (single and multipart), get, range, stdin, list, delete round trip" {
	use_s3
	round_trip
	# multipart left no incomplete upload behind
	[ -z "$(awss3 s3api list-multipart-uploads --bucket "$TEST_S3_BUCKET" --query 'Uploads[].Key' --output text | grep -v None || true)" ]
}

@test "bad keys are refused by both drivers and leave nothing behind" {
	for driver in use_file use_s3; do
		$driver
		for key in "../escape" "/etc/passwd" "a/../../b" "a//b" "a/" $'a\nb' $'a\x01b' "a/.~12/x" "."; do
			run --separate-stderr "$PLATCTL" storage put "$DATA/small" "$key"
			[ "$status" -eq 1 ] || { echo "$driver '$key': status $status"; false; }
			[[ "$stderr" == *"invalid object key"* ]]
		done
	done
	use_file
	[ -z "$(find "$BATS_TEST_TMPDIR/store" -type f 2>/dev/null)" ]
	[ ! -e "$BATS_TEST_TMPDIR/escape" ]
	use_s3
	[ -z "$(awss3 s3 ls "s3://$TEST_S3_BUCKET/t$BATS_TEST_NUMBER/" || true)" ]
}

@test "interop: aws s3 cp reads what platctl wrote, and platctl reads what aws s3 cp wrote" {
	use_s3
	"$PLATCTL" storage put "$DATA/big" from-platctl.bin >/dev/null
	awss3 s3 cp "s3://$TEST_S3_BUCKET/t$BATS_TEST_NUMBER/from-platctl.bin" "$DATA/via-aws" >/dev/null
	cmp "$DATA/big" "$DATA/via-aws"
	head -c $((20 * 1024 * 1024)) /dev/urandom >"$DATA/aws-big"
	awss3 s3 cp "$DATA/aws-big" "s3://$TEST_S3_BUCKET/t$BATS_TEST_NUMBER/from-aws.bin" >/dev/null
	"$PLATCTL" storage get from-aws.bin "$DATA/aws-back"
	cmp "$DATA/aws-big" "$DATA/aws-back"
	run "$PLATCTL" storage ls -o json
	[[ "$output" == *'"key":	"from-aws.bin"'* ]]
}

@test "a wrong secret is refused by the proxy: exit 4, nothing stored, no secret printed" {
	use_s3
	export AWS_SECRET_ACCESS_KEY=wrong-secret-value-123
	run --separate-stderr "$PLATCTL" -v storage put "$DATA/small" nope.bin
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"SignatureDoesNotMatch"* ]]
	[[ "$stderr$output" != *wrong-secret-value-123* ]]
	export PLATCTL_STORAGE_S3_SECRET_ACCESS_KEY=another-wrong-one
	run --separate-stderr "$PLATCTL" config show storage.s3.secret_access_key
	[[ "$output" == *"[REDACTED]"* && "$output" != *another-wrong-one* ]]
	unset PLATCTL_STORAGE_S3_SECRET_ACCESS_KEY
	export AWS_ACCESS_KEY_ID=AKIDUNKNOWN0000 AWS_SECRET_ACCESS_KEY=x1234567
	run --separate-stderr "$PLATCTL" storage get anything
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"InvalidAccessKeyId"* ]]
}

@test "injected 503s, 500s and resets are retried, then fail cleanly with exit 7" {
	use_s3
	faults '{"mode":"status","status":503,"count":2}'
	run --separate-stderr "$PLATCTL" storage put "$DATA/small" retried.bin
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	faults '{"mode":"reset","count":1}'
	run --separate-stderr "$PLATCTL" storage get retried.bin "$DATA/retried"
	[ "$status" -eq 0 ]
	cmp "$DATA/small" "$DATA/retried"
	# one part of a multipart upload fails twice: only that part is sent again
	faults '{"mode":"status","status":500,"count":2,"method":"PUT"}'
	run --separate-stderr "$PLATCTL" storage put "$DATA/big" multi-retried.bin
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	cmp <("$PLATCTL" storage get multi-retried.bin) "$DATA/big"
	# a server that keeps failing: give up after max_retries with exit 7, quickly
	faults '{"mode":"status","status":500,"count":1000}'
	start=$(date +%s)
	run --separate-stderr "$PLATCTL" storage put "$DATA/small" never.bin
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"failed after 4 attempts"* ]]
	[ $(($(date +%s) - start)) -lt 20 ]
	faults_clear
	run --separate-stderr "$PLATCTL" storage stat never.bin
	[ "$status" -eq 5 ]
	# a multipart upload that cannot finish is aborted: no incomplete upload remains
	faults '{"mode":"status","status":503,"count":1000,"method":"PUT"}'
	run --separate-stderr "$PLATCTL" storage put "$DATA/big" never-multi.bin
	[ "$status" -eq 7 ]
	faults_clear
	[ -z "$(awss3 s3api list-multipart-uploads --bucket "$TEST_S3_BUCKET" --query 'Uploads[].Key' --output text | grep -v None || true)" ]
}

@test "an unreachable endpoint is exit 7 naming it; a missing bucket is exit 5; missing credentials are exit 3" {
	use_s3
	PLATCTL_STORAGE_URL=s3://no-such-bucket-here run --separate-stderr "$PLATCTL" storage put "$DATA/small" x
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"bucket 'no-such-bucket-here' does not exist (NoSuchBucket)"* ]]
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	PLATCTL_STORAGE_S3_ENDPOINT="http://127.0.0.1:$port" PLATCTL_STORAGE_S3_MAX_RETRIES=1 \
		run --separate-stderr "$PLATCTL" storage ls
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"cannot reach S3 at 127.0.0.1:$port after 2 attempts"* ]]
	key=$AWS_ACCESS_KEY_ID secret=$AWS_SECRET_ACCESS_KEY
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	run --separate-stderr "$PLATCTL" storage ls
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"no S3 credentials"* ]]
	# the shared credentials file, with AWS_PROFILE
	mkdir -p "$HOME/.aws"
	printf '[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = x\n\n[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
		"$key" "$secret" >"$HOME/.aws/credentials"
	AWS_PROFILE=nosuch run --separate-stderr "$PLATCTL" storage ls
	[ "$status" -eq 3 ]
	AWS_PROFILE=ci run --separate-stderr "$PLATCTL" storage ls
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

@test "presigned URLs download without credentials; a tampered one is refused" {
	use_s3
	"$PLATCTL" storage put "$DATA/small" shared.bin >/dev/null
	url=$("$PLATCTL" storage presign --expires 300 shared.bin)
	[[ "$url" == "$TEST_S3_ENDPOINT/$TEST_S3_BUCKET/t$BATS_TEST_NUMBER/shared.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256"* ]]
	[[ "$url" != *"$AWS_SECRET_ACCESS_KEY"* ]]
	curl -fsS "$url" -o "$DATA/presigned"
	cmp "$DATA/small" "$DATA/presigned"
	last=${url: -1}
	[ "$last" = 0 ] && repl=1 || repl=0
	run curl -sS -o /dev/null -w '%{http_code}' "${url%?}$repl"
	[ "$output" = 403 ]
	use_file
	run --separate-stderr "$PLATCTL" storage presign x
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no presigned URLs"* ]]
}
