# Sourced by bench/bench_*.sh: a scratch directory ($work, readable by the postgres user,
# which COPYs files from it) and a private PostgreSQL, both removed on exit however the
# benchmark ends. Benchmarks with more services add their stop commands to bench_stop.
#
# A benchmark runs with its own configuration only: none of the caller's PLATCTL_*
# variables (a `make demo` shell's dev profile would send consume to the PostgreSQL queue
# of a Kafka benchmark), its own HOME and XDG dirs in $work, and an empty config file of
# its own there, so neither ~/.config/platctl nor /etc/platctl/config.yaml is read. What
# a benchmark means to configure it exports itself after bench_start. Before it prints a
# ratio it checks the work was done (bench_check / bench_fail): counts from platctl's own
# summaries, rows in the database, objects in the store; a benchmark that cannot verify
# fails loudly rather than print a ratio of nothing.
bench_stop=()
work=

# The caller's settings for platctl and the clients the anchors use.
bench_scrub() {
	local v
	for v in $(compgen -e | grep -E '^(PLATCTL_|PG[A-Z]+$|AWS_|KCAT_CONFIG$|NO_COLOR$)'); do
		unset "$v"
	done
}
bench_scrub

bench_cleanup() {
	local s
	for s in "${bench_stop[@]}"; do
		$s || true
	done
	[ -n "$work" ] && rm -rf "$work"
}

# FAILED MESSAGE [LOG]: say why on stderr (with the end of LOG) and exit 1.
bench_fail() {
	echo "${bench_name:-bench}: FAILED: $1" >&2
	if [ -n "${2:-}" ] && [ -s "$2" ]; then
		tail -n 5 "$2" | sed 's/^/    | /' >&2
	fi
	exit 1
}

# WHAT GOT WANT [LOG]: fail unless GOT equals WANT (as strings; numbers as printed).
bench_check() {
	[ "$2" = "$3" ] || bench_fail "$1: got '$2', expected '$3'" "${4:-}"
}

# NAME: the scratch dir and the isolated environment, without PostgreSQL.
bench_scratch() {
	bench_name=bench_$1
	work=$(mktemp -d "/tmp/platctl-bench-$1.XXXXXX")
	chmod 0755 "$work"
	trap bench_cleanup EXIT
	export HOME="$work/home"
	export XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share" XDG_CACHE_HOME="$HOME/.cache"
	mkdir -p "$XDG_CONFIG_HOME/platctl" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"
	: >"$XDG_CONFIG_HOME/platctl/config.yaml"
}

bench_start() { # NAME
	bench_scratch "$1"
	eval "$(tests/services/pg.sh start --owner $$)"
	bench_stop+=("tests/services/pg.sh stop $TEST_PG_DIR")
}

# A fresh migrated database NAME for platctl, with file storage in $work (the builtin
# taxonomy is compiled into platctl).
bench_database() { # NAME
	psql -qAtX -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $1" >/dev/null
	export PLATCTL_DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/$1"
	export PLATCTL_STORAGE_URL="file://$work/store"
	./platctl migrate up >/dev/null
}

# HNSW recall@10 against exact search (a sequential scan) at the ef_search platctl search
# sets, for the query vectors in VECTORS_FILE and, as ANN benchmarks do, for HELD_OUT
# chunks taken out of the table (so run it last). Prints "QUERIES HELD_OUT". Fails when
# either side did not return 10 neighbours for every query vector, so a recall is never
# computed over missing results.
bench_hnsw_recall() { # DB VECTORS_FILE HELD_OUT [EF_SEARCH, default 200]
	local nq
	nq=$(grep -c . "$2") || true
	[ "$nq" -gt 0 ] || bench_fail "no query vectors in $2"
	psql -qAtX -v ON_ERROR_STOP=1 -d "$1" <<SQL
CREATE TEMP TABLE bench_q (n serial, v vector(384), self bigint);
\\copy bench_q (v) FROM '$2'
INSERT INTO bench_q (v, self) SELECT embedding, id FROM chunks ORDER BY md5(id::text) LIMIT $3;
DELETE FROM chunks WHERE id IN (SELECT self FROM bench_q);
SET hnsw.ef_search = ${4:-200};
CREATE TEMP TABLE approx AS SELECT q.n, a.id FROM bench_q q CROSS JOIN LATERAL
	(SELECT id FROM chunks ORDER BY embedding <=> q.v LIMIT 10) a;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE exact AS SELECT q.n, e.id FROM bench_q q CROSS JOIN LATERAL
	(SELECT id FROM chunks ORDER BY embedding <=> q.v LIMIT 10) e;
DO \$\$ BEGIN
	IF (SELECT count(*) FROM bench_q WHERE self IS NULL) <> $nq OR (SELECT count(*) FROM bench_q WHERE self IS NOT NULL) <> $3 THEN
		RAISE EXCEPTION 'recall: % query vectors and % held-out chunks, expected $nq and $3',
			(SELECT count(*) FROM bench_q WHERE self IS NULL), (SELECT count(*) FROM bench_q WHERE self IS NOT NULL);
	END IF;
	IF (SELECT count(*) FROM approx) <> 10 * ($nq + $3) OR (SELECT count(*) FROM exact) <> 10 * ($nq + $3) THEN
		RAISE EXCEPTION 'recall: the index returned % and exact search % neighbours, expected %',
			(SELECT count(*) FROM approx), (SELECT count(*) FROM exact), 10 * ($nq + $3);
	END IF;
END \$\$;
SELECT string_agg(to_char(r, 'FM0.000'), ' ' ORDER BY held) FROM (
	SELECT q.self IS NOT NULL AS held,
	       avg((SELECT count(*) FROM approx a JOIN exact e USING (n, id) WHERE a.n = q.n) / 10.0) AS r
	FROM bench_q q GROUP BY 1) s;
SQL
}
