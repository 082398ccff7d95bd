/* The run loop: one tenant's rules, evaluated under the tenant's advisory lock, in one
 * transaction that also stores the run's row and its audit row, so that what a run
 * changed and the record of it commit together or not at all. A dry run does the same
 * work and rolls it back, which makes its counts exactly those a real run would report.
 *
 * Findings are buffered and upserted in batches (one statement per batch, not per
 * finding): a rule over 100k documents costs a few hundred statements, not 100k. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit.h"
#include "auth/authz.h"
#include "clock/clock.h"
#include "compliance/compliance.h"
#include "db/db.h"
#include "log/log.h"
#include "mem/mem.h"
#include "notify/notify.h"

#define BATCH 500
/* The audit row names at most this many finding ids per list, and the counts. */
#define AUDIT_IDS_MAX 1000
/* The summary lists at most this many opened findings: a digest, not an export (the
 * findings themselves are in the findings table). */
#define DIGEST_MAX 1000

struct plat_compliance_run {
	struct plat_svc *svc;
	const struct plat_compliance_options *o;
	char id[37];
	long long open_by[PLAT_SEV__COUNT]; /* open findings of the rules run, by severity */
	bool dry;
	/* The rule being evaluated. */
	const struct plat_rule *rule;
	long long checked, opened, resolved;
	bool partial;
	cJSON *pending; /* finding reports not yet upserted */
	cJSON *rule_opened_ids, *rule_resolved_ids, *rule_findings, *rule_reminders;
	/* The run's, from the rules that completed. */
	cJSON *opened_ids, *resolved_ids, *findings, *reminders;
	long long n_opened, n_resolved;
};

struct plat_svc *plat_compliance_run_svc(struct plat_compliance_run *run)
{
	return run->svc;
}

bool plat_compliance_run_dry(const struct plat_compliance_run *run)
{
	return run->dry;
}

const char *plat_compliance_run_id(const struct plat_compliance_run *run)
{
	return run->id;
}

void plat_compliance_checked(struct plat_compliance_run *run, long long n)
{
	run->checked += n;
}

void plat_compliance_partial(struct plat_compliance_run *run)
{
	run->partial = true;
}

void plat_compliance_add_reminder(struct plat_compliance_run *run, cJSON *reminder)
{
	cJSON_AddItemToArray(run->rule_reminders, reminder);
}

const char *plat_compliance_classes_param(struct plat_compliance_run *run, const struct plat_rule *rule)
{
	if (rule->classes.n == 0)
		return NULL;
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < rule->classes.n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(rule->classes.items[i]));
	char *text = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	char *copy = plat_arena_strdup(&run->svc->arena, text ? text : "[]");
	free(text);
	return copy;
}

static void add_ids(cJSON *to, PGresult *res, int col)
{
	/* cJSON counts by walking the list: once per batch, not per id. */
	int room = AUDIT_IDS_MAX - cJSON_GetArraySize(to);
	for (int i = 0; i < PQntuples(res) && i < room; i++)
		cJSON_AddItemToArray(to, cJSON_CreateString(PQgetvalue(res, i, col)));
}

