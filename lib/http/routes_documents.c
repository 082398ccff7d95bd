/* /v1/documents: the same service calls as platctl upload and platctl documents. */
#define _GNU_SOURCE
#include "http/handlers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "documents/documents.h"
#include "hash/hash.h"
#include "io/io.h"

int plat_http_h_documents_list(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	struct plat_document_filter f = {.status = req->query(req->conn, "status"),
					 .class_name = req->query(req->conn, "class"),
					 .since = req->query(req->conn, "since"),
					 .name = req->query(req->conn, "name"),
					 .cursor = req->query(req->conn, "cursor")};
	int rc = plat_http_query_int(req, "limit", 1, 1000, 50, &f.limit, err);
	if (rc < 0)
		return rc;
	char *tag_key = NULL;
	if ((rc = plat_tag_parse(req->query(req->conn, "tag"), &tag_key, &f.tag_value, err)) < 0)
		return plat_error_param(err, "tag");
	f.tag_key = tag_key;
	cJSON *docs = NULL;
	char *next = NULL;
	rc = plat_documents_list(req->svc, &f, &docs, &next, err);
	free(tag_key);
	if (rc < 0)
		return rc;
	resp->json = plat_documents_page(docs, next);
	free(next);
	return 0;
}

int plat_http_h_documents_show(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	int rc = plat_http_param_uuid(req, "document", err);
	if (rc < 0)
		return rc;
	char *text = NULL;
	if ((rc = plat_documents_get_json(req->svc, req->params[0].value, true, &text, err)) < 0)
		return rc;
	/* A strong ETag over the representation: whatever changes the document changes it. */
	char hex[PLAT_SHA256_HEX_LEN + 1];
	plat_sha256_hex(text, strlen(text), hex);
	snprintf(resp->etag, sizeof(resp->etag), "\"%.32s\"", hex);
	const char *inm = req->header(req->conn, "If-None-Match");
	if (inm && (strstr(inm, resp->etag) || strcmp(inm, "*") == 0)) {
		free(text);
		resp->status = 304;
		return 0;
	}
	resp->text = text; /* with resp->content_type's application/json */
	return 0;
}

int plat_http_h_documents_delete(struct plat_http_request *req, struct plat_http_response *resp,
				 struct plat_error *err)
{
	int rc = plat_http_param_uuid(req, "document", err);
	bool purge = false;
	if (rc == 0)
		rc = plat_http_query_bool(req, "purge", &purge, err);
	if (rc < 0)
		return rc;
	return plat_documents_remove(req->svc, req->params[0].value, purge, &resp->json, err);
}

int plat_http_h_documents_retry(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	int rc = plat_http_param_uuid(req, "document", err);
	if (rc < 0)
		return rc;
	return plat_documents_requeue(req->svc, req->params[0].value, &resp->json, err);
}

static int hold_or_release(struct plat_http_request *req, struct plat_http_response *resp, bool hold,
			   struct plat_error *err)
{
	int rc = plat_http_param_uuid(req, "document", err);
	cJSON *body = plat_http_body(req);
	const char *reason = NULL;
	if (rc == 0)
		rc = plat_http_body_string(body, "reason", &reason, err);
	if (rc == 0)
		rc = hold ? plat_documents_hold(req->svc, req->params[0].value, reason, &resp->json, err)
			  : plat_documents_release(req->svc, req->params[0].value, reason, &resp->json, err);
	cJSON_Delete(body);
	return rc;
}

int plat_http_h_documents_hold(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	return hold_or_release(req, resp, true, err);
}

int plat_http_h_documents_release(struct plat_http_request *req, struct plat_http_response *resp,
				  struct plat_error *err)
{
	return hold_or_release(req, resp, false, err);
}

/* ---- content ---- */

static int spool_write(void *arg, const char *buf, size_t len)
{
	return plat_write_all(*(int *)arg, buf, len) < 0 ? -1 : 0;
}

