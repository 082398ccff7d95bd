/* What ask decides before any provider is asked, from what plat_search retrieved: the
 * sources within the token budget, the question's words weighted by their rarity in the
 * tenant's passages, and how well the best retrieved sentence covers them (the support).
 * plat_ask and plat_eval both go through plat_ask_prepare, so eval measures the very
 * refusals ask makes. */
#include "search/ask.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"
#include "ai/builtin.h"
#include "mem/mem.h"

/* Each word's stem as the full-text search sees it (Snowball's English stemmer, which
 * gives stop words none) and how many of the tenant's passages hold it: the term
 * statistics search ranks with (term_stats, passage_stats; migration 0003), one lookup a
 * word instead of a count over the corpus. */
static const char terms_sql[] =
	"WITH n AS (SELECT coalesce((SELECT passages FROM passage_stats WHERE tenant_id = $1), 0) AS n),"
	" w AS (SELECT u.i, (ts_lexize('english_stem', u.w))[1] AS stem FROM unnest($2::text[]) WITH ORDINALITY u(w, i))"
	" SELECT w.stem, CASE WHEN w.stem IS NULL THEN 0 ELSE coalesce(t.passages, 0) END, n.n"
	" FROM w LEFT JOIN term_stats t ON t.tenant_id = $1 AND t.lexeme = w.stem CROSS JOIN n ORDER BY w.i";

struct terms {
	char **words;
	char **stems;
	struct plat_ai_term *t;
	size_t n;
	const char *unknown_name; /* into words: a name no passage holds, or NULL */
};

static void terms_free(struct terms *t)
{
	for (size_t i = 0; t->stems && i < t->n; i++)
		free(t->stems[i]);
	free(t->stems);
	free(t->t);
	plat_ai_builtin_words_free(t->words);
}

/* Words that carry no topic. "How often", "how long", "how much": the word asks what
 * kind of answer is wanted (a frequency, a duration, an amount), not what it is about,
 * and documents seldom use it where they answer ("Descale the kettle once a month"). */
static bool asks_for_kind(const char *question, const char *word)
{
	/* Snowball's stop words lack some modal verbs, which questions are full of ("How long
	 * must passwords be?") and which weigh much in a corpus that seldom uses them. */
	static const char *const modals[] = {"must", "may", "might", "would", "could", "shall", "ought", "please", NULL};
	for (const char *const *m = modals; *m; m++)
		if (!strcmp(word, *m))
			return true;
	static const char *const kinds[] = {"often", "long", "much", "many", "soon", "far", "old", "big", "large",
					    "frequently", NULL};
	bool kind = false;
	for (const char *const *k = kinds; *k && !kind; k++)
		kind = !strcmp(word, *k);
	if (!kind)
		return false;
	size_t n;
	char **all = plat_ai_builtin_words(question, &n, false);
	bool after_how = false;
	for (size_t i = 1; i < n && !after_how; i++)
		after_how = !strcmp(all[i], word) && !strcmp(all[i - 1], "how");
	plat_ai_builtin_words_free(all);
	return after_how;
}

static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Does the question write word (lower case, as plat_ai_builtin_words gives it) as a name:
 * capitalised other than as its first word ("Kafka", "PostgreSQL"), or letters with digits
 * or underscores ("psycopg2", "pivot_longer")? A name the tenant's documents never use
 * says the question is about something else, where an ordinary word they happen not to
 * use ("rid" in "get rid of whitefly", in a small collection) says nothing. */
static bool written_as_name(const char *question, const char *word)
{
	size_t wn = strlen(word);
	bool first = true;
	for (const char *p = question; *p;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		const char *e = p;
		while (*e && !isspace((unsigned char)*e))
			e++;
		bool upper = false, digit = false, letter = false, underscore = false, has = false;
		for (const char *c = p; c < e;) {
			unsigned char ch = (unsigned char)*c;
			if (ch == '_')
				underscore = true;
			if (!word_byte((unsigned char)tolower(ch))) {
				c++;
				continue;
			}
			const char *w = c;
			for (; c < e && word_byte((unsigned char)tolower((unsigned char)*c)); c++) {
				upper |= isupper((unsigned char)*c) && !(first && c == p);
				digit |= isdigit((unsigned char)*c);
				letter |= isalpha((unsigned char)*c) || (unsigned char)*c >= 0x80;
			}
			has |= (size_t)(c - w) == wn && !strncasecmp(w, word, wn);
		}
		if (has && (upper || (digit && letter) || underscore))
			return true;
		first = false;
		p = e;
	}
	return false;
}

