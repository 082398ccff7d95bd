#!/usr/bin/env bats
# Configuration through the binary: search order, precedence, profiles, errors, secrets.
load helpers

setup() {
	isolate
	CFG="$BATS_TEST_TMPDIR/c.yaml"
}

value_of() { # KEY: the value `config show -o json` reports
	"$PLATCTL" config show "$1" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["value"])'
}

@test "precedence: flags > env > profile > file > defaults" {
	cat >"$CFG" <<-YAML
	output:
	  format: yaml
	log:
	  level: info
	tenant: fromfile
	profiles:
	  p1:
	    tenant: fromprofile
	YAML
	export PLATCTL_CONFIG="$CFG"
	[ "$(value_of tenant)" = fromfile ]
	[ "$(value_of log.level)" = info ]
	[ "$(PLATCTL_PROFILE=p1 value_of tenant)" = fromprofile ]
	[ "$(PLATCTL_PROFILE=p1 PLATCTL_TENANT=fromenv value_of tenant)" = fromenv ]
	# output.format from the file applies; -o overrides it
	run "$PLATCTL" config show tenant
	[[ "$output" == *"key: tenant"* ]]
	run "$PLATCTL" config show tenant -o table
	[[ "$output" == "KEY"* ]]
	# and the origin says where each value came from
	run "$PLATCTL" config show tenant log.level output.format -o json
	[[ "$output" == *"\"origin\":	\"$CFG:5:9\""* ]]
	[[ "$output" == *"\"origin\":	\"flag --output\""* ]]
}

@test "search order: --config, PLATCTL_CONFIG, XDG_CONFIG_HOME" {
	mkdir -p "$XDG_CONFIG_HOME/platctl"
	echo "tenant: xdg" >"$XDG_CONFIG_HOME/platctl/config.yaml"
	echo "tenant: envfile" >"$BATS_TEST_TMPDIR/env.yaml"
	echo "tenant: flagfile" >"$CFG"
	[ "$(value_of tenant)" = xdg ]
	[ "$(PLATCTL_CONFIG=$BATS_TEST_TMPDIR/env.yaml value_of tenant)" = envfile ]
	run "$PLATCTL" --config "$CFG" config show tenant -o json
	[[ "$output" == *'"value":	"flagfile"'* ]]
	unset XDG_CONFIG_HOME
	mkdir -p "$HOME/.config/platctl"
	echo "tenant: dotconfig" >"$HOME/.config/platctl/config.yaml"
	[ "$(value_of tenant)" = dotconfig ]
}

@test "a missing --config or PLATCTL_CONFIG file exits 3 naming the path" {
	run --separate-stderr "$PLATCTL" --config /nonexistent/p.yaml config show
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"/nonexistent/p.yaml: cannot open config file: No such file or directory"* ]]
	assert_error_logged 3
	PLATCTL_CONFIG=/nonexistent/q.yaml run --separate-stderr "$PLATCTL" config show
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"/nonexistent/q.yaml"* ]]
	run --separate-stderr "$PLATCTL" --config "$BATS_TEST_TMPDIR" config show
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"is a directory"* ]]
}

@test "YAML syntax errors and wrong types exit 3 with file:line:column and key" {
	printf 'log:\n  level: [info\n' >"$CFG"
	run --separate-stderr "$PLATCTL" --config "$CFG" config show
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"$CFG:3:1: YAML syntax error"* ]]
	printf 'database:\n  connect_timeout: soon\n' >"$CFG"
	run --separate-stderr "$PLATCTL" --config "$CFG" config show
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"$CFG:2:20: key 'database.connect_timeout': expected a duration"* ]]
	printf 'log: verbose\n' >"$CFG"
	run --separate-stderr "$PLATCTL" --config "$CFG" config show
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"$CFG:1:6: key 'log': is a section"* ]]
	PLATCTL_LOG_LEVEL=loud run --separate-stderr "$PLATCTL" config show
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"key 'log.level': env PLATCTL_LOG_LEVEL: invalid value 'loud'"* ]]
}

@test "unknown keys are warned about with position and suggestion, not fatal" {
	printf 'tenant: a\ndatabse:\n  url: postgres://x@y/z\n' >"$CFG"
	run --separate-stderr "$PLATCTL" --config "$CFG" config show tenant
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"$CFG:2:1: key 'databse': unknown key, ignored"* ]]
	[[ "$stderr" == *'"level":"warn"'* ]]
	PLATCTL_TENNANT=x run --separate-stderr "$PLATCTL" config show tenant
	[[ "$stderr" == *"unknown environment variable 'PLATCTL_TENNANT'"* ]]
}

