/* The libmicrohttpd side: one epoll thread per pool slot, a per-request struct plat_svc
 * over the shared services, the token check, limits, problem details and metrics. */
#define _GNU_SOURCE
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/authz.h"
#include "auth/login.h"
#include "http/feed.h"
#include "http/ws.h"
#include "webhooks/webhooks.h"
#include "http/push.h"
#include "http/ratelimit.h"
#include "http/form.h"
#include "ids/ids.h"
#include "io/io.h"
#include "log/log.h"
#include "metrics/metrics.h"

struct plat_http_server {
	struct plat_services *services;
	const struct plat_http_options *o;
	struct plat_metrics *metrics;
	atomic_int in_flight;
	struct plat_http_feed *feed;
	atomic_int writers; /* stream_fn threads still running */
	atomic_int websockets; /* upgraded connections still being served */
	struct plat_ratelimit *rate;
	const char *cors_origins; /* server.cors_origins */
};

struct plat_metrics *plat_http_server_metrics(struct plat_http_server *s) { return s->metrics; }
struct plat_services *plat_http_server_services(struct plat_http_server *s) { return s->services; }
int plat_http_server_event_streams(struct plat_http_server *s) { return plat_http_feed_streams(s->feed); }

/* One request's state across libmicrohttpd's callbacks. */
struct req_ctx {
	struct plat_http_server *server;
	struct timespec start;
	const struct plat_http_route *route;
	struct plat_http_request req;
	struct plat_buf body;
	bool too_large;
	int status;
	char method[8];
	char request_id[65];
	char traceparent[64];
	int early; /* a status decided on the first callback (401, 403, 404, 405, 413, 415) */
	char allow[64];
	/* The caller, once its token was checked on the first callback. */
	struct plat_auth_result who;
	char principal_id[37];
	int role;
	/* PLAT_HTTP_STREAM_BODY: the body goes to this unlinked file as it arrives. */
	int spool_fd;
	long long spool_len, spool_limit;
	bool spool_failed;
	struct plat_http_form *form; /* multipart/form-data: parses the body into the spool */
	int retry_after;   /* 429: seconds */
	char origin[256];  /* an allowed Origin of a browser's request: CORS headers go back */
	char ws_tenant[37]; /* GET /v1/ws: whose events the upgraded connection carries, after which id */
	long long ws_from;
};

void plat_http_set_location(struct plat_http_response *r, const char *url)
{
	free(r->location);
	r->location = plat_xstrdup(url);
}

bool plat_http_add_header(struct plat_http_response *r, const char *name, const char *fmt, ...)
{
	if (r->nheaders >= (int)(sizeof(r->headers) / sizeof(r->headers[0])) || strlen(name) >= sizeof(r->headers[0].name))
		return false;
	snprintf(r->headers[r->nheaders].name, sizeof(r->headers[0].name), "%s", name);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->headers[r->nheaders].value, sizeof(r->headers[0].value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(r->headers[0].value))
		return false;
	r->nheaders++;
	return true;
}

