/* platctl dev up | down | status | env: the embedded single-machine stack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/dev.h"
#include "platctl.h"

#define D(f) offsetof(struct dev_opts, f)

#define DIR_OPT {0, "dir", PLAT_OPT_STRING, "DIR", "the stack's directory (default: $XDG_DATA_HOME/platctl/dev)", NULL, 0, 0, PLAT_COMPLETE_DIR, D(dir)}

const struct plat_opt dev_up_opts[] = {
	DIR_OPT,
	{0, "pg-bindir", PLAT_OPT_STRING, "DIR", "PostgreSQL server binaries (default: newest /usr/lib/postgresql/N/bin)", NULL, 0, 0, PLAT_COMPLETE_DIR, D(pg_bindir)},
	{0, "no-profile", PLAT_OPT_BOOL, NULL, "do not write the dev profile into the config file", NULL, 0, 0, 0, D(no_profile)},
	PLAT_OPT_END,
};

const struct plat_opt dev_down_opts[] = {
	DIR_OPT,
	{0, "purge", PLAT_OPT_BOOL, NULL, "also delete the directory (database and stored objects) and the managed profile", NULL, 0, 0, 0, D(purge)},
	PLAT_OPT_END,
};

const struct plat_opt dev_dir_opts[] = {
	DIR_OPT,
	PLAT_OPT_END,
};

static int open_dev(struct plat_cli_ctx *ctx, const struct dev_opts *o, struct plat_dev *dev)
{
	char *dir = o->dir ? NULL : plat_dev_default_dir();
	int rc = plat_dev_open(o->dir ? o->dir : dir, o->pg_bindir, dev, &ctx->err);
	free(dir);
	return rc;
}

/* The file the dev profile goes into: the one named explicitly, else the user's. */
static char *profile_path(struct plat_cli_ctx *ctx)
{
	if (ctx->g.config)
		return plat_xstrdup(ctx->g.config);
	const char *env = plat_env_get(ctx->environ, "PLATCTL_CONFIG");
	if (env && *env)
		return plat_xstrdup(env);
	return plat_config_user_path(ctx->environ);
}

static cJSON *status_json(const struct plat_dev *dev, const struct plat_dev_status *st)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "dir", dev->dir);
	cJSON_AddBoolToObject(j, "initialized", st->initialized);
	cJSON_AddBoolToObject(j, "running", st->running);
	if (st->port > 0)
		cJSON_AddNumberToObject(j, "port", st->port);
	else
		cJSON_AddNullToObject(j, "port");
	if (st->running)
		cJSON_AddNumberToObject(j, "pid", (double)st->pid);
	else
		cJSON_AddNullToObject(j, "pid");
	if (st->database_url) {
		cJSON_AddStringToObject(j, "database_url", st->database_url);
		cJSON_AddStringToObject(j, "storage_url", st->storage_url);
	} else {
		cJSON_AddNullToObject(j, "database_url");
		cJSON_AddNullToObject(j, "storage_url");
	}
	int v = st->running ? plat_dev_schema_version(st->database_url) : -1;
	if (v >= 0)
		cJSON_AddNumberToObject(j, "schema_version", v);
	else
		cJSON_AddNullToObject(j, "schema_version");
	return j;
}

int cmd_dev_up(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct dev_opts *o = opts;
	struct plat_dev dev;
	int rc = open_dev(ctx, o, &dev);
	if (rc < 0)
		return rc;
	struct plat_dev_status st;
	rc = plat_dev_up(&dev, &st, &ctx->err);

	int applied = 0;
	if (rc == 0)
		rc = plat_dev_migrate(st.database_url, plat_config_str(ctx->cfg, PLAT_CFG_PRINCIPAL), &applied, &ctx->err);

	char *path = NULL;
	bool written = false;
	if (rc == 0 && !o->no_profile) {
		path = profile_path(ctx);
		if (!path)
			rc = plat_error_set(&ctx->err, PLAT_E_CONFIG, "cannot tell where the config file goes: HOME is not set");
		else
			rc = plat_dev_write_profile(path, &st, &written, &ctx->err);
		if (rc == 0 && !written)
			plat_log(PLAT_LOG_WARN,
				 "config file exists and is not managed by platctl: dev profile not written; "
				 "use 'eval \"$(platctl dev env)\"' or add the profile printed by 'platctl dev env -o yaml'",
				 "file", path, (const char *)NULL);
	}

	if (rc == 0) {
		cJSON *j = status_json(&dev, &st);
		cJSON_AddNumberToObject(j, "migrations_applied", applied);
		if (path)
			cJSON_AddStringToObject(j, "config_file", path);
		else
			cJSON_AddNullToObject(j, "config_file");
		cJSON_AddBoolToObject(j, "profile_written", written);
		rc = platctl_print(ctx, j, NULL);
		cJSON_Delete(j);
	}
	free(path);
	plat_dev_status_free(&st);
	plat_dev_close(&dev);
	return rc;
}

