/* The s3:// driver: S3 and compatible services over libcurl.
 *
 * Requests are signed by libcurl (CURLOPT_AWS_SIGV4). libcurl 7.88 signs the query string
 * as it finds it in the URL, so every URL here carries a canonical query (sorted, encoded
 * by lib/sigv4) and an encoded path. Payloads are hashed before they are sent when that
 * is cheap (parts read twice from a file, buffered parts, small bodies) and sent as
 * UNSIGNED-PAYLOAD otherwise.
 *
 * Failed requests are retried with exponential backoff and jitter on 5xx, 429, timeouts
 * and reset connections; a download that already delivered bytes resumes with a Range.
 * Uploads above part_size use multipart upload with `parallel` parts in flight (curl
 * multi); a failed upload is aborted so no incomplete upload is left behind. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "clock/clock.h"
#include "config/config.h"
#include "log/log.h"
#include "mem/mem.h"
#include "sigv4/sigv4.h"
#include "store/s3_internal.h"
#include "str/str.h"

#define RESP_MAX (16 * 1024 * 1024)
#define HASH_CHUNK (1024 * 1024)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Exponential backoff with "equal jitter": half fixed, half random. */
static long long backoff_ms(int attempt)
{
	long long d = 200LL << (attempt < 6 ? attempt : 6);
	if (d > 10000)
		d = 10000;
	unsigned short r = 0;
	RAND_bytes((unsigned char *)&r, sizeof(r));
	return d / 2 + (d / 2) * r / 65535;
}

static char *full_key(struct s3_store *s3, const char *key)
{
	struct plat_buf b = PLAT_BUF_INIT;
	if (*s3->prefix)
		plat_buf_printf(&b, "%s/", s3->prefix);
	plat_buf_puts(&b, key ? key : "");
	plat_buf_reserve(&b, 0);
	return plat_buf_detach(&b);
}

/* Path part of the URL, encoded: "/bucket/key" (path style) or "/key". */
static void canonical_uri(struct s3_store *s3, const char *key, struct plat_buf *out)
{
	if (s3->path_style)
		plat_buf_printf(out, "/%s", s3->bucket);
	if (key) {
		char *fk = full_key(s3, key);
		plat_buf_putc(out, '/');
		plat_sigv4_uri_encode(out, fk, strlen(fk), 1);
		free(fk);
	} else if (!s3->path_style) {
		plat_buf_putc(out, '/');
	}
}

static void base_url(struct s3_store *s3, struct plat_buf *out)
{
	if (s3->path_style)
		plat_buf_printf(out, "%s://%s", s3->scheme, s3->host);
	else
		plat_buf_printf(out, "%s://%s.%s", s3->scheme, s3->bucket, s3->host);
}

char *s3_make_url(struct s3_store *s3, const char *key, const struct plat_sigv4_param *q, size_t nq)
{
	struct plat_buf u = PLAT_BUF_INIT;
	base_url(s3, &u);
	canonical_uri(s3, key, &u);
	if (nq) {
		plat_buf_putc(&u, '?');
		plat_sigv4_canonical_query(&u, q, nq);
	}
	return plat_buf_detach(&u);
}

void s3_call_init(struct s3_call *c, const char *method, char *url, const char *op, const char *key)
{
	memset(c, 0, sizeof(*c));
	c->method = method;
	c->url = url;
	c->op = op;
	c->key = key;
	c->fd = -1;
	c->range_len = -1;
}

void s3_call_add_header(struct s3_call *c, const char *fmt, ...)
{
	struct plat_buf h = PLAT_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	plat_buf_vprintf(&h, fmt, ap);
	va_end(ap);
	c->headers = curl_slist_append(c->headers, h.data);
	plat_buf_free(&h);
}

void s3_call_free(struct s3_call *c)
{
	curl_slist_free_all(c->headers);
	curl_slist_free_all(c->attempt_headers);
	plat_buf_free(&c->resp);
	free(c->url);
	c->headers = c->attempt_headers = NULL;
	c->url = NULL;
}

