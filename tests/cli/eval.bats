#!/usr/bin/env bats
# platctl eval: recall@k and MRR on a labelled set over tests/data/corpus, thresholds for
# CI, and the ways a question file can be wrong.
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
	rank2=$(echo "$output" | jq '.results[1].rank')
	[ "$rank2" -gt 1 ]
	[ "$(echo "$output" | jq --argjson r "$rank2" '(.mrr - (1 + 1 / $r) / 3) | fabs < 1e-9')" = true ]
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
	run --separate-stderr "$PLATCTL" eval "$SET" --min-recall 1.5
	[ "$status" -eq 2 ]
	[ "$(test_psql -d "$TEST_DB" -Atc "SELECT count(*) FROM asks")" -eq 0 ]
}