/* The question's words with Okapi BM25's IDF (Lucene's non-negative form) as weights, so
 * that covering "csv" counts for far more than covering "file": an answer has to contain
 * what is particular to the question. A word no passage holds weighs the most -- a
 * question about something the documents never mention is not answered by them. */
static int weigh_terms(struct plat_svc *svc, const char *question, struct terms *out, struct plat_error *err)
{
	memset(out, 0, sizeof(*out));
	out->words = plat_ai_builtin_words(question, &out->n, true);
	out->stems = plat_xcalloc(out->n + 1, sizeof(char *));
	out->t = plat_xcalloc(out->n + 1, sizeof(*out->t));
	struct plat_buf arr = PLAT_BUF_INIT;
	plat_buf_putc(&arr, '{');
	for (size_t i = 0; i < out->n; i++) {
		plat_buf_puts(&arr, i ? ",\"" : "\"");
		for (const char *c = out->words[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				plat_buf_putc(&arr, '\\');
			plat_buf_putc(&arr, *c);
		}
		plat_buf_putc(&arr, '"');
	}
	plat_buf_putc(&arr, '}');
	const char *params[] = {svc->tenant_id, arr.data};
	PGresult *r = NULL;
	int rc = plat_db_exec(svc->db, terms_sql, 2, params, &r, err);
	plat_buf_free(&arr);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < out->n && (int)i < PQntuples(r); i++) {
		double df = atof(PQgetvalue(r, (int)i, 1)), n = atof(PQgetvalue(r, (int)i, 2));
		bool stop = PQgetisnull(r, (int)i, 0) || asks_for_kind(question, out->words[i]);
		out->stems[i] = PQgetisnull(r, (int)i, 0) ? NULL : plat_xstrdup(PQgetvalue(r, (int)i, 0));
		double idf = log(1 + (n - df + 0.5) / (df + 0.5));
		out->t[i] = (struct plat_ai_term){out->words[i], out->stems[i], stop || idf < 0 ? 0 : idf};
		if (!stop && df == 0 && !out->unknown_name && written_as_name(question, out->words[i]))
			out->unknown_name = out->words[i];
	}
	PQclear(r);
	return 0;
}

static int approx_tokens(const char *s)
{
	int words = 0;
	bool in = false;
	for (; *s; s++) {
		bool sp = isspace((unsigned char)*s);
		words += !sp && !in;
		in = !sp;
	}
	return words + words / 3; /* ~1.3 tokens per word */
}

/* A field of a search result as it is, or null: results from before sections existed
 * have no title, section, anchor or location. */
static cJSON *field_or_null(const cJSON *hit, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(hit, name);
	return v && (cJSON_IsString(v) || cJSON_IsNumber(v)) ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

static const char *str_field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);
	return cJSON_IsString(v) ? v->valuestring : "";
}

double plat_ask_min_support(struct plat_svc *svc, double requested)
{
	if (requested > 0)
		return requested;
	if (svc->cfg) {
		char *end;
		const char *v = plat_config_str(svc->cfg, PLAT_CFG_ASK_MIN_SUPPORT);
		double d = strtod(v, &end);
		if (*v && !*end && d > 0)
			return d;
	}
	return PLAT_ASK_MIN_SUPPORT;
}

int plat_ask_prepare(struct plat_svc *svc, const struct plat_ask_request *req, struct plat_ask_prepared *out,
		     struct plat_error *err)
{
	memset(out, 0, sizeof(*out));
	struct plat_search_query q = req->query;
	if (q.k <= 0)
		q.k = PLAT_ASK_DEFAULT_K;
	int rc = plat_search(svc, &q, &out->hits, err);
	if (rc < 0)
		return rc;
	out->min_support = plat_ask_min_support(svc, req->min_support);

