/* platctl consume: workers that process uploaded documents from the PostgreSQL queue.
 *
 * Each worker has its own connection: it claims an event (SKIP LOCKED, under a lease),
 * runs the pipeline, and acknowledges only after the document's transaction committed
 * (at-least-once delivery; the pipeline is idempotent, so the effect is exactly once).
 * Failures go back with backoff and are dead-lettered after --max-attempts. SIGTERM and
 * SIGINT stop fetching; in-flight documents finish before the command exits 0. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ai/ai.h"
#include "ai/builtin.h"
#include "clock/clock.h"
#include "pipeline/pipeline.h"
#include "platctl.h"
#include "events/events.h"
#include "metrics/metrics.h"
#include "queue/queue.h"

#define C(f) offsetof(struct consume_opts, f)

const struct plat_opt consume_opts[] = {
	{'c', "concurrency", PLAT_OPT_INT, "N", "worker threads (default 1)", NULL, 1, 64, 0, C(concurrency)},
	{0, "once", PLAT_OPT_BOOL, NULL, "process what is queued now, then exit", NULL, 0, 0, 0, C(once)},
	{0, "max-messages", PLAT_OPT_INT, "N", "exit after handling N events", NULL, 1, 1LL << 40, 0, C(max_messages)},
	{0, "idle-exit", PLAT_OPT_INT, "SECONDS", "exit after SECONDS with nothing to do", NULL, 1, 86400, 0, C(idle_exit)},
	{0, "max-attempts", PLAT_OPT_INT, "N", "attempts before an event is dead-lettered (default 5)", NULL, 1, 100, 0, C(max_attempts)},
	{0, "metrics-file", PLAT_OPT_STRING, "FILE", "write Prometheus metrics to FILE every 5 s and at exit", NULL, 0, 0, PLAT_COMPLETE_FILE, C(metrics_file)},
	PLAT_OPT_END,
};

const struct consume_opts consume_defaults = {.concurrency = 1, .max_attempts = 5};

struct consume {
	struct plat_cli_ctx *ctx;
	const struct consume_opts *o;
	enum plat_events_backend backend;
	struct plat_kafka_options kafka;
	struct plat_publisher *pub; /* kafka: processed events, dead letters, the sweeper */
	struct plat_store *store;
	struct plat_taxonomy *taxonomy;
	struct plat_ai *chat, *embeddings;
	struct plat_sandbox_limits limits;
	struct plat_metrics *metrics;
	char worker_prefix[96]; /* every worker's name starts with it (lease renewal) */
	pthread_mutex_t lock;
	bool stop;
	int running;
	long long claimed, processed, skipped, failed, dead, published, delivery_failed, last_activity_ms;
	struct plat_error fatal; /* a worker that could not start */
};

static bool should_stop(struct consume *c)
{
	pthread_mutex_lock(&c->lock);
	bool s = c->stop;
	pthread_mutex_unlock(&c->lock);
	return s;
}

static void stop_with(struct consume *c, const struct plat_error *why)
{
	pthread_mutex_lock(&c->lock);
	if (why && c->fatal.kind == PLAT_OK)
		c->fatal = *why;
	c->stop = true;
	pthread_mutex_unlock(&c->lock);
}

/* The summary's counters, mirrored into the metrics registry. */
static void count(struct consume *c, long long *slot, long long n)
{
	const char *name = "platctl_consume_documents_total", *labels = NULL;
	if (slot == &c->processed)
		labels = "outcome=\"processed\"";
	else if (slot == &c->skipped)
		labels = "outcome=\"skipped\"";
	else if (slot == &c->failed)
		name = "platctl_consume_failed_attempts_total";
	else if (slot == &c->dead)
		labels = "outcome=\"dead_lettered\"";
	else if (slot == &c->published)
		name = "platctl_events_published_total";
	else if (slot == &c->delivery_failed)
		name = "platctl_events_delivery_failures_total";
	plat_metrics_add(c->metrics, name, labels, (double)n);
	pthread_mutex_lock(&c->lock);
	*slot += n;
	if (n > 0) /* work done, not the sweeper finding nothing */
		c->last_activity_ms = plat_clock_ms();
	pthread_mutex_unlock(&c->lock);
}