static const char *conn_query(void *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static const char *conn_header(void *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

struct query_values {
	const char *name;
	const char **values;
	int max, n;
};

static enum MHD_Result collect_value(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct query_values *q = cls;
	if (strcmp(key, q->name) == 0 && q->n < q->max)
		q->values[q->n++] = value ? value : "";
	return MHD_YES;
}

int plat_http_conn_query_all(void *conn, const char *name, const char **values, int max)
{
	struct query_values q = {name, values, max, 0};
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_value, &q);
	return q.n;
}

/* A streamed body's writer: its own service context for the request's caller. */
struct writer {
	struct plat_http_server *server;
	struct plat_http_push *push;
	struct plat_auth_result who;
	char principal_id[37];
	int role;
	bool public_route;
	char request_id[65];
	void (*fn)(struct plat_svc *, void *, int (*)(void *, const char *, size_t), void *);
	void *arg;
	void (*free_arg)(void *);
};

static int push_write(void *w, const char *data, size_t len)
{
	return plat_http_push_write(w, data, len) < 0 ? 1 : 0;
}

static void *run_writer(void *arg)
{
	struct writer *w = arg;
	struct plat_svc svc;
	struct plat_call call = {.request_id = w->request_id};
	if (!w->public_route)
		call = (struct plat_call){.principal = w->who.subject, .tenant = w->who.tenant, .request_id = w->request_id,
					  .role = w->principal_id[0] ? w->role : 0,
					  .principal_id = w->principal_id[0] ? w->principal_id : NULL};
	plat_svc_init(&svc, w->server->services, &call);
	w->fn(&svc, w->arg, push_write, w->push);
	plat_svc_done(&svc);
	if (w->free_arg)
		w->free_arg(w->arg);
	plat_http_push_close(w->push);
	atomic_fetch_sub(&w->server->writers, 1);
	free(w);
	return NULL;
}

static struct MHD_Response *start_writer(struct MHD_Connection *c, struct req_ctx *x, struct plat_http_response *r)
{
	struct writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	struct MHD_Response *resp = plat_http_push_open(c, &w->push);
	if (!resp) {
		free(w);
		return NULL;
	}
	w->server = x->server;
	w->who = x->who;
	memcpy(w->principal_id, x->principal_id, sizeof(w->principal_id));
	w->role = x->role;
	w->public_route = x->route->flags & PLAT_HTTP_PUBLIC;
	memcpy(w->request_id, x->request_id, sizeof(w->request_id));
	w->fn = r->stream_fn;
	w->arg = r->stream_arg;
	w->free_arg = r->stream_free;
	r->stream_fn = NULL;
	atomic_fetch_add(&x->server->writers, 1);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, run_writer, w) != 0) {
		atomic_fetch_sub(&x->server->writers, 1);
		plat_http_push_close(w->push);
		if (w->free_arg)
			w->free_arg(w->arg);
		free(w);
		/* The response stays: it ends at once, as an empty body. */
	}
	pthread_attr_destroy(&attr);
	return resp;
}

/* libmicrohttpd handed over the connection of a GET /v1/ws that got its 101. */
static void on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra, size_t extra_len,
		       MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	(void)c;
	struct plat_http_server *s = cls;
	const struct req_ctx *x = con_cls;
	plat_http_ws_start(s->feed, &s->websockets, x->ws_tenant, x->ws_from, extra, extra_len, sock, urh);
}

static enum MHD_Result reply(struct MHD_Connection *c, struct req_ctx *x, struct plat_http_response *r)
{
	char *text = NULL;
	size_t len = 0;
	const char *ct = r->content_type;
	if (r->json) {
		text = cJSON_PrintUnformatted(r->json);
		len = strlen(text);
	} else if (r->text) {
		text = r->text;
		r->text = NULL;
		len = strlen(text);
	}
	struct MHD_Response *resp;
	if (r->stream_fn) {
		resp = start_writer(c, x, r);
	} else if (r->send_ws) {
		snprintf(x->ws_tenant, sizeof(x->ws_tenant), "%s", r->events_tenant);
		x->ws_from = r->events_from;
		resp = MHD_create_response_for_upgrade(on_upgrade, x->server);
		ct = NULL;
	} else if (r->send_events) {
		resp = plat_http_feed_open(x->server->feed, c, r->events_tenant, r->events_from);
		ct = "text/event-stream; charset=utf-8";
	} else if (r->send_fd) {
		/* libmicrohttpd owns the descriptor from here and closes it with the response. */
		resp = MHD_create_response_from_fd_at_offset64((uint64_t)r->fd_len, r->fd, (uint64_t)r->fd_offset);
		if (!resp)
			close(r->fd);
		r->send_fd = false;
	} else {
		resp = MHD_create_response_from_buffer(len, text ? text : (char *)"", MHD_RESPMEM_MUST_COPY);
	}
	if (r->json)
		cJSON_free(text);
	else
		free(text);
	if (!resp) {
		free(r->location);
		r->location = NULL;
		return MHD_NO;
	}
	for (int i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
	if (r->location) {
		MHD_add_response_header(resp, "Location", r->location);
		free(r->location);
		r->location = NULL;
	}
	if (r->send_events) /* a proxy must pass each event on as it comes, not buffer it */
		MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	if (ct)
		MHD_add_response_header(resp, "Content-Type", ct);
	MHD_add_response_header(resp, "X-Request-ID", x->request_id);
	if (x->traceparent[0])
		MHD_add_response_header(resp, "traceparent", x->traceparent);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy",
				r->csp ? r->csp : "default-src 'none'; frame-ancestors 'none'");
	/* Every reply carries a tenant's data or the server's state: no cache may keep it. */
	MHD_add_response_header(resp, "Cache-Control", r->cache_control ? r->cache_control : "no-store");
	if (r->etag[0])
		MHD_add_response_header(resp, "ETag", r->etag);
	if (r->allow[0])
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
	if (r->status == 429 && x->retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", x->retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	if (x->origin[0]) {
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", x->origin);
		MHD_add_response_header(resp, "Vary", "Origin");
		MHD_add_response_header(resp, "Access-Control-Expose-Headers",
					"ETag, Location, Content-Range, Content-Disposition, Retry-After, X-Request-ID");
	}
	x->status = r->status;
	enum MHD_Result rc = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	cJSON_Delete(r->json);
	r->json = NULL;
	return rc;
}

