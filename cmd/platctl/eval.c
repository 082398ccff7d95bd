/* platctl eval FILE: retrieval quality on a labelled question set (recall@k, MRR at
 * document, page and section level), ask's false refusals and false answers, and which
 * half of the search found the hits, with thresholds that fail the command so CI can
 * guard retrieval. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "documents/documents.h"
#include "output/output.h"
#include "platctl.h"
#include "search/eval.h"

#define E(f) offsetof(struct eval_opts, f)

const struct plat_opt eval_opts[] = {
	{'k', "limit", PLAT_OPT_INT, "N", "results per question to look in (default: the file's k, else 10)", NULL, 1, 200, 0, E(k)},
	{0, "min-recall", PLAT_OPT_STRING, "R", "fail (exit 1) when recall@k is below R (0-1)", NULL, 0, 0, 0, E(min_recall)},
	{0, "min-mrr", PLAT_OPT_STRING, "M", "fail (exit 1) when the mean reciprocal rank is below M (0-1)", NULL, 0, 0, 0, E(min_mrr)},
	{0, "min-support", PLAT_OPT_STRING, "SCORE", "count ask's refusals at this support threshold (default: ask.min_support)", NULL, 0, 0, 0, E(min_support)},
	PLAT_OPT_END,
};

const struct eval_opts eval_defaults = {0};

static int read_set(struct plat_cli_ctx *ctx, const char *path, cJSON **set)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f)
		return plat_error_set(&ctx->err, errno == ENOENT ? PLAT_E_NOT_FOUND : PLAT_E_PERMISSION, "cannot open '%s': %s",
				      path, strerror(errno));
	struct plat_buf b = PLAT_BUF_INIT;
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		plat_buf_append(&b, chunk, n);
		if (b.len > (16u << 20)) {
			rc = plat_error_set(&ctx->err, PLAT_E_INVALID, "'%s' is larger than 16 MiB", path);
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (rc == 0)
		rc = plat_yaml_load(strcmp(path, "-") ? path : "(stdin)", b.data ? b.data : "", b.len, set, &ctx->err);
	plat_buf_free(&b);
	return rc;
}

static double num(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItem(b ? cJSON_GetObjectItem(o, a) : o, b ? b : a);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Under the table: one line per level that has questions, the refusals, the halves. */
static int print_summary(struct plat_cli_ctx *ctx, const cJSON *report)
{
	struct plat_buf b = PLAT_BUF_INIT;
	int k = (int)num(report, "k", NULL);
	if (num(report, "questions", NULL) > 0 || num(report, "refusals", "unanswerable") == 0)
		plat_buf_printf(&b, "\nrecall@%d %.3f (%d of %d), MRR %.3f\n", k, num(report, "recall_at_k", NULL),
				(int)num(report, "found", NULL), (int)num(report, "questions", NULL), num(report, "mrr", NULL));
	static const char *const levels[] = {"page", "section"};
	for (int i = 0; i < 2; i++)
		if (num(report, levels[i], "questions") > 0)
			plat_buf_printf(&b, "%s level: recall@%d %.3f (%d of %d), MRR %.3f\n", levels[i], k,
					num(report, levels[i], "recall_at_k"), (int)num(report, levels[i], "found"),
					(int)num(report, levels[i], "questions"), num(report, levels[i], "mrr"));
	plat_buf_printf(&b,
			"refusals at support %.2f: %d of %d answerable questions refused (%.1f%%), %d of %d unanswerable "
			"answered (%.1f%%)\n",
			num(report, "refusals", "min_support"), (int)num(report, "refusals", "false_refusals"),
			(int)num(report, "refusals", "answerable"), 100 * num(report, "refusals", "false_refusal_rate"),
			(int)num(report, "refusals", "false_answers"), (int)num(report, "refusals", "unanswerable"),
			100 * num(report, "refusals", "false_answer_rate"));
	if (num(report, "found", NULL) > 0)
		plat_buf_printf(&b, "first hits found by: full text %d, vectors %d (both %d, full text only %d, vectors only %d)\n",
				(int)num(report, "halves", "fts_found"), (int)num(report, "halves", "vector_found"),
				(int)num(report, "halves", "both"), (int)num(report, "halves", "fts_only"),
				(int)num(report, "halves", "vector_only"));
	int rc = platctl_write(ctx, b.data);
	plat_buf_free(&b);
	return rc;
}

int cmd_eval(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	const struct eval_opts *o = opts;
	double min_recall = -1, min_mrr = -1, min_support = 0;
	int rc = platctl_parse_fraction(ctx, "min-recall", o->min_recall, true, &min_recall);
	if (rc == 0)
		rc = platctl_parse_fraction(ctx, "min-mrr", o->min_mrr, true, &min_mrr);
	if (rc == 0)
		rc = platctl_parse_fraction(ctx, "min-support", o->min_support, false, &min_support);
	cJSON *set = NULL, *report = NULL;
	if (rc == 0)
		rc = read_set(ctx, argv[0], &set);
	struct plat_svc svc;
	if (rc == 0 && (rc = platctl_call(ctx, &svc)) == 0) {
		rc = plat_eval(&svc, argv[0], set, (int)o->k, min_support > 0 ? min_support : 0, &report, &ctx->err);
		platctl_svc_close(&svc);
	}
	cJSON_Delete(set);
	if (rc < 0)
		return rc;
	double recall = cJSON_GetObjectItem(report, "recall_at_k")->valuedouble;
	double mrr = cJSON_GetObjectItem(report, "mrr")->valuedouble;
	int k = cJSON_GetObjectItem(report, "k")->valueint;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		static const struct plat_output_column cols[] = {
			{"rank", NULL},   {"page_rank", "page"},     {"section_rank", "section"}, {"refused", NULL},
			{"support", NULL}, {"question", NULL},      {"expect", NULL},            {"top", "top result"},
			{NULL, NULL}};
		rc = platctl_print(ctx, cJSON_GetObjectItem(report, "results"), cols);
		if (rc == 0)
			rc = print_summary(ctx, report);
	} else {
		rc = platctl_print(ctx, report, NULL);
	}
	cJSON_Delete(report);
	if (rc == 0 && min_recall >= 0 && recall < min_recall)
		rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "recall@%d %.3f is below --min-recall %s", k, recall, o->min_recall);
	if (rc == 0 && min_mrr >= 0 && mrr < min_mrr)
		rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "MRR %.3f is below --min-mrr %s", mrr, o->min_mrr);
	return rc;
}
