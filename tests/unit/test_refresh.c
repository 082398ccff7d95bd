/* lib/auth/refresh against a real PostgreSQL (TEST_DATABASE_URL): rotation, reuse
 * detection revoking the family, expiry, logout, and two refreshes racing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/refresh.h"
#include "harness.h"

static char url[512], dbname[64];
static struct plat_db *db;
static char tenant[64], principal[64], other[64];

static void one_value(const char *sql, int n, const char *const *params, char *out, size_t len)
{
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(db, sql, n, params, &r, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
	snprintf(out, len, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
}

static int setup(void **state)
{
	(void)state;
	int rc = harness_database_named("refresh", dbname, url, sizeof(url), &db);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	one_value("SELECT id FROM tenants WHERE name = 'default'", 0, NULL, tenant, sizeof(tenant));
	const char *p[] = {tenant};
	one_value("INSERT INTO principals (tenant_id, name, kind, role) VALUES ($1, 'eve', 'user', 'editor') RETURNING id",
		  1, p, principal, sizeof(principal));
	one_value("INSERT INTO principals (tenant_id, name, kind, role) VALUES ($1, 'bob', 'user', 'viewer') RETURNING id",
		  1, p, other, sizeof(other));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!db)
		return 0;
	plat_db_close(db);
	struct plat_db_options o = {.url = getenv("TEST_DATABASE_URL"), .connect_timeout_ms = 10000};
	struct plat_db *a;
	struct plat_error err = {0};
	if (plat_db_connect(&o, &a, &err) < 0)
		return -1;
	char sql[128];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	plat_db_exec(a, sql, 0, NULL, NULL, NULL);
	plat_db_close(a);
	return 0;
}

#define NEED_DB()             \
	do {                  \
		if (!db)      \
			skip(); \
	} while (0)

static void issue(const char *who, char t[PLAT_REFRESH_TOKEN_LEN + 1], struct plat_auth_refresh_info *info)
{
	struct plat_error err = {0};
	if (plat_auth_refresh_issue(db, tenant, who, 3600, t, info, &err) < 0)
		fail_msg("issue: %s", err.message);
}

static void expect_refused(const char *t, enum plat_auth_reason why)
{
	char nt[PLAT_REFRESH_TOKEN_LEN + 1] = "x";
	struct plat_auth_refresh_info info;
	struct plat_auth_result res;
	struct plat_error err = {0};
	assert_int_equal(plat_auth_refresh_rotate(db, t, 3600, nt, &info, &res, &err), -PLAT_E_AUTH);
	if (res.reason != why)
		fail_msg("reason %s, expected %s", plat_auth_reason_name(res.reason), plat_auth_reason_name(why));
	assert_string_equal(err.message, "invalid token");
	assert_string_equal(nt, "");
	assert_string_equal(res.subject, "");
}

static void test_rotate(void **state)
{
	(void)state;
	NEED_DB();
	char t1[PLAT_REFRESH_TOKEN_LEN + 1], t2[PLAT_REFRESH_TOKEN_LEN + 1];
	struct plat_auth_refresh_info i1, i2;
	issue(principal, t1, &i1);
	assert_int_equal(strlen(t1), PLAT_REFRESH_TOKEN_LEN);
	assert_memory_equal(t1, "platr_", 6);
	assert_string_equal(i1.family_id, i1.id); /* a family is named by its first token */
	assert_string_equal(i1.principal_id, principal);
	struct plat_auth_result res;
	struct plat_error err = {0};
	assert_int_equal(plat_auth_refresh_rotate(db, t1, 600, t2, &i2, &res, &err), 0);
	assert_string_not_equal(t1, t2);
	assert_string_equal(i2.family_id, i1.family_id);
	assert_string_not_equal(i2.id, i1.id);
	assert_int_equal(res.kind, PLAT_AUTH_REFRESH);
	assert_string_equal(res.subject, principal);
	assert_string_equal(res.token_id, i2.id);
	assert_true(i2.expires_at < i1.expires_at); /* the new lifetime counts from now */
	/* Only the hash is stored; the child names its parent. */
	const char *p[] = {t2, i1.id};
	char v[80];
	one_value("SELECT count(*) FROM refresh_tokens WHERE token_sha256 = sha256(convert_to($1, 'UTF8'))", 1, p, v,
		  sizeof(v));
	assert_string_equal(v, "1");
	one_value("SELECT count(*) FROM refresh_tokens r WHERE position(convert_to($1, 'UTF8') IN r.token_sha256) > 0"
		  " OR r::text LIKE '%' || substr($1, 7, 20) || '%'",
		  1, p, v, sizeof(v));
	assert_string_equal(v, "0");
	one_value("SELECT parent_id FROM refresh_tokens WHERE parent_id = $1", 1, p + 1, v, sizeof(v));
	assert_string_equal(v, i1.id);
}

