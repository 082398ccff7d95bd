#include "auth/principals.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/authz.h"
#include "auth/password.h"
#include "db/db.h"
#include "remote/remote.h"

#define PRINCIPAL_JSON                                                                                           \
	"json_build_object('id', id, 'name', name, 'kind', kind, 'role', role, 'email', email, 'disabled', disabled," \
	" 'created_at', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'created_by',"    \
	" created_by)"

const char *plat_principal_name_problem(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len < 1 || len > 64)
		return "must be 1-64 characters";
	if (!isalnum((unsigned char)name[0]))
		return "must start with a letter or a digit";
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._@-", name[i]))
			return "may only contain letters, digits and . _ @ -";
	if (strcmp(name, PLAT_SYSTEM_PRINCIPAL) == 0)
		return "is reserved for the consume workers";
	return NULL;
}

static int bad_name(const char *what, const char *param, const char *problem, struct plat_error *err)
{
	plat_error_set(err, PLAT_E_USAGE, "%s %s", what, problem);
	return plat_error_param(err, param);
}

static void password_params(const struct plat_svc *svc, struct plat_password_params *p)
{
	p->memory_kib = (unsigned)plat_config_int(svc->cfg, PLAT_CFG_AUTH_ARGON2_MEMORY);
	p->iterations = (unsigned)plat_config_int(svc->cfg, PLAT_CFG_AUTH_ARGON2_ITERATIONS);
	p->parallelism = (unsigned)plat_config_int(svc->cfg, PLAT_CFG_AUTH_ARGON2_PARALLELISM);
}

/* One JSON row of a result; NULL when there is none. */
static cJSON *json_cell(PGresult *res, int row)
{
	return PQntuples(res) > row ? cJSON_Parse(PQgetvalue(res, row, 0)) : NULL;
}

static int audit(struct plat_svc *svc, const char *action, const char *type, const char *id, const cJSON *details,
		 struct plat_error *err)
{
	char *d = details ? cJSON_PrintUnformatted(details) : NULL;
	int rc = plat_audit_append(svc->db, svc->tenant_id, svc->principal, action, type, id, svc->request_id, d, err);
	cJSON_free(d);
	return rc;
}

/* One write and its audit row, in the transaction the caller began; commits it, or rolls
 * it back on failure. what is the object type ("principal", "tenant"), in the audit row and
 * in "not found". *out gets the written row's JSON. */
static int write_audited_in(struct plat_svc *svc, const char *sql, int n, const char *const *params,
			    const char *action, const char *what, cJSON **out, struct plat_error *err)
{
	PGresult *res = NULL;
	int rc = plat_db_exec(svc->db, sql, n, params, &res, err);
	cJSON *row = rc == 0 ? json_cell(res, 0) : NULL;
	PQclear(res);
	if (rc == 0 && !row)
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "%s not found", what);
	if (rc == 0) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddItemReferenceToObject(d, "name", cJSON_GetObjectItemCaseSensitive(row, "name"));
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(row, "role");
		if (role)
			cJSON_AddItemReferenceToObject(d, "role", (cJSON *)role);
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(row, "id");
		rc = audit(svc, action, what, cJSON_IsString(id) ? id->valuestring : NULL, d, err);
		cJSON_Delete(d);
	}
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

static int write_audited(struct plat_svc *svc, const char *sql, int n, const char *const *params, const char *action,
			 const char *what, cJSON **out, struct plat_error *err)
{
	int rc = plat_db_begin(svc->db, err);
	return rc < 0 ? rc : write_audited_in(svc, sql, n, params, action, what, out, err);
}

int plat_principals_add(struct plat_svc *svc, const struct plat_new_principal *np, cJSON **out,
			struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "user.add", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	const char *problem = plat_principal_name_problem(np->name);
	if (problem)
		return bad_name("a principal name", "name", problem, err);
	if (plat_role_parse(np->role) == PLAT_ROLE_NONE) {
		plat_error_set(err, PLAT_E_USAGE, "unknown role '%s' (admin, editor, viewer or auditor)", np->role ? np->role : "");
		return plat_error_param(err, "role");
	}
	const char *kind = np->kind ? np->kind : "user";
	if (strcmp(kind, "user") != 0 && strcmp(kind, "service") != 0)
		return plat_error_set(err, PLAT_E_USAGE, "unknown principal kind '%s' (user or service)", kind);
	if (np->email && (!strchr(np->email, '@') || strlen(np->email) > 254 || strpbrk(np->email, " \t\r\n"))) {
		plat_error_set(err, PLAT_E_USAGE, "'%s' is not an e-mail address", np->email);
		return plat_error_param(err, "email");
	}
	if (svc->bootstrap && plat_role_parse(np->role) != PLAT_ROLE_ADMIN)
		return plat_error_set(err, PLAT_E_CONFLICT,
				      "tenant '%s' has no principals yet: its first must be an admin, or nobody could "
				      "administer it afterwards",
				      svc->tenant);
	if (np->password && strcmp(kind, "service") == 0)
		return plat_error_set(err, PLAT_E_USAGE, "service accounts have API tokens, not passwords");
	char *hash = NULL;
	if (np->password) {
		struct plat_password_params pp;
		password_params(svc, &pp);
		if ((rc = plat_password_hash(&pp, np->password, np->password_len, &hash, err)) < 0)
			return rc;
	}
	const char *params[] = {svc->tenant_id, np->name, kind, np->role, np->email, hash, svc->principal};
	rc = write_audited(svc,
			   "INSERT INTO principals (tenant_id, name, kind, role, email, password_hash, created_by,"
			   " password_changed_at) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, CASE WHEN $6::text IS NULL THEN NULL"
			   " ELSE now() END) RETURNING " PRINCIPAL_JSON "::text",
			   7, params, "principal.add", "principal", out, err);
	free(hash);
	if (rc == -PLAT_E_CONFLICT)
		plat_error_set(err, PLAT_E_CONFLICT, "principal '%s' already exists in tenant '%s'", np->name, svc->tenant);
	return rc;
}

