/* The webhook delivery loop of platctl serve.
 *
 * One thread per instance: LISTEN platctl_webhooks for new deliveries, claim the due ones
 * under a lease (several instances share them through SKIP LOCKED; a delivery whose
 * instance died is claimed again when its lease ends), send each with one signed try and
 * record the outcome, then sleep until the next one is due, a notification arrives, or
 * the server stops. The claim and the outcome go through SECURITY DEFINER functions
 * (migration 0013): the loop acts for every tenant and row-level security would hide
 * their rows. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/rand.h>

#include "config/config.h"
#include "db/db.h"
#include "log/log.h"
#include "mem/mem.h"
#include "notify/notify.h"
#include "webhooks/webhooks.h"

#define CLAIM_BATCH "10"
#define IDLE_POLL_MS 60000 /* a NOTIFY lost to a reconnect is found at the latest by then */

struct plat_webhook_deliverer {
	struct plat_services *services;
	pthread_t thread;
	pthread_mutex_t lock;
	bool stopping;
	int wake[2];
};

static bool stopping(struct plat_webhook_deliverer *d)
{
	pthread_mutex_lock(&d->lock);
	bool s = d->stopping;
	pthread_mutex_unlock(&d->lock);
	return s;
}

static double jitter(void)
{
	unsigned int r = 0;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return 0.5;
	return (double)r / 4294967296.0;
}

static int connect_db(struct plat_webhook_deliverer *d, struct plat_db **db)
{
	const struct plat_config *cfg = plat_services_config(d->services);
	struct plat_db_options o = {.url = plat_config_str(cfg, PLAT_CFG_DATABASE_URL),
				    .application_name = "platctl serve webhooks"};
	struct plat_error err = {0};
	if (plat_db_connect(&o, db, &err) < 0 || plat_db_exec(*db, "LISTEN platctl_webhooks", 0, NULL, NULL, &err) < 0) {
		plat_log(PLAT_LOG_WARN, "webhooks: cannot reach the database; retrying", "error", err.message,
			 (const char *)NULL);
		plat_db_close(*db);
		*db = NULL;
		return -1;
	}
	return 0;
}

/* Send one claimed delivery (row i of r) and record what became of it. */
static int deliver_one(struct plat_webhook_deliverer *d, const struct plat_notify_config *nc, struct plat_db *db,
		       PGresult *r, int i)
{
	const struct plat_config *cfg = plat_services_config(d->services);
	const char *id = PQgetvalue(r, i, 0);
	struct plat_notify_webhook w = {.url = PQgetvalue(r, i, 2),
					.secret = PQgetvalue(r, i, 3),
					.event = PQgetvalue(r, i, 4),
					.delivery_id = id,
					.body = PQgetvalue(r, i, 5)};
	int attempt = atoi(PQgetvalue(r, i, 6));
	int max_attempts = (int)plat_config_int(cfg, PLAT_CFG_WEBHOOKS_ATTEMPTS);
	struct plat_notify_result res;
	struct plat_error err = {0};
	int rc = plat_notify_webhook_try(nc, &w, &res, &err);

	char retry_in[32] = "", code[16] = "", try[16];
	bool ok = rc == 0;
	if (rc == -PLAT_E_UNAVAILABLE && attempt < max_attempts) {
		long long ms = plat_webhooks_backoff_ms(plat_config_int(cfg, PLAT_CFG_WEBHOOKS_BACKOFF), attempt,
							res.retry_after_ms, jitter());
		snprintf(retry_in, sizeof(retry_in), "%lld milliseconds", ms);
	}
	if (res.code)
		snprintf(code, sizeof(code), "%d", res.code);
	snprintf(try, sizeof(try), "%d", attempt);
	char *safe = plat_notify_safe_url(w.url);
	if (ok)
		PLAT_LOG_I("webhook delivered", "delivery", id, "event", w.event, "url", safe, "attempt", try);
	else
		plat_log(PLAT_LOG_WARN, retry_in[0] ? "webhook delivery failed; will retry" : "webhook delivery failed",
			 "delivery", id, "event", w.event, "url", safe, "attempt", try, "error", res.error, (const char *)NULL);
	free(safe);
	const char *params[] = {id, try, ok ? "true" : "false", retry_in[0] ? retry_in : NULL, code[0] ? code : NULL,
				ok ? NULL : res.error};
	return plat_db_exec(db, "SELECT platctl_webhook_finish($1::uuid, $2::int, $3::boolean, $4::interval, $5::int, $6)",
			    6, params, NULL, &err);
}

