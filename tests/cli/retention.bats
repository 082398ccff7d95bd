#!/usr/bin/env bats
# Legal holds and retention, end to end on real PostgreSQL and a file store: a hold stops
# rm until it is released; compliance plan shows what retention will do and when; a destroy
# rule's review is approved or rejected, the run destroys what it may, and the destruction
# certificate verifies offline (and a tampered one does not).
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
	F="$BATS_TEST_TMPDIR/files"
	mkdir -p "$F"
	printf 'Employment contract of Jane Roe, signed 2015.\n' >"$F/contract.txt"
	printf 'Invoice 42: 1,200 EUR.\n' >"$F/invoice.txt"
	printf 'Board minutes, March.\n' >"$F/minutes.txt"
}

sql() {
	test_psql -d "$TEST_DB" -c "$1"
}

field() {
	printf '%s' "$output" | jq -r "$1"
}

@test "documents hold: rm is refused (exit 6) until release; both are audited" {
	id=$("$PLATCTL" upload "$F/contract.txt" -o ids)

	run --separate-stderr "$PLATCTL" documents hold "$id"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"option '--reason'"* ]]

	run --separate-stderr "$PLATCTL" documents hold "$id" --reason "case 2026-17 (Roe v. Acme)" -o json
	[ "$status" -eq 0 ]
	[ "$(field .legal_hold)" = true ]
	[ "$(field .hold_reason)" = "case 2026-17 (Roe v. Acme)" ]
	[ -n "$(field .held_by)" ] && [ "$(field .held_by)" != null ]
	[[ "$(field .held_at)" == 20*Z ]]

	run --separate-stderr "$PLATCTL" documents hold "$id" --reason again
	[ "$status" -eq 6 ]
	[[ "$stderr" == *"already on legal hold"* ]]

	run --separate-stderr "$PLATCTL" documents rm "$id"
	[ "$status" -eq 6 ]
	[[ "$stderr" == *"under legal hold (case 2026-17 (Roe v. Acme)) and cannot be deleted"* ]]
	run --separate-stderr "$PLATCTL" documents rm --purge "$id"
	[ "$status" -eq 6 ]

	run --separate-stderr "$PLATCTL" documents list -o json
	[ "$(field '.documents[0].legal_hold')" = true ]
	[ "$(field '.documents[0].hold_reason')" = "case 2026-17 (Roe v. Acme)" ]

	run --separate-stderr "$PLATCTL" documents release "$id" --reason "case closed" -o json
	[ "$status" -eq 0 ]
	[ "$(field .legal_hold)" = false ]
	[ "$(field .hold_reason)" = null ]
	run --separate-stderr "$PLATCTL" documents release "$id"
	[ "$status" -eq 6 ]
	[[ "$stderr" == *"is not on legal hold"* ]]

	run --separate-stderr "$PLATCTL" documents rm "$id"
	[ "$status" -eq 0 ]

	run --separate-stderr "$PLATCTL" audit list --action 'document.*' -o json
	[ "$(field '[.entries[].action] | join(" ")')" = "document.delete document.release document.hold document.upload" ]
	[ "$(field '.entries[1].details.reason')" = "case closed" ]
	[ "$(field '.entries[1].details.hold_reason')" = "case 2026-17 (Roe v. Acme)" ]
	[ "$(field '.entries[2].details.reason')" = "case 2026-17 (Roe v. Acme)" ]
	"$PLATCTL" audit verify >/dev/null
}

@test "documents hold: bad input and who may hold" {
	id=$("$PLATCTL" upload "$F/contract.txt" -o ids)
	run --separate-stderr "$PLATCTL" documents hold 00000000-0000-0000-0000-000000000000 --reason x
	[ "$status" -eq 5 ]
	run --separate-stderr "$PLATCTL" documents hold not-an-id --reason x
	[ "$status" -eq 5 ]
	run --separate-stderr "$PLATCTL" documents hold "$id" --reason "   "
	[ "$status" -eq 2 ]
	run --separate-stderr "$PLATCTL" documents hold "$id" --reason $'two\nlines'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"control characters"* ]]
	run --separate-stderr "$PLATCTL" documents release "$id"
	[ "$status" -eq 6 ]

	# An editor may delete but neither hold nor release.
	"$PLATCTL" user add admin --role admin --service >/dev/null
	PLATCTL_PRINCIPAL=admin "$PLATCTL" user add ed --role editor --service >/dev/null
	PLATCTL_PRINCIPAL=admin "$PLATCTL" documents hold "$id" --reason "audit 7" >/dev/null
	run --separate-stderr env PLATCTL_PRINCIPAL=ed "$PLATCTL" documents release "$id"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"documents.release needs the admin role"* ]]
	run --separate-stderr env PLATCTL_PRINCIPAL=ed "$PLATCTL" documents rm "$id"
	[ "$status" -eq 6 ]
	run --separate-stderr env PLATCTL_PRINCIPAL=admin "$PLATCTL" documents show "$id"
	[[ "$output" == *"hold reason   audit 7"* ]]
	[[ "$output" == *"held "*" by admin"* ]]
}
