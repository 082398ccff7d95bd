/* The route table and its handlers. Each handler makes the one service call its command
 * makes and returns that call's cJSON unchanged, so the API and -o json share a schema. */
#include "http/handlers.h"
#include "http/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/authz.h"
#include "auth/principals.h"
#include "cache/cache.h"
#include "documents/documents.h"
#include "hash/hash.h"
#include "ids/ids.h"
#include "metrics/metrics.h"
#include "search/ask.h"
#include "search/search.h"

int plat_http_param_uuid(struct plat_http_request *req, const char *what, struct plat_error *err)
{
	if (plat_id_uuid_shaped(req->params[0].value))
		return 0;
	plat_error_set(err, PLAT_E_USAGE, "%s id is not a uuid", what);
	return plat_error_param(err, req->params[0].name ? req->params[0].name : "id");
}

int plat_http_query_int(struct plat_http_request *req, const char *name, int lo, int hi, int dflt, int *out,
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

int plat_http_query_bool(struct plat_http_request *req, const char *name, bool *out, struct plat_error *err)
{
	const char *v = req->query(req->conn, name);
	if (!v)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
		*out = false;
		return 0;
	}
	plat_error_set(err, PLAT_E_USAGE, "%s must be true or false", name);
	return plat_error_param(err, name);
}

cJSON *plat_http_body(struct plat_http_request *req)
{
	cJSON *j = req->body ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = cJSON_CreateObject();
	}
	return j;
}

int plat_http_body_string(const cJSON *body, const char *name, const char **out, struct plat_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		plat_error_set(err, PLAT_E_USAGE, "%s must be a string", name);
		return plat_error_param(err, name);
	}
	*out = v->valuestring;
	return 0;
}

int plat_http_body_number(const cJSON *body, const char *name, double lo, double hi, double *out, bool *present,
			  struct plat_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
	*present = v && !cJSON_IsNull(v);
	if (!*present)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi) {
		plat_error_set(err, PLAT_E_USAGE, "%s must be a number from %g to %g", name, lo, hi);
		return plat_error_param(err, name);
	}
	*out = v->valuedouble;
	return 0;
}

int plat_http_body_int(const cJSON *body, const char *name, long long lo, long long hi, long long *out,
		       bool *present, struct plat_error *err)
{
	double d = 0;
	int rc = plat_http_body_number(body, name, (double)lo, (double)hi, &d, present, err);
	if (rc == 0 && *present && d != (double)(long long)d) {
		plat_error_set(err, PLAT_E_USAGE, "%s must be an integer from %lld to %lld", name, lo, hi);
		return plat_error_param(err, name);
	}
	*out = (long long)d;
	return rc;
}

static int h_healthz(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	(void)req, (void)err;
	/* Probed every few seconds by every balancer: the fixed text, not a tree to print. */
	resp->text = plat_xstrdup("{\"status\":\"ok\"}");
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
	plat_metrics_set(plat_http_server_metrics(req->server), "platctl_http_event_streams", NULL,
			 plat_http_server_event_streams(req->server));
	struct plat_cache *cache = plat_services_cache(plat_http_server_services(req->server));
	if (cache) {
		struct plat_cache_stats st;
		plat_cache_stats(cache, &st);
		struct plat_metrics *m = plat_http_server_metrics(req->server);
		plat_metrics_set(m, "platctl_cache_lookups_total", "result=\"hit\"", (double)st.hits);
		plat_metrics_set(m, "platctl_cache_lookups_total", "result=\"miss\"", (double)st.misses);
		plat_metrics_set(m, "platctl_cache_invalidations_total", NULL, (double)st.invalidations);
		plat_metrics_set(m, "platctl_cache_evictions_total", NULL, (double)st.evictions);
		plat_metrics_set(m, "platctl_cache_entries", NULL, (double)st.entries);
	}
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
	/* Entering resolves what the token does not carry (an access token's principal id and
	 * its role now). The body is whoami's (remote mode prints it as direct mode does), with
	 * the token's kind and expiry. */
	int rc = plat_svc_enter(req->svc, "auth.me", PLAT_NEEDS_TENANT, err);
	cJSON *me = NULL;
	if (rc == 0)
		rc = plat_whoami(req->svc, &me, err);
	if (rc < 0)
		return rc;
	const struct plat_auth_result *w = req->who;
	cJSON_DeleteItemFromObjectCaseSensitive(me, "mode");
	cJSON_DeleteItemFromObjectCaseSensitive(me, "server");
	cJSON_DeleteItemFromObjectCaseSensitive(me, "expires_at");
	cJSON_AddStringToObject(me, "principal_id", req->svc->principal_id);
	cJSON_AddStringToObject(me, "token", w->kind == PLAT_AUTH_LOCAL ? "access_token" : "api_token");
	if (w->expires_at)
		cJSON_AddNumberToObject(me, "expires_at", (double)w->expires_at);
	else
		cJSON_AddNullToObject(me, "expires_at");
	resp->json = me;
	return 0;
}

