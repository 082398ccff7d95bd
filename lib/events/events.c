#include "events/events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>

#include "clock/clock.h"
#include "log/log.h"
#include "mem/mem.h"

enum plat_events_backend plat_events_backend(const struct plat_config *cfg)
{
	const char *b = plat_config_str(cfg, PLAT_CFG_EVENTS_BACKEND);
	if (strcmp(b, "kafka") == 0)
		return PLAT_EVENTS_KAFKA;
	if (strcmp(b, "auto") == 0 && *plat_config_str(cfg, PLAT_CFG_KAFKA_BROKERS))
		return PLAT_EVENTS_KAFKA;
	return PLAT_EVENTS_POSTGRES;
}

void plat_kafka_options_for(const struct plat_config *cfg, struct plat_kafka_options *o)
{
	*o = (struct plat_kafka_options){
		.brokers = plat_config_str(cfg, PLAT_CFG_KAFKA_BROKERS),
		.topic = plat_config_str(cfg, PLAT_CFG_KAFKA_TOPIC),
		.dead_letter_topic = plat_config_str(cfg, PLAT_CFG_KAFKA_DEAD_LETTER_TOPIC),
		.group = plat_config_str(cfg, PLAT_CFG_KAFKA_GROUP),
		.session_timeout_ms = (int)plat_config_int(cfg, PLAT_CFG_KAFKA_SESSION_TIMEOUT),
		.message_timeout_ms = (int)plat_config_int(cfg, PLAT_CFG_KAFKA_PUBLISH_TIMEOUT),
		.client_id = "platctl",
	};
}

/* librdkafka's own log lines and transient errors (a broker going away) go to our log at
 * debug level: the outcome that matters is reported per message or per call. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	plat_log(level <= 2 ? PLAT_LOG_WARN : PLAT_LOG_DEBUG, "kafka", "facility", fac, "detail", buf,
		 (const char *)NULL);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)opaque;
	char fatal[512];
	if (err == RD_KAFKA_RESP_ERR__FATAL && rd_kafka_fatal_error(rk, fatal, sizeof(fatal)))
		PLAT_LOG_E("kafka: fatal error", "error", fatal);
	else
		PLAT_LOG_D("kafka: error", "error", rd_kafka_err2str(err), "detail", reason);
}

static rd_kafka_conf_t *base_conf(const struct plat_kafka_options *o, struct plat_error *err)
{
	if (!o->brokers || !*o->brokers) {
		plat_error_set(err, PLAT_E_CONFIG, "events.kafka.brokers is not set");
		return NULL;
	}
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char e[512];
	if (rd_kafka_conf_set(conf, "bootstrap.servers", o->brokers, e, sizeof(e)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "client.id", o->client_id ? o->client_id : "platctl", e, sizeof(e)) !=
		    RD_KAFKA_CONF_OK) {
		rd_kafka_conf_destroy(conf);
		plat_error_set(err, PLAT_E_CONFIG, "kafka: %s", e);
		return NULL;
	}
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	return conf;
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, struct plat_error *err)
{
	char e[512];
	if (rd_kafka_conf_set(conf, name, value, e, sizeof(e)) == RD_KAFKA_CONF_OK)
		return 0;
	return plat_error_set(err, PLAT_E_CONFIG, "kafka: %s", e);
}

/* ---- producer ---- */

struct plat_publisher {
	rd_kafka_t *rk;
	const char *topic;
};

/* The callers waiting on a set of messages; delivery reports arrive on whichever thread
 * polls, so the batch is locked. */
struct batch {
	pthread_mutex_t lock;
	long long outstanding;
	long long *ok_ids;
	long long n_ok, n_failed;
	char last_error[256];
};

struct delivery {
	struct batch *batch;
	long long outbox_id;
};

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	struct delivery *d = m->_private;
	if (!d)
		return;
	struct batch *b = d->batch;
	pthread_mutex_lock(&b->lock);
	if (m->err) {
		b->n_failed++;
		snprintf(b->last_error, sizeof(b->last_error), "%s", rd_kafka_err2str(m->err));
	} else {
		b->ok_ids[b->n_ok++] = d->outbox_id;
	}
	b->outstanding--;
	pthread_mutex_unlock(&b->lock);
}

