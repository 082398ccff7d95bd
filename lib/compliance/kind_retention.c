/* Rule kind retention: documents kept past their period are flagged, or destroyed once a
 * review approved it and its window is over.
 *
 * A destroy rule opens a review (pending) for each document the first time a run sees its
 * period over; the review window (due_at) starts then. The first run after due_at destroys
 * the documents whose review was approved; a pending review past due_at waits (destruction
 * always needs someone's approval); a rejected one is final for that rule, document and
 * period: no destruction, and no finding (the rejection resolved it, with the reason as its
 * note). A decision belongs to one period: when the period's end moves (the date field
 * changed), the review starts again, pending, with a new window. A legal hold always wins:
 * a held document is never destroyed, approved or not, and its finding says so at severity
 * info.
 *
 * Destroying one document is one savepoint of the rule's transaction, so that a failure
 * leaves that document as it was and the rule goes on with the next: the row and the
 * review are re-read under their row locks (a hold or a rejection that committed meanwhile
 * counts), its chunks are deleted, the row is marked deleted with its text-derived columns
 * (summary, fields) cleared, the review marked destroyed, and the destruction record
 * appended to the audit chain. The object is deleted after the run commits (see
 * plat_compliance_purge_pending), never before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/authz.h"
#include "compliance/compliance.h"
#include "compliance/retention_internal.h"
#include "db/db.h"
#include "documents/documents.h"
#include "log/log.h"
#include "str/str.h"

struct retention_ctx {
	struct plat_compliance_run *run;
	const struct plat_rule *r;
	struct plat_svc *svc;
	bool dry;
	int destroyed; /* this run, for the cap */
};

/* Each destruction holds its content lock until the rule commits, and the lock table is
 * finite: a run destroys at most this many documents per rule, the next run the rest. */
#define RETENTION_DESTROY_PER_RUN 500

