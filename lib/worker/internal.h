/* lib/worker's own: the run's state shared by its threads (worker.c: the run, the
 * supervisor, counters, connections; worker_pg.c and worker_kafka.c: the serve loops). */
#ifndef PLAT_WORKER_INTERNAL_H
#define PLAT_WORKER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "ai/ai.h"
#include "ai/builtin.h"
#include "db/db.h"
#include "events/events.h"
#include "metrics/metrics.h"
#include "pipeline/pipeline.h"
#include "sandbox/sandbox.h"
#include "worker/worker.h"

/* The summary's counters; each is mirrored into a metric that only goes up. */
enum worker_counter { W_PROCESSED, W_SKIPPED, W_FAILED, W_DEAD, W_PUBLISHED, W_DELIVERY_FAILED, W__N };

/* A thread's own database connection, reconnected with backoff after it was lost. */
struct wconn {
	struct plat_db *db;
	const char *role;     /* "worker", "sweeper", "leases": for the logs */
	bool listen;          /* LISTEN again after every connect */
	long long down_since; /* when the current outage began (ms); 0 while connected */
	long long next_try;   /* the next connection attempt (ms) */
	long long delay;      /* the current backoff (ms) */
	long long warned_at;  /* last "still unreachable" log line */
	unsigned seed;        /* jitter */
};

struct slot {
	struct plat_worker *w;
	int index;
	char name[160]; /* claimed_by: the run's prefix and the index */
	pthread_t thread;
	long long held; /* postgres: the event this worker holds (0: none), under w->lock */
	struct wconn conn;
};

struct plat_worker {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* stop requests, a thread finishing */
	int wake[2];         /* a pipe written once stopping: wakes workers waiting on LISTEN */
	bool stop, stop_now, woken, ran, start_failed;
	int running;   /* worker threads not finished */
	int abandoned; /* threads still running when the run returned */
	struct plat_error fatal;

	/* The run's setup, read-only once the threads started. */
	struct plat_svc *svc;
	const struct plat_config *cfg;
	struct plat_worker_options o;
	enum plat_events_backend backend;
	struct plat_kafka_options kafka;
	struct plat_publisher *pub; /* kafka: processed events, dead letters, the sweeper */
	struct plat_store *store;
	struct plat_taxonomy *taxonomy;
	struct plat_ai *chat, *embeddings;
	struct plat_sandbox_limits limits;
	struct plat_metrics *metrics;
	bool own_metrics;
	struct plat_db_options dbo;
	long long lease_ms, grace_ms, outage_ms;
	char prefix[96];     /* every worker's claimed_by starts with it */
	char request_id[65]; /* the run's: every log line of its threads */

	/* Under lock. */
	long long n[W__N];
	long long claimed, last_activity_ms;
	struct slot *slots;
	int n_slots;
	bool sweeper_started;
	pthread_t sweeper;
};

bool worker_stopping(struct plat_worker *w);
/* Stop the run; why (may be NULL) becomes its error unless one is set already. */
void worker_stop_with(struct plat_worker *w, const struct plat_error *why);
/* Sleep up to ms, waking early when the run stops. False when it stopped. */
bool worker_wait(struct plat_worker *w, long long ms);
void worker_count(struct plat_worker *w, enum worker_counter c, long long n);
/* max_messages is a promise across threads: a worker takes a slot before it claims, so N
 * workers never handle more than N events between them; delta -1 gives one back. */
bool worker_take_slot(struct plat_worker *w, int delta);
/* An event taken for work: counted, and its age observed as the lag. */
void worker_consumed(struct plat_worker *w, double age_seconds);
/* Nothing to do right now: true (and the run stops) once idle_exit_ms passed idle. */
bool worker_idle_long_enough(struct plat_worker *w);
/* postgres: what the lease renewal covers. */
void worker_hold(struct slot *s, long long event_id);

/* Connections. open: at a thread's start, retrying for database.connect_timeout (a failure
 * ends the run). up: reconnect (blocking, with backoff) until connected; false when the
 * run stops, also because the outage outlasted database.outage_limit. try: one attempt if
 * one is due, never blocking. lost: after an error, if the connection is broken, drop it
 * (the next up/try reconnects); true when it was broken. */
int worker_conn_open(struct plat_worker *w, struct wconn *c, struct plat_error *err);
bool worker_conn_up(struct plat_worker *w, struct wconn *c);
bool worker_conn_try(struct plat_worker *w, struct wconn *c);
bool worker_conn_lost(struct plat_worker *w, struct wconn *c, const struct plat_error *why);
void worker_conn_close(struct wconn *c);

/* The pipeline for one event, as the system principal in the event's tenant. */
int worker_process(struct slot *s, const char *tenant_id, const char *document_id, const char *request_id,
		   enum plat_pipeline_outcome *outcome, struct plat_error *err);
/* Mark the document failed because its deliveries never ended with a result; why gets the
 * reason. */
void worker_give_up(struct slot *s, const char *tenant_id, const char *document_id, const char *request_id,
		    int deliveries, char *why, size_t why_len);

void worker_serve_postgres(struct slot *s);
void worker_serve_kafka(struct slot *s);
void *worker_sweeper(void *arg);

#endif
