/* Documents: the metadata side of uploads, listing, soft deletion and retries.
 *
 * Every function works inside one tenant, named by the service context, and every query
 * filters on its id. Writes that belong together (the document row, its outbox event and
 * its audit row) commit in one transaction. Results are cJSON values in the documented
 * -o json schema, so commands render them without knowing SQL. */
#ifndef PLAT_DOCUMENTS_H
#define PLAT_DOCUMENTS_H

#include <stdbool.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "error/error.h"
#include "svc/svc.h"

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

/* One page of a list as -o json and GET /v1/documents give it: {"documents": DOCS,
 * "next_cursor": NEXT or null}. Takes DOCS over. */
cJSON *plat_documents_page(cJSON *docs, const char *next_cursor);

/* PLAT_E_NOT_FOUND "document 'ID' not found", the id escaped for a terminal and cut at 100
 * bytes (it may be anything a caller typed). */
int plat_documents_not_found(const char *id, struct plat_error *err);
/* One document with fields, summary, stage timings and its history (audit rows). A
 * malformed or unknown id is PLAT_E_NOT_FOUND. */
int plat_documents_get(struct plat_svc *svc, const char *id, bool with_history, cJSON **doc, struct plat_error *err);
/* The same as its JSON text (malloc'd), for the server: a cached document is sent as it
 * was cached, neither parsed nor printed again. */
int plat_documents_get_json(struct plat_svc *svc, const char *id, bool with_history, char **json,
			    struct plat_error *err);

/* Soft delete (status deleted, deleted_at set; legal holds refuse with PLAT_E_CONFLICT).
 * *storage_key and *sha256 get the content's key and hash for a purge decision (caller
 * frees). Bookkeeping only: plat_documents_remove is the operation. */
int plat_documents_delete(struct plat_svc *svc, const char *id, char **storage_key, char **sha256,
			  struct plat_error *err);

/* Queue a failed (or processed) document again: status queued and a new event.
 * Bookkeeping only: plat_documents_requeue is the operation. */
int plat_documents_retry(struct plat_svc *svc, const char *id, cJSON **doc, struct plat_error *err);

/* Inside the caller's transaction: a document still in 'processing' since before now() -
 * stuck_for (an interval; its worker died) goes back to queued with a new
 * document.uploaded event, audited as "document.requeued" by principal with details (a
 * JSON object or NULL). *requeued is false when it is no longer stuck. The caller
 * publishes the events after its commit (plat_svc_publish_events). */
int plat_documents_requeue_stuck(struct plat_svc *svc, const char *id, const char *stuck_for, const char *principal,
				 const char *details_json, bool *requeued, struct plat_error *err);

/* ---- operations (each starts with plat_svc_enter) ---- */

/* The bytes of an upload: a file descriptor (a regular file is read in place; a pipe or a
 * socket is spooled to a temporary file, the size limit enforced while reading), or a
 * read function returning the count, 0 at the end, or -1 with errno set. A read error is
 * an error, never the end of the content. */
struct plat_upload_source {
	int fd; /* -1 when read is set */
	ssize_t (*read)(void *arg, char *buf, size_t cap);
	void *read_arg;
};

/* Where an upload's time went, summed (ms), for batch summaries. Not locked: one per thread. */
struct plat_upload_timings {
	long long hash_ms, store_ms, db_ms;
};

struct plat_upload_request {
	struct plat_upload_source src;
	const char *name;       /* checked by plat_documents_check_name */
	const char *title;      /* NULL: none */
	const char *class_hint; /* NULL: none */
	const char *tags_json;  /* from plat_tags_json; NULL: none */
	bool new_version;       /* a new version even when the content exists */
	bool defer_publish;     /* a batch: the caller runs plat_svc_publish_events once at the end */
	/* Content of a type upload.allowed_types leaves out is not an error but the outcome
	 * "skipped" (for files found by walking a directory, where stylesheets, scripts and
	 * images sit beside the pages). */
	bool skip_disallowed;
	void (*on_progress)(void *arg, long long bytes); /* bytes sent to storage (may repeat on retries) */
	void *progress_arg;
	struct plat_upload_timings *timings; /* NULL: not measured */
};

