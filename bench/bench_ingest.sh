#!/usr/bin/env bash
# Ingest throughput on real PDFs, from upload to searchable: the PDF corpus of
# bench_eval.sh (the R manuals of r-doc-pdf and the DocBook XSL reference, 772 pages)
# uploaded with `platctl upload` and processed with `platctl consume --once -c 1` (builtin
# AI provider, PostgreSQL queue, file storage), in pages/s.
# Floor, same run: the work that cannot be avoided, done by the tools that do nothing else —
# pdftotext of the same files, one after another, plus COPY of the very chunk rows platctl
# stored (copied out of its chunks table) into a table indexed as chunks is (same columns,
# GIN on tsv, HNSW on embedding, the btree indexes: CREATE TABLE ... LIKE chunks INCLUDING
# ALL), which computes the same tsvectors and builds the same index entries. Goal: >= 0.5x
# of the floor's pages/s. Medians of REPS runs, alternating the two sides so drift hits both;
# each platctl run gets a fresh database. Also prints where platctl's time goes: upload, the
# documents' stage_timings, and what consume spends outside them.
# Each run is checked before the ratio: upload took every file, consume's summary counts
# every document processed and none failed, every page with text has chunks embedded by the
# builtin model, and the floor's table holds as many rows as platctl's.
set -euo pipefail
cd "$(dirname "$0")/.."
RDOCS=/usr/share/doc/r-doc-pdf/manual
DBXSL=/usr/share/doc/docbook-xsl-doc-pdf/doc/reference.pdf.gz
R_MANUALS=(R-FAQ R-admin R-data R-exts R-intro R-ints R-lang)
REPS=${BENCH_REPS:-3}
for m in "${R_MANUALS[@]}"; do
	[ -f "$RDOCS/$m.pdf" ] || { echo "bench_ingest: $RDOCS/$m.pdf is missing (apt-get install r-doc-pdf; make bench does)" >&2; exit 1; }
done
[ -f "$DBXSL" ] || { echo "bench_ingest: $DBXSL is missing (apt-get install docbook-xsl-doc-pdf; make bench does)" >&2; exit 1; }
. bench/lib.sh
bench_start ingest
export PLATCTL_EVENTS_BACKEND=postgres

