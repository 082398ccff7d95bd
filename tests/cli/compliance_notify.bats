#!/usr/bin/env bats
# What a compliance run sends once it has stored its results: one signed webhook digest, one
# digest e-mail, one reminder e-mail per recipient, then the heartbeat — to the receiver and
# the SMTP sink of tests/services/notify.sh on 127.0.0.1. Reminders go out once per step; a
# reminder whose e-mail failed goes out with the next run.
load helpers

setup_file() {
	pg_setup_file
	eval "$("$ROOT/tests/services/notify.sh" start --owner $$)"
	export TEST_NOTIFY_DIR TEST_WEBHOOK_URL TEST_WEBHOOK_SECRET TEST_SMTP_URL
}

teardown_file() {
	"$ROOT/tests/services/notify.sh" stop "$TEST_NOTIFY_DIR"
	pg_teardown_file
}

sql() {
	test_psql -d "$TEST_DB" -c "$1"
}

day() {
	test_psql -d "$TEST_DB" -c "SELECT to_char((now() AT TIME ZONE 'UTC')::date + $1, '${2:-YYYY-MM-DD}')"
}

doc() { # NAME FIELDS: a processed contract
	sql "INSERT INTO documents (tenant_id, name, content_type, size_bytes, sha256, storage_key, created_by, status,
	       class, fields)
	     SELECT id, '$1', 'text/plain', 1, encode(sha256('$1'::bytea), 'hex'), '$1', 'test', 'processed',
	       'contract', '$2'::jsonb FROM tenants WHERE name = 'default' RETURNING id"
}

# A port nothing listens on (bound and released at once).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