/* --max-messages is a promise across threads: a worker takes a slot before it claims, so
 * N workers never handle more than N events between them. */
static bool take_slot(struct consume *c, int delta)
{
	pthread_mutex_lock(&c->lock);
	bool ok = true;
	if (delta > 0 && c->o->max_messages && c->claimed >= c->o->max_messages) {
		c->stop = true;
		ok = false;
	} else {
		c->claimed += delta;
	}
	pthread_mutex_unlock(&c->lock);
	return ok;
}

/* An event taken for work: counted, and its age observed as the lag. */
static void consumed(struct consume *c, double age_seconds)
{
	plat_metrics_add(c->metrics, "platctl_consume_events_total", NULL, 1);
	plat_metrics_observe(c->metrics, "platctl_consume_lag_seconds", NULL, age_seconds);
	plat_metrics_set(c->metrics, "platctl_consume_last_event_timestamp_seconds", NULL, (double)time(NULL));
}

/* Nothing to do right now: --idle-exit decides whether that ends the run. */
static bool idle_long_enough(struct consume *c)
{
	pthread_mutex_lock(&c->lock);
	bool idle = c->o->idle_exit && plat_clock_ms() - c->last_activity_ms >= c->o->idle_exit * 1000;
	if (idle)
		c->stop = true;
	pthread_mutex_unlock(&c->lock);
	return idle;
}

/* Sleep up to ms, waking early when the run stops. False when it stopped. */
static bool pause_unless_stopped(struct consume *c, long long ms)
{
	for (long long end = plat_clock_ms() + ms; plat_clock_ms() < end;) {
		if (should_stop(c))
			return false;
		plat_sleep_ms(100);
	}
	return !should_stop(c);
}

static void pipeline_for(struct consume *c, struct plat_svc *svc, struct plat_pipeline *p, struct plat_db *db,
			 const char *tenant_id, const char *request_id)
{
	struct plat_cli_ctx *ctx = c->ctx;
	*svc = (struct plat_svc){.db = db, .store = c->store, .tenant = "",
				 .principal = plat_config_str(ctx->cfg, PLAT_CFG_PRINCIPAL)};
	snprintf(svc->request_id, sizeof(svc->request_id), "%s", request_id);
	snprintf(svc->tenant_id, sizeof(svc->tenant_id), "%s", tenant_id);
	*p = (struct plat_pipeline){
		.svc = svc, .chat = c->chat, .embeddings = c->embeddings, .taxonomy = c->taxonomy,
		.external_allow = plat_config_str(ctx->cfg, PLAT_CFG_AI_EXTERNAL_ALLOW),
		.external_allow_pii = plat_config_bool(ctx->cfg, PLAT_CFG_AI_EXTERNAL_ALLOW_PII),
		.limits = c->limits, .metrics = c->metrics,
	};
}

/* A document whose earlier deliveries all ended without a word (the worker crashed, was
 * killed, or the host went down) must not take down worker after worker forever. */
static void give_up(struct consume *c, struct plat_db *db, const char *tenant_id, const char *document_id,
		    const char *request_id, int deliveries, char *why, size_t why_len)
{
	snprintf(why, why_len,
		 "gave up after %d deliveries that ended without a result (the worker crashed or was killed "
		 "while processing it)",
		 deliveries);
	struct plat_svc svc;
	struct plat_pipeline p;
	pipeline_for(c, &svc, &p, db, tenant_id, request_id);
	plat_pipeline_give_up(&p, document_id, why);
}