/* One range of "bytes=A-B", "bytes=A-" or "bytes=-N" over size bytes. 0: *from, *len set;
 * 1: not a single byte range (served whole, as RFC 9110 allows); -1: unsatisfiable. */
static int parse_range(const char *h, long long size, long long *from, long long *len)
{
	if (strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 1;
	const char *p = h + 6;
	char *end;
	long long a = -1, b = -1;
	if (*p == '-') {
		long long n = strtoll(p + 1, &end, 10);
		if (end == p + 1 || *end || n < 0)
			return 1;
		if (n == 0 || size == 0)
			return -1;
		*from = n >= size ? 0 : size - n;
		*len = size - *from;
		return 0;
	}
	a = strtoll(p, &end, 10);
	if (end == p || *end != '-' || a < 0)
		return 1;
	p = end + 1;
	if (*p) {
		b = strtoll(p, &end, 10);
		if (end == p || *end || b < a)
			return 1;
	}
	if (a >= size)
		return -1;
	*from = a;
	*len = (b < 0 || b >= size ? size - 1 : b) - a + 1;
	return 0;
}

/* The bytes are verified against the document's sha256 before the first one goes out, so a
 * corrupt object is an error response, never a truncated or wrong body. They pass through
 * an unlinked file in $TMPDIR: the store streams and the reply is sent from the file. */
int plat_http_h_documents_content(struct plat_http_request *req, struct plat_http_response *resp,
				  struct plat_error *err)
{
	int rc = plat_http_param_uuid(req, "document", err);
	long long redirect_ms = plat_config_int(req->svc->cfg, PLAT_CFG_SERVER_CONTENT_REDIRECT);
	bool redirect = redirect_ms > 0;
	if (rc == 0)
		rc = plat_http_query_bool(req, "redirect", &redirect, err);
	if (rc < 0)
		return rc;
	if (redirect && redirect_ms > 0) { /* redirect=true cannot turn on what config left off */
		/* The client fetches from S3 itself: the bytes skip this server (Range works there
		 * too). Not cached anywhere: the URL is a short-lived capability. */
		cJSON *where = NULL;
		if ((rc = plat_documents_content_url(req->svc, req->params[0].value, (int)(redirect_ms / 1000), &where,
						     err)) < 0)
			return rc;
		if (where) {
			resp->status = 302;
			plat_http_set_location(resp, cJSON_GetStringValue(cJSON_GetObjectItem(where, "url")));
			resp->json = where;
			return 0;
		}
	}
	int fd = plat_tmpfile();
	if (fd < 0)
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "cannot spool the content: %s", strerror(errno));
	cJSON *doc = NULL;
	if ((rc = plat_documents_read(req->svc, req->params[0].value, spool_write, &fd, &doc, err)) < 0) {
		close(fd);
		return rc;
	}
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(doc, "sha256");
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(doc, "content_type");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "name");
	long long size = lseek(fd, 0, SEEK_END);
	if (cJSON_IsString(sha))
		snprintf(resp->etag, sizeof(resp->etag), "\"%.64s\"", sha->valuestring);
	snprintf(resp->ctype, sizeof(resp->ctype), "%s", cJSON_IsString(ct) ? ct->valuestring : "application/octet-stream");
	resp->content_type = resp->ctype;
	if (cJSON_IsString(name)) {
		/* RFC 6266: the name percent-encoded as UTF-8 (filename*), so no byte of it can end
		 * the header or the parameter. */
		char enc[300];
		size_t o = 0;
		for (const unsigned char *p = (const unsigned char *)name->valuestring; *p && o + 4 < sizeof(enc); p++) {
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    strchr("!#$&+-.^_`|~", *p))
				enc[o++] = (char)*p;
			else
				o += (size_t)snprintf(enc + o, sizeof(enc) - o, "%%%02X", *p);
		}
		enc[o] = '\0';
		plat_http_add_header(resp, "Content-Disposition", "attachment; filename*=UTF-8''%s", enc);
	}
	cJSON_Delete(doc);
	plat_http_add_header(resp, "Accept-Ranges", "bytes");
	const char *inm = req->header(req->conn, "If-None-Match");
	if (inm && resp->etag[0] && (strstr(inm, resp->etag) || strcmp(inm, "*") == 0)) {
		close(fd);
		resp->status = 304;
		return 0;
	}
	resp->send_fd = true;
	resp->fd = fd;
	resp->fd_offset = 0;
	resp->fd_len = size;
	const char *range = req->header(req->conn, "Range");
	const char *if_range = req->header(req->conn, "If-Range");
	if (range && (!if_range || strcmp(if_range, resp->etag) == 0)) {
		long long from = 0, len = 0;
		int r = parse_range(range, size, &from, &len);
		if (r < 0) {
			resp->send_fd = false;
			close(fd);
			resp->nheaders = 0;
			plat_http_add_header(resp, "Content-Range", "bytes */%lld", size);
			plat_error_set(err, PLAT_E_USAGE, "the range '%.64s' is outside the content (%lld bytes)", range, size);
			resp->status = 416;
			return plat_error_param(err, "Range");
		}
		if (r == 0) {
			resp->status = 206;
			resp->fd_offset = from;
			resp->fd_len = len;
			plat_http_add_header(resp, "Content-Range", "bytes %lld-%lld/%lld", from, from + len - 1, size);
		}
	}
	return 0;
}

