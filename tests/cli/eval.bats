#!/usr/bin/env bats
# platctl eval: recall@k and MRR on a labelled set over tests/data/corpus, at document,
# page and section level; ask's false refusals and false answers on the labelled set of
# tests/data/answers; thresholds for CI, and the ways a question file can be wrong.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
	"$PLATCTL" upload "$ROOT"/tests/data/corpus/* >/dev/null
	"$PLATCTL" consume --once >/dev/null
	SET="$ROOT/tests/data/corpus-eval.yaml"
}

@test "the labelled set: every question's document at rank 1" {
	run --separate-stderr "$PLATCTL" eval "$SET" -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(echo "$output" | jq .k)" -eq 5 ]
	[ "$(echo "$output" | jq .questions)" -eq 6 ]
	[ "$(echo "$output" | jq .recall_at_k)" = 1 ]
	[ "$(echo "$output" | jq .mrr)" = 1 ]
	[ "$(echo "$output" | jq -r '.results[1].top')" = "supply-agreement.txt p2" ]
	run --separate-stderr "$PLATCTL" eval "$SET" --min-recall 1 --min-mrr 1
	[ "$status" -eq 0 ]
	[[ "$output" == *"recall@5 1.000 (6 of 6), MRR 1.000"* ]]
}

@test "a miss and a lower rank show in recall and MRR; thresholds fail the command" {
	cat >"$BATS_TEST_TMPDIR/set.yaml" <<-'EOF'
		questions:
		  - question: How can the supply agreement be terminated?
		    expect: supply-agreement.txt
		  - question: How can the supply agreement be terminated?
		    expect: supply-agreement.txt
		    pages: 2
		  - question: What is the capital of France?
		    expect: atlas.pdf
	EOF
	run --separate-stderr "$PLATCTL" eval "$BATS_TEST_TMPDIR/set.yaml" -k 3 -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq .k)" -eq 3 ]
	[ "$(echo "$output" | jq .found)" -eq 2 ]
	[ "$(echo "$output" | jq '.results[2].rank')" = null ]
	# the document at rank 1 for both; page 2 lower down, counted at page level only
	[ "$(echo "$output" | jq -c '[.results[].rank]')" = '[1,1,null]' ]
	rank2=$(echo "$output" | jq '.results[1].page_rank')
	[ "$rank2" -gt 1 ]
	[ "$(echo "$output" | jq '.results[0].page_rank')" = null ] # no pages labelled
	[ "$(echo "$output" | jq -c '.page | [.questions, .found]')" = '[1,1]' ]
	[ "$(echo "$output" | jq --argjson r "$rank2" '(.page.mrr - 1 / $r) | fabs < 1e-9')" = true ]
	[ "$(echo "$output" | jq '(.mrr - 2 / 3) | fabs < 1e-9')" = true ]
	[ "$(echo "$output" | jq '(.recall_at_k - 2 / 3) | fabs < 1e-9')" = true ]
	run --separate-stderr "$PLATCTL" eval "$BATS_TEST_TMPDIR/set.yaml" -k 3 --min-recall 0.9
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"recall@3 0.667 is below --min-recall 0.9"* ]]
	run --separate-stderr "$PLATCTL" eval "$BATS_TEST_TMPDIR/set.yaml" -k 3 --min-mrr 0.99
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is below --min-mrr 0.99"* ]]
	# from standard input too
	run --separate-stderr "$PLATCTL" eval - -k 3 -o json <"$BATS_TEST_TMPDIR/set.yaml"
	[ "$(echo "$output" | jq .found)" -eq 2 ]
}

@test "bad question files and options: clear messages, nothing searched" {
	f="$BATS_TEST_TMPDIR/bad.yaml"
	run --separate-stderr "$PLATCTL" eval "$BATS_TEST_TMPDIR/missing.yaml"
	[ "$status" -eq 5 ]
	printf 'questions:\n  - question: [unclosed\n' >"$f"
	run --separate-stderr "$PLATCTL" eval "$f"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"bad.yaml:"[0-9]*:[0-9]*": "* ]]
	printf 'questions:\n  - question: ok?\n    expect: a.txt\n  - question: no expectation\n' >"$f"
	run --separate-stderr "$PLATCTL" eval "$f"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"questions[1]: 'expect' must be a document name or a list of them"* ]]
	printf 'questions:\n  - question: ok?\n    expect: a.txt\n    pages: first\n' >"$f"
	run --separate-stderr "$PLATCTL" eval "$f"
	[[ "$stderr" == *"questions[0]: 'pages' must be a number or a list of them"* ]]
	printf 'x: &a [1]\nquestions: *a\n' >"$f"
	run --separate-stderr "$PLATCTL" eval "$f"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"aliases are not accepted"* ]]
	printf 'questions: []\n' >"$f"
	run --separate-stderr "$PLATCTL" eval "$f"
	[[ "$stderr" == *"non-empty list 'questions'"* ]]
	printf 'questions:\n  - question: ok?\n    expect: a.txt\n    sections: [{a: 1}]\n' >"$f"
	run --separate-stderr "$PLATCTL" eval "$f"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"questions[0]: 'sections' must be an anchor or a list of them"* ]]
	printf 'questions:\n  - question: ok?\n    answerable: no way\n' >"$f"
	run --separate-stderr "$PLATCTL" eval "$f"
	[[ "$stderr" == *"questions[0]: 'answerable' must be true or false"* ]]
	printf 'questions:\n  - question: ok?\n    expect: a.txt\n  - question: nothing?\n    answerable: false\n    pages: 1\n' >"$f"
	run --separate-stderr "$PLATCTL" eval "$f"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"questions[1]: an unanswerable question ('answerable: false') takes no 'expect', 'pages' or 'sections'"* ]]
	run --separate-stderr "$PLATCTL" eval "$SET" --min-recall 1.5
	[ "$status" -eq 2 ]
	for bad in 0 1.5 half; do
		run --separate-stderr "$PLATCTL" eval "$SET" --min-support "$bad"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"option '--min-support'"* ]]
	done
	[ "$(test_psql -d "$TEST_DB" -Atc "SELECT count(*) FROM asks")" -eq 0 ]
}

# The labelled answers set: a PDF made page by page, an HTML guide with section anchors,
# a Markdown policy, besides tests/data/corpus; answerable and unanswerable questions.
answers_corpus() {
	python3 "$ROOT/tests/data/gen_pdf.py" --from-text "$ROOT/tests/data/answers/kettle-manual.txt" \
		--out "$BATS_TEST_TMPDIR/kettle-manual.pdf"
	"$PLATCTL" upload "$BATS_TEST_TMPDIR/kettle-manual.pdf" "$ROOT"/tests/data/answers/*.html \
		"$ROOT"/tests/data/answers/*.md >/dev/null
	"$PLATCTL" consume --once >/dev/null
	ANSWERS="$ROOT/tests/data/answers-eval.yaml"
}

@test "the answers set: few false refusals and false answers at the default threshold, pages scored" {
	answers_corpus
	run --separate-stderr "$PLATCTL" eval "$ANSWERS" -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	r=$output
	answerable=$(grep -c '^    expect:' "$ANSWERS")
	unanswerable=$(grep -c '^    answerable: false' "$ANSWERS")
	[ "$(echo "$r" | jq -c '.refusals | [.answerable, .unanswerable, .min_support]')" = "[$answerable,$unanswerable,0.52]" ]
	[ "$(echo "$r" | jq .questions)" -eq "$answerable" ]
	echo "$r" | jq -c .refusals
	[ "$(echo "$r" | jq '.refusals.false_refusal_rate <= 0.05 and .refusals.false_answer_rate <= 0.05')" = true ]
	# the rates are what the results say
	[ "$(echo "$r" | jq '[.results[] | select(.answerable and .refused)] | length')" = "$(echo "$r" | jq .refusals.false_refusals)" ]
	[ "$(echo "$r" | jq '[.results[] | select(.answerable | not) | select(.refused | not)] | length')" = "$(echo "$r" | jq .refusals.false_answers)" ]
	[ "$(echo "$r" | jq '[.results[] | select(.refused != (.support < 0.52))] | length')" -eq 0 ]
	# unanswerable questions have no ranks
	[ "$(echo "$r" | jq '[.results[] | select(.answerable | not) | .rank, .page_rank, .section_rank, .fts_rank] | unique')" = '[
  null
]' ]
	# page level: every labelled page question, and the count is what its ranks say
	pages=$(grep -c '^    pages:' "$ANSWERS")
	[ "$(echo "$r" | jq .page.questions)" -eq "$pages" ]
	[ "$(echo "$r" | jq '[.results[] | select(.page_rank != null)] | length')" = "$(echo "$r" | jq .page.found)" ]
	[ "$(echo "$r" | jq '.page.found >= .page.questions - 1')" = true ]
	# a page hit is a document hit too, never ranked before it
	[ "$(echo "$r" | jq '[.results[] | select(.page_rank != null and .page_rank < .rank)] | length')" -eq 0 ]
	# halves: of the first hits, each counted by the half that had it in its top k
	[ "$(echo "$r" | jq '.halves | .both + .fts_only + .vector_only <= '"$answerable"' and .fts_found == .both + .fts_only and .vector_found == .both + .vector_only')" = true ]
	[ "$(echo "$r" | jq '[.results[] | select(.rank != null and .fts_rank != null and .fts_rank <= 5)] | length')" = "$(echo "$r" | jq .halves.fts_found)" ]
	# eval asks nobody and records nothing
	[ "$(test_psql -d "$TEST_DB" -Atc "SELECT count(*) FROM asks")" -eq 0 ]
	# the table: the summary lines
	run --separate-stderr "$PLATCTL" eval "$ANSWERS"
	[[ "$output" == *"page level: recall@5 "*"refusals at support 0.52: "*" of $answerable answerable questions refused"*" of $unanswerable unanswerable answered"*"first hits found by: full text "* ]]
}

@test "sections: anchors count when search reports them; the threshold moves the refusals" {
	answers_corpus
	run --separate-stderr "$PLATCTL" eval "$ANSWERS" -o json
	r=$output
	sections=$(grep -c '^    sections:' "$ANSWERS")
	[ "$(echo "$r" | jq .section.questions)" -eq "$sections" ]
	[ "$(echo "$r" | jq '[.results[] | select(.section_rank != null)] | length')" = "$(echo "$r" | jq .section.found)" ]
	# search results carry anchors once documents have sections; before, nothing matches
	if "$PLATCTL" search "roof vents greenhouse" -o json | jq -e '.[0].anchor | type == "string"' >/dev/null; then
		[ "$(echo "$r" | jq '.section.found >= .section.questions - 1')" = true ]
	else
		[ "$(echo "$r" | jq .section.found)" -eq 0 ]
	fi
	# a threshold nothing reaches refuses every question; a tiny one answers nearly all
	run --separate-stderr "$PLATCTL" eval "$ANSWERS" --min-support 1 -o json
	[ "$(echo "$output" | jq '.refusals | .min_support == 1 and .false_answers == 0 and .false_refusals > 0')" = true ]
	run --separate-stderr "$PLATCTL" eval "$ANSWERS" --min-support 0.01 -o json
	[ "$(echo "$output" | jq '.refusals | .false_refusals == 0 and .false_answers > 0')" = true ]
	# ask.min_support from the configuration, as ask uses it
	PLATCTL_ASK_MIN_SUPPORT=0.9 run --separate-stderr "$PLATCTL" eval "$ANSWERS" -o json
	[ "$(echo "$output" | jq .refusals.min_support)" = 0.9 ]
	PLATCTL_ASK_MIN_SUPPORT=2 run --separate-stderr "$PLATCTL" eval "$ANSWERS"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"ask.min_support"* ]]
}
