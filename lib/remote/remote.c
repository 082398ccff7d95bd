#include "remote/remote.h"

#include <pthread.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "io/io.h"
#include "mem/mem.h"

#define MAX_REPLY (64 << 20) /* a page of documents is far smaller; more is a broken server */

struct plat_remote {
	pthread_mutex_t lock; /* a curl handle serves one request at a time */
	CURL *easy; /* one handle: libcurl keeps its connection for the next request */
	char *base;
	char *auth_header;
	char *request_id_header;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

char *plat_remote_base(const char *url)
{
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_append(&b, url, n);
	plat_buf_reserve(&b, 0);
	return plat_buf_detach(&b);
}

int plat_remote_open(const char *base_url, const char *token, const char *request_id, struct plat_remote **out,
		     struct plat_error *err)
{
	*out = NULL;
	if (!base_url || (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0))
		return plat_error_set(err, PLAT_E_CONFIG, "the server URL must start with http:// or https://");
	pthread_once(&curl_once, curl_init);
	struct plat_remote *r = plat_xcalloc(1, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->easy = curl_easy_init();
	if (!r->easy) {
		free(r);
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot start libcurl");
	}
	r->base = plat_remote_base(base_url);
	struct plat_buf b = PLAT_BUF_INIT;
	if (token && *token) {
		plat_buf_printf(&b, "Authorization: Bearer %s", token);
		r->auth_header = plat_buf_detach(&b);
	}
	if (request_id && *request_id) {
		plat_buf_printf(&b, "X-Request-ID: %s", request_id);
		r->request_id_header = plat_buf_detach(&b);
	}
	*out = r;
	return 0;
}

void plat_remote_close(struct plat_remote *r)
{
	if (!r)
		return;
	curl_easy_cleanup(r->easy);
	pthread_mutex_destroy(&r->lock);
	if (r->auth_header) /* it held the token */
		plat_wipe(r->auth_header, strlen(r->auth_header));
	free(r->auth_header);
	free(r->request_id_header);
	free(r->base);
	free(r);
}

const char *plat_remote_url(const struct plat_remote *r)
{
	return r->base;
}

struct reply {
	struct plat_remote *r;
	const struct plat_remote_request *q;
	struct plat_buf body; /* the reply, or a failed one's problem when a sink takes the rest */
	bool too_large;
	int decided; /* 0: not yet; 1: to the sink; -1: buffered */
	bool sink_stopped;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct reply *rp = arg;
	size_t n = size * nmemb;
	if (rp->q->sink && rp->decided == 0) {
		long code = 0;
		curl_easy_getinfo(rp->r->easy, CURLINFO_RESPONSE_CODE, &code);
		rp->decided = code >= 200 && code <= 299 ? 1 : -1;
	}
	if (rp->decided == 1) {
		if (rp->q->sink(rp->q->sink_arg, p, n) != 0) {
			rp->sink_stopped = true;
			return 0;
		}
		return n;
	}
	if (rp->body.len + n > MAX_REPLY) {
		rp->too_large = true;
		return 0;
	}
	plat_buf_append(&rp->body, p, n);
	return n;
}

struct upload {
	int fd;
	const struct plat_remote_request *q;
	long long sent;
	int read_errno;
};

static size_t on_read(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	long long n = plat_read_upto(u->fd, buf, size * nmemb);
	if (n < 0) {
		u->read_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	u->sent += n;
	if (u->q->on_sent)
		u->q->on_sent(u->q->sent_arg, u->sent);
	return (size_t)n;
}

static enum plat_error_kind kind_named(const char *type)
{
	static const char prefix[] = "urn:platctl:error:";
	if (!type || strncmp(type, prefix, sizeof(prefix) - 1) != 0)
		return PLAT_OK;
	for (int k = PLAT_OK + 1; k < PLAT_E__COUNT; k++)
		if (strcmp(type + sizeof(prefix) - 1, plat_error_kind_name((enum plat_error_kind)k)) == 0)
			return (enum plat_error_kind)k;
	return PLAT_OK;
}

static enum plat_error_kind kind_of_status(long status)
{
	switch (status) {
	case 400: return PLAT_E_USAGE;
	case 401: return PLAT_E_AUTH;
	case 403: return PLAT_E_PERMISSION;
	case 404: return PLAT_E_NOT_FOUND;
	case 409: return PLAT_E_CONFLICT;
	case 413:
	case 415:
	case 422: return PLAT_E_INVALID;
	case 429:
	case 502:
	case 503:
	case 504: return PLAT_E_UNAVAILABLE;
	default: return status >= 500 ? PLAT_E_FAILURE : PLAT_E_USAGE;
	}
}

int plat_remote_problem(const struct plat_remote *r, long status, const cJSON *p, struct plat_error *err)
{
	enum plat_error_kind kind = kind_named(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "type")));
	if (kind == PLAT_OK) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(p, "status");
		kind = kind_of_status(status ? status : cJSON_IsNumber(st) ? (long)st->valuedouble : 500);
	}
	const char *detail = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "detail"));
	const char *param = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "param"));
	int rc;
	if (detail && *detail)
		rc = plat_error_set(err, kind, "%s", detail);
	else
		rc = plat_error_set(err, kind, "the server at %s answered HTTP %ld", r->base, status);
	if (param && err)
		snprintf(err->param, sizeof(err->param), "%s", param);
	return rc;
}

