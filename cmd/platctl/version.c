/* platctl version: what this binary is and what it was built with. */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "build_info.h"
#include "platctl.h"

const struct plat_opt version_opts[] = {
	{0, "short", PLAT_OPT_BOOL, NULL, "print only the version number", NULL, 0, 0, PLAT_COMPLETE_NONE,
	 offsetof(struct version_opts, short_form)},
	PLAT_OPT_END,
};

int cmd_version(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct version_opts *o = opts;
	cJSON *v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "version", PLATCTL_VERSION);
	if (o->short_form && ctx->out.format == PLAT_OUT_TABLE) {
		fputs(PLATCTL_VERSION "\n", ctx->out.out);
		cJSON_Delete(v);
		return 0;
	}
	cJSON_AddStringToObject(v, "commit", PLATCTL_COMMIT);
	cJSON_AddStringToObject(v, "build_date", PLATCTL_BUILD_DATE);
	cJSON *libs = cJSON_AddObjectToObject(v, "libraries");
	plat_library_versions(libs);

	int rc;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		/* People get one readable block rather than a nested object. */
		cJSON *flat = cJSON_CreateObject();
		cJSON_AddStringToObject(flat, "version", PLATCTL_VERSION);
		cJSON_AddStringToObject(flat, "commit", PLATCTL_COMMIT);
		cJSON_AddStringToObject(flat, "build_date", PLATCTL_BUILD_DATE);
		for (cJSON *l = libs->child; l; l = l->next)
			cJSON_AddStringToObject(flat, l->string, l->valuestring);
		rc = platctl_print(ctx, flat, NULL);
		cJSON_Delete(flat);
	} else {
		rc = platctl_print(ctx, v, NULL);
	}
	cJSON_Delete(v);
	return rc;
}
