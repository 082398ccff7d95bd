#!/usr/bin/env bats
# Remote mode (issue 2.6), first part: login with a token or a password against a live
# serve, the credentials file (0600, refused when others can read it), whoami in both
# modes, logout with the refresh token revoked, and an unreachable server.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
	export PLATCTL_AUTH_ARGON2_MEMORY=1024 PLATCTL_AUTH_ARGON2_ITERATIONS=1
	# The key that signs local accounts' access tokens (the password login).
	mkdir -p "$BATS_TEST_TMPDIR/keys"
	openssl genpkey -algorithm ed25519 -out "$BATS_TEST_TMPDIR/keys/2026-12.pem" 2>/dev/null
	chmod 600 "$BATS_TEST_TMPDIR/keys/2026-12.pem"
	export PLATCTL_AUTH_KEYS="$BATS_TEST_TMPDIR/keys"
	printf 'ada-password\n' | PLATCTL_PRINCIPAL=ada "$PLATCTL" user add ada --role admin --email ada@example.com --password-stdin >/dev/null
	TOKEN=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name ci --role editor | jq -r .token)
	serve_start "$BATS_TEST_TMPDIR/serve.log"
	export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/xdg"
	CRED="$XDG_CONFIG_HOME/platctl/credentials.yaml"
}

teardown() {
	serve_stop
}

# A command in remote mode: the server's URL, and no database or storage to fall back on.
remote() {
	env -u PLATCTL_DATABASE_URL -u PLATCTL_STORAGE_URL PLATCTL_SERVER_URL="$URL" "$PLATCTL" "$@"
}

@test "login --with-token: verified, stored 0600, whoami remote matches direct" {
	run --separate-stderr bash -c "printf '%s\n' '$TOKEN' | env -u PLATCTL_DATABASE_URL PLATCTL_SERVER_URL='$URL/' '$PLATCTL' -o json login --with-token"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# An API token made without --principal acts as a service principal of its name.
	[ "$(jq -r .principal <<<"$output")" = ci ]
	[ "$(jq -r .server <<<"$output")" = "$URL" ]
	[ "$(jq -r .configured <<<"$output")" = true ]
	[ "$(stat -c %a "$CRED")" = 600 ]
	[ "$(stat -c %a "$XDG_CONFIG_HOME/platctl")" = 700 ]
	run --separate-stderr remote -o json whoami
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	r=$output
	[ "$(jq -r .mode <<<"$r")" = remote ]
	[ "$(jq -r .server <<<"$r")" = "$URL" ]
	d=$(PLATCTL_PRINCIPAL=ci "$PLATCTL" -o json whoami)
	[ "$(jq -r .mode <<<"$d")" = direct ]
	# The same principal, tenant, kind, e-mail and role (the token's, editor).
	for k in principal tenant kind email bootstrap; do
		[ "$(jq -c ".$k" <<<"$r")" = "$(jq -c ".$k" <<<"$d")" ] || { echo "$k differs: $r vs $d"; false; }
	done
	[ "$(jq -r .role <<<"$r")" = editor ]
	# A command without a remote implementation yet refuses, rather than use the database.
	run --separate-stderr env PLATCTL_SERVER_URL="$URL" "$PLATCTL" audit list
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"does not run in remote mode yet (server.url is set to $URL)"* ]]
	[ "$(jq -S 'keys' <<<"$r")" = "$(jq -S 'keys' <<<"$d")" ]
	# The token is in no log line or output.
	! grep -q "$TOKEN" "$BATS_TEST_TMPDIR/serve.log"
	! grep -q "$TOKEN" <<<"$stderr"
}

