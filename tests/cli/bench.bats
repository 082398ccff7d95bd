#!/usr/bin/env bats
# The benchmarks run with their own configuration, never the caller's (a `make demo`
# shell's dev profile once sent bench_consume.sh to the PostgreSQL queue and it printed a
# ratio of nothing), and fail loudly when they cannot verify their work. Only bench/lib.sh
# is exercised here; the benchmarks themselves are not timed tests.
load helpers

@test "bench/lib.sh drops the caller's PLATCTL_* and client settings and gives the benchmark its own HOME" {
	isolate
	mkdir -p "$HOME/.config/platctl"
	printf 'events:\n  backend: postgres\n' >"$HOME/.config/platctl/config.yaml"
	run env PLATCTL_PROFILE=dev PLATCTL_EVENTS_BACKEND=postgres PLATCTL_CONFIG=/etc/x.yaml PGHOST=elsewhere \
		AWS_PROFILE=prod KCAT_CONFIG=/x BENCH_KEEP=1 bash -c '
		cd "$1" && . bench/lib.sh && bench_scratch selftest
		compgen -e | grep -E "^(PLATCTL_|PG[A-Z]+$|AWS_|KCAT_CONFIG$)" | sed "s/^/leaked: /"
		echo "home=$HOME"
		echo "xdg=$XDG_CONFIG_HOME $XDG_DATA_HOME $XDG_CACHE_HOME"
		echo "keep=$BENCH_KEEP"
		[ -d "$XDG_DATA_HOME" ] && [ -d "$XDG_CACHE_HOME" ] && echo dirs
		[ -f "$XDG_CONFIG_HOME/platctl/config.yaml" ] && [ ! -s "$XDG_CONFIG_HOME/platctl/config.yaml" ] && echo "empty config"
		"$1/platctl" config show events.backend -o json | jq -r ".file + \" \" + .keys[0].value + \" \" + .keys[0].source"
		echo "work=$work"' _ "$ROOT"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" != *leaked:* ]] || { echo "$output"; false; }
	work=$(sed -n 's/^work=//p' <<<"$output")
	[[ "$work" == /tmp/platctl-bench-selftest.* ]]
	grep -qx "home=$work/home" <<<"$output"
	grep -qx "xdg=$work/home/.config $work/home/.local/share $work/home/.cache" <<<"$output"
	grep -qx "keep=1" <<<"$output" # the benchmark's own knobs pass
	grep -qx dirs <<<"$output"
	grep -qx "empty config" <<<"$output"
	# platctl reads the benchmark's empty file: defaults, not the caller's postgres backend
	grep -qx "$work/home/.config/platctl/config.yaml auto default" <<<"$output"
	[ ! -e "$work" ] # removed on exit
}

@test "bench_check and bench_fail stop a benchmark with a clear message" {
	run bash -c 'cd "$1" && . bench/lib.sh && bench_scratch selftest && bench_check "events read" 0 600000; echo "printed a ratio"' _ "$ROOT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bench_selftest: FAILED: events read: got '0', expected '600000'"* ]]
	[[ "$output" != *"printed a ratio"* ]]
	run bash -c 'cd "$1" && . bench/lib.sh && bench_scratch selftest && bench_check same 5 5 && echo ok' _ "$ROOT"
	[ "$status" -eq 0 ] && [ "$output" = ok ]
}

@test "every benchmark sets itself up through bench/lib.sh" {
	for b in "$ROOT"/bench/bench_*.sh; do
		grep -q '^\. bench/lib\.sh$' "$b" || { echo "$b does not source bench/lib.sh"; false; }
		grep -qE '^bench_(start|scratch) ' "$b" || { echo "$b calls neither bench_start nor bench_scratch"; false; }
		! grep -n 'mktemp' "$b" || { echo "$b makes its own scratch dir"; false; }
	done
}