static const char *value_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static void add_string_or_null(cJSON *obj, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

/* Upsert the pending reports. A report whose fingerprint is reported twice in one batch
 * keeps the last one (ON CONFLICT cannot touch a row twice in one statement). A finding is
 * opened when it did not exist or was resolved; a suppressed one stays suppressed. */
static int flush(struct plat_compliance_run *run, struct plat_error *err)
{
	if (cJSON_GetArraySize(run->pending) == 0)
		return 0;
	char *batch = cJSON_PrintUnformatted(run->pending);
	cJSON_Delete(run->pending);
	run->pending = cJSON_CreateArray();
	if (!batch)
		return plat_error_set(err, PLAT_E_INTERNAL, "out of memory serialising findings");
	const struct plat_rule *r = run->rule;
	const char *params[] = {run->svc->tenant_id, r->name, plat_rule_kind_name(r->kind), batch, run->id};
	PGresult *res;
	int rc = plat_db_exec(
		run->svc->db,
		"WITH input AS MATERIALIZED ("
		"  SELECT DISTINCT ON (fingerprint) fingerprint, document_id::uuid AS document_id, object_key, severity,"
		"         message, coalesce(details, '{}') AS details"
		"  FROM jsonb_to_recordset($4::jsonb) AS x(ord int, fingerprint text, document_id text, object_key text,"
		"       severity text, message text, details jsonb)"
		"  ORDER BY fingerprint, ord DESC),"
		/* Materialized, and one index probe per report: inlined, the planner joined the
		 * batch against itself and the rule's findings, quadratic in the findings. */
		" prev AS MATERIALIZED (SELECT i.fingerprint, (SELECT f.status FROM findings f WHERE f.tenant_id = $1::uuid"
		"  AND f.rule = $2 AND f.fingerprint = i.fingerprint) AS status FROM input i),"
		" up AS ("
		"  INSERT INTO findings AS f (tenant_id, rule, kind, fingerprint, severity, document_id, object_key, message,"
		"                             details, last_run_id)"
		"  SELECT $1::uuid, $2, $3, fingerprint, severity, document_id, object_key, message, details, $5::uuid FROM input"
		"  ON CONFLICT (tenant_id, rule, fingerprint) DO UPDATE SET"
		"   last_seen_at = now(), last_run_id = EXCLUDED.last_run_id, times_seen = f.times_seen + 1,"
		"   kind = EXCLUDED.kind, severity = EXCLUDED.severity, message = EXCLUDED.message,"
		"   details = EXCLUDED.details, document_id = EXCLUDED.document_id, object_key = EXCLUDED.object_key,"
		"   status = CASE WHEN f.status = 'resolved' THEN 'open' ELSE f.status END,"
		"   first_seen_at = CASE WHEN f.status = 'resolved' THEN now() ELSE f.first_seen_at END,"
		"   resolved_at = CASE WHEN f.status = 'resolved' THEN NULL ELSE f.resolved_at END,"
		"   resolved_by = CASE WHEN f.status = 'resolved' THEN NULL ELSE f.resolved_by END,"
		"   acknowledged_at = CASE WHEN f.status = 'resolved' THEN NULL ELSE f.acknowledged_at END,"
		"   acknowledged_by = CASE WHEN f.status = 'resolved' THEN NULL ELSE f.acknowledged_by END"
		"  RETURNING f.id, f.fingerprint, f.status, f.severity, f.message, f.document_id)"
		" SELECT up.id, up.severity, up.message, up.document_id, d.name"
		" FROM up LEFT JOIN prev USING (fingerprint) LEFT JOIN documents d ON d.id = up.document_id"
		" WHERE up.status = 'open' AND (prev.status IS NULL OR prev.status = 'resolved')"
		" ORDER BY d.name, up.id",
		5, params, &res, err);
	free(batch);
	if (rc < 0)
		return rc;
	int n = PQntuples(res);
	/* The digest lists the first DIGEST_MAX findings a run opened: no more are kept, so a
	 * first run over 100k documents does not hold them all. */
	long long listed = run->n_opened + run->opened;
	run->opened += n;
	add_ids(run->rule_opened_ids, res, 0);
	for (int i = 0; i < n && listed + i < DIGEST_MAX; i++) {
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "id", PQgetvalue(res, i, 0));
		cJSON_AddStringToObject(f, "rule", r->name);
		cJSON_AddStringToObject(f, "severity", PQgetvalue(res, i, 1));
		cJSON_AddStringToObject(f, "message", PQgetvalue(res, i, 2));
		add_string_or_null(f, "document_id", value_or_null(res, i, 3));
		add_string_or_null(f, "name", value_or_null(res, i, 4));
		cJSON_AddItemToArray(run->rule_findings, f);
	}
	PQclear(res);
	return 0;
}

