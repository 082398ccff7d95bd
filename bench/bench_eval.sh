#!/usr/bin/env bash
# Retrieval quality on two public corpora that Debian ships, each in its own database:
#   HTML  the Python 3.11 documentation (python3.11-doc; library, tutorial, howto and
#         reference pages, ~360 files), questions in bench/data/python-doc-eval.yaml
#         labelled to the page and the section (<section id>) that answers them;
#   PDF   the R manuals (r-doc-pdf: R-FAQ, R-admin, R-data, R-exts, R-intro, R-ints,
#         R-lang; 677 pages) and the DocBook XSL reference (docbook-xsl-doc-pdf, 95 pages),
#         questions in bench/data/r-manuals-eval.yaml labelled to the document and page.
# Each corpus is uploaded and processed by platctl with the builtin provider; its answerable
# questions are then answered by
#   platctl search  hybrid search as users run it (and platctl eval, whose figures must agree)
#   BM25            Okapi BM25 (k1 1.2, b 0.75) over the same chunks and the same stemmed,
#                   stop-worded lexemes (to_tsvector('english')), computed in SQL
# and scored the same way at three levels: a question is found at document level when a
# chunk of an expected document is among the first k results, at page level when that
# chunk is also on an expected page, at section level when its anchor is an expected
# section; MRR uses the rank of the first such chunk. Goal: recall@5 >= BM25's and MRR >=
# BM25's + 0.10. Unanswerable questions (answerable: false) are never misses: they give
# the refusal rates (ask must refuse them, and answer the others), from eval's JSON, or
# where this eval does not report them yet, from `platctl ask` on every question.
# On the HTML corpus also search latency against the raw kNN query in psql, and recall@10
# of the HNSW index vs exact search on this real text (ef_search 200, as search sets it).
# Checked before any ratio: every file upload took is a row and was processed (consume's
# summary and the database agree), every PDF page with text has chunks, every question
# was answered, eval's summary is what its ranks say and its ranks are search's, BM25
# ranked every question, and every latency query returned 10 results.
# BENCH_CORPORA=html or =pdf measures one corpus alone. BENCH_KEEP=DIR keeps, per corpus,
# its database (pg_dump -Fc, DIR/NAME.dump) and the questions and both sides' ranks
# (DIR/NAME.{q.jsonl,plat.tsv,bm25.tsv}), taken before the HNSW check deletes chunks: for
# ranking experiments offline on the very chunks of this run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYDOCS=/usr/share/doc/python3.11/html
RDOCS=/usr/share/doc/r-doc-pdf/manual
DBXSL=/usr/share/doc/docbook-xsl-doc-pdf/doc/reference.pdf.gz
R_MANUALS=(R-FAQ R-admin R-data R-exts R-intro R-ints R-lang)
GEN=build/bench/gen-chunks
K=10
CORPORA=${BENCH_CORPORA:-html pdf} # one of them alone: BENCH_CORPORA=pdf
[ -d "$PYDOCS/library" ] || { echo "bench_eval: $PYDOCS is missing (apt-get install python3.11-doc; make bench does)" >&2; exit 1; }
for m in "${R_MANUALS[@]}"; do
	[ -f "$RDOCS/$m.pdf" ] || { echo "bench_eval: $RDOCS/$m.pdf is missing (apt-get install r-doc-pdf; make bench does)" >&2; exit 1; }
done
[ -f "$DBXSL" ] || { echo "bench_eval: $DBXSL is missing (apt-get install docbook-xsl-doc-pdf; make bench does)" >&2; exit 1; }
[ -x "$GEN" ] || { echo "bench_eval: $GEN is missing (make bench builds it)" >&2; exit 1; }
python3 -c 'import yaml' 2>/dev/null || { echo "bench_eval: python3-yaml is missing (make deps)" >&2; exit 1; }
# A label the corpus cannot have (a typo, a page past the end) fails before minutes of work.
bench/check_set.py bench/data/python-doc-eval.yaml "$PYDOCS"/{library,tutorial,howto,reference} >/dev/null
bench/check_set.py bench/data/python-doc-heldout.yaml "$PYDOCS"/{library,tutorial,howto,reference} >/dev/null
pdfs=()
for m in "${R_MANUALS[@]}"; do pdfs+=("$RDOCS/$m.pdf"); done
bench/check_set.py bench/data/r-manuals-eval.yaml "${pdfs[@]}" "$DBXSL" >/dev/null
bench/check_set.py bench/data/r-manuals-heldout.yaml "${pdfs[@]}" "$DBXSL" >/dev/null
. bench/lib.sh
bench_start eval
plat=$PWD/platctl
db=
sqlq() { psql -qAtX -v ON_ERROR_STOP=1 -d "$db" "$@"; }
now() { date +%s.%N; }
use_database() { # NAME: a fresh database and store for one corpus
	db=$1
	bench_database "$db"
	export PLATCTL_STORAGE_URL="file://$work/store-$db"
}

