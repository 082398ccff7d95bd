/* Documents: the metadata side of uploads, listing, soft deletion and retries.
 *
 * Every function works inside one tenant, named by the service context, and every query
 * filters on its id. Writes that belong together (the document row, its outbox event and
 * its audit row) commit in one transaction. Results are cJSON values in the documented
 * -o json schema, so commands render them without knowing SQL. */
#ifndef PLAT_DOCUMENTS_H
#define PLAT_DOCUMENTS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "db/db.h"
#include "error/error.h"
#include "store/store.h"

/* What a service call runs with (direct mode: from the configuration). */
struct plat_svc {
	struct plat_db *db;
	struct plat_store *store;
	const char *tenant;    /* name */
	char tenant_id[37];    /* filled by plat_svc_resolve_tenant */
	const char *principal;
	const char *request_id;
};

/* Look the tenant up by name: PLAT_E_NOT_FOUND when it does not exist. */
int plat_svc_resolve_tenant(struct plat_svc *svc, struct plat_error *err);

struct plat_new_document {
	const char *name;         /* valid UTF-8, no control characters (callers sanitise) */
	const char *title;        /* NULL: none */
	const char *class_hint;   /* NULL: none */
	const char *content_type; /* sniffed MIME type */
	long long size;
	const char *sha256;
	const char *storage_key;
	const char *tags_json;    /* a JSON object of strings, "{}" when none */
};

/* The storage key of content: "<tenant>/<sha256>". The caller frees it. */
char *plat_documents_storage_key(const struct plat_svc *svc, const char *sha256);

/* The newest live document with this content, or NULL (the caller deletes it). */
int plat_documents_find_content(struct plat_svc *svc, const char *sha256, cJSON **doc, struct plat_error *err);

/* Insert the document, its document.uploaded outbox event and an audit row, in one
 * transaction. Identical content already in the tenant gives the existing document and
 * outcome "unchanged", unless new_version, which adds the next version ("new_version").
 * Otherwise the outcome is "created". */
int plat_documents_create(struct plat_svc *svc, const struct plat_new_document *nd, bool new_version, cJSON **doc,
			  const char **outcome, struct plat_error *err);

/* Whether any live document still uses the storage key. */
int plat_documents_key_in_use(struct plat_svc *svc, const char *storage_key, bool *in_use, struct plat_error *err);

struct plat_document_filter {
	const char *status;
	const char *class_name;
	const char *tag_key, *tag_value; /* both or neither */
	const char *since;               /* a timestamp PostgreSQL understands */
	const char *name;                /* substring, case-insensitive */
	int limit;                       /* 1..1000 */
	const char *cursor;              /* from a previous page */
};

/* --tag KEY=VALUE as the jsonb a tags @> filter takes, appended to out; nothing without
 * a key. */
struct plat_buf;
void plat_documents_tag_filter(const char *key, const char *value, struct plat_buf *out);

/* Newest first. *next_cursor is NULL on the last page. */
int plat_documents_list(struct plat_svc *svc, const struct plat_document_filter *f, cJSON **docs, char **next_cursor,
			struct plat_error *err);

/* One document with fields, summary, stage timings and its history (audit rows). A
 * malformed or unknown id is PLAT_E_NOT_FOUND. */
int plat_documents_get(struct plat_svc *svc, const char *id, bool with_history, cJSON **doc, struct plat_error *err);

/* Soft delete (status deleted, deleted_at set; legal holds refuse with PLAT_E_CONFLICT).
 * *storage_key gets the key for a purge decision (caller frees). */
int plat_documents_delete(struct plat_svc *svc, const char *id, char **storage_key, struct plat_error *err);

/* Queue a failed (or processed) document again: status queued and a new event. */
int plat_documents_retry(struct plat_svc *svc, const char *id, cJSON **doc, struct plat_error *err);

#endif