static const char *val(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static bool is_true(PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) && strcmp(PQgetvalue(res, row, col), "t") == 0;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static int report(struct retention_ctx *c, const char *doc_id, const char *fingerprint, int severity,
		  const char *message, cJSON *details, struct plat_error *err)
{
	struct plat_finding_report f = {.document_id = doc_id, .fingerprint = fingerprint, .severity = severity,
					.message = message, .details = details};
	return plat_compliance_report(c->run, c->r, &f, err);
}

/* Destroy one approved document (see the top of the file). *done false: it was not
 * destroyed after all (held, deleted or no longer approved when re-read under lock). */
static int destroy_one(struct retention_ctx *c, const char *id, bool *done, cJSON *record, struct plat_error *err)
{
	struct plat_svc *svc = c->svc;
	*done = false;
	const char *params[] = {svc->tenant_id, id, c->r->name};
	PGresult *res = NULL;
	int rc = plat_db_exec(svc->db,
			      "SELECT d.legal_hold, d.deleted_at IS NOT NULL, rv.status, rv.decided_by, "
			      RETENTION_TS("rv.decided_at") ", d.name, d.sha256, d.size_bytes, d.storage_key"
			      " FROM documents d JOIN retention_reviews rv ON rv.tenant_id = d.tenant_id"
			      "  AND rv.document_id = d.id AND rv.rule = $3"
			      " WHERE d.tenant_id = $1::uuid AND d.id = $2::uuid FOR UPDATE OF d, rv",
			      3, params, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0 || is_true(res, 0, 0) || is_true(res, 0, 1) || strcmp(PQgetvalue(res, 0, 2), "approved")) {
		PQclear(res);
		return 0;
	}
	char *key = plat_xstrdup(PQgetvalue(res, 0, 8)), *sha = plat_xstrdup(PQgetvalue(res, 0, 6));
	cJSON_AddStringToObject(record, "document_id", id);
	cJSON_AddStringToObject(record, "name", PQgetvalue(res, 0, 5));
	cJSON_AddStringToObject(record, "sha256", sha);
	cJSON_AddNumberToObject(record, "size", atof(PQgetvalue(res, 0, 7)));
	cJSON_AddStringToObject(record, "rule", c->r->name);
	add_str(record, "approver", val(res, 0, 3));
	add_str(record, "approved_at", val(res, 0, 4));
	PQclear(res);
	res = NULL;

	rc = plat_db_exec(svc->db, "DELETE FROM chunks WHERE tenant_id = $1::uuid AND document_id = $2::uuid", 2, params,
			  NULL, err);
	/* What was derived from the text goes with it: a destroyed document keeps only what
	 * identifies it (name, hash, size), which its destruction record names anyway. */
	if (rc == 0)
		rc = plat_db_exec(svc->db,
				  "UPDATE documents SET status = 'deleted', deleted_at = now(), updated_at = now(),"
				  " summary = NULL, fields = '{}', error = NULL"
				  " WHERE tenant_id = $1::uuid AND id = $2::uuid RETURNING " RETENTION_TS("deleted_at"),
				  2, params, &res, err);
	if (rc == 0) {
		cJSON_AddStringToObject(record, "destroyed_at", PQgetvalue(res, 0, 0));
		PQclear(res);
		res = NULL;
		rc = plat_db_exec(svc->db,
				  "UPDATE retention_reviews SET status = 'destroyed'"
				  " WHERE tenant_id = $1::uuid AND document_id = $2::uuid AND rule = $3",
				  3, params, NULL, err);
	}
	/* The content goes with the document unless another live document shares it. The
	 * transaction-level content lock, held until the run commits, keeps an upload of the
	 * same content from taking this document as its own meanwhile ("unchanged"); the object
	 * itself is deleted after the commit (plat_compliance_purge_pending). */
	bool purged = false;
	if (rc == 0) {
		const char *lp[] = {svc->tenant_id, sha};
		rc = plat_db_exec(svc->db, "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))", 2, lp,
				  NULL, err);
	}
	bool in_use = true;
	if (rc == 0)
		rc = plat_documents_key_in_use(svc, key, &in_use, err);
	if (rc == 0 && !in_use) {
		purged = true;
		const char *pp[] = {svc->tenant_id, id, c->r->name, key, sha};
		rc = plat_db_exec(svc->db,
				  "UPDATE retention_reviews SET purge_key = $4, purge_sha256 = $5"
				  " WHERE tenant_id = $1::uuid AND document_id = $2::uuid AND rule = $3",
				  5, pp, NULL, err);
	}
	if (rc == 0) {
		/* What is known now: whether the content stays for another live document. Its
		 * deletion, after the commit, is a record of its own (document.content_deleted). */
		cJSON_AddBoolToObject(record, "content_shared", !purged);
		char *dj = cJSON_PrintUnformatted(record);
		rc = plat_audit_append(svc->db, svc->tenant_id, PLAT_SYSTEM_PRINCIPAL, "document.destroyed", "document", id,
				       svc->request_id, dj, err);
		cJSON_free(dj);
	}
	free(key);
	free(sha);
	*done = rc == 0;
	return rc;
}

/* Open a review for every expired document of a destroy rule that has none, audited as one
 * row per rule and run (a first run over an old archive opens thousands at once). */
static int open_reviews(struct retention_ctx *c, const char *const *params, struct plat_error *err)
{
	struct plat_svc *svc = c->svc;
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      RETENTION_SCOPE_CTE
			      " INSERT INTO retention_reviews (tenant_id, rule, document_id, expired_at, due_at)"
			      " SELECT $1::uuid, $2, e.id, e.x, now() + $6::interval FROM e WHERE e.x <= now()"
			      /* A decision is about one period: when the period's end moved (a date field
			       * changed), an old approval or rejection no longer counts, and the review
			       * starts again with a new window. */
			      " ON CONFLICT (tenant_id, rule, document_id) DO UPDATE SET expired_at = EXCLUDED.expired_at,"
			      "  due_at = EXCLUDED.due_at, status = 'pending', decided_by = NULL, decided_at = NULL, reason = NULL"
			      "  WHERE retention_reviews.expired_at <> EXCLUDED.expired_at AND retention_reviews.status <> 'destroyed'"
			      " RETURNING document_id, xmax <> 0",
			      6, params, &res, err);
	if (rc < 0)
		return rc;
	int n = PQntuples(res);
	if (n > 0) {
		cJSON *d = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(d, "document_ids");
		cJSON *reset = cJSON_AddArrayToObject(d, "restarted_document_ids");
		cJSON_AddStringToObject(d, "rule", c->r->name);
		cJSON_AddNumberToObject(d, "count", n);
		cJSON_AddStringToObject(d, "review", c->r->u.retention.review);
		for (int i = 0; i < n && i < 1000; i++)
			cJSON_AddItemToArray(strcmp(PQgetvalue(res, i, 1), "t") == 0 ? reset : ids,
					     cJSON_CreateString(PQgetvalue(res, i, 0)));
		char *dj = cJSON_PrintUnformatted(d);
		cJSON_Delete(d);
		rc = plat_audit_append(svc->db, svc->tenant_id, PLAT_SYSTEM_PRINCIPAL, "retention.reviews_opened",
				       "compliance_rule", c->r->name, svc->request_id, dj, err);
		cJSON_free(dj);
	}
	PQclear(res);
	return rc;
}

/* Rolls a failed destruction back to before it, and reports it. Only a database that went
 * away stops the rule. */
