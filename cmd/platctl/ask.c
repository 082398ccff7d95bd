/* platctl ask QUESTION: an answer from the documents with [n] citations, or a refusal
 * (exit 1) when nothing retrieved supports the question. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "documents/documents.h"
#include "platctl.h"
#include "search/ask.h"

#define A(f) offsetof(struct ask_opts, f)

const struct plat_opt ask_opts[] = {
	{'k', "limit", PLAT_OPT_INT, "N", "passages to retrieve (default 8, at most 50)", NULL, 1, 50, 0, A(k)},
	{0, "class", PLAT_OPT_STRING, "CLASS", "only documents of this class", NULL, 0, 0, 0, A(class_name)},
	{0, "tag", PLAT_OPT_STRING, "KEY=VALUE", "only documents with this tag", NULL, 0, 0, 0, A(tag)},
	{0, "since", PLAT_OPT_STRING, "TIME", "only documents created at or after TIME (e.g. 2026-11-01)", NULL, 0, 0, 0, A(since)},
	{0, "doc", PLAT_OPT_STRING, "ID|NAME", "only this document", NULL, 0, 0, PLAT_COMPLETE_DOCUMENT_IDS, A(doc)},
	{0, "stream", PLAT_OPT_BOOL, NULL, "print the answer as it arrives (on a terminal)", NULL, 0, 0, 0, A(stream)},
	{0, "min-support", PLAT_OPT_STRING, "SCORE", "refuse below this support, 0-1 (default: ask.min_support, 0.52)", NULL, 0, 0, 0, A(min_support)},
	{0, "context-tokens", PLAT_OPT_INT, "N", "token budget for the sources (default 3000)", NULL, 100, 100000, 0, A(context_tokens)},
	PLAT_OPT_END,
};

const struct ask_opts ask_defaults = {.k = 8, .context_tokens = 3000};

static int print_token(void *arg, const char *text, size_t len)
{
	(void)arg;
	fwrite(text, 1, len, stdout);
	fflush(stdout);
	return 0;
}

/* The text form: the answer, then where each source it cites sits (page, section). */
static int print_text(struct plat_cli_ctx *ctx, const cJSON *j, bool streamed)
{
	struct plat_buf b = PLAT_BUF_INIT;
	if (!streamed)
		plat_buf_puts(&b, cJSON_GetObjectItem(j, "answer")->valuestring);
	plat_buf_puts(&b, "\n\nSources:\n");
	const cJSON *s;
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(j, "sources"))
	{
		if (!cJSON_IsTrue(cJSON_GetObjectItem(s, "cited")))
			continue;
		char where[512];
		plat_ask_source_location(s, where, sizeof(where));
		plat_buf_printf(&b, "  [%d] %s\n", cJSON_GetObjectItem(s, "n")->valueint, where);
	}
	int rc = platctl_write(ctx, b.data);
	plat_buf_free(&b);
	return rc;
}

int cmd_ask(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	const struct ask_opts *o = opts;
	struct plat_buf question = PLAT_BUF_INIT;
	for (int i = 0; i < argc; i++)
		plat_buf_printf(&question, "%s%s", i ? " " : "", argv[i]);
	struct plat_ask_request req = {
		.query = {.text = question.data, .k = (int)o->k, .class_name = o->class_name, .since = o->since,
			  .document = o->doc},
		.context_tokens = (int)o->context_tokens,
	};
	int rc = platctl_parse_fraction(ctx, "min-support", o->min_support, false, &req.min_support);
	/* Tokens as they arrive only for a person watching a text answer. */
	bool streamed = o->stream && isatty(1) && ctx->out.format == PLAT_OUT_TABLE;
	if (streamed) {
		req.on_token = print_token;
	}
	char *tag_key = NULL;
	if (rc == 0)
		rc = platctl_parse_tag(ctx, o->tag, &tag_key, &req.query.tag_value);
	req.query.tag_key = tag_key;
	struct plat_svc svc;
	struct plat_ask_result res = {0};
	if (rc == 0 && (rc = platctl_call(ctx, &svc)) == 0) {
		rc = plat_ask(&svc, &req, &res, &ctx->err);
		platctl_svc_close(&svc);
	}
	free(tag_key);
	plat_buf_free(&question);
	if (rc < 0)
		return rc;
	if (ctx->out.format != PLAT_OUT_TABLE)
		rc = platctl_print(ctx, res.json, NULL);
	else if (!res.refused)
		rc = print_text(ctx, res.json, streamed);
	if (rc == 0 && res.refused)
		rc = plat_error_set(&ctx->err, PLAT_E_FAILURE,
				    "the documents do not answer this question (best support %.2f, needed %.2f); no answer given",
				    cJSON_GetObjectItem(res.json, "support")->valuedouble,
				    cJSON_GetObjectItem(res.json, "min_support")->valuedouble);
	cJSON_Delete(res.json);
	return rc;
}
