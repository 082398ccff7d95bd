#!/usr/bin/env bats
# platctl ask over the corpus in tests/data/corpus: grounded answers with checked
# citations, refusals that exit 1, tenant isolation, and an external provider (the fake
# Anthropic API) answering, refusing and citing a source that does not exist.
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
}

sql() {
	test_psql -d "$TEST_DB" -Atc "$1"
}

@test "a clear question is answered with citations that map to document and page" {
	run --separate-stderr "$PLATCTL" ask how can the supply agreement be terminated -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$(echo "$output" | jq -r .answer)" == *"terminate this agreement with ninety days written notice. ["* ]]
	[ "$(echo "$output" | jq .refused)" = false ]
	# the cited sources: the agreement, page 1
	[ "$(echo "$output" | jq -r '[.sources[] | select(.cited) | "\(.document) \(.page)"] | unique | join(",")')" = "supply-agreement.txt 1" ]
	# every [n] in the answer is a source
	n=$(echo "$output" | jq '.sources | length')
	for c in $(echo "$output" | jq -r .answer | grep -o '\[[0-9]*\]' | tr -d '[]'); do
		[ "$c" -ge 1 ] && [ "$c" -le "$n" ]
	done
	# stored
	id=$(echo "$output" | jq -r .id)
	[ "$(sql "SELECT refused::text || ' ' || provider || ' ' || jsonb_array_length(sources) FROM asks WHERE id = '$id'")" = "false builtin $n" ]
	[ "$(sql "SELECT question FROM asks WHERE id = '$id'")" = "how can the supply agreement be terminated" ]
	# the text form: the answer, then only the cited sources
	run --separate-stderr "$PLATCTL" ask "What happens when a coil fails the tensile test?"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"replaced free of charge"*"["* ]]
	[[ "$output" == *$'Sources:\n  ['*"] supply-agreement.txt, page 2"* ]]
}

@test "a question the documents do not answer is refused with exit 1, and recorded" {
	for q in "What is the capital of France?" "How do I bake sourdough bread?"; do
		run --separate-stderr "$PLATCTL" ask "$q" -o json
		[ "$status" -eq 1 ]
		[ "$(echo "$output" | jq .refused)" = true ]
		[ "$(echo "$output" | jq .answer)" = null ]
		[[ "$stderr" == *"the documents do not answer this question"* ]]
	done
	[ "$(sql "SELECT count(*) FROM asks WHERE refused AND answer IS NULL")" -eq 2 ]
	# an empty corpus refuses everything
	sql "UPDATE documents SET deleted_at = now()" >/dev/null
	run --separate-stderr "$PLATCTL" ask how can the supply agreement be terminated
	[ "$status" -eq 1 ]
	# --min-support is checked
	for bad in lots 0 1.5; do
		run --separate-stderr "$PLATCTL" ask steel --min-support "$bad"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"option '--min-support'"* ]]
	done
}

@test "each answer sentence is quoted from the source it cites; sources say where they sit" {
	for q in "What happens when a coil fails the tensile test?" "How often is a backup restore tested?" \
		"How long must passwords be?"; do
		run --separate-stderr "$PLATCTL" ask "$q" -o json
		[ "$status" -eq 0 ] || { echo "$q: $stderr"; false; }
		j=$output
		# "sentence [n]" pieces: each sentence is in source n's text (line breaks as spaces)
		n=$(echo "$j" | jq -r '.answer | [scan("(.+?) \\[([0-9]+)\\]")] | length')
		[ "$n" -ge 1 ]
		[ "$(echo "$j" | jq '. as $a | [.answer | scan("\\s*(.+?) \\[([0-9]+)\\]") | . as [$s, $c]
			| ($a.sources[($c | tonumber) - 1].text | gsub("\\s+"; " ")) | contains($s | gsub("\\s+"; " "))] | all')" = true ]
		# where each source sits: its page, and title/section/anchor/location as search gives them
		[ "$(echo "$j" | jq '[.sources[] | (.page | type == "number") and ([.title, .section, .anchor, .location][] | . == null or type == "string")] | all')" = true ]
		[ "$(echo "$j" | jq '.min_support')" = 0.52 ]
	done
	# the sentence that answers comes first, not the first one that shares words
	run --separate-stderr "$PLATCTL" ask "How often is a backup restore tested?" -o json
	[[ "$(echo "$output" | jq -r .answer)" == *"quarter"* ]] || [[ "$(echo "$output" | jq -r .answer)" == *"month"* ]]
}

