/* The documents operations in remote mode: the same calls over the server's /v1/documents
 * routes (lib/http/routes_documents.c), returning what the direct halves return. */
#include "documents/remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hash/hash.h"
#include "ids/ids.h"
#include "mem/mem.h"

static void document_path(struct plat_buf *p, const char *id, const char *tail)
{
	plat_buf_puts(p, "/v1/documents/");
	plat_remote_segment(p, id);
	if (tail)
		plat_buf_puts(p, tail);
}

/* What is not a uuid is an unknown document, as the direct half says (the server would
 * call it a bad parameter), and it never becomes another route's path. */
static bool id_sendable(const char *id)
{
	return id && plat_id_uuid_shaped(id);
}

int plat_documents_remote_list(struct plat_remote *r, const struct plat_document_filter *f, cJSON **docs,
			       char **next_cursor, struct plat_error *err)
{
	struct plat_buf path = PLAT_BUF_INIT;
	plat_buf_puts(&path, "/v1/documents");
	plat_remote_query(&path, "status", f->status);
	plat_remote_query(&path, "class", f->class_name);
	plat_remote_query(&path, "since", f->since);
	plat_remote_query(&path, "name", f->name);
	plat_remote_query(&path, "cursor", f->cursor && *f->cursor ? f->cursor : NULL);
	char limit[16];
	snprintf(limit, sizeof(limit), "%d", f->limit > 0 ? f->limit : 50);
	plat_remote_query(&path, "limit", limit);
	struct plat_buf tag = PLAT_BUF_INIT;
	if (f->tag_key) {
		plat_buf_printf(&tag, "%s=%s", f->tag_key, f->tag_value ? f->tag_value : "");
		plat_remote_query(&path, "tag", tag.data);
	}
	cJSON *page = NULL;
	int rc = plat_remote_json(r, "GET", path.data, NULL, &page, NULL, err);
	plat_buf_free(&path);
	plat_buf_free(&tag);
	if (rc < 0)
		return rc;
	cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(page, "documents");
	const char *next = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(page, "next_cursor"));
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(list);
		cJSON_Delete(page);
		return plat_error_set(err, PLAT_E_FAILURE, "the server at %s sent a page without documents",
				      plat_remote_url(r));
	}
	*docs = list;
	*next_cursor = next ? plat_xstrdup(next) : NULL;
	cJSON_Delete(page);
	return 0;
}

int plat_documents_remote_get(struct plat_remote *r, const char *id, bool with_history, cJSON **doc,
			      struct plat_error *err)
{
	if (!id_sendable(id))
		return plat_documents_not_found(id ? id : "", err);
	struct plat_buf path = PLAT_BUF_INIT;
	document_path(&path, id, NULL);
	int rc = plat_remote_json(r, "GET", path.data, NULL, doc, NULL, err);
	plat_buf_free(&path);
	if (rc == 0 && !cJSON_IsObject(*doc)) {
		cJSON_Delete(*doc);
		*doc = NULL;
		return plat_error_set(err, PLAT_E_FAILURE, "the server at %s sent no document", plat_remote_url(r));
	}
	if (rc == 0 && !with_history) /* the route always carries it */
		cJSON_DeleteItemFromObjectCaseSensitive(*doc, "history");
	return rc;
}

/* POST /v1/documents/{id}/ACTION with body (may be NULL). */
static int document_action(struct plat_remote *r, const char *method, const char *id, const char *tail,
			   const cJSON *body, cJSON **out, struct plat_error *err)
{
	if (!id_sendable(id))
		return plat_documents_not_found(id ? id : "", err);
	struct plat_buf path = PLAT_BUF_INIT;
	document_path(&path, id, tail);
	cJSON *empty = body ? NULL : cJSON_CreateObject(); /* a JSON body, as the route takes */
	int rc = plat_remote_json(r, method, path.data, body ? body : (strcmp(method, "POST") == 0 ? empty : NULL), out,
				  NULL, err);
	cJSON_Delete(empty);
	plat_buf_free(&path);
	return rc;
}

int plat_documents_remote_remove(struct plat_remote *r, const char *id, bool purge, cJSON **result,
				 struct plat_error *err)
{
	return document_action(r, "DELETE", id, purge ? "?purge=true" : NULL, NULL, result, err);
}

int plat_documents_remote_requeue(struct plat_remote *r, const char *id, cJSON **doc, struct plat_error *err)
{
	return document_action(r, "POST", id, "/retry", NULL, doc, err);
}

int plat_documents_remote_hold(struct plat_remote *r, const char *id, bool hold, const char *reason, cJSON **doc,
			       struct plat_error *err)
{
	cJSON *body = cJSON_CreateObject();
	if (reason)
		cJSON_AddStringToObject(body, "reason", reason);
	int rc = document_action(r, "POST", id, hold ? "/hold" : "/release", body, doc, err);
	cJSON_Delete(body);
	return rc;
}

