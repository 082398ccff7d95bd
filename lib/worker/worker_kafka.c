/* Kafka: one consumer group member per worker. Retries happen in place, with backoff; the
 * offset is stored only once the document's transaction committed or the event is on the
 * dead-letter topic. An event that cannot be finished now (dead-lettering failed, the
 * database went away, the run is stopping) is released: its partition is sought back to
 * it, so it is delivered again and no later event's offset is stored past it. The sweeper
 * republishes outbox rows Kafka never confirmed. */
#include "worker/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock/clock.h"
#include "log/log.h"

/* An event whose work ended (failed every attempt, or given up) but whose dead-lettering
 * failed: when it comes back, only the dead-lettering is done again. */
struct pending {
	bool set;
	int partition;
	long long offset;
	bool produced; /* the copy is on the dead-letter topic; the outbox mark is left */
	int attempts;
	char error[512];
};

struct member {
	struct slot *s;
	struct plat_subscriber *sub;
	struct pending pending;
	long long release_delay; /* backoff before taking events again after a release */
};

#define RELEASE_BACKOFF_FIRST_MS 1000
#define RELEASE_BACKOFF_CAP_MS 30000

/* Give the event back for redelivery; pause first unless the cause is already waited for
 * elsewhere (a reconnect, the run stopping). */
static void release(struct member *m, struct plat_kafka_event *ev, bool pause)
{
	struct plat_worker *w = m->s->w;
	plat_subscriber_release(m->sub, ev);
	worker_take_slot(w, -1); /* it takes its slot again when it comes back */
	if (pause) {
		m->release_delay = m->release_delay ? m->release_delay * 2 : RELEASE_BACKOFF_FIRST_MS;
		if (m->release_delay > RELEASE_BACKOFF_CAP_MS)
			m->release_delay = RELEASE_BACKOFF_CAP_MS;
		worker_wait(w, m->release_delay);
	}
}

static void done(struct member *m, struct plat_kafka_event *ev)
{
	struct plat_error err = {0};
	m->release_delay = 0;
	if (plat_subscriber_done(m->sub, ev, &err) < 0)
		PLAT_LOG_W("storing an offset failed; the event will be delivered again", "error", err.message);
}

static void dead_letter(struct member *m, struct plat_kafka_event *ev, const char *error, int attempts)
{
	struct slot *s = m->s;
	struct plat_worker *w = s->w;
	struct pending *p = &m->pending;
	if (!(p->set && p->partition == ev->partition && p->offset == ev->offset)) {
		*p = (struct pending){.set = true, .partition = ev->partition, .offset = ev->offset, .attempts = attempts};
		snprintf(p->error, sizeof(p->error), "%s", error);
	}
	struct plat_error err = {0};
	int rc = 0;
	if (!p->produced) {
		rc = plat_publish_dead_letter(w->pub, w->kafka.dead_letter_topic, ev, p->error, p->attempts, &err);
		p->produced = rc == 0;
	}
	if (rc == 0 && (rc = plat_outbox_dead_lettered(s->conn.db, ev->outbox_id, p->error, &err)) < 0)
		worker_conn_lost(w, &s->conn, &err);
	if (rc < 0) {
		PLAT_LOG_E("dead-lettering failed; the event will be delivered again", "document_id", ev->document_id,
			   "error", err.message);
		release(m, ev, true);
		return;
	}
	plat_log(PLAT_LOG_ERROR, "document failed; event dead-lettered", "document_id", ev->document_id,
		 "upload_request_id", ev->request_id, "error", p->error, (const char *)NULL);
	worker_count(w, W_DEAD, 1);
	p->set = false;
	done(m, ev);
}

/* How many earlier deliveries started this document without finishing it (still
 * 'processing': their workers died). */
static int unfinished_attempts(struct plat_db *db, const struct plat_kafka_event *ev, int *n, struct plat_error *err)
{
	const char *params[] = {ev->tenant_id, ev->document_id};
	PGresult *r;
	*n = 0;
	int rc = plat_db_exec(db,
			      "SELECT attempts FROM documents WHERE tenant_id = $1 AND id = $2 AND status = 'processing'",
			      2, params, &r, err);
	if (rc < 0)
		return rc;
	*n = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	return 0;
}