/* The problem details of a failed reply as the error. */
static int problem(const struct plat_remote *r, long status, const struct plat_buf *body, struct plat_error *err)
{
	cJSON *p = body->len ? cJSON_ParseWithLength(body->data, body->len) : NULL;
	int rc = plat_remote_problem(r, status, p, err);
	cJSON_Delete(p);
	return rc;
}

int plat_remote_json(struct plat_remote *r, const char *method, const char *path, const cJSON *body, cJSON **out,
		     long *status, struct plat_error *err)
{
	struct plat_remote_request q = {.method = method, .path = path, .json = body, .body_fd = -1, .timeout_s = 300};
	return plat_remote_send(r, &q, out, status, err);
}

int plat_remote_send(struct plat_remote *r, const struct plat_remote_request *q, cJSON **out, long *status,
		     struct plat_error *err)
{
	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	const char *method = q->method;
	struct plat_buf url = PLAT_BUF_INIT;
	plat_buf_printf(&url, "%s%s", r->base, q->path);
	char *payload = q->json ? cJSON_PrintUnformatted(q->json) : NULL;
	struct plat_buf accept = PLAT_BUF_INIT, ctype = PLAT_BUF_INIT;
	plat_buf_printf(&accept, "Accept: %s", q->accept ? q->accept : "application/json");
	struct curl_slist *h = curl_slist_append(NULL, accept.data);
	if (payload)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (q->body_fd >= 0) {
		plat_buf_printf(&ctype, "Content-Type: %s", q->content_type ? q->content_type : "application/octet-stream");
		h = curl_slist_append(h, ctype.data);
		h = curl_slist_append(h, "Expect:"); /* a refusal comes back as an answer, not a 100 wait */
	}
	if (r->auth_header)
		h = curl_slist_append(h, r->auth_header);
	if (r->request_id_header)
		h = curl_slist_append(h, r->request_id_header);
	struct reply rp = {.r = r, .q = q, .body = PLAT_BUF_INIT};
	struct upload up = {.fd = q->body_fd, .q = q};
	pthread_mutex_lock(&r->lock);
	CURL *e = r->easy;
	curl_easy_reset(e); /* keeps the connection, forgets the last request's options */
	curl_easy_setopt(e, CURLOPT_URL, url.data);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &rp);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, q->timeout_s);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (payload) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	} else if (q->body_fd >= 0) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, &up);
		if (q->body_size >= 0)
			curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_size);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method); /* UPLOAD would make it a PUT */
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	CURLcode cc = curl_easy_perform(e);
	long code = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	pthread_mutex_unlock(&r->lock);
	curl_slist_free_all(h);
	cJSON_free(payload);
	plat_buf_free(&accept);
	plat_buf_free(&ctype);
	int rc = 0;
	if (status)
		*status = code;
	if (rp.sink_stopped) {
		if (q->sink_err && q->sink_err->kind != PLAT_OK)
			rc = plat_error_set(err, q->sink_err->kind, "%s", q->sink_err->message);
		else
			rc = plat_error_set(err, PLAT_E_FAILURE, "%s %s: the reply could not be taken", method, q->path);
	} else if (up.read_errno) {
		rc = plat_error_set(err, PLAT_E_FAILURE, "cannot read what is to be sent: %s", strerror(up.read_errno));
	} else if (rp.too_large) {
		rc = plat_error_set(err, PLAT_E_FAILURE, "the server at %s sent a reply larger than %d MiB", r->base,
				    MAX_REPLY >> 20);
	} else if (cc != CURLE_OK && !(code >= 400 && rp.body.len)) {
		/* Nothing, or not all, came back: whether the request took effect is unknown. (A
		 * server refusing a body mid-send answers first and closes: that answer counts.) */
		rc = plat_error_set(err, PLAT_E_UNAVAILABLE, "cannot reach the server at %s: %s", r->base,
				    curl_easy_strerror(cc));
	} else if (code < 200 || code > 299) {
		rc = problem(r, code, &rp.body, err);
	} else if (rp.body.len && out) {
		*out = cJSON_ParseWithLength(rp.body.data, rp.body.len);
		if (!*out)
			rc = plat_error_set(err, PLAT_E_FAILURE, "the server at %s sent a reply that is not JSON (%s %s)",
					    r->base, method, q->path);
	}
	plat_buf_free(&rp.body);
	plat_buf_free(&url);
	return rc;
}

