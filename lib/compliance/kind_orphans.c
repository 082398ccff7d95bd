/* The orphans rule kind: the store and the documents table disagreeing, and documents
 * whose processing never finished.
 *
 *   stray object     a key under the tenant's prefix ("<tenant>/", see
 *                    plat_documents_storage_key) that no document row references, deleted
 *                    rows included (a soft-deleted document keeps its object until purged);
 *                    fingerprint: the key
 *   missing object   a live document (of the rule's classes) whose key is not in the store;
 *                    fingerprint "missing:<document id>"
 *   stuck            a live document in 'processing' for longer than processing_timeout
 *                    (by updated_at): its worker died. With requeue it goes back to queued
 *                    with a new event, audited as document.requeued by the system
 *                    principal; the finding (info) says so. A dry run only reports.
 *                    Fingerprint "stuck:<document id>".
 *
 * The store is listed once and compared in memory, not asked once per document. It is
 * listed before the rows are read, and documents created after the listing began are not
 * judged: an upload stores its object first and commits its row after, so an upload in
 * flight is neither a missing object nor (once committed) a stray. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "compliance/compliance.h"
#include "db/db.h"
#include "documents/documents.h"
#include "mem/mem.h"
#include "store/store.h"
#include "str/str.h"

/* The listing: keys in an open-addressing table, each with whether a row references it. */
struct key_entry {
	char *key;
	long long size;
	bool referenced;
};

struct key_set {
	struct key_entry *e;
	size_t cap, n;
};

static uint64_t key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct key_entry *set_slot(struct key_set *s, const char *key)
{
	size_t j = (size_t)(key_hash(key) & (s->cap - 1));
	while (s->e[j].key && strcmp(s->e[j].key, key) != 0)
		j = (j + 1) & (s->cap - 1);
	return &s->e[j];
}

static void set_add(struct key_set *s, const char *key, long long size)
{
	if ((s->n + 1) * 2 > s->cap) {
		struct key_set t = {.cap = s->cap ? s->cap * 2 : 1024};
		t.e = plat_xcalloc(t.cap, sizeof(*t.e));
		for (size_t i = 0; i < s->cap; i++)
			if (s->e[i].key)
				*set_slot(&t, s->e[i].key) = s->e[i];
		t.n = s->n;
		free(s->e);
		*s = t;
	}
	struct key_entry *e = set_slot(s, key);
	if (!e->key) {
		e->key = plat_xstrdup(key);
		e->size = size;
		s->n++;
	}
}

static struct key_entry *set_find(struct key_set *s, const char *key)
{
	if (!s->cap)
		return NULL;
	struct key_entry *e = set_slot(s, key);
	return e->key ? e : NULL;
}

static void set_free(struct key_set *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->e[i].key);
	free(s->e);
}

static int list_store(struct plat_svc *svc, struct key_set *set, struct plat_error *err)
{
	char *prefix = plat_arena_printf(&svc->arena, "%s/", svc->tenant);
	char *cursor = NULL;
	int rc = 0;
	do {
		struct plat_store_list page = {0};
		rc = plat_store_list(svc->store, prefix, cursor, 1000, &page, err);
		free(cursor);
		cursor = NULL;
		if (rc < 0)
			break;
		for (size_t i = 0; i < page.n; i++)
			set_add(set, page.objects[i].key, page.objects[i].size);
		if (page.next_cursor)
			cursor = plat_xstrdup(page.next_cursor);
		plat_store_list_free(&page);
	} while (cursor);
	return rc;
}

static int report_missing(struct plat_compliance_run *run, const struct plat_rule *r, const char *id, const char *name,
			  const char *key, struct plat_error *err)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "problem", "missing_object");
	cJSON_AddStringToObject(d, "storage_key", key);
	char *fp = plat_arena_printf(&plat_compliance_run_svc(run)->arena, "missing:%s", id);
	char *msg = plat_arena_printf(&plat_compliance_run_svc(run)->arena,
				      "'%s' has no object in the store (key '%s')", name, key);
	struct plat_finding_report f = {.document_id = id, .object_key = key, .fingerprint = fp, .severity = -1,
					.message = msg, .details = d};
	int rc = plat_compliance_report(run, r, &f, err);
	cJSON_Delete(d);
	return rc;
}

static int report_stray(struct plat_compliance_run *run, const struct plat_rule *r, const struct key_entry *e,
			struct plat_error *err)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "problem", "stray_object");
	cJSON_AddStringToObject(d, "storage_key", e->key);
	cJSON_AddNumberToObject(d, "size", (double)e->size);
	char *msg = plat_arena_printf(&plat_compliance_run_svc(run)->arena,
				      "object '%s' in the store belongs to no document", e->key);
	struct plat_finding_report f = {.object_key = e->key, .severity = -1, .message = msg, .details = d};
	int rc = plat_compliance_report(run, r, &f, err);
	cJSON_Delete(d);
	return rc;
}

/* A key outside the tenant's prefix (not in the listing by construction): asked for once. */
static int exists_elsewhere(struct plat_svc *svc, const char *key, bool *exists, struct plat_error *err)
{
	struct plat_store_object o = {0};
	struct plat_error e = {0};
	int rc = plat_store_head(svc->store, key, &o, &e);
	plat_store_object_free(&o);
	*exists = rc == 0;
	if (rc < 0 && e.kind != PLAT_E_NOT_FOUND) {
		*err = e;
		return rc;
	}
	return 0;
}

