#!/usr/bin/env bats
# Access control through the real commands on a real PostgreSQL: bootstrap, users and
# roles, refusals (exit 4 naming the operation and role, no data), other tenants' objects
# as "not found" (exit 5) in get, rm, retry, search and ask, API tokens, whoami, and the bad
# inputs of user, tenant and token.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
	# Cheap hashes: the tests check what is stored, not argon2's cost.
	export PLATCTL_AUTH_ARGON2_MEMORY=1024 PLATCTL_AUTH_ARGON2_ITERATIONS=1
}

sql() {
	test_psql -d "$TEST_DB" -Atc "$1"
}

as() { # PRINCIPAL [TENANT] -- command...: run platctl as someone
	local who=$1 tenant=default
	shift
	if [ "$1" != -- ]; then tenant=$1; shift; fi
	shift
	PLATCTL_PRINCIPAL=$who PLATCTL_TENANT=$tenant "$PLATCTL" "$@"
}

# admin ada, editor ed, viewer vera, auditor audrey in default; gus admin of globex.
add_people() {
	printf 'ada-password\n' | PLATCTL_PRINCIPAL=ada "$PLATCTL" user add ada --role admin --password-stdin >/dev/null
	as ada -- user add ed --role editor --no-password >/dev/null
	as ada -- user add vera --role viewer --no-password --email vera@example.com >/dev/null
	as ada -- user add audrey --role auditor --no-password >/dev/null
	as ada -- tenant add globex >/dev/null
	as gus globex -- user add gus --role admin --no-password --tenant globex >/dev/null
}

@test "a fresh tenant is in bootstrap until its first admin, then unknown principals are refused" {
	run --separate-stderr "$PLATCTL" whoami -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.role, .bootstrap, .mode' | tr '\n' ' ')" = "admin true direct " ]
	# The first principal must be an admin, or nobody could administer the tenant.
	run --separate-stderr "$PLATCTL" user add vera --role viewer --no-password
	[ "$status" -eq 6 ]
	[[ "$stderr" == *"its first must be an admin"* ]]
	run --separate-stderr "$PLATCTL" token create --name ci --role editor
	[ "$status" -eq 6 ]
	add_people
	run --separate-stderr as mallory -- documents list
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"principal 'mallory' is not known in tenant 'default'"* ]]
	run --separate-stderr as ada -- whoami -o json
	[ "$(echo "$output" | jq -r '.principal, .role, .bootstrap' | tr '\n' ' ')" = "ada admin false " ]
	# The password is an argon2id hash, never the password, and in no audit row.
	[[ "$(sql "SELECT password_hash FROM principals WHERE name = 'ada'")" == '$argon2id$v=19$m=1024,t=1,p=1$'* ]]
	[ "$(sql "SELECT count(*) FROM audit_log WHERE details::text LIKE '%ada-password%' OR details::text LIKE '%argon2%'")" -eq 0 ]
}

@test "each role does what it may and is refused the rest with exit 4 naming the operation and role" {
	add_people
	printf 'quarterly figures\n' >"$BATS_TEST_TMPDIR/a.txt"
	run --separate-stderr as vera -- upload "$BATS_TEST_TMPDIR/a.txt"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"documents.upload needs the editor or admin role; 'vera' has the viewer role"* ]]
	[ "$(sql "SELECT count(*) FROM documents")" -eq 0 ]
	run --separate-stderr as audrey -- upload "$BATS_TEST_TMPDIR/a.txt"
	[ "$status" -eq 4 ]
	id=$(as ed -- upload "$BATS_TEST_TMPDIR/a.txt" -o json | jq -r '.[0].id // .id')
	[ -n "$id" ]
	[ "$(as vera -- documents list -o ids)" = "$id" ]
	as audrey -- documents show "$id" >/dev/null
	run --separate-stderr as vera -- documents rm "$id"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"documents.delete"* ]]
	[[ "$stderr" != *"a.txt"* ]]
	run --separate-stderr as ed -- documents rm --purge "$id"
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"documents.purge needs the admin role"* ]]
	run --separate-stderr as ed -- user add eve --role viewer --no-password
	[ "$status" -eq 4 ]
	run --separate-stderr as audrey -- user list -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.[].name' | tr '\n' ' ')" = "ada audrey ed vera " ]
	run --separate-stderr as vera -- user list
	[ "$status" -eq 4 ]
	run --separate-stderr as vera -- token list
	[ "$status" -eq 4 ]
	run --separate-stderr as ada -- tenant list -o json
	[ "$(echo "$output" | jq -r '.[].name' | tr '\n' ' ')" = "default globex " ]
	run --separate-stderr as gus globex -- tenant list
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"admin role in tenant 'default'"* ]]
	as ed -- documents rm "$id" >/dev/null
	# Every change was recorded with its principal.
	[ "$(sql "SELECT string_agg(principal || ':' || action, ' ' ORDER BY id) FROM audit_log
		WHERE action IN ('document.upload', 'document.delete')")" = "ed:document.upload ed:document.delete" ]
}

