/* Compliance runs on real PostgreSQL (TEST_DATABASE_URL): the kinds expiry,
 * required_fields and audit_chain on documents whose fields are set by SQL with dates
 * relative to today (a leap day and other formats among them), reruns that change
 * nothing, auto-resolution, the run's audit row, dry runs, the findings operations and the
 * period report. Rules are built by hand, as the loader would build them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "compliance/compliance.h"
#include "db/db.h"
#include "svc/svc.h"

#include "harness.h"

static char url[512], root[64];
static struct plat_config *cfg;
static struct plat_services *services;
static struct plat_db *db;

static int setup(void **state)
{
	(void)state;
	int rc = harness_database("compliance", url, sizeof(url), &db);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	char surl[128];
	struct plat_error err = {0};
	if (harness_file_store("compliance", root, surl) < 0 || !(cfg = harness_config(url, surl)))
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

#define NEED_DB()                \
	do {                     \
		if (!db)         \
			skip();  \
	} while (0)

static void exec_ok(const char *sql, int n, const char *const *params)
{
	struct plat_error err = {0};
	if (plat_db_exec(db, sql, n, params, NULL, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
}

static long long scalar(const char *sql, int n, const char *const *params)
{
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(db, sql, n, params, &r, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
	long long v = PQgetisnull(r, 0, 0) ? -1 : atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static void new_tenant(const char *name, char *id)
{
	const char *params[] = {name};
	PGresult *r;
	struct plat_error err = {0};
	assert_int_equal(plat_db_exec(db, "INSERT INTO tenants (name) VALUES ($1) RETURNING id", 1, params, &r, &err), 0);
	snprintf(id, 37, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

/* A processed document with these fields (JSON) and tags; its id into id. */
static void new_doc(const char *tenant, const char *name, const char *cls, const char *fields, const char *tags,
		    char *id)
{
	static int n;
	char sha[65];
	snprintf(sha, sizeof(sha), "%064x", ++n);
	const char *params[] = {tenant, name, cls, fields, tags ? tags : "{}", sha};
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(db,
			 "INSERT INTO documents (tenant_id, name, content_type, size_bytes, sha256, storage_key, created_by,"
			 " status, class, fields, tags) VALUES ($1, $2, 'text/plain', 1, $6, $6, 'test', 'processed', $3,"
			 " $4::jsonb, $5::jsonb) RETURNING id",
			 6, params, &r, &err) < 0)
		fail_msg("insert %s: %s", name, err.message);
	snprintf(id, 37, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

/* Today + days as text in one of the formats the expiry kind reads. */
static void date_in(int days, const char *fmt, char *out)
{
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT to_char((now() AT TIME ZONE 'UTC')::date + %d, '%s')", days, fmt);
	PGresult *r;
	struct plat_error err = {0};
	assert_int_equal(plat_db_exec(db, sql, 0, NULL, &r, &err), 0);
	snprintf(out, 64, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

static char *strs1[] = {"contract"};
static char *expiry_fields[] = {"expires_on", "valid_until"};
static int steps[] = {90, 30, 7, 1};

static struct plat_rule expiry_rule(void)
{
	struct plat_rule r = {.name = "contracts-expiry", .kind = PLAT_RULE_EXPIRY, .severity = PLAT_SEV_MEDIUM,
			      .enabled = true, .classes = {strs1, 1}};
	r.u.expiry.fields = (struct plat_strings){expiry_fields, 2};
	r.u.expiry.within_days = 30;
	r.u.expiry.steps = steps;
	r.u.expiry.n_steps = 4;
	r.u.expiry.owner = "owner@example.com";
	r.u.expiry.backup = "backup@example.com";
	r.u.expiry.backup_from_days = 7;
	return r;
}

static int run(const char *tenant, const struct plat_rule_set *set, bool dry, int fail_on, cJSON **summary,
	       struct plat_error *err)
{
	struct plat_svc svc;
	plat_svc_init(&svc, services, &(struct plat_call){.tenant = tenant, .principal = "cron"});
	/* notify: nothing is configured, so nothing is sent, and reminders are recorded. */
	struct plat_compliance_options o = {.dry_run = dry, .fail_on = fail_on, .notify = true};
	int rc = plat_compliance_run_set(&svc, set, &o, summary, err);
	plat_svc_done(&svc);
	return rc;
}

static long long num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v))
		fail_msg("no number '%s'", key);
	return (long long)v->valuedouble;
}