static int process(struct consume *c, struct plat_db *db, const char *tenant_id, const char *document_id,
		   const char *request_id, enum plat_pipeline_outcome *outcome, struct plat_error *err)
{
	struct plat_svc svc;
	struct plat_pipeline p;
	pipeline_for(c, &svc, &p, db, tenant_id, request_id);
	long long t0 = plat_clock_ms();
	int rc = plat_pipeline_process(&p, document_id, outcome, err);
	char ms[24];
	snprintf(ms, sizeof(ms), "%lld", plat_clock_ms() - t0);
	if (rc == 0)
		plat_log(PLAT_LOG_INFO, *outcome == PLAT_PIPELINE_PROCESSED ? "document processed" : "document skipped",
			 "document_id", document_id, "upload_request_id", request_id, "duration_ms", ms, (const char *)NULL);
	return rc;
}

/* postgres backend: claim under a lease, acknowledge after the commit, or give it back. */
static void serve_postgres(struct consume *c, struct plat_db *db, const char *name)
{
	int lease_s = (int)(plat_config_int(c->ctx->cfg, PLAT_CFG_EVENTS_LEASE) / 1000);
	struct plat_error err = {0};
	while (!should_stop(c)) {
		struct plat_event ev;
		bool got = false;
		if (!take_slot(c, 1))
			break;
		if (plat_queue_claim(db, name, lease_s, &ev, &got, &err) < 0) {
			take_slot(c, -1);
			PLAT_LOG_W("claiming an event failed; retrying", "error", err.message);
			pause_unless_stopped(c, 1000);
			continue;
		}
		if (!got) {
			take_slot(c, -1);
			if (c->o->once || idle_long_enough(c))
				break;
			plat_queue_wait(db, 1000);
			continue;
		}
		consumed(c, ev.age_seconds);
		if (ev.attempts > c->o->max_attempts) {
			char why[256];
			bool dead = false;
			struct plat_error ignore = {0};
			give_up(c, db, ev.tenant_id, ev.document_id, ev.request_id, ev.attempts - 1, why, sizeof(why));
			plat_queue_nack(db, &ev, why, (int)c->o->max_attempts, &dead, &ignore);
			plat_log(PLAT_LOG_ERROR, "document failed; event dead-lettered", "document_id", ev.document_id,
				 "upload_request_id", ev.request_id, "error", why, (const char *)NULL);
			count(c, &c->dead, 1);
			continue;
		}
		enum plat_pipeline_outcome outcome;
		if (process(c, db, ev.tenant_id, ev.document_id, ev.request_id, &outcome, &err) == 0) {
			/* Acknowledge only now: the document's transaction has committed. */
			if (plat_queue_ack(db, ev.id, &err) < 0)
				PLAT_LOG_W("acknowledging failed; the event will be redelivered", "error", err.message);
			count(c, outcome == PLAT_PIPELINE_PROCESSED ? &c->processed : &c->skipped, 1);
		} else {
			bool dead = false;
			struct plat_error ignore = {0};
			plat_queue_nack(db, &ev, err.message, (int)c->o->max_attempts, &dead, &ignore);
			plat_log(PLAT_LOG_ERROR, dead ? "document failed; event dead-lettered" : "document failed; will retry",
				 "document_id", ev.document_id, "upload_request_id", ev.request_id, "error", err.message,
				 (const char *)NULL);
			count(c, dead ? &c->dead : &c->failed, 1);
		}
	}
}

