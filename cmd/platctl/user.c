/* platctl user add | list | disable | enable | passwd, and platctl whoami */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/principals.h"
#include "io/io.h"
#include "platctl.h"

#define U(f) offsetof(struct user_opts, f)

static const char *const role_choices[] = {"admin", "editor", "viewer", "auditor", NULL};

const struct plat_opt user_add_opts[] = {
	{0, "role", PLAT_OPT_CHOICE, "ROLE", "the principal's role: admin, editor, viewer or auditor (required)", role_choices, 0, 0, PLAT_COMPLETE_CHOICES, U(role)},
	{0, "tenant", PLAT_OPT_STRING, "TENANT", "the tenant to add it to (default: the configured tenant)", NULL, 0, 0, 0, U(tenant)},
	{0, "email", PLAT_OPT_STRING, "EMAIL", "the principal's e-mail address (for notifications)", NULL, 0, 0, 0, U(email)},
	{0, "service", PLAT_OPT_BOOL, NULL, "add a service account (API tokens, no password) instead of a user", NULL, 0, 0, 0, U(service)},
	{0, "password-stdin", PLAT_OPT_BOOL, NULL, "read the password from standard input instead of a prompt", NULL, 0, 0, 0, U(password_stdin)},
	{0, "no-password", PLAT_OPT_BOOL, NULL, "add a user without a password (it cannot log in with one until user passwd)", NULL, 0, 0, 0, U(no_password)},
	PLAT_OPT_END,
};

const struct plat_opt user_tenant_opts[] = {
	{0, "tenant", PLAT_OPT_STRING, "TENANT", "the tenant (default: the configured tenant)", NULL, 0, 0, 0, U(tenant)},
	PLAT_OPT_END,
};

const struct plat_opt user_passwd_opts[] = {
	{0, "tenant", PLAT_OPT_STRING, "TENANT", "the tenant (default: the configured tenant)", NULL, 0, 0, 0, U(tenant)},
	{0, "password-stdin", PLAT_OPT_BOOL, NULL, "read the new password from standard input instead of a prompt", NULL, 0, 0, 0, U(password_stdin)},
	PLAT_OPT_END,
};

/* Prompt on the terminal with echo off. Returns the length, or -1 (message in ctx->err). */
long long platctl_prompt_password(struct plat_cli_ctx *ctx, const char *prompt, char *buf, size_t cap)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		plat_error_set(&ctx->err, PLAT_E_USAGE, "no terminal to ask for a password on: use --password-stdin");
		return -1;
	}
	struct termios old, quiet;
	bool restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		/* TCSANOW, not TCSAFLUSH: a line typed (or sent) ahead of the prompt is kept. */
		tcsetattr(fd, TCSANOW, &quiet);
	}
	plat_write_all(fd, prompt, strlen(prompt));
	size_t len = 0;
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n' || c == '\r')
			break;
		if (len + 1 < cap)
			buf[len] = c;
		len++;
	}
	plat_write_all(fd, "\n", 1);
	if (restore)
		tcsetattr(fd, TCSANOW, &old);
	close(fd);
	if (len + 1 >= cap) {
		plat_error_set(&ctx->err, PLAT_E_USAGE, "the password is longer than %zu bytes", cap - 2);
		return -1;
	}
	buf[len] = '\0';
	return (long long)len;
}