@test "a refused token stores nothing; no token says to log in (exit 4)" {
	run --separate-stderr bash -c "printf 'plat_notarealtoken\n' | PLATCTL_SERVER_URL='$URL' '$PLATCTL' login --with-token"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"refused the token"* ]]
	[ ! -e "$CRED" ]
	run --separate-stderr remote whoami
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"not logged in to $URL: run platctl login"* ]]
	# PLATCTL_TOKEN stands in for one command.
	run --separate-stderr env PLATCTL_TOKEN="$TOKEN" bash -c "$(declare -f remote); PLATCTL='$PLATCTL' URL='$URL'; remote -o json whoami"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jq -r .principal <<<"$output")" = ci ]
}

@test "a credentials file others can read is refused with the fix" {
	printf '%s\n' "$TOKEN" | PLATCTL_SERVER_URL="$URL" "$PLATCTL" login --with-token >/dev/null
	chmod 0644 "$CRED"
	run --separate-stderr remote whoami
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"readable by others (mode 0644)"*"chmod 600 $CRED"* ]]
	! grep -q "$TOKEN" <<<"$stderr"
	chmod 0600 "$CRED"
	run remote whoami
	[ "$status" -eq 0 ]
}

@test "login --password keeps a refresh token; logout revokes it and removes the entry" {
	run --separate-stderr bash -c "printf 'ada-password\n' | PLATCTL_SERVER_URL='$URL' '$PLATCTL' -o json login --password-stdin --user ada"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jq -r .kind <<<"$output")" = password ]
	[ "$(jq -r .expires_at <<<"$output")" != null ]
	refresh=$(grep refresh_token "$CRED" | sed 's/.*: "\(.*\)"/\1/')
	[ -n "$refresh" ]
	run --separate-stderr remote -o json whoami
	[ "$status" -eq 0 ]
	[ "$(jq -r .role <<<"$output")" = admin ]
	run --separate-stderr remote -o json logout
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jq -c '[.removed, .revoked]' <<<"$output")" = '[true,true]' ]
	! grep -q "$URL" "$CRED"
	# The refresh token no longer works at the server.
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		-d "{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$refresh\"}" "$URL/v1/auth/token")
	[ "$code" = 401 ]
	run remote logout
	[ "$status" -eq 0 ]
	# A wrong password: exit 4, nothing stored.
	run --separate-stderr bash -c "printf 'wrong\n' | PLATCTL_SERVER_URL='$URL' '$PLATCTL' login --password-stdin --user ada"
	[ "$status" -eq 4 ]
	! grep -q "$URL" "$CRED"
}

@test "login --server with no config file records the server; bad usage exits 2" {
	run --separate-stderr bash -c "printf '%s\n' '$TOKEN' | env -u PLATCTL_CONFIG '$PLATCTL' -o json login --with-token --server '$URL'"
	if [ -n "${PLATCTL_CONFIG:-}" ]; then skip "the suite runs with a config file"; fi
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jq -r .config <<<"$output")" = "$XDG_CONFIG_HOME/platctl/config.yaml" ]
	run env -u PLATCTL_DATABASE_URL "$PLATCTL" -o json whoami
	[ "$status" -eq 0 ]
	[ "$(jq -r .mode <<<"$output")" = remote ]
	run --separate-stderr "$PLATCTL" login
	[ "$status" -eq 2 ]
	run --separate-stderr "$PLATCTL" login --with-token --password
	[ "$status" -eq 2 ]
	run --separate-stderr bash -c "printf 'x\n' | '$PLATCTL' login --with-token --server ftp://x"
	[ "$status" -eq 2 ]
}

@test "an unreachable server: exit 7 naming its URL" {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	run --separate-stderr env -u PLATCTL_DATABASE_URL PLATCTL_SERVER_URL="http://127.0.0.1:$port" PLATCTL_TOKEN="$TOKEN" "$PLATCTL" whoami
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"cannot reach the server at http://127.0.0.1:$port"* ]]
	run --separate-stderr bash -c "printf '%s\n' '$TOKEN' | PLATCTL_SERVER_URL='http://127.0.0.1:$port' '$PLATCTL' login --with-token"
	[ "$status" -eq 7 ]
}
