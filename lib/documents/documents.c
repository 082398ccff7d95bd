#include "documents/documents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cache/cache.h"
#include "db/db.h"
#include "documents/doc_json.h"
#include "documents/remote.h"
#include "ids/ids.h"
#include "mem/mem.h"
#include "queue/queue.h"
#include "store/store.h"
#include "str/str.h"

char *plat_documents_storage_key(const struct plat_svc *svc, const char *sha256)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_printf(&b, "%s/%s", svc->tenant, sha256);
	return plat_buf_detach(&b);
}

static cJSON *parse_row(PGresult *res, int row, int col)
{
	return cJSON_Parse(PQgetvalue(res, row, col));
}

int plat_documents_find_content(struct plat_svc *svc, const char *sha256, cJSON **doc, struct plat_error *err)
{
	*doc = NULL;
	const char *params[] = {svc->tenant_id, sha256};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "SELECT " DOC_JSON("") "::text FROM documents WHERE tenant_id = $1 AND sha256 = $2"
			      " AND deleted_at IS NULL ORDER BY version DESC LIMIT 1",
			      2, params, &res, err);
	if (rc == 0 && PQntuples(res) > 0)
		*doc = parse_row(res, 0, 0);
	PQclear(res);
	return rc;
}

static int event_and_audit_as(struct plat_svc *svc, const char *principal, const char *event, const char *action,
			      const char *doc_id, const char *details, struct plat_error *err)
{
	const char *ev[] = {svc->tenant_id, event, doc_id, svc->request_id};
	int rc = plat_db_exec(svc->db,
			      "INSERT INTO outbox (tenant_id, event_type, aggregate_id, payload, request_id)"
			      " VALUES ($1::uuid, $2, $3::uuid,"
			      "  jsonb_build_object('document_id', $3::uuid::text, 'tenant_id', $1::uuid::text), $4)",
			      4, ev, NULL, err);
	if (rc == 0)
		rc = plat_audit_append(svc->db, svc->tenant_id, principal, action, "document", doc_id,
				       svc->request_id, details, err);
	/* Delivered at commit: workers of the postgres queue wake up. */
	if (rc == 0)
		rc = plat_db_exec(svc->db, "SELECT pg_notify('" PLAT_QUEUE_CHANNEL "', $1)", 1, (const char *[]){event}, NULL, err);
	return rc;
}

static int event_and_audit(struct plat_svc *svc, const char *event, const char *action, const char *doc_id,
			   const char *details, struct plat_error *err)
{
	return event_and_audit_as(svc, svc->principal, event, action, doc_id, details, err);
}

