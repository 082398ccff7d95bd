/* lib/events against librdkafka's mock cluster (in this process) and a real PostgreSQL
 * (TEST_DATABASE_URL): the outbox published per request id, so two calls in one process
 * publish only their own events; a released event is delivered again (the partition is
 * sought back to it), not skipped by the next event's offset; dead letters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "clock/clock.h"
#include "documents/documents.h"
#include "events/events.h"
#include "migrate/migrate.h"

#include "harness.h"

static char url[512], dbname[64], root[64], brokers[512];
static struct plat_db *db;
static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mock;

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
	int hrc = harness_database_named("events", dbname, url, sizeof(url), &db);
	if (hrc != 0)
		return hrc > 0 ? 0 : -1;
	snprintf(root, sizeof(root), "/tmp/platctl-events-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	/* One broker on 127.0.0.1, reached over TCP like a real one. */
	char e[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "0", e, sizeof(e));
	mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
	if (!mock_rk || !(mock = rd_kafka_mock_cluster_new(mock_rk, 1)))
		return -1;
	snprintf(brokers, sizeof(brokers), "%s", rd_kafka_mock_cluster_bootstraps(mock));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!db)
		return 0;
	plat_db_close(db);
	rd_kafka_mock_cluster_destroy(mock);
	rd_kafka_destroy(mock_rk);
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

static void header(rd_kafka_message_t *m, const char *name, char *out, size_t n)
{
	rd_kafka_headers_t *h = NULL;
	const void *v;
	size_t len;
	out[0] = '\0';
	if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    rd_kafka_header_get_last(h, name, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR && v)
		snprintf(out, n, "%.*s", (int)len, (const char *)v);
}

/* Every message on partition 0 of topic: how many carry header name = value (NULL: all),
 * and the last one's header want into got. */
