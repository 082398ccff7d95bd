/* lib/queue on a real PostgreSQL (TEST_DATABASE_URL): claims under SKIP LOCKED and a lease,
 * acknowledgement, nack with backoff and dead-lettering, renewal of exactly the held
 * events, LISTEN/NOTIFY and a lost connection while waiting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock/clock.h"
#include "migrate/migrate.h"
#include "queue/queue.h"

#include "harness.h"

static char url[512], dbname[64];
static struct plat_db *db; /* the test's own view: inserts and checks */

static struct plat_db *connect_to(const char *u)
{
	struct plat_db_options o = {.url = u, .connect_timeout_ms = 10000};
	struct plat_db *c = NULL;
	struct plat_error err = {0};
	if (plat_db_connect(&o, &c, &err) < 0)
		fail_msg("connect: %s", err.message);
	return c;
}

static int setup(void **state)
{
	(void)state;
	int hrc = harness_database_named("queue", dbname, url, sizeof(url), &db);
	return hrc > 0 ? 0 : hrc;
}

static int teardown(void **state)
{
	(void)state;
	if (!db)
		return 0;
	plat_db_close(db);
	struct plat_db *a = connect_to(getenv("TEST_DATABASE_URL"));
	char sql[160];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	plat_db_exec(a, sql, 0, NULL, NULL, NULL);
	plat_db_close(a);
	return 0;
}

#define NEED_DB()                    \
	do {                         \
		if (!db)             \
			skip();      \
	} while (0)

