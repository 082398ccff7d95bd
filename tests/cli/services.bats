#!/usr/bin/env bats
# The test services themselves: a private PostgreSQL with pgvector on loopback that is
# always stopped and removed, also when its owner dies.
load helpers

PG="$BATS_TEST_DIRNAME/../services/pg.sh"

# A process that exited but was not yet reaped (a zombie) is not alive.
alive() {
	ps -o stat= -p "$1" 2>/dev/null | grep -qv Z
}

teardown() {
	[ -n "${TEST_PG_DIR:-}" ] && "$PG" stop "$TEST_PG_DIR" || true
}

@test "PostgreSQL starts on 127.0.0.1 with pgvector, and stop removes everything" {
	eval "$("$PG" start --owner $$)"
	[ -d "$TEST_PG_DIR" ]
	[ -S "$PGHOST/.s.PGSQL.$PGPORT" ]
	run psql -qAtX -v ON_ERROR_STOP=1 -c "CREATE EXTENSION vector" -c "SELECT '[1,0]'::vector <=> '[0,1]'::vector"
	[ "$status" -eq 0 ]
	[ "$output" = "1" ]
	run psql "$PLATCTL_DATABASE_URL" -qAtX -c "SHOW listen_addresses"
	[ "$output" = "127.0.0.1" ]
	pid=$(head -n1 "$TEST_PG_DIR/data/postmaster.pid")
	alive "$pid"
	dir=$TEST_PG_DIR
	"$PG" stop "$dir"
	unset TEST_PG_DIR
	[ ! -e "$dir" ]
	! alive "$pid"
}

@test "the watchdog stops PostgreSQL when its owner is killed" {
	sleep 600 3>&- &
	owner=$!
	eval "$("$PG" start --owner $owner)"
	pid=$(head -n1 "$TEST_PG_DIR/data/postmaster.pid")
	dir=$TEST_PG_DIR
	kill -9 "$owner"
	for _ in $(seq 1 40); do
		[ -e "$dir" ] || break
		sleep 0.5
	done
	[ ! -e "$dir" ]
	! alive "$pid"
	unset TEST_PG_DIR
}

@test "two clusters run side by side on different ports" {
	eval "$("$PG" start --owner $$)"
	first_dir=$TEST_PG_DIR first_port=$PGPORT
	eval "$("$PG" start --owner $$)"
	[ "$PGPORT" != "$first_port" ]
	psql -qAtX -c "SELECT 1" >/dev/null
	PGHOST=$first_dir PGPORT=$first_port psql -qAtX -c "SELECT 1" >/dev/null
	"$PG" stop "$first_dir"
	[ ! -e "$first_dir" ]
}
