/* lib/auth/localjwt: Ed25519 access tokens, the keyring and its rotation, and the token
 * attacks of issue 15, each refused with nothing but "invalid token". Keys are made by the
 * test (the library's own generator, and OpenSSL for the wrong kinds); none is committed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth/jws.h"
#include "auth/localjwt.h"
#include "mem/mem.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/platctl-localjwt-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static struct plat_auth_keyring *ring_of_dir(void)
{
	struct plat_auth_keyring *kr = NULL;
	struct plat_error err = {0};
	if (plat_auth_keyring_load_dir(dir, &kr, &err) < 0)
		fail_msg("keyring: %s", err.message);
	return kr;
}

static const struct plat_auth_localjwt_verify_options vopts = {
	.issuer = "https://platctl.example", .audience = "platctl", .leeway_s = 0};

static char *issue(const struct plat_auth_keyring *kr, long long now, long long ttl)
{
	struct plat_auth_localjwt_claims c = {.issuer = "https://platctl.example",
					      .subject = "eve",
					      .audience = "platctl",
					      .tenant = "acme",
					      .role = "editor",
					      .ttl_s = ttl,
					      .now = now};
	char *t = NULL;
	struct plat_error err = {0};
	if (plat_auth_localjwt_issue(kr, &c, &t, &err) < 0)
		fail_msg("issue: %s", err.message);
	return t;
}

static EVP_PKEY *read_key(const char *name)
{
	char p[128];
	path_in(p, sizeof(p), name);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

static char *b64(const char *s)
{
	char *o = plat_xmalloc(strlen(s) * 4 / 3 + 4);
	plat_b64url_encode((const unsigned char *)s, strlen(s), o);
	return o;
}

/* A token with any header and payload, signed by pkey (Ed25519) or, with hmac_key, HS256. */
static char *forge(EVP_PKEY *pkey, const unsigned char *hmac_key, size_t hmac_len, const char *header,
		   const char *payload)
{
	char *h = b64(header), *p = b64(payload);
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_printf(&b, "%s.%s", h, p);
	free(h);
	free(p);
	unsigned char sig[64];
	size_t sl = sizeof(sig);
	if (hmac_key) {
		unsigned int hl = 0;
		HMAC(EVP_sha256(), hmac_key, (int)hmac_len, (const unsigned char *)b.data, b.len, sig, &hl);
		sl = hl;
	} else if (pkey) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)b.data, b.len), 1);
		EVP_MD_CTX_free(ctx);
	} else {
		sl = 0;
	}
	char s64[100];
	plat_b64url_encode(sig, sl, s64);
	plat_buf_printf(&b, ".%s", s64);
	return plat_buf_detach(&b);
}

static void expect_ok(const struct plat_auth_keyring *kr, const struct plat_auth_localjwt_verify_options *o,
		      const char *t)
{
	struct plat_auth_result res;
	struct plat_error err = {0};
	int rc = plat_auth_localjwt_verify(kr, o, t, &res, &err);
	if (rc != 0)
		fail_msg("refused (%s)", plat_auth_reason_name(res.reason));
	assert_int_equal(res.kind, PLAT_AUTH_LOCAL);
}

/* Refused for that reason, and the client sees nothing but the generic message. */
static void expect_refused(const struct plat_auth_keyring *kr, const struct plat_auth_localjwt_verify_options *o,
			   const char *t, enum plat_auth_reason why)
{
	struct plat_auth_result res;
	struct plat_error err = {0};
	assert_int_equal(plat_auth_localjwt_verify(kr, o, t, &res, &err), -PLAT_E_AUTH);
	if (res.reason != why)
		fail_msg("reason %s, expected %s", plat_auth_reason_name(res.reason), plat_auth_reason_name(why));
	assert_string_equal(err.message, "invalid token");
	assert_string_equal(err.param, "");
	assert_int_equal(res.kind, PLAT_AUTH_NONE);
	assert_string_equal(res.subject, "");
	assert_string_equal(res.tenant, "");
}

