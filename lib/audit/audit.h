/* The audit log: append-only (a trigger refuses UPDATE and DELETE) and hash-chained per
 * tenant, hash = sha256(prev_hash || canonical row), so a changed or removed row breaks
 * the chain from that row on. Appends happen inside the caller's transaction. */
#ifndef PLAT_AUDIT_H
#define PLAT_AUDIT_H

#include "db/db.h"
#include "error/error.h"

/* details_json: a JSON object ("{}" when NULL). Serialised per tenant. */
int plat_audit_append(struct plat_db *db, const char *tenant_id, const char *principal, const char *action,
		      const char *object_type, const char *object_id, const char *request_id, const char *details_json,
		      struct plat_error *err);

/* Recompute the tenant's chain: *rows checked, *first_bad the id of the first row that
 * does not match (0 when the chain is intact). */
int plat_audit_verify(struct plat_db *db, const char *tenant_id, long long *rows, long long *first_bad,
		      struct plat_error *err);

#endif
