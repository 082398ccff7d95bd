/* lib/auth/oidc: external access tokens against a JWKS served by a real HTTP server on
 * 127.0.0.1 (python3 -m http.server, started and stopped by this test), with RSA, EC and
 * Ed25519 keys made here by OpenSSL. The attacks of issue 15 are refused with nothing but
 * "invalid token"; rotation is picked up, and refetching is rate-limited. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth/jws.h"
#include "auth/oidc.h"
#include "mem/mem.h"

#define ISS "https://idp.example/realms/acme"
#define AUD "platctl-api"

static char dir[64], jwks_url[128];
static pid_t server = -1;
static EVP_PKEY *rsa, *ec, *ed, *rsa2, *ec2;

/* ---- keys, JWKs and signing, done independently of the library ---- */

static char *b64(const void *p, size_t n)
{
	char *o = plat_xmalloc(n * 4 / 3 + 4);
	plat_b64url_encode(p, n, o);
	return o;
}

static char *bn_param(EVP_PKEY *k, const char *name, int pad)
{
	BIGNUM *bn = NULL;
	assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
	unsigned char buf[512];
	int n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64(buf, (size_t)n);
}

static void jwk_of(struct plat_buf *b, EVP_PKEY *k, const char *kid, const char *extra)
{
	if (EVP_PKEY_get_id(k) == EVP_PKEY_RSA) {
		char *n = bn_param(k, OSSL_PKEY_PARAM_RSA_N, 0), *e = bn_param(k, OSSL_PKEY_PARAM_RSA_E, 0);
		plat_buf_printf(b, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}", kid, n, e,
				extra);
		free(n);
		free(e);
	} else if (EVP_PKEY_get_id(k) == EVP_PKEY_EC) {
		char *x = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, 32), *y = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		plat_buf_printf(b, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}", kid, x, y,
				extra);
		free(x);
		free(y);
	} else {
		unsigned char pub[32];
		size_t l = sizeof(pub);
		EVP_PKEY_get_raw_public_key(k, pub, &l);
		char *x = b64(pub, l);
		plat_buf_printf(b, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"%s\",\"x\":\"%s\"%s}", kid, x, extra);
		free(x);
	}
}

/* Write the JWKS atomically, as an issuer's server would switch files. */
static void serve_jwks(const char *json)
{
	char tmp[128], path[128];
	snprintf(tmp, sizeof(tmp), "%s/jwks.json.tmp", dir);
	snprintf(path, sizeof(path), "%s/jwks.json", dir);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
}

/* The standard key set: rsa "r1", ec "e1", ed "d1". */
static void serve_standard(const char *more)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_puts(&b, "{\"keys\":[");
	jwk_of(&b, rsa, "r1", ",\"use\":\"sig\"");
	plat_buf_puts(&b, ",");
	jwk_of(&b, ec, "e1", ",\"alg\":\"ES256\"");
	plat_buf_puts(&b, ",");
	jwk_of(&b, ed, "d1", "");
	plat_buf_printf(&b, "%s]}", more ? more : "");
	serve_jwks(b.data);
	plat_buf_free(&b);
}

static char *sign(EVP_PKEY *k, const unsigned char *hmac_key, size_t hmac_len, const char *header,
		  const char *claims)
{
	char *h = b64(header, strlen(header)), *p = b64(claims, strlen(claims));
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_printf(&b, "%s.%s", h, p);
	free(h);
	free(p);
	unsigned char sig[1024];
	size_t sl = sizeof(sig);
	if (hmac_key) {
		unsigned int hl = 0;
		HMAC(EVP_sha256(), hmac_key, (int)hmac_len, (const unsigned char *)b.data, b.len, sig, &hl);
		sl = hl;
	} else if (!k) {
		sl = 0;
	} else {
		int id = EVP_PKEY_get_id(k);
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, id == EVP_PKEY_ED25519 ? NULL : EVP_sha256(), NULL, k), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)b.data, b.len), 1);
		EVP_MD_CTX_free(ctx);
		if (id == EVP_PKEY_EC) { /* JWS wants r || s, not DER */
			const unsigned char *d = sig;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)sl);
			assert_non_null(es);
			BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
			ECDSA_SIG_free(es);
			sl = 64;
		}
	}
	char *s = b64(sig, sl);
	plat_buf_printf(&b, ".%s", s);
	free(s);
	return plat_buf_detach(&b);
}