int plat_compliance_report(struct plat_compliance_run *run, const struct plat_rule *rule,
			   const struct plat_finding_report *f, struct plat_error *err)
{
	if (rule != run->rule)
		return plat_error_set(err, PLAT_E_INTERNAL, "rule '%s' reported a finding outside its evaluation", rule->name);
	const char *fp = f->fingerprint ? f->fingerprint : f->document_id ? f->document_id : f->object_key;
	if (!fp || !*fp)
		return plat_error_set(err, PLAT_E_INTERNAL, "rule '%s' reported a finding without a fingerprint", rule->name);
	if (!f->message || !*f->message)
		return plat_error_set(err, PLAT_E_INTERNAL, "rule '%s' reported a finding without a message", rule->name);
	int sev = f->severity >= 0 && f->severity < PLAT_SEV__COUNT ? f->severity : (int)rule->severity;
	cJSON *item = cJSON_CreateObject();
	cJSON_AddNumberToObject(item, "ord", cJSON_GetArraySize(run->pending));
	cJSON_AddStringToObject(item, "fingerprint", fp);
	add_string_or_null(item, "document_id", f->document_id);
	add_string_or_null(item, "object_key", f->object_key);
	cJSON_AddStringToObject(item, "severity", plat_severity_name((enum plat_severity)sev));
	cJSON_AddStringToObject(item, "message", f->message);
	if (cJSON_IsObject(f->details))
		cJSON_AddItemToObject(item, "details", cJSON_Duplicate(f->details, 1));
	cJSON_AddItemToArray(run->pending, item);
	return cJSON_GetArraySize(run->pending) >= BATCH ? flush(run, err) : 0;
}

static int resolve_where(struct plat_compliance_run *run, const char *sql, int nparams, const char *const *params,
			 struct plat_error *err)
{
	PGresult *res;
	int rc = plat_db_exec(run->svc->db, sql, nparams, params, &res, err);
	if (rc < 0)
		return rc;
	run->resolved += PQntuples(res);
	add_ids(run->rule_resolved_ids, res, 0);
	PQclear(res);
	return 0;
}

int plat_compliance_resolve(struct plat_compliance_run *run, const struct plat_rule *rule, const char *fingerprint,
			    struct plat_error *err)
{
	int rc = flush(run, err);
	if (rc < 0)
		return rc;
	const char *params[] = {run->svc->tenant_id, rule->name, fingerprint};
	return resolve_where(run,
			     "UPDATE findings SET status = 'resolved', resolved_at = now(), resolved_by = 'system'"
			     " WHERE tenant_id = $1::uuid AND rule = $2 AND fingerprint = $3 AND status = 'open' RETURNING id",
			     3, params, err);
}

/* ---- one rule ---- */

/* The rule's open findings, added by severity to the run's totals. Counted inside the
 * rule's transaction, so that a dry run counts what it would leave. */
static long long count_open(struct plat_compliance_run *run, const char *rule, struct plat_error *err)
{
	const char *params[] = {run->svc->tenant_id, rule};
	PGresult *res;
	if (plat_db_exec(run->svc->db,
			 "SELECT severity, count(*) FROM findings WHERE tenant_id = $1::uuid AND rule = $2 AND status = 'open'"
			 " GROUP BY severity",
			 2, params, &res, err) < 0)
		return -1;
	long long n = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		int sev = plat_severity_parse(PQgetvalue(res, i, 0));
		long long k = atoll(PQgetvalue(res, i, 1));
		if (sev >= 0)
			run->open_by[sev] += k;
		n += k;
	}
	PQclear(res);
	return n;
}

static void reset_rule(struct plat_compliance_run *run, const struct plat_rule *r)
{
	run->rule = r;
	run->checked = run->opened = run->resolved = 0;
	run->partial = false;
	cJSON_Delete(run->pending);
	cJSON_Delete(run->rule_opened_ids);
	cJSON_Delete(run->rule_resolved_ids);
	cJSON_Delete(run->rule_findings);
	cJSON_Delete(run->rule_reminders);
	run->pending = cJSON_CreateArray();
	run->rule_opened_ids = cJSON_CreateArray();
	run->rule_resolved_ids = cJSON_CreateArray();
	run->rule_findings = cJSON_CreateArray();
	run->rule_reminders = cJSON_CreateArray();
}

static void move_items(cJSON *to, cJSON *from, size_t cap)
{
	cJSON *item;
	while ((item = cJSON_DetachItemFromArray(from, 0)) != NULL) {
		if (cap && (size_t)cJSON_GetArraySize(to) >= cap)
			cJSON_Delete(item);
		else
			cJSON_AddItemToArray(to, item);
	}
}

