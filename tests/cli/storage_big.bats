#!/usr/bin/env bats
# A 1 GiB multipart upload through the S3 service keeps platctl's memory small: parts are
# streamed from the file, not buffered (goal: max RSS under 64 MiB).
load helpers

setup_file() {
	s3_setup_file
}

teardown_file() {
	s3_teardown_file
}

@test "1 GiB multipart upload: max RSS under 64 MiB, content intact" {
	isolate
	export PLATCTL_STORAGE_URL="s3://$TEST_S3_BUCKET/big" PLATCTL_STORAGE_S3_ENDPOINT="$TEST_S3_ENDPOINT"
	export PLATCTL_STORAGE_S3_PATH_STYLE=true
	f="$BATS_TEST_TMPDIR/1g"
	# Mostly a hole, with random bytes at both ends and in the middle, so a misplaced part shows.
	truncate -s 1G "$f"
	for off in 0 536870912 1073741000; do
		head -c 824 /dev/urandom | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
	done
	/usr/bin/time -f '%M' -o "$BATS_TEST_TMPDIR/rss" "$PLATCTL" storage put "$f" one-gib.bin -o json >"$BATS_TEST_TMPDIR/put.json"
	rss_kb=$(tail -n1 "$BATS_TEST_TMPDIR/rss")
	echo "max RSS: $rss_kb KiB"
	[ "$rss_kb" -lt $((64 * 1024)) ]
	grep -q "\"sha256\":	\"$(sha256sum <"$f" | cut -d' ' -f1)\"" "$BATS_TEST_TMPDIR/put.json"
	[ "$("$PLATCTL" storage get one-gib.bin | sha256sum)" = "$(sha256sum <"$f")" ]
	rm -f "$f"
}
