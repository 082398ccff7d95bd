/* Signed webhooks and the heartbeat: HTTP through libcurl with retries.
 *
 * The signature covers "TIMESTAMP.BODY" so that a captured request cannot be replayed
 * later with a new timestamp, and the receiver's replay window bounds how long an
 * unchanged one stays valid (platctl-notify(7)). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "clock/clock.h"
#include "hash/hash.h"
#include "log/log.h"
#include "mem/mem.h"
#include "notify/internal.h"

int plat_notify_webhook_sign(const char *secret, const char *timestamp, const char *body, size_t body_len,
			      char out[PLAT_NOTIFY_SIGNATURE_LEN + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	/* One HMAC over the three pieces, without copying the body. */
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
	size_t n = 0;
	if (ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)timestamp, strlen(timestamp)) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)body, body_len) == 1 && EVP_MAC_final(ctx, mac, &n, sizeof(mac)) == 1)
		mac_len = (unsigned int)n;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	memcpy(out, "sha256=", 7);
	if (mac_len == 32) {
		plat_hex(mac, 32, out + 7);
	} else { /* OpenSSL failed: a value no receiver computes */
		memset(out + 7, '0', 64);
		out[7 + 64] = '\0';
	}
	plat_wipe(mac, sizeof(mac));
	return mac_len == 32 ? 0 : -1;
}

static int unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int plat_notify_webhook_verify(const char *secret, const char *timestamp, const char *body, size_t body_len,
			       const char *signature, long long now, long long window_s, struct plat_error *err)
{
	if (!secret || !*secret)
		return plat_error_set(err, PLAT_E_CONFIG, "no webhook secret to verify with");
	size_t tl = timestamp ? strlen(timestamp) : 0;
	if (tl == 0 || tl > 12 || strspn(timestamp, "0123456789") != tl)
		return plat_error_set(err, PLAT_E_AUTH, "webhook timestamp is missing or not unix seconds");
	char want[PLAT_NOTIFY_SIGNATURE_LEN + 1];
	if (plat_notify_webhook_sign(secret, timestamp, body, body_len, want) < 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "could not compute a webhook signature");
	unsigned char want_raw[32], got[32];
	for (int i = 0; i < 32; i++)
		want_raw[i] = (unsigned char)(unhex(want[7 + 2 * i]) << 4 | unhex(want[8 + 2 * i]));
	bool match = false;
	/* Several values (comma-separated) let a sender sign with an old and a new secret
	 * while receivers rotate. */
	for (const char *p = signature ? signature : ""; *p;) {
		p += strspn(p, " \t,");
		size_t len = strcspn(p, ",");
		size_t l = len;
		while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		if (l == PLAT_NOTIFY_SIGNATURE_LEN && !strncmp(p, "sha256=", 7)) {
			bool ok = true;
			for (int i = 0; i < 32 && ok; i++) {
				int hi = unhex(p[7 + 2 * i]), lo = unhex(p[8 + 2 * i]);
				ok = hi >= 0 && lo >= 0;
				got[i] = ok ? (unsigned char)(hi << 4 | lo) : 0;
			}
			if (ok && CRYPTO_memcmp(got, want_raw, 32) == 0)
				match = true;
		}
		p += len;
	}
	if (!match)
		return plat_error_set(err, PLAT_E_AUTH, "webhook signature does not match");
	long long ts = strtoll(timestamp, NULL, 10);
	long long age = now - ts;
	if (age > window_s || -age > window_s)
		return plat_error_set(err, PLAT_E_AUTH, "webhook timestamp is %lld s %s, outside the %lld s replay window",
				      age < 0 ? -age : age, age < 0 ? "ahead" : "old", window_s);
	return 0;
}

