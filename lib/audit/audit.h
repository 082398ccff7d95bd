/* The audit log: append-only (a trigger refuses UPDATE and DELETE) and hash-chained per
 * tenant, hash = sha256(prev_hash || canonical row), so a changed or removed row breaks
 * the chain from that row on. Appends happen inside the caller's transaction.
 *
 * Each tenant's chain has a head (audit_heads: last id, last hash, row count) that every
 * append moves in the same transaction, and the next row chains onto the head's hash. The
 * head is what shows that rows were deleted from the end, which the chain alone cannot.
 *
 * What verification sees, row by row in id order:
 *   "row edited"               the row's hash is not sha256(its prev_hash || its content):
 *                              any column changed (the hashes included) without recomputing;
 *   "row missing or reordered" the row is sound but its prev_hash is not the hash of the row
 *                              before it: a row deleted before it, rows swapped or moved, a
 *                              row inserted, or rows appended after a truncation;
 * and at the end, against the head:
 *   "chain truncated after id N"  the chain ends before the head's last id;
 *   "chain rewritten ..."         the last row is the head's but its hash is not;
 *   "row not recorded in the head" rows beyond the head (written around plat_audit_append);
 *   "chain head missing"          rows but no head.
 * Someone who can rewrite rows, recompute every hash and move the head (a superuser with
 * the triggers disabled) is not detectable from inside the database: keep the head's hash
 * (verification prints it) somewhere else to compare against. */
#ifndef PLAT_AUDIT_H
#define PLAT_AUDIT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "error/error.h"
#include "svc/svc.h"

struct plat_db;

/* details_json: a JSON object ("{}" when NULL). Serialised per tenant. */
int plat_audit_append(struct plat_db *db, const char *tenant_id, const char *principal, const char *action,
		      const char *object_type, const char *object_id, const char *request_id, const char *details_json,
		      struct plat_error *err);

/* The result of checking one tenant's chain against its head. */
struct plat_audit_check {
	long long rows;      /* in the chain */
	long long verified;  /* rows before the first broken link (all of them when intact) */
	long long broken_id; /* 0 when intact; for a truncation, the head's last id */
	char broken_at[40];  /* RFC 3339 UTC of that row; "" when it is not there */
	char reason[96];     /* "" when intact */
	long long head_id;   /* the head's last id and hash, 0 and "" without a head */
	char head_hash[65];
};

int plat_audit_check_chain(struct plat_db *db, const char *tenant_id, struct plat_audit_check *c,
			   struct plat_error *err);

/* Recompute the tenant's chain: *rows checked, *first_bad the id of the first row that
 * does not match (0 when the chain is intact). */
int plat_audit_verify(struct plat_db *db, const char *tenant_id, long long *rows, long long *first_bad,
		      struct plat_error *err);

/* ---- operations (each starts with plat_svc_enter) ---- */

struct plat_audit_filter {
	const char *since, *until;            /* as plat_audit_parse_time reads them; until is exclusive */
	const char *actor;                    /* principal, exact */
	const char *action;                   /* exact, or a prefix when it ends in '*' */
	const char *object_type, *object_id;  /* object_id only with object_type */
	int limit;                            /* 1..1000 */
	const char *cursor;                   /* a previous page's next_cursor */
};

/* The caller's tenant's rows, newest first. *out: {"entries": [{id, at, principal, action,
 * object_type, object_id, request_id, details, hash, prev_hash}], "next_cursor": string or
 * null}; at is RFC 3339 UTC with microseconds (as hashed), hashes are hex. Bad filters are
 * PLAT_E_USAGE naming the parameter. Operation "audit.list". */
int plat_audit_list(struct plat_svc *svc, const struct plat_audit_filter *f, cJSON **out, struct plat_error *err);

/* Check the caller's tenant's chain. *out: {"ok", "rows", "verified", "first_broken": {id,
 * at (null when the row is gone), reason} or null, "head": {last_id, last_hash} or null}.
 * A broken chain is not an error here (the result says so); errors are the database's.
 * Operation "audit.verify". */
int plat_audit_verify_chain(struct plat_svc *svc, cJSON **out, struct plat_error *err);

/* A time as the filters take it, into out as RFC 3339 UTC with microseconds: RFC 3339
 * ("2026-11-01T09:30:00Z", "+02:00" offsets, fractions, a space for the T, no zone meaning
 * UTC), a date (midnight UTC) or an age before now (epoch seconds): N followed by s, m, h,
 * d or w. PLAT_E_USAGE otherwise. */
int plat_audit_parse_time(const char *text, long long now, char out[32], struct plat_error *err);

#endif
