# Shared setup for the CLI tests: an isolated environment per test, and the binary.
bats_require_minimum_version 1.5.0

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PLATCTL=${PLATCTL:-$ROOT/platctl}

# Each test gets its own HOME and XDG dirs and no PLATCTL_* variables from the caller,
# so a developer's own configuration never changes a result.
isolate() {
	local v
	for v in $(compgen -e | grep -E '^(PLATCTL_|NO_COLOR$)'); do
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