int plat_principals_list(struct plat_svc *svc, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "user.list", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	const char *params[] = {svc->tenant_id};
	return plat_db_query_json(svc->db,
				  "SELECT coalesce(json_agg(" PRINCIPAL_JSON " ORDER BY name), '[]')::text FROM principals"
				  " WHERE tenant_id = $1::uuid",
				  1, params, out, err);
}

static int unknown_principal(struct plat_svc *svc, const char *name, struct plat_error *err)
{
	return plat_error_set(err, PLAT_E_NOT_FOUND, "principal '%s' not found in tenant '%s'", name, svc->tenant);
}

int plat_principals_set_disabled(struct plat_svc *svc, const char *name, bool disabled, cJSON **out,
				 struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, disabled ? "user.disable" : "user.enable", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	if (plat_principal_name_problem(name))
		return unknown_principal(svc, name, err);
	const char *params[] = {svc->tenant_id, name, disabled ? "t" : "f"};
	/* The last-admin check and the update under one per-tenant lock, taken in its own
	 * statement so that the check's snapshot sees what a concurrent disable committed. */
	if ((rc = plat_db_begin(svc->db, err)) < 0)
		return rc;
	rc = plat_db_exec(svc->db, "SELECT pg_advisory_xact_lock(hashtextextended('principals:' || $1, 0))", 1, params,
			  NULL, err);
	PGresult *res = NULL;
	if (rc == 0)
		rc = plat_db_exec(svc->db,
				  "SELECT p.role = 'admin' AND NOT p.disabled AND $3::bool AND NOT EXISTS (SELECT 1 FROM"
				  " principals o WHERE o.tenant_id = p.tenant_id AND o.id <> p.id AND o.role = 'admin' AND NOT"
				  " o.disabled) FROM principals p WHERE p.tenant_id = $1::uuid AND p.name = $2",
				  3, params, &res, err);
	if (rc == 0 && PQntuples(res) == 0)
		rc = unknown_principal(svc, name, err);
	else if (rc == 0 && strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		rc = plat_error_set(err, PLAT_E_CONFLICT,
				    "'%s' is the last enabled admin of tenant '%s': add or enable another admin first", name,
				    svc->tenant);
	PQclear(res);
	if (rc < 0) {
		plat_db_rollback(svc->db);
		return rc;
	}
	return write_audited_in(svc,
				"UPDATE principals SET disabled = $3::bool, disabled_at = CASE WHEN $3::bool THEN now() END"
				" WHERE tenant_id = $1::uuid AND name = $2 RETURNING " PRINCIPAL_JSON "::text",
				3, params, disabled ? "principal.disable" : "principal.enable", "principal", out, err);
}

int plat_principals_passwd(struct plat_svc *svc, const char *name, const char *password, size_t len,
			   struct plat_error *err)
{
	/* One's own password needs no admin; the name decides which operation is checked. */
	bool self = name && svc->principal && strcmp(name, svc->principal) == 0;
	int rc = plat_svc_enter(svc, self ? "user.passwd.self" : "user.passwd", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	if (plat_principal_name_problem(name))
		return unknown_principal(svc, name, err);
	struct plat_password_params pp;
	password_params(svc, &pp);
	char *hash = NULL;
	if ((rc = plat_password_hash(&pp, password, len, &hash, err)) < 0)
		return rc;
	const char *params[] = {svc->tenant_id, name, hash};
	cJSON *row = NULL;
	rc = write_audited(svc,
			   "UPDATE principals SET password_hash = $3, password_changed_at = now()"
			   " WHERE tenant_id = $1::uuid AND name = $2 AND kind = 'user' RETURNING " PRINCIPAL_JSON "::text",
			   3, params, "principal.passwd", "principal", &row, err);
	free(hash);
	cJSON_Delete(row);
	if (rc == -PLAT_E_NOT_FOUND)
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "user '%s' not found in tenant '%s' (service accounts have no "
				    "password)", name, svc->tenant);
	return rc;
}

/* Remote mode: the server's GET /v1/me, in the direct schema, with the server named. */
static int whoami_remote(struct plat_remote *r, cJSON **out, struct plat_error *err)
{
	cJSON *me = NULL;
	int rc = plat_remote_json(r, "GET", "/v1/me", NULL, &me, NULL, err);
	if (rc < 0)
		return rc;
	if (!cJSON_IsObject(me) || !cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(me, "principal"))) {
		cJSON_Delete(me);
		return plat_error_set(err, PLAT_E_FAILURE, "the server at %s answered GET /v1/me without a principal",
				      plat_remote_url(r));
	}
	cJSON *o = cJSON_CreateObject();
	static const char *const keys[] = {"principal", "tenant", "role", "kind", "email", "bootstrap"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(me, keys[i]);
		cJSON_AddItemToObject(o, keys[i], v ? v : cJSON_CreateNull());
	}
	cJSON_AddStringToObject(o, "mode", "remote");
	cJSON *exp = cJSON_DetachItemFromObjectCaseSensitive(me, "expires_at");
	cJSON_AddItemToObject(o, "expires_at", exp ? exp : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "server", plat_remote_url(r));
	cJSON_Delete(me);
	*out = o;
	return 0;
}

