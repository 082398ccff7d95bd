/* Refresh tokens (see refresh.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/jws.h"
#include "auth/refresh.h"
#include "db/db.h"
#include "hash/hash.h"

/* bytea as a text parameter: "\x" and 64 hex digits. */
static void sha256_param(const char *token, char out[67])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
	out[0] = '\\';
	out[1] = 'x';
	plat_hex(md, sizeof(md), out + 2);
}

static int new_token(char token[PLAT_REFRESH_TOKEN_LEN + 1], char hash[67], struct plat_error *err)
{
	unsigned char rnd[32];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return plat_error_set(err, PLAT_E_INTERNAL, "generating a token: the random source failed");
	memcpy(token, PLAT_REFRESH_PREFIX, 6);
	plat_b64url_encode(rnd, sizeof(rnd), token + 6);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	sha256_param(token, hash);
	return 0;
}

static bool well_formed(const char *token)
{
	if (!token || strnlen(token, PLAT_REFRESH_TOKEN_LEN + 1) != PLAT_REFRESH_TOKEN_LEN ||
	    memcmp(token, PLAT_REFRESH_PREFIX, 6))
		return false;
	unsigned char raw[40];
	return plat_b64url_decode(token + 6, 43, raw) == 32;
}

static void copy_field(char *dst, size_t n, PGresult *r, int col)
{
	snprintf(dst, n, "%s", PQgetvalue(r, 0, col));
}

/* INSERT one row; family NULL starts a new family (its id is the row's own). */
static int insert_token(struct plat_db *db, const char *tenant_id, const char *principal_id, const char *family,
			const char *parent, long long ttl_s, char token[PLAT_REFRESH_TOKEN_LEN + 1],
			struct plat_auth_refresh_info *info, struct plat_error *err)
{
	char hash[67], ttl[24];
	if (new_token(token, hash, err) < 0)
		return -err->kind;
	snprintf(ttl, sizeof(ttl), "%lld", ttl_s);
	const char *params[] = {tenant_id, principal_id, family, parent, hash, ttl};
	PGresult *r;
	int rc = plat_db_exec(db,
			      "WITH n AS (SELECT gen_random_uuid() AS id)"
			      " INSERT INTO refresh_tokens (id, tenant_id, principal_id, family_id, parent_id,"
			      "   token_sha256, expires_at)"
			      " SELECT n.id, $1, $2, coalesce($3::uuid, n.id), $4, $5::bytea,"
			      "   now() + make_interval(secs => $6::bigint) FROM n"
			      " RETURNING id, family_id, tenant_id, principal_id, extract(epoch FROM expires_at)::bigint",
			      6, params, &r, err);
	if (rc < 0) {
		OPENSSL_cleanse(token, PLAT_REFRESH_TOKEN_LEN);
		token[0] = '\0';
		return rc;
	}
	struct plat_auth_refresh_info tmp, *i = info ? info : &tmp;
	copy_field(i->id, sizeof(i->id), r, 0);
	copy_field(i->family_id, sizeof(i->family_id), r, 1);
	copy_field(i->tenant_id, sizeof(i->tenant_id), r, 2);
	copy_field(i->principal_id, sizeof(i->principal_id), r, 3);
	i->expires_at = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
	PQclear(r);
	return 0;
}

int plat_auth_refresh_issue(struct plat_db *db, const char *tenant_id, const char *principal_id, long long ttl_s,
			    char token[PLAT_REFRESH_TOKEN_LEN + 1], struct plat_auth_refresh_info *info,
			    struct plat_error *err)
{
	if (ttl_s <= 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "refresh token lifetime must be positive");
	return insert_token(db, tenant_id, principal_id, NULL, NULL, ttl_s, token, info, err);
}

static int revoke_family(struct plat_db *db, const char *family, struct plat_error *err)
{
	const char *params[] = {family};
	return plat_db_exec(db, "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
			    1, params, NULL, err);
}