/* Upload one document. *doc is the document (-o json schema) with "outcome": created,
 * unchanged or new_version. Bad content (empty, too large, type not allowed, a bad name) is
 * PLAT_E_INVALID; nothing is stored then. With skip_disallowed, a type not allowed returns
 * 0 and *doc is {"name", "content_type" (sniffed), "outcome": "skipped", "reason"}; the type
 * is sniffed from the first 64 KiB before anything is hashed. HTML is what opens with an
 * HTML tag, and XHTML (application/xhtml+xml, type html) what opens with an XML declaration
 * followed by an HTML doctype or html root; other XML stays refused. Messages describe the content, not where it came
 * from: callers prefix the path. */
int plat_documents_upload(struct plat_svc *svc, const struct plat_upload_request *req, cJSON **doc,
			  struct plat_error *err);

/* A document name: valid UTF-8 (invalid bytes become U+FFFD), no '/', not "." or "..";
 * *name is malloc'd. */
int plat_documents_check_name(const char *raw, char **name, struct plat_error *err);

/* Take (lock true) or release the (tenant, sha256) lock that every path storing, reusing or
 * deleting an object holds. A session lock on svc->db. */
int plat_documents_lock_content(struct plat_svc *svc, const char *sha256, bool lock, struct plat_error *err);

/* Stream a document's content to write, verifying its sha256 on the way: a mismatch fails
 * (PLAT_E_FAILURE) after the bytes went out, so callers writing a file discard it. *doc is
 * the document. Deleted documents are PLAT_E_NOT_FOUND. */
typedef int (*plat_documents_sink)(void *arg, const char *buf, size_t len);
int plat_documents_read(struct plat_svc *svc, const char *id, plat_documents_sink write, void *arg, cJSON **doc,
			struct plat_error *err);

/* Where a client may fetch a document's content itself for expires seconds: *out is
 * {"url", "expires_at", "sha256", "size", "content_type", "name"} (the URL is a
 * capability: never logged). *out NULL when the store has no presigned URLs (the file
 * driver): the caller streams with plat_documents_read instead. The bytes are not
 * verified on this path; the client has the sha256 for that. Deleted documents are
 * PLAT_E_NOT_FOUND. */
int plat_documents_content_url(struct plat_svc *svc, const char *id, int expires, cJSON **out,
			       struct plat_error *err);

/* Delete the object at storage_key unless a live document still uses it, deciding under
 * the content lock; *purged says whether it went (dry_run: whether it would). Inside a
 * caller's transaction the check sees that transaction's own deletions. Bookkeeping: the
 * caller entered an operation that made the store ready (unless dry_run). */
int plat_documents_purge_object(struct plat_svc *svc, const char *storage_key, const char *sha256, bool dry_run,
				bool *purged, struct plat_error *err);

/* Soft-delete a document; with purge also delete its object when no live document shares
 * it (decided under the content lock). *result: {id, deleted, object_purged}. */
int plat_documents_remove(struct plat_svc *svc, const char *id, bool purge, cJSON **result, struct plat_error *err);

/* Put a legal hold on a document (legal_hold, hold_reason, held_by: the principal, held_at)
 * or release it, with an audit row "document.hold" / "document.release" (details: reason;
 * a release also keeps what the hold was) in the same transaction. A reason is required to
 * hold (PLAT_E_USAGE, parameter "reason"), optional to release. Holding a held document or
 * releasing one that is not held is PLAT_E_CONFLICT; unknown or deleted documents are
 * PLAT_E_NOT_FOUND. *doc is the document afterwards. Operations "documents.hold" and
 * "documents.release" (admin). */
int plat_documents_hold(struct plat_svc *svc, const char *id, const char *reason, cJSON **doc, struct plat_error *err);
int plat_documents_release(struct plat_svc *svc, const char *id, const char *reason, cJSON **doc,
			   struct plat_error *err);

/* Queue a failed or processed document again and publish its event. */
int plat_documents_requeue(struct plat_svc *svc, const char *id, cJSON **doc, struct plat_error *err);

/* Poll the documents (an array of objects with "id") until each is processed or failed,
 * updating each one's "status"; *failed counts the failed ones. PLAT_E_UNAVAILABLE after
 * timeout_ms. */
int plat_documents_wait(struct plat_svc *svc, cJSON *docs, long long timeout_ms, int *failed, struct plat_error *err);

/* The tag parser: "KEY=VALUE" (valid UTF-8, a non-empty key) into *key (malloc'd) and
 * *value (points into tag). NULL tag: both NULL. */
int plat_tag_parse(const char *tag, char **key, const char **value, struct plat_error *err);
/* Tags as the JSON object documents store ("{}" for none); the last of a repeated key wins. */
int plat_tags_json(const char *const *tags, size_t n, char **json, struct plat_error *err);

#endif
