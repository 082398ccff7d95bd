/* Retrieval quality on a labelled question set: each question's expected documents (and
 * optionally pages) against what plat_search ranks, as recall@k and mean reciprocal rank. */
#ifndef PLAT_EVAL_H
#define PLAT_EVAL_H

#include "search/search.h"

/* set: {"k"?: N, "questions": [{"question": TEXT, "expect": NAME | [NAME...],
 * "pages"?: N | [N...]}]} (a parsed YAML file; name is used in errors). k > 0 overrides
 * the set's k (default 10). report: {"k", "questions", "found", "recall_at_k", "mrr",
 * "results": [{"question", "expect", "pages", "rank" (null: not in the top k), "top"}]}. */
int plat_eval(struct plat_svc *svc, const char *name, const cJSON *set, int k, cJSON **report, struct plat_error *err);

#endif