/* ---- upload ---- */

/* The raw body is the document; its name and the rest of what upload takes come in the query
 * (name=, title=, class=, tag=KEY=VALUE repeated, new_version=true). Or a multipart form:
 * its file part is the document and its fields those parameters (the server's req->query
 * reads them), the name defaulting to the file's. */
int plat_http_h_documents_upload(struct plat_http_request *req, struct plat_http_response *resp,
				 struct plat_error *err)
{
	const char *name = req->query(req->conn, "name");
	if (!name || !*name) {
		plat_error_set(err, PLAT_E_USAGE, "name is required: the document's name, in the query (or a form field)");
		return plat_error_param(err, "name");
	}
	bool new_version = false, skip_disallowed = false;
	int rc = plat_http_query_bool(req, "new_version", &new_version, err);
	if (rc == 0)
		rc = plat_http_query_bool(req, "skip_disallowed", &skip_disallowed, err);
	if (rc < 0)
		return rc;
	const char *tags[64];
	int ntags = req->query_all(req->conn, "tag", tags, 64);
	if (ntags == 64) {
		plat_error_set(err, PLAT_E_USAGE, "at most 63 tags");
		return plat_error_param(err, "tag");
	}
	char *tags_json = NULL;
	if (ntags > 0 && (rc = plat_tags_json(tags, (size_t)ntags, &tags_json, err)) < 0)
		return plat_error_param(err, "tag");
	struct plat_upload_request up = {.src = {.fd = req->body_fd},
					 .name = name,
					 .title = req->query(req->conn, "title"),
					 .class_hint = req->query(req->conn, "class"),
					 .tags_json = tags_json,
					 .new_version = new_version,
					 .skip_disallowed = skip_disallowed};
	rc = plat_documents_upload(req->svc, &up, &resp->json, err);
	free(tags_json);
	if (rc < 0)
		return rc;
	const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(resp->json, "outcome");
	bool stored = !cJSON_IsString(outcome) || (strcmp(outcome->valuestring, "unchanged") != 0 &&
						   strcmp(outcome->valuestring, "skipped") != 0);
	resp->status = stored ? 201 : 200;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(resp->json, "id");
	if (resp->status == 201 && cJSON_IsString(id))
		plat_http_add_header(resp, "Location", "/v1/documents/%s", id->valuestring);
	return 0;
}
