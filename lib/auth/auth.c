/* The verifiers' shared refusal and reason names. */
#include <string.h>

#include "auth/auth.h"
#include "auth/authz.h"

static const char *const reason_names[PLAT_AUTH_R__COUNT] = {
	[PLAT_AUTH_OK] = "ok",
	[PLAT_AUTH_R_MALFORMED] = "malformed",
	[PLAT_AUTH_R_TOO_LONG] = "too_long",
	[PLAT_AUTH_R_CHECKSUM] = "bad_checksum",
	[PLAT_AUTH_R_ALG_NONE] = "alg_none",
	[PLAT_AUTH_R_ALG_HMAC] = "alg_hmac",
	[PLAT_AUTH_R_ALG_MISMATCH] = "alg_mismatch",
	[PLAT_AUTH_R_UNKNOWN_KID] = "unknown_kid",
	[PLAT_AUTH_R_BAD_SIGNATURE] = "bad_signature",
	[PLAT_AUTH_R_EXPIRED] = "expired",
	[PLAT_AUTH_R_NOT_YET_VALID] = "not_yet_valid",
	[PLAT_AUTH_R_ISSUER] = "wrong_issuer",
	[PLAT_AUTH_R_AUDIENCE] = "wrong_audience",
	[PLAT_AUTH_R_TYPE] = "wrong_type",
	[PLAT_AUTH_R_CLAIMS] = "bad_claims",
	[PLAT_AUTH_R_NO_TENANT] = "no_tenant",
	[PLAT_AUTH_R_NO_ROLE] = "no_role",
	[PLAT_AUTH_R_UNKNOWN] = "unknown_token",
	[PLAT_AUTH_R_REVOKED] = "revoked",
	[PLAT_AUTH_R_REUSED] = "reused",
	[PLAT_AUTH_R_KEYS_UNAVAILABLE] = "keys_unavailable",
};

const char *plat_auth_reason_name(enum plat_auth_reason r)
{
	return (unsigned)r < PLAT_AUTH_R__COUNT && reason_names[r] ? reason_names[r] : "unknown";
}

int plat_auth_role_valid(const char *role)
{
	/* The role names are the permission table's (authz.c), not a list of their own. */
	return plat_role_parse(role) != PLAT_ROLE_NONE;
}

int plat_auth_refuse(struct plat_error *err, struct plat_auth_result *res, enum plat_auth_reason r)
{
	if (res) {
		/* Nothing of a refused token survives in the result. */
		memset(res, 0, sizeof(*res));
		res->reason = r;
	}
	/* The unavailable case is the server's problem, not the token's: 503, still no detail. */
	if (r == PLAT_AUTH_R_KEYS_UNAVAILABLE)
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "token verification is unavailable");
	return plat_error_set(err, PLAT_E_AUTH, PLAT_AUTH_INVALID_MSG);
}
