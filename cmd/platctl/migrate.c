/* platctl migrate up | down | status | verify */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/migrate.h"
#include "platctl.h"

#define UP(f) offsetof(struct migrate_opts, f)

const struct plat_opt migrate_up_opts[] = {
	{0, "to", PLAT_OPT_INT, "N", "apply migrations up to and including version N", NULL, 1, 9999, 0, UP(to)},
	{0, "no-wait", PLAT_OPT_BOOL, NULL, "exit 7 instead of waiting when another migration holds the lock", NULL, 0, 0, 0, UP(no_wait)},
	PLAT_OPT_END,
};

const struct plat_opt migrate_down_opts[] = {
	{0, "to", PLAT_OPT_INT, "N", "revert every migration above version N (0: all)", NULL, 0, 9999, 0, UP(to)},
	{0, "steps", PLAT_OPT_INT, "N", "revert the last N migrations (default 1)", NULL, 1, 9999, 0, UP(steps)},
	{0, "no-wait", PLAT_OPT_BOOL, NULL, "exit 7 instead of waiting when another migration holds the lock", NULL, 0, 0, 0, UP(no_wait)},
	PLAT_OPT_END,
};

/* --to 0 means "revert everything", so "not given" needs a value of its own. */
const struct migrate_opts migrate_down_defaults = {.to = -1};

static int run(struct plat_cli_ctx *ctx, const struct migrate_opts *o, bool up)
{
	struct plat_migrate_options mo = {.to = (int)o->to, .steps = (int)o->steps, .no_wait = o->no_wait};
	struct plat_svc svc;
	cJSON *res = NULL;
	int rc = platctl_call(ctx, &svc);
	if (rc == 0) {
		rc = plat_migrate_run(&svc, up, &mo, &res, &ctx->err);
		platctl_svc_close(&svc);
	}
	if (rc == -PLAT_E_USAGE && !strcmp(ctx->err.param, "steps"))
		return plat_error_set(&ctx->err, PLAT_E_USAGE, "use either --to or --steps, not both");
	if (rc < 0)
		return rc;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		struct plat_buf text = PLAT_BUF_INIT;
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(res, up ? "applied" : "reverted"), *m;
		cJSON_ArrayForEach(m, list)
			plat_buf_printf(&text, "%s %04d_%s (%d ms)\n", up ? "applied" : "reverted",
					cJSON_GetObjectItem(m, "version")->valueint, cJSON_GetObjectItem(m, "name")->valuestring,
					cJSON_GetObjectItem(m, "duration_ms")->valueint);
		if (cJSON_GetArraySize(list) == 0)
			plat_buf_printf(&text, "nothing to %s\n", up ? "apply" : "revert");
		plat_buf_printf(&text, "schema at version %d of %d\n", cJSON_GetObjectItem(res, "version")->valueint,
				cJSON_GetObjectItem(res, "latest")->valueint);
		rc = platctl_write(ctx, text.data);
		plat_buf_free(&text);
	} else {
		rc = platctl_print(ctx, res, NULL);
	}
	cJSON_Delete(res);
	return rc;
}

int cmd_migrate_up(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return run(ctx, opts, true);
}

int cmd_migrate_down(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return run(ctx, opts, false);
}

int cmd_migrate_status(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	(void)argv;
	struct plat_svc svc;
	cJSON *doc = NULL;
	int rc = platctl_call(ctx, &svc);
	if (rc == 0) {
		rc = plat_migrate_report(&svc, &doc, &ctx->err);
		platctl_svc_close(&svc);
	}
	if (rc < 0)
		return rc;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		static const struct plat_output_column cols[] = {{"version", NULL}, {"name", NULL}, {"state", NULL},
								 {"applied_at", "applied at"}, {"applied_by", "applied by"},
								 {NULL, NULL}};
		rc = platctl_print(ctx, cJSON_GetObjectItemCaseSensitive(doc, "migrations"), cols);
	} else {
		rc = platctl_print(ctx, doc, NULL);
	}
	cJSON_Delete(doc);
	return rc;
}

int cmd_migrate_verify(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	(void)argv;
	struct plat_svc svc;
	cJSON *doc = NULL;
	int rc = platctl_call(ctx, &svc);
	if (rc == 0) {
		rc = plat_migrate_check(&svc, &doc, &ctx->err);
		platctl_svc_close(&svc);
	}
	if (rc < 0)
		return rc;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		char line[128];
		snprintf(line, sizeof(line), "ok: applied migrations 1 to %d match this platctl (latest %d)\n",
			 cJSON_GetObjectItem(doc, "verified")->valueint, cJSON_GetObjectItem(doc, "latest")->valueint);
		rc = platctl_write(ctx, line);
	} else {
		rc = platctl_print(ctx, doc, NULL);
	}
	cJSON_Delete(doc);
	return rc;
}
