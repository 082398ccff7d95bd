/* lib/cache: hits and copies, the generation guard against a stale put, off until
 * enabled and emptied when disabled, TTLs, FIFO eviction within the bound, prefix
 * invalidation, and many threads at once (run under ASan in make check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "clock/clock.h"

static bool get_text(struct plat_cache *c, const char *key, char *out, size_t n, unsigned long long *gen)
{
	void *v;
	size_t len;
	unsigned long long g;
	bool hit = plat_cache_get(c, key, &v, &len, gen ? gen : &g);
	if (hit)
		snprintf(out, n, "%s", (char *)v);
	free(v);
	return hit;
}

static void test_off_until_enabled_and_emptied_when_disabled(void **state)
{
	(void)state;
	struct plat_cache *c = plat_cache_new(10, 60000);
	unsigned long long g;
	char buf[32];
	assert_false(get_text(c, "k", buf, sizeof(buf), &g));
	plat_cache_put(c, "k", "v", 1, g, 0);
	assert_false(get_text(c, "k", buf, sizeof(buf), &g)); /* dropped: nobody listens yet */
	plat_cache_enable(c, true);
	assert_false(get_text(c, "k", buf, sizeof(buf), &g));
	plat_cache_put(c, "k", "v", 1, g, 0);
	assert_true(get_text(c, "k", buf, sizeof(buf), &g));
	assert_string_equal(buf, "v");
	plat_cache_enable(c, false);
	assert_false(get_text(c, "k", buf, sizeof(buf), &g));
	plat_cache_enable(c, true);
	assert_false(get_text(c, "k", buf, sizeof(buf), &g)); /* re-enabled empty */
	struct plat_cache_stats st;
	plat_cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.hits, 1);
	plat_cache_free(c);
}