int plat_documents_create(struct plat_svc *svc, const struct plat_new_document *nd, bool new_version, cJSON **doc,
			  const char **outcome, struct plat_error *err)
{
	*doc = NULL;
	int rc = plat_db_begin(svc->db, err);
	if (rc < 0)
		return rc;
	/* Two uploads of the same content must not both decide they are first. */
	const char *lock[] = {svc->tenant_id, nd->sha256};
	rc = plat_db_exec(svc->db, "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))", 2, lock, NULL, err);
	cJSON *existing = NULL;
	if (rc == 0)
		rc = plat_documents_find_content(svc, nd->sha256, &existing, err);
	if (rc == 0 && existing && !new_version) {
		plat_db_rollback(svc->db);
		*doc = existing;
		*outcome = "unchanged";
		return 0;
	}
	cJSON_Delete(existing);
	*outcome = existing ? "new_version" : "created";

	PGresult *res = NULL;
	if (rc == 0) {
		char size[32];
		snprintf(size, sizeof(size), "%lld", nd->size);
		const char *params[] = {svc->tenant_id, nd->name, nd->title, nd->content_type, size, nd->sha256,
					nd->storage_key, nd->class_hint, nd->tags_json ? nd->tags_json : "{}", svc->principal};
		rc = plat_db_exec(svc->db,
				  "INSERT INTO documents (tenant_id, name, title, content_type, size_bytes, sha256,"
				  " storage_key, class, tags, created_by, version)"
				  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10,"
				  "  (SELECT coalesce(max(version), 0) + 1 FROM documents WHERE tenant_id = $1 AND sha256 = $6))"
				  " RETURNING id, " DOC_JSON("") "::text",
				  10, params, &res, err);
	}
	if (rc == 0) {
		const char *id = PQgetvalue(res, 0, 0);
		cJSON *details = cJSON_CreateObject();
		cJSON_AddStringToObject(details, "name", nd->name);
		cJSON_AddStringToObject(details, "sha256", nd->sha256);
		cJSON_AddNumberToObject(details, "size", (double)nd->size);
		cJSON_AddStringToObject(details, "outcome", *outcome);
		char *dj = cJSON_PrintUnformatted(details);
		cJSON_Delete(details);
		rc = event_and_audit(svc, "document.uploaded", "document.upload", id, dj, err);
		cJSON_free(dj);
		if (rc == 0)
			*doc = parse_row(res, 0, 1);
	}
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

int plat_documents_key_in_use(struct plat_svc *svc, const char *storage_key, bool *in_use, struct plat_error *err)
{
	const char *params[] = {svc->tenant_id, storage_key};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "SELECT EXISTS (SELECT 1 FROM documents WHERE tenant_id = $1 AND storage_key = $2"
			      " AND deleted_at IS NULL)",
			      2, params, &res, err);
	if (rc == 0) {
		*in_use = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
	}
	return rc;
}

void plat_documents_tag_filter(const char *key, const char *value, struct plat_buf *out)
{
	if (!key)
		return;
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, key, value ? value : "");
	char *s = cJSON_PrintUnformatted(t);
	plat_buf_puts(out, s);
	cJSON_free(s);
	cJSON_Delete(t);
}

cJSON *plat_documents_page(cJSON *docs, const char *next_cursor)
{
	cJSON *page = cJSON_CreateObject();
	cJSON_AddItemToObject(page, "documents", docs);
	if (next_cursor)
		cJSON_AddStringToObject(page, "next_cursor", next_cursor);
	else
		cJSON_AddNullToObject(page, "next_cursor");
	return page;
}

/* The cursor is the last row's "created_at|id", as text. */
int plat_documents_list(struct plat_svc *svc, const struct plat_document_filter *f, cJSON **docs, char **next_cursor,
			struct plat_error *err)
{
	*docs = NULL;
	*next_cursor = NULL;
	struct plat_remote *remote;
	int rc = plat_svc_remote(svc, &remote, err);
	if (rc != 0)
		return rc < 0 ? rc : plat_documents_remote_list(remote, f, docs, next_cursor, err);
	rc = plat_svc_enter(svc, "documents.list", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	char limit[16];
	snprintf(limit, sizeof(limit), "%d", f->limit + 1);
	char *cur_at = NULL, *cur_id = NULL;
	if (f->cursor && *f->cursor) {
		const char *bar = strchr(f->cursor, '|');
		if (!bar || strlen(bar + 1) != 36)
			{
			plat_error_set(err, PLAT_E_USAGE, "invalid cursor (use the next_cursor of a previous page)");
			return plat_error_param(err, "cursor");
		}
		cur_at = strndup(f->cursor, (size_t)(bar - f->cursor));
		cur_id = strdup(bar + 1);
	}
	struct plat_buf tag = PLAT_BUF_INIT;
	plat_documents_tag_filter(f->tag_key, f->tag_value, &tag);
	const char *params[] = {svc->tenant_id, f->status, f->class_name, tag.len ? tag.data : NULL, f->since, f->name,
				cur_at, cur_id, limit};
	PGresult *res;
	rc = plat_db_exec(
		svc->db,
		"SELECT " DOC_JSON_HOLD("") "::text, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '|' || id"
		" FROM documents WHERE tenant_id = $1 AND deleted_at IS NULL"
		" AND ($2::text IS NULL OR status = $2)"
		" AND ($3::text IS NULL OR class = $3)"
		" AND ($4::jsonb IS NULL OR tags @> $4::jsonb)"
		" AND ($5::timestamptz IS NULL OR created_at >= $5::timestamptz)"
		" AND ($6::text IS NULL OR strpos(lower(name), lower($6)) > 0)"
		" AND ($7::timestamp IS NULL OR (created_at, id) < (($7::timestamp AT TIME ZONE 'UTC'), $8::uuid))"
		" ORDER BY created_at DESC, id DESC LIMIT $9::int",
		9, params, &res, err);
	free(cur_at);
	free(cur_id);
	plat_buf_free(&tag);
	if (rc < 0) {
		if (err && err->kind == PLAT_E_FAILURE && f->since)
		{
			plat_error_wrap(err, "'%s'", f->since);
			plat_error_param(err, "since");
		}
		return rc;
	}
	cJSON *arr = cJSON_CreateArray();
	int n = PQntuples(res);
	for (int i = 0; i < n && i < f->limit; i++)
		cJSON_AddItemToArray(arr, parse_row(res, i, 0));
	if (n > f->limit)
		*next_cursor = plat_xstrdup(PQgetvalue(res, f->limit - 1, 1));
	PQclear(res);
	*docs = arr;
	return 0;
}

int plat_documents_not_found(const char *id, struct plat_error *err)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_str_escape_terminal(&b, id, strlen(id) > 100 ? 100 : strlen(id));
	int rc = plat_error_set(err, PLAT_E_NOT_FOUND, "document '%s' not found", b.data ? b.data : "");
	plat_buf_free(&b);
	return rc;
}