/* The live feed: Last-Event-ID (or ?after=ID) resumes after that event, else it starts now. */
static int h_events(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	const char *from = req->header(req->conn, "Last-Event-ID");
	const char *what = "Last-Event-ID";
	if (!from || !*from) {
		from = req->query(req->conn, "after");
		what = "after";
	}
	long long id = -1;
	if (from) {
		char *end;
		id = strtoll(from, &end, 10);
		if (!*from || *end || id < 0) {
			plat_error_set(err, PLAT_E_USAGE, "%s must be an event id (a non-negative integer)", what);
			return plat_error_param(err, what);
		}
	}
	int rc = plat_svc_enter(req->svc, "events.stream", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	resp->send_events = true;
	snprintf(resp->events_tenant, sizeof(resp->events_tenant), "%s", req->svc->tenant_id);
	resp->events_from = id;
	return 0;
}

/* The list a header holds (Connection: keep-alive, Upgrade) has token, case-insensitive. */
static bool header_has_token(const char *value, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = value; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - p) == n && strncasecmp(p, token, n) == 0)
			return true;
		p = e;
	}
	return false;
}

static int h_ws(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	const char *upgrade = req->header(req->conn, "Upgrade"), *connection = req->header(req->conn, "Connection");
	const char *version = req->header(req->conn, "Sec-WebSocket-Version");
	const char *key = req->header(req->conn, "Sec-WebSocket-Key");
	if (!upgrade || !header_has_token(upgrade, "websocket") || !connection || !header_has_token(connection, "upgrade")) {
		/* RFC 6455 4.2.2: a plain GET of a WebSocket endpoint is told what it needs. */
		resp->status = 426;
		plat_http_add_header(resp, "Upgrade", "websocket");
		plat_http_add_header(resp, "Sec-WebSocket-Version", "13");
		plat_error_set(err, PLAT_E_USAGE, "this is a WebSocket endpoint: send Upgrade: websocket and Connection: Upgrade");
		return plat_error_param(err, "Upgrade");
	}
	if (!version || strcmp(version, "13") != 0) {
		plat_http_add_header(resp, "Sec-WebSocket-Version", "13");
		plat_error_set(err, PLAT_E_USAGE, "Sec-WebSocket-Version must be 13");
		return plat_error_param(err, "Sec-WebSocket-Version");
	}
	char accept[PLAT_WS_ACCEPT_LEN + 1];
	if (plat_http_ws_accept(key, accept) < 0) {
		plat_error_set(err, PLAT_E_USAGE, "Sec-WebSocket-Key must be 16 bytes in base64");
		return plat_error_param(err, "Sec-WebSocket-Key");
	}
	/* Browsers cannot set Last-Event-ID on a WebSocket: ?after= is the way to resume. */
	int rc = h_events(req, resp, err);
	if (rc < 0)
		return rc;
	resp->send_events = false;
	resp->send_ws = true;
	resp->status = 101;
	plat_http_add_header(resp, "Upgrade", "websocket");
	plat_http_add_header(resp, "Sec-WebSocket-Accept", "%s", accept);
	return 0;
}

