/* platctl eval FILE: retrieval quality on a labelled question set (recall@k, MRR), with
 * thresholds that fail the command so CI can guard retrieval. */
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
	PLAT_OPT_END,
};

const struct eval_opts eval_defaults = {0};

static int fraction(struct plat_cli_ctx *ctx, const char *opt, const char *s, double *out)
{
	*out = -1;
	if (!s)
		return 0;
	char *end;
	double v = strtod(s, &end);
	if (*end || end == s || v < 0 || v > 1)
		return plat_error_set(&ctx->err, PLAT_E_USAGE, "option '--%s': '%s' is not a number from 0 to 1", opt, s);
	*out = v;
	return 0;
}

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

int cmd_eval(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	const struct eval_opts *o = opts;
	double min_recall, min_mrr;
	int rc = fraction(ctx, "min-recall", o->min_recall, &min_recall);
	if (rc == 0)
		rc = fraction(ctx, "min-mrr", o->min_mrr, &min_mrr);
	cJSON *set = NULL, *report = NULL;
	if (rc == 0)
		rc = read_set(ctx, argv[0], &set);
	struct plat_svc svc;
	if (rc == 0 && (rc = platctl_call(ctx, &svc)) == 0) {
		rc = plat_eval(&svc, argv[0], set, (int)o->k, &report, &ctx->err);
		platctl_svc_close(&svc);
	}
	cJSON_Delete(set);
	if (rc < 0)
		return rc;
	double recall = cJSON_GetObjectItem(report, "recall_at_k")->valuedouble;
	double mrr = cJSON_GetObjectItem(report, "mrr")->valuedouble;
	int k = cJSON_GetObjectItem(report, "k")->valueint;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		static const struct plat_output_column cols[] = {{"rank", NULL}, {"question", NULL}, {"expect", NULL},
								 {"top", "top result"}, {NULL, NULL}};
		rc = platctl_print(ctx, cJSON_GetObjectItem(report, "results"), cols);
		char line[160];
		snprintf(line, sizeof(line), "\nrecall@%d %.3f (%d of %d), MRR %.3f\n", k, recall,
			 cJSON_GetObjectItem(report, "found")->valueint, cJSON_GetObjectItem(report, "questions")->valueint,
			 mrr);
		if (rc == 0)
			rc = platctl_write(ctx, line);
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
