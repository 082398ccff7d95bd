/* platctl documents list | show | get | rm | retry | hold | release */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "documents/documents.h"
#include "io/io.h"
#include "platctl.h"
#include "str/str.h"

#define D(f) offsetof(struct documents_opts, f)

const struct plat_opt documents_list_opts[] = {
	{0, "status", PLAT_OPT_CHOICE, "STATUS", "only documents in this state", (const char *const[]){"queued", "processing", "processed", "failed", NULL}, 0, 0, PLAT_COMPLETE_CHOICES, D(status)},
	{0, "class", PLAT_OPT_STRING, "CLASS", "only documents of this class", NULL, 0, 0, 0, D(class_name)},
	{0, "tag", PLAT_OPT_STRING, "KEY=VALUE", "only documents with this tag", NULL, 0, 0, 0, D(tag)},
	{0, "since", PLAT_OPT_STRING, "TIME", "only documents created at or after TIME (e.g. 2026-11-01, '1 day ago' is not accepted)", NULL, 0, 0, 0, D(since)},
	{0, "name", PLAT_OPT_STRING, "TEXT", "only documents whose name contains TEXT (any case)", NULL, 0, 0, 0, D(name)},
	{0, "limit", PLAT_OPT_INT, "N", "at most N per page (default 50, at most 1000)", NULL, 1, 1000, 0, D(limit)},
	{0, "cursor", PLAT_OPT_STRING, "CURSOR", "the next page after a previous one (its next_cursor)", NULL, 0, 0, 0, D(cursor)},
	PLAT_OPT_END,
};

const struct plat_opt documents_rm_opts[] = {
	{0, "purge", PLAT_OPT_BOOL, NULL, "also delete the stored object when no other document uses it", NULL, 0, 0, 0, D(purge)},
	PLAT_OPT_END,
};

const struct plat_opt documents_hold_opts[] = {
	{0, "reason", PLAT_OPT_STRING, "TEXT", "why the document is held (required; recorded in the audit log)", NULL, 0, 0, 0, D(reason)},
	PLAT_OPT_END,
};

const struct plat_opt documents_release_opts[] = {
	{0, "reason", PLAT_OPT_STRING, "TEXT", "why the hold ends (recorded in the audit log)", NULL, 0, 0, 0, D(reason)},
	PLAT_OPT_END,
};

const struct documents_opts documents_defaults = {.limit = 50};

int cmd_documents_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct documents_opts *o = opts;
	struct plat_document_filter f = {.status = o->status, .class_name = o->class_name, .since = o->since,
					 .name = o->name, .limit = (int)o->limit, .cursor = o->cursor};
	char *tag_key = NULL;
	if (platctl_parse_tag(ctx, o->tag, &tag_key, &f.tag_value) < 0)
		return -PLAT_E_USAGE;
	f.tag_key = tag_key;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *docs = NULL;
	char *next = NULL;
	if (rc == 0)
		rc = plat_documents_list(&svc, &f, &docs, &next, &ctx->err);
	platctl_svc_close(&svc);
	free(tag_key);
	if (rc < 0)
		return rc;
	if (ctx->out.format == PLAT_OUT_TABLE || ctx->out.format == PLAT_OUT_IDS) {
		static const struct plat_output_column cols[] = {{"id", NULL}, {"name", NULL}, {"status", NULL},
								 {"class", NULL}, {"size", NULL}, {"created_at", "created"},
								 {NULL, NULL}};
		rc = platctl_print(ctx, docs, cols);
		if (rc == 0 && next && ctx->out.format == PLAT_OUT_TABLE)
			plat_log(PLAT_LOG_WARN, "more documents follow", "next_cursor", next, (const char *)NULL);
		cJSON_Delete(docs);
	} else {
		cJSON *page = plat_documents_page(docs, next);
		rc = platctl_print(ctx, page, NULL);
		cJSON_Delete(page);
	}
	free(next);
	return rc;
}

/* A value as one line of text: strings as they are, "-" for null, JSON otherwise. */
static void text_value(struct plat_buf *b, const cJSON *v)
{
	if (!v || cJSON_IsNull(v)) {
		plat_buf_puts(b, "-");
	} else if (cJSON_IsString(v)) {
		plat_str_escape_terminal(b, v->valuestring, strlen(v->valuestring));
	} else if (cJSON_IsBool(v)) {
		plat_buf_puts(b, cJSON_IsTrue(v) ? "yes" : "no");
	} else {
		char *s = cJSON_PrintUnformatted(v);
		plat_str_escape_terminal(b, s, strlen(s));
		cJSON_free(s);
	}
}

