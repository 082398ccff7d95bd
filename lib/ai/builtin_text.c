/* Builtin embeddings (feature hashing) and extractive summaries (TextRank). */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ai/builtin.h"
#include "mem/mem.h"

/* ---- words ---- */

struct word {
	const char *s; /* into the lower-cased copy */
	size_t n;
};

static bool word_byte(unsigned char c)
{
	/* Bytes of multi-byte UTF-8 count as letters, so non-English text has words too. */
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Lower-case ASCII copy of text (caller frees) and its words (caller frees). */
static char *words_of(const char *text, size_t len, struct word **words, size_t *n)
{
	char *low = plat_xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		low[i] = (char)((text[i] >= 'A' && text[i] <= 'Z') ? text[i] + 32 : text[i]);
	low[len] = '\0';
	size_t cap = 64;
	*words = plat_xmalloc(cap * sizeof(**words));
	*n = 0;
	for (size_t i = 0; i < len;) {
		if (!word_byte((unsigned char)low[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < len && word_byte((unsigned char)low[j]))
			j++;
		if (*n == cap) {
			cap *= 2;
			*words = plat_xrealloc(*words, cap * sizeof(**words));
		}
		(*words)[(*n)++] = (struct word){low + i, j - i};
		i = j;
	}
	return low;
}

/* ---- embeddings ---- */

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_BASIS 0xcbf29ce484222325ULL

/* Feature counts in an open-addressing table keyed by the feature's hash. */
struct counts {
	uint64_t *keys;
	float *weight;
	uint32_t *tf;
	size_t cap, n;
};

static void count_add(struct counts *c, uint64_t key, float weight)
{
	if ((c->n + 1) * 2 > c->cap) {
		struct counts bigger = {0};
		bigger.cap = c->cap ? c->cap * 2 : 256;
		bigger.keys = plat_xcalloc(bigger.cap, sizeof(uint64_t));
		bigger.weight = plat_xcalloc(bigger.cap, sizeof(float));
		bigger.tf = plat_xcalloc(bigger.cap, sizeof(uint32_t));
		for (size_t i = 0; i < c->cap; i++)
			for (uint32_t k = 0; k < c->tf[i]; k++)
				count_add(&bigger, c->keys[i], c->weight[i]);
		free(c->keys);
		free(c->weight);
		free(c->tf);
		*c = bigger;
	}
	size_t i = key & (c->cap - 1);
	while (c->tf[i] && c->keys[i] != key)
		i = (i + 1) & (c->cap - 1);
	if (!c->tf[i]) {
		c->keys[i] = key;
		c->weight[i] = weight;
		c->n++;
	}
	c->tf[i]++;
}

void plat_ai_builtin_embed(const char *text, size_t len, float *out)
{
	memset(out, 0, PLAT_AI_BUILTIN_DIM * sizeof(float));
	struct word *w;
	size_t n;
	char *low = words_of(text, len, &w, &n);
	struct counts c = {0};
	for (size_t i = 0; i < n; i++) {
		/* Distinct seeds keep unigrams, bigrams and trigrams in separate feature spaces. */
		count_add(&c, fnv1a(FNV_BASIS ^ 1, w[i].s, w[i].n), 1.0f);
		if (i + 1 < n) {
			uint64_t h = fnv1a(FNV_BASIS ^ 2, w[i].s, w[i].n);
			h = fnv1a(h, " ", 1);
			count_add(&c, fnv1a(h, w[i + 1].s, w[i + 1].n), 0.7f);
		}
		/* Character trigrams of "#word#": spelling variants and inflections overlap. */
		char buf[72];
		size_t bl = w[i].n + 2 < sizeof(buf) ? w[i].n + 2 : sizeof(buf);
		buf[0] = '#';
		memcpy(buf + 1, w[i].s, bl - 2);
		buf[bl - 1] = '#';
		for (size_t k = 0; k + 3 <= bl; k++)
			count_add(&c, fnv1a(FNV_BASIS ^ 3, buf + k, 3), 0.3f);
	}
	for (size_t i = 0; i < c.cap; i++) {
		if (!c.tf[i])
			continue;
		uint64_t h = c.keys[i];
		float v = c.weight[i] * (1.0f + logf((float)c.tf[i])); /* sublinear tf */
		out[h % PLAT_AI_BUILTIN_DIM] += (h >> 63) ? -v : v;  /* signed: collisions cancel */
	}
	double norm = 0;
	for (int i = 0; i < PLAT_AI_BUILTIN_DIM; i++)
		norm += (double)out[i] * out[i];
	if (norm > 0) {
		float inv = (float)(1.0 / sqrt(norm));
		for (int i = 0; i < PLAT_AI_BUILTIN_DIM; i++)
			out[i] *= inv;
	}
	free(c.keys);
	free(c.weight);
	free(c.tf);
	free(w);
	free(low);
}

/* ---- summaries ---- */

#define SUMMARY_CANDIDATES 200

struct sentence {
	const char *s;
	size_t n;
	double score;
};

/* Sentences end at . ! ? followed by white space, or at a blank line. */
static struct sentence *split_sentences(const char *text, size_t len, size_t *count)
{
	size_t cap = 32, n = 0;
	struct sentence *out = plat_xmalloc(cap * sizeof(*out));
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		bool end = i == len;
		if (!end && (text[i] == '.' || text[i] == '!' || text[i] == '?') &&
		    (i + 1 == len || text[i + 1] == ' ' || text[i + 1] == '\n' || text[i + 1] == '\t'))
			end = true, i++;
		else if (!end && text[i] == '\n' && i + 1 < len && text[i + 1] == '\n')
			end = true;
		if (!end)
			continue;
		size_t a = start, b = i < len ? i : len;
		while (a < b && (text[a] == ' ' || text[a] == '\n' || text[a] == '\t' || text[a] == '\r' || text[a] == '#'))
			a++;
		while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\n' || text[b - 1] == '\t' || text[b - 1] == '\r'))
			b--;
		if (b > a) {
			if (n == cap) {
				cap *= 2;
				out = plat_xrealloc(out, cap * sizeof(*out));
			}
			out[n++] = (struct sentence){text + a, b - a, 0};
		}
		start = i;
	}
	*count = n;
	return out;
}

/* TextRank similarity: shared words over the log of the sentence lengths. */
static double overlap(const struct word *a, size_t na, const struct word *b, size_t nb)
{
	if (na < 2 || nb < 2)
		return 0;
	size_t shared = 0;
	for (size_t i = 0; i < na; i++) {
		if (a[i].n < 3)
			continue; /* "a", "of", "to": too common to mean anything */
		for (size_t j = 0; j < nb; j++)
			if (a[i].n == b[j].n && memcmp(a[i].s, b[j].s, a[i].n) == 0) {
				shared++;
				break;
			}
	}
	return (double)shared / (log((double)na) + log((double)nb));
}

static int by_score(const void *x, const void *y)
{
	const struct sentence *a = *(struct sentence *const *)x, *b = *(struct sentence *const *)y;
	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	return a->s < b->s ? -1 : a->s > b->s; /* ties: earlier first */
}

static int by_position(const void *x, const void *y)
{
	const struct sentence *a = *(struct sentence *const *)x, *b = *(struct sentence *const *)y;
	return a->s < b->s ? -1 : a->s > b->s;
}

char *plat_ai_builtin_summarize(const char *text, size_t len, int max_sentences)
{
	size_t n;
	struct sentence *s = split_sentences(text, len, &n);
	/* Ranking is quadratic in the sentences: a long document is represented by candidates
	 * spread evenly over it (a 2,000-page PDF has ~10^5 sentences; 10^10 pairs would take
	 * minutes and tens of GB). */
	if (n > SUMMARY_CANDIDATES) {
		for (size_t k = 0; k < SUMMARY_CANDIDATES; k++)
			s[k] = s[k * n / SUMMARY_CANDIDATES];
		n = SUMMARY_CANDIDATES;
	}
	struct word **w = plat_xcalloc(n ? n : 1, sizeof(*w));
	size_t *nw = plat_xcalloc(n ? n : 1, sizeof(*nw));
	char **low = plat_xcalloc(n ? n : 1, sizeof(*low));
	for (size_t i = 0; i < n; i++)
		low[i] = words_of(s[i].s, s[i].n, &w[i], &nw[i]);

	double *sim = plat_xcalloc(n > 0 ? n * n : 1, sizeof(double)), *out_sum = plat_xcalloc(n ? n : 1, sizeof(double));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (i != j) {
				sim[i * n + j] = overlap(w[i], nw[i], w[j], nw[j]);
				out_sum[i] += sim[i * n + j];
			}
	/* PageRank over the similarity graph, damping 0.85. */
	double *score = plat_xcalloc(n ? n : 1, sizeof(double)), *next = plat_xcalloc(n ? n : 1, sizeof(double));
	for (size_t i = 0; i < n; i++)
		score[i] = 1.0;
	for (int iter = 0; iter < 50; iter++) {
		for (size_t i = 0; i < n; i++) {
			double acc = 0;
			for (size_t j = 0; j < n; j++)
				if (out_sum[j] > 0)
					acc += sim[j * n + i] / out_sum[j] * score[j];
			next[i] = 0.15 + 0.85 * acc;
		}
		memcpy(score, next, n * sizeof(double));
	}
	struct sentence **order = plat_xcalloc(n ? n : 1, sizeof(*order));
	for (size_t i = 0; i < n; i++) {
		s[i].score = round(score[i] * 1e9) / 1e9; /* stable across compilers */
		order[i] = &s[i];
	}
	qsort(order, n, sizeof(*order), by_score);
	size_t k = (size_t)(max_sentences > 0 ? max_sentences : 1);
	if (k > n)
		k = n;
	qsort(order, k, sizeof(*order), by_position);

	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_reserve(&b, 0);
	for (size_t i = 0; i < k; i++) {
		if (i)
			plat_buf_putc(&b, ' ');
		/* The sentence as written, with line breaks inside it made spaces. */
		for (size_t c = 0; c < order[i]->n; c++) {
			char ch = order[i]->s[c];
			plat_buf_putc(&b, ch == '\n' || ch == '\r' || ch == '\t' ? ' ' : ch);
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(w[i]);
		free(low[i]);
	}
	free(w);
	free(nw);
	free(low);
	free(sim);
	free(out_sum);
	free(score);
	free(next);
	free(order);
	free(s);
	return plat_buf_detach(&b);
}

/* ---- answers ---- */

struct candidate {
	const char *s;
	size_t n;
	int citation;
	double score;
};

static int by_candidate_score(const void *x, const void *y)
{
	const struct candidate *a = x, *b = y;
	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	return a->s < b->s ? -1 : a->s > b->s;
}

/* Share of the question's longer words that the sentence contains. */
static double shared_words(const struct word *q, size_t nq, const struct word *s, size_t ns)
{
	size_t useful = 0, found = 0;
	for (size_t i = 0; i < nq; i++) {
		if (q[i].n < 4)
			continue; /* "the", "what", "is": no evidence either way */
		useful++;
		for (size_t j = 0; j < ns; j++)
			if (s[j].n >= q[i].n - 1 && !memcmp(q[i].s, s[j].s, q[i].n - 1)) { /* plural/verb ends */
				found++;
				break;
			}
	}
	return useful ? (double)found / (double)useful : 0;
}

char *plat_ai_builtin_answer(const char *question, const struct plat_ai_passage *passages, size_t n, int max_sentences,
			     double *score)
{
	float qv[PLAT_AI_BUILTIN_DIM], sv[PLAT_AI_BUILTIN_DIM];
	plat_ai_builtin_embed(question, strlen(question), qv);
	struct word *qw;
	size_t nqw;
	char *qlow = words_of(question, strlen(question), &qw, &nqw);
	size_t cap = 16, nc = 0;
	struct candidate *c = plat_xmalloc(cap * sizeof(*c));
	for (size_t p = 0; p < n; p++) {
		size_t ns;
		struct sentence *s = split_sentences(passages[p].text, strlen(passages[p].text), &ns);
		for (size_t i = 0; i < ns; i++) {
			plat_ai_builtin_embed(s[i].s, s[i].n, sv);
			double cos = 0;
			for (int k = 0; k < PLAT_AI_BUILTIN_DIM; k++)
				cos += (double)qv[k] * sv[k];
			struct word *sw;
			size_t nsw;
			char *slow = words_of(s[i].s, s[i].n, &sw, &nsw);
			double sc = (cos > 0 ? cos : 0) + 0.5 * shared_words(qw, nqw, sw, nsw);
			free(sw);
			free(slow);
			/* A heading ("SUPPLY AGREEMENT", "Schedule 2 to the Master Services Agreement")
			 * echoes the question's words but answers nothing: short, or no full stop. */
			size_t end = s[i].n;
			while (end > 0 && isspace((unsigned char)s[i].s[end - 1]))
				end--;
			char last = end ? s[i].s[end - 1] : '\0';
			if (nsw < 4 || !(last == '.' || last == '!' || last == '?' || last == ';' || last == ':'))
				continue;
			if (nc == cap) {
				cap *= 2;
				c = plat_xrealloc(c, cap * sizeof(*c));
			}
			c[nc++] = (struct candidate){s[i].s, s[i].n, passages[p].citation, round(sc * 1e9) / 1e9};
		}
		free(s);
	}
	qsort(c, nc, sizeof(*c), by_candidate_score);
	*score = nc ? c[0].score : 0;
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_reserve(&b, 0);
	for (size_t i = 0; i < nc && i < (size_t)(max_sentences > 0 ? max_sentences : 1); i++) {
		if (c[i].score <= 0 || (i > 0 && c[i].score < 0.75 * c[0].score))
			break; /* the best sentence, and only those nearly as good */
		if (b.len)
			plat_buf_putc(&b, ' ');
		for (size_t k = 0; k < c[i].n; k++)
			plat_buf_putc(&b, c[i].s[k] == '\n' ? ' ' : c[i].s[k]);
		plat_buf_printf(&b, " [%d]", c[i].citation);
	}
	free(c);
	free(qw);
	free(qlow);
	return plat_buf_detach(&b);
}
