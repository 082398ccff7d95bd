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

# What a test of the document pipeline starts from: a clean environment, a fresh migrated
# database, file storage in the test's directory and the builtin (compiled-in) taxonomy.
pipeline_setup() {
	isolate
	fresh_db
	"$PLATCTL" migrate up >/dev/null
	export PLATCTL_STORAGE_URL="file://$BATS_TEST_TMPDIR/store"
}

# The S3 service (s3rver behind the SigV4-checking proxy) for a test file.
s3_setup_file() {
	eval "$("$ROOT/tests/services/s3.sh" start --owner $$)"
	export TEST_S3_DIR TEST_S3_ENDPOINT TEST_S3_BUCKET AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
}

s3_teardown_file() {
	"$ROOT/tests/services/s3.sh" stop "$TEST_S3_DIR"
}

# A Kafka cluster (librdkafka's mock, 3 brokers) for one test; topics platctl.documents (6
# partitions) and platctl.documents.dead-letter. Points platctl at it with a 6 s session
# timeout, so a killed consumer's partitions move on quickly.
kafka_setup() {
	eval "$("$ROOT/tests/services/kafka.sh" start --owner $$)"
	export TEST_KAFKA_DIR TEST_KAFKA_BROKERS TEST_KAFKA_PID
	export PLATCTL_EVENTS_KAFKA_BROKERS="$TEST_KAFKA_BROKERS" PLATCTL_EVENTS_KAFKA_SESSION_TIMEOUT=6s
}

kafka_teardown() {
	[ -n "${TEST_KAFKA_DIR:-}" ] && "$ROOT/tests/services/kafka.sh" stop "$TEST_KAFKA_DIR"
	return 0
}

# N small distinct text documents in DIR.
make_documents() {
	local dir=$1 n=$2 i
	mkdir -p "$dir"
	for ((i = 1; i <= n; i++)); do
		printf 'Document %d of the batch.\nThe supplier %d agrees to deliver item %d by the end of the month.\n' \
			"$i" "$i" "$i" >"$dir/doc$i.txt"
	done
}

# Three consumers work through N queued documents while a killer takes one down with
# kill -9 each time another N/(KILLS+1) documents are done (so every kill lands while
# documents are in flight) and starts a replacement; then one last consumer mops up.
# Every consumer exits on its own after IDLE seconds without work.
consume_with_kills() {
	local n=$1 kills=$2 idle=$3 log=$BATS_TEST_TMPDIR/consumers.log
	local pids=() i k victim done_n
	for i in 0 1 2; do
		"$PLATCTL" consume -c 2 --idle-exit "$idle" -o json >>"$log" 2>&1 &
		pids[$i]=$!
	done
	for ((k = 1; k <= kills; k++)); do
		for _ in $(seq 1 600); do
			done_n=$(test_psql -d "$TEST_DB" -Atc "SELECT count(*) FROM documents WHERE status = 'processed'")
			[ "$done_n" -ge $((k * n / (kills + 1))) ] && break
			sleep 0.1
		done
		victim=$((RANDOM % 3))
		kill -9 "${pids[$victim]}" 2>/dev/null || true
		wait "${pids[$victim]}" 2>/dev/null || true
		"$PLATCTL" consume -c 2 --idle-exit "$idle" -o json >>"$log" 2>&1 &
		pids[$victim]=$!
	done
	for i in 0 1 2; do
		wait "${pids[$i]}" || true
	done
	"$PLATCTL" consume --idle-exit "$idle" -o json >>"$log" 2>&1 || true
}

# Exactly once in effect: every document processed, one processed event and one audit
# entry each, no chunk twice.
assert_processed_once() {
	local n=$1
	[ "$(test_psql -d "$TEST_DB" -Atc "SELECT count(*) FROM documents WHERE status = 'processed'")" -eq "$n" ]
	[ "$(test_psql -d "$TEST_DB" -Atc "SELECT count(*) FROM outbox WHERE event_type = 'document.processed'")" -eq "$n" ]
	[ "$(test_psql -d "$TEST_DB" -Atc "SELECT count(DISTINCT aggregate_id) FROM outbox WHERE event_type = 'document.processed'")" -eq "$n" ]
	[ "$(test_psql -d "$TEST_DB" -Atc "SELECT count(*) FROM audit_log WHERE action = 'document.process'")" -eq "$n" ]
	[ "$(test_psql -d "$TEST_DB" -Atc "SELECT count(*) FROM (SELECT 1 FROM chunks GROUP BY document_id, ord HAVING count(*) > 1) d")" -eq 0 ]
}

# A private copy of the tree for a test that runs make with other variables than the
# build's (make install PREFIX=/usr rewrites build/gen/paths.h and relinks both binaries):
# make in $ROOT would replace ./platctl and build/ under the suites that make check runs
# beside this one (a relink mid-exec fails them with 126). The sources and the current
# build outputs are copied with their timestamps, so make in the copy rebuilds only what
# the changed variables touch. Prints the copy's directory (DIR, made if missing).
private_tree() { # DIR
	local tree=$1 f
	mkdir -p "$tree"
	(
		cd "$ROOT" || exit 1
		if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
			# tracked and new files, not the deleted ones (cp would fail on them)
			git ls-files -z --cached --others --exclude-standard |
				while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done
		else
			find . \( -path ./build -o -path ./.git -o -name node_modules \) -prune -o \
				\( -type f -o -type l \) -print0
		fi | xargs -0 cp -P -p --parents -t "$tree" || exit 1
		for f in platctl platctl-extract build/gen build/obj build/libplat.a build/man build/docs; do
			[ -e "$f" ] || continue
			mkdir -p "$tree/$(dirname "$f")"
			cp -a "$f" "$tree/$(dirname "$f")/" || exit 1
		done
	) || return 1
	echo "$tree"
}

# LOG [serve options...]: platctl serve on a free port of 127.0.0.1 with two threads, its
# JSON log in LOG; sets SERVER_PID, ADDR (host:port) and URL (https:// with --tls-cert).
serve_start() {
	local log=$1
	shift
	"$PLATCTL" -v --log-format json serve --listen 127.0.0.1:0 --threads 2 "$@" 2>"$log" &
	SERVER_PID=$!
	ADDR= URL=
	for _ in $(seq 100); do
		ADDR=$(jq -r 'select(.msg == "listening") | .address' "$log" 2>/dev/null | head -n 1)
		URL=$(jq -r 'select(.msg == "listening") | .url' "$log" 2>/dev/null | head -n 1)
		[ -n "$ADDR" ] && break
		sleep 0.1
	done
	[ -n "$ADDR" ]
}

# Stop the server serve_start started (SIGTERM, as its service manager would), if it runs.
serve_stop() {
	[ -n "${SERVER_PID:-}" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" || true
	SERVER_PID=
}
