#include "auth/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "auth/apitoken.h"
#include "auth/authz.h"
#include "auth/principals.h"
#include "cache/cache.h"
#include "db/db.h"
#include "mem/mem.h"

#define TOKEN_JSON                                                                                           \
	"json_build_object('id', t.id, 'name', t.name, 'role', t.role, 'principal', p.name, 'created_at',"      \
	" to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'created_by', t.created_by," \
	" 'last_used_at', to_char(t.last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"          \
	" 'expires_at', to_char(t.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"              \
	" 'revoked_at', to_char(t.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"              \
	" 'status', CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked' WHEN t.expires_at <= now() THEN 'expired'" \
	" ELSE 'active' END)"

/* Whether a principal with role owner may hold a token with role r. */
static bool role_covers(enum plat_role owner, enum plat_role r)
{
	return owner == r || owner == PLAT_ROLE_ADMIN ||
	       (r == PLAT_ROLE_VIEWER && (owner == PLAT_ROLE_EDITOR || owner == PLAT_ROLE_AUDITOR));
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The owner of a new token: the named principal, or the service account named after the
 * token (made, with the token's role, when missing). Fills owner_id. */
static int token_owner(struct plat_svc *svc, const struct plat_new_token *nt, enum plat_role role, char owner_id[37],
		       struct plat_error *err)
{
	const char *owner = nt->principal ? nt->principal : nt->name;
	const char *params[] = {svc->tenant_id, owner};
	PGresult *res;
	int rc = plat_db_exec(svc->db, "SELECT id, role, kind, disabled FROM principals WHERE tenant_id = $1::uuid AND name = $2",
			      2, params, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 1) {
		enum plat_role owner_role = plat_role_parse(PQgetvalue(res, 0, 1));
		bool disabled = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
		bool user = strcmp(PQgetvalue(res, 0, 2), "user") == 0;
		snprintf(owner_id, 37, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		if (!nt->principal && user)
			return plat_error_set(err, PLAT_E_CONFLICT,
					      "'%s' is a user: name the token's principal explicitly to give it a token", owner);
		if (disabled)
			return plat_error_set(err, PLAT_E_CONFLICT, "principal '%s' is disabled", owner);
		if (!role_covers(owner_role, role))
			return plat_error_set(err, PLAT_E_CONFLICT, "a token of '%s' (%s) cannot have the %s role", owner,
					      plat_role_name(owner_role), plat_role_name(role));
		return 0;
	}
	PQclear(res);
	if (nt->principal)
		return plat_error_set(err, PLAT_E_NOT_FOUND, "principal '%s' not found in tenant '%s'", owner, svc->tenant);
	const char *ins[] = {svc->tenant_id, owner, plat_role_name(role), svc->principal};
	rc = plat_db_exec(svc->db,
			  "INSERT INTO principals (tenant_id, name, kind, role, created_by) VALUES ($1::uuid, $2, 'service', $3, $4)"
			  " RETURNING id",
			  4, ins, &res, err);
	if (rc == 0) {
		snprintf(owner_id, 37, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		char details[160];
		snprintf(details, sizeof(details), "{\"name\": \"%s\", \"role\": \"%s\", \"kind\": \"service\"}", owner,
			 plat_role_name(role));
		rc = plat_audit_append(svc->db, svc->tenant_id, svc->principal, "principal.add", "principal", owner_id,
				       svc->request_id, details, err);
	}
	return rc;
}

int plat_tokens_create(struct plat_svc *svc, const struct plat_new_token *nt, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "token.create", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	const char *problem = plat_principal_name_problem(nt->name);
	if (problem) {
		plat_error_set(err, PLAT_E_USAGE, "a token name %s", problem);
		return plat_error_param(err, "name");
	}
	enum plat_role role = plat_role_parse(nt->role);
	if (role == PLAT_ROLE_NONE) {
		plat_error_set(err, PLAT_E_USAGE, "unknown role '%s' (admin, editor, viewer or auditor)", nt->role ? nt->role : "");
		return plat_error_param(err, "role");
	}
	if (nt->expires_in < 0 || nt->expires_in > 10LL * 365 * 86400) {
		plat_error_set(err, PLAT_E_USAGE, "a token expires within 10 years");
		return plat_error_param(err, "expires");
	}
	if (svc->bootstrap)
		return plat_error_set(err, PLAT_E_CONFLICT,
				      "tenant '%s' has no principals yet: add its first admin before any token, or nobody "
				      "could administer it afterwards",
				      svc->tenant);
	char token[PLAT_APITOKEN_LEN + 1];
	unsigned char sha[PLAT_APITOKEN_SHA256_LEN];
	if ((rc = plat_auth_apitoken_generate(token, sha, err)) < 0)
		return rc;
	char sha_hex[2 * PLAT_APITOKEN_SHA256_LEN + 1], expires[32];
	hex(sha, sizeof(sha), sha_hex);
	snprintf(expires, sizeof(expires), "%lld", nt->expires_in);
	char owner_id[37] = "";
	if ((rc = plat_db_begin(svc->db, err)) < 0)
		goto out;
	rc = token_owner(svc, nt, role, owner_id, err);
	PGresult *res = NULL;
	if (rc == 0) {
		const char *params[] = {svc->tenant_id, owner_id, nt->name, sha_hex, plat_role_name(role), expires,
					svc->principal};
		rc = plat_db_exec(svc->db,
				  "WITH t AS (INSERT INTO api_tokens (tenant_id, principal_id, name, token_sha256, role, expires_at,"
				  " created_by) VALUES ($1::uuid, $2::uuid, $3, decode($4, 'hex'), $5, CASE WHEN $6::bigint > 0"
				  " THEN now() + $6::bigint * interval '1 second' END, $7) RETURNING *)"
				  " SELECT " TOKEN_JSON "::text, t.id FROM t JOIN principals p ON p.id = t.principal_id",
				  7, params, &res, err);
		if (rc == -PLAT_E_CONFLICT)
			rc = plat_error_set(err, PLAT_E_CONFLICT, "a live token named '%s' exists in tenant '%s' (revoke it first)",
					    nt->name, svc->tenant);
	}
	cJSON *row = NULL;
	if (rc == 0) {
		row = cJSON_Parse(PQgetvalue(res, 0, 0));
		char details[200];
		snprintf(details, sizeof(details), "{\"name\": \"%s\", \"role\": \"%s\", \"expires_in\": %lld}", nt->name,
			 plat_role_name(role), nt->expires_in);
		rc = plat_audit_append(svc->db, svc->tenant_id, svc->principal, "token.create", "token", PQgetvalue(res, 0, 1),
				       svc->request_id, details, err);
	}
	PQclear(res);
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	if (rc < 0) {
		plat_db_rollback(svc->db);
		cJSON_Delete(row);
		goto out;
	}
	cJSON_AddStringToObject(row, "token", token);
	*out = row;
out:
	plat_wipe(token, sizeof(token));
	return rc;
}

int plat_tokens_list(struct plat_svc *svc, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "token.list", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	const char *params[] = {svc->tenant_id};
	return plat_db_query_json(svc->db,
				  "SELECT coalesce(json_agg(" TOKEN_JSON " ORDER BY t.created_at, t.id), '[]')::text"
				  " FROM api_tokens t JOIN principals p ON p.id = t.principal_id WHERE t.tenant_id = $1::uuid",
				  1, params, out, err);
}

int plat_tokens_revoke(struct plat_svc *svc, const char *name_or_id, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "token.revoke", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	if ((rc = plat_db_begin(svc->db, err)) < 0)
		return rc;
	const char *params[] = {svc->tenant_id, name_or_id};
	PGresult *res = NULL;
	rc = plat_db_exec(svc->db,
			  "WITH t AS (UPDATE api_tokens SET revoked_at = now() WHERE tenant_id = $1::uuid AND revoked_at IS NULL"
			  " AND (name = $2 OR id::text = lower($2)) RETURNING *)"
			  " SELECT " TOKEN_JSON "::text, t.id, t.name FROM t JOIN principals p ON p.id = t.principal_id",
			  2, params, &res, err);
	if (rc == 0 && PQntuples(res) == 0)
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "no live token '%s' in tenant '%s'", name_or_id, svc->tenant);
	cJSON *row = NULL;
	if (rc == 0) {
		row = cJSON_Parse(PQgetvalue(res, 0, 0));
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "name", PQgetvalue(res, 0, 2));
		char *ds = cJSON_PrintUnformatted(d);
		rc = plat_audit_append(svc->db, svc->tenant_id, svc->principal, "token.revoke", "token", PQgetvalue(res, 0, 1),
				       svc->request_id, ds, err);
		cJSON_free(ds);
		cJSON_Delete(d);
	}
	PQclear(res);
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	if (rc < 0) {
		plat_db_rollback(svc->db);
		cJSON_Delete(row);
		return rc;
	}
	*out = row;
	return 0;
}

/* What a cached token lookup holds. */
struct cached_token {
	struct plat_auth_result res;
	char principal_id[37];
};

int plat_tokens_cache_lookup(struct plat_cache *cache, const char *token, struct plat_auth_result *res,
			     char principal_id[37], struct plat_tokens_cache_key *key, struct plat_error *err)
{
	memset(res, 0, sizeof(*res));
	principal_id[0] = '\0';
	int rc = plat_auth_apitoken_check(token, res, err);
	if (rc < 0)
		return rc;
	unsigned char sha[PLAT_APITOKEN_SHA256_LEN];
	char sha_hex[2 * PLAT_APITOKEN_SHA256_LEN + 1];
	plat_auth_apitoken_hash(token, sha);
	hex(sha, sizeof(sha), sha_hex);
	snprintf(key->key, sizeof(key->key), PLAT_CACHE_TOKEN "%s", sha_hex);
	key->hash_hex = key->key + strlen(PLAT_CACHE_TOKEN);
	key->generation = 0;
	struct cached_token *hit = NULL;
	size_t len;
	if (!cache || !plat_cache_get(cache, key->key, (void **)&hit, &len, &key->generation))
		return 0;
	if (len != sizeof(*hit)) {
		free(hit);
		return 0;
	}
	if (hit->res.expires_at && hit->res.expires_at <= (long long)time(NULL)) {
		free(hit);
		return plat_auth_refuse(err, res, PLAT_AUTH_R_EXPIRED);
	}
	*res = hit->res;
	memcpy(principal_id, hit->principal_id, sizeof(hit->principal_id));
	free(hit);
	return 1;
}

void plat_tokens_cache_remember(struct plat_cache *cache, const struct plat_tokens_cache_key *key,
				const struct plat_auth_result *res, const char principal_id[37])
{
	if (!cache)
		return;
	struct cached_token put = {.res = *res};
	memcpy(put.principal_id, principal_id, sizeof(put.principal_id));
	long long ttl = res->expires_at ? (res->expires_at - (long long)time(NULL)) * 1000 : 0;
	if (!res->expires_at || ttl > 0)
		plat_cache_put(cache, key->key, &put, sizeof(put), key->generation, ttl);
}

int plat_tokens_authenticate(struct plat_svc *svc, const char *token, struct plat_auth_result *res,
			     char principal_id[37], struct plat_error *err)
{
	/* The server's cache, keyed by the token's hash (never the token): a valid token is
	 * looked up once, until a change to tokens or principals empties it (migration 0014). */
	struct plat_cache *cache = plat_services_cache(svc->services);
	struct plat_tokens_cache_key key;
	int rc = plat_tokens_cache_lookup(cache, token, res, principal_id, &key, err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	/* A miss (or no cache): the database, from here on. */
	if ((rc = plat_svc_enter(svc, "auth.verify", PLAT_NEEDS_DB, err)) < 0)
		return rc;
	const char *params[] = {key.hash_hex};
	PGresult *r;
	rc = plat_db_exec(svc->db,
			  "SELECT token_id, tenant, principal, principal_id, role, principal_disabled, revoked,"
			  " coalesce(extract(epoch FROM expires_at)::bigint, 0), expires_at <= now()"
			  " FROM platctl_api_token_lookup(decode($1, 'hex'))",
			  1, params, &r, err);
	if (rc < 0)
		return rc;
	enum plat_auth_reason reason = PLAT_AUTH_OK;
	if (PQntuples(r) == 0)
		reason = PLAT_AUTH_R_UNKNOWN;
	else if (strcmp(PQgetvalue(r, 0, 6), "t") == 0 || strcmp(PQgetvalue(r, 0, 5), "t") == 0)
		reason = PLAT_AUTH_R_REVOKED;
	else if (strcmp(PQgetvalue(r, 0, 8), "t") == 0)
		reason = PLAT_AUTH_R_EXPIRED;
	if (reason != PLAT_AUTH_OK) {
		PQclear(r);
		return plat_auth_refuse(err, res, reason);
	}
	res->kind = PLAT_AUTH_API_TOKEN;
	snprintf(res->token_id, sizeof(res->token_id), "%s", PQgetvalue(r, 0, 0));
	snprintf(res->tenant, sizeof(res->tenant), "%s", PQgetvalue(r, 0, 1));
	snprintf(res->subject, sizeof(res->subject), "%s", PQgetvalue(r, 0, 2));
	snprintf(principal_id, 37, "%s", PQgetvalue(r, 0, 3));
	snprintf(res->role, sizeof(res->role), "%s", PQgetvalue(r, 0, 4));
	res->expires_at = atoll(PQgetvalue(r, 0, 7));
	res->reason = PLAT_AUTH_OK;
	PQclear(r);
	plat_tokens_cache_remember(cache, &key, res, principal_id);
	return 0;
}