static const cJSON *find_by(const cJSON *arr, const char *key, const char *value)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
		if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
			return e;
	}
	return NULL;
}

static const char *finding_message(const char *tenant, const char *doc)
{
	static char msg[256];
	const char *params[] = {tenant, doc};
	PGresult *r;
	struct plat_error err = {0};
	assert_int_equal(plat_db_exec(db,
				      "SELECT message, severity, status FROM findings WHERE tenant_id = $1 AND document_id = $2",
				      2, params, &r, &err),
			 0);
	if (PQntuples(r) == 0)
		snprintf(msg, sizeof(msg), "(none)");
	else
		snprintf(msg, sizeof(msg), "%s|%s|%s", PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 0));
	PQclear(r);
	return msg;
}

static void test_expiry(void **state)
{
	(void)state;
	NEED_DB();
	char t[37], soon[37], past[37], far[37], leap[37], german[37], words[37], arr[37], bad[37], other[37];
	new_tenant("expiry", t);
	char d[64], f[400];
	date_in(10, "YYYY-MM-DD", d);
	snprintf(f, sizeof(f), "{\"expires_on\": \"%s\"}", d);
	new_doc(t, "soon.pdf", "contract", f, NULL, soon);
	date_in(-3, "DD.MM.YYYY", d);
	snprintf(f, sizeof(f), "{\"valid_until\": \"%s\"}", d);
	new_doc(t, "past.pdf", "contract", f, NULL, past);
	date_in(200, "YYYY-MM-DD", d);
	snprintf(f, sizeof(f), "{\"expires_on\": \"%s\"}", d);
	new_doc(t, "far.pdf", "contract", f, NULL, far);
	/* A leap day, far ahead: a valid date, no finding; and 29.02 of a common year is not a date. */
	new_doc(t, "leap.pdf", "contract", "{\"expires_on\": \"2096-02-29\"}", NULL, leap);
	new_doc(t, "bad.pdf", "contract", "{\"expires_on\": \"29.02.2027\"}", NULL, bad);
	/* Written out, a leap day is a date too (far ahead: no finding), in either order. */
	char spelled[37], spelled2[37];
	new_doc(t, "spelled.pdf", "contract", "{\"valid_until\": \"February 29, 2096\"}", NULL, spelled);
	new_doc(t, "spelled2.pdf", "contract", "{\"valid_until\": \"29 Feb 2096\"}", NULL, spelled2);
	date_in(5, "DD/MM/YYYY", d);
	snprintf(f, sizeof(f), "{\"expires_on\": \"%s\"}", d);
	new_doc(t, "german.pdf", "contract", f, NULL, german);
	date_in(20, "FMDD FMMonth YYYY", d);
	snprintf(f, sizeof(f), "{\"expires_on\": \"%s\"}", d);
	new_doc(t, "words.pdf", "contract", f, NULL, words);
	/* An array: the earliest date not yet past counts (12 days), not the past one. */
	char a1[64], a2[64], a3[64];
	date_in(-40, "YYYY-MM-DD", a1);
	date_in(12, "Mon DD YYYY", a2);
	date_in(300, "YYYY-MM-DD", a3);
	snprintf(f, sizeof(f), "{\"expires_on\": [\"%s\", \"%s\", \"%s\"]}", a1, a2, a3);
	new_doc(t, "array.pdf", "contract", f, NULL, arr);
	date_in(1, "YYYY-MM-DD", d);
	snprintf(f, sizeof(f), "{\"expires_on\": \"%s\"}", d);
	new_doc(t, "invoice.pdf", "invoice", f, NULL, other); /* another class: not checked */

	struct plat_rule r = expiry_rule();
	struct plat_rule_set set = {.rules = &r, .n = 1};
	cJSON *s = NULL;
	struct plat_error err = {0};
	assert_int_equal(run("expiry", &set, false, PLAT_SEV_HIGH, &s, &err), 0);
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(s, "rules");
	const cJSON *e = cJSON_GetArrayItem(rules, 0);
	assert_int_equal(num(e, "checked"), 10);
	/* soon, past, bad, german, words, array */
	assert_int_equal(num(s, "opened"), 6);
	assert_int_equal(num(s, "resolved"), 0);
	assert_int_equal(num(s, "open"), 6);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "failed"))); /* past: high */
	assert_true(strstr(finding_message(t, soon), "open|medium|'soon.pdf' expires on ") != NULL);
	assert_true(strstr(finding_message(t, soon), "(in 10 days)") != NULL);
	assert_true(strstr(finding_message(t, past), "open|high|'past.pdf' expired on ") != NULL);
	assert_true(strstr(finding_message(t, past), "(3 days ago)") != NULL);
	assert_true(strstr(finding_message(t, german), "(in 5 days)") != NULL);
	assert_true(strstr(finding_message(t, words), "(in 20 days)") != NULL);
	assert_true(strstr(finding_message(t, arr), "(in 12 days)") != NULL);
	assert_true(strstr(finding_message(t, bad), "is not a date") != NULL);
	assert_string_equal(finding_message(t, far), "(none)");
	assert_string_equal(finding_message(t, leap), "(none)");
	assert_string_equal(finding_message(t, spelled), "(none)");
	assert_string_equal(finding_message(t, spelled2), "(none)");
	assert_string_equal(finding_message(t, other), "(none)");
	/* Reminders: soon (10 days: step 30), past (step 1, with the backup), german (7, backup),
	 * words (30), array (30), far: none yet (200 > 90). */
	const cJSON *rem = cJSON_GetObjectItemCaseSensitive(s, "reminders");
	assert_int_equal(cJSON_GetArraySize(rem), 5);
	const cJSON *g = find_by(rem, "name", "german.pdf");
	assert_non_null(g);
	assert_int_equal(num(g, "step"), 7);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "to")), 2);
	const cJSON *so = find_by(rem, "name", "soon.pdf");
	assert_int_equal(num(so, "step"), 30);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(so, "to")), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "findings")), 6);
	const char *tp[] = {t};
	assert_int_equal(scalar("SELECT count(*) FROM expiry_reminders WHERE tenant_id = $1", 1, tp), 5);
	/* The run's row and its audit row, naming the opened findings. */
	const char *run_id = cJSON_GetObjectItemCaseSensitive(s, "run_id")->valuestring;
	const char *rp[] = {t, run_id};
	assert_int_equal(scalar("SELECT count(*) FROM compliance_runs WHERE tenant_id = $1 AND id = $2"
				" AND status = 'succeeded' AND (summary->>'opened')::int = 6",
				2, rp),
			 1);
	assert_int_equal(scalar("SELECT jsonb_array_length(details->'opened_ids') FROM audit_log WHERE tenant_id = $1"
				" AND action = 'compliance.run' AND object_id = $2 AND principal = 'system'",
				2, rp),
			 6);
	assert_int_equal(scalar("SELECT (details->>'reminders')::int FROM audit_log WHERE tenant_id = $1"
				" AND action = 'compliance.run' AND object_id = $2",
				2, rp),
			 5);
	cJSON_Delete(s);

	/* Rerun, nothing changed: nothing opened or resolved, no reminder twice. */
	assert_int_equal(run("expiry", &set, false, PLAT_SEV_HIGH, &s, &err), 0);
	assert_int_equal(num(s, "opened"), 0);
	assert_int_equal(num(s, "resolved"), 0);
	assert_int_equal(num(s, "open"), 6);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "reminders")), 0);
	cJSON_Delete(s);
	assert_int_equal(scalar("SELECT max(times_seen) FROM findings WHERE tenant_id = $1", 1, tp), 2);

	/* Renewed: soon's date moves a year on, and the finding resolves. */
	date_in(400, "YYYY-MM-DD", d);
	snprintf(f, sizeof(f), "{\"expires_on\": \"%s\"}", d);
	const char *up[] = {soon, f};
	exec_ok("UPDATE documents SET fields = $2::jsonb WHERE id = $1", 2, up);
	/* A dry run sees it and changes nothing. */
	long long audit_rows = scalar("SELECT count(*) FROM audit_log WHERE tenant_id = $1", 1, tp);
	assert_int_equal(run("expiry", &set, true, PLAT_SEV_HIGH, &s, &err), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "dry_run")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(s, "run_id")));
	assert_int_equal(num(s, "resolved"), 1);
	cJSON_Delete(s);
	assert_true(strstr(finding_message(t, soon), "open|") == finding_message(t, soon));
	assert_int_equal(scalar("SELECT count(*) FROM audit_log WHERE tenant_id = $1", 1, tp), audit_rows);
	assert_int_equal(scalar("SELECT count(*) FROM compliance_runs WHERE tenant_id = $1", 1, tp), 2);
	/* The real run resolves it. */
	assert_int_equal(run("expiry", &set, false, PLAT_SEV_CRITICAL, &s, &err), 0);
	assert_int_equal(num(s, "opened"), 0);
	assert_int_equal(num(s, "resolved"), 1);
	assert_int_equal(num(s, "open"), 5);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "failed"))); /* nothing critical */
	cJSON_Delete(s);
	assert_true(strstr(finding_message(t, soon), "resolved|") == finding_message(t, soon));
	const char *sp[] = {soon};
	assert_int_equal(scalar("SELECT count(*) FROM findings WHERE document_id = $1 AND resolved_by = 'system'", 1, sp), 1);
	/* Lapsing again reopens it, counted as opened. */
	date_in(2, "YYYY-MM-DD", d);
	snprintf(f, sizeof(f), "{\"expires_on\": \"%s\"}", d);
	const char *up2[] = {soon, f};
	exec_ok("UPDATE documents SET fields = $2::jsonb WHERE id = $1", 2, up2);
	assert_int_equal(run("expiry", &set, false, PLAT_SEV_CRITICAL, &s, &err), 0);
	assert_int_equal(num(s, "opened"), 1);
	assert_int_equal(num(s, "resolved"), 0);
	cJSON_Delete(s);
	assert_true(strstr(finding_message(t, soon), "open|medium|") == finding_message(t, soon));
}