/* Claim and send batches until nothing is due; then how long until something is (ms). */
static int drain(struct plat_webhook_deliverer *d, struct plat_db *db, long long *sleep_ms)
{
	const struct plat_config *cfg = plat_services_config(d->services);
	/* The lease covers a whole batch of tries at their longest, with room to spare. */
	char lease[48];
	snprintf(lease, sizeof(lease), "%lld milliseconds",
		 plat_config_int(cfg, PLAT_CFG_NOTIFY_WEBHOOK_TIMEOUT) * 10 * 2 + 30000);
	struct plat_error err = {0};
	struct plat_notify_config nc; /* read once per drain, not per delivery */
	plat_notify_config_from(cfg, &nc);
	for (;;) {
		if (stopping(d))
			return 0;
		PGresult *r = NULL;
		const char *params[] = {CLAIM_BATCH, lease};
		if (plat_db_exec(db, "SELECT * FROM platctl_webhook_claim($1::int, $2::interval)", 2, params, &r, &err) < 0) {
			plat_log(PLAT_LOG_WARN, "webhooks: cannot claim deliveries", "error", err.message, (const char *)NULL);
			return -1;
		}
		int n = PQntuples(r);
		int rc = 0;
		/* Every claimed row is tried even when the server is stopping: a claimed row left
		 * alone would wait for its lease to end. */
		for (int i = 0; i < n && rc == 0; i++)
			rc = deliver_one(d, &nc, db, r, i);
		PQclear(r);
		if (rc < 0)
			return -1;
		if (n == 0)
			break;
	}
	PGresult *r = NULL;
	if (plat_db_exec(db, "SELECT platctl_webhook_next_due()", 0, NULL, &r, &err) < 0)
		return -1;
	*sleep_ms = IDLE_POLL_MS;
	if (!PQgetisnull(r, 0, 0)) {
		double s = atof(PQgetvalue(r, 0, 0));
		long long ms = (long long)(s * 1000.0) + 5;
		if (ms < *sleep_ms)
			*sleep_ms = ms;
	}
	PQclear(r);
	return 0;
}

static void *loop(void *arg)
{
	struct plat_webhook_deliverer *d = arg;
	struct plat_db *db = NULL;
	int backoff_ms = 200;
	while (!stopping(d)) {
		if (!db && connect_db(d, &db) < 0) {
			poll(&(struct pollfd){.fd = d->wake[0], .events = POLLIN}, 1, backoff_ms);
			backoff_ms = backoff_ms < 5000 ? backoff_ms * 2 : 5000;
			continue;
		}
		long long sleep_ms = IDLE_POLL_MS;
		if (drain(d, db, &sleep_ms) < 0)
			goto broken;
		backoff_ms = 200;
		PGconn *pg = plat_db_pgconn(db);
		/* Notifications read by the queries above wait in libpq's queue, unseen by poll. */
		bool queued = false;
		PGnotify *note;
		while ((note = PQnotifies(pg))) {
			PQfreemem(note);
			queued = true;
		}
		if (queued)
			continue;
		struct pollfd fds[2] = {{.fd = PQsocket(pg), .events = POLLIN}, {.fd = d->wake[0], .events = POLLIN}};
		int n = poll(fds, 2, (int)sleep_ms);
		if (n < 0 && errno != EINTR)
			goto broken;
		if (fds[1].revents & POLLIN) {
			char buf[64];
			while (read(d->wake[0], buf, sizeof(buf)) > 0)
				;
		}
		if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(pg))
			goto broken;
		while ((note = PQnotifies(pg)))
			PQfreemem(note);
		continue;
	broken:
		plat_log(PLAT_LOG_WARN, "webhooks: the database connection broke; reconnecting", (const char *)NULL);
		plat_db_close(db);
		db = NULL;
		/* Also when a query keeps failing on a good connection: not a busy loop. */
		poll(&(struct pollfd){.fd = d->wake[0], .events = POLLIN}, 1, backoff_ms);
		backoff_ms = backoff_ms < 5000 ? backoff_ms * 2 : 5000;
	}
	plat_db_close(db);
	return NULL;
}

int plat_webhooks_deliverer_start(struct plat_services *services, struct plat_webhook_deliverer **out,
				  struct plat_error *err)
{
	struct plat_webhook_deliverer *d = plat_xcalloc(1, sizeof(*d));
	d->services = services;
	pthread_mutex_init(&d->lock, NULL);
	if (pipe2(d->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		pthread_mutex_destroy(&d->lock);
		free(d);
		return plat_error_set(err, PLAT_E_FAILURE, "webhooks: pipe: %s", strerror(errno));
	}
	int rc = pthread_create(&d->thread, NULL, loop, d);
	if (rc != 0) {
		close(d->wake[0]);
		close(d->wake[1]);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return plat_error_set(err, PLAT_E_FAILURE, "webhooks: thread: %s", strerror(rc));
	}
	*out = d;
	return 0;
}

void plat_webhooks_deliverer_stop(struct plat_webhook_deliverer *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_mutex_unlock(&d->lock);
	ssize_t w;
	do
		w = write(d->wake[1], "x", 1);
	while (w < 0 && errno == EINTR);
	pthread_join(d->thread, NULL);
	close(d->wake[0]);
	close(d->wake[1]);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
