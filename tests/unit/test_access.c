/* Access control on real PostgreSQL (TEST_DATABASE_URL): the role x operation matrix at the
 * service entry for every operation of the permission table, written out here
 * independently of the table; unknown and disabled principals; bootstrap; installation
 * operations; every plat_svc_enter in lib/ names an operation of the table; principals
 * and tenants services; and row-level security under a role that does not own the tables,
 * with deliberately unfiltered queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <glob.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "auth/password.h"
#include "auth/principals.h"
#include "auth/apitoken.h"
#include "auth/tokens.h"
#include "db/db.h"
#include "documents/documents.h"

#include "harness.h"

static char url[512], root[64], surl[128];
static struct plat_config *cfg;
static struct plat_services *services;
static struct plat_db *db;

static void exec_ok(const char *sql)
{
	struct plat_error err = {0};
	if (plat_db_exec(db, sql, 0, NULL, NULL, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
}

static const char *value(struct plat_db *on, const char *sql)
{
	static char out[256];
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(on, sql, 0, NULL, &r, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
	snprintf(out, sizeof(out), "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return out;
}

static int setup(void **state)
{
	(void)state;
	int rc = harness_database("access", url, sizeof(url), &db);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	struct plat_error err = {0};
	if (harness_file_store("access", root, surl) < 0 || !(cfg = harness_config(url, surl)) ||
	    plat_config_set(cfg, PLAT_CFG_AUTH_ARGON2_MEMORY, "1024", PLAT_CFG_SRC_FLAG, "test", &err) < 0 ||
	    plat_config_set(cfg, PLAT_CFG_AUTH_ARGON2_ITERATIONS, "1", PLAT_CFG_SRC_FLAG, "test", &err) < 0)
		return -1;
	if (plat_services_open(cfg, NULL, &(struct plat_services_options){.pool_size = 4}, &services, &err) < 0)
		return -1;
	exec_ok("INSERT INTO tenants (name) VALUES ('globex'), ('initech')");
	exec_ok("INSERT INTO principals (tenant_id, name, kind, role, disabled)"
		" SELECT t.id, p.name, 'user', p.role, p.disabled FROM tenants t,"
		" (VALUES ('vera', 'viewer', false), ('ed', 'editor', false), ('audrey', 'auditor', false),"
		"  ('ada', 'admin', false), ('gone', 'editor', true)) p(name, role, disabled)"
		" WHERE t.name = 'default'");
	exec_ok("INSERT INTO principals (tenant_id, name, kind, role)"
		" SELECT id, 'gus', 'user', 'admin' FROM tenants WHERE name = 'globex'");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!db)
		return 0;
	plat_services_close(services);
	plat_config_free(cfg);
	plat_db_close(db);
	return harness_remove(root);
}

static int enter_as(const char *principal, const char *tenant, const char *operation, struct plat_error *err)
{
	struct plat_svc svc;
	plat_svc_init(&svc, services, &(struct plat_call){.principal = principal, .tenant = tenant});
	plat_error_clear(err);
	int rc = plat_svc_enter(&svc, operation, 0, err);
	plat_svc_done(&svc);
	return rc;
}

/* Who may run each role-checked operation: v viewer, e editor, u auditor, a admin. Kept
 * apart from lib/auth/authz.c on purpose: a change of the table must change this too. */
