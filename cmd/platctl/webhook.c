/* platctl webhook add | list | delete | deliveries | redeliver */
#include <stdio.h>
#include <string.h>

#include "platctl.h"
#include "webhooks/webhooks.h"

#define W(f) offsetof(struct webhook_opts, f)

static const char *const status_choices[] = {"pending", "delivering", "delivered", "failed", NULL};

const struct plat_opt webhook_add_opts[] = {
	{0, "events", PLAT_OPT_STRING, "LIST", "comma-separated event types, or '*' for all (required)", NULL, 0, 0, 0, W(events)},
	{0, "description", PLAT_OPT_STRING, "TEXT", "what the webhook is for, shown by list", NULL, 0, 0, 0, W(description)},
	{0, "tenant", PLAT_OPT_STRING, "TENANT", "the tenant (default: the configured tenant)", NULL, 0, 0, 0, W(tenant)},
	PLAT_OPT_END,
};

const struct plat_opt webhook_tenant_opts[] = {
	{0, "tenant", PLAT_OPT_STRING, "TENANT", "the tenant (default: the configured tenant)", NULL, 0, 0, 0, W(tenant)},
	PLAT_OPT_END,
};

const struct plat_opt webhook_deliveries_opts[] = {
	{0, "status", PLAT_OPT_CHOICE, "STATUS", "only deliveries in STATUS: pending, delivering, delivered or failed",
	 status_choices, 0, 0, PLAT_COMPLETE_CHOICES, W(status)},
	{0, "limit", PLAT_OPT_INT, "N", "at most N deliveries, newest first (default 100)", NULL, 1, 1000, 0, W(limit)},
	{0, "tenant", PLAT_OPT_STRING, "TENANT", "the tenant (default: the configured tenant)", NULL, 0, 0, 0, W(tenant)},
	PLAT_OPT_END,
};

static const struct plat_output_column webhook_columns[] = {
	{"id", NULL},	       {"url", NULL},	 {"events", NULL}, {"pending", NULL}, {"failed", NULL},
	{"last_status", "last"}, {"created_at", "created"}, {NULL, NULL}};

static const struct plat_output_column delivery_columns[] = {
	{"id", NULL},	  {"event", NULL},	     {"status", NULL},		    {"attempts", NULL},
	{"last_status", "http"}, {"created_at", "created"}, {"last_error", "error"}, {NULL, NULL}};

int cmd_webhook_add(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	const struct webhook_opts *o = opts;
	if (!o->events) {
		plat_error_set(&ctx->err, PLAT_E_USAGE, "option '--events' is required (a comma-separated list, or '*')");
		return -PLAT_E_USAGE;
	}
	struct plat_new_webhook nw = {.url = argv[0], .events = o->events, .description = o->description};
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	cJSON *w = NULL;
	if (rc == 0)
		rc = plat_webhooks_add(&svc, &nw, &w, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	cJSON *secret = cJSON_GetObjectItemCaseSensitive(w, "secret");
	if (ctx->out.format == PLAT_OUT_TABLE) {
		/* The secret alone on standard output, so that SECRET=$(platctl webhook add ...)
		 * hands it to the receiver's configuration. */
		char line[128];
		snprintf(line, sizeof(line), "%s\n", cJSON_IsString(secret) ? secret->valuestring : "");
		rc = platctl_write(ctx, line);
		plat_wipe(line, sizeof(line));
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(w, "id");
		if (rc == 0)
			plat_log(PLAT_LOG_WARN, "webhook added; its signing secret is shown only this once: store it now", "id",
				 cJSON_IsString(id) ? id->valuestring : "", (const char *)NULL);
	} else if (ctx->out.format == PLAT_OUT_IDS) {
		rc = platctl_print_object(ctx, w, webhook_columns);
	} else {
		rc = platctl_print(ctx, w, NULL);
	}
	if (cJSON_IsString(secret))
		plat_wipe(secret->valuestring, strlen(secret->valuestring));
	cJSON_Delete(w);
	return rc;
}

int cmd_webhook_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct webhook_opts *o = opts;
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	cJSON *list = NULL;
	if (rc == 0)
		rc = plat_webhooks_list(&svc, &list, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	rc = platctl_print(ctx, list, webhook_columns);
	cJSON_Delete(list);
	return rc;
}

int cmd_webhook_delete(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	const struct webhook_opts *o = opts;
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	cJSON *w = NULL;
	if (rc == 0)
		rc = plat_webhooks_delete(&svc, argv[0], &w, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	rc = platctl_print_object(ctx, w, webhook_columns);
	cJSON_Delete(w);
	return rc;
}

int cmd_webhook_deliveries(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	const struct webhook_opts *o = opts;
	struct plat_webhook_delivery_filter f = {.webhook_id = argc > 0 ? argv[0] : NULL,
						 .status = o->status,
						 .limit = (int)o->limit};
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	cJSON *list = NULL;
	if (rc == 0)
		rc = plat_webhooks_deliveries(&svc, &f, &list, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	rc = platctl_print(ctx, list, delivery_columns);
	cJSON_Delete(list);
	return rc;
}

int cmd_webhook_redeliver(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	const struct webhook_opts *o = opts;
	struct plat_svc svc;
	int rc = platctl_call_in(ctx, &svc, o->tenant);
	cJSON *d = NULL;
	if (rc == 0)
		rc = plat_webhooks_redeliver(&svc, argv[0], &d, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	rc = platctl_print_object(ctx, d, delivery_columns);
	cJSON_Delete(d);
	return rc;
}