/* The content as the direct half gives it: verified against the document's sha256 while it
 * streams (the server checked it before sending; this checks the way here too). */
struct verified_sink {
	plat_documents_sink write;
	void *arg;
	struct plat_sha256 *sha;
	struct plat_error *err;
};

static int verified_write(void *arg, const char *data, size_t len)
{
	struct verified_sink *v = arg;
	plat_sha256_update(v->sha, data, len);
	if (v->write(v->arg, data, len) != 0) {
		plat_error_set(v->err, PLAT_E_FAILURE, "cannot write the content: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int plat_documents_remote_read(struct plat_remote *r, const char *id, plat_documents_sink write, void *arg,
			       cJSON **doc, struct plat_error *err)
{
	*doc = NULL;
	cJSON *d = NULL;
	int rc = plat_documents_remote_get(r, id, false, &d, err);
	if (rc < 0)
		return rc;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "deleted"))) {
		cJSON_Delete(d);
		return plat_documents_not_found(id, err);
	}
	const char *want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "sha256"));
	struct plat_error sink_err = {0};
	struct verified_sink v = {.write = write, .arg = arg, .err = &sink_err};
	v.sha = plat_sha256_new();
	struct plat_buf path = PLAT_BUF_INIT;
	document_path(&path, id, "/content?redirect=false");
	struct plat_remote_request q = {.method = "GET", .path = path.data, .body_fd = -1, .accept = "*/*",
					.sink = verified_write, .sink_arg = &v, .sink_err = &sink_err};
	rc = plat_remote_send(r, &q, NULL, NULL, err);
	plat_buf_free(&path);
	if (rc == 0) {
		char got[PLAT_SHA256_HEX_LEN + 1];
		plat_sha256_final(v.sha, got);
		if (!want || strcmp(want, got) != 0)
			rc = plat_error_set(err, PLAT_E_FAILURE,
					    "document '%s': the content that came is corrupt (sha256 %s, expected %s)", id,
					    got, want ? want : "none");
	}
	plat_sha256_free(v.sha);
	if (rc < 0)
		cJSON_Delete(d);
	else
		*doc = d;
	return rc;
}

int plat_documents_remote_upload(struct plat_remote *r, const struct plat_upload_request *req, cJSON **doc,
				 struct plat_error *err)
{
	*doc = NULL;
	if (req->src.read || req->src.fd < 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "a remote upload reads from a file descriptor");
	struct stat st;
	if (fstat(req->src.fd, &st) < 0)
		return plat_error_set(err, PLAT_E_FAILURE, "cannot stat: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return plat_error_set(err, PLAT_E_INVALID, "is a directory");
	if (S_ISREG(st.st_mode) && st.st_size == 0)
		return plat_error_set(err, PLAT_E_INVALID, "is empty"); /* as the server would say, sooner */
	struct plat_buf path = PLAT_BUF_INIT;
	plat_buf_puts(&path, "/v1/documents");
	plat_remote_query(&path, "name", req->name ? req->name : "");
	plat_remote_query(&path, "title", req->title);
	plat_remote_query(&path, "class", req->class_hint);
	if (req->new_version)
		plat_remote_query(&path, "new_version", "true");
	if (req->skip_disallowed)
		plat_remote_query(&path, "skip_disallowed", "true");
	cJSON *tags = req->tags_json ? cJSON_Parse(req->tags_json) : NULL;
	const cJSON *t;
	struct plat_buf kv = PLAT_BUF_INIT;
	cJSON_ArrayForEach(t, tags)
	{
		plat_buf_reset(&kv);
		plat_buf_printf(&kv, "%s=%s", t->string, cJSON_IsString(t) ? t->valuestring : "");
		plat_remote_query(&path, "tag", kv.data);
	}
	plat_buf_free(&kv);
	cJSON_Delete(tags);
	struct plat_remote_request q = {.method = "POST",
					.path = path.data,
					.body_fd = req->src.fd,
					.body_size = S_ISREG(st.st_mode) ? (long long)st.st_size : -1,
					.content_type = "application/octet-stream",
					.on_sent = req->on_progress,
					.sent_arg = req->progress_arg};
	int rc = plat_remote_send(r, &q, doc, NULL, err);
	plat_buf_free(&path);
	if (rc == 0 && !cJSON_IsObject(*doc)) {
		cJSON_Delete(*doc);
		*doc = NULL;
		rc = plat_error_set(err, PLAT_E_FAILURE, "the server at %s sent no document", plat_remote_url(r));
	}
	return rc;
}