mkdir -p "$work/pdf"
for m in "${R_MANUALS[@]}"; do cp "$RDOCS/$m.pdf" "$work/pdf/"; done
gunzip -c "$DBXSL" >"$work/pdf/reference.pdf"
ndocs=$(find "$work/pdf" -name '*.pdf' | wc -l)
: >"$work/pages.tsv"
total_pages=0
for f in "$work"/pdf/*.pdf; do
	n=$(pdfinfo "$f" | awk '/^Pages:/ {print $2}')
	total_pages=$((total_pages + n))
	# words per page (pdftotext ends every page with a form feed): a page with text must
	# have chunks; one of a few words may be all running header, which may go
	pdftotext -q "$f" - | awk -v RS='\f' -v name="$(basename "$f")" -v n="$n" \
		'NR <= n { printf "%s\t%d\t%d\n", name, NR, NF }' >>"$work/pages.tsv"
done
bench_check "documents and pages of the corpus" "$ndocs $total_pages" "8 772"
cat "$work"/pdf/* >/dev/null # warm the page cache for everyone

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
psqlq() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

# Run R of platctl: a fresh database, upload and consume timed together; prints seconds.
run_platctl() {
	local r=$1 db=bench_ingest_$1 t0 t1 t2
	psqlq -d postgres -c "CREATE DATABASE $db" >/dev/null
	export PLATCTL_DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/$db"
	export PLATCTL_STORAGE_URL="file://$work/store$r"
	./platctl migrate up >/dev/null
	t0=$(now)
	./platctl upload -q "$work"/pdf/*.pdf -o ids >"$work/ids" 2>"$work/log" || bench_fail "platctl upload run $r exited $?" "$work/log"
	t1=$(now)
	./platctl consume --once -c 1 -q -o json >"$work/summary$r" 2>>"$work/log" || bench_fail "platctl consume run $r exited $?" "$work/log"
	t2=$(now)
	bench_check "run $r: documents uploaded" "$(grep -c . "$work/ids")" "$ndocs" "$work/log"
	bench_check "run $r: consume's summary" "$(jq -r '"\(.processed) processed, \(.failed + .dead_lettered) failed"' "$work/summary$r")" \
		"$ndocs processed, 0 failed" "$work/log"
	psqlq -d "$db" >"$work/check" <<SQL
CREATE TEMP TABLE p (name text, page int, words int);
\\copy p FROM '$work/pages.tsv'
SELECT (SELECT count(*) FROM documents WHERE status = 'processed'),
       (SELECT count(*) FROM p WHERE words >= 30 AND NOT EXISTS (
            SELECT 1 FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.name = p.name AND c.page = p.page)),
       (SELECT count(*) FROM chunks WHERE embedding IS NULL OR embedding_model <> 'builtin-hash-384-v1');
SQL
	bench_check "run $r: processed documents, pages with text but no chunks, chunks without a builtin embedding" \
		"$(tr '|' ' ' <"$work/check")" "$ndocs 0 0"
	echo "$t1 - $t0" | bc -l >"$work/upload_s$r"
	echo "$t2 - $t0" | bc -l
}

# The chunk rows platctl stored, as COPY reads them: every column but the generated ones
# (tsv; the identity id), so COPY computes what the INSERTs computed.
export_chunks() { # DB
	cols=$(psqlq -d "$1" -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
		WHERE attrelid = 'chunks'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' AND attidentity = ''")
	psqlq -d "$1" -c "\\copy (SELECT $cols FROM chunks ORDER BY document_id, ord) TO '$work/chunks.copy'"
	nrows=$(psqlq -d "$1" -c "SELECT count(*) FROM chunks")
	bench_check "chunk rows copied out" "$(wc -l <"$work/chunks.copy")" "$nrows"
	floor_db=$1
}

# The floor, run R: pdftotext of every file, then COPY into a fresh identically indexed
# table (created before the clock starts). Prints seconds; pdftotext's alone in $work/pdftotext_sR.
run_floor() {
	local r=$1 t0 t1 t2 f
	psqlq -d "$floor_db" -c "SET client_min_messages = warning; DROP TABLE IF EXISTS floor_chunks; CREATE TABLE floor_chunks (LIKE chunks INCLUDING ALL)"
	t0=$(now)
	for f in "$work"/pdf/*.pdf; do pdftotext -q "$f" /dev/null; done
	t1=$(now)
	psqlq -d "$floor_db" -c "\\copy floor_chunks ($cols) FROM '$work/chunks.copy'"
	t2=$(now)
	bench_check "floor run $r: rows COPY stored" "$(psqlq -d "$floor_db" -c "SELECT count(*) FROM floor_chunks")" "$nrows"
	echo "$t1 - $t0" | bc -l >"$work/pdftotext_s$r"
	echo "$t2 - $t0" | bc -l
}

plat=() floor=() ptt=()
for r in $(seq "$REPS"); do
	t=$(run_platctl "$r") # (not inside +=: a failure must stop the benchmark)
	plat+=("$t")
	[ "$r" = 1 ] && export_chunks bench_ingest_1
	t=$(run_floor "$r")
	floor+=("$t")
	ptt+=("$(cat "$work/pdftotext_s$r")")
	last_wall=${plat[-1]}
done
pt=$(median "${plat[@]}") ft=$(median "${floor[@]}") tt=$(median "${ptt[@]}")
printf 'ingest %d PDFs, %d pages, %d chunks, upload to searchable (consume -c 1): platctl %.2fs = %.1f pages/s; floor %.2fs (pdftotext %.2fs + COPY into an identically indexed table %.2fs) = %.1f pages/s -> %.2fx of the floor (goal >= 0.5x)\n' \
	"$ndocs" "$total_pages" "$nrows" "$pt" "$(echo "$total_pages / $pt" | bc -l)" "$ft" "$tt" "$(echo "$ft - $tt" | bc -l)" \
	"$(echo "$total_pages / $ft" | bc -l)" "$(echo "$ft / $pt" | bc -l)"

# Where the time goes (last run): upload, then each stage's share of the documents'
# total_ms; "storing chunks" is the rest of total_ms (the row lock, the DELETE and the
# INSERTs into chunks with their GIN and HNSW indexes); "outside the documents" is the
# consume wall time that no document's total_ms covers (start-up, queue, status commit).
psqlq -d "bench_ingest_$REPS" -F' ' -c "
	SELECT sum((stage_timings->>'total_ms')::numeric), sum((stage_timings->>'download_ms')::numeric),
	       sum((stage_timings->>'extract_ms')::numeric), sum((stage_timings->>'classify_extract_ms')::numeric),
	       sum((stage_timings->>'summarise_ms')::numeric), sum((stage_timings->>'chunk_ms')::numeric),
	       sum((stage_timings->>'embed_ms')::numeric)
	FROM documents WHERE status = 'processed'" |
	while read -r tot dl ex ce su ch em; do
		awk -v t="$tot" -v dl="$dl" -v ex="$ex" -v ce="$ce" -v su="$su" -v ch="$ch" -v em="$em" \
			-v wall="$last_wall" -v up="$(cat "$work/upload_s$REPS")" 'BEGIN {
			w = wall > 0 ? wall : 1
			rest = t - dl - ex - ce - su - ch - em
			outside = wall - up - t / 1000
			printf "  time split (last run, %.2fs): upload %.0f%%, extract %.0f%%, summarise %.0f%%, classify+fields %.0f%%, chunk %.0f%%, embed %.0f%%, download %.0f%%, storing chunks %.0f%%, consume outside the documents %.0f%%\n",
				wall, 100 * up / w, 100 * ex / 1000 / w, 100 * su / 1000 / w, 100 * ce / 1000 / w, 100 * ch / 1000 / w,
				100 * em / 1000 / w, 100 * dl / 1000 / w, 100 * rest / 1000 / w, 100 * outside / w
		}'
	done