static int get_from_db(struct plat_svc *svc, const char *id, bool with_history, cJSON **doc,
		       struct plat_error *err);

/* The server reads a document through its cache (lib/cache/cache.h), whose value is the
 * tenant's id, a newline and the JSON, so that an id of another tenant is never a hit.
 * A hit gives *text (the -o json schema); a miss gives *doc, and *text too when it was
 * printed for the cache; without a cache, *doc only. The caller frees both. */
static int get_cached(struct plat_svc *svc, const char *id, bool with_history, char **text, cJSON **doc,
		      struct plat_error *err)
{
	*text = NULL;
	*doc = NULL;
	int rc = plat_svc_enter(svc, "documents.get", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	if (!plat_id_uuid_shaped(id))
		return plat_documents_not_found(id, err);
	struct plat_cache *cache = plat_services_cache(svc->services);
	if (!cache)
		return get_from_db(svc, id, with_history, doc, err);
	char key[64];
	snprintf(key, sizeof(key), PLAT_CACHE_DOCUMENT "%s%s", id, with_history ? PLAT_CACHE_WITH_HISTORY : "");
	char *hit;
	size_t len;
	unsigned long long gen;
	size_t tl = strlen(svc->tenant_id);
	if (plat_cache_get(cache, key, (void **)&hit, &len, &gen)) {
		/* Another tenant's id is not found here, as the database would say. */
		if (len <= tl || strncmp(hit, svc->tenant_id, tl) != 0 || hit[tl] != '\n') {
			free(hit);
			return plat_documents_not_found(id, err);
		}
		memmove(hit, hit + tl + 1, len - tl);
		*text = hit;
		return 0;
	}
	if ((rc = get_from_db(svc, id, with_history, doc, err)) < 0)
		return rc;
	char *json = cJSON_PrintUnformatted(*doc);
	if (json) {
		struct plat_buf b = PLAT_BUF_INIT;
		plat_buf_printf(&b, "%s\n%s", svc->tenant_id, json);
		plat_cache_put(cache, key, b.data, b.len, gen, 0);
		plat_buf_free(&b);
		*text = plat_xstrdup(json);
		cJSON_free(json);
	}
	return 0;
}

int plat_documents_get(struct plat_svc *svc, const char *id, bool with_history, cJSON **doc, struct plat_error *err)
{
	*doc = NULL;
	struct plat_remote *remote;
	int rc = plat_svc_remote(svc, &remote, err);
	if (rc != 0)
		return rc < 0 ? rc : plat_documents_remote_get(remote, id, with_history, doc, err);
	char *text;
	rc = get_cached(svc, id, with_history, &text, doc, err);
	if (rc == 0 && !*doc && !(*doc = cJSON_Parse(text)))
		rc = plat_error_set(err, PLAT_E_INTERNAL, "document '%s': its cached JSON does not parse", id);
	free(text);
	return rc;
}

int plat_documents_get_json(struct plat_svc *svc, const char *id, bool with_history, char **json,
			    struct plat_error *err)
{
	cJSON *doc;
	int rc = get_cached(svc, id, with_history, json, &doc, err);
	if (rc == 0 && !*json) {
		char *p = cJSON_PrintUnformatted(doc);
		*json = plat_xstrdup(p);
		cJSON_free(p);
	}
	cJSON_Delete(doc);
	return rc;
}

static int get_from_db(struct plat_svc *svc, const char *id, bool with_history, cJSON **doc,
		       struct plat_error *err)
{
	int rc;
	const char *params[] = {svc->tenant_id, id};
	PGresult *res;
	rc = plat_db_exec(svc->db,
			      "SELECT (" DOC_JSON_HOLD("") " || jsonb_build_object('storage_key', storage_key,"
			      " 'summary', summary, 'fields', fields, 'class_confidence', class_confidence,"
			      " 'stage_timings', stage_timings, 'error', error, 'attempts', attempts,"
			      " 'ai_provider', ai_provider,"
			      " 'deleted', deleted_at IS NOT NULL))::text"
			      " FROM documents WHERE tenant_id = $1 AND id = $2",
			      2, params, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return plat_documents_not_found(id, err);
	}
	*doc = parse_row(res, 0, 0);
	PQclear(res);
	if (!with_history)
		return 0;
	rc = plat_db_exec(svc->db,
			  "SELECT coalesce(jsonb_agg(jsonb_build_object('at', to_char(at AT TIME ZONE 'UTC',"
			  " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'action', action, 'principal', principal,"
			  " 'request_id', request_id, 'details', details) ORDER BY id), '[]')::text"
			  " FROM audit_log WHERE tenant_id = $1 AND object_type = 'document' AND object_id = $2",
			  2, params, &res, err);
	if (rc == 0) {
		cJSON_AddItemToObject(*doc, "history", parse_row(res, 0, 0));
		PQclear(res);
	}
	return rc;
}

/* Start a transaction holding the document's row lock; *res has storage_key, legal_hold,
 * deleted, status, sha256 and hold_reason. An unknown id (in this tenant) is PLAT_E_NOT_FOUND, rolled back. */
static int begin_locked(struct plat_svc *svc, const char *id, PGresult **res, struct plat_error *err)
{
	*res = NULL;
	if (!plat_id_uuid_shaped(id))
		return plat_documents_not_found(id, err);
	int rc = plat_db_begin(svc->db, err);
	if (rc < 0)
		return rc;
	const char *params[] = {svc->tenant_id, id};
	rc = plat_db_exec(svc->db,
			  "SELECT storage_key, legal_hold, deleted_at IS NOT NULL, status, sha256, coalesce(hold_reason, '')"
			  " FROM documents"
			  " WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
			  2, params, res, err);
	if (rc == 0 && PQntuples(*res) == 0)
		rc = plat_documents_not_found(id, err);
	if (rc < 0) {
		PQclear(*res);
		*res = NULL;
		plat_db_rollback(svc->db);
	}
	return rc;
}

int plat_documents_delete(struct plat_svc *svc, const char *id, char **storage_key, char **sha256,
			  struct plat_error *err)
{
	*storage_key = NULL;
	*sha256 = NULL;
	PGresult *res;
	int rc = begin_locked(svc, id, &res, err);
	if (rc < 0)
		return rc;
	const char *params[] = {svc->tenant_id, id};
	if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		const char *why = PQgetvalue(res, 0, 5);
		rc = plat_error_set(err, PLAT_E_CONFLICT,
				    "document '%s' is under legal hold%s%s%s and cannot be deleted until it is released", id,
				    *why ? " (" : "", why, *why ? ")" : "");
	}
	if (rc == 0) {
		*storage_key = plat_xstrdup(PQgetvalue(res, 0, 0));
		*sha256 = plat_xstrdup(PQgetvalue(res, 0, 4));
		bool already = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		if (!already) {
			rc = plat_db_exec(svc->db,
					  "UPDATE documents SET status = 'deleted', deleted_at = now(), updated_at = now()"
					  " WHERE tenant_id = $1 AND id = $2",
					  2, params, NULL, err);
			/* A removed document leaves the search index with it: its passages would only
			 * be filtered out of every search, and would still count in the tenant's term
			 * statistics (BM25's IDF and average length). Its content stays in the
			 * store until purged; a retry would extract it again. */
			if (rc == 0)
				rc = plat_db_exec(svc->db, "DELETE FROM chunks WHERE tenant_id = $1 AND document_id = $2", 2,
						  params, NULL, err);
			if (rc == 0)
				rc = event_and_audit(svc, "document.deleted", "document.delete", id, "{}", err);
		}
	}
	PQclear(res);
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	if (rc < 0) {
		plat_db_rollback(svc->db);
		free(*storage_key);
		free(*sha256);
		*storage_key = NULL;
		*sha256 = NULL;
	}
	return rc;
}