# SET OUT: the set's questions as JSON lines {n, question, answerable, expect, pages,
# sections} (lists always, empty when not labelled), in the set's order from 1.
questions_json() {
	python3 - "$1" >"$2" <<'PY'
import json, sys, yaml
def lst(v):
    return [] if v is None else v if isinstance(v, list) else [v]
qs = yaml.safe_load(open(sys.argv[1]))["questions"]
for n, q in enumerate(qs, 1):
    print(json.dumps({"n": n, "question": q["question"], "answerable": q.get("answerable", True) is not False,
                      "expect": lst(q.get("expect")), "pages": lst(q.get("pages")), "sections": lst(q.get("sections"))}))
PY
}

# Uploaded and processed: upload's JSON in $1, consume's summary in $2, at most $3 files
# upload failed; prints how many it took.
check_ingest() {
	local uploaded failed
	read -r uploaded failed < <(jq -r '"\(map(select(.outcome != "failed" and .outcome != "unchanged")) | length) \(map(select(.outcome == "failed")) | length)"' \
		"$1") || bench_fail "no JSON results from upload" "$work/log"
	[ "$failed" -le "$3" ] || bench_fail "upload failed $failed files, expected at most $3" "$work/log"
	bench_check "document rows, processed by consume, processed in the database" \
		"$(sqlq -c "SELECT count(*) FROM documents") $(jq .processed "$2") $(sqlq -c "SELECT count(*) FROM documents WHERE status = 'processed'")" \
		"$uploaded $uploaded $uploaded" "$work/log"
	echo "$uploaded"
}

# ---- the corpora ----
ingest_html() {
	use_database bench_eval_html
	local t0 t1 n
	t0=$(now)
	# A batch where some pages fail exits 1: they are counted (and must be few) below.
	(cd "$PYDOCS" && "$plat" upload -q -r -j 2 library tutorial howto reference -o json >"$work/upload.json" 2>"$work/log") || true
	./platctl consume --once -c 2 -q -o json >"$work/consume.json" 2>>"$work/log" || bench_fail "platctl consume exited $?" "$work/log"
	t1=$(now)
	n=$(check_ingest "$work/upload.json" "$work/consume.json" 5)
	[ "$n" -ge 300 ] || bench_fail "upload took $n pages of the Python documentation; expected ~360" "$work/log"
	sqlq -c "ANALYZE" # measured in the steady state: autovacuum analyzes new tables soon enough
	printf 'HTML corpus: %d pages of the Python 3.11 documentation, %d chunks, uploaded and processed in %.1fs\n' \
		"$n" "$(sqlq -c "SELECT count(*) FROM chunks")" "$(echo "$t1 - $t0" | bc -l)"
}

