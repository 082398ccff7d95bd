/* The PostgreSQL event queue (events.backend: postgres): outbox rows are claimed with
 * FOR UPDATE SKIP LOCKED under a lease, so several workers never take the same event and
 * a crashed worker's event comes back when its lease ends; workers wake on LISTEN/NOTIFY.
 * Failed events are retried with backoff and dead-lettered (dead_lettered_at set, kept in
 * the outbox table) after the maximum number of attempts. */
#ifndef PLAT_QUEUE_H
#define PLAT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"
#include "error/error.h"

#define PLAT_QUEUE_CHANNEL "platctl_events"

struct plat_event {
	long long id;
	char tenant_id[37];
	char document_id[37];
	char request_id[65];
	int attempts;
	double age_seconds; /* since the event was written: the queue's lag */
};

/* Claim the next due document.uploaded event; *got false when there is none. */
int plat_queue_claim(struct plat_db *db, const char *worker, int lease_seconds, struct plat_event *ev, bool *got,
		     struct plat_error *err);
int plat_queue_ack(struct plat_db *db, long long id, struct plat_error *err);
/* Give the event back with backoff, or dead-letter it once attempts reach max_attempts. */
int plat_queue_nack(struct plat_db *db, const struct plat_event *ev, const char *error, int max_attempts, bool *dead,
		    struct plat_error *err);

/* Extend the lease of the n events ids, each only while it is still claimed by a worker
 * whose name starts with worker_prefix (one consume process) and not finished. The ids are
 * the events the process holds right now: an event whose acknowledgement failed is no
 * longer held, so its lease runs out and it is delivered again (renewing by name alone
 * kept such an event claimed for as long as the process lived). */
int plat_queue_renew(struct plat_db *db, const long long *ids, size_t n, const char *worker_prefix, int lease_seconds,
		     struct plat_error *err);

/* LISTEN on the channel, then wait up to timeout_ms for a notification (or none), or until
 * wake_fd (-1: none) is readable. PLAT_E_UNAVAILABLE when the connection was lost while
 * waiting (the server restarted or ended the session): reconnect and LISTEN again. */
int plat_queue_listen(struct plat_db *db, struct plat_error *err);
int plat_queue_wait(struct plat_db *db, long long timeout_ms, int wake_fd, struct plat_error *err);

#endif