int plat_documents_retry(struct plat_svc *svc, const char *id, cJSON **doc, struct plat_error *err)
{
	*doc = NULL;
	PGresult *res;
	int rc = begin_locked(svc, id, &res, err);
	if (rc < 0)
		return rc;
	const char *params[] = {svc->tenant_id, id};
	const char *status = PQgetvalue(res, 0, 3);
	if (strcmp(PQgetvalue(res, 0, 2), "t") == 0)
		rc = plat_documents_not_found(id, err);
	else if (strcmp(status, "failed") != 0 && strcmp(status, "processed") != 0)
		rc = plat_error_set(err, PLAT_E_CONFLICT, "document '%s' is %s; only failed or processed documents are retried",
				    id, status);
	PQclear(res);
	res = NULL;
	if (rc == 0)
		rc = plat_db_exec(svc->db,
				  "UPDATE documents SET status = 'queued', error = NULL, attempts = 0, updated_at = now()"
				  " WHERE tenant_id = $1 AND id = $2 RETURNING " DOC_JSON("") "::text",
				  2, params, &res, err);
	if (rc == 0) {
		*doc = parse_row(res, 0, 0);
		rc = event_and_audit(svc, "document.uploaded", "document.retry", id, "{}", err);
	}
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

int plat_documents_requeue_stuck(struct plat_svc *svc, const char *id, const char *stuck_for, const char *principal,
				 const char *details_json, bool *requeued, struct plat_error *err)
{
	*requeued = false;
	/* Checked again under the row's lock: a worker may have finished it since it was
	 * found. attempts stays: each claim counted one, and a document that kills its
	 * workers must still reach the dead-letter limit. */
	const char *params[] = {svc->tenant_id, id, stuck_for};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "UPDATE documents SET status = 'queued', updated_at = now()"
			      " WHERE tenant_id = $1 AND id = $2 AND status = 'processing' AND deleted_at IS NULL"
			      " AND updated_at < now() - $3::interval RETURNING id",
			      3, params, &res, err);
	if (rc < 0)
		return rc;
	bool hit = PQntuples(res) > 0;
	PQclear(res);
	if (hit && (rc = event_and_audit_as(svc, principal, "document.uploaded", "document.requeued", id,
					    details_json ? details_json : "{}", err)) == 0)
		*requeued = true;
	return rc;
}
