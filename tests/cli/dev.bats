#!/usr/bin/env bats
# platctl dev: the embedded single-machine stack.
load helpers

setup() {
	isolate
	DEVDIR=$(mktemp -d /tmp/platctl-devtest.XXXXXX)
	chmod 0755 "$DEVDIR"
	export DEVDIR
	# If this run is killed, a watchdog still stops the server and removes the directory.
	setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; "$2" dev down --dir "$3/dev" --purge >/dev/null 2>&1; rm -rf "$3"' \
		_ $$ "$PLATCTL" "$DEVDIR" </dev/null >/dev/null 2>&1 3>&- &
}

teardown() {
	"$PLATCTL" dev down --dir "$DEVDIR/dev" >/dev/null 2>&1 || true
	"$PLATCTL" dev down --dir "$DEVDIR/platctl/dev" >/dev/null 2>&1 || true # the demo's
	rm -rf "$DEVDIR"
}

# A process that exited but was not yet reaped (a zombie) is not alive.
alive() {
	ps -o stat= -p "$1" 2>/dev/null | grep -qv Z
}

json_field() { # FIELD: read from $output
	printf '%s' "$output" | python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print("null" if v is None else v)' "$1"
}

@test "dev up starts, migrates and writes a default dev profile that later commands use" {
	run --separate-stderr "$PLATCTL" dev up --dir "$DEVDIR/dev" -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(json_field running)" = True ]
	[ "$(json_field schema_version)" -ge 1 ]
	[ "$(json_field profile_written)" = True ]
	port=$(json_field port)
	[ "$(json_field database_url)" = "postgresql://postgres@127.0.0.1:$port/platctl" ]
	[ -d "$DEVDIR/dev/storage" ]
	head -n1 "$XDG_CONFIG_HOME/platctl/config.yaml" | grep -q 'Managed by `platctl dev up`'
	# no options needed afterwards
	run "$PLATCTL" migrate status -o json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"state":	"applied"'* ]]
	run "$PLATCTL" config show storage.url events.backend ai.chat.provider -o json
	[[ "$output" == *"file://$DEVDIR/dev/storage"* ]]
	[[ "$output" == *'"profile":	"dev"'* ]]
	# listening on loopback only
	run ss -ltn "sport = :$port"
	[[ "$output" == *"127.0.0.1:$port"* ]]
	[[ "$output" != *"0.0.0.0:$port"* ]]
}

@test "dev up twice is harmless: same server, same port, nothing re-applied" {
	"$PLATCTL" dev up --dir "$DEVDIR/dev" -o json >"$BATS_TEST_TMPDIR/first.json"
	run "$PLATCTL" dev up --dir "$DEVDIR/dev" -o json
	[ "$status" -eq 0 ]
	[ "$(json_field migrations_applied)" = 0 ]
	second_pid=$(json_field pid) second_port=$(json_field port)
	output=$(cat "$BATS_TEST_TMPDIR/first.json")
	[ "$(json_field pid)" = "$second_pid" ]
	[ "$(json_field port)" = "$second_port" ]
}

@test "dev down stops the server and leaves no process behind; up again reuses the port" {
	run "$PLATCTL" dev up --dir "$DEVDIR/dev" -o json
	pid=$(json_field pid) port=$(json_field port)
	alive "$pid"
	run "$PLATCTL" dev down --dir "$DEVDIR/dev" -o json
	[ "$status" -eq 0 ]
	[ "$(json_field stopped)" = True ]
	! alive "$pid"
	! pgrep -f -- "$DEVDIR/dev/pg" >/dev/null
	run --separate-stderr "$PLATCTL" dev status --dir "$DEVDIR/dev" -o json
	[ "$status" -eq 7 ]
	[ "$(json_field running)" = False ]
	run "$PLATCTL" dev down --dir "$DEVDIR/dev" -o json # idempotent
	[ "$status" -eq 0 ]
	[ "$(json_field stopped)" = False ]
	run "$PLATCTL" dev up --dir "$DEVDIR/dev" -o json
	[ "$(json_field port)" = "$port" ]
	[ "$(json_field schema_version)" -ge 1 ] # data survived the restart
}