/* ---- curl callbacks ---- */

static size_t on_read(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct s3_call *c = arg;
	size_t want = size * nmemb;
	long long left = c->body_len - c->body_pos;
	if ((long long)want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (c->mem) {
		memcpy(buf, c->mem + c->body_pos, want);
	} else {
		ssize_t n;
		do
			n = pread(c->fd, buf, want, c->body_off + c->body_pos);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)n;
	}
	c->body_pos += (long long)want;
	if (c->progress)
		c->progress(c->progress_arg, (long long)want);
	return want;
}

static int on_seek(void *arg, curl_off_t offset, int origin)
{
	struct s3_call *c = arg;
	if (origin != SEEK_SET || offset < 0 || offset > c->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	c->body_pos = offset;
	return CURL_SEEKFUNC_OK;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct s3_call *c = arg;
	size_t n = size * nmemb;
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response (after 100 Continue) */
		c->etag[0] = c->last_modified[0] = '\0';
		c->content_length = -1;
		return n;
	}
	const char *colon = memchr(line, ':', n);
	if (!colon)
		return n;
	size_t name_len = (size_t)(colon - line);
	const char *v = colon + 1;
	while (v < line + n && (*v == ' ' || *v == '\t'))
		v++;
	size_t vlen = (size_t)(line + n - v);
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (name_len == 4 && strncasecmp(line, "etag", 4) == 0)
		snprintf(c->etag, sizeof(c->etag), "%.*s", (int)vlen, v);
	else if (name_len == 13 && strncasecmp(line, "last-modified", 13) == 0)
		snprintf(c->last_modified, sizeof(c->last_modified), "%.*s", (int)vlen, v);
	else if (name_len == 14 && strncasecmp(line, "content-length", 14) == 0)
		c->content_length = atoll(v);
	return n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct s3_call *c = arg;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300 && c->sink) {
		if (c->sink(c->sink_arg, data, n) < 0) {
			c->sink_failed = true;
			return 0;
		}
		c->delivered += (long long)n;
		return n;
	}
	if (c->resp.len + n > RESP_MAX)
		return 0;
	plat_buf_append(&c->resp, data, n);
	return n;
}

CURL *s3_call_easy(struct s3_store *s3, struct s3_call *c)
{
	CURL *e = curl_easy_init();
	c->easy = e;
	c->body_pos = 0;
	c->curl_err[0] = '\0';
	c->content_length = -1;
	plat_buf_reset(&c->resp);
	curl_slist_free_all(c->attempt_headers);
	c->attempt_headers = NULL;
	for (struct curl_slist *h = c->headers; h; h = h->next)
		c->attempt_headers = curl_slist_append(c->attempt_headers, h->data);
	if (c->ranged) {
		char range[96];
		if (c->range_len < 0)
			snprintf(range, sizeof(range), "Range: bytes=%lld-", c->range_off);
		else
			snprintf(range, sizeof(range), "Range: bytes=%lld-%lld", c->range_off, c->range_off + c->range_len - 1);
		c->attempt_headers = curl_slist_append(c->attempt_headers, range);
	}
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_AWS_SIGV4, s3->sigv4);
	curl_easy_setopt(e, CURLOPT_USERNAME, s3->creds.access_key);
	curl_easy_setopt(e, CURLOPT_PASSWORD, s3->creds.secret_key);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->attempt_headers);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, s3->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s3->tls_verify ? 2L : 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)s3->timeout_ms);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)(s3->timeout_ms + 999) / 1000);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(e, CURLOPT_PRIVATE, c);
	if (!strcmp(c->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(c->method, "PUT")) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->body_len);
	} else if (!strcmp(c->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
	} else if (strcmp(c->method, "GET") != 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	}
	if (c->has_body) {
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, c);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, c);
	}
	return e;
}

/* ---- outcomes and errors ---- */


