#include "queue/queue.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"

int plat_queue_claim(struct plat_db *db, const char *worker, int lease_seconds, struct plat_event *ev, bool *got,
		     struct plat_error *err)
{
	*got = false;
	char lease[16];
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	const char *params[] = {worker, lease};
	PGresult *r;
	int rc = plat_db_exec(db,
			      "UPDATE outbox SET claimed_by = $1, claimed_until = now() + make_interval(secs => $2::int),"
			      " attempts = attempts + 1"
			      " WHERE id = (SELECT id FROM outbox WHERE event_type = 'document.uploaded'"
			      "  AND processed_at IS NULL AND dead_lettered_at IS NULL AND available_at <= now()"
			      "  AND (claimed_until IS NULL OR claimed_until < now())"
			      "  ORDER BY available_at, id FOR UPDATE SKIP LOCKED LIMIT 1)"
			      " RETURNING id, tenant_id, aggregate_id, coalesce(request_id, ''), attempts,"
			      "  extract(epoch FROM now() - created_at)",
			      2, params, &r, err);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 1) {
		ev->id = atoll(PQgetvalue(r, 0, 0));
		snprintf(ev->tenant_id, sizeof(ev->tenant_id), "%s", PQgetvalue(r, 0, 1));
		snprintf(ev->document_id, sizeof(ev->document_id), "%s", PQgetvalue(r, 0, 2));
		snprintf(ev->request_id, sizeof(ev->request_id), "%s", PQgetvalue(r, 0, 3));
		ev->attempts = atoi(PQgetvalue(r, 0, 4));
		ev->age_seconds = atof(PQgetvalue(r, 0, 5));
		*got = true;
	}
	PQclear(r);
	return 0;
}

int plat_queue_ack(struct plat_db *db, long long id, struct plat_error *err)
{
	char s[24];
	snprintf(s, sizeof(s), "%lld", id);
	const char *params[] = {s};
	return plat_db_exec(db,
			    "UPDATE outbox SET processed_at = now(), claimed_by = NULL, claimed_until = NULL,"
			    " last_error = NULL WHERE id = $1",
			    1, params, NULL, err);
}

int plat_queue_nack(struct plat_db *db, const struct plat_event *ev, const char *error, int max_attempts, bool *dead,
		    struct plat_error *err)
{
	*dead = ev->attempts >= max_attempts;
	char id[24], backoff[16];
	snprintf(id, sizeof(id), "%lld", ev->id);
	/* 2, 4, 8 ... seconds, at most five minutes. */
	int secs = 1 << (ev->attempts < 8 ? ev->attempts : 8);
	snprintf(backoff, sizeof(backoff), "%d", secs < 300 ? secs : 300);
	const char *params[] = {id, error, *dead ? "t" : "f", backoff};
	return plat_db_exec(db,
			    "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL, last_error = $2,"
			    " dead_lettered_at = CASE WHEN $3::bool THEN now() END,"
			    " available_at = now() + make_interval(secs => $4::int) WHERE id = $1",
			    4, params, NULL, err);
}

int plat_queue_listen(struct plat_db *db, struct plat_error *err)
{
	return plat_db_exec(db, "LISTEN " PLAT_QUEUE_CHANNEL, 0, NULL, NULL, err);
}

static int lost(struct plat_db *db, struct plat_error *err)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%s", PQerrorMessage(plat_db_pgconn(db)));
	msg[strcspn(msg, "\n")] = '\0';
	return plat_error_set(err, PLAT_E_UNAVAILABLE, "lost connection to PostgreSQL at %s: %s", plat_db_target(db),
			      *msg ? msg : "the server closed the connection");
}

int plat_queue_wait(struct plat_db *db, long long timeout_ms, int wake_fd, struct plat_error *err)
{
	PGconn *c = plat_db_pgconn(db);
	if (PQstatus(c) != CONNECTION_OK)
		return lost(db, err);
	PGnotify *n;
	bool had = false;
	while ((n = PQnotifies(c))) { /* already here: no need to wait */
		PQfreemem(n);
		had = true;
	}
	if (had)
		return 0;
	struct pollfd p[2] = {{PQsocket(c), POLLIN, 0}, {wake_fd, POLLIN, 0}};
	if (poll(p, wake_fd >= 0 ? 2 : 1, (int)timeout_ms) > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
		/* Readable: a notification, or the server ending the session (restart,
		 * pg_terminate_backend), which libpq sees as a failed read. */
		if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK)
			return lost(db, err);
		while ((n = PQnotifies(c)))
			PQfreemem(n);
	}
	return 0;
}

int plat_queue_renew(struct plat_db *db, const long long *ids, size_t n, const char *worker_prefix, int lease_seconds,
		     struct plat_error *err)
{
	if (n == 0)
		return 0;
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_putc(&b, '{');
	for (size_t i = 0; i < n; i++)
		plat_buf_printf(&b, "%s%lld", i ? "," : "", ids[i]);
	plat_buf_putc(&b, '}');
	char lease[16];
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	const char *params[] = {b.data, worker_prefix, lease};
	int rc = plat_db_exec(db,
			      "UPDATE outbox SET claimed_until = now() + make_interval(secs => $3::int)"
			      " WHERE id = ANY($1::bigint[]) AND left(claimed_by, length($2)) = $2"
			      " AND claimed_until IS NOT NULL AND processed_at IS NULL AND dead_lettered_at IS NULL",
			      3, params, NULL, err);
	plat_buf_free(&b);
	return rc;
}
