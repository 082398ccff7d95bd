/* Builtin embeddings (feature hashing), extractive summaries (TextRank) and extractive
 * answers (sentences ranked by the weighted question terms they cover). */
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

char **plat_ai_builtin_words(const char *text, size_t *count, bool distinct)
{
	struct word *w;
	size_t n;
	char *low = words_of(text, strlen(text), &w, &n);
	char **out = plat_xcalloc(n + 1, sizeof(*out));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; distinct && j < k && !seen; j++)
			seen = strlen(out[j]) == w[i].n && !memcmp(out[j], w[i].s, w[i].n);
		if (!seen) {
			out[k] = plat_xmalloc(w[i].n + 1);
			memcpy(out[k], w[i].s, w[i].n);
			out[k++][w[i].n] = '\0';
		}
	}
	free(w);
	free(low);
	*count = k;
	return out;
}

void plat_ai_builtin_words_free(char **words)
{
	for (char **p = words; p && *p; p++)
		free(*p);
	free(words);
}

/* Does a word of the text stand for the term? Stems are what PostgreSQL's Snowball
 * stemmer makes of the word ("termin" for "terminated"); a word matches when it is the
 * stem with a short ending ("termination", "terminates"), or ends in y where the stem
 * has i ("copi" for "copy"). The shorter the stem, the shorter the ending: "fi" (of
 * "Wi-Fi") is no prefix of "fill". */
static bool term_matches(const struct plat_ai_term *t, const struct word *w)
{
	size_t tn = strlen(t->word);
	if (w->n == tn && !memcmp(w->s, t->word, tn))
		return true;
	const char *stem = t->stem && *t->stem ? t->stem : NULL;
	if (!stem) /* no stemmer's view: the word less its last letter (plurals, verb ends) */
		return tn >= 4 && w->n >= tn - 1 && w->n <= tn + 3 && !memcmp(w->s, t->word, tn - 1);
	size_t sn = strlen(stem), ending = sn <= 3 ? 1 : sn == 4 ? 3 : 5;
	if (w->n >= sn && w->n <= sn + ending && !memcmp(w->s, stem, sn))
		return sn > 3 || w->n == sn || w->s[sn] == 's';
	return sn >= 4 && stem[sn - 1] == 'i' && w->n >= sn && w->n <= sn + 2 && !memcmp(w->s, stem, sn - 1) &&
	       w->s[sn - 1] == 'y';
}

/* Length of the typographic mark (quotes, dashes, ellipsis, no-break space) that starts
 * s, 0 if none. words_of counts multi-byte UTF-8 as letters, so "‘long’" (TeX's quotes,
 * in two of five PDF and HTML chunks here) would be one word that is not "long". Only
 * matching splits at them: the embeddings' features stay what the stored vectors have. */
static size_t mark_at(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	if (n >= 2 && u[0] == 0xc2 && (u[1] == 0xa0 || u[1] == 0xab || u[1] == 0xbb))
		return 2;
	if (n >= 3 && u[0] == 0xe2 && u[1] == 0x80 &&
	    ((u[2] >= 0x90 && u[2] <= 0x9f) || u[2] == 0xa6 || u[2] == 0xb9 || u[2] == 0xba))
		return 3;
	return 0;
}

/* Does the word, or a piece of it between marks ("user’s", "form—of"), stand for the term? */
static bool word_matches(const struct plat_ai_term *t, const struct word *w)
{
	size_t a = 0;
	for (size_t i = 0; i <= w->n;) {
		size_t k = i < w->n ? mark_at(w->s + i, w->n - i) : 1;
		if (!k) {
			i++;
			continue;
		}
		struct word piece = {w->s + a, i - a};
		if (piece.n && term_matches(t, &piece))
			return true;
		i += k;
		a = i;
	}
	return false;
}

/* Weighted share of the terms that the words contain, leaving out the words marked in
 * skip (may be NULL); matched[] marks the terms found. */
static double coverage(const struct plat_ai_term *terms, size_t nt, double total, const struct word *w, size_t nw,
		       const bool *skip, bool *matched)
{
	double got = 0;
	for (size_t t = 0; t < nt; t++) {
		bool m = false;
		for (size_t i = 0; i < nw && !m; i++)
			m = !(skip && skip[i]) && word_matches(&terms[t], &w[i]);
		if (matched)
			matched[t] = m;
		got += m ? terms[t].weight : 0;
	}
	return total > 0 ? got / total : 0;
}

struct candidate {
	const char *s;
	size_t n;
	int citation;
	size_t passage;
	double rank_score; /* how well it answers: the order of the answer's sentences */
	double sentence, context, cosine;
};