/* kafka: the copy for the dead-letter topic, then the outbox row marked for documents retry. */
static int dead_letter(struct consume *c, struct plat_db *db, const struct plat_kafka_event *ev, const char *error,
		       int attempts, struct plat_error *err)
{
	char n[16], partition[16], offset[32], outbox[32];
	snprintf(n, sizeof(n), "%d", attempts);
	snprintf(partition, sizeof(partition), "%d", ev->partition);
	snprintf(offset, sizeof(offset), "%lld", ev->offset);
	snprintf(outbox, sizeof(outbox), "%lld", ev->outbox_id);
	struct plat_header h[] = {{"event_type", ev->event_type}, {"tenant_id", ev->tenant_id},
				  {"request_id", ev->request_id}, {"outbox_id", outbox}, {"error", error},
				  {"attempts", n}, {"source_partition", partition}, {"source_offset", offset}};
	char *key = plat_xstrdup(ev->document_id);
	int rc = plat_publish_message(c->pub, c->kafka.dead_letter_topic, key, ev->value, ev->value_len, h,
				      sizeof(h) / sizeof(h[0]), err);
	free(key);
	if (rc == 0 && ev->outbox_id > 0) {
		const char *params[] = {outbox, error};
		rc = plat_db_exec(db, "UPDATE outbox SET dead_lettered_at = now(), last_error = $2 WHERE id = $1", 2, params,
				  NULL, err);
	}
	return rc;
}

/* kafka: how many times earlier deliveries started this document without finishing it
 * (still 'processing': their workers died). */
static int unfinished_attempts(struct plat_db *db, const struct plat_kafka_event *ev)
{
	const char *params[] = {ev->tenant_id, ev->document_id};
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(db, "SELECT attempts FROM documents WHERE tenant_id = $1 AND id = $2 AND status = 'processing'",
			 2, params, &r, &err) < 0)
		return 0;
	int n = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	return n;
}

/* kafka backend: one group member per worker; retries happen here, with backoff, and the
 * offset is stored only once the document's transaction committed (or the event went to
 * the dead-letter topic). */