static int evaluate(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err)
{
	plat_compliance_eval_fn eval = plat_compliance_kind_eval(r->kind);
	if (!eval)
		return plat_error_set(err, PLAT_E_FAILURE, "rule kind '%s' is not available in this build",
				      plat_rule_kind_name(r->kind));
	int rc = eval(run, r, err);
	if (rc == 0)
		rc = flush(run, err);
	/* What the rule did not report this time no longer holds, unless the rule only
	 * looked at part of its scope and resolves by itself. */
	if (rc == 0 && !run->partial) {
		const char *params[] = {run->svc->tenant_id, r->name, run->id};
		rc = resolve_where(run,
				   "UPDATE findings SET status = 'resolved', resolved_at = now(), resolved_by = 'system'"
				   " WHERE tenant_id = $1::uuid AND rule = $2 AND status = 'open'"
				   " AND last_run_id IS DISTINCT FROM $3::uuid RETURNING id",
				   3, params, err);
	}
	return rc;
}

/* One rule in its own transaction, so that what it locks (the audit chain's head, the
 * content of documents it destroys) is held for that rule only, not for the rules after it
 * (integrity reads every object). A dry run rolls each back. Returns < 0 only when the run
 * cannot go on (the database went away); a rule's own failure is recorded in its entry and
 * *failed. */
static int run_rule(struct plat_compliance_run *run, const struct plat_rule *r, cJSON *entries, int *failed,
		    struct plat_error *run_err)
{
	struct plat_db *db = run->svc->db;
	long long t0 = plat_clock_ms();
	reset_rule(run, r);
	long long open_before[PLAT_SEV__COUNT];
	memcpy(open_before, run->open_by, sizeof(open_before));
	int rc = plat_db_begin(db, run_err);
	if (rc < 0)
		return rc;
	struct plat_error err = {0};
	rc = evaluate(run, r, &err);
	long long open = -1;
	if (rc == 0)
		open = count_open(run, r->name, &err); /* inside: a dry run counts what it would leave */
	if (open < 0 && rc == 0)
		rc = -(int)err.kind;
	if (rc == 0 && run->dry)
		plat_db_rollback(db);
	else if (rc == 0)
		rc = plat_db_commit(db, &err);
	if (rc < 0) {
		if (err.kind == PLAT_E_UNAVAILABLE) {
			*run_err = err;
			return -(int)err.kind;
		}
		struct plat_error ignored = {0};
		plat_db_rollback(db);
		memcpy(run->open_by, open_before, sizeof(open_before)); /* counted again below, as stored */
		plat_log(PLAT_LOG_ERROR, "compliance rule failed", "rule", r->name, "error", err.message, (const char *)NULL);
		if (!*failed)
			*run_err = err;
		*failed = 1;
		run->opened = run->resolved = 0;
		open = count_open(run, r->name, &ignored);
		if (open < 0 && ignored.kind == PLAT_E_UNAVAILABLE) {
			*run_err = ignored;
			return -(int)ignored.kind;
		}
	} else {
		move_items(run->opened_ids, run->rule_opened_ids, AUDIT_IDS_MAX);
		move_items(run->resolved_ids, run->rule_resolved_ids, AUDIT_IDS_MAX);
		move_items(run->findings, run->rule_findings, DIGEST_MAX);
		move_items(run->reminders, run->rule_reminders, 0);
		run->n_opened += run->opened;
		run->n_resolved += run->resolved;
	}
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", r->name);
	cJSON_AddStringToObject(e, "kind", plat_rule_kind_name(r->kind));
	cJSON_AddStringToObject(e, "severity", plat_severity_name(r->severity));
	cJSON_AddNumberToObject(e, "checked", (double)run->checked);
	cJSON_AddNumberToObject(e, "opened", (double)run->opened);
	cJSON_AddNumberToObject(e, "resolved", (double)run->resolved);
	cJSON_AddNumberToObject(e, "open", open < 0 ? 0 : (double)open);
	cJSON_AddNumberToObject(e, "duration_ms", (double)(plat_clock_ms() - t0));
	if (rc < 0)
		cJSON_AddStringToObject(e, "error", err.message);
	else
		cJSON_AddNullToObject(e, "error");
	cJSON_AddItemToArray(entries, e);
	return 0;
}