static void handle(struct member *m, struct plat_kafka_event *ev)
{
	struct slot *s = m->s;
	struct plat_worker *w = s->w;
	if (m->pending.set && m->pending.partition == ev->partition && m->pending.offset == ev->offset) {
		dead_letter(m, ev, NULL, 0);
		return;
	}
	struct plat_error err = {0};
	int started;
	if (unfinished_attempts(s->conn.db, ev, &started, &err) < 0) {
		bool lost = worker_conn_lost(w, &s->conn, &err);
		if (!lost)
			PLAT_LOG_W("reading the document failed; the event will be delivered again", "error", err.message);
		release(m, ev, !lost);
		return;
	}
	if (started >= w->o.max_attempts) {
		char why[256];
		worker_give_up(s, ev->tenant_id, ev->document_id, ev->request_id, started, why, sizeof(why));
		dead_letter(m, ev, why, started);
		return;
	}
	enum plat_pipeline_outcome outcome = PLAT_PIPELINE_SKIPPED;
	int attempt = 0, rc = -1;
	while (attempt < w->o.max_attempts) {
		attempt++;
		rc = worker_process(s, ev->tenant_id, ev->document_id, ev->request_id, &outcome, &err);
		if (rc == 0)
			break;
		if (worker_conn_lost(w, &s->conn, &err)) {
			/* Not the document's fault: it comes back once the database does. */
			plat_log(PLAT_LOG_WARN, "lost the database while processing; the event will be delivered again",
				 "document_id", ev->document_id, (const char *)NULL);
			release(m, ev, false);
			return;
		}
		if (attempt >= w->o.max_attempts)
			break;
		worker_count(w, W_FAILED, 1);
		plat_log(PLAT_LOG_ERROR, "document failed; will retry", "document_id", ev->document_id, "upload_request_id",
			 ev->request_id, "error", err.message, (const char *)NULL);
		int secs = 1 << (attempt < 6 ? attempt : 6);
		if (!worker_wait(w, secs * 1000LL)) {
			release(m, ev, false); /* stopping: it stays unstored and comes back */
			return;
		}
	}
	if (rc < 0) {
		/* The last attempt counts as dead-lettered, never as failed-then-undone. */
		dead_letter(m, ev, err.message, attempt);
		return;
	}
	worker_count(w, outcome == PLAT_PIPELINE_PROCESSED ? W_PROCESSED : W_SKIPPED, 1);
	if (outcome == PLAT_PIPELINE_PROCESSED) {
		struct plat_publish_counts pc = {0};
		struct plat_outbox_filter f = {.aggregate_id = ev->document_id, .event_type = "document.processed"};
		struct plat_error perr = {0};
		/* Unconfirmed ones stay in the outbox for the sweeper. */
		if (plat_publish_outbox(w->pub, s->conn.db, &f, &pc, &perr) < 0)
			worker_conn_lost(w, &s->conn, &perr);
		worker_count(w, W_PUBLISHED, pc.published);
		worker_count(w, W_DELIVERY_FAILED, pc.failed);
	}
	done(m, ev);
}

void worker_serve_kafka(struct slot *s)
{
	struct plat_worker *w = s->w;
	struct member m = {.s = s};
	struct plat_error err = {0};
	if (worker_conn_open(w, &s->conn, &err) < 0 || plat_subscriber_open(&w->kafka, &m.sub, &err) < 0) {
		pthread_mutex_lock(&w->lock);
		w->start_failed = true;
		pthread_mutex_unlock(&w->lock);
		worker_stop_with(w, &err);
		return;
	}
	long long next_drain_check = 0;
	while (!worker_stopping(w)) {
		if (!worker_conn_up(w, &s->conn))
			break;
		if (!worker_take_slot(w, 1))
			break;
		struct plat_kafka_event ev;
		bool got = false;
		/* Short: an empty poll is also how once notices the end of the topic. */
		if (plat_subscriber_next(m.sub, 100, &ev, &got, &err) < 0) {
			worker_take_slot(w, -1);
			worker_stop_with(w, &err);
			break;
		}
		if (!got) {
			worker_take_slot(w, -1);
			if (worker_idle_long_enough(w))
				break;
			bool drained = false;
			if (w->o.once && plat_clock_ms() >= next_drain_check) {
				next_drain_check = plat_clock_ms() + 500;
				if (plat_subscriber_drained(m.sub, &drained, &err) < 0) {
					worker_stop_with(w, &err);
					break;
				}
				if (drained)
					worker_stop_with(w, NULL);
			}
			continue;
		}
		if (strcmp(ev.event_type, "document.uploaded") != 0 || !*ev.tenant_id || !*ev.document_id) {
			/* Other events share the topic (document.processed): not ours to work on. */
			worker_take_slot(w, -1);
			done(&m, &ev);
			continue;
		}
		worker_consumed(w, ev.age_seconds);
		handle(&m, &ev);
	}
	plat_subscriber_close(m.sub);
}

/* Outbox rows still unconfirmed after events.kafka.republish_after are published again, by
 * one consume process at a time (the holder of an advisory lock). */
#define SWEEPER_LOCK 0x706c6174737765LL /* "platswe" */

void *worker_sweeper(void *arg)
{
	struct plat_worker *w = arg;
	plat_log_set_thread_request_id(w->request_id);
	struct wconn c = {.role = "sweeper"};
	struct plat_error err = {0};
	long long after = plat_config_int(w->cfg, PLAT_CFG_KAFKA_REPUBLISH_AFTER);
	long long every = after / 3 < 1000 ? 1000 : after / 3 > 10000 ? 10000 : after / 3;
	bool leader = false;
	while (!worker_stopping(w)) {
		if (!worker_conn_try(w, &c)) {
			leader = false; /* the lock went with the connection */
			worker_wait(w, every);
			continue;
		}
		if (!leader && plat_db_advisory_lock(c.db, SWEEPER_LOCK, false, &leader, &err) < 0) {
			if (!worker_conn_lost(w, &c, &err))
				worker_conn_close(&c); /* a broken session: start over */
			leader = false;
		}
		if (c.db && leader) {
			struct plat_publish_counts pc = {0};
			struct plat_outbox_filter f = {.older_than_ms = after, .limit = 500};
			if (plat_publish_outbox(w->pub, c.db, &f, &pc, &err) < 0) {
				if (!worker_conn_lost(w, &c, &err)) {
					PLAT_LOG_W("sweeper: republishing failed", "error", err.message);
					worker_conn_close(&c);
				}
				leader = false;
			}
			if (pc.published) {
				char n[24];
				snprintf(n, sizeof(n), "%lld", pc.published);
				PLAT_LOG_I("sweeper: republished events", "count", n);
			}
			worker_count(w, W_PUBLISHED, pc.published);
			worker_count(w, W_DELIVERY_FAILED, pc.failed);
		}
		worker_wait(w, every);
	}
	worker_conn_close(&c);
	return NULL;
}