static void test_values_are_copies(void **state)
{
	(void)state;
	struct plat_cache *c = plat_cache_new(10, 60000);
	plat_cache_enable(c, true);
	unsigned long long g;
	void *v;
	size_t len;
	assert_false(plat_cache_get(c, "bin", &v, &len, &g));
	unsigned char val[5] = {1, 0, 2, 0, 3};
	plat_cache_put(c, "bin", val, sizeof(val), g, 0);
	val[0] = 9; /* the cache holds its own copy */
	assert_true(plat_cache_get(c, "bin", &v, &len, &g));
	assert_int_equal(len, 5);
	assert_int_equal(((unsigned char *)v)[0], 1);
	assert_int_equal(((unsigned char *)v)[4], 3);
	assert_int_equal(((unsigned char *)v)[5], 0); /* NUL past the end, for text */
	((unsigned char *)v)[0] = 7;                  /* and the caller its own */
	free(v);
	assert_true(plat_cache_get(c, "bin", &v, &len, &g));
	assert_int_equal(((unsigned char *)v)[0], 1);
	free(v);
	/* A second put replaces. */
	plat_cache_put(c, "bin", "x", 1, g, 0);
	char buf[8];
	assert_true(get_text(c, "bin", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "x");
	plat_cache_free(c);
}

/* A reader that missed before a change committed must not store what it read. */
static void test_put_after_an_invalidation_is_dropped(void **state)
{
	(void)state;
	struct plat_cache *c = plat_cache_new(10, 60000);
	plat_cache_enable(c, true);
	unsigned long long g;
	char buf[32];
	assert_false(get_text(c, "d:1", buf, sizeof(buf), &g));
	plat_cache_invalidate(c, "d:1"); /* the change lands while the reader reads */
	plat_cache_put(c, "d:1", "old", 3, g, 0);
	assert_false(get_text(c, "d:1", buf, sizeof(buf), &g));
	plat_cache_put(c, "d:1", "new", 3, g, 0);
	assert_true(get_text(c, "d:1", buf, sizeof(buf), NULL));
	assert_string_equal(buf, "new");
	/* Any invalidation counts, and enabling again does too. */
	assert_false(get_text(c, "d:2", buf, sizeof(buf), &g));
	plat_cache_invalidate_prefix(c, "t:");
	plat_cache_put(c, "d:2", "x", 1, g, 0);
	assert_false(get_text(c, "d:2", buf, sizeof(buf), &g));
	plat_cache_enable(c, true);
	plat_cache_put(c, "d:2", "x", 1, g, 0);
	assert_false(get_text(c, "d:2", buf, sizeof(buf), &g));
	struct plat_cache_stats st;
	plat_cache_stats(c, &st);
	assert_int_equal(st.dropped, 3);
	plat_cache_free(c);
}

static void test_prefix_invalidation(void **state)
{
	(void)state;
	struct plat_cache *c = plat_cache_new(100, 60000);
	plat_cache_enable(c, true);
	const char *keys[] = {"t:aa", "t:bb", "n:default", "d:1", "d:1+h", "d:12"};
	for (size_t i = 0; i < 6; i++) {
		unsigned long long g;
		char buf[8];
		get_text(c, keys[i], buf, sizeof(buf), &g);
		plat_cache_put(c, keys[i], "v", 1, g, 0);
	}
	plat_cache_invalidate_prefix(c, "t:");
	char buf[8];
	assert_false(get_text(c, "t:aa", buf, sizeof(buf), NULL));
	assert_false(get_text(c, "t:bb", buf, sizeof(buf), NULL));
	assert_true(get_text(c, "n:default", buf, sizeof(buf), NULL));
	/* A document's entries (with and without history), not another id sharing digits:
	 * the keys carry full UUIDs in use, so a prefix of one is never another's. */
	plat_cache_invalidate_prefix(c, "d:1+");
	assert_true(get_text(c, "d:1", buf, sizeof(buf), NULL));
	assert_false(get_text(c, "d:1+h", buf, sizeof(buf), NULL));
	plat_cache_invalidate(c, "d:1");
	assert_false(get_text(c, "d:1", buf, sizeof(buf), NULL));
	assert_true(get_text(c, "d:12", buf, sizeof(buf), NULL));
	plat_cache_invalidate_prefix(c, "");
	struct plat_cache_stats st;
	plat_cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	plat_cache_free(c);
}

static void test_ttl(void **state)
{
	(void)state;
	struct plat_cache *c = plat_cache_new(10, 60000);
	plat_cache_enable(c, true);
	unsigned long long g;
	char buf[8];
	get_text(c, "short", buf, sizeof(buf), &g);
	plat_cache_put(c, "short", "v", 1, g, 30); /* shorter than the cache's: it holds */
	get_text(c, "long", buf, sizeof(buf), &g);
	plat_cache_put(c, "long", "v", 1, g, 10 * 60000); /* longer: the cache's wins */
	assert_true(get_text(c, "short", buf, sizeof(buf), NULL));
	plat_sleep_ms(60);
	assert_false(get_text(c, "short", buf, sizeof(buf), NULL));
	assert_true(get_text(c, "long", buf, sizeof(buf), NULL));
	plat_cache_free(c);

	c = plat_cache_new(10, 40);
	plat_cache_enable(c, true);
	get_text(c, "long", buf, sizeof(buf), &g);
	plat_cache_put(c, "long", "v", 1, g, 10 * 60000);
	plat_sleep_ms(60);
	assert_false(get_text(c, "long", buf, sizeof(buf), NULL));
	plat_cache_free(c);
}

static void test_bounded_oldest_first(void **state)
{
	(void)state;
	struct plat_cache *c = plat_cache_new(3, 60000);
	plat_cache_enable(c, true);
	char key[16], buf[8];
	for (int i = 0; i < 5; i++) {
		unsigned long long g;
		snprintf(key, sizeof(key), "k%d", i);
		get_text(c, key, buf, sizeof(buf), &g);
		plat_cache_put(c, key, "v", 1, g, 0);
	}
	struct plat_cache_stats st;
	plat_cache_stats(c, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.evictions, 2);
	assert_false(get_text(c, "k0", buf, sizeof(buf), NULL));
	assert_false(get_text(c, "k1", buf, sizeof(buf), NULL));
	for (int i = 2; i < 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_true(get_text(c, key, buf, sizeof(buf), NULL));
	}
	plat_cache_free(c);
}

static struct plat_cache *shared;

static void *hammer(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char key[16];
	for (int i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		snprintf(key, sizeof(key), "d:%u", (seed >> 16) % 200);
		void *v;
		size_t len;
		unsigned long long g;
		if (plat_cache_get(shared, key, &v, &len, &g)) {
			/* Whatever is read is what was put under that key. */
			if (strcmp(v, key) != 0)
				return (void *)1;
			free(v);
		} else if ((seed >> 8) % 50 == 0) {
			plat_cache_invalidate(shared, key);
		} else {
			plat_cache_put(shared, key, key, strlen(key), g, 0);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	shared = plat_cache_new(64, 60000);
	plat_cache_enable(shared, true);
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)(i + 1)), 0);
	for (int i = 0; i < 4; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		assert_null(rv);
	}
	struct plat_cache_stats st;
	plat_cache_stats(shared, &st);
	assert_true(st.entries <= 64);
	assert_true(st.hits > 0);
	assert_int_equal(st.hits + st.misses, 80000);
	plat_cache_free(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_until_enabled_and_emptied_when_disabled),
		cmocka_unit_test(test_values_are_copies),
		cmocka_unit_test(test_put_after_an_invalidation_is_dropped),
		cmocka_unit_test(test_prefix_invalidation),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_bounded_oldest_first),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