received() { curl -fsS "$TEST_WEBHOOK_URL/__control/received"; }
mails() { cat "$TEST_NOTIFY_DIR"/mail/*.json 2>/dev/null | jq -s . ; }

setup() {
	pipeline_setup
	curl -fsS -X DELETE "$TEST_WEBHOOK_URL/__control/received" >/dev/null
	rm -f "$TEST_NOTIFY_DIR"/mail/*.json
	RULES="$BATS_TEST_TMPDIR/rules"
	mkdir -p "$RULES"
	cat >"$RULES/contracts.yaml" <<-'EOF'
	rules:
	  - name: contract-expiry
	    kind: expiry
	    classes: [contract]
	    fields: [expires_on]
	    within: 30d
	    steps: [30, 7, 1]
	    owner: legal@example.com
	    backup: cfo@example.com
	    backup_from: 7
	EOF
	export PLATCTL_COMPLIANCE_RULES="$RULES"
	export PLATCTL_NOTIFY_WEBHOOK_URL="$TEST_WEBHOOK_URL/hook" PLATCTL_NOTIFY_WEBHOOK_SECRET="$TEST_WEBHOOK_SECRET"
	export PLATCTL_NOTIFY_SMTP_URL="$TEST_SMTP_URL" PLATCTL_NOTIFY_SMTP_STARTTLS=off
	export PLATCTL_NOTIFY_EMAIL_FROM="platctl@example.com" PLATCTL_NOTIFY_EMAIL_TO="compliance@example.com"
	export PLATCTL_NOTIFY_HEARTBEAT_URL="$TEST_WEBHOOK_URL/beat/compliance"
	SOON=$(doc soon.pdf "{\"expires_on\": \"$(day 5)\"}")
	LATER=$(doc later.pdf "{\"expires_on\": \"$(day 20)\"}")
}

@test "a run sends one signed digest, the digest e-mail, a reminder per recipient and the heartbeat" {
	run "$PLATCTL" compliance run --fail-on none -o json
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	jq -e '.opened == 2 and .notified.webhook.status == "sent" and .notified.email.status == "sent"
		and .notified.reminders == 2 and .notified.heartbeat == "sent"' <<<"$output"

	got=$(received)
	# One webhook for the whole run, verified by the receiver, and the heartbeat after it.
	jq -e '[.[] | select(.path == "/hook")] | length == 1' <<<"$got"
	jq -e '[.[] | select(.path == "/hook")][0] | .verified and .headers["x-platctl-event"] == "compliance.digest"' <<<"$got"
	jq -e '[.[] | select(.path == "/hook")][0].body | fromjson | .opened == 2' <<<"$got"
	jq -e '.[-1].path == "/beat/compliance" and .[-1].method == "GET"' <<<"$got"

	m=$(mails)
	jq -e 'length == 3' <<<"$m"
	# The digest, with a text and an HTML part, names both documents.
	jq -e '[.[] | select(.rcpt_tos == ["compliance@example.com"])] | length == 1' <<<"$m"
	jq -e '.[] | select(.rcpt_tos == ["compliance@example.com"]) | [.parts[].content_type] == ["text/plain", "text/html"]' <<<"$m"
	jq -e '.[] | select(.rcpt_tos == ["compliance@example.com"]) | .parts[0].text | contains("soon.pdf") and contains("later.pdf")' <<<"$m"
	# The owner hears of both; the backup only of the one inside its 7-day step.
	jq -e '.[] | select(.rcpt_tos == ["legal@example.com"]) | .parts[0].text | contains("soon.pdf") and contains("later.pdf")' <<<"$m"
	jq -e '.[] | select(.rcpt_tos == ["cfo@example.com"]) | .parts[0].text | contains("soon.pdf") and (contains("later.pdf") | not)' <<<"$m"
}

@test "a second run sends the webhook and the heartbeat but no e-mail: nothing new, no reminder twice" {
	"$PLATCTL" compliance run --fail-on none >/dev/null
	curl -fsS -X DELETE "$TEST_WEBHOOK_URL/__control/received" >/dev/null
	rm -f "$TEST_NOTIFY_DIR"/mail/*.json
	run "$PLATCTL" compliance run --fail-on none -o json
	[ "$status" -eq 0 ]
	jq -e '.opened == 0 and .notified.reminders == 0 and .notified.email.status == "skipped"' <<<"$output"
	[ "$(mails | jq length)" -eq 0 ]
	jq -e '[.[] | .path] == ["/hook", "/beat/compliance"]' <<<"$(received)"
}

@test "a webhook answering 500 gets a retry; a failed reminder is sent by the next run; no heartbeat meanwhile" {
	curl -fsS -X POST -d '[{"status": 500}]' "$TEST_WEBHOOK_URL/__control/script" >/dev/null
	# The mail server is away for the first run.
	PLATCTL_NOTIFY_SMTP_URL="smtp://127.0.0.1:$(free_port)" PLATCTL_NOTIFY_WEBHOOK_ATTEMPTS=2 run "$PLATCTL" compliance run --fail-on none -o json
	[ "$status" -eq 0 ] || { echo "$output"; false; } # the findings are stored all the same
	jq -e '.opened == 2 and .notified.webhook.status == "sent" and .notified.webhook.attempts == 2' <<<"$output"
	jq -e '.notified.reminders_failed == 2 and .notified.heartbeat == "skipped"' <<<"$output"
	jq -e '[.[] | select(.path == "/hook") | .status] == [500, 200]' <<<"$(received)"
	[ "$(sql "SELECT count(*) FROM expiry_reminders")" -eq 0 ]
	[ "$(sql "SELECT count(*) FROM findings WHERE status = 'open'")" -eq 2 ]

	run "$PLATCTL" compliance run --fail-on none -o json
	[ "$status" -eq 0 ]
	jq -e '.opened == 0 and .notified.reminders == 2 and .notified.heartbeat == "sent"' <<<"$output"
	[ "$(sql "SELECT count(*) FROM expiry_reminders")" -eq 2 ]
	[ "$(mails | jq '[.[] | select(.rcpt_tos == ["legal@example.com"])] | length')" -eq 1 ]
}

@test "--no-notify and --dry-run send nothing, and the reminders wait for a run that sends" {
	run "$PLATCTL" compliance run --fail-on none --no-notify -o json
	[ "$status" -eq 0 ]
	jq -e '.opened == 2 and .notified == null' <<<"$output"
	[ "$(sql "SELECT count(*) FROM expiry_reminders")" -eq 0 ]
	run "$PLATCTL" compliance run --fail-on none --dry-run -o json
	[ "$status" -eq 0 ]
	[ "$(received | jq length)" -eq 0 ]
	[ "$(mails | jq length)" -eq 0 ]
	run "$PLATCTL" compliance run --fail-on none -o json
	jq -e '.opened == 0 and .notified.reminders == 2' <<<"$output"
}

@test "reminders that reached nobody (only a webhook, and it failed) go out with the next run" {
	unset PLATCTL_NOTIFY_SMTP_URL
	curl -fsS -X POST -d '[{"status": 503}]' "$TEST_WEBHOOK_URL/__control/script" >/dev/null
	PLATCTL_NOTIFY_WEBHOOK_ATTEMPTS=1 run "$PLATCTL" compliance run --fail-on none -o json
	[ "$status" -eq 0 ]
	jq -e '.notified.webhook.status == "failed" and (.reminders | length) == 2' <<<"$output"
	[ "$(sql "SELECT count(*) FROM expiry_reminders")" -eq 0 ]
	run "$PLATCTL" compliance run --fail-on none -o json
	jq -e '.notified.webhook.status == "sent" and (.reminders | length) == 2' <<<"$output"
	jq -e '[.[] | select(.path == "/hook")][-1].body | fromjson | .reminders | length == 2' <<<"$(received)"
	[ "$(sql "SELECT count(*) FROM expiry_reminders")" -eq 2 ]
}
