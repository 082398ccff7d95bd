/* The audit service: the time parser of its filters (pure), and on real PostgreSQL
 * (TEST_DATABASE_URL) the chain's head — appends chain onto it, so a truncation stays
 * visible — and list/verify through the service context, each in its own tenant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "db/db.h"

#include "harness.h"

/* 2026-12-02T03:04:05Z */
#define NOW 1796180645LL

static const char *parsed(const char *text)
{
	static char out[32];
	struct plat_error err = {0};
	if (plat_audit_parse_time(text, NOW, out, &err) < 0)
		return err.kind == PLAT_E_USAGE ? "usage" : "other";
	return out;
}

static void test_parse_time_accepts(void **state)
{
	(void)state;
	assert_string_equal(parsed("2026-12-02T03:04:05Z"), "2026-12-02T03:04:05.000000Z");
	assert_string_equal(parsed("2026-12-02"), "2026-12-02T00:00:00.000000Z");
	assert_string_equal(parsed("2026-12-02t03:04z"), "2026-12-02T03:04:00.000000Z");
	assert_string_equal(parsed("2026-12-02 03:04:05"), "2026-12-02T03:04:05.000000Z"); /* no zone: UTC */
	assert_string_equal(parsed("2026-12-02T05:04:05+02:00"), "2026-12-02T03:04:05.000000Z");
	assert_string_equal(parsed("2026-12-01T23:34:05-03:30"), "2026-12-02T03:04:05.000000Z");
	assert_string_equal(parsed("2026-12-02T00:30:00+01"), "2026-12-01T23:30:00.000000Z");
	/* fractions: microseconds kept, more digits cut, fewer padded */
	assert_string_equal(parsed("2026-12-02T03:04:05.5Z"), "2026-12-02T03:04:05.500000Z");
	assert_string_equal(parsed("2026-12-02T03:04:05.123456789Z"), "2026-12-02T03:04:05.123456Z");
	assert_string_equal(parsed("2024-02-29"), "2024-02-29T00:00:00.000000Z");
	assert_string_equal(parsed("2000-02-29"), "2000-02-29T00:00:00.000000Z");
	assert_string_equal(parsed("1969-12-31T23:59:59Z"), "1969-12-31T23:59:59.000000Z");
	assert_string_equal(parsed("0001-01-01"), "0001-01-01T00:00:00.000000Z");
	assert_string_equal(parsed("9999-12-31T23:59:59Z"), "9999-12-31T23:59:59.000000Z");
	assert_string_equal(parsed("2016-12-31T23:59:60Z"), "2017-01-01T00:00:00.000000Z"); /* a leap second */
	/* ages */
	assert_string_equal(parsed("0s"), "2026-12-02T03:04:05.000000Z");
	assert_string_equal(parsed("90m"), "2026-12-02T01:34:05.000000Z");
	assert_string_equal(parsed("24h"), "2026-12-01T03:04:05.000000Z");
	assert_string_equal(parsed("7d"), "2026-11-25T03:04:05.000000Z");
	assert_string_equal(parsed("2w"), "2026-11-18T03:04:05.000000Z");
}

static void test_parse_time_refuses(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "yesterday", "2026", "2026-12", "2026-1-02", "2026-12-2", "26-12-02", "2026/12/02", "2026-00-10",
		"2026-13-01", "2026-02-29", "1900-02-29", "2026-04-31", "0000-01-01", "2026-12-02T", "2026-12-02T3:04",
		"2026-12-02T03", "2026-12-02T24:00", "2026-12-02T03:60", "2026-12-02T03:04:61", "2026-12-02T03:04:05.",
		"2026-12-02T03:04:05.x", "2026-12-02T03:04:05ZZ", "2026-12-02T03:04:05+2", "2026-12-02T03:04:05+0200",
		"2026-12-02T03:04:05+24:00", "2026-12-02T03:04:05+02:60", "2026-12-02Z", "2026-12-02+02:00",
		"2026-12-02 ", " 2026-12-02", "2026-12-02T03:04:05Z ", "7", "7y", "d", "-7d", "+7d", "7 d", "7dd", "7D",
		"1234567890d", /* too many digits */
		"99999999w",   /* before year 1 */
		"0001-01-01T00:00:00+00:01",
		"9999-12-31T23:59:59-00:01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *r = parsed(bad[i]);
		if (strcmp(r, "usage") != 0)
			fail_msg("'%s' gave %s", bad[i], r);
	}
	/* the reason says what is accepted, naming no option */
	char out[32];
	struct plat_error err = {0};
	assert_int_equal(plat_audit_parse_time("soon", NOW, out, &err), -PLAT_E_USAGE);
	assert_non_null(strstr(err.message, "RFC 3339"));
	assert_null(strstr(err.message, "--"));
}