static enum MHD_Result send_problem_with(struct MHD_Connection *c, struct req_ctx *x, const char *url, int status,
					 struct plat_error *err, const struct plat_http_response *from)
{
	struct plat_http_response r = {.status = status ? status : plat_error_http_status(err->kind),
				       .content_type = "application/problem+json"};
	if (from) {
		r.nheaders = from->nheaders;
		memcpy(r.headers, from->headers, sizeof(r.headers));
	}
	r.json = plat_http_problem(err, r.status, url, x->request_id);
	if (r.status == 405)
		snprintf(r.allow, sizeof(r.allow), "%s", x->allow);
	return reply(c, x, &r);
}

static enum MHD_Result send_problem(struct MHD_Connection *c, struct req_ctx *x, const char *url, int status,
				    struct plat_error *err)
{
	return send_problem_with(c, x, url, status, err, NULL);
}

static bool token_from(const char *authz, const char **tok)
{
	if (!authz || strncasecmp(authz, "Bearer ", 7) != 0)
		return false;
	*tok = authz + 7;
	while (**tok == ' ')
		(*tok)++;
	return **tok != '\0';
}

/* Whether origin is one of server.cors_origins (comma-separated, exact). */
static bool origin_allowed(const char *list, const char *origin)
{
	size_t ol = strlen(origin);
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && t[-1] == ' ')
			t--;
		if ((size_t)(t - p) == ol && ol > 0 && strncmp(p, origin, ol) == 0)
			return true;
		p = e;
	}
	return false;
}

/* The bearer token and the route's permission: 401 or 403 decided before any body is read. */
static int authenticate(struct plat_http_server *s, struct MHD_Connection *c, struct req_ctx *x,
			struct plat_error *err)
{
	const char *tok;
	if (!token_from(conn_header(c, "Authorization"), &tok)) {
		x->early = 401;
		return plat_error_set(err, PLAT_E_AUTH, "a bearer token is required");
	}
	struct plat_svc svc;
	plat_svc_init(&svc, s->services, &(struct plat_call){.request_id = x->request_id});
	int rc = plat_auth_verify_bearer(&svc, tok, &x->who, x->principal_id, err);
	plat_svc_done(&svc);
	if (rc < 0) {
		PLAT_LOG_I("token refused", "reason", plat_auth_reason_name(x->who.reason));
		x->early = plat_error_http_status(err->kind);
		return rc;
	}
	x->role = (int)plat_role_parse(x->who.role);
	if ((rc = plat_svc_check_role(x->route->operation, x->role, x->who.subject, x->who.tenant, err)) < 0) {
		x->early = plat_error_http_status(err->kind);
		return rc;
	}
	char key[PLAT_AUTH_TENANT_MAX + PLAT_AUTH_SUBJECT_MAX + 2];
	snprintf(key, sizeof(key), "%s/%s", x->who.tenant, x->who.subject);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!plat_ratelimit_take(s->rate, key, (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000, &x->retry_after)) {
		x->early = 429;
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "too many requests: try again in %d s", x->retry_after);
	}
	return 0;
}