/* ---- the run ---- */

static bool selected(const struct plat_rule *r, const struct plat_compliance_options *o)
{
	if (o->only)
		return strcmp(r->name, o->only) == 0; /* named explicitly: run even when disabled */
	if (!r->enabled)
		return false;
	return o->kinds == 0 || (o->kinds & (1u << r->kind)) != 0;
}

/* The tenant's lock key: FNV-1a over a namespace and the tenant id, so that tenants run in
 * parallel and no other user of advisory locks (migrations) collides by accident. */
static long long lock_key(const char *tenant_id)
{
	uint64_t h = 1469598103934665603ULL;
	const char *parts[] = {"platctl.compliance:", tenant_id};
	for (size_t p = 0; p < 2; p++)
		for (const unsigned char *c = (const unsigned char *)parts[p]; *c; c++)
			h = (h ^ *c) * 1099511628211ULL;
	return (long long)(h & 0x7fffffffffffffffULL);
}

static cJSON *skipped(void)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddBoolToObject(s, "skipped", true);
	cJSON_AddStringToObject(s, "reason", "already running");
	return s;
}

/* Open findings of the rules that ran, by severity, and whether any is at or above fail_on.
 * Acknowledged findings count: acknowledging is not fixing. */
static int totals(struct plat_compliance_run *run, cJSON *summary)
{
	long long open = 0;
	bool failed = false;
	for (int sev = 0; sev < PLAT_SEV__COUNT; sev++) {
		open += run->open_by[sev];
		if (sev >= run->o->fail_on && run->open_by[sev] > 0)
			failed = true;
	}
	cJSON_AddNumberToObject(summary, "open", (double)open);
	cJSON *obs = cJSON_AddObjectToObject(summary, "open_by_severity");
	for (int sev = 0; sev < PLAT_SEV__COUNT; sev++)
		cJSON_AddNumberToObject(obs, plat_severity_name((enum plat_severity)sev), (double)run->open_by[sev]);
	cJSON_AddStringToObject(summary, "fail_on", run->o->fail_on == PLAT_SEV__COUNT
							    ? "none"
							    : plat_severity_name((enum plat_severity)run->o->fail_on));
	cJSON_AddBoolToObject(summary, "failed", failed);
	return 0;
}

static int store_results(struct plat_compliance_run *run, cJSON *summary, bool rule_failed, struct plat_error *err)
{
	struct plat_svc *svc = run->svc;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "rules", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(summary, "rules")));
	cJSON_AddNumberToObject(d, "opened", (double)run->n_opened);
	cJSON_AddNumberToObject(d, "resolved", (double)run->n_resolved);
	cJSON_AddItemToObject(d, "open", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(summary, "open"), 1));
	cJSON_AddBoolToObject(d, "failed", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(summary, "failed")));
	cJSON_AddBoolToObject(d, "rule_failed", rule_failed);
	cJSON_AddNumberToObject(d, "reminders",
				cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(summary, "reminders")));
	cJSON_AddItemToObject(d, "opened_ids", cJSON_Duplicate(run->opened_ids, 1));
	cJSON_AddItemToObject(d, "resolved_ids", cJSON_Duplicate(run->resolved_ids, 1));
	cJSON_AddBoolToObject(d, "ids_truncated",
			      run->n_opened > AUDIT_IDS_MAX || run->n_resolved > AUDIT_IDS_MAX);
	char *details = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	/* The stored summary leaves out the lists: the findings and reminders have their
	 * own tables, and a run that opens 50k findings should not store them twice. */
	cJSON *stored = cJSON_Duplicate(summary, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(stored, "findings");
	cJSON_DeleteItemFromObjectCaseSensitive(stored, "reminders");
	cJSON_AddNumberToObject(stored, "reminders_sent",
				cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(summary, "reminders")));
	char *text = cJSON_PrintUnformatted(stored);
	cJSON_Delete(stored);
	const char *params[] = {run->id, rule_failed ? "failed" : "succeeded", text ? text : "{}"};
	int rc = plat_db_begin(svc->db, err);
	if (rc == 0)
		rc = plat_db_exec(svc->db,
				  "UPDATE compliance_runs SET finished_at = now(), status = $2, summary = $3::jsonb"
				  " WHERE id = $1::uuid",
				  3, params, NULL, err);
	if (rc == 0)
		rc = plat_audit_append(svc->db, svc->tenant_id, PLAT_SYSTEM_PRINCIPAL, "compliance.run", "compliance_run",
				       run->id, svc->request_id, details ? details : "{}", err);
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	else
		plat_db_rollback(svc->db);
	free(text);
	free(details);
	return rc;
}

