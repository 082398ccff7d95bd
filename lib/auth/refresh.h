/* Rotating refresh tokens for local accounts, stored hashed in refresh_tokens (migration
 * 0005): "platr_" + 43 base64url characters of 256 random bits, opaque to the client.
 *
 * A login issues the first token of a new family. Each refresh presents the current token
 * and gets its child: in one transaction the presented row is locked (FOR UPDATE), marked
 * used, and the child inserted with the same family. A token already used that is
 * presented again means two parties hold the family (one of them stole it): the whole
 * family is revoked, committed, and the call refused, so both the thief and the victim must
 * log in again. Two concurrent refreshes of one token count as reuse too.
 *
 * The caller checks that the principal still exists and is enabled, and issues the new
 * access token. */
#ifndef PLAT_AUTH_REFRESH_H
#define PLAT_AUTH_REFRESH_H

#include "auth/auth.h"

struct plat_db; /* db/db.h: not included, so a command may include this header */

#define PLAT_REFRESH_PREFIX "platr_"
#define PLAT_REFRESH_TOKEN_LEN (6 + 43)
#define PLAT_UUID_LEN 36

struct plat_auth_refresh_info {
	char id[PLAT_UUID_LEN + 1];        /* the new token's row */
	char family_id[PLAT_UUID_LEN + 1];
	char tenant_id[PLAT_UUID_LEN + 1];
	char principal_id[PLAT_UUID_LEN + 1];
	long long expires_at;              /* Unix seconds */
};

/* The first token of a new family, valid ttl_s seconds. */
int plat_auth_refresh_issue(struct plat_db *db, const char *tenant_id, const char *principal_id, long long ttl_s,
			    char token[PLAT_REFRESH_TOKEN_LEN + 1], struct plat_auth_refresh_info *info,
			    struct plat_error *err);

/* Exchange token for new_token (valid ttl_s seconds). Refusals are PLAT_E_AUTH "invalid
 * token" with res->reason: malformed, unknown_token, expired, revoked, or reused (the
 * family is revoked by then). On success res->kind is PLAT_AUTH_REFRESH, res->subject the
 * principal id, res->token_id the new row's id, and info names the ids. res may be NULL. */
int plat_auth_refresh_rotate(struct plat_db *db, const char *token, long long ttl_s,
			     char new_token[PLAT_REFRESH_TOKEN_LEN + 1], struct plat_auth_refresh_info *info,
			     struct plat_auth_result *res, struct plat_error *err);

/* Logout: revoke the family of token. Unknown tokens are refused like rotate's. */
int plat_auth_refresh_revoke(struct plat_db *db, const char *token, struct plat_auth_result *res,
			     struct plat_error *err);

/* Revoke every family of a principal (password change, user disable). *n: how many
 * tokens were revoked (may be NULL). */
int plat_auth_refresh_revoke_principal(struct plat_db *db, const char *principal_id, long long *n,
				       struct plat_error *err);

#endif
