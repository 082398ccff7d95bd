/* The route table and its handlers. Each handler makes the one service call its command
 * makes and returns that call's cJSON unchanged, so the API and -o json share a schema. */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authz.h"
#include "documents/documents.h"
#include "hash/hash.h"
#include "ids/ids.h"
#include "metrics/metrics.h"
#include "search/search.h"

static int bad_id(struct plat_http_request *req, struct plat_error *err)
{
	const char *id = req->params[0].value;
	if (plat_id_uuid_shaped(id))
		return 0;
	plat_error_set(err, PLAT_E_USAGE, "document id is not a uuid");
	return plat_error_param(err, "id");
}

static int h_healthz(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	(void)req, (void)err;
	resp->json = cJSON_CreateObject();
	cJSON_AddStringToObject(resp->json, "status", "ok");
	return 0;
}

/* The readiness probe's one operation, for the database and the store in turn. */
static int reach(struct plat_svc *svc, unsigned needs, struct plat_error *e)
{
	return plat_svc_enter(svc, "server.ready", needs, e);
}

static int h_readyz(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *checks = cJSON_CreateObject();
	struct plat_error e = {0};
	bool ok = true;
	if (reach(req->svc, PLAT_NEEDS_DB, &e) < 0) {
		cJSON_AddStringToObject(checks, "database", e.message);
		ok = false;
	} else {
		cJSON_AddStringToObject(checks, "database", "ok");
	}
	plat_error_clear(&e);
	if (reach(req->svc, PLAT_NEEDS_STORE, &e) < 0) {
		cJSON_AddStringToObject(checks, "storage", e.message);
		ok = false;
	} else {
		cJSON_AddStringToObject(checks, "storage", "ok");
	}
	if (!ok) {
		char what[64] = "";
		if (strcmp(cJSON_GetObjectItemCaseSensitive(checks, "database")->valuestring, "ok") != 0)
			strcat(what, "database");
		if (strcmp(cJSON_GetObjectItemCaseSensitive(checks, "storage")->valuestring, "ok") != 0)
			strcat(what, *what ? " and storage" : "storage");
		cJSON_Delete(checks);
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "not ready: %s unreachable", what);
	}
	resp->json = cJSON_CreateObject();
	cJSON_AddStringToObject(resp->json, "status", "ready");
	cJSON_AddItemToObject(resp->json, "checks", checks);
	return 0;
}

static int h_metrics(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	(void)err;
	struct plat_buf b = {0};
	plat_metrics_render(plat_http_server_metrics(req->server), &b);
	resp->text = plat_buf_detach(&b);
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

static int h_openapi(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	(void)req, (void)err;
	resp->json = plat_http_openapi(plat_http_routes(), NULL);
	return 0;
}

static int h_me(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	(void)err;
	const struct plat_auth_result *w = req->who;
	cJSON *me = cJSON_CreateObject();
	cJSON_AddStringToObject(me, "principal", w->subject);
	cJSON_AddStringToObject(me, "principal_id", req->svc->principal_id);
	cJSON_AddStringToObject(me, "tenant", w->tenant);
	cJSON_AddStringToObject(me, "role", w->role);
	if (w->expires_at)
		cJSON_AddNumberToObject(me, "expires_at", (double)w->expires_at);
	else
		cJSON_AddNullToObject(me, "expires_at");
	resp->json = me;
	return 0;
}

static int query_int(struct plat_http_request *req, const char *name, int lo, int hi, int dflt, int *out,
		     struct plat_error *err)
{
	const char *v = req->query(req->conn, name);
	*out = dflt;
	if (!v)
		return 0;
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < lo || n > hi) {
		plat_error_set(err, PLAT_E_USAGE, "%s must be an integer from %d to %d", name, lo, hi);
		return plat_error_param(err, name);
	}
	*out = (int)n;
	return 0;
}

