/* platctl consume: workers that process uploaded documents from the PostgreSQL queue.
 *
 * Each worker has its own connection: it claims an event (SKIP LOCKED, under a lease),
 * runs the pipeline, and acknowledges only after the document's transaction committed
 * (at-least-once delivery; the pipeline is idempotent, so the effect is exactly once).
 * Failures go back with backoff and are dead-lettered after --max-attempts. SIGTERM and
 * SIGINT stop fetching; in-flight documents finish before the command exits 0. */
/* platctl consume: the processing workers (lib/worker) as a command.
 *
 * Options in, one call (plat_worker_run), the summary out. SIGTERM and SIGINT are blocked
 * here, before any worker thread exists, and taken by a thread of this command: the first
 * stops fetching (documents in flight finish within events.grace_period), a second one
 * stops at once. Exit codes: 1 when any attempt or Kafka delivery failed, 7 when the grace
 * period ran out or the database stayed unreachable past database.outage_limit. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "platctl.h"
#include "worker/worker.h"

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

/* The signal thread: sigtimedwait, so it notices the end of the run within a tick. */
struct signals {
	struct plat_worker *w;
	sigset_t set;
	pthread_mutex_t lock;
	bool done;
};

static void *take_signals(void *arg)
{
	struct signals *sg = arg;
	int seen = 0;
	for (;;) {
		pthread_mutex_lock(&sg->lock);
		bool done = sg->done;
		pthread_mutex_unlock(&sg->lock);
		if (done)
			return NULL;
		struct timespec tick = {0, 100 * 1000 * 1000};
		siginfo_t info;
		if (sigtimedwait(&sg->set, &info, &tick) <= 0)
			continue;
		if (seen++ == 0) {
			PLAT_LOG_I("stopping: finishing the documents in progress");
			plat_worker_stop(sg->w, false);
		} else {
			PLAT_LOG_W("second signal: stopping now");
			plat_worker_stop(sg->w, true);
		}
	}
}

static long long number(const cJSON *j, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

/* What the summary means for the exit code. */
static int failures(struct plat_cli_ctx *ctx, const cJSON *summary)
{
	long long failed = number(summary, "failed"), dead = number(summary, "dead_lettered"),
		  undelivered = number(summary, "delivery_failed");
	if (failed + dead > 0)
		/* Counted per attempt: one document can fail, be retried, then be dead-lettered. */
		return plat_error_set(&ctx->err, PLAT_E_FAILURE, "%lld processing attempt%s failed, %lld event%s dead-lettered",
				      failed + dead, failed + dead == 1 ? "" : "s", dead, dead == 1 ? "" : "s");
	if (undelivered > 0)
		return plat_error_set(&ctx->err, PLAT_E_FAILURE,
				      "%lld event deliver%s to Kafka failed; the events stay in the outbox and are republished",
				      undelivered, undelivered == 1 ? "y" : "ies");
	return 0;
}

int cmd_consume(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct consume_opts *o = opts;
	struct plat_worker_options wo = {
		.concurrency = (int)o->concurrency,
		.once = o->once,
		.max_messages = o->max_messages,
		.idle_exit_ms = o->idle_exit * 1000,
		.max_attempts = (int)o->max_attempts,
		.metrics_file = o->metrics_file,
	};
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	struct plat_worker *w = plat_worker_new();
	/* Blocked before any thread starts: every thread of the run inherits the mask, so the
	 * signals reach take_signals only. */
	struct signals sg = {.w = w};
	sigemptyset(&sg.set);
	sigaddset(&sg.set, SIGTERM);
	sigaddset(&sg.set, SIGINT);
	pthread_mutex_init(&sg.lock, NULL);
	pthread_sigmask(SIG_BLOCK, &sg.set, NULL);
	pthread_t sig_thread;
	bool sig_started = pthread_create(&sig_thread, NULL, take_signals, &sg) == 0;
	cJSON *summary = NULL;
	if (rc == 0)
		rc = plat_worker_run(w, &svc, &wo, &summary, &ctx->err);
	int printed = summary ? platctl_print(ctx, summary, NULL) : 0;
	if (plat_worker_in_progress(w) > 0)
		/* Threads are still inside documents: leave them to the exit. Their events were
		 * not acknowledged, so they are delivered again. */
		platctl_fail_now(ctx, rc);
	pthread_mutex_lock(&sg.lock);
	sg.done = true;
	pthread_mutex_unlock(&sg.lock);
	if (sig_started)
		pthread_join(sig_thread, NULL);
	pthread_sigmask(SIG_UNBLOCK, &sg.set, NULL);
	pthread_mutex_destroy(&sg.lock);
	if (rc == 0)
		rc = printed;
	if (rc == 0 && summary)
		rc = failures(ctx, summary);
	cJSON_Delete(summary);
	plat_worker_free(w);
	platctl_svc_close(&svc);
	return rc;
}
