/* lib/worker on a real PostgreSQL (TEST_DATABASE_URL), the PostgreSQL queue, the file store
 * and the builtin AI: runs over queued documents (once, max_messages, idle_exit), failures
 * dead-lettered, the summary and metrics, the system principal, stop requests. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock/clock.h"
#include "db/db.h"
#include "documents/documents.h"
#include "metrics/metrics.h"
#include "migrate/migrate.h"
#include "worker/worker.h"

#include "harness.h"

static char url[512], dbname[64], root[64];
static struct plat_db *db;
static struct plat_config *cfg;
static struct plat_services *services;

static struct plat_db *connect_to(const char *u)
{
	struct plat_db_options o = {.url = u, .connect_timeout_ms = 10000};
	struct plat_db *c = NULL;
	struct plat_error err = {0};
	if (plat_db_connect(&o, &c, &err) < 0)
		fail_msg("connect: %s", err.message);
	return c;
}

static void set(enum plat_config_key k, const char *v)
{
	struct plat_error err = {0};
	if (plat_config_set(cfg, k, v, PLAT_CFG_SRC_FLAG, "test", &err) < 0)
		fail_msg("%s", err.message);
}

static int setup(void **state)
{
	(void)state;
	int hrc = harness_database_named("worker", dbname, url, sizeof(url), &db);
	if (hrc != 0)
		return hrc > 0 ? 0 : -1;
	struct plat_error err = {0};
	snprintf(root, sizeof(root), "/tmp/platctl-worker-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	char surl[128];
	snprintf(surl, sizeof(surl), "file://%s", root);
	cfg = plat_config_new();
	set(PLAT_CFG_DATABASE_URL, url);
	set(PLAT_CFG_STORAGE_URL, surl);
	set(PLAT_CFG_EVENTS_BACKEND, "postgres");
	set(PLAT_CFG_AI_TAXONOMY, "etc/platctl/classes.yaml");
	return plat_services_open(cfg, NULL, NULL, &services, &err) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!db)
		return 0;
	plat_db_close(db);
	plat_services_close(services);
	plat_config_free(cfg);
	struct plat_db *a = connect_to(getenv("TEST_DATABASE_URL"));
	char sql[160];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	plat_db_exec(a, sql, 0, NULL, NULL, NULL);
	plat_db_close(a);
	snprintf(sql, sizeof(sql), "rm -rf '%s'", root);
	return system(sql) == 0 ? 0 : -1;
}

#define NEED_DB()               \
	do {                    \
		if (!db)        \
			skip(); \
	} while (0)

static long long number(const char *sql)
{
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(db, sql, 0, NULL, &r, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
	long long v = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

struct text {
	const char *s;
	size_t pos;
};

static ssize_t read_text(void *arg, char *buf, size_t cap)
{
	struct text *t = arg;
	size_t n = strlen(t->s + t->pos);
	if (n > cap)
		n = cap;
	memcpy(buf, t->s + t->pos, n);
	t->pos += n;
	return (ssize_t)n;
}

static void upload(const char *name, const char *content)
{
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
	struct text t = {content, 0};
	struct plat_upload_request req = {.src = {.fd = -1, .read = read_text, .read_arg = &t}, .name = name};
	cJSON *doc = NULL;
	struct plat_error err = {0};
	if (plat_documents_upload(&svc, &req, &doc, &err) < 0)
		fail_msg("upload %s: %s", name, err.message);
	cJSON_Delete(doc);
	plat_svc_done(&svc);
}

static long long field(const cJSON *j, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	if (!cJSON_IsNumber(v))
		fail_msg("summary has no %s", name);
	return (long long)v->valuedouble;
}

/* One run over svc with options o: the summary (the caller frees it), rc in *rc. */
static cJSON *run(const struct plat_worker_options *o, int expect_rc, struct plat_error *err)
{
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
	struct plat_worker *w = plat_worker_new();
	cJSON *summary = NULL;
	int rc = plat_worker_run(w, &svc, o, &summary, err);
	if (rc != expect_rc)
		fail_msg("run: %d (%s), expected %d", rc, err->message, expect_rc);
	assert_int_equal(plat_worker_in_progress(w), 0);
	plat_worker_free(w);
	plat_svc_done(&svc);
	return summary;
}

static void test_once_processes_what_is_queued(void **state)
{
	(void)state;
	NEED_DB();
	upload("contract.txt", "Master services agreement between Acme and Globex.\nValid until 2027-03-31.\n");
	upload("policy.md", "# Policy\n\nAll laptops are encrypted.\n");
	upload("report.html", "<html><body><h1>Report</h1><p>Q3 revenue grew.</p></body></html>");
	struct plat_metrics *m = plat_metrics_new();
	struct plat_worker_options o = {.concurrency = 2, .once = true, .metrics = m};
	struct plat_error err = {0};
	cJSON *s = run(&o, 0, &err);
	assert_int_equal(field(s, "processed"), 3);
	assert_int_equal(field(s, "skipped"), 0);
	assert_int_equal(field(s, "failed"), 0);
	assert_int_equal(field(s, "dead_lettered"), 0);
	assert_null(cJSON_GetObjectItem(s, "published")); /* Kafka only */
	cJSON_Delete(s);
	assert_int_equal(number("SELECT count(*) FROM documents WHERE status = 'processed'"), 3);
	assert_int_equal(number("SELECT count(*) FROM outbox WHERE event_type = 'document.uploaded'"
				" AND (processed_at IS NULL OR claimed_by IS NOT NULL)"),
			 0);
	/* the workers act as the system principal */
	assert_int_equal(number("SELECT count(*) FROM audit_log WHERE action = 'document.process'"
				" AND principal = '" PLAT_WORKER_PRINCIPAL "'"),
			 3);
	/* the caller's registry got the run's metrics */
	struct plat_buf b = PLAT_BUF_INIT;
	plat_metrics_render(m, &b);
	assert_non_null(strstr(b.data, "platctl_consume_documents_total{outcome=\"processed\"} 3\n"));
	assert_non_null(strstr(b.data, "platctl_consume_events_total 3\n"));
	plat_buf_free(&b);
	plat_metrics_free(m);
	/* nothing left */
	o.metrics = NULL;
	s = run(&o, 0, &err);
	assert_int_equal(field(s, "processed"), 0);
	cJSON_Delete(s);
}

