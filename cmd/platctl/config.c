/* platctl config show | validate | example */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platctl.h"
#include "str/str.h"

const struct plat_opt config_validate_opts[] = {
	{0, "strict", PLAT_OPT_BOOL, NULL, "treat warnings (such as unknown keys) as errors", NULL, 0, 0,
	 PLAT_COMPLETE_NONE, offsetof(struct config_validate_opts, strict)},
	PLAT_OPT_END,
};

static const char *source_name(enum plat_config_source s)
{
	switch (s) {
	case PLAT_CFG_SRC_FILE: return "file";
	case PLAT_CFG_SRC_ENV: return "env";
	case PLAT_CFG_SRC_FLAG: return "flag";
	default: return "default";
	}
}

static int unknown_key(struct plat_cli_ctx *ctx, const char *name)
{
	struct plat_buf shown = PLAT_BUF_INIT;
	plat_str_escape_terminal(&shown, name, strlen(name));
	const char *best = NULL;
	size_t best_d = 4;
	for (int k = 0; k < PLAT_CFG__COUNT; k++) {
		size_t d = plat_str_edit_distance(name, plat_config_key_def(k)->name);
		if (d < best_d) {
			best_d = d;
			best = plat_config_key_def(k)->name;
		}
	}
	int rc = best ? plat_error_set(&ctx->err, PLAT_E_USAGE, "unknown config key '%s' (did you mean '%s'?)",
				       shown.data, best)
		      : plat_error_set(&ctx->err, PLAT_E_USAGE, "unknown config key '%s'", shown.data);
	plat_buf_free(&shown);
	return rc;
}

static cJSON *key_row(const struct plat_config *cfg, enum plat_config_key k)
{
	cJSON *row = cJSON_CreateObject();
	cJSON_AddStringToObject(row, "key", plat_config_key_def(k)->name);
	if (plat_config_str(cfg, k)[0] || plat_config_is_set(cfg, k)) {
		char *v = plat_config_display_value(cfg, k);
		cJSON_AddStringToObject(row, "value", v);
		free(v);
	} else {
		cJSON_AddNullToObject(row, "value");
	}
	cJSON_AddStringToObject(row, "source", source_name(plat_config_source(cfg, k)));
	cJSON_AddStringToObject(row, "origin", plat_config_origin(cfg, k));
	return row;
}

int cmd_config_show(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	cJSON *rows = cJSON_CreateArray();
	if (argc == 0) {
		for (int k = 0; k < PLAT_CFG__COUNT; k++)
			cJSON_AddItemToArray(rows, key_row(ctx->cfg, k));
	}
	for (int i = 0; i < argc; i++) {
		int k = plat_config_key_lookup(argv[i]);
		if (k < 0) {
			cJSON_Delete(rows);
			return unknown_key(ctx, argv[i]);
		}
		cJSON_AddItemToArray(rows, key_row(ctx->cfg, k));
	}

	static const struct plat_output_column cols[] = {
		{"key", "key"}, {"value", "value"}, {"origin", "source"}, {NULL, NULL}};
	int rc;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		rc = platctl_print(ctx, rows, cols);
		cJSON_Delete(rows);
		return rc;
	}
	cJSON *doc = cJSON_CreateObject();
	const char *file = plat_config_file(ctx->cfg), *profile = plat_config_profile(ctx->cfg);
	if (file)
		cJSON_AddStringToObject(doc, "file", file);
	else
		cJSON_AddNullToObject(doc, "file");
	if (profile)
		cJSON_AddStringToObject(doc, "profile", profile);
	else
		cJSON_AddNullToObject(doc, "profile");
	cJSON_AddItemToObject(doc, "keys", rows);
	rc = platctl_print(ctx, doc, NULL);
	cJSON_Delete(doc);
	return rc;
}

int cmd_config_validate(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	const struct config_validate_opts *o = opts;
	struct plat_config *cfg = plat_config_new();
	struct plat_config_load_options lo = {
		.path = argc > 0 ? argv[0] : ctx->g.config,
		.profile = ctx->g.profile,
		.environ = ctx->environ,
	};
	struct plat_error err = {0};
	plat_config_load(cfg, &lo, &err);

	size_t errors = 0, warnings = 0;
	cJSON *diags = cJSON_CreateArray();
	for (size_t i = 0; i < plat_config_diag_count(cfg); i++) {
		const struct plat_config_diag *d = plat_config_diag(cfg, i);
		bool is_error = d->severity == PLAT_CFG_ERROR;
		errors += is_error;
		warnings += !is_error;
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "severity", is_error ? "error" : "warning");
		if (d->file)
			cJSON_AddStringToObject(j, "file", d->file);
		else
			cJSON_AddNullToObject(j, "file");
		cJSON_AddNumberToObject(j, "line", d->line);
		cJSON_AddNumberToObject(j, "column", d->column);
		if (d->key)
			cJSON_AddStringToObject(j, "key", d->key);
		else
			cJSON_AddNullToObject(j, "key");
		cJSON_AddStringToObject(j, "message", d->message);
		cJSON_AddItemToArray(diags, j);
	}
	bool valid = errors == 0 && !(o->strict && warnings > 0);
	const char *file = plat_config_file(cfg);

	int rc = 0;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		struct plat_buf text = PLAT_BUF_INIT;
		for (size_t i = 0; i < plat_config_diag_count(cfg); i++) {
			const struct plat_config_diag *d = plat_config_diag(cfg, i);
			char *m = plat_config_diag_format(d);
			plat_buf_printf(&text, "%s: %s\n", d->severity == PLAT_CFG_ERROR ? "error" : "warning", m);
			free(m);
		}
		struct plat_buf shown = PLAT_BUF_INIT;
		if (file)
			plat_str_escape_terminal(&shown, file, strlen(file));
		plat_buf_printf(&text, "%s: %s (%zu error%s, %zu warning%s)\n", file ? shown.data : "(no config file)",
				valid ? "valid" : "invalid", errors, errors == 1 ? "" : "s", warnings,
				warnings == 1 ? "" : "s");
		plat_buf_free(&shown);
		rc = platctl_write(ctx, text.data);
		plat_buf_free(&text);
		cJSON_Delete(diags);
	} else {
		cJSON *doc = cJSON_CreateObject();
		if (file)
			cJSON_AddStringToObject(doc, "file", file);
		else
			cJSON_AddNullToObject(doc, "file");
		cJSON_AddBoolToObject(doc, "valid", valid);
		cJSON_AddNumberToObject(doc, "errors", (double)errors);
		cJSON_AddNumberToObject(doc, "warnings", (double)warnings);
		cJSON_AddItemToObject(doc, "diagnostics", diags);
		rc = platctl_print(ctx, doc, NULL);
		cJSON_Delete(doc);
	}

	if (rc == 0 && !valid) {
		if (errors)
			rc = plat_error_set(&ctx->err, PLAT_E_CONFIG, "%s", err.message);
		else
			rc = plat_error_set(&ctx->err, PLAT_E_CONFIG, "configuration has %zu warning%s (--strict)",
					    warnings, warnings == 1 ? "" : "s");
	}
	plat_config_free(cfg);
	return rc;
}

int cmd_config_example(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	(void)argv;
	char *text = plat_config_example();
	int rc = platctl_write(ctx, text);
	free(text);
	return rc;
}
