#include "audit/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

/* The canonical text of a row; append and verify must agree on it exactly. */
#define CANONICAL(a)                                                                                        \
	"concat_ws('|', " a "tenant_id::text, to_char(" a "at AT TIME ZONE 'UTC', "                            \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), " a "principal, " a "action, coalesce(" a "object_type, ''), " \
	"coalesce(" a "object_id, ''), coalesce(" a "request_id, ''), " a "details::text)"

#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

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
	/* The row chains onto the head, not onto the table's last row: were the last rows
	 * deleted, chaining onto what is left would hide that for good. */
	return plat_db_exec(db,
			    "WITH head AS (SELECT last_hash FROM audit_heads WHERE tenant_id = $1),"
			    " row AS (SELECT $1::uuid AS tenant_id, now() AS at, $2::text AS principal, $3::text AS action,"
			    "  $4::text AS object_type, $5::text AS object_id, $6::text AS request_id, $7::jsonb AS details),"
			    " ins AS (INSERT INTO audit_log (tenant_id, at, principal, action, object_type, object_id,"
			    "  request_id, details, prev_hash, hash)"
			    "  SELECT r.tenant_id, r.at, r.principal, r.action, r.object_type, r.object_id, r.request_id,"
			    "   r.details, h.last_hash,"
			    "   sha256(coalesce(h.last_hash, ''::bytea) || convert_to(" CANONICAL("r.") ", 'UTF8'))"
			    "  FROM row r LEFT JOIN head h ON true RETURNING id, hash)"
			    " INSERT INTO audit_heads (tenant_id, last_id, last_hash, rows) SELECT $1, id, hash, 1 FROM ins"
			    " ON CONFLICT (tenant_id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash,"
			    "  rows = audit_heads.rows + 1",
			    7, params, NULL, err);
}

/* Columns of the chain query, in order. */
enum {
	C_ROWS, C_BAD_ID, C_BAD_AT, C_BAD_SOUND, C_BEFORE_BAD, C_LAST_ID, C_LAST_AT, C_LAST_HASH,
	C_HEAD_ID, C_HEAD_HASH, C_HEAD_ROWS, C_BEYOND_ID, C_BEYOND_AT, C_BEYOND_ROWS,
};

/* A row is sound when its hash is sha256(its own prev_hash || its content); it is linked
 * when that prev_hash is the hash of the row before it. Telling the two apart names what
 * happened: an edited row is unsound, a deleted or moved one leaves a sound row unlinked. */
static const char chain_sql[] =
	"WITH chain AS (SELECT id, at, hash, prev_hash, lag(hash) OVER (ORDER BY id) AS before,"
	"  hash = sha256(coalesce(prev_hash, ''::bytea) || convert_to(" CANONICAL("") ", 'UTF8')) AS sound"
	"  FROM audit_log WHERE tenant_id = $1),"
	" bad AS (SELECT id, at, sound FROM chain WHERE NOT sound OR prev_hash IS DISTINCT FROM before"
	"  ORDER BY id LIMIT 1),"
	" last AS (SELECT id, at, hash FROM chain ORDER BY id DESC LIMIT 1),"
	" head AS (SELECT last_id, last_hash, rows FROM audit_heads WHERE tenant_id = $1),"
	" beyond AS (SELECT min(c.id) AS id, count(*) AS n FROM chain c, head h WHERE c.id > h.last_id)"
	" SELECT (SELECT count(*) FROM chain), bad.id, " RFC3339("bad.at") ", bad.sound,"
	"  (SELECT count(*) FROM chain c WHERE c.id < bad.id),"
	"  last.id, " RFC3339("last.at") ", encode(last.hash, 'hex'),"
	"  head.last_id, encode(head.last_hash, 'hex'), head.rows,"
	"  beyond.id, (SELECT " RFC3339("c.at") " FROM chain c WHERE c.id = beyond.id), beyond.n"
	" FROM (SELECT 1) one LEFT JOIN bad ON true LEFT JOIN last ON true LEFT JOIN head ON true"
	" LEFT JOIN beyond ON true";

static long long num(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? 0 : atoll(PQgetvalue(res, 0, col));
}

static void text(PGresult *res, int col, char *out, size_t cap)
{
	snprintf(out, cap, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

static void broken(struct plat_audit_check *c, PGresult *res, int id_col, int at_col, long long verified,
		   const char *reason)
{
	c->broken_id = num(res, id_col);
	if (at_col >= 0)
		text(res, at_col, c->broken_at, sizeof(c->broken_at));
	c->verified = verified;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
}

int plat_audit_check_chain(struct plat_db *db, const char *tenant_id, struct plat_audit_check *c,
			   struct plat_error *err)
{
	memset(c, 0, sizeof(*c));
	PGresult *res;
	int rc = plat_db_exec(db, chain_sql, 1, (const char *[]){tenant_id}, &res, err);
	if (rc < 0)
		return rc;
	c->rows = num(res, C_ROWS);
	c->verified = c->rows;
	c->head_id = num(res, C_HEAD_ID);
	text(res, C_HEAD_HASH, c->head_hash, sizeof(c->head_hash));
	bool has_head = !PQgetisnull(res, 0, C_HEAD_ID);
	long long last_id = num(res, C_LAST_ID);
	if (!PQgetisnull(res, 0, C_BAD_ID)) {
		bool sound = strcmp(PQgetvalue(res, 0, C_BAD_SOUND), "t") == 0;
		broken(c, res, C_BAD_ID, C_BAD_AT, num(res, C_BEFORE_BAD), sound ? "row missing or reordered" : "row edited");
	} else if (!has_head) {
		/* An empty chain needs no head; rows without one lost theirs. */
		if (c->rows > 0)
			broken(c, res, C_LAST_ID, C_LAST_AT, c->rows - 1, "chain head missing");
	} else if (last_id < c->head_id) {
		char reason[64];
		snprintf(reason, sizeof(reason), "chain truncated after id %lld", last_id);
		broken(c, res, C_HEAD_ID, -1, c->rows, reason);
	} else if (last_id > c->head_id) {
		broken(c, res, C_BEYOND_ID, C_BEYOND_AT, c->rows - num(res, C_BEYOND_ROWS), "row not recorded in the head");
	} else if (strcmp(PQgetvalue(res, 0, C_LAST_HASH), c->head_hash) != 0) {
		broken(c, res, C_LAST_ID, C_LAST_AT, c->rows - 1, "chain rewritten: the last row's hash is not the head's");
	} else if (num(res, C_HEAD_ROWS) != c->rows) {
		char reason[96];
		snprintf(reason, sizeof(reason), "chain rewritten: %lld rows, the head counts %lld", c->rows,
			 num(res, C_HEAD_ROWS));
		broken(c, res, C_LAST_ID, C_LAST_AT, c->rows - 1, reason);
	}
	PQclear(res);
	return 0;
}

int plat_audit_verify(struct plat_db *db, const char *tenant_id, long long *rows, long long *first_bad,
		      struct plat_error *err)
{
	struct plat_audit_check c;
	int rc = plat_audit_check_chain(db, tenant_id, &c, err);
	if (rc < 0)
		return rc;
	*rows = c.rows;
	*first_bad = c.broken_id;
	return 0;
}
