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

# Three documents of class hr, two of them uploaded "two years ago"; a destroy rule of one
# year with a 30-day review; an Ed25519 signing key for the certificates.
retention_setup() {
	OLD1=$("$PLATCTL" upload "$F/contract.txt" -o ids)
	OLD2=$("$PLATCTL" upload "$F/invoice.txt" -o ids)
	NEW=$("$PLATCTL" upload "$F/minutes.txt" -o ids)
	KEY1=$(sql "SELECT storage_key FROM documents WHERE id = '$OLD1'")
	sql "UPDATE documents SET class = 'hr'" >/dev/null
	sql "UPDATE documents SET created_at = now() - interval '2 years' WHERE id IN ('$OLD1', '$OLD2')" >/dev/null
	RULES="$BATS_TEST_TMPDIR/rules"
	mkdir -p "$RULES"
	cat >"$RULES/retention.yaml" <<-'YAML'
	rules:
	  - name: hr-1y
	    kind: retention
	    classes: [hr]
	    keep: 1y
	    action: destroy
	    review: 30d
	YAML
	export PLATCTL_COMPLIANCE_RULES="$RULES"
	openssl genpkey -algorithm ed25519 -out "$BATS_TEST_TMPDIR/signing.pem" 2>/dev/null
	chmod 600 "$BATS_TEST_TMPDIR/signing.pem"
	openssl pkey -in "$BATS_TEST_TMPDIR/signing.pem" -pubout -out "$BATS_TEST_TMPDIR/public.pem"
	export PLATCTL_COMPLIANCE_SIGNING_KEY="$BATS_TEST_TMPDIR/signing.pem"
}

@test "compliance plan: what retention will do and when, without doing it" {
	retention_setup
	run --separate-stderr "$PLATCTL" compliance plan -o json
	[ "$status" -eq 0 ]
	[ "$(field '.documents | length')" -eq 3 ]
	[ "$(field '[.documents[] | .will] | unique | join(",")')" = "wait for review" ]
	[ "$(field ".documents[] | select(.document_id == \"$NEW\") | .expired")" = false ]
	[ "$(field ".documents[2].document_id")" = "$NEW" ]
	[ "$(field '.documents[0] | keys | join(",")')" = "action,class,document_id,expired,expires_at,legal_hold,name,review_due_at,review_status,rule,trigger,will" ]
	run --separate-stderr "$PLATCTL" compliance plan --within "6 months" -o json
	[ "$(field '.documents | length')" -eq 2 ]
	run --separate-stderr "$PLATCTL" compliance plan --within soon
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"option '--within'"* ]]
	# A plan changes nothing.
	[ "$(sql "SELECT count(*) FROM retention_reviews")" -eq 0 ]
	run --separate-stderr "$PLATCTL" compliance plan
	[ "$status" -eq 0 ]
	[[ "$output" == *"wait for review"* ]]

	"$PLATCTL" documents hold "$OLD1" --reason "case 9" >/dev/null
	run --separate-stderr "$PLATCTL" compliance plan -o json
	[ "$(field ".documents[] | select(.document_id == \"$OLD1\") | .will")" = held ]

	printf 'rules:\n  - name: x\n    kind: retention\n' >"$RULES/bad.yaml"
	run --separate-stderr "$PLATCTL" compliance plan
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"bad.yaml:2:"* ]]
}

