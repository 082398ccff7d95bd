/* lib/db and lib/migrate against a real PostgreSQL (make check starts one and sets
 * TEST_DATABASE_URL to its maintenance database; each run works in a fresh database). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit/audit.h"
#include "db/db.h"
#include "log/log.h"
#include "migrate/migrate.h"

static char url[512];
static char dbname[64];

static struct plat_db *connect_or_fail(const char *u)
{
	struct plat_db_options o = {.url = u, .connect_timeout_ms = 10000};
	struct plat_db *db = NULL;
	struct plat_error err = {0};
	if (plat_db_connect(&o, &db, &err) < 0)
		fail_msg("connect: %s", err.message);
	return db;
}

static int setup_database(void **state)
{
	(void)state;
	const char *admin = getenv("TEST_DATABASE_URL");
	if (!admin)
		return 0;
	snprintf(dbname, sizeof(dbname), "unit_%ld", (long)getpid());
	struct plat_db *db = connect_or_fail(admin);
	char sql[128];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", dbname);
	plat_db_exec(db, sql, 0, NULL, NULL, NULL);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	struct plat_error err = {0};
	int rc = plat_db_exec(db, sql, 0, NULL, NULL, &err);
	plat_db_close(db);
	if (rc < 0)
		return -1;
	/* Same server, the new database. */
	const char *slash = strrchr(admin, '/');
	snprintf(url, sizeof(url), "%.*s/%s", (int)(slash - admin), admin, dbname);
	return 0;
}

static int teardown_database(void **state)
{
	(void)state;
	const char *admin = getenv("TEST_DATABASE_URL");
	if (!admin || !dbname[0])
		return 0;
	struct plat_db *db = connect_or_fail(admin);
	char sql[128];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	plat_db_exec(db, sql, 0, NULL, NULL, NULL);
	plat_db_close(db);
	return 0;
}

#define NEED_DB()                                                    \
	do {                                                         \
		if (!url[0])                                         \
			skip(); /* make check always provides one */ \
	} while (0)

static int unused_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	return ntohs(a.sin_port);
}

static void test_unreachable_server(void **state)
{
	(void)state;
	char u[256];
	int port = unused_port();
	snprintf(u, sizeof(u), "postgresql://app:Sup3rSecretPw@127.0.0.1:%d/plat", port);
	struct plat_db_options o = {.url = u, .connect_timeout_ms = 1200};
	struct plat_db *db = NULL;
	struct plat_error err = {0};
	assert_int_equal(plat_db_connect(&o, &db, &err), -PLAT_E_UNAVAILABLE);
	assert_null(db);
	char target[64];
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	assert_non_null(strstr(err.message, target));
	assert_null(strstr(err.message, "Sup3rSecretPw"));
	assert_null(strstr(err.message, "(1 attempt)")); /* it retried with backoff */
}

static void test_bad_urls_are_config_errors(void **state)
{
	(void)state;
	struct plat_db *db = NULL;
	struct plat_error err = {0};
	struct plat_db_options o = {.url = "postgresql://[::1", .connect_timeout_ms = 5000};
	assert_int_equal(plat_db_connect(&o, &db, &err), -PLAT_E_CONFIG);
	o.url = "";
	assert_int_equal(plat_db_connect(&o, &db, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "database.url is not set"));
	o.url = "host=/tmp nosuchoption=1";
	assert_int_equal(plat_db_connect(&o, &db, &err), -PLAT_E_CONFIG);
	char *d = plat_db_describe_url("host=/run/pg port=6000");
	assert_string_equal(d, "socket /run/pg/.s.PGSQL.6000");
	free(d);
}

static void test_missing_database_fails_fast(void **state)
{
	(void)state;
	NEED_DB();
	char u[600];
	snprintf(u, sizeof(u), "%s_nope", url);
	struct plat_db_options o = {.url = u, .connect_timeout_ms = 20000};
	struct plat_db *db = NULL;
	struct plat_error err = {0};
	assert_int_equal(plat_db_connect(&o, &db, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "(1 attempt)")); /* no pointless retrying */
}