static void percent_encode(struct plat_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			plat_buf_putc(b, (char)*p);
		} else {
			plat_buf_putc(b, '%');
			plat_buf_putc(b, hex[*p >> 4]);
			plat_buf_putc(b, hex[*p & 15]);
		}
	}
}

void plat_remote_query(struct plat_buf *path, const char *key, const char *value)
{
	if (!value)
		return;
	plat_buf_putc(path, path->len && memchr(path->data, '?', path->len) ? '&' : '?');
	percent_encode(path, key);
	plat_buf_putc(path, '=');
	percent_encode(path, value);
}

void plat_remote_segment(struct plat_buf *path, const char *segment)
{
	percent_encode(path, segment);
}

/* ---- Server-Sent Events ---- */

struct sse {
	plat_remote_event_fn fn;
	void *arg;
	struct plat_buf line, event, data;
	bool too_large;
};

/* One line of the stream (without its end): fields accumulate, a blank line dispatches. */
static int sse_line(struct sse *s)
{
	const char *l = s->line.len ? s->line.data : "";
	int rc = 0;
	if (!*l) {
		if (s->data.len || s->event.len)
			rc = s->fn(s->arg, s->event.len ? s->event.data : "message", s->data.len ? s->data.data : "");
		plat_buf_reset(&s->event);
		plat_buf_reset(&s->data);
		return rc;
	}
	if (*l == ':')
		return 0; /* a comment: the server's keep-alive */
	const char *colon = strchr(l, ':');
	size_t name_len = colon ? (size_t)(colon - l) : strlen(l);
	const char *value = colon ? colon + 1 : "";
	if (*value == ' ')
		value++;
	if (name_len == 5 && !strncmp(l, "event", 5)) {
		plat_buf_reset(&s->event);
		plat_buf_puts(&s->event, value);
	} else if (name_len == 4 && !strncmp(l, "data", 4)) {
		if (s->data.len)
			plat_buf_putc(&s->data, '\n');
		plat_buf_puts(&s->data, value);
	}
	return 0;
}

static int sse_bytes(void *arg, const char *p, size_t n)
{
	struct sse *s = arg;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (s->line.len && s->line.data[s->line.len - 1] == '\r')
				s->line.data[--s->line.len] = '\0';
			int rc = sse_line(s);
			plat_buf_reset(&s->line);
			if (rc != 0)
				return rc;
		} else {
			if (s->line.len + s->data.len > MAX_REPLY) {
				s->too_large = true;
				return -1;
			}
			plat_buf_putc(&s->line, p[i]);
		}
	}
	return 0;
}

int plat_remote_events(struct plat_remote *r, const struct plat_remote_request *q, plat_remote_event_fn fn,
		       void *arg, struct plat_error *err)
{
	struct sse s = {.fn = fn, .arg = arg, .line = PLAT_BUF_INIT, .event = PLAT_BUF_INIT, .data = PLAT_BUF_INIT};
	struct plat_remote_request sq = *q;
	sq.accept = "text/event-stream";
	sq.sink = sse_bytes;
	sq.sink_arg = &s;
	/* An event the stream ended inside of (no blank line after it) is not dispatched, as
	 * the SSE processing model says: it may be cut short. */
	int rc = plat_remote_send(r, &sq, NULL, NULL, err);
	if (s.too_large)
		rc = plat_error_set(err, PLAT_E_FAILURE, "the server at %s sent an event larger than %d MiB", r->base,
				    MAX_REPLY >> 20);
	plat_buf_free(&s.line);
	plat_buf_free(&s.event);
	plat_buf_free(&s.data);
	return rc;
}
