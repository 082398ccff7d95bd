/* What kind_retention.c (the run's side) and retention.c (plan, reviews, certificates)
 * share: one query for a retention rule's documents, so that the plan shows exactly what a
 * run would do. Not a public header. */
#ifndef PLAT_COMPLIANCE_RETENTION_INTERNAL_H
#define PLAT_COMPLIANCE_RETENTION_INTERNAL_H

#define RETENTION_TS(c) "to_char((" c ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* A rule's live documents with their trigger t (NULL: no date in the field) and the end of
 * their retention x. Parameters: $1 tenant id, $2 rule name, $3 classes (jsonb array or
 * NULL: every class), $4 from_field (NULL: the upload), $5 keep, $6 review window (NULL for
 * flag rules). A date field counts from midnight UTC of that day. */
#define RETENTION_SCOPE_CTE                                                                                   \
	"WITH s AS (SELECT d.id, d.name, d.class, d.legal_hold, d.sha256, d.size_bytes, d.storage_key,"        \
	"  CASE WHEN $4::text IS NULL THEN d.created_at"                                                       \
	"   ELSE retention_field_date(d.fields -> $4::text)::timestamp AT TIME ZONE 'UTC' END AS t"             \
	"  FROM documents d WHERE d.tenant_id = $1::uuid AND d.deleted_at IS NULL"                             \
	"  AND ($3::jsonb IS NULL OR d.class IN (SELECT jsonb_array_elements_text($3::jsonb)))),"              \
	" e AS (SELECT s.*, s.t + $5::interval AS x, $2::text AS rule, $6::interval AS review_window FROM s)"

/* Columns of RETENTION_ROWS_SQL. */
enum {
	RR_ID, RR_NAME, RR_CLASS, RR_HELD, RR_TRIGGER, RR_EXPIRES, RR_EXPIRED, RR_STATUS, RR_DUE, RR_DECIDED_BY,
	RR_DECIDED_AT, RR_SHA, RR_SIZE, RR_KEY, RR_DUE_PASSED, RR_EXPIRES_DAY, RR_REVIEW_DUE,
};

/* The rows, each with its review (when a destroy rule opened one) and, for destroy rules,
 * when the review window ends or would end (a review opens at the first run after the
 * period ends). where is SQL over e (the scope) and rv (the review). */
#define RETENTION_ROWS_SQL(where)                                                                             \
	RETENTION_SCOPE_CTE                                                                                   \
	" SELECT e.id, e.name, e.class, e.legal_hold, " RETENTION_TS("e.t") ", " RETENTION_TS("e.x") ","       \
	"  coalesce(e.x <= now(), false), rv.status, " RETENTION_TS("rv.due_at") ", rv.decided_by, "             \
	RETENTION_TS("rv.decided_at") ", e.sha256, e.size_bytes, e.storage_key, coalesce(rv.due_at <= now(), false),"   \
	"  to_char(e.x AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"                                                     \
	"  " RETENTION_TS("CASE WHEN $6::interval IS NULL OR e.x IS NULL THEN NULL"                            \
			  " ELSE coalesce(rv.due_at, greatest(e.x, now()) + $6::interval) END")                     \
	" FROM e LEFT JOIN retention_reviews rv ON rv.tenant_id = $1::uuid AND rv.rule = $2 AND rv.document_id = e.id" \
	" WHERE " where " ORDER BY e.x NULLS LAST, e.id"

/* What a run does with a document of a retention rule, from its row: "flag", "destroy",
 * "wait for review", "held" or "nothing". A legal hold always wins over destruction. */
const char *plat_retention_will(bool destroy, bool has_trigger, bool held, const char *review_status);

#endif
