/* Access tokens from an external OIDC issuer, verified against its JWKS.
 *
 * The JWKS is fetched with libcurl (http, https or file URLs), kept in memory, shared by
 * every thread, and fetched again when a token names a kid it does not hold (the issuer
 * rotated) or when it is older than jwks_max_age_s, but never twice within
 * refetch_interval_s, so a flood of tokens with made-up kids cannot make platctl hammer
 * the issuer. A failed fetch keeps the keys already held.
 *
 * Accepted: RS256 (RSA >= 2048 bits), ES256 (P-256), EdDSA (Ed25519). The algorithm is
 * the key's (its kty/crv, and its alg when the JWK names one): a header alg that differs
 * refuses the token, as do "none" and every HS* whatever the key. RSA and EC signatures
 * are checked by cjose; Ed25519 ones by OpenSSL (cjose has no EdDSA).
 *
 * Claims: iss and aud exact, exp required, nbf and iat honoured, each with leeway_s; sub
 * required; tenant and role mapped from configured claims (below). */
#ifndef PLAT_AUTH_OIDC_H
#define PLAT_AUTH_OIDC_H

#include <stddef.h>

#include "auth/auth.h"

struct plat_auth_oidc_options {
	const char *issuer;           /* required */
	const char *audience;         /* required */
	const char *jwks_url;         /* required */
	long long leeway_s;           /* clock skew allowed; default 0 */
	long long refetch_interval_s; /* least time between two fetches; 0: 60 */
	long long jwks_max_age_s;     /* refetch keys older than this; 0: 3600 */
	long long http_timeout_ms;    /* 0: 5000 */
	size_t max_token_len;         /* refused on size before parsing; 0: 8192 */
	const char *tenant_claim;     /* NULL: "tenant" */
	const char *default_tenant;   /* when the token has no tenant claim; NULL: refuse */
	const char *role_claim;       /* NULL: "role"; a string or an array of strings */
	/* "external=role,..." (e.g. "platctl-admins=admin,staff=viewer"): the first pair whose
	 * external value the role claim holds gives the role. NULL or "": the claim holds
	 * platctl role names themselves. */
	const char *role_map;
	const char *default_role;     /* when nothing maps; NULL: refuse */
};

struct plat_auth_oidc;

/* Checks and copies the options (bad role_map, missing issuer/audience/URL, an unknown
 * default role: PLAT_E_CONFIG). Fetches nothing yet. */
int plat_auth_oidc_new(const struct plat_auth_oidc_options *o, struct plat_auth_oidc **out, struct plat_error *err);
void plat_auth_oidc_free(struct plat_auth_oidc *v);

/* Fetch the JWKS now, regardless of the interval (startup, or an operator's request). */
int plat_auth_oidc_refresh(struct plat_auth_oidc *v, struct plat_error *err);

/* Thread-safe. Refusals: PLAT_E_AUTH "invalid token" with res->reason; with no keys at all
 * because the JWKS cannot be fetched, PLAT_E_UNAVAILABLE (reason keys_unavailable). On
 * success res holds kind PLAT_AUTH_OIDC, subject, tenant, role, token_id, expires_at. */
int plat_auth_oidc_verify(struct plat_auth_oidc *v, const char *token, struct plat_auth_result *res,
			  struct plat_error *err);

struct plat_auth_oidc_stats {
	unsigned long long fetches;        /* successful */
	unsigned long long fetch_failures;
	size_t keys;                       /* usable keys held */
	char last_error[PLAT_ERROR_MSG_MAX]; /* of the last failed fetch, for the log; "" none */
};

void plat_auth_oidc_stats(struct plat_auth_oidc *v, struct plat_auth_oidc_stats *s);

#endif
