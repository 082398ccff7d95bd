/* API tokens as a service: create (the token is returned once; only its SHA-256 is kept),
 * list, revoke, and authenticate a presented token for the server and remote mode.
 *
 * A token belongs to a principal and carries its own role, which must be one the
 * principal's role covers (an admin's covers all; editor and auditor cover viewer). By
 * default the principal is a service account named after the token, made on the way. */
#ifndef PLAT_AUTH_TOKENS_H
#define PLAT_AUTH_TOKENS_H

#include <cjson/cJSON.h>

#include "auth/auth.h"
#include "error/error.h"
#include "svc/svc.h"

struct plat_new_token {
	const char *name;      /* 1-64 characters, as principal names */
	const char *role;      /* admin, editor, viewer, auditor */
	const char *principal; /* NULL: a service account named after the token */
	long long expires_in;  /* seconds; 0: never expires */
};

/* {id, name, role, principal, created_at, expires_at, token}: "token" is the secret, shown
 * this once. Operation token.create. */
int plat_tokens_create(struct plat_svc *svc, const struct plat_new_token *nt, cJSON **out, struct plat_error *err);
/* [{id, name, role, principal, created_at, created_by, last_used_at, expires_at,
 * revoked_at, status}] with status active, expired or revoked; never the token or its
 * hash. Operation token.list. */
int plat_tokens_list(struct plat_svc *svc, cJSON **out, struct plat_error *err);
/* By name (the live token of that name) or id. Operation token.revoke. */
int plat_tokens_revoke(struct plat_svc *svc, const char *name_or_id, cJSON **out, struct plat_error *err);

/* Check a presented API token: format and checksum first (no database for junk), then its
 * hash in the store, through a SECURITY DEFINER function (the tenant is not known yet, and
 * row-level security would hide the row). Revoked, expired, unknown tokens and tokens of
 * a disabled principal are refused with PLAT_E_AUTH "invalid token", the reason in
 * res->reason. On success res has kind, subject (principal), tenant, role, token_id and
 * expires_at, and res_principal_id the principal's id (37 bytes). Operation auth.verify. */
int plat_tokens_authenticate(struct plat_svc *svc, const char *token, struct plat_auth_result *res,
			     char principal_id[37], struct plat_error *err);

/* plat_tokens_authenticate's first half, and all of it on a server's repeated request:
 * format, checksum, hash, then cache (may be NULL). 1: a hit (res and principal_id
 * filled); 0: a miss, key filled for the lookup and plat_tokens_cache_remember; < 0:
 * refused (malformed, bad checksum, or a cached token that has since expired). */
struct plat_cache;
struct plat_tokens_cache_key {
	char key[80];         /* PLAT_CACHE_TOKEN + the hash in hex */
	const char *hash_hex; /* inside key */
	unsigned long long generation;
};
int plat_tokens_cache_lookup(struct plat_cache *cache, const char *token, struct plat_auth_result *res,
			     char principal_id[37], struct plat_tokens_cache_key *key, struct plat_error *err);
/* Remember a verified token until its expiry at the latest (none if it has expired). */
void plat_tokens_cache_remember(struct plat_cache *cache, const struct plat_tokens_cache_key *key,
				const struct plat_auth_result *res, const char principal_id[37]);

#endif
