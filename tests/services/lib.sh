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
