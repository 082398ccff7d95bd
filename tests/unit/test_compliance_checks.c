/* The rule kinds pii, integrity and orphans through real compliance runs, on PostgreSQL
 * (TEST_DATABASE_URL) and a file store in a temporary directory. Each test works in a
 * tenant of its own, so one test's objects are no other's orphans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compliance/compliance.h"
#include "db/db.h"
#include "documents/documents.h"
#include "hash/hash.h"
#include "store/store.h"

#include "harness.h"

static char url[512], root[64];
static struct plat_config *cfg;
static struct plat_services *services;
static struct plat_db *db;       /* the test's own connection, for checks */
static struct plat_store *store; /* the same directory, for tampering with objects */

static int setup(void **state)
{
	(void)state;
	int rc = harness_database("checks", url, sizeof(url), &db);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	char surl[128];
	struct plat_error err = {0};
	if (harness_file_store("checks", root, surl) < 0 || !(cfg = harness_config(url, surl)))
		return -1;
	if (plat_store_file_open(root, &store, &err) < 0)
		return -1;
	return plat_services_open(cfg, NULL, &(struct plat_services_options){.pool_size = 4}, &services, &err);
}

static int teardown(void **state)
{
	(void)state;
	if (!db)
		return 0;
	plat_services_close(services);
	plat_store_close(store);
	plat_config_free(cfg);
	plat_db_close(db);
	return harness_remove(root);
}

static void sql(const char *q, const char *p1, const char *p2)
{
	const char *params[] = {p1, p2};
	struct plat_error err = {0};
	if (plat_db_exec(db, q, p2 ? 2 : p1 ? 1 : 0, params, NULL, &err) < 0)
		fail_msg("%s: %s", q, err.message);
}

static const char *value(const char *q, const char *p1, const char *p2)
{
	static char out[8192];
	const char *params[] = {p1, p2};
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(db, q, p2 ? 2 : p1 ? 1 : 0, params, &r, &err) < 0)
		fail_msg("%s: %s", q, err.message);
	snprintf(out, sizeof(out), "%s", PQntuples(r) && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return out;
}

static void new_tenant(const char *name)
{
	sql("INSERT INTO tenants (name) VALUES ($1)", name, NULL);
}

/* ---- uploads and objects ---- */

struct mem {
	const char *s;
	size_t len, pos;
};

