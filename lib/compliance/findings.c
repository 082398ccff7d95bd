/* Findings read back and handled by people: list, show, acknowledge, resolve. The last
 * two change a finding and append to the audit chain in the same transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "compliance/compliance.h"
#include "db/db.h"
#include "ids/ids.h"
#include "mem/mem.h"
#include "str/str.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* One finding as JSON, the documented shape (compliance.h). */
#define FINDING_JSON                                                                                                  \
	"json_build_object('id', f.id, 'rule', f.rule, 'kind', f.kind, 'fingerprint', f.fingerprint,"                 \
	" 'severity', f.severity, 'status', f.status, 'document_id', f.document_id, 'document_name', d.name,"           \
	" 'object_key', f.object_key, 'message', f.message, 'details', f.details,"                                     \
	" 'first_seen_at', " TS("f.first_seen_at") ", 'last_seen_at', " TS("f.last_seen_at") ","                        \
	" 'times_seen', f.times_seen, 'last_run_id', f.last_run_id,"                                                   \
	" 'acknowledged_at', " TS("f.acknowledged_at") ", 'acknowledged_by', f.acknowledged_by, 'note', f.note,"       \
	" 'resolved_at', " TS("f.resolved_at") ", 'resolved_by', f.resolved_by)::text"

static int bad_value(struct plat_error *err, const char *param, const char *what, const char *value,
		     const char *expected)
{
	struct plat_buf b = PLAT_BUF_INIT;
	size_t len = strlen(value);
	plat_str_escape_terminal(&b, value, len > 64 ? 64 : len);
	plat_error_set(err, PLAT_E_USAGE, "invalid %s '%s': %s", what, b.data ? b.data : "", expected);
	plat_buf_free(&b);
	return plat_error_param(err, param);
}

static int parse_rows(PGresult *res, int col, int max, cJSON *into, struct plat_error *err)
{
	for (int i = 0; i < PQntuples(res) && i < max; i++) {
		cJSON *row = cJSON_Parse(PQgetvalue(res, i, col));
		if (!row)
			return plat_error_set(err, PLAT_E_INTERNAL, "a finding: the database returned invalid JSON");
		cJSON_AddItemToArray(into, row);
	}
	return 0;
}

/* The cursor is the last row's "last_seen_at|id"; the next page is what sorts after it. */
static int split_cursor(const char *cursor, char ts[32], char id[37], struct plat_error *err)
{
	const char *bar = strchr(cursor, '|');
	struct plat_error why = {0};
	if (!bar || (size_t)(bar - cursor) >= 32 || !plat_id_uuid_shaped(bar + 1))
		return bad_value(err, "cursor", "cursor", cursor, "use the next_cursor of a previous page");
	char t[32];
	snprintf(t, sizeof(t), "%.*s", (int)(bar - cursor), cursor);
	if (plat_audit_parse_time(t, (long long)time(NULL), ts, &why) < 0)
		return bad_value(err, "cursor", "cursor", cursor, "use the next_cursor of a previous page");
	snprintf(id, 37, "%s", bar + 1);
	return 0;
}

int plat_compliance_findings_list(struct plat_svc *svc, const struct plat_findings_filter *f, cJSON **out,
				  struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "findings.list", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	if (f->limit < 1 || f->limit > 1000) {
		plat_error_set(err, PLAT_E_USAGE, "invalid limit %d: from 1 to 1000", f->limit);
		return plat_error_param(err, "limit");
	}
	if (f->status && strcmp(f->status, "open") != 0 && strcmp(f->status, "resolved") != 0 &&
	    strcmp(f->status, "suppressed") != 0)
		return bad_value(err, "status", "status", f->status, "open, resolved or suppressed");
	if (f->rule && !*f->rule)
		return bad_value(err, "rule", "rule", f->rule, "a rule's name");
	if (f->min_severity >= PLAT_SEV__COUNT) {
		plat_error_set(err, PLAT_E_USAGE, "invalid severity %d", f->min_severity);
		return plat_error_param(err, "severity");
	}
	if (f->document_id && !plat_id_uuid_shaped(f->document_id))
		return bad_value(err, "document", "document id", f->document_id, "a document's id (a UUID)");
	char since[32], cts[32], cid[37];
	if (f->since) {
		struct plat_error why = {0};
		if (plat_audit_parse_time(f->since, (long long)time(NULL), since, &why) < 0)
			return bad_value(err, "since", "time", f->since, why.message);
	}
	if (f->cursor && (rc = split_cursor(f->cursor, cts, cid, err)) < 0)
		return rc;
	cJSON *sev = cJSON_CreateArray();
	for (int s = f->min_severity < 0 ? 0 : f->min_severity; s < PLAT_SEV__COUNT; s++)
		cJSON_AddItemToArray(sev, cJSON_CreateString(plat_severity_name((enum plat_severity)s)));
	char *sevs = cJSON_PrintUnformatted(sev);
	cJSON_Delete(sev);
	char limit[16];
	snprintf(limit, sizeof(limit), "%d", f->limit + 1);
	const char *params[] = {svc->tenant_id, f->status, f->rule, sevs ? sevs : "[]", f->document_id,
				f->since ? since : NULL, f->cursor ? cts : NULL, f->cursor ? cid : NULL, limit};
	PGresult *res;
	rc = plat_db_exec(svc->db,
			  "SELECT " FINDING_JSON ", " TS("f.last_seen_at") " || '|' || f.id"
			  " FROM findings f LEFT JOIN documents d ON d.id = f.document_id"
			  " WHERE f.tenant_id = $1::uuid AND ($2::text IS NULL OR f.status = $2)"
			  " AND ($3::text IS NULL OR f.rule = $3)"
			  " AND f.severity IN (SELECT jsonb_array_elements_text($4::jsonb))"
			  " AND ($5::uuid IS NULL OR f.document_id = $5::uuid)"
			  " AND ($6::timestamptz IS NULL OR f.last_seen_at >= $6::timestamptz)"
			  " AND ($7::timestamptz IS NULL OR (f.last_seen_at, f.id) < ($7::timestamptz, $8::uuid))"
			  " ORDER BY f.last_seen_at DESC, f.id DESC LIMIT $9::int",
			  9, params, &res, err);
	free(sevs);
	if (rc < 0)
		return rc;
	cJSON *page = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(page, "findings");
	if ((rc = parse_rows(res, 0, f->limit, list, err)) < 0) {
		PQclear(res);
		cJSON_Delete(page);
		return rc;
	}
	if (PQntuples(res) > f->limit)
		cJSON_AddStringToObject(page, "next_cursor", PQgetvalue(res, f->limit - 1, 1));
	else
		cJSON_AddNullToObject(page, "next_cursor");
	PQclear(res);
	*out = page;
	return 0;
}

