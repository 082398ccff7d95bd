#!/usr/bin/env bats
# The REST API as its description says it is, checked by third-party tools against a live
# server: /openapi.json lints clean with @redocly/cli, a Postman collection generated from
# it (tests/api/collection.py) runs green with newman, and /metrics passes promtool.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
	API="$ROOT/tests/api"
	[ -x "$API/node_modules/.bin/newman" ] || { echo "tests/api node packages are missing (make deps)" >&2; false; }
	PLATCTL_PRINCIPAL=ada "$PLATCTL" user add ada --role admin --no-password >/dev/null
	TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name api --role admin | jq -r .token)
	printf 'api test document\n' >"$BATS_TEST_TMPDIR/a.txt"
	DOC=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json upload "$BATS_TEST_TMPDIR/a.txt" | jq -r '.. | .id? // empty' | head -n 1)
	serve_start "$BATS_TEST_TMPDIR/serve.log"
	curl -fsS "$URL/openapi.json" >"$BATS_TEST_TMPDIR/openapi.json"
}

teardown() {
	serve_stop
}

@test "api: /openapi.json lints clean with @redocly/cli (recommended rules)" {
	run "$API/node_modules/.bin/redocly" lint --config "$API/redocly.yaml" --format stylish "$BATS_TEST_TMPDIR/openapi.json"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *warning* ]]
}

@test "api: a Postman collection generated from the spec runs green with newman" {
	python3 "$API/collection.py" "$BATS_TEST_TMPDIR/openapi.json" >"$BATS_TEST_TMPDIR/collection.json"
	# Every route of the spec but the streams is in it.
	local routes items
	routes=$(jq '[.paths | to_entries[] | .value | keys[]] | length' "$BATS_TEST_TMPDIR/openapi.json")
	items=$(jq '.item | length' "$BATS_TEST_TMPDIR/collection.json")
	[ "$items" -ge "$routes" ]
	run "$API/node_modules/.bin/newman" run "$BATS_TEST_TMPDIR/collection.json" --env-var "base=$URL" \
		--env-var "token=$TOKEN" --env-var "document=$DOC" --reporters cli --color off --disable-unicode \
		--reporter-cli-no-banner --timeout-request 10000
	echo "$output" | tail -n 40
	[ "$status" -eq 0 ]
	# It did check something: assertions ran, none failed.
	grep -Eq '│ +assertions │ +[1-9][0-9]+ │ +0 │|assertions +[|] +[1-9][0-9]+ +[|] +0' <<<"$output"
}

@test "api: /metrics passes promtool check metrics" {
	curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL/v1/documents/$DOC"
	curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL/v1/documents/$DOC"
	curl -sS -o /dev/null "$URL/v1/nothing-here"
	curl -fsS "$URL/metrics" >"$BATS_TEST_TMPDIR/metrics.txt"
	grep -q '^platctl_http_requests_total{' "$BATS_TEST_TMPDIR/metrics.txt"
	grep -q '^platctl_cache_lookups_total{result="hit"}' "$BATS_TEST_TMPDIR/metrics.txt"
	run promtool check metrics <"$BATS_TEST_TMPDIR/metrics.txt"
	echo "$output"
	[ "$status" -eq 0 ]
}
