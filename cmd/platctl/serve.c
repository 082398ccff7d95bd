/* platctl serve: the REST API over the same services the commands call. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "build_info.h"
#include "http/http.h"
#include "log/log.h"
#include "platctl.h"

#define S(f) offsetof(struct serve_opts, f)

const struct plat_opt serve_opts[] = {
	{0, "listen", PLAT_OPT_STRING, "ADDR:PORT", "address to listen on (default 127.0.0.1:8080; [::1]:PORT for IPv6; port 0 picks a free one)", NULL, 0, 0, 0, S(listen)},
	{0, "threads", PLAT_OPT_INT, "N", "request threads (default: the number of cores)", NULL, 1, 256, 0, S(threads)},
	{0, "max-body", PLAT_OPT_INT, "BYTES", "largest request body (default 1048576)", NULL, 1, 1LL << 40, 0, S(max_body)},
	{0, "max-connections", PLAT_OPT_INT, "N", "most connections at once (default 1024)", NULL, 1, 65536, 0, S(max_connections)},
	{0, "timeout", PLAT_OPT_INT, "SECONDS", "close a connection idle this long (default 30)", NULL, 1, 3600, 0, S(timeout)},
	PLAT_OPT_END,
};

const struct serve_opts serve_defaults = {.listen = "127.0.0.1:8080", .max_body = 1 << 20, .max_connections = 1024,
					  .timeout = 30};

static void ready(void *arg, const char *addr)
{
	(void)arg;
	PLAT_LOG_I("listening", "address", addr);
}

int cmd_serve(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct serve_opts *o = opts;
	/* Blocked before the server's threads exist, so they inherit the mask and only the
	 * server's sigwait takes SIGTERM/SIGINT: the drain on shutdown depends on it. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct plat_services *services = NULL;
	int rc = platctl_services(ctx, &services);
	if (rc < 0)
		return rc;
	struct plat_http_options ho = {.listen = o->listen,
				       .threads = (int)o->threads,
				       .max_body = o->max_body,
				       .max_connections = (unsigned)o->max_connections,
				       .timeout = (unsigned)o->timeout,
				       .header_limit = 64 * 1024,
				       .version = PLATCTL_VERSION};
	return plat_http_serve(services, &ho, ready, NULL, &ctx->err);
}