static void test_key_generation(void **state)
{
	(void)state;
	char p[128], kid[PLAT_LOCALJWT_KID_LEN + 1];
	struct plat_error err = {0};
	path_in(p, sizeof(p), "ed25519-20260101T000000Z.pem");
	assert_int_equal(plat_auth_localjwt_key_generate(p, kid, &err), 0);
	assert_int_equal(strlen(kid), PLAT_LOCALJWT_KID_LEN);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* Never replaces a key; and leaves no temporary file behind either way. */
	assert_int_equal(plat_auth_localjwt_key_generate(p, NULL, &err), -PLAT_E_CONFLICT);
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			files++;
			assert_null(strstr(e->d_name, ".tmp"));
		}
	closedir(d);
	assert_int_equal(files, 1);
	struct plat_auth_keyring *kr = ring_of_dir();
	assert_int_equal(plat_auth_keyring_count(kr), 1);
	assert_string_equal(plat_auth_keyring_signing_kid(kr), kid);
	plat_auth_keyring_free(kr);
	/* The name helper sorts by time. */
	char name[40];
	plat_auth_localjwt_key_name(name);
	assert_int_equal(strlen(name), strlen("ed25519-20260101T000000Z.pem"));
	assert_true(strcmp(name, "ed25519-20260101T000000Z.pem") > 0);
	/* An unwritable place is an error, not a crash. */
	assert_int_equal(plat_auth_localjwt_key_generate("/nonexistent-dir/k.pem", NULL, &err), -PLAT_E_FAILURE);
}