static int load(struct plat_svc *svc, const char *id, cJSON **out, struct plat_error *err)
{
	const char *params[] = {svc->tenant_id, id};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "SELECT " FINDING_JSON " FROM findings f LEFT JOIN documents d ON d.id = f.document_id"
			      " WHERE f.tenant_id = $1::uuid AND f.id = $2::uuid",
			      2, params, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return plat_error_set(err, PLAT_E_NOT_FOUND, "finding '%s' not found", id);
	}
	*out = cJSON_Parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	return *out ? 0 : plat_error_set(err, PLAT_E_INTERNAL, "finding '%s': the database returned invalid JSON", id);
}

static int check_id(const char *id, struct plat_error *err)
{
	return id && plat_id_uuid_shaped(id) ? 0 : bad_value(err, "id", "finding id", id ? id : "", "a finding's id (a UUID)");
}

int plat_compliance_findings_show(struct plat_svc *svc, const char *id, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "findings.show", PLAT_NEEDS_TENANT, err);
	if (rc < 0 || (rc = check_id(id, err)) < 0)
		return rc;
	return load(svc, id, out, err);
}

/* ack or resolve: only an open finding; the change and its audit row in one transaction. */
static int change(struct plat_svc *svc, const char *op, const char *action, const char *sql, const char *id,
		  const char *note, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, op, PLAT_NEEDS_TENANT, err);
	if (rc < 0 || (rc = check_id(id, err)) < 0)
		return rc;
	if (note && strlen(note) > 2000)
		return bad_value(err, "note", "note", note, "at most 2000 bytes");
	if ((rc = plat_db_begin(svc->db, err)) < 0)
		return rc;
	const char *params[] = {svc->tenant_id, id, svc->principal, note};
	PGresult *res;
	if ((rc = plat_db_exec(svc->db, sql, 4, params, &res, err)) < 0) {
		plat_db_rollback(svc->db);
		return rc;
	}
	int n = PQntuples(res);
	char status[16] = "", rule[128] = "";
	if (n > 0) {
		snprintf(status, sizeof(status), "%s", PQgetvalue(res, 0, 0));
		snprintf(rule, sizeof(rule), "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	if (n == 0 || strcmp(status, "open") != 0) {
		plat_db_rollback(svc->db);
		if (n == 0)
			return plat_error_set(err, PLAT_E_NOT_FOUND, "finding '%s' not found", id);
		return plat_error_set(err, PLAT_E_CONFLICT, "finding '%s' is %s, not open", id, status);
	}
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "rule", rule);
	if (note)
		cJSON_AddStringToObject(d, "note", note);
	char *details = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	rc = plat_audit_append(svc->db, svc->tenant_id, svc->principal, action, "finding", id, svc->request_id,
			       details ? details : "{}", err);
	free(details);
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	if (rc < 0) {
		plat_db_rollback(svc->db);
		return rc;
	}
	return load(svc, id, out, err);
}

/* The status before the change comes from a row locked first, so that "not open" is told
 * apart from "not found" without a race. */
#define CHANGE_SQL(set)                                                                                        \
	"WITH old AS (SELECT id, status, rule FROM findings WHERE tenant_id = $1::uuid AND id = $2::uuid FOR UPDATE)," \
	" upd AS (UPDATE findings f SET " set " FROM old WHERE f.id = old.id AND old.status = 'open' RETURNING f.id)"  \
	" SELECT old.status, old.rule FROM old"

int plat_compliance_findings_ack(struct plat_svc *svc, const char *id, const char *note, cJSON **out,
				 struct plat_error *err)
{
	return change(svc, "findings.ack", "finding.ack",
		      CHANGE_SQL("acknowledged_at = now(), acknowledged_by = $3, note = coalesce($4, f.note)"), id, note,
		      out, err);
}

int plat_compliance_findings_resolve(struct plat_svc *svc, const char *id, const char *note, cJSON **out,
				     struct plat_error *err)
{
	return change(svc, "findings.resolve", "finding.resolve",
		      CHANGE_SQL("status = 'resolved', resolved_at = now(), resolved_by = $3, note = coalesce($4, f.note)"),
		      id, note, out, err);
}
