/* Core helpers: errors, arena and buffers, UTF-8 and terminal escaping, edit distance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error/error.h"
#include "ids/ids.h"
#include "mem/mem.h"
#include "str/str.h"

static void test_exit_code_table(void **state)
{
	(void)state;
	/* The documented contract (README.md, platctl(1)). */
	assert_int_equal(plat_error_exit_code(PLAT_OK), 0);
	assert_int_equal(plat_error_exit_code(PLAT_E_FAILURE), 1);
	assert_int_equal(plat_error_exit_code(PLAT_E_USAGE), 2);
	assert_int_equal(plat_error_exit_code(PLAT_E_CONFIG), 3);
	assert_int_equal(plat_error_exit_code(PLAT_E_AUTH), 4);
	assert_int_equal(plat_error_exit_code(PLAT_E_PERMISSION), 4);
	assert_int_equal(plat_error_exit_code(PLAT_E_NOT_FOUND), 5);
	assert_int_equal(plat_error_exit_code(PLAT_E_CONFLICT), 6);
	assert_int_equal(plat_error_exit_code(PLAT_E_UNAVAILABLE), 7);
	assert_int_equal(plat_error_exit_code(PLAT_E_INTERNAL), 70);
	assert_int_equal(plat_error_http_status(PLAT_E_NOT_FOUND), 404);
	assert_int_equal(plat_error_http_status(PLAT_E_AUTH), 401);
	assert_int_equal(plat_error_http_status(PLAT_E_PERMISSION), 403);
	assert_int_equal(plat_error_http_status(PLAT_E_CONFLICT), 409);
	assert_int_equal(plat_error_http_status(PLAT_E_UNAVAILABLE), 503);
	/* Out-of-range kinds are internal errors, never a crash or exit 0. */
	assert_int_equal(plat_error_exit_code((enum plat_error_kind)999), 70);
	assert_int_equal(plat_error_exit_code((enum plat_error_kind)-3), 70);
	for (int k = 0; k < PLAT_E__COUNT; k++)
		assert_non_null(plat_error_kind_name((enum plat_error_kind)k));
}

/* Every kind has a row "| code | name |" in the README's exit code table. */
static void test_exit_codes_documented(void **state)
{
	(void)state;
	FILE *f = fopen("README.md", "r");
	if (!f)
		fail_msg("README.md not found: run the tests from the repository root");
	char *text = plat_xcalloc(1, 1 << 20);
	size_t n = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (int k = 0; k < PLAT_E__COUNT; k++) {
		char row[64];
		snprintf(row, sizeof(row), "| %d | %s |", plat_error_exit_code((enum plat_error_kind)k),
			 plat_error_kind_name((enum plat_error_kind)k));
		if (!strstr(text, row))
			fail_msg("README.md lacks the exit code row '%s'", row);
	}
	free(text);
}

