/* Retrieval and answer quality on a labelled question set: each question's expected
 * documents (and optionally pages and section anchors) against what plat_search ranks,
 * as recall@k and mean reciprocal rank at document, page and section level; how often
 * ask would refuse an answerable question or answer an unanswerable one; and which half
 * of the hybrid search found each first hit. */
#ifndef PLAT_EVAL_H
#define PLAT_EVAL_H

#include "search/search.h"

/* set: {"k"?: N, "questions": [{"question": TEXT, "expect": NAME | [NAME...],
 * "pages"?: N | [N...], "sections"?: ANCHOR | [ANCHOR...]} | {"question": TEXT,
 * "answerable": false}]} (a parsed YAML file; name is used in errors). k > 0 overrides the
 * set's k (default 10); min_support > 0 overrides ask's threshold (ask.min_support).
 * report: {"k", "questions" (answerable ones), "found", "recall_at_k", "mrr",
 *   "page": {"questions", "found", "recall_at_k", "mrr"} (over questions with pages),
 *   "section": {...} (over questions with sections),
 *   "refusals": {"answerable", "false_refusals", "false_refusal_rate", "unanswerable",
 *     "false_answers", "false_answer_rate", "min_support"},
 *   "halves": {"fts_found", "vector_found", "both", "fts_only", "vector_only"},
 *   "results": [{"question", "expect", "pages", "sections", "answerable", "rank",
 *     "page_rank", "section_rank", "fts_rank", "vector_rank", "refused", "support",
 *     "support_parts": {"sentence", "passage"}, "top"}]}. */
int plat_eval(struct plat_svc *svc, const char *name, const cJSON *set, int k, double min_support, cJSON **report,
	      struct plat_error *err);

/* Ranks (1-based; 0: not within the hits) of the first hit from an expected document, of
 * the first on one of pages, of the first with one of sections as its anchor (pages and
 * sections NULL: not asked), and the first hit's ranks in the two halves (0: absent). */
struct plat_eval_ranks {
	int rank, page_rank, section_rank;
	int fts_rank, vector_rank;
};
void plat_eval_rank(const cJSON *hits, const cJSON *expect, const cJSON *pages, const cJSON *sections,
		    struct plat_eval_ranks *out);

#endif