static void test_parameters_and_error_kinds(void **state)
{
	(void)state;
	NEED_DB();
	struct plat_db *db = connect_or_fail(url);
	struct plat_error err = {0};
	assert_int_equal(plat_db_exec(db, "CREATE TABLE p (k text PRIMARY KEY, v text)", 0, NULL, NULL, &err), 0);
	static const char *const hostile[] = {"'); DROP TABLE p; --", "caf\xc3\xa9 \xf0\x9f\x98\x80", "$1", "a\\b",
					      "x' OR '1'='1"};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const char *params[] = {hostile[i], hostile[i]};
		assert_int_equal(plat_db_exec(db, "INSERT INTO p VALUES ($1, $2)", 2, params, NULL, &err), 0);
		PGresult *r;
		assert_int_equal(plat_db_exec(db, "SELECT v FROM p WHERE k = $1", 1, params, &r, &err), 0);
		assert_int_equal(PQntuples(r), 1);
		assert_string_equal(PQgetvalue(r, 0, 0), hostile[i]);
		PQclear(r);
	}
	const char *dup[] = {hostile[0], "again"};
	assert_int_equal(plat_db_exec(db, "INSERT INTO p VALUES ($1, $2)", 2, dup, NULL, &err), -PLAT_E_CONFLICT);
	assert_int_equal(plat_db_exec(db, "SELEC 1", 0, NULL, NULL, &err), -PLAT_E_FAILURE);
	assert_non_null(strstr(err.message, "syntax error"));
	const char *nul[] = {"k-null", NULL};
	assert_int_equal(plat_db_exec(db, "INSERT INTO p VALUES ($1, $2)", 2, nul, NULL, &err), 0);
	/* A transaction rolled back leaves nothing. */
	assert_int_equal(plat_db_begin(db, &err), 0);
	const char *tx[] = {"in-tx", "v"};
	assert_int_equal(plat_db_exec(db, "INSERT INTO p VALUES ($1, $2)", 2, tx, NULL, &err), 0);
	plat_db_rollback(db);
	PGresult *r;
	assert_int_equal(plat_db_exec(db, "SELECT count(*) FROM p WHERE k = $1", 1, tx, &r, &err), 0);
	assert_string_equal(PQgetvalue(r, 0, 0), "0");
	PQclear(r);
	plat_db_close(db);
}