static void test_bad_key_files(void **state)
{
	(void)state;
	char p[128];
	struct plat_error err = {0};
	struct plat_auth_keyring *kr = NULL;
	path_in(p, sizeof(p), "ed25519-20260101T000000Z.pem");
	/* Readable by the group: refused, naming the file and the mode. */
	chmod(p, 0640);
	assert_int_equal(plat_auth_keyring_load_dir(dir, &kr, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "readable by others"));
	assert_null(kr);
	chmod(p, 0600);
	/* An RSA key is not an Ed25519 key. */
	char rp[128];
	path_in(rp, sizeof(rp), "rsa.pem");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	FILE *f = fopen(rp, "w");
	PEM_write_PrivateKey(f, rsa, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	chmod(rp, 0600);
	EVP_PKEY_free(rsa);
	const char *both[] = {p, rp};
	assert_int_equal(plat_auth_keyring_load_files(both, 2, &kr, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "not an Ed25519 key"));
	/* Garbage, a missing file, the same key twice, an empty directory. */
	f = fopen(rp, "w");
	fputs("-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n", f);
	fclose(f);
	assert_int_equal(plat_auth_keyring_load_files(both, 2, &kr, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "not an unencrypted PEM private key"));
	/* An encrypted key is refused, never prompted for (stdin is not read). */
	EVP_PKEY *edk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	f = fopen(rp, "w");
	PEM_write_PrivateKey(f, edk, EVP_aes_256_cbc(), (unsigned char *)"pw", 2, NULL, NULL);
	fclose(f);
	EVP_PKEY_free(edk);
	assert_int_equal(plat_auth_keyring_load_files(both, 2, &kr, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "not an unencrypted PEM private key"));
	/* A symlink to a key is followed (secret mounts); the key's own mode still counts. */
	char lp[128];
	path_in(lp, sizeof(lp), "link.pem");
	assert_int_equal(symlink(p, lp), 0);
	const char *linked[] = {lp};
	assert_int_equal(plat_auth_keyring_load_files(linked, 1, &kr, &err), 0);
	plat_auth_keyring_free(kr);
	kr = NULL;
	chmod(p, 0644);
	assert_int_equal(plat_auth_keyring_load_files(linked, 1, &kr, &err), -PLAT_E_CONFIG);
	chmod(p, 0600);
	unlink(lp);
	unlink(rp);
	assert_int_equal(plat_auth_keyring_load_files(both, 2, &kr, &err), -PLAT_E_CONFIG);
	const char *twice[] = {p, p};
	assert_int_equal(plat_auth_keyring_load_files(twice, 2, &kr, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "same key"));
	assert_int_equal(plat_auth_keyring_load_files(NULL, 0, &kr, &err), -PLAT_E_CONFIG);
	char empty[128];
	path_in(empty, sizeof(empty), "empty");
	mkdir(empty, 0700);
	assert_int_equal(plat_auth_keyring_load_dir(empty, &kr, &err), -PLAT_E_CONFIG);
	rmdir(empty);
}

static void test_issue_and_verify(void **state)
{
	(void)state;
	struct plat_auth_keyring *kr = ring_of_dir();
	long long now = (long long)time(NULL);
	char *t = issue(kr, 0, 900);
	struct plat_auth_result res;
	struct plat_error err = {0};
	assert_int_equal(plat_auth_localjwt_verify(kr, &vopts, t, &res, &err), 0);
	assert_int_equal(res.kind, PLAT_AUTH_LOCAL);
	assert_string_equal(res.subject, "eve");
	assert_string_equal(res.tenant, "acme");
	assert_string_equal(res.role, "editor");
	assert_int_equal(strlen(res.token_id), 32);
	assert_true(res.expires_at >= now + 900 && res.expires_at <= now + 902);
	/* The header is what the issue asks for. */
	const char *dot = strchr(t, '.');
	unsigned char hdr[256];
	long n = plat_b64url_decode(t, (size_t)(dot - t), hdr);
	assert_true(n > 0);
	hdr[n] = '\0';
	char want[128];
	snprintf(want, sizeof(want), "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
		 plat_auth_keyring_signing_kid(kr));
	assert_string_equal((char *)hdr, want);
	/* Two tokens differ in their jti. */
	char *t2 = issue(kr, 0, 900);
	struct plat_auth_result res2;
	assert_int_equal(plat_auth_localjwt_verify(kr, &vopts, t2, &res2, &err), 0);
	assert_string_not_equal(res.token_id, res2.token_id);
	free(t);
	free(t2);
	plat_auth_keyring_free(kr);
}

static void test_attacks(void **state)
{
	(void)state;
	struct plat_auth_keyring *kr = ring_of_dir();
	const char *kid = plat_auth_keyring_signing_kid(kr);
	EVP_PKEY *key = read_key("ed25519-20260101T000000Z.pem");
	long long now = (long long)time(NULL);
	char hdr[160], claims[512];
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", kid);
#define CLAIMS(iss, aud, exp, nbf)                                                                              \
	snprintf(claims, sizeof(claims),                                                                          \
		 "{\"iss\":\"%s\",\"sub\":\"eve\",\"aud\":\"%s\",\"exp\":%lld,\"nbf\":%lld,\"iat\":%lld,"         \
		 "\"jti\":\"j1\",\"tenant\":\"acme\",\"role\":\"admin\"}",                                         \
		 iss, aud, (long long)(exp), (long long)(nbf), now)
	CLAIMS("https://platctl.example", "platctl", now + 600, now);
	char *good = forge(key, NULL, 0, hdr, claims);
	expect_ok(kr, &vopts, good); /* the forging itself is right */

	/* alg none, with and without a signature part. */
	char none_hdr[160];
	snprintf(none_hdr, sizeof(none_hdr), "{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", kid);
	char *t = forge(NULL, NULL, 0, none_hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_ALG_NONE);
	free(t);
	snprintf(none_hdr, sizeof(none_hdr), "{\"alg\":\"NoNe\",\"kid\":\"%s\"}", kid);
	t = forge(key, NULL, 0, none_hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_ALG_NONE);
	free(t);

	/* HS256 keyed with the public key (raw and PEM), the classic confusion attack. */
	unsigned char pub[32];
	size_t pl = sizeof(pub);
	EVP_PKEY_get_raw_public_key(key, pub, &pl);
	char hs_hdr[160];
	snprintf(hs_hdr, sizeof(hs_hdr), "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", kid);
	t = forge(NULL, pub, pl, hs_hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_ALG_HMAC);
	free(t);
	BIO *mem = BIO_new(BIO_s_mem());
	PEM_write_bio_PUBKEY(mem, key);
	char *pem;
	long pem_len = BIO_get_mem_data(mem, &pem);
	t = forge(NULL, (unsigned char *)pem, (size_t)pem_len, hs_hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_ALG_HMAC);
	free(t);
	BIO_free(mem);

	/* Another algorithm named for this key. */
	char es_hdr[160];
	snprintf(es_hdr, sizeof(es_hdr), "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", kid);
	t = forge(key, NULL, 0, es_hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_ALG_MISMATCH);
	free(t);

	/* Expired; not yet valid; and the same with leeway. */
	CLAIMS("https://platctl.example", "platctl", now - 30, now - 600);
	t = forge(key, NULL, 0, hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_EXPIRED);
	struct plat_auth_localjwt_verify_options lenient = vopts;
	lenient.leeway_s = 60;
	expect_ok(kr, &lenient, t);
	free(t);
	CLAIMS("https://platctl.example", "platctl", now + 600, now + 30);
	t = forge(key, NULL, 0, hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_NOT_YET_VALID);
	expect_ok(kr, &lenient, t);
	free(t);

	/* Wrong issuer, wrong audience (also inside an array), no exp. */
	CLAIMS("https://evil.example", "platctl", now + 600, now);
	t = forge(key, NULL, 0, hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_ISSUER);
	free(t);
	CLAIMS("https://platctl.example", "other", now + 600, now);
	t = forge(key, NULL, 0, hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_AUDIENCE);
	free(t);
	snprintf(claims, sizeof(claims),
		 "{\"iss\":\"https://platctl.example\",\"sub\":\"eve\",\"aud\":[\"a\",\"platctl\"],\"exp\":%lld,"
		 "\"tenant\":\"acme\",\"role\":\"viewer\"}", now + 60);
	t = forge(key, NULL, 0, hdr, claims);
	expect_ok(kr, &vopts, t);
	free(t);
	snprintf(claims, sizeof(claims),
		 "{\"iss\":\"https://platctl.example\",\"sub\":\"eve\",\"aud\":\"platctl\",\"tenant\":\"acme\","
		 "\"role\":\"viewer\"}");
	t = forge(key, NULL, 0, hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_CLAIMS);
	free(t);
	/* A role platctl does not have; no tenant. */
	snprintf(claims, sizeof(claims),
		 "{\"iss\":\"https://platctl.example\",\"sub\":\"eve\",\"aud\":\"platctl\",\"exp\":%lld,"
		 "\"tenant\":\"acme\",\"role\":\"root\"}", now + 60);
	t = forge(key, NULL, 0, hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_NO_ROLE);
	free(t);
	snprintf(claims, sizeof(claims),
		 "{\"iss\":\"https://platctl.example\",\"sub\":\"eve\",\"aud\":\"platctl\",\"exp\":%lld,"
		 "\"role\":\"admin\"}", now + 60);
	t = forge(key, NULL, 0, hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_NO_TENANT);
	free(t);

	/* A typ other than at+jwt: an ID token or some other JWT of the same key. */
	char id_hdr[160];
	snprintf(id_hdr, sizeof(id_hdr), "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	CLAIMS("https://platctl.example", "platctl", now + 600, now);
	t = forge(key, NULL, 0, id_hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_TYPE);
	free(t);

	/* Unknown kid, and no kid. */
	t = forge(key, NULL, 0, "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"AAAAAAAAAAA\"}", claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_UNKNOWN_KID);
	free(t);
	t = forge(key, NULL, 0, "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\"}", claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_UNKNOWN_KID);
	free(t);

	/* Tampered payload: the good token's claims swapped for a more generous role. */
	char *swapped_claims = strdup(claims);
	char *role = strstr(swapped_claims, "\"admin\"");
	memcpy(role, "\"admim\"", 7);
	char *evil = forge(key, NULL, 0, hdr, swapped_claims);
	char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
	char *edot1 = strchr(evil, '.'), *edot2 = strrchr(evil, '.');
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_printf(&b, "%.*s%.*s%s", (int)(dot1 - good), good, (int)(edot2 - edot1), edot1, dot2);
	expect_refused(kr, &vopts, b.data, PLAT_AUTH_R_BAD_SIGNATURE);
	plat_buf_free(&b);
	free(evil);
	free(swapped_claims);
	/* One bit of the payload flipped. */
	char *tp = strdup(good);
	tp[(dot1 - good) + 5] ^= 1;
	struct plat_auth_result res;
	struct plat_error err = {0};
	assert_int_equal(plat_auth_localjwt_verify(kr, &vopts, tp, &res, &err), -PLAT_E_AUTH);
	assert_true(res.reason == PLAT_AUTH_R_BAD_SIGNATURE || res.reason == PLAT_AUTH_R_MALFORMED);
	free(tp);
	/* Tampered signature: each of several positions. */
	for (size_t k = 1; k < 80; k += 13) {
		char *ts = strdup(good);
		char *c = strrchr(ts, '.') + k;
		*c = *c == 'A' ? 'B' : 'A';
		assert_int_equal(plat_auth_localjwt_verify(kr, &vopts, ts, &res, &err), -PLAT_E_AUTH);
		assert_true(res.reason == PLAT_AUTH_R_BAD_SIGNATURE || res.reason == PLAT_AUTH_R_MALFORMED);
		assert_string_equal(err.message, "invalid token");
		free(ts);
	}
	/* A truncated signature; an extra part; no signature. */
	char *tr = strdup(good);
	tr[strlen(tr) - 4] = '\0';
	assert_int_equal(plat_auth_localjwt_verify(kr, &vopts, tr, &res, &err), -PLAT_E_AUTH);
	assert_true(res.reason == PLAT_AUTH_R_BAD_SIGNATURE || res.reason == PLAT_AUTH_R_MALFORMED);
	free(tr);
	plat_buf_printf(&b, "%s.x", good);
	expect_refused(kr, &vopts, b.data, PLAT_AUTH_R_MALFORMED);
	plat_buf_reset(&b);
	plat_buf_printf(&b, "%.*s.", (int)(dot2 - good), good);
	expect_refused(kr, &vopts, b.data, PLAT_AUTH_R_MALFORMED);
	plat_buf_free(&b);

	/* 100 KB: refused on its size. */
	char *big = plat_xmalloc(100 * 1024 + 1);
	memset(big, 'A', 100 * 1024);
	big[100] = '.';
	big[200] = '.';
	big[100 * 1024] = '\0';
	expect_refused(kr, &vopts, big, PLAT_AUTH_R_TOO_LONG);
	free(big);

	/* Garbage: bad base64, padding, JSON that is not an object, nothing at all. */
	static const char *const garbage[] = {
		"", ".", "..", "a.b.c", "!!!.@@@.###", "eyJhbGciOiJFZERTQSJ9.e30=.AAAA", "W10.e30.AAAA",
		"eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.AAAA", "not a token at all", "Bearer x.y.z",
		"eyJhbGciOiJFZERTQSJ9\n.e30.AAAA",
	};
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		expect_refused(kr, &vopts, garbage[i], PLAT_AUTH_R_MALFORMED);
	expect_refused(kr, &vopts, NULL, PLAT_AUTH_R_MALFORMED);
	/* A JSON header with trailing junk, and a kid that is not a string. */
	t = forge(key, NULL, 0, "{\"alg\":\"EdDSA\",\"kid\":1}", claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_MALFORMED);
	free(t);
	t = forge(key, NULL, 0, "{\"alg\":\"EdDSA\"} {}", claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_MALFORMED);
	free(t);
	char crit_hdr[200];
	snprintf(crit_hdr, sizeof(crit_hdr), "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"%s\",\"crit\":[\"x\"],\"x\":1}",
		 kid);
	t = forge(key, NULL, 0, crit_hdr, claims);
	expect_refused(kr, &vopts, t, PLAT_AUTH_R_MALFORMED);
	free(t);
#undef CLAIMS
	free(good);
	EVP_PKEY_free(key);
	plat_auth_keyring_free(kr);
}

/* A new key signs, the old one still verifies what it signed; once its file is gone its
 * tokens are refused as an unknown kid. */
static void test_rotation(void **state)
{
	(void)state;
	struct plat_auth_keyring *kr = ring_of_dir();
	char old_kid[PLAT_LOCALJWT_KID_LEN + 1];
	snprintf(old_kid, sizeof(old_kid), "%s", plat_auth_keyring_signing_kid(kr));
	char *t_old = issue(kr, 0, 600);
	plat_auth_keyring_free(kr);

	char p[128], new_kid[PLAT_LOCALJWT_KID_LEN + 1];
	struct plat_error err = {0};
	path_in(p, sizeof(p), "ed25519-20270101T000000Z.pem");
	assert_int_equal(plat_auth_localjwt_key_generate(p, new_kid, &err), 0);
	kr = ring_of_dir();
	assert_int_equal(plat_auth_keyring_count(kr), 2);
	assert_string_equal(plat_auth_keyring_signing_kid(kr), new_kid);
	assert_string_not_equal(old_kid, new_kid);
	char *t_new = issue(kr, 0, 600);
	expect_ok(kr, &vopts, t_old);
	expect_ok(kr, &vopts, t_new);
	plat_auth_keyring_free(kr);

	/* The list form names files in any order; the later name still signs. */
	char old_path[128];
	path_in(old_path, sizeof(old_path), "ed25519-20260101T000000Z.pem");
	const char *files[] = {p, old_path};
	assert_int_equal(plat_auth_keyring_load_files(files, 2, &kr, &err), 0);
	assert_string_equal(plat_auth_keyring_signing_kid(kr), new_kid);
	plat_auth_keyring_free(kr);
	/* The setting's two forms: a directory, or files separated by commas. */
	char spec[300];
	snprintf(spec, sizeof(spec), "%s, %s", p, old_path);
	assert_int_equal(plat_auth_keyring_load(spec, &kr, &err), 0);
	assert_int_equal(plat_auth_keyring_count(kr), 2);
	assert_string_equal(plat_auth_keyring_signing_kid(kr), new_kid);
	plat_auth_keyring_free(kr);
	assert_int_equal(plat_auth_keyring_load(old_path, &kr, &err), 0);
	assert_string_equal(plat_auth_keyring_signing_kid(kr), old_kid);
	plat_auth_keyring_free(kr);
	assert_int_equal(plat_auth_keyring_load(dir, &kr, &err), 0);
	assert_int_equal(plat_auth_keyring_count(kr), 2);
	plat_auth_keyring_free(kr);
	assert_int_equal(plat_auth_keyring_load("", &kr, &err), -PLAT_E_CONFIG);
	assert_int_equal(plat_auth_keyring_load(" , ", &kr, &err), -PLAT_E_CONFIG);

	unlink(old_path);
	kr = ring_of_dir();
	expect_refused(kr, &vopts, t_old, PLAT_AUTH_R_UNKNOWN_KID);
	expect_ok(kr, &vopts, t_new);
	plat_auth_keyring_free(kr);
	free(t_old);
	free(t_new);
}

static void test_b64url(void **state)
{
	(void)state;
	unsigned char out[16];
	char enc[16];
	assert_int_equal(plat_b64url_encode((const unsigned char *)"\xfb\xff", 2, enc), 3);
	assert_string_equal(enc, "-_8");
	assert_int_equal(plat_b64url_decode("-_8", 3, out), 2);
	assert_memory_equal(out, "\xfb\xff", 2);
	assert_int_equal(plat_b64url_decode("-_9", 3, out), -1); /* non-zero trailing bits */
	assert_int_equal(plat_b64url_decode("+/8", 3, out), -1); /* standard alphabet */
	assert_int_equal(plat_b64url_decode("AAAAA", 5, out), -1);
	assert_int_equal(plat_b64url_decode("AA==", 4, out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_key_generation),
		cmocka_unit_test(test_bad_key_files),
		cmocka_unit_test(test_issue_and_verify),
		cmocka_unit_test(test_attacks),
		cmocka_unit_test(test_rotation),
	};
	return cmocka_run_group_tests_name("localjwt", tests, setup, teardown);
}