ingest_pdf() {
	use_database bench_eval_pdf
	local t0 t1 n m f pages=0
	mkdir -p "$work/pdf"
	for m in "${R_MANUALS[@]}"; do cp "$RDOCS/$m.pdf" "$work/pdf/"; done
	gunzip -c "$DBXSL" >"$work/pdf/reference.pdf"
	# Pages with text as poppler sees them: each must end up with chunks (chunks never
	# cross pages); a page of a few words may be all running header, which may go.
	: >"$work/pdf-pages.tsv"
	for f in "$work"/pdf/*.pdf; do
		n=$(pdfinfo "$f" | awk '/^Pages:/ {print $2}')
		pages=$((pages + n))
		# pdftotext ends every page with a form feed
		pdftotext -q "$f" - | awk -v RS='\f' -v name="$(basename "$f")" -v n="$n" \
			'NR <= n { printf "%s\t%d\t%d\n", name, NR, NF }' >>"$work/pdf-pages.tsv"
	done
	bench_check "pages of the PDF corpus (677 of the R manuals, 95 of the DocBook XSL reference)" "$pages $(grep -c . "$work/pdf-pages.tsv")" "772 772"
	t0=$(now)
	./platctl upload -q "$work"/pdf/*.pdf -o json >"$work/upload.json" 2>"$work/log" || bench_fail "platctl upload exited $?" "$work/log"
	./platctl consume --once -c 2 -q -o json >"$work/consume.json" 2>>"$work/log" || bench_fail "platctl consume exited $?" "$work/log"
	t1=$(now)
	n=$(check_ingest "$work/upload.json" "$work/consume.json" 0)
	bench_check "PDFs processed" "$n" 8
	sqlq -c "ANALYZE"
	sqlq >"$work/pages-check" <<SQL
CREATE TEMP TABLE p (name text, page int, words int);
\\copy p FROM '$work/pdf-pages.tsv'
SELECT count(*) FILTER (WHERE words >= 30),
       count(*) FILTER (WHERE words >= 30 AND NOT EXISTS (SELECT 1 FROM chunks c JOIN documents d ON d.id = c.document_id
                                                          WHERE d.name = p.name AND c.page = p.page))
FROM p;
SQL
	read -r textpages missing < <(tr '|' ' ' <"$work/pages-check")
	bench_check "PDF pages with 30+ words of text that have no chunks (of $textpages)" "$missing" 0
	printf 'PDF corpus: %d manuals, %d pages (%d with text), %d chunks, uploaded and processed in %.1fs\n' \
		"$n" "$pages" "$textpages" "$(sqlq -c "SELECT count(*) FROM chunks")" "$(echo "$t1 - $t0" | bc -l)"
}

keep_corpus() {
	[ -n "${BENCH_KEEP:-}" ] || return 0
	mkdir -p "$BENCH_KEEP"
	pg_dump -Fc -d "$db" -f "$BENCH_KEEP/$db.dump" || bench_fail "pg_dump $db exited $?"
	local f
	for f in q.jsonl plat.tsv bm25.tsv; do cp "$work/$f" "$BENCH_KEEP/$db.$f"; done
}

# ---- scoring ----
# SET LABEL: platctl (search, cross-checked with eval) and BM25 on the current database.
evaluate() {
	local set=$1 label=$2 q="$work/q.jsonl" n nu
	questions_json "$set" "$q"
	n=$(jq -s 'map(select(.answerable)) | length' "$q")
	nu=$(jq -s 'map(select(.answerable | not)) | length' "$q")
	bench_check "questions in $set" "$(wc -l <"$q")" "$(grep -cE '^[[:space:]]*-?[[:space:]]*question:' "$set")"

	# platctl search per answerable question, as a user runs it: the rank of the first
	# chunk of an expected document, of an expected page of one, of an expected section.
	: >"$work/plat.tsv"
	local has_anchor=0
	while IFS= read -r line; do
		./platctl search "$(jq -r .question <<<"$line")" -k "$K" -o json >"$work/found" 2>"$work/log" ||
			bench_fail "platctl search exited $?" "$work/log"
		jq -e 'any(.[]; has("anchor"))' "$work/found" >/dev/null && has_anchor=1
		jq -r --argjson q "$line" '
			def first_rank(f): (map(select(f)) | first | .rank) // 0;
			def doc: .document as $d | any($q.expect[]; . == $d);
			[$q.n,
			 first_rank(doc),
			 (if ($q.pages | length) > 0 then first_rank(doc and (.page as $p | any($q.pages[]; . == $p))) else "" end),
			 (if ($q.sections | length) > 0 then first_rank(doc and (.anchor as $a | any($q.sections[]; . == $a))) else "" end)
			] | @tsv' "$work/found" >>"$work/plat.tsv"
	done < <(jq -c 'select(.answerable)' "$q")
	bench_check "questions platctl search answered" "$(grep -c . "$work/plat.tsv")" "$n"

	# platctl eval over the same set; an eval that predates unanswerable questions (no
	# refusals in its report) is given the answerable ones only.
	local evset=$set schema=new
	if ! ./platctl eval "$set" -k "$K" -o json >"$work/eval.json" 2>"$work/log" || ! jq -e 'has("refusals")' "$work/eval.json" >/dev/null; then
		schema=old
		evset=$work/answerable.yaml
		jq -s '{k: '"$K"', questions: map(select(.answerable) | {question, expect} + (if (.pages | length) > 0 then {pages} else {} end)
			+ (if (.sections | length) > 0 then {sections} else {} end))}' "$q" >"$evset" # JSON is YAML
		./platctl eval "$evset" -k "$K" -o json >"$work/eval.json" 2>"$work/log" || bench_fail "platctl eval exited $?" "$work/log"
	fi
	local ans='[.results[] | select(.answerable != false)]'
	bench_check "answerable questions eval scored, results, with the search above" \
		"$(jq -r "\"\(.questions) \($ans | length)\"" "$work/eval.json") $n" "$n $n $n"
	bench_check "eval's found and MRR recomputed from its ranks" \
		"$(jq -r "$ans"' | map(.rank // 0) as $r | "\([$r[] | select(. > 0)] | length) \(([$r[] | select(. > 0) | 1 / .] | add // 0) / ($r | length) * 1000 | round)"' "$work/eval.json")" \
		"$(jq -r '"\(.found) \(.mrr * 1000 | round)"' "$work/eval.json")"
	# Its ranks are search's: document, page and section rank (an old eval's rank is the
	# page rank where pages are labelled).
	local evr
	if [ "$schema" = new ]; then
		evr=$(jq -r "$ans"' | .[] | "\(.rank // 0)\t\(if .pages then .page_rank // 0 else "" end)\t\(if .sections then .section_rank // 0 else "" end)"' "$work/eval.json")
		bench_check "eval's document, page and section ranks are search's" "$evr" "$(cut -f2-4 "$work/plat.tsv")"
	else
		evr=$(jq -r "$ans"' | .[] | .rank // 0' "$work/eval.json")
		bench_check "eval's ranks are search's" "$evr" "$(awk -F'\t' '{ print ($3 != "" ? $3 : $2) }' "$work/plat.tsv")"
	fi

	bm25 "$q"
	bench_check "questions BM25 ranked" "$(grep -c . "$work/bm25.tsv")" "$n"

	echo "$label: $n answerable questions, k $K; platctl search vs BM25 over the same chunks (goal: recall@5 >= BM25's, MRR >= BM25's + 0.10)"
	report_level document 2 "$n"
	[ "$(cut -f3 "$work/plat.tsv" | grep -c .)" -gt 0 ] && report_level page 3 "$(cut -f3 "$work/plat.tsv" | grep -c .)"
	if [ "$(cut -f4 "$work/plat.tsv" | grep -c .)" -gt 0 ]; then
		if [ "$bm25_sections" = 0 ]; then
			echo "  section level: skipped, chunks have no anchor column yet (the section migration has not landed)"
		elif [ "$has_anchor" = 0 ]; then
			cut -f4 "$work/bm25.tsv" | awk -v k="$K" '$1 == "" { next } { n++; if ($1 > 0 && $1 <= 5) b5++; if ($1 > 0) { b10++; rr += 1 / $1 } }
				END { printf "  section level: platctl search results carry no anchor yet; BM25 alone (%d questions): recall@5 %.2f, recall@%d %.2f, MRR %.3f\n",
					n, b5 / n, k, b10 / n, rr / n }'
		else
			report_level section 4 "$(cut -f4 "$work/plat.tsv" | grep -c .)"
		fi
	fi
	paste <(cut -f2 "$work/plat.tsv") <(cut -f2 "$work/bm25.tsv") |
		awk '$1 && !$2 { p++ } !$1 && $2 { b++ } END { printf "  document level, found by platctl only: %d, by BM25 only: %d\n", p, b }'

	if [ "$schema" = new ]; then
		jq -r '.refusals | "  refusals (eval, min_support \(.min_support)): false refusals \(.false_refusals)/\(.answerable) = \(.false_refusal_rate * 1000 | round / 10)%, false answers \(.false_answers)/\(.unanswerable) = \(.false_answer_rate * 1000 | round / 10)% (goal <= 5% each)"' "$work/eval.json"
		bench_check "unanswerable questions eval counted" "$(jq .refusals.unanswerable "$work/eval.json")" "$nu"
		jq -r '.halves | "  halves in the top k (answerable questions): full-text \(.fts_found), vector \(.vector_found), both \(.both), full-text only \(.fts_only), vector only \(.vector_only)"' "$work/eval.json"
	else
		refusals_by_ask "$q" "$n" "$nu"
	fi
}

# What ask does with every question, where eval does not say yet: refused (exit 1 with
# refused true in its JSON) or answered. An ask that fails otherwise (no JSON) is neither:
# counted apart, with its first message, so the rates are over the questions it decided.
refusals_by_ask() { # QUESTIONS N_ANSWERABLE N_UNANSWERABLE
	local fr=0 fa=0 ea=0 eu=0 rc refused line ans first=
	while IFS= read -r line; do
		rc=0
		ans=$(jq -r .answerable <<<"$line")
		./platctl ask "$(jq -r .question <<<"$line")" -o json >"$work/ask.json" 2>"$work/log" || rc=$?
		refused=$(jq -r 'if type == "object" and has("refused") then .refused else "error" end' "$work/ask.json" 2>/dev/null) || refused=error
		[ -n "$refused" ] || refused=error # no output at all
		case "$ans $refused" in
		"true true") fr=$((fr + 1)) ;;
		"false false") fa=$((fa + 1)) ;;
		"true false" | "false true") ;;
		"true error" | "false error")
			[ "$ans" = true ] && ea=$((ea + 1)) || eu=$((eu + 1))
			[ -n "$first" ] || first="exit $rc: $(jq -r '.msg // empty' "$work/log" 2>/dev/null | head -n1)"
			;;
		*) bench_fail "platctl ask said refused '$refused'" "$work/log" ;;
		esac
	done <"$1"
	awk -v fr="$fr" -v n="$(($2 - ea))" -v fa="$fa" -v nu="$(($3 - eu))" 'BEGIN {
		printf "  refusals (platctl ask per question; this eval reports none): false refusals %d/%d = %.1f%%, false answers %d/%d = %.1f%% (goal <= 5%% each)\n",
			fr, n, n ? 100 * fr / n : 0, fa, nu, nu ? 100 * fa / nu : 0 }'
	[ $((ea + eu)) -eq 0 ] || echo "  ask failed outright on $ea answerable and $eu unanswerable questions (first: $first)"
}

# One level's line: platctl's column COL of plat.tsv against BM25's, over the N questions
# labelled at that level.
report_level() { # LEVEL COL N
	paste <(cut -f"$2" "$work/plat.tsv") <(cut -f"$2" "$work/bm25.tsv") | awk -F'\t' -v lvl="$1" -v n="$3" -v k="$K" '
		$1 == "" { next }
		{ if ($1 > 0 && $1 <= 5) p5++; if ($1 > 0) { p10++; prr += 1 / $1 }
		  if ($2 > 0 && $2 <= 5) b5++; if ($2 > 0) { b10++; brr += 1 / $2 } }
		function ratio(a, b) { return b > 0 ? sprintf("%.2fx", a / b) : "-" }
		END {
			printf "  %-8s level (%d questions): recall@5 %.2f vs %.2f (%s, %+.2f), recall@%d %.2f vs %.2f (%s, %+.2f), MRR %.3f vs %.3f (%s, %+.3f)\n",
				lvl, n, p5 / n, b5 / n, ratio(p5, b5), (p5 - b5) / n, k, p10 / n, b10 / n, ratio(p10, b10), (p10 - b10) / n,
				prr / n, brr / n, ratio(prr, brr), (prr - brr) / n
		}'
}

# BM25 over the current database's chunks for the answerable questions of QUESTIONS:
# bm25.tsv has n, document rank, page rank, section rank ("" where not labelled), as
# plat.tsv has them for platctl. Section ranks need the chunks' anchor column.
bm25() {
	bm25_sections=$(sqlq -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'chunks' AND column_name = 'anchor'")
	local anchor="NULL::text"
	[ "$bm25_sections" = 1 ] && anchor="c.anchor"
	jq -r 'select(.answerable) | [.n, .question, "{" + (.expect | map(tojson) | join(",")) + "}",
		"{" + (.pages | map(tostring) | join(",")) + "}", "{" + (.sections | map(tojson) | join(",")) + "}"] | @tsv' \
		"$1" >"$work/questions.tsv"
	sqlq -F $'\t' >"$work/bm25.tsv" <<SQL
CREATE TEMP TABLE q (n int, question text, expect text[], pages int[], sections text[]);
\\copy q FROM '$work/questions.tsv'
CREATE TEMP TABLE tf AS
	SELECT c.id, d.name, c.page, $anchor AS anchor, u.lexeme, coalesce(array_length(u.positions, 1), 1) AS tf
	FROM chunks c JOIN documents d ON d.id = c.document_id, unnest(c.tsv) u;
CREATE INDEX ON tf (lexeme);
CREATE TEMP TABLE dl AS SELECT id, name, page, anchor, sum(tf) AS len FROM tf GROUP BY id, name, page, anchor;
CREATE TEMP TABLE df AS SELECT lexeme, count(*) AS df FROM tf GROUP BY lexeme;
ANALYZE tf; ANALYZE dl; ANALYZE df;
CREATE TEMP TABLE ranked AS
WITH stats AS (SELECT count(*) AS n, avg(len) AS avgdl FROM dl),
ql AS (SELECT DISTINCT q.n, l AS lexeme FROM q, unnest(tsvector_to_array(to_tsvector('english', q.question))) l),
scored AS (
	SELECT ql.n, tf.id,
	       sum(ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) * tf.tf * 2.2
	           / (tf.tf + 1.2 * (0.25 + 0.75 * dl.len / s.avgdl))) AS score
	FROM ql JOIN tf USING (lexeme) JOIN df USING (lexeme) JOIN dl USING (id), stats s
	GROUP BY ql.n, tf.id)
SELECT n, r, dl.name, dl.page, dl.anchor FROM (
	SELECT n, id, row_number() OVER (PARTITION BY n ORDER BY score DESC, id) AS r FROM scored) x
	JOIN dl USING (id) WHERE r <= $K;
SELECT q.n,
	coalesce((SELECT min(r) FROM ranked x WHERE x.n = q.n AND x.name = ANY (q.expect)), 0),
	CASE WHEN cardinality(q.pages) > 0 THEN
		coalesce((SELECT min(r) FROM ranked x WHERE x.n = q.n AND x.name = ANY (q.expect) AND x.page = ANY (q.pages)), 0)::text ELSE '' END,
	CASE WHEN cardinality(q.sections) > 0 THEN
		coalesce((SELECT min(r) FROM ranked x WHERE x.n = q.n AND x.name = ANY (q.expect) AND x.anchor = ANY (q.sections)), 0)::text ELSE '' END
FROM q ORDER BY q.n;
SQL
}

# SET: ask's refusals on held-out questions of the same corpus, written after the support
# measure and its threshold were set (they are not tuned on them); reported apart from
# the labelled set's figures above.
heldout() {
	[ -f "$1" ] || return 0
	./platctl eval "$1" -k "$K" -o json >"$work/heldout.json" 2>"$work/log" || bench_fail "platctl eval $1 exited $?" "$work/log"
	jq -r --arg set "${1##*/}" '.refusals | "  held-out refusals (\($set), min_support \(.min_support)): false refusals \(.false_refusals)/\(.answerable) = \(.false_refusal_rate * 1000 | round / 10)%, false answers \(.false_answers)/\(.unanswerable) = \(.false_answer_rate * 1000 | round / 10)%"' "$work/heldout.json"
}

