/* The REST server (2.5): one route table drives dispatch, the permission check and
 * /openapi.json; every handler makes the one service call its command makes.
 *
 * The router and the problem-details renderer (router.c) know nothing of libmicrohttpd,
 * so unit tests drive them directly; server.c is the libmicrohttpd side, routes.c the
 * table and its handlers. */
#ifndef PLAT_HTTP_H
#define PLAT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "auth/auth.h"
#include "error/error.h"
#include "mem/mem.h"
#include "svc/svc.h"

#define PLAT_HTTP_MAX_PARAMS 4

struct plat_http_request {
	const char *method;
	const char *path;
	const char *route; /* the matched pattern, "/v1/documents/{id}" */
	int nparams;
	struct {
		const char *name;
		char value[256];
	} params[PLAT_HTTP_MAX_PARAMS];
	/* A query-string parameter or a header (name case-insensitive), NULL when absent. */
	const char *(*query)(void *conn, const char *name);
	const char *(*header)(void *conn, const char *name);
	void *conn;
	const char *body; /* NUL-terminated; NULL when the request has none */
	size_t body_len;
	int body_fd;      /* PLAT_HTTP_STREAM_BODY: the body spooled to an unlinked file, at offset 0 */
	long long body_fd_len;
	/* Every value of a repeated query parameter ("tag=a=1&tag=b=2"), in order; returns the count. */
	int (*query_all)(void *conn, const char *name, const char **values, int max);
	struct plat_svc *svc;               /* the request's own context, over the shared services */
	const struct plat_auth_result *who; /* the verified token; NULL on public routes */
	const char *request_id;
	struct plat_http_server *server;
};

struct plat_http_response {
	int status;
	cJSON *json;             /* the body, or NULL */
	char *text;              /* or a text body (malloc'd) with its content type */
	const char *content_type;
	char ctype[128];         /* room for a content type the handler computed */
	char etag[72];           /* empty: none */
	char allow[64];          /* 405: the methods the path takes */
	const char *csp;         /* a Content-Security-Policy other than "nothing may load" */
	const char *cache_control; /* other than no-store (static files) */
	bool send_fd;            /* send fd_len bytes of fd from fd_offset, then close it */
	int fd;
	long long fd_offset, fd_len;
	bool send_events;        /* the live feed of events_tenant (an id), from after events_from (-1: now) */
	bool send_ws;            /* the same feed over a WebSocket: status 101, the upgrade headers set */
	char events_tenant[37];
	long long events_from;
	/* The body is written by stream_fn on a thread of its own, in a service context of the
	 * same caller, while it is sent (content_type says what it is). stream_free(stream_arg)
	 * runs afterwards. A write returns non-zero once the client has gone. */
	void (*stream_fn)(struct plat_svc *svc, void *arg, int (*write)(void *w, const char *data, size_t len),
			  void *w);
	void *stream_arg;
	void (*stream_free)(void *arg);
	int nheaders;            /* more response headers (Content-Range, Content-Disposition, Location) */
	struct {
		char name[32];
		char value[320];
	} headers[4];
	/* Location when it may be long (a presigned URL with a session token runs past 1 KiB):
	 * malloc'd by plat_http_set_location, freed with the response. A fixed buffer that
	 * large would be zeroed on every request for the few that redirect. */
	char *location;
};

void plat_http_set_location(struct plat_http_response *r, const char *url);
/* Add a response header. false, and nothing added, past the fourth or when the value
 * does not fit (a cut header would be a wrong one). */
bool plat_http_add_header(struct plat_http_response *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fill resp (status 2xx and json) or err; on an error a status of 400 or more set in resp
 * is the response's (else the error kind's), and so are resp's extra headers. */
typedef int (*plat_http_handler)(struct plat_http_request *req, struct plat_http_response *resp,
				 struct plat_error *err);