static const struct {
	const char *operation;
	const char *roles;
} expected[] = {
	{"ask", "veua"},
	{"audit.list", "ua"},
	{"audit.verify", "ua"},
	{"auth.me", "veua"},
	{"compliance.approve", "a"},
	{"compliance.certificate", "ua"},
	{"compliance.plan", "ua"},
	{"compliance.reject", "a"},
	{"compliance.report", "ua"},
	{"documents.delete", "ea"},
	{"documents.get", "veua"},
	{"documents.hold", "a"},
	{"documents.list", "veua"},
	{"documents.purge", "a"},
	{"documents.read", "veua"},
	{"documents.release", "a"},
	{"documents.retry", "ea"},
	{"documents.upload", "ea"},
	{"documents.wait", "veua"},
	{"eval", "veua"},
	{"events.stream", "veua"},
	{"findings.ack", "a"},
	{"findings.list", "ua"},
	{"findings.resolve", "a"},
	{"findings.show", "ua"},
	{"search", "veua"},
	{"tenant.add", "a"},
	{"tenant.list", "a"},
	{"tenant.show", "a"},
	{"token.create", "a"},
	{"token.list", "ua"},
	{"token.revoke", "a"},
	{"user.add", "a"},
	{"user.disable", "a"},
	{"user.enable", "a"},
	{"user.list", "ua"},
	{"user.passwd", "a"},
	{"user.passwd.self", "veua"},
	{"webhook.add", "a"},
	{"webhook.delete", "a"},
	{"webhook.deliveries", "ua"},
	{"webhook.list", "ua"},
	{"webhook.redeliver", "a"},
	{"whoami", "veua"},
};

static const struct {
	char code;
	const char *principal;
	const char *role;
} actors[] = {{'v', "vera", "viewer"}, {'e', "ed", "editor"}, {'u', "audrey", "auditor"}, {'a', "ada", "admin"}};

static void test_role_operation_matrix(void **state)
{
	(void)state;
	if (!db)
		skip();
	int checked = 0;
	for (const struct plat_permission *p = plat_authz_table(); p->operation; p++) {
		if (p->kind != PLAT_AUTHZ_ROLES && p->kind != PLAT_AUTHZ_INSTALLATION)
			continue;
		const char *roles = NULL;
		for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
			if (strcmp(expected[i].operation, p->operation) == 0)
				roles = expected[i].roles;
		if (!roles)
			fail_msg("operation %s has no expected roles in this test", p->operation);
		for (size_t a = 0; a < sizeof(actors) / sizeof(actors[0]); a++) {
			struct plat_error err = {0};
			int rc = enter_as(actors[a].principal, NULL, p->operation, &err);
			bool allowed = strchr(roles, actors[a].code) != NULL;
			if (allowed && rc != 0)
				fail_msg("%s as %s: refused: %s", p->operation, actors[a].role, err.message);
			if (!allowed) {
				if (rc != -PLAT_E_PERMISSION)
					fail_msg("%s as %s: rc %d, want a permission error", p->operation, actors[a].role, rc);
				/* It names the operation and the role, and nothing else of the tenant. */
				assert_non_null(strstr(err.message, p->operation));
				assert_non_null(strstr(err.message, actors[a].role));
				assert_int_equal(plat_error_exit_code(err.kind), 4);
			}
			checked++;
		}
	}
	assert_true(checked >= 4 * 20);
	/* Every row of the test's list is still an operation of the table. */
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		assert_non_null(plat_authz_lookup(expected[i].operation));
}