static int count_messages(const char *topic, const char *name, const char *value, const char *want, char *got,
			  size_t got_len)
{
	char e[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "bootstrap.servers", brokers, e, sizeof(e));
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", e, sizeof(e));
	rd_kafka_conf_set(conf, "group.id", "test-reader", e, sizeof(e));
	rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", e, sizeof(e));
	rd_kafka_conf_set(conf, "log_level", "0", e, sizeof(e));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
	assert_non_null(rk);
	rd_kafka_poll_set_consumer(rk);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
	assert_int_equal(rd_kafka_assign(rk, l), 0);
	rd_kafka_topic_partition_list_destroy(l);
	int n = 0;
	for (long long end = plat_clock_ms() + 10000; plat_clock_ms() < end;) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			rd_kafka_message_destroy(m);
			break;
		}
		if (!m->err) {
			char v[128];
			header(m, name ? name : "", v, sizeof(v));
			if (!name || strcmp(v, value) == 0)
				n++;
			if (want)
				header(m, want, got, got_len);
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return n;
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

static void upload(struct plat_svc *svc, const char *name, const char *content)
{
	struct text t = {content, 0};
	struct plat_upload_request req = {.src = {.fd = -1, .read = read_text, .read_arg = &t}, .name = name,
					  .defer_publish = true};
	cJSON *doc = NULL;
	struct plat_error err = {0};
	if (plat_documents_upload(svc, &req, &doc, &err) < 0)
		fail_msg("upload %s: %s", name, err.message);
	assert_string_equal(cJSON_GetObjectItem(doc, "outcome")->valuestring, "created");
	cJSON_Delete(doc);
}

static void set(struct plat_config *cfg, enum plat_config_key k, const char *v)
{
	struct plat_error err = {0};
	if (plat_config_set(cfg, k, v, PLAT_CFG_SRC_FLAG, "test", &err) < 0)
		fail_msg("%s", err.message);
}

/* "Two uploads in one process with different ids publish only their own events." */
static void test_each_call_publishes_only_its_own_events(void **state)
{
	(void)state;
	NEED_DB();
	assert_int_equal(rd_kafka_mock_topic_create(mock, "own.docs", 1, 1), 0);
	struct plat_config *cfg = plat_config_new();
	char surl[128];
	snprintf(surl, sizeof(surl), "file://%s", root);
	set(cfg, PLAT_CFG_DATABASE_URL, url);
	set(cfg, PLAT_CFG_STORAGE_URL, surl);
	set(cfg, PLAT_CFG_EVENTS_BACKEND, "kafka");
	set(cfg, PLAT_CFG_KAFKA_BROKERS, brokers);
	set(cfg, PLAT_CFG_KAFKA_TOPIC, "own.docs");
	struct plat_services *services;
	struct plat_error err = {0};
	assert_int_equal(plat_services_open(cfg, NULL, NULL, &services, &err), 0);
	struct plat_svc a, b;
	plat_svc_init(&a, services, &(struct plat_call){.request_id = "req-aaaa"});
	plat_svc_init(&b, services, &(struct plat_call){.request_id = "req-bbbb"});
	upload(&a, "a1.txt", "The first document of call A.\n");
	upload(&b, "b1.txt", "The first document of call B.\n");
	upload(&a, "a2.txt", "The second document of call A.\n");
	upload(&b, "b2.txt", "The second document of call B.\n");
	assert_int_equal(number("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 4);

	if (plat_svc_publish_events(&a, &err) < 0)
		fail_msg("publish a: %s", err.message);
	assert_int_equal(number("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL AND request_id = 'req-aaaa'"), 2);
	assert_int_equal(number("SELECT count(*) FROM outbox WHERE published_at IS NULL AND request_id = 'req-bbbb'"), 2);
	assert_int_equal(count_messages("own.docs", NULL, NULL, NULL, NULL, 0), 2);
	assert_int_equal(count_messages("own.docs", "request_id", "req-aaaa", NULL, NULL, 0), 2);

	if (plat_svc_publish_events(&b, &err) < 0)
		fail_msg("publish b: %s", err.message);
	assert_int_equal(number("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0);
	assert_int_equal(count_messages("own.docs", "request_id", "req-aaaa", NULL, NULL, 0), 2);
	assert_int_equal(count_messages("own.docs", "request_id", "req-bbbb", NULL, NULL, 0), 2);
	/* publishing again finds nothing of either */
	assert_int_equal(plat_svc_publish_events(&a, &err), 0);
	assert_int_equal(count_messages("own.docs", NULL, NULL, NULL, NULL, 0), 4);

	plat_svc_done(&a);
	plat_svc_done(&b);
	plat_services_close(services);
	plat_config_free(cfg);
}

static struct plat_kafka_options kafka_options(const char *topic, const char *group)
{
	return (struct plat_kafka_options){.brokers = brokers, .topic = topic, .dead_letter_topic = "seek.dead",
					   .group = group, .session_timeout_ms = 6000, .message_timeout_ms = 5000,
					   .client_id = "test"};
}

static void next_event(struct plat_subscriber *s, struct plat_kafka_event *ev)
{
	struct plat_error err = {0};
	bool got = false;
	for (long long end = plat_clock_ms() + 30000; !got && plat_clock_ms() < end;)
		if (plat_subscriber_next(s, 200, ev, &got, &err) < 0)
			fail_msg("next: %s", err.message);
	if (!got)
		fail_msg("no event within 30 s");
}

/* A released event comes back before the ones after it, so no later offset is stored
 * past it; a done event does not. */
static void test_released_event_is_delivered_again(void **state)
{
	(void)state;
	NEED_DB();
	assert_int_equal(rd_kafka_mock_topic_create(mock, "seek.docs", 1, 1), 0);
	assert_int_equal(rd_kafka_mock_topic_create(mock, "seek.dead", 1, 1), 0);
	struct plat_kafka_options o = kafka_options("seek.docs", "seek-group");
	struct plat_publisher *pub;
	struct plat_error err = {0};
	assert_int_equal(plat_publisher_open(&o, &pub, &err), 0);
	for (int i = 0; i < 3; i++) {
		char key[16], value[32];
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(value, sizeof(value), "{\"n\":%d}", i);
		struct plat_header h[] = {{"event_type", "document.uploaded"}, {"outbox_id", "0"}};
		assert_int_equal(plat_publish_message(pub, "seek.docs", key, value, strlen(value), h, 2, &err), 0);
	}
	struct plat_subscriber *sub;
	assert_int_equal(plat_subscriber_open(&o, &sub, &err), 0);
	struct plat_kafka_event ev;
	next_event(sub, &ev);
	assert_int_equal(ev.offset, 0);
	plat_subscriber_release(sub, &ev);
	next_event(sub, &ev);
	assert_int_equal(ev.offset, 0); /* again, not the next one */
	assert_int_equal(plat_subscriber_done(sub, &ev, &err), 0);
	next_event(sub, &ev);
	assert_int_equal(ev.offset, 1);
	plat_subscriber_release(sub, &ev);
	next_event(sub, &ev);
	assert_int_equal(ev.offset, 1);
	assert_int_equal(plat_subscriber_done(sub, &ev, &err), 0);
	next_event(sub, &ev);
	assert_int_equal(ev.offset, 2);
	/* the dead-letter copy: the event as it was, with why and where it came from */
	assert_int_equal(plat_publish_dead_letter(pub, "seek.dead", &ev, "it broke", 3, &err), 0);
	assert_int_equal(plat_subscriber_done(sub, &ev, &err), 0);
	bool drained = false;
	for (long long end = plat_clock_ms() + 20000; !drained && plat_clock_ms() < end;) {
		assert_int_equal(plat_subscriber_drained(sub, &drained, &err), 0);
		if (!drained)
			plat_sleep_ms(200);
	}
	assert_true(drained);
	plat_subscriber_close(sub);
	char got[64] = "";
	assert_int_equal(count_messages("seek.dead", "error", "it broke", "source_offset", got, sizeof(got)), 1);
	assert_string_equal(got, "2");
	assert_int_equal(count_messages("seek.dead", "attempts", "3", NULL, NULL, 0), 1);
	plat_publisher_close(pub);
}

static void test_outbox_row_dead_lettered(void **state)
{
	(void)state;
	NEED_DB();
	struct plat_error err = {0};
	assert_int_equal(plat_db_exec(db,
				      "INSERT INTO outbox (tenant_id, event_type) SELECT id, 'document.uploaded' FROM tenants"
				      " WHERE name = 'default'",
				      0, NULL, NULL, &err),
			 0);
	long long id = number("SELECT max(id) FROM outbox");
	assert_int_equal(plat_outbox_dead_lettered(db, id, "no more tries", &err), 0);
	assert_int_equal(number("SELECT count(*) FROM outbox WHERE dead_lettered_at IS NOT NULL AND last_error = 'no more tries'"),
			 1);
	assert_int_equal(plat_outbox_dead_lettered(db, 0, "from elsewhere", &err), 0); /* nothing to mark */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_call_publishes_only_its_own_events),
		cmocka_unit_test(test_released_event_is_delivered_again),
		cmocka_unit_test(test_outbox_row_dead_lettered),
	};
	return cmocka_run_group_tests_name("events", tests, setup, teardown);
}
