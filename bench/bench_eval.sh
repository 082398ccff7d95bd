#!/usr/bin/env bash
# Retrieval quality on a public corpus: the Python 3.11 documentation Debian ships
# (python3.11-doc; library, tutorial, howto and reference pages, ~360 HTML files) is
# uploaded and processed by platctl with the builtin provider, then the 50 labelled
# questions of bench/data/python-doc-eval.yaml are answered by
#   platctl eval   hybrid search (full-text + HNSW kNN, reciprocal rank fusion)
#   BM25           Okapi BM25 (k1 1.2, b 0.75) over the same chunks and the same stemmed,
#                  stop-worded lexemes (to_tsvector('english')), computed in SQL
# and scored the same way: a question is found when a chunk of an expected page is among
# the first 10 results; MRR uses the rank of the first such chunk.
# Also search latency against the raw kNN query in psql, and recall@10 of the HNSW index
# vs exact search on this real text (ef_search 200, as search sets it), for the question
# vectors and for 200 chunk vectors held out of the index.
# Checked before any ratio: every page upload took is a row and was processed (consume's
# summary and the database agree), the corpus is the whole documentation, every question
# was answered, recall and MRR are recomputed from the ranks platctl returned, BM25 ranked
# every question, and every latency query returned 10 results.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=/usr/share/doc/python3.11/html
SET=bench/data/python-doc-eval.yaml
GEN=build/bench/gen-chunks
[ -d "$DOCS/library" ] || { echo "bench_eval: $DOCS is missing (apt-get install python3.11-doc; make bench does)" >&2; exit 1; }
[ -x "$GEN" ] || { echo "bench_eval: $GEN is missing (make bench builds it)" >&2; exit 1; }
. bench/lib.sh
bench_start eval
bench_database bench_eval
sqlq() { psql -qAtX -v ON_ERROR_STOP=1 -d bench_eval "$@"; }
plat=$PWD/platctl
t0=$(date +%s.%N)
# A batch where some pages fail exits 1: they are counted (and must be few) below.
(cd "$DOCS" && "$plat" upload -q -r -j 2 library tutorial howto reference -o json >"$work/upload.json" 2>"$work/log") || true
./platctl consume --once -c 2 -q -o json >"$work/consume.json" 2>>"$work/log" || bench_fail "platctl consume exited $?" "$work/log"
t1=$(date +%s.%N)
read -r uploaded upload_failed < <(jq -r '"\(map(select(.outcome != "failed" and .outcome != "unchanged")) | length) \(map(select(.outcome == "failed")) | length)"' \
	"$work/upload.json") || bench_fail "no JSON results from upload" "$work/log"
[ "$uploaded" -ge 300 ] && [ "$upload_failed" -le 5 ] ||
	bench_fail "upload took $uploaded pages and failed $upload_failed; expected ~360 and few failures" "$work/log"
bench_check "document rows, processed by consume, processed in the database" \
	"$(sqlq -c "SELECT count(*) FROM documents") $(jq .processed "$work/consume.json") $(sqlq -c "SELECT count(*) FROM documents WHERE status = 'processed'")" \
	"$uploaded $uploaded $uploaded"
# Measured in the steady state: autovacuum analyzes new tables within a minute or so.
sqlq -c "ANALYZE"
read -r ndocs nchunks < <(sqlq -F ' ' -c "SELECT (SELECT count(*) FROM documents WHERE status = 'processed'), count(*) FROM chunks")
printf 'corpus: %d pages of the Python 3.11 documentation, %d chunks, uploaded and processed in %.1fs\n' \
	"$ndocs" "$nchunks" "$(echo "$t1 - $t0" | bc -l)"

./platctl eval "$SET" -k 10 -o json >"$work/eval.json" 2>"$work/log" || {
	rc=$?
	# eval exits 1 below --min-recall only; without it any failure is a failure to measure
	bench_fail "platctl eval exited $rc" "$work/log"
}
# every question of the set answered, and the summary is what its ranks say
questions=$(grep -cE '^[[:space:]]*-?[[:space:]]*question:' "$SET")
bench_check "questions in the set, evaluated, with results" \
	"$(jq -r '"\(.questions) \(.results | length)"' "$work/eval.json") $questions" "$questions $questions $questions"