static char *req_fields[] = {"parties", "signed_on"};
static char *req_tags[] = {"owner"};

static void test_required_and_chain(void **state)
{
	(void)state;
	NEED_DB();
	char t[37], ok[37], none[37], blank[37], notag[37];
	new_tenant("required", t);
	new_doc(t, "ok.pdf", "contract", "{\"parties\": [\"A\"], \"signed_on\": \"2026-01-01\"}", "{\"owner\": \"x\"}", ok);
	new_doc(t, "none.pdf", "contract", "{}", NULL, none);
	new_doc(t, "blank.pdf", "contract", "{\"parties\": [], \"signed_on\": \"  \"}", "{\"owner\": \"x\"}", blank);
	new_doc(t, "notag.pdf", "contract", "{\"parties\": [\"A\"], \"signed_on\": \"2026-01-01\"}", NULL, notag);
	struct plat_rule rules[3] = {
		{.name = "contracts-required", .kind = PLAT_RULE_REQUIRED_FIELDS, .severity = PLAT_SEV_LOW, .enabled = true},
		{.name = "chain", .kind = PLAT_RULE_AUDIT_CHAIN, .severity = PLAT_SEV_MEDIUM, .enabled = true},
		{.name = "not-built", .kind = PLAT_RULE__COUNT, .severity = PLAT_SEV_LOW, .enabled = false},
	};
	rules[0].u.required.fields = (struct plat_strings){req_fields, 2};
	rules[0].u.required.tags = (struct plat_strings){req_tags, 1};
	struct plat_rule_set set = {.rules = rules, .n = 3};
	cJSON *s = NULL;
	struct plat_error err = {0};
	assert_int_equal(run("required", &set, false, PLAT_SEV_CRITICAL, &s, &err), 0);
	assert_int_equal(num(s, "opened"), 3);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "failed")));
	cJSON_Delete(s);
	assert_string_equal(finding_message(t, ok), "(none)");
	assert_string_equal(finding_message(t, none), "open|low|'none.pdf' lacks fields parties, signed_on and tag owner");
	assert_string_equal(finding_message(t, blank), "open|low|'blank.pdf' lacks fields parties, signed_on");
	assert_string_equal(finding_message(t, notag), "open|low|'notag.pdf' lacks tag owner");

	/* Break the chain (the run wrote a row): one critical finding; fail_on critical fails. */
	const char *tp[] = {t};
	exec_ok("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change", 0, NULL);
	exec_ok("UPDATE audit_log SET details = details || '{\"x\": 1}' WHERE tenant_id = $1", 1, tp);
	exec_ok("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change", 0, NULL);
	assert_int_equal(run("required", &set, false, PLAT_SEV_CRITICAL, &s, &err), 0);
	assert_int_equal(num(s, "opened"), 1);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "failed")));
	assert_int_equal(num(cJSON_GetObjectItemCaseSensitive(s, "open_by_severity"), "critical"), 1);
	cJSON_Delete(s);
	assert_int_equal(scalar("SELECT count(*) FROM findings WHERE tenant_id = $1 AND fingerprint = 'chain'"
				" AND severity = 'critical' AND details->>'reason' = 'row edited'",
				1, tp),
			 1);

	/* A rule whose kind this build cannot evaluate: its entry has the error, the others
	 * still run and are stored, and the run fails. */
	rules[2].enabled = true;
	assert_int_equal(run("required", &set, false, PLAT_SEV_CRITICAL, &s, &err), -PLAT_E_FAILURE);
	assert_non_null(s);
	assert_non_null(strstr(err.message, "not available"));
	const cJSON *e = find_by(cJSON_GetObjectItemCaseSensitive(s, "rules"), "name", "not-built");
	assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "error")));
	cJSON_Delete(s);
	assert_int_equal(scalar("SELECT count(*) FROM compliance_runs WHERE tenant_id = $1 AND status = 'failed'", 1, tp),
			 1);
}

