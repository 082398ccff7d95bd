#!/usr/bin/env bats
# platctl serve accepting an external OIDC issuer's access tokens (auth.oidc.*): verified
# against the issuer's JWKS (here a file, signed by tests/services/jwt_issuer.py), the role
# mapped from its groups, its tenant from its claim; forgeries, other audiences or issuers,
# expired tokens and unknown tenants refused with the one "invalid token"; a principal an
# admin linked to the subject and disabled is refused at once.
load helpers

setup_file() {
	pg_setup_file
}

teardown_file() {
	pg_teardown_file
}

setup() {
	pipeline_setup
	ISSUER_DIR="$BATS_TEST_TMPDIR/issuer"
	mkdir -p "$ISSUER_DIR"
	JWT="$ROOT/tests/services/jwt_issuer.py"
	"$JWT" keys "$ISSUER_DIR"
	export PLATCTL_AUTH_OIDC_ISSUER=https://issuer.test/realms/acme PLATCTL_AUTH_OIDC_AUDIENCE=platctl-api
	export PLATCTL_AUTH_OIDC_JWKS_URL="file://$ISSUER_DIR/jwks.json" PLATCTL_AUTH_OIDC_ROLE_CLAIM=groups
	export PLATCTL_AUTH_OIDC_ROLE_MAP='platctl-admins=admin,staff=viewer'
	PLATCTL_PRINCIPAL=ada "$PLATCTL" user add ada --role admin --no-password >/dev/null
	printf 'oidc words\n' >"$BATS_TEST_TMPDIR/a.txt"
	DOC=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json upload "$BATS_TEST_TMPDIR/a.txt" | jq -r '.. | .id? // empty' | head -n 1)
	serve_start "$BATS_TEST_TMPDIR/serve.log"
}

teardown() {
	serve_stop
}

# CLAIMS [ALG] [KID]: a token with the issuer's iss and aud unless CLAIMS overrides them.
token() {
	local claims
	claims=$(jq -c --arg iss "$PLATCTL_AUTH_OIDC_ISSUER" '{iss: $iss, aud: "platctl-api", exp: "+300", tenant: "default"} + .' <<<"$1")
	"$JWT" sign "$ISSUER_DIR" "$claims" "${2:-RS256}" "${3:-k1}"
}

# STATUS TOKEN METHOD PATH [curl args]
call() {
	local code
	code=$(curl -sS -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' -H "Authorization: Bearer $2" -X "$3" "${@:5}" "$URL$4")
	body=$(cat "$BATS_TEST_TMPDIR/body")
	[ "$code" = "$1" ] || { echo "$3 $4: want $1, got $code: $body" >&2; return 1; }
}

@test "serve oidc: the issuer's token acts with its mapped role in its tenant; audit names its subject" {
	local viewer admin
	viewer=$(token '{"sub": "u-1001", "groups": ["staff"]}')
	call 200 "$viewer" GET /v1/me
	[ "$(jq -r .principal <<<"$body")" = u-1001 ]
	[ "$(jq -r .tenant <<<"$body")" = default ]
	[ "$(jq -r .role <<<"$body")" = viewer ]
	jq -e '.expires_at > 0' <<<"$body"
	call 200 "$viewer" GET "/v1/documents/$DOC"
	call 403 "$viewer" POST "/v1/documents/$DOC/hold" -H 'Content-Type: application/json' -d '{"reason":"x"}'
	admin=$(token '{"sub": "u-7", "groups": ["other", "platctl-admins"]}')
	call 200 "$admin" POST "/v1/documents/$DOC/hold" -H 'Content-Type: application/json' -d '{"reason":"case 3"}'
	[ "$(jq -r .held_by <<<"$body")" = u-7 ]
	test_psql -d "$TEST_DB" -c "SELECT principal FROM audit_log WHERE action = 'document.hold'" | grep -qx u-7
}

@test "serve oidc: forged, foreign, expired, unmapped and unknown-tenant tokens are 401 alike" {
	local t
	for t in \
		"$(token '{"sub": "u-1", "groups": ["staff"]}' HS256)" \
		"$(token '{"sub": "u-1", "groups": ["staff"]}' none)" \
		"$(token '{"sub": "u-1", "groups": ["staff"]}' RS256 k9)" \
		"$(token '{"sub": "u-1", "groups": ["staff"], "aud": "another-api"}')" \
		"$(token '{"sub": "u-1", "groups": ["staff"], "iss": "https://evil.test"}')" \
		"$(token '{"sub": "u-1", "groups": ["staff"], "exp": "-120"}')" \
		"$(token '{"sub": "u-1", "groups": ["nobody"]}')" \
		"$(token '{"sub": "u-1", "groups": ["staff"], "tenant": "no-such-tenant"}')" \
		"$(token '{"groups": ["staff"]}')"; do
		call 401 "$t" GET /v1/me
		[ "$(jq -r .detail <<<"$body")" = "invalid token" ]
	done
	# Each was refused for its own reason, in the log only.
	for reason in alg_hmac alg_none unknown_kid wrong_audience wrong_issuer expired no_role no_tenant bad_claims; do
		grep -q "\"msg\":\"token refused\".*\"reason\":\"$reason\"" "$BATS_TEST_TMPDIR/serve.log" ||
			{ echo "no refusal for $reason" >&2; false; }
	done
	# A tampered payload with the original signature.
	t=$(token '{"sub": "u-1", "groups": ["staff"]}')
	local forged
	forged="$(cut -d. -f1 <<<"$t").$(printf '{"iss":"%s","aud":"platctl-api","exp":9999999999,"sub":"root","groups":["platctl-admins"],"tenant":"default"}' \
		"$PLATCTL_AUTH_OIDC_ISSUER" | base64 -w0 | tr '+/' '-_' | tr -d '=').$(cut -d. -f3 <<<"$t")"
	call 401 "$forged" GET /v1/me
	# Local tokens and API tokens still work beside them.
	local api
	api=$(PLATCTL_PRINCIPAL=ada "$PLATCTL" -o json token create --name ci --role viewer | jq -r .token)
	call 200 "$api" GET /v1/me
}

@test "serve oidc: a principal linked to the subject and disabled is refused from the next request on" {
	PLATCTL_PRINCIPAL=ada "$PLATCTL" user add carol --role viewer --no-password >/dev/null
	test_psql -d "$TEST_DB" -c "UPDATE principals SET external_subject = 'u-42' WHERE name = 'carol'"
	local t
	t=$(token '{"sub": "u-42", "groups": ["staff"]}')
	call 200 "$t" GET /v1/me
	call 200 "$t" GET /v1/me
	PLATCTL_PRINCIPAL=ada "$PLATCTL" user disable carol >/dev/null
	local code=
	for _ in $(seq 40); do
		code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" "$URL/v1/me")
		[ "$code" = 401 ] && break
		sleep 0.05
	done
	[ "$code" = 401 ]
}