static const char *shown_key(struct s3_call *c, struct plat_buf *b)
{
	plat_str_escape_terminal(b, c->key ? c->key : "", c->key ? strlen(c->key) : 0);
	return b->data ? b->data : "";
}

static int http_error(struct s3_store *s3, struct s3_call *c, long status, struct plat_error *err)
{
	char *code = s3_xml_text(c->resp.data, c->resp.len, "Code");
	char *msg = s3_xml_text(c->resp.data, c->resp.len, "Message");
	struct plat_buf k = PLAT_BUF_INIT, m = PLAT_BUF_INIT;
	plat_redact(&m, msg ? msg : "");
	const char *cd = code ? code : "";
	int rc;
	if (!strcmp(cd, "NoSuchBucket"))
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "bucket '%s' does not exist (NoSuchBucket)", s3->bucket);
	else if (!strcmp(cd, "NoSuchKey") || (status == 404 && !*cd))
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "object '%s' not found", shown_key(c, &k));
	else if (!strcmp(cd, "NoSuchUpload"))
		rc = plat_error_set(err, PLAT_E_CONFLICT, "the multipart upload of '%s' no longer exists (NoSuchUpload)",
				    shown_key(c, &k));
	else if (!strcmp(cd, "SignatureDoesNotMatch"))
		rc = plat_error_set(err, PLAT_E_AUTH,
				    "S3 rejected the request signature (SignatureDoesNotMatch): check the secret access key");
	else if (!strcmp(cd, "InvalidAccessKeyId"))
		rc = plat_error_set(err, PLAT_E_AUTH, "S3 does not know the access key '%.8s…' (InvalidAccessKeyId)",
				    s3->creds.access_key);
	else if (!strcmp(cd, "RequestTimeTooSkewed"))
		rc = plat_error_set(err, PLAT_E_AUTH, "S3 refused the request time (RequestTimeTooSkewed): check the clock");
	else if (!strcmp(cd, "AccessDenied") || status == 403)
		rc = plat_error_set(err, PLAT_E_PERMISSION, "access denied to %s of '%s' in bucket '%s' (%s%s%s)", c->op,
				    shown_key(c, &k), s3->bucket, *cd ? cd : "HTTP 403", m.len ? ": " : "", m.len ? m.data : "");
	else if (status == 412)
		rc = plat_error_set(err, PLAT_E_CONFLICT, "%s of '%s': precondition failed", c->op, shown_key(c, &k));
	else if (status == 416 || !strcmp(cd, "InvalidRange"))
		rc = plat_error_set(err, PLAT_E_INVALID, "%s of '%s': the byte range is outside the object", c->op,
				    shown_key(c, &k));
	else if (status >= 500 || status == 429)
		rc = plat_error_set(err, PLAT_E_UNAVAILABLE, "%s of '%s' failed after %d attempts: S3 answered HTTP %ld%s%s",
				    c->op, shown_key(c, &k), c->attempt + 1, status, *cd ? " " : "", cd);
	else
		rc = plat_error_set(err, PLAT_E_FAILURE, "%s of '%s' failed: HTTP %ld %s%s%s", c->op, shown_key(c, &k),
				    status, cd, m.len ? ": " : "", m.len ? m.data : "");
	free(code);
	free(msg);
	plat_buf_free(&k);
	plat_buf_free(&m);
	return rc;
}

static bool retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