static void field(struct plat_buf *b, const char *label, const cJSON *doc, const char *key)
{
	plat_buf_printf(b, "%-13s ", label);
	text_value(b, cJSON_GetObjectItemCaseSensitive(doc, key));
	plat_buf_putc(b, '\n');
}

/* An object's members as "label  key: value" lines under one heading. */
static void members(struct plat_buf *b, const char *label, const cJSON *obj, const char *unit)
{
	const cJSON *m;
	bool first = true;
	cJSON_ArrayForEach(m, obj)
	{
		plat_buf_printf(b, "%-13s ", first ? label : "");
		plat_str_escape_terminal(b, m->string, strlen(m->string));
		plat_buf_puts(b, ": ");
		text_value(b, m);
		plat_buf_printf(b, "%s\n", unit);
		first = false;
	}
	if (first)
		plat_buf_printf(b, "%-13s -\n", label);
}

/* documents show for a person: the fields in the order one reads a document's card, the
 * history as a list. -o json/yaml print the document as it is. */
static int print_document(struct plat_cli_ctx *ctx, const cJSON *doc)
{
	struct plat_buf b = PLAT_BUF_INIT;
	field(&b, "name", doc, "name");
	field(&b, "id", doc, "id");
	field(&b, "status", doc, "status");
	plat_buf_printf(&b, "%-13s ", "class");
	text_value(&b, cJSON_GetObjectItemCaseSensitive(doc, "class"));
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(doc, "class_confidence");
	if (cJSON_IsNumber(conf))
		plat_buf_printf(&b, " (confidence %.2f)", conf->valuedouble);
	plat_buf_putc(&b, '\n');
	field(&b, "title", doc, "title");
	field(&b, "size", doc, "size");
	field(&b, "type", doc, "content_type");
	field(&b, "version", doc, "version");
	plat_buf_printf(&b, "%-13s ", "created");
	text_value(&b, cJSON_GetObjectItemCaseSensitive(doc, "created_at"));
	plat_buf_puts(&b, " by ");
	text_value(&b, cJSON_GetObjectItemCaseSensitive(doc, "created_by"));
	plat_buf_putc(&b, '\n');
	members(&b, "tags", cJSON_GetObjectItemCaseSensitive(doc, "tags"), "");
	field(&b, "summary", doc, "summary");
	members(&b, "fields", cJSON_GetObjectItemCaseSensitive(doc, "fields"), "");
	field(&b, "error", doc, "error");
	field(&b, "attempts", doc, "attempts");
	field(&b, "legal hold", doc, "legal_hold");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "legal_hold"))) {
		field(&b, "hold reason", doc, "hold_reason");
		plat_buf_printf(&b, "%-13s ", "held");
		text_value(&b, cJSON_GetObjectItemCaseSensitive(doc, "held_at"));
		plat_buf_puts(&b, " by ");
		text_value(&b, cJSON_GetObjectItemCaseSensitive(doc, "held_by"));
		plat_buf_putc(&b, '\n');
	}
	field(&b, "deleted", doc, "deleted");
	field(&b, "ai provider", doc, "ai_provider");
	members(&b, "stage timings", cJSON_GetObjectItemCaseSensitive(doc, "stage_timings"), " ms");
	field(&b, "sha256", doc, "sha256");
	field(&b, "storage key", doc, "storage_key");
	plat_buf_puts(&b, "history\n");
	const cJSON *h;
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(doc, "history"))
	{
		plat_buf_puts(&b, "  ");
		text_value(&b, cJSON_GetObjectItemCaseSensitive(h, "at"));
		plat_buf_puts(&b, "  ");
		text_value(&b, cJSON_GetObjectItemCaseSensitive(h, "action"));
		plat_buf_puts(&b, " by ");
		text_value(&b, cJSON_GetObjectItemCaseSensitive(h, "principal"));
		const cJSON *rid = cJSON_GetObjectItemCaseSensitive(h, "request_id");
		if (cJSON_IsString(rid)) {
			plat_buf_puts(&b, " (request ");
			text_value(&b, rid);
			plat_buf_putc(&b, ')');
		}
		plat_buf_putc(&b, '\n');
	}
	int rc = platctl_write(ctx, b.data);
	plat_buf_free(&b);
	return rc;
}

