#include "audit/audit.h"

#include <stdlib.h>
#include <string.h>

/* The canonical text of a row; append and verify must agree on it exactly. */
#define CANONICAL(a)                                                                                        \
	"concat_ws('|', " a "tenant_id::text, to_char(" a "at AT TIME ZONE 'UTC', "                            \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), " a "principal, " a "action, coalesce(" a "object_type, ''), " \
	"coalesce(" a "object_id, ''), coalesce(" a "request_id, ''), " a "details::text)"

int plat_audit_append(struct plat_db *db, const char *tenant_id, const char *principal, const char *action,
		      const char *object_type, const char *object_id, const char *request_id, const char *details_json,
		      struct plat_error *err)
{
	/* One writer per tenant chain at a time, until the transaction ends. */
	const char *lock[] = {tenant_id};
	int rc = plat_db_exec(db, "SELECT pg_advisory_xact_lock(hashtextextended('audit:' || $1, 0))", 1, lock, NULL, err);
	if (rc < 0)
		return rc;
	const char *params[] = {tenant_id, principal, action, object_type, object_id, request_id,
				details_json ? details_json : "{}"};
	return plat_db_exec(db,
			    "WITH prev AS (SELECT hash FROM audit_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1),"
			    " row AS (SELECT $1::uuid AS tenant_id, now() AS at, $2::text AS principal, $3::text AS action,"
			    "  $4::text AS object_type, $5::text AS object_id, $6::text AS request_id, $7::jsonb AS details)"
			    " INSERT INTO audit_log (tenant_id, at, principal, action, object_type, object_id, request_id,"
			    "  details, prev_hash, hash)"
			    " SELECT r.tenant_id, r.at, r.principal, r.action, r.object_type, r.object_id, r.request_id,"
			    "  r.details, p.hash,"
			    "  sha256(coalesce(p.hash, ''::bytea) || convert_to(" CANONICAL("r.") ", 'UTF8'))"
			    " FROM row r LEFT JOIN prev p ON true",
			    7, params, NULL, err);
}

int plat_audit_verify(struct plat_db *db, const char *tenant_id, long long *rows, long long *first_bad,
		      struct plat_error *err)
{
	const char *params[] = {tenant_id};
	PGresult *res;
	int rc = plat_db_exec(db,
			      "WITH chain AS (SELECT id, hash, prev_hash, lag(hash) OVER (ORDER BY id) AS expected_prev,"
			      "  " CANONICAL("") " AS canon FROM audit_log WHERE tenant_id = $1)"
			      " SELECT count(*), coalesce(min(id) FILTER (WHERE prev_hash IS DISTINCT FROM expected_prev"
			      "  OR hash <> sha256(coalesce(expected_prev, ''::bytea) || convert_to(canon, 'UTF8'))), 0)"
			      " FROM chain",
			      1, params, &res, err);
	if (rc < 0)
		return rc;
	*rows = atoll(PQgetvalue(res, 0, 0));
	*first_bad = atoll(PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}
