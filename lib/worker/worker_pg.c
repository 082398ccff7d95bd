/* The PostgreSQL queue: claim under a lease, acknowledge after the document's commit, or
 * give the event back with backoff; dead-letter after max_attempts. A worker holds at most
 * one event; the supervisor renews the lease of held events only, so an event whose
 * acknowledgement failed comes back once its lease ends. */
#include "worker/internal.h"

#include <stdio.h>

#include "log/log.h"
#include "queue/queue.h"

/* After a failed acknowledgement or nack the event is no longer ours to renew: its lease
 * runs out and it is claimed again. */
static void drop(struct slot *s, const char *what, const struct plat_event *ev, const struct plat_error *err)
{
	worker_hold(s, 0);
	if (!worker_conn_lost(s->w, &s->conn, err))
		plat_log(PLAT_LOG_WARN, what, "document_id", ev->document_id, "error", err->message, (const char *)NULL);
}

/* Deliveries that all ended without a word (the worker crashed, was killed, or the host
 * went down) must not take down worker after worker forever. */
static void give_up(struct slot *s, const struct plat_event *ev)
{
	struct plat_worker *w = s->w;
	char why[256];
	bool dead = false;
	struct plat_error err = {0};
	worker_give_up(s, ev->tenant_id, ev->document_id, ev->request_id, ev->attempts - 1, why, sizeof(why));
	if (plat_queue_nack(s->conn.db, ev, why, w->o.max_attempts, &dead, &err) < 0) {
		drop(s, "dead-lettering failed; the event will be delivered again after its lease", ev, &err);
		return;
	}
	worker_hold(s, 0);
	plat_log(PLAT_LOG_ERROR, "document failed; event dead-lettered", "document_id", ev->document_id,
		 "upload_request_id", ev->request_id, "error", why, (const char *)NULL);
	worker_count(w, W_DEAD, 1);
}

static void handle(struct slot *s, const struct plat_event *ev)
{
	struct plat_worker *w = s->w;
	if (ev->attempts > w->o.max_attempts) {
		give_up(s, ev);
		return;
	}
	enum plat_pipeline_outcome outcome;
	struct plat_error err = {0};
	if (worker_process(s, ev->tenant_id, ev->document_id, ev->request_id, &outcome, &err) == 0) {
		/* The document's transaction committed: count it whatever the acknowledgement
		 * does (a redelivery is skipped by the pipeline). */
		worker_count(w, outcome == PLAT_PIPELINE_PROCESSED ? W_PROCESSED : W_SKIPPED, 1);
		if (plat_queue_ack(s->conn.db, ev->id, &err) < 0)
			drop(s, "acknowledging failed; the event will be delivered again after its lease", ev, &err);
		else
			worker_hold(s, 0);
		return;
	}
	if (worker_conn_lost(w, &s->conn, &err)) {
		/* Not the document's fault: nothing to report it with either. */
		worker_hold(s, 0);
		plat_log(PLAT_LOG_WARN, "lost the database while processing; the event will be delivered again after its lease",
			 "document_id", ev->document_id, (const char *)NULL);
		return;
	}
	bool dead = false;
	struct plat_error nerr = {0};
	if (plat_queue_nack(s->conn.db, ev, err.message, w->o.max_attempts, &dead, &nerr) < 0) {
		/* It comes back after its lease, as a further attempt (or to be given up). */
		plat_log(PLAT_LOG_ERROR, "document failed; will retry", "document_id", ev->document_id,
			 "upload_request_id", ev->request_id, "error", err.message, (const char *)NULL);
		drop(s, "giving the event back failed; it will be delivered again after its lease", ev, &nerr);
		worker_count(w, W_FAILED, 1);
		return;
	}
	worker_hold(s, 0);
	plat_log(PLAT_LOG_ERROR, dead ? "document failed; event dead-lettered" : "document failed; will retry",
		 "document_id", ev->document_id, "upload_request_id", ev->request_id, "error", err.message,
		 (const char *)NULL);
	worker_count(w, dead ? W_DEAD : W_FAILED, 1);
}

void worker_serve_postgres(struct slot *s)
{
	struct plat_worker *w = s->w;
	struct plat_error err = {0};
	if (worker_conn_open(w, &s->conn, &err) < 0) {
		pthread_mutex_lock(&w->lock);
		w->start_failed = true;
		pthread_mutex_unlock(&w->lock);
		worker_stop_with(w, &err);
		return;
	}
	int lease_s = (int)(w->lease_ms / 1000);
	while (!worker_stopping(w)) {
		/* While the database is away nothing is claimed; past database.outage_limit the
		 * run ends. */
		if (!worker_conn_up(w, &s->conn))
			break;
		if (!worker_take_slot(w, 1))
			break;
		struct plat_event ev;
		bool got = false;
		if (plat_queue_claim(s->conn.db, s->name, lease_s, &ev, &got, &err) < 0) {
			worker_take_slot(w, -1);
			if (!worker_conn_lost(w, &s->conn, &err)) {
				PLAT_LOG_W("claiming an event failed; retrying", "error", err.message);
				worker_wait(w, 1000);
			}
			continue;
		}
		if (!got) {
			worker_take_slot(w, -1);
			if (w->o.once || worker_idle_long_enough(w))
				break;
			if (plat_queue_wait(s->conn.db, 1000, w->wake[0], &err) < 0)
				worker_conn_lost(w, &s->conn, &err);
			continue;
		}
		worker_hold(s, ev.id);
		worker_consumed(w, ev.age_seconds);
		handle(s, &ev);
	}
}
