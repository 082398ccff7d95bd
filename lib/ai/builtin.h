/* The builtin AI provider: offline, deterministic, no network and no key. It is the
 * default for every role, and the one the privacy gate falls back to.
 *
 *   embeddings      feature hashing of word unigrams and bigrams and character trigrams,
 *                   sublinear tf, signed buckets, L2-normalised, PLAT_AI_BUILTIN_DIM dims
 *   summary         extractive: TextRank over sentence similarity, original sentences in
 *                   document order
 *   classification  a taxonomy: weighted keywords per class; etc/platctl/classes.yaml is
 *                   compiled in, and a file (ai.taxonomy) can replace it
 *   fields          rules: dates, expiry/renewal dates, money, emails, phones, IBANs
 *                   (mod-97 checked), parties ("between X and Y") */
#ifndef PLAT_AI_BUILTIN_H
#define PLAT_AI_BUILTIN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "error/error.h"

#define PLAT_AI_BUILTIN_DIM 384
#define PLAT_AI_BUILTIN_MODEL "builtin-hash-384-v1"

/* out[PLAT_AI_BUILTIN_DIM], unit length (all zeros for text without words). */
void plat_ai_builtin_embed(const char *text, size_t len, float *out);

/* The best max_sentences sentences, in document order, joined by a space. The caller
 * frees the result. */
char *plat_ai_builtin_summarize(const char *text, size_t len, int max_sentences);

/* {"dates": ["2027-03-31", ...], "expiry_dates": [...], "amounts": [{"value": "1200.50",
 *   "currency": "EUR", "text": "EUR 1,200.50"}], "emails": [...], "phones": [...],
 *   "ibans": [...], "parties": [...]}; values unique; dates in calendar order, the rest
 *   grouped by the rule that found them. */
cJSON *plat_ai_builtin_extract(const char *text, size_t len);

/* A passage an answer may cite as [citation]. */
struct plat_ai_passage {
	const char *text;
	int citation;
};

/* Answer from the passages by extraction: the up to max_sentences sentences that best
 * support the question (embedding similarity plus shared words), best first, each
 * followed by its passage's [citation]. *score is the best sentence's support (0: none).
 * The caller frees the result. */
char *plat_ai_builtin_answer(const char *question, const struct plat_ai_passage *passages, size_t n, int max_sentences,
			     double *score);

struct plat_taxonomy;

/* Load a taxonomy YAML file: classes: {NAME: {keywords: {WORD: WEIGHT, ...}}}. A NULL or
 * empty path loads the builtin taxonomy, so an unset ai.taxonomy needs no file. */
int plat_taxonomy_load(const char *path, struct plat_taxonomy **out, struct plat_error *err);
/* The taxonomy compiled into platctl (etc/platctl/classes.yaml at build time). */
int plat_taxonomy_builtin(struct plat_taxonomy **out, struct plat_error *err);
int plat_taxonomy_load_buffer(const char *name, const char *yaml, size_t len, struct plat_taxonomy **out,
			      struct plat_error *err);
void plat_taxonomy_free(struct plat_taxonomy *t);

/* The best class (or "other" when nothing matches) and a confidence in [0, 1]. */
const char *plat_ai_builtin_classify(const struct plat_taxonomy *t, const char *text, size_t len, double *confidence);

#endif
