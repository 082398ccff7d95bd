/* Driver for bench_tokens.sh: the cost of verifying one bearer token, per kind, each
 * against an anchor measured in the same run on the same bytes:
 *
 *   API token (format, checksum, SHA-256, cache hit)   vs  a bare SHA-256 of the token
 *   local Ed25519 access token                         vs  a bare EVP_DigestVerify of its signature
 *   OIDC RS256 access token, JWKS cached               vs  a bare EVP_DigestVerify (RSA-2048, SHA-256)
 *
 *   bench-tokens WORKDIR [CALLS]
 *
 * Times are the thread's CPU time (the machines here are shared: wall time would count
 * other processes' turns). Rounds of subject and anchor alternate, so what drift remains
 * (frequency, caches) hits both; the median round is printed. Every call's result is checked: a verifier that fails fast
 * would look fast. The JWKS comes from a file:// URL (the HTTP fetch happens once and is
 * not what is measured). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/apitoken.h"
#include "auth/jws.h"
#include "auth/localjwt.h"
#include "auth/oidc.h"
#include "auth/tokens.h"
#include "cache/cache.h"
#include "mem/mem.h"

#define ROUNDS 7

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-tokens: FAILED: %s\n", what);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef int (*call_fn)(void *arg);

/* Median over ROUNDS of the mean per-call time, alternating subject and anchor. */
static void measure(call_fn subject, call_fn anchor, void *arg, long calls, double *s_us, double *a_us)
{
	double s[ROUNDS], a[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_us();
		for (long i = 0; i < calls; i++)
			if (subject(arg) != 0)
				die("a verification failed");
		double t1 = now_us();
		for (long i = 0; i < calls; i++)
			if (anchor(arg) != 0)
				die("an anchor call failed");
		double t2 = now_us();
		s[r] = (t1 - t0) / calls;
		a[r] = (t2 - t1) / calls;
	}
	qsort(s, ROUNDS, sizeof(double), cmp_double);
	qsort(a, ROUNDS, sizeof(double), cmp_double);
	*s_us = s[ROUNDS / 2];
	*a_us = a[ROUNDS / 2];
}

struct ctx {
	/* API token */
	char api[PLAT_APITOKEN_LEN + 1];
	struct plat_cache *cache;
	/* local */
	struct plat_auth_keyring *kr;
	struct plat_auth_localjwt_verify_options lo;
	char *local;
	EVP_PKEY *ed;
	/* oidc */
	struct plat_auth_oidc *oidc;
	char *oidc_token;
	EVP_PKEY *rsa;
	/* the token being anchored: signing input and signature */
	const char *input;
	size_t input_len;
	unsigned char sig[512];
	size_t sig_len;
};

static int api_verify(void *arg)
{
	struct ctx *c = arg;
	struct plat_auth_result res;
	struct plat_tokens_cache_key key;
	char principal_id[37];
	/* What serve runs for a known token: plat_tokens_authenticate's hit path. */
	return plat_tokens_cache_lookup(c->cache, c->api, &res, principal_id, &key, NULL) == 1 ? 0 : -1;
}

