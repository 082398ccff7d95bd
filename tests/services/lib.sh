# Shared by the service scripts in tests/services (sourced, not run).

# Parse "[--owner PID]" into OWNER (default: the caller's parent). $1 names the script.
parse_owner() {
	local name=$1
	shift
	OWNER=$PPID
	while [ $# -gt 0 ]; do
		case $1 in
		--owner) OWNER=$2; shift 2 ;;
		*) echo "$name: unknown option $1" >&2; exit 2 ;;
		esac
	done
}

# Watchdog: outlives the starting script and runs "SCRIPT stop DIR" once OWNER is gone
# (or DIR was removed). setsid and closed descriptors, so test runners (bats waits on
# fd 3) never wait for it. Writes its pid to DIR/watchdog.pid.
start_watchdog() {
	local owner=$1 dir=$2 script=$3
	setsid bash -c '
		while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
		exec "$3" stop "$2"
	' watchdog "$owner" "$dir" "$script" </dev/null >/dev/null 2>&1 3>&- &
	echo $! >"$dir/watchdog.pid"
}

# True when a service's /__control/health on 127.0.0.1:PORT answers 200 (plain bash).
health_answers() {
	(
		exec 9<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET /__control/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&9
		IFS= read -r -t 2 status <&9 || exit 1
		case $status in "HTTP/1."?" 200 "*) exit 0 ;; *) exit 1 ;; esac
	) 2>/dev/null
}

# Stop DIR's watchdog (unless we are it: the watchdog calls stop itself).
kill_watchdog() {
	local dir=$1 w
	[ -f "$dir/watchdog.pid" ] || return 0
	w=$(cat "$dir/watchdog.pid")
	if [ "$w" != "$$" ] && [ "$w" != "${BASHPID:-}" ]; then
		kill "$w" 2>/dev/null || true
	fi
}

# True while PID runs: an exited process that nobody reaped yet (a zombie; the server's
# parent is gone, and PID 1 may reap late) has stopped.
running() {
	local state
	state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Stop the server whose pid is in DIR/server.pid (TERM, then KILL after 5 s), its
# watchdog, and remove DIR.
stop_service() {
	local dir=$1
	[ -d "$dir" ] || return 0
	kill_watchdog "$dir"
	if [ -f "$dir/server.pid" ]; then
		local pid
		pid=$(cat "$dir/server.pid")
		if kill "$pid" 2>/dev/null; then
			for _ in $(seq 1 50); do
				running "$pid" || break
				sleep 0.1
			done
			running "$pid" && kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	rm -rf "$dir"
}

# A service that did not come up: say so with its log, clean up, fail.
start_failed() {
	local what=$1 dir=$2
	echo "$what did not start; log:" >&2
	tail -n 30 "$dir/server.log" >&2 || true
	stop_service "$dir"
	exit 1
}