/* ---- on PostgreSQL ---- */

static char url[512], root[64];
static struct plat_config *cfg;
static struct plat_services *services;
static struct plat_db *db;

static int setup(void **state)
{
	(void)state;
	int rc = harness_database("audit", url, sizeof(url), &db);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	char surl[128];
	struct plat_error err = {0};
	if (harness_file_store("audit", root, surl) < 0 || !(cfg = harness_config(url, surl)))
		return -1;
	return plat_services_open(cfg, NULL, &(struct plat_services_options){.pool_size = 2}, &services, &err);
}

static int teardown(void **state)
{
	(void)state;
	if (!db)
		return 0;
	plat_services_close(services);
	plat_config_free(cfg);
	plat_db_close(db);
	return harness_remove(root);
}

#define NEED_DB()                                                   \
	do {                                                        \
		if (!db)                                            \
			skip();                                     \
	} while (0)

static void exec_ok(const char *sql)
{
	struct plat_error err = {0};
	if (plat_db_exec(db, sql, 0, NULL, NULL, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
}

/* A tenant of its own for each test; its id into id (37 bytes). */
static void new_tenant(const char *name, char *id)
{
	const char *params[] = {name};
	PGresult *r;
	struct plat_error err = {0};
	assert_int_equal(plat_db_exec(db, "INSERT INTO tenants (name) VALUES ($1) RETURNING id", 1, params, &r, &err), 0);
	snprintf(id, 37, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

static void append(const char *tenant, const char *action, const char *object_id)
{
	struct plat_error err = {0};
	assert_int_equal(plat_db_begin(db, &err), 0);
	assert_int_equal(plat_audit_append(db, tenant, "alice", action, "document", object_id, "req-1", "{\"n\": 1}", &err), 0);
	assert_int_equal(plat_db_commit(db, &err), 0);
}

static long long last_id(const char *tenant)
{
	const char *params[] = {tenant};
	PGresult *r;
	struct plat_error err = {0};
	assert_int_equal(plat_db_exec(db, "SELECT max(id) FROM audit_log WHERE tenant_id = $1", 1, params, &r, &err), 0);
	long long id = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return id;
}

static void test_head_follows_appends_and_shows_truncation(void **state)
{
	(void)state;
	NEED_DB();
	char t[37];
	new_tenant("heads", t);
	struct plat_error err = {0};
	struct plat_audit_check c;
	assert_int_equal(plat_audit_check_chain(db, t, &c, &err), 0);
	assert_int_equal(c.rows, 0);
	assert_int_equal(c.broken_id, 0);
	assert_string_equal(c.head_hash, "");
	for (int i = 0; i < 3; i++)
		append(t, "document.upload", "d");
	long long third = last_id(t);
	assert_int_equal(plat_audit_check_chain(db, t, &c, &err), 0);
	assert_int_equal(c.rows, 3);
	assert_int_equal(c.verified, 3);
	assert_int_equal(c.broken_id, 0);
	assert_int_equal(c.head_id, third);
	assert_int_equal(strlen(c.head_hash), 64);

	/* A transaction rolled back leaves neither row nor head behind. */
	assert_int_equal(plat_db_begin(db, &err), 0);
	assert_int_equal(plat_audit_append(db, t, "alice", "x", NULL, NULL, NULL, NULL, &err), 0);
	plat_db_rollback(db);
	assert_int_equal(plat_audit_check_chain(db, t, &c, &err), 0);
	assert_int_equal(c.broken_id, 0);
	assert_int_equal(c.head_id, third);

	exec_ok("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change");
	char sql[160];
	snprintf(sql, sizeof(sql), "DELETE FROM audit_log WHERE id = %lld", third);
	exec_ok(sql);
	exec_ok("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change");
	assert_int_equal(plat_audit_check_chain(db, t, &c, &err), 0);
	assert_int_equal(c.broken_id, third);
	assert_string_equal(c.broken_at, "");
	assert_non_null(strstr(c.reason, "chain truncated after id "));
	assert_int_equal(c.verified, 2);
	long long rows, bad;
	assert_int_equal(plat_audit_verify(db, t, &rows, &bad, &err), 0);
	assert_int_equal(rows, 2);
	assert_int_equal(bad, third);
	/* The next row links to the head, not to the row now last. */
	append(t, "document.upload", "d");
	assert_int_equal(plat_audit_check_chain(db, t, &c, &err), 0);
	assert_int_equal(c.broken_id, last_id(t));
	assert_string_equal(c.reason, "row missing or reordered");
}

static void test_list_and_verify_through_the_service(void **state)
{
	(void)state;
	NEED_DB();
	char t[37];
	new_tenant("svc", t);
	for (int i = 0; i < 5; i++)
		append(t, i == 4 ? "document.delete" : "document.upload", i == 0 ? "first" : "other");
	struct plat_svc svc;
	plat_svc_init(&svc, services, &(struct plat_call){.tenant = "svc", .principal = "alice"});
	struct plat_error err = {0};
	cJSON *page = NULL;
	struct plat_audit_filter f = {.action = "document.up*", .limit = 3};
	assert_int_equal(plat_audit_list(&svc, &f, &page, &err), 0);
	const cJSON *entries = cJSON_GetObjectItemCaseSensitive(page, "entries");
	assert_int_equal(cJSON_GetArraySize(entries), 3);
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(page, "next_cursor");
	assert_true(cJSON_IsString(next));
	f.cursor = next->valuestring;
	cJSON *page2 = NULL;
	assert_int_equal(plat_audit_list(&svc, &f, &page2, &err), 0);
	const cJSON *e2 = cJSON_GetObjectItemCaseSensitive(page2, "entries");
	assert_int_equal(cJSON_GetArraySize(e2), 1);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(e2, 0), "object_id")->valuestring, "first");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(page2, "next_cursor")));
	cJSON_Delete(page);
	cJSON_Delete(page2);

	/* Bad filters name their parameter, for each front end to spell. */
	static const struct {
		struct plat_audit_filter f;
		const char *param;
	} bad[] = {
		{{.limit = 0}, "limit"},
		{{.limit = 1001}, "limit"},
		{{.limit = 5, .since = "later"}, "since"},
		{{.limit = 5, .until = "2026-02-30"}, "until"},
		{{.limit = 5, .since = "2026-06-01", .until = "2026-06-01"}, "until"},
		{{.limit = 5, .cursor = "12a"}, "cursor"},
		{{.limit = 5, .action = "*x"}, "action"},
		{{.limit = 5, .object_id = "x"}, "object"},
		{{.limit = 5, .actor = ""}, "actor"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct plat_error e = {0};
		cJSON *out = NULL;
		assert_int_equal(plat_audit_list(&svc, &bad[i].f, &out, &e), -PLAT_E_USAGE);
		assert_null(out);
		assert_string_equal(e.param, bad[i].param);
		assert_null(strstr(e.message, "--"));
	}

	cJSON *v = NULL;
	assert_int_equal(plat_audit_verify_chain(&svc, &v, &err), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "ok")));
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(v, "verified")->valueint, 5);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(v, "first_broken")));
	cJSON_Delete(v);
	plat_svc_done(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time_accepts),
		cmocka_unit_test(test_parse_time_refuses),
		cmocka_unit_test(test_head_follows_appends_and_shows_truncation),
		cmocka_unit_test(test_list_and_verify_through_the_service),
	};
	return cmocka_run_group_tests_name("audit", tests, setup, teardown);
}
