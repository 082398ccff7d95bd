/* Legal holds and retention on real PostgreSQL (TEST_DATABASE_URL) and a file store: hold
 * and release (audited, conflicts, bad reasons); a destroy rule that opens reviews,
 * destroys exactly the expired, approved, non-held documents once their window is over,
 * keeps an object another live document shares, leaves a destruction record whose signed
 * certificate verifies (and a tampered one does not); rejections; dry runs; the plan; a
 * flag rule counting from a date field. Rules come from the real loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/localjwt.h"
#include "compliance/compliance.h"
#include "db/db.h"
#include "documents/documents.h"
#include "store/store.h"
#include "svc/svc.h"

#include "harness.h"

static char url[512], root[64], key_path[128];
static struct plat_config *cfg;
static struct plat_services *services;
static struct plat_db *db;

static int setup(void **state)
{
	(void)state;
	int rc = harness_database("retention", url, sizeof(url), &db);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	char surl[128];
	struct plat_error err = {0};
	if (harness_file_store("retention", root, surl) < 0 || !(cfg = harness_config(url, surl)))
		return -1;
	snprintf(key_path, sizeof(key_path), "%s/signing.pem", root);
	if (plat_auth_localjwt_key_generate(key_path, NULL, &err) < 0 ||
	    plat_config_set(cfg, PLAT_CFG_COMPLIANCE_SIGNING_KEY, key_path, PLAT_CFG_SRC_FLAG, "test", &err) < 0)
		return -1;
	return plat_services_open(cfg, NULL, &(struct plat_services_options){.pool_size = 3}, &services, &err);
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

#define NEED_DB()               \
	do {                    \
		if (!db)        \
			skip(); \
	} while (0)

static void exec_ok(const char *sql, const char *p1)
{
	struct plat_error err = {0};
	const char *params[] = {p1};
	if (plat_db_exec(db, sql, p1 ? 1 : 0, p1 ? params : NULL, NULL, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
}

static const char *value(const char *sql, const char *p1)
{
	static char out[4096];
	const char *params[] = {p1};
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(db, sql, p1 ? 1 : 0, p1 ? params : NULL, &r, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
	snprintf(out, sizeof(out), "%s", PQntuples(r) && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "(null)");
	PQclear(r);
	return out;
}

static struct plat_svc *call(struct plat_svc *svc)
{
	plat_svc_init(svc, services, &(struct plat_call){.principal = "ada"});
	return svc;
}

struct stream {
	const char *s;
	size_t pos;
};

static ssize_t stream_read(void *arg, char *buf, size_t cap)
{
	struct stream *m = arg;
	size_t n = strlen(m->s) - m->pos < cap ? strlen(m->s) - m->pos : cap;
	memcpy(buf, m->s + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/* Upload text as name (new_version: even when the content exists); id and storage key out. */
static void upload(const char *name, const char *text, bool new_version, char id[37], char key[160])
{
	struct plat_svc svc;
	struct stream m = {text, 0};
	struct plat_upload_request req = {.src = {.fd = -1, .read = stream_read, .read_arg = &m}, .name = name,
					  .new_version = new_version};
	cJSON *doc = NULL;
	struct plat_error err = {0};
	if (plat_documents_upload(call(&svc), &req, &doc, &err) < 0)
		fail_msg("upload %s: %s", name, err.message);
	plat_svc_done(&svc);
	snprintf(id, 37, "%s", cJSON_GetObjectItemCaseSensitive(doc, "id")->valuestring);
	cJSON_Delete(doc);
	if (key)
		snprintf(key, 160, "%s", value("SELECT storage_key FROM documents WHERE id = $1", id));
}

static bool object_exists(const char *key)
{
	struct plat_store *st = NULL;
	struct plat_error err = {0};
	if (plat_store_file_open(root, &st, &err) < 0)
		fail_msg("store: %s", err.message);
	struct plat_store_object obj;
	int rc = plat_store_head(st, key, &obj, &err);
	if (rc == 0)
		plat_store_object_free(&obj);
	plat_store_close(st);
	if (rc < 0 && err.kind != PLAT_E_NOT_FOUND)
		fail_msg("head %s: %s", key, err.message);
	return rc == 0;
}