static void run_free(struct plat_compliance_run *run)
{
	cJSON_Delete(run->pending);
	cJSON_Delete(run->rule_opened_ids);
	cJSON_Delete(run->rule_resolved_ids);
	cJSON_Delete(run->rule_findings);
	cJSON_Delete(run->rule_reminders);
	cJSON_Delete(run->opened_ids);
	cJSON_Delete(run->resolved_ids);
	cJSON_Delete(run->findings);
	cJSON_Delete(run->reminders);
}

/* The run's row, every selected rule (each in its transaction), the totals, the results. */
static int run_rules(struct plat_compliance_run *run, const struct plat_rule_set *set, cJSON *summary,
		     struct plat_error *err)
{
	struct plat_svc *svc = run->svc;
	PGresult *res;
	const char *params[] = {svc->tenant_id, PLAT_SYSTEM_PRINCIPAL};
	/* A real run is visible (status running) from its start; a dry run stores nothing. */
	int rc = plat_db_exec(svc->db,
			      run->dry ? "SELECT gen_random_uuid(),"
					 " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
					 " WHERE $1::uuid IS NOT NULL AND $2::text IS NOT NULL"
				       : "INSERT INTO compliance_runs (tenant_id, principal) VALUES ($1::uuid, $2)"
					 " RETURNING id, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
			      2, params, &res, err);
	if (rc < 0)
		return rc;
	snprintf(run->id, sizeof(run->id), "%s", PQgetvalue(res, 0, 0));
	if (run->dry)
		cJSON_AddNullToObject(summary, "run_id");
	else
		cJSON_AddStringToObject(summary, "run_id", run->id);
	cJSON_AddStringToObject(summary, "tenant", svc->tenant);
	cJSON_AddBoolToObject(summary, "skipped", false);
	cJSON_AddBoolToObject(summary, "dry_run", run->dry);
	cJSON_AddStringToObject(summary, "started_at", PQgetvalue(res, 0, 1));
	PQclear(res);
	long long t0 = plat_clock_ms();
	cJSON *entries = cJSON_CreateArray();
	int failed = 0;
	struct plat_error rule_err = {0};
	for (size_t i = 0; i < set->n && rc == 0; i++) {
		const struct plat_rule *r = &set->rules[i];
		if (!selected(r, run->o))
			continue;
		rc = run_rule(run, r, entries, &failed, &rule_err);
	}
	if (rc < 0) {
		*err = rule_err;
		cJSON_Delete(entries);
		return rc;
	}
	long long checked = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, entries)
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "checked");
		checked += cJSON_IsNumber(c) ? (long long)c->valuedouble : 0;
	}
	cJSON_AddNumberToObject(summary, "duration_ms", 0);
	cJSON_AddItemToObject(summary, "rules", entries);
	cJSON_AddNumberToObject(summary, "documents_checked", (double)checked);
	cJSON_AddNumberToObject(summary, "opened", (double)run->n_opened);
	cJSON_AddNumberToObject(summary, "resolved", (double)run->n_resolved);
	rc = totals(run, summary);
	if (rc < 0)
		return rc;
	cJSON_AddNullToObject(summary, "notified");
	cJSON_AddItemToObject(summary, "reminders", run->reminders);
	cJSON_AddItemToObject(summary, "findings", run->findings);
	run->reminders = run->findings = NULL;
	cJSON_ReplaceItemInObjectCaseSensitive(summary, "duration_ms", cJSON_CreateNumber((double)(plat_clock_ms() - t0)));
	if (!run->dry && (rc = store_results(run, summary, failed != 0, err)) < 0)
		return rc;
	if (failed) {
		*err = rule_err;
		return 1; /* stored, but the run failed */
	}
	return 0;
}

