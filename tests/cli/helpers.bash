# Shared setup for the CLI tests: an isolated environment per test, and the binary.
bats_require_minimum_version 1.5.0

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PLATCTL=${PLATCTL:-$ROOT/platctl}

# Each test gets its own HOME and XDG dirs and no PLATCTL_* variables from the caller,
# so a developer's own configuration never changes a result.
isolate() {
	local v
	for v in $(compgen -e | grep -E '^(PLATCTL_|NO_COLOR$|PG[A-Z]+$)'); do
		unset "$v"
	done
	export HOME="$BATS_TEST_TMPDIR/home"
	export XDG_CONFIG_HOME="$HOME/.config"
	mkdir -p "$XDG_CONFIG_HOME"
}

# Every command path ("config show", "version", ...), from the binary's own table.
command_paths() {
	"$PLATCTL" __commands | awk '{ s = ""; for (i = 2; i <= NF && $i !~ /^[[\[<A-Z]/; i++) s = s (s ? " " : "") $i; print s }'
}

# Assert that the last log line on stderr ($stderr) is JSON with the given exit code.
assert_error_logged() {
	local code=$1
	local last
	last=$(printf '%s\n' "$stderr" | tail -n 1)
	printf '%s' "$last" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["level"]=="error", d; assert d["exit_code"]==sys.argv[1], d' "$code"
}

# PostgreSQL for a test file: the server make check started (TEST_PG_PORT), or a private
# one when the file runs on its own. Call from setup_file / teardown_file.
pg_setup_file() {
	if [ -z "${TEST_PG_PORT:-}" ]; then
		eval "$("$ROOT/tests/services/pg.sh" start --owner $$)"
		export TEST_PG_OWNED=1 TEST_PG_HOST="$PGHOST" TEST_PG_PORT="$PGPORT"
		unset PGHOST PGPORT PGUSER PGDATABASE PLATCTL_DATABASE_URL
	fi
}

pg_teardown_file() {
	if [ -n "${TEST_PG_OWNED:-}" ]; then
		"$ROOT/tests/services/pg.sh" stop "$TEST_PG_DIR"
	fi
}

# psql as the superuser of the test server; extra arguments go to psql.
test_psql() {
	psql -h "$TEST_PG_HOST" -p "$TEST_PG_PORT" -U postgres -qAtX -v ON_ERROR_STOP=1 "$@"
}

# A new empty database for this test; sets TEST_DB and PLATCTL_DATABASE_URL.
fresh_db() {
	TEST_DB="t_${BATS_TEST_NUMBER}_$$_$RANDOM"
	test_psql -d postgres -c "CREATE DATABASE $TEST_DB"
	export TEST_DB PLATCTL_DATABASE_URL="postgresql://postgres@127.0.0.1:$TEST_PG_PORT/$TEST_DB"
}

# The S3 service (s3rver behind the SigV4-checking proxy) for a test file.
s3_setup_file() {
	eval "$("$ROOT/tests/services/s3.sh" start --owner $$)"
	export TEST_S3_DIR TEST_S3_ENDPOINT TEST_S3_BUCKET AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
}

s3_teardown_file() {
	"$ROOT/tests/services/s3.sh" stop "$TEST_S3_DIR"
}