static struct plat_rule_set *load(const char *yaml)
{
	struct plat_rule_set *set = NULL;
	struct plat_rule_diags diags = {0};
	struct plat_error err = {0};
	if (plat_rules_load_buffer("test.yaml", yaml, strlen(yaml), &set, &diags, &err) < 0)
		fail_msg("rules: %s", diags.n ? diags.items[0].message : err.message);
	plat_rule_diags_free(&diags);
	return set;
}

static cJSON *run(const struct plat_rule_set *set, bool dry)
{
	struct plat_svc svc;
	struct plat_compliance_options o = {.dry_run = dry, .fail_on = PLAT_SEV_HIGH};
	cJSON *summary = NULL;
	struct plat_error err = {0};
	if (plat_compliance_run_set(call(&svc), set, &o, &summary, &err) < 0)
		fail_msg("run: %s", err.message);
	plat_svc_done(&svc);
	return summary;
}

static int decide(bool approve, const char *doc, const char *rule, const char *reason, struct plat_error *err)
{
	struct plat_svc svc;
	cJSON *out = NULL;
	int rc = approve ? plat_compliance_approve(call(&svc), doc, rule, reason, &out, err)
			 : plat_compliance_reject(call(&svc), doc, rule, reason, &out, err);
	plat_svc_done(&svc);
	if (rc == 0)
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "status")->valuestring,
				    approve ? "approved" : "rejected");
	cJSON_Delete(out);
	return rc;
}

static const char *status_of(const char *id)
{
	return value("SELECT status || coalesce(' ' || (SELECT status FROM retention_reviews WHERE document_id = d.id), '')"
		     " FROM documents d WHERE id = $1",
		     id);
}

static void test_hold_release(void **state)
{
	(void)state;
	NEED_DB();
	char id[37];
	upload("held.txt", "a document for the lawyers", false, id, NULL);
	struct plat_svc svc;
	struct plat_error err = {0};
	cJSON *doc = NULL;

	assert_int_equal(plat_documents_hold(call(&svc), id, NULL, &doc, &err), -PLAT_E_USAGE);
	assert_string_equal(err.param, "reason");
	plat_svc_done(&svc);
	err = (struct plat_error){0};
	assert_int_equal(plat_documents_hold(call(&svc), id, "line\none", &doc, &err), -PLAT_E_USAGE);
	plat_svc_done(&svc);
	err = (struct plat_error){0};
	assert_int_equal(plat_documents_release(call(&svc), id, NULL, &doc, &err), -PLAT_E_CONFLICT);
	assert_non_null(strstr(err.message, "not on legal hold"));
	plat_svc_done(&svc);

	assert_int_equal(plat_documents_hold(call(&svc), id, "case 17", &doc, &err), 0);
	plat_svc_done(&svc);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "legal_hold")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "hold_reason")->valuestring, "case 17");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "held_by")->valuestring, "ada");
	cJSON_Delete(doc);

	err = (struct plat_error){0};
	assert_int_equal(plat_documents_hold(call(&svc), id, "again", &doc, &err), -PLAT_E_CONFLICT);
	assert_non_null(strstr(err.message, "already on legal hold"));
	plat_svc_done(&svc);
	cJSON *removed = NULL;
	err = (struct plat_error){0};
	assert_int_equal(plat_documents_remove(call(&svc), id, true, &removed, &err), -PLAT_E_CONFLICT);
	assert_non_null(strstr(err.message, "under legal hold (case 17)"));
	plat_svc_done(&svc);

	assert_int_equal(plat_documents_release(call(&svc), id, "closed", &doc, &err), 0);
	plat_svc_done(&svc);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "legal_hold")));
	cJSON_Delete(doc);
	assert_string_equal(value("SELECT string_agg(action || ':' || (details->>'reason'), ',' ORDER BY id) FROM audit_log"
				  " WHERE object_id = $1 AND action IN ('document.hold', 'document.release')",
				  id),
			    "document.hold:case 17,document.release:closed");
	assert_string_equal(value("SELECT details->>'hold_reason' FROM audit_log WHERE object_id = $1"
				  " AND action = 'document.release'",
				  id),
			    "case 17");
	assert_int_equal(plat_documents_remove(call(&svc), id, false, &removed, &err), 0);
	plat_svc_done(&svc);
	cJSON_Delete(removed);
	err = (struct plat_error){0};
	assert_int_equal(plat_documents_hold(call(&svc), id, "too late", &doc, &err), -PLAT_E_NOT_FOUND);
	plat_svc_done(&svc);
}