int plat_whoami(struct plat_svc *svc, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	struct plat_remote *remote;
	int rc = plat_svc_remote(svc, &remote, err);
	if (rc != 0)
		return rc < 0 ? rc : whoami_remote(remote, out, err);
	rc = plat_svc_enter(svc, "whoami", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "principal", svc->principal);
	cJSON_AddStringToObject(o, "tenant", svc->tenant);
	cJSON_AddStringToObject(o, "role", plat_role_name((enum plat_role)svc->role));
	if (svc->principal_id[0]) {
		const char *params[] = {svc->principal_id};
		PGresult *res;
		if ((rc = plat_db_exec(svc->db, "SELECT kind, email FROM principals WHERE id = $1::uuid", 1, params, &res,
				       err)) < 0) {
			cJSON_Delete(o);
			return rc;
		}
		cJSON_AddStringToObject(o, "kind", PQntuples(res) ? PQgetvalue(res, 0, 0) : "user");
		if (PQntuples(res) && !PQgetisnull(res, 0, 1))
			cJSON_AddStringToObject(o, "email", PQgetvalue(res, 0, 1));
		else
			cJSON_AddNullToObject(o, "email");
		PQclear(res);
	} else {
		cJSON_AddStringToObject(o, "kind", "user");
		cJSON_AddNullToObject(o, "email");
	}
	cJSON_AddBoolToObject(o, "bootstrap", svc->bootstrap);
	cJSON_AddStringToObject(o, "mode", "direct");
	cJSON_AddNullToObject(o, "expires_at");
	cJSON_AddNullToObject(o, "server");
	*out = o;
	return 0;
}

/* ---- tenants ---- */

#define TENANT_JSON                                                                                             \
	"json_build_object('id', t.id, 'name', t.name, 'created_at', to_char(t.created_at AT TIME ZONE 'UTC',"     \
	" 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'principals', (SELECT count(*) FROM principals p WHERE p.tenant_id = t.id)," \
	" 'documents', (SELECT count(*) FROM documents d WHERE d.tenant_id = t.id AND d.deleted_at IS NULL))"

const char *plat_tenant_name_problem(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len < 1 || len > 63)
		return "must be 1-63 characters";
	if (!islower((unsigned char)name[0]) && !isdigit((unsigned char)name[0]))
		return "must start with a lowercase letter or a digit";
	for (size_t i = 0; i < len; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
			return "may only contain a-z, 0-9, '-' and '_'";
	return NULL;
}

int plat_tenants_add(struct plat_svc *svc, const char *name, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "tenant.add", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	const char *problem = plat_tenant_name_problem(name);
	if (problem)
		return bad_name("a tenant name", "name", problem, err);
	const char *params[] = {name};
	/* Recorded in the chain of the tenant that administers the installation. */
	rc = write_audited(svc, "INSERT INTO tenants AS t (name) VALUES ($1) RETURNING " TENANT_JSON "::text", 1, params,
			   "tenant.add", "tenant", out, err);
	if (rc == -PLAT_E_CONFLICT)
		rc = plat_error_set(err, PLAT_E_CONFLICT, "tenant '%s' already exists", name);
	return rc;
}

int plat_tenants_list(struct plat_svc *svc, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "tenant.list", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	return plat_db_query_json(svc->db,
				  "SELECT coalesce(json_agg(" TENANT_JSON " ORDER BY t.name), '[]')::text FROM tenants t", 0,
				  NULL, out, err);
}

int plat_tenants_show(struct plat_svc *svc, const char *name, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "tenant.show", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	const char *params[] = {name ? name : svc->tenant};
	rc = plat_db_query_json(svc->db, "SELECT " TENANT_JSON "::text FROM tenants t WHERE t.name = $1", 1, params, out,
				err);
	if (rc == 0 && !*out)
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "tenant '%s' not found", params[0]);
	return rc;
}
