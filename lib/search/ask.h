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
	int context_tokens;             /* budget for the sources; 0: 3000 */
	double min_support;             /* below: refuse; 0: PLAT_ASK_MIN_SUPPORT */
	const char *external_allow;     /* ai.external.allow; NULL: the configuration's */
	bool external_allow_pii;
	plat_ask_token_fn on_token;     /* set: stream the answer as it arrives */
	void *token_arg;
};

/* The builtin support score (embedding similarity + shared words of the best sentence)
 * below which the sources are taken not to answer the question. */
#define PLAT_ASK_MIN_SUPPORT 0.45

struct plat_ask_result {
	cJSON *json; /* id, question, answer, refused, support, sources[], provider, model, usage, latency_ms */
	bool refused;
};

/* The operation: retrieval with the embeddings provider, the answer with the chat provider
 * (both the deployment's, from the service context). */
int plat_ask(struct plat_svc *svc, const struct plat_ask_request *req, struct plat_ask_result *out,
	     struct plat_error *err);

/* Every [n] in text names a source 1..n_sources, and there is at least one. */
int plat_ask_check_citations(const char *text, int n_sources, struct plat_error *err);

#endif