static char claims_buf[1024];

static const char *claims(const char *iss, const char *aud, long long exp_in, long long nbf_in, const char *extra)
{
	long long now = (long long)time(NULL);
	snprintf(claims_buf, sizeof(claims_buf),
		 "{\"iss\":\"%s\",\"sub\":\"user-42\",\"aud\":\"%s\",\"exp\":%lld,\"nbf\":%lld,\"iat\":%lld,"
		 "\"jti\":\"abc\",\"tenant\":\"acme\",\"groups\":[\"staff\",\"platctl-editors\"]%s}",
		 iss, aud, now + exp_in, now + nbf_in, now, extra ? extra : "");
	return claims_buf;
}

static char *token(EVP_PKEY *k, const char *alg, const char *kid)
{
	char h[128];
	snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", alg, kid);
	return sign(k, NULL, 0, h, claims(ISS, AUD, 300, 0, NULL));
}

/* ---- the HTTP server ---- */

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	return ntohs(a.sin_port);
}

static int can_connect(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(s);
	return ok;
}

/* Requests for the JWKS the server has logged. */
static int jwks_requests(void)
{
	char p[128], line[512];
	snprintf(p, sizeof(p), "%s/server.log", dir);
	FILE *f = fopen(p, "r");
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, "GET /jwks.json") != NULL;
	if (f)
		fclose(f);
	return n;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/platctl-oidc-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!rsa || !rsa2 || !ec || !ec2 || !ed)
		return -1;
	int port = free_port();
	snprintf(jwks_url, sizeof(jwks_url), "http://127.0.0.1:%d/jwks.json", port);
	server = fork();
	if (server == 0) {
		char ps[16], lp[128];
		snprintf(ps, sizeof(ps), "%d", port);
		snprintf(lp, sizeof(lp), "%s/server.log", dir);
		freopen(lp, "w", stderr);
		freopen("/dev/null", "w", stdout);
		execlp("python3", "python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, ps,
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !can_connect(port); i++) {
		struct timespec ts = {0, 25000000};
		nanosleep(&ts, NULL);
	}
	return can_connect(port) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec2);
	EVP_PKEY_free(ed);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct plat_auth_oidc *verifier(long long interval_s, const char *url)
{
	struct plat_auth_oidc_options o = {.issuer = ISS,
					   .audience = AUD,
					   .jwks_url = url ? url : jwks_url,
					   .refetch_interval_s = interval_s,
					   .http_timeout_ms = 3000,
					   .role_claim = "groups",
					   .role_map = "platctl-admins=admin, platctl-editors=editor,staff=viewer"};
	struct plat_auth_oidc *v = NULL;
	struct plat_error err = {0};
	if (plat_auth_oidc_new(&o, &v, &err) < 0)
		fail_msg("oidc: %s", err.message);
	return v;
}

static void expect_ok(struct plat_auth_oidc *v, const char *t)
{
	struct plat_auth_result res;
	struct plat_error err = {0};
	if (plat_auth_oidc_verify(v, t, &res, &err) != 0)
		fail_msg("refused (%s)", plat_auth_reason_name(res.reason));
	assert_int_equal(res.kind, PLAT_AUTH_OIDC);
}

static void expect_refused(struct plat_auth_oidc *v, const char *t, enum plat_auth_reason why)
{
	struct plat_auth_result res;
	struct plat_error err = {0};
	assert_int_equal(plat_auth_oidc_verify(v, t, &res, &err), -PLAT_E_AUTH);
	if (res.reason != why)
		fail_msg("reason %s, expected %s", plat_auth_reason_name(res.reason), plat_auth_reason_name(why));
	assert_string_equal(err.message, "invalid token");
	assert_int_equal(res.kind, PLAT_AUTH_NONE);
	assert_string_equal(res.subject, "");
	assert_string_equal(res.role, "");
}

/* ---- tests ---- */

