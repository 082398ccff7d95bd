/* platctl token create | list | revoke */
#include <stdio.h>
#include <string.h>

#include "auth/tokens.h"
#include "platctl.h"
#include "str/str.h"

#define T(f) offsetof(struct token_opts, f)

static const char *const role_choices[] = {"admin", "editor", "viewer", "auditor", NULL};

const struct plat_opt token_create_opts[] = {
	{0, "name", PLAT_OPT_STRING, "NAME", "the token's name, unique among the tenant's live tokens (required)", NULL, 0, 0, 0, T(name)},
	{0, "role", PLAT_OPT_CHOICE, "ROLE", "the token's role: admin, editor, viewer or auditor (required)", role_choices, 0, 0, PLAT_COMPLETE_CHOICES, T(role)},
	{0, "tenant", PLAT_OPT_STRING, "TENANT", "the tenant (default: the configured tenant)", NULL, 0, 0, 0, T(tenant)},
	{0, "expires", PLAT_OPT_STRING, "DURATION", "expire after DURATION (30d, 12h, 1y; default: never)", NULL, 0, 0, 0, T(expires)},
	{0, "principal", PLAT_OPT_STRING, "NAME", "the principal the token acts as (default: a service account named after it)", NULL, 0, 0, 0, T(principal)},
	PLAT_OPT_END,
};

const struct plat_opt token_tenant_opts[] = {
	{0, "tenant", PLAT_OPT_STRING, "TENANT", "the tenant (default: the configured tenant)", NULL, 0, 0, 0, T(tenant)},
	PLAT_OPT_END,
};

static const struct plat_output_column token_columns[] = {
	{"name", NULL}, {"role", NULL}, {"principal", NULL}, {"status", NULL}, {"created_at", "created"},
	{"last_used_at", "last used"}, {"expires_at", "expires"}, {NULL, NULL}};

int cmd_token_create(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct token_opts *o = opts;
	if (!o->name || !o->role) {
		plat_error_set(&ctx->err, PLAT_E_USAGE, "options '--name' and '--role' are required");
		return -PLAT_E_USAGE;
	}
	struct plat_new_token nt = {.name = o->name, .role = o->role, .principal = o->principal};
	if (o->expires && !plat_str_to_seconds(o->expires, &nt.expires_in)) {
		plat_error_set(&ctx->err, PLAT_E_USAGE,
			       "option '--expires': '%s' is not a duration (a number and one of s, m, h, d, w, y: 30d)", o->expires);
		return -PLAT_E_USAGE;
	}
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	cJSON *t = NULL;
	if (rc == 0)
		rc = plat_tokens_create(&svc, &nt, &t, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	if (ctx->out.format == PLAT_OUT_TABLE || ctx->out.format == PLAT_OUT_IDS) {
		/* The token alone on standard output, so that TOKEN=$(platctl token create ...) works. */
		const cJSON *tok = cJSON_GetObjectItemCaseSensitive(t, "token");
		char line[128];
		snprintf(line, sizeof(line), "%s\n", cJSON_IsString(tok) ? tok->valuestring : "");
		rc = platctl_write(ctx, line);
		plat_wipe(line, sizeof(line));
		if (rc == 0)
			plat_log(PLAT_LOG_WARN, "the token is shown only this once: store it now", "name", o->name,
				 (const char *)NULL);
	} else {
		rc = platctl_print(ctx, t, NULL);
	}
	cJSON *tok = cJSON_GetObjectItemCaseSensitive(t, "token");
	if (cJSON_IsString(tok))
		plat_wipe(tok->valuestring, strlen(tok->valuestring));
	cJSON_Delete(t);
	return rc;
}

int cmd_token_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct token_opts *o = opts;
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	cJSON *list = NULL;
	if (rc == 0)
		rc = plat_tokens_list(&svc, &list, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	rc = platctl_print(ctx, list, token_columns);
	cJSON_Delete(list);
	return rc;
}

int cmd_token_revoke(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	const struct token_opts *o = opts;
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	cJSON *t = NULL;
	if (rc == 0)
		rc = plat_tokens_revoke(&svc, argv[0], &t, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	rc = platctl_print_object(ctx, t, token_columns);
	cJSON_Delete(t);
	return rc;
}
