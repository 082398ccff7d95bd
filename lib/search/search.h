/* Hybrid retrieval over the chunks of one tenant: PostgreSQL full-text search
 * (websearch_to_tsquery, ranked with ts_rank_cd) and pgvector kNN (HNSW, cosine), each
 * taking its best candidates, fused by reciprocal rank fusion: score = sum 1/(60 + rank).
 * The tenant (and every filter) is a WHERE clause in both halves — results are never
 * filtered after the fact. */
#ifndef PLAT_SEARCH_H
#define PLAT_SEARCH_H

#include <cjson/cJSON.h>

#include "documents/documents.h"

#define PLAT_SEARCH_RRF_K 60
/* A plain question's full-text half skips words in more than this share of passages. */
#define PLAT_SEARCH_COMMON_WORD 0.05
/* ...once the corpus has this many passages; below, every word is ranked. */
#define PLAT_SEARCH_COMMON_MIN_PASSAGES 2000
/* HNSW's search breadth. pgvector's default of 40 found 74% of the exact ten nearest
 * chunks for short questions over the Python documentation; 200 found all of them
 * (bench/bench_eval.sh), for a few milliseconds. */
#define PLAT_SEARCH_EF_SEARCH 200

struct plat_search_query {
	const char *text;
	int k;                 /* results; 0: 10 */
	const char *class_name; /* filters: NULL for none */
	const char *tag_key, *tag_value;
	const char *since;     /* created at or after (timestamptz text) */
	const char *document;  /* a document id, or a name (exact) */
	int candidates;        /* per half; 0: max(40, 4k) */
};

/* Results as a JSON array, best first: rank, score, document_id, document (name), page,
 * chunk (ord), snippet (with «» around matches), text, fts_rank, vector_rank (null when
 * that half did not find it). The operation; the query's vector comes from the
 * deployment's embeddings provider. */
int plat_search(struct plat_svc *svc, const struct plat_search_query *q, cJSON **results, struct plat_error *err);

#endif