static void test_reuse_revokes_family(void **state)
{
	(void)state;
	NEED_DB();
	char t1[PLAT_REFRESH_TOKEN_LEN + 1], t2[PLAT_REFRESH_TOKEN_LEN + 1], t3[PLAT_REFRESH_TOKEN_LEN + 1];
	char bystander[PLAT_REFRESH_TOKEN_LEN + 1];
	struct plat_auth_refresh_info i1, i2, i3, ib;
	struct plat_error err = {0};
	issue(principal, t1, &i1);
	issue(principal, bystander, &ib); /* the same user on another device */
	assert_int_equal(plat_auth_refresh_rotate(db, t1, 600, t2, &i2, NULL, &err), 0);
	assert_int_equal(plat_auth_refresh_rotate(db, t2, 600, t3, &i3, NULL, &err), 0);
	/* The thief replays t1: refused, and every token of the family is revoked, t3 too. */
	expect_refused(t1, PLAT_AUTH_R_REUSED);
	const char *p[] = {i1.family_id, ib.family_id};
	char v[16];
	one_value("SELECT count(*) FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL", 1, p, v, sizeof(v));
	assert_string_equal(v, "0");
	one_value("SELECT count(*) FROM refresh_tokens WHERE family_id = $1", 1, p, v, sizeof(v));
	assert_string_equal(v, "3");
	expect_refused(t3, PLAT_AUTH_R_REVOKED);
	expect_refused(t2, PLAT_AUTH_R_REVOKED);
	/* The revocation was committed: another connection sees it. */
	struct plat_db_options o = {.url = url, .connect_timeout_ms = 10000};
	struct plat_db *b;
	assert_int_equal(plat_db_connect(&o, &b, &err), 0);
	PGresult *r;
	const char *fp[] = {i1.family_id};
	assert_int_equal(plat_db_exec(b, "SELECT count(*) FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NOT NULL",
				      1, fp, &r, &err), 0);
	assert_string_equal(PQgetvalue(r, 0, 0), "3");
	PQclear(r);
	plat_db_close(b);
	/* The other device's family is untouched. */
	char nb[PLAT_REFRESH_TOKEN_LEN + 1];
	assert_int_equal(plat_auth_refresh_rotate(db, bystander, 600, nb, NULL, NULL, &err), 0);
}

