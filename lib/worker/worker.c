/* The run: setup, the worker threads, the supervisor (lease renewal, the grace period,
 * the metrics file), counters, connections that come back, and the summary. */
#include "worker/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock/clock.h"
#include "log/log.h"
#include "mem/mem.h"
#include "queue/queue.h"

/* ---- the handle ---- */

struct plat_worker *plat_worker_new(void)
{
	struct plat_worker *w = plat_xcalloc(1, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pipe(w->wake) < 0)
		w->wake[0] = w->wake[1] = -1;
	for (int i = 0; i < 2; i++)
		if (w->wake[i] >= 0)
			fcntl(w->wake[i], F_SETFD, FD_CLOEXEC);
	return w;
}

int plat_worker_in_progress(struct plat_worker *w)
{
	pthread_mutex_lock(&w->lock);
	int n = w->abandoned;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void plat_worker_free(struct plat_worker *w)
{
	if (!w || plat_worker_in_progress(w) > 0)
		return; /* threads still use it: the process's exit takes it */
	for (int i = 0; i < 2; i++)
		if (w->wake[i] >= 0)
			close(w->wake[i]);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* Called with the lock held. */
static void request_stop(struct plat_worker *w)
{
	w->stop = true;
	if (!w->woken && w->wake[1] >= 0) {
		/* Never read: the pipe stays readable, and every later wait returns at once. */
		ssize_t n = write(w->wake[1], "x", 1);
		(void)n;
		w->woken = true;
	}
	pthread_cond_broadcast(&w->cond);
}

void plat_worker_stop(struct plat_worker *w, bool now)
{
	pthread_mutex_lock(&w->lock);
	if (now)
		w->stop_now = true;
	request_stop(w);
	pthread_mutex_unlock(&w->lock);
}

/* ---- shared by the threads ---- */

bool worker_stopping(struct plat_worker *w)
{
	pthread_mutex_lock(&w->lock);
	bool s = w->stop;
	pthread_mutex_unlock(&w->lock);
	return s;
}

void worker_stop_with(struct plat_worker *w, const struct plat_error *why)
{
	pthread_mutex_lock(&w->lock);
	if (why && why->kind != PLAT_OK && w->fatal.kind == PLAT_OK)
		w->fatal = *why;
	request_stop(w);
	pthread_mutex_unlock(&w->lock);
}

static void deadline_in(struct timespec *ts, long long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

bool worker_wait(struct plat_worker *w, long long ms)
{
	struct timespec until;
	deadline_in(&until, ms > 0 ? ms : 0);
	pthread_mutex_lock(&w->lock);
	while (!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
		;
	bool stopped = w->stop;
	pthread_mutex_unlock(&w->lock);
	return !stopped;
}

void worker_count(struct plat_worker *w, enum worker_counter c, long long n)
{
	static const char *const names[W__N] = {
		"platctl_consume_documents_total",       "platctl_consume_documents_total",
		"platctl_consume_failed_attempts_total", "platctl_consume_documents_total",
		"platctl_events_published_total",        "platctl_events_delivery_failures_total"};
	static const char *const labels[W__N] = {"outcome=\"processed\"", "outcome=\"skipped\"", NULL,
						 "outcome=\"dead_lettered\"", NULL, NULL};
	if (n <= 0)
		return;
	plat_metrics_add(w->metrics, names[c], labels[c], (double)n);
	pthread_mutex_lock(&w->lock);
	w->n[c] += n;
	w->last_activity_ms = plat_clock_ms();
	pthread_mutex_unlock(&w->lock);
}

bool worker_take_slot(struct plat_worker *w, int delta)
{
	pthread_mutex_lock(&w->lock);
	bool ok = true;
	if (delta > 0 && w->o.max_messages && w->claimed >= w->o.max_messages) {
		request_stop(w);
		ok = false;
	} else {
		w->claimed += delta;
	}
	pthread_mutex_unlock(&w->lock);
	return ok;
}

void worker_consumed(struct plat_worker *w, double age_seconds)
{
	plat_metrics_add(w->metrics, "platctl_consume_events_total", NULL, 1);
	plat_metrics_observe(w->metrics, "platctl_consume_lag_seconds", NULL, age_seconds);
	plat_metrics_set(w->metrics, "platctl_consume_last_event_timestamp_seconds", NULL, (double)time(NULL));
	pthread_mutex_lock(&w->lock);
	w->last_activity_ms = plat_clock_ms();
	pthread_mutex_unlock(&w->lock);
}

bool worker_idle_long_enough(struct plat_worker *w)
{
	pthread_mutex_lock(&w->lock);
	bool idle = w->o.idle_exit_ms && plat_clock_ms() - w->last_activity_ms >= w->o.idle_exit_ms;
	if (idle)
		request_stop(w);
	pthread_mutex_unlock(&w->lock);
	return idle;
}

void worker_hold(struct slot *s, long long event_id)
{
	pthread_mutex_lock(&s->w->lock);
	s->held = event_id;
	pthread_mutex_unlock(&s->w->lock);
}

/* ---- connections ---- */

#define BACKOFF_FIRST_MS 200
#define BACKOFF_CAP_MS 5000
#define STILL_DOWN_LOG_MS 10000

/* Between half the delay and all of it: connections that broke together do not all come
 * back at the same instant. */
static long long jittered(struct wconn *c, long long delay)
{
	c->seed = c->seed * 1103515245u + 12345u;
	return delay / 2 + (long long)((c->seed >> 8) % (unsigned)(delay / 2 + 1));
}

static void fmt_duration(long long ms, char *out, size_t n)
{
	if (ms % 60000 == 0)
		snprintf(out, n, "%lldm", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(out, n, "%llds", ms / 1000);
	else
		snprintf(out, n, "%lldms", ms);
}

static int connect_now(struct plat_worker *w, struct wconn *c, long long timeout_ms, struct plat_error *err)
{
	struct plat_db_options o = w->dbo;
	o.connect_timeout_ms = timeout_ms;
	int rc = plat_db_connect(&o, &c->db, err);
	if (rc == 0 && c->listen && (rc = plat_queue_listen(c->db, err)) < 0) {
		plat_db_close(c->db);
		c->db = NULL;
	}
	return rc;
}

int worker_conn_open(struct plat_worker *w, struct wconn *c, struct plat_error *err)
{
	c->seed ^= (unsigned)plat_clock_ms() ^ (unsigned)(size_t)c;
	return connect_now(w, c, w->dbo.connect_timeout_ms, err);
}

bool worker_conn_try(struct plat_worker *w, struct wconn *c)
{
	if (c->db)
		return true;
	long long now = plat_clock_ms();
	if (now < c->next_try)
		return false;
	if (!c->down_since) /* never connected: the outage starts now */
		c->down_since = now;
	struct plat_error err = {0};
	if (connect_now(w, c, 0, &err) == 0) {
		char ms[24];
		snprintf(ms, sizeof(ms), "%lld", plat_clock_ms() - c->down_since);
		if (c->warned_at)
			plat_log(PLAT_LOG_INFO, "reconnected to the database", "connection", c->role, "outage_ms", ms,
				 (const char *)NULL);
		c->down_since = c->delay = c->warned_at = 0;
		return true;
	}
	now = plat_clock_ms();
	if (now - c->down_since >= w->outage_ms) {
		char limit[24];
		fmt_duration(w->outage_ms, limit, sizeof(limit));
		struct plat_error fatal = {0};
		plat_error_set(&fatal, PLAT_E_UNAVAILABLE,
			       "the database has been unreachable for longer than database.outage_limit (%s): %s", limit,
			       err.message);
		worker_stop_with(w, &fatal);
		return false;
	}
	c->delay = c->delay ? (c->delay * 2 > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : c->delay * 2) : BACKOFF_FIRST_MS;
	c->next_try = now + jittered(c, c->delay);
	if (!c->warned_at || now - c->warned_at >= STILL_DOWN_LOG_MS) {
		char ms[24];
		snprintf(ms, sizeof(ms), "%lld", now - c->down_since);
		plat_log(PLAT_LOG_WARN, "database unreachable; reconnecting with backoff", "connection", c->role,
			 "outage_ms", ms, "error", err.message, (const char *)NULL);
		c->warned_at = now;
	}
	return false;
}

bool worker_conn_up(struct plat_worker *w, struct wconn *c)
{
	while (!worker_conn_try(w, c)) {
		if (worker_stopping(w))
			return false;
		worker_wait(w, c->next_try - plat_clock_ms());
		if (worker_stopping(w))
			return false;
	}
	return true;
}

bool worker_conn_lost(struct plat_worker *w, struct wconn *c, const struct plat_error *why)
{
	(void)w;
	if (!c->db || PQstatus(plat_db_pgconn(c->db)) == CONNECTION_OK)
		return false;
	plat_db_close(c->db);
	c->db = NULL;
	long long now = plat_clock_ms();
	c->down_since = now;
	c->next_try = now; /* the first attempt at once: a restart may already be over */
	c->delay = 0;
	c->warned_at = now;
	plat_log(PLAT_LOG_WARN, "lost the database connection; reconnecting", "connection", c->role, "error",
		 why ? why->message : "", (const char *)NULL);
	return true;
}

void worker_conn_close(struct wconn *c)
{
	plat_db_close(c->db);
	c->db = NULL;
}

/* ---- the pipeline for one event ---- */

/* A context of the worker's own over the caller's services: the system principal, the
 * event's tenant (named by id in the event) and the upload's request id, which the
 * document.processed event and the audit row carry on. */
static void event_svc(struct slot *s, struct plat_svc *es, struct plat_pipeline *p, const char *tenant_id,
		      const char *request_id)
{
	struct plat_worker *w = s->w;
	plat_svc_init(es, w->svc->services,
		      &(struct plat_call){.principal = PLAT_WORKER_PRINCIPAL, .tenant = "", .request_id = request_id});
	es->db = s->conn.db;
	es->store = w->store;
	snprintf(es->tenant_id, sizeof(es->tenant_id), "%s", tenant_id);
	*p = (struct plat_pipeline){
		.svc = es, .chat = w->chat, .embeddings = w->embeddings, .taxonomy = w->taxonomy,
		.external_allow = plat_config_str(w->cfg, PLAT_CFG_AI_EXTERNAL_ALLOW),
		.external_allow_pii = plat_config_bool(w->cfg, PLAT_CFG_AI_EXTERNAL_ALLOW_PII),
		.limits = w->limits, .metrics = w->metrics,
	};
}

static void event_svc_done(struct slot *s, struct plat_svc *es)
{
	plat_svc_done(es);
	plat_log_set_thread_request_id(s->w->request_id);
}

int worker_process(struct slot *s, const char *tenant_id, const char *document_id, const char *request_id,
		   enum plat_pipeline_outcome *outcome, struct plat_error *err)
{
	struct plat_svc es;
	struct plat_pipeline p;
	event_svc(s, &es, &p, tenant_id, request_id);
	long long t0 = plat_clock_ms();
	int rc = plat_pipeline_process(&p, document_id, outcome, err);
	event_svc_done(s, &es);
	char ms[24];
	snprintf(ms, sizeof(ms), "%lld", plat_clock_ms() - t0);
	if (rc == 0)
		plat_log(PLAT_LOG_INFO, *outcome == PLAT_PIPELINE_PROCESSED ? "document processed" : "document skipped",
			 "document_id", document_id, "upload_request_id", request_id, "duration_ms", ms, (const char *)NULL);
	return rc;
}

void worker_give_up(struct slot *s, const char *tenant_id, const char *document_id, const char *request_id,
		    int deliveries, char *why, size_t why_len)
{
	snprintf(why, why_len,
		 "gave up after %d deliveries that ended without a result (the worker crashed or was killed "
		 "while processing it)",
		 deliveries);
	struct plat_svc es;
	struct plat_pipeline p;
	event_svc(s, &es, &p, tenant_id, request_id);
	plat_pipeline_give_up(&p, document_id, why);
	event_svc_done(s, &es);
}

/* ---- the run ---- */

static void *worker_thread(void *arg)
{
	struct slot *s = arg;
	struct plat_worker *w = s->w;
	plat_log_set_thread_request_id(w->request_id);
	if (w->backend == PLAT_EVENTS_KAFKA)
		worker_serve_kafka(s);
	else
		worker_serve_postgres(s);
	worker_conn_close(&s->conn);
	pthread_mutex_lock(&w->lock);
	w->running--;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void write_metrics(struct plat_worker *w)
{
	struct plat_error err = {0};
	if (w->o.metrics_file && plat_metrics_write_file(w->metrics, w->o.metrics_file, &err) < 0)
		PLAT_LOG_W("writing metrics failed", "error", err.message);
}

static void describe_metrics(struct plat_metrics *m)
{
	plat_metrics_describe(m, "platctl_consume_events_total", PLAT_METRIC_COUNTER, "Events taken for processing.");
	plat_metrics_describe(m, "platctl_consume_documents_total", PLAT_METRIC_COUNTER,
			      "Documents handled, by outcome (processed, skipped, dead_lettered).");
	plat_metrics_describe(m, "platctl_consume_failed_attempts_total", PLAT_METRIC_COUNTER,
			      "Processing attempts that failed and were retried (an event's last attempt counts as "
			      "dead_lettered).");
	plat_metrics_describe(m, "platctl_consume_lag_seconds", PLAT_METRIC_HISTOGRAM,
			      "Age of each event when a worker took it.");
	plat_metrics_describe(m, "platctl_consume_last_event_timestamp_seconds", PLAT_METRIC_GAUGE,
			      "Unix time a worker last took an event.");
	plat_metrics_describe(m, PLAT_PIPELINE_STAGE_METRIC, PLAT_METRIC_HISTOGRAM, "Time per pipeline stage.");
	plat_metrics_describe(m, "platctl_events_published_total", PLAT_METRIC_COUNTER,
			      "Events confirmed by Kafka (processed events and the sweeper's republished ones).");
	plat_metrics_describe(m, "platctl_events_delivery_failures_total", PLAT_METRIC_COUNTER,
			      "Events Kafka did not confirm (they stay in the outbox).");
}

static cJSON *summary_of(struct plat_worker *w)
{
	pthread_mutex_lock(&w->lock);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "processed", (double)w->n[W_PROCESSED]);
	cJSON_AddNumberToObject(j, "skipped", (double)w->n[W_SKIPPED]);
	cJSON_AddNumberToObject(j, "failed", (double)w->n[W_FAILED]);
	cJSON_AddNumberToObject(j, "dead_lettered", (double)w->n[W_DEAD]);
	if (w->backend == PLAT_EVENTS_KAFKA) {
		cJSON_AddNumberToObject(j, "published", (double)w->n[W_PUBLISHED]);
		cJSON_AddNumberToObject(j, "delivery_failed", (double)w->n[W_DELIVERY_FAILED]);
	}
	pthread_mutex_unlock(&w->lock);
	return j;
}

/* postgres: extend the leases of the events the workers hold right now, and only those. */
static void renew_leases(struct plat_worker *w, struct wconn *c, long long *next)
{
	long long now = plat_clock_ms();
	if (now < *next)
		return;
	long long *ids = plat_xcalloc((size_t)w->n_slots, sizeof(*ids));
	size_t n = 0;
	pthread_mutex_lock(&w->lock);
	for (int i = 0; i < w->n_slots; i++)
		if (w->slots[i].held)
			ids[n++] = w->slots[i].held;
	pthread_mutex_unlock(&w->lock);
	struct plat_error err = {0};
	if (n == 0) {
		*next = now + w->lease_ms / 3;
	} else if (!worker_conn_try(w, c)) {
		*next = c->next_try; /* the database is away: nothing to renew with */
	} else if (plat_queue_renew(c->db, ids, n, w->prefix, (int)(w->lease_ms / 1000), &err) == 0) {
		*next = now + w->lease_ms / 3;
	} else {
		if (!worker_conn_lost(w, c, &err))
			PLAT_LOG_W("renewing leases failed; trying again", "error", err.message);
		*next = now + 1000; /* retry in a second */
	}
	free(ids);
}

/* The caller's thread: leases, metrics, the grace period. False when the run returns with
 * threads still inside documents. */
static bool supervise(struct plat_worker *w)
{
	struct wconn leases = {.role = "leases"};
	long long next_renew = plat_clock_ms() + w->lease_ms / 3, metrics_at = plat_clock_ms() + 5000, stop_at = 0;
	bool done = true;
	for (;;) {
		long long now = plat_clock_ms();
		if (w->o.metrics_file && now >= metrics_at) {
			write_metrics(w);
			metrics_at = now + 5000;
		}
		pthread_mutex_lock(&w->lock);
		int running = w->running;
		bool stop = w->stop, now_ = w->stop_now;
		pthread_mutex_unlock(&w->lock);
		if (running == 0)
			break;
		if (stop && !stop_at)
			stop_at = now;
		if (now_ || (stop_at && now - stop_at > w->grace_ms)) {
			done = false;
			break;
		}
		if (w->backend == PLAT_EVENTS_POSTGRES)
			renew_leases(w, &leases, &next_renew);
		long long wake = metrics_at;
		if (w->backend == PLAT_EVENTS_POSTGRES && next_renew < wake)
			wake = next_renew;
		if (stop_at && stop_at + w->grace_ms + 1 < wake)
			wake = stop_at + w->grace_ms + 1;
		struct timespec until;
		deadline_in(&until, wake - plat_clock_ms() > 0 ? wake - plat_clock_ms() : 0);
		pthread_mutex_lock(&w->lock);
		/* Woken by a stop request or a thread finishing, else at the next deadline. */
		if (w->running > 0 && w->stop == stop && !w->stop_now)
			pthread_cond_timedwait(&w->cond, &w->lock, &until);
		pthread_mutex_unlock(&w->lock);
	}
	worker_conn_close(&leases);
	return done;
}

static int prepare(struct plat_worker *w, struct plat_svc *svc, const struct plat_worker_options *o,
		   struct plat_error *err)
{
	if (!svc->services)
		return plat_error_set(err, PLAT_E_INTERNAL, "consume: the call has no services");
	const struct plat_config *cfg = svc->cfg;
	w->svc = svc;
	w->cfg = cfg;
	w->o = *o;
	if (w->o.concurrency <= 0)
		w->o.concurrency = 1;
	if (w->o.concurrency > 64)
		w->o.concurrency = 64;
	if (w->o.max_attempts <= 0)
		w->o.max_attempts = 5;
	w->backend = plat_events_backend(cfg);
	w->lease_ms = plat_config_int(cfg, PLAT_CFG_EVENTS_LEASE);
	w->grace_ms = plat_config_int(cfg, PLAT_CFG_EVENTS_GRACE_PERIOD);
	w->outage_ms = plat_config_int(cfg, PLAT_CFG_DATABASE_OUTAGE_LIMIT);
	w->dbo = (struct plat_db_options){.url = plat_config_str(cfg, PLAT_CFG_DATABASE_URL),
					  .connect_timeout_ms = plat_config_int(cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT),
					  .application_name = "platctl consume"};
	w->limits = (struct plat_sandbox_limits){
		.memory_bytes = plat_config_int(cfg, PLAT_CFG_EXTRACT_MEMORY_LIMIT),
		.cpu_seconds = (int)(plat_config_int(cfg, PLAT_CFG_EXTRACT_CPU_LIMIT) / 1000),
		.timeout_ms = plat_config_int(cfg, PLAT_CFG_EXTRACT_TIMEOUT),
	};
	snprintf(w->request_id, sizeof(w->request_id), "%s", svc->request_id);
	snprintf(w->prefix, sizeof(w->prefix), "%s:%ld:", svc->request_id, (long)getpid());
	w->last_activity_ms = plat_clock_ms();

	int rc = plat_svc_enter(svc, "consume", PLAT_NEEDS_STORE, err);
	if (rc < 0)
		return rc;
	w->store = svc->store;
	w->metrics = o->metrics;
	if (!w->metrics) {
		w->metrics = plat_metrics_new();
		w->own_metrics = true;
	}
	describe_metrics(w->metrics);
	/* A metrics file that cannot be written is found now, not at the first 5 s tick. */
	if (o->metrics_file && (rc = plat_metrics_write_file(w->metrics, o->metrics_file, err)) < 0)
		return rc;
	if (w->backend == PLAT_EVENTS_KAFKA) {
		plat_kafka_options_for(cfg, &w->kafka);
		w->kafka.client_id = "platctl-consume";
		/* The sweeper waits for its batches: give their reports time to arrive. */
		long long after = plat_config_int(cfg, PLAT_CFG_KAFKA_REPUBLISH_AFTER);
		if (w->kafka.message_timeout_ms < after)
			w->kafka.message_timeout_ms = (int)after;
		if ((rc = plat_publisher_open(&w->kafka, &w->pub, err)) < 0)
			return rc;
	}
	if ((rc = plat_taxonomy_load(plat_config_str(cfg, PLAT_CFG_AI_TAXONOMY), &w->taxonomy, err)) < 0)
		return rc;
	if ((rc = plat_svc_ai(svc, PLAT_AI_CHAT, &w->chat, err)) < 0)
		return rc;
	return plat_svc_ai(svc, PLAT_AI_EMBEDDINGS, &w->embeddings, err);
}

static void release_setup(struct plat_worker *w)
{
	plat_publisher_close(w->pub);
	w->pub = NULL;
	plat_taxonomy_free(w->taxonomy);
	w->taxonomy = NULL;
	if (w->own_metrics)
		plat_metrics_free(w->metrics);
	w->metrics = NULL;
	free(w->slots);
	w->slots = NULL;
}

int plat_worker_run(struct plat_worker *w, struct plat_svc *svc, const struct plat_worker_options *o, cJSON **summary,
		    struct plat_error *err)
{
	*summary = NULL;
	if (w->ran)
		return plat_error_set(err, PLAT_E_INTERNAL, "consume: a worker handle runs once");
	w->ran = true;
	int rc = prepare(w, svc, o, err);
	if (rc < 0) {
		release_setup(w);
		return rc;
	}
	int n = w->o.concurrency;
	w->slots = plat_xcalloc((size_t)n, sizeof(*w->slots));
	w->n_slots = n;
	pthread_mutex_lock(&w->lock);
	w->running = n;
	for (int i = 0; i < n; i++) {
		struct slot *s = &w->slots[i];
		*s = (struct slot){.w = w, .index = i, .conn = {.role = "worker", .listen = w->backend == PLAT_EVENTS_POSTGRES}};
		snprintf(s->name, sizeof(s->name), "%s%d", w->prefix, i);
	}
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < n; i++)
		pthread_create(&w->slots[i].thread, NULL, worker_thread, &w->slots[i]);
	if (w->backend == PLAT_EVENTS_KAFKA)
		w->sweeper_started = pthread_create(&w->sweeper, NULL, worker_sweeper, w) == 0;

	if (!supervise(w)) {
		/* Workers are still inside documents: they are left to the process's exit. Their
		 * events were not acknowledged, so they are delivered again. */
		write_metrics(w);
		*summary = summary_of(w);
		pthread_mutex_lock(&w->lock);
		int left = w->running;
		w->abandoned = left;
		pthread_mutex_unlock(&w->lock);
		return plat_error_set(err, PLAT_E_UNAVAILABLE,
				      "stopped with %d document%s still in progress; %s delivered again", left,
				      left == 1 ? "" : "s", left == 1 ? "its event will be" : "their events will be");
	}
	worker_stop_with(w, NULL); /* the sweeper ends with the workers */
	for (int i = 0; i < n; i++)
		pthread_join(w->slots[i].thread, NULL);
	if (w->sweeper_started)
		pthread_join(w->sweeper, NULL);
	write_metrics(w);
	if (!w->start_failed)
		*summary = summary_of(w);
	if (w->fatal.kind != PLAT_OK) {
		*err = w->fatal;
		rc = -(int)w->fatal.kind;
	}
	release_setup(w);
	return rc;
}