@test "another tenant's documents are not found, in get, show, rm, retry, search and ask, and nothing leaks" {
	add_people
	printf 'the globex secret formula is unobtainium\n' >"$BATS_TEST_TMPDIR/formula.txt"
	gid=$(as gus globex -- upload "$BATS_TEST_TMPDIR/formula.txt" -o json | jq -r '.[0].id // .id')
	as gus globex -- consume --once >/dev/null
	[ "$(sql "SELECT status FROM documents WHERE id = '$gid'")" = processed ]
	# The workers acted as the system principal, and the audit chain says so.
	[ "$(sql "SELECT principal FROM audit_log WHERE action = 'document.process'")" = system ]
	for cmd in "documents show $gid" "documents get $gid" "documents rm $gid" "documents retry $gid"; do
		run --separate-stderr as ada -- $cmd
		[ "$status" -eq 5 ] || { echo "$cmd: $status $stderr"; false; }
		[[ "$stderr" != *formula* && "$output" != *formula* ]]
	done
	run --separate-stderr as ada -- search unobtainium formula -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq length)" -eq 0 ]
	run --separate-stderr as ada -- ask what is the globex secret formula -o json
	[[ "$output" != *unobtainium* && "$stderr" != *unobtainium* ]]
	[[ "$output" != *"$gid"* ]]
	[ "$(sql "SELECT status FROM documents WHERE id = '$gid'")" = processed ]
	# Its own tenant finds it.
	[ "$(as gus globex -- search unobtainium -o json | jq -r '.[0].document')" = formula.txt ]
}

@test "disabled principals cannot act; the last admin cannot be disabled; passwords change" {
	add_people
	as ada -- user disable vera >/dev/null
	run --separate-stderr as vera -- documents list
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"'vera' is disabled"* ]]
	run --separate-stderr as ada -- user disable ada
	[ "$status" -eq 6 ]
	[[ "$stderr" == *"last enabled admin"* ]]
	as ada -- user enable vera >/dev/null
	as vera -- documents list >/dev/null
	before=$(sql "SELECT password_hash FROM principals WHERE name = 'ada'")
	printf 'a-new-password\n' | as ada -- user passwd --password-stdin
	[ "$(sql "SELECT password_hash FROM principals WHERE name = 'ada'")" != "$before" ]
	run --separate-stderr bash -c "printf 'vera-password\n' | PLATCTL_PRINCIPAL=ed '$PLATCTL' user passwd vera --password-stdin"
	[ "$status" -eq 4 ]
	printf 'vera-password\n' | as vera -- user passwd --password-stdin
	[ "$(sql "SELECT string_agg(action, ' ' ORDER BY id) FROM audit_log WHERE object_type = 'principal'
		AND action <> 'principal.add'")" = "principal.disable principal.enable principal.passwd principal.passwd" ]
}

@test "a password from the terminal prompt is asked twice, not echoed, and must match" {
	add_people
	# A pseudo-terminal, answered prompt by prompt (tests/cli/pty_answer.py).
	export PLATCTL_PRINCIPAL=ada
	run "$ROOT/tests/cli/pty_answer.py" "New password:" tty-password-1 "Again:" tty-password-1 -- \
		"$PLATCTL" user add tina --role viewer
	[ "$status" -eq 0 ]
	[[ "$output" == *"New password:"*"Again:"* ]]
	[[ "$output" != *tty-password-1* ]]
	[[ "$(sql "SELECT password_hash FROM principals WHERE name = 'tina'")" == '$argon2id$'* ]]
	run "$ROOT/tests/cli/pty_answer.py" "New password:" tty-password-1 "Again:" tty-password-2 -- \
		"$PLATCTL" user add tom --role viewer
	[ "$status" -eq 2 ]
	[[ "$output" == *"the two passwords differ"* ]]
	[ "$(sql "SELECT count(*) FROM principals WHERE name = 'tom'")" -eq 0 ]
}

@test "API tokens: printed once, stored as a hash, listed without the token, revoked" {
	add_people
	tok=$(as ada -- token create --name ci-upload --role editor --expires 30d)
	[[ "$tok" =~ ^plat_[0-9A-Za-z]{37}$ ]]
	# Only the SHA-256 is stored.
	[ "$(sql "SELECT encode(token_sha256, 'hex') FROM api_tokens WHERE name = 'ci-upload'")" = "$(printf %s "$tok" | sha256sum | cut -d' ' -f1)" ]
	[ "$(sql "SELECT count(*) FROM api_tokens WHERE token_sha256::text LIKE '%$tok%'")" -eq 0 ]
	# Its owner is a service account named after it, with its role.
	[ "$(sql "SELECT kind || ' ' || role FROM principals WHERE name = 'ci-upload'")" = "service editor" ]
	run --separate-stderr as audrey -- token list -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.[0] | "\(.name) \(.role) \(.principal) \(.status)"')" = "ci-upload editor ci-upload active" ]
	[[ "$output" != *"$tok"* && "$output" != *plat_* ]]
	[ "$(echo "$output" | jq -r '.[0].expires_at')" != null ]
	# A token's role cannot exceed its principal's.
	run --separate-stderr as ada -- token create --name vera-admin --role admin --principal vera
	[ "$status" -eq 6 ]
	[[ "$stderr" == *"cannot have the admin role"* ]]
	run --separate-stderr as ada -- token create --name vera-ro --role viewer --principal vera -o json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.principal, .role' | tr '\n' ' ')" = "vera viewer " ]
	[[ "$(echo "$output" | jq -r .token)" == plat_* ]]
	run --separate-stderr as ada -- token create --name ci-upload --role editor
	[ "$status" -eq 6 ]
	as ada -- token revoke ci-upload >/dev/null
	[ "$(as ada -- token list -o json | jq -r '.[] | select(.name == "ci-upload") | .status')" = revoked ]
	run --separate-stderr as ada -- token revoke ci-upload
	[ "$status" -eq 5 ]
	# The tokens never reach a log line or an audit row.
	[ "$(sql "SELECT count(*) FROM audit_log WHERE details::text LIKE '%plat\_%'")" -eq 0 ]
	[ "$(sql "SELECT string_agg(action, ' ' ORDER BY id) FROM audit_log WHERE object_type = 'token'")" = "token.create token.create token.revoke" ]
}