@test "retention: approve, reject, destroy after the window, certificate verified offline" {
	retention_setup
	run --separate-stderr "$PLATCTL" compliance run -o json
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT count(*) FROM retention_reviews WHERE status = 'pending'")" -eq 2 ]

	run --separate-stderr "$PLATCTL" compliance approve "$NEW"
	[ "$status" -eq 5 ]
	run --separate-stderr "$PLATCTL" compliance approve "$OLD1" --rule nope
	[ "$status" -eq 5 ]
	run --separate-stderr "$PLATCTL" compliance approve "$OLD1" -o json
	[ "$status" -eq 0 ]
	[ "$(field .status)" = approved ]
	run --separate-stderr "$PLATCTL" compliance approve "$OLD1"
	[ "$status" -eq 6 ]
	[[ "$stderr" == *"already approved"* ]]
	run --separate-stderr "$PLATCTL" compliance reject "$OLD2"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"option '--reason'"* ]]
	run --separate-stderr "$PLATCTL" compliance reject "$OLD2" --reason "tax audit until 2030"
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT status || '|' || note FROM findings WHERE document_id = '$OLD2'")" = "resolved|destruction rejected: tax audit until 2030" ]

	# Within the review window nothing goes; past it, a dry run only says what would.
	"$PLATCTL" compliance run >/dev/null
	[ "$(sql "SELECT status FROM documents WHERE id = '$OLD1'")" = queued ]
	sql "UPDATE retention_reviews SET due_at = now() - interval '1 hour'" >/dev/null
	run --separate-stderr "$PLATCTL" compliance run --dry-run -o json
	[ "$status" -eq 0 ]
	[[ "$output" == *"would be destroyed"* ]]
	[ "$(sql "SELECT status FROM documents WHERE id = '$OLD1'")" = queued ]
	"$PLATCTL" storage stat "$KEY1" >/dev/null

	run --separate-stderr "$PLATCTL" compliance run -o json
	[ "$status" -eq 0 ]
	[[ "$output" == *"was destroyed"* ]]
	run --separate-stderr "$PLATCTL" documents get "$OLD1"
	[ "$status" -eq 5 ]
	run --separate-stderr "$PLATCTL" storage stat "$KEY1"
	[ "$status" -eq 5 ]
	[ "$(sql "SELECT status FROM documents WHERE id = '$OLD2'")" = queued ]
	[ "$(sql "SELECT status FROM documents WHERE id = '$NEW'")" = queued ]
	"$PLATCTL" audit verify >/dev/null

	run --separate-stderr "$PLATCTL" compliance certificate "$OLD1"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/cert.json"
	[ "$(field .certificate.type)" = destruction ]
	[ "$(field .certificate.name)" = contract.txt ]
	[ "$(field .certificate.rule)" = hr-1y ]
	[ "$(field .certificate.content.deleted)" = true ]
	[ "$(field .certificate.content.audit.hash)" = "$(sql "SELECT encode(hash, 'hex') FROM audit_log WHERE action = 'document.content_deleted'")" ]
	[ "$(field .signature.alg)" = EdDSA ]
	[ "$(field .certificate.audit.hash)" = "$(sql "SELECT encode(hash, 'hex') FROM audit_log WHERE action = 'document.destroyed'")" ]

	# Offline: no configuration, no database.
	run --separate-stderr env -i PATH="$PATH" HOME="$HOME" "$PLATCTL" compliance verify-certificate "$BATS_TEST_TMPDIR/cert.json" \
		--public-key "$BATS_TEST_TMPDIR/public.pem" -o json
	[ "$status" -eq 0 ]
	[ "$(field .valid)" = true ]
	[ "$(field .document_id)" = "$OLD1" ]
	# Without the operator's key, an intact certificate is not evidence: anyone can re-sign
	# an edited one with a key of their own and embed it.
	run --separate-stderr "$PLATCTL" compliance verify-certificate - <"$BATS_TEST_TMPDIR/cert.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"intact, but not verified"*"--public-key"* ]]

	sed 's/contract.txt/contract.TXT/' "$BATS_TEST_TMPDIR/cert.json" >"$BATS_TEST_TMPDIR/tampered.json"
	run --separate-stderr "$PLATCTL" compliance verify-certificate "$BATS_TEST_TMPDIR/tampered.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"invalid certificate: the signature does not match"* ]]
	openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout -out "$BATS_TEST_TMPDIR/other.pem"
	run --separate-stderr "$PLATCTL" compliance verify-certificate "$BATS_TEST_TMPDIR/cert.json" --public-key "$BATS_TEST_TMPDIR/other.pem"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"another key"* ]]
	run --separate-stderr "$PLATCTL" compliance verify-certificate "$BATS_TEST_TMPDIR/missing.json"
	[ "$status" -eq 5 ]

	run --separate-stderr "$PLATCTL" compliance certificate "$OLD2"
	[ "$status" -eq 5 ]
	run --separate-stderr env PLATCTL_COMPLIANCE_SIGNING_KEY= "$PLATCTL" compliance certificate "$OLD1"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"compliance.signing_key"* ]]
	chmod 644 "$BATS_TEST_TMPDIR/signing.pem"
	run --separate-stderr "$PLATCTL" compliance certificate "$OLD1"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"readable by others"* ]]
}