int cmd_documents_show(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *doc = NULL;
	if (rc == 0)
		rc = plat_documents_get(&svc, argv[0], true, &doc, &ctx->err);
	platctl_svc_close(&svc);
	if (rc == 0)
		rc = ctx->out.format == PLAT_OUT_TABLE ? print_document(ctx, doc) : platctl_print(ctx, doc, NULL);
	cJSON_Delete(doc);
	return rc;
}

struct fd_sink {
	int fd;
};

static int fd_write(void *arg, const char *buf, size_t len)
{
	return plat_write_all(((struct fd_sink *)arg)->fd, buf, len);
}

int cmd_documents_get(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	const char *dst = argc > 1 ? argv[1] : "-";
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	/* A file is written under a temporary name and renamed only once the content checked out. */
	char *tmp = NULL;
	struct fd_sink sink = {1};
	if (rc == 0 && strcmp(dst, "-") != 0) {
		tmp = plat_arena_printf(&ctx->arena, "%s.platctl-XXXXXX", dst);
		sink.fd = mkstemp(tmp);
		if (sink.fd < 0)
			rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "cannot create '%s': %s", dst, strerror(errno));
	}
	cJSON *doc = NULL;
	if (rc == 0) {
		rc = plat_documents_read(&svc, argv[0], fd_write, &sink, &doc, &ctx->err);
		if (rc < 0 && !tmp && ctx->err.kind == PLAT_E_FAILURE && strstr(ctx->err.message, "corrupt"))
			plat_error_wrap(&ctx->err, "the data written to standard output is wrong");
	}
	if (tmp && sink.fd >= 0) {
		if (rc == 0 && (fsync(sink.fd) < 0 || rename(tmp, dst) < 0))
			rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "cannot write '%s': %s", dst, strerror(errno));
		if (close(sink.fd) < 0 && rc == 0)
			rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "cannot write '%s': %s", dst, strerror(errno));
		if (rc < 0)
			unlink(tmp);
	}
	cJSON_Delete(doc);
	platctl_svc_close(&svc);
	return rc;
}

int cmd_documents_rm(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	const struct documents_opts *o = opts;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *removed = cJSON_CreateArray();
	for (int i = 0; i < argc && rc == 0; i++) {
		cJSON *r = NULL;
		rc = plat_documents_remove(&svc, argv[i], o->purge, &r, &ctx->err);
		if (rc == 0)
			cJSON_AddItemToArray(removed, r);
	}
	platctl_svc_close(&svc);
	if (rc == 0)
		rc = platctl_print(ctx, removed, NULL);
	cJSON_Delete(removed);
	return rc;
}

int cmd_documents_retry(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *doc = NULL;
	if (rc == 0)
		rc = plat_documents_requeue(&svc, argv[0], &doc, &ctx->err);
	platctl_svc_close(&svc);
	if (rc == 0)
		rc = platctl_print(ctx, doc, NULL);
	cJSON_Delete(doc);
	return rc;
}

static int hold_or_release(struct plat_cli_ctx *ctx, const struct documents_opts *o, const char *id, bool hold)
{
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *doc = NULL;
	if (rc == 0)
		rc = hold ? plat_documents_hold(&svc, id, o->reason, &doc, &ctx->err)
			  : plat_documents_release(&svc, id, o->reason, &doc, &ctx->err);
	platctl_svc_close(&svc);
	if (rc == 0 && (ctx->out.format == PLAT_OUT_TABLE || ctx->out.format == PLAT_OUT_IDS)) {
		static const struct plat_output_column cols[] = {{"id", NULL}, {"name", NULL}, {"legal_hold", "held"},
								 {"hold_reason", "reason"}, {"held_by", "by"},
								 {NULL, NULL}};
		rc = platctl_print(ctx, doc, cols);
	} else if (rc == 0) {
		rc = platctl_print(ctx, doc, NULL);
	}
	cJSON_Delete(doc);
	return rc;
}

int cmd_documents_hold(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	return hold_or_release(ctx, opts, argv[0], true);
}

int cmd_documents_release(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	return hold_or_release(ctx, opts, argv[0], false);
}