static long long count_prepared(struct plat_db *db)
{
	PGresult *r;
	struct plat_error err = {0};
	assert_int_equal(plat_db_exec(db, "SELECT count(*) FROM pg_prepared_statements", 0, NULL, &r, &err), 0);
	long long n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

/* database.prepare: a statement is prepared once per connection and its plan reused; one
 * that a migration made stale (a table it reads changed shape), or that the server forgot
 * (DISCARD ALL by a pooler), runs again unprepared instead of failing the call; the same
 * in the pipelined form that row-level security uses. */
static void test_prepared_statements(void **state)
{
	(void)state;
	NEED_DB();
	struct plat_db_options o = {.url = url, .connect_timeout_ms = 10000, .prepare = true};
	struct plat_db *db = NULL, *other = connect_or_fail(url);
	struct plat_error err = {0};
	assert_int_equal(plat_db_connect(&o, &db, &err), 0);
	assert_int_equal(plat_db_exec(db, "CREATE TABLE prep (k text PRIMARY KEY, v text)", 0, NULL, NULL, &err), 0);
	assert_int_equal(plat_db_exec(db, "INSERT INTO prep VALUES ('a', 'one')", 0, NULL, NULL, &err), 0);
	/* DDL is never prepared; the INSERT and the count of prepared statements are. */
	long long base = count_prepared(db);
	assert_int_equal(base, 2);
	const char *k[] = {"a"};
	PGresult *r;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(plat_db_exec(db, "SELECT * FROM prep WHERE k = $1", 1, k, &r, &err), 0);
		assert_int_equal(PQnfields(r), 2);
		PQclear(r);
	}
	assert_int_equal(count_prepared(db), base + 1);

	/* Another session changes the table's shape: the cached plan's result type is stale. */
	assert_int_equal(plat_db_exec(other, "ALTER TABLE prep ADD COLUMN w int", 0, NULL, NULL, &err), 0);
	assert_int_equal(plat_db_exec(db, "SELECT * FROM prep WHERE k = $1", 1, k, &r, &err), 0);
	assert_int_equal(PQnfields(r), 3);
	PQclear(r);

	/* Pipelined with a tenant setting (row-level security's path). */
	plat_db_set_tenant(db, "00000000-0000-0000-0000-000000000001");
	assert_int_equal(plat_db_exec(db, "SELECT *, current_setting('platctl.tenant_id') FROM prep WHERE k = $1", 1,
				      k, &r, &err),
			 0);
	assert_string_equal(PQgetvalue(r, 0, 3), "00000000-0000-0000-0000-000000000001");
	PQclear(r);
	assert_int_equal(plat_db_exec(other, "ALTER TABLE prep DROP COLUMN w", 0, NULL, NULL, &err), 0);
	assert_int_equal(plat_db_exec(db, "SELECT *, current_setting('platctl.tenant_id') FROM prep WHERE k = $1", 1,
				      k, &r, &err),
			 0);
	assert_int_equal(PQnfields(r), 3);
	PQclear(r);
	plat_db_set_tenant(db, NULL);

	/* Forgotten by the server. */
	assert_int_equal(plat_db_exec(db, "DEALLOCATE ALL", 0, NULL, NULL, &err), 0);
	assert_int_equal(plat_db_exec(db, "SELECT v FROM prep WHERE k = $1", 1, k, &r, &err), 0);
	PQclear(r);
	assert_int_equal(plat_db_exec(db, "DISCARD ALL", 0, NULL, NULL, &err), 0);
	assert_int_equal(plat_db_exec(db, "SELECT v FROM prep WHERE k = $1", 1, k, &r, &err), 0);
	assert_string_equal(PQgetvalue(r, 0, 0), "one");
	PQclear(r);

	/* Inside a transaction a stale plan aborts it: an error, not a silent second try. */
	assert_int_equal(plat_db_exec(db, "SELECT * FROM prep WHERE k = $1", 1, k, &r, &err), 0);
	PQclear(r);
	assert_int_equal(plat_db_exec(other, "ALTER TABLE prep ADD COLUMN x int", 0, NULL, NULL, &err), 0);
	assert_int_equal(plat_db_begin(db, &err), 0);
	assert_true(plat_db_exec(db, "SELECT * FROM prep WHERE k = $1", 1, k, &r, &err) < 0);
	plat_db_rollback(db);
	assert_int_equal(plat_db_exec(db, "SELECT * FROM prep WHERE k = $1", 1, k, &r, &err), 0);
	assert_int_equal(PQnfields(r), 3);
	PQclear(r);

	/* A syntax error fails as it would unprepared. */
	assert_int_equal(plat_db_exec(db, "SELECT FROM WHERE", 0, NULL, NULL, &err), -PLAT_E_FAILURE);
	assert_non_null(strstr(err.message, "syntax error"));
	plat_db_close(other);
	plat_db_close(db);
}

static void test_advisory_lock(void **state)
{
	(void)state;
	NEED_DB();
	struct plat_db *a = connect_or_fail(url), *b = connect_or_fail(url);
	struct plat_error err = {0};
	bool got = false;
	assert_int_equal(plat_db_advisory_lock(a, 42, true, &got, &err), 0);
	assert_true(got);
	assert_int_equal(plat_db_advisory_lock(b, 42, false, &got, &err), 0);
	assert_false(got);
	assert_int_equal(plat_db_advisory_unlock(a, 42, &err), 0);
	assert_int_equal(plat_db_advisory_lock(b, 42, false, &got, &err), 0);
	assert_true(got);
	plat_db_close(a);
	plat_db_close(b); /* closing releases b's lock */
}

struct pool_job {
	struct plat_db_pool *pool;
	int errors;
	char pids[20][16];
};

