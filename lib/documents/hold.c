/* Legal holds: a held document cannot be deleted, by a person (plat_documents_delete
 * refuses) or by a retention rule (destruction skips it), until an admin releases it. */
#include "documents/documents.h"
#include "documents/remote.h"

#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "db/db.h"
#include "documents/doc_json.h"
#include "ids/ids.h"
#include "str/str.h"

#define REASON_MAX 1000

/* A reason is shown in messages and tables: one line of valid UTF-8 without control
 * characters, so that what an admin typed cannot rewrite someone's terminal. */
static int check_reason(const char *reason, bool required, struct plat_error *err)
{
	if (!reason || !*reason) {
		if (!required)
			return 0;
		plat_error_set(err, PLAT_E_USAGE, "a legal hold needs a reason (a case, a request, who asked)");
		return plat_error_param(err, "reason");
	}
	size_t n = strlen(reason);
	bool blank = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)reason[i];
		if (c < 0x20 || c == 0x7f) {
			plat_error_set(err, PLAT_E_USAGE, "the reason must be one line without control characters");
			return plat_error_param(err, "reason");
		}
		blank = blank && c == ' ';
	}
	if (blank && required) {
		plat_error_set(err, PLAT_E_USAGE, "a legal hold needs a reason (a case, a request, who asked)");
		return plat_error_param(err, "reason");
	}
	if (n > REASON_MAX || !plat_utf8_valid(reason, n)) {
		plat_error_set(err, PLAT_E_USAGE, "the reason must be valid UTF-8 of at most %d bytes", REASON_MAX);
		return plat_error_param(err, "reason");
	}
	return 0;
}

/* Hold (hold true) or release, in one transaction with its audit row. */
static int set_hold(struct plat_svc *svc, const char *id, bool hold, const char *reason, cJSON **doc,
		    struct plat_error *err)
{
	*doc = NULL;
	int rc = plat_svc_enter(svc, hold ? "documents.hold" : "documents.release", PLAT_NEEDS_TENANT, err);
	if (rc == 0)
		rc = check_reason(reason, hold, err);
	if (rc < 0)
		return rc;
	if (!plat_id_uuid_shaped(id))
		return plat_documents_not_found(id, err);
	if ((rc = plat_db_begin(svc->db, err)) < 0)
		return rc;
	const char *params[] = {svc->tenant_id, id, reason, svc->principal};
	PGresult *res = NULL;
	rc = plat_db_exec(svc->db,
			  "SELECT legal_hold, deleted_at IS NOT NULL, coalesce(hold_reason, ''), coalesce(held_by, ''),"
			  " coalesce(" DOC_TIME("held_at") ", '') FROM documents WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
			  2, params, &res, err);
	if (rc == 0 && PQntuples(res) == 0)
		rc = plat_documents_not_found(id, err);
	if (rc == 0) {
		bool held = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
			rc = plat_error_set(err, PLAT_E_NOT_FOUND, "document '%s' was deleted", id);
		else if (hold && held)
			rc = plat_error_set(err, PLAT_E_CONFLICT, "document '%s' is already on legal hold (since %s by %s: %s)",
					    id, PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 2));
		else if (!hold && !held)
			rc = plat_error_set(err, PLAT_E_CONFLICT, "document '%s' is not on legal hold", id);
	}
	/* The release's audit row keeps what the hold was for: the document row forgets it. */
	cJSON *details = cJSON_CreateObject();
	if (reason && *reason)
		cJSON_AddStringToObject(details, "reason", reason);
	else
		cJSON_AddNullToObject(details, "reason");
	if (rc == 0 && !hold) {
		cJSON_AddStringToObject(details, "hold_reason", PQgetvalue(res, 0, 2));
		cJSON_AddStringToObject(details, "held_by", PQgetvalue(res, 0, 3));
		cJSON_AddStringToObject(details, "held_at", PQgetvalue(res, 0, 4));
	}
	PQclear(res);
	res = NULL;
	if (rc == 0)
		rc = plat_db_exec(svc->db,
				  hold ? "UPDATE documents SET legal_hold = true, hold_reason = $3, held_by = $4,"
					 " held_at = now(), updated_at = now() WHERE tenant_id = $1 AND id = $2"
					 " RETURNING " DOC_JSON_HOLD("") "::text"
				       : "UPDATE documents SET legal_hold = false, hold_reason = NULL, held_by = NULL,"
					 " held_at = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2"
					 " RETURNING " DOC_JSON_HOLD("") "::text",
				  hold ? 4 : 2, params, &res, err);
	if (rc == 0) {
		char *dj = cJSON_PrintUnformatted(details);
		rc = plat_audit_append(svc->db, svc->tenant_id, svc->principal, hold ? "document.hold" : "document.release",
				       "document", id, svc->request_id, dj, err);
		cJSON_free(dj);
	}
	cJSON_Delete(details);
	if (rc == 0)
		*doc = cJSON_Parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	if (rc < 0) {
		plat_db_rollback(svc->db);
		cJSON_Delete(*doc);
		*doc = NULL;
	}
	return rc;
}

int plat_documents_hold(struct plat_svc *svc, const char *id, const char *reason, cJSON **doc, struct plat_error *err)
{
	*doc = NULL;
	struct plat_remote *remote;
	int rc = plat_svc_remote(svc, &remote, err);
	if (rc != 0)
		return rc < 0 ? rc : plat_documents_remote_hold(remote, id, true, reason, doc, err);
	return set_hold(svc, id, true, reason, doc, err);
}

int plat_documents_release(struct plat_svc *svc, const char *id, const char *reason, cJSON **doc,
			   struct plat_error *err)
{
	*doc = NULL;
	struct plat_remote *remote;
	int rc = plat_svc_remote(svc, &remote, err);
	if (rc != 0)
		return rc < 0 ? rc : plat_documents_remote_hold(remote, id, false, reason, doc, err);
	return set_hold(svc, id, false, reason, doc, err);
}