static const char destroy_rules[] = "rules:\n"
				    "- name: hr-1y\n"
				    "  kind: retention\n"
				    "  classes: [hr]\n"
				    "  keep: 1y\n"
				    "  action: destroy\n"
				    "  review: 30d\n";

static char *certificate_of(const char *id, struct plat_error *err)
{
	struct plat_svc svc;
	cJSON *cert = NULL;
	int rc = plat_compliance_certificate(call(&svc), id, &cert, err);
	plat_svc_done(&svc);
	char *text = rc == 0 ? cJSON_Print(cert) : NULL;
	cJSON_Delete(cert);
	return text;
}

static void replace(char *s, const char *from, const char *to)
{
	char *p = strstr(s, from);
	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
}

static void test_destroy(void **state)
{
	(void)state;
	NEED_DB();
	char a[37], b[37], c[37], d[37], e[37], f[37], g[37], ka[160], ke[160];
	upload("approved.txt", "old personnel file of A", false, a, ka);
	upload("held.txt", "old personnel file of B", false, b, NULL);
	upload("pending.txt", "old personnel file of C", false, c, NULL);
	upload("recent.txt", "recent personnel file of D", false, d, NULL);
	upload("shared.txt", "content E shares with F", false, e, ke);
	upload("shared-copy.txt", "content E shares with F", true, f, NULL);
	upload("rejected.txt", "old personnel file of G", false, g, NULL);
	exec_ok("UPDATE documents SET class = 'hr' WHERE tenant_id = (SELECT id FROM tenants WHERE name = 'default')", NULL);
	exec_ok("UPDATE documents SET created_at = now() - interval '2 years'"
		" WHERE name IN ('approved.txt', 'held.txt', 'pending.txt', 'shared.txt', 'rejected.txt')",
		NULL);
	exec_ok("INSERT INTO chunks (tenant_id, document_id, ord, text) SELECT tenant_id, id, 0, 'personnel file'"
		" FROM documents WHERE id = $1",
		a);
	assert_true(object_exists(ka));
	/* Another tenant's document, expired and approved long ago: no run of this tenant's
	 * rules may touch it. */
	char foreign[37];
	snprintf(foreign, sizeof(foreign), "%s",
		 value("WITH t AS (INSERT INTO tenants (name) VALUES ('elsewhere') RETURNING id),"
		       " d AS (INSERT INTO documents (tenant_id, name, content_type, size_bytes, sha256, storage_key,"
		       "  created_by, class, created_at) SELECT id, 'foreign.txt', 'text/plain', 1, repeat('f', 64),"
		       "  'elsewhere/' || repeat('f', 64), 'test', 'hr', now() - interval '5 years' FROM t RETURNING id, tenant_id)"
		       " INSERT INTO retention_reviews (tenant_id, rule, document_id, expired_at, due_at, status, decided_by)"
		       " SELECT tenant_id, 'hr-1y', id, now() - interval '4 years', now() - interval '3 years', 'approved', 'x'"
		       " FROM d RETURNING document_id",
		       NULL));
	struct plat_rule_set *set = load(destroy_rules);

	/* First run: a review per expired document, nothing destroyed. */
	cJSON *s = run(set, false);
	cJSON_Delete(s);
	assert_string_equal(value("SELECT count(*) FROM retention_reviews WHERE status = 'pending'", NULL), "5");
	assert_string_equal(status_of(d), "queued");
	assert_string_equal(value("SELECT count(*) FROM audit_log WHERE action = 'retention.reviews_opened'", NULL), "1");

	struct plat_error err = {0};
	assert_int_equal(decide(true, a, NULL, NULL, &err), 0);
	assert_int_equal(decide(true, b, "hr-1y", "fine", &err), 0);
	assert_int_equal(decide(true, e, NULL, NULL, &err), 0);
	assert_int_equal(decide(false, g, NULL, NULL, &err), -PLAT_E_USAGE);
	assert_string_equal(err.param, "reason");
	assert_int_equal(decide(false, g, NULL, "needed for the Roe case", &err), 0);
	err = (struct plat_error){0};
	assert_int_equal(decide(true, g, NULL, NULL, &err), -PLAT_E_CONFLICT);
	assert_non_null(strstr(err.message, "already rejected by ada"));
	err = (struct plat_error){0};
	assert_int_equal(decide(true, c, "nope", NULL, &err), -PLAT_E_NOT_FOUND);
	assert_int_equal(decide(true, d, NULL, NULL, &err), -PLAT_E_NOT_FOUND);
	assert_int_equal(decide(true, "not-a-uuid", NULL, NULL, &err), -PLAT_E_NOT_FOUND);
	/* The rejection resolved the finding, saying why. */
	assert_string_equal(value("SELECT status || '|' || resolved_by || '|' || note FROM findings WHERE document_id = $1", g),
			    "resolved|ada|destruction rejected: needed for the Roe case");

	struct plat_svc svc;
	cJSON *doc = NULL;
	assert_int_equal(plat_documents_hold(call(&svc), b, "litigation", &doc, &err), 0);
	plat_svc_done(&svc);
	cJSON_Delete(doc);

	/* Within the review window: approved or not, nothing goes. */
	s = run(set, false);
	cJSON_Delete(s);
	assert_string_equal(status_of(a), "queued approved");

	/* The plan says what the next runs will do. */
	exec_ok("UPDATE retention_reviews SET due_at = now() - interval '1 minute'", NULL);
	cJSON *plan = NULL;
	assert_int_equal(plat_compliance_plan(call(&svc), &(struct plat_retention_plan_options){.rules_path = NULL}, &plan,
					      &(struct plat_rule_diags){0}, &err),
			 -PLAT_E_NOT_FOUND); /* the configuration's /etc/platctl/compliance.d is not there */
	plat_svc_done(&svc);
	char rules_file[128];
	snprintf(rules_file, sizeof(rules_file), "%s/rules.yaml", root);
	FILE *rf = fopen(rules_file, "w");
	assert_non_null(rf);
	fputs(destroy_rules, rf);
	fclose(rf);
	struct plat_rule_diags diags = {0};
	assert_int_equal(plat_compliance_plan(call(&svc), &(struct plat_retention_plan_options){.rules_path = rules_file},
					      &plan, &diags, &err),
			 0);
	plat_svc_done(&svc);
	const cJSON *docs = cJSON_GetObjectItemCaseSensitive(plan, "documents"), *it;
	assert_int_equal(cJSON_GetArraySize(docs), 7);
	char wills[512] = "";
	cJSON_ArrayForEach(it, docs)
	{
		const char *name = cJSON_GetObjectItemCaseSensitive(it, "name")->valuestring;
		char line[80];
		snprintf(line, sizeof(line), "%s=%s;", name, cJSON_GetObjectItemCaseSensitive(it, "will")->valuestring);
		if (strstr(name, "recent") || strstr(name, "shared-copy"))
			assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(it, "expired")));
		strcat(wills, line);
	}
	/* The expired ones first (by date, ties by id), the two of today last. */
	assert_non_null(strstr(wills, "approved.txt=destroy;"));
	assert_non_null(strstr(wills, "held.txt=held;"));
	assert_non_null(strstr(wills, "pending.txt=wait for review;"));
	assert_non_null(strstr(wills, "shared.txt=destroy;"));
	assert_non_null(strstr(wills, "rejected.txt=nothing;"));
	assert_non_null(strstr(wills, "recent.txt=wait for review;"));
	const cJSON *last = cJSON_GetArrayItem(docs, 6);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(last, "expired")));
	cJSON_Delete(plan);
	assert_int_equal(plat_compliance_plan(call(&svc), &(struct plat_retention_plan_options){.rules_path = rules_file,
												 .within = "soon"},
					      &plan, &diags, &err),
			 -PLAT_E_USAGE);
	assert_string_equal(err.param, "within");
	plat_svc_done(&svc);
	assert_int_equal(plat_compliance_plan(call(&svc), &(struct plat_retention_plan_options){.rules_path = rules_file,
												 .within = "1 month"},
					      &plan, &diags, &err),
			 0);
	plat_svc_done(&svc);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(plan, "documents")), 5);
	cJSON_Delete(plan);

	/* A dry run changes nothing and says what it would destroy. */
	s = run(set, true);
	char *text = cJSON_PrintUnformatted(s);
	assert_non_null(strstr(text, "'approved.txt' would be destroyed"));
	free(text);
	cJSON_Delete(s);
	assert_string_equal(status_of(a), "queued approved");
	assert_true(object_exists(ka));
	assert_string_equal(value("SELECT count(*) FROM audit_log WHERE action = 'document.destroyed'", NULL), "0");

	/* After the window: exactly the approved, expired, non-held documents go. */
	s = run(set, false);
	cJSON_Delete(s);
	assert_string_equal(status_of(a), "deleted destroyed");
	assert_string_equal(status_of(e), "deleted destroyed");
	assert_string_equal(status_of(b), "queued approved");
	assert_string_equal(status_of(c), "queued pending");
	assert_string_equal(status_of(d), "queued");
	assert_string_equal(status_of(f), "queued");
	assert_string_equal(status_of(g), "queued rejected");
	assert_string_equal(status_of(foreign), "queued approved");
	assert_string_equal(value("SELECT count(*) FROM chunks WHERE document_id = $1", a), "0");
	assert_string_equal(value("SELECT fields::text || coalesce(summary, '-') FROM documents WHERE id = $1", a), "{}-");
	assert_false(object_exists(ka));
	assert_true(object_exists(ke)); /* shared-copy.txt still uses it */
	assert_string_equal(value("SELECT string_agg((details->>'name') || ':' || (details->>'content_shared') || ':'"
				  " || (details->>'approver'), ',' ORDER BY details->>'name') FROM audit_log"
				  " WHERE action = 'document.destroyed'",
				  NULL),
			    "approved.txt:false:ada,shared.txt:true:ada");
	/* The deletion after the commit is recorded, for approved.txt only. */
	assert_string_equal(value("SELECT count(*) FROM audit_log WHERE action = 'document.content_deleted'"
				  " AND object_id = $1",
				  a),
			    "1");
	assert_string_equal(value("SELECT principal FROM audit_log WHERE action = 'document.destroyed' LIMIT 1", NULL),
			    "system");
	const char *held_finding = value("SELECT severity || '|' || message FROM findings WHERE document_id = $1", b);
	assert_non_null(strstr(held_finding, "info|'held.txt' passed its retention of 1 year on "));
	assert_non_null(strstr(held_finding, "it is on legal hold and is not destroyed"));
	cJSON *vout = NULL;
	struct plat_svc vsvc;
	assert_int_equal(plat_audit_verify_chain(call(&vsvc), &vout, &err), 0);
	plat_svc_done(&vsvc);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vout, "ok")));
	cJSON_Delete(vout);

	/* A rerun destroys nothing more. */
	s = run(set, false);
	cJSON_Delete(s);
	assert_string_equal(value("SELECT count(*) FROM audit_log WHERE action = 'document.destroyed'", NULL), "2");

	/* The certificate verifies offline, and only untouched, and only with its key. */
	char *cert = certificate_of(a, &err);
	assert_non_null(cert);
	cJSON *res = NULL;
	assert_int_equal(plat_compliance_certificate_verify(cert, NULL, &res, &err), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(res, "name")->valuestring, "approved.txt");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(res, "approver")->valuestring, "ada");
	cJSON_Delete(res);
	cJSON *parsed = cJSON_Parse(cert);
	const char *pem = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(parsed, "signature"),
							   "public_key")
				  ->valuestring;
	assert_int_equal(plat_compliance_certificate_verify(cert, pem, &res, &err), 0);
	cJSON_Delete(res);
	/* Reformatted is still the same certificate. */
	char *compact = cJSON_PrintUnformatted(parsed);
	assert_int_equal(plat_compliance_certificate_verify(compact, pem, &res, &err), 0);
	cJSON_Delete(res);
	free(compact);
	char other[128];
	snprintf(other, sizeof(other), "%s/other.pem", root);
	assert_int_equal(plat_auth_localjwt_key_generate(other, NULL, &err), 0);
	struct plat_auth_keyring *kr = NULL;
	const char *op = other;
	assert_int_equal(plat_auth_keyring_load_files(&op, 1, &kr, &err), 0);
	char *other_pem = plat_auth_keyring_public_pem(kr);
	plat_auth_keyring_free(kr);
	err = (struct plat_error){0};
	assert_int_equal(plat_compliance_certificate_verify(cert, other_pem, &res, &err), -PLAT_E_FAILURE);
	assert_non_null(strstr(err.message, "another key"));
	free(other_pem);
	cJSON_Delete(parsed);
	char *tampered = strdup(cert);
	replace(tampered, "approved.txt", "approved.TXT");
	err = (struct plat_error){0};
	assert_int_equal(plat_compliance_certificate_verify(tampered, NULL, &res, &err), -PLAT_E_FAILURE);
	assert_non_null(strstr(err.message, "does not match"));
	free(tampered);
	assert_int_equal(plat_compliance_certificate_verify("{not json", NULL, &res, &err), -PLAT_E_FAILURE);
	free(cert);
	err = (struct plat_error){0};
	assert_null(certificate_of(c, &err));
	assert_int_equal(err.kind, PLAT_E_NOT_FOUND);

	/* Without a signing key there are no certificates. */
	plat_config_set(cfg, PLAT_CFG_COMPLIANCE_SIGNING_KEY, "", PLAT_CFG_SRC_FLAG, "test", &err);
	err = (struct plat_error){0};
	assert_null(certificate_of(a, &err));
	assert_int_equal(err.kind, PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "compliance.signing_key"));
	plat_config_set(cfg, PLAT_CFG_COMPLIANCE_SIGNING_KEY, key_path, PLAT_CFG_SRC_FLAG, "test", &err);
	plat_rule_set_free(set);
	exec_ok("UPDATE documents SET class = NULL WHERE class = 'hr'", NULL);
}