static void serve_kafka(struct consume *c, struct plat_db *db)
{
	struct plat_subscriber *sub = NULL;
	struct plat_error err = {0};
	if (plat_subscriber_open(&c->kafka, &sub, &err) < 0) {
		stop_with(c, &err);
		return;
	}
	long long next_drain_check = 0;
	while (!should_stop(c)) {
		struct plat_kafka_event ev;
		bool got = false;
		if (!take_slot(c, 1))
			break;
		/* Short: an empty poll is also how --once notices the end of the topic. */
		if (plat_subscriber_next(sub, 100, &ev, &got, &err) < 0) {
			take_slot(c, -1);
			stop_with(c, &err);
			break;
		}
		if (!got) {
			take_slot(c, -1);
			if (idle_long_enough(c))
				break;
			bool drained = false;
			if (c->o->once && plat_clock_ms() >= next_drain_check) {
				next_drain_check = plat_clock_ms() + 500;
				if (plat_subscriber_drained(sub, &drained, &err) < 0) {
					stop_with(c, &err);
					break;
				}
				if (drained)
					stop_with(c, NULL);
			}
			continue;
		}
		if (strcmp(ev.event_type, "document.uploaded") != 0 || !*ev.tenant_id || !*ev.document_id) {
			/* Other events share the topic (document.processed): not ours to work on. */
			take_slot(c, -1);
			if (plat_subscriber_done(sub, &ev, &err) < 0)
				PLAT_LOG_W("storing an offset failed", "error", err.message);
			continue;
		}
		consumed(c, ev.age_seconds);
		int started = unfinished_attempts(db, &ev);
		if (started >= c->o->max_attempts) {
			char why[256];
			struct plat_error derr = {0};
			give_up(c, db, ev.tenant_id, ev.document_id, ev.request_id, started, why, sizeof(why));
			if (dead_letter(c, db, &ev, why, started, &derr) < 0) {
				PLAT_LOG_E("dead-lettering failed; the event will be delivered again", "document_id",
					   ev.document_id, "error", derr.message);
				plat_subscriber_release(&ev);
				continue;
			}
			plat_log(PLAT_LOG_ERROR, "document failed; event dead-lettered", "document_id", ev.document_id,
				 "upload_request_id", ev.request_id, "error", why, (const char *)NULL);
			count(c, &c->dead, 1);
			if (plat_subscriber_done(sub, &ev, &err) < 0)
				PLAT_LOG_W("storing an offset failed", "error", err.message);
			continue;
		}
		enum plat_pipeline_outcome outcome = PLAT_PIPELINE_SKIPPED;
		int attempt = 0, rc = -1;
		bool interrupted = false;
		while (rc < 0 && attempt < c->o->max_attempts) {
			attempt++;
			rc = process(c, db, ev.tenant_id, ev.document_id, ev.request_id, &outcome, &err);
			if (rc == 0)
				break;
			count(c, &c->failed, 1);
			if (attempt >= c->o->max_attempts)
				break;
			plat_log(PLAT_LOG_ERROR, "document failed; will retry", "document_id", ev.document_id,
				 "upload_request_id", ev.request_id, "error", err.message, (const char *)NULL);
			int secs = 1 << (attempt < 6 ? attempt : 6);
			if (!pause_unless_stopped(c, secs * 1000LL)) {
				interrupted = true; /* stopping: the event stays unstored and comes back */
				break;
			}
		}
		if (interrupted) {
			plat_subscriber_release(&ev);
			continue;
		}
		if (rc == 0) {
			count(c, outcome == PLAT_PIPELINE_PROCESSED ? &c->processed : &c->skipped, 1);
			if (outcome == PLAT_PIPELINE_PROCESSED) {
				struct plat_publish_counts pc = {0};
				struct plat_outbox_filter f = {.aggregate_id = ev.document_id, .event_type = "document.processed"};
				struct plat_error perr = {0};
				/* Unconfirmed ones stay in the outbox for the sweeper. */
				plat_publish_outbox(c->pub, db, &f, &pc, &perr);
				count(c, &c->published, pc.published);
				count(c, &c->delivery_failed, pc.failed);
			}
		} else {
			struct plat_error derr = {0};
			char error[512];
			snprintf(error, sizeof(error), "%s", err.message);
			if (dead_letter(c, db, &ev, error, attempt, &derr) < 0) {
				PLAT_LOG_E("dead-lettering failed; the event will be delivered again", "document_id",
					   ev.document_id, "error", derr.message);
				plat_subscriber_release(&ev);
				continue;
			}
			/* The last attempt moves from failed to dead_lettered, as on postgres. */
			count(c, &c->failed, -1);
			count(c, &c->dead, 1);
			plat_log(PLAT_LOG_ERROR, "document failed; event dead-lettered", "document_id", ev.document_id,
				 "upload_request_id", ev.request_id, "error", error, (const char *)NULL);
		}
		if (plat_subscriber_done(sub, &ev, &err) < 0)
			PLAT_LOG_W("storing an offset failed; the event will be delivered again", "error", err.message);
	}
	plat_subscriber_close(sub);
}