static int by_candidate_score(const void *x, const void *y)
{
	const struct candidate *a = x, *b = y;
	if (a->rank_score != b->rank_score)
		return a->rank_score < b->rank_score ? 1 : -1;
	return a->s < b->s ? -1 : a->s > b->s;
}

/* Headings ("SUPPLY AGREEMENT", "Schedule 2 to the Master Services Agreement") echo the
 * question's words but answer nothing: too short, or no closing punctuation. */
static bool is_statement(const struct sentence *s, size_t nwords)
{
	size_t end = s->n;
	while (end > 0 && isspace((unsigned char)s->s[end - 1]))
		end--;
	char last = end ? s->s[end - 1] : '\0';
	return nwords >= 4 && (last == '.' || last == '!' || last == '?' || last == ';' || last == ':');
}

static bool word_is(const struct word *w, const char *s)
{
	return w->n == strlen(s) && !memcmp(w->s, s, w->n);
}

/* Does the question ask for an amount, a duration, a frequency or a time ("how often",
 * "how many", "when")? Then a sentence with a number or a unit of time answers it better
 * than one that only shares its words. */
static bool wants_measure(const struct word *q, size_t n)
{
	static const char *const after_how[] = {"often", "long", "soon", "much", "many", "far", "old", "big", "large",
						"frequently", NULL};
	for (size_t i = 0; i < n; i++) {
		if (word_is(&q[i], "when"))
			return true;
		for (const char *const *a = after_how; *a && i + 1 < n; a++)
			if (word_is(&q[i], "how") && word_is(&q[i + 1], *a))
				return true;
	}
	return false;
}

static bool has_measure(const struct word *w, size_t n)
{
	static const char *const cues[] = {
		"one",    "two",     "three",   "four",     "five",   "six",     "seven",   "eight",   "nine",     "ten",
		"eleven", "twelve",  "fifteen", "twenty",   "thirty", "forty",   "fifty",   "sixty",   "ninety",   "hundred",
		"thousand", "once",  "twice",   "every",    "daily",  "weekly",  "monthly", "yearly",  "annually", "second",
		"seconds", "minute", "minutes", "hour",     "hours",  "day",     "days",    "week",    "weeks",    "month",
		"months", "year",    "years",   "quarter",  "quarterly", "per",  "january", "february", "march",  "april",
		"may",    "june",    "july",    "august",   "september", "october", "november", "december", "monday",
		"tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "spring", "summer", "autumn",
		"winter", "morning", "evening", "night", NULL};
	for (size_t i = 0; i < n; i++) {
		if (w[i].s[0] >= '0' && w[i].s[0] <= '9')
			return true;
		for (const char *const *c = cues; *c; c++)
			if (word_is(&w[i], *c))
				return true;
	}
	return false;
}

static bool is_conjunction(const struct word *w)
{
	return word_is(w, "and") || word_is(w, "or");
}

/* Marks in listed[] the words of sentence low (lower-cased, len bytes; w[] its nw words)
 * that are items of an enumeration: three or more short items (four words at most) in a
 * row, separated by commas, an "and"/"or" joining the last ("such as Buildbot, Jenkins,
 * GitHub Actions, or AppVeyor"; "in C, Java or JavaScript"). A sentence that names
 * something as one of a list mentions it as an instance of what the list is about, and
 * says nothing of how it works: "How do I set up GitHub Actions?" is not answered by it,
 * while the list's subject ("a continuous integration system such as") still counts.
 * The first item is where the sentence runs into the list; it is taken as long as the
 * shortest of the others, so as not to take the subject for an item. Parentheses are
 * asides: their commas separate nothing. */