/* The database notifies every instance's cache of a change (migration 0014), this one's
 * included, but a moment after the commit: a client that changes something here and
 * reads it back at once must see its change, so this instance forgets it right away.
 * Whatever the outcome: a call that failed may have committed part of its work. */
static void invalidate_after_write(struct plat_http_server *s, struct req_ctx *x)
{
	if (!plat_services_cache(s->services) || !strcmp(x->method, "GET") || !strcmp(x->method, "HEAD"))
		return;
	const char *route = x->route->pattern;
	if (strncmp(route, "/v1/documents/{id}", 18) == 0 && x->req.nparams > 0 &&
	    plat_id_uuid_shaped(x->req.params[0].value)) {
		char payload[320];
		snprintf(payload, sizeof(payload), "document:%s", x->req.params[0].value);
		plat_services_cache_notify(s->services, payload);
	} else if (!strncmp(route, "/v1/tokens", 10) || !strncmp(route, "/v1/users", 9) || !strcmp(route, "/v1/auth/revoke")) {
		plat_services_cache_notify(s->services, "auth");
	}
}

/* A browser's preflight from an allowed origin: what it may send. */
static enum MHD_Result preflight(struct MHD_Connection *c, struct req_ctx *x)
{
	struct plat_http_response r = {.status = 204};
	plat_http_add_header(&r, "Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE");
	plat_http_add_header(&r, "Access-Control-Allow-Headers",
			     "Authorization, Content-Type, If-None-Match, If-Range, Range, X-Request-ID, Last-Event-ID, "
			     "traceparent");
	plat_http_add_header(&r, "Access-Control-Max-Age", "600");
	return reply(c, x, &r);
}

