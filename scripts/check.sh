#!/usr/bin/env bash
# Runs every test suite and ends with exactly one line: "N passed, N failed".
#   unit tests (cmocka, TAP), CLI tests (bats, TAP), and the unit tests again under
#   ASan + UBSan + LeakSanitizer. Exits non-zero when anything failed.
# Expects `make test-bins` to have run (make check does that first).
set -u
cd "$(dirname "$0")/.."

out=build/check
rm -rf "$out"
mkdir -p "$out"
passed=0 failed=0 skipped=0

# Count a TAP stream. A suite that crashes or exits early has fewer results than its plan;
# the missing ones count as failures, and a non-zero exit with no failure counts as one.
count_tap() {
	local name=$1 file=$2 rc=$3
	local ok notok skip plan missing
	# cmocka reports a skip as "not ok N # SKIP", bats as "ok N ... # skip".
	ok=$(grep -cE '^ok [0-9]+' "$file")
	skip=$(grep -cE '^(not )?ok [0-9]+.*# (skip|SKIP)' "$file")
	notok=$(grep -E '^not ok [0-9]+' "$file" | grep -cvE '# (skip|SKIP)')
	plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$file" | cut -d. -f3)
	ok=$((ok - $(grep -cE '^ok [0-9]+.*# (skip|SKIP)' "$file")))
	missing=0
	if [ -n "$plan" ] && [ $((ok + skip + notok)) -lt "$plan" ]; then
		missing=$((plan - ok - skip - notok))
	fi
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ] && [ "$missing" -eq 0 ]; then
		missing=1
	fi
	passed=$((passed + ok))
	skipped=$((skipped + skip))
	failed=$((failed + notok + missing))
	local extra=""
	[ "$skip" -gt 0 ] && extra=", $skip skipped"
	[ "$missing" -gt 0 ] && extra="$extra, $missing missing (exit $rc)"
	printf '%-34s %3d passed, %d failed%s\n' "$name" "$ok" "$((notok + missing))" "$extra"
	if [ $((notok + missing)) -gt 0 ]; then
		sed -n '/^not ok/,/^ok /p' "$file" | grep -v '^ok ' | sed 's/^/    /' | head -n 60
		[ "$missing" -gt 0 ] && tail -n 20 "$file" | sed 's/^/    | /'
	fi
}

run_unit() {
	local dir=$1 label=$2
	for t in "$dir"/test_*; do
		[ -x "$t" ] || continue
		local name="$label/$(basename "$t")" file="$out/$label-$(basename "$t").tap"
		CMOCKA_MESSAGE_OUTPUT=TAP \
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			"$t" >"$file" 2>&1
		count_tap "$name" "$file" $?
	done
}

# One PostgreSQL for the whole run (each test makes its own database on it); the
# watchdog in pg.sh removes it even if this script is killed.
if pg_env=$(tests/services/pg.sh start --owner $$); then
	eval "$pg_env"
	export TEST_PG_DIR TEST_PG_HOST="$PGHOST" TEST_PG_PORT="$PGPORT"
	export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
	unset PGHOST PGPORT PGUSER PGDATABASE PLATCTL_DATABASE_URL
else
	echo "could not start PostgreSQL for the tests"
	failed=$((failed + 1))
fi
# The fake Anthropic/OpenAI APIs for the provider tests.
if ai_env=$(tests/services/fake_ai.sh start --owner $$); then
	eval "$ai_env"
	export TEST_AI_DIR TEST_AI_URL TEST_AI_KEY
else
	echo "could not start the fake AI service for the tests"
	failed=$((failed + 1))
fi
stop_services() {
	[ -n "${TEST_PG_DIR:-}" ] && tests/services/pg.sh stop "$TEST_PG_DIR"
	[ -n "${TEST_AI_DIR:-}" ] && tests/services/fake_ai.sh stop "$TEST_AI_DIR"
	return 0
}
trap stop_services EXIT

run_unit build/tests unit
run_unit build/asan/tests asan

if command -v bats >/dev/null; then
	for f in tests/cli/*.bats; do
		file="$out/cli-$(basename "$f" .bats).tap"
		PLATCTL="$PWD/platctl" bats --tap "$f" >"$file" 2>&1
		count_tap "cli/$(basename "$f")" "$file" $?
	done
else
	echo "bats is not installed (run make deps)"
	failed=$((failed + 1))
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
