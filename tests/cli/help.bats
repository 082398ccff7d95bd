#!/usr/bin/env bats
# The command table: help for every command, did-you-mean, usage errors, man synopses.
load helpers

setup() {
	isolate
}

@test "platctl with no arguments prints help and exits 0" {
	run --separate-stderr "$PLATCTL"
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: platctl <command> [options]"* ]]
	[[ "$output" == *"Commands:"* ]]
	[[ "$output" == *"Global options:"* ]]
	[ -z "$stderr" ]
}

@test "every registered command answers --help with exit 0 on stdout" {
	local n=0
	while read -r path; do
		run --separate-stderr "$PLATCTL" $path --help
		[ "$status" -eq 0 ] || { echo "platctl $path --help exited $status"; false; }
		[[ "$output" == "usage: platctl $path "* ]] || { echo "bad help for $path: $output"; false; }
		[ -z "$stderr" ]
		n=$((n + 1))
	done < <(command_paths)
	[ "$n" -ge 5 ]
	# groups too
	run "$PLATCTL" config --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Commands:"*"show"*"validate"* ]]
}

@test "-h, help CMD and CMD --help print the same text" {
	a=$("$PLATCTL" config show --help)
	b=$("$PLATCTL" help config show)
	c=$("$PLATCTL" config show -h)
	d=$("$PLATCTL" --help config show)
	[ "$a" = "$b" ] && [ "$a" = "$c" ] && [ "$a" = "$d" ]
	[ "$("$PLATCTL" help)" = "$("$PLATCTL" --help)" ]
}

@test "help never needs a valid configuration" {
	printf 'log: [broken' >"$BATS_TEST_TMPDIR/bad.yaml"
	run "$PLATCTL" --config "$BATS_TEST_TMPDIR/bad.yaml" config show --help
	[ "$status" -eq 0 ]
	run "$PLATCTL" --config "$BATS_TEST_TMPDIR/bad.yaml" version
	[ "$status" -eq 0 ]
}

@test "an unknown command suggests the nearest and exits 2" {
	run --separate-stderr "$PLATCTL" conifg show
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"'conifg' is not a command (did you mean 'config'?)"* ]]
	assert_error_logged 2
	run --separate-stderr "$PLATCTL" config shwo
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"did you mean 'show'?"* ]]
	run --separate-stderr "$PLATCTL" qqqqqqq
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"'qqqqqqq' is not a command"* ]]
	run --separate-stderr "$PLATCTL" help nosuch
	[ "$status" -eq 2 ]
	run --separate-stderr "$PLATCTL" config
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"a command is required"* ]]
}

@test "option errors name the option and exit 2" {
	run --separate-stderr "$PLATCTL" config show --frobnicate
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown option '--frobnicate'"* ]]
	run --separate-stderr "$PLATCTL" version --shrot
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"did you mean '--short'?"* ]]
	run --separate-stderr "$PLATCTL" config show -o
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"option '-o' needs a value"* ]]
	run --separate-stderr "$PLATCTL" config show --output=xml
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"option '--output': invalid value 'xml'"* ]]
	run --separate-stderr "$PLATCTL" version --short=yes
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"option '--short' takes no value"* ]]
	run --separate-stderr "$PLATCTL" version extra
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"takes no arguments"* ]]
	run --separate-stderr "$PLATCTL" config validate a b
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"too many arguments"* ]]
	run --separate-stderr "$PLATCTL" -q -v version
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"'--quiet' and '--verbose'"* ]]
}

@test "global options work before and after the command" {
	run "$PLATCTL" -o json version
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c 'import json,sys; json.load(sys.stdin)'
	run "$PLATCTL" version -o json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c 'import json,sys; json.load(sys.stdin)'
	run "$PLATCTL" config -o yaml show tenant
	[ "$status" -eq 0 ]
	[[ "$output" == *"key: tenant"* ]]
}

@test "no crash on hostile argv" {
	for args in "" "-" "--" "---" "-o" "--=" "--output=" "-ojson -o" $'\xff\xfe' $'config\nshow' \
		"config show --" "help help help" "-vvvvvvvvvvvvvvvv version" "config show $(printf 'x%.0s' {1..5000})"; do
		run "$PLATCTL" $args
		[ "$status" -le 7 ] || { echo "status $status for: $args"; false; }
	done
}

@test "man pages exist for every command and their synopses match --help" {
	for cmd in $(command_paths | awk '{print $1}' | sort -u); do
		page="$ROOT/man/platctl-$cmd.1.scd"
		[ -f "$page" ] || { echo "missing man page $page"; false; }
		expected=$("$PLATCTL" __commands | grep "^platctl $cmd " | sort)
		actual=$(sed -n '/^# SYNOPSIS/,/^# /p' "$page" | grep '^\*platctl' | tr -d '*_' | sort)
		[ "$expected" = "$actual" ] || { echo "synopsis mismatch in $page"; diff <(echo "$expected") <(echo "$actual"); false; }
		grep -q "platctl-$cmd" "$ROOT/man/platctl.1.scd" || { echo "platctl.1 does not list $cmd"; false; }
	done
}

@test "every option of every command is in its man page" {
	for path in $(command_paths | tr ' ' '_'); do
		path=${path//_/ }
		cmd=${path%% *}
		page="$ROOT/man/platctl-$cmd.1.scd"
		opts=$("$PLATCTL" $path --help | sed -n '/^Options:/,/^$/p' | grep -oE -- '--[a-z][a-z-]*' | sort -u)
		for o in $opts; do
			grep -q -- "\*$o\*" "$page" || { echo "$page lacks $o"; false; }
		done
	done
	for o in $("$PLATCTL" --help | sed -n '/^Global options:/,/^$/p' | grep -oE -- '--[a-z][a-z-]*'); do
		grep -q -- "\*$o\*" "$ROOT/man/platctl.1.scd" || { echo "platctl.1 lacks $o"; false; }
	done
}
