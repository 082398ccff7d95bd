#!/usr/bin/env bash
# Document pipeline throughput on PDFs: `platctl consume --once -c 1` (builtin AI
# provider, PostgreSQL queue, file storage) over 20 PDFs of 50 pages, in pages/s.
# Anchor, same run: `pdftotext` over the same PDFs, one after another in one process
# chain — poppler's own text extraction with no bookkeeping. Goal: >= 0.7x of pdftotext.
# Medians of REPS runs, alternating the two sides so drift hits both; each platctl run
# gets a fresh database (uploads are not timed). Also prints where platctl's time goes,
# from the documents' stage_timings. Each run is checked before the ratio: consume's summary
# counts every document processed and none failed, the database has them processed with
# chunks on every page embedded by the builtin model, and the store holds every PDF.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${BENCH_PDFS:-20}
PAGES=${BENCH_PAGES:-50}
# Sentences per page: a printed page holds 30-40; gen_pdf.py's default of 5 makes pages
# that cost pdftotext next to nothing and measures per-page overhead instead.
SENTENCES=${BENCH_SENTENCES:-35}
REPS=${BENCH_REPS:-3}
. bench/lib.sh
bench_start pipeline
export PLATCTL_EVENTS_BACKEND=postgres

mkdir -p "$work/pdf"
for i in $(seq 1 "$DOCS"); do
	python3 tests/data/gen_pdf.py --pages "$PAGES" --sentences "$SENTENCES" --seed "$i" --out "$work/pdf/doc$i.pdf"
done
for f in "$work"/pdf/*.pdf; do
	bench_check "pages of $(basename "$f")" "$(pdfinfo "$f" | awk '/^Pages:/ {print $2}')" "$PAGES"
done
cat "$work"/pdf/* >/dev/null # warm the page cache for everyone
total_pages=$((DOCS * PAGES))

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

# A fresh database with the schema and the PDFs uploaded and queued.
prepare() {
	local db=bench_$1
	psql -qAtX -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null
	export PLATCTL_DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/$db"
	export PLATCTL_STORAGE_URL="file://$work/store$1"
	./platctl migrate up >/dev/null
	./platctl upload "$work"/pdf/*.pdf -o ids >"$work/ids"
	bench_check "documents uploaded" "$(grep -c . "$work/ids")" "$DOCS"
}

# What run R must have left: every document processed, with chunks on every page embedded
# by the builtin model, and every PDF in the store.
verify() {
	local r=$1 got
	got=$(psql -qAtX -v ON_ERROR_STOP=1 -d "bench_$r" -F ' ' -c "
		SELECT (SELECT count(*) FROM documents WHERE status = 'processed'),
		       (SELECT count(DISTINCT (document_id, page)) FROM chunks),
		       (SELECT count(*) FROM chunks WHERE embedding IS NULL OR embedding_model <> 'builtin-hash-384-v1')")
	bench_check "run $r: processed documents, pages with chunks, chunks without a builtin embedding" \
		"$got" "$DOCS $total_pages 0"
	bench_check "run $r: objects in the store" "$(find "$work/store$r" -type f | wc -l)" "$DOCS"
}

plat=() anchor=()
for r in $(seq "$REPS"); do
	t0=$(now)
	for f in "$work"/pdf/*.pdf; do pdftotext "$f" /dev/null; done
	t1=$(now)
	anchor+=("$(echo "$t1 - $t0" | bc -l)")

	prepare "$r"
	t0=$(now)
	./platctl consume --once -c 1 -o json >"$work/summary" 2>"$work/log" ||
		bench_fail "platctl consume run $r exited $?" "$work/log"
	t1=$(now)
	bench_check "run $r: consume's summary" "$(jq -r '"\(.processed) processed, \(.failed + .dead_lettered) failed"' "$work/summary")" \
		"$DOCS processed, 0 failed" "$work/log"
	verify "$r"
	plat+=("$(echo "$t1 - $t0" | bc -l)")
	last_wall=${plat[-1]}
done
pt=$(median "${plat[@]}") at=$(median "${anchor[@]}")
pps=$(echo "$total_pages / $pt" | bc -l) aps=$(echo "$total_pages / $at" | bc -l)
printf 'pipeline %d PDFs x %d pages of %d sentences, consume -c 1: platctl %.2fs = %.0f pages/s; pdftotext %.2fs = %.0f pages/s -> %sx of pdftotext (goal >= 0.7x)\n' \
	"$DOCS" "$PAGES" "$SENTENCES" "$pt" "$pps" "$at" "$aps" "$(ratio "$pps" "$aps")"

# Where the time goes (last run): each stage's share of the documents' total_ms (which
# ends before the status update and commit). "storing chunks" is the rest of total_ms: the
# row lock, the DELETE and one INSERT per chunk into chunks (GIN + HNSW indexes).
psql -qAtX -d "bench_$REPS" -c "
	SELECT sum((stage_timings->>'total_ms')::numeric), sum((stage_timings->>'download_ms')::numeric),
	       sum((stage_timings->>'extract_ms')::numeric), sum((stage_timings->>'classify_extract_ms')::numeric),
	       sum((stage_timings->>'summarise_ms')::numeric), sum((stage_timings->>'chunk_ms')::numeric),
	       sum((stage_timings->>'embed_ms')::numeric)
	FROM documents WHERE status = 'processed'" -F' ' |
	while read -r tot dl ex ce su ch em; do
		rest=$((tot - dl - ex - ce - su - ch - em))
		awk -v t="$tot" -v dl="$dl" -v ex="$ex" -v ce="$ce" -v su="$su" -v ch="$ch" -v em="$em" -v rest="$rest" \
			-v wall="$last_wall" 'BEGIN {
			p = t > 0 ? t : 1
			printf "  per-document stages (%.2fs of %.2fs wall): extract %.0f%%, summarise %.0f%%, classify+fields %.0f%%, embed %.0f%%, chunk %.0f%%, download %.0f%%, storing chunks %.0f%%\n",
				t / 1000, wall, 100 * ex / p, 100 * su / p, 100 * ce / p, 100 * em / p, 100 * ch / p, 100 * dl / p, 100 * rest / p
		}'
	done
