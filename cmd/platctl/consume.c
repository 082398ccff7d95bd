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
#include "queue/queue.h"

#define C(f) offsetof(struct consume_opts, f)

const struct plat_opt consume_opts[] = {
	{'c', "concurrency", PLAT_OPT_INT, "N", "worker threads (default 1)", NULL, 1, 64, 0, C(concurrency)},
	{0, "once", PLAT_OPT_BOOL, NULL, "process what is queued now, then exit", NULL, 0, 0, 0, C(once)},
	{0, "max-messages", PLAT_OPT_INT, "N", "exit after handling N events", NULL, 1, 1LL << 40, 0, C(max_messages)},
	{0, "idle-exit", PLAT_OPT_INT, "SECONDS", "exit after SECONDS with nothing to do", NULL, 1, 86400, 0, C(idle_exit)},
	{0, "max-attempts", PLAT_OPT_INT, "N", "attempts before an event is dead-lettered (default 5)", NULL, 1, 100, 0, C(max_attempts)},
	PLAT_OPT_END,
};

const struct consume_opts consume_defaults = {.concurrency = 1, .max_attempts = 5};

struct consume {
	struct plat_cli_ctx *ctx;
	const struct consume_opts *o;
	struct plat_store *store;
	struct plat_taxonomy *taxonomy;
	struct plat_ai *chat, *embeddings;
	pthread_mutex_t lock;
	bool stop;
	int running;
	long long claimed, processed, skipped, failed, dead, last_activity_ms;
	struct plat_error fatal; /* a worker that could not start */
};

static bool should_stop(struct consume *c)
{
	pthread_mutex_lock(&c->lock);
	bool s = c->stop;
	pthread_mutex_unlock(&c->lock);
	return s;
}