int plat_publisher_open(const struct plat_kafka_options *o, struct plat_publisher **out, struct plat_error *err)
{
	*out = NULL;
	rd_kafka_conf_t *conf = base_conf(o, err);
	if (!conf)
		return -(int)err->kind;
	char timeout[24];
	snprintf(timeout, sizeof(timeout), "%d", o->message_timeout_ms > 0 ? o->message_timeout_ms : 10000);
	if (conf_set(conf, "enable.idempotence", "true", err) < 0 || conf_set(conf, "acks", "all", err) < 0 ||
	    conf_set(conf, "message.timeout.ms", timeout, err) < 0 || conf_set(conf, "linger.ms", "5", err) < 0) {
		rd_kafka_conf_destroy(conf);
		return -(int)err->kind;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
	char e[512];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		return plat_error_set(err, PLAT_E_CONFIG, "kafka producer: %s", e);
	}
	struct plat_publisher *p = plat_xcalloc(1, sizeof(*p));
	p->rk = rk;
	p->topic = o->topic;
	*out = p;
	return 0;
}

void plat_publisher_close(struct plat_publisher *p)
{
	if (!p)
		return;
	/* Every message already had its report (callers wait); this only drains internals. */
	rd_kafka_flush(p->rk, 1000);
	rd_kafka_destroy(p->rk);
	free(p);
}

static int produce(struct plat_publisher *p, const char *topic, const char *key, const char *value, size_t len,
		   const struct plat_header *h, size_t n_h, struct delivery *d)
{
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(n_h);
	for (size_t i = 0; i < n_h; i++)
		rd_kafka_header_add(hdrs, h[i].name, -1, h[i].value, -1);
	for (;;) {
		rd_kafka_resp_err_t e = rd_kafka_producev(
			p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
			RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			return 0; /* the headers belong to the message now */
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			rd_kafka_headers_destroy(hdrs);
			snprintf(d->batch->last_error, sizeof(d->batch->last_error), "%s", rd_kafka_err2str(e));
			return -1;
		}
		rd_kafka_poll(p->rk, 100); /* make room: serve delivery reports */
	}
}

/* Poll until every message of the batch has its report; message.timeout.ms bounds it. */
static void wait_batch(struct plat_publisher *p, struct batch *b)
{
	for (;;) {
		pthread_mutex_lock(&b->lock);
		long long left = b->outstanding;
		pthread_mutex_unlock(&b->lock);
		if (left == 0)
			return;
		rd_kafka_poll(p->rk, 50);
	}
}