long long platctl_read_secret_stdin(struct plat_cli_ctx *ctx, const char *what, char *buf, size_t cap)
{
	long long n = plat_read_upto(STDIN_FILENO, buf, cap - 1);
	if (n < 0) {
		plat_error_set(&ctx->err, PLAT_E_FAILURE, "reading the %s from standard input: %s", what, strerror(errno));
		return -1;
	}
	if ((size_t)n == cap - 1) {
		plat_error_set(&ctx->err, PLAT_E_USAGE, "the %s on standard input is longer than %zu bytes", what, cap - 2);
		return -1;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return n;
}

/* The new password from standard input (one line; its newline is not part of it) or
 * from two prompts that must agree. The caller wipes buf. */
static long long read_new_password(struct plat_cli_ctx *ctx, bool from_stdin, char *buf, size_t cap)
{
	if (from_stdin)
		return platctl_read_secret_stdin(ctx, "password", buf, cap);
	char again[PLAT_PASSWORD_BUF];
	long long n = platctl_prompt_password(ctx, "New password: ", buf, cap);
	long long m = n < 0 ? -1 : platctl_prompt_password(ctx, "Again: ", again, sizeof(again));
	bool same = m == n && memcmp(buf, again, (size_t)(n < 0 ? 0 : n)) == 0;
	plat_wipe(again, sizeof(again));
	if (m >= 0 && !same) {
		plat_error_set(&ctx->err, PLAT_E_USAGE, "the two passwords differ");
		return -1;
	}
	return m < 0 ? -1 : n;
}

static const struct plat_output_column principal_columns[] = {
	{"name", NULL}, {"kind", NULL}, {"role", NULL}, {"email", NULL}, {"disabled", NULL}, {"created_at", "created"},
	{NULL, NULL}};

static int print_principal(struct plat_cli_ctx *ctx, cJSON *p)
{
	int rc = platctl_print_object(ctx, p, principal_columns);
	cJSON_Delete(p);
	return rc;
}

int cmd_user_add(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	const struct user_opts *o = opts;
	if (!o->role) {
		plat_error_set(&ctx->err, PLAT_E_USAGE, "option '--role' is required (admin, editor, viewer or auditor)");
		return -PLAT_E_USAGE;
	}
	if (o->service && (o->password_stdin || o->no_password)) {
		plat_error_set(&ctx->err, PLAT_E_USAGE, "a service account has no password: drop --password-stdin/--no-password");
		return -PLAT_E_USAGE;
	}
	if (o->password_stdin && o->no_password) {
		plat_error_set(&ctx->err, PLAT_E_USAGE, "--password-stdin and --no-password exclude each other");
		return -PLAT_E_USAGE;
	}
	char pw[PLAT_PASSWORD_BUF];
	long long pwlen = 0;
	bool with_password = !o->service && !o->no_password;
	if (with_password && (pwlen = read_new_password(ctx, o->password_stdin, pw, sizeof(pw))) < 0)
		return -ctx->err.kind;
	struct plat_new_principal np = {.name = argv[0], .kind = o->service ? "service" : "user", .role = o->role,
					.email = o->email, .password = with_password ? pw : NULL, .password_len = (size_t)pwlen};
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	cJSON *p = NULL;
	if (rc == 0)
		rc = plat_principals_add(&svc, &np, &p, &ctx->err);
	platctl_svc_close(&svc);
	plat_wipe(pw, sizeof(pw));
	return rc < 0 ? rc : print_principal(ctx, p);
}

int cmd_user_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct user_opts *o = opts;
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	cJSON *list = NULL;
	if (rc == 0)
		rc = plat_principals_list(&svc, &list, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	rc = platctl_print(ctx, list, principal_columns);
	cJSON_Delete(list);
	return rc;
}

static int set_disabled(struct plat_cli_ctx *ctx, const struct user_opts *o, const char *name, bool disabled)
{
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	cJSON *p = NULL;
	if (rc == 0)
		rc = plat_principals_set_disabled(&svc, name, disabled, &p, &ctx->err);
	platctl_svc_close(&svc);
	return rc < 0 ? rc : print_principal(ctx, p);
}

int cmd_user_disable(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	return set_disabled(ctx, opts, argv[0], true);
}

int cmd_user_enable(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	return set_disabled(ctx, opts, argv[0], false);
}

int cmd_user_passwd(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	const struct user_opts *o = opts;
	const char *name = argc > 0 ? argv[0] : plat_config_str(ctx->cfg, PLAT_CFG_PRINCIPAL);
	char pw[PLAT_PASSWORD_BUF];
	long long pwlen = read_new_password(ctx, o->password_stdin, pw, sizeof(pw));
	if (pwlen < 0)
		return -ctx->err.kind;
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	if (rc == 0)
		rc = plat_principals_passwd(&svc, name, pw, (size_t)pwlen, &ctx->err);
	platctl_svc_close(&svc);
	plat_wipe(pw, sizeof(pw));
	if (rc == 0 && ctx->out.format == PLAT_OUT_TABLE)
		plat_log(PLAT_LOG_INFO, "password changed", "principal", name, (const char *)NULL);
	return rc;
}

int cmd_whoami(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	(void)argv;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *me = NULL;
	if (rc == 0)
		rc = plat_whoami(&svc, &me, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		static const struct plat_output_column cols[] = {{"principal", NULL}, {"tenant", NULL}, {"role", NULL},
								 {"kind", NULL}, {"mode", NULL}, {NULL, NULL}};
		cJSON *one = cJSON_CreateArray();
		cJSON_AddItemReferenceToArray(one, me);
		rc = platctl_print(ctx, one, cols);
		cJSON_Delete(one);
		if (rc == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(me, "bootstrap")))
			plat_log(PLAT_LOG_WARN, "the tenant has no principals yet: everyone acts as its admin until "
				 "'platctl user add' adds the first", (const char *)NULL);
	} else {
		rc = platctl_print(ctx, me, NULL);
	}
	cJSON_Delete(me);
	return rc;
}