struct reply {
	long long retry_after_ms;
	struct plat_buf body; /* the start of an error reply, for the message */
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct reply *r = arg;
	size_t n = size * nmemb;
	if (r->body.len < 200)
		plat_buf_append(&r->body, p, n < 200 - r->body.len ? n : 200 - r->body.len);
	return n;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct reply *r = arg;
	size_t n = size * nmemb;
	if (n > 12 && !strncasecmp(line, "retry-after:", 12)) {
		char v[128];
		snprintf(v, sizeof(v), "%.*s", (int)(n - 12), line + 12);
		char *end;
		long secs = strtol(v, &end, 10);
		if (end != v && secs >= 0) {
			/* Clamped before multiplying: a receiver may send any number. The cap the
			 * caller honours is far below a day anyway. */
			r->retry_after_ms = (secs > 86400 ? 86400 : secs) * 1000LL;
		} else {
			time_t t = curl_getdate(v, NULL);
			if (t > 0 && t > time(NULL))
				r->retry_after_ms = ((long long)t - (long long)time(NULL)) * 1000;
		}
	}
	return n;
}

static bool retryable_status(long s)
{
	return s == 408 || s == 425 || s == 429 || (s >= 500 && s <= 599);
}

static bool retryable_curl(CURLcode c)
{
	return c == CURLE_OPERATION_TIMEDOUT || c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST ||
	       c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE ||
	       c == CURLE_SSL_CONNECT_ERROR || c == CURLE_HTTP2 || c == CURLE_HTTP2_STREAM;
}

/* The first line of an error reply, printable characters only. */
static void reply_excerpt(const struct plat_buf *b, char *out, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < b->len && o + 1 < len; i++) {
		unsigned char ch = (unsigned char)b->data[i];
		if (ch == '\n' || ch == '\r')
			break;
		out[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	out[o] = '\0';
}

typedef struct curl_slist *(*headers_fn)(void *arg);

/* One HTTP exchange per try until a 2xx, a reply that must not be retried, or the
 * attempts run out. headers() is called per try (webhooks re-sign each). */
static int http_deliver(const struct plat_notify_config *c, const char *what, const char *url, const char *body,
			headers_fn headers, void *harg, struct plat_notify_result *r, struct plat_error *err)
{
	notify_curl_init();
	char *safe = notify_safe_url(url);
	int attempts = notify_attempts(c);
	long long timeout = notify_timeout_ms(c);
	int rc = 0;
	for (int i = 1;; i++) {
		struct reply rep = {0};
		CURL *e = curl_easy_init();
		struct curl_slist *h = headers ? headers(harg) : NULL;
		char cerr[CURL_ERROR_SIZE] = "";
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout < 10000 ? timeout : 10000));
		curl_easy_setopt(e, CURLOPT_USERAGENT, "platctl-notify");
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &rep);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, &rep);
		if (h)
			curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
		if (body) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
		}
		CURLcode cc = curl_easy_perform(e);
		long status = 0;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(e);
		curl_slist_free_all(h);
		r->attempts = i;
		r->code = (int)status;
		r->retry_after_ms = rep.retry_after_ms;
		char excerpt[128];
		reply_excerpt(&rep.body, excerpt, sizeof(excerpt));
		plat_buf_free(&rep.body);

		bool retry;
		if (cc != CURLE_OK) {
			notify_set_error(r, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
			retry = retryable_curl(cc);
		} else if (status >= 200 && status < 300) {
			snprintf(r->status, sizeof(r->status), "sent");
			r->error[0] = '\0';
			break;
		} else {
			notify_set_error(r, "HTTP %ld%s%s", status, excerpt[0] ? ": " : "", excerpt);
			retry = retryable_status(status);
		}
		if (!retry || i >= attempts) {
			snprintf(r->status, sizeof(r->status), "failed");
			rc = plat_error_set(err, retry ? PLAT_E_UNAVAILABLE : PLAT_E_FAILURE, "%s '%s': %s%s%d attempt%s)",
					    what, safe, r->error, retry ? " (after " : " (refused, ", i, i == 1 ? "" : "s");
			break;
		}
		long long wait = notify_backoff_ms(c, i, rep.retry_after_ms);
		char ws[24], st[16];
		snprintf(ws, sizeof(ws), "%lld", wait);
		snprintf(st, sizeof(st), "%ld", status);
		PLAT_LOG_I("notification failed, retrying", "what", what, "url", safe, "status", st, "wait_ms", ws);
		plat_sleep_ms(wait);
	}
	free(safe);
	return rc;
}

