# Sourced by bench/bench_*.sh: a scratch directory ($work, readable by the postgres user,
# which COPYs files from it) and a private PostgreSQL, both removed on exit however the
# benchmark ends. Benchmarks with more services add their directories to bench_stop.
bench_stop=()

bench_cleanup() {
	local s
	for s in "${bench_stop[@]}"; do
		$s || true
	done
	rm -rf "$work"
}

bench_start() { # NAME
	work=$(mktemp -d "/tmp/platctl-bench-$1.XXXXXX")
	chmod 0755 "$work"
	trap bench_cleanup EXIT
	eval "$(tests/services/pg.sh start --owner $$)"
	bench_stop+=("tests/services/pg.sh stop $TEST_PG_DIR")
}
