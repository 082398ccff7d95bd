/* lib/store: key rules and the file:// driver (the S3 driver is tested against the
 * SigV4-checking S3 service in tests/cli/storage.bats). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem/mem.h"
#include "store/store.h"

static char root[128];

static int make_root(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/platctl-store-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int remove_root(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static struct plat_store *open_store(void)
{
	char url[256];
	snprintf(url, sizeof(url), "file://%s/objects", root);
	struct plat_store_options o = {.url = url};
	struct plat_store *s = NULL;
	struct plat_error err = {0};
	if (plat_store_open(&o, &s, &err) < 0)
		fail_msg("open: %s", err.message);
	return s;
}

struct mem_reader {
	const char *data;
	size_t len, pos, chunk;
	bool fail_at_end;
};

static ssize_t mem_read(void *arg, char *buf, size_t len)
{
	struct mem_reader *r = arg;
	if (r->pos == r->len) {
		if (r->fail_at_end) {
			errno = EIO;
			return -1;
		}
		return 0;
	}
	size_t n = r->len - r->pos;
	if (n > len)
		n = len;
	if (r->chunk && n > r->chunk)
		n = r->chunk;
	memcpy(buf, r->data + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

static int collect(void *arg, const char *buf, size_t len)
{
	plat_buf_append(arg, buf, len);
	return 0;
}

static void test_key_rules(void **state)
{
	(void)state;
	static const char *const good[] = {"a", "tenant/0123abcd", "a/b/c.pdf", "caf\xc3\xa9/x y", ".hidden/x", "a/.b", "a..b"};
	static const char *const bad[] = {"", "/etc/passwd", "../x", "a/../b", "a/./b", "./a", "a//b", "a/", "..",
					  "a/\x01", "a\nb", "a/.~12/x", ".~tmp.1", "\xff\xfe", "a\x7f"};
	struct plat_error err = {0};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (plat_store_key_check(good[i], &err) < 0)
			fail_msg("'%s' refused: %s", good[i], err.message);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (plat_store_key_check(bad[i], &err) == 0)
			fail_msg("bad key %zu accepted", i);
		assert_int_equal(err.kind, PLAT_E_INVALID);
		for (const char *p = err.message; *p; p++) /* printed escaped, never raw */
			assert_true((unsigned char)*p >= 0x20);
	}
	char *long_key = plat_xmalloc(1100);
	memset(long_key, 'k', 1099);
	long_key[1099] = '\0';
	assert_int_equal(plat_store_key_check(long_key, &err), -PLAT_E_INVALID);
	free(long_key);
}

static void test_bad_urls(void **state)
{
	(void)state;
	static const char *const urls[] = {"", "file://relative", "file:///", "http://x", "s3://", "s3://AB",
					   "s3://bucket_with_underscore", "s3://ok-bucket/../x"};
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		struct plat_store_options o = {.url = urls[i]};
		struct plat_store *s = NULL;
		struct plat_error err = {0};
		if (plat_store_open(&o, &s, &err) != -PLAT_E_CONFIG)
			fail_msg("url '%s' not refused as config error (%s)", urls[i], err.message);
	}
}

static void test_round_trip_and_layout(void **state)
{
	(void)state;
	struct plat_store *s = open_store();
	assert_string_equal(plat_store_driver(s), "file");
	size_t n = 3 * 1024 * 1024 + 17;
	char *data = plat_xmalloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7 + i / 3);
	struct mem_reader r = {data, n, 0, 1000, false};
	struct plat_store_put_result res;
	struct plat_error err = {0};
	assert_int_equal(plat_store_put(s, "default/doc.bin", mem_read, &r, NULL, &res, &err), 0);
	assert_int_equal(res.size, (long long)n);
	assert_int_equal(strlen(res.sha256), 64);

	struct plat_buf got = PLAT_BUF_INIT;
	assert_int_equal(plat_store_get(s, "default/doc.bin", 0, -1, collect, &got, &err), 0);
	assert_int_equal(got.len, n);
	assert_memory_equal(got.data, data, n);
	plat_buf_reset(&got);
	assert_int_equal(plat_store_get(s, "default/doc.bin", 1000, 10, collect, &got, &err), 0);
	assert_int_equal(got.len, 10);
	assert_memory_equal(got.data, data + 1000, 10);
	plat_buf_free(&got);

	struct plat_store_object obj;
	assert_int_equal(plat_store_head(s, "default/doc.bin", &obj, &err), 0);
	assert_int_equal(obj.size, (long long)n);
	plat_store_object_free(&obj);

	/* The object sits in a fan-out directory, with no temporary file left. */
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cd '%s/objects' && find . -type f | grep -c '^./default/\\.~[0-9a-f][0-9a-f]/doc.bin$'", root);
	FILE *p = popen(cmd, "r");
	char line[32] = "";
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	assert_string_equal(line, "1\n");

	/* Overwrite is atomic and replaces the content. */
	struct mem_reader r2 = {"new", 3, 0, 0, false};
	assert_int_equal(plat_store_put(s, "default/doc.bin", mem_read, &r2, NULL, &res, &err), 0);
	got = (struct plat_buf)PLAT_BUF_INIT;
	assert_int_equal(plat_store_get(s, "default/doc.bin", 0, -1, collect, &got, &err), 0);
	assert_int_equal(got.len, 3);
	plat_buf_free(&got);

	assert_int_equal(plat_store_delete(s, "default/doc.bin", &err), 0);
	assert_int_equal(plat_store_delete(s, "default/doc.bin", &err), 0); /* idempotent */
	assert_int_equal(plat_store_get(s, "default/doc.bin", 0, -1, collect, &got, &err), -PLAT_E_NOT_FOUND);
	assert_int_equal(plat_store_head(s, "nothing/here", &obj, &err), -PLAT_E_NOT_FOUND);
	free(data);
	plat_store_close(s);
}

