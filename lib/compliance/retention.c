/* Retention outside the run: the plan (what the rules would do, and when), the reviews an
 * admin approves or rejects, and the signed destruction certificates. The run's side, the
 * rule kind itself, is kind_retention.c; both read documents through one query
 * (retention_internal.h), so the plan cannot tell a different story from the run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/localjwt.h"
#include "compliance/compliance.h"
#include "compliance/retention_internal.h"
#include "db/db.h"
#include "documents/documents.h"
#include "ids/ids.h"
#include "str/str.h"

#define REASON_MAX 1000

const char *plat_retention_will(bool destroy, bool has_trigger, bool held, const char *review_status)
{
	if (!has_trigger)
		return "nothing";
	if (!destroy)
		return "flag";
	if (held)
		return "held";
	if (review_status && !strcmp(review_status, "approved"))
		return "destroy";
	if (review_status && (!strcmp(review_status, "rejected") || !strcmp(review_status, "destroyed")))
		return "nothing";
	return "wait for review";
}

static const char *val(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* ---- plan ---- */

static int plan_rule(struct plat_svc *svc, const struct plat_rule *r, const char *within, cJSON *docs,
		     struct plat_error *err)
{
	bool destroy = r->u.retention.action == PLAT_RETENTION_DESTROY;
	char *classes = NULL;
	if (r->classes.n) {
		cJSON *a = cJSON_CreateArray();
		for (size_t i = 0; i < r->classes.n; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(r->classes.items[i]));
		classes = cJSON_PrintUnformatted(a);
		cJSON_Delete(a);
	}
	const char *params[] = {svc->tenant_id, r->name, classes, r->u.retention.from_field, r->u.retention.keep,
				destroy ? r->u.retention.review : NULL, within};
	PGresult *res;
	int rc = plat_db_exec(svc->db, RETENTION_ROWS_SQL("($7::interval IS NULL OR e.x <= now() + $7::interval)"), 7,
			      params, &res, err);
	cJSON_free(classes);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		cJSON *d = cJSON_CreateObject();
		bool held = !strcmp(PQgetvalue(res, i, RR_HELD), "t");
		cJSON_AddStringToObject(d, "document_id", PQgetvalue(res, i, RR_ID));
		cJSON_AddStringToObject(d, "name", PQgetvalue(res, i, RR_NAME));
		add_str(d, "class", val(res, i, RR_CLASS));
		cJSON_AddStringToObject(d, "rule", r->name);
		cJSON_AddStringToObject(d, "action", destroy ? "destroy" : "flag");
		add_str(d, "trigger", val(res, i, RR_TRIGGER));
		add_str(d, "expires_at", val(res, i, RR_EXPIRES));
		cJSON_AddBoolToObject(d, "expired", !strcmp(PQgetvalue(res, i, RR_EXPIRED), "t"));
		add_str(d, "review_due_at", val(res, i, RR_REVIEW_DUE));
		add_str(d, "review_status", val(res, i, RR_STATUS));
		cJSON_AddBoolToObject(d, "legal_hold", held);
		cJSON_AddStringToObject(d, "will",
					plat_retention_will(destroy, val(res, i, RR_TRIGGER) != NULL, held,
							    val(res, i, RR_STATUS)));
		cJSON_AddItemToArray(docs, d);
	}
	PQclear(res);
	return 0;
}

