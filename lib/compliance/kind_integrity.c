/* The integrity rule kind: every live document's object (each distinct storage key once)
 * is in the store and hashes to the document's sha256.
 *
 * Without sampling each run reads every object. With sample.period, a run reads only the
 * objects checked longest ago (never-checked ones first), and as many as keep every
 * object within the period:
 *
 *     count = ceil(objects × elapsed / period), at least 1
 *
 * where elapsed is the time since the rule's previous run (its newest row in
 * integrity_checks); the first run, with no previous one, checks them all. A rule run
 * daily with period 7d checks a seventh of the objects each day; a run that comes late
 * checks proportionally more, so no object waits past the period.
 *
 * Failures of the store other than a missing object (S3 down, 5xx after retries) fail the
 * rule with the store's error: an object that could not be read is not reported as
 * missing or corrupt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/compliance.h"
#include "db/db.h"
#include "hash/hash.h"
#include "mem/mem.h"
#include "store/store.h"

#define PAGE 200 /* rows per FETCH (the statement says it too) */

static int hash_write(void *arg, const char *buf, size_t len)
{
	plat_sha256_update(arg, buf, len);
	return 0;
}

/* The object's sha256 into got; *missing when the store has no such object. Streams: the
 * object is never held in memory. plat_documents_read does the same per document, but as
 * an operation of its own (a permission check per call) and per document, where this
 * checks each shared object once. */
static int hash_object(struct plat_store *st, const char *key, char got[PLAT_SHA256_HEX_LEN + 1], bool *missing,
		       struct plat_error *err)
{
	*missing = false;
	struct plat_sha256 *sha = plat_sha256_new();
	struct plat_error e = {0};
	int rc = plat_store_get(st, key, 0, -1, hash_write, sha, &e);
	if (rc == 0)
		plat_sha256_final(sha, got);
	plat_sha256_free(sha);
	if (rc < 0 && e.kind == PLAT_E_NOT_FOUND) {
		*missing = true;
		return 0;
	}
	if (rc < 0)
		*err = e;
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fingerprints of the rule's open findings, sorted, to resolve only those that exist. */
struct open_set {
	char **keys;
	size_t n;
};

static int load_open(struct plat_svc *svc, const struct plat_rule *r, struct open_set *set, struct plat_error *err)
{
	const char *params[] = {svc->tenant_id, r->name};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "SELECT fingerprint FROM findings WHERE tenant_id = $1::uuid AND rule = $2 AND status = 'open'",
			      2, params, &res, err);
	if (rc < 0)
		return rc;
	set->n = (size_t)PQntuples(res);
	set->keys = plat_xcalloc(set->n ? set->n : 1, sizeof(*set->keys));
	for (size_t i = 0; i < set->n; i++)
		set->keys[i] = plat_xstrdup(PQgetvalue(res, (int)i, 0));
	PQclear(res);
	qsort(set->keys, set->n, sizeof(*set->keys), cmp_str);
	return 0;
}

static bool open_has(const struct open_set *set, const char *key)
{
	return set->n && bsearch(&key, set->keys, set->n, sizeof(*set->keys), cmp_str) != NULL;
}

static void open_free(struct open_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->keys[i]);
	free(set->keys);
}

static int report(struct plat_compliance_run *run, const struct plat_rule *r, PGresult *res, int row, bool missing,
		  const char *got, struct plat_error *err)
{
	const char *key = PQgetvalue(res, row, 0), *want = PQgetvalue(res, row, 1), *doc = PQgetvalue(res, row, 2),
		   *name = PQgetvalue(res, row, 3), *docs = PQgetvalue(res, row, 4);
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "storage_key", key);
	cJSON_AddStringToObject(d, "expected_sha256", want);
	if (missing)
		cJSON_AddNullToObject(d, "actual_sha256");
	else
		cJSON_AddStringToObject(d, "actual_sha256", got);
	cJSON_AddNumberToObject(d, "documents", atof(docs));
	struct plat_buf m = PLAT_BUF_INIT;
	if (missing)
		plat_buf_printf(&m, "object '%s' of '%s' is missing from the store", key, name);
	else
		plat_buf_printf(&m, "object '%s' of '%s' does not match its sha256 (expected %.12s…, actual %.12s…)", key,
				name, want, got);
	struct plat_finding_report f = {.document_id = doc, .object_key = key, .fingerprint = key, .severity = -1,
					.message = m.data, .details = d};
	int rc = plat_compliance_report(run, r, &f, err);
	plat_buf_free(&m);
	cJSON_Delete(d);
	return rc;
}

/* Record this page's checks (one statement). */
static int record(struct plat_svc *svc, const struct plat_rule *r, cJSON *checks, struct plat_error *err)
{
	if (cJSON_GetArraySize(checks) == 0)
		return 0;
	char *json = cJSON_PrintUnformatted(checks);
	const char *params[] = {svc->tenant_id, r->name, json};
	int rc = plat_db_exec(svc->db,
			      "INSERT INTO integrity_checks AS c (tenant_id, rule, storage_key, checked_at, ok, sha256)"
			      " SELECT $1::uuid, $2, key, now(), ok, sha256"
			      " FROM jsonb_to_recordset($3::jsonb) AS x(key text, ok boolean, sha256 text)"
			      " ON CONFLICT (tenant_id, rule, storage_key) DO UPDATE"
			      " SET checked_at = EXCLUDED.checked_at, ok = EXCLUDED.ok, sha256 = EXCLUDED.sha256",
			      3, params, NULL, err);
	cJSON_free(json);
	return rc;
}

