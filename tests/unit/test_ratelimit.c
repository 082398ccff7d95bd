/* The server's token buckets: burst, refill, Retry-After, keys apart, no limit at rate 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "http/ratelimit.h"

static void test_burst_then_refill(void **state)
{
	(void)state;
	struct plat_ratelimit *rl = plat_ratelimit_new(2, 5);
	int retry;
	for (int i = 0; i < 5; i++)
		assert_true(plat_ratelimit_take(rl, "default/ada", 1000, &retry));
	assert_false(plat_ratelimit_take(rl, "default/ada", 1000, &retry));
	assert_int_equal(retry, 1);
	/* Half a second at 2/s is one token. */
	assert_true(plat_ratelimit_take(rl, "default/ada", 1500, &retry));
	assert_false(plat_ratelimit_take(rl, "default/ada", 1500, &retry));
	/* A long pause refills to the burst, not beyond. */
	for (int i = 0; i < 5; i++)
		assert_true(plat_ratelimit_take(rl, "default/ada", 100000, &retry));
	assert_false(plat_ratelimit_take(rl, "default/ada", 100000, &retry));
	plat_ratelimit_free(rl);
}

static void test_retry_after_and_keys(void **state)
{
	(void)state;
	struct plat_ratelimit *rl = plat_ratelimit_new(0.1, 1); /* one per 10 s */
	int retry;
	assert_true(plat_ratelimit_take(rl, "a", 0, &retry));
	assert_false(plat_ratelimit_take(rl, "a", 0, &retry));
	assert_int_equal(retry, 10);
	assert_false(plat_ratelimit_take(rl, "a", 4000, &retry));
	assert_int_equal(retry, 6);
	/* Another principal has its own bucket. */
	assert_true(plat_ratelimit_take(rl, "b", 4000, &retry));
	plat_ratelimit_free(rl);
}

static void test_unlimited_and_many_keys(void **state)
{
	(void)state;
	struct plat_ratelimit *rl = plat_ratelimit_new(0, 1);
	int retry;
	for (int i = 0; i < 1000; i++)
		assert_true(plat_ratelimit_take(rl, "a", 0, &retry));
	plat_ratelimit_free(rl);
	/* More principals than slots: the table reuses the least recent, never fails. */
	rl = plat_ratelimit_new(1, 1);
	char key[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "t/p%d", i);
		assert_true(plat_ratelimit_take(rl, key, i, &retry));
	}
	plat_ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refill),
		cmocka_unit_test(test_retry_after_and_keys),
		cmocka_unit_test(test_unlimited_and_many_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
