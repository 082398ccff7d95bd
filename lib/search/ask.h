/* Grounded answers: retrieve (plat_search) within a token budget, refuse when nothing
 * retrieved supports the question, otherwise answer with [n] citations that map to the
 * numbered sources — every citation checked against them — and record the exchange in
 * the asks table. */
#ifndef PLAT_ASK_H
#define PLAT_ASK_H

#include <stdbool.h>

#include "search/search.h"

/* Each piece of the answer as it arrives; non-zero stops the stream. */
typedef int (*plat_ask_token_fn)(void *arg, const char *text, size_t len);

struct plat_ask_request {
	struct plat_search_query query; /* .text is the question */
	int context_tokens;             /* budget for the sources; 0: PLAT_ASK_DEFAULT_CONTEXT */
	double min_support;             /* below: refuse; 0: ask.min_support */
	const char *external_allow;     /* ai.external.allow; NULL: the configuration's */
	bool external_allow_pii;
	plat_ask_token_fn on_token;     /* set: stream the answer as it arrives */
	void *token_arg;
};

#define PLAT_ASK_DEFAULT_K 8
#define PLAT_ASK_DEFAULT_CONTEXT 3000
#define PLAT_ASK_BUILTIN_SENTENCES 3
/* The support below which the sources are taken not to answer the question, when neither
 * the request nor ask.min_support says otherwise. Support is the share of the question's
 * words (weighted by IDF over the tenant's passages; stop words, modal verbs and the
 * "often" of "how often" weigh nothing) found in the best retrieved sentence (half), in
 * the best retrieved passage (a quarter) and in all the sources together (a quarter); a
 * word named only as an item of a list ("such as A, B, C, or D") is not found; 0 when
 * the question writes as a name (capitalised, or letters with digits or '_') a word no
 * passage of the tenant holds. At 0.52 (bench/bench_eval.sh; 0.49 to 0.53 meet both 5 %
 * goals on both sets): Python documentation 0 of 58 answerable questions refused and 1 of
 * 55 unanswerable answered, R manuals and DocBook XSL reference 3 of 68 and 0 of 17,
 * tests/data/answers-eval.yaml 1 of 28 and 1 of 23. ask.min_support's default
 * (config_keys.c) is the same number. */
#define PLAT_ASK_MIN_SUPPORT 0.52

struct plat_ask_result {
	cJSON *json; /* id, question, answer, refused, support, min_support, sources[], provider, model,
		      * usage, latency_ms */
	bool refused;
};

/* The operation: retrieval with the embeddings provider, the answer with the chat provider
 * (both the deployment's, from the service context). */
int plat_ask(struct plat_svc *svc, const struct plat_ask_request *req, struct plat_ask_result *out,
	     struct plat_error *err);

/* The decision before any provider is asked, and the builtin provider's answer: what
 * plat_ask does first, without asking a provider or recording anything (plat_eval
 * measures refusals with it). */
struct plat_ask_prepared {
	cJSON *hits;    /* plat_search's results */
	cJSON *sources; /* [{n, document_id, document, page, chunk, score, title, section, anchor,
			 *   location, text}]: the hits that fit the token budget, numbered */
	int n;
	double support, min_support;
	double sentence_coverage, passage_coverage, sources_coverage; /* support: 1/2, 1/4, 1/4 */
	double context_coverage; /* the best sentence's with its neighbours (ranks the answer) */
	char *unknown_name;      /* a name in the question no passage holds (support 0), or NULL */
	bool refused;
	char *answer;   /* the extractive answer with [n] citations ("" when none) */
};
int plat_ask_prepare(struct plat_svc *svc, const struct plat_ask_request *req, struct plat_ask_prepared *out,
		     struct plat_error *err);
void plat_ask_prepared_free(struct plat_ask_prepared *p);

/* Where a source sits, for people: its location ("csv.html#module-contents", "R-data.pdf
 * p. 11") when search gave one, else "DOCUMENT, page P" (or the name alone); then
 * " (SECTION PATH)" when known. */
void plat_ask_source_location(const cJSON *source, char *buf, size_t len);

/* The threshold in force: requested if > 0, else ask.min_support, else the default. */
double plat_ask_min_support(struct plat_svc *svc, double requested);

/* Every [n] in text names a source 1..n_sources, and there is at least one. */
int plat_ask_check_citations(const char *text, int n_sources, struct plat_error *err);

#endif
