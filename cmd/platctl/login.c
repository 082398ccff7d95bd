/* platctl login and platctl logout: the credentials of remote mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "platctl.h"
#include "remote/session.h"

#define L(f) offsetof(struct login_opts, f)

/* An access token is a JWT of a few kilobytes at most; an API token is 42 characters. */
#define TOKEN_BUF 16384

const struct plat_opt login_opts[] = {
	{0, "server", PLAT_OPT_STRING, "URL", "the platctl server to log in to (default: the configured server.url)", NULL, 0, 0, 0, L(server)},
	{0, "with-token", PLAT_OPT_BOOL, NULL, "read a token (an API token, for CI) from standard input", NULL, 0, 0, 0, L(with_token)},
	{0, "password", PLAT_OPT_BOOL, NULL, "log in to a local account of the server with its password (prompted)", NULL, 0, 0, 0, L(password)},
	{0, "password-stdin", PLAT_OPT_BOOL, NULL, "with --password: read the password from standard input", NULL, 0, 0, 0, L(password_stdin)},
	{0, "user", PLAT_OPT_STRING, "NAME", "with --password: the account (default: the configured principal)", NULL, 0, 0, 0, L(user)},
	PLAT_OPT_END,
};

static const struct plat_output_column login_columns[] = {
	{"server", NULL}, {"principal", NULL}, {"tenant", NULL}, {"role", NULL}, {"profile", NULL}, {NULL, NULL}};

int cmd_login(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct login_opts *o = opts;
	bool password = o->password || o->password_stdin;
	if (o->with_token == password)
		return plat_error_set(&ctx->err, PLAT_E_USAGE,
				      o->with_token ? "--with-token and --password exclude each other"
						    : "say how to log in: --with-token or --password");
	if (o->user && !password)
		return plat_error_set(&ctx->err, PLAT_E_USAGE, "--user goes with --password");
	char *secret = calloc(1, TOKEN_BUF);
	long long n;
	if (o->with_token)
		n = platctl_read_secret_stdin(ctx, "token", secret, TOKEN_BUF);
	else if (o->password_stdin)
		n = platctl_read_secret_stdin(ctx, "password", secret, PLAT_PASSWORD_BUF);
	else
		n = platctl_prompt_password(ctx, "Password: ", secret, PLAT_PASSWORD_BUF);
	int rc = n < 0 ? -(int)ctx->err.kind : 0;
	if (rc == 0 && n == 0)
		rc = plat_error_set(&ctx->err, PLAT_E_USAGE, o->with_token ? "no token on standard input" : "an empty password");
	cJSON *out = NULL;
	if (rc == 0) {
		struct plat_login_options lo = {.server = o->server};
		if (o->with_token) {
			lo.token = secret;
		} else {
			lo.user = o->user; /* NULL: the configured principal */
			lo.with_password = true;
			lo.password = secret;
			lo.password_len = (size_t)n;
		}
		struct plat_svc svc;
		rc = platctl_call(ctx, &svc);
		if (rc == 0)
			rc = plat_session_login(&svc, &lo, &out, &ctx->err);
		platctl_svc_close(&svc);
	}
	plat_wipe(secret, TOKEN_BUF);
	free(secret);
	if (rc < 0)
		return rc;
	rc = platctl_print_object(ctx, out, login_columns);
	if (rc == 0 && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out, "configured")))
		plat_log(PLAT_LOG_WARN, "commands stay in direct mode until server.url names this server (in the "
			 "active profile, or PLATCTL_SERVER_URL)",
			 "server", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out, "server")), (const char *)NULL);
	cJSON_Delete(out);
	return rc;
}

int cmd_logout(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	(void)argv;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *out = NULL;
	if (rc == 0)
		rc = plat_session_logout(&svc, &out, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	static const struct plat_output_column cols[] = {
		{"server", NULL}, {"profile", NULL}, {"removed", NULL}, {"revoked", NULL}, {NULL, NULL}};
	rc = platctl_print_object(ctx, out, cols);
	cJSON_Delete(out);
	return rc;
}