/* The first callback: everything decidable from the request line and headers. */
static int first(struct plat_http_server *s, struct MHD_Connection *c, struct req_ctx *x, const char *url,
		 const char *method, struct plat_error *err)
{
	clock_gettime(CLOCK_MONOTONIC, &x->start);
	snprintf(x->method, sizeof(x->method), "%s", method);
	const char *rid = conn_header(c, "X-Request-ID");
	if (rid && !plat_id_request_valid(rid)) {
		plat_id_request(x->request_id);
		x->early = 400;
		return plat_error_set(err, PLAT_E_USAGE, "X-Request-ID must be 1-64 characters of A-Z a-z 0-9 . _ : -");
	}
	if (rid)
		snprintf(x->request_id, sizeof(x->request_id), "%s", rid);
	else
		plat_id_request(x->request_id);
	/* W3C trace context: passed on only when it has the version-00 shape. */
	const char *tp = conn_header(c, "traceparent");
	if (tp && strlen(tp) == 55 && tp[2] == '-' && tp[35] == '-' && tp[52] == '-' &&
	    strspn(tp, "0123456789abcdef-") == 55)
		snprintf(x->traceparent, sizeof(x->traceparent), "%s", tp);
	const char *origin = conn_header(c, "Origin");
	if (origin && origin_allowed(s->cors_origins, origin))
		snprintf(x->origin, sizeof(x->origin), "%s", origin);
	if (strcmp(method, "OPTIONS") == 0 && origin && conn_header(c, "Access-Control-Request-Method")) {
		x->early = x->origin[0] ? 204 : 403;
		if (!x->origin[0])
			return plat_error_set(err, PLAT_E_PERMISSION, "origin '%.128s' is not allowed", origin);
		return -1;
	}
	int m = plat_http_match(plat_http_routes(), method, url, &x->route, &x->req, x->allow, sizeof(x->allow));
	if (m == 404) {
		x->early = 404;
		return plat_error_set(err, PLAT_E_NOT_FOUND, "no such resource");
	}
	if (m == 405) {
		x->early = 405;
		return plat_error_set(err, PLAT_E_USAGE, "method %s is not allowed here", x->method);
	}
	/* The token before the body: an unauthenticated client gets nothing read or stored. */
	if (!(x->route->flags & PLAT_HTTP_PUBLIC) && authenticate(s, c, x, err) < 0)
		return -1;
	const char *cl = conn_header(c, "Content-Length");
	long long limit = s->o->max_body;
	if (x->route->flags & PLAT_HTTP_STREAM_BODY) {
		limit = x->spool_limit = plat_config_int(plat_services_config(s->services), PLAT_CFG_UPLOAD_MAX_SIZE);
	}
	if (cl && strtoll(cl, NULL, 10) > limit) {
		x->early = 413;
		return plat_error_set(err, PLAT_E_INVALID, "the body is larger than %lld bytes", limit);
	}
	const char *ct = conn_header(c, "Content-Type");
	bool has_body = (cl && strcmp(cl, "0") != 0) || conn_header(c, "Transfer-Encoding");
	if ((x->route->flags & PLAT_HTTP_JSON_BODY) || ((x->route->flags & PLAT_HTTP_OPTIONAL_JSON_BODY) && has_body)) {
		if (!ct || strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
			x->early = 415;
			return plat_error_set(err, PLAT_E_INVALID, "the body must be application/json");
		}
	}
	if ((x->route->flags & PLAT_HTTP_STREAM_BODY) && (x->spool_fd = plat_tmpfile()) < 0) {
		x->early = 503;
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "cannot spool the body: %s", strerror(errno));
	}
	if ((x->route->flags & PLAT_HTTP_STREAM_BODY) && plat_http_form_is_multipart(ct) &&
	    !(x->form = plat_http_form_new(c, x->spool_fd, x->spool_limit, err))) {
		x->early = 400;
		return -1;
	}
	return 0;
}