@test "dev env prints exports a shell can eval" {
	run --separate-stderr "$PLATCTL" dev env --dir "$DEVDIR/dev"
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"run 'platctl dev up'"* ]]
	"$PLATCTL" dev up --dir "$DEVDIR/dev" --no-profile >/dev/null
	[ ! -e "$XDG_CONFIG_HOME/platctl/config.yaml" ]
	eval "$("$PLATCTL" dev env --dir "$DEVDIR/dev")"
	[[ "$PLATCTL_DATABASE_URL" == postgresql://postgres@127.0.0.1:*/platctl ]]
	[ "$PLATCTL_STORAGE_URL" = "file://$DEVDIR/dev/storage" ]
	run "$PLATCTL" migrate verify
	[ "$status" -eq 0 ]
	run "$PLATCTL" dev env --dir "$DEVDIR/dev" -o yaml
	[[ "$output" == *"events.backend: postgres"* ]]
}

@test "a hand-written config file is never changed by dev up" {
	mkdir -p "$XDG_CONFIG_HOME/platctl"
	printf '# mine\ntenant: acme\n' >"$XDG_CONFIG_HOME/platctl/config.yaml"
	before=$(sha256sum <"$XDG_CONFIG_HOME/platctl/config.yaml")
	run --separate-stderr "$PLATCTL" dev up --dir "$DEVDIR/dev" -o json
	[ "$status" -eq 0 ]
	[ "$(json_field profile_written)" = False ]
	[[ "$stderr" == *"not managed by platctl"* ]]
	[ "$(sha256sum <"$XDG_CONFIG_HOME/platctl/config.yaml")" = "$before" ]
	run "$PLATCTL" dev down --dir "$DEVDIR/dev" --purge
	[ "$status" -eq 0 ]
	[ -e "$XDG_CONFIG_HOME/platctl/config.yaml" ] # purge removes only a managed file
}

@test "dev down --purge removes the directory and the managed profile" {
	"$PLATCTL" dev up --dir "$DEVDIR/dev" >/dev/null
	[ -e "$XDG_CONFIG_HOME/platctl/config.yaml" ]
	run "$PLATCTL" dev down --dir "$DEVDIR/dev" --purge -o json
	[ "$status" -eq 0 ]
	[ "$(json_field profile_removed)" = True ]
	[ ! -e "$DEVDIR/dev" ]
	[ ! -e "$XDG_CONFIG_HOME/platctl/config.yaml" ]
}

@test "dev down --purge only deletes a dev stack; directories a shell would misread are refused" {
	mkdir -p "$DEVDIR/victim"
	echo precious >"$DEVDIR/victim/file"
	run --separate-stderr "$PLATCTL" dev down --dir "$DEVDIR/victim" --purge
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not a dev stack"* ]]
	[ -f "$DEVDIR/victim/file" ]
	for odd in "$DEVDIR/we\"ird" "$DEVDIR/with space" "$DEVDIR/x;touch \$HOME/pwned" "$DEVDIR/\$(id)"; do
		run --separate-stderr "$PLATCTL" dev up --dir "$odd"
		[ "$status" -eq 2 ] || { echo "$odd: $status"; false; }
		[[ "$stderr" == *"may only contain letters"* ]]
		[ ! -e "$odd" ]
	done
	[ ! -e "$HOME/pwned" ]
}

@test "bad dev options" {
	run --separate-stderr "$PLATCTL" dev up --dir relative/path
	[ "$status" -eq 2 ]
	run --separate-stderr "$PLATCTL" dev up --dir "$DEVDIR/dev" --pg-bindir /nonexistent
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"initdb, pg_ctl) not found in /nonexistent"* ]]
	if [ "$(id -u)" -eq 0 ]; then
		private=$(mktemp -d /tmp/platctl-private.XXXXXX)
		chmod 0700 "$private"
		run --separate-stderr "$PLATCTL" dev up --dir "$private/dev"
		rm -rf "$private"
		[ "$status" -eq 1 ]
		[[ "$stderr" == *"the postgres user cannot enter"* ]]
	fi
}

@test "make demo's script runs the main job end to end, and again without redoing anything" {
	export XDG_DATA_HOME="$DEVDIR" # the stack lands in $DEVDIR/platctl/dev
	run --separate-stderr bash "$ROOT/scripts/demo.sh"
	[ "$status" -eq 0 ] || { echo "$output"; echo "$stderr"; false; }
	[[ "$output" == *"processed      6"* ]]
	[[ "$output" == *"employee-handbook.pdf           processed  policy"* ]]
	[[ "$output" == *"three months' written notice"*"master-services-agreement.md, page 1"* ]]
	[[ "$output" == *"27 days of paid holiday"*"employee-handbook.pdf, page 3"* ]]
	[[ "$stderr" == *"the documents do not answer this question"* ]]
	run --separate-stderr bash "$ROOT/scripts/demo.sh"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^unchanged' <<<"$output")" -eq 6 ]
	[[ "$output" == *"processed      0"* ]]
	"$PLATCTL" dev down --purge >/dev/null
}