static void mark_listed(const char *low, size_t len, const struct word *w, size_t nw, bool *listed)
{
	memset(listed, 0, nw * sizeof(*listed));
	if (nw < 3)
		return;
	size_t *seg = plat_xcalloc(nw, sizeof(*seg));
	bool *aside = plat_xcalloc(nw, sizeof(*aside));
	size_t wi = 0, segs = 0;
	int depth = 0;
	for (size_t i = 0; i < len && wi < nw; i++) {
		while (wi < nw && (size_t)(w[wi].s - low) == i) {
			seg[wi] = segs;
			aside[wi++] = depth > 0;
		}
		if (low[i] == '(')
			depth++;
		else if (low[i] == ')' && depth > 0)
			depth--;
		else if (low[i] == ',' && depth == 0)
			segs++;
	}
	for (; wi < nw; wi++)
		seg[wi] = segs, aside[wi] = depth > 0;
	/* The run of items: words [from, to), the count of items, the shortest item after
	 * the first, and whether the run starts in the first segment (ending at head_end). */
	size_t from = nw, to = 0, items = 0, shortest = 4, head_end = 0, first = 0;
	bool head = false;
	for (size_t g = 0; g <= segs; g++) {
		size_t end = first, k = 0, before = 0, after = 0;
		bool conj = false;
		for (; end < nw && seg[end] == g; end++) {
			if (aside[end])
				continue;
			if (!conj && k > 0 && is_conjunction(&w[end]))
				conj = true;
			else if (conj)
				after++;
			else
				before++;
			k++;
		}
		bool close = false;
		if (g == 0) {
			if (k > 0)
				from = first, to = end, items = 1, head = true, head_end = end;
		} else if (k >= 1 && k <= 4) {
			if (from == nw)
				from = first;
			to = end;
			items += conj ? 2 : 1;
			if (before && before < shortest)
				shortest = before;
			if (conj && after && after < shortest)
				shortest = after;
		} else {
			/* A long last segment: its item is the conjunction and three words at most. */
			size_t at = first;
			while (at < end && aside[at])
				at++;
			if (at < end && is_conjunction(&w[at]) && from < nw) {
				size_t stop = at + 1, seen = 0;
				while (stop < end && seen < 3)
					seen += !aside[stop++];
				to = stop;
				items++;
				if (seen && seen < shortest)
					shortest = seen;
			}
			close = true;
		}
		if (close || g == segs) {
			if (items >= 3) {
				size_t a = from;
				if (head) /* the head's item: its last words, as many as the shortest item */
					for (size_t seen = 0, b = head_end; b > from && seen < shortest;)
						seen += !aside[--b], a = b;
				for (size_t i = a; i < to; i++)
					listed[i] = true;
			}
			from = nw, to = 0, items = 0, shortest = 4, head = false;
		}
		first = end;
	}
	free(seg);
	free(aside);
}