int plat_compliance_plan(struct plat_svc *svc, const struct plat_retention_plan_options *o, cJSON **out,
			 struct plat_rule_diags *diags, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "compliance.plan", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	if (o->within) {
		struct plat_error ierr = {0};
		const char *p[] = {o->within};
		if (plat_db_exec(svc->db, "SELECT $1::interval", 1, p, NULL, &ierr) < 0) {
			if (ierr.kind == PLAT_E_UNAVAILABLE) {
				*err = ierr;
				return -PLAT_E_UNAVAILABLE;
			}
			plat_error_set(err, PLAT_E_USAGE, "'%s' is not a period (e.g. '30 days', '1 year')", o->within);
			return plat_error_param(err, "within");
		}
	}
	const char *path = o->rules_path ? o->rules_path : plat_config_str(svc->cfg, PLAT_CFG_COMPLIANCE_RULES);
	struct plat_rule_set *set = NULL;
	if ((rc = plat_rules_load(path, &set, diags, err)) < 0)
		return rc;
	cJSON *docs = cJSON_CreateArray();
	for (size_t i = 0; i < set->n && rc == 0; i++)
		if (set->rules[i].kind == PLAT_RULE_RETENTION && set->rules[i].enabled)
			rc = plan_rule(svc, &set->rules[i], o->within, docs, err);
	plat_rule_set_free(set);
	if (rc < 0) {
		cJSON_Delete(docs);
		return rc;
	}
	/* Soonest first across rules; undated documents last. */
	int n = cJSON_GetArraySize(docs);
	cJSON **items = plat_xcalloc((size_t)n + 1, sizeof(*items));
	for (int i = 0; i < n; i++)
		items[i] = cJSON_DetachItemFromArray(docs, 0);
	for (int i = 1; i < n; i++) {
		cJSON *x = items[i];
		const cJSON *xe = cJSON_GetObjectItemCaseSensitive(x, "expires_at");
		int j = i - 1;
		for (; j >= 0; j--) {
			const cJSON *je = cJSON_GetObjectItemCaseSensitive(items[j], "expires_at");
			bool after = cJSON_IsString(je) && (!cJSON_IsString(xe) || strcmp(je->valuestring, xe->valuestring) <= 0);
			if (after || (!cJSON_IsString(je) && !cJSON_IsString(xe)))
				break;
			items[j + 1] = items[j];
		}
		items[j + 1] = x;
	}
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(docs, items[i]);
	free(items);
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "tenant", svc->tenant);
	add_str(*out, "within", o->within);
	cJSON_AddItemToObject(*out, "documents", docs);
	return 0;
}

/* ---- reviews ---- */

static int check_reason(const char *reason, bool required, struct plat_error *err)
{
	size_t n = reason ? strlen(reason) : 0;
	bool blank = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)reason[i];
		if (ch < 0x20 || ch == 0x7f) {
			plat_error_set(err, PLAT_E_USAGE, "the reason must be one line without control characters");
			return plat_error_param(err, "reason");
		}
		blank = blank && ch == ' ';
	}
	if (required && blank) {
		plat_error_set(err, PLAT_E_USAGE, "a rejection needs a reason (why the document must be kept)");
		return plat_error_param(err, "reason");
	}
	if (n > REASON_MAX || (n && !plat_utf8_valid(reason, n))) {
		plat_error_set(err, PLAT_E_USAGE, "the reason must be valid UTF-8 of at most %d bytes", REASON_MAX);
		return plat_error_param(err, "reason");
	}
	return 0;
}

#define REVIEW_JSON                                                                                          \
	"jsonb_build_object('id', rv.id, 'document_id', rv.document_id, 'rule', rv.rule, 'status', rv.status,"  \
	" 'expired_at', " RETENTION_TS("rv.expired_at") ", 'due_at', " RETENTION_TS("rv.due_at") ","             \
	" 'decided_by', rv.decided_by, 'decided_at', " RETENTION_TS("rv.decided_at") ", 'reason', rv.reason,"   \
	" 'legal_hold', (SELECT d.legal_hold FROM documents d WHERE d.id = rv.document_id))::text"