@test "the threshold: ask.min_support from the configuration, --min-support over it" {
	q="What happens when a coil fails the tensile test?"
	run --separate-stderr "$PLATCTL" ask "$q" -o json
	[ "$status" -eq 0 ]
	support=$(echo "$output" | jq .support)
	above=$(echo "$support + 0.01" | bc -l)
	PLATCTL_ASK_MIN_SUPPORT=0$above run --separate-stderr "$PLATCTL" ask "$q" -o json
	if [ "$(echo "$above <= 1" | bc)" = 1 ]; then
		[ "$status" -eq 1 ]
		[ "$(echo "$output" | jq .refused)" = true ]
		[[ "$stderr" == *"needed $(printf '%.2f' "$above")"* ]]
		# the flag wins over the configuration
		PLATCTL_ASK_MIN_SUPPORT=0$above run --separate-stderr "$PLATCTL" ask "$q" --min-support 0.1 -o json
		[ "$status" -eq 0 ]
	fi
	PLATCTL_ASK_MIN_SUPPORT=nope run --separate-stderr "$PLATCTL" ask "$q"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"ask.min_support"* ]]
	run "$PLATCTL" config show
	[[ "$output" == *"ask.min_support"*"0.52"* ]]
}

@test "another tenant's documents are never retrieved or cited" {
	sql "INSERT INTO tenants (name) VALUES ('globex')" >/dev/null
	printf 'Globex may terminate the supply agreement at any time without notice.\n' >"$BATS_TEST_TMPDIR/globex.txt"
	PLATCTL_TENANT=globex "$PLATCTL" upload "$BATS_TEST_TMPDIR/globex.txt" >/dev/null
	PLATCTL_TENANT=globex "$PLATCTL" consume --once >/dev/null
	run --separate-stderr "$PLATCTL" ask can globex terminate the supply agreement without notice -k 50 -o json
	# answered from this tenant's agreement, or refused: its documents do not know Globex
	[ "$status" -le 1 ]
	[ "$(echo "$output" | jq '[.sources[] | select(.document == "globex.txt")] | length')" -eq 0 ]
	[[ "$(echo "$output" | jq -r .answer)" != *"at any time"* ]]
	run --separate-stderr env PLATCTL_TENANT=globex "$PLATCTL" ask can globex terminate the supply agreement -o json
	[ "$(echo "$output" | jq -r '[.sources[].document] | unique | join(",")')" = globex.txt ]
}

# The chat provider is the fake Anthropic API; ai.external.allow lets every class out.
external() {
	export PLATCTL_AI_CHAT_PROVIDER=anthropic PLATCTL_AI_ANTHROPIC_BASE_URL="$TEST_AI_URL"
	export PLATCTL_AI_ANTHROPIC_API_KEY="$TEST_AI_KEY" PLATCTL_AI_EXTERNAL_ALLOW='*'
	curl -fsS -X DELETE "$TEST_AI_URL/__control/script" >/dev/null
	[ -z "${1:-}" ] || curl -fsS -X POST -H 'content-type: application/json' --data "$1" \
		"$TEST_AI_URL/__control/script" >/dev/null
}

@test "an external provider answers from the numbered sources; its citations are checked" {
	external '{"path": "/v1/messages", "text": "Either party may end it with ninety days written notice [1]."}'
	run --separate-stderr "$PLATCTL" ask how can the supply agreement be terminated -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(echo "$output" | jq -r .answer)" = "Either party may end it with ninety days written notice [1]." ]
	[ "$(echo "$output" | jq -r .provider)" = anthropic ]
	[ "$(echo "$output" | jq '.usage.input_tokens > 0')" = true ]
	# a citation of a source that was not retrieved: refused before printing
	external '{"path": "/v1/messages", "text": "It ends after a year [9]."}'
	run --separate-stderr "$PLATCTL" ask how can the supply agreement be terminated
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the answer cites [9], which is not one of the"* ]]
	[ -z "$output" ]
	# no citation at all
	external '{"path": "/v1/messages", "text": "It can be terminated."}'
	run --separate-stderr "$PLATCTL" ask how can the supply agreement be terminated
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"cites none of the retrieved sources"* ]]
	# the model finds nothing: a refusal
	external '{"path": "/v1/messages", "text": "NOT_FOUND"}'
	run --separate-stderr "$PLATCTL" ask how can the supply agreement be terminated -o json
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq .refused)" = true ]
}

@test "sources the privacy gate keeps in: the builtin provider answers instead" {
	external '{"path": "/v1/messages", "text": "should not be asked [1]"}'
	export PLATCTL_AI_EXTERNAL_ALLOW=none-of-these
	run --separate-stderr "$PLATCTL" ask how can the supply agreement be terminated -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .provider)" = builtin ]
	[ "$(curl -fsS "$TEST_AI_URL/__control/script" | jq length)" -eq 1 ] # never asked
}

@test "--stream on a terminal prints the answer as it arrives, then the cited sources" {
	external '{"path": "/v1/messages", "text": "Either party may end it with ninety days written notice [1].", "sse_chunk": 7}'
	run script -qec "$PLATCTL ask --stream how can the supply agreement be terminated" /dev/null
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *"Either party may end it with ninety days written notice [1]."*"Sources:"*"[1] supply-agreement.txt, page 1"* ]]
	[ "$(sql "SELECT answer FROM asks")" = "Either party may end it with ninety days written notice [1]." ]
}
