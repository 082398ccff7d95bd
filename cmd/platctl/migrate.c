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

struct applied_log {
	cJSON *list;
};

static void on_applied(void *arg, const struct plat_migration *m, bool up, long long ms)
{
	struct applied_log *log = arg;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "version", m->version);
	cJSON_AddStringToObject(j, "name", m->name);
	cJSON_AddNumberToObject(j, "duration_ms", (double)ms);
	cJSON_AddItemToArray(log->list, j);
	char v[16], d[32];
	snprintf(v, sizeof(v), "%04d", m->version);
	snprintf(d, sizeof(d), "%lld", ms);
	plat_log(PLAT_LOG_INFO, up ? "migration applied" : "migration reverted", "version", v, "name", m->name,
		 "duration_ms", d, (const char *)NULL);
}

static int run(struct plat_cli_ctx *ctx, const struct migrate_opts *o, bool up)
{
	struct plat_db *db;
	int rc = platctl_connect(ctx, &db);
	if (rc < 0)
		return rc;
	struct applied_log log = {cJSON_CreateArray()};
	struct plat_migrate_options mo = {
		.to = (int)o->to,
		.steps = (int)o->steps,
		.no_wait = o->no_wait,
		.applied_by = plat_config_str(ctx->cfg, PLAT_CFG_PRINCIPAL),
		.on_applied = on_applied,
		.arg = &log,
	};
	int count = 0;
	rc = up ? plat_migrate_up(db, &mo, &count, &ctx->err) : plat_migrate_down(db, &mo, &count, &ctx->err);
	int version = 0, latest = 0;
	if (rc == 0)
		rc = plat_migrate_version(db, &version, &latest, &ctx->err);
	plat_db_close(db);
	if (rc < 0) {
		cJSON_Delete(log.list);
		return rc;
	}

	if (ctx->out.format == PLAT_OUT_TABLE) {
		struct plat_buf text = PLAT_BUF_INIT;
		for (cJSON *m = log.list->child; m; m = m->next)
			plat_buf_printf(&text, "%s %04d_%s (%d ms)\n", up ? "applied" : "reverted",
					cJSON_GetObjectItem(m, "version")->valueint,
					cJSON_GetObjectItem(m, "name")->valuestring,
					cJSON_GetObjectItem(m, "duration_ms")->valueint);
		if (count == 0)
			plat_buf_printf(&text, "nothing to %s\n", up ? "apply" : "revert");
		plat_buf_printf(&text, "schema at version %d of %d\n", version, latest);
		rc = platctl_write(ctx, text.data);
		plat_buf_free(&text);
		cJSON_Delete(log.list);
		return rc;
	}
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddItemToObject(doc, up ? "applied" : "reverted", log.list);
	cJSON_AddNumberToObject(doc, "version", version);
	cJSON_AddNumberToObject(doc, "latest", latest);
	rc = platctl_print(ctx, doc, NULL);
	cJSON_Delete(doc);
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
	struct migrate_opts *o = opts;
	if (o->to >= 0 && o->steps)
		return plat_error_set(&ctx->err, PLAT_E_USAGE, "use either --to or --steps, not both");
	return run(ctx, o, false);
}

int cmd_migrate_status(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	(void)argv;
	struct plat_db *db;
	int rc = platctl_connect(ctx, &db);
	if (rc < 0)
		return rc;
	struct plat_migration_status *st;
	size_t n;
	rc = plat_migrate_status(db, &st, &n, &ctx->err);
	plat_db_close(db);
	if (rc < 0)
		return rc;

	cJSON *rows = cJSON_CreateArray();
	int version, latest, pending = 0;
	plat_migrate_versions(st, n, &version, &latest);
	for (size_t i = 0; i < n; i++) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddNumberToObject(r, "version", st[i].version);
		cJSON_AddStringToObject(r, "name", st[i].name ? st[i].name : "");
		cJSON_AddStringToObject(r, "state", plat_migration_state_name(st[i].state));
		if (st[i].applied_at) {
			cJSON_AddStringToObject(r, "applied_at", st[i].applied_at);
			cJSON_AddStringToObject(r, "applied_by", st[i].applied_by);
		} else {
			cJSON_AddNullToObject(r, "applied_at");
			cJSON_AddNullToObject(r, "applied_by");
		}
		cJSON_AddStringToObject(r, "checksum", st[i].checksum ? st[i].checksum : "");
		cJSON_AddItemToArray(rows, r);
		pending += st[i].state == PLAT_MIGRATION_PENDING;
	}
	plat_migrate_status_free(st, n);

	if (ctx->out.format == PLAT_OUT_TABLE) {
		static const struct plat_output_column cols[] = {{"version", NULL}, {"name", NULL}, {"state", NULL},
								 {"applied_at", "applied at"}, {"applied_by", "applied by"},
								 {NULL, NULL}};
		rc = platctl_print(ctx, rows, cols);
		cJSON_Delete(rows);
		return rc;
	}
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "version", version);
	cJSON_AddNumberToObject(doc, "latest", latest);
	cJSON_AddNumberToObject(doc, "pending", pending);
	cJSON_AddItemToObject(doc, "migrations", rows);
	rc = platctl_print(ctx, doc, NULL);
	cJSON_Delete(doc);
	return rc;
}

int cmd_migrate_verify(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	(void)argv;
	struct plat_db *db;
	int rc = platctl_connect(ctx, &db);
	if (rc < 0)
		return rc;
	int version = 0, latest = 0;
	rc = plat_migrate_verify(db, &ctx->err);
	if (rc == 0)
		rc = plat_migrate_version(db, &version, &latest, &ctx->err);
	plat_db_close(db);
	if (rc < 0)
		return rc;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddBoolToObject(doc, "ok", 1);
	cJSON_AddNumberToObject(doc, "verified", version);
	cJSON_AddNumberToObject(doc, "latest", latest);
	if (ctx->out.format == PLAT_OUT_TABLE) {
		char line[128];
		snprintf(line, sizeof(line), "ok: applied migrations 1 to %d match this platctl (latest %d)\n", version, latest);
		rc = platctl_write(ctx, line);
	} else {
		rc = platctl_print(ctx, doc, NULL);
	}
	cJSON_Delete(doc);
	return rc;
}
