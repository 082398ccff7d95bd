/* The client of remote mode: a platctl server's REST API over libcurl, one connection
 * reused for every request of a command. What the server answers comes back as the
 * direct implementation would return it: JSON in the -o json schema, or a plat_error
 * whose kind is the one the server's problem details name (urn:platctl:error:KIND), so
 * exit codes are the same in both modes. */
#ifndef PLAT_REMOTE_H
#define PLAT_REMOTE_H

#include <cjson/cJSON.h>

#include "error/error.h"

struct plat_remote;

/* The form of a server URL that credentials are filed under: without trailing slashes.
 * The caller frees it. */
char *plat_remote_base(const char *url);

/* base_url: http(s)://host[:port][/prefix]; token: the bearer token (NULL: none, for
 * public routes). request_id is sent as X-Request-ID (NULL: none). */
int plat_remote_open(const char *base_url, const char *token, const char *request_id, struct plat_remote **out,
		     struct plat_error *err);
void plat_remote_close(struct plat_remote *r);
const char *plat_remote_url(const struct plat_remote *r);

/* METHOD path (from the base URL, "/v1/me"), with body as JSON when not NULL. 0 and *out
 * the response (NULL for an empty one) for a 2xx. Otherwise the server's problem as the
 * error (its detail the message, its kind the kind; a reply that is not a problem maps
 * by status); a server that cannot be reached is PLAT_E_UNAVAILABLE naming the URL;
 * 401 is PLAT_E_AUTH. *status (may be NULL) gets the HTTP status, 0 when none came. */
int plat_remote_json(struct plat_remote *r, const char *method, const char *path, const cJSON *body, cJSON **out,
		     long *status, struct plat_error *err);

/* Bytes of a 2xx reply as they arrive; non-zero stops the transfer (the call fails with
 * the error the sink set, or PLAT_E_FAILURE). */
typedef int (*plat_remote_sink)(void *arg, const char *data, size_t len);

/* One request with everything plat_remote_json leaves out. */
struct plat_remote_request {
	const char *method;
	const char *path;          /* from the base URL, with its query (plat_remote_query) */
	const cJSON *json;         /* the body as JSON; or: */
	int body_fd;               /* the body read from this descriptor (-1: none) */
	long long body_size;       /* its length; -1: unknown, sent chunked */
	const char *content_type;  /* of body_fd's bytes */
	const char *accept;        /* NULL: application/json */
	plat_remote_sink sink;     /* set: a 2xx body goes here instead of *out */
	void *sink_arg;
	struct plat_error *sink_err; /* where the sink leaves its error (may be NULL) */
	void (*on_sent)(void *arg, long long bytes); /* body bytes sent so far */
	void *sent_arg;
	long timeout_s;            /* the whole request; 0: none (streams, large bodies) */
};

int plat_remote_send(struct plat_remote *r, const struct plat_remote_request *q, cJSON **out, long *status,
		     struct plat_error *err);

/* A problem-details object (RFC 9457; as the server's error events carry it too) as the
 * error: its kind from its type, else from status (0: the object's own status). */
int plat_remote_problem(const struct plat_remote *r, long status, const cJSON *problem, struct plat_error *err);

/* An event stream (text/event-stream): fn gets each event's name ("message" when none) and
 * its data lines joined by newlines; non-zero from fn stops the stream, and the call fails
 * with q->sink_err's error (fn leaves its reason there) or PLAT_E_FAILURE. q's sink and
 * accept are the stream's own. An event the stream ends inside of is not dispatched. */
typedef int (*plat_remote_event_fn)(void *arg, const char *event, const char *data);
int plat_remote_events(struct plat_remote *r, const struct plat_remote_request *q, plat_remote_event_fn fn,
		       void *arg, struct plat_error *err);

struct plat_buf;
/* Append "?key=value" or "&key=value", percent-encoded, to a path. NULL value: nothing. */
void plat_remote_query(struct plat_buf *path, const char *key, const char *value);
/* The path segment percent-encoded (a document id or name), appended. */
void plat_remote_segment(struct plat_buf *path, const char *segment);

#endif
