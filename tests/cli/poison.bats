#!/usr/bin/env bats
# Poison inputs through upload + consume (PostgreSQL queue and Kafka, builtin AI): damaged,
# huge and hostile documents end as `failed` (with the error in documents.error) or
# `processed`; the consumer never dies of a signal, and a good document next to them is
# still processed. --max-attempts 1 dead-letters at the first failure (no 2 s backoff).
load helpers

setup_file() {
	pg_setup_file
	# The inputs are the same for every test: made once.
	local d="$BATS_FILE_TMPDIR/in" gen="$ROOT/tests/data/gen_pdf.py"
	mkdir -p "$d"
	python3 "$gen" --pages 2000 --out "$d/pages2000.pdf"
	python3 "$gen" --pages 500 --seed 5 --out "$d/pages500.pdf"
	python3 "$gen" --pages 40 --seed 2 --mode truncated --out "$d/truncated.pdf"
	python3 "$gen" --mode garbage --garbage-bytes 200000 --out "$d/corrupt.pdf"
	# 2,000 pages of 40 sentences: the density of a real contract or report
	python3 "$gen" --pages 2000 --sentences 40 --seed 3 --out "$d/dense2000.pdf"
	# 11 MB of HTML: 1,000,000 nested <div>, text before, inside and after
	python3 - "$d/nested.html" <<-'EOF'
		import sys
		with open(sys.argv[1], "w") as f:
		    f.write("<html><body><p>Nested report start.</p>")
		    f.write("<div>" * 1000000 + "deep inside" + "</div>" * 1000000)
		    f.write("<p>Nested report end.</p></body></html>")
	EOF
	# A DOCX whose word/document.xml inflates to 1.1 GB of zeros (~1.1 MB on disk),
	# written as a stream: nothing of that size is ever in memory here.
	python3 - "$d/bomb.docx" <<-'EOF'
		import sys, zipfile
		ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
		      'content-types"><Default Extension="xml" ContentType="application/xml"/><Override '
		      'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
		      'wordprocessingml.document.main+xml"/></Types>')
		rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
		        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
		        'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
		with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as zf:
		    zf.writestr("[Content_Types].xml", ct)
		    zf.writestr("_rels/.rels", rels)
		    zeros = bytes(16 << 20)
		    with zf.open("word/document.xml", "w", force_zip64=True) as f:
		        for _ in range(70):  # 70 x 16 MiB = 1.1 GiB
		            f.write(zeros)
	EOF
	# 100,000 short sentences in 700 KB of plain text
	python3 -c 'import sys; sys.stdout.write("Ab cd. " * 100000)' >"$d/sentences.txt"
}

teardown_file() {
	pg_teardown_file
}

teardown() {
	kafka_teardown
	[ -z "${HELPER_DIR:-}" ] || rm -rf "$HELPER_DIR"
}

setup() {
	pipeline_setup
	IN="$BATS_FILE_TMPDIR/in"
	F="$BATS_TEST_TMPDIR/files"
	mkdir -p "$F"
	printf 'Master services agreement between Acme and Globex.\nValid until 2027-03-31.\n' >"$F/good.txt"
}

sql() {
	test_psql -d "$TEST_DB" -Atc "$1"
}

# consume ARGS...: runs `platctl consume --once -o json ARGS` under /usr/bin/time and a
# wall-clock guard; sets status, output (the JSON), stderr, RSS_KB (peak RSS of the
# consumer and its parser children) and SECONDS_TAKEN.
consume() {
	local t="$BATS_TEST_TMPDIR/time"
	run --separate-stderr /usr/bin/time -f '%M %e' -o "$t" timeout -s KILL 150 \
		"$PLATCTL" consume --once -o json "$@"
	read -r RSS_KB SECONDS_TAKEN < <(tail -n 1 "$t")
	echo "# consume $*: exit $status, ${SECONDS_TAKEN}s, peak RSS $RSS_KB KB" >&3
}

# The consumer ended normally: exit 0 (all processed) or 1 (something failed); never a
# signal (128+N: 134 abort, 137 kill, 139 segfault) and never the guard's timeout.
assert_consumer_survived() {
	if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
		echo "consume exited $status after ${SECONDS_TAKEN}s (a signal or the guard)"
		echo "$stderr" | tail -n 5
		sql "SELECT name, status, attempts, coalesce(error, '') FROM documents ORDER BY name"
		false
	fi
}

# Every document reached a final state, and every failed one says why.
assert_all_final() {
	local left
	left=$(sql "SELECT string_agg(name || '=' || status, ' ') FROM documents WHERE status NOT IN ('processed', 'failed')")
	[ -z "$left" ] || { echo "not finished: $left"; false; }
	left=$(sql "SELECT string_agg(name, ' ') FROM documents WHERE status = 'failed' AND coalesce(error, '') = ''")
	[ -z "$left" ] || { echo "failed without an error: $left"; false; }
}

status_of() {
	sql "SELECT status FROM documents WHERE name = '$1'"
}

