/* Hybrid retrieval over the chunks of one tenant: a full-text half ranked by Okapi BM25F
 * (the passage's text and its headings -- document title and section path -- as two
 * fields, from per-tenant term statistics kept by the database: migration 0003) and a
 * pgvector kNN half (HNSW, cosine), each taking its best candidates, fused by weighted
 * reciprocal rank fusion: score = w_fts / (60 + fts rank) + w_vec / (60 + vector rank),
 * w_vec set per embedding model (a weak embedder must not drag a strong lexical ranking
 * down). The tenant (and every filter) is a WHERE clause in both halves — results are
 * never filtered after the fact. */
#ifndef PLAT_SEARCH_H
#define PLAT_SEARCH_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "documents/documents.h"

#define PLAT_SEARCH_RRF_K 60
/* A plain question's full-text half skips words in more than this share of passages. */
#define PLAT_SEARCH_COMMON_WORD 0.05
/* ...once the corpus has this many passages; below, every word is ranked. */
#define PLAT_SEARCH_COMMON_MIN_PASSAGES 2000
/* HNSW's search breadth. At pgvector's default of 40 the index found 0.642 of the exact
 * ten nearest chunks (recall@10) on real text; 200 found all of them on the Python
 * documentation (bench/bench_eval.sh: 1.000 for the questions and for held-out chunks),
 * and 100 already costs recall (0.832). It is most of what a search costs over the
 * psql kNN anchor, which runs at 40 (~5,200 buffer hits against ~1,300 over 100k chunks). */
#define PLAT_SEARCH_EF_SEARCH 200

/* BM25: Robertson/Lucene defaults. The heading weight and the vector weights were
 * measured with bench/bench_eval.sh (see the figures there). */
#define PLAT_SEARCH_BM25_K1 1.2
#define PLAT_SEARCH_BM25_B 0.75
#define PLAT_SEARCH_HEADING_WEIGHT 3
#define PLAT_SEARCH_VECTOR_WEIGHTS PLAT_SEARCH_VECTOR_WEIGHTS_DEFAULT

struct plat_search_ranking {
	double k1, b;
	double heading_weight;      /* a heading word counts this many times a text word */
	double fts_weight;          /* the full-text half's weight in the fusion */
	const char *vector_weights; /* "MODEL=W,...,*=W" (search.vector_weight) */
};

struct plat_search_query {
	const char *text;
	int k;                 /* results; 0: 10 */
	const char *class_name; /* filters: NULL for none */
	const char *tag_key, *tag_value;
	const char *since;     /* created at or after (timestamptz text) */
	const char *document;  /* a document id, or a name (exact) */
	int candidates;        /* per half; 0: max(40, 4k) */
	bool explain;          /* add each result's "explain" */
	const struct plat_search_ranking *ranking; /* NULL: the configuration's */
};

/* Results as a JSON array, best first: rank, score, document_id, document (name), page,
 * chunk (ord), title, section (heading path "A > B"), anchor (HTML id), location
 * ("name#anchor", "name, page N" or the name), snippet (with «» around matches), text,
 * fts_rank, vector_rank (null when that half did not find it); with explain also
 * "explain": {fts: {rank, score, tokens, avg_tokens, passages, terms: [{term, passages,
 * idf, tf, heading_tf, score}]} or null, vector: {rank, distance, model} or null,
 * fusion: {k, fts_weight, vector_weight}, match: the tsquery of the full-text half}. The operation; the query's vector comes from the
 * deployment's embeddings provider. */
int plat_search(struct plat_svc *svc, const struct plat_search_query *q, cJSON **results, struct plat_error *err);

void plat_search_ranking_defaults(struct plat_search_ranking *r);
/* One word's share of a passage's BM25F score. */
double plat_search_bm25_term(const struct plat_search_ranking *r, double idf, double tf, double head_tf, double tokens,
			     double avg_tokens);
/* The vector half's weight for an embedding model in a search.vector_weight list. */
double plat_search_vector_weight(const char *spec, const char *model);

#endif