/* Decide what a finished attempt means; on OUT_FAILED err is set. */
enum s3_outcome s3_call_outcome(struct s3_store *s3, struct s3_call *c, CURLcode cc, int *rc, struct plat_error *err)
{
	long status = 0;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	bool can_retry = c->attempt < s3->max_retries;
	if (c->sink_failed) {
		*rc = plat_error_set(err, PLAT_E_FAILURE, "writing the downloaded data failed");
		return OUT_FAILED;
	}
	if (cc != CURLE_OK) {
		if (retryable_curl(cc) && can_retry)
			goto retry;
		struct plat_buf k = PLAT_BUF_INIT;
		*rc = plat_error_set(err, retryable_curl(cc) ? PLAT_E_UNAVAILABLE : PLAT_E_FAILURE,
				     "%s of '%s': cannot reach S3 at %s after %d attempt%s: %s", c->op, shown_key(c, &k),
				     s3->host, c->attempt + 1, c->attempt ? "s" : "",
				     c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc));
		plat_buf_free(&k);
		return OUT_FAILED;
	}
	if (status >= 200 && status < 300)
		return OUT_DONE;
	if (status == 404 && c->missing_ok) {
		char *code = s3_xml_text(c->resp.data, c->resp.len, "Code");
		bool no_bucket = code && !strcmp(code, "NoSuchBucket");
		free(code);
		if (!no_bucket)
			return OUT_DONE;
	}
	if ((status >= 500 || status == 429) && can_retry)
		goto retry;
	*rc = http_error(s3, c, status, err);
	return OUT_FAILED;
retry:
	/* A download resumes where it stopped instead of starting over. */
	if (c->sink && c->delivered > 0) {
		c->range_off += c->delivered;
		if (c->range_len >= 0)
			c->range_len -= c->delivered;
		c->ranged = true;
		c->delivered = 0;
	}
	char st[24], at[16];
	snprintf(st, sizeof(st), "%ld", status);
	snprintf(at, sizeof(at), "%d", c->attempt + 1);
	plat_log(PLAT_LOG_INFO, "S3 request failed, retrying", "op", c->op, "status", st, "attempt", at, "error",
		 cc != CURLE_OK ? (c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc)) : "", (const char *)NULL);
	c->not_before_ms = plat_clock_ms() + backoff_ms(c->attempt);
	c->attempt++;
	return OUT_RETRY;
}

int s3_call_run(struct s3_store *s3, struct s3_call *c, struct plat_error *err)
{
	for (;;) {
		CURL *e = s3_call_easy(s3, c);
		CURLcode cc = curl_easy_perform(e);
		int rc = 0;
		enum s3_outcome o = s3_call_outcome(s3, c, cc, &rc, err);
		curl_easy_cleanup(e);
		c->easy = NULL;
		if (o == OUT_DONE)
			return 0;
		if (o == OUT_FAILED)
			return rc;
		long long wait = c->not_before_ms - plat_clock_ms();
		if (wait > 0)
			plat_sleep_ms(wait);
	}
}


/* ---- the simple operations ---- */