/* run.c's key for a tenant (FNV-1a of "platctl.compliance:" and the id): a copy, so that
 * this test fails if the key changes without it. */
static long long lock_key(const char *tenant_id)
{
	uint64_t h = 1469598103934665603ULL;
	const char *parts[] = {"platctl.compliance:", tenant_id};
	for (size_t p = 0; p < 2; p++)
		for (const unsigned char *c = (const unsigned char *)parts[p]; *c; c++)
			h = (h ^ *c) * 1099511628211ULL;
	return (long long)(h & 0x7fffffffffffffffULL);
}

/* A second run of the tenant while another session holds its lock is skipped and changes
 * nothing; another tenant is not held up; the lock is given back after a run. */
static void test_lock(void **state)
{
	(void)state;
	NEED_DB();
	char t[37], other[37];
	new_tenant("locked", t);
	new_tenant("unlocked", other);
	struct plat_rule r = {.name = "chain", .kind = PLAT_RULE_AUDIT_CHAIN, .severity = PLAT_SEV_MEDIUM, .enabled = true};
	struct plat_rule_set set = {.rules = &r, .n = 1};
	cJSON *s = NULL;
	struct plat_error err = {0};
	bool got = false;
	assert_int_equal(plat_db_advisory_lock(db, lock_key(t), false, &got, &err), 0);
	assert_true(got);
	assert_int_equal(run("locked", &set, false, PLAT_SEV_HIGH, &s, &err), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "skipped")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(s, "reason")->valuestring, "already running");
	cJSON_Delete(s);
	const char *tp[] = {t};
	assert_int_equal(scalar("SELECT count(*) FROM compliance_runs WHERE tenant_id = $1", 1, tp), 0);
	assert_int_equal(run("unlocked", &set, false, PLAT_SEV_HIGH, &s, &err), 0);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "skipped")));
	cJSON_Delete(s);
	assert_int_equal(plat_db_advisory_unlock(db, lock_key(t), &err), 0);
	assert_int_equal(run("locked", &set, false, PLAT_SEV_HIGH, &s, &err), 0);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "skipped")));
	cJSON_Delete(s);
	assert_int_equal(scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", 0, NULL), 0);
}