static void test_three_algorithms(void **state)
{
	(void)state;
	serve_standard(NULL);
	struct plat_auth_oidc *v = verifier(60, NULL);
	struct plat_error err = {0};
	assert_int_equal(plat_auth_oidc_refresh(v, &err), 0);
	struct plat_auth_oidc_stats st;
	plat_auth_oidc_stats(v, &st);
	assert_int_equal(st.keys, 3);
	EVP_PKEY *keys[] = {rsa, ec, ed};
	const char *algs[] = {"RS256", "ES256", "EdDSA"}, *kids[] = {"r1", "e1", "d1"};
	for (int i = 0; i < 3; i++) {
		char *t = token(keys[i], algs[i], kids[i]);
		struct plat_auth_result res;
		if (plat_auth_oidc_verify(v, t, &res, &err) != 0)
			fail_msg("%s refused (%s)", algs[i], plat_auth_reason_name(res.reason));
		assert_int_equal(res.kind, PLAT_AUTH_OIDC);
		assert_string_equal(res.subject, "user-42");
		assert_string_equal(res.tenant, "acme");
		assert_string_equal(res.role, "editor"); /* the first map entry the groups hold */
		assert_string_equal(res.token_id, "abc");
		assert_true(res.expires_at > (long long)time(NULL));
		free(t);
	}
	/* typ JWT and no typ are accepted (issuers differ); an ID-token typ is not. */
	char *t = sign(rsa, NULL, 0, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", claims(ISS, AUD, 300, 0, NULL));
	expect_ok(v, t);
	free(t);
	t = sign(rsa, NULL, 0, "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"JWT\"}", claims(ISS, AUD, 300, 0, NULL));
	expect_ok(v, t);
	free(t);
	t = sign(rsa, NULL, 0, "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"id+jwt\"}", claims(ISS, AUD, 300, 0, NULL));
	expect_refused(v, t, PLAT_AUTH_R_TYPE);
	free(t);
	plat_auth_oidc_stats(v, &st);
	assert_int_equal(st.fetches, 1); /* every verification used the cached keys */
	plat_auth_oidc_free(v);
}

static void test_claim_mapping(void **state)
{
	(void)state;
	serve_standard(NULL);
	struct plat_auth_oidc *v = verifier(60, NULL);
	const char *h = "{\"alg\":\"EdDSA\",\"kid\":\"d1\"}";
	long long now = (long long)time(NULL);
	char c[512];
	struct plat_auth_result res;
	struct plat_error err = {0};
	/* A string claim; the map's order decides, not the claim's. */
	snprintf(c, sizeof(c), "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"s\",\"exp\":%lld,\"tenant\":\"acme\","
			       "\"groups\":[\"staff\",\"platctl-admins\"]}", ISS, AUD, now + 60);
	char *t = sign(ed, NULL, 0, h, c);
	assert_int_equal(plat_auth_oidc_verify(v, t, &res, &err), 0);
	assert_string_equal(res.role, "admin");
	free(t);
	/* Nothing maps, no default: refused. A tenant name tenants.name would refuse. */
	snprintf(c, sizeof(c), "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"s\",\"exp\":%lld,\"tenant\":\"acme\","
			       "\"groups\":\"nobody\"}", ISS, AUD, now + 60);
	t = sign(ed, NULL, 0, h, c);
	expect_refused(v, t, PLAT_AUTH_R_NO_ROLE);
	free(t);
	snprintf(c, sizeof(c), "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"s\",\"exp\":%lld,\"tenant\":\"Acme!\","
			       "\"groups\":\"staff\"}", ISS, AUD, now + 60);
	t = sign(ed, NULL, 0, h, c);
	expect_refused(v, t, PLAT_AUTH_R_NO_TENANT);
	free(t);
	snprintf(c, sizeof(c), "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"s\",\"exp\":%lld,\"groups\":\"staff\"}", ISS,
		 AUD, now + 60);
	char *no_tenant = sign(ed, NULL, 0, h, c);
	expect_refused(v, no_tenant, PLAT_AUTH_R_NO_TENANT);
	snprintf(c, sizeof(c), "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,\"tenant\":\"acme\",\"groups\":\"staff\"}",
		 ISS, AUD, now + 60);
	t = sign(ed, NULL, 0, h, c);
	expect_refused(v, t, PLAT_AUTH_R_CLAIMS); /* no sub */
	free(t);
	plat_auth_oidc_free(v);
	/* Defaults, other claim names, no map: the claim holds platctl role names. */
	struct plat_auth_oidc_options o = {.issuer = ISS, .audience = AUD, .jwks_url = jwks_url,
					   .tenant_claim = "org", .default_tenant = "default",
					   .role_claim = "roles", .default_role = "viewer"};
	struct plat_auth_oidc *w;
	assert_int_equal(plat_auth_oidc_new(&o, &w, &err), 0);
	assert_int_equal(plat_auth_oidc_verify(w, no_tenant, &res, &err), 0);
	assert_string_equal(res.tenant, "default");
	assert_string_equal(res.role, "viewer");
	free(no_tenant);
	snprintf(c, sizeof(c), "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"s\",\"exp\":%lld,\"org\":\"beta\","
			       "\"roles\":[\"x\",\"auditor\"]}", ISS, AUD, now + 60);
	t = sign(ed, NULL, 0, h, c);
	assert_int_equal(plat_auth_oidc_verify(w, t, &res, &err), 0);
	assert_string_equal(res.tenant, "beta");
	assert_string_equal(res.role, "auditor");
	free(t);
	plat_auth_oidc_free(w);
}

static void test_attacks(void **state)
{
	(void)state;
	/* The set also holds an HMAC key under a kid of its own: it must never be used. */
	serve_standard(",{\"kty\":\"oct\",\"kid\":\"h1\",\"k\":\"c2VjcmV0\"}");
	struct plat_auth_oidc *v = verifier(3600, NULL);
	char *good = token(rsa, "RS256", "r1");
	expect_ok(v, good);

	/* alg none. */
	char *t = sign(NULL, NULL, 0, "{\"alg\":\"none\",\"kid\":\"r1\"}", claims(ISS, AUD, 300, 0, NULL));
	expect_refused(v, t, PLAT_AUTH_R_ALG_NONE);
	free(t);
	/* HS256 keyed with the issuer's public key: its PEM, its DER, its modulus; and with the
	 * oct key's secret under its kid. */
	BIO *mem = BIO_new(BIO_s_mem());
	PEM_write_bio_PUBKEY(mem, rsa);
	char *pem;
	long pem_len = BIO_get_mem_data(mem, &pem);
	t = sign(NULL, (unsigned char *)pem, (size_t)pem_len, "{\"alg\":\"HS256\",\"kid\":\"r1\"}",
		 claims(ISS, AUD, 300, 0, NULL));
	expect_refused(v, t, PLAT_AUTH_R_ALG_HMAC);
	free(t);
	BIO_free(mem);
	unsigned char *der = NULL;
	int der_len = i2d_PUBKEY(rsa, &der);
	t = sign(NULL, der, (size_t)der_len, "{\"alg\":\"HS256\",\"kid\":\"r1\"}", claims(ISS, AUD, 300, 0, NULL));
	expect_refused(v, t, PLAT_AUTH_R_ALG_HMAC);
	free(t);
	OPENSSL_free(der);
	t = sign(NULL, (const unsigned char *)"secret", 6, "{\"alg\":\"HS256\",\"kid\":\"h1\"}",
		 claims(ISS, AUD, 300, 0, NULL));
	expect_refused(v, t, PLAT_AUTH_R_ALG_HMAC);
	free(t);
	t = sign(NULL, (const unsigned char *)"secret", 6, "{\"alg\":\"hs512\",\"kid\":\"h1\"}",
		 claims(ISS, AUD, 300, 0, NULL));
	expect_refused(v, t, PLAT_AUTH_R_ALG_HMAC);
	free(t);
	/* The header names another algorithm than the key's. */
	t = token(rsa, "PS256", "r1");
	expect_refused(v, t, PLAT_AUTH_R_ALG_MISMATCH);
	free(t);
	t = token(ec, "RS256", "e1");
	expect_refused(v, t, PLAT_AUTH_R_ALG_MISMATCH);
	free(t);
	t = token(ed, "ES256", "d1");
	expect_refused(v, t, PLAT_AUTH_R_ALG_MISMATCH);
	free(t);
	/* Signed by another key under a known kid. */
	t = token(rsa2, "RS256", "r1");
	expect_refused(v, t, PLAT_AUTH_R_BAD_SIGNATURE);
	free(t);
	t = token(ec2, "ES256", "e1");
	expect_refused(v, t, PLAT_AUTH_R_BAD_SIGNATURE);
	free(t);

	/* Time and audience. */
	const char *h = "{\"alg\":\"RS256\",\"kid\":\"r1\"}";
	t = sign(rsa, NULL, 0, h, claims(ISS, AUD, -10, -600, NULL));
	expect_refused(v, t, PLAT_AUTH_R_EXPIRED);
	free(t);
	t = sign(rsa, NULL, 0, h, claims(ISS, AUD, 600, 60, NULL));
	expect_refused(v, t, PLAT_AUTH_R_NOT_YET_VALID);
	free(t);
	t = sign(rsa, NULL, 0, h, claims("https://idp.example/realms/other", AUD, 600, 0, NULL));
	expect_refused(v, t, PLAT_AUTH_R_ISSUER);
	free(t);
	t = sign(rsa, NULL, 0, h, claims(ISS "/", AUD, 600, 0, NULL));
	expect_refused(v, t, PLAT_AUTH_R_ISSUER); /* exact, not a prefix */
	free(t);
	t = sign(rsa, NULL, 0, h, claims(ISS, "another-api", 600, 0, NULL));
	expect_refused(v, t, PLAT_AUTH_R_AUDIENCE);
	free(t);

	/* Unknown kid. */
	t = token(rsa, "RS256", "r9");
	expect_refused(v, t, PLAT_AUTH_R_UNKNOWN_KID);
	free(t);

	/* Tampered payload (re-encoded claims with the old signature) and signature. */
	char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
	const char *ec_json = claims(ISS, AUD, 99999, 0, ",\"x\":1");
	char *evil_claims = b64(ec_json, strlen(ec_json));
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_printf(&b, "%.*s.%s%s", (int)(dot1 - good), good, evil_claims, dot2);
	expect_refused(v, b.data, PLAT_AUTH_R_BAD_SIGNATURE);
	free(evil_claims);
	plat_buf_reset(&b);
	plat_buf_printf(&b, "%s", good);
	char *s = strrchr(b.data, '.') + 10;
	*s = *s == 'A' ? 'B' : 'A';
	expect_refused(v, b.data, PLAT_AUTH_R_BAD_SIGNATURE);
	plat_buf_free(&b);

	/* 100 KB, refused before anything is decoded; garbage. */
	char *big = plat_xmalloc(100 * 1024 + 1);
	memset(big, 'A', 100 * 1024);
	big[5000] = '.';
	big[9000] = '.';
	big[100 * 1024] = '\0';
	expect_refused(v, big, PLAT_AUTH_R_TOO_LONG);
	free(big);
	static const char *const garbage[] = {"", "abc", "a.b", "%%%.%%%.%%%", "eyJ9.eyJ9.eyJ9", "....",
					      "e30.e30.AAAA"};
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		expect_refused(v, garbage[i], PLAT_AUTH_R_MALFORMED);
	free(good);
	plat_auth_oidc_free(v);
}

static void test_rotation_and_rate_limit(void **state)
{
	(void)state;
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_puts(&b, "{\"keys\":[");
	jwk_of(&b, rsa, "2026-a", "");
	plat_buf_puts(&b, "]}");
	serve_jwks(b.data);
	int before = jwks_requests();
	struct plat_auth_oidc *v = verifier(2, NULL);
	char *ta = token(rsa, "RS256", "2026-a"), *tb = token(rsa2, "RS256", "2026-b"), *tc = token(ec, "ES256", "2026-c");
	expect_ok(v, ta); /* the first verification fetches */
	struct plat_auth_oidc_stats st;
	plat_auth_oidc_stats(v, &st);
	assert_int_equal(st.fetches, 1);

	/* The issuer rotates: the new kid makes platctl fetch again, once the interval passed. */
	plat_buf_reset(&b);
	plat_buf_puts(&b, "{\"keys\":[");
	jwk_of(&b, rsa, "2026-a", "");
	plat_buf_puts(&b, ",");
	jwk_of(&b, rsa2, "2026-b", "");
	plat_buf_puts(&b, "]}");
	serve_jwks(b.data);
	expect_refused(v, tb, PLAT_AUTH_R_UNKNOWN_KID); /* within 2 s of the last fetch: not fetched */
	plat_auth_oidc_stats(v, &st);
	assert_int_equal(st.fetches, 1);
	struct timespec ts = {2, 200000000};
	nanosleep(&ts, NULL);
	expect_ok(v, tb);
	expect_ok(v, ta);
	plat_auth_oidc_stats(v, &st);
	assert_int_equal(st.fetches, 2);

	/* A flood of made-up kids right after: no request reaches the issuer. */
	for (int i = 0; i < 50; i++) {
		char kid[24];
		snprintf(kid, sizeof(kid), "junk-%d", i);
		char *t = token(rsa, "RS256", kid);
		expect_refused(v, t, PLAT_AUTH_R_UNKNOWN_KID);
		free(t);
	}
	plat_auth_oidc_stats(v, &st);
	assert_int_equal(st.fetches, 2);
	assert_int_equal(jwks_requests() - before, 2); /* the server agrees */

	/* Another rotation, with a for the retired key dropped; picked up after the interval. */
	plat_buf_reset(&b);
	plat_buf_puts(&b, "{\"keys\":[");
	jwk_of(&b, rsa2, "2026-b", "");
	plat_buf_puts(&b, ",");
	jwk_of(&b, ec, "2026-c", "");
	plat_buf_puts(&b, "]}");
	serve_jwks(b.data);
	nanosleep(&ts, NULL);
	expect_ok(v, tc);
	expect_ok(v, tb);
	expect_refused(v, ta, PLAT_AUTH_R_UNKNOWN_KID); /* its key is gone */
	plat_auth_oidc_stats(v, &st);
	assert_int_equal(st.fetches, 3);
	assert_int_equal(jwks_requests() - before, 3);
	free(ta);
	free(tb);
	free(tc);
	plat_buf_free(&b);
	plat_auth_oidc_free(v);
}

static void test_unavailable_and_bad_sets(void **state)
{
	(void)state;
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/jwks.json", free_port());
	struct plat_auth_oidc *v = verifier(60, url);
	char *t = token(rsa, "RS256", "r1");
	struct plat_auth_result res;
	struct plat_error err = {0};
	assert_int_equal(plat_auth_oidc_verify(v, t, &res, &err), -PLAT_E_UNAVAILABLE);
	assert_int_equal(res.reason, PLAT_AUTH_R_KEYS_UNAVAILABLE);
	assert_null(strstr(err.message, "127.0.0.1")); /* the client learns nothing */
	struct plat_auth_oidc_stats st;
	plat_auth_oidc_stats(v, &st);
	assert_int_equal(st.fetch_failures, 1);
	assert_non_null(strstr(st.last_error, url)); /* the log does */
	plat_auth_oidc_free(v);

	/* 404, not JSON, no usable key (HMAC, private, short RSA, unknown curve, enc): errors of
	 * refresh; the verifier answers unavailable. */
	char missing[160];
	snprintf(missing, sizeof(missing), "%.*s/nope.json", (int)(strrchr(jwks_url, '/') - jwks_url), jwks_url);
	v = verifier(60, missing);
	assert_int_equal(plat_auth_oidc_refresh(v, &err), -PLAT_E_UNAVAILABLE);
	assert_non_null(strstr(err.message, "404"));
	plat_auth_oidc_free(v);
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_puts(&b, "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0\"},");
	jwk_of(&b, small, "small", "");
	plat_buf_puts(&b, ",");
	jwk_of(&b, rsa, "enc", ",\"use\":\"enc\"");
	plat_buf_puts(&b, ",");
	jwk_of(&b, rsa, "wrongalg", ",\"alg\":\"RS512\"");
	plat_buf_puts(&b, ",");
	jwk_of(&b, rsa, "", "");
	plat_buf_puts(&b, ",{\"kty\":\"EC\",\"crv\":\"P-521\",\"kid\":\"p5\",\"x\":\"AA\",\"y\":\"AA\"},");
	plat_buf_puts(&b, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"short\",\"x\":\"AAAA\"},\"junk\",42]}");
	EVP_PKEY_free(small);
	const char *bodies[] = {b.data, "not json", "{\"keys\":{}}", "[]", "{\"keys\":[]}"};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		serve_jwks(bodies[i]);
		v = verifier(60, NULL);
		int rc = plat_auth_oidc_refresh(v, &err);
		struct plat_auth_oidc_stats bst;
		plat_auth_oidc_stats(v, &bst);
		if (rc != -PLAT_E_UNAVAILABLE)
			fail_msg("body %zu: %d keys accepted", i, (int)bst.keys);
		plat_auth_oidc_free(v);
	}
	plat_buf_free(&b);
	/* A failed refetch keeps the keys held. */
	serve_standard(NULL);
	v = verifier(1, NULL);
	assert_int_equal(plat_auth_oidc_refresh(v, &err), 0);
	serve_jwks("garbage");
	struct timespec ts = {1, 100000000};
	nanosleep(&ts, NULL);
	char *u = token(rsa, "RS256", "unknown");
	expect_refused(v, u, PLAT_AUTH_R_UNKNOWN_KID); /* triggers the failing fetch */
	free(u);
	plat_auth_oidc_stats(v, &st);
	assert_int_equal(st.fetch_failures, 1);
	expect_ok(v, t);
	plat_auth_oidc_free(v);
	free(t);
}