/* Reminders are recorded as sent in the rule's transaction, before any mail goes out: the
 * ones of a run told not to notify (to: NULL) or whose e-mail failed (to that recipient)
 * are forgotten again, so that the next run sends them. With nothing configured they stay
 * recorded: the run's summary (and any webhook) listed them, and the next runs do not
 * repeat them. */
static void forget_reminders(struct plat_svc *svc, const cJSON *summary, const char *to)
{
	const cJSON *rem;
	cJSON_ArrayForEach(rem, cJSON_GetObjectItemCaseSensitive(summary, "reminders"))
	{
		bool theirs = !to;
		const cJSON *addr;
		cJSON_ArrayForEach(addr, cJSON_GetObjectItemCaseSensitive(rem, "to"))
			if (to && cJSON_IsString(addr) && strcasecmp(addr->valuestring, to) == 0)
				theirs = true;
		const char *rule = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rem, "rule"));
		const char *doc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rem, "document_id"));
		const char *on = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rem, "expires_on"));
		const cJSON *step = cJSON_GetObjectItemCaseSensitive(rem, "step");
		if (!theirs || !rule || !doc || !on || !cJSON_IsNumber(step))
			continue;
		char step_text[16];
		snprintf(step_text, sizeof(step_text), "%d", step->valueint);
		const char *params[] = {svc->tenant_id, rule, doc, on, step_text};
		struct plat_error derr = {0};
		if (plat_db_exec(svc->db,
				 "DELETE FROM expiry_reminders WHERE tenant_id = $1 AND rule = $2 AND document_id = $3"
				 " AND expires_on = $4::date AND step_days = $5::int",
				 5, params, NULL, &derr) < 0)
			plat_log(PLAT_LOG_WARN, "a reminder not sent stays recorded as sent", "error", derr.message,
				 (const char *)NULL);
	}
}

static void forget_failed_reminders(struct plat_svc *svc, const cJSON *summary, const cJSON *notified)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(notified, "reminder_errors"))
	{
		const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "to"));
		if (to)
			forget_reminders(svc, summary, to);
	}
}

/* After the run committed: one digest for the run, then the heartbeat. A notification that
 * fails does not undo the run (its findings are stored); it is in the summary's "notified",
 * logged, and the heartbeat is not pinged, so that a monitor notices. */
static void notify_run(struct plat_svc *svc, cJSON *summary, bool run_ok)
{
	struct plat_notify_config c;
	plat_notify_config_from(svc->cfg, &c);
	cJSON *notified = NULL;
	struct plat_error nerr = {0};
	int rc = plat_notify_digest(&c, svc->db, svc->tenant_id, summary, &notified, &nerr);
	if (rc < 0) {
		plat_log(PLAT_LOG_WARN, "compliance notifications failed", "error", nerr.message, (const char *)NULL);
		forget_failed_reminders(svc, summary, notified);
	}
	if (!notified)
		notified = cJSON_CreateObject();
	/* A channel is configured but none carried the reminders (the webhook failed, the
	 * e-mail is not set up completely): they have reached nobody, so the next run sends
	 * them again. With nothing configured at all, the run's summary was their only outlet. */
	const cJSON *wh = cJSON_GetObjectItemCaseSensitive(notified, "webhook");
	bool webhook_sent = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(wh, "status")) &&
			    strcmp(cJSON_GetObjectItemCaseSensitive(wh, "status")->valuestring, "sent") == 0;
	const cJSON *mailed = cJSON_GetObjectItemCaseSensitive(notified, "reminders");
	bool configured = (c.webhook_url && *c.webhook_url) || (c.smtp_url && *c.smtp_url);
	if (configured && !webhook_sent && !(cJSON_IsNumber(mailed) && mailed->valuedouble > 0))
		forget_reminders(svc, summary, NULL);
	const char *hb = "skipped";
	if (run_ok && rc == 0 && c.heartbeat_url && *c.heartbeat_url) {
		struct plat_error herr = {0};
		hb = plat_notify_heartbeat(&c, NULL, &herr) == 0 ? "sent" : "failed";
		if (strcmp(hb, "failed") == 0)
			plat_log(PLAT_LOG_WARN, "compliance heartbeat failed", "error", herr.message, (const char *)NULL);
	}
	cJSON_AddStringToObject(notified, "heartbeat", hb);
	cJSON_ReplaceItemInObjectCaseSensitive(summary, "notified", notified);
}