static void *worker(void *arg)
{
	struct consume *c = arg;
	struct plat_cli_ctx *ctx = c->ctx;
	struct plat_db_options dbo = {.url = plat_config_str(ctx->cfg, PLAT_CFG_DATABASE_URL),
				      .connect_timeout_ms = plat_config_int(ctx->cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT)};
	struct plat_db *db = NULL;
	struct plat_error err = {0};
	if (plat_db_connect(&dbo, &db, &err) < 0 ||
	    (c->backend == PLAT_EVENTS_POSTGRES && plat_queue_listen(db, &err) < 0)) {
		stop_with(c, &err);
	} else {
		char name[160];
		snprintf(name, sizeof(name), "%s%lx", c->worker_prefix, (unsigned long)pthread_self());
		if (c->backend == PLAT_EVENTS_KAFKA)
			serve_kafka(c, db);
		else
			serve_postgres(c, db, name);
	}
	plat_db_close(db);
	pthread_mutex_lock(&c->lock);
	c->running--;
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* kafka: outbox rows still unconfirmed after events.kafka.republish_after are published
 * again — by one consume process at a time (the holder of an advisory lock). */
#define SWEEPER_LOCK 0x706c6174737765LL /* "platswe" */

static void *sweeper(void *arg)
{
	struct consume *c = arg;
	struct plat_cli_ctx *ctx = c->ctx;
	struct plat_db_options dbo = {.url = plat_config_str(ctx->cfg, PLAT_CFG_DATABASE_URL),
				      .connect_timeout_ms = plat_config_int(ctx->cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT)};
	struct plat_db *db = NULL;
	struct plat_error err = {0};
	long long after = plat_config_int(ctx->cfg, PLAT_CFG_KAFKA_REPUBLISH_AFTER);
	long long every = after / 3 < 1000 ? 1000 : after / 3 > 10000 ? 10000 : after / 3;
	bool leader = false;
	while (!should_stop(c)) {
		if (!db && plat_db_connect(&dbo, &db, &err) < 0) {
			PLAT_LOG_W("sweeper: cannot connect; trying again", "error", err.message);
			db = NULL;
		}
		if (db && !leader && plat_db_advisory_lock(db, SWEEPER_LOCK, false, &leader, &err) < 0) {
			plat_db_close(db); /* a broken connection: start over */
			db = NULL;
		}
		if (db && leader) {
			struct plat_publish_counts pc = {0};
			struct plat_outbox_filter f = {.older_than_ms = after, .limit = 500};
			if (plat_publish_outbox(c->pub, db, &f, &pc, &err) < 0) {
				PLAT_LOG_W("sweeper: republishing failed", "error", err.message);
				plat_db_close(db);
				db = NULL;
				leader = false;
			}
			if (pc.published) {
				char n[24];
				snprintf(n, sizeof(n), "%lld", pc.published);
				PLAT_LOG_I("sweeper: republished events", "count", n);
			}
			count(c, &c->published, pc.published);
			count(c, &c->delivery_failed, pc.failed);
		}
		pause_unless_stopped(c, every);
	}
	plat_db_close(db);
	return NULL;
}

static void write_metrics(struct consume *c)
{
	struct plat_error err = {0};
	if (c->o->metrics_file && plat_metrics_write_file(c->metrics, c->o->metrics_file, &err) < 0)
		PLAT_LOG_W("writing metrics failed", "error", err.message);
}

static struct plat_metrics *consume_metrics(void)
{
	struct plat_metrics *m = plat_metrics_new();
	plat_metrics_describe(m, "platctl_consume_events_total", PLAT_METRIC_COUNTER, "Events taken for processing.");
	plat_metrics_describe(m, "platctl_consume_documents_total", PLAT_METRIC_COUNTER,
			      "Documents handled, by outcome (processed, skipped, dead_lettered).");
	plat_metrics_describe(m, "platctl_consume_failed_attempts_total", PLAT_METRIC_COUNTER,
			      "Processing attempts that failed (retried or dead-lettered).");
	plat_metrics_describe(m, "platctl_consume_lag_seconds", PLAT_METRIC_HISTOGRAM,
			      "Age of each event when a worker took it.");
	plat_metrics_describe(m, "platctl_consume_last_event_timestamp_seconds", PLAT_METRIC_GAUGE,
			      "Unix time a worker last took an event.");
	plat_metrics_describe(m, PLAT_PIPELINE_STAGE_METRIC, PLAT_METRIC_HISTOGRAM, "Time per pipeline stage.");
	plat_metrics_describe(m, "platctl_events_published_total", PLAT_METRIC_COUNTER,
			      "Events confirmed by Kafka (processed events and the sweeper's republished ones).");
	plat_metrics_describe(m, "platctl_events_delivery_failures_total", PLAT_METRIC_COUNTER,
			      "Events Kafka did not confirm (they stay in the outbox).");
	return m;
}

/* The main thread: signals, the grace period, and (postgres) lease renewal. Returns false
 * when the grace period ran out with documents still in progress. */
static bool supervise(struct consume *c, pthread_t *sweeper_thread)
{
	struct plat_cli_ctx *ctx = c->ctx;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	long long lease = plat_config_int(ctx->cfg, PLAT_CFG_EVENTS_LEASE), renewed = plat_clock_ms();
	long long grace = plat_config_int(ctx->cfg, PLAT_CFG_EVENTS_GRACE_PERIOD), stop_at = 0;
	struct plat_db *db = NULL; /* renews the leases of this process's workers */
	long long metrics_written = 0;
	for (;;) {
		if (c->o->metrics_file && plat_clock_ms() - metrics_written >= 5000) {
			write_metrics(c);
			metrics_written = plat_clock_ms();
		}
		pthread_mutex_lock(&c->lock);
		int running = c->running;
		bool stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		if (running == 0)
			break;
		if (stop && !stop_at)
			stop_at = plat_clock_ms();
		if (stop_at && plat_clock_ms() - stop_at > grace) {
			plat_db_close(db);
			return false;
		}
		/* The tick is also how soon the process exits after its workers finished. */
		struct timespec tick = {0, 50 * 1000 * 1000};
		siginfo_t info;
		if (sigtimedwait(&set, &info, &tick) > 0) {
			if (stop_at) {
				PLAT_LOG_W("second signal: stopping now");
				plat_db_close(db);
				return false;
			}
			PLAT_LOG_I("stopping: finishing the documents in progress");
			stop_with(c, NULL);
		}
		if (c->backend == PLAT_EVENTS_POSTGRES && plat_clock_ms() - renewed >= lease / 3) {
			struct plat_error err = {0};
			struct plat_db_options dbo = {
				.url = plat_config_str(ctx->cfg, PLAT_CFG_DATABASE_URL),
				.connect_timeout_ms = plat_config_int(ctx->cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT)};
			if ((db || plat_db_connect(&dbo, &db, &err) == 0) &&
			    plat_queue_renew(db, c->worker_prefix, (int)(lease / 1000), &err) == 0) {
				renewed = plat_clock_ms();
			} else {
				PLAT_LOG_W("renewing leases failed; trying again", "error", err.message);
				plat_db_close(db);
				db = NULL;
				renewed += 1000; /* retry in a second, not every tick */
			}
		}
	}
	plat_db_close(db);
	if (sweeper_thread)
		pthread_join(*sweeper_thread, NULL);
	return true;
}

static int summary(struct consume *c)
{
	struct plat_cli_ctx *ctx = c->ctx;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "processed", (double)c->processed);
	cJSON_AddNumberToObject(j, "skipped", (double)c->skipped);
	cJSON_AddNumberToObject(j, "failed", (double)c->failed);
	cJSON_AddNumberToObject(j, "dead_lettered", (double)c->dead);
	if (c->backend == PLAT_EVENTS_KAFKA) {
		cJSON_AddNumberToObject(j, "published", (double)c->published);
		cJSON_AddNumberToObject(j, "delivery_failed", (double)c->delivery_failed);
	}
	int rc = platctl_print(ctx, j, NULL);
	cJSON_Delete(j);
	if (rc == 0 && c->failed + c->dead > 0)
		/* Counted per attempt: one document can fail, be retried, then be dead-lettered. */
		rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "%lld processing attempt%s failed, %lld event%s dead-lettered",
				    c->failed + c->dead, c->failed + c->dead == 1 ? "" : "s", c->dead, c->dead == 1 ? "" : "s");
	else if (rc == 0 && c->delivery_failed > 0)
		rc = plat_error_set(&ctx->err, PLAT_E_FAILURE,
				    "%lld event deliver%s to Kafka failed; the events stay in the outbox and are republished",
				    c->delivery_failed, c->delivery_failed == 1 ? "y" : "ies");
	return rc;
}

