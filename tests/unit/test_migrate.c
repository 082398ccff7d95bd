/* Migration files: parsing, checksums, and the embedded set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "migrate/migrate.h"

static int parse(const char *name, const char *text, struct plat_migration *m, struct plat_error *err)
{
	return plat_migration_parse(name, text, strlen(text), m, err);
}

static void test_parse_good(void **state)
{
	(void)state;
	struct plat_migration m;
	struct plat_error err = {0};
	const char *text = "-- header comment\n-- migrate:up\nCREATE TABLE t (x int);\n-- migrate:down\nDROP TABLE t;\n";
	assert_int_equal(parse("0007_add_t.sql", text, &m, &err), 0);
	assert_int_equal(m.version, 7);
	assert_string_equal(m.name, "add_t");
	assert_string_equal(m.up, "\nCREATE TABLE t (x int);\n");
	assert_string_equal(m.down, "\nDROP TABLE t;\n");
	assert_int_equal(m.up_line, 2);
	assert_int_equal(m.down_line, 4);
	assert_int_equal(strlen(m.checksum), 64);
	char first[65];
	memcpy(first, m.checksum, sizeof(first));
	plat_migration_free(&m);
	/* The checksum covers the whole file: a changed comment is a changed migration. */
	const char *text2 = "-- header Comment\n-- migrate:up\nCREATE TABLE t (x int);\n-- migrate:down\nDROP TABLE t;\n";
	assert_int_equal(parse("0007_add_t.sql", text2, &m, &err), 0);
	assert_string_not_equal(first, m.checksum);
	plat_migration_free(&m);
	/* plpgsql BEGIN without a semicolon is a block, not a transaction statement. */
	const char *fn = "-- migrate:up\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND\n$$;\n"
			 "-- migrate:down\nDROP FUNCTION f();\n";
	assert_int_equal(parse("0002_fn.sql", fn, &m, &err), 0);
	plat_migration_free(&m);
}

static void test_parse_bad(void **state)
{
	(void)state;
	static const struct {
		const char *name, *text, *needle;
	} cases[] = {
		{"1_x.sql", "-- migrate:up\nA;\n-- migrate:down\nB;\n", "NNNN_lowercase_name.sql"},
		{"0001_X.sql", "-- migrate:up\nA;\n-- migrate:down\nB;\n", "NNNN_lowercase_name.sql"},
		{"0001_x.txt", "-- migrate:up\nA;\n-- migrate:down\nB;\n", "NNNN_lowercase_name.sql"},
		{"0000_x.sql", "-- migrate:up\nA;\n-- migrate:down\nB;\n", "start at 0001"},
		{"0001_x.sql", "CREATE TABLE t();\n", "needs '-- migrate:up'"},
		{"0001_x.sql", "-- migrate:down\nB;\n-- migrate:up\nA;\n", "needs '-- migrate:up'"},
		{"0001_x.sql", "-- migrate:up\n-- nothing\n-- migrate:down\nB;\n", "empty up or down"},
		{"0001_x.sql", "-- migrate:up\nA;\n-- migrate:down\n\n", "empty up or down"},
		{"0001_x.sql", "-- migrate:up\nBEGIN;\nA;\nCOMMIT;\n-- migrate:down\nB;\n", "'BEGIN;'"},
		{"0001_x.sql", "-- migrate:up\nA;\n-- migrate:down\n  commit ;\n", "'COMMIT;'"},
		{"0001_x.sql", "--  migrate:up\nA;\n-- migrate:down\nB;\n", "needs"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct plat_migration m;
		struct plat_error err = {0};
		if (parse(cases[i].name, cases[i].text, &m, &err) == 0)
			fail_msg("case %zu (%s) parsed", i, cases[i].name);
		if (!strstr(err.message, cases[i].needle))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].needle);
		assert_null(m.up);
	}
}

static void test_embedded_set(void **state)
{
	(void)state;
	const struct plat_migration *ms;
	size_t n;
	struct plat_error err = {0};
	assert_int_equal(plat_migrations(&ms, &n, &err), 0);
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ms[i].version, (int)i + 1);
		assert_int_equal(strlen(ms[i].checksum), 64);
	}
	assert_string_equal(ms[0].name, "initial");
	assert_non_null(strstr(ms[0].up, "CREATE EXTENSION IF NOT EXISTS vector"));
	/* Every tenant-owned table of the data model exists in the first migration. */
	static const char *const tables[] = {"tenants", "principals", "api_tokens", "documents", "chunks", "outbox",
					     "audit_log", "findings", "notifications", "asks"};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char stmt[64];
		snprintf(stmt, sizeof(stmt), "CREATE TABLE %s (", tables[i]);
		if (!strstr(ms[0].up, stmt))
			fail_msg("0001 lacks %s", stmt);
		snprintf(stmt, sizeof(stmt), "DROP TABLE %s;", tables[i]);
		if (!strstr(ms[0].down, stmt))
			fail_msg("0001 down lacks %s", stmt);
	}
	assert_non_null(strstr(ms[0].up, "USING hnsw (embedding vector_cosine_ops)"));
	assert_non_null(strstr(ms[0].up, "INSERT INTO tenants (name) VALUES ('default')"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_embedded_set),
	};
	return cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
}