enum plat_http_route_flags {
	PLAT_HTTP_PUBLIC = 1 << 0,    /* no token: probes, metrics, the API description */
	PLAT_HTTP_JSON_BODY = 1 << 1, /* takes a JSON object body (application/json) */
	/* Takes a document's bytes, spooled to a file as they arrive (bounded by
	 * upload.max_size, not by the server's body limit) once the token is checked. */
	PLAT_HTTP_STREAM_BODY = 1 << 2,
	PLAT_HTTP_OPTIONAL_JSON_BODY = 1 << 3, /* a JSON object body, or none at all */
};

struct plat_http_route {
	const char *method;
	const char *pattern;   /* "/v1/documents/{id}": a {name} segment matches one segment */
	plat_http_handler handler;
	const char *operation; /* the permission-table operation; NULL on public routes */
	unsigned flags;
	const char *summary;
	const char *request_schema;  /* JSON Schema text, or NULL */
	const char *response_schema; /* JSON Schema text of the 2xx body, or NULL (not JSON) */
	int status;                  /* the success status documented (200 when 0) */
	const char *request_media;   /* a body that is not JSON: its media type ("application/octet-stream") */
	const char *response_media;  /* a 2xx body that is not JSON */
};

/* The table, terminated by a row with a NULL method. */
const struct plat_http_route *plat_http_routes(void);

/* Find the route for method and path, its {params} copied into req. Returns 0 and sets
 * *route; 404 when no pattern matches the path; 405 when some pattern does but not with
 * this method, allow then lists the methods that do ("GET, DELETE"). HEAD matches GET. */
int plat_http_match(const struct plat_http_route *table, const char *method, const char *path,
		    const struct plat_http_route **route, struct plat_http_request *req, char *allow, size_t allow_size);

/* OpenAPI 3.1 of the table: every route, its parameters, schemas and the problem-details
 * error responses. */
cJSON *plat_http_openapi(const struct plat_http_route *table, const char *version);

/* RFC 9457 problem details from an error: type, title, status, detail, instance,
 * request_id (and "param" when the error names one). status 0: the error kind's. */
cJSON *plat_http_problem(const struct plat_error *err, int status, const char *instance, const char *request_id);

/* ---- the server ---- */

struct plat_http_options {
	const char *listen;        /* "ADDR:PORT", "[v6]:PORT" */
	int threads;               /* 0: the number of cores */
	long long max_body;        /* bytes */
	unsigned max_connections;
	unsigned timeout;          /* seconds a connection may idle */
	size_t header_limit;       /* bytes of request headers per connection */
	const char *version;       /* for /openapi.json */
	const char *tls_cert;      /* PEM files: HTTPS when set (both or neither) */
	const char *tls_key;
};

/* Serve until SIGTERM or SIGINT, then stop accepting, let the requests in flight finish
 * and return 0. The caller blocks both signals in every thread first (before any thread
 * starts), so that only this function's sigwait sees them. PLAT_E_USAGE for a bad listen
 * address (param "listen"), PLAT_E_UNAVAILABLE when it cannot be bound. on_ready, when
 * set, is called with the bound address once the server accepts. */
int plat_http_serve(struct plat_services *services, const struct plat_http_options *o,
		    void (*on_ready)(void *arg, const char *addr), void *arg, struct plat_error *err);

/* The server's metrics registry (for /metrics). */
struct plat_metrics *plat_http_server_metrics(struct plat_http_server *s);
struct plat_services *plat_http_server_services(struct plat_http_server *s);
int plat_http_server_event_streams(struct plat_http_server *s);

/* Parse "ADDR:PORT" (IPv4 or [IPv6]); 0 or -PLAT_E_USAGE. */
struct sockaddr_storage;
int plat_http_parse_listen(const char *listen, struct sockaddr_storage *ss, unsigned *len, struct plat_error *err);

/* Every value of a repeated query parameter of a libmicrohttpd connection, in order. */
int plat_http_conn_query_all(void *conn, const char *name, const char **values, int max);

/* A PEM file (a TLS certificate or key, what names which in messages) into b,
 * NUL-terminated as libmicrohttpd takes it. secret: refused when others may read it,
 * since whoever can read the key can be this server. PLAT_E_CONFIG naming the file. */
struct plat_buf;
int plat_http_load_pem(const char *path, const char *what, bool secret, struct plat_buf *b, struct plat_error *err);

#endif