static ssize_t mem_read(void *arg, char *buf, size_t cap)
{
	struct mem *m = arg;
	size_t n = m->len - m->pos < cap ? m->len - m->pos : cap;
	memcpy(buf, m->s + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/* Upload text as NAME in the tenant; *id (37 bytes) and *key (the storage key, 128 bytes). */
static void upload(const char *tenant, const char *name, const char *text, bool new_version, char *id, char *key)
{
	struct plat_svc svc;
	plat_svc_init(&svc, services, &(struct plat_call){.tenant = tenant});
	struct mem m = {text, strlen(text), 0};
	struct plat_upload_request req = {.src = {.fd = -1, .read = mem_read, .read_arg = &m}, .name = name,
					  .new_version = new_version};
	cJSON *doc = NULL;
	struct plat_error err = {0};
	if (plat_documents_upload(&svc, &req, &doc, &err) < 0)
		fail_msg("upload %s: %s", name, err.message);
	snprintf(id, 37, "%s", cJSON_GetObjectItem(doc, "id")->valuestring);
	if (key)
		snprintf(key, 128, "%s", value("SELECT storage_key FROM documents WHERE id = $1", id, NULL));
	cJSON_Delete(doc);
	plat_svc_done(&svc);
}

static void put_object(const char *key, const char *data, size_t len)
{
	struct mem m = {data, len, 0};
	struct plat_store_put_result res;
	struct plat_error err = {0};
	if (plat_store_put(store, key, mem_read, &m, "application/octet-stream", &res, &err) < 0)
		fail_msg("put %s: %s", key, err.message);
}

static int collect(void *arg, const char *buf, size_t len)
{
	struct plat_buf *b = arg;
	plat_buf_append(b, buf, len);
	return 0;
}

/* A byte of the stored object changed in place (same key, same size). */
static void flip_byte(const char *key, size_t at)
{
	struct plat_buf b = PLAT_BUF_INIT;
	struct plat_error err = {0};
	if (plat_store_get(store, key, 0, -1, collect, &b, &err) < 0)
		fail_msg("get %s: %s", key, err.message);
	assert_true(at < b.len);
	b.data[at] ^= 0x20;
	put_object(key, b.data, b.len);
	plat_buf_free(&b);
}

static void delete_object(const char *key)
{
	struct plat_error err = {0};
	if (plat_store_delete(store, key, &err) < 0)
		fail_msg("delete %s: %s", key, err.message);
}

/* ---- runs ---- */

struct outcome {
	int rc;
	long long checked, opened, resolved, open;
	char error[600];
};

static struct outcome run_rules(const char *tenant, const char *yaml, bool dry)
{
	struct plat_rule_set *set = NULL;
	struct plat_rule_diags diags = {0};
	struct plat_error err = {0};
	if (plat_rules_load_buffer("test.yaml", yaml, strlen(yaml), &set, &diags, &err) < 0)
		fail_msg("rules: %s", diags.n ? diags.items[0].message : err.message);
	plat_rule_diags_free(&diags);
	struct plat_svc svc;
	plat_svc_init(&svc, services, &(struct plat_call){.tenant = tenant});
	struct plat_compliance_options o = {.dry_run = dry, .fail_on = PLAT_SEV_HIGH};
	cJSON *summary = NULL;
	struct outcome out = {0};
	out.rc = plat_compliance_run_set(&svc, set, &o, &summary, &err);
	if (out.rc < 0)
		snprintf(out.error, sizeof(out.error), "%s", err.message);
	if (summary) {
		cJSON *rule = cJSON_GetArrayItem(cJSON_GetObjectItem(summary, "rules"), 0);
		out.checked = (long long)cJSON_GetObjectItem(rule, "checked")->valuedouble;
		out.opened = (long long)cJSON_GetObjectItem(rule, "opened")->valuedouble;
		out.resolved = (long long)cJSON_GetObjectItem(rule, "resolved")->valuedouble;
		out.open = (long long)cJSON_GetObjectItem(rule, "open")->valuedouble;
		cJSON *e = cJSON_GetObjectItem(rule, "error");
		if (cJSON_IsString(e))
			snprintf(out.error, sizeof(out.error), "%s", e->valuestring);
	}
	cJSON_Delete(summary);
	plat_svc_done(&svc);
	plat_rule_set_free(set);
	return out;
}

#define ASSERT_RUN(o, c, op, res, opn)                                                                            \
	do {                                                                                                     \
		struct outcome o_ = (o);                                                                         \
		if (o_.rc != 0 || o_.error[0])                                                                   \
			fail_msg("run failed (%d): %s", o_.rc, o_.error);                                        \
		if (o_.checked != (c) || o_.opened != (op) || o_.resolved != (res) || o_.open != (opn))          \
			fail_msg("checked %lld opened %lld resolved %lld open %lld, expected %d %d %d %d",       \
				 o_.checked, o_.opened, o_.resolved, o_.open, (c), (op), (res), (opn));          \
	} while (0)

static const char *finding(const char *tenant, const char *column, const char *fingerprint)
{
	char q[256];
	snprintf(q, sizeof(q),
		 "SELECT f.%s::text FROM findings f JOIN tenants t ON t.id = f.tenant_id WHERE t.name = $1"
		 " AND f.fingerprint = $2",
		 column);
	return value(q, tenant, fingerprint);
}

/* ---- integrity ---- */

static const char *integrity_all = "rules:\n- name: objects\n  kind: integrity\n  severity: critical\n";

static void test_integrity_flipped_byte_and_missing_object(void **state)
{
	(void)state;
	if (!db)
		skip();
	new_tenant("integ");
	char a[37], b[37], c[37], c2[37], ka[128], kb[128], kc[128];
	upload("integ", "a.txt", "Alpha: the first document of the integrity test.\n", false, a, ka);
	upload("integ", "b.txt", "Bravo: the second document of the integrity test.\n", false, b, kb);
	upload("integ", "c.txt", "Charlie: the third document, stored twice.\n", false, c, kc);
	upload("integ", "c.txt", "Charlie: the third document, stored twice.\n", true, c2, NULL); /* same object */
	ASSERT_RUN(run_rules("integ", integrity_all, false), 3, 0, 0, 0);

	flip_byte(ka, 3);
	delete_object(kb);
	ASSERT_RUN(run_rules("integ", integrity_all, false), 3, 2, 0, 2);
	assert_string_equal(finding("integ", "severity", ka), "critical");
	assert_string_equal(finding("integ", "document_id", ka), a);
	assert_string_equal(finding("integ", "details->>'expected_sha256'", ka),
			    value("SELECT sha256 FROM documents WHERE id = $1", a, NULL));
	char actual[65];
	snprintf(actual, sizeof(actual), "%s", finding("integ", "details->>'actual_sha256'", ka));
	assert_int_equal(strlen(actual), 64);
	assert_string_not_equal(actual, value("SELECT sha256 FROM documents WHERE id = $1", a, NULL));
	assert_non_null(strstr(finding("integ", "message", ka), "does not match its sha256"));
	assert_non_null(strstr(finding("integ", "message", kb), "'b.txt' is missing from the store"));
	assert_string_equal(finding("integ", "details->>'actual_sha256'", kb), "");

	/* A rerun changes nothing; a dry run neither. */
	ASSERT_RUN(run_rules("integ", integrity_all, false), 3, 0, 0, 2);
	ASSERT_RUN(run_rules("integ", integrity_all, true), 3, 0, 0, 2);

	/* Repaired: resolved. Deleted documents' objects are not checked. */
	flip_byte(ka, 3);
	struct plat_svc svc;
	plat_svc_init(&svc, services, &(struct plat_call){.tenant = "integ"});
	cJSON *res = NULL;
	struct plat_error err = {0};
	assert_int_equal(plat_documents_remove(&svc, b, false, &res, &err), 0);
	cJSON_Delete(res);
	plat_svc_done(&svc);
	ASSERT_RUN(run_rules("integ", integrity_all, false), 2, 0, 2, 0);
	assert_string_equal(finding("integ", "status", ka), "resolved");
}

static const char *integrity_sampled = "rules:\n- name: sampled\n  kind: integrity\n  sample: {period: 10d}\n";

/* Days pass without sleeping: every check row (the rule's previous run included) moves
 * back by a day less a minute, so each run sees just under a day elapsed. */
static void a_day_passes(void)
{
	sql("UPDATE integrity_checks SET checked_at = checked_at - interval '1 day' + interval '1 minute'"
	    " WHERE tenant_id = (SELECT id FROM tenants WHERE name = $1)",
	    "sample", NULL);
}

static int oldest_age_days(void)
{
	return atoi(value("SELECT floor(extract(epoch FROM now() - min(checked_at)) / 86400) FROM integrity_checks"
			  " WHERE tenant_id = (SELECT id FROM tenants WHERE name = $1)",
			  "sample", NULL));
}

static void test_integrity_sampling_covers_the_period(void **state)
{
	(void)state;
	if (!db)
		skip();
	new_tenant("sample");
	char ids[10][37], keys[10][128];
	for (int i = 0; i < 10; i++) {
		char name[32], text[96];
		snprintf(name, sizeof(name), "doc-%d.txt", i);
		snprintf(text, sizeof(text), "Sampled integrity document number %d, with its own content.\n", i);
		upload("sample", name, text, false, ids[i], keys[i]);
	}
	/* Never run: everything. */
	ASSERT_RUN(run_rules("sample", integrity_sampled, false), 10, 0, 0, 0);
	/* Right after: one at least. */
	ASSERT_RUN(run_rules("sample", integrity_sampled, false), 1, 0, 0, 0);

	/* A daily run over a 10-day period: a tenth each day, the oldest first, so in ten days
	 * every object was checked and none waited longer than the period. */
	sql("UPDATE integrity_checks SET checked_at = now()"
	    " WHERE tenant_id = (SELECT id FROM tenants WHERE name = $1)", "sample", NULL);
	sql("CREATE TABLE sampled_seen (storage_key text PRIMARY KEY)", NULL, NULL);
	flip_byte(keys[4], 0);
	bool flagged = false;
	for (int day = 1; day <= 10; day++) {
		a_day_passes();
		struct outcome o = run_rules("sample", integrity_sampled, false);
		assert_int_equal(o.rc, 0);
		assert_int_equal(o.checked, 1);
		assert_int_equal(o.resolved, 0); /* partial: what it did not see stays as it was */
		sql("INSERT INTO sampled_seen SELECT storage_key FROM integrity_checks"
		    " WHERE tenant_id = (SELECT id FROM tenants WHERE name = $1) AND checked_at = ("
		    "  SELECT max(checked_at) FROM integrity_checks WHERE tenant_id = (SELECT id FROM tenants WHERE name = $1))"
		    " ON CONFLICT DO NOTHING",
		    "sample", NULL);
		assert_true(oldest_age_days() < 10);
		if (o.opened) {
			flagged = true;
			assert_string_equal(finding("sample", "status", keys[4]), "open");
		}
		assert_int_equal(o.open, flagged ? 1 : 0);
	}
	assert_true(flagged);
	assert_string_equal(value("SELECT count(*) FROM sampled_seen", NULL, NULL), "10");

	/* A late run (three days) checks three; the repaired object resolves once it is checked
	 * again, and not before. */
	flip_byte(keys[4], 0);
	int resolved_on = 0;
	for (int run = 1; run <= 4 && !resolved_on; run++) {
		for (int d = 0; d < 3; d++)
			a_day_passes();
		struct outcome o = run_rules("sample", integrity_sampled, false);
		assert_int_equal(o.checked, 3);
		if (o.resolved)
			resolved_on = run;
		assert_int_equal(o.open, o.resolved ? 0 : 1);
	}
	assert_true(resolved_on > 0);
	assert_string_equal(finding("sample", "status", keys[4]), "resolved");

	/* A finding of an object no live document uses any more resolves too. */
	delete_object(keys[7]);
	a_day_passes();
	a_day_passes();
	ASSERT_RUN(run_rules("sample", "rules:\n- name: sampled\n  kind: integrity\n  sample: {period: 1d}\n", false), 10, 1,
		   0, 1);
	struct plat_svc svc;
	plat_svc_init(&svc, services, &(struct plat_call){.tenant = "sample"});
	cJSON *res = NULL;
	struct plat_error err = {0};
	assert_int_equal(plat_documents_remove(&svc, ids[7], false, &res, &err), 0);
	cJSON_Delete(res);
	plat_svc_done(&svc);
	struct outcome o = run_rules("sample", integrity_sampled, false);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.resolved, 1);
	assert_int_equal(o.open, 0);
	sql("DROP TABLE sampled_seen", NULL, NULL);
}

/* ---- orphans ---- */

static const char *orphans_rule = "rules:\n- name: orphans\n  kind: orphans\n  severity: high\n"
				  "  processing_timeout: 30m\n";

static void test_orphans(void **state)
{
	(void)state;
	if (!db)
		skip();
	new_tenant("orph");
	new_tenant("other");
	char a[37], b[37], c[37], d[37], ka[128], kb[128], kc[128], kd[128], o[37];
	upload("orph", "a.txt", "Orphans test: a document that stays sound.\n", false, a, ka);
	upload("orph", "b.txt", "Orphans test: a document whose object goes missing.\n", false, b, kb);
	upload("orph", "c.txt", "Orphans test: a document that gets stuck while processing.\n", false, c, kc);
	upload("orph", "d.txt", "Orphans test: deleted but not purged.\n", false, d, kd);
	upload("other", "o.txt", "Another tenant's object, never this tenant's orphan.\n", false, o, NULL);
	struct plat_svc svc;
	plat_svc_init(&svc, services, &(struct plat_call){.tenant = "orph"});
	cJSON *res = NULL;
	struct plat_error err = {0};
	assert_int_equal(plat_documents_remove(&svc, d, false, &res, &err), 0); /* its object stays */
	cJSON_Delete(res);
	plat_svc_done(&svc);
	/* 4 rows + 4 objects, all consistent. */
	ASSERT_RUN(run_rules("orph", orphans_rule, false), 8, 0, 0, 0);

	delete_object(kb);
	const char *stray_data = "nobody uploaded this";
	char stray_sha[65], stray_key[128];
	plat_sha256_hex(stray_data, strlen(stray_data), stray_sha);
	snprintf(stray_key, sizeof(stray_key), "orph/%s", stray_sha);
	put_object(stray_key, stray_data, strlen(stray_data));
	sql("UPDATE documents SET status = 'processing', updated_at = now() - interval '2 hours' WHERE id = $1", c, NULL);
	long long events = atoll(value("SELECT count(*) FROM outbox WHERE aggregate_id = $1", c, NULL));

	/* A dry run reports all three and changes nothing. */
	ASSERT_RUN(run_rules("orph", orphans_rule, true), 8, 3, 0, 3); /* counted inside, rolled back */
	assert_string_equal(value("SELECT status FROM documents WHERE id = $1", c, NULL), "processing");
	assert_string_equal(value("SELECT count(*) FROM findings WHERE rule = 'orphans'", NULL, NULL), "0");

	ASSERT_RUN(run_rules("orph", orphans_rule, false), 8, 3, 0, 3);
	/* The stray: by its key, about no document. */
	assert_string_equal(finding("orph", "object_key", stray_key), stray_key);
	assert_string_equal(finding("orph", "document_id", stray_key), "");
	assert_string_equal(finding("orph", "severity", stray_key), "high");
	assert_non_null(strstr(finding("orph", "message", stray_key), "belongs to no document"));
	/* The missing object: about its document. */
	char fp[64];
	snprintf(fp, sizeof(fp), "missing:%s", b);
	assert_string_equal(finding("orph", "document_id", fp), b);
	assert_non_null(strstr(finding("orph", "message", fp), "'b.txt' has no object in the store"));
	/* The stuck document: requeued with a new event, audited by the system principal, and
	 * an info finding that says so. */
	snprintf(fp, sizeof(fp), "stuck:%s", c);
	assert_string_equal(finding("orph", "severity", fp), "info");
	assert_non_null(strstr(finding("orph", "message", fp), "'c.txt' was stuck in processing since"));
	assert_non_null(strstr(finding("orph", "message", fp), "; requeued"));
	assert_string_equal(value("SELECT status FROM documents WHERE id = $1", c, NULL), "queued");
	assert_int_equal(atoll(value("SELECT count(*) FROM outbox WHERE aggregate_id = $1", c, NULL)), events + 1);
	char want[80];
	snprintf(want, sizeof(want), "document.uploaded %s", c);
	assert_string_equal(value("SELECT event_type || ' ' || (payload->>'document_id') FROM outbox"
				  " WHERE aggregate_id = $1 ORDER BY id DESC LIMIT 1",
				  c, NULL),
			    want);
	assert_string_equal(value("SELECT principal || ' ' || (details->>'rule') FROM audit_log"
				  " WHERE object_id = $1 AND action = 'document.requeued'",
				  c, NULL),
			    "system orphans");

	/* Again: the stray and the missing object are still there (nothing new), the requeued
	 * document is no longer stuck (its finding resolves). */
	ASSERT_RUN(run_rules("orph", orphans_rule, false), 8, 0, 1, 2);
	ASSERT_RUN(run_rules("orph", orphans_rule, false), 8, 0, 0, 2);
	assert_string_equal(value("SELECT count(*) FROM audit_log WHERE object_id = $1 AND action = 'document.requeued'",
				  c, NULL),
			    "1");

	/* Not yet past the timeout, or requeue off: reported, not requeued. */
	sql("UPDATE documents SET status = 'processing', updated_at = now() - interval '10 minutes' WHERE id = $1", c, NULL);
	ASSERT_RUN(run_rules("orph", orphans_rule, false), 8, 0, 0, 2);
	sql("UPDATE documents SET updated_at = now() - interval '1 hour' WHERE id = $1", c, NULL);
	ASSERT_RUN(run_rules("orph", "rules:\n- name: orphans\n  kind: orphans\n  processing_timeout: 30m\n"
				      "  requeue: false\n",
			     false),
		   8, 1, 0, 3);
	assert_string_equal(value("SELECT status FROM documents WHERE id = $1", c, NULL), "processing");
	assert_non_null(strstr(finding("orph", "message", fp), "not requeued"));

	/* Repaired: the object back, the stray gone. */
	put_object(kb, "Orphans test: a document whose object goes missing.\n",
		   strlen("Orphans test: a document whose object goes missing.\n"));
	delete_object(stray_key);
	sql("UPDATE documents SET status = 'processed' WHERE id = $1", c, NULL);
	ASSERT_RUN(run_rules("orph", orphans_rule, false), 8, 0, 3, 0);

	/* A row whose key lies outside the tenant's prefix (not in the listing): looked up by
	 * itself, missing only when the store says so. */
	sql("INSERT INTO documents (tenant_id, name, content_type, size_bytes, sha256, storage_key, status, created_by,"
	    " created_at) SELECT id, 'legacy.txt', 'text/plain', 6, repeat('a', 64), 'legacy/object', 'processed', 'test',"
	    " now() - interval '1 day' FROM tenants WHERE name = $1",
	    "orph", NULL);
	put_object("legacy/object", "legacy", 6);
	ASSERT_RUN(run_rules("orph", orphans_rule, false), 9, 0, 0, 0);
	delete_object("legacy/object");
	ASSERT_RUN(run_rules("orph", orphans_rule, false), 9, 1, 0, 1);
}

/* ---- pii ---- */

/* A processed document with chunks (page, text) set by SQL; returns its id. */
static const char *pii_doc(const char *name, const char *class_name, const char *status, const char *chunks_json)
{
	static char id[37];
	const char *params[] = {name, class_name, status, chunks_json};
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(db,
			 "WITH d AS (INSERT INTO documents (tenant_id, name, content_type, size_bytes, sha256, storage_key,"
			 "  status, class, created_by)"
			 " SELECT t.id, $1, 'text/plain', 1, encode(sha256(convert_to($1, 'UTF8')), 'hex'),"
			 "  'pii/' || encode(sha256(convert_to($1, 'UTF8')), 'hex'), $3, $2, 'test'"
			 " FROM tenants t WHERE t.name = 'pii' RETURNING id, tenant_id),"
			 " c AS (INSERT INTO chunks (tenant_id, document_id, ord, page, text)"
			 " SELECT d.tenant_id, d.id, (x.ordinality - 1)::int, (x.value->>0)::int, x.value->>1"
			 " FROM d, jsonb_array_elements($4::jsonb) WITH ORDINALITY AS x)"
			 " SELECT id FROM d",
			 4, params, &r, &err) < 0)
		fail_msg("%s", err.message);
	snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return id;
}

