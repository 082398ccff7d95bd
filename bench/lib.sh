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

# A fresh migrated database NAME for platctl, with file storage in $work and the shipped
# taxonomy.
bench_database() { # NAME
	psql -qAtX -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $1" >/dev/null
	export PLATCTL_DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/$1"
	export PLATCTL_STORAGE_URL="file://$work/store" PLATCTL_AI_TAXONOMY="$PWD/etc/platctl/classes.yaml"
	./platctl migrate up >/dev/null
}

# HNSW recall@10 against exact search (a sequential scan) at the ef_search platctl search
# sets, for the query vectors in VECTORS_FILE and, as ANN benchmarks do, for HELD_OUT
# chunks taken out of the table (so run it last). Prints "QUERIES HELD_OUT".
bench_hnsw_recall() { # DB VECTORS_FILE HELD_OUT
	psql -qAtX -v ON_ERROR_STOP=1 -d "$1" <<SQL
CREATE TEMP TABLE bench_q (n serial, v vector(384), self bigint);
\\copy bench_q (v) FROM '$2'
INSERT INTO bench_q (v, self) SELECT embedding, id FROM chunks ORDER BY md5(id::text) LIMIT $3;
DELETE FROM chunks WHERE id IN (SELECT self FROM bench_q);
SET hnsw.ef_search = 200;
CREATE TEMP TABLE approx AS SELECT q.n, a.id FROM bench_q q CROSS JOIN LATERAL
	(SELECT id FROM chunks ORDER BY embedding <=> q.v LIMIT 10) a;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE exact AS SELECT q.n, e.id FROM bench_q q CROSS JOIN LATERAL
	(SELECT id FROM chunks ORDER BY embedding <=> q.v LIMIT 10) e;
SELECT string_agg(to_char(r, 'FM0.000'), ' ' ORDER BY held) FROM (
	SELECT q.self IS NOT NULL AS held,
	       avg((SELECT count(*) FROM approx a JOIN exact e USING (n, id) WHERE a.n = q.n) / 10.0) AS r
	FROM bench_q q GROUP BY 1) s;
SQL
}
