/* Bearer token verification for the server and remote mode: API tokens (apitoken.h),
 * access tokens platctl signs for local accounts (localjwt.h), rotating refresh tokens
 * (refresh.h) and access tokens from an external OIDC issuer (oidc.h).
 *
 * Every verifier fills the same result. A refusal is always PLAT_E_AUTH with the one
 * message "invalid token": what was wrong (a reason code, for the server's log) is in the
 * result, never in the message, so a client probing with forged tokens learns nothing. */
#ifndef PLAT_AUTH_H
#define PLAT_AUTH_H

#include <stddef.h>

#include "error/error.h"

#define PLAT_AUTH_INVALID_MSG "invalid token"

enum plat_auth_kind {
	PLAT_AUTH_NONE = 0,
	PLAT_AUTH_API_TOKEN,
	PLAT_AUTH_LOCAL,   /* Ed25519 access token signed by this platctl */
	PLAT_AUTH_OIDC,    /* access token of the external issuer */
	PLAT_AUTH_REFRESH, /* a refresh token that was rotated */
};

/* Why a token was refused: for logs and metrics only, never for the client. */
enum plat_auth_reason {
	PLAT_AUTH_OK = 0,
	PLAT_AUTH_R_MALFORMED,        /* not a token of this kind: shape, base64, JSON */
	PLAT_AUTH_R_TOO_LONG,         /* refused on size before any parsing */
	PLAT_AUTH_R_CHECKSUM,         /* an API token whose checksum does not match */
	PLAT_AUTH_R_ALG_NONE,
	PLAT_AUTH_R_ALG_HMAC,         /* HS256/384/512: never accepted */
	PLAT_AUTH_R_ALG_MISMATCH,     /* header alg is not the algorithm of the key */
	PLAT_AUTH_R_UNKNOWN_KID,
	PLAT_AUTH_R_BAD_SIGNATURE,
	PLAT_AUTH_R_EXPIRED,
	PLAT_AUTH_R_NOT_YET_VALID,    /* nbf or iat in the future */
	PLAT_AUTH_R_ISSUER,
	PLAT_AUTH_R_AUDIENCE,
	PLAT_AUTH_R_TYPE,             /* typ is not what this verifier accepts */
	PLAT_AUTH_R_CLAIMS,           /* a required claim missing or of the wrong type */
	PLAT_AUTH_R_NO_TENANT,
	PLAT_AUTH_R_NO_ROLE,
	PLAT_AUTH_R_UNKNOWN,          /* not in the store (API token, refresh token) */
	PLAT_AUTH_R_REVOKED,
	PLAT_AUTH_R_REUSED,           /* a used refresh token presented again: family revoked */
	PLAT_AUTH_R_KEYS_UNAVAILABLE, /* the issuer's JWKS could not be fetched */
	PLAT_AUTH_R__COUNT
};

#define PLAT_AUTH_SUBJECT_MAX 256
#define PLAT_AUTH_TENANT_MAX 64
#define PLAT_AUTH_ROLE_MAX 16
#define PLAT_AUTH_ID_MAX 64

struct plat_auth_result {
	enum plat_auth_kind kind;
	char subject[PLAT_AUTH_SUBJECT_MAX]; /* sub, or the API token's principal */
	char tenant[PLAT_AUTH_TENANT_MAX];   /* tenant name */
	char role[PLAT_AUTH_ROLE_MAX];       /* admin, editor, viewer, auditor */
	char token_id[PLAT_AUTH_ID_MAX];     /* jti; empty when the token has none */
	long long expires_at;                /* Unix seconds; 0: does not expire */
	enum plat_auth_reason reason;        /* PLAT_AUTH_OK, or why it was refused */
};

/* Stable snake_case name of a reason ("bad_signature"), for logs. */
const char *plat_auth_reason_name(enum plat_auth_reason r);

/* Whether a role name is one of platctl's four. */
int plat_auth_role_valid(const char *role);

/* Refuse: res is cleared but for res->reason = r (res may be NULL); err is PLAT_E_AUTH
 * "invalid token", or PLAT_E_UNAVAILABLE for PLAT_AUTH_R_KEYS_UNAVAILABLE (the server's
 * fault: 503, equally without detail). Returns -err->kind. */
int plat_auth_refuse(struct plat_error *err, struct plat_auth_result *res, enum plat_auth_reason r);

#endif