@test "bad inputs of user, tenant and token get exit 2 and a clear message" {
	add_people
	run --separate-stderr as ada -- user add zed
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"'--role' is required"* ]]
	run --separate-stderr as ada -- user add zed --role root
	[ "$status" -eq 2 ]
	for name in system .zed 'z d' 'z/d' "$(printf 'z%.0s' {1..65})"; do
		run --separate-stderr as ada -- user add "$name" --role viewer --no-password
		[ "$status" -eq 2 ] || { echo "name '$name': $status"; false; }
		[[ "$stderr" == *"option '--name'"* || "$stderr" == *"principal name"* ]]
	done
	run --separate-stderr as ada -- user add zed --role viewer --no-password --email not-an-address
	[ "$status" -eq 2 ]
	run --separate-stderr as ada -- user add ed --role viewer --no-password
	[ "$status" -eq 6 ]
	[[ "$stderr" == *"principal 'ed' already exists"* ]]
	# No terminal and no --password-stdin: nothing to prompt on.
	run --separate-stderr bash -c "PLATCTL_PRINCIPAL=ada setsid '$PLATCTL' user add zed --role viewer </dev/null"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--password-stdin"* ]]
	run --separate-stderr bash -c "printf short | PLATCTL_PRINCIPAL=ada '$PLATCTL' user add zed --role viewer --password-stdin"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"shorter than 8"* ]]
	run --separate-stderr bash -c "head -c 2000 /dev/zero | tr '\\0' x | PLATCTL_PRINCIPAL=ada '$PLATCTL' user add zed --role viewer --password-stdin"
	[ "$status" -eq 2 ]
	run --separate-stderr as ada -- user add zed --role viewer --service --password-stdin
	[ "$status" -eq 2 ]
	[ "$(sql "SELECT count(*) FROM principals WHERE name = 'zed'")" -eq 0 ]
	run --separate-stderr as ada -- user disable nobody
	[ "$status" -eq 5 ]
	run --separate-stderr as ada -- tenant add Globex
	[ "$status" -eq 2 ]
	run --separate-stderr as ada -- tenant add globex
	[ "$status" -eq 6 ]
	run --separate-stderr as ada -- tenant show nope
	[ "$status" -eq 5 ]
	run --separate-stderr as ada -- token create --role viewer
	[ "$status" -eq 2 ]
	for e in 0d 30 3q -1d 99999999999999999999d; do
		run --separate-stderr as ada -- token create --name t1 --role viewer --expires "$e"
		[ "$status" -eq 2 ] || { echo "expires $e: $status"; false; }
	done
	run --separate-stderr as ada -- token create --name t1 --role viewer --expires 11y
	[ "$status" -eq 2 ]
	run --separate-stderr as ada -- token create --name t1 --role viewer --principal nobody
	[ "$status" -eq 5 ]
	run --separate-stderr as ada -- token create --name ed --role editor
	[ "$status" -eq 6 ]
	[[ "$stderr" == *"'ed' is a user"* ]]
	[ "$(sql "SELECT count(*) FROM api_tokens")" -eq 0 ]
}

@test "with PostgreSQL unreachable the access commands exit 7 naming where" {
	add_people
	run --separate-stderr env PLATCTL_PRINCIPAL=ada PLATCTL_DATABASE_URL="postgresql://postgres@127.0.0.1:1/x" \
		PLATCTL_DATABASE_CONNECT_TIMEOUT=1s "$PLATCTL" user list
	[ "$status" -eq 7 ]
	[[ "$stderr" == *"127.0.0.1:1"* ]]
	run --separate-stderr env PLATCTL_PRINCIPAL=ada PLATCTL_DATABASE_URL="postgresql://postgres@127.0.0.1:1/x" \
		PLATCTL_DATABASE_CONNECT_TIMEOUT=1s "$PLATCTL" token create --name t --role viewer
	[ "$status" -eq 7 ]
	# and work again once it answers
	as ada -- token create --name t --role viewer >/dev/null
	[ "$(sql "SELECT count(*) FROM api_tokens")" -eq 1 ]
}
