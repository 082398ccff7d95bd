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
	{0, "tls-cert", PLAT_OPT_STRING, "FILE", "serve HTTPS with this PEM certificate (chain); needs --tls-key", NULL, 0, 0, PLAT_COMPLETE_FILE, S(tls_cert)},
	{0, "tls-key", PLAT_OPT_STRING, "FILE", "the certificate's PEM private key (not readable by others)", NULL, 0, 0, PLAT_COMPLETE_FILE, S(tls_key)},
	PLAT_OPT_END,
};

const struct serve_opts serve_defaults = {.listen = "127.0.0.1:8080", .max_body = 1 << 20, .max_connections = 1024,
					  .timeout = 30};

static void ready(void *arg, const char *addr)
{
	const struct serve_opts *o = arg;
	char url[128];
	snprintf(url, sizeof(url), "%s://%s", o->tls_cert ? "https" : "http", addr);
	PLAT_LOG_I("listening", "address", addr, "url", url);
}

int cmd_serve(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct serve_opts *o = opts;
	if (!o->tls_cert != !o->tls_key) {
		plat_error_set(&ctx->err, PLAT_E_USAGE, "options '--tls-cert' and '--tls-key' go together");
		return -PLAT_E_USAGE;
	}
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
				       /* libmicrohttpd zeroes a kept-alive connection's memory between
					* requests: 32 KiB (its default; nginx's header buffers are as
					* large) holds any real request's headers, and 64 KiB cost a
					* tenth of /healthz's throughput. */
				       .header_limit = 32 * 1024,
				       .version = PLATCTL_VERSION,
				       .tls_cert = o->tls_cert,
				       .tls_key = o->tls_key};
	return plat_http_serve(services, &ho, ready, (void *)o, &ctx->err);
}