# ---- HTML corpus ----
if [[ " $CORPORA " == *" html "* ]]; then
	ingest_html
	evaluate bench/data/python-doc-eval.yaml "HTML (Python docs)"
	heldout bench/data/python-doc-heldout.yaml
	keep_corpus

	# Latency on real text: each question through platctl search vs the raw kNN query in psql.
	jq -r '.question' "$work/q.jsonl" >"$work/questions"
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
	printf '  search latency, all %d questions: platctl search p50 %sms p99 %sms; psql raw kNN p50 %sms p99 %sms -> p50 %.2fx, p99 %.2fx (goal <= 1.3x)\n' \
		"$(grep -c . "$work/questions")" "$p50" "$p99" "$a50" "$a99" "$(echo "$p50 / $a50" | bc -l)" "$(echo "$p99 / $a99" | bc -l)"

	# HNSW recall on real text: question vectors, and chunk vectors held out of the index.
	recall=$(bench_hnsw_recall "$db" "$work/qvec" 200)
	printf '  HNSW recall@10 vs exact search (ef_search 200, as search sets it): %s for the questions, %s for 200 held-out chunks (goal >= 0.95)\n' \
		"${recall% *}" "${recall#* }"
fi

# ---- PDF corpus ----
if [[ " $CORPORA " == *" pdf "* ]]; then
	ingest_pdf
	evaluate bench/data/r-manuals-eval.yaml "PDF (R manuals, DocBook XSL reference)"
	heldout bench/data/r-manuals-heldout.yaml
	keep_corpus
fi