static void test_file_url_and_options(void **state)
{
	(void)state;
	serve_standard(NULL);
	char url[160];
	snprintf(url, sizeof(url), "file://%s/jwks.json", dir);
	struct plat_auth_oidc *v = verifier(60, url);
	char *t = token(ed, "EdDSA", "d1");
	expect_ok(v, t);
	free(t);
	plat_auth_oidc_free(v);
	struct plat_error err = {0};
	struct plat_auth_oidc_options o = {.issuer = ISS, .audience = AUD, .jwks_url = jwks_url};
	o.role_map = "admins";
	assert_int_equal(plat_auth_oidc_new(&o, &v, &err), -PLAT_E_CONFIG);
	o.role_map = "admins=root";
	assert_int_equal(plat_auth_oidc_new(&o, &v, &err), -PLAT_E_CONFIG);
	o.role_map = "=admin";
	assert_int_equal(plat_auth_oidc_new(&o, &v, &err), -PLAT_E_CONFIG);
	o.role_map = NULL;
	o.default_role = "superuser";
	assert_int_equal(plat_auth_oidc_new(&o, &v, &err), -PLAT_E_CONFIG);
	o.default_role = NULL;
	o.issuer = "";
	assert_int_equal(plat_auth_oidc_new(&o, &v, &err), -PLAT_E_CONFIG);
	o.issuer = ISS;
	o.audience = NULL;
	assert_int_equal(plat_auth_oidc_new(&o, &v, &err), -PLAT_E_CONFIG);
	o.audience = AUD;
	o.jwks_url = NULL;
	assert_int_equal(plat_auth_oidc_new(&o, &v, &err), -PLAT_E_CONFIG);
	/* A protocol other than http(s) and file is not fetched. */
	o.jwks_url = "gopher://127.0.0.1/jwks";
	assert_int_equal(plat_auth_oidc_new(&o, &v, &err), 0);
	assert_int_equal(plat_auth_oidc_refresh(v, &err), -PLAT_E_UNAVAILABLE);
	plat_auth_oidc_free(v);
}