static void exec(const char *sql)
{
	struct plat_error err = {0};
	if (plat_db_exec(db, sql, 0, NULL, NULL, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
}

static long long number(const char *sql, long long id)
{
	char s[24];
	snprintf(s, sizeof(s), "%lld", id);
	const char *params[] = {s};
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(db, sql, strstr(sql, "$1") ? 1 : 0, strstr(sql, "$1") ? params : NULL, &r, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
	long long v = PQntuples(r) && !PQgetisnull(r, 0, 0) ? atoll(PQgetvalue(r, 0, 0)) : -1;
	PQclear(r);
	return v;
}

/* A fresh queue with n document.uploaded events, oldest first. */
static void queue_events(int n)
{
	exec("DELETE FROM outbox");
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO outbox (tenant_id, event_type, aggregate_id, request_id, created_at, available_at)"
		 " SELECT t.id, 'document.uploaded', gen_random_uuid(), 'req-' || g,"
		 "  now() - make_interval(secs => 100 - g), now() - make_interval(secs => 100 - g)"
		 " FROM tenants t, generate_series(1, %d) g WHERE t.name = 'default'",
		 n);
	exec(sql);
}

static void claim(const char *worker, int lease, struct plat_event *ev, bool expect)
{
	bool got = false;
	struct plat_error err = {0};
	if (plat_queue_claim(db, worker, lease, ev, &got, &err) < 0)
		fail_msg("claim: %s", err.message);
	assert_int_equal(got, expect);
}

static void test_claims_skip_locked_and_leases(void **state)
{
	(void)state;
	NEED_DB();
	queue_events(2);
	struct plat_event a, b, none;
	claim("p:1:0", 60, &a, true);
	claim("p:1:1", 60, &b, true);
	assert_true(a.id != b.id);
	assert_true(a.id < b.id); /* oldest first */
	assert_int_equal(a.attempts, 1);
	assert_string_equal(a.request_id, "req-1");
	assert_true(a.age_seconds > 90);
	claim("p:1:2", 60, &none, false); /* both under a lease */
	/* a lease that ran out (its worker died) makes the event claimable again */
	exec("UPDATE outbox SET claimed_until = now() - interval '1 second'");
	struct plat_event again;
	claim("p:2:0", 60, &again, true);
	assert_int_equal(again.id, a.id);
	assert_int_equal(again.attempts, 2);
	/* other event types are not work */
	exec("UPDATE outbox SET event_type = 'document.processed', claimed_until = NULL");
	claim("p:2:0", 60, &none, false);
}

static void test_ack_and_nack(void **state)
{
	(void)state;
	NEED_DB();
	queue_events(2);
	struct plat_event a, b, none;
	struct plat_error err = {0};
	claim("w", 60, &a, true);
	assert_int_equal(plat_queue_ack(db, a.id, &err), 0);
	assert_true(number("SELECT count(*) FROM outbox WHERE id = $1 AND processed_at IS NOT NULL"
			   " AND claimed_by IS NULL AND claimed_until IS NULL", a.id) == 1);
	claim("w", 60, &b, true);
	assert_int_equal(b.id == a.id, 0);
	/* given back with backoff: 2 s after the first attempt, not claimable now */
	bool dead = true;
	assert_int_equal(plat_queue_nack(db, &b, "boom", 3, &dead, &err), 0);
	assert_false(dead);
	assert_true(number("SELECT extract(epoch FROM available_at - now())::int FROM outbox WHERE id = $1", b.id) >= 1);
	claim("w", 60, &none, false);
	/* the last attempt dead-letters it, with the error kept */
	exec("UPDATE outbox SET available_at = now(), attempts = 2");
	claim("w", 60, &b, true);
	assert_int_equal(b.attempts, 3);
	assert_int_equal(plat_queue_nack(db, &b, "boom again", 3, &dead, &err), 0);
	assert_true(dead);
	assert_true(number("SELECT count(*) FROM outbox WHERE id = $1 AND dead_lettered_at IS NOT NULL"
			   " AND last_error = 'boom again'", b.id) == 1);
	exec("UPDATE outbox SET available_at = now()");
	claim("w", 60, &none, false);
}

/* Renewal extends exactly the named events, and only while this process still holds
 * them: not an event it let go, not one another process claimed meanwhile. */
static void test_renew_only_held_events(void **state)
{
	(void)state;
	NEED_DB();
	queue_events(3);
	struct plat_event a, b, c;
	struct plat_error err = {0};
	claim("r1:77:0", 2, &a, true);
	claim("r1:77:1", 2, &b, true);
	claim("other:9:0", 2, &c, true);
	long long ids[] = {a.id, c.id}; /* b is not held (its ack failed); c is not ours */
	assert_int_equal(plat_queue_renew(db, ids, 2, "r1:77:", 600, &err), 0);
	const char *left = "SELECT extract(epoch FROM claimed_until - now())::int FROM outbox WHERE id = $1";
	assert_true(number(left, a.id) > 500);
	assert_true(number(left, b.id) <= 2);
	assert_true(number(left, c.id) <= 2);
	/* nothing held: nothing to do, no statement */
	assert_int_equal(plat_queue_renew(db, NULL, 0, "r1:77:", 600, &err), 0);
	/* a finished event is not renewed */
	assert_int_equal(plat_queue_ack(db, a.id, &err), 0);
	assert_int_equal(plat_queue_renew(db, ids, 1, "r1:77:", 600, &err), 0);
	assert_int_equal(number("SELECT count(*) FROM outbox WHERE id = $1 AND claimed_until IS NULL", a.id), 1);
}

static void test_listen_wait_and_lost_connection(void **state)
{
	(void)state;
	NEED_DB();
	struct plat_db *l = connect_to(url);
	struct plat_error err = {0};
	assert_int_equal(plat_queue_listen(l, &err), 0);
	/* nothing: the full timeout */
	long long t0 = plat_clock_ms();
	assert_int_equal(plat_queue_wait(l, 300, -1, &err), 0);
	assert_true(plat_clock_ms() - t0 >= 250);
	/* a notification wakes it at once */
	exec("NOTIFY " PLAT_QUEUE_CHANNEL);
	t0 = plat_clock_ms();
	assert_int_equal(plat_queue_wait(l, 5000, -1, &err), 0);
	assert_true(plat_clock_ms() - t0 < 2000);
	/* so does the wake descriptor (a run stopping) */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	t0 = plat_clock_ms();
	assert_int_equal(plat_queue_wait(l, 5000, p[0], &err), 0);
	assert_true(plat_clock_ms() - t0 < 2000);
	close(p[0]);
	close(p[1]);
	/* the server ends the session while it waits: unavailable, so the caller reconnects */
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", PQbackendPID(plat_db_pgconn(l)));
	const char *params[] = {pid};
	assert_int_equal(plat_db_exec(db, "SELECT pg_terminate_backend($1::int)", 1, params, NULL, &err), 0);
	int rc = 0;
	for (int i = 0; i < 20 && rc == 0; i++)
		rc = plat_queue_wait(l, 250, -1, &err);
	assert_int_equal(rc, -PLAT_E_UNAVAILABLE);
	assert_non_null(strstr(err.message, "lost connection to PostgreSQL"));
	/* and says so again without touching the socket */
	assert_int_equal(plat_queue_wait(l, 10, -1, &err), -PLAT_E_UNAVAILABLE);
	plat_db_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims_skip_locked_and_leases),
		cmocka_unit_test(test_ack_and_nack),
		cmocka_unit_test(test_renew_only_held_events),
		cmocka_unit_test(test_listen_wait_and_lost_connection),
	};
	return cmocka_run_group_tests_name("queue", tests, setup, teardown);
}