static void count(struct consume *c, long long *slot)
{
	pthread_mutex_lock(&c->lock);
	(*slot)++;
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

static void *worker(void *arg)
{
	struct consume *c = arg;
	struct plat_cli_ctx *ctx = c->ctx;
	struct plat_db_options dbo = {.url = plat_config_str(ctx->cfg, PLAT_CFG_DATABASE_URL),
				      .connect_timeout_ms = plat_config_int(ctx->cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT)};
	struct plat_db *db = NULL;
	struct plat_error err = {0};
	if (plat_db_connect(&dbo, &db, &err) < 0 || plat_queue_listen(db, &err) < 0) {
		pthread_mutex_lock(&c->lock);
		c->fatal = err;
		c->stop = true;
		pthread_mutex_unlock(&c->lock);
		plat_db_close(db);
		goto out;
	}
	char name[64];
	snprintf(name, sizeof(name), "%s:%ld:%lx", plat_log_request_id(), (long)getpid(), (unsigned long)pthread_self());
	while (!should_stop(c)) {
		struct plat_event ev;
		bool got = false;
		if (!take_slot(c, 1))
			break;
		if (plat_queue_claim(db, name, 600, &ev, &got, &err) < 0) {
			take_slot(c, -1);
			PLAT_LOG_W("claiming an event failed; retrying", "error", err.message);
			plat_sleep_ms(1000);
			continue;
		}
		if (!got) {
			take_slot(c, -1);
			if (c->o->once)
				break;
			pthread_mutex_lock(&c->lock);
			bool idle = c->o->idle_exit && plat_clock_ms() - c->last_activity_ms >= c->o->idle_exit * 1000;
			if (idle)
				c->stop = true;
			pthread_mutex_unlock(&c->lock);
			if (!idle)
				plat_queue_wait(db, 1000);
			continue;
		}
		struct plat_svc svc = {.db = db, .store = c->store, .tenant = "", .principal =
				       plat_config_str(ctx->cfg, PLAT_CFG_PRINCIPAL), .request_id = ev.request_id};
		snprintf(svc.tenant_id, sizeof(svc.tenant_id), "%s", ev.tenant_id);
		struct plat_pipeline p = {
			.svc = &svc, .chat = c->chat, .embeddings = c->embeddings, .taxonomy = c->taxonomy,
			.external_allow = plat_config_str(ctx->cfg, PLAT_CFG_AI_EXTERNAL_ALLOW),
			.external_allow_pii = plat_config_bool(ctx->cfg, PLAT_CFG_AI_EXTERNAL_ALLOW_PII),
		};
		enum plat_pipeline_outcome outcome;
		long long t0 = plat_clock_ms();
		int rc = plat_pipeline_process(&p, ev.document_id, &outcome, &err);
		char ms[24];
		snprintf(ms, sizeof(ms), "%lld", plat_clock_ms() - t0);
		if (rc == 0) {
			/* Acknowledge only now: the document's transaction has committed. */
			if (plat_queue_ack(db, ev.id, &err) < 0)
				PLAT_LOG_W("acknowledging failed; the event will be redelivered", "error", err.message);
			plat_log(PLAT_LOG_INFO, outcome == PLAT_PIPELINE_PROCESSED ? "document processed" : "document skipped",
				 "document_id", ev.document_id, "upload_request_id", ev.request_id, "duration_ms", ms,
				 (const char *)NULL);
			count(c, outcome == PLAT_PIPELINE_PROCESSED ? &c->processed : &c->skipped);
		} else {
			bool dead = false;
			struct plat_error ignore = {0};
			plat_queue_nack(db, &ev, err.message, (int)c->o->max_attempts, &dead, &ignore);
			plat_log(PLAT_LOG_ERROR, dead ? "document failed; event dead-lettered" : "document failed; will retry",
				 "document_id", ev.document_id, "upload_request_id", ev.request_id, "error", err.message,
				 (const char *)NULL);
			count(c, dead ? &c->dead : &c->failed);
		}
	}
	plat_db_close(db);
out:
	pthread_mutex_lock(&c->lock);
	c->running--;
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int cmd_consume(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct consume_opts *o = opts;
	if (strcmp(plat_config_str(ctx->cfg, PLAT_CFG_EVENTS_BACKEND), "postgres") != 0)
		return plat_error_set(&ctx->err, PLAT_E_CONFIG,
				      "events.backend '%s' is not available yet; use postgres",
				      plat_config_str(ctx->cfg, PLAT_CFG_EVENTS_BACKEND));
	struct consume c = {.ctx = ctx, .o = o, .last_activity_ms = plat_clock_ms()};
	pthread_mutex_init(&c.lock, NULL);
	int rc = platctl_open_store(ctx, &c.store);
	if (rc == 0)
		rc = plat_taxonomy_load(plat_config_str(ctx->cfg, PLAT_CFG_AI_TAXONOMY), &c.taxonomy, &ctx->err);
	struct plat_ai_options ao;
	if (rc == 0) {
		plat_ai_options_for(ctx->cfg, PLAT_AI_CHAT, ctx->environ, &ao);
		rc = plat_ai_open(&ao, &c.chat, &ctx->err);
	}
	if (rc == 0) {
		plat_ai_options_for(ctx->cfg, PLAT_AI_EMBEDDINGS, ctx->environ, &ao);
		rc = plat_ai_open(&ao, &c.embeddings, &ctx->err);
	}
	if (rc == 0) {
		/* Signals are taken by this thread only; workers see a stop flag. */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		int n = (int)o->concurrency;
		pthread_t *th = plat_xcalloc((size_t)n, sizeof(*th));
		c.running = n;
		for (int i = 0; i < n; i++)
			pthread_create(&th[i], NULL, worker, &c);
		for (;;) {
			pthread_mutex_lock(&c.lock);
			int running = c.running;
			pthread_mutex_unlock(&c.lock);
			if (running == 0)
				break;
			struct timespec tick = {0, 200 * 1000 * 1000};
			siginfo_t info;
			if (sigtimedwait(&set, &info, &tick) > 0) {
				PLAT_LOG_I("stopping: finishing the documents in progress");
				pthread_mutex_lock(&c.lock);
				c.stop = true;
				pthread_mutex_unlock(&c.lock);
			}
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
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "processed", (double)c.processed);
		cJSON_AddNumberToObject(j, "skipped", (double)c.skipped);
		cJSON_AddNumberToObject(j, "failed", (double)c.failed);
		cJSON_AddNumberToObject(j, "dead_lettered", (double)c.dead);
		rc = platctl_print(ctx, j, NULL);
		cJSON_Delete(j);
		if (rc == 0 && c.failed + c.dead > 0)
			/* Counted per attempt: one document can fail, be retried, then be dead-lettered. */
			rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "%lld processing attempt%s failed, %lld event%s dead-lettered",
					    c.failed + c.dead, c.failed + c.dead == 1 ? "" : "s", c.dead, c.dead == 1 ? "" : "s");
	}
	plat_ai_close(c.chat);
	plat_ai_close(c.embeddings);
	plat_taxonomy_free(c.taxonomy);
	plat_store_close(c.store);
	pthread_mutex_destroy(&c.lock);
	return rc;
}