/* Find the review under its row lock; fills err for a missing, ambiguous or decided one. */
static int lock_review(struct plat_svc *svc, const char *doc, const char *rule, char id[37], struct plat_error *err)
{
	const char *params[] = {svc->tenant_id, doc, rule};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "SELECT rv.id, rv.rule, rv.status, coalesce(rv.decided_by, ''), coalesce("
			      RETENTION_TS("rv.decided_at") ", '') FROM retention_reviews rv"
			      " WHERE rv.tenant_id = $1::uuid AND rv.document_id = $2::uuid AND ($3::text IS NULL OR rv.rule = $3)"
			      " ORDER BY rv.status <> 'pending', rv.rule FOR UPDATE",
			      3, params, &res, err);
	if (rc < 0)
		return rc;
	int n = PQntuples(res), pending = 0;
	for (int i = 0; i < n; i++)
		pending += !strcmp(PQgetvalue(res, i, 2), "pending");
	if (n == 0 && rule)
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "document '%s' has no retention review under rule '%s'", doc, rule);
	else if (n == 0)
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "document '%s' has no retention review", doc);
	else if (pending == 0)
		rc = plat_error_set(err, PLAT_E_CONFLICT, "the review of document '%s' under rule '%s' was already %s%s%s%s%s",
				    doc, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), *PQgetvalue(res, 0, 3) ? " by " : "",
				    PQgetvalue(res, 0, 3), *PQgetvalue(res, 0, 4) ? " at " : "", PQgetvalue(res, 0, 4));
	else if (pending > 1) {
		struct plat_buf names = PLAT_BUF_INIT;
		for (int i = 0; i < pending; i++)
			plat_buf_printf(&names, "%s'%s'", i ? ", " : "", PQgetvalue(res, i, 1));
		plat_error_set(err, PLAT_E_USAGE, "document '%s' has pending reviews under rules %s: name the rule", doc,
			       names.data);
		plat_buf_free(&names);
		rc = plat_error_param(err, "rule");
	} else
		snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

static int decide(struct plat_svc *svc, bool approve, const char *doc, const char *rule, const char *reason,
		  cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, approve ? "compliance.approve" : "compliance.reject", PLAT_NEEDS_TENANT, err);
	if (rc == 0)
		rc = check_reason(reason, !approve, err);
	if (rc < 0)
		return rc;
	if (!plat_id_uuid_shaped(doc))
		return plat_documents_not_found(doc, err);
	if (rule && !*rule)
		rule = NULL;
	if ((rc = plat_db_begin(svc->db, err)) < 0)
		return rc;
	char id[37] = "";
	rc = lock_review(svc, doc, rule, id, err);
	const char *reason_or_null = reason && *reason ? reason : NULL;
	const char *params[] = {svc->tenant_id, id, approve ? "approved" : "rejected", svc->principal, reason_or_null};
	PGresult *res = NULL;
	if (rc == 0)
		rc = plat_db_exec(svc->db,
				  "UPDATE retention_reviews rv SET status = $3, decided_by = $4, decided_at = now(), reason = $5"
				  " WHERE rv.tenant_id = $1::uuid AND rv.id = $2::uuid RETURNING " REVIEW_JSON,
				  5, params, &res, err);
	if (rc == 0)
		*out = cJSON_Parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	const cJSON *rn = cJSON_GetObjectItemCaseSensitive(*out, "rule");
	const char *rule_name = cJSON_IsString(rn) ? rn->valuestring : "";
	/* A kept document is no longer a problem of this rule: its finding closes with why. */
	if (rc == 0 && !approve) {
		const char *fp[] = {svc->tenant_id, doc, rule_name, svc->principal, reason};
		rc = plat_db_exec(svc->db,
				  "UPDATE findings SET status = 'resolved', resolved_at = now(), resolved_by = $4,"
				  " note = 'destruction rejected: ' || $5"
				  " WHERE tenant_id = $1::uuid AND document_id = $2::uuid AND rule = $3 AND status = 'open'",
				  5, fp, NULL, err);
	}
	if (rc == 0) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "rule", rule_name);
		cJSON_AddStringToObject(d, "review_id", id);
		add_str(d, "reason", reason_or_null);
		char *dj = cJSON_PrintUnformatted(d);
		cJSON_Delete(d);
		rc = plat_audit_append(svc->db, svc->tenant_id, svc->principal, approve ? "retention.approve" : "retention.reject",
				       "document", doc, svc->request_id, dj, err);
		cJSON_free(dj);
	}
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	if (rc < 0) {
		plat_db_rollback(svc->db);
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int plat_compliance_approve(struct plat_svc *svc, const char *document_id, const char *rule, const char *reason,
			    cJSON **out, struct plat_error *err)
{
	return decide(svc, true, document_id, rule, reason, out, err);
}

int plat_compliance_reject(struct plat_svc *svc, const char *document_id, const char *rule, const char *reason,
			   cJSON **out, struct plat_error *err)
{
	return decide(svc, false, document_id, rule, reason, out, err);
}
