/* platctl tenant add | list | show */
#include <stdio.h>

#include "auth/principals.h"
#include "platctl.h"

static const struct plat_output_column tenant_columns[] = {
	{"name", NULL}, {"id", NULL}, {"principals", NULL}, {"documents", NULL}, {"created_at", "created"}, {NULL, NULL}};

static int print_tenants(struct plat_cli_ctx *ctx, cJSON *t, bool one)
{
	int rc;
	if (one && (ctx->out.format == PLAT_OUT_TABLE || ctx->out.format == PLAT_OUT_IDS)) {
		cJSON *list = cJSON_CreateArray();
		cJSON_AddItemReferenceToArray(list, t);
		rc = platctl_print(ctx, list, tenant_columns);
		cJSON_Delete(list);
	} else {
		rc = platctl_print(ctx, t, tenant_columns);
	}
	cJSON_Delete(t);
	return rc;
}

int cmd_tenant_add(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *t = NULL;
	if (rc == 0)
		rc = plat_tenants_add(&svc, argv[0], &t, &ctx->err);
	platctl_svc_close(&svc);
	return rc < 0 ? rc : print_tenants(ctx, t, true);
}

int cmd_tenant_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	(void)argv;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *t = NULL;
	if (rc == 0)
		rc = plat_tenants_list(&svc, &t, &ctx->err);
	platctl_svc_close(&svc);
	return rc < 0 ? rc : print_tenants(ctx, t, false);
}

int cmd_tenant_show(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *t = NULL;
	if (rc == 0)
		rc = plat_tenants_show(&svc, argc > 0 ? argv[0] : NULL, &t, &ctx->err);
	platctl_svc_close(&svc);
	return rc < 0 ? rc : print_tenants(ctx, t, true);
}