@test "config validate reports every problem, --strict fails on warnings" {
	cat >"$CFG" <<-YAML
	tenant: Bad Name
	log:
	  level: loud
	  levle: info
	profiles:
	  other:
	    color: sometimes
	YAML
	run --separate-stderr "$PLATCTL" config validate "$CFG"
	[ "$status" -eq 3 ]
	[[ "$output" == *"error: $CFG:1:9: key 'tenant'"* ]]
	[[ "$output" == *"error: $CFG:3:10: key 'log.level'"* ]]
	[[ "$output" == *"warning: $CFG:4:3: key 'log.levle'"* ]]
	[[ "$output" == *"error: $CFG:7:12: key 'color'"* ]]
	[[ "$output" == *"invalid (3 errors, 1 warning)"* ]]
	run --separate-stderr "$PLATCTL" config validate "$CFG" -o json
	[ "$status" -eq 3 ]
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["valid"] is False and d["errors"] == 3 and d["warnings"] == 1, d
assert {x["line"] for x in d["diagnostics"]} == {1, 3, 4, 7}, d'
	printf 'tenant: ok\nextra: 1\n' >"$CFG"
	run "$PLATCTL" config validate "$CFG"
	[ "$status" -eq 0 ]
	[[ "$output" == *"valid (0 errors, 1 warning)"* ]]
	run "$PLATCTL" config validate --strict "$CFG"
	[ "$status" -eq 3 ]
	run "$PLATCTL" config validate
	[ "$status" -eq 0 ]
}

@test "profiles: --profile, PLATCTL_PROFILE, the file's profile key, unknown profile" {
	cat >"$CFG" <<-YAML
	profile: b
	tenant: top
	profiles:
	  a: {tenant: ta}
	  b: {tenant: tb}
	YAML
	export PLATCTL_CONFIG="$CFG"
	[ "$(value_of tenant)" = tb ]
	[ "$(PLATCTL_PROFILE=a value_of tenant)" = ta ]
	run "$PLATCTL" --profile default config show tenant -o json
	[[ "$output" == *'"value":	"top"'* ]]
	[[ "$output" == *'"profile":	"default"'* ]]
	run --separate-stderr "$PLATCTL" --profile zzz config show
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"profile 'zzz' is not defined"* ]]
}

@test "secrets never appear in config show, validate, logs or errors" {
	secret='Sup3r-s3cret-pw'
	printf 'database:\n  url: postgres://app:%s@db.internal:5432/plat\n' "$secret" >"$CFG"
	for fmt in table json yaml; do
		run "$PLATCTL" --config "$CFG" -v -v config show -o $fmt
		[ "$status" -eq 0 ]
		[[ "$output" != *"$secret"* ]]
		[[ "$output" == *"[REDACTED]"* ]]
	done
	PLATCTL_DATABASE_URL="host=db password=$secret" run "$PLATCTL" config show database.url
	[[ "$output" != *"$secret"* ]]
	# an invalid value is not echoed when the key is secret
	PLATCTL_DATABASE_URL="mysql://u:$secret@h/x" run "$PLATCTL" config show
	[ "$status" -eq 3 ]
	[[ "$output" != *"$secret"* ]]
	printf 'database:\n  url: "mysql://u:%s@h/x"\n' "$secret" >"$CFG"
	run "$PLATCTL" config validate "$CFG" -o json
	[ "$status" -eq 3 ]
	[[ "$output" != *"$secret"* ]]
	[[ "$output" == *"must be a postgres:// URL"* ]]
}

@test "an unknown key for config show exits 2 with a suggestion" {
	run --separate-stderr "$PLATCTL" config show databse.url
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown config key 'databse.url' (did you mean 'database.url'?)"* ]]
}

@test "etc/platctl.yaml is exactly what config example prints, and validates" {
	diff <("$PLATCTL" config example) "$ROOT/etc/platctl.yaml"
	run "$PLATCTL" config validate --strict "$ROOT/etc/platctl.yaml"
	[ "$status" -eq 0 ]
}

@test "every key is documented in platctl.yaml(5)" {
	for key in $("$PLATCTL" config show -o json | python3 -c 'import json,sys; [print(k["key"]) for k in json.load(sys.stdin)["keys"]]'); do
		grep -q "^\*$key\* (" "$ROOT/man/platctl.yaml.5.scd" || { echo "platctl.yaml.5 lacks $key"; false; }
	done
}

@test "no crash on hostile config bytes" {
	for f in "$ROOT"/tests/data/config/*; do
		run "$PLATCTL" --config "$f" config show
		[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || { echo "$f: status $status"; false; }
	done
	head -c 4096 /dev/urandom >"$CFG"
	run "$PLATCTL" --config "$CFG" config show
	[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
	head -c 2000000 /dev/zero | tr '\0' 'a' >"$CFG"
	run --separate-stderr "$PLATCTL" --config "$CFG" config show
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"larger than"* ]]
}