@test "retention: a held document survives an approved destruction" {
	retention_setup
	"$PLATCTL" compliance run >/dev/null
	"$PLATCTL" compliance approve "$OLD1" >/dev/null
	run --separate-stderr "$PLATCTL" documents hold "$OLD1" --reason "litigation"
	[ "$status" -eq 0 ]
	sql "UPDATE retention_reviews SET due_at = now() - interval '1 hour'" >/dev/null
	run --separate-stderr "$PLATCTL" compliance run -o json
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT status FROM documents WHERE id = '$OLD1'")" = queued ]
	[ "$(sql "SELECT severity FROM findings WHERE document_id = '$OLD1'")" = info ]
	[[ "$(sql "SELECT message FROM findings WHERE document_id = '$OLD1'")" == *"on legal hold and is not destroyed"* ]]
	# Released, the next run destroys it.
	"$PLATCTL" documents release "$OLD1" >/dev/null
	"$PLATCTL" compliance run >/dev/null
	[ "$(sql "SELECT status FROM documents WHERE id = '$OLD1'")" = deleted ]
	# An editor can neither approve nor reject.
	"$PLATCTL" user add admin --role admin --service >/dev/null
	PLATCTL_PRINCIPAL=admin "$PLATCTL" user add ed --role editor --service >/dev/null
	run --separate-stderr env PLATCTL_PRINCIPAL=ed "$PLATCTL" compliance approve "$OLD2"
	[ "$status" -eq 4 ]
}

@test "retention: the content is deleted after the destroying run commits, and a failed deletion is retried by the next run" {
	retention_setup
	"$PLATCTL" compliance run >/dev/null
	"$PLATCTL" compliance approve "$OLD1" >/dev/null
	sql "UPDATE retention_reviews SET due_at = now() - interval '1 hour'" >/dev/null
	# The store is away while the run destroys: the destruction stands (it needs only the
	# database), the content stays, pending.
	local store=$PLATCTL_STORAGE_URL
	run --separate-stderr env PLATCTL_STORAGE_URL="s3://nowhere/retention" PLATCTL_STORAGE_S3_ENDPOINT=http://127.0.0.1:9 \
		PLATCTL_STORAGE_S3_PATH_STYLE=true PLATCTL_STORAGE_S3_REGION=us-east-1 PLATCTL_STORAGE_S3_MAX_RETRIES=1 \
		AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$PLATCTL" compliance run -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(field .objects_purged)" -eq 0 ]
	[[ "$stderr" == *"content waits for the next run"* ]]
	[ "$(sql "SELECT status FROM documents WHERE id = '$OLD1'")" = deleted ]
	[ "$(sql "SELECT (purge_key IS NOT NULL)::text || '|' || (purged_at IS NULL)::text FROM retention_reviews WHERE document_id = '$OLD1'")" = "true|true" ]
	PLATCTL_STORAGE_URL=$store "$PLATCTL" storage stat "$KEY1" >/dev/null
	# Its certificate says so rather than claim a deletion that has not happened.
	run --separate-stderr "$PLATCTL" compliance certificate "$OLD1"
	[ "$status" -eq 0 ]
	[ "$(field .certificate.content.deleted)" = false ]
	[[ "$(field .certificate.content.pending)" == *"next compliance run"* ]]
	# The next run (any rules) deletes it.
	run --separate-stderr "$PLATCTL" compliance run --kind audit_chain -o json
	[ "$status" -eq 0 ]
	[ "$(field .objects_purged)" -eq 1 ]
	run --separate-stderr "$PLATCTL" storage stat "$KEY1"
	[ "$status" -eq 5 ]
	[ "$(sql "SELECT count(*) FROM retention_reviews WHERE purged_at IS NOT NULL")" -eq 1 ]
	run --separate-stderr "$PLATCTL" compliance certificate "$OLD1"
	[ "$(field .certificate.content.deleted)" = true ]
	# Nothing is pending any more.
	run --separate-stderr "$PLATCTL" compliance run --kind audit_chain -o json
	[ "$(field .objects_purged)" -eq 0 ]
}

@test "retention: an approval for an earlier period does not destroy: the review starts again" {
	retention_setup
	"$PLATCTL" compliance run >/dev/null
	"$PLATCTL" compliance approve "$OLD1" >/dev/null
	# The approval was given when the period ended elsewhere (the date field has changed
	# since), and its window is long over.
	sql "UPDATE retention_reviews SET expired_at = expired_at - interval '1 year', due_at = now() - interval '1 day'
	     WHERE document_id = '$OLD1'" >/dev/null
	run --separate-stderr "$PLATCTL" compliance run -o json
	[ "$status" -eq 0 ]
	[ "$(sql "SELECT status FROM documents WHERE id = '$OLD1'")" = queued ]
	[ "$(sql "SELECT status || '|' || (decided_by IS NULL)::text || '|' || (due_at > now())::text FROM retention_reviews WHERE document_id = '$OLD1'")" = "pending|true|true" ]
	[ "$(sql "SELECT count(*) FROM audit_log WHERE action = 'retention.reviews_opened' AND details->'restarted_document_ids' ? '$OLD1'")" -eq 1 ]
	"$PLATCTL" storage stat "$KEY1" >/dev/null
}