static int h_list(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	struct plat_document_filter f = {.status = req->query(req->conn, "status"),
					 .class_name = req->query(req->conn, "class"),
					 .since = req->query(req->conn, "since"),
					 .name = req->query(req->conn, "name"),
					 .cursor = req->query(req->conn, "cursor")};
	int rc = query_int(req, "limit", 1, 1000, 50, &f.limit, err);
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

static int h_show(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	int rc = bad_id(req, err);
	if (rc < 0)
		return rc;
	cJSON *doc = NULL;
	if ((rc = plat_documents_get(req->svc, req->params[0].value, true, &doc, err)) < 0)
		return rc;
	/* A strong ETag over the representation: whatever changes the document changes it. */
	char *text = cJSON_PrintUnformatted(doc);
	char hex[PLAT_SHA256_HEX_LEN + 1];
	plat_sha256_hex(text, strlen(text), hex);
	cJSON_free(text);
	snprintf(resp->etag, sizeof(resp->etag), "\"%.32s\"", hex);
	const char *inm = req->header(req->conn, "If-None-Match");
	if (inm && (strstr(inm, resp->etag) || strcmp(inm, "*") == 0)) {
		cJSON_Delete(doc);
		resp->status = 304;
		return 0;
	}
	resp->json = doc;
	return 0;
}

static int h_delete(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	int rc = bad_id(req, err);
	if (rc < 0)
		return rc;
	const char *purge = req->query(req->conn, "purge");
	return plat_documents_remove(req->svc, req->params[0].value, purge && strcmp(purge, "true") == 0,
				     &resp->json, err);
}

static int h_retry(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	int rc = bad_id(req, err);
	if (rc < 0)
		return rc;
	return plat_documents_requeue(req->svc, req->params[0].value, &resp->json, err);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int h_search(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *body = cJSON_Parse(req->body);
	const char *text = jstr(body, "query");
	if (!text || !*text) {
		cJSON_Delete(body);
		plat_error_set(err, PLAT_E_USAGE, "query is required: a non-empty string");
		return plat_error_param(err, "query");
	}
	struct plat_search_query q = {.text = text, .class_name = jstr(body, "class"), .since = jstr(body, "since"),
				      .document = jstr(body, "document")};
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(body, "k");
	if (k && (!cJSON_IsNumber(k) || k->valuedouble < 1 || k->valuedouble > 100)) {
		cJSON_Delete(body);
		plat_error_set(err, PLAT_E_USAGE, "k must be an integer from 1 to 100");
		return plat_error_param(err, "k");
	}
	q.k = k ? (int)k->valuedouble : 0;
	cJSON *results = NULL;
	int rc = plat_search(req->svc, &q, &results, err);
	cJSON_Delete(body);
	if (rc < 0)
		return rc;
	resp->json = cJSON_CreateObject();
	cJSON_AddItemToObject(resp->json, "results", results);
	return 0;
}

#define DOC_SCHEMA                                                                                                   \
	"{\"type\":\"object\",\"required\":[\"id\",\"name\",\"status\"],\"properties\":{\"id\":{\"type\":\"string\"," \
	"\"format\":\"uuid\"},\"name\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"}}}"

static const struct plat_http_route routes[] = {
	{"GET", "/healthz", h_healthz, NULL, PLAT_HTTP_PUBLIC, "liveness: the process answers (no dependencies)", NULL,
	 "{\"type\":\"object\",\"required\":[\"status\"],\"properties\":{\"status\":{\"const\":\"ok\"}}}", 0},
	{"GET", "/readyz", h_readyz, NULL, PLAT_HTTP_PUBLIC, "readiness: the database and the storage are reachable",
	 NULL,
	 "{\"type\":\"object\",\"required\":[\"status\",\"checks\"],\"properties\":{\"status\":{\"const\":\"ready\"},"
	 "\"checks\":{\"type\":\"object\"}}}",
	 0},
	{"GET", "/metrics", h_metrics, NULL, PLAT_HTTP_PUBLIC, "Prometheus metrics (text exposition format 0.0.4)",
	 NULL, NULL, 0},
	{"GET", "/openapi.json", h_openapi, NULL, PLAT_HTTP_PUBLIC, "this API description (OpenAPI 3.1)", NULL,
	 "{\"type\":\"object\",\"required\":[\"openapi\",\"paths\"]}", 0},
	{"GET", "/v1/me", h_me, "auth.me", 0, "the caller: principal, tenant, role and token expiry", NULL,
	 "{\"type\":\"object\",\"required\":[\"principal\",\"tenant\",\"role\",\"expires_at\"],\"properties\":{"
	 "\"principal\":{\"type\":\"string\"},\"tenant\":{\"type\":\"string\"},\"role\":{\"type\":\"string\"},"
	 "\"expires_at\":{\"type\":[\"integer\",\"null\"]}}}",
	 0},
	{"GET", "/v1/documents", h_list, "documents.list", 0,
	 "list documents, newest first (query: status, class, tag=KEY=VALUE, since, name, limit, cursor)", NULL,
	 "{\"type\":\"object\",\"required\":[\"documents\",\"next_cursor\"],\"properties\":{\"documents\":{\"type\":"
	 "\"array\",\"items\":" DOC_SCHEMA "},\"next_cursor\":{\"type\":[\"string\",\"null\"]}}}",
	 0},
	{"GET", "/v1/documents/{id}", h_show, "documents.get", 0,
	 "one document with its fields, summary and history (ETag; If-None-Match gives 304)", NULL, DOC_SCHEMA, 0},
	{"DELETE", "/v1/documents/{id}", h_delete, "documents.delete", 0,
	 "soft-delete a document (query purge=true also deletes its unshared object)", NULL,
	 "{\"type\":\"object\",\"required\":[\"id\",\"deleted\"],\"properties\":{\"id\":{\"type\":\"string\"},"
	 "\"deleted\":{\"type\":\"boolean\"},\"object_purged\":{\"type\":\"boolean\"}}}",
	 0},
	{"POST", "/v1/documents/{id}/retry", h_retry, "documents.retry", 0, "queue a failed document again", NULL,
	 DOC_SCHEMA, 0},
	{"POST", "/v1/search", h_search, "search", PLAT_HTTP_JSON_BODY, "hybrid search without an LLM",
	 "{\"type\":\"object\",\"required\":[\"query\"],\"properties\":{\"query\":{\"type\":\"string\",\"minLength\":1},"
	 "\"k\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},\"class\":{\"type\":\"string\"},"
	 "\"since\":{\"type\":\"string\"},\"document\":{\"type\":\"string\"}}}",
	 "{\"type\":\"object\",\"required\":[\"results\"],\"properties\":{\"results\":{\"type\":\"array\"}}}", 0},
	{NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, 0},
};

const struct plat_http_route *plat_http_routes(void)
{
	return routes;
}
