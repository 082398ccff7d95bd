#!/usr/bin/env bash
# A private PostgreSQL 15 (+ pgvector) for one test run, on 127.0.0.1 only.
#
#   eval "$(tests/services/pg.sh start [--owner PID])"   starts it and prints exports:
#       TEST_PG_DIR PGHOST PGPORT PGUSER PGDATABASE PLATCTL_DATABASE_URL
#   tests/services/pg.sh stop DIR                        stops it and removes DIR
#
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
# The socket lives in the temp dir; TCP listens on 127.0.0.1 and a free port.
# A watchdog stops the server and removes the directory when the owner process (default:
# the caller's parent) exits, so a crashed or killed test run leaves nothing behind.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

port_in_use() {
	(exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_cluster() {
	local dir=$1
	[ -d "$dir" ] || return 0
	kill_watchdog "$dir"
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
			{ kill -9 "$(head -n1 "$dir/data/postmaster.pid")" 2>/dev/null || true; }
	fi
	rm -rf "$dir"
}

start_cluster() {
	parse_owner pg.sh "$@"
	local owner=$OWNER

	local dir
	dir=$(mktemp -d /tmp/platctl-pg.XXXXXX)
	chmod 0755 "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
	trap 'stop_cluster "$dir"' ERR

	as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }

	local port started=0
	for _ in 1 2 3 4 5 6 7 8; do
		port=$((20000 + RANDOM % 40000))
		port_in_use "$port" && continue
		# Test settings: durability off for speed; loopback and the private socket only.
		if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o \
			"-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
			start </dev/null >/dev/null 2>&1 3>&-; then
			started=1
			break
		fi
	done
	if [ "$started" -ne 1 ]; then
		echo "pg.sh: PostgreSQL did not start; server log:" >&2
		tail -n 30 "$dir/server.log" >&2 || true
		stop_cluster "$dir"
		exit 1
	fi

	"$PG_BIN/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 \
		-c "CREATE DATABASE platctl" >/dev/null

	start_watchdog "$owner" "$dir" "$(readlink -f "$0")"

	trap - ERR
	cat <<EOF
export TEST_PG_DIR='$dir'
export PGHOST='$dir'
export PGPORT='$port'
export PGUSER=postgres
export PGDATABASE=platctl
export PLATCTL_DATABASE_URL='postgresql://postgres@127.0.0.1:$port/platctl'
EOF
}

case ${1:-} in
start) shift; start_cluster "$@" ;;
stop) stop_cluster "${2:?usage: pg.sh stop DIR}" ;;
*) echo "usage: pg.sh start [--owner PID] | stop DIR" >&2; exit 2 ;;
esac