static int s3_get(struct plat_store *s, const char *key, long long offset, long long length, plat_store_writer write,
		  void *arg, struct plat_error *err)
{
	struct s3_store *s3 = (struct s3_store *)s;
	if (length == 0)
		return 0;
	struct s3_call c;
	s3_call_init(&c, "GET", s3_make_url(s3, key, NULL, 0), "download", key);
	s3_call_add_header(&c, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	if (s3->creds.session_token)
		s3_call_add_header(&c, "x-amz-security-token: %s", s3->creds.session_token);
	c.sink = write;
	c.sink_arg = arg;
	c.range_off = offset;
	c.range_len = length;
	c.ranged = offset > 0 || length > 0;
	int rc = s3_call_run(s3, &c, err);
	s3_call_free(&c);
	return rc;
}

static char *rfc3339_from_http(const char *http_date)
{
	time_t t = *http_date ? curl_getdate(http_date, NULL) : -1;
	if (t < 0)
		return NULL;
	struct tm tm;
	gmtime_r(&t, &tm);
	char *out = plat_xmalloc(24);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

static int s3_head(struct plat_store *s, const char *key, struct plat_store_object *obj, struct plat_error *err)
{
	struct s3_store *s3 = (struct s3_store *)s;
	struct s3_call c;
	s3_call_init(&c, "HEAD", s3_make_url(s3, key, NULL, 0), "lookup", key);
	s3_call_add_header(&c, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	if (s3->creds.session_token)
		s3_call_add_header(&c, "x-amz-security-token: %s", s3->creds.session_token);
	int rc = s3_call_run(s3, &c, err);
	if (rc == 0) {
		obj->key = plat_xstrdup(key);
		obj->size = c.content_length;
		obj->etag = c.etag[0] ? plat_xstrdup(c.etag) : NULL;
		obj->last_modified = rfc3339_from_http(c.last_modified);
	}
	s3_call_free(&c);
	return rc;
}

static int s3_delete(struct plat_store *s, const char *key, struct plat_error *err)
{
	struct s3_store *s3 = (struct s3_store *)s;
	struct s3_call c;
	s3_call_init(&c, "DELETE", s3_make_url(s3, key, NULL, 0), "delete", key);
	s3_call_add_header(&c, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	if (s3->creds.session_token)
		s3_call_add_header(&c, "x-amz-security-token: %s", s3->creds.session_token);
	c.missing_ok = true; /* deleting a missing object succeeds, as in S3 itself */
	int rc = s3_call_run(s3, &c, err);
	s3_call_free(&c);
	return rc;
}

struct list_acc {
	struct s3_store *s3;
	struct plat_store_list *out;
	size_t cap;
};

static void list_item(void *arg, const char *key, long long size, const char *etag, const char *last_modified)
{
	struct list_acc *a = arg;
	size_t plen = *a->s3->prefix ? strlen(a->s3->prefix) + 1 : 0;
	if (strlen(key) < plen)
		return;
	if (a->out->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->out->objects = plat_xrealloc(a->out->objects, a->cap * sizeof(*a->out->objects));
	}
	struct plat_store_object *o = &a->out->objects[a->out->n++];
	o->key = plat_xstrdup(key + plen);
	o->size = size;
	o->etag = etag ? plat_xstrdup(etag) : NULL;
	o->last_modified = last_modified ? plat_xstrdup(last_modified) : NULL;
}

static int s3_list(struct plat_store *s, const char *prefix, const char *cursor, int limit, struct plat_store_list *out,
		   struct plat_error *err)
{
	struct s3_store *s3 = (struct s3_store *)s;
	struct plat_buf fp = PLAT_BUF_INIT;
	if (*s3->prefix)
		plat_buf_printf(&fp, "%s/", s3->prefix);
	plat_buf_puts(&fp, prefix);
	char max[16];
	snprintf(max, sizeof(max), "%d", limit);
	struct plat_sigv4_param q[4] = {{"list-type", "2"}, {"max-keys", max}, {"prefix", fp.data}};
	size_t nq = 3;
	if (cursor && *cursor)
		q[nq++] = (struct plat_sigv4_param){"continuation-token", cursor};
	struct s3_call c;
	s3_call_init(&c, "GET", s3_make_url(s3, NULL, q, nq), "listing", prefix);
	s3_call_add_header(&c, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	if (s3->creds.session_token)
		s3_call_add_header(&c, "x-amz-security-token: %s", s3->creds.session_token);
	int rc = s3_call_run(s3, &c, err);
	if (rc == 0) {
		struct list_acc acc = {s3, out, 0};
		bool truncated = false;
		char *token = NULL;
		if (s3_xml_list(c.resp.data, c.resp.len, list_item, &acc, &token, &truncated) < 0) {
			rc = plat_error_set(err, PLAT_E_FAILURE, "listing bucket '%s': the reply is not a ListBucketResult",
					    s3->bucket);
			free(token);
		} else if (truncated && token) {
			out->next_cursor = token;
		} else {
			free(token);
		}
	}
	s3_call_free(&c);
	plat_buf_free(&fp);
	return rc;
}

static int s3_presign(struct plat_store *s, const char *key, int expires, char **url, struct plat_error *err)
{
	(void)err;
	struct s3_store *s3 = (struct s3_store *)s;
	struct plat_buf base = PLAT_BUF_INIT, uri = PLAT_BUF_INIT, host = PLAT_BUF_INIT;
	base_url(s3, &base);
	canonical_uri(s3, key, &uri);
	if (s3->path_style)
		plat_buf_puts(&host, s3->host);
	else
		plat_buf_printf(&host, "%s.%s", s3->bucket, s3->host);
	*url = plat_sigv4_presign("GET", base.data, host.data, uri.data, s3->region, "s3", s3->creds.access_key,
				  s3->creds.secret_key, s3->creds.session_token, time(NULL), expires);
	plat_buf_free(&base);
	plat_buf_free(&uri);
	plat_buf_free(&host);
	return 0;
}

static void s3_close(struct plat_store *s)
{
	struct s3_store *s3 = (struct s3_store *)s;
	free(s3->bucket);
	free(s3->prefix);
	free(s3->scheme);
	free(s3->host);
	free(s3->region);
	free(s3->sigv4);
	s3_free_creds(&s3->creds);
	free(s3);
}

static const struct plat_store_ops s3_ops = {
	.name = "s3",
	.put = s3_put,
	.get = s3_get,
	.head = s3_head,
	.del = s3_delete,
	.list = s3_list,
	.presign = s3_presign,
	.close = s3_close,
};

int plat_store_s3_open(const char *bucket, const char *prefix, const struct plat_store_options *o,
		       struct plat_store **out, struct plat_error *err)
{
	pthread_once(&curl_once, curl_init);
	char **env = o->environ;
	const char *region = o->region && *o->region ? o->region : NULL;
	if (!region)
		region = plat_env_get(env, "AWS_REGION");
	if (!region || !*region)
		region = plat_env_get(env, "AWS_DEFAULT_REGION");
	if (!region || !*region)
		region = "us-east-1";

	struct plat_buf ep = PLAT_BUF_INIT;
	if (o->endpoint && *o->endpoint)
		plat_buf_puts(&ep, o->endpoint);
	else
		plat_buf_printf(&ep, "https://s3.%s.amazonaws.com", region);
	const char *sep = strstr(ep.data, "://");
	const char *hostpart = sep ? sep + 3 : NULL;
	size_t hostlen = hostpart ? strcspn(hostpart, "/?#") : 0;
	if (!sep || hostlen == 0 || (hostpart[hostlen] && strcmp(hostpart + hostlen, "/") != 0) ||
	    (strncmp(ep.data, "http://", 7) != 0 && strncmp(ep.data, "https://", 8) != 0)) {
		int rc = plat_error_set(err, PLAT_E_CONFIG, "storage.s3.endpoint '%s': expected http(s)://host[:port]",
					ep.data);
		plat_buf_free(&ep);
		return rc;
	}

	struct s3_store *s3 = plat_xcalloc(1, sizeof(*s3));
	int rc = s3_find_creds(o, &s3->creds, err);
	if (rc < 0) {
		free(s3);
		plat_buf_free(&ep);
		return rc;
	}
	s3->base.ops = &s3_ops;
	s3->bucket = plat_xstrdup(bucket);
	s3->prefix = plat_xstrdup(prefix);
	s3->scheme = strndup(ep.data, (size_t)(sep - ep.data));
	s3->host = strndup(hostpart, hostlen);
	s3->region = plat_xstrdup(region);
	s3->path_style = o->path_style;
	s3->tls_verify = o->tls_verify;
	s3->part_size = o->part_size > 0 ? o->part_size : 16LL << 20;
	s3->parallel = o->parallel > 0 ? o->parallel : 4;
	s3->max_retries = o->max_retries >= 0 ? o->max_retries : 5;
	s3->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	struct plat_buf sig = PLAT_BUF_INIT;
	plat_buf_printf(&sig, "aws:amz:%s:s3", region);
	s3->sigv4 = plat_buf_detach(&sig);
	plat_buf_free(&ep);
	*out = &s3->base;
	return 0;
}
