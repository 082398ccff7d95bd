/* Local accounts' tokens: the password and refresh grants, logout, and the bearer check. */
#include "auth/login.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "auth/apitoken.h"
#include "auth/authz.h"
#include "auth/localjwt.h"
#include "auth/oidc.h"
#include "auth/password.h"
#include "auth/refresh.h"
#include "auth/tokens.h"
#include "cache/cache.h"
#include "db/db.h"
#include "hash/hash.h"
#include "log/log.h"
#include "mem/mem.h"

static long long seconds(const struct plat_svc *svc, enum plat_config_key key)
{
	return plat_config_int(svc->cfg, key) / 1000;
}

/* The token response for a principal, with a new access token and the given refresh token. */
static int token_response(struct plat_svc *svc, const char *name, const char *role,
			  const char refresh[PLAT_REFRESH_TOKEN_LEN + 1], long long refresh_expires_at, cJSON **out,
			  struct plat_error *err)
{
	const struct plat_auth_keyring *kr;
	int rc = plat_svc_keyring(svc, &kr, err);
	if (rc < 0)
		return rc;
	long long ttl = seconds(svc, PLAT_CFG_AUTH_ACCESS_TOKEN_TTL);
	struct plat_auth_localjwt_claims c = {.issuer = plat_config_str(svc->cfg, PLAT_CFG_AUTH_ISSUER),
					      .subject = name,
					      .audience = plat_config_str(svc->cfg, PLAT_CFG_AUTH_AUDIENCE),
					      .tenant = svc->tenant,
					      .role = role,
					      .ttl_s = ttl > 0 ? ttl : 900};
	char *access = NULL;
	if ((rc = plat_auth_localjwt_issue(kr, &c, &access, err)) < 0)
		return rc;
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "access_token", access);
	cJSON_AddStringToObject(*out, "token_type", "Bearer");
	cJSON_AddNumberToObject(*out, "expires_in", (double)c.ttl_s);
	cJSON_AddStringToObject(*out, "refresh_token", refresh);
	cJSON_AddNumberToObject(*out, "refresh_expires_at", (double)refresh_expires_at);
	cJSON_AddStringToObject(*out, "principal", name);
	cJSON_AddStringToObject(*out, "tenant", svc->tenant);
	cJSON_AddStringToObject(*out, "role", role);
	plat_wipe(access, strlen(access));
	free(access);
	return 0;
}

static void audit_auth(struct plat_svc *svc, const char *name, const char *action, const char *principal_id)
{
	struct plat_error e = {0};
	if (plat_audit_append(svc->db, svc->tenant_id, name, action, "principal", principal_id, svc->request_id, NULL,
			      &e) < 0)
		plat_log(PLAT_LOG_WARN, "audit row not written", "action", action, "error", e.message, (const char *)NULL);
}

