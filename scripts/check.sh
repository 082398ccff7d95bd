#!/usr/bin/env bash
# Runs every test suite and ends with exactly one line: "N passed, N failed".
#   unit tests (cmocka, TAP), CLI tests (bats, TAP), and the unit tests again under
#   ASan + UBSan + LeakSanitizer. Exits non-zero when anything failed.
# Expects `make test-bins` to have run (make check does that first).
#
#   scripts/check.sh [PATTERN...]   only the suites whose name ("unit/test_db", "asan/test_db",
#                                   "cli/upload.bats") matches one of the shell patterns
#
# The suites run in CHECK_JOBS parallel lanes (default 3): most CLI tests wait on
# services, timeouts and child processes, not on the CPU. Each suite writes its TAP to its own
# file; the summary lines come in the same fixed order whatever finishes first. Lanes take the
# suites longest first, by the durations in tests/check-timings.txt (a suite not listed there
# is taken first: it may be slow, and it is new), where a long bats file can also be given a
# number of shards; every run writes build/check/timings.txt for refreshing that list.
# Each lane has its own PostgreSQL and fake AI service; the per-suite TAP files are in
# build/check, named as before.
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
	[ ${#patterns[@]} -eq 0 ] && return 0
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

# 3 lanes unless CHECK_JOBS says otherwise. No suite may change the binaries
# and the build the lanes share (a relink under a running suite fails it with 126, "cannot
# execute"): a suite that needs make with other variables runs it in a copy of the tree
# (tests/cli/helpers.bash: private_tree), and the guard below fails a suite that did not.
jobs=${CHECK_JOBS:-3}
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

# The work, longest first, from the committed durations. A bats file listed there with a
# number of shards is run as that many bats runs side by side, each with its share of the
# tests (bats --filter): its tests must not depend on one another (each makes its own
# database and services), only on setup_file, which each shard runs. Its TAP is merged back
# into one file, and counted as one suite. A unit is "suite<TAB>shard<TAB>shards".
# A suite marked "serial" there runs alone after all the others, for one that cannot share
# the machine (none is now: install.bats, once serial, makes its install in a copy).
declare -A known=() nshards=() serial=()
if [ -r tests/check-timings.txt ]; then
	while read -r secs name k; do
		[[ $secs == [0-9]* ]] || continue
		known[$name]=$secs
		[[ ${k:-} == [1-9]* ]] && nshards[$name]=$k
		[[ ${k:-} == serial ]] && serial[$name]=1
	done <tests/check-timings.txt
fi
# A shard's filter: its tests' exact names, as an anchored extended regular expression.
# Sharding is skipped unless the names found are exactly the tests bats counts.
make_shards() {
	local i=$1 path=$2 k=$3 names=() n j re
	mapfile -t names < <(sed -nE 's/^@test "(.*)" \{$/\1/p' "$path")
	n=$(bats --count "$path" 2>/dev/null) || return 1
	[ "${#names[@]}" -eq "$n" ] && [ "$n" -ge "$k" ] || return 1
	echo "$n" >"$out/run/$i.count"
	for ((j = 0; j < k; j++)); do
		re=""
		for ((t = j; t < n; t += k)); do
			re="$re${re:+|}$(printf '%s' "${names[$t]}" | sed -E 's/[][\.*+?(){}|^$]/\\&/g')"
		done
		printf '^(%s)$\n' "$re" >"$out/run/$i.$j.filter"
	done
}
units=()
for i in "${!suites[@]}"; do
	IFS='	' read -r name kind path <<<"${suites[$i]}"
	k=${nshards[$name]:-1}
	if [ "$kind" != bats ] || [ "$k" -le 1 ] || ! make_shards "$i" "$path" "$k"; then
		k=1
	fi
	echo "$k" >"$out/run/$i.shards"
	if [ -n "${serial[$name]:-}" ]; then
		printf '%s\t0\t1\n' "$i" >>"$out/run/serial"
		continue
	fi
	for ((j = 0; j < k; j++)); do
		units+=("$(( ${known[$name]:-99999} / k ))	$i	$j	$k")
	done
done
printf '%s\n' "${units[@]}" | sort -t "$(printf '\t')" -k1,1nr -k2,2n -k3,3n | cut -f2- >"$out/run/queue"
touch "$out/run/serial"
echo 0 >"$out/run/next"

# What every lane runs and no suite may change: the binaries and the build they come from
# (test binaries, objects, generated headers). A relink or a rebuild changes a file's inode,
# size or mtime. Taken before the lanes start; each unit compares it before and after it
# runs, and a unit that saw it change while it ran fails (in one lane that is the suite
# that did it; with several, it or one beside it).
build_state() {
	find platctl platctl-extract build -path build/check -prune -o \( -type f -o -type l \) \
		-printf '%p %i %s %T@\n' 2>/dev/null | LC_ALL=C sort
}
build_state >"$out/run/build.state"

# Unit ENTRY J K: shard J of K of suite ENTRY. Each suite has its own HOME (so no two share
# a file there), and a unit's exit status lands in run/N.K.rc after its TAP.
run_unit() {
	local entry=$1 j=$2 k=$3 name kind path file start filter
	IFS='	' read -r name kind path <<<"${suites[$entry]}"
	file="$out/$entry.$j.tap"
	filter=()
	[ "$k" -gt 1 ] && filter=(--filter "$(cat "$out/run/$entry.$j.filter")")
	mkdir -p "$out/home/$entry.$j"
	local intact=0
	build_state | cmp -s - "$out/run/build.state" && intact=1
	start=$(date +%s.%N)
	if [ "$kind" = unit ]; then
		HOME="$PWD/$out/home/$entry.$j" CMOCKA_MESSAGE_OUTPUT=TAP \
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			"$path" >"$file" 2>&1 </dev/null
	else
		HOME="$PWD/$out/home/$entry.$j" PLATCTL="$PWD/platctl" \
			bats --tap --timing "${filter[@]}" "$path" >"$file" 2>&1 </dev/null
	fi
	echo $? >"$out/run/$entry.$j.rc.tmp"
	if [ "$intact" -eq 1 ]; then
		build_state | diff "$out/run/build.state" - | sed -nE 's/^[<>] ([^ ]+) .*/\1/p' |
			sort -u >"$out/run/$entry.$j.changed"
		[ -s "$out/run/$entry.$j.changed" ] || rm -f "$out/run/$entry.$j.changed"
	fi
	echo "$(date +%s.%N) $start" | awk -v n="$name" -v s="$([ "$k" -gt 1 ] && echo " [$((j + 1))/$k]")" \
		'{ printf "%.1f %s%s\n", $1 - $2, n, s }' >"$out/run/$entry.$j.time"
	mv "$out/run/$entry.$j.rc.tmp" "$out/run/$entry.$j.rc"
}

# A lane: takes the next unit off the queue until none is left. Lane 0 then waits for the
# other lanes to finish and runs the serial suites, alone.
run_lane() {
	local lane=$1 i entry j k l
	# shellcheck disable=SC1090
	. "$out/run/lane$lane.env"
	while :; do
		i=$(flock "$out/run/next" bash -c 'n=$(cat "$1"); echo $((n + 1)) >"$1"; echo "$n"' _ "$out/run/next")
		IFS='	' read -r entry j k <<<"$(sed -n "$((i + 1))p" "$out/run/queue")"
		[ -n "$entry" ] || break
		run_unit "$entry" "$j" "$k"
	done
	touch "$out/run/lane$lane.done"
	[ "$lane" -eq 0 ] && [ -s "$out/run/serial" ] || return 0
	for ((l = 1; l < jobs; l++)); do
		while [ ! -e "$out/run/lane$l.done" ]; do
			sleep 0.2
		done
	done
	while IFS='	' read -r entry j k; do
		run_unit "$entry" "$j" "$k"
	done <"$out/run/serial"
}

# Each lane in its own process group, so that stopping the run stops what it started.
for ((l = 0; l < jobs; l++)); do
	set -m
	run_lane "$l" &
	lane_pids+=($!)
	set +m
done

lanes_alive() {
	local p
	for p in "${lane_pids[@]}"; do
		kill -0 "$p" 2>/dev/null && return 0
	done
	return 1
}
# Suite I's TAP in FILE, its exit status echoed: the shards' TAP one after another under one
# plan (the sum of theirs, or the number of tests when a shard has none: it crashed), and the
# first non-zero status. A shard whose lane died under it has no status: exit 1.
merge_suite() {
	local i=$1 file=$2 k j rc=0 r plan=0 p
	k=$(cat "$out/run/$i.shards")
	if [ "$k" -eq 1 ]; then
		if [ -e "$out/run/$i.0.rc" ]; then
			mv "$out/$i.0.tap" "$file"
			cat "$out/run/$i.0.rc"
		else
			: >"$file"
			echo 1
		fi
		return
	fi
	for ((j = 0; j < k; j++)); do
		p=$(grep -m1 -oE '^1\.\.[0-9]+' "$out/$i.$j.tap" 2>/dev/null | cut -d. -f3)
		if [ -n "$p" ] && [ -n "$plan" ]; then plan=$((plan + p)); else plan=""; fi
		r=1
		[ -e "$out/run/$i.$j.rc" ] && r=$(cat "$out/run/$i.$j.rc")
		[ "$rc" -eq 0 ] && rc=$r
	done
	[ -n "$plan" ] || plan=$(cat "$out/run/$i.count")
	{
		[ -n "$plan" ] && echo "1..$plan"
		for ((j = 0; j < k; j++)); do
			echo "# shard $((j + 1))/$k"
			grep -vE '^1\.\.[0-9]+$' "$out/$i.$j.tap" 2>/dev/null
			rm -f "$out/$i.$j.tap"
		done
	} >"$file"
	echo "$rc"
}

# A failure in suite I's TAP FILE when the shared build changed while one of its units ran.
blamed=0
blame_build_change() {
	local i=$1 file=$2 k j
	k=$(cat "$out/run/$i.shards")
	for ((j = 0; j < k; j++)); do
		[ -s "$out/run/$i.$j.changed" ] || continue
		{
			echo "not ok 9999 this suite changed the shared build (./platctl, build/), or one running beside it did:"
			head -n 20 "$out/run/$i.$j.changed" | sed 's/^/# changed: /'
		} >>"$file"
		blamed=$((blamed + 1))
	done
	return 0
}

# The summary in suite order, each line as soon as its suite is done.
for i in "${!suites[@]}"; do
	IFS='	' read -r name kind path <<<"${suites[$i]}"
	k=$(cat "$out/run/$i.shards")
	for ((j = 0; j < k; j++)); do
		while [ ! -e "$out/run/$i.$j.rc" ] && lanes_alive; do
			sleep 0.2
		done
	done
	file="$out/${name%%/*}-$(basename "$path" .bats).tap"
	rc=$(merge_suite "$i" "$file")
	blame_build_change "$i" "$file"
	count_tap "$name" "$file" "$rc"
done
wait
cat "$out"/run/*.time 2>/dev/null | sort -k1,1nr >"$out/timings.txt"
# A change no unit saw (between two units, or after the last): still a failure.
if [ "$blamed" -eq 0 ] && ! build_state | cmp -s - "$out/run/build.state"; then
	echo "the shared build (./platctl, build/) changed during the run:"
	build_state | diff "$out/run/build.state" - | sed -nE 's/^[<>] ([^ ]+) .*/    \1/p' | sort -u | head -n 20
	failed=$((failed + 1))
fi

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