static void test_unknown_disabled_bootstrap_installation(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_error err = {0};
	assert_int_equal(enter_as("mallory", NULL, "documents.list", &err), -PLAT_E_AUTH);
	assert_non_null(strstr(err.message, "'mallory' is not known in tenant 'default'"));
	assert_int_equal(enter_as("gone", NULL, "documents.list", &err), -PLAT_E_AUTH);
	assert_non_null(strstr(err.message, "disabled"));
	/* A principal of another tenant is unknown here, whatever its role there. */
	assert_int_equal(enter_as("gus", NULL, "documents.list", &err), -PLAT_E_AUTH);
	assert_int_equal(enter_as("gus", "globex", "user.add", &err), 0);
	assert_int_equal(enter_as("ada", "globex", "documents.list", &err), -PLAT_E_AUTH);
	/* initech has nobody: bootstrap, as admin, for its own operations only. */
	assert_int_equal(enter_as("anyone", "initech", "user.add", &err), 0);
	assert_int_equal(enter_as("anyone", "initech", "documents.purge", &err), 0);
	assert_int_equal(enter_as("anyone", "initech", "tenant.add", &err), -PLAT_E_PERMISSION);
	assert_non_null(strstr(err.message, "tenant 'default'"));
	/* globex's admin is not an administrator of the installation. */
	assert_int_equal(enter_as("gus", "globex", "tenant.list", &err), -PLAT_E_PERMISSION);
	assert_int_equal(enter_as("ada", NULL, "tenant.list", &err), 0);
	/* Unknown operations are refused, whoever asks. */
	assert_int_equal(enter_as("ada", NULL, "documents.shred", &err), -PLAT_E_INTERNAL);
	/* Operator operations need no principal at all; consume acts as the system principal. */
	assert_int_equal(enter_as("mallory", NULL, "migrate.status", &err), 0);
	struct plat_svc svc;
	plat_svc_init(&svc, services, &(struct plat_call){.principal = "mallory"});
	assert_int_equal(plat_svc_enter(&svc, "consume", PLAT_NEEDS_TENANT, &err), 0);
	assert_string_equal(svc.principal, PLAT_SYSTEM_PRINCIPAL);
	plat_svc_done(&svc);
	/* A caller that verified the principal itself (the server) passes the role in. */
	plat_svc_init(&svc, services,
		      &(struct plat_call){.principal = "tok", .role = PLAT_ROLE_VIEWER,
					  .principal_id = "00000000-0000-4000-8000-000000000000"});
	assert_int_equal(plat_svc_enter(&svc, "search", 0, &err), 0);
	assert_int_equal(plat_svc_enter(&svc, "documents.upload", 0, &err), -PLAT_E_PERMISSION);
	plat_svc_done(&svc);
}

/* Every operation name a service passes to plat_svc_enter is in the table: a new service
 * cannot forget to be listed (it would fail at run time with an internal error). */
static void test_every_service_entry_is_in_the_table(void **state)
{
	(void)state;
	glob_t g;
	assert_int_equal(glob("lib/*/*.c", 0, NULL, &g), 0);
	regex_t name;
	assert_int_equal(regcomp(&name, "\"([a-z][a-z.]*)\"", REG_EXTENDED), 0);
	int found = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");
		assert_non_null(f);
		char line[1024], call[2048] = "";
		bool in_call = false;
		while (fgets(line, sizeof(line), f)) {
			char *at = strstr(line, "plat_svc_enter(");
			if (at && !strstr(line, "int plat_svc_enter(") && !strstr(line, "plat_svc_enter()")) {
				snprintf(call, sizeof(call), "%s", at);
				in_call = !strchr(at, ';');
			} else if (in_call) {
				strncat(call, line, sizeof(call) - strlen(call) - 1);
				in_call = !strchr(line, ';');
			} else {
				continue;
			}
			if (in_call)
				continue;
			regmatch_t m[2];
			for (const char *p = call; regexec(&name, p, 2, m, 0) == 0; p += m[0].rm_eo) {
				char op[64];
				snprintf(op, sizeof(op), "%.*s", (int)(m[1].rm_eo - m[1].rm_so), p + m[1].rm_so);
				if (!plat_authz_lookup(op))
					fail_msg("%s: plat_svc_enter(\"%s\") is not in the permission table", g.gl_pathv[i], op);
				found++;
			}
		}
		fclose(f);
	}
	regfree(&name);
	globfree(&g);
	assert_true(found >= 20);
}

