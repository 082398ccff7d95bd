/* lib/auth/apitoken: the token format, its checksum, the stored hash and the cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "auth/apitoken.h"

static void test_generate_format_and_hash(void **state)
{
	(void)state;
	char t[PLAT_APITOKEN_LEN + 1], u[PLAT_APITOKEN_LEN + 1];
	unsigned char h[32], h2[32], want[32];
	struct plat_error err = {0};
	assert_int_equal(plat_auth_apitoken_generate(t, h, &err), 0);
	assert_int_equal(plat_auth_apitoken_generate(u, h2, &err), 0);
	assert_int_equal(strlen(t), 42);
	assert_memory_equal(t, "plat_", 5);
	assert_int_equal(strspn(t + 5, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"), 37);
	assert_string_not_equal(t, u);
	assert_memory_not_equal(h, h2, 32);
	/* The stored hash is plain SHA-256 of the whole token, as token_sha256 expects. */
	unsigned int n;
	EVP_Digest(t, strlen(t), want, &n, EVP_sha256(), NULL);
	assert_memory_equal(h, want, 32);
	plat_auth_apitoken_hash(t, h2);
	assert_memory_equal(h2, want, 32);
	assert_int_equal(plat_auth_apitoken_check(t, NULL, &err), 0);
}

/* The random part is uniform over base62: no digit is missing or much likelier. */
static void test_random_part_is_uniform(void **state)
{
	(void)state;
	static const char alpha[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned counts[62] = {0};
	char t[PLAT_APITOKEN_LEN + 1];
	unsigned char h[32];
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(plat_auth_apitoken_generate(t, h, NULL), 0);
		for (int k = 5; k < 5 + PLAT_APITOKEN_RANDOM_LEN; k++)
			counts[strchr(alpha, t[k]) - alpha]++;
	}
	/* 62,000 draws: 1,000 expected per digit, sd about 31. */
	for (int d = 0; d < 62; d++) {
		assert_true(counts[d] > 820);
		assert_true(counts[d] < 1180);
	}
}

static void expect_refused(const char *token, enum plat_auth_reason why)
{
	struct plat_auth_result res;
	memset(&res, 0x5a, sizeof(res));
	struct plat_error err = {0};
	assert_int_equal(plat_auth_apitoken_check(token, &res, &err), -PLAT_E_AUTH);
	assert_int_equal(res.reason, why);
	assert_string_equal(err.message, "invalid token");
	assert_string_equal(res.subject, "");
}

static void test_bad_tokens(void **state)
{
	(void)state;
	char t[PLAT_APITOKEN_LEN + 1];
	unsigned char h[32];
	assert_int_equal(plat_auth_apitoken_generate(t, h, NULL), 0);

	/* Not platctl's: prefix, length, alphabet. */
	expect_refused(NULL, PLAT_AUTH_R_MALFORMED);
	expect_refused("", PLAT_AUTH_R_MALFORMED);
	expect_refused("ghp_16C7e42F292c6912E7710c838347Ae178B4a", PLAT_AUTH_R_MALFORMED);
	char x[64];
	snprintf(x, sizeof(x), "Plat_%s", t + 5);
	expect_refused(x, PLAT_AUTH_R_MALFORMED);
	snprintf(x, sizeof(x), "%s0", t);
	expect_refused(x, PLAT_AUTH_R_MALFORMED);
	snprintf(x, sizeof(x), "%.41s", t);
	expect_refused(x, PLAT_AUTH_R_MALFORMED);
	snprintf(x, sizeof(x), "%s", t);
	x[20] = '-';
	expect_refused(x, PLAT_AUTH_R_MALFORMED);
	x[20] = '\xc3';
	expect_refused(x, PLAT_AUTH_R_MALFORMED);

	/* A typo anywhere after the prefix (a changed, or two swapped characters) is a
	 * checksum mismatch. */
	for (int k = 5; k < PLAT_APITOKEN_LEN; k++) {
		snprintf(x, sizeof(x), "%s", t);
		x[k] = x[k] == 'a' ? 'b' : 'a';
		expect_refused(x, PLAT_AUTH_R_CHECKSUM);
	}
	for (int k = 5; k < 5 + PLAT_APITOKEN_RANDOM_LEN - 1; k++) {
		snprintf(x, sizeof(x), "%s", t);
		if (x[k] == x[k + 1])
			continue;
		char c = x[k];
		x[k] = x[k + 1];
		x[k + 1] = c;
		expect_refused(x, PLAT_AUTH_R_CHECKSUM);
	}
}