# stand_in_helper [SELF-TEST]: a copy of platctl in HELPER_DIR, which finds its parser
# helper beside itself: there, a wrapper running the real platctl-extract in the given
# self-test mode (confined as for a parse), or — without an argument — nothing at all.
# The directory is open to all: as root, the helper runs as nobody.
stand_in_helper() {
	HELPER_DIR=$(mktemp -d /tmp/platctl-helper.XXXXXX)
	chmod 0755 "$HELPER_DIR"
	cp "$PLATCTL" "$HELPER_DIR/platctl"
	if [ $# -gt 0 ]; then
		cp "$(dirname "$PLATCTL")/platctl-extract" "$HELPER_DIR/real-extract"
		printf '#!/bin/sh\nexec %s/real-extract --self-test %s\n' "$HELPER_DIR" "$1" >"$HELPER_DIR/platctl-extract"
		chmod 0755 "$HELPER_DIR/platctl-extract"
	fi
}

# The poison batch: each input ends processed or failed, the consumer survives, the good
# document is processed. Run on the PostgreSQL queue and on Kafka.
poison_batch() {
	: >"$F/empty.txt"
	cp "$IN/corrupt.pdf" "$IN/truncated.pdf" "$IN/pages2000.pdf" "$IN/nested.html" "$IN/bomb.docx" "$F/"
	run --separate-stderr "$PLATCTL" upload "$F/corrupt.pdf" "$F/truncated.pdf" "$F/empty.txt" \
		"$F/pages2000.pdf" "$F/nested.html" "$F/bomb.docx" "$F/good.txt"
	# the 0-byte file is refused by upload itself; the others are queued
	[ "$status" -eq 1 ] || { echo "upload: status $status: $stderr"; false; }
	[[ "$stderr" == *"$F/empty.txt': is empty"* ]] || { echo "$stderr"; false; }
	[[ "$stderr" == *"1 of 7 files failed"* ]] || { echo "$stderr"; false; }
	[ "$(sql "SELECT count(*) FROM documents WHERE name = 'empty.txt'")" -eq 0 ]
	[ "$(sql "SELECT count(*) FROM documents WHERE status = 'queued'")" -eq 6 ]
	[ "$(sql "SELECT count(*) FROM outbox WHERE event_type = 'document.uploaded'")" -eq 6 ]

	consume --max-attempts 1 -c 2
	assert_consumer_survived
	sql "SELECT '# ' || name || ': ' || status || coalesce(' (' || error || ')', '') FROM documents ORDER BY name" >&3
	assert_all_final
	[ "$(status_of good.txt)" = processed ]
	[ "$(sql "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.name = 'good.txt'")" -gt 0 ]
	# a valid file, however long, is processed
	[ "$(status_of pages2000.pdf)" = processed ]
	# a million nested elements: all of the text, not only what came before depth 256
	[ "$(status_of nested.html)" = processed ]
	[[ "$(sql "SELECT string_agg(c.text, ' ' ORDER BY c.ord) FROM chunks c JOIN documents d ON d.id = c.document_id
		WHERE d.name = 'nested.html'")" == *"Nested report start."*"deep inside"*"Nested report end."* ]]
	# the hostile ones fail, saying why
	[ "$(status_of corrupt.pdf)" = failed ]
	[[ "$(sql "SELECT error FROM documents WHERE name = 'corrupt.pdf'")" == *"not a readable PDF"* ]]
	[ "$(status_of bomb.docx)" = failed ]
	[[ "$(sql "SELECT error FROM documents WHERE name = 'bomb.docx'")" == *"too large"* ]]
	# the summary matches the rows, and the exit code matches the summary
	failed=$(sql "SELECT count(*) FROM documents WHERE status = 'failed'")
	[ "$(echo "$output" | jq '.processed + .dead_lettered')" -eq 6 ]
	[ "$(echo "$output" | jq .dead_lettered)" -eq "$failed" ]
	[ "$(sql "SELECT count(*) FROM outbox WHERE dead_lettered_at IS NOT NULL")" -eq "$failed" ]
	if [ -n "${TEST_KAFKA_BROKERS:-}" ]; then
		[ "$(kcat -b "$TEST_KAFKA_BROKERS" -C -t platctl.documents.dead-letter -e -q -f '%k\n' 2>/dev/null | wc -l)" -eq "$failed" ]
	fi
	[ "$status" -eq $((failed > 0 ? 1 : 0)) ]
}

@test "poison inputs in one batch: each ends processed or failed, the good document is processed" {
	poison_batch
}

@test "the same poison batch over Kafka: failures go to the dead-letter topic" {
	kafka_setup
	poison_batch
}

@test "a 2,000-page PDF alone is processed, with chunks on page 2000" {
	cp "$IN/pages2000.pdf" "$F/"
	"$PLATCTL" upload "$F/pages2000.pdf" >/dev/null
	consume --max-attempts 1
	echo "# stage timings: $(sql "SELECT stage_timings FROM documents")" >&3
	assert_consumer_survived
	[ "$status" -eq 0 ] || { echo "$stderr"; sql "SELECT error FROM documents"; false; }
	[ "$(status_of pages2000.pdf)" = processed ]
	[ "$(sql "SELECT count(DISTINCT page) FROM chunks")" -eq 2000 ]
	# Each page's first line ("Page N of 2000") and last ("Reference pagemarkN ends this
	# page.") repeat on every page with their numbers: running header and footer. The page
	# number leaves the text; the footer becomes the page's section.
	text=$(sql "SELECT string_agg(text, ' ') FROM chunks WHERE page = 2000")
	[ -n "$text" ] && [[ "$text" != *"Page 2000 of 2000"* ]]
	[ "$(sql "SELECT DISTINCT section FROM chunks WHERE page = 2000")" = "Reference pagemark2000 ends this page." ]
}

@test "a 500-page PDF is processed within 256 MB peak RSS" {
	cp "$IN/pages500.pdf" "$F/"
	"$PLATCTL" upload "$F/pages500.pdf" >/dev/null
	consume --max-attempts 1
	echo "# peak RSS of consume (500-page PDF): $RSS_KB KB" >&3
	assert_consumer_survived
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(status_of pages500.pdf)" = processed ]
	[ "$(sql "SELECT max(page) FROM chunks")" -eq 500 ]
	[ "$RSS_KB" -lt $((256 * 1024)) ]
}

@test "HTML that needs more than extract.memory_limit fails, saying so, rather than being cut short" {
	cp "$IN/nested.html" "$F/"
	"$PLATCTL" upload "$F/nested.html" "$F/good.txt" >/dev/null
	# a million nested elements need ~200 MB of tree; the parser gets 64 MiB
	PLATCTL_EXTRACT_MEMORY_LIMIT=64MiB consume --max-attempts 1
	assert_consumer_survived
	[ "$status" -eq 1 ]
	[ "$(status_of nested.html)" = failed ]
	sql "SELECT '# error: ' || error FROM documents WHERE name = 'nested.html'" >&3
	[[ "$(sql "SELECT error FROM documents WHERE name = 'nested.html'")" == *"extract.memory_limit"* ]]
	[ "$(sql "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.name = 'nested.html'")" -eq 0 ]
	[ "$(status_of good.txt)" = processed ]
}

@test "documents with very many sentences do not crash the consumer; the good one is processed" {
	# 700 KB of text, and a 7.6 MB PDF of 2,000 ordinary-looking pages: ~100,000 and
	# ~82,000 sentences. Work that grows with the square of the sentence count (the
	# builtin summary) must not run in the consumer process unbounded.
	cp "$IN/sentences.txt" "$IN/dense2000.pdf" "$F/"
	"$PLATCTL" upload "$F/sentences.txt" "$F/dense2000.pdf" "$F/good.txt" >/dev/null
	consume --max-attempts 1
	assert_consumer_survived
	assert_all_final
	[ "$(status_of good.txt)" = processed ]
	sql "SELECT '# ' || name || ': ' || status || coalesce(' (' || error || ')', '') FROM documents ORDER BY name" >&3
}

@test "a parser that attempts a forbidden system call is killed: the document fails saying so" {
	# The stand-in parser opens a socket once confined: the seccomp filter kills it.
	stand_in_helper socket
	"$PLATCTL" upload "$F/good.txt" >/dev/null
	PLATCTL="$HELPER_DIR/platctl" consume --max-attempts 1
	assert_consumer_survived
	[ "$status" -eq 1 ]
	[ "$(status_of good.txt)" = failed ]
	sql "SELECT '# error: ' || error FROM documents" >&3
	[[ "$(sql "SELECT error FROM documents WHERE name = 'good.txt'")" == *"the parser attempted a forbidden system call and was killed (signal 31, SIGSYS)"* ]]
	[ "$(sql "SELECT count(*) FROM chunks")" -eq 0 ]
	# the real helper, beside the real binary, processes it on a retry
	"$PLATCTL" documents retry "$(sql "SELECT id FROM documents")" >/dev/null
	consume --max-attempts 1
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(status_of good.txt)" = processed ]
}

@test "without its parser helper, a document fails saying where the helper was looked for" {
	[ ! -e /usr/local/lib/platctl/platctl-extract ] || skip "a platctl-extract is installed in /usr/local/lib/platctl"
	stand_in_helper
	"$PLATCTL" upload "$F/good.txt" >/dev/null
	PLATCTL="$HELPER_DIR/platctl" consume --max-attempts 1
	assert_consumer_survived
	[ "$status" -eq 1 ]
	[ "$(status_of good.txt)" = failed ]
	[[ "$(sql "SELECT error FROM documents WHERE name = 'good.txt'")" == *"the parser helper platctl-extract is not installed (looked for '$HELPER_DIR/platctl-extract'"* ]]
}