static const char *pii_rule = "rules:\n- name: no-pii\n  kind: pii\n  classes: [marketing]\n";

static void test_pii(void **state)
{
	(void)state;
	if (!db)
		skip();
	new_tenant("pii");
	char a[37], b[37];
	snprintf(a, sizeof(a), "%s",
		 pii_doc("flyer.pdf", "marketing", "processed",
			 "[[1, \"Contact j.doe@example.com for details.\"], [2, \"Nothing personal here.\"],"
			 " [3, \"Pay to DE89 3704 0044 0532 0130 00 or ask jane@example.org.\"],"
			 " [3, \"Again j.doe@example.com.\"]]"));
	snprintf(b, sizeof(b), "%s",
		 pii_doc("clean.pdf", "marketing", "processed",
			 "[[1, \"Order no. 0042-1234-5678 of 2026-11-15 for EUR 1.234,56.\"],"
			 " [2, \"Card 4242 4242 4242 4241 is not a card; 000-12-3456 no SSN.\"]]"));
	pii_doc("staff.pdf", "hr", "processed", "[[1, \"HR may hold hr@example.com and 123-45-6789.\"]]");
	pii_doc("queued.pdf", "marketing", "queued", "[[1, \"not yet processed: q@example.com\"]]");
	pii_doc("empty.pdf", "marketing", "processed", "[]");
	pii_doc("plain.txt", "marketing", "processed", "[[null, \"Call +49 30 1234567 today.\"]]");

	/* flyer, clean, empty and plain are the marketing documents processed. */
	ASSERT_RUN(run_rules("pii", pii_rule, false), 4, 2, 0, 2);
	assert_string_equal(finding("pii", "message", a), "'flyer.pdf' holds 2 e-mail addresses and 1 IBAN (pages 1, 3)");
	assert_string_equal(finding("pii", "details->'counts'", a), "{\"iban\": 1, \"email\": 2}");
	assert_string_equal(finding("pii", "details->'pages'", a), "[1, 3]");
	assert_string_equal(finding("pii", "details->'samples'->>'iban'", a), "[\"DE** **** **** **** 3000\"]");
	/* The finding carries no value itself. */
	const char *all = value("SELECT string_agg(message || details::text, ' ') FROM findings", NULL, NULL);
	assert_null(strstr(all, "j.doe"));
	assert_null(strstr(all, "jane@"));
	assert_null(strstr(all, "3704"));
	assert_null(strstr(all, "1234567"));
	assert_non_null(strstr(all, "'plain.txt' holds 1 phone number{"));
	assert_string_equal(value("SELECT count(*) FROM findings WHERE document_id = $1", b, NULL), "0");

	/* Rerun: idempotent. */
	ASSERT_RUN(run_rules("pii", pii_rule, false), 4, 0, 0, 2);
	/* Cleaned: resolved. */
	sql("UPDATE chunks SET text = 'Contact us through the form.' WHERE document_id = $1", a, NULL);
	ASSERT_RUN(run_rules("pii", pii_rule, false), 4, 0, 1, 1);
	assert_string_equal(finding("pii", "status", a), "resolved");
	/* Only some categories: the phone is not asked for, so plain.txt resolves. */
	sql("UPDATE chunks SET text = 'IBAN DE89370400440532013000' WHERE document_id = $1 AND ord = 2", a, NULL);
	ASSERT_RUN(run_rules("pii", "rules:\n- name: no-pii\n  kind: pii\n  classes: [marketing]\n  detect: [iban]\n", false),
		   4, 1, 1, 1);
	assert_string_equal(finding("pii", "message", a), "'flyer.pdf' holds 1 IBAN (page 3)");
	assert_string_equal(finding("pii", "status", a), "open");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integrity_flipped_byte_and_missing_object),
		cmocka_unit_test(test_integrity_sampling_covers_the_period),
		cmocka_unit_test(test_orphans),
		cmocka_unit_test(test_pii),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