int plat_publish_outbox(struct plat_publisher *p, struct plat_db *db, const struct plat_outbox_filter *f,
			struct plat_publish_counts *counts, struct plat_error *err)
{
	char older[32], limit[16];
	snprintf(older, sizeof(older), "%lld", f->older_than_ms);
	snprintf(limit, sizeof(limit), "%d", f->limit > 0 ? f->limit : 1000);
	const char *params[] = {f->request_id ? f->request_id : "", f->aggregate_id ? f->aggregate_id : "",
				f->event_type ? f->event_type : "", older, limit};
	PGresult *r;
	int rc = plat_db_exec(db,
			      "SELECT id, event_type, tenant_id, coalesce(aggregate_id::text, ''), coalesce(request_id, ''),"
			      " payload::text, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
			      " FROM outbox WHERE published_at IS NULL AND processed_at IS NULL AND dead_lettered_at IS NULL"
			      " AND ($1 = '' OR request_id = $1) AND ($2 = '' OR aggregate_id::text = $2)"
			      " AND ($3 = '' OR event_type = $3)"
			      " AND created_at <= now() - make_interval(secs => $4::bigint / 1000.0)"
			      " ORDER BY id LIMIT $5::int",
			      5, params, &r, err);
	if (rc < 0)
		return rc;
	int n = PQntuples(r);
	struct batch b = {.outstanding = 0};
	pthread_mutex_init(&b.lock, NULL);
	b.ok_ids = plat_xcalloc((size_t)n + 1, sizeof(long long));
	struct delivery *d = plat_xcalloc((size_t)n + 1, sizeof(*d));
	for (int i = 0; i < n; i++) {
		const char *id = PQgetvalue(r, i, 0), *type = PQgetvalue(r, i, 1), *tenant = PQgetvalue(r, i, 2),
			   *doc = PQgetvalue(r, i, 3), *req = PQgetvalue(r, i, 4);
		cJSON *v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "outbox_id", atof(id));
		cJSON_AddStringToObject(v, "event_type", type);
		cJSON_AddStringToObject(v, "tenant_id", tenant);
		cJSON_AddStringToObject(v, "document_id", doc);
		cJSON_AddStringToObject(v, "request_id", req);
		cJSON_AddStringToObject(v, "created_at", PQgetvalue(r, i, 6));
		cJSON *payload = cJSON_Parse(PQgetvalue(r, i, 5));
		cJSON_AddItemToObject(v, "payload", payload ? payload : cJSON_CreateObject());
		char *value = cJSON_PrintUnformatted(v);
		cJSON_Delete(v);
		struct plat_header h[] = {{"event_type", type}, {"tenant_id", tenant}, {"request_id", req}, {"outbox_id", id}};
		d[i] = (struct delivery){&b, atoll(id)};
		pthread_mutex_lock(&b.lock);
		b.outstanding++;
		pthread_mutex_unlock(&b.lock);
		if (produce(p, p->topic, *doc ? doc : NULL, value, strlen(value), h, 4, &d[i]) < 0) {
			pthread_mutex_lock(&b.lock);
			b.outstanding--;
			b.n_failed++;
			pthread_mutex_unlock(&b.lock);
		}
		cJSON_free(value);
	}
	PQclear(r);
	wait_batch(p, &b);
	if (b.n_ok > 0) {
		struct plat_buf ids = PLAT_BUF_INIT;
		plat_buf_putc(&ids, '{');
		for (long long i = 0; i < b.n_ok; i++)
			plat_buf_printf(&ids, "%s%lld", i ? "," : "", b.ok_ids[i]);
		plat_buf_putc(&ids, '}');
		const char *up[] = {ids.data};
		rc = plat_db_exec(db, "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", 1, up, NULL,
				  err);
		plat_buf_free(&ids);
	}
	if (b.n_failed > 0)
		PLAT_LOG_W("kafka: events not confirmed; they stay in the outbox for the sweeper", "error", b.last_error);
	counts->published += rc == 0 ? b.n_ok : 0;
	counts->failed += b.n_failed;
	free(b.ok_ids);
	free(d);
	pthread_mutex_destroy(&b.lock);
	return rc;
}

int plat_publish_message(struct plat_publisher *p, const char *topic, const char *key, const char *value,
			 size_t len, const struct plat_header *headers, size_t n_headers, struct plat_error *err)
{
	struct batch b = {.outstanding = 1};
	long long ok_id = 0;
	b.ok_ids = &ok_id;
	pthread_mutex_init(&b.lock, NULL);
	struct delivery d = {&b, 0};
	if (produce(p, topic, key, value, len, headers, n_headers, &d) < 0) {
		b.outstanding = 0;
		b.n_failed = 1;
	}
	wait_batch(p, &b);
	pthread_mutex_destroy(&b.lock);
	if (b.n_failed)
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "kafka: publishing to %s failed: %s", topic, b.last_error);
	return 0;
}

int plat_publish_dead_letter(struct plat_publisher *p, const char *topic, const struct plat_kafka_event *ev,
			     const char *error, int attempts, struct plat_error *err)
{
	char n[16], partition[16], offset[32], outbox[32];
	snprintf(n, sizeof(n), "%d", attempts);
	snprintf(partition, sizeof(partition), "%d", ev->partition);
	snprintf(offset, sizeof(offset), "%lld", ev->offset);
	snprintf(outbox, sizeof(outbox), "%lld", ev->outbox_id);
	struct plat_header h[] = {{"event_type", ev->event_type}, {"tenant_id", ev->tenant_id},
				  {"request_id", ev->request_id}, {"outbox_id", outbox}, {"error", error},
				  {"attempts", n}, {"source_partition", partition}, {"source_offset", offset}};
	return plat_publish_message(p, topic, ev->document_id, ev->value, ev->value_len, h, sizeof(h) / sizeof(h[0]),
				    err);
}

