/* HTTP for the remote providers: JSON POSTs over libcurl with per-attempt timeouts,
 * retries with exponential backoff and jitter on 429, 5xx and 529 (Anthropic's
 * "overloaded") that honour retry-after, and an incremental server-sent-events parser. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "ai/ai_internal.h"
#include "clock/clock.h"
#include "log/log.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct attempt {
	struct ai_http *h;
	struct plat_buf sse;    /* bytes not yet forming a whole event */
	long long delivered;    /* events handed to the caller */
	bool stopped;           /* the caller asked to stop */
	long long retry_after_ms;
	CURL *easy;
};

/* Split the buffered stream at blank lines and hand over each complete event. */
static int sse_drain(struct attempt *a)
{
	for (;;) {
		char *data = a->sse.data;
		if (!data)
			return 0;
		char *end = strstr(data, "\n\n");
		char *end_cr = strstr(data, "\r\n\r\n");
		size_t sep = 2;
		if (end_cr && (!end || end_cr < end)) {
			end = end_cr;
			sep = 4;
		}
		if (!end)
			return 0;
		*end = '\0';
		struct plat_buf event = PLAT_BUF_INIT, payload = PLAT_BUF_INIT;
		for (char *line = data; line && *line;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			size_t ll = strlen(line);
			if (ll && line[ll - 1] == '\r')
				line[--ll] = '\0';
			const char *v = strchr(line, ':');
			const char *val = v ? v + 1 + (v[1] == ' ') : "";
			if (!strncmp(line, "event:", 6))
				plat_buf_puts(&event, val);
			else if (!strncmp(line, "data:", 5)) {
				if (payload.len)
					plat_buf_putc(&payload, '\n');
				plat_buf_puts(&payload, val);
			}
			line = nl ? nl + 1 : NULL;
		}
		int rc = 0;
		if (payload.len) {
			rc = a->h->on_event(a->h->arg, event.len ? event.data : "message", payload.data);
			a->delivered++;
		}
		plat_buf_free(&event);
		plat_buf_free(&payload);
		size_t consumed = (size_t)(end - data) + sep;
		memmove(a->sse.data, a->sse.data + consumed, a->sse.len - consumed + 1);
		a->sse.len -= consumed;
		if (rc != 0) {
			a->stopped = true;
			return -1;
		}
	}
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct attempt *a = arg;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &status);
	if (a->h->on_event && status >= 200 && status < 300) {
		plat_buf_append(&a->sse, p, n);
		return sse_drain(a) < 0 ? 0 : n;
	}
	if (a->h->resp.len + n > (64u << 20))
		return 0;
	plat_buf_append(&a->h->resp, p, n);
	return n;
}

/* retry-after: delta seconds, or an HTTP date. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct attempt *a = arg;
	size_t n = size * nmemb;
	if (n > 12 && !strncasecmp(line, "retry-after:", 12)) {
		char v[128];
		snprintf(v, sizeof(v), "%.*s", (int)(n - 12), line + 12);
		char *end;
		long secs = strtol(v, &end, 10);
		if (end != v && secs >= 0) {
			a->retry_after_ms = secs * 1000;
		} else {
			time_t t = curl_getdate(v, NULL);
			if (t > 0)
				a->retry_after_ms = ((long long)t - (long long)time(NULL)) * 1000;
		}
	}
	return n;
}

static bool retryable_status(long s)
{
	return s == 429 || s == 529 || (s >= 500 && s <= 599);
}

static bool retryable_curl(CURLcode c)
{
	return c == CURLE_OPERATION_TIMEDOUT || c == CURLE_COULDNT_CONNECT || c == CURLE_RECV_ERROR ||
	       c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE ||
	       c == CURLE_HTTP2 || c == CURLE_HTTP2_STREAM || c == CURLE_SSL_CONNECT_ERROR;
}

/* The provider's own words for an error reply, from either API's error shape. */
static char *error_text(const char *body)
{
	cJSON *j = cJSON_Parse(body ? body : "");
	cJSON *e = cJSON_GetObjectItem(j, "error");
	const cJSON *type = cJSON_GetObjectItem(e, "type"), *msg = cJSON_GetObjectItem(e, "message");
	struct plat_buf b = PLAT_BUF_INIT;
	if (cJSON_IsString(msg))
		plat_buf_printf(&b, "%s%s%s", cJSON_IsString(type) ? type->valuestring : "",
				cJSON_IsString(type) ? ": " : "", msg->valuestring);
	cJSON_Delete(j);
	struct plat_buf red = PLAT_BUF_INIT;
	plat_redact(&red, b.len ? b.data : "");
	plat_buf_free(&b);
	plat_buf_reserve(&red, 0);
	return plat_buf_detach(&red);
}