char *plat_ai_builtin_answer_terms(const char *question, const struct plat_ai_passage *passages, size_t n,
				   const struct plat_ai_term *terms, size_t n_terms, int max_sentences,
				   struct plat_ai_support *out)
{
	memset(out, 0, sizeof(*out));
	float qv[PLAT_AI_BUILTIN_DIM], sv[PLAT_AI_BUILTIN_DIM];
	plat_ai_builtin_embed(question, strlen(question), qv);
	double total = 0;
	for (size_t t = 0; t < n_terms; t++)
		total += terms[t].weight > 0 ? terms[t].weight : 0;
	struct word *qw;
	size_t nqw;
	char *qlow = words_of(question, strlen(question), &qw, &nqw);
	bool measure = wants_measure(qw, nqw);
	free(qw);
	free(qlow);
	size_t cap = 16, nc = 0;
	struct candidate *c = plat_xmalloc(cap * sizeof(*c));
	bool *in_passage = plat_xcalloc(n_terms + 1, sizeof(bool)), *in_any = plat_xcalloc(n_terms + 1, sizeof(bool));
	for (size_t p = 0; p < n; p++) {
		size_t len = strlen(passages[p].text), ns;
		struct sentence *s = split_sentences(passages[p].text, len, &ns);
		/* Each sentence with its neighbours: an answer often takes two sentences ("X is
		 * deprecated. Use Y instead."), and the words of the question then spread over both. */
		struct word **sw = plat_xcalloc(ns + 1, sizeof(*sw));
		size_t *nsw = plat_xcalloc(ns + 1, sizeof(*nsw));
		char **slow = plat_xcalloc(ns + 1, sizeof(*slow));
		double *cov = plat_xcalloc(ns + 1, sizeof(double));
		bool **hit = plat_xcalloc(ns + 1, sizeof(*hit));
		/* The passage covers what its sentences do: every word is in one, and a word
		 * named only as an item of a list counts nowhere. */
		memset(in_passage, 0, (n_terms + 1) * sizeof(bool));
		for (size_t i = 0; i < ns; i++) {
			slow[i] = words_of(s[i].s, s[i].n, &sw[i], &nsw[i]);
			hit[i] = plat_xcalloc(n_terms + 1, sizeof(bool));
			bool *listed = plat_xcalloc(nsw[i] + 1, sizeof(bool));
			mark_listed(slow[i], s[i].n, sw[i], nsw[i], listed);
			cov[i] = coverage(terms, n_terms, total, sw[i], nsw[i], listed, hit[i]);
			free(listed);
			for (size_t t = 0; t < n_terms; t++)
				in_passage[t] |= hit[i][t];
		}
		double passage_cov = 0;
		for (size_t t = 0; t < n_terms; t++) {
			in_any[t] |= in_passage[t];
			passage_cov += in_passage[t] && terms[t].weight > 0 ? terms[t].weight : 0;
		}
		passage_cov = total > 0 ? passage_cov / total : 0;
		if (passage_cov > out->passage_coverage)
			out->passage_coverage = passage_cov;
		for (size_t i = 0; i < ns; i++) {
			if (!is_statement(&s[i], nsw[i]))
				continue;
			double ctx = 0;
			for (size_t t = 0; t < n_terms; t++)
				if (hit[i][t] || (i > 0 && hit[i - 1][t]) || (i + 1 < ns && hit[i + 1][t]))
					ctx += terms[t].weight > 0 ? terms[t].weight : 0;
			ctx = total > 0 ? ctx / total : 0;
			plat_ai_builtin_embed(s[i].s, s[i].n, sv);
			double cos = 0;
			for (int k = 0; k < PLAT_AI_BUILTIN_DIM; k++)
				cos += (double)qv[k] * sv[k];
			if (cos < 0)
				cos = 0;
			/* Long sentences cover more words by being long; past 40 words that is no
			 * merit of the answer. */
			double len_penalty = nsw[i] > 40 ? 40.0 / (double)nsw[i] : 1.0;
			double rank = (cov[i] * len_penalty + 0.3 * ctx + 0.3 * cos) / 1.6;
			if (measure && cov[i] > 0 && has_measure(sw[i], nsw[i]))
				rank += 0.1;
			if (nc == cap) {
				cap *= 2;
				c = plat_xrealloc(c, cap * sizeof(*c));
			}
			c[nc++] = (struct candidate){s[i].s, s[i].n, passages[p].citation, p, round(rank * 1e9) / 1e9,
						     cov[i], ctx, cos};
		}
		for (size_t i = 0; i < ns; i++) {
			free(sw[i]);
			free(slow[i]);
			free(hit[i]);
		}
		free(sw);
		free(nsw);
		free(slow);
		free(cov);
		free(hit);
		free(s);
	}
	/* Support: the best sentence's coverage and the best passage's, equally. Either alone
	 * misjudges: a passage holds the question's words scattered over unrelated sentences,
	 * and an answer's sentence may leave its subject to the one before. */
	for (size_t i = 0; i < nc; i++)
		if (c[i].sentence > out->sentence_coverage) {
			out->sentence_coverage = c[i].sentence;
			out->context_coverage = c[i].context;
			out->cosine = c[i].cosine;
		}
	out->support = round((0.5 * out->sentence_coverage + 0.5 * out->passage_coverage) * 1e9) / 1e9;
	for (size_t t = 0; t < n_terms; t++)
		out->sources_coverage += in_any[t] && terms[t].weight > 0 ? terms[t].weight : 0;
	out->sources_coverage = total > 0 ? round(out->sources_coverage / total * 1e9) / 1e9 : 0;
	free(in_passage);
	free(in_any);
	qsort(c, nc, sizeof(*c), by_candidate_score);
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_reserve(&b, 0);
	size_t want = (size_t)(max_sentences > 0 ? max_sentences : 1);
	for (size_t i = 0; i < nc && (size_t)out->sentences < want; i++) {
		if (c[i].rank_score <= 0 || (i > 0 && c[i].rank_score < 0.75 * c[0].rank_score))
			break; /* the best sentence, and only those nearly as good */
		if (b.len)
			plat_buf_putc(&b, ' ');
		for (size_t k = 0; k < c[i].n; k++)
			plat_buf_putc(&b, c[i].s[k] == '\n' ? ' ' : c[i].s[k]);
		plat_buf_printf(&b, " [%d]", c[i].citation);
		out->sentences++;
	}
	free(c);
	return plat_buf_detach(&b);
}

char *plat_ai_builtin_answer(const char *question, const struct plat_ai_passage *passages, size_t n, int max_sentences,
			     double *score)
{
	/* Without term statistics every word of four letters or more weighs the same. */
	size_t nw;
	char **words = plat_ai_builtin_words(question, &nw, true);
	struct plat_ai_term *terms = plat_xcalloc(nw + 1, sizeof(*terms));
	size_t nt = 0;
	for (size_t i = 0; i < nw; i++)
		if (strlen(words[i]) >= 4)
			terms[nt++] = (struct plat_ai_term){words[i], NULL, 1.0};
	struct plat_ai_support sup;
	char *a = plat_ai_builtin_answer_terms(question, passages, n, terms, nt, max_sentences, &sup);
	*score = sup.support;
	free(terms);
	plat_ai_builtin_words_free(words);
	return a;
}