static void test_principals_and_tenants(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_svc svc;
	struct plat_error err = {0};
	cJSON *out = NULL;
	plat_svc_init(&svc, services, &(struct plat_call){.principal = "ada"});
	struct plat_new_principal np = {.name = "carol", .role = "editor", .email = "carol@example.com",
					.password = "correct horse", .password_len = 13};
	assert_int_equal(plat_principals_add(&svc, &np, &out, &err), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "role")->valuestring, "editor");
	assert_null(cJSON_GetObjectItemCaseSensitive(out, "password_hash"));
	cJSON_Delete(out);
	/* The hash is argon2id with the configured parameters, and verifies. */
	const char *hash = value(db, "SELECT password_hash FROM principals WHERE name = 'carol'");
	assert_non_null(strstr(hash, "$argon2id$v=19$m=1024,t=1,p=1$"));
	assert_true(plat_password_verify(hash, "correct horse", 13));
	assert_false(plat_password_verify(hash, "correct horsf", 13));
	assert_false(plat_password_verify("$argon2i$v=19$m=1024,t=1,p=1$xx$yy", "correct horse", 13));
	/* Taken name, bad names, bad role, bad e-mail, short password, a password for a service. */
	assert_int_equal(plat_principals_add(&svc, &np, &out, &err), -PLAT_E_CONFLICT);
	assert_non_null(strstr(err.message, "already exists"));
	const char *bad_names[] = {"", "system", "-x", "a b", "x/y", "é"};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		struct plat_new_principal b = {.name = bad_names[i], .role = "viewer"};
		assert_int_equal(plat_principals_add(&svc, &b, &out, &err), -PLAT_E_USAGE);
		assert_string_equal(err.param, "name");
	}
	struct plat_new_principal badrole = {.name = "x1", .role = "root"};
	assert_int_equal(plat_principals_add(&svc, &badrole, &out, &err), -PLAT_E_USAGE);
	struct plat_new_principal bademail = {.name = "x2", .role = "viewer", .email = "nope"};
	assert_int_equal(plat_principals_add(&svc, &bademail, &out, &err), -PLAT_E_USAGE);
	struct plat_new_principal shortpw = {.name = "x3", .role = "viewer", .password = "short", .password_len = 5};
	assert_int_equal(plat_principals_add(&svc, &shortpw, &out, &err), -PLAT_E_INVALID);
	struct plat_new_principal svcpw = {.name = "x4", .role = "viewer", .kind = "service", .password = "longenough",
					   .password_len = 10};
	assert_int_equal(plat_principals_add(&svc, &svcpw, &out, &err), -PLAT_E_USAGE);
	assert_string_equal(value(db, "SELECT count(*) FROM principals WHERE name LIKE 'x_'"), "0");
	/* Disable and enable; the last enabled admin stays. */
	assert_int_equal(plat_principals_set_disabled(&svc, "carol", true, &out, &err), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out, "disabled")));
	cJSON_Delete(out);
	assert_int_equal(plat_principals_set_disabled(&svc, "ada", true, &out, &err), -PLAT_E_CONFLICT);
	assert_non_null(strstr(err.message, "last enabled admin"));
	assert_int_equal(plat_principals_set_disabled(&svc, "nobody", true, &out, &err), -PLAT_E_NOT_FOUND);
	assert_int_equal(plat_principals_set_disabled(&svc, "carol", false, &out, &err), 0);
	cJSON_Delete(out);
	plat_svc_done(&svc);
	/* Carol may change her own password, not vera's. */
	plat_svc_init(&svc, services, &(struct plat_call){.principal = "carol"});
	assert_int_equal(plat_principals_passwd(&svc, "carol", "a new secret", 12, &err), 0);
	plat_svc_done(&svc);
	plat_svc_init(&svc, services, &(struct plat_call){.principal = "carol"});
	assert_int_equal(plat_principals_passwd(&svc, "vera", "a new secret", 12, &err), -PLAT_E_PERMISSION);
	plat_svc_done(&svc);
	assert_true(plat_password_verify(value(db, "SELECT password_hash FROM principals WHERE name = 'carol'"),
					 "a new secret", 12));
	/* Every change is in the audit chain, and no secret is. */
	assert_string_equal(value(db, "SELECT string_agg(action, ',' ORDER BY id) FROM audit_log"
				      " WHERE object_type = 'principal'"),
			    "principal.add,principal.disable,principal.enable,principal.passwd");
	assert_string_equal(value(db, "SELECT count(*) FROM audit_log WHERE details::text ~* 'argon|secret|horse'"),
			    "0");
	/* Tenants: the default tenant's admin adds one; names are checked. */
	plat_svc_init(&svc, services, &(struct plat_call){.principal = "ada"});
	assert_int_equal(plat_tenants_add(&svc, "umbrella", &out, &err), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "name")->valuestring, "umbrella");
	cJSON_Delete(out);
	assert_int_equal(plat_tenants_add(&svc, "umbrella", &out, &err), -PLAT_E_CONFLICT);
	assert_int_equal(plat_tenants_add(&svc, "Umbrella", &out, &err), -PLAT_E_USAGE);
	assert_int_equal(plat_tenants_show(&svc, "nope", &out, &err), -PLAT_E_NOT_FOUND);
	assert_int_equal(plat_tenants_list(&svc, &out, &err), 0);
	assert_int_equal(cJSON_GetArraySize(out), 4);
	cJSON_Delete(out);
	assert_int_equal(plat_whoami(&svc, &out, &err), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "role")->valuestring, "admin");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out, "bootstrap")));
	cJSON_Delete(out);
	plat_svc_done(&svc);
}