int ai_http_post(struct ai_http *h, struct plat_error *err)
{
	pthread_once(&curl_once, curl_init);
	long long t0 = plat_clock_ms();
	h->attempts = 0;
	for (int attempt = 0;; attempt++) {
		struct attempt a = {.h = h};
		plat_buf_reset(&h->resp);
		h->attempts++;
		CURL *e = curl_easy_init();
		a.easy = e;
		char curl_err[CURL_ERROR_SIZE] = "";
		curl_easy_setopt(e, CURLOPT_URL, h->url);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, h->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(h->body));
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(h->timeout_ms < 10000 ? h->timeout_ms : 10000));
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &a);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, &a);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, curl_err);
		CURLcode cc = curl_easy_perform(e);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &h->status);
		curl_easy_cleanup(e);
		plat_buf_free(&a.sse);
		h->latency_ms = plat_clock_ms() - t0;

		if (a.stopped)
			return 0; /* the caller had what it wanted */
		bool can_retry = attempt < h->max_retries && a.delivered == 0;
		if (cc == CURLE_OK && h->status >= 200 && h->status < 300)
			return 0;
		if (cc != CURLE_OK) {
			if (retryable_curl(cc) && can_retry)
				goto retry;
			if (a.delivered > 0)
				return plat_error_set(err, PLAT_E_UNAVAILABLE, "%s: the stream broke off after %lld events: %s",
						      h->provider, a.delivered, curl_err[0] ? curl_err : curl_easy_strerror(cc));
			return plat_error_set(err, retryable_curl(cc) ? PLAT_E_UNAVAILABLE : PLAT_E_FAILURE,
					      "%s: no usable reply after %d attempt%s: %s", h->provider, h->attempts,
					      h->attempts == 1 ? "" : "s", curl_err[0] ? curl_err : curl_easy_strerror(cc));
		}
		if (retryable_status(h->status) && can_retry)
			goto retry;
		char *why = error_text(h->resp.data);
		int rc;
		enum plat_error_kind kind = h->status == 401 ? PLAT_E_AUTH
					  : h->status == 403 ? PLAT_E_PERMISSION
					  : h->status == 404 ? PLAT_E_NOT_FOUND
					  : retryable_status(h->status) ? PLAT_E_UNAVAILABLE
									: PLAT_E_INVALID;
		if (retryable_status(h->status))
			rc = plat_error_set(err, kind, "%s: HTTP %ld after %d attempts%s%s", h->provider, h->status,
					    h->attempts, *why ? ": " : "", why);
		else
			rc = plat_error_set(err, kind, "%s: HTTP %ld%s%s", h->provider, h->status, *why ? ": " : "", why);
		free(why);
		return rc;
retry:;
		long long d = 500LL << (attempt < 6 ? attempt : 6);
		unsigned short r = 0;
		RAND_bytes((unsigned char *)&r, sizeof(r));
		d = d / 2 + (d / 2) * r / 65535;
		if (a.retry_after_ms > d)
			d = a.retry_after_ms < 60000 ? a.retry_after_ms : 60000;
		char st[24], wait[24];
		snprintf(st, sizeof(st), "%ld", h->status);
		snprintf(wait, sizeof(wait), "%lld", d);
		plat_log(PLAT_LOG_INFO, "AI request failed, retrying", "provider", h->provider, "status", st, "wait_ms", wait,
			 (const char *)NULL);
		plat_sleep_ms(d);
	}
}

void ai_http_free(struct ai_http *h)
{
	plat_buf_free(&h->resp);
}