static void test_findings_and_report(void **state)
{
	(void)state;
	NEED_DB();
	char t[37], doc[37];
	new_tenant("findings", t);
	new_doc(t, "none.pdf", NULL, "{}", NULL, doc);
	struct plat_rule r = {.name = "req", .kind = PLAT_RULE_REQUIRED_FIELDS, .severity = PLAT_SEV_HIGH, .enabled = true};
	r.u.required.fields = (struct plat_strings){req_fields, 1};
	struct plat_rule_set set = {.rules = &r, .n = 1};
	cJSON *s = NULL, *out = NULL;
	struct plat_error err = {0};
	assert_int_equal(run("findings", &set, false, PLAT_SEV_HIGH, &s, &err), 0);
	cJSON_Delete(s);
	struct plat_svc svc;
	plat_svc_init(&svc, services, &(struct plat_call){.tenant = "findings", .principal = "admin"});
	struct plat_findings_filter f = {.status = "open", .min_severity = PLAT_SEV_HIGH, .limit = 10};
	assert_int_equal(plat_compliance_findings_list(&svc, &f, &out, &err), 0);
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(out, "findings");
	assert_int_equal(cJSON_GetArraySize(list), 1);
	char id[37];
	snprintf(id, sizeof(id), "%s", cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "id")->valuestring);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "document_name")->valuestring,
			    "none.pdf");
	cJSON_Delete(out);
	f.min_severity = PLAT_SEV_CRITICAL;
	assert_int_equal(plat_compliance_findings_list(&svc, &f, &out, &err), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(out, "findings")), 0);
	cJSON_Delete(out);
	/* Bad filters name the parameter. */
	struct plat_findings_filter bad = {.status = "gone", .min_severity = -1, .limit = 10};
	assert_int_equal(plat_compliance_findings_list(&svc, &bad, &out, &err), -PLAT_E_USAGE);
	assert_string_equal(err.param, "status");
	bad = (struct plat_findings_filter){.min_severity = -1, .limit = 10, .document_id = "nope"};
	assert_int_equal(plat_compliance_findings_list(&svc, &bad, &out, &err), -PLAT_E_USAGE);
	assert_int_equal(plat_compliance_findings_show(&svc, "00000000-0000-0000-0000-000000000000", &out, &err),
			 -PLAT_E_NOT_FOUND);
	assert_int_equal(plat_compliance_findings_show(&svc, "x", &out, &err), -PLAT_E_USAGE);
	/* ack: stays open, audited; resolve: resolved by the caller, audited; again: conflict. */
	assert_int_equal(plat_compliance_findings_ack(&svc, id, "seen", &out, &err), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "status")->valuestring, "open");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "acknowledged_by")->valuestring, "admin");
	cJSON_Delete(out);
	assert_int_equal(plat_compliance_findings_resolve(&svc, id, "fixed by hand", &out, &err), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "status")->valuestring, "resolved");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "resolved_by")->valuestring, "admin");
	cJSON_Delete(out);
	assert_int_equal(plat_compliance_findings_resolve(&svc, id, NULL, &out, &err), -PLAT_E_CONFLICT);
	assert_int_equal(plat_compliance_findings_ack(&svc, id, NULL, &out, &err), -PLAT_E_CONFLICT);
	const char *tp[] = {t, id};
	assert_int_equal(scalar("SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND object_id = $2"
				" AND action IN ('finding.ack', 'finding.resolve') AND principal = 'admin'",
				2, tp),
			 2);
	/* The report of the last day: one run, one opened, one resolved, none open. */
	assert_int_equal(plat_compliance_period_report(&svc, "1d", NULL, &out, &err), 0);
	assert_int_equal(num(cJSON_GetObjectItemCaseSensitive(out, "runs"), "count"), 1);
	assert_int_equal(num(out, "opened"), 1);
	assert_int_equal(num(out, "resolved"), 1);
	assert_int_equal(num(out, "open"), 0);
	cJSON_Delete(out);
	assert_int_equal(plat_compliance_period_report(&svc, "tomorrow", NULL, &out, &err), -PLAT_E_USAGE);
	assert_string_equal(err.param, "since");
	plat_svc_done(&svc);
	/* The still-missing field reopens it on the next run. */
	assert_int_equal(run("findings", &set, false, PLAT_SEV_HIGH, &s, &err), 0);
	assert_int_equal(num(s, "opened"), 1);
	cJSON_Delete(s);
}

/* Every kind the rule files accept can run: a kind that validates but has no evaluator
 * would fail every run that has such a rule. */
static void test_every_kind_runs(void **state)
{
	(void)state;
	for (int k = 0; k < PLAT_RULE__COUNT; k++) {
		const char *name = plat_rule_kind_name((enum plat_rule_kind)k);
		assert_non_null(name);
		assert_int_equal(plat_rule_kind_parse(name), k);
		if (!plat_compliance_kind_eval((enum plat_rule_kind)k))
			fail_msg("rule kind '%s' has no evaluator in lib/compliance/kinds.c", name);
	}
	assert_null(plat_compliance_kind_eval(PLAT_RULE__COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_runs),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_required_and_chain),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_findings_and_report),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