static int destroy_guarded(struct retention_ctx *c, const char *id, const char *name, const char *base,
			   cJSON *details, struct plat_error *err)
{
	struct plat_svc *svc = c->svc;
	int rc = plat_db_exec(svc->db, "SAVEPOINT retention_destroy", 0, NULL, NULL, err);
	if (rc < 0)
		return rc;
	struct plat_error derr = {0};
	cJSON *record = cJSON_CreateObject();
	bool done = false;
	rc = destroy_one(c, id, &done, record, &derr);
	struct plat_error ignored = {0};
	if (rc < 0)
		plat_db_exec(svc->db, "ROLLBACK TO SAVEPOINT retention_destroy", 0, NULL, NULL, &ignored);
	plat_db_exec(svc->db, "RELEASE SAVEPOINT retention_destroy", 0, NULL, NULL, &ignored);
	char *msg;
	int sev = PLAT_SEV_INFO;
	if (rc < 0) {
		if (derr.kind == PLAT_E_UNAVAILABLE) {
			*err = derr;
			cJSON_Delete(record);
			return rc;
		}
		msg = plat_arena_printf(&svc->arena, "'%s' could not be destroyed: %s", name, derr.message);
		sev = PLAT_SEV_HIGH;
	} else if (!done) {
		cJSON_Delete(record);
		return 0; /* changed under us: the next run sees what it is now */
	} else {
		const cJSON *shared = cJSON_GetObjectItemCaseSensitive(record, "content_shared");
		msg = plat_arena_printf(&svc->arena, "'%s' %s destroyed: %s; %s", name, c->dry ? "would be" : "was", base,
					cJSON_IsTrue(shared) ? "its content kept (another live document shares it)"
							     : "its content deleted after the run");
		cJSON_AddItemToObject(details, "destruction", record);
		record = NULL;
	}
	cJSON_Delete(record);
	/* Its own fingerprint, so that a destruction (or a failed one) is a finding this run
	 * opens and the run's summary lists, while the document's finding of the period
	 * resolves: nothing is waiting any more. The next run resolves this one in turn. */
	char *fp = plat_arena_printf(&svc->arena, "%s:%s", rc < 0 ? "destroy-failed" : "destroyed", id);
	return report(c, id, fp, sev, msg, details, err);
}

/* One expired document of the rule: its finding, and its destruction when it is due. */
static int handle_row(struct retention_ctx *c, PGresult *res, int i, struct plat_error *err)
{
	struct plat_svc *svc = c->svc;
	bool destroy = c->r->u.retention.action == PLAT_RETENTION_DESTROY;
	const char *id = PQgetvalue(res, i, RR_ID), *status = val(res, i, RR_STATUS);
	bool held = is_true(res, i, RR_HELD);
	struct plat_buf name = PLAT_BUF_INIT;
	const char *raw = PQgetvalue(res, i, RR_NAME);
	plat_str_escape_terminal(&name, raw, strlen(raw));
	char *base = plat_arena_printf(&svc->arena, "passed its retention of %s on %s", c->r->u.retention.keep,
				       PQgetvalue(res, i, RR_EXPIRES_DAY));
	cJSON *details = cJSON_CreateObject();
	cJSON_AddStringToObject(details, "action", destroy ? "destroy" : "flag");
	add_str(details, "trigger", val(res, i, RR_TRIGGER));
	add_str(details, "expires_at", val(res, i, RR_EXPIRES));
	cJSON_AddBoolToObject(details, "legal_hold", held);
	if (destroy) {
		cJSON *rv = cJSON_AddObjectToObject(details, "review");
		add_str(rv, "status", status);
		add_str(rv, "due_at", val(res, i, RR_DUE));
		add_str(rv, "decided_by", val(res, i, RR_DECIDED_BY));
	}
	const char *will = plat_retention_will(destroy, true, held, status);
	int rc = 0;
	char *msg = NULL;
	int sev = -1;
	if (!strcmp(will, "flag")) {
		msg = plat_arena_printf(&svc->arena, "'%s' %s%s", name.data, base, held ? " (on legal hold)" : "");
	} else if (!strcmp(will, "held")) {
		msg = plat_arena_printf(&svc->arena, "'%s' %s; it is on legal hold and is not destroyed", name.data, base);
		sev = PLAT_SEV_INFO;
	} else if (!strcmp(will, "destroy") && is_true(res, i, RR_DUE_PASSED) && c->destroyed < RETENTION_DESTROY_PER_RUN) {
		rc = destroy_guarded(c, id, name.data, base, details, err);
		c->destroyed++;
	} else if (!strcmp(will, "destroy") && is_true(res, i, RR_DUE_PASSED)) {
		msg = plat_arena_printf(&svc->arena, "'%s' %s; approved, and destroyed by the next run (%d per run)",
					name.data, base, RETENTION_DESTROY_PER_RUN);
	} else if (!strcmp(will, "destroy")) {
		msg = plat_arena_printf(&svc->arena, "'%s' %s; approved by %s, destroyed after %s", name.data, base,
					PQgetvalue(res, i, RR_DECIDED_BY), PQgetvalue(res, i, RR_DUE));
	} else if (!strcmp(will, "wait for review")) {
		msg = plat_arena_printf(&svc->arena, "'%s' %s; %s %s: destroyed only once approved", name.data, base,
					is_true(res, i, RR_DUE_PASSED) ? "its review is overdue since" : "under review until",
					val(res, i, RR_DUE) ? PQgetvalue(res, i, RR_DUE) : "the next run");
	}
	/* "nothing": rejected, and resolved when it was. */
	if (rc == 0 && msg)
		rc = report(c, id, NULL, sev, msg, details, err);
	cJSON_Delete(details);
	plat_buf_free(&name);
	return rc;
}