int plat_auth_refresh_rotate(struct plat_db *db, const char *token, long long ttl_s,
			     char new_token_out[PLAT_REFRESH_TOKEN_LEN + 1], struct plat_auth_refresh_info *info,
			     struct plat_auth_result *res, struct plat_error *err)
{
	if (res)
		memset(res, 0, sizeof(*res));
	new_token_out[0] = '\0';
	if (ttl_s <= 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "refresh token lifetime must be positive");
	if (!well_formed(token))
		return plat_auth_refuse(err, res, PLAT_AUTH_R_MALFORMED);
	char hash[67];
	sha256_param(token, hash);
	if (plat_db_begin(db, err) < 0)
		return -err->kind;
	const char *params[] = {hash};
	PGresult *r;
	int rc = plat_db_exec(db,
			      "SELECT id, family_id, tenant_id, principal_id, used_at IS NOT NULL,"
			      "   revoked_at IS NOT NULL, expires_at <= now()"
			      " FROM refresh_tokens WHERE token_sha256 = $1::bytea FOR UPDATE",
			      1, params, &r, err);
	if (rc < 0) {
		plat_db_rollback(db);
		return rc;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		plat_db_rollback(db);
		return plat_auth_refuse(err, res, PLAT_AUTH_R_UNKNOWN);
	}
	char id[PLAT_UUID_LEN + 1], family[PLAT_UUID_LEN + 1], tenant[PLAT_UUID_LEN + 1], principal[PLAT_UUID_LEN + 1];
	copy_field(id, sizeof(id), r, 0);
	copy_field(family, sizeof(family), r, 1);
	copy_field(tenant, sizeof(tenant), r, 2);
	copy_field(principal, sizeof(principal), r, 3);
	bool used = !strcmp(PQgetvalue(r, 0, 4), "t"), revoked = !strcmp(PQgetvalue(r, 0, 5), "t"),
	     expired = !strcmp(PQgetvalue(r, 0, 6), "t");
	PQclear(r);
	if (revoked || expired) {
		plat_db_rollback(db);
		return plat_auth_refuse(err, res, revoked ? PLAT_AUTH_R_REVOKED : PLAT_AUTH_R_EXPIRED);
	}
	if (used) {
		/* Reuse: the revocation must stick although the call fails. */
		if (revoke_family(db, family, err) < 0 || plat_db_commit(db, err) < 0) {
			plat_db_rollback(db);
			return -err->kind;
		}
		return plat_auth_refuse(err, res, PLAT_AUTH_R_REUSED);
	}
	const char *idp[] = {id};
	if (plat_db_exec(db, "UPDATE refresh_tokens SET used_at = now() WHERE id = $1", 1, idp, NULL, err) < 0 ||
	    insert_token(db, tenant, principal, family, id, ttl_s, new_token_out, info, err) < 0 ||
	    plat_db_commit(db, err) < 0) {
		plat_db_rollback(db);
		OPENSSL_cleanse(new_token_out, PLAT_REFRESH_TOKEN_LEN);
		new_token_out[0] = '\0';
		return -err->kind;
	}
	if (res) {
		res->kind = PLAT_AUTH_REFRESH;
		snprintf(res->subject, sizeof(res->subject), "%s", principal);
		if (info) {
			snprintf(res->token_id, sizeof(res->token_id), "%s", info->id);
			res->expires_at = info->expires_at;
		}
	}
	return 0;
}

int plat_auth_refresh_revoke(struct plat_db *db, const char *token, struct plat_auth_result *res,
			     struct plat_error *err)
{
	if (res)
		memset(res, 0, sizeof(*res));
	if (!well_formed(token))
		return plat_auth_refuse(err, res, PLAT_AUTH_R_MALFORMED);
	char hash[67];
	sha256_param(token, hash);
	const char *params[] = {hash};
	PGresult *r;
	int rc = plat_db_exec(db,
			      "UPDATE refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND family_id ="
			      " (SELECT family_id FROM refresh_tokens WHERE token_sha256 = $1::bytea)"
			      " RETURNING id",
			      1, params, &r, err);
	if (rc < 0)
		return rc;
	PQclear(r);
	/* Revoking a revoked family again is fine; an unknown token is not. */
	rc = plat_db_exec(db, "SELECT 1 FROM refresh_tokens WHERE token_sha256 = $1::bytea", 1, params, &r, err);
	if (rc < 0)
		return rc;
	bool known = PQntuples(r) == 1;
	PQclear(r);
	return known ? 0 : plat_auth_refuse(err, res, PLAT_AUTH_R_UNKNOWN);
}

int plat_auth_refresh_revoke_principal(struct plat_db *db, const char *principal_id, long long *n,
				       struct plat_error *err)
{
	const char *params[] = {principal_id};
	PGresult *r;
	int rc = plat_db_exec(db,
			      "UPDATE refresh_tokens SET revoked_at = now() WHERE principal_id = $1 AND revoked_at IS NULL",
			      1, params, &r, err);
	if (rc < 0)
		return rc;
	if (n)
		*n = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}
