/* The builtin AI provider: offline, deterministic, no network and no key. It is the
 * default for every role, and the one the privacy gate falls back to.
 *
 *   embeddings      feature hashing of word unigrams and bigrams and character trigrams,
 *                   sublinear tf, signed buckets, L2-normalised, PLAT_AI_BUILTIN_DIM dims
 *   summary         extractive: TextRank over sentence similarity, original sentences in
 *                   document order
 *   answers         extractive: sentences ranked by the weighted question terms they cover
 *   classification  a taxonomy: weighted keywords per class; etc/platctl/classes.yaml is
 *                   compiled in, and a file (ai.taxonomy) can replace it
 *   fields          rules: dates, expiry/renewal dates, money, emails, phones, IBANs
 *                   (mod-97 checked), parties ("between X and Y") */
#ifndef PLAT_AI_BUILTIN_H
#define PLAT_AI_BUILTIN_H

#include <stdbool.h>
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

/* A word of a question as the answer weighs it: the word as written (lower case), its
 * stem (the full-text lexeme; NULL: none known) and its weight (e.g. its IDF; 0 for stop
 * words). */
struct plat_ai_term {
	const char *word;
	const char *stem;
	double weight;
};

/* How well the best sentence supports the question, all in [0, 1]. */
struct plat_ai_support {
	double support;           /* (sentence + passage coverage) / 2 */
	double sentence_coverage; /* weighted share of the terms in the best sentence */
	double context_coverage;  /* ... in it and its neighbours (the answer's order uses it) */
	double passage_coverage;  /* ... in the best single passage */
	double sources_coverage;  /* ... in all the passages together (what a provider is shown) */
	double cosine;            /* builtin embedding similarity of the best sentence */
	int sentences;            /* in the answer */
};

/* Answer from the passages by extraction: the up to max_sentences sentences that best
 * answer the question -- most of the question's weighted terms, in the sentence and its
 * neighbours, then embedding similarity; a number or unit of time when the question asks
 * "how often/many/long" or "when"; headings never -- best first, each followed by
 * its passage's [citation]. The caller frees the result ("" when nothing fits). */
char *plat_ai_builtin_answer_terms(const char *question, const struct plat_ai_passage *passages, size_t n,
				   const struct plat_ai_term *terms, size_t n_terms, int max_sentences,
				   struct plat_ai_support *support);

/* The same with every question word of four letters or more weighing 1; *score is the
 * support (0: none). */
char *plat_ai_builtin_answer(const char *question, const struct plat_ai_passage *passages, size_t n, int max_sentences,
			     double *score);

/* The words of text (each once if distinct) as the builtin provider splits them
 * (lower-cased ASCII, UTF-8 bytes kept), NULL-terminated; free with
 * plat_ai_builtin_words_free. */
char **plat_ai_builtin_words(const char *text, size_t *count, bool distinct);
void plat_ai_builtin_words_free(char **words);

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
