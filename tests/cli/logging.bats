#!/usr/bin/env bats
# Logs on stderr (JSON lines, or text), request ids, colour, and the version command.
load helpers

setup() {
	isolate
}

@test "logs are JSON lines on stderr with time, level, msg and request_id" {
	PLATCTL_BOGUS=1 run --separate-stderr "$PLATCTL" config show tenant
	[ "$status" -eq 0 ]
	[[ "$output" != *'"level"'* ]] # stdout carries data only
	printf '%s\n' "$stderr" | python3 -c '
import json, re, sys
lines = [l for l in sys.stdin.read().splitlines() if l]
assert lines, "no log lines"
for l in lines:
    d = json.loads(l)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", d["time"]), d
    assert d["level"] in ("error", "warn", "info", "debug", "trace"), d
    assert d["msg"] and re.fullmatch(r"[0-9a-f]{32}", d["request_id"]), d'
}

@test "PLATCTL_REQUEST_ID is used when it is safe, replaced when it is not" {
	PLATCTL_REQUEST_ID=ci-run-42 run --separate-stderr "$PLATCTL" nosuch
	[[ "$stderr" == *'"request_id":"ci-run-42"'* ]]
	PLATCTL_REQUEST_ID=$'bad id\n{"x":1}' run --separate-stderr "$PLATCTL" nosuch
	[[ "$stderr" != *'bad id'* ]]
	[[ "$stderr" =~ \"request_id\":\"[0-9a-f]{32}\" ]]
}

@test "log.format=text gives one plain line, logfmt lines with -v; levels and -v/-q filter" {
	PLATCTL_LOG_FORMAT=text run --separate-stderr "$PLATCTL" nosuch
	[ "$stderr" = "platctl: 'nosuch' is not a command (see 'platctl --help')" ]
	PLATCTL_LOG_FORMAT=text run --separate-stderr "$PLATCTL" -v nosuch
	[[ "$stderr" == "time="*" level=error msg=\""*"exit_code=2"* ]]
	PLATCTL_BOGUS=1 run --separate-stderr "$PLATCTL" -q config show tenant
	[ -z "$stderr" ]
	PLATCTL_BOGUS=1 PLATCTL_LOG_LEVEL=error run --separate-stderr "$PLATCTL" config show tenant
	[ -z "$stderr" ]
	PLATCTL_BOGUS=1 PLATCTL_LOG_LEVEL=error run --separate-stderr "$PLATCTL" -v config show tenant
	[[ "$stderr" == *"PLATCTL_BOGUS"* ]]
}

@test "colour: never with NO_COLOR or --no-color, forced with color=always" {
	PLATCTL_COLOR=always run --separate-stderr "$PLATCTL" config show tenant
	[[ "$output" == *$'\033[1m'* ]]
	PLATCTL_COLOR=always NO_COLOR=1 run --separate-stderr "$PLATCTL" config show tenant
	[[ "$output" != *$'\033['* ]]
	PLATCTL_COLOR=always run --separate-stderr "$PLATCTL" --no-color config show tenant
	[[ "$output" != *$'\033['* ]]
	# not a terminal: no colour by default
	run --separate-stderr "$PLATCTL" config show tenant
	[[ "$output" != *$'\033['* ]]
	run "$PLATCTL" config show color --no-color -o json
	[[ "$output" == *'"origin":	"flag --no-color"'* ]]
}

@test "on a terminal (script(1)) a failure is one line; -v gives coloured logfmt records" {
	command -v script >/dev/null || skip "script(1) not installed"
	run script -qec "$PLATCTL nosuch" /dev/null
	[ "$status" -eq 2 ]
	[ "$(printf '%s' "$output" | tr -d '\r')" = "platctl: 'nosuch' is not a command (see 'platctl --help')" ]
	run script -qec "$PLATCTL -v nosuch" /dev/null
	[[ "$output" == *"level="$'\033[31m'"error"* ]]
	[[ "$output" == *"msg=\"platctl: 'nosuch' is not a command"* ]]
	# a missing file: one line, no progress line, no table, no second record
	run script -qec "$PLATCTL upload $BATS_TEST_TMPDIR/missing.pdf" /dev/null
	[ "$status" -eq 5 ]
	clean=$(printf '%s' "$output" | tr -d '\r' | sed 's/\x1b\[K//g')
	[ "$clean" = "platctl: '$BATS_TEST_TMPDIR/missing.pdf': cannot open: No such file or directory" ] || { echo "$clean" | od -c | head; false; }
	# a hint where one helps
	PLATCTL_DATABASE_URL=postgresql://127.0.0.1:1/x PLATCTL_DATABASE_CONNECT_TIMEOUT=1s \
		run script -qec "$PLATCTL documents list" /dev/null
	[ "$status" -eq 7 ]
	[[ "$output" == *"platctl: cannot connect to PostgreSQL"* && "$output" == *"hint: is PostgreSQL running?"* ]]
	[[ "$output" != *"level="* ]]
	# --log-format json keeps the record on a terminal, and not a terminal keeps it too
	run script -qec "$PLATCTL --log-format json nosuch" /dev/null
	[[ "$output" == *'"level":"error"'*'"exit_code":"2"'* ]]
	run --separate-stderr "$PLATCTL" upload "$BATS_TEST_TMPDIR/missing.pdf"
	[ "$status" -eq 5 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	assert_error_logged 5
}

@test "version: text, --short, JSON schema, --version" {
	run --separate-stderr "$PLATCTL" version
	[ "$status" -eq 0 ]
	[[ "$output" == *"version "*"commit "*"build_date "*"libyaml "*"cjson "*"openssl "* ]]
	run "$PLATCTL" version --short
	[[ "$output" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
	run "$PLATCTL" version -o json
	echo "$output" | python3 -c '
import json, re, sys
d = json.load(sys.stdin)
assert set(d) == {"version", "commit", "build_date", "libraries"}, d
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["build_date"]), d
assert set(d["libraries"]) >= {"libyaml", "cjson", "openssl"}, d'
	git -C "$ROOT" rev-parse --short=12 HEAD >/dev/null 2>&1 && [[ "$output" == *"$(git -C "$ROOT" rev-parse --short=12 HEAD)"* ]]
	[ "$("$PLATCTL" --version -o json)" = "$("$PLATCTL" version -o json)" ]
	run "$PLATCTL" version -o yaml
	[[ "$output" == *"libraries:"* ]]
}