/* A known vector: the checksum is CRC32 (IEEE) of the random part in six base62 digits. */
static void test_checksum_vector(void **state)
{
	(void)state;
	/* A token built by hand from the documented scheme is accepted: the checksum is
	 * computed here independently of the library. */
	const char *random_part = "123456789abcdefghijABCDEFGHIJ01"; /* 31 characters */
	uint32_t c = 0xffffffffu;
	for (const char *p = random_part; *p; p++) {
		c ^= (unsigned char)*p;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	c = ~c;
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char sum[7];
	for (int i = 5; i >= 0; i--) {
		sum[i] = b62[c % 62];
		c /= 62;
	}
	sum[6] = '\0';
	char t[64];
	snprintf(t, sizeof(t), "plat_%s%s", random_part, sum);
	assert_int_equal(plat_auth_apitoken_check(t, NULL, NULL), 0);
	/* And the CRC itself is the standard one. */
	c = 0xffffffffu;
	for (const char *p = "123456789"; *p; p++) {
		c ^= (unsigned char)*p;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	assert_int_equal(~c, 0xCBF43926u);
}

static void test_cache(void **state)
{
	(void)state;
	struct plat_auth_apitoken_cache *c = plat_auth_apitoken_cache_new(64, 60);
	char t[PLAT_APITOKEN_LEN + 1];
	unsigned char h[32], got[32];
	assert_int_equal(plat_auth_apitoken_generate(t, h, NULL), 0);
	struct plat_auth_result res;
	struct plat_error err = {0};
	assert_int_equal(plat_auth_apitoken_verify_cached(c, t, got, &res, &err), 0); /* miss */
	assert_memory_equal(got, h, 32);
	struct plat_auth_result r = {.kind = PLAT_AUTH_API_TOKEN, .expires_at = 0};
	snprintf(r.subject, sizeof(r.subject), "ci-bot");
	snprintf(r.tenant, sizeof(r.tenant), "acme");
	snprintf(r.role, sizeof(r.role), "editor");
	plat_auth_apitoken_cache_put(c, h, &r);
	assert_int_equal(plat_auth_apitoken_verify_cached(c, t, got, &res, &err), 1);
	assert_string_equal(res.subject, "ci-bot");
	assert_string_equal(res.role, "editor");
	/* A token that fails its checksum is refused before the cache is consulted. */
	char bad[64];
	snprintf(bad, sizeof(bad), "%s", t);
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	assert_int_equal(plat_auth_apitoken_verify_cached(c, bad, got, &res, &err), -PLAT_E_AUTH);
	assert_int_equal(res.reason, PLAT_AUTH_R_CHECKSUM);
	/* Revoked in this process: forgotten at once. */
	plat_auth_apitoken_cache_forget(c, h);
	assert_int_equal(plat_auth_apitoken_verify_cached(c, t, got, &res, &err), 0);
	/* A token that has expired is never cached, one about to is kept only until then. */
	r.expires_at = (long long)time(NULL) - 1;
	plat_auth_apitoken_cache_put(c, h, &r);
	assert_false(plat_auth_apitoken_cache_get(c, h, &res));
	r.expires_at = (long long)time(NULL) + 1;
	plat_auth_apitoken_cache_put(c, h, &r);
	assert_true(plat_auth_apitoken_cache_get(c, h, &res));
	struct timespec ts = {2, 100000000};
	nanosleep(&ts, NULL);
	assert_false(plat_auth_apitoken_cache_get(c, h, &res));
	r.expires_at = 0;
	/* Many more tokens than slots: the cache stays bounded and correct for what it holds. */
	for (int i = 0; i < 1000; i++) {
		unsigned char hi[32];
		assert_int_equal(plat_auth_apitoken_generate(t, hi, NULL), 0);
		snprintf(r.subject, sizeof(r.subject), "p%d", i);
		plat_auth_apitoken_cache_put(c, hi, &r);
		assert_true(plat_auth_apitoken_cache_get(c, hi, &res));
		assert_string_equal(res.subject, r.subject);
	}
	plat_auth_apitoken_cache_forget(c, NULL);
	assert_false(plat_auth_apitoken_cache_get(c, h, &res));
	plat_auth_apitoken_cache_free(c);
}

struct job {
	struct plat_auth_apitoken_cache *c;
	int errors;
};

static void *hammer(void *arg)
{
	struct job *j = arg;
	struct plat_auth_result r = {.kind = PLAT_AUTH_API_TOKEN}, got;
	for (int i = 0; i < 2000; i++) {
		char t[PLAT_APITOKEN_LEN + 1];
		unsigned char h[32];
		plat_auth_apitoken_generate(t, h, NULL);
		snprintf(r.subject, sizeof(r.subject), "%s", t);
		plat_auth_apitoken_cache_put(j->c, h, &r);
		if (plat_auth_apitoken_cache_get(j->c, h, &got) && strcmp(got.subject, t))
			j->errors++; /* a hit must be this token's own entry */
	}
	return NULL;
}

static void test_cache_threads(void **state)
{
	(void)state;
	struct plat_auth_apitoken_cache *c = plat_auth_apitoken_cache_new(16, 60);
	pthread_t th[4];
	struct job jobs[4];
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct job){.c = c};
		pthread_create(&th[i], NULL, hammer, &jobs[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].errors, 0);
	}
	plat_auth_apitoken_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_format_and_hash),
		cmocka_unit_test(test_random_part_is_uniform),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_checksum_vector),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_threads),
	};
	return cmocka_run_group_tests_name("apitoken", tests, NULL, NULL);
}