static void test_failure_is_dead_lettered(void **state)
{
	(void)state;
	NEED_DB();
	upload("broken.pdf", "%PDF-1.4\nthis is not a real pdf\n");
	struct plat_worker_options o = {.once = true, .max_attempts = 1};
	struct plat_error err = {0};
	cJSON *s = run(&o, 0, &err);
	assert_int_equal(field(s, "processed"), 0);
	assert_int_equal(field(s, "failed"), 0); /* the last attempt counts as dead-lettered */
	assert_int_equal(field(s, "dead_lettered"), 1);
	cJSON_Delete(s);
	assert_int_equal(number("SELECT count(*) FROM documents WHERE name = 'broken.pdf' AND status = 'failed'"), 1);
	assert_int_equal(number("SELECT count(*) FROM outbox WHERE dead_lettered_at IS NOT NULL"), 1);
}

static void test_max_messages_across_threads(void **state)
{
	(void)state;
	NEED_DB();
	upload("m1.txt", "The first of three more documents.\n");
	upload("m2.txt", "The second of three more documents.\n");
	upload("m3.txt", "The third of three more documents.\n");
	struct plat_worker_options o = {.concurrency = 3, .max_messages = 2};
	struct plat_error err = {0};
	cJSON *s = run(&o, 0, &err);
	assert_int_equal(field(s, "processed"), 2);
	cJSON_Delete(s);
	assert_int_equal(number("SELECT count(*) FROM documents WHERE status = 'queued'"), 1);
	o = (struct plat_worker_options){.once = true};
	s = run(&o, 0, &err);
	assert_int_equal(field(s, "processed"), 1);
	cJSON_Delete(s);
}

static void test_idle_exit(void **state)
{
	(void)state;
	NEED_DB();
	struct plat_worker_options o = {.concurrency = 2, .idle_exit_ms = 300};
	struct plat_error err = {0};
	long long t0 = plat_clock_ms();
	cJSON *s = run(&o, 0, &err);
	assert_true(plat_clock_ms() - t0 < 5000);
	assert_int_equal(field(s, "processed"), 0);
	cJSON_Delete(s);
}

struct stopper {
	struct plat_worker *w;
	long long after_ms;
};

static void *stop_later(void *arg)
{
	struct stopper *st = arg;
	plat_sleep_ms(st->after_ms);
	plat_worker_stop(st->w, false);
	return NULL;
}

static void test_stop_request(void **state)
{
	(void)state;
	NEED_DB();
	/* from another thread, while the workers wait on LISTEN: they wake and end */
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
	struct plat_worker *w = plat_worker_new();
	struct stopper st = {w, 500};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, stop_later, &st), 0);
	struct plat_worker_options o = {.concurrency = 2};
	cJSON *s = NULL;
	struct plat_error err = {0};
	long long t0 = plat_clock_ms();
	assert_int_equal(plat_worker_run(w, &svc, &o, &s, &err), 0);
	assert_true(plat_clock_ms() - t0 < 3000);
	pthread_join(t, NULL);
	assert_int_equal(field(s, "processed"), 0);
	cJSON_Delete(s);
	/* a handle runs once */
	assert_int_equal(plat_worker_run(w, &svc, &o, &s, &err), -PLAT_E_INTERNAL);
	assert_null(s);
	plat_worker_free(w);
	/* a stop before the run: it ends at once */
	w = plat_worker_new();
	plat_worker_stop(w, false);
	assert_int_equal(plat_worker_run(w, &svc, &o, &s, &err), 0);
	cJSON_Delete(s);
	plat_worker_free(w);
	plat_svc_done(&svc);
}

static void test_bad_setup_fails_before_any_work(void **state)
{
	(void)state;
	NEED_DB();
	upload("waiting.txt", "A document that must stay queued.\n");
	struct plat_worker_options o = {.once = true, .metrics_file = "/nonexistent/dir/m.prom"};
	struct plat_error err = {0};
	cJSON *s = run(&o, -PLAT_E_PERMISSION, &err);
	assert_null(s);
	assert_non_null(strstr(err.message, "/nonexistent/dir/m.prom"));
	assert_int_equal(number("SELECT count(*) FROM documents WHERE name = 'waiting.txt' AND status = 'queued'"), 1);
	assert_int_equal(number("SELECT count(*) FROM outbox WHERE attempts > 0 AND processed_at IS NULL"
				" AND dead_lettered_at IS NULL"),
			 0);
	o.metrics_file = NULL;
	s = run(&o, 0, &err);
	assert_int_equal(field(s, "processed"), 1);
	cJSON_Delete(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_once_processes_what_is_queued),
		cmocka_unit_test(test_failure_is_dead_lettered),
		cmocka_unit_test(test_max_messages_across_threads),
		cmocka_unit_test(test_idle_exit),
		cmocka_unit_test(test_stop_request),
		cmocka_unit_test(test_bad_setup_fails_before_any_work),
	};
	return cmocka_run_group_tests_name("worker", tests, setup, teardown);
}