	/* Sources, best first, while they fit the budget (the first always does). */
	int budget = req->context_tokens > 0 ? req->context_tokens : PLAT_ASK_DEFAULT_CONTEXT, used = 0;
	out->sources = cJSON_CreateArray();
	struct plat_ai_passage *passages = plat_xcalloc((size_t)cJSON_GetArraySize(out->hits) + 1, sizeof(*passages));
	const cJSON *h;
	cJSON_ArrayForEach(h, out->hits)
	{
		const char *text = str_field(h, "text");
		int t = approx_tokens(text);
		if (out->n > 0 && used + t > budget)
			break;
		used += t;
		out->n++;
		cJSON *s = cJSON_CreateObject();
		cJSON_AddNumberToObject(s, "n", out->n);
		cJSON_AddStringToObject(s, "document_id", str_field(h, "document_id"));
		cJSON_AddStringToObject(s, "document", str_field(h, "document"));
		cJSON_AddItemToObject(s, "page", field_or_null(h, "page"));
		cJSON_AddItemToObject(s, "chunk", field_or_null(h, "chunk"));
		cJSON_AddItemToObject(s, "score", field_or_null(h, "score"));
		static const char *const where[] = {"title", "section", "anchor", "location"};
		for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
			cJSON_AddItemToObject(s, where[i], field_or_null(h, where[i]));
		cJSON_AddStringToObject(s, "text", text);
		cJSON_AddItemToArray(out->sources, s);
		passages[out->n - 1] = (struct plat_ai_passage){text, out->n};
	}
	struct terms terms = {0};
	if (out->n > 0)
		rc = weigh_terms(svc, q.text, &terms, err);
	if (rc == 0) {
		struct plat_ai_support sup = {0};
		out->answer = plat_ai_builtin_answer_terms(q.text, passages, (size_t)out->n, terms.t, terms.n,
							   PLAT_ASK_BUILTIN_SENTENCES, &sup);
		/* The best sentence, and what surrounds it twice: its best passage, and all the
		 * sources a provider would be shown. An answer's words are often spread over the
		 * sources (PDF pages cut a section into chunks; the question paraphrases what one
		 * sentence says), while a question about something else misses its own rare
		 * words everywhere. */
		out->sentence_coverage = sup.sentence_coverage;
		out->context_coverage = sup.context_coverage;
		out->passage_coverage = sup.passage_coverage;
		out->sources_coverage = sup.sources_coverage;
		out->support = round((0.5 * sup.sentence_coverage + 0.25 * sup.passage_coverage +
				      0.25 * sup.sources_coverage) * 1e9) / 1e9;
		if (terms.unknown_name) {
			out->unknown_name = plat_xstrdup(terms.unknown_name);
			out->support = 0;
		}
		/* Refusing does not depend on a model's mood: the same measure for every provider. */
		out->refused = out->n == 0 || out->support < out->min_support || !*out->answer;
	}
	terms_free(&terms);
	free(passages);
	if (rc < 0)
		plat_ask_prepared_free(out);
	return rc;
}

void plat_ask_prepared_free(struct plat_ask_prepared *p)
{
	cJSON_Delete(p->hits);
	cJSON_Delete(p->sources);
	free(p->answer);
	free(p->unknown_name);
	memset(p, 0, sizeof(*p));
}

void plat_ask_source_location(const cJSON *source, char *buf, size_t len)
{
	const char *location = str_field(source, "location"), *section = str_field(source, "section");
	const cJSON *page = cJSON_GetObjectItem(source, "page");
	int at;
	if (*location)
		at = snprintf(buf, len, "%s", location);
	else if (cJSON_IsNumber(page))
		at = snprintf(buf, len, "%s, page %d", str_field(source, "document"), page->valueint);
	else
		at = snprintf(buf, len, "%s", str_field(source, "document"));
	if (*section && at >= 0 && (size_t)at < len)
		snprintf(buf + at, len - (size_t)at, " (%s)", section);
}
