#!/usr/bin/env bats
# Remote mode (issue 2.6): upload, documents, search and ask against a live serve give
# what they give against the database, field by field (jq -S of both outputs compared),
# with the same exit codes and messages for bad input.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
	PLATCTL_PRINCIPAL=ada "$PLATCTL" user add ada --role admin --no-password >/dev/null
	# An API token without --principal is a service principal of its name: direct mode
	# acts as the same one (PLATCTL_PRINCIPAL=ci).
	export PLATCTL_TOKEN
	PLATCTL_TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name ci --role admin | jq -r .token)
	export PLATCTL_PRINCIPAL=ci
	serve_start "$BATS_TEST_TMPDIR/serve.log"
	export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/xdg"
	printf 'alpha: the first document\n' >"$BATS_TEST_TMPDIR/a.txt"
	printf 'beta: the second document\n' >"$BATS_TEST_TMPDIR/b.txt"
}

teardown() {
	serve_stop
}

# A command in remote mode: the server's URL, and no database or storage to fall back on.
remote() {
	env -u PLATCTL_DATABASE_URL -u PLATCTL_STORAGE_URL -u PLATCTL_PRINCIPAL PLATCTL_SERVER_URL="$URL" "$PLATCTL" "$@"
}

# Both outputs as sorted JSON, with the fields that differ per call (named) removed.
same_json() { # A B [FIELD...]
	local a=$1 b=$2
	shift 2
	local del='.'
	for f in "$@"; do del="$del | del(.. | .$f?)"; done
	diff <(jq -S "$del" <<<"$a") <(jq -S "$del" <<<"$b") || { echo "remote: $a"; echo "direct: $b"; false; }
}

# Two error lines alike but for their time and request id.
same_err() { # A B
	[ "$(jq -c 'del(.time, .request_id)' <<<"$1")" = "$(jq -c 'del(.time, .request_id)' <<<"$2")" ] ||
		{ echo "remote: $1"; echo "direct: $2"; false; }
}

@test "upload: remote and direct outcomes have the same fields; the document reads the same both ways" {
	run --separate-stderr remote -o json upload "$BATS_TEST_TMPDIR/a.txt" --tag team=ops --title Alpha
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	r=$output
	[ "$(jq -r '.[0].outcome' <<<"$r")" = created ]
	id=$(jq -r '.[0].id' <<<"$r")
	d=$("$PLATCTL" -o json upload "$BATS_TEST_TMPDIR/b.txt" --tag team=ops --title Beta)
	# The same keys with the same types (the values are another document's).
	same_json "$(jq '[.[] | with_entries(.value |= type)]' <<<"$r")" "$(jq '[.[] | with_entries(.value |= type)]' <<<"$d")"
	# The same content again: unchanged in both modes, the same document.
	r=$(remote -o json upload "$BATS_TEST_TMPDIR/a.txt" --tag team=ops --title Alpha)
	d=$("$PLATCTL" -o json upload "$BATS_TEST_TMPDIR/a.txt" --tag team=ops --title Alpha)
	[ "$(jq -r '.[0].outcome' <<<"$r")" = unchanged ]
	same_json "$r" "$d"
	# show: every field, the history too.
	same_json "$(remote -o json documents show "$id")" "$("$PLATCTL" -o json documents show "$id")"
	# get: the same bytes, to standard output and to a file.
	[ "$(remote documents get "$id")" = "alpha: the first document" ]
	remote documents get "$id" "$BATS_TEST_TMPDIR/a.out"
	cmp "$BATS_TEST_TMPDIR/a.txt" "$BATS_TEST_TMPDIR/a.out"
	# Standard input streams too (chunked: its size is not known before).
	r=$(printf 'gamma from a pipe\n' | remote -o json upload - --name gamma.txt)
	[ "$(jq -r '.[0].outcome' <<<"$r")" = created ]
	[ "$(jq -r '.[0].size' <<<"$r")" -eq 18 ]
	# The server's log has no token.
	! grep -q "$PLATCTL_TOKEN" "$BATS_TEST_TMPDIR/serve.log"
}

@test "upload -r in remote mode: disallowed types skipped, not failed, as direct does" {
	mkdir -p "$BATS_TEST_TMPDIR/site"
	printf '<html><body><h1>Doc</h1><p>remote page</p></body></html>\n' >"$BATS_TEST_TMPDIR/site/index.html"
	printf '\x1f\x8b\x08\0\0\0\0\0\0\3\3\0\0\0\0\0\0\0\0\0' >"$BATS_TEST_TMPDIR/site/old.gz"
	printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR' >"$BATS_TEST_TMPDIR/site/logo.png"
	run --separate-stderr remote -o json upload -r "$BATS_TEST_TMPDIR/site"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jq '[.[] | select(.outcome == "created")] | length' <<<"$output")" -eq 1 ]
	[ "$(jq '[.[] | select(.outcome == "skipped")] | length' <<<"$output")" -eq 2 ]
	r=$output
	run --separate-stderr "$PLATCTL" -o json upload -r "$BATS_TEST_TMPDIR/site"
	[ "$status" -eq 0 ]
	same_json "$(jq '[.[] | select(.outcome == "skipped")]' <<<"$r")" "$(jq '[.[] | select(.outcome == "skipped")]' <<<"$output")"
	# Named on the command line, a disallowed file is refused in both modes alike.
	run --separate-stderr remote upload "$BATS_TEST_TMPDIR/site/logo.png"
	rs=$status re=$stderr
	run --separate-stderr "$PLATCTL" upload "$BATS_TEST_TMPDIR/site/logo.png"
	[ "$rs" -eq "$status" ] && [ "$status" -ne 0 ]
	same_err "$re" "$stderr"
}

