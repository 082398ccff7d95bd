#!/usr/bin/env bash
# Runs every test suite and ends with exactly one line: "N passed, N failed".
#   unit tests (cmocka, TAP), CLI tests (bats, TAP), and the unit tests again under
#   ASan + UBSan + LeakSanitizer. Exits non-zero when anything failed.
# Expects `make test-bins` to have run (make check does that first).
#
#   scripts/check.sh [PATTERN...]   only the suites whose name ("unit/test_db", "asan/test_db",
#                                   "cli/upload.bats") matches one of the shell patterns
#
# The suites run in CHECK_JOBS parallel lanes (default: cores + 1): most CLI tests wait on
# services, timeouts and child processes, not on the CPU. Each suite writes its TAP to its own
# file; the summary lines come in the same fixed order whatever finishes first. Lanes take the
# suites longest first, by the durations in tests/check-timings.txt (a suite not listed there
# is taken first: it may be slow, and it is new); every run writes build/check/timings.txt
# for refreshing that list.
set -u
cd "$(dirname "$0")/.."

out=build/check
rm -rf "$out"
mkdir -p "$out/run" "$out/home"
# A suite's XDG directories follow from its own HOME (below), never the caller's.
unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME XDG_STATE_HOME
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

# The suites, in the order their lines are printed: "name<TAB>kind<TAB>path".
suites=()
selected() {
	[ $# -eq 0 ] && return 0
	local p
	for p in "${patterns[@]}"; do
		# shellcheck disable=SC2053 # the pattern is a glob on purpose
		[[ $1 == $p ]] && return 0
	done
	return 1
}
patterns=("$@")
for t in build/tests/test_*; do
	[ -x "$t" ] && selected "unit/${t##*/}" && suites+=("unit/${t##*/}	unit	$t")
done
for t in build/asan/tests/test_*; do
	[ -x "$t" ] && selected "asan/${t##*/}" && suites+=("asan/${t##*/}	unit	$t")
done
have_bats=1
if command -v bats >/dev/null; then
	for f in tests/cli/*.bats; do
		selected "cli/${f##*/}" && suites+=("cli/${f##*/}	bats	$f")
	done
else
	have_bats=0
fi

jobs=${CHECK_JOBS:-$(($(nproc 2>/dev/null || echo 1) + 1))}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
[ "$jobs" -gt "${#suites[@]}" ] && jobs=${#suites[@]}

# Each lane has a PostgreSQL (each test makes its own database on it) and a fake
# Anthropic/OpenAI API of its own, so that the suites of one lane see what they saw when
# everything ran in sequence: a cluster-wide query (pg_locks, pg_stat_activity) sees only
# its own lane, and a test's scripted AI replies are not taken by a suite in another lane.
# The services' watchdogs remove them even if this script is killed.
start_lane_services() {
	local l=$1 env
	if env=$(tests/services/pg.sh start --owner $$); then
		printf '%s\n' "$env" >"$out/run/lane$l.pg"
	else
		echo "could not start PostgreSQL for the tests" >"$out/run/lane$l.err"
	fi
	if env=$(tests/services/fake_ai.sh start --owner $$); then
		printf '%s\n' "$env" >"$out/run/lane$l.ai"
	else
		echo "could not start the fake AI service for the tests" >>"$out/run/lane$l.err"
	fi
}
for ((l = 0; l < jobs; l++)); do
	start_lane_services "$l" &
done
wait
pg_dirs=() ai_dirs=()
for ((l = 0; l < jobs; l++)); do
	if [ -s "$out/run/lane$l.err" ]; then
		cat "$out/run/lane$l.err"
		failed=$((failed + $(wc -l <"$out/run/lane$l.err")))
	fi
	(
		unset TEST_PG_DIR TEST_AI_DIR
		if [ -s "$out/run/lane$l.pg" ]; then
			eval "$(cat "$out/run/lane$l.pg")"
			printf 'export TEST_PG_DIR=%q TEST_PG_HOST=%q TEST_PG_PORT=%q\n' "$TEST_PG_DIR" "$PGHOST" "$PGPORT"
			printf 'export TEST_DATABASE_URL=%q\n' "postgresql://postgres@127.0.0.1:$PGPORT/postgres"
		fi
		if [ -s "$out/run/lane$l.ai" ]; then
			eval "$(cat "$out/run/lane$l.ai")"
			printf 'export TEST_AI_DIR=%q TEST_AI_URL=%q TEST_AI_KEY=%q\n' "$TEST_AI_DIR" "$TEST_AI_URL" "$TEST_AI_KEY"
		fi
	) >"$out/run/lane$l.env"
	d=$(sed -n "s/^export TEST_PG_DIR='\(.*\)'$/\1/p" "$out/run/lane$l.pg" 2>/dev/null)
	[ -n "$d" ] && pg_dirs+=("$d")
	d=$(sed -n "s/^export TEST_AI_DIR='\(.*\)'$/\1/p" "$out/run/lane$l.ai" 2>/dev/null)
	[ -n "$d" ] && ai_dirs+=("$d")
done
unset PGHOST PGPORT PGUSER PGDATABASE PLATCTL_DATABASE_URL TEST_PG_DIR TEST_PG_HOST TEST_PG_PORT
unset TEST_DATABASE_URL TEST_AI_DIR TEST_AI_URL TEST_AI_KEY

lane_pids=()
stop_services() {
	local p d
	for p in "${lane_pids[@]}"; do
		kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true
	done
	for d in "${pg_dirs[@]}"; do
		tests/services/pg.sh stop "$d" &
	done
	for d in "${ai_dirs[@]}"; do
		tests/services/fake_ai.sh stop "$d" &
	done
	wait
	return 0
}
trap stop_services EXIT
trap 'exit 130' INT TERM

# The queue, longest first: index<TAB>name, from the committed durations.
declare -A known=()
if [ -r tests/check-timings.txt ]; then
	while read -r secs name; do
		[[ $secs == [0-9]* ]] && known[$name]=$secs
	done <tests/check-timings.txt
fi
for i in "${!suites[@]}"; do
	name=${suites[$i]%%	*}
	printf '%s\t%s\n' "${known[$name]:-99999}" "$i"
done | sort -t "$(printf '\t')" -k1,1nr -k2,2n | cut -f2 >"$out/run/queue"
echo 0 >"$out/run/next"

# A lane: takes the next suite off the queue until none is left. Each suite has its own HOME
# (so no two share a file there), and its exit status lands in run/N.rc after its TAP.
run_lane() {
	local lane=$1 i entry name kind path file start
	# shellcheck disable=SC1090
	. "$out/run/lane$lane.env"
	while :; do
		i=$(flock "$out/run/next" bash -c 'n=$(cat "$1"); echo $((n + 1)) >"$1"; echo "$n"' _ "$out/run/next")
		entry=$(sed -n "$((i + 1))p" "$out/run/queue")
		[ -n "$entry" ] || break
		IFS='	' read -r name kind path <<<"${suites[$entry]}"
		file="$out/${name%%/*}-$(basename "$path" .bats).tap"
		[ "$kind" = bats ] && file="$out/cli-$(basename "$path" .bats).tap"
		mkdir -p "$out/home/$entry"
		start=$(date +%s.%N)
		if [ "$kind" = unit ]; then
			HOME="$PWD/$out/home/$entry" CMOCKA_MESSAGE_OUTPUT=TAP \
				ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
				UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
				"$path" >"$file" 2>&1 </dev/null
		else
			HOME="$PWD/$out/home/$entry" PLATCTL="$PWD/platctl" bats --tap --timing "$path" >"$file" 2>&1 </dev/null
		fi
		echo $? >"$out/run/$entry.rc.tmp"
		echo "$(date +%s.%N) $start" | awk -v n="$name" '{ printf "%.1f %s\n", $1 - $2, n }' >"$out/run/$entry.time"
		printf '%s\n' "$file" >"$out/run/$entry.file"
		mv "$out/run/$entry.rc.tmp" "$out/run/$entry.rc"
	done
}

# Each lane in its own process group, so that stopping the run stops what it started.
for ((l = 0; l < jobs; l++)); do
	set -m
	run_lane "$l" &
	lane_pids+=($!)
	set +m
done

# The summary in suite order, each line as soon as its suite is done.
lanes_alive() {
	local p
	for p in "${lane_pids[@]}"; do
		kill -0 "$p" 2>/dev/null && return 0
	done
	return 1
}
for i in "${!suites[@]}"; do
	name=${suites[$i]%%	*}
	while [ ! -e "$out/run/$i.rc" ]; do
		if ! lanes_alive && [ ! -e "$out/run/$i.rc" ]; then
			break
		fi
		sleep 0.2
	done
	if [ -e "$out/run/$i.rc" ]; then
		count_tap "$name" "$(cat "$out/run/$i.file")" "$(cat "$out/run/$i.rc")"
	else
		# its lane died under it: nothing to count, and that is a failure
		: >"$out/run/$i.empty"
		count_tap "$name" "$out/run/$i.empty" 1
	fi
done
wait
cat "$out"/run/*.time 2>/dev/null | sort -k1,1nr >"$out/timings.txt"

if [ "$have_bats" -eq 0 ]; then
	echo "bats is not installed (run make deps)"
	failed=$((failed + 1))
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
