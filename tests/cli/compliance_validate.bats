#!/usr/bin/env bats
# platctl compliance validate: rule files checked without a database, every problem at its
# file:line:column, exit 3 when invalid; the shipped examples pass.
load helpers

setup() {
	isolate
	# validate must never need the database: one that cannot be reached proves it
	export PLATCTL_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"
	R="$BATS_TEST_TMPDIR/rules"
	mkdir -p "$R"
}

@test "the shipped examples validate, strictly, and cover every rule kind" {
	run --separate-stderr "$PLATCTL" compliance validate --rules "$ROOT/etc/platctl/compliance.d" --strict
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "$stderr" ]
	n=$(ls "$ROOT"/etc/platctl/compliance.d/*.yaml | wc -l)
	[[ "$output" =~ ^([0-9]+)\ rules\ in\ $n\ files$ ]]
	run --separate-stderr "$PLATCTL" compliance validate --rules "$ROOT/etc/platctl/compliance.d" -o json
	[ "$status" -eq 0 ]
	[ "$(jq -r .valid <<<"$output")" = true ]
	[ "$(jq '.problems | length' <<<"$output")" -eq 0 ]
	[ "$(jq '.files | length' <<<"$output")" -eq "$n" ]
	kinds=$(jq -r '[.rules[].kind] | unique | join(",")' <<<"$output")
	[ "$kinds" = "audit_chain,expiry,integrity,orphans,pii,required_fields,retention" ] || { echo "$kinds"; false; }
	# a rule that destroys documents is not enabled by default
	[ "$(jq '[.rules[] | select(.kind == "retention" and .action == "destroy" and .enabled)] | length' <<<"$output")" -eq 0 ]
	# the classes named are the classifier's
	classes=$(jq -r '[.rules[].classes[]] | unique | .[]' <<<"$output")
	for c in $classes; do
		grep -qE "^  $c:" "$ROOT/etc/platctl/classes.yaml" || { echo "class '$c' is not in classes.yaml"; false; }
	done
}

@test "malformed rules are refused with every position, on stderr, exit 3" {
	cat >"$R/10-bad.yaml" <<'YAML'
rules:
  - name: contract-expiry
    kind: expiry
    fields: [expires_on]
    within: 90d
    steps: [30, 60]
  - name: Bad Name
    kind: retention
    keep: 7 eons
  - name: keep
    kind: retention
    keep: 7y
    action: destroy
  - name: x
    kind: expiration
YAML
	run --separate-stderr "$PLATCTL" compliance validate --rules "$R"
	[ "$status" -eq 3 ]
	[ -z "$output" ]
	f="$R/10-bad.yaml"
	[[ "$stderr" == *"$f:6:17: 'steps': 60 does not come after 30"* ]]
	[[ "$stderr" == *"$f:7:11: 'name': 'Bad Name' is not a valid rule name"* ]]
	[[ "$stderr" == *"$f:9:11: 'keep': invalid period '7 eons'"* ]]
	[[ "$stderr" == *"$f:10:5: 'action: destroy' needs 'review'"* ]]
	[[ "$stderr" == *"$f:15:11: 'kind': unknown rule kind 'expiration'"* ]]
	[[ "$stderr" == *"invalid compliance rules: 5 errors, 0 warnings"* ]]
	# in file order
	lines=$(grep -oE "10-bad.yaml:[0-9]+" <<<"$stderr" | cut -d: -f2 | tr '\n' ' ')
	[ "$lines" = "6 7 9 10 15 " ] || { echo "$lines"; false; }
}

@test "a YAML syntax error is reported at libyaml's position" {
	printf 'rules:\n  - name: a\n    kind: [audit_chain\n' >"$R/broken.yaml"
	run --separate-stderr "$PLATCTL" compliance validate --rules "$R/broken.yaml"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"$R/broken.yaml:4:1: YAML syntax error: "* ]] || { echo "$stderr"; false; }
}

@test "-o json reports problems and valid rules, and still exits 3" {
	printf 'rules:\n- name: ok\n  kind: audit_chain\n- name: bad\n  kind: pii\n  colour: red\n' >"$R/a.yaml"
	run --separate-stderr "$PLATCTL" compliance validate --rules "$R" -o json
	[ "$status" -eq 3 ]
	[ "$(jq -r .valid <<<"$output")" = false ]
	[ "$(jq -r '.rules | map(.name) | join(",")' <<<"$output")" = ok ]
	[ "$(jq -c '.problems[] | select(.warning | not) | [.line, .column, .message]' <<<"$output")" = \
		'[4,3,"a pii rule needs '"'"'classes'"'"': the document classes that must not hold personal data"]' ]
	[ "$(jq -c '.problems[] | select(.warning) | [.line, .column]' <<<"$output")" = '[6,3]' ]
	[ "$(jq -r '.files[0]' <<<"$output")" = "$R/a.yaml" ]
	# the problems are in the JSON, not repeated on stderr
	[[ "$stderr" != *"a.yaml:4:3"* ]]
}

@test "unknown keys warn; --strict makes them fail" {
	printf 'rules:\n- name: chain\n  kind: audit_chain\n  severty: high\n' >"$R/a.yaml"
	run --separate-stderr "$PLATCTL" compliance validate --rules "$R"
	[ "$status" -eq 0 ]
	[ "$output" = "1 rule in 1 file" ]
	[[ "$stderr" == *"$R/a.yaml:4:3: warning: unknown key 'severty', ignored (did you mean 'severity'?)"* ]]
	run --separate-stderr "$PLATCTL" compliance validate --rules "$R" --strict
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"compliance rules have 1 warning (--strict)"* ]]
}

@test "duplicate names across files name the first definition; other files are ignored" {
	printf 'rules:\n- name: same\n  kind: audit_chain\n' >"$R/10-a.yaml"
	printf '# b\nrules:\n- kind: orphans\n  name: same\n' >"$R/20-b.yaml"
	printf 'rules: [garbage\n' >"$R/README"
	printf 'rules: [garbage\n' >"$R/30-c.yaml~"
	run --separate-stderr "$PLATCTL" compliance validate --rules "$R"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"$R/20-b.yaml:4:9: duplicate rule name 'same' (first defined at $R/10-a.yaml:2)"* ]]
	[[ "$stderr" != *README* && "$stderr" != *30-c* ]]
}

@test "the path comes from compliance.rules; an empty directory is valid with a warning" {
	printf 'rules:\n- name: chain\n  kind: audit_chain\n' >"$R/a.yaml"
	printf 'compliance:\n  rules: %s\n' "$R/a.yaml" >"$BATS_TEST_TMPDIR/config.yaml"
	run --separate-stderr "$PLATCTL" --config "$BATS_TEST_TMPDIR/config.yaml" compliance validate
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$output" = "1 rule in 1 file" ]
	mkdir "$BATS_TEST_TMPDIR/empty"
	PLATCTL_COMPLIANCE_RULES="$BATS_TEST_TMPDIR/empty" run --separate-stderr "$PLATCTL" compliance validate
	[ "$status" -eq 0 ]
	[ "$output" = "0 rules in 0 files" ]
	[[ "$stderr" == *"$BATS_TEST_TMPDIR/empty: warning: no rules"* ]]
	PLATCTL_COMPLIANCE_RULES="$BATS_TEST_TMPDIR/empty" run --separate-stderr "$PLATCTL" compliance validate --strict
	[ "$status" -eq 3 ]
}

@test "a missing path exits 5 naming where it came from" {
	run --separate-stderr "$PLATCTL" compliance validate --rules "$R/none"
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"option '--rules': rule path '$R/none' not found"* ]]
	PLATCTL_COMPLIANCE_RULES="$R/none" run --separate-stderr "$PLATCTL" compliance validate
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"rule path '$R/none' not found (compliance.rules)"* ]]
}