/* What search and ask share: the query and its filters from a body. */
static int search_query(const cJSON *body, const char *text_name, struct plat_search_query *q, char **tag_key,
			struct plat_error *err)
{
	*tag_key = NULL;
	int rc = plat_http_body_string(body, text_name, &q->text, err);
	if (rc == 0 && (!q->text || !*q->text)) {
		plat_error_set(err, PLAT_E_USAGE, "%s is required: a non-empty string", text_name);
		rc = plat_error_param(err, text_name);
	}
	if (rc == 0)
		rc = plat_http_body_string(body, "class", &q->class_name, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "since", &q->since, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "document", &q->document, err);
	const char *tag = NULL;
	if (rc == 0)
		rc = plat_http_body_string(body, "tag", &tag, err);
	if (rc == 0 && tag && plat_tag_parse(tag, tag_key, &q->tag_value, err) < 0)
		rc = plat_error_param(err, "tag");
	q->tag_key = *tag_key;
	long long k = 0;
	bool has_k = false;
	if (rc == 0)
		rc = plat_http_body_int(body, "k", 1, 200, &k, &has_k, err); /* search's limit */
	q->k = (int)k;
	return rc;
}

static int h_search(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *body = plat_http_body(req);
	struct plat_search_query q = {0};
	char *tag_key = NULL;
	int rc = search_query(body, "query", &q, &tag_key, err);
	const cJSON *explain = cJSON_GetObjectItemCaseSensitive(body, "explain");
	if (rc == 0 && explain && !cJSON_IsBool(explain)) {
		plat_error_set(err, PLAT_E_USAGE, "explain must be true or false");
		rc = plat_error_param(err, "explain");
	}
	q.explain = cJSON_IsTrue(explain);
	cJSON *results = NULL;
	if (rc == 0)
		rc = plat_search(req->svc, &q, &results, err);
	free(tag_key);
	cJSON_Delete(body);
	if (rc < 0)
		return rc;
	resp->json = cJSON_CreateObject();
	cJSON_AddItemToObject(resp->json, "results", results);
	return 0;
}

/* The ask request of a body that search_query already accepted. */
static int ask_request(const cJSON *body, struct plat_ask_request *ar, char **tag_key, struct plat_error *err)
{
	int rc = search_query(body, "question", &ar->query, tag_key, err);
	bool present = false;
	if (rc == 0)
		rc = plat_http_body_number(body, "min_support", 0, 1, &ar->min_support, &present, err);
	if (rc == 0 && present && ar->min_support == 0)
		ar->min_support = 1e-9; /* 0 means "the configured threshold" to the service */
	long long budget = 0;
	if (rc == 0)
		rc = plat_http_body_int(body, "context_tokens", 100, 100000, &budget, &present, err);
	ar->context_tokens = (int)budget;
	return rc;
}

struct ask_stream {
	cJSON *body;
	int (*write)(void *w, const char *data, size_t len);
	void *w;
};

/* One SSE frame: event NAME, data JSON (one line). Non-zero once the client has gone. */
static int sse_frame(struct ask_stream *a, const char *event, const cJSON *data)
{
	char *json = cJSON_PrintUnformatted(data);
	struct plat_buf b = {0};
	plat_buf_printf(&b, "event: %s\ndata: %s\n\n", event, json);
	cJSON_free(json);
	int rc = a->write(a->w, b.data, b.len);
	plat_buf_free(&b);
	return rc;
}

static int ask_token(void *arg, const char *text, size_t len)
{
	cJSON *t = cJSON_CreateObject();
	char *copy = plat_xcalloc(1, len + 1);
	memcpy(copy, text, len);
	cJSON_AddStringToObject(t, "text", copy);
	free(copy);
	int rc = sse_frame(arg, "token", t);
	cJSON_Delete(t);
	return rc;
}

/* The streamed answer: "token" events as the provider writes, then "answer" with the
 * whole result (the JSON of the non-streaming response), or "error" with problem details. */