int plat_compliance_run_set(struct plat_svc *svc, const struct plat_rule_set *set,
			    const struct plat_compliance_options *o, cJSON **summary, struct plat_error *err)
{
	*summary = NULL;
	int rc = plat_svc_enter(svc, "compliance.run", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	if (o->fail_on < 0 || o->fail_on > PLAT_SEV__COUNT) { /* PLAT_SEV__COUNT: never fails */
		plat_error_set(err, PLAT_E_USAGE, "invalid severity threshold %d", o->fail_on);
		return plat_error_param(err, "fail_on");
	}
	if (o->only && !plat_rule_set_find(set, o->only)) {
		plat_error_set(err, PLAT_E_NOT_FOUND, "no rule '%s' in the loaded rules", o->only);
		return plat_error_param(err, "only");
	}
	long long key = lock_key(svc->tenant_id);
	bool got = false;
	if ((rc = plat_db_advisory_lock(svc->db, key, o->wait, &got, err)) < 0)
		return rc;
	if (!got) {
		plat_log(PLAT_LOG_INFO, "another compliance run of the tenant holds the lock", "tenant", svc->tenant,
			 (const char *)NULL);
		*summary = skipped();
		return 0;
	}
	struct plat_compliance_run run = {.svc = svc, .o = o, .dry = o->dry_run};
	run.opened_ids = cJSON_CreateArray();
	run.resolved_ids = cJSON_CreateArray();
	run.findings = cJSON_CreateArray();
	run.reminders = cJSON_CreateArray();
	cJSON *s = cJSON_CreateObject();
	rc = run_rules(&run, set, s, err);
	if (rc < 0 && !run.dry && run.id[0]) {
		/* Best effort: the database may be what failed. */
		const char *fp[] = {run.id};
		plat_db_exec(svc->db,
			     "UPDATE compliance_runs SET finished_at = now(), status = 'failed' WHERE id = $1::uuid"
			     " AND status = 'running'",
			     1, fp, NULL, &(struct plat_error){0});
	}
	run_free(&run);
	plat_db_advisory_unlock(svc->db, key, NULL);
	if (rc < 0) {
		cJSON_Delete(s);
		return rc;
	}
	if (!run.dry) {
		/* Requeued documents' events (Kafka): after the commit, as every operation does; on
		 * failure they stay in the outbox for the sweeper. */
		struct plat_error perr = {0};
		if (plat_svc_publish_events(svc, &perr) < 0)
			plat_log(PLAT_LOG_WARN, "the run's events wait in the outbox", "error", perr.message,
				 (const char *)NULL);
		int purged = 0;
		if (plat_compliance_purge_pending(svc, &purged, &perr) < 0)
			plat_log(PLAT_LOG_WARN, "destroyed documents' content waits for the next run", "error", perr.message,
				 (const char *)NULL);
		cJSON_AddNumberToObject(s, "objects_purged", purged);
	}
	if (o->notify && !run.dry)
		notify_run(svc, s, rc == 0);
	else if (!run.dry)
		forget_reminders(svc, s, NULL);
	*summary = s;
	return rc > 0 ? -(int)err->kind : 0;
}

int plat_compliance_run(struct plat_svc *svc, const struct plat_compliance_options *o, cJSON **summary,
			struct plat_rule_diags *diags, struct plat_error *err)
{
	*summary = NULL;
	const char *path = o->rules_path;
	if (!path && svc->cfg)
		path = plat_config_str(svc->cfg, PLAT_CFG_COMPLIANCE_RULES);
	if (!path || !*path)
		return plat_error_set(err, PLAT_E_CONFIG, "no rules configured (compliance.rules)");
	struct plat_rule_set *set = NULL;
	int rc = plat_rules_load(path, &set, diags, err);
	if (rc < 0)
		return rc;
	rc = plat_compliance_run_set(svc, set, o, summary, err);
	plat_rule_set_free(set);
	return rc;
}