int plat_auth_token_password(struct plat_svc *svc, const char *name, const char *password, size_t len, cJSON **out,
			     struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "auth.token", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	if (!name || !*name || !password || len == 0 || len > PLAT_PASSWORD_MAX)
		return plat_error_set(err, PLAT_E_AUTH, PLAT_AUTH_BAD_CREDENTIALS);
	const char *params[] = {svc->tenant_id, name};
	PGresult *res;
	rc = plat_db_exec(svc->db,
			  "SELECT id, role, password_hash FROM principals WHERE tenant_id = $1::uuid AND name = $2"
			  " AND kind = 'user' AND NOT disabled AND password_hash IS NOT NULL",
			  2, params, &res, err);
	if (rc < 0)
		return rc;
	bool found = PQntuples(res) == 1;
	bool ok = false;
	if (found) {
		ok = plat_password_verify(PQgetvalue(res, 0, 2), password, len);
	} else {
		/* The same argon2 work as a real check, so the answer's timing does not tell
		 * which names exist. */
		struct plat_password_params pp = {(unsigned)plat_config_int(svc->cfg, PLAT_CFG_AUTH_ARGON2_MEMORY),
						  (unsigned)plat_config_int(svc->cfg, PLAT_CFG_AUTH_ARGON2_ITERATIONS),
						  (unsigned)plat_config_int(svc->cfg, PLAT_CFG_AUTH_ARGON2_PARALLELISM)};
		char *dummy = NULL;
		struct plat_error ignored = {0};
		plat_password_hash(&pp, password, len, &dummy, &ignored);
		free(dummy);
	}
	char principal_id[37] = "", role[PLAT_AUTH_ROLE_MAX] = "";
	if (found) {
		snprintf(principal_id, sizeof(principal_id), "%s", PQgetvalue(res, 0, 0));
		snprintf(role, sizeof(role), "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	if (!ok) {
		plat_log(PLAT_LOG_INFO, "login refused", "principal", name, "tenant", svc->tenant, "reason",
			 found ? "password" : "unknown or disabled principal", (const char *)NULL);
		if (found)
			audit_auth(svc, name, "auth.login_failed", principal_id);
		return plat_error_set(err, PLAT_E_AUTH, PLAT_AUTH_BAD_CREDENTIALS);
	}
	char refresh[PLAT_REFRESH_TOKEN_LEN + 1];
	struct plat_auth_refresh_info info;
	if ((rc = plat_auth_refresh_issue(svc->db, svc->tenant_id, principal_id, seconds(svc, PLAT_CFG_AUTH_REFRESH_TOKEN_TTL),
					  refresh, &info, err)) < 0)
		return rc;
	rc = token_response(svc, name, role, refresh, info.expires_at, out, err);
	plat_wipe(refresh, sizeof(refresh));
	if (rc == 0)
		audit_auth(svc, name, "auth.login", principal_id);
	return rc;
}

int plat_auth_token_refresh(struct plat_svc *svc, const char *refresh_token, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "auth.token", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	if (!refresh_token || !*refresh_token)
		return plat_error_set(err, PLAT_E_AUTH, PLAT_AUTH_INVALID_MSG);
	char next[PLAT_REFRESH_TOKEN_LEN + 1];
	struct plat_auth_refresh_info info;
	struct plat_auth_result res;
	if ((rc = plat_auth_refresh_rotate(svc->db, refresh_token, seconds(svc, PLAT_CFG_AUTH_REFRESH_TOKEN_TTL), next,
					   &info, &res, err)) < 0) {
		plat_log(PLAT_LOG_INFO, "refresh refused", "reason", plat_auth_reason_name(res.reason), (const char *)NULL);
		return rc;
	}
	/* The principal as it is now: a disabled one, or one gone, gets nothing. */
	const char *params[] = {svc->tenant_id, info.principal_id};
	PGresult *pr = NULL;
	rc = plat_db_exec(svc->db,
			  "SELECT name, role FROM principals WHERE tenant_id = $1::uuid AND id = $2::uuid AND NOT disabled",
			  2, params, &pr, err);
	if (rc == 0 && (PQntuples(pr) != 1 || strcmp(info.tenant_id, svc->tenant_id) != 0)) {
		long long n;
		struct plat_error ignored = {0};
		plat_auth_refresh_revoke_principal(svc->db, info.principal_id, &n, &ignored);
		rc = plat_error_set(err, PLAT_E_AUTH, PLAT_AUTH_INVALID_MSG);
	}
	if (rc == 0) {
		char name[PLAT_AUTH_SUBJECT_MAX], role[PLAT_AUTH_ROLE_MAX];
		snprintf(name, sizeof(name), "%s", PQgetvalue(pr, 0, 0));
		snprintf(role, sizeof(role), "%s", PQgetvalue(pr, 0, 1));
		rc = token_response(svc, name, role, next, info.expires_at, out, err);
		if (rc == 0)
			audit_auth(svc, name, "auth.refresh", info.principal_id);
	}
	PQclear(pr);
	plat_wipe(next, sizeof(next));
	return rc;
}

int plat_auth_token_revoke(struct plat_svc *svc, const char *refresh_token, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "auth.revoke", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	struct plat_auth_result res;
	if (!refresh_token || !*refresh_token)
		return plat_error_set(err, PLAT_E_AUTH, PLAT_AUTH_INVALID_MSG);
	if ((rc = plat_auth_refresh_revoke(svc->db, refresh_token, &res, err)) < 0)
		return rc;
	*out = cJSON_CreateObject();
	cJSON_AddBoolToObject(*out, "revoked", 1);
	return 0;
}

/* A verified token of the external issuer: its tenant must exist here, and a principal an
 * admin linked to its subject (external_subject) must not be disabled. Cached as API
 * token lookups are (keyed by the token's hash; emptied by any change to principals). */
static int external_principal(struct plat_svc *svc, const char *token, struct plat_auth_result *res,
			      char *principal_id, struct plat_error *err)
{
	struct plat_cache *cache = plat_services_cache(svc->services);
	char key[sizeof(PLAT_CACHE_TOKEN) + PLAT_SHA256_HEX_LEN + 1];
	memcpy(key, PLAT_CACHE_TOKEN, sizeof(PLAT_CACHE_TOKEN) - 1);
	plat_sha256_hex(token, strlen(token), key + sizeof(PLAT_CACHE_TOKEN) - 1);
	char *hit = NULL;
	size_t len;
	unsigned long long gen = 0;
	if (cache && plat_cache_get(cache, key, (void **)&hit, &len, &gen) && len < 37) {
		memcpy(principal_id, hit, len + 1);
		free(hit);
		return 0;
	}
	free(hit);
	int rc = plat_svc_enter(svc, "auth.verify", PLAT_NEEDS_DB, err);
	if (rc < 0)
		return rc;
	const char *params[] = {res->tenant, res->subject};
	PGresult *r;
	if ((rc = plat_db_exec(svc->db,
			       "SELECT tenant_exists, coalesce(principal_id::text, ''), disabled"
			       " FROM platctl_external_principal($1, $2)",
			       2, params, &r, err)) < 0)
		return rc;
	enum plat_auth_reason reason = PLAT_AUTH_OK;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		reason = PLAT_AUTH_R_NO_TENANT;
	else if (strcmp(PQgetvalue(r, 0, 2), "t") == 0)
		reason = PLAT_AUTH_R_REVOKED;
	else
		snprintf(principal_id, 37, "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	if (reason != PLAT_AUTH_OK)
		return plat_auth_refuse(err, res, reason);
	long long ttl = (res->expires_at - (long long)time(NULL)) * 1000;
	if (cache && ttl > 0)
		plat_cache_put(cache, key, principal_id, strlen(principal_id), gen, ttl);
	return 0;
}

int plat_auth_verify_bearer(struct plat_svc *svc, const char *token, struct plat_auth_result *res,
			    char *principal_id, struct plat_error *err)
{
	principal_id[0] = '\0';
	if (strncmp(token, PLAT_APITOKEN_PREFIX, strlen(PLAT_APITOKEN_PREFIX)) == 0 || !strchr(token, '.'))
		return plat_tokens_authenticate(svc, token, res, principal_id, err);
	memset(res, 0, sizeof(*res));
	const struct plat_auth_keyring *kr;
	int rc = -PLAT_E_AUTH;
	if (plat_svc_keyring(svc, &kr, err) == 0) {
		struct plat_auth_localjwt_verify_options o = {
			.issuer = plat_config_str(svc->cfg, PLAT_CFG_AUTH_ISSUER),
			.audience = plat_config_str(svc->cfg, PLAT_CFG_AUTH_AUDIENCE),
			.leeway_s = seconds(svc, PLAT_CFG_AUTH_LEEWAY)};
		rc = plat_auth_localjwt_verify(kr, &o, token, res, err);
		/* Signed with a key of ours or claiming to be ours: the local verdict stands. */
		if (rc == 0 || (res->reason != PLAT_AUTH_R_UNKNOWN_KID && res->reason != PLAT_AUTH_R_ISSUER))
			return rc;
	} else {
		res->reason = PLAT_AUTH_R_UNKNOWN_KID; /* no local accounts: not a token we issued */
	}
	enum plat_auth_reason local = res->reason;
	plat_error_clear(err);
	struct plat_auth_oidc *oidc;
	if (plat_svc_oidc(svc, &oidc, err) < 0) {
		/* Misconfigured: said once per token in the log, the client learns nothing. */
		PLAT_LOG_W("external tokens cannot be verified", "error", err->message);
		plat_error_clear(err);
		return plat_auth_refuse(err, res, local);
	}
	if (!oidc)
		return plat_auth_refuse(err, res, local);
	if ((rc = plat_auth_oidc_verify(oidc, token, res, err)) < 0)
		return rc;
	return external_principal(svc, token, res, principal_id, err);
}