static void run_ask_stream(struct plat_svc *svc, void *arg, int (*write)(void *w, const char *data, size_t len),
			   void *w)
{
	struct ask_stream *a = arg;
	a->write = write;
	a->w = w;
	struct plat_ask_request ar = {.on_token = ask_token, .token_arg = a};
	char *tag_key = NULL;
	struct plat_error err = {0};
	struct plat_ask_result res = {0};
	int rc = ask_request(a->body, &ar, &tag_key, &err);
	if (rc == 0)
		rc = plat_ask(svc, &ar, &res, &err);
	free(tag_key);
	if (rc < 0) {
		cJSON *p = plat_http_problem(&err, 0, "/v1/ask", svc->request_id);
		sse_frame(a, "error", p);
		cJSON_Delete(p);
		return;
	}
	sse_frame(a, "answer", res.json);
	cJSON_Delete(res.json);
}

static void free_ask_stream(void *arg)
{
	struct ask_stream *a = arg;
	cJSON_Delete(a->body);
	free(a);
}

/* A refusal is an answer too (refused: true, 200): the question was fine, the documents
 * do not answer it. With Accept: text/event-stream the answer streams (run_ask_stream). */
static int h_ask(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *body = plat_http_body(req);
	struct plat_ask_request ar = {0};
	char *tag_key = NULL;
	int rc = ask_request(body, &ar, &tag_key, err);
	const char *accept = req->header(req->conn, "Accept");
	if (rc == 0 && accept && strstr(accept, "text/event-stream")) {
		free(tag_key);
		/* Checked here, so that a bad request is a 4xx, not an error event. */
		if ((rc = plat_svc_enter(req->svc, "ask", PLAT_NEEDS_TENANT, err)) < 0) {
			cJSON_Delete(body);
			return rc;
		}
		struct ask_stream *a = plat_xcalloc(1, sizeof(*a));
		a->body = body;
		resp->stream_fn = run_ask_stream;
		resp->stream_arg = a;
		resp->stream_free = free_ask_stream;
		resp->content_type = "text/event-stream; charset=utf-8";
		return 0;
	}
	struct plat_ask_result res = {0};
	if (rc == 0)
		rc = plat_ask(req->svc, &ar, &res, err);
	free(tag_key);
	cJSON_Delete(body);
	if (rc < 0)
		return rc;
	resp->json = res.json;
	return 0;
}

#define S(...) #__VA_ARGS__
#define DOC_SCHEMA                                                                                                   \
	S({"type": "object", "required": ["id", "name", "status"], "properties": {"id": {"type": "string",           \
	  "format": "uuid"}, "name": {"type": "string"}, "status": {"type": "string"}, "sha256": {"type": "string"},  \
	  "size": {"type": "integer"}, "content_type": {"type": "string"}}})
#define UPLOADED_SCHEMA                                                                                              \
	S({"type": "object", "required": ["name", "outcome"], "properties": {"id": {"type": "string", "format":      \
	  "uuid"}, "outcome": {"enum": ["created", "unchanged", "new_version", "skipped"]}}})