/* Objects against rows: every row marks its key; live rows without one are reported. */
static int compare(struct plat_compliance_run *run, const struct plat_rule *r, struct key_set *set,
		   const char *listed_at, struct plat_error *err)
{
	struct plat_svc *svc = plat_compliance_run_svc(run);
	char *prefix = plat_arena_printf(&svc->arena, "%s/", svc->tenant);
	const char *params[] = {svc->tenant_id, plat_compliance_classes_param(run, r), listed_at};
	int rc = plat_db_exec(svc->db,
			      "DECLARE orphan_rows NO SCROLL CURSOR FOR"
			      " SELECT id, name, storage_key,"
			      "  deleted_at IS NULL AND created_at < $3::timestamptz"
			      "  AND ($2::jsonb IS NULL OR class IN (SELECT jsonb_array_elements_text($2::jsonb)))"
			      " FROM documents WHERE tenant_id = $1::uuid",
			      3, params, NULL, err);
	long long rows = 0;
	while (rc == 0) {
		PGresult *res;
		if ((rc = plat_db_exec(svc->db, "FETCH 1000 FROM orphan_rows", 0, NULL, &res, err)) < 0)
			break;
		int n = PQntuples(res);
		for (int i = 0; rc == 0 && i < n; i++) {
			const char *key = PQgetvalue(res, i, 2);
			struct key_entry *e = set_find(set, key);
			bool exists = false;
			if (e)
				e->referenced = true;
			else if (strcmp(PQgetvalue(res, i, 3), "t") != 0)
				continue;
			else if (!plat_str_has_prefix(key, prefix) && ((rc = exists_elsewhere(svc, key, &exists, err)) < 0 || exists))
				continue;
			else
				rc = report_missing(run, r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), key, err);
		}
		rows += n;
		PQclear(res);
		if (n < 1000)
			break;
	}
	if (rc == 0)
		rc = plat_db_exec(svc->db, "CLOSE orphan_rows", 0, NULL, NULL, err);
	for (size_t i = 0; rc == 0 && i < set->cap; i++)
		if (set->e[i].key && !set->e[i].referenced)
			rc = report_stray(run, r, &set->e[i], err);
	plat_compliance_checked(run, rows + (long long)set->n);
	return rc;
}

static int stuck(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err)
{
	struct plat_svc *svc = plat_compliance_run_svc(run);
	const char *timeout = r->u.orphans.processing_timeout ? r->u.orphans.processing_timeout : "1 hour";
	const char *params[] = {svc->tenant_id, timeout, plat_compliance_classes_param(run, r)};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "SELECT id, name, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), attempts"
			      " FROM documents WHERE tenant_id = $1::uuid AND status = 'processing' AND deleted_at IS NULL"
			      " AND updated_at < now() - $2::interval"
			      " AND ($3::jsonb IS NULL OR class IN (SELECT jsonb_array_elements_text($3::jsonb)))"
			      " ORDER BY updated_at, id",
			      3, params, &res, err);
	if (rc < 0)
		return rc;
	bool dry = plat_compliance_run_dry(run);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		const char *id = PQgetvalue(res, i, 0), *name = PQgetvalue(res, i, 1), *since = PQgetvalue(res, i, 2);
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "problem", "stuck_processing");
		cJSON_AddStringToObject(d, "since", since);
		cJSON_AddNumberToObject(d, "attempts", atof(PQgetvalue(res, i, 3)));
		cJSON_AddStringToObject(d, "timeout", timeout);
		bool requeued = false;
		if (r->u.orphans.requeue && !dry) {
			cJSON *ad = cJSON_CreateObject();
			cJSON_AddStringToObject(ad, "rule", r->name);
			cJSON_AddStringToObject(ad, "run_id", plat_compliance_run_id(run));
			cJSON_AddStringToObject(ad, "processing_since", since);
			char *adj = cJSON_PrintUnformatted(ad);
			cJSON_Delete(ad);
			rc = plat_documents_requeue_stuck(svc, id, timeout, PLAT_SYSTEM_PRINCIPAL, adj, &requeued, err);
			cJSON_free(adj);
			if (rc == 0 && !requeued) { /* finished meanwhile: nothing to report */
				cJSON_Delete(d);
				continue;
			}
		}
		cJSON_AddBoolToObject(d, "requeued", requeued);
		const char *outcome = requeued ? "requeued"
				      : !r->u.orphans.requeue ? "not requeued (requeue is off)"
							      : "would be requeued (dry run)";
		char *msg = plat_arena_printf(&svc->arena, "'%s' was stuck in processing since %s; %s", name, since, outcome);
		char *fp = plat_arena_printf(&svc->arena, "stuck:%s", id);
		struct plat_finding_report f = {.document_id = id, .fingerprint = fp, .severity = PLAT_SEV_INFO,
						.message = msg, .details = d};
		if (rc == 0)
			rc = plat_compliance_report(run, r, &f, err);
		cJSON_Delete(d);
	}
	PQclear(res);
	return rc;
}

int plat_compliance_eval_orphans(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err)
{
	struct plat_svc *svc = plat_compliance_run_svc(run);
	int rc = plat_svc_enter(svc, "compliance.run", PLAT_NEEDS_STORE, err);
	if (rc < 0)
		return rc;
	/* The wall clock, not now(): the run's transaction may have started long before. */
	PGresult *res;
	if ((rc = plat_db_exec(svc->db, "SELECT clock_timestamp()::text", 0, NULL, &res, err)) < 0)
		return rc;
	char *listed_at = plat_arena_strdup(&svc->arena, PQgetvalue(res, 0, 0));
	PQclear(res);
	struct key_set set = {0};
	rc = list_store(svc, &set, err);
	if (rc == 0)
		rc = compare(run, r, &set, listed_at, err);
	set_free(&set);
	if (rc == 0)
		rc = stuck(run, r, err);
	/* The store's errors abort the whole run; say which rule met them. */
	if (rc < 0 && err && err->kind == PLAT_E_UNAVAILABLE)
		plat_error_wrap(err, "rule '%s' (orphans)", r->name);
	return rc;
}