int cmd_consume(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct consume_opts *o = opts;
	struct consume c = {.ctx = ctx, .o = o, .last_activity_ms = plat_clock_ms(), .backend = plat_events_backend(ctx->cfg)};
	pthread_mutex_init(&c.lock, NULL);
	snprintf(c.worker_prefix, sizeof(c.worker_prefix), "%s:%ld:", plat_log_request_id(), (long)getpid());
	plat_kafka_options_for(ctx->cfg, &c.kafka);
	c.limits = (struct plat_sandbox_limits){
		.memory_bytes = plat_config_int(ctx->cfg, PLAT_CFG_EXTRACT_MEMORY_LIMIT),
		.cpu_seconds = (int)(plat_config_int(ctx->cfg, PLAT_CFG_EXTRACT_CPU_LIMIT) / 1000),
		.timeout_ms = plat_config_int(ctx->cfg, PLAT_CFG_EXTRACT_TIMEOUT),
	};
	c.metrics = consume_metrics();
	struct plat_svc svc;
	plat_svc_init(&svc, NULL, NULL);
	c.kafka.client_id = "platctl-consume";
	int rc = 0;
	/* A metrics file that cannot be written is found now, not at the first 5 s tick. */
	if (o->metrics_file)
		rc = plat_metrics_write_file(c.metrics, o->metrics_file, &ctx->err);
	if (rc == 0 && c.backend == PLAT_EVENTS_KAFKA) {
		/* The sweeper waits for its batches: give their reports time to arrive. */
		long long after = plat_config_int(ctx->cfg, PLAT_CFG_KAFKA_REPUBLISH_AFTER);
		if (c.kafka.message_timeout_ms < after)
			c.kafka.message_timeout_ms = (int)after;
		rc = plat_publisher_open(&c.kafka, &c.pub, &ctx->err);
	}
	if (rc == 0)
		rc = platctl_call(ctx, &svc);
	if (rc == 0)
		rc = plat_svc_enter(&svc, "consume", PLAT_NEEDS_STORE, &ctx->err);
	c.store = svc.store;
	if (rc == 0)
		rc = plat_taxonomy_load(plat_config_str(ctx->cfg, PLAT_CFG_AI_TAXONOMY), &c.taxonomy, &ctx->err);
	if (rc == 0)
		rc = plat_svc_ai(&svc, PLAT_AI_CHAT, &c.chat, &ctx->err);
	if (rc == 0)
		rc = plat_svc_ai(&svc, PLAT_AI_EMBEDDINGS, &c.embeddings, &ctx->err);
	if (rc == 0) {
		/* Signals are taken by the main thread only; workers see a stop flag. */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		int n = (int)o->concurrency;
		pthread_t *th = plat_xcalloc((size_t)n, sizeof(*th)), sweep;
		c.running = n;
		for (int i = 0; i < n; i++)
			pthread_create(&th[i], NULL, worker, &c);
		if (c.backend == PLAT_EVENTS_KAFKA)
			pthread_create(&sweep, NULL, sweeper, &c);
		if (!supervise(&c, c.backend == PLAT_EVENTS_KAFKA ? &sweep : NULL)) {
			/* Workers are still inside documents: leave them to the exit. Their events were
			 * not acknowledged, so they are delivered again. */
			write_metrics(&c);
			pthread_mutex_lock(&c.lock);
			int left = c.running;
			summary(&c);
			pthread_mutex_unlock(&c.lock);
			plat_error_set(&ctx->err, PLAT_E_UNAVAILABLE,
				       "stopped with %d document%s still in progress; %s delivered again", left,
				       left == 1 ? "" : "s", left == 1 ? "its event will be" : "their events will be");
			platctl_fail_now(ctx, -PLAT_E_UNAVAILABLE);
		}
		for (int i = 0; i < n; i++)
			pthread_join(th[i], NULL);
		free(th);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		if (c.fatal.kind != PLAT_OK) {
			ctx->err = c.fatal;
			rc = -(int)c.fatal.kind;
		}
	}
	if (rc == 0) {
		write_metrics(&c);
		rc = summary(&c);
	}
	plat_metrics_free(c.metrics);
	plat_publisher_close(c.pub);
	plat_taxonomy_free(c.taxonomy);
	platctl_svc_close(&svc);
	pthread_mutex_destroy(&c.lock);
	return rc;
}
