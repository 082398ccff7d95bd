#!/usr/bin/env bats
# platctl search over a small corpus with known answers (tests/data/corpus), processed by
# consume with the builtin provider on a real PostgreSQL with pgvector.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
}

sql() {
	test_psql -d "$TEST_DB" -Atc "$1"
}

load_corpus() {
	"$PLATCTL" upload "$ROOT"/tests/data/corpus/* --tag set=corpus >/dev/null
	"$PLATCTL" consume --once >/dev/null
	[ "$(sql "SELECT count(*) FROM documents WHERE status = 'processed'")" -eq 4 ]
}

top() { # QUERY [options]: "document page" of the best result
	"$PLATCTL" search "$@" -k 1 -o json | jq -r '.[0] | "\(.document) \(.page)"'
}

@test "clear questions find the right document and page at rank 1" {
	load_corpus
	[ "$(top how can the supply agreement be terminated)" = "supply-agreement.txt 1" ]
	[ "$(top what happens when a coil fails the tensile strength test)" = "supply-agreement.txt 2" ]
	[ "$(top how often are backups restored and tested)" = "security-policy.md 1" ]
	[ "$(top expected revenue for the full year)" = "q3-report.html 1" ]
	[ "$(top which law governs the agreement)" = "supply-agreement.txt 1" ]
}

@test "results show document, page, chunk, a highlighted snippet and the fused score" {
	load_corpus
	run --separate-stderr "$PLATCTL" search laptops encryption -o json
	[ "$status" -eq 0 ]
	r=$(echo "$output" | jq '.[0]')
	[ "$(echo "$r" | jq -r .document)" = security-policy.md ]
	[ "$(echo "$r" | jq .rank)" -eq 1 ]
	[ "$(echo "$r" | jq .page)" -eq 1 ]
	[ "$(echo "$r" | jq .chunk)" -ge 0 ]
	[[ "$(echo "$r" | jq -r .snippet)" == *"«laptops»"* ]]
	[ "$(echo "$r" | jq -r .document_id)" = "$(sql "SELECT id FROM documents WHERE name = 'security-policy.md'")" ]
	# found by both halves: the score is the sum of both weighted reciprocal ranks (the
	# builtin embedder's vectors count 0.1 by default)
	[ "$(echo "$r" | jq .fts_rank)" -eq 1 ]
	[ "$(echo "$r" | jq '.score - (1 / (60 + .fts_rank) + 0.1 / (60 + .vector_rank)) | fabs < 1e-9')" = true ]
	PLATCTL_SEARCH_VECTOR_WEIGHT='builtin-hash-384-v1=2' run --separate-stderr "$PLATCTL" search laptops encryption -o json
	r=$(echo "$output" | jq '.[] | select(.fts_rank != null and .vector_rank != null)' | jq -s '.[0]')
	[ "$(echo "$r" | jq '.score - (1 / (60 + .fts_rank) + 2 / (60 + .vector_rank)) | fabs < 1e-9')" = true ]
	PLATCTL_SEARCH_VECTOR_WEIGHT='builtin=x' run --separate-stderr "$PLATCTL" search laptops
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"search.vector_weight"*"builtin=x"* ]]
	# ranks are 1..n and scores never increase
	echo "$output" | jq -e '[.[].rank] == [range(1; length + 1)]' >/dev/null
	echo "$output" | jq -e '[.[].score] as $s | all(range(1; $s | length); $s[. - 1] >= $s[.])' >/dev/null
	# the table has the same rows; -o ids the documents, each once
	run --separate-stderr "$PLATCTL" search laptops encryption
	[[ "${lines[0]}" == "#"*"SCORE"*"LOCATION"*"SECTION"*"SNIPPET"* ]]
	[[ "${lines[1]}" == "1"*"security-policy.md"* ]]
	# --explain: each half's rank and score, and BM25's parts adding up to its score
	run --separate-stderr "$PLATCTL" search laptops encryption --explain
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "#"*"SCORE"*"LOCATION"*"FTS"*"BM25"*"VEC"*"DISTANCE"*"BM25 TERMS"* ]]
	[[ "${lines[1]}" == *"encrypt "[0-9]*"laptop "[0-9]* ]]
	run --separate-stderr "$PLATCTL" search laptops encryption --explain -o json
	echo "$output" | jq -e '.[0].explain | .fts.rank == 1 and .vector.rank >= 1 and .fusion.vector_weight == 0.1
		and ((.fts.score - ([.fts.terms[].score] | add)) | fabs < 1e-9) and (.fts.terms | length) == 2
		and all(.fts.terms[]; .idf > 0 and .tf >= 1 and .passages >= 1)' >/dev/null
	echo "$output" | jq -e 'all(.[]; has("title") and has("section") and has("anchor") and (.location | type) == "string")' >/dev/null
	run --separate-stderr "$PLATCTL" search steel -o ids
	[ "$(printf '%s\n' "${lines[@]}" | sort | uniq -d | wc -l)" -eq 0 ]
}

@test "web-search syntax: phrases and exclusions hold for both halves" {
	load_corpus
	run --separate-stderr "$PLATCTL" search '"written notice"' -o json
	[ "$(echo "$output" | jq length)" -eq 1 ]
	[ "$(echo "$output" | jq -r '.[0].document')" = supply-agreement.txt ]
	run --separate-stderr "$PLATCTL" search 'steel -coils' -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '[.[].document] | unique | join(",")')" = q3-report.html ]
	# a bare "or" is a word of a question, not syntax: any of the words still matches
	run --separate-stderr "$PLATCTL" search 'revenue tensile or password' -o json
	[ "$status" -eq 0 ]
	echo "$output" | jq -e 'any(.[]; .document == "q3-report.html" and .fts_rank != null)' >/dev/null
}

@test "filters: --class, --tag, --since, --doc, -k; deleted documents are never found" {
	load_corpus
	sql "UPDATE documents SET class = 'report' WHERE name = 'q3-report.html'" >/dev/null
	[ "$("$PLATCTL" search steel --class report -o json | jq -r '[.[].document] | unique | join(",")')" = q3-report.html ]
	[ "$("$PLATCTL" search steel --tag set=corpus -o json | jq length)" -gt 0 ]
	[ "$("$PLATCTL" search steel --tag set=other -o json | jq length)" -eq 0 ]
	[ "$("$PLATCTL" search steel --since 2999-01-01 -o json | jq length)" -eq 0 ]
	[ "$("$PLATCTL" search steel --doc security-policy.md -o json | jq -r '[.[].document] | unique | join(",")')" = security-policy.md ]
	id=$(sql "SELECT id FROM documents WHERE name = 'q3-report.html'")
	[ "$("$PLATCTL" search revenue --doc "$id" -o json | jq -r '.[0].document_id')" = "$id" ]
	[ "$("$PLATCTL" search steel -k 2 -o json | jq length)" -eq 2 ]
	"$PLATCTL" documents rm "$id" >/dev/null
	[ "$("$PLATCTL" search revenue -o json | jq "[.[] | select(.document_id == \"$id\")] | length")" -eq 0 ]
	# bad filters are usage errors, not SQL errors
	run --separate-stderr "$PLATCTL" search steel --tag nokey
	[ "$status" -eq 2 ]
	run --separate-stderr "$PLATCTL" search steel --since yesterday-ish
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"option '--since': 'yesterday-ish'"* ]]
}

@test "another tenant's documents never appear" {
	load_corpus
	sql "INSERT INTO tenants (name) VALUES ('globex')" >/dev/null
	printf 'Globex secret plan: steel prices will double next year.\n' >"$BATS_TEST_TMPDIR/plan.txt"
	PLATCTL_TENANT=globex "$PLATCTL" upload "$BATS_TEST_TMPDIR/plan.txt" >/dev/null
	PLATCTL_TENANT=globex "$PLATCTL" consume --once >/dev/null
	run --separate-stderr "$PLATCTL" search globex secret plan steel prices -k 50 -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq '[.[] | select(.document == "plan.txt")] | length')" -eq 0 ]
	run --separate-stderr env PLATCTL_TENANT=globex "$PLATCTL" search steel -k 50 -o json
	[ "$(echo "$output" | jq -r '[.[].document] | unique | join(",")')" = plan.txt ]
}

@test "empty corpus, stop words, a 10 KB question, non-English text, SQL and tsquery syntax" {
	run --separate-stderr "$PLATCTL" search anything -o json
	[ "$status" -eq 0 ]
	[ "$output" = "[]" ]
	load_corpus
	run --separate-stderr "$PLATCTL" search the of and
	[ "$status" -eq 0 ]
	q=$(for i in $(seq 400); do printf 'tensile strength coil test '; done)
	[ ${#q} -gt 10000 ]
	[ "$(top "$q")" = "supply-agreement.txt 2" ]
	[ "$(top Kündigungsfrist Monatsende)" = "mietvertrag.txt 1" ]
	for q in "'; DROP TABLE chunks; --" 'steel & !coil | (a' ':* <-> !!' '((((' '\' '%s%s%n'; do
		run --separate-stderr "$PLATCTL" search "$q" -o json
		[ "$status" -eq 0 ] || { echo "query $q: $stderr"; false; }
		echo "$output" | jq -e 'type == "array"' >/dev/null
	done
	[ "$(sql "SELECT count(*) > 0 FROM chunks")" = t ]
	run --separate-stderr "$PLATCTL" search ""
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"the query is empty"* ]]
}

@test "over a large corpus a plain question's full text ranks by its rare words, and highlights all" {
	load_corpus
	tenant=$(sql "SELECT id FROM tenants WHERE name = 'default'")
	# 3,000 passages that repeat "coil"; one that names the rare "zinc" once.
	sql "INSERT INTO documents (id, tenant_id, name, content_type, size_bytes, sha256, storage_key, created_by, status)
	     VALUES ('00000000-0000-4000-8000-000000000001', '$tenant', 'coils.txt', 'text/plain', 1, repeat('a', 64), 'k1', 't', 'processed'),
	            ('00000000-0000-4000-8000-000000000002', '$tenant', 'zinc.txt', 'text/plain', 1, repeat('b', 64), 'k2', 't', 'processed')"
	sql "INSERT INTO chunks (tenant_id, document_id, ord, page, text)
	     SELECT '$tenant', '00000000-0000-4000-8000-000000000001', i, 1, 'coil coil coil coil stock ' || i FROM generate_series(1, 3000) i"
	sql "INSERT INTO chunks (tenant_id, document_id, ord, page, text)
	     VALUES ('$tenant', '00000000-0000-4000-8000-000000000002', 0, 1, 'The coil is galvanised with zinc before delivery.')"
	# BM25's statistics are kept as chunks come and go: no ANALYZE needed. The common
	# "coil" picks no passages (--explain shows what did) but still counts in the score.
	run --separate-stderr "$PLATCTL" search coil zinc -k 3 -o json --explain
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.[0].explain.match')" = "'zinc'" ]
	[ "$(echo "$output" | jq -r '[.[0].explain.fts.terms[].term] | join(",")')" = coil,zinc ]
	[ "$status" -eq 0 ]
	r=$(echo "$output" | jq '[.[] | select(.fts_rank == 1)][0]')
	[ "$(echo "$r" | jq -r .document)" = zinc.txt ]
	[[ "$(echo "$r" | jq -r .snippet)" == *"«coil»"*"«zinc»"* ]]
	# only common words: the rarest of them still finds passages
	[ "$("$PLATCTL" search coil -o json | jq -r '[.[] | select(.fts_rank == 1)][0].document')" = coils.txt ]
	# web-search syntax still means exactly what it says
	[ "$("$PLATCTL" search '"coil stock"' -k 1 -o json | jq -r '.[0].document')" = coils.txt ]
}