int cmd_dev_down(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct dev_opts *o = opts;
	struct plat_dev dev;
	int rc = open_dev(ctx, o, &dev);
	if (rc < 0)
		return rc;
	bool was_running = false, removed = false;
	rc = plat_dev_down(&dev, o->purge, &was_running, &ctx->err);
	char *path = NULL;
	if (rc == 0 && o->purge) {
		path = profile_path(ctx);
		if (path)
			rc = plat_dev_remove_profile(path, &removed, &ctx->err);
	}
	if (rc == 0) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "dir", dev.dir);
		cJSON_AddBoolToObject(j, "stopped", was_running);
		cJSON_AddBoolToObject(j, "purged", o->purge);
		cJSON_AddBoolToObject(j, "profile_removed", removed);
		rc = platctl_print(ctx, j, NULL);
		cJSON_Delete(j);
	}
	free(path);
	plat_dev_close(&dev);
	return rc;
}

int cmd_dev_status(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct plat_dev dev;
	int rc = open_dev(ctx, opts, &dev);
	if (rc < 0)
		return rc;
	struct plat_dev_status st;
	plat_dev_status(&dev, &st, &ctx->err);
	cJSON *j = status_json(&dev, &st);
	rc = platctl_print(ctx, j, NULL);
	cJSON_Delete(j);
	/* Scripts can test `platctl dev status -q` like `systemctl is-active`. */
	if (rc == 0 && !st.running)
		rc = plat_error_set(&ctx->err, PLAT_E_UNAVAILABLE, "the dev stack in '%s' is not running", dev.dir);
	plat_dev_status_free(&st);
	plat_dev_close(&dev);
	return rc;
}

/* Single-quote for POSIX shells: ' becomes '\''. */
static void shell_quote(struct plat_buf *b, const char *s)
{
	plat_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			plat_buf_puts(b, "'\\''");
		else
			plat_buf_putc(b, *s);
	}
	plat_buf_putc(b, '\'');
}

int cmd_dev_env(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct plat_dev dev;
	int rc = open_dev(ctx, opts, &dev);
	if (rc < 0)
		return rc;
	struct plat_dev_status st;
	plat_dev_status(&dev, &st, &ctx->err);
	if (!st.initialized || !st.database_url) {
		rc = plat_error_set(&ctx->err, PLAT_E_NOT_FOUND, "no dev stack in '%s': run 'platctl dev up'", dev.dir);
		goto out;
	}
	const struct {
		enum plat_config_key key;
		const char *value;
	} vars[] = {
		{PLAT_CFG_DATABASE_URL, st.database_url},
		{PLAT_CFG_STORAGE_URL, st.storage_url},
		{PLAT_CFG_EVENTS_BACKEND, "postgres"},
		{PLAT_CFG_AI_CHAT_PROVIDER, "builtin"},
		{PLAT_CFG_AI_EMBEDDINGS_PROVIDER, "builtin"},
	};
	if (ctx->out.format == PLAT_OUT_TABLE) {
		struct plat_buf b = PLAT_BUF_INIT;
		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
			char name[128];
			plat_config_env_name(plat_config_key_def(vars[i].key)->name, name, sizeof(name));
			plat_buf_printf(&b, "export %s=", name);
			shell_quote(&b, vars[i].value);
			plat_buf_putc(&b, '\n');
		}
		rc = platctl_write(ctx, b.data);
		plat_buf_free(&b);
	} else {
		cJSON *j = cJSON_CreateObject();
		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
			cJSON_AddStringToObject(j, plat_config_key_def(vars[i].key)->name, vars[i].value);
		rc = platctl_print(ctx, j, NULL);
		cJSON_Delete(j);
	}
out:
	plat_dev_status_free(&st);
	plat_dev_close(&dev);
	return rc;
}