static void test_bad_expired_and_revoked(void **state)
{
	(void)state;
	NEED_DB();
	char t[PLAT_REFRESH_TOKEN_LEN + 1], n[PLAT_REFRESH_TOKEN_LEN + 1];
	struct plat_auth_refresh_info info;
	struct plat_error err = {0};
	issue(principal, t, &info);
	/* Malformed: not ours, wrong length, bad base64; unknown: well-formed but never issued. */
	expect_refused(NULL, PLAT_AUTH_R_MALFORMED);
	expect_refused("", PLAT_AUTH_R_MALFORMED);
	expect_refused("plat_abc", PLAT_AUTH_R_MALFORMED);
	char x[64];
	snprintf(x, sizeof(x), "%s", t);
	x[10] = '*';
	expect_refused(x, PLAT_AUTH_R_MALFORMED);
	snprintf(x, sizeof(x), "%sA", t);
	expect_refused(x, PLAT_AUTH_R_MALFORMED);
	snprintf(x, sizeof(x), "%s", t);
	x[10] = x[10] == 'A' ? 'B' : 'A';
	expect_refused(x, PLAT_AUTH_R_UNKNOWN);
	expect_refused("platr_' OR '1'='1'; DROP TABLE refresh_tokens; --xxxxxxxxxxx", PLAT_AUTH_R_MALFORMED);
	/* Expired. */
	const char *p[] = {info.id};
	assert_int_equal(plat_db_exec(db, "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
				      1, p, NULL, &err), 0);
	expect_refused(t, PLAT_AUTH_R_EXPIRED);
	/* Logout revokes the family; revoking again is fine; an unknown token is not. */
	issue(principal, t, &info);
	assert_int_equal(plat_auth_refresh_rotate(db, t, 600, n, NULL, NULL, &err), 0);
	assert_int_equal(plat_auth_refresh_revoke(db, n, NULL, &err), 0);
	assert_int_equal(plat_auth_refresh_revoke(db, n, NULL, &err), 0);
	expect_refused(n, PLAT_AUTH_R_REVOKED);
	struct plat_auth_result res;
	assert_int_equal(plat_auth_refresh_revoke(db, x, &res, &err), -PLAT_E_AUTH);
	assert_int_equal(res.reason, PLAT_AUTH_R_UNKNOWN);
	/* All of a principal's families at once. */
	char a[PLAT_REFRESH_TOKEN_LEN + 1], b[PLAT_REFRESH_TOKEN_LEN + 1], c[PLAT_REFRESH_TOKEN_LEN + 1];
	issue(other, a, NULL);
	issue(other, b, NULL);
	issue(principal, c, NULL);
	long long count = -1;
	assert_int_equal(plat_auth_refresh_revoke_principal(db, other, &count, &err), 0);
	assert_int_equal(count, 2);
	expect_refused(a, PLAT_AUTH_R_REVOKED);
	expect_refused(b, PLAT_AUTH_R_REVOKED);
	assert_int_equal(plat_auth_refresh_rotate(db, c, 600, n, NULL, NULL, &err), 0);
	/* A non-positive lifetime is the caller's bug. */
	assert_int_equal(plat_auth_refresh_issue(db, tenant, principal, 0, t, NULL, &err), -PLAT_E_INTERNAL);
}

struct race {
	const char *token;
	pthread_barrier_t *go;
	int rc;
	enum plat_auth_reason reason;
};

static void *racer(void *arg)
{
	struct race *r = arg;
	struct plat_db_options o = {.url = url, .connect_timeout_ms = 10000};
	struct plat_db *c;
	struct plat_error err = {0};
	if (plat_db_connect(&o, &c, &err) < 0) {
		r->rc = -99;
		return NULL;
	}
	char n[PLAT_REFRESH_TOKEN_LEN + 1];
	struct plat_auth_result res;
	pthread_barrier_wait(r->go);
	r->rc = plat_auth_refresh_rotate(c, r->token, 600, n, NULL, &res, &err);
	r->reason = res.reason;
	plat_db_close(c);
	return NULL;
}

/* Two refreshes of one token at once: the row lock orders them, one wins, the other is a
 * reuse and revokes the family (the winner's new token included). */
static void test_concurrent_refresh(void **state)
{
	(void)state;
	NEED_DB();
	for (int round = 0; round < 5; round++) {
		char t[PLAT_REFRESH_TOKEN_LEN + 1];
		struct plat_auth_refresh_info info;
		issue(principal, t, &info);
		pthread_barrier_t go;
		pthread_barrier_init(&go, NULL, 2);
		struct race a = {.token = t, .go = &go}, b = {.token = t, .go = &go};
		pthread_t ta, tb;
		pthread_create(&ta, NULL, racer, &a);
		pthread_create(&tb, NULL, racer, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		pthread_barrier_destroy(&go);
		assert_int_equal((a.rc == 0) + (b.rc == 0), 1);
		assert_int_equal(a.rc == 0 ? b.reason : a.reason, PLAT_AUTH_R_REUSED);
		const char *p[] = {info.family_id};
		char v[16];
		one_value("SELECT count(*) FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL", 1, p, v,
			  sizeof(v));
		assert_string_equal(v, "0");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotate),
		cmocka_unit_test(test_reuse_revokes_family),
		cmocka_unit_test(test_bad_expired_and_revoked),
		cmocka_unit_test(test_concurrent_refresh),
	};
	return cmocka_run_group_tests_name("refresh", tests, setup, teardown);
}