bench_check "eval's found and MRR recomputed from its ranks" \
	"$(jq -r '[.results[] | .rank // 0] as $r | "\([$r[] | select(. > 0)] | length) \(([$r[] | select(. > 0) | 1 / .] | add // 0) / ($r | length) * 1000 | round)"' "$work/eval.json")" \
	"$(jq -r '"\(.found) \(.mrr * 1000 | round)"' "$work/eval.json")"

# BM25 over the same chunks; each question's rank is that of the first chunk of an
# expected page within the first 10, as platctl eval counts it.
jq -r '.results | to_entries[] | [.key + 1, .value.question, "{" + (.value.expect | join(",")) + "}"] | @tsv' \
	"$work/eval.json" >"$work/questions.tsv"
sqlq >"$work/bm25.txt" <<SQL
CREATE TEMP TABLE q (n int, question text, expect text[]);
\\copy q FROM '$work/questions.tsv'
CREATE TEMP TABLE tf AS
	SELECT c.id, d.name, u.lexeme, coalesce(array_length(u.positions, 1), 1) AS tf
	FROM chunks c JOIN documents d ON d.id = c.document_id, unnest(c.tsv) u;
CREATE INDEX ON tf (lexeme);
CREATE TEMP TABLE dl AS SELECT id, sum(tf) AS len FROM tf GROUP BY id;
CREATE TEMP TABLE df AS SELECT lexeme, count(*) AS df FROM tf GROUP BY lexeme;
ANALYZE tf; ANALYZE dl; ANALYZE df;
WITH stats AS (SELECT count(*) AS n, avg(len) AS avgdl FROM dl),
ql AS (SELECT DISTINCT q.n, l AS lexeme FROM q, unnest(tsvector_to_array(to_tsvector('english', q.question))) l),
scored AS (
	SELECT ql.n, tf.id, tf.name,
	       sum(ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) * tf.tf * 2.2
	           / (tf.tf + 1.2 * (0.25 + 0.75 * dl.len / s.avgdl))) AS score
	FROM ql JOIN tf USING (lexeme) JOIN df USING (lexeme) JOIN dl USING (id), stats s
	GROUP BY ql.n, tf.id, tf.name),
ranked AS (SELECT n, name, row_number() OVER (PARTITION BY n ORDER BY score DESC, id) AS r FROM scored)
SELECT q.n, coalesce((SELECT min(r) FROM ranked WHERE ranked.n = q.n AND r <= 10 AND name = ANY (q.expect)), 0)
FROM q ORDER BY q.n;
SQL
read -r p_found p_mrr < <(jq -r '"\(.found) \(.mrr)"' "$work/eval.json")
n=$(jq '.questions' "$work/eval.json")
bench_check "questions BM25 ranked" "$(grep -c . "$work/bm25.txt")" "$n"
read -r b_found b_mrr < <(awk -F'|' '$2 > 0 { f++; rr += 1 / $2 } END { printf "%d %.4f\n", f, rr / NR }' "$work/bm25.txt")
[ "$b_found" -gt 0 ] && [ "$p_found" -gt 0 ] || bench_fail "nothing found (platctl $p_found, BM25 $b_found): no ratio to print"
printf 'eval over %d questions, k 10: platctl search recall@10 %.2f MRR %.3f; BM25 recall@10 %.2f MRR %.3f -> recall %.2fx, MRR %.2fx of BM25\n' \
	"$n" "$(echo "$p_found / $n" | bc -l)" "$p_mrr" "$(echo "$b_found / $n" | bc -l)" "$b_mrr" \
	"$(echo "$p_found / $b_found" | bc -l)" "$(echo "$p_mrr / $b_mrr" | bc -l)"
paste <(jq -r '.results[] | .rank // 0' "$work/eval.json") <(cut -d'|' -f2 "$work/bm25.txt") |
	awk '$1 && !$2 { p++ } !$1 && $2 { b++ } END { printf "  found by platctl only: %d, by BM25 only: %d\n", p, b }'

# Latency on real text: each question through platctl search vs the raw kNN query in psql.
jq -r '.results[].question' "$work/eval.json" >"$work/questions"
while IFS= read -r q; do "$GEN" vector "$q"; done <"$work/questions" >"$work/qvec"
: >"$work/plat.ms"
: >"$work/psql.ms"
exec 3<"$work/qvec"
while IFS= read -r q && IFS= read -r v <&3; do
	t0=$(date +%s%N)
	./platctl search "$q" -k 10 -o json >"$work/found" 2>"$work/log" || bench_fail "platctl search exited $?" "$work/log"
	t1=$(date +%s%N)
	sqlq -c "SELECT id FROM chunks ORDER BY embedding <=> '$v' LIMIT 10" >"$work/knn"
	t2=$(date +%s%N)
	bench_check "results of platctl search '$q'" "$(jq length "$work/found")" 10
	bench_check "rows of the kNN query for '$q'" "$(grep -c . "$work/knn")" 10
	echo $(((t1 - t0) / 1000)) >>"$work/plat.ms"
	echo $(((t2 - t1) / 1000)) >>"$work/psql.ms"
done <"$work/questions"
exec 3<&-
pct() { sort -n "$2" | awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); printf "%.1f", a[i] / 1000}'; }
p50=$(pct 50 "$work/plat.ms") p99=$(pct 99 "$work/plat.ms") a50=$(pct 50 "$work/psql.ms") a99=$(pct 99 "$work/psql.ms")
printf 'search latency on this corpus: platctl search p50 %sms p99 %sms; psql raw kNN p50 %sms p99 %sms -> p50 %.2fx, p99 %.2fx (goal <= 1.3x)\n' \
	"$p50" "$p99" "$a50" "$a99" "$(echo "$p50 / $a50" | bc -l)" "$(echo "$p99 / $a99" | bc -l)"

# HNSW recall on real text: question vectors, and chunk vectors held out of the index.
recall=$(bench_hnsw_recall bench_eval "$work/qvec" 200)
printf 'HNSW recall@10 vs exact search on this corpus (ef_search 200, as search sets it): %s for the %d questions, %s for 200 held-out chunks (goal >= 0.95)\n' \
	"${recall% *}" "$n" "${recall#* }"