int plat_outbox_dead_lettered(struct plat_db *db, long long outbox_id, const char *error, struct plat_error *err)
{
	if (outbox_id <= 0)
		return 0;
	char id[32];
	snprintf(id, sizeof(id), "%lld", outbox_id);
	const char *params[] = {id, error};
	return plat_db_exec(db, "UPDATE outbox SET dead_lettered_at = now(), last_error = $2 WHERE id = $1", 2, params,
			    NULL, err);
}

/* ---- consumer ---- */

struct plat_subscriber {
	rd_kafka_t *rk;
	char *topic;
	/* What it was opened with, to join the group again (plat_subscriber_release). */
	struct plat_kafka_options o;
	char *brokers, *group, *client_id;
	bool rejoin;
	/* The topic's partitions for the --once drained check, looked up again every
	 * PARTITIONS_TTL_MS: one metadata round trip fewer at the end of a run. */
	rd_kafka_topic_partition_list_t *partitions;
	long long partitions_at;
};

#define PARTITIONS_TTL_MS 10000

static int consumer_new(const struct plat_kafka_options *o, rd_kafka_t **out, struct plat_error *err)
{
	*out = NULL;
	rd_kafka_conf_t *conf = base_conf(o, err);
	if (!conf)
		return -(int)err->kind;
	char session[24], heartbeat[24];
	snprintf(session, sizeof(session), "%d", o->session_timeout_ms);
	snprintf(heartbeat, sizeof(heartbeat), "%d", o->session_timeout_ms / 3 > 0 ? o->session_timeout_ms / 3 : 1);
	/* Offsets are stored by hand after each document's commit; the stored ones are
	 * committed every second and on close. A document may take long (big PDFs, slow AI):
	 * max.poll.interval is generous so the worker keeps its partitions meanwhile. */
	if (conf_set(conf, "group.id", o->group, err) < 0 || conf_set(conf, "session.timeout.ms", session, err) < 0 ||
	    conf_set(conf, "heartbeat.interval.ms", heartbeat, err) < 0 ||
	    conf_set(conf, "enable.auto.offset.store", "false", err) < 0 ||
	    conf_set(conf, "enable.auto.commit", "true", err) < 0 ||
	    conf_set(conf, "auto.commit.interval.ms", "1000", err) < 0 ||
	    conf_set(conf, "auto.offset.reset", "earliest", err) < 0 ||
	    conf_set(conf, "max.poll.interval.ms", "1800000", err) < 0 ||
	    /* An idle fetch waits at the broker this long, and requests on the same
	     * connection (commits, offset look-ups for --once) queue behind it. */
	    conf_set(conf, "fetch.wait.max.ms", "100", err) < 0 ||
	    /* Keep fetching ahead by size, not by a message count that small events reach at
	     * once (the default, 100,000, stalls a fast reader); at most 16 MB per worker. */
	    conf_set(conf, "queued.min.messages", "10000000", err) < 0 ||
	    conf_set(conf, "queued.max.messages.kbytes", "16384", err) < 0) {
		rd_kafka_conf_destroy(conf);
		return -(int)err->kind;
	}
	char e[512];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		return plat_error_set(err, PLAT_E_CONFIG, "kafka consumer: %s", e);
	}
	rd_kafka_poll_set_consumer(rk);
	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, o->topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t se = rd_kafka_subscribe(rk, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (se) {
		rd_kafka_destroy(rk);
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "kafka: subscribing to %s: %s", o->topic, rd_kafka_err2str(se));
	}
	*out = rk;
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? plat_xstrdup(s) : NULL;
}

int plat_subscriber_open(const struct plat_kafka_options *o, struct plat_subscriber **out, struct plat_error *err)
{
	*out = NULL;
	rd_kafka_t *rk;
	int rc = consumer_new(o, &rk, err);
	if (rc < 0)
		return rc;
	struct plat_subscriber *s = plat_xcalloc(1, sizeof(*s));
	s->rk = rk;
	s->topic = plat_xstrdup(o->topic);
	s->brokers = dup_or_null(o->brokers);
	s->group = dup_or_null(o->group);
	s->client_id = dup_or_null(o->client_id);
	s->o = *o;
	s->o.topic = s->topic;
	s->o.brokers = s->brokers;
	s->o.group = s->group;
	s->o.client_id = s->client_id;
	s->o.dead_letter_topic = NULL;
	*out = s;
	return 0;
}