static enum MHD_Result dispatch(struct plat_http_server *s, struct MHD_Connection *c, struct req_ctx *x,
				const char *url)
{
	struct plat_error err = {0};
	const struct plat_http_route *r = x->route;
	if (x->too_large) {
		plat_error_set(&err, PLAT_E_INVALID, "the body is larger than %lld bytes",
			       x->spool_limit ? x->spool_limit : s->o->max_body);
		return send_problem(c, x, url, 413, &err);
	}
	if (x->spool_failed) {
		plat_error_set(&err, PLAT_E_UNAVAILABLE, "cannot spool the body: %s", strerror(ENOSPC));
		return send_problem(c, x, url, 503, &err);
	}
	int verdict;
	if (x->form && (verdict = plat_http_form_finish(x->form, &err)) != 0)
		return send_problem(c, x, url, verdict, &err);
	if ((r->flags & PLAT_HTTP_JSON_BODY) || ((r->flags & PLAT_HTTP_OPTIONAL_JSON_BODY) && x->body.data)) {
		cJSON *j = x->body.data ? cJSON_ParseWithLength(x->body.data, x->body.len) : NULL;
		bool obj = cJSON_IsObject(j);
		cJSON_Delete(j);
		if (!obj) {
			plat_error_set(&err, PLAT_E_USAGE, "the body is not a JSON object");
			return send_problem(c, x, url, 400, &err);
		}
	}
	struct plat_svc svc;
	/* An API token carries its own role, and so does an external issuer's token (a
	 * principal an admin linked to its subject was checked for being disabled); a local
	 * access token's principal and role are looked up by the call, so that disabling a
	 * user counts before its token expires. */
	bool role_given = x->principal_id[0] || x->who.kind == PLAT_AUTH_OIDC;
	if (!(r->flags & PLAT_HTTP_PUBLIC))
		plat_svc_init(&svc, s->services,
			      &(struct plat_call){.principal = x->who.subject, .tenant = x->who.tenant,
						  .request_id = x->request_id, .role = role_given ? x->role : 0,
						  .principal_id = role_given ? x->principal_id : NULL});
	else
		plat_svc_init(&svc, s->services, &(struct plat_call){.request_id = x->request_id});
	plat_log_set_thread_request_id(x->request_id);
	x->req.method = x->method;
	x->req.path = url;
	x->req.route = r->pattern;
	x->req.query = conn_query;
	x->req.query_all = plat_http_conn_query_all;
	x->req.header = conn_header;
	x->req.body_fd = -1;
	if (r->flags & PLAT_HTTP_STREAM_BODY) {
		x->req.body_fd = x->spool_fd;
		x->req.body_fd_len = x->form ? plat_http_form_file_size(x->form) : x->spool_len;
	}
	x->req.conn = c;
	if (x->form) {
		x->req.conn = x->form;
		x->req.query = plat_http_form_query;
		x->req.query_all = plat_http_form_query_all;
		x->req.header = plat_http_form_header;
	}
	if (x->body.data) {
		plat_buf_putc(&x->body, '\0');
		x->req.body = x->body.data;
		x->req.body_len = x->body.len - 1;
	}
	x->req.svc = &svc;
	x->req.who = (r->flags & PLAT_HTTP_PUBLIC) ? NULL : &x->who;
	x->req.request_id = x->request_id;
	x->req.server = s;
	struct plat_http_response resp = {.status = r->status ? r->status : 200, .content_type = "application/json"};
	int rc = r->handler(&x->req, &resp, &err);
	plat_svc_done(&svc);
	plat_log_set_thread_request_id(NULL);
	invalidate_after_write(s, x);
	if (rc < 0) {
		cJSON_Delete(resp.json);
		free(resp.text);
		free(resp.location);
		if (resp.send_fd)
			close(resp.fd);
		if (resp.stream_free)
			resp.stream_free(resp.stream_arg);
		if (err.kind == PLAT_E_INTERNAL)
			PLAT_LOG_E("request failed", "error", err.message);
		return send_problem_with(c, x, url, resp.status >= 400 ? resp.status : 0, &err, &resp);
	}
	return reply(c, x, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct plat_http_server *s = cls;
	struct req_ctx *x = *con_cls;
	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x)
			return MHD_NO;
		x->spool_fd = -1;
		x->server = s;
		*con_cls = x;
		atomic_fetch_add(&s->in_flight, 1);
		struct plat_error err = {0};
		if (first(s, c, x, url, method, &err) < 0) {
			if (x->early == 204)
				return preflight(c, x);
			return send_problem(c, x, url, x->early, &err);
		}
		return MHD_YES;
	}
	if (x->early)
		return MHD_YES; /* answered already; libmicrohttpd drops what the client still sends */
	if (*upload_data_size && x->form) {
		plat_http_form_feed(x->form, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size && x->spool_fd >= 0) {
		if (x->spool_len + (long long)*upload_data_size > x->spool_limit)
			x->too_large = true;
		else if (!x->too_large && !x->spool_failed && plat_write_all(x->spool_fd, upload_data, *upload_data_size) < 0)
			x->spool_failed = true;
		else
			x->spool_len += (long long)*upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* Chunked bodies carry no Content-Length: the limit is enforced while reading. */
		if (!x->too_large && (long long)(x->body.len + *upload_data_size) <= s->o->max_body)
			plat_buf_append(&x->body, upload_data, *upload_data_size);
		else
			x->too_large = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return dispatch(s, c, x, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)c, (void)toe;
	struct plat_http_server *s = cls;
	struct req_ctx *x = *con_cls;
	if (!x)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - x->start.tv_sec) + (double)(now.tv_nsec - x->start.tv_nsec) / 1e9;
	const char *route = x->route ? x->route->pattern : "unmatched";
	char labels[256], status[8], ms[32];
	snprintf(status, sizeof(status), "%d", x->status);
	snprintf(labels, sizeof(labels), "method=\"%s\",route=\"%s\",status=\"%d\"", x->method, route, x->status);
	plat_metrics_add(s->metrics, "platctl_http_requests_total", labels, 1);
	snprintf(labels, sizeof(labels), "route=\"%s\"", route);
	plat_metrics_observe(s->metrics, "platctl_http_request_duration_seconds", labels, secs);
	plat_metrics_set(s->metrics, "platctl_http_in_flight", NULL, atomic_fetch_sub(&s->in_flight, 1) - 1);
	snprintf(ms, sizeof(ms), "%.1f", secs * 1000);
	/* The request's own id on its log line, not the process's. */
	plat_log_set_thread_request_id(x->request_id);
	PLAT_LOG_I("request", "method", x->method, "route", route, "status", status, "duration_ms", ms);
	plat_log_set_thread_request_id(NULL);
	plat_buf_free(&x->body);
	/* A client gone mid-upload leaves only this unlinked file, and closing it frees it. */
	if (x->spool_fd >= 0)
		close(x->spool_fd);
	plat_http_form_free(x->form);
	free(x);
	*con_cls = NULL;
}