struct job {
	struct plat_auth_oidc *v;
	const char *tokens[3];
	int errors;
};

static void *verify_many(void *arg)
{
	struct job *j = arg;
	for (int i = 0; i < 300; i++) {
		struct plat_auth_result res;
		struct plat_error err = {0};
		if (plat_auth_oidc_verify(j->v, j->tokens[i % 3], &res, &err) != 0 || strcmp(res.subject, "user-42"))
			j->errors++;
	}
	return NULL;
}

/* Many threads verify while the keys are refetched under them. */
static void test_threads(void **state)
{
	(void)state;
	serve_standard(NULL);
	struct plat_auth_oidc *v = verifier(60, NULL);
	struct job jobs[4];
	char *t[3] = {token(rsa, "RS256", "r1"), token(ec, "ES256", "e1"), token(ed, "EdDSA", "d1")};
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct job){.v = v, .tokens = {t[0], t[1], t[2]}};
		pthread_create(&th[i], NULL, verify_many, &jobs[i]);
	}
	struct plat_error err = {0};
	for (int i = 0; i < 5; i++)
		assert_int_equal(plat_auth_oidc_refresh(v, &err), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].errors, 0);
	}
	for (int i = 0; i < 3; i++)
		free(t[i]);
	plat_auth_oidc_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_algorithms),
		cmocka_unit_test(test_claim_mapping),
		cmocka_unit_test(test_attacks),
		cmocka_unit_test(test_rotation_and_rate_limit),
		cmocka_unit_test(test_unavailable_and_bad_sets),
		cmocka_unit_test(test_file_url_and_options),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("oidc", tests, setup, teardown);
}