static void test_error_set_and_wrap(void **state)
{
	(void)state;
	struct plat_error err = {0};
	assert_int_equal(plat_error_set(&err, PLAT_E_NOT_FOUND, "document '%s' not found", "abc"), -PLAT_E_NOT_FOUND);
	assert_int_equal(err.kind, PLAT_E_NOT_FOUND);
	plat_error_wrap(&err, "show %d", 1);
	assert_string_equal(err.message, "show 1: document 'abc' not found");
	/* Wrapping a full message truncates the tail, never overflows. */
	char big[PLAT_ERROR_MSG_MAX * 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	plat_error_set(&err, PLAT_E_FAILURE, "%s", big);
	plat_error_wrap(&err, "ctx");
	assert_int_equal(strlen(err.message), PLAT_ERROR_MSG_MAX - 1);
	assert_memory_equal(err.message, "ctx: xxx", 8);
	assert_int_equal(plat_error_set(NULL, PLAT_E_USAGE, "x"), -PLAT_E_USAGE);
}

static void test_arena(void **state)
{
	(void)state;
	struct plat_arena a;
	plat_arena_init(&a, 64);
	char *s = plat_arena_strdup(&a, "hello");
	void *big = plat_arena_alloc(&a, 100000);
	memset(big, 0xab, 100000);
	char *t = plat_arena_printf(&a, "%s-%d", s, 42);
	assert_string_equal(s, "hello");
	assert_string_equal(t, "hello-42");
	for (int i = 0; i < 1000; i++) {
		double *d = plat_arena_alloc(&a, sizeof(double) * 3);
		assert_int_equal((uintptr_t)d % _Alignof(max_align_t), 0);
		d[2] = i;
	}
	plat_arena_free(&a);
	plat_arena_free(&a); /* idempotent */
}

static void test_buf(void **state)
{
	(void)state;
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_reserve(&b, 0);
	assert_string_equal(b.data, ""); /* a reserved empty buffer is a valid string */
	for (int i = 0; i < 1000; i++)
		plat_buf_printf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.data));
	assert_memory_equal(b.data, "0,1,2,", 6);
	plat_buf_append(&b, "a\0b", 3);
	assert_int_equal(b.data[b.len - 2], '\0');
	plat_buf_reset(&b);
	assert_string_equal(b.data, "");
	plat_buf_puts(&b, "x");
	char *s = plat_buf_detach(&b);
	assert_string_equal(s, "x");
	assert_null(b.data);
	free(s);
	plat_buf_free(&b);
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(plat_utf8_valid("plain", 5));
	assert_true(plat_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	assert_false(plat_utf8_valid("\xc0\xaf", 2));          /* overlong '/' */
	assert_false(plat_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
	assert_false(plat_utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
	assert_false(plat_utf8_valid("\xe2\x82", 2));          /* truncated */
	assert_false(plat_utf8_valid("\xff", 1));
	struct plat_buf b = PLAT_BUF_INIT;
	plat_utf8_sanitize(&b, "a\xffz\xe2\x82", 5);
	assert_string_equal(b.data, "a\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd");
	assert_true(plat_utf8_valid(b.data, b.len));
	plat_buf_free(&b);
}

static void test_escape_terminal(void **state)
{
	(void)state;
	struct plat_buf e = PLAT_BUF_INIT;
	plat_str_escape_terminal(&e, "", 0);
	assert_non_null(e.data); /* a string, even when empty: callers print it with %s */
	assert_string_equal(e.data, "");
	plat_buf_free(&e);
	struct plat_buf b = PLAT_BUF_INIT;
	const char in[] = "a\nb\t\x1b[31mred\\ caf\xc3\xa9 \xff \xc2\x9b";
	plat_str_escape_terminal(&b, in, sizeof(in) - 1);
	assert_string_equal(b.data, "a\\nb\\t\\x1b[31mred\\\\ caf\xc3\xa9 \\xff \\u009b");
	for (size_t i = 0; i < b.len; i++)
		assert_true((unsigned char)b.data[i] >= 0x20 && b.data[i] != 0x7f);
	plat_buf_free(&b);
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(plat_str_edit_distance("config", "config"), 0);
	assert_int_equal(plat_str_edit_distance("conifg", "config"), 1); /* transposition */
	assert_int_equal(plat_str_edit_distance("confg", "config"), 1);
	assert_int_equal(plat_str_edit_distance("", "abc"), 3);
	assert_int_equal(plat_str_edit_distance("kitten", "sitting"), 3);
}

static void test_str_to_double(void **state)
{
	(void)state;
	double d = -1;
	assert_true(plat_str_to_double("0.5", &d) && d == 0.5);
	assert_true(plat_str_to_double("1e-1", &d) && d == 0.1);
	assert_true(plat_str_to_double("-2", &d) && d == -2);
	d = 7;
	assert_false(plat_str_to_double("", &d));
	assert_false(plat_str_to_double("0.5x", &d));
	assert_false(plat_str_to_double("x", &d));
	assert_false(plat_str_to_double("0.5 ", &d));
	assert_true(d == 7); /* untouched when not a number */
}

static void *ids_of_a_thread(void *arg)
{
	char (*ids)[PLAT_REQUEST_ID_LEN + 1] = arg;
	for (int i = 0; i < 1000; i++)
		if (plat_id_request(ids[i]) < 0)
			return (void *)1;
	return NULL;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* lib/ids: request ids are 32 hex characters, valid as X-Request-ID, and unique across
 * threads and across a fork (the child reseeds rather than repeat its parent). */
static void test_request_ids(void **state)
{
	(void)state;
	enum { THREADS = 4, PER = 1000 };
	static char ids[THREADS * PER + 2][PLAT_REQUEST_ID_LEN + 1];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, ids_of_a_thread, ids[i * PER]), 0);
	for (int i = 0; i < THREADS; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		assert_null(rv);
	}
	/* This thread's stream is seeded before the fork: the child must not continue it. */
	char before[PLAT_REQUEST_ID_LEN + 1];
	assert_int_equal(plat_id_request(before), 0);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char id[PLAT_REQUEST_ID_LEN + 1];
		plat_id_request(id);
		(void)!write(fds[1], id, sizeof(id));
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(plat_id_request(ids[THREADS * PER]), 0);
	assert_int_equal(read(fds[0], ids[THREADS * PER + 1], PLAT_REQUEST_ID_LEN + 1), PLAT_REQUEST_ID_LEN + 1);
	waitpid(pid, NULL, 0);
	close(fds[0]);
	close(fds[1]);
	for (int i = 0; i < THREADS * PER + 2; i++) {
		assert_int_equal(strlen(ids[i]), PLAT_REQUEST_ID_LEN);
		assert_int_equal(strspn(ids[i], "0123456789abcdef"), PLAT_REQUEST_ID_LEN);
		assert_true(plat_id_request_valid(ids[i]));
	}
	qsort(ids, THREADS * PER + 2, sizeof(ids[0]), by_id);
	for (int i = 1; i < THREADS * PER + 2; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code_table),
		cmocka_unit_test(test_request_ids),
		cmocka_unit_test(test_exit_codes_documented),
		cmocka_unit_test(test_error_set_and_wrap),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_escape_terminal),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_str_to_double),
	};
	return cmocka_run_group_tests_name("basics", tests, NULL, NULL);
}