/* A sampled rule resolves what it no longer covers: findings of objects that no live
 * document (of its classes) uses any more. */
static int resolve_gone(struct plat_compliance_run *run, const struct plat_rule *r, const char *classes,
			struct plat_error *err)
{
	struct plat_svc *svc = plat_compliance_run_svc(run);
	const char *params[] = {svc->tenant_id, r->name, classes};
	PGresult *res = NULL;
	int rc = plat_db_exec(svc->db,
			      "SELECT fingerprint FROM findings f WHERE f.tenant_id = $1::uuid AND f.rule = $2 AND f.status = 'open'"
			      " AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.tenant_id = $1::uuid"
			      "  AND d.storage_key = f.fingerprint AND d.deleted_at IS NULL"
			      "  AND ($3::jsonb IS NULL OR d.class IN (SELECT jsonb_array_elements_text($3::jsonb))))",
			      3, params, &res, err);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++)
		rc = plat_compliance_resolve(run, r, PQgetvalue(res, i, 0), err);
	if (res)
		PQclear(res);
	return rc;
}

int plat_compliance_eval_integrity(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err)
{
	struct plat_svc *svc = plat_compliance_run_svc(run);
	/* The run needs only the database; this kind needs the store as well. */
	int rc = plat_svc_enter(svc, "compliance.run", PLAT_NEEDS_STORE, err);
	if (rc < 0)
		return rc;
	bool sample = r->u.integrity.sample && r->u.integrity.period;
	if (sample)
		plat_compliance_partial(run);
	const char *classes = plat_compliance_classes_param(run, r);
	struct open_set open = {0};
	if (sample && (rc = load_open(svc, r, &open, err)) < 0)
		return rc;
	const char *params[] = {svc->tenant_id, r->name, classes, sample ? r->u.integrity.period : NULL};
	rc = plat_db_exec(
		svc->db,
		"DECLARE integrity_objects NO SCROLL CURSOR FOR"
		" WITH o AS ("
		"  SELECT storage_key, min(sha256) AS sha256, count(*) AS docs,"
		"   (array_agg(id::text ORDER BY created_at DESC, id))[1] AS doc_id,"
		"   (array_agg(name ORDER BY created_at DESC, id))[1] AS name"
		"  FROM documents WHERE tenant_id = $1::uuid AND deleted_at IS NULL"
		"  AND ($3::jsonb IS NULL OR class IN (SELECT jsonb_array_elements_text($3::jsonb)))"
		"  GROUP BY storage_key),"
		" prev AS (SELECT max(checked_at) AS at FROM integrity_checks WHERE tenant_id = $1::uuid AND rule = $2)"
		" SELECT o.storage_key, o.sha256, o.doc_id, o.name, o.docs FROM o"
		" LEFT JOIN integrity_checks c ON c.tenant_id = $1::uuid AND c.rule = $2 AND c.storage_key = o.storage_key"
		" ORDER BY c.checked_at NULLS FIRST, o.storage_key"
		" LIMIT (SELECT CASE WHEN $4::interval IS NULL OR prev.at IS NULL THEN NULL"
		"  ELSE greatest(1, ceil((SELECT count(*) FROM o)"
		"   * greatest(extract(epoch FROM now() - prev.at), 0) / extract(epoch FROM $4::interval)))::bigint END"
		"  FROM prev)",
		4, params, NULL, err);
	while (rc == 0) {
		PGresult *res;
		if ((rc = plat_db_exec(svc->db, "FETCH 200 FROM integrity_objects", 0, NULL, &res, err)) < 0)
			break;
		int n = PQntuples(res);
		cJSON *checks = cJSON_CreateArray();
		for (int i = 0; rc == 0 && i < n; i++) {
			const char *key = PQgetvalue(res, i, 0);
			char got[PLAT_SHA256_HEX_LEN + 1] = "";
			bool missing;
			if ((rc = hash_object(svc->store, key, got, &missing, err)) < 0)
				break;
			bool ok = !missing && strcmp(got, PQgetvalue(res, i, 1)) == 0;
			cJSON *c = cJSON_CreateObject();
			cJSON_AddStringToObject(c, "key", key);
			cJSON_AddBoolToObject(c, "ok", ok);
			if (missing)
				cJSON_AddNullToObject(c, "sha256");
			else
				cJSON_AddStringToObject(c, "sha256", got);
			cJSON_AddItemToArray(checks, c);
			if (!ok)
				rc = report(run, r, res, i, missing, got, err);
			else if (sample && open_has(&open, key))
				rc = plat_compliance_resolve(run, r, key, err);
		}
		plat_compliance_checked(run, n);
		if (rc == 0)
			rc = record(svc, r, checks, err);
		cJSON_Delete(checks);
		PQclear(res);
		if (n < PAGE)
			break;
	}
	if (rc == 0)
		rc = plat_db_exec(svc->db, "CLOSE integrity_objects", 0, NULL, NULL, err);
	if (rc == 0 && sample)
		rc = resolve_gone(run, r, classes, err);
	open_free(&open);
	/* The store's errors abort the whole run; say which rule met them. */
	if (rc < 0 && err && err->kind == PLAT_E_UNAVAILABLE)
		plat_error_wrap(err, "rule '%s' (integrity)", r->name);
	return rc;
}
