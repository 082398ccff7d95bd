/* platctl compliance validate: check the rule files without running them (no database). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/compliance.h"
#include "io/io.h"
#include "platctl.h"
#include "str/str.h"

const struct plat_opt compliance_validate_opts[] = {
	{0, "rules", PLAT_OPT_STRING, "PATH", "a rule directory or file instead of compliance.rules", NULL, 0, 0,
	 PLAT_COMPLETE_FILE, offsetof(struct compliance_validate_opts, rules)},
	{0, "strict", PLAT_OPT_BOOL, NULL, "treat warnings (such as unknown keys) as errors", NULL, 0, 0,
	 PLAT_COMPLETE_NONE, offsetof(struct compliance_validate_opts, strict)},
	PLAT_OPT_END,
};

int platctl_print_rule_diags(const struct plat_rule_diags *diags)
{
	struct plat_buf b = PLAT_BUF_INIT;
	for (size_t i = 0; i < diags->n; i++) {
		char *m = plat_rule_diag_format(&diags->items[i]);
		plat_buf_printf(&b, "%s\n", m);
		free(m);
	}
	int rc = b.len ? plat_write_all(2, b.data, b.len) : 0;
	plat_buf_free(&b);
	return rc < 0 ? -1 : 0;
}

static cJSON *problems_json(const struct plat_rule_diags *diags)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < diags->n; i++) {
		const struct plat_rule_diag *d = &diags->items[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "file", d->file);
		cJSON_AddNumberToObject(j, "line", d->line);
		cJSON_AddNumberToObject(j, "column", d->column);
		cJSON_AddStringToObject(j, "message", d->message);
		cJSON_AddBoolToObject(j, "warning", d->warning);
		cJSON_AddItemToArray(a, j);
	}
	return a;
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int cmd_compliance_validate(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct compliance_validate_opts *o = opts;
	const char *path = o->rules ? o->rules : plat_config_str(ctx->cfg, PLAT_CFG_COMPLIANCE_RULES);

	struct plat_rule_set *set = NULL;
	struct plat_rule_diags diags = {0};
	struct plat_error err = {0};
	int lrc = plat_rules_check(path, &set, &diags, &err);
	if (lrc < 0 && !set) {
		/* Missing or unreadable: nothing was validated. */
		ctx->err = err;
		if (o->rules)
			plat_error_param(&ctx->err, "rules");
		else /* say where the path came from */
			plat_error_set(&ctx->err, err.kind, "%s (compliance.rules)", err.message);
		plat_rule_diags_free(&diags);
		return lrc;
	}

	size_t errors = 0, warnings = 0;
	for (size_t i = 0; i < diags.n; i++) {
		errors += !diags.items[i].warning;
		warnings += diags.items[i].warning;
	}
	bool valid = errors == 0 && !(o->strict && warnings > 0);

	int rc = 0;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		/* Problems are diagnostics (stderr); the count is the result (stdout). */
		if (platctl_print_rule_diags(&diags) < 0)
			rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "cannot write to standard error");
		struct plat_buf text = PLAT_BUF_INIT;
		if (rc == 0 && valid) {
			plat_buf_printf(&text, "%zu %s in %zu %s\n", set->n, plural(set->n, "rule", "rules"), set->files.n,
					plural(set->files.n, "file", "files"));
			rc = platctl_write(ctx, text.data);
			plat_buf_free(&text);
		}
	} else {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddBoolToObject(doc, "valid", valid);
		cJSON_AddStringToObject(doc, "path", path);
		cJSON *files = cJSON_AddArrayToObject(doc, "files");
		for (size_t i = 0; i < set->files.n; i++)
			cJSON_AddItemToArray(files, cJSON_CreateString(set->files.items[i]));
		cJSON *rules = cJSON_AddArrayToObject(doc, "rules");
		for (size_t i = 0; i < set->n; i++)
			cJSON_AddItemToArray(rules, plat_rule_to_json(&set->rules[i]));
		cJSON_AddItemToObject(doc, "problems", problems_json(&diags));
		rc = platctl_print(ctx, doc, NULL);
		cJSON_Delete(doc);
	}

	if (rc == 0 && !valid) {
		if (errors)
			rc = plat_error_set(&ctx->err, PLAT_E_CONFIG, "invalid compliance rules: %zu %s, %zu %s", errors,
					    plural(errors, "error", "errors"), warnings, plural(warnings, "warning", "warnings"));
		else
			rc = plat_error_set(&ctx->err, PLAT_E_CONFIG, "compliance rules have %zu %s (--strict)", warnings,
					    plural(warnings, "warning", "warnings"));
	}
	plat_rule_set_free(set);
	plat_rule_diags_free(&diags);
	return rc;
}