@test "documents list, show, hold, release, rm: identical JSON, identical errors" {
	remote upload "$BATS_TEST_TMPDIR/a.txt" "$BATS_TEST_TMPDIR/b.txt" --tag team=ops >/dev/null
	for args in "" "--name a.t" "--tag team=ops" "--status queued" "--limit 1"; do
		# shellcheck disable=SC2086
		same_json "$(remote -o json documents list $args)" "$("$PLATCTL" -o json documents list $args)"
	done
	# The next page through the cursor the first one gave, in both modes.
	cursor=$(remote -o json documents list --limit 1 | jq -r .next_cursor)
	[ "$cursor" != null ]
	same_json "$(remote -o json documents list --limit 1 --cursor "$cursor")" \
		"$("$PLATCTL" -o json documents list --limit 1 --cursor "$cursor")"
	id=$(remote -o json documents list --name a.txt | jq -r '.documents[0].id')
	r=$(remote -o json documents hold "$id" --reason "audit 7")
	[ "$(jq -r .legal_hold <<<"$r")" = true ]
	same_json "$r" "$("$PLATCTL" -o json documents show "$id" | jq 'del(.history, .storage_key, .summary, .fields, .class_confidence, .stage_timings, .error, .attempts, .ai_provider, .deleted)')"
	# Bad input and refusals: the same exit code and message in both modes.
	for cmd in "documents hold $id --reason again" "documents rm $id" "documents show 00000000-0000-0000-0000-000000000000" \
		"documents show not-an-id" "documents list --cursor bogus" "documents list --tag =x" "documents hold $id" \
		"documents get 00000000-0000-0000-0000-000000000000"; do
		# shellcheck disable=SC2086
		run --separate-stderr remote $cmd
		rs=$status re=$stderr
		# shellcheck disable=SC2086
		run --separate-stderr "$PLATCTL" $cmd
		[ "$rs" -eq "$status" ] && [ "$status" -ne 0 ] || { echo "$cmd: remote $rs, direct $status"; false; }
		same_err "$re" "$stderr" || { echo "$cmd"; false; }
	done
	r=$(remote -o json documents release "$id" --reason done)
	[ "$(jq -r .legal_hold <<<"$r")" = false ]
	r=$(remote -o json documents rm "$id")
	[ "$(jq -r '.[0].deleted' <<<"$r")" = true ]
	run --separate-stderr remote documents get "$id"
	[ "$status" -eq 5 ]
}

@test "search and ask: the same results and answer remotely, streamed or not" {
	remote upload "$ROOT"/tests/data/corpus/* --tag set=corpus >/dev/null
	"$PLATCTL" consume --once >/dev/null
	for q in "laptops encryption" "how can the supply agreement be terminated"; do
		same_json "$(remote -o json search "$q")" "$("$PLATCTL" -o json search "$q")"
		same_json "$(remote -o json search "$q" --explain -k 3 --tag set=corpus)" \
			"$("$PLATCTL" -o json search "$q" --explain -k 3 --tag set=corpus)"
	done
	q="how often are backups restored and tested"
	r=$(remote -o json ask "$q")
	[ "$(jq -r .refused <<<"$r")" = false ]
	same_json "$r" "$("$PLATCTL" -o json ask "$q")" id latency_ms
	# Streamed: the tokens as they come, then the same answer (a pseudo-terminal, as a
	# person watching would have).
	run --separate-stderr script -qec "env -u PLATCTL_DATABASE_URL -u PLATCTL_STORAGE_URL -u PLATCTL_PRINCIPAL PLATCTL_SERVER_URL=$URL $PLATCTL ask --stream '$q'" /dev/null
	[ "$status" -eq 0 ] || { echo "$output $stderr"; false; }
	[[ "$output" == *"$(jq -r .answer <<<"$r" | head -c 40)"* ]]
	# A refusal is exit 1 with the same message in both modes.
	run --separate-stderr remote ask what is the airspeed velocity of an unladen swallow
	rs=$status re=$stderr
	run --separate-stderr "$PLATCTL" ask what is the airspeed velocity of an unladen swallow
	[ "$rs" -eq 1 ] && [ "$status" -eq 1 ]
	same_err "$re" "$stderr"
	# retry: a processed document queued again, the same shape in both modes.
	ids=$("$PLATCTL" -o ids documents list --status processed | head -n 2)
	r=$(remote -o json documents retry "$(sed -n 1p <<<"$ids")")
	d=$("$PLATCTL" -o json documents retry "$(sed -n 2p <<<"$ids")")
	[ "$(jq -r .status <<<"$r")" = queued ]
	same_json "$(jq 'with_entries(.value |= type)' <<<"$r")" "$(jq 'with_entries(.value |= type)' <<<"$d")"
	# A server that is not there: exit 7 naming it.
	run --separate-stderr env -u PLATCTL_DATABASE_URL PLATCTL_SERVER_URL=http://127.0.0.1:9 "$PLATCTL" search laptops
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"cannot reach the server at http://127.0.0.1:9"* ]]
}
