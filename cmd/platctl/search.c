/* platctl search QUERY: hybrid retrieval (BM25F full-text + vectors, fused by weighted
 * reciprocal rank) over the tenant's processed documents, without an LLM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "documents/documents.h"
#include "platctl.h"
#include "search/search.h"

#define S(f) offsetof(struct search_opts, f)

const struct plat_opt search_opts[] = {
	{'k', "limit", PLAT_OPT_INT, "N", "results to show (default 10, at most 200)", NULL, 1, 200, 0, S(k)},
	{0, "class", PLAT_OPT_STRING, "CLASS", "only documents of this class", NULL, 0, 0, 0, S(class_name)},
	{0, "tag", PLAT_OPT_STRING, "KEY=VALUE", "only documents with this tag", NULL, 0, 0, 0, S(tag)},
	{0, "since", PLAT_OPT_STRING, "TIME", "only documents created at or after TIME (e.g. 2026-11-01)", NULL, 0, 0, 0, S(since)},
	{0, "doc", PLAT_OPT_STRING, "ID|NAME", "only this document", NULL, 0, 0, PLAT_COMPLETE_DOCUMENT_IDS, S(doc)},
	{0, "explain", PLAT_OPT_BOOL, NULL, "show how each result was ranked: each half's rank and score, BM25's parts",
	 NULL, 0, 0, 0, S(explain)},
	PLAT_OPT_END,
};

const struct search_opts search_defaults = {.k = 10};

/* For the table: each result's explanation as columns, the BM25 terms as "word share". */
static void flatten_explain(cJSON *results)
{
	cJSON *r;
	cJSON_ArrayForEach(r, results)
	{
		const cJSON *x = cJSON_GetObjectItem(r, "explain");
		const cJSON *fts = cJSON_GetObjectItem(x, "fts"), *vec = cJSON_GetObjectItem(x, "vector");
		const cJSON *score = cJSON_GetObjectItem(fts, "score"), *dist = cJSON_GetObjectItem(vec, "distance");
		cJSON_AddItemToObject(r, "fts_score", cJSON_IsNumber(score) ? cJSON_CreateNumber(score->valuedouble)
									 : cJSON_CreateNull());
		cJSON_AddItemToObject(r, "distance", cJSON_IsNumber(dist) ? cJSON_CreateNumber(dist->valuedouble)
									 : cJSON_CreateNull());
		struct plat_buf terms = PLAT_BUF_INIT;
		const cJSON *t;
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(fts, "terms"))
		{
			const char *term = cJSON_GetStringValue(cJSON_GetObjectItem(t, "term"));
			const cJSON *share = cJSON_GetObjectItem(t, "score");
			if (term && cJSON_IsNumber(share))
				plat_buf_printf(&terms, "%s%s %.2f", terms.len ? ", " : "", term, share->valuedouble);
		}
		cJSON_AddStringToObject(r, "bm25_terms", terms.len ? terms.data : "");
		plat_buf_free(&terms);
	}
}

int cmd_search(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	const struct search_opts *o = opts;
	/* Several words without quotes are one query, as a person would mean them. */
	struct plat_buf text = PLAT_BUF_INIT;
	for (int i = 0; i < argc; i++)
		plat_buf_printf(&text, "%s%s", i ? " " : "", argv[i]);
	struct plat_search_query q = {.text = text.data, .k = (int)o->k, .class_name = o->class_name, .since = o->since,
				      .document = o->doc, .explain = o->explain};
	char *tag_key = NULL;
	int rc = platctl_parse_tag(ctx, o->tag, &tag_key, &q.tag_value);
	q.tag_key = tag_key;
	struct plat_svc svc;
	cJSON *results = NULL;
	if (rc == 0 && (rc = platctl_call(ctx, &svc)) == 0) {
		rc = plat_search(&svc, &q, &results, &ctx->err);
		platctl_svc_close(&svc);
	}
	free(tag_key);
	plat_buf_free(&text);
	if (rc < 0)
		return rc;
	static const struct plat_output_column cols[] = {{"rank", "#"},      {"score", NULL}, {"location", NULL},
							 {"section", NULL},  {"snippet", NULL}, {NULL, NULL}};
	static const struct plat_output_column explain_cols[] = {
		{"rank", "#"},           {"score", NULL},  {"location", NULL},  {"fts_rank", "FTS"}, {"fts_score", "BM25"},
		{"vector_rank", "VEC"}, {"distance", NULL}, {"bm25_terms", "BM25 TERMS"}, {NULL, NULL}};
	bool table = ctx->out.format == PLAT_OUT_TABLE;
	if (o->explain && table)
		flatten_explain(results);
	if (ctx->out.format == PLAT_OUT_IDS) {
		/* ids: the documents found, each once, best first */
		cJSON *ids = cJSON_CreateArray();
		cJSON *r;
		cJSON_ArrayForEach(r, results)
		{
			const char *id = cJSON_GetObjectItem(r, "document_id")->valuestring;
			bool seen = false;
			cJSON *s;
			cJSON_ArrayForEach(s, ids) seen = seen || strcmp(cJSON_GetObjectItem(s, "id")->valuestring, id) == 0;
			if (!seen) {
				cJSON *x = cJSON_CreateObject();
				cJSON_AddStringToObject(x, "id", id);
				cJSON_AddItemToArray(ids, x);
			}
		}
		cJSON_Delete(results);
		results = ids;
	}
	rc = platctl_print(ctx, results, o->explain && table ? explain_cols : cols);
	cJSON_Delete(results);
	return rc;
}