static int connect_as(const char *role, struct plat_db **out)
{
	/* url is postgresql://postgres@host:port/db: the same server and database as role. */
	char u[600];
	const char *at = strchr(url, '@');
	snprintf(u, sizeof(u), "postgresql://%s%s", role, at);
	struct plat_error err = {0};
	struct plat_db_options o = {.url = u, .connect_timeout_ms = 5000};
	return plat_db_connect(&o, out, &err);
}

static ssize_t text_read(void *arg, char *buf, size_t cap)
{
	const char **s = arg;
	size_t n = strlen(*s) < cap ? strlen(*s) : cap;
	memcpy(buf, *s, n);
	*s += n;
	return (ssize_t)n;
}

/* Row-level security under a role that does not own the tables. */
static void test_row_level_security(void **state)
{
	(void)state;
	if (!db)
		skip();
	char role[64], sql[512];
	snprintf(role, sizeof(role), "platctl_app_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", role);
	plat_db_exec(db, sql, 0, NULL, NULL, NULL);
	snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN", role);
	exec_ok(sql);
	snprintf(sql, sizeof(sql), "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %s", role);
	exec_ok(sql);
	snprintf(sql, sizeof(sql), "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %s", role);
	exec_ok(sql);
	exec_ok("INSERT INTO documents (tenant_id, name, content_type, size_bytes, sha256, storage_key, created_by, status)"
		" SELECT t.id, t.name || '-' || i || '.txt', 'text/plain', 1, md5(t.name || i) || md5(t.name || i),"
		" 'k', 'test', 'processed' FROM tenants t, generate_series(1, 3) i WHERE t.name IN ('globex', 'initech')");
	/* Every table that has a tenant_id has row-level security and a policy: a new
	 * tenant-owned table cannot be forgotten. */
	assert_string_equal(value(db, "SELECT coalesce(string_agg(c.relname, ','), '') FROM pg_class c"
				      " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'"
				      " WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace"
				      " AND (NOT c.relrowsecurity OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))"),
			    "");
	assert_true(atoi(value(db, "SELECT count(*) FROM pg_class c WHERE c.relrowsecurity"
				   " AND c.relnamespace = 'public'::regnamespace")) >= 13);
	char globex[37], initech[37];
	snprintf(globex, sizeof(globex), "%s", value(db, "SELECT id FROM tenants WHERE name = 'globex'"));
	snprintf(initech, sizeof(initech), "%s", value(db, "SELECT id FROM tenants WHERE name = 'initech'"));

	struct plat_db *app;
	assert_int_equal(connect_as(role, &app), 0);
	/* Unfiltered queries: nothing without the setting, only the tenant's rows with it. */
	assert_string_equal(value(app, "SELECT count(*) FROM documents"), "0");
	assert_string_equal(value(app, "SELECT count(*) FROM principals"), "0");
	plat_db_set_tenant(app, globex);
	assert_string_equal(value(app, "SELECT count(*) FROM documents"), "3");
	assert_string_equal(value(app, "SELECT count(*) FROM documents WHERE name LIKE 'initech%'"), "0");
	assert_string_equal(value(app, "SELECT string_agg(name, ',') FROM principals"), "gus");
	/* Inside an explicit transaction too, and the setting does not outlive it. */
	struct plat_error err = {0};
	assert_int_equal(plat_db_begin(app, &err), 0);
	assert_string_equal(value(app, "SELECT count(*) FROM documents"), "3");
	assert_int_equal(plat_db_commit(app, &err), 0);
	plat_db_set_tenant(app, initech);
	assert_string_equal(value(app, "SELECT count(*) FROM documents WHERE name LIKE 'initech%'"), "3");
	/* Writing a row of another tenant is refused by the policy. */
	const char *params[] = {globex};
	assert_true(plat_db_exec(app,
				 "INSERT INTO documents (tenant_id, name, content_type, size_bytes, sha256, storage_key,"
				 " created_by) VALUES ($1::uuid, 'x', 'text/plain', 1, repeat('a', 64), 'k', 't')",
				 1, params, NULL, &err) < 0);
	assert_non_null(strstr(err.message, "row-level security"));
	plat_db_set_tenant(app, NULL);
	assert_string_equal(value(app, "SELECT count(*) FROM documents"), "0");
	plat_db_close(app);

	/* The services work under that role with database.row_security: upload (audit chain,
	 * outbox, notify) and list, inside the call's tenant only. */
	char u[600];
	snprintf(u, sizeof(u), "postgresql://%s%s", role, strchr(url, '@'));
	struct plat_config *rcfg = harness_config(u, surl);
	assert_non_null(rcfg);
	assert_int_equal(plat_config_set(rcfg, PLAT_CFG_DATABASE_ROW_SECURITY, "true", PLAT_CFG_SRC_FLAG, "test", &err), 0);
	struct plat_services *rs;
	assert_int_equal(plat_services_open(rcfg, NULL, NULL, &rs, &err), 0);
	struct plat_svc svc;
	plat_svc_init(&svc, rs, &(struct plat_call){.principal = "gus", .tenant = "globex"});
	const char *text = "row level security keeps tenants apart";
	struct plat_upload_request req = {.src = {.fd = -1, .read = text_read, .read_arg = &text}, .name = "rls.txt"};
	cJSON *doc = NULL;
	if (plat_documents_upload(&svc, &req, &doc, &err) < 0)
		fail_msg("upload under row-level security: %s", err.message);
	cJSON_Delete(doc);
	struct plat_document_filter f = {.limit = 100};
	cJSON *docs = NULL;
	char *next = NULL;
	assert_int_equal(plat_documents_list(&svc, &f, &docs, &next, &err), 0);
	assert_int_equal(cJSON_GetArraySize(docs), 4);
	cJSON_Delete(docs);
	plat_svc_done(&svc);
	plat_services_close(rs);
	plat_config_free(rcfg);
	assert_string_equal(value(db, "SELECT count(*) FROM audit_log a JOIN tenants t ON t.id = a.tenant_id"
				      " WHERE t.name = 'globex' AND a.action = 'document.upload'"),
			    "1");
	snprintf(sql, sizeof(sql), "DROP OWNED BY %s", role);
	exec_ok(sql);
	snprintf(sql, sizeof(sql), "DROP ROLE %s", role);
	exec_ok(sql);
}