static void test_failed_reader_leaves_nothing(void **state)
{
	(void)state;
	struct plat_store *s = open_store();
	struct mem_reader r = {"partial data", 12, 0, 4, true};
	struct plat_store_put_result res;
	struct plat_error err = {0};
	assert_true(plat_store_put(s, "t/broken", mem_read, &r, NULL, &res, &err) < 0);
	assert_non_null(strstr(err.message, "cannot read the data for 't/broken'"));
	struct plat_store_object obj;
	assert_int_equal(plat_store_head(s, "t/broken", &obj, &err), -PLAT_E_NOT_FOUND);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "find '%s/objects' -name '.~tmp.*' | grep -c . ", root);
	FILE *p = popen(cmd, "r");
	char line[32] = "";
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	assert_string_equal(line, "0\n");
	plat_store_close(s);
}

static void test_symlinks_never_escape(void **state)
{
	(void)state;
	struct plat_store *s = open_store();
	struct plat_error err = {0};
	struct mem_reader r = {"x", 1, 0, 0, false};
	struct plat_store_put_result res;
	assert_int_equal(plat_store_put(s, "t/seed", mem_read, &r, NULL, &res, &err), 0);
	/* Someone replaces a key directory with a link to /etc: reads and writes through it fail. */
	char path[512], outside[256];
	snprintf(outside, sizeof(outside), "%s/outside", root);
	mkdir(outside, 0755);
	snprintf(path, sizeof(path), "%s/objects/evil", root);
	assert_int_equal(symlink(outside, path), 0);
	struct mem_reader r2 = {"y", 1, 0, 0, false};
	assert_true(plat_store_put(s, "evil/x", mem_read, &r2, NULL, &res, &err) < 0);
	struct plat_buf got = PLAT_BUF_INIT;
	assert_true(plat_store_get(s, "evil/x", 0, -1, collect, &got, &err) < 0);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "test -z \"$(find '%s' -type f)\"", outside);
	assert_int_equal(system(cmd), 0);
	plat_buf_free(&got);
	plat_store_close(s);
}

static void test_list_pagination(void **state)
{
	(void)state;
	struct plat_store *s = open_store();
	struct plat_error err = {0};
	for (int i = 0; i < 25; i++) {
		char key[64];
		snprintf(key, sizeof(key), "list/k%02d", i);
		struct mem_reader r = {"v", 1, 0, 0, false};
		struct plat_store_put_result res;
		assert_int_equal(plat_store_put(s, key, mem_read, &r, NULL, &res, &err), 0);
	}
	struct mem_reader r = {"v", 1, 0, 0, false};
	struct plat_store_put_result res;
	assert_int_equal(plat_store_put(s, "listx/other", mem_read, &r, NULL, &res, &err), 0);
	char *cursor = NULL;
	int seen = 0, pages = 0;
	do {
		struct plat_store_list l;
		assert_int_equal(plat_store_list(s, "list/", cursor, 10, &l, &err), 0);
		for (size_t i = 0; i < l.n; i++) {
			char want[64];
			snprintf(want, sizeof(want), "list/k%02d", seen++);
			assert_string_equal(l.objects[i].key, want);
		}
		free(cursor);
		cursor = l.next_cursor;
		l.next_cursor = NULL;
		plat_store_list_free(&l);
		pages++;
	} while (cursor);
	assert_int_equal(seen, 25);
	assert_int_equal(pages, 3);
	struct plat_store_list l;
	assert_int_equal(plat_store_list(s, "list", NULL, 1000, &l, &err), 0);
	assert_int_equal(l.n, 26); /* "list" also matches "listx/" */
	plat_store_list_free(&l);
	assert_int_equal(plat_store_list(s, "", NULL, 0, &l, &err), -PLAT_E_INVALID);
	char *url = NULL;
	assert_int_equal(plat_store_presign(s, "list/k00", 60, &url, &err), -PLAT_E_INVALID);
	plat_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_rules),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_round_trip_and_layout),
		cmocka_unit_test(test_failed_reader_leaves_nothing),
		cmocka_unit_test(test_symlinks_never_escape),
		cmocka_unit_test(test_list_pagination),
	};
	return cmocka_run_group_tests_name("store", tests, make_root, remove_root);
}