static int api_anchor(void *arg)
{
	struct ctx *c = arg;
	unsigned char md[32];
	unsigned int n;
	return EVP_Digest(c->api, strlen(c->api), md, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static int local_verify(void *arg)
{
	struct ctx *c = arg;
	struct plat_auth_result res;
	return plat_auth_localjwt_verify(c->kr, &c->lo, c->local, &res, NULL);
}

static int bare_verify(EVP_PKEY *k, const EVP_MD *md, const struct ctx *c)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok = EVP_DigestVerifyInit(m, NULL, md, NULL, k) == 1 &&
		 EVP_DigestVerify(m, c->sig, c->sig_len, (const unsigned char *)c->input, c->input_len) == 1;
	EVP_MD_CTX_free(m);
	return ok ? 0 : -1;
}

static int ed_anchor(void *arg)
{
	struct ctx *c = arg;
	return bare_verify(c->ed, NULL, c);
}

static int oidc_verify(void *arg)
{
	struct ctx *c = arg;
	struct plat_auth_result res;
	return plat_auth_oidc_verify(c->oidc, c->oidc_token, &res, NULL);
}

static int rsa_anchor(void *arg)
{
	struct ctx *c = arg;
	return bare_verify(c->rsa, EVP_sha256(), c);
}

/* The anchor verifies the very signature of the token measured. */
static void take_signature(struct ctx *c, const char *token)
{
	const char *dot = strrchr(token, '.');
	c->input = token;
	c->input_len = (size_t)(dot - token);
	long n = plat_b64url_decode(dot + 1, strlen(dot + 1), c->sig);
	if (n <= 0)
		die("decoding a signature");
	c->sig_len = (size_t)n;
}

static char *b64_bn(EVP_PKEY *k, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char buf[512];
	if (EVP_PKEY_get_bn_param(k, name, &bn) != 1)
		die("reading an RSA key");
	int n = BN_bn2bin(bn, buf);
	BN_free(bn);
	char *o = plat_xmalloc((size_t)n * 4 / 3 + 4);
	plat_b64url_encode(buf, (size_t)n, o);
	return o;
}

static char *sign_rs256(EVP_PKEY *k, const char *header, const char *claims)
{
	struct plat_buf b = PLAT_BUF_INIT;
	char h[512], p[1024];
	plat_b64url_encode((const unsigned char *)header, strlen(header), h);
	plat_b64url_encode((const unsigned char *)claims, strlen(claims), p);
	plat_buf_printf(&b, "%s.%s", h, p);
	unsigned char sig[512];
	size_t sl = sizeof(sig);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	if (EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(m, sig, &sl, (const unsigned char *)b.data, b.len) != 1)
		die("signing RS256");
	EVP_MD_CTX_free(m);
	char s[800];
	plat_b64url_encode(sig, sl, s);
	plat_buf_printf(&b, ".%s", s);
	return plat_buf_detach(&b);
}

static void row(const char *what, double us, const char *anchor, double aus)
{
	printf("  %-44s %8.2f µs   %5.2fx  %-40s %8.2f µs\n", what, us, us / aus, anchor, aus);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: bench-tokens WORKDIR [CALLS]");
	const char *work = argv[1];
	long calls = argc > 2 ? atol(argv[2]) : 2000;
	struct ctx c = {0};
	struct plat_error err = {0};

	/* API token: a cached, verified token. */
	unsigned char h[32];
	if (plat_auth_apitoken_generate(c.api, h, &err) < 0)
		die(err.message);
	/* serve's cache as serve sizes it (server.cache_entries, server.cache_ttl). */
	c.cache = plat_cache_new(10000, 30000);
	plat_cache_enable(c.cache, true);
	struct plat_auth_result r = {.kind = PLAT_AUTH_API_TOKEN}, miss;
	snprintf(r.subject, sizeof(r.subject), "ci");
	struct plat_tokens_cache_key slot;
	char principal_id[37];
	if (plat_tokens_cache_lookup(c.cache, c.api, &miss, principal_id, &slot, &err) != 0)
		die("a new token was not a miss");
	plat_tokens_cache_remember(c.cache, &slot, &r, "00000000-0000-0000-0000-000000000001");

	/* Local: a key, a token, the same key for the anchor. */
	char key[512];
	snprintf(key, sizeof(key), "%s/ed25519-bench.pem", work);
	if (plat_auth_localjwt_key_generate(key, NULL, &err) < 0 || plat_auth_keyring_load_dir(work, &c.kr, &err) < 0)
		die(err.message);
	struct plat_auth_localjwt_claims lc = {.issuer = "https://platctl.example", .subject = "eve",
					       .audience = "platctl", .tenant = "acme", .role = "editor", .ttl_s = 3600};
	if (plat_auth_localjwt_issue(c.kr, &lc, &c.local, &err) < 0)
		die(err.message);
	c.lo = (struct plat_auth_localjwt_verify_options){.issuer = lc.issuer, .audience = lc.audience};
	FILE *f = fopen(key, "r");
	c.ed = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!c.ed)
		die("reading the Ed25519 key back");

	/* OIDC: an RSA-2048 issuer key in a JWKS file, a token signed with it. */
	c.rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	char *n = b64_bn(c.rsa, OSSL_PKEY_PARAM_RSA_N), *e = b64_bn(c.rsa, OSSL_PKEY_PARAM_RSA_E);
	char jwks[512];
	snprintf(jwks, sizeof(jwks), "%s/jwks.json", work);
	f = fopen(jwks, "w");
	if (!f)
		die("writing the JWKS");
	fprintf(f, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}]}", n, e);
	fclose(f);
	free(n);
	free(e);
	char url[600];
	snprintf(url, sizeof(url), "file://%s", jwks);
	struct plat_auth_oidc_options oo = {.issuer = "https://idp.example", .audience = "platctl", .jwks_url = url};
	if (plat_auth_oidc_new(&oo, &c.oidc, &err) < 0 || plat_auth_oidc_refresh(c.oidc, &err) < 0)
		die(err.message);
	char claims[512];
	long long now = (long long)time(NULL);
	snprintf(claims, sizeof(claims),
		 "{\"iss\":\"https://idp.example\",\"aud\":\"platctl\",\"sub\":\"u1\",\"exp\":%lld,\"iat\":%lld,"
		 "\"tenant\":\"acme\",\"role\":\"viewer\"}", now + 3600, now);
	c.oidc_token = sign_rs256(c.rsa, "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"k1\"}", claims);

	/* Warm up everything once (and check it works). */
	if (api_verify(&c) || local_verify(&c) || oidc_verify(&c))
		die("a first verification failed");

	double s, a;
	printf("token verification, CPU µs per call: median of %d rounds (%ld calls per round for API tokens, %ld for\n"
	       "the signed ones); the ratio is to the anchor measured alternately with it\n",
	       ROUNDS, calls * 10, calls);
	measure(api_verify, api_anchor, &c, calls * 10, &s, &a);
	row("API token (format + SHA-256 + serve's cache hit)", s, "bare SHA-256 of the token", a);
	take_signature(&c, c.local);
	measure(local_verify, ed_anchor, &c, calls, &s, &a);
	row("local Ed25519 access token", s, "bare EVP_DigestVerify Ed25519", a);
	take_signature(&c, c.oidc_token);
	measure(oidc_verify, rsa_anchor, &c, calls, &s, &a);
	row("OIDC RS256 access token (cached JWKS)", s, "bare EVP_DigestVerify RSA-2048", a);

	struct plat_auth_oidc_stats st;
	plat_auth_oidc_stats(c.oidc, &st);
	if (st.fetches != 1)
		die("the JWKS was fetched more than once");
	plat_auth_oidc_free(c.oidc);
	plat_auth_keyring_free(c.kr);
	plat_cache_free(c.cache);
	EVP_PKEY_free(c.ed);
	EVP_PKEY_free(c.rsa);
	free(c.local);
	free(c.oidc_token);
	return 0;
}