int plat_http_serve(struct plat_services *services, const struct plat_http_options *o,
		    void (*on_ready)(void *arg, const char *addr), void *arg, struct plat_error *err)
{
	struct sockaddr_storage ss;
	unsigned alen;
	int rc = plat_http_parse_listen(o->listen, &ss, &alen, err);
	if (rc < 0)
		return rc;
	plat_services_long_running(services);
	struct plat_http_server s = {.services = services, .o = o, .metrics = plat_metrics_new()};
	plat_metrics_describe(s.metrics, "platctl_http_requests_total", PLAT_METRIC_COUNTER,
			      "HTTP requests by method, route pattern and status");
	plat_metrics_describe(s.metrics, "platctl_http_request_duration_seconds", PLAT_METRIC_HISTOGRAM,
			      "HTTP request latency by route pattern");
	plat_metrics_describe(s.metrics, "platctl_http_in_flight", PLAT_METRIC_GAUGE, "HTTP requests being served");
	plat_metrics_set(s.metrics, "platctl_http_in_flight", NULL, 0);
	plat_metrics_describe(s.metrics, "platctl_http_event_streams", PLAT_METRIC_GAUGE,
			      "open GET /v1/events streams");
	if (plat_services_cache(services)) {
		plat_metrics_describe(s.metrics, "platctl_cache_lookups_total", PLAT_METRIC_COUNTER,
				      "in-process cache lookups (tokens, tenants, documents) by result");
		plat_metrics_describe(s.metrics, "platctl_cache_invalidations_total", PLAT_METRIC_COUNTER,
				      "cache invalidations (database notifications and this instance's writes)");
		plat_metrics_describe(s.metrics, "platctl_cache_evictions_total", PLAT_METRIC_COUNTER,
				      "cache entries evicted to stay within server.cache_entries");
		plat_metrics_describe(s.metrics, "platctl_cache_entries", PLAT_METRIC_GAUGE, "entries in the cache");
	}
	const struct plat_config *cfg = plat_services_config(services);
	s.rate = plat_ratelimit_new((double)plat_config_int(cfg, PLAT_CFG_SERVER_RATE_LIMIT),
				    (double)plat_config_int(cfg, PLAT_CFG_SERVER_RATE_BURST));
	s.cors_origins = plat_config_str(cfg, PLAT_CFG_SERVER_CORS_ORIGINS);
	if ((rc = plat_http_feed_start(services, &s.feed, err)) < 0) {
		plat_ratelimit_free(s.rate);
		plat_metrics_free(s.metrics);
		return rc;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = o->threads > 0 ? (unsigned)o->threads : (cores > 0 ? (unsigned)cores : 1);
	struct plat_buf cert = PLAT_BUF_INIT, key = PLAT_BUF_INIT;
	bool tls = o->tls_cert || o->tls_key;
	if (tls && ((rc = plat_http_load_pem(o->tls_cert, "certificate", false, &cert, err)) < 0 ||
		    (rc = plat_http_load_pem(o->tls_key, "key", true, &key, err)) < 0)) {
		plat_buf_free(&cert);
		plat_buf_free(&key);
		plat_http_feed_stop(s.feed);
		plat_http_feed_free(s.feed);
		plat_ratelimit_free(s.rate);
		plat_metrics_free(s.metrics);
		return rc;
	}
	struct MHD_OptionItem opts[] = {
		{MHD_OPTION_SOCK_ADDR, 0, &ss},
		{MHD_OPTION_THREAD_POOL_SIZE, threads, NULL},
		{MHD_OPTION_CONNECTION_LIMIT, o->max_connections, NULL},
		{MHD_OPTION_CONNECTION_TIMEOUT, o->timeout, NULL},
		{MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)o->header_limit, NULL},
		{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, &s},
		{tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert.data},
		{tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, key.data},
		{MHD_OPTION_END, 0, NULL},
	};
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG |
							(ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) | (tls ? MHD_USE_TLS : 0),
						0, NULL, NULL, on_request, &s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	int start_errno = errno;
	/* libmicrohttpd keeps its own copy of the key (gnutls parsed it). */
	plat_wipe(key.data, key.len);
	plat_buf_free(&key);
	plat_buf_free(&cert);
	if (!d) {
		plat_http_feed_stop(s.feed);
		plat_http_feed_free(s.feed);
		plat_ratelimit_free(s.rate);
		plat_metrics_free(s.metrics);
		if (tls && !MHD_is_feature_supported(MHD_FEATURE_TLS))
			return plat_error_set(err, PLAT_E_CONFIG, "this libmicrohttpd has no TLS support");
		if (tls && start_errno != EADDRINUSE && start_errno != EACCES && start_errno != EADDRNOTAVAIL)
			return plat_error_set(err, PLAT_E_CONFIG,
					      "cannot start TLS with certificate '%s' and key '%s': not PEM, or they do not "
					      "match (the server's log line above says which)",
					      o->tls_cert, o->tls_key);
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "cannot listen on '%.64s': %s", o->listen, strerror(start_errno));
	}
	/* Once the port is ours: an instance that cannot listen sends no webhooks either. */
	struct plat_webhook_deliverer *webhooks = NULL;
	if (plat_webhooks_deliverer_start(services, &webhooks, err) < 0) {
		MHD_stop_daemon(d);
		plat_http_feed_stop(s.feed);
		plat_http_feed_free(s.feed);
		plat_ratelimit_free(s.rate);
		plat_metrics_free(s.metrics);
		return -err->kind;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char addr[96];
	char host[INET6_ADDRSTRLEN] = "";
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
	snprintf(addr, sizeof(addr), ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
		 info ? info->port : 0);
	if (on_ready)
		on_ready(arg, addr);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	/* Stop accepting first, then let what is in flight finish before the threads go. */
	MHD_quiesce_daemon(d);
	PLAT_LOG_I("shutting down", "signal", sig == SIGTERM ? "TERM" : "INT");
	/* Event streams never finish by themselves: end them, so that their clients see the
	 * end of the response (and reconnect elsewhere) and the drain below can finish. */
	plat_http_feed_stop(s.feed);
	plat_webhooks_deliverer_stop(webhooks); /* after the delivery in flight is recorded */
	/* The WebSockets send their close frames, and must be closed before the daemon stops. */
	for (int i = 0; i < 200 && atomic_load(&s.websockets) > 0; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < 600 && atomic_load(&s.in_flight) > 0; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(d);
	/* A writer whose client went away may still be finishing its call. */
	for (int i = 0; i < 600 && atomic_load(&s.writers) > 0; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	plat_http_feed_free(s.feed);
	plat_ratelimit_free(s.rate);
	plat_metrics_free(s.metrics);
	return 0;
}