static void test_flag_from_field(void **state)
{
	(void)state;
	NEED_DB();
	char old[37], young[37], none[37], bad[37], arr[37], other[37];
	upload("old-contract.txt", "contract signed long ago", false, old, NULL);
	upload("young-contract.txt", "contract signed last year", false, young, NULL);
	upload("undated-contract.txt", "contract without a date", false, none, NULL);
	upload("bad-date-contract.txt", "contract with an impossible date", false, bad, NULL);
	upload("array-contract.txt", "contract with two dates", false, arr, NULL);
	upload("invoice.txt", "an invoice signed long ago", false, other, NULL);
	exec_ok("UPDATE documents SET class = 'contract' WHERE name LIKE '%contract.txt'", NULL);
	exec_ok("UPDATE documents SET class = 'invoice', fields = '{\"signed_on\": \"2001-01-01\"}' WHERE name = 'invoice.txt'",
		NULL);
	exec_ok("UPDATE documents SET fields = '{\"signed_on\": \"2016-02-29\"}' WHERE id = $1", old);
	exec_ok("UPDATE documents SET fields = jsonb_build_object('signed_on', to_char(now() - interval '1 year',"
		" 'YYYY-MM-DD')) WHERE id = $1",
		young);
	exec_ok("UPDATE documents SET fields = '{\"signed_on\": \"2019-02-30\"}' WHERE id = $1", bad);
	exec_ok("UPDATE documents SET fields = '{\"signed_on\": [\"2030-01-01\", \"2010-06-15T10:00:00Z\"]}' WHERE id = $1",
		arr);
	struct plat_rule_set *set = load("rules:\n- name: contracts-7y\n  kind: retention\n  classes: [contract]\n"
					 "  keep: 7y\n  from: {field: signed_on}\n  severity: low\n");
	cJSON *s = run(set, false);
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(s, "rules");
	assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rules, 0), "checked")->valuedouble, 5);
	cJSON_Delete(s);
	/* 2016-02-29 + 7 years is 2023-02-28 (PostgreSQL's calendar arithmetic). */
	assert_string_equal(value("SELECT severity || '|' || message FROM findings WHERE document_id = $1", old),
			    "low|'old-contract.txt' passed its retention of 7 years on 2023-02-28");
	assert_string_equal(value("SELECT message FROM findings WHERE document_id = $1", arr),
			    "'array-contract.txt' passed its retention of 7 years on 2017-06-15");
	assert_string_equal(value("SELECT count(*) FROM findings WHERE rule = 'contracts-7y'", NULL), "2");
	/* Flagging changes nothing about the documents. */
	assert_string_equal(value("SELECT count(*) FROM documents WHERE deleted_at IS NOT NULL AND name LIKE '%contract%'",
				  NULL),
			    "0");
	/* Idempotent: a second run opens nothing. */
	s = run(set, false);
	assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(s, "opened")->valuedouble, 0);
	assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(s, "resolved")->valuedouble, 0);
	cJSON_Delete(s);
	plat_rule_set_free(set);
	(void)young;
	(void)none;
	(void)bad;
	(void)other;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hold_release),
		cmocka_unit_test(test_destroy),
		cmocka_unit_test(test_flag_from_field),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
