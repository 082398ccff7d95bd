/* JWKS fetching and parsing (see jwks.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "auth/jwks.h"
#include "auth/jws.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
	struct plat_buf *b;
	size_t max;
	int too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;
	if (s->b->len + len > s->max) {
		s->too_big = 1;
		return 0; /* aborts the transfer */
	}
	plat_buf_append(s->b, p, len);
	return len;
}

int jwks_fetch(const char *url, long long timeout_ms, size_t max_bytes, struct plat_buf *body, struct plat_error *err)
{
	pthread_once(&curl_once, curl_init);
	plat_buf_reset(body);
	CURL *e = curl_easy_init();
	if (!e)
		return plat_error_set(err, PLAT_E_INTERNAL, "fetching JWKS: curl_easy_init failed");
	struct sink s = {.b = body, .max = max_bytes};
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(e, CURLOPT_URL, url);
	/* file: for a JWKS kept on disk where the issuer is not reachable (and for tests). */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
	CURLcode cc = curl_easy_perform(e);
	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	const char *scheme = NULL;
	curl_easy_getinfo(e, CURLINFO_SCHEME, &scheme);
	int is_file = scheme && !strcasecmp(scheme, "file");
	curl_easy_cleanup(e);
	if (s.too_big)
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "fetching JWKS '%s': larger than %zu bytes", url, max_bytes);
	if (cc != CURLE_OK)
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "fetching JWKS '%s': %s", url,
				      cerr[0] ? cerr : curl_easy_strerror(cc));
	if (!is_file && status != 200)
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "fetching JWKS '%s': HTTP status %ld", url, status);
	return 0;
}

static const char *str_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static void key_free(struct jwk_key *k)
{
	free(k->kid);
	if (k->cj)
		cjose_jwk_release(k->cj);
	EVP_PKEY_free(k->ed);
}

void jwks_free(struct jwks *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		key_free(&s->keys[i]);
	free(s->keys);
	free(s);
}

/* The algorithm this key signs with, or NULL when platctl does not accept it. */
static const char *key_alg(const cJSON *k, enum jwk_type *type)
{
	const char *kty = str_member(k, "kty"), *crv = str_member(k, "crv");
	const char *alg = NULL;
	if (!kty)
		return NULL;
	if (!strcmp(kty, "RSA")) {
		*type = JWK_RSA;
		alg = "RS256";
	} else if (!strcmp(kty, "EC") && crv && !strcmp(crv, "P-256")) {
		*type = JWK_EC;
		alg = "ES256";
	} else if (!strcmp(kty, "OKP") && crv && !strcmp(crv, "Ed25519")) {
		*type = JWK_ED25519;
		alg = "EdDSA";
	} else {
		return NULL; /* oct (HMAC) keys above all: a shared secret is no issuer key */
	}
	const cJSON *named = cJSON_GetObjectItemCaseSensitive(k, "alg");
	if (named && (!cJSON_IsString(named) || strcmp(named->valuestring, alg)))
		return NULL;
	return alg;
}

static int import_key(const cJSON *k, struct jwk_key *out)
{
	const char *kid = str_member(k, "kid"), *use = str_member(k, "use");
	if (!kid || !kid[0] || (use && strcmp(use, "sig")) ||
	    (cJSON_GetObjectItemCaseSensitive(k, "use") && !use))
		return -1;
	enum jwk_type type;
	const char *alg = key_alg(k, &type);
	if (!alg)
		return -1;
	memset(out, 0, sizeof(*out));
	out->type = type;
	out->alg = alg;
	if (type == JWK_ED25519) {
		const char *x = str_member(k, "x");
		unsigned char raw[48];
		if (!x || strlen(x) != 43 || plat_b64url_decode(x, 43, raw) != 32)
			return -1;
		out->ed = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
		if (!out->ed)
			return -1;
	} else {
		if (cJSON_GetObjectItemCaseSensitive(k, "d"))
			return -1; /* a private key published by mistake: refuse to use it */
		char *json = cJSON_PrintUnformatted(k);
		cjose_err cerr;
		out->cj = cjose_jwk_import(json, strlen(json), &cerr);
		cJSON_free(json);
		if (!out->cj)
			return -1;
		if (type == JWK_RSA && cjose_jwk_get_keysize(out->cj, &cerr) < 2048) {
			cjose_jwk_release(out->cj);
			out->cj = NULL;
			return -1;
		}
	}
	out->kid = plat_xstrdup(kid);
	return 0;
}

int jwks_parse(const char *json, size_t len, struct jwks **out, struct plat_error *err)
{
	*out = NULL;
	cJSON *doc = cJSON_ParseWithLength(json, len);
	const cJSON *keys = doc ? cJSON_GetObjectItemCaseSensitive(doc, "keys") : NULL;
	if (!cJSON_IsArray(keys)) {
		cJSON_Delete(doc);
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "JWKS is not a JSON object with a \"keys\" array");
	}
	struct jwks *s = plat_xcalloc(1, sizeof(*s));
	int n = cJSON_GetArraySize(keys);
	s->keys = plat_xcalloc(n > 0 ? (size_t)n : 1, sizeof(*s->keys));
	const cJSON *k;
	cJSON_ArrayForEach(k, keys)
	{
		if (!cJSON_IsObject(k) || import_key(k, &s->keys[s->n]) < 0)
			continue;
		if (jwks_find(s, s->keys[s->n].kid)) {
			key_free(&s->keys[s->n]); /* a kid twice: the first one counts */
			continue;
		}
		s->n++;
	}
	cJSON_Delete(doc);
	if (!s->n) {
		jwks_free(s);
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "JWKS has no usable signing key");
	}
	*out = s;
	return 0;
}

const struct jwk_key *jwks_find(const struct jwks *s, const char *kid)
{
	for (size_t i = 0; s && kid && i < s->n; i++)
		if (!strcmp(s->keys[i].kid, kid))
			return &s->keys[i];
	return NULL;
}
