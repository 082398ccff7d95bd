/* platctl audit list | verify */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "platctl.h"
#include "str/str.h"

#define A(f) offsetof(struct audit_opts, f)

const struct plat_opt audit_list_opts[] = {
	{0, "since", PLAT_OPT_STRING, "TIME", "only rows at or after TIME (RFC 3339, a date, or an age: 90m, 24h, 7d, 2w)", NULL, 0, 0, 0, A(since)},
	{0, "until", PLAT_OPT_STRING, "TIME", "only rows before TIME (as --since)", NULL, 0, 0, 0, A(until)},
	{0, "actor", PLAT_OPT_STRING, "NAME", "only rows of this principal", NULL, 0, 0, 0, A(actor)},
	{0, "action", PLAT_OPT_STRING, "ACTION", "only this action, or actions starting with a prefix ending in '*' (document.*)", NULL, 0, 0, 0, A(action)},
	{0, "object", PLAT_OPT_STRING, "TYPE[/ID]", "only rows about objects of TYPE, or the one object TYPE/ID", NULL, 0, 0, 0, A(object)},
	{0, "limit", PLAT_OPT_INT, "N", "at most N per page (default 50, at most 1000)", NULL, 1, 1000, 0, A(limit)},
	{0, "cursor", PLAT_OPT_STRING, "CURSOR", "the next page after a previous one (its next_cursor)", NULL, 0, 0, 0, A(cursor)},
	PLAT_OPT_END,
};

const struct audit_opts audit_defaults = {.limit = 50};

/* -o ids for numeric ids, which the generic renderer leaves to string ids. */
static int print_ids(struct plat_cli_ctx *ctx, const cJSON *entries)
{
	struct plat_buf b = PLAT_BUF_INIT;
	const cJSON *e;
	cJSON_ArrayForEach(e, entries)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
		if (cJSON_IsNumber(id))
			plat_buf_printf(&b, "%.0f\n", id->valuedouble);
	}
	int rc = b.len ? platctl_write(ctx, b.data) : 0;
	plat_buf_free(&b);
	return rc;
}

/* Tables show an object as TYPE/ID in one column. */
static void add_object_column(cJSON *entries)
{
	cJSON *e;
	cJSON_ArrayForEach(e, entries)
	{
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "object_type");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "object_id");
		struct plat_buf b = PLAT_BUF_INIT;
		if (cJSON_IsString(type))
			plat_buf_puts(&b, type->valuestring);
		if (cJSON_IsString(id))
			plat_buf_printf(&b, "/%s", id->valuestring);
		cJSON_AddStringToObject(e, "object", b.len ? b.data : "-");
		plat_buf_free(&b);
	}
}

int cmd_audit_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct audit_opts *o = opts;
	struct plat_audit_filter f = {.since = o->since, .until = o->until, .actor = o->actor, .action = o->action,
				      .limit = (int)o->limit, .cursor = o->cursor};
	char *type = NULL;
	if (o->object) {
		const char *slash = strchr(o->object, '/');
		type = slash ? plat_arena_strndup(&ctx->arena, o->object, (size_t)(slash - o->object))
			     : plat_arena_strdup(&ctx->arena, o->object);
		f.object_type = type;
		f.object_id = slash ? slash + 1 : NULL;
	}
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *page = NULL;
	if (rc == 0)
		rc = plat_audit_list(&svc, &f, &page, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	cJSON *entries = cJSON_GetObjectItemCaseSensitive(page, "entries");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(page, "next_cursor");
	if (ctx->out.format == PLAT_OUT_IDS) {
		rc = print_ids(ctx, entries);
	} else if (ctx->out.format == PLAT_OUT_TABLE) {
		static const struct plat_output_column cols[] = {{"id", NULL}, {"at", NULL}, {"principal", NULL},
								 {"action", NULL}, {"object", NULL}, {"request_id", NULL},
								 {NULL, NULL}};
		add_object_column(entries);
		rc = platctl_print(ctx, entries, cols);
		if (rc == 0 && cJSON_IsString(next))
			plat_log(PLAT_LOG_WARN, "more audit rows follow", "next_cursor", next->valuestring, (const char *)NULL);
	} else {
		rc = platctl_print(ctx, page, NULL);
	}
	cJSON_Delete(page);
	return rc;
}

static long long number(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

static const char *string(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int cmd_audit_verify(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	(void)argv;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *res = NULL;
	if (rc == 0)
		rc = plat_audit_verify_chain(&svc, &res, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(res, "ok");
	const cJSON *broken = cJSON_GetObjectItemCaseSensitive(res, "first_broken");
	const cJSON *head = cJSON_GetObjectItemCaseSensitive(res, "head");
	long long verified = number(res, "verified");
	if (ctx->out.format != PLAT_OUT_TABLE) {
		rc = platctl_print(ctx, res, NULL);
	} else if (cJSON_IsTrue(ok)) {
		char line[192];
		if (cJSON_IsObject(head))
			snprintf(line, sizeof(line), "ok: %lld audit rows verified, the chain ends at id %lld (hash %s)\n",
				 verified, number(head, "last_id"), string(head, "last_hash") ? string(head, "last_hash") : "-");
		else
			snprintf(line, sizeof(line), "ok: the audit log is empty\n");
		rc = platctl_write(ctx, line);
	}
	if (rc == 0 && !cJSON_IsTrue(ok)) {
		const char *at = string(broken, "at");
		const char *reason = string(broken, "reason");
		rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "audit chain broken at id %lld%s%s%s: %s (%lld rows verified before it)",
				    number(broken, "id"), at ? " (" : "", at ? at : "", at ? ")" : "", reason ? reason : "unknown",
				    verified);
	}
	cJSON_Delete(res);
	return rc;
}