struct webhook_headers {
	const char *secret, *event, *delivery, *body;
};

static struct curl_slist *webhook_headers(void *arg)
{
	const struct webhook_headers *w = arg;
	char ts[24], sig[PLAT_NOTIFY_SIGNATURE_LEN + 1], line[160];
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	plat_notify_webhook_sign(w->secret, ts, w->body, strlen(w->body), sig);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
	snprintf(line, sizeof(line), "X-Platctl-Event: %s", w->event);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "X-Platctl-Delivery: %s", w->delivery);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "X-Platctl-Timestamp: %s", ts);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "X-Platctl-Signature: %s", sig);
	return curl_slist_append(h, line);
}

static bool event_valid(const char *e)
{
	size_t n = e ? strlen(e) : 0;
	if (n == 0 || n > 100)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)e[i]) && !isdigit((unsigned char)e[i]) && !strchr("._-", e[i]))
			return false;
	return true;
}

int plat_notify_webhook_post(const struct plat_notify_config *c, struct plat_db *db, const char *tenant_id,
			     const char *event, const char *body, struct plat_notify_result *r, struct plat_error *err)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->status, sizeof(r->status), "failed");
	if (!c->webhook_url || !*c->webhook_url) {
		snprintf(r->status, sizeof(r->status), "skipped");
		snprintf(r->error, sizeof(r->error), "not configured");
		return plat_error_set(err, PLAT_E_CONFIG, "no webhook URL is configured");
	}
	if (!c->webhook_secret || !*c->webhook_secret) {
		notify_set_error(r, "no webhook secret is configured");
		return plat_error_set(err, PLAT_E_CONFIG, "no webhook secret is configured: deliveries are always signed");
	}
	if (!event_valid(event)) {
		notify_set_error(r, "invalid event name");
		return plat_error_set(err, PLAT_E_INVALID, "webhook event '%s' is not [a-z0-9._-]+", event ? event : "");
	}
	cJSON *parsed = cJSON_Parse(body ? body : "");
	if (!parsed) {
		notify_set_error(r, "the body is not JSON");
		return plat_error_set(err, PLAT_E_INVALID, "webhook body for event '%s' is not JSON", event);
	}
	notify_uuid(r->delivery_id);
	char *safe = notify_safe_url(c->webhook_url);
	char log_id[37];
	notify_log_start(db, tenant_id, "webhook", safe, event, event, r->delivery_id, parsed, log_id);
	cJSON_Delete(parsed);
	struct webhook_headers w = {c->webhook_secret, event, r->delivery_id, body};
	int rc = http_deliver(c, "webhook", c->webhook_url, body, webhook_headers, &w, r, err);
	notify_log_finish(db, log_id, r);
	free(safe);
	return rc;
}

int plat_notify_webhook_try(const struct plat_notify_config *c, const struct plat_notify_webhook *w,
			    struct plat_notify_result *r, struct plat_error *err)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->status, sizeof(r->status), "failed");
	snprintf(r->delivery_id, sizeof(r->delivery_id), "%s", w->delivery_id);
	if (!w->secret || !*w->secret || !event_valid(w->event) || !w->body) {
		notify_set_error(r, "no secret, event or body");
		return plat_error_set(err, PLAT_E_INVALID, "a webhook delivery needs a secret, an event and a body");
	}
	struct plat_notify_config once = *c;
	once.attempts = 1;
	struct webhook_headers h = {w->secret, w->event, w->delivery_id, w->body};
	return http_deliver(&once, "webhook", w->url, w->body, webhook_headers, &h, r, err);
}

int plat_notify_heartbeat(const struct plat_notify_config *c, const char *url, struct plat_error *err)
{
	if (!url)
		url = c->heartbeat_url;
	if (!url || !*url)
		return 0;
	struct plat_notify_result r = {0};
	return http_deliver(c, "heartbeat", url, NULL, NULL, NULL, &r, err);
}