static int authenticate(const char *token, struct plat_auth_result *res, struct plat_error *err)
{
	struct plat_svc svc;
	char principal_id[37];
	plat_svc_init(&svc, services, NULL);
	int rc = plat_tokens_authenticate(&svc, token, res, principal_id, err);
	plat_svc_done(&svc);
	return rc;
}

/* Tokens are authenticated through the store: revoked, expired, unknown, a disabled owner
 * and a typo are all the same "invalid token" to the caller, with the reason kept apart. */
static void test_api_token_authentication(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_svc svc;
	struct plat_error err = {0};
	cJSON *t = NULL;
	plat_svc_init(&svc, services, &(struct plat_call){.principal = "gus", .tenant = "globex"});
	struct plat_new_token nt = {.name = "cron", .role = "viewer", .expires_in = 3600};
	assert_int_equal(plat_tokens_create(&svc, &nt, &t, &err), 0);
	char token[64];
	snprintf(token, sizeof(token), "%s", cJSON_GetObjectItemCaseSensitive(t, "token")->valuestring);
	cJSON_Delete(t);
	plat_svc_done(&svc);

	struct plat_auth_result res;
	assert_int_equal(authenticate(token, &res, &err), 0);
	assert_int_equal(res.kind, PLAT_AUTH_API_TOKEN);
	assert_string_equal(res.tenant, "globex");
	assert_string_equal(res.subject, "cron");
	assert_string_equal(res.role, "viewer");
	assert_true(res.expires_at > 0);
	assert_string_equal(value(db, "SELECT last_used_at IS NOT NULL FROM api_tokens WHERE name = 'cron'"), "t");
	/* The verified identity drives the permission check of the next call. */
	plat_svc_init(&svc, services,
		      &(struct plat_call){.principal = res.subject, .tenant = res.tenant, .role = PLAT_ROLE_VIEWER,
					  .principal_id = "00000000-0000-4000-8000-000000000001"});
	assert_int_equal(plat_svc_enter(&svc, "documents.upload", 0, &err), -PLAT_E_PERMISSION);
	plat_svc_done(&svc);

	/* A typo never reaches the database; junk and a token of nobody are refused alike. */
	char typo[64];
	snprintf(typo, sizeof(typo), "%s", token);
	typo[10] = typo[10] == 'a' ? 'b' : 'a';
	assert_int_equal(authenticate(typo, &res, &err), -PLAT_E_AUTH);
	assert_int_equal(res.reason, PLAT_AUTH_R_CHECKSUM);
	assert_string_equal(err.message, PLAT_AUTH_INVALID_MSG);
	assert_int_equal(authenticate("Bearer nonsense", &res, &err), -PLAT_E_AUTH);
	assert_int_equal(res.reason, PLAT_AUTH_R_MALFORMED);
	char other[64];
	unsigned char sha[32];
	assert_int_equal(plat_auth_apitoken_generate(other, sha, &err), 0);
	assert_int_equal(authenticate(other, &res, &err), -PLAT_E_AUTH);
	assert_int_equal(res.reason, PLAT_AUTH_R_UNKNOWN);
	assert_string_equal(err.message, PLAT_AUTH_INVALID_MSG);

	/* Expired, then a disabled owner, then revoked. */
	exec_ok("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'cron'");
	assert_int_equal(authenticate(token, &res, &err), -PLAT_E_AUTH);
	assert_int_equal(res.reason, PLAT_AUTH_R_EXPIRED);
	assert_string_equal(res.tenant, "");
	exec_ok("UPDATE api_tokens SET expires_at = NULL WHERE name = 'cron'");
	assert_int_equal(authenticate(token, &res, &err), 0);
	assert_int_equal(res.expires_at, 0);
	exec_ok("UPDATE principals SET disabled = true WHERE name = 'cron'");
	assert_int_equal(authenticate(token, &res, &err), -PLAT_E_AUTH);
	exec_ok("UPDATE principals SET disabled = false WHERE name = 'cron'");
	plat_svc_init(&svc, services, &(struct plat_call){.principal = "gus", .tenant = "globex"});
	assert_int_equal(plat_tokens_revoke(&svc, "cron", &t, &err), 0);
	cJSON_Delete(t);
	/* Another tenant's token cannot be revoked from here. */
	plat_svc_done(&svc);
	assert_int_equal(authenticate(token, &res, &err), -PLAT_E_AUTH);
	assert_int_equal(res.reason, PLAT_AUTH_R_REVOKED);
	plat_svc_init(&svc, services, &(struct plat_call){.principal = "ada"});
	assert_int_equal(plat_tokens_list(&svc, &t, &err), 0);
	assert_int_equal(cJSON_GetArraySize(t), 0); /* globex's tokens are not default's */
	cJSON_Delete(t);
	plat_svc_done(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_operation_matrix),
		cmocka_unit_test(test_unknown_disabled_bootstrap_installation),
		cmocka_unit_test(test_every_service_entry_is_in_the_table),
		cmocka_unit_test(test_principals_and_tenants),
		cmocka_unit_test(test_row_level_security),
		cmocka_unit_test(test_api_token_authentication),
	};
	return cmocka_run_group_tests_name("access", tests, setup, teardown);
}
