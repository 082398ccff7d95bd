#include "sigv4/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void plat_sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hex(md, 32, out);
}

static void hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;
	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &n);
}

void plat_sigv4_uri_encode(struct plat_buf *out, const char *s, size_t len, int keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash)) {
			plat_buf_putc(out, (char)c);
		} else {
			char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
			plat_buf_append(out, esc, 3);
		}
	}
}

struct encoded_param {
	char *name, *value;
};

static int cmp_param(const void *a, const void *b)
{
	const struct encoded_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

void plat_sigv4_canonical_query(struct plat_buf *out, const struct plat_sigv4_param *params, size_t n)
{
	struct encoded_param *e = plat_xcalloc(n ? n : 1, sizeof(*e));
	for (size_t i = 0; i < n; i++) {
		struct plat_buf b = PLAT_BUF_INIT;
		plat_sigv4_uri_encode(&b, params[i].name, strlen(params[i].name), 0);
		plat_buf_reserve(&b, 0);
		e[i].name = plat_buf_detach(&b);
		plat_sigv4_uri_encode(&b, params[i].value, strlen(params[i].value), 0);
		plat_buf_reserve(&b, 0);
		e[i].value = plat_buf_detach(&b);
	}
	/* Sorted by encoded name, as the specification's examples do. */
	qsort(e, n, sizeof(*e), cmp_param);
	for (size_t i = 0; i < n; i++) {
		plat_buf_printf(out, "%s%s=%s", i ? "&" : "", e[i].name, e[i].value);
		free(e[i].name);
		free(e[i].value);
	}
	free(e);
	plat_buf_reserve(out, 0);
}

struct lower_header {
	char *name;
	const char *value;
};

static int cmp_header(const void *a, const void *b)
{
	return strcmp(((const struct lower_header *)a)->name, ((const struct lower_header *)b)->name);
}

/* Header values are trimmed and inner runs of spaces collapse to one. */
static void trimmed(struct plat_buf *out, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n; i++) {
		if ((v[i] == ' ' || v[i] == '\t') && i > 0 && (v[i - 1] == ' ' || v[i - 1] == '\t'))
			continue;
		plat_buf_putc(out, v[i] == '\t' ? ' ' : v[i]);
	}
}

void plat_sigv4_sign(const struct plat_sigv4_request *r, char signature[65], struct plat_buf *signed_headers)
{
	struct lower_header *h = plat_xcalloc(r->n_headers ? r->n_headers : 1, sizeof(*h));
	for (size_t i = 0; i < r->n_headers; i++) {
		h[i].name = plat_xstrdup(r->headers[i].name);
		for (char *p = h[i].name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		h[i].value = r->headers[i].value;
	}
	qsort(h, r->n_headers, sizeof(*h), cmp_header);

	struct plat_buf canon = PLAT_BUF_INIT;
	plat_buf_printf(&canon, "%s\n%s\n%s\n", r->method, r->canonical_uri, r->canonical_query ? r->canonical_query : "");
	for (size_t i = 0; i < r->n_headers; i++) {
		plat_buf_printf(&canon, "%s:", h[i].name);
		trimmed(&canon, h[i].value);
		plat_buf_putc(&canon, '\n');
		plat_buf_printf(signed_headers, "%s%s", i ? ";" : "", h[i].name);
	}
	plat_buf_reserve(signed_headers, 0);
	plat_buf_printf(&canon, "\n%s\n%s", signed_headers->data, r->payload_hash);

	char canon_hash[65];
	plat_sigv4_sha256_hex(canon.data, canon.len, canon_hash);
	char date[9];
	snprintf(date, sizeof(date), "%.8s", r->amz_date);
	struct plat_buf sts = PLAT_BUF_INIT;
	plat_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", r->amz_date, date, r->region,
			r->service, canon_hash);

	struct plat_buf k = PLAT_BUF_INIT;
	plat_buf_printf(&k, "AWS4%s", r->secret_key);
	unsigned char kdate[32], kregion[32], kservice[32], ksigning[32], sig[32];
	hmac(k.data, k.len, date, kdate);
	hmac(kdate, 32, r->region, kregion);
	hmac(kregion, 32, r->service, kservice);
	hmac(kservice, 32, "aws4_request", ksigning);
	hmac(ksigning, 32, sts.data, sig);
	hex(sig, 32, signature);

	/* The derived key is as sensitive as the secret. */
	OPENSSL_cleanse(k.data, k.len);
	OPENSSL_cleanse(ksigning, sizeof(ksigning));
	for (size_t i = 0; i < r->n_headers; i++)
		free(h[i].name);
	free(h);
	plat_buf_free(&k);
	plat_buf_free(&canon);
	plat_buf_free(&sts);
}

void plat_sigv4_amz_date(time_t t, char out[17])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

char *plat_sigv4_presign(const char *method, const char *base, const char *host_header, const char *canonical_uri,
			 const char *region, const char *service, const char *access_key, const char *secret_key,
			 const char *session_token, time_t now, int expires)
{
	char amz_date[17], date[9], exp[16];
	plat_sigv4_amz_date(now, amz_date);
	snprintf(date, sizeof(date), "%.8s", amz_date);
	snprintf(exp, sizeof(exp), "%d", expires);
	struct plat_buf cred = PLAT_BUF_INIT;
	plat_buf_printf(&cred, "%s/%s/%s/%s/aws4_request", access_key, date, region, service);

	struct plat_sigv4_param params[6] = {
		{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
		{"X-Amz-Credential", cred.data},
		{"X-Amz-Date", amz_date},
		{"X-Amz-Expires", exp},
		{"X-Amz-SignedHeaders", "host"},
	};
	size_t n = 5;
	if (session_token && *session_token)
		params[n++] = (struct plat_sigv4_param){"X-Amz-Security-Token", session_token};
	struct plat_buf query = PLAT_BUF_INIT;
	plat_sigv4_canonical_query(&query, params, n);

	struct plat_sigv4_header host = {"host", host_header};
	struct plat_sigv4_request r = {
		.method = method, .canonical_uri = canonical_uri, .canonical_query = query.data,
		.headers = &host, .n_headers = 1, .payload_hash = "UNSIGNED-PAYLOAD", .amz_date = amz_date,
		.region = region, .service = service, .access_key = access_key, .secret_key = secret_key,
	};
	char sig[65];
	struct plat_buf signed_headers = PLAT_BUF_INIT;
	plat_sigv4_sign(&r, sig, &signed_headers);

	struct plat_buf url = PLAT_BUF_INIT;
	plat_buf_printf(&url, "%s%s?%s&X-Amz-Signature=%s", base, canonical_uri, query.data, sig);
	plat_buf_free(&cred);
	plat_buf_free(&query);
	plat_buf_free(&signed_headers);
	return plat_buf_detach(&url);
}
