/* Test data for bench_search.sh: chunks of pseudo-text with their builtin embeddings, as
 * the pipeline would store them, written as COPY text rows for
 * chunks (tenant_id, document_id, ord, page, text, embedding, embedding_model), plus
 * queries and query vectors.
 *
 *   gen-chunks chunks TENANT N_DOCS PER_DOC SEED MODEL > chunks.copy  (ids 00000000-...-%012d)
 *   gen-chunks queries N SEED                                         N four-word questions
 *   gen-chunks vector TEXT                                            one vector literal
 *
 * Real text is Zipf-distributed over a large vocabulary, and each document leans towards
 * its own topic; a corpus drawn from a hundred words instead makes every query match most
 * chunks and every vector a near-duplicate, which measures neither index fairly. So words
 * are made from syllables (about 20,000 of them), drawn by Zipf rank, with a quarter of
 * each document's words from its topic's slice of the mid-frequency vocabulary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/builtin.h"

#define N_WORDS 20000
#define N_TOPICS 400
#define TOPIC_WORDS 60

static char vocab[N_WORDS][16];
static double cdf[N_WORDS];

static unsigned long long rng = 88172645463325252ULL;
static unsigned long long next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double uniform(void)
{
	return (double)(next() >> 11) / (double)(1ULL << 53);
}

/* Word i is the base-N spelling of i in consonant-vowel syllables: distinct, pronounceable,
 * and not English, so no stop word or stemmer rule folds two of them together. */
static void make_vocab(void)
{
	static const char *const syl[] = {"ba", "ke", "di", "mo", "fu", "la", "ne", "ri", "so", "tu", "va", "ze",
					  "pi", "go", "hu", "ja", "ko", "mi", "nu", "pe", "ra", "si", "to", "wu"};
	const int ns = (int)(sizeof(syl) / sizeof(syl[0]));
	double sum = 0;
	for (int i = 0; i < N_WORDS; i++) {
		int n = i + ns; /* at least two syllables */
		char w[16] = "";
		while (n > 0) {
			strcat(w, syl[n % ns]);
			n /= ns;
		}
		strcat(w, "x"); /* a consonant ending keeps the english stemmer's hands off */
		snprintf(vocab[i], sizeof(vocab[i]), "%s", w);
		sum += 1.0 / (i + 1);
		cdf[i] = sum;
	}
	for (int i = 0; i < N_WORDS; i++)
		cdf[i] /= sum;
}

static int zipf_rank(void)
{
	double u = uniform();
	int lo = 0, hi = N_WORDS - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Topic t owns TOPIC_WORDS words of rank 300..; those are what people search for. */
static const char *topic_word(int topic)
{
	return vocab[300 + (topic * TOPIC_WORDS + (int)(next() % TOPIC_WORDS)) % (N_WORDS - 300)];
}

static const char *word(int topic)
{
	return next() % 4 == 0 ? topic_word(topic) : vocab[zipf_rank()];
}

static void vector(const char *text, char *out, size_t n)
{
	float v[PLAT_AI_BUILTIN_DIM];
	plat_ai_builtin_embed(text, strlen(text), v);
	size_t o = (size_t)snprintf(out, n, "[");
	for (int i = 0; i < PLAT_AI_BUILTIN_DIM && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%.6g", i ? "," : "", (double)v[i]);
	snprintf(out + o, n - o, "]");
}

static int usage(void)
{
	fprintf(stderr, "usage: gen-chunks chunks TENANT N_DOCS PER_DOC SEED MODEL | queries N SEED | vector TEXT\n");
	return 2;
}

int main(int argc, char **argv)
{
	static char vec[16384];
	if (argc == 3 && !strcmp(argv[1], "vector")) {
		vector(argv[2], vec, sizeof(vec));
		puts(vec);
		return 0;
	}
	make_vocab();
	if (argc == 4 && !strcmp(argv[1], "queries")) {
		rng += strtoull(argv[3], NULL, 10);
		for (int i = 0, n = atoi(argv[2]); i < n; i++) {
			/* Two words of one topic, one less common word, one common one. */
			int topic = (int)(next() % N_TOPICS);
			printf("%s %s %s %s\n", topic_word(topic), topic_word(topic), vocab[100 + next() % 2000],
			       vocab[next() % 100]);
		}
		return 0;
	}
	if (argc != 7 || strcmp(argv[1], "chunks"))
		return usage();
	int docs = atoi(argv[3]), per = atoi(argv[4]);
	rng += strtoull(argv[5], NULL, 10);
	char text[4096];
	for (int d = 0; d < docs; d++) {
		int topic = (int)(next() % N_TOPICS);
		for (int c = 0; c < per; c++) {
			size_t o = 0;
			int n = 80 + (int)(next() % 80);
			for (int w = 0; w < n && o < sizeof(text) - 32; w++)
				o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%s", w ? " " : "", word(topic));
			vector(text, vec, sizeof(vec));
			printf("%s\t00000000-0000-4000-8000-%012d\t%d\t%d\t%s\t%s\t%s\n", argv[2], d, c, c / 2 + 1, text, vec,
			       argv[6]);
		}
	}
	return 0;
}
