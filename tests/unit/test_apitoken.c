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
#include "auth/tokens.h"
#include "cache/cache.h"
#include "svc/svc.h"

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

/* The server's token lookup in front of the database: lib/cache, keyed by the hash. */
static void test_cache(void **state)
{
	(void)state;
	struct plat_cache *c = plat_cache_new(64, 60000);
	plat_cache_enable(c, true);
	char t[PLAT_APITOKEN_LEN + 1], pid[37];
	unsigned char h[32];
	assert_int_equal(plat_auth_apitoken_generate(t, h, NULL), 0);
	struct plat_auth_result res;
	struct plat_error err = {0};
	struct plat_tokens_cache_key key;
	assert_int_equal(plat_tokens_cache_lookup(c, t, &res, pid, &key, &err), 0); /* miss */
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	assert_string_equal(key.hash_hex, hex); /* what the database is asked for */
	assert_null(strstr(key.key, t));        /* the token itself is never a key */
	struct plat_auth_result r = {.kind = PLAT_AUTH_API_TOKEN, .expires_at = 0};
	snprintf(r.subject, sizeof(r.subject), "ci-bot");
	snprintf(r.tenant, sizeof(r.tenant), "acme");
	snprintf(r.role, sizeof(r.role), "editor");
	plat_tokens_cache_remember(c, &key, &r, "00000000-0000-0000-0000-000000000001");
	assert_int_equal(plat_tokens_cache_lookup(c, t, &res, pid, &key, &err), 1);
	assert_string_equal(res.subject, "ci-bot");
	assert_string_equal(res.role, "editor");
	assert_string_equal(pid, "00000000-0000-0000-0000-000000000001");
	/* A token that fails its checksum is refused before the cache is consulted. */
	char bad[64];
	snprintf(bad, sizeof(bad), "%s", t);
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	assert_int_equal(plat_tokens_cache_lookup(c, bad, &res, pid, &key, &err), -PLAT_E_AUTH);
	assert_int_equal(res.reason, PLAT_AUTH_R_CHECKSUM);
	/* Invalidated (a revocation's notification): asked of the database again. */
	plat_cache_invalidate_prefix(c, PLAT_CACHE_TOKEN);
	assert_int_equal(plat_tokens_cache_lookup(c, t, &res, pid, &key, &err), 0);
	/* A token that has expired is never remembered; one about to is refused once it has. */
	r.expires_at = (long long)time(NULL) - 1;
	plat_tokens_cache_remember(c, &key, &r, pid);
	assert_int_equal(plat_tokens_cache_lookup(c, t, &res, pid, &key, &err), 0);
	r.expires_at = (long long)time(NULL) + 1;
	plat_tokens_cache_remember(c, &key, &r, pid);
	assert_int_equal(plat_tokens_cache_lookup(c, t, &res, pid, &key, &err), 1);
	struct timespec ts = {2, 100000000};
	nanosleep(&ts, NULL);
	int rc = plat_tokens_cache_lookup(c, t, &res, pid, &key, &err);
	assert_true(rc == 0 || (rc == -PLAT_E_AUTH && res.reason == PLAT_AUTH_R_EXPIRED));
	/* No cache (a command, not a server): always a miss. */
	assert_int_equal(plat_tokens_cache_lookup(NULL, t, &res, pid, &key, &err), 0);
	plat_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_format_and_hash),
		cmocka_unit_test(test_random_part_is_uniform),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_checksum_vector),
		cmocka_unit_test(test_cache),
	};
	return cmocka_run_group_tests_name("apitoken", tests, NULL, NULL);
}