int plat_compliance_eval_retention(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err)
{
	struct retention_ctx c = {.run = run, .r = r, .svc = plat_compliance_run_svc(run),
				  .dry = plat_compliance_run_dry(run)};
	struct plat_svc *svc = c.svc;
	bool destroy = r->u.retention.action == PLAT_RETENTION_DESTROY;
	const char *params[] = {svc->tenant_id, r->name, plat_compliance_classes_param(run, r),
				r->u.retention.from_field, r->u.retention.keep, destroy ? r->u.retention.review : NULL};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      RETENTION_SCOPE_CTE " SELECT count(*), count(*) FILTER (WHERE t IS NULL) FROM e", 6, params,
			      &res, err);
	if (rc < 0)
		return rc;
	plat_compliance_checked(run, atoll(PQgetvalue(res, 0, 0)));
	long long undated = atoll(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (undated > 0) {
		char n[24];
		snprintf(n, sizeof(n), "%lld", undated);
		plat_log(PLAT_LOG_INFO, "documents without the retention date field are skipped", "rule", r->name, "field",
			 r->u.retention.from_field, "documents", n, (const char *)NULL);
	}
	if (destroy && (rc = open_reviews(&c, params, err)) < 0)
		return rc;
	rc = plat_db_exec(svc->db, RETENTION_ROWS_SQL("e.x <= now()"), 6, params, &res, err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = handle_row(&c, res, i, err);
	PQclear(res);
	return rc;
}

int plat_compliance_purge_pending(struct plat_svc *svc, int *purged, struct plat_error *err)
{
	*purged = 0;
	const char *params[] = {svc->tenant_id};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "SELECT id, purge_key, purge_sha256, document_id FROM retention_reviews"
			      " WHERE tenant_id = $1::uuid AND purge_key IS NOT NULL AND purged_at IS NULL"
			      " ORDER BY decided_at LIMIT 1000",
			      1, params, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) > 0)
		rc = plat_svc_enter(svc, "compliance.run", PLAT_NEEDS_STORE, err);
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		/* Under the content lock, against what is committed now: an upload of the same
		 * content since the destruction owns the object, which then stays. */
		bool deleted = false;
		struct plat_error perr = {0};
		int prc = plat_documents_purge_object(svc, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), false, &deleted,
						      &perr);
		if (prc < 0) {
			/* The store is away: the rest would fail too. One object refused for good
			 * (a permission) must not hold up the others: it is retried next time. */
			if (perr.kind == PLAT_E_UNAVAILABLE) {
				*err = perr;
				rc = prc;
				break;
			}
			plat_log(PLAT_LOG_WARN, "a destroyed document's content could not be deleted", "document",
				 PQgetvalue(res, i, 3), "error", perr.message, (const char *)NULL);
			continue;
		}
		/* The deletion (or why the content stays) goes to the audit chain: the
		 * destruction certificate states it from there. */
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "document_id", PQgetvalue(res, i, 3));
		cJSON_AddStringToObject(d, "sha256", PQgetvalue(res, i, 2));
		if (!deleted)
			cJSON_AddStringToObject(d, "reason", "a document uploaded since uses the content");
		char *dj = cJSON_PrintUnformatted(d);
		cJSON_Delete(d);
		const char *up[] = {svc->tenant_id, PQgetvalue(res, i, 0)};
		if ((rc = plat_db_begin(svc->db, err)) == 0 &&
		    (rc = plat_audit_append(svc->db, svc->tenant_id, PLAT_SYSTEM_PRINCIPAL,
					    deleted ? "document.content_deleted" : "document.content_kept", "document",
					    PQgetvalue(res, i, 3), svc->request_id, dj, err)) == 0 &&
		    (rc = plat_db_exec(svc->db,
				       "UPDATE retention_reviews SET purged_at = now() WHERE tenant_id = $1 AND id = $2", 2,
				       up, NULL, err)) == 0)
			rc = plat_db_commit(svc->db, err);
		if (rc < 0)
			plat_db_rollback(svc->db);
		cJSON_free(dj);
		if (rc == 0 && deleted)
			(*purged)++;
	}
	PQclear(res);
	return rc;
}
