#include "remote/remote.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

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
	struct plat_buf body;
	bool too_large;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct reply *rp = arg;
	size_t n = size * nmemb;
	if (rp->body.len + n > MAX_REPLY) {
		rp->too_large = true;
		return 0;
	}
	plat_buf_append(&rp->body, p, n);
	return n;
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

/* The problem details of a failed reply as the error. */
static int problem(const struct plat_remote *r, long status, const struct plat_buf *body, struct plat_error *err)
{
	cJSON *p = body->len ? cJSON_ParseWithLength(body->data, body->len) : NULL;
	enum plat_error_kind kind = kind_named(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "type")));
	if (kind == PLAT_OK)
		kind = kind_of_status(status);
	const char *detail = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "detail"));
	const char *param = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "param"));
	int rc;
	if (detail && *detail)
		rc = plat_error_set(err, kind, "%s", detail);
	else
		rc = plat_error_set(err, kind, "the server at %s answered HTTP %ld", r->base, status);
	if (param && err)
		snprintf(err->param, sizeof(err->param), "%s", param);
	cJSON_Delete(p);
	return rc;
}

int plat_remote_json(struct plat_remote *r, const char *method, const char *path, const cJSON *body, cJSON **out,
		     long *status, struct plat_error *err)
{
	*out = NULL;
	if (status)
		*status = 0;
	struct plat_buf url = PLAT_BUF_INIT;
	plat_buf_printf(&url, "%s%s", r->base, path);
	char *payload = body ? cJSON_PrintUnformatted(body) : NULL;
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
	if (payload)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (r->auth_header)
		h = curl_slist_append(h, r->auth_header);
	if (r->request_id_header)
		h = curl_slist_append(h, r->request_id_header);
	struct reply rp = {PLAT_BUF_INIT, false};
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
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (payload) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	CURLcode cc = curl_easy_perform(e);
	long code = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	pthread_mutex_unlock(&r->lock);
	curl_slist_free_all(h);
	cJSON_free(payload);
	int rc = 0;
	if (status)
		*status = code;
	if (rp.too_large) {
		rc = plat_error_set(err, PLAT_E_FAILURE, "the server at %s sent a reply larger than %d MiB", r->base,
				    MAX_REPLY >> 20);
	} else if (cc != CURLE_OK) {
		/* Nothing, or not all, came back: whether the request took effect is unknown. */
		rc = plat_error_set(err, PLAT_E_UNAVAILABLE, "cannot reach the server at %s: %s", r->base,
				    curl_easy_strerror(cc));
	} else if (code < 200 || code > 299) {
		rc = problem(r, code, &rp.body, err);
	} else if (rp.body.len) {
		*out = cJSON_ParseWithLength(rp.body.data, rp.body.len);
		if (!*out)
			rc = plat_error_set(err, PLAT_E_FAILURE, "the server at %s sent a reply that is not JSON (%s %s)",
					    r->base, method, path);
	}
	plat_buf_free(&rp.body);
	plat_buf_free(&url);
	return rc;
}