static void *pool_worker(void *arg)
{
	struct pool_job *job = arg;
	for (int i = 0; i < 20; i++) {
		struct plat_db *db;
		struct plat_error err = {0};
		if (plat_db_pool_acquire(job->pool, &db, &err) < 0) {
			job->errors++;
			continue;
		}
		PGresult *r;
		if (plat_db_exec(db, "SELECT pg_backend_pid(), pg_sleep(0.001)", 0, NULL, &r, &err) == 0) {
			snprintf(job->pids[i], sizeof(job->pids[i]), "%s", PQgetvalue(r, 0, 0));
			PQclear(r);
		} else {
			job->errors++;
		}
		plat_db_pool_release(job->pool, db);
	}
	return NULL;
}

static void test_pool_bounds_connections(void **state)
{
	(void)state;
	NEED_DB();
	struct plat_db_options o = {.url = url, .connect_timeout_ms = 10000};
	struct plat_db_pool *pool;
	struct plat_error err = {0};
	assert_int_equal(plat_db_pool_new(&o, 3, &pool, &err), 0);
	enum { THREADS = 8 };
	pthread_t th[THREADS];
	static struct pool_job jobs[THREADS];
	for (int t = 0; t < THREADS; t++) {
		memset(&jobs[t], 0, sizeof(jobs[t]));
		jobs[t].pool = pool;
		pthread_create(&th[t], NULL, pool_worker, &jobs[t]);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	char seen[THREADS * 20][16];
	int nseen = 0;
	for (int t = 0; t < THREADS; t++) {
		assert_int_equal(jobs[t].errors, 0);
		for (int i = 0; i < 20; i++) {
			bool dup = false;
			for (int s = 0; s < nseen && !dup; s++)
				dup = strcmp(seen[s], jobs[t].pids[i]) == 0;
			if (!dup)
				memcpy(seen[nseen++], jobs[t].pids[i], 16);
		}
	}
	assert_true(nseen >= 1 && nseen <= 3); /* never more backends than the pool size */
	/* A connection returned inside a transaction is not handed out again. */
	struct plat_db *db;
	assert_int_equal(plat_db_pool_acquire(pool, &db, &err), 0);
	plat_db_begin(db, &err);
	plat_db_pool_release(pool, db);
	assert_int_equal(plat_db_pool_acquire(pool, &db, &err), 0);
	assert_int_equal(PQtransactionStatus(plat_db_pgconn(db)), PQTRANS_IDLE);
	plat_db_pool_release(pool, db);
	plat_db_pool_free(pool);
}

static void test_migrations_round_trip(void **state)
{
	(void)state;
	NEED_DB();
	struct plat_db *db = connect_or_fail(url);
	struct plat_error err = {0};
	const struct plat_migration *ms;
	size_t nm;
	assert_int_equal(plat_migrations(&ms, &nm, &err), 0);

	struct plat_migration_status *st;
	size_t n;
	assert_int_equal(plat_migrate_status(db, &st, &n, &err), 0);
	assert_int_equal(n, nm);
	assert_int_equal(st[0].state, PLAT_MIGRATION_PENDING);
	plat_migrate_status_free(st, n);

	struct plat_migrate_options o = {.applied_by = "unit-test"};
	int count;
	assert_int_equal(plat_migrate_up(db, &o, &count, &err), 0);
	assert_int_equal(count, (int)nm);
	assert_int_equal(plat_migrate_up(db, &o, &count, &err), 0);
	assert_int_equal(count, 0);
	assert_int_equal(plat_migrate_verify(db, &err), 0);

	PGresult *r;
	assert_int_equal(plat_db_exec(db, "SELECT applied_by FROM schema_migrations WHERE version = 1", 0, NULL, &r, &err), 0);
	assert_string_equal(PQgetvalue(r, 0, 0), "unit-test");
	PQclear(r);

	/* Drift: verify and up both refuse, naming the migration. */
	assert_int_equal(plat_db_exec(db, "UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1", 0, NULL,
				      NULL, &err), 0);
	assert_int_equal(plat_migrate_verify(db, &err), -PLAT_E_CONFLICT);
	assert_non_null(strstr(err.message, "0001_initial"));
	assert_int_equal(plat_migrate_up(db, &o, &count, &err), -PLAT_E_CONFLICT);
	const char *sum[] = {ms[0].checksum};
	assert_int_equal(plat_db_exec(db, "UPDATE schema_migrations SET checksum = $1 WHERE version = 1", 1, sum, NULL, &err), 0);

	/* A version this binary does not know. */
	assert_int_equal(plat_db_exec(db, "INSERT INTO schema_migrations VALUES (999, 'future', 'x', now(), 'other')", 0,
				      NULL, NULL, &err), 0);
	assert_int_equal(plat_migrate_verify(db, &err), -PLAT_E_CONFLICT);
	assert_non_null(strstr(err.message, "0999_future"));
	assert_int_equal(plat_db_exec(db, "DELETE FROM schema_migrations WHERE version = 999", 0, NULL, NULL, &err), 0);

	/* Out of range targets are usage errors. */
	o.to = (int)nm + 1;
	assert_int_equal(plat_migrate_up(db, &o, &count, &err), -PLAT_E_USAGE);

	o.to = 0;
	assert_int_equal(plat_migrate_down(db, &o, &count, &err), 0);
	assert_int_equal(count, (int)nm);
	assert_int_equal(plat_db_exec(db, "SELECT to_regclass('documents') IS NULL", 0, NULL, &r, &err), 0);
	assert_string_equal(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	plat_db_close(db);
}

static void test_audit_chain(void **state)
{
	(void)state;
	NEED_DB();
	struct plat_db *db = connect_or_fail(url);
	struct plat_error err = {0};
	struct plat_migrate_options o = {.applied_by = "unit-test"};
	int count;
	assert_int_equal(plat_migrate_up(db, &o, &count, &err), 0);
	PGresult *r;
	assert_int_equal(plat_db_exec(db, "SELECT id FROM tenants WHERE name = 'default'", 0, NULL, &r, &err), 0);
	char tenant[37];
	snprintf(tenant, sizeof(tenant), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	for (int i = 0; i < 5; i++) {
		char obj[16];
		snprintf(obj, sizeof(obj), "doc-%d", i);
		assert_int_equal(plat_db_begin(db, &err), 0);
		assert_int_equal(plat_audit_append(db, tenant, "alice", "document.upload", "document", obj, "req-1",
						   "{\"n\": 1, \"name\": \"caf\u00e9 | x\"}", &err), 0);
		assert_int_equal(plat_db_commit(db, &err), 0);
	}
	long long rows, bad;
	assert_int_equal(plat_audit_verify(db, tenant, &rows, &bad, &err), 0);
	assert_int_equal(rows, 5);
	assert_int_equal(bad, 0);
	/* Rows are append-only: the trigger refuses changes... */
	assert_true(plat_db_exec(db, "UPDATE audit_log SET principal = 'mallory'", 0, NULL, NULL, &err) < 0);
	assert_non_null(strstr(err.message, "append-only"));
	/* ...and a change made around it (a superuser disabling the trigger) breaks the chain there. */
	assert_int_equal(plat_db_exec(db, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change", 0, NULL, NULL, &err), 0);
	assert_int_equal(plat_db_exec(db, "UPDATE audit_log SET principal = 'mallory' WHERE object_id = 'doc-2'", 0, NULL,
				      NULL, &err), 0);
	assert_int_equal(plat_db_exec(db, "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change", 0, NULL, NULL, &err), 0);
	assert_int_equal(plat_audit_verify(db, tenant, &rows, &bad, &err), 0);
	assert_int_equal(plat_db_exec(db, "SELECT id FROM audit_log WHERE object_id = 'doc-2'", 0, NULL, &r, &err), 0);
	assert_int_equal(bad, atoll(PQgetvalue(r, 0, 0)));
	PQclear(r);
	plat_db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreachable_server),
		cmocka_unit_test(test_bad_urls_are_config_errors),
		cmocka_unit_test(test_missing_database_fails_fast),
		cmocka_unit_test(test_parameters_and_error_kinds),
		cmocka_unit_test(test_prepared_statements),
		cmocka_unit_test(test_advisory_lock),
		cmocka_unit_test(test_pool_bounds_connections),
		cmocka_unit_test(test_migrations_round_trip),
		cmocka_unit_test(test_audit_chain),
	};
	return cmocka_run_group_tests_name("db", tests, setup_database, teardown_database);
}