#define TOKEN_SCHEMA                                                                                                 \
	S({"type": "object", "required": ["id", "name", "role", "principal", "status"], "properties": {"id":        \
	  {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "role": {"type": "string"}, "status":    \
	  {"enum": ["active", "expired", "revoked"]}}})
#define USER_SCHEMA                                                                                                  \
	S({"type": "object", "required": ["id", "name", "kind", "role", "disabled"], "properties": {"id": {"type":   \
	  "string", "format": "uuid"}, "name": {"type": "string"}, "kind": {"enum": ["user", "service"]}, "role":    \
	  {"type": "string"}, "disabled": {"type": "boolean"}}})
#define FINDING_SCHEMA                                                                                               \
	S({"type": "object", "required": ["id", "rule", "kind", "severity", "status", "message"], "properties":      \
	  {"id": {"type": "string", "format": "uuid"}, "severity": {"type": "string"}, "status": {"type":            \
	  "string"}}})
#define WEBHOOK_SCHEMA                                                                                               \
	S({"type": "object", "required": ["id", "url", "events", "created_at"], "properties": {"id": {"type":       \
	  "string", "format": "uuid"}, "url": {"type": "string"}, "events": {"type": "array", "items": {"type":     \
	  "string"}}, "description": {"type": "string"}, "pending": {"type": "integer"}, "failed": {"type":          \
	  "integer"}}})
#define DELIVERY_SCHEMA                                                                                              \
	S({"type": "object", "required": ["id", "webhook_id", "event", "status", "attempts"], "properties": {"id":  \
	  {"type": "string", "format": "uuid"}, "webhook_id": {"type": "string", "format": "uuid"}, "event_id":     \
	  {"type": "integer"}, "event": {"type": "string"}, "status": {"enum": ["pending", "delivering",            \
	  "delivered", "failed"]}, "attempts": {"type": "integer"}, "last_status": {"type": ["integer", "null"]},   \
	  "last_error": {"type": ["string", "null"]}}})
#define REASON_BODY S({"type": "object", "properties": {"reason": {"type": "string"}}})
#define NOTE_BODY S({"type": "object", "properties": {"note": {"type": "string"}}})
#define QUERY_PROPS                                                                                                  \
	"\"k\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 200}, \"class\": {\"type\": \"string\"}, "     \
	"\"since\": {\"type\": \"string\"}, \"document\": {\"type\": \"string\"}, \"tag\": {\"type\": \"string\"}"

static const struct plat_http_route routes[] = {
	{"GET", "/healthz", h_healthz, NULL, PLAT_HTTP_PUBLIC, "liveness: the process answers (no dependencies)", NULL,
	 S({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}), 0},
	{"GET", "/readyz", h_readyz, NULL, PLAT_HTTP_PUBLIC, "readiness: the database and the storage are reachable",
	 NULL,
	 S({"type": "object", "required": ["status", "checks"], "properties": {"status": {"const": "ready"},
	    "checks": {"type": "object"}}}),
	 0},
	{"GET", "/metrics", h_metrics, NULL, PLAT_HTTP_PUBLIC, "Prometheus metrics (text exposition format 0.0.4)",
	 NULL, NULL, 0, NULL, "text/plain"},
	{"GET", "/openapi.json", h_openapi, NULL, PLAT_HTTP_PUBLIC, "this API description (OpenAPI 3.1)", NULL,
	 S({"type": "object", "required": ["openapi", "paths"]}), 0},
	{"GET", "/docs", plat_http_h_docs, NULL, PLAT_HTTP_PUBLIC,
	 "this API in Swagger UI (installed with platctl; 404 when it is not)", NULL, NULL, 0, NULL, "text/html"},
	{"GET", "/docs/{file}", plat_http_h_docs_file, NULL, PLAT_HTTP_PUBLIC, "Swagger UI's scripts, styles and icon",
	 NULL, NULL, 0, NULL, "text/javascript"},
	{"POST", "/v1/auth/token", plat_http_h_auth_token, NULL, PLAT_HTTP_PUBLIC | PLAT_HTTP_JSON_BODY,
	 "a local account's tokens: grant_type password (username, password) or refresh_token (refresh_token); "
	 "tenant: the account's (default: the server's). The refresh token rotates on every use",
	 S({"type": "object", "required": ["grant_type"], "properties": {"grant_type": {"enum": ["password",
	    "refresh_token"]}, "username": {"type": "string"}, "password": {"type": "string"}, "refresh_token":
	    {"type": "string"}, "tenant": {"type": "string"}}}),
	 S({"type": "object", "required": ["access_token", "token_type", "expires_in", "refresh_token"],
	    "properties": {"access_token": {"type": "string"}, "token_type": {"const": "Bearer"}, "expires_in":
	    {"type": "integer"}, "refresh_token": {"type": "string"}, "refresh_expires_at": {"type": "integer"},
	    "principal": {"type": "string"}, "tenant": {"type": "string"}, "role": {"type": "string"}}}),
	 0},
	{"POST", "/v1/auth/revoke", plat_http_h_auth_revoke, NULL, PLAT_HTTP_PUBLIC | PLAT_HTTP_JSON_BODY,
	 "log out: revoke a refresh token and every token rotated from the same login",
	 S({"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}, "tenant":
	    {"type": "string"}}}),
	 S({"type": "object", "required": ["revoked"], "properties": {"revoked": {"const": true}}}), 0},
	{"GET", "/v1/me", h_me, "auth.me", 0, "the caller: principal, tenant, role and token expiry", NULL,
	 S({"type": "object", "required": ["principal", "tenant", "role", "kind", "bootstrap", "expires_at"],
	    "properties": {"principal": {"type": "string"}, "principal_id": {"type": "string"},
	    "tenant": {"type": "string"}, "role": {"type": "string"}, "kind": {"type": "string"},
	    "email": {"type": ["string", "null"]}, "bootstrap": {"type": "boolean"},
	    "token": {"type": "string", "enum": ["access_token", "api_token"]},
	    "expires_at": {"type": ["integer", "null"]}}}),
	 0},
	{"POST", "/v1/documents", plat_http_h_documents_upload, "documents.upload", PLAT_HTTP_STREAM_BODY,
	 "upload a document: the body is its bytes (query: name, title, class, tag=KEY=VALUE repeated, "
	 "new_version=true, skip_disallowed=true: a type not allowed is the outcome skipped, not 422); 201 when "
	 "stored, 200 when the same content is there already or it was skipped",
	 NULL, UPLOADED_SCHEMA, 201, "application/octet-stream", NULL},
	{"GET", "/v1/documents", plat_http_h_documents_list, "documents.list", 0,
	 "list documents, newest first (query: status, class, tag=KEY=VALUE, since, name, limit, cursor)", NULL,
	 "{\"type\":\"object\",\"required\":[\"documents\",\"next_cursor\"],\"properties\":{\"documents\":{\"type\":"
	 "\"array\",\"items\":" DOC_SCHEMA "},\"next_cursor\":{\"type\":[\"string\",\"null\"]}}}",
	 0},
	{"GET", "/v1/documents/{id}", plat_http_h_documents_show, "documents.get", 0,
	 "one document with its fields, summary and history (ETag; If-None-Match gives 304)", NULL, DOC_SCHEMA, 0},
	{"GET", "/v1/documents/{id}/content", plat_http_h_documents_content, "documents.read", 0,
	 "the document's bytes, verified against its sha256 before they are sent (Range: one byte range gives 206; "
	 "ETag is the sha256); on S3 with server.content_redirect set, 302 to a presigned URL instead (query "
	 "redirect=false streams)",
	 NULL, NULL, 0, NULL, "application/octet-stream"},
	{"DELETE", "/v1/documents/{id}", plat_http_h_documents_delete, "documents.delete", 0,
	 "soft-delete a document (query purge=true also deletes its unshared object)", NULL,
	 S({"type": "object", "required": ["id", "deleted"], "properties": {"id": {"type": "string"},
	    "deleted": {"type": "boolean"}, "object_purged": {"type": "boolean"}}}),
	 0},
	{"POST", "/v1/documents/{id}/retry", plat_http_h_documents_retry, "documents.retry", 0,
	 "queue a failed document again", NULL, DOC_SCHEMA, 0},
	{"POST", "/v1/documents/{id}/hold", plat_http_h_documents_hold, "documents.hold", PLAT_HTTP_JSON_BODY,
	 "put a legal hold on a document (reason required)", REASON_BODY, DOC_SCHEMA, 0},
	{"POST", "/v1/documents/{id}/release", plat_http_h_documents_release, "documents.release",
	 PLAT_HTTP_OPTIONAL_JSON_BODY, "release a document's legal hold", REASON_BODY, DOC_SCHEMA, 0},
	{"POST", "/v1/search", h_search, "search", PLAT_HTTP_JSON_BODY, "hybrid search without an LLM",
	 "{\"type\": \"object\", \"required\": [\"query\"], \"properties\": {\"query\": {\"type\": \"string\", "
	 "\"minLength\": 1}, \"explain\": {\"type\": \"boolean\"}, " QUERY_PROPS "}}",
	 S({"type": "object", "required": ["results"], "properties": {"results": {"type": "array"}}}), 0},
	{"POST", "/v1/ask", h_ask, "ask", PLAT_HTTP_JSON_BODY,
	 "a grounded answer with citations, or a refusal (refused: true) when the documents do not support one; "
	 "Accept: text/event-stream streams it (events token {text}, then answer with this body, or error)",
	 "{\"type\": \"object\", \"required\": [\"question\"], \"properties\": {\"question\": {\"type\": \"string\", "
	 "\"minLength\": 1}, \"min_support\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 1}, "
	 "\"context_tokens\": {\"type\": \"integer\", \"minimum\": 100, \"maximum\": 100000}, " QUERY_PROPS "}}",
	 S({"type": "object", "required": ["answer", "refused", "support", "sources"], "properties": {"answer":
	    {"type": ["string", "null"]}, "refused": {"type": "boolean"}, "support": {"type": "number"}, "sources":
	    {"type": "array"}}}),
	 0},
	{"GET", "/v1/events", h_events, "events.stream", 0,
	 "the live feed of the tenant's document status changes and findings (Server-Sent Events: id, event "
	 "document.STATUS, finding.opened, finding.resolved, ...; data {id, type, at, data}); Last-Event-ID or "
	 "?after=ID resumes after that event, a comment every 15 s keeps it open",
	 NULL, NULL, 0, NULL, "text/event-stream"},
	{"GET", "/v1/ws", h_ws, "events.stream", 0,
	 "the live feed of /v1/events over a WebSocket: one text message per event ({id, type, at, data}); "
	 "?after=ID or Last-Event-ID resumes after that event; pings every 15 s; close code 1001 when the server "
	 "stops or the client falls behind (reconnect with ?after= the last id)",
	 NULL, NULL, 101, NULL, NULL},
	{"GET", "/v1/findings", plat_http_h_findings_list, "findings.list", 0,
	 "compliance findings, most recently seen first (query: status, rule, severity (at least), document, since, "
	 "limit, cursor)",
	 NULL,
	 "{\"type\": \"object\", \"required\": [\"findings\", \"next_cursor\"], \"properties\": {\"findings\": "
	 "{\"type\": \"array\", \"items\": " FINDING_SCHEMA "}, \"next_cursor\": {\"type\": [\"string\", \"null\"]}}}",
	 0},
	{"POST", "/v1/findings/{id}/ack", plat_http_h_findings_ack, "findings.ack", PLAT_HTTP_OPTIONAL_JSON_BODY,
	 "acknowledge an open finding (it stays open)", NOTE_BODY, FINDING_SCHEMA, 0},
	{"POST", "/v1/findings/{id}/resolve", plat_http_h_findings_resolve, "findings.resolve",
	 PLAT_HTTP_OPTIONAL_JSON_BODY, "resolve an open finding by hand", NOTE_BODY, FINDING_SCHEMA, 0},
	{"GET", "/v1/audit", plat_http_h_audit_list, "audit.list", 0,
	 "the audit log, newest first (query: since, until, actor, action (a trailing * is a prefix), object_type, "
	 "object_id, limit, cursor)",
	 NULL,
	 S({"type": "object", "required": ["entries", "next_cursor"], "properties": {"entries": {"type": "array",
	    "items": {"type": "object", "required": ["id", "at", "action", "hash"]}}, "next_cursor": {"type":
	    ["string", "null"]}}}),
	 0},
	{"GET", "/v1/audit/verify", plat_http_h_audit_verify, "audit.verify", 0,
	 "check the tenant's audit hash chain (a broken chain is ok: false, not an error)", NULL,
	 S({"type": "object", "required": ["ok", "rows", "verified", "first_broken", "head"], "properties": {"ok":
	    {"type": "boolean"}, "rows": {"type": "integer"}, "verified": {"type": "integer"}}}),
	 0},
	{"GET", "/v1/tokens", plat_http_h_tokens_list, "token.list", 0,
	 "the tenant's API tokens (never their secrets)", NULL,
	 "{\"type\": \"object\", \"required\": [\"tokens\"], \"properties\": {\"tokens\": {\"type\": \"array\", "
	 "\"items\": " TOKEN_SCHEMA "}}}",
	 0},
	{"POST", "/v1/tokens", plat_http_h_tokens_create, "token.create", PLAT_HTTP_JSON_BODY,
	 "create an API token; the secret (token) is in this response only",
	 S({"type": "object", "required": ["name", "role"], "properties": {"name": {"type": "string"}, "role":
	    {"enum": ["admin", "editor", "viewer", "auditor"]}, "principal": {"type": "string"}, "expires":
	    {"type": "string", "description": "a duration: 30d, 12h, 1y"}}}),
	 S({"type": "object", "required": ["id", "name", "role", "token"], "properties": {"id": {"type": "string",
	    "format": "uuid"}, "token": {"type": "string"}}}),
	 201},
	{"DELETE", "/v1/tokens/{id}", plat_http_h_tokens_revoke, "token.revoke", 0, "revoke an API token", NULL,
	 TOKEN_SCHEMA, 0},
	{"GET", "/v1/users", plat_http_h_users_list, "user.list", 0, "the tenant's principals, by name", NULL,
	 "{\"type\": \"object\", \"required\": [\"users\"], \"properties\": {\"users\": {\"type\": \"array\", "
	 "\"items\": " USER_SCHEMA "}}}",
	 0},
	{"POST", "/v1/users", plat_http_h_users_add, "user.add", PLAT_HTTP_JSON_BODY,
	 "add a user (password optional) or a service account (kind: service)",
	 S({"type": "object", "required": ["name", "role"], "properties": {"name": {"type": "string"}, "role":
	    {"enum": ["admin", "editor", "viewer", "auditor"]}, "kind": {"enum": ["user", "service"]}, "email":
	    {"type": "string"}, "password": {"type": "string"}}}),
	 USER_SCHEMA, 201},
	{"POST", "/v1/users/{name}/disable", plat_http_h_users_disable, "user.disable", 0,
	 "disable a principal: its tokens and logins stop working (not the tenant's last admin)", NULL, USER_SCHEMA,
	 0},
	{"POST", "/v1/users/{name}/enable", plat_http_h_users_enable, "user.enable", 0, "enable a principal again",
	 NULL, USER_SCHEMA, 0},
	{"GET", "/v1/webhooks", plat_http_h_webhooks_list, "webhook.list", 0,
	 "the tenant's webhooks with their pending and failed deliveries (never their secrets)", NULL,
	 "{\"type\": \"object\", \"required\": [\"webhooks\"], \"properties\": {\"webhooks\": {\"type\": \"array\", "
	 "\"items\": " WEBHOOK_SCHEMA "}}}",
	 0},
	{"POST", "/v1/webhooks", plat_http_h_webhooks_add, "webhook.add", PLAT_HTTP_JSON_BODY,
	 "subscribe a URL to events; the signing secret is in this response only",
	 S({"type": "object", "required": ["url", "events"], "properties": {"url": {"type": "string", "format":
	    "uri"}, "events": {"type": "array", "items": {"enum": ["*", "document.queued", "document.processing",
	    "document.processed", "document.failed", "document.deleted", "finding.opened", "finding.resolved",
	    "finding.suppressed"]}}, "description": {"type": "string", "maxLength": 500}}}),
	 S({"type": "object", "required": ["id", "url", "events", "secret"], "properties": {"id": {"type":
	    "string", "format": "uuid"}, "secret": {"type": "string"}}}),
	 201},
	{"DELETE", "/v1/webhooks/{id}", plat_http_h_webhooks_delete, "webhook.delete", 0,
	 "delete a webhook and its delivery log (its pending deliveries are not sent)", NULL, WEBHOOK_SCHEMA, 0},
	{"GET", "/v1/webhook-deliveries", plat_http_h_webhook_deliveries, "webhook.deliveries", 0,
	 "the delivery log, newest first (?webhook=ID, ?status=pending|delivering|delivered|failed, ?limit=)", NULL,
	 "{\"type\": \"object\", \"required\": [\"deliveries\"], \"properties\": {\"deliveries\": {\"type\": "
	 "\"array\", \"items\": " DELIVERY_SCHEMA "}}}",
	 0},
	{"POST", "/v1/webhook-deliveries/{id}/redeliver", plat_http_h_webhook_redeliver, "webhook.redeliver", 0,
	 "send a delivery's body again, as a new delivery due now", NULL, DELIVERY_SCHEMA, 201},
	{NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, 0, NULL, NULL},
};

const struct plat_http_route *plat_http_routes(void)
{
	return routes;
}