static void header(rd_kafka_headers_t *h, const char *name, char *out, size_t n)
{
	const void *v;
	size_t len;
	out[0] = '\0';
	if (h && rd_kafka_header_get_last(h, name, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR && v)
		snprintf(out, n, "%.*s", (int)len, (const char *)v);
}

/* Leave the group and join it again: the member starts over from the group's committed
 * offsets, which never passed an event it released. */
static int rejoin(struct plat_subscriber *s, struct plat_error *err)
{
	PLAT_LOG_W("kafka: joining the consumer group again so that a released event is delivered again");
	rd_kafka_consumer_close(s->rk); /* commits the stored offsets, all before the event */
	rd_kafka_destroy(s->rk);
	s->rk = NULL;
	int rc = consumer_new(&s->o, &s->rk, err);
	if (rc == 0)
		s->rejoin = false;
	return rc;
}

int plat_subscriber_next(struct plat_subscriber *s, int timeout_ms, struct plat_kafka_event *ev, bool *got,
			 struct plat_error *err)
{
	*got = false;
	if (s->rejoin && rejoin(s, err) < 0)
		return -(int)err->kind;
	rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, timeout_ms);
	if (!m)
		return 0;
	if (m->err) {
		rd_kafka_resp_err_t e = m->err;
		char detail[256];
		snprintf(detail, sizeof(detail), "%s", rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
		if (e == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			return 0;
		if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
			return plat_error_set(err, PLAT_E_NOT_FOUND, "kafka: topic %s does not exist", s->topic);
		PLAT_LOG_D("kafka: consumer error", "error", detail);
		return 0;
	}
	memset(ev, 0, sizeof(*ev));
	rd_kafka_headers_t *h = NULL;
	rd_kafka_message_headers(m, &h);
	char outbox[32];
	header(h, "event_type", ev->event_type, sizeof(ev->event_type));
	header(h, "tenant_id", ev->tenant_id, sizeof(ev->tenant_id));
	header(h, "request_id", ev->request_id, sizeof(ev->request_id));
	header(h, "outbox_id", outbox, sizeof(outbox));
	ev->outbox_id = atoll(outbox);
	rd_kafka_timestamp_type_t tstype;
	int64_t ts = rd_kafka_message_timestamp(m, &tstype);
	if (ts > 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		double age = (double)now.tv_sec - (double)ts / 1000.0 + (double)now.tv_nsec / 1e9;
		ev->age_seconds = age > 0 ? age : 0;
	}
	if (m->key && m->key_len < sizeof(ev->document_id))
		snprintf(ev->document_id, sizeof(ev->document_id), "%.*s", (int)m->key_len, (const char *)m->key);
	ev->key = m->key;
	ev->key_len = m->key_len;
	ev->value = m->payload;
	ev->value_len = m->len;
	ev->partition = m->partition;
	ev->offset = m->offset;
	ev->msg = m;
	*got = true;
	return 0;
}

static void release_message(struct plat_kafka_event *ev)
{
	if (ev->msg)
		rd_kafka_message_destroy(ev->msg);
	ev->msg = NULL;
}

void plat_subscriber_release(struct plat_subscriber *s, struct plat_kafka_event *ev)
{
	rd_kafka_message_t *m = ev->msg;
	if (!m)
		return;
	/* Back to the event: the fetcher forgets what it read past it (the next poll of this
	 * partition starts at the event again), so no later event's offset is stored over
	 * it. Done synchronously: once this returns, no message fetched before can come. */
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset = m->offset;
	rd_kafka_error_t *e = rd_kafka_seek_partitions(s->rk, l, 5000);
	rd_kafka_resp_err_t pe = l->elems[0].err;
	if (e) {
		pe = rd_kafka_error_code(e);
		rd_kafka_error_destroy(e);
	}
	rd_kafka_topic_partition_list_destroy(l);
	release_message(ev);
	/* Not ours any more (a rebalance took it): its new owner starts at the committed
	 * offset, which is before the event. Anything else leaves the fetcher's position
	 * unknown: start over from the committed offsets. */
	if (pe && pe != RD_KAFKA_RESP_ERR__STATE && pe != RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
		PLAT_LOG_W("kafka: seeking back to a released event failed", "error", rd_kafka_err2str(pe));
		s->rejoin = true;
	}
}

int plat_subscriber_done(struct plat_subscriber *s, struct plat_kafka_event *ev, struct plat_error *err)
{
	rd_kafka_message_t *m = ev->msg;
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset = m->offset + 1;
	rd_kafka_resp_err_t e = rd_kafka_offsets_store(s->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	release_message(ev);
	/* A partition taken away meanwhile refuses the store: the new owner sees the event
	 * again and the pipeline's idempotence absorbs it. */
	if (e && e != RD_KAFKA_RESP_ERR__STATE)
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "kafka: storing the offset: %s", rd_kafka_err2str(e));
	return 0;
}

int plat_subscriber_drained(struct plat_subscriber *s, bool *drained, struct plat_error *err)
{
	*drained = false;
	rd_kafka_resp_err_t e = rd_kafka_commit(s->rk, NULL, 0);
	if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
		return 0; /* not now; the caller asks again */
	if (!s->partitions || plat_clock_ms() - s->partitions_at > PARTITIONS_TTL_MS) {
		rd_kafka_topic_t *t = rd_kafka_topic_new(s->rk, s->topic, NULL);
		const struct rd_kafka_metadata *md = NULL;
		e = rd_kafka_metadata(s->rk, 0, t, &md, 5000);
		rd_kafka_topic_destroy(t);
		if (e || md->topic_cnt != 1 || md->topics[0].err) {
			if (md)
				rd_kafka_metadata_destroy(md);
			return e == RD_KAFKA_RESP_ERR__TRANSPORT || e == RD_KAFKA_RESP_ERR__TIMED_OUT
				       ? 0
				       : plat_error_set(err, PLAT_E_UNAVAILABLE, "kafka: no metadata for topic %s", s->topic);
		}
		int n = md->topics[0].partition_cnt;
		if (s->partitions)
			rd_kafka_topic_partition_list_destroy(s->partitions);
		s->partitions = rd_kafka_topic_partition_list_new(n);
		for (int i = 0; i < n; i++)
			rd_kafka_topic_partition_list_add(s->partitions, s->topic, md->topics[0].partitions[i].id);
		rd_kafka_metadata_destroy(md);
		s->partitions_at = plat_clock_ms();
	}
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_copy(s->partitions);
	/* The ends of every partition in one ListOffsets request per leader (timestamps -2 and
	 * -1 mean earliest and latest), not one round trip per partition. */
	rd_kafka_topic_partition_list_t *lo = rd_kafka_topic_partition_list_copy(l),
					*hi = rd_kafka_topic_partition_list_copy(l);
	for (int i = 0; i < l->cnt; i++) {
		lo->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
		hi->elems[i].offset = RD_KAFKA_OFFSET_END;
	}
	bool all = rd_kafka_committed(s->rk, l, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
		   rd_kafka_offsets_for_times(s->rk, lo, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
		   rd_kafka_offsets_for_times(s->rk, hi, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR;
	for (int i = 0; all && i < l->cnt; i++) {
		if (lo->elems[i].err || hi->elems[i].err) {
			all = false;
			break;
		}
		int64_t at = l->elems[i].offset >= 0 ? l->elems[i].offset : lo->elems[i].offset;
		all = at >= hi->elems[i].offset;
	}
	rd_kafka_topic_partition_list_destroy(lo);
	rd_kafka_topic_partition_list_destroy(hi);
	rd_kafka_topic_partition_list_destroy(l);
	*drained = all;
	return 0;
}

void plat_subscriber_close(struct plat_subscriber *s)
{
	if (!s)
		return;
	if (s->rk) {
		rd_kafka_consumer_close(s->rk); /* commits the stored offsets, leaves the group */
		rd_kafka_destroy(s->rk);
	}
	if (s->partitions)
		rd_kafka_topic_partition_list_destroy(s->partitions);
	free(s->topic);
	free(s->brokers);
	free(s->group);
	free(s->client_id);
	free(s);
}
