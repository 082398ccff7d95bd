/* The consume workers: document.uploaded events in, processed documents out.
 *
 * One operation, plat_worker_run, owns everything between the queue and the pipeline, on
 * either backend (events.backend): claiming (PostgreSQL: SKIP LOCKED under a lease; Kafka:
 * a consumer group member per worker), lease renewal for exactly the events the process
 * holds, acknowledgement only after the document's transaction committed (at-least-once
 * delivery; the pipeline is idempotent, so the effect is exactly once), retries with
 * backoff, giving up on documents whose deliveries never report, dead-lettering, the Kafka
 * outbox sweeper, metrics, and the summary.
 *
 * Each worker thread has a context of its own over the caller's services and acts as the
 * system principal (PLAT_WORKER_PRINCIPAL) for the event's tenant; it keeps a dedicated
 * database connection (it LISTENs), which it reconnects with capped, jittered backoff when
 * the server restarts or ends the session. While the database is unreachable a worker
 * claims nothing, and the leases of events it no longer holds are not renewed; once it has
 * been unreachable for database.outage_limit the run ends with PLAT_E_UNAVAILABLE.
 *
 * No signal handling here: a caller that wants SIGTERM/SIGINT blocks them before the run
 * (every thread of the run inherits the mask) and calls plat_worker_stop() from a thread of
 * its own. */
#ifndef PLAT_WORKER_H
#define PLAT_WORKER_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "auth/authz.h"
#include "error/error.h"
#include "svc/svc.h"

#define PLAT_WORKER_PRINCIPAL PLAT_SYSTEM_PRINCIPAL

struct plat_metrics;

struct plat_worker_options {
	int concurrency;          /* worker threads, 1-64; 0: 1 */
	bool once;                /* what is queued now, then end (Kafka: the group's offsets at the end) */
	long long max_messages;   /* end after this many events, across the threads; 0: no limit */
	long long idle_exit_ms;   /* end after this long with nothing to do; 0: never */
	int max_attempts;         /* attempts (or unfinished deliveries) before dead-lettering; 0: 5 */
	const char *metrics_file; /* Prometheus text, replaced at start, every 5 s and at the end */
	struct plat_metrics *metrics; /* record here (described by the run); NULL: a registry of its own */
};

/* One run: its threads, counters and stop requests. */
struct plat_worker;

struct plat_worker *plat_worker_new(void);
/* Frees the run, unless plat_worker_in_progress() says threads are still at work: then it
 * is left to the process's exit (the threads still use it). */
void plat_worker_free(struct plat_worker *w);

/* From any thread (not a signal handler), before or during the run. The first request
 * stops fetching: documents in progress finish for events.grace_period, then the run
 * returns. now abandons them at once. Either way their events are delivered again later. */
void plat_worker_stop(struct plat_worker *w, bool now);

/* Run the workers until once, max_messages or idle_exit_ms ends the run, or a stop request.
 * On success *summary is {"processed", "skipped", "failed", "dead_lettered"} and on Kafka
 * also {"published", "delivery_failed"}: failed counts attempts that failed and were (or
 * will be) retried; an event's last attempt counts as dead_lettered. The caller decides
 * what failures mean for it.
 *
 * Errors before any work (a bad configuration, a taxonomy or metrics file that cannot be
 * used, a database that cannot be reached at the start): no summary. Errors after the
 * workers started still give *summary: PLAT_E_UNAVAILABLE when the database stayed
 * unreachable past database.outage_limit, or when events.grace_period ran out (or a stop
 * with now) with documents in progress; in that last case plat_worker_in_progress() > 0
 * and the caller must end the process without freeing svc's services. */
int plat_worker_run(struct plat_worker *w, struct plat_svc *svc, const struct plat_worker_options *o, cJSON **summary,
		    struct plat_error *err);

/* Worker threads still inside a document after plat_worker_run returned. */
int plat_worker_in_progress(struct plat_worker *w);

#endif
