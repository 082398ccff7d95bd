#include "search/search.h"
#include "search/remote.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "store/store.h"
#include "ai/ai.h"
#include "ai/builtin.h"
#include "config/config.h"
#include "mem/mem.h"

#define SCHEMA_DIM 384 /* chunks.embedding is vector(384) */
#define STR_(x) #x
#define STR(x) STR_(x)

/* The question as a vector from the same provider (and model) the chunks were embedded
 * with; the kNN half only compares vectors of that model. */
static int embed_query(struct plat_ai *emb, const char *text, struct plat_buf *vec, char *model, size_t model_len,
		       struct plat_error *err)
{
	struct plat_ai_vectors v = {0};
	if (emb && strcmp(plat_ai_provider(emb), "builtin") != 0) {
		const char *texts[] = {text};
		if (plat_ai_embed(emb, texts, 1, &v, NULL, err) < 0)
			return -(int)err->kind;
	} else {
		v.n = 1;
		v.dim = PLAT_AI_BUILTIN_DIM;
		v.data = plat_xcalloc(PLAT_AI_BUILTIN_DIM, sizeof(float));
		snprintf(v.model, sizeof(v.model), "%s", PLAT_AI_BUILTIN_MODEL);
		plat_ai_builtin_embed(text, strlen(text), v.data);
	}
	int rc = 0;
	if (v.dim != SCHEMA_DIM) {
		rc = plat_error_set(err, PLAT_E_CONFIG, "embeddings from '%s' have %d dimensions; the chunks have %d", v.model,
				    v.dim, SCHEMA_DIM);
	} else {
		plat_buf_putc(vec, '[');
		for (int i = 0; i < v.dim; i++)
			plat_buf_printf(vec, "%s%.7g", i ? "," : "", (double)v.data[i]);
		plat_buf_putc(vec, ']');
		snprintf(model, model_len, "%s", v.model);
	}
	plat_ai_vectors_free(&v);
	return rc;
}

/* Web-search operators ("phrase", -word) in the question ($2): it means exactly that for
 * which passages match; an "or" alone is no sign of them: questions say "Ctrl-C or
 * SIGTERM". An immutable expression of a parameter, so the planner folds it (and the
 * tsqueries below) to a constant and prunes the half of the plan it rules out. */
#define STRICT " ($2::text ~ '\"|(^|\\s)-\\S')"
#define STRICT_QUERY " websearch_to_tsquery('english', $2::text)"
/* The snippet highlights every word. */
#define HIGHLIGHT                                                                                  \
	" (CASE WHEN" STRICT " THEN" STRICT_QUERY                                                   \
	"  ELSE replace(plainto_tsquery('english', $2::text)::text, ' & ', ' | ')::tsquery END)"
/* The documents a search may return: the caller's tenant, processed, not deleted, and
 * the filters ($5 class, $6 tags, $7 since, $8 id or name). */
#define SEARCHABLE_DOCUMENTS(d)                                                                    \
	" " d ".tenant_id = $1 AND " d ".deleted_at IS NULL AND " d ".status = 'processed'"         \
	" AND ($5::text IS NULL OR " d ".class = $5)"                                               \
	" AND ($6::jsonb IS NULL OR " d ".tags @> $6::jsonb)"                                       \
	" AND ($7::timestamptz IS NULL OR " d ".created_at >= $7::timestamptz)"                     \
	" AND ($8::text IS NULL OR " d ".id::text = $8 OR " d ".name = $8)"

/* A passage's frequency of each question word in its text and in its headings
 * (title and section path): setweight marks the question's words, ts_filter keeps only
 * them, so only a few entries of each tsvector are unnested. */
#define TERM_FREQUENCIES(c)                                                                        \
	" SELECT u.lexeme, sum(coalesce(array_length(u.positions, 1), 1)) FILTER (WHERE NOT u.head) AS tf,"        \
	"  sum(coalesce(array_length(u.positions, 1), 1)) FILTER (WHERE u.head) AS head_tf FROM ("                  \
	"  SELECT x.lexeme, x.positions, false AS head FROM unnest(ts_filter(setweight(" c ".tsv, 'A', (SELECT coalesce(array_agg(lexeme), '{}') FROM words)), '{a}')) x" \
	"  UNION ALL SELECT x.lexeme, x.positions, true FROM unnest(ts_filter(setweight(" c ".head_tsv, 'A', (SELECT coalesce(array_agg(lexeme), '{}') FROM words)), '{a}')) x) u" \
	" GROUP BY u.lexeme"

/* One word's share of a passage's score, from its posting p and its words row w (BM25F:
 * see search_sql). */
#define TFN(p) p ".tf / (1 - $12::float8 + $12::float8 * " p ".tokens / w.avgdl) + $13::float8 * " p ".head_tf"
#define BM25_TERM(p) "w.idf * (" TFN(p) ") * ($11::float8 + 1) / ((" TFN(p) ") + $11::float8)"

static const char search_sql[] =
	/* Okapi BM25F: per word, tf~ = tf / (1 - b + b * tokens / avgdl) + heading weight *
	 * head_tf (headings are short: no length normalisation), scored idf * tf~ (k1 + 1) /
	 * (tf~ + k1), idf in Lucene's non-negative form of the Robertson-Sparck Jones weight.
	 *
	 * A plain question's candidates and their scores come from the postings alone
	 * (migration 0007): an index-only scan of each word's range, the passages holding a
	 * matching word kept. Web-search operators (phrases, -word) need positions: those
	 * questions take their passages from the GIN indexes and only the frequencies from the
	 * postings. */
	/* The question's words ($2), with what BM25 needs about each: how many of the
	 * tenant's passages hold it (term_stats; 0 and term id 0: none), and how many passages
	 * there are and how long (passage_stats). Part of this one statement rather than a
	 * query of its own: a CLI search runs in a fresh backend, where each statement costs
	 * a round trip and a cold plan (issue 14).
	 *
	 * Which words pick the passages to rank (matching): a plain question matches passages
	 * with any of its words -- but not through words in more than COMMON_WORD of all
	 * passages: as their IDF says they carry almost no evidence, and scoring the tenth of
	 * the corpus that holds them would cost more than the rest of the search together.
	 * They still count in the scores of the passages matched. A question of only common
	 * words keeps its rarest. Small corpora (under COMMON_MIN_PASSAGES) match every word:
	 * there it costs nothing. A strict question matches by its tsquery instead. */
	"WITH lex AS (SELECT l AS lexeme, coalesce(t.passages, 0)::float8 AS df, coalesce(t.id, 0) AS term_id"
	"  FROM unnest(tsvector_to_array(to_tsvector('english', $2::text))) l"
	"  LEFT JOIN term_stats t ON t.tenant_id = $1 AND t.lexeme = l),"
	" corpus AS (SELECT coalesce(max(passages), 0)::float8 AS n,"
	"  coalesce(max(tokens::float8 / nullif(passages, 0)), 0) AS avg_tokens FROM passage_stats WHERE tenant_id = $1),"
	" rare AS (SELECT x.*, ln(1 + (c.n - x.df + 0.5) / (x.df + 0.5)) AS idf,"
	"  CASE WHEN c.avg_tokens > 0 THEN c.avg_tokens ELSE 1 END AS avgdl,"
	"  NOT" STRICT " AND x.df > 0 AND (c.n < " STR(PLAT_SEARCH_COMMON_MIN_PASSAGES)
	"   OR x.df <= " STR(PLAT_SEARCH_COMMON_WORD) " * c.n) AS rare FROM lex x, corpus c),"
	" words AS (SELECT r.lexeme, r.df, r.idf, r.term_id, r.avgdl, r.rare OR (NOT" STRICT
	"  AND NOT EXISTS (SELECT 1 FROM rare WHERE rare)"
	"  AND r.lexeme = (SELECT lexeme FROM rare WHERE df > 0 ORDER BY df, lexeme LIMIT 1)) AS matching FROM rare r),"
	/* The common words' postings are looked up per candidate: scanning them all would
	 * aggregate a tenth of the corpus. */
	" matched AS ("
	"  SELECT p.chunk_id AS id, sum(" BM25_TERM("p") ") AS score"
	"  FROM words w JOIN term_postings p ON p.term_id = w.term_id"
	"  WHERE NOT" STRICT " AND w.matching GROUP BY p.chunk_id),"
	" scored AS ("
	"  SELECT m.id, m.score + coalesce((SELECT sum(" BM25_TERM("p") ")"
	"   FROM words w JOIN term_postings p ON p.term_id = w.term_id AND p.chunk_id = m.id WHERE NOT w.matching), 0) AS score"
	"  FROM matched m"
	"  UNION ALL"
	"  SELECT c.id, (SELECT coalesce(sum(" BM25_TERM("p") "), 0)"
	"   FROM words w JOIN term_postings p ON p.term_id = w.term_id AND p.chunk_id = c.id)"
	"  FROM chunks c WHERE" STRICT " AND c.tenant_id = $1 AND (c.tsv @@" STRICT_QUERY " OR c.head_tsv @@" STRICT_QUERY ")),"
	/* Best first, each passage's document checked by primary key only until enough have
	 * passed (OFFSET 0 keeps the sorted candidates a subquery and the check a filter over
	 * them: joins were planned from the documents' statistics, and before the first
	 * ANALYZE of a fresh install those made the planner walk every chunk of every
	 * document), so a search reads ~$4 chunk rows, not one per candidate. */
	" fts AS ("
	"  SELECT s.id, s.score, row_number() OVER (ORDER BY s.score DESC, s.id) AS r"
	"  FROM (SELECT * FROM scored ORDER BY score DESC, id OFFSET 0) s"
	"  WHERE EXISTS (SELECT 1 FROM chunks c JOIN documents d ON d.id = c.document_id"
	"   WHERE c.id = s.id AND c.tenant_id = $1 AND" SEARCHABLE_DOCUMENTS("d") " OFFSET 0)"
	"  ORDER BY s.score DESC, s.id LIMIT $4::int),"
	/* The same check keeps the HNSW index scan the plan, with pgvector's iterative scan
	 * skipping what it filters out; as a join, the planner sorted every chunk by distance. */
	" near AS ("
	"  SELECT c.id, c.embedding <=> $3::vector AS distance FROM chunks c"
	"  WHERE c.tenant_id = $1 AND c.embedding_model = $9 AND (NOT" STRICT " OR c.tsv @@" STRICT_QUERY ")"
	"  AND EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id AND" SEARCHABLE_DOCUMENTS("d") " OFFSET 0)"
	"  ORDER BY c.embedding <=> $3::vector LIMIT $4::int),"
	" knn AS (SELECT id, distance, row_number() OVER (ORDER BY distance, id) AS r FROM near),"
	/* Weighted reciprocal rank fusion: each half adds weight / (60 + its rank). */
	" fused AS ("
	"  SELECT coalesce(f.id, v.id) AS id,"
	"   coalesce($14::float8 / (" STR(PLAT_SEARCH_RRF_K) " + f.r), 0) + coalesce($15::float8 / (" STR(PLAT_SEARCH_RRF_K) " + v.r), 0) AS score,"
	"   f.r AS fr, f.score AS fs, v.r AS vr, v.distance AS vd"
	"  FROM fts f FULL JOIN knn v ON v.id = f.id)"
	/* The few fused passages and their documents are fetched by primary key. */
	" SELECT c.document_id, d.name, c.page, c.ord, f.score, f.fr, f.vr,"
	"  regexp_replace(ts_headline('english', c.text," HIGHLIGHT ","
	"   'StartSel=«, StopSel=», MinWords=12, MaxWords=30, MaxFragments=2, FragmentDelimiter=\" … \"'),"
	"   '\\s+', ' ', 'g'),"
	"  c.text, c.title, c.section, c.anchor, f.fs, f.vd, c.tokens,"
	"  CASE WHEN $16::bool THEN (SELECT json_agg(json_build_array(t.lexeme, coalesce(t.tf, 0), coalesce(t.head_tf, 0))"
	"   ORDER BY t.lexeme) FROM (" TERM_FREQUENCIES("c") ") t)::text END,"
	/* For --explain: the question's words and the corpus, as above. */
	"  CASE WHEN $16::bool THEN (SELECT json_build_object('strict'," STRICT ", 'strict_query'," STRICT_QUERY "::text,"
	"   'passages', n, 'avg_tokens', avg_tokens, 'words', (SELECT coalesce(json_agg(json_build_array(lexeme, df,"
	"   matching) ORDER BY lexeme), '[]') FROM words)) FROM corpus)::text END"
	" FROM (SELECT * FROM fused ORDER BY score DESC, id LIMIT $10::int) f"
	" CROSS JOIN LATERAL (SELECT * FROM chunks c WHERE c.id = f.id) c"
	" CROSS JOIN LATERAL (SELECT d.name FROM documents d WHERE d.id = c.document_id) d"
	" ORDER BY f.score DESC, c.id";

/* A lexeme as a tsquery operand: quoted, with quotes and backslashes doubled. */
static void tsquery_operand(struct plat_buf *b, const char *lexeme)
{
	plat_buf_putc(b, '\'');
	for (const char *p = lexeme; *p; p++) {
		if (*p == '\'' || *p == '\\')
			plat_buf_putc(b, *p);
		plat_buf_putc(b, *p);
	}
	plat_buf_putc(b, '\'');
}

/* Lucene's non-negative form of the Robertson-Sparck Jones weight. */
static double bm25_idf(double passages, double df)
{
	return log(1 + (passages - df + 0.5) / (df + 0.5));
}

double plat_search_bm25_term(const struct plat_search_ranking *r, double idf, double tf, double head_tf, double tokens,
			     double avg_tokens)
{
	double norm = 1 - r->b + r->b * (avg_tokens > 0 ? tokens / avg_tokens : 1);
	double tfn = tf / norm + r->heading_weight * head_tf;
	return tfn > 0 ? idf * tfn * (r->k1 + 1) / (tfn + r->k1) : 0;
}

/* The question's words as search_sql saw them, for --explain. */
struct question {
	size_t n;       /* words */
	char **lexemes; /* sorted */
	double *df, *idf;
	double passages, avg_tokens;
	struct plat_buf match; /* the tsquery that picked the full-text half's passages */
};

static void question_free(struct question *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->lexemes[i]);
	free(q->lexemes);
	free(q->df);
	free(q->idf);
	plat_buf_free(&q->match);
	memset(q, 0, sizeof(*q));
}

/* From search_sql's explain column: {strict, strict_query, passages, avg_tokens, words:
 * [[lexeme, passages holding it, matching], ...]}. The tsquery of a plain question is
 * its matching words, any of them. */
static void question_read(const char *json, struct question *q)
{
	cJSON *o = cJSON_Parse(json ? json : "{}");
	const cJSON *words = cJSON_GetObjectItem(o, "words"), *w;
	q->passages = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "passages"));
	q->avg_tokens = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "avg_tokens"));
	if (isnan(q->passages))
		q->passages = 0;
	if (isnan(q->avg_tokens))
		q->avg_tokens = 0;
	bool strict = cJSON_IsTrue(cJSON_GetObjectItem(o, "strict"));
	const char *strict_query = cJSON_GetStringValue(cJSON_GetObjectItem(o, "strict_query"));
	if (strict && strict_query)
		plat_buf_puts(&q->match, strict_query);
	size_t n = (size_t)cJSON_GetArraySize(words);
	q->lexemes = plat_xcalloc(n ? n : 1, sizeof(*q->lexemes));
	q->df = plat_xcalloc(n ? n : 1, sizeof(*q->df));
	q->idf = plat_xcalloc(n ? n : 1, sizeof(*q->idf));
	cJSON_ArrayForEach(w, words)
	{
		const char *l = cJSON_GetStringValue(cJSON_GetArrayItem(w, 0));
		const cJSON *df = cJSON_GetArrayItem(w, 1);
		if (!l || !cJSON_IsNumber(df))
			continue;
		q->lexemes[q->n] = plat_xstrdup(l);
		q->df[q->n] = df->valuedouble;
		q->idf[q->n] = bm25_idf(q->passages, df->valuedouble);
		q->n++;
		if (!strict && cJSON_IsTrue(cJSON_GetArrayItem(w, 2))) {
			if (q->match.len)
				plat_buf_puts(&q->match, " | ");
			tsquery_operand(&q->match, l);
		}
	}
	cJSON_Delete(o);
}

/* search.vector_weight: "MODEL=W,MODEL=W,*=W"; the entry for the model, else "*", else 1. */
double plat_search_vector_weight(const char *spec, const char *model)
{
	double fallback = 1;
	const char *p = spec ? spec : "";
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		if (eq) {
			double w = strtod(eq + 1, NULL);
			size_t name = (size_t)(eq - p);
			if (name == 1 && *p == '*')
				fallback = w;
			else if (model && strlen(model) == name && !strncmp(p, model, name))
				return w;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return fallback;
}

void plat_search_ranking_defaults(struct plat_search_ranking *r)
{
	*r = (struct plat_search_ranking){.k1 = PLAT_SEARCH_BM25_K1, .b = PLAT_SEARCH_BM25_B,
					  .heading_weight = PLAT_SEARCH_HEADING_WEIGHT, .fts_weight = 1,
					  .vector_weights = PLAT_SEARCH_VECTOR_WEIGHTS};
}

static void ranking_of(struct plat_svc *svc, const struct plat_search_query *q, struct plat_search_ranking *r)
{
	plat_search_ranking_defaults(r);
	if (svc->cfg) {
		r->k1 = atof(plat_config_str(svc->cfg, PLAT_CFG_SEARCH_BM25_K1));
		r->b = atof(plat_config_str(svc->cfg, PLAT_CFG_SEARCH_BM25_B));
		r->heading_weight = atof(plat_config_str(svc->cfg, PLAT_CFG_SEARCH_HEADING_WEIGHT));
		r->vector_weights = plat_config_str(svc->cfg, PLAT_CFG_SEARCH_VECTOR_WEIGHT);
	}
	if (q->ranking)
		*r = *q->ranking;
}

static cJSON *number_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? cJSON_CreateNull() : cJSON_CreateNumber(atof(PQgetvalue(res, row, col)));
}

/* Where a passage is, for a reader: the HTML anchor, else the page. */
static void location_of(const char *name, const char *anchor, int page, struct plat_buf *b)
{
	plat_buf_puts(b, name);
	if (anchor && *anchor)
		plat_buf_printf(b, "#%s", anchor);
	else if (page > 0)
		plat_buf_printf(b, ", page %d", page);
}

/* The full-text half's score taken apart: each question word's share (the shares add up
 * to the score). */
static cJSON *explain_fts(const struct plat_search_ranking *r, const struct question *qw, const char *tf_json,
			  double tokens, double score, int rank)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "rank", rank);
	cJSON_AddNumberToObject(o, "score", score);
	cJSON_AddNumberToObject(o, "tokens", tokens);
	cJSON_AddNumberToObject(o, "avg_tokens", qw->avg_tokens);
	cJSON_AddNumberToObject(o, "passages", qw->passages);
	cJSON *terms = cJSON_AddArrayToObject(o, "terms");
	cJSON *tfs = cJSON_Parse(tf_json ? tf_json : "[]");
	const cJSON *t;
	cJSON_ArrayForEach(t, tfs)
	{
		const char *lexeme = cJSON_GetStringValue(cJSON_GetArrayItem(t, 0));
		const cJSON *tf = cJSON_GetArrayItem(t, 1), *htf = cJSON_GetArrayItem(t, 2);
		if (!lexeme || !cJSON_IsNumber(tf) || !cJSON_IsNumber(htf))
			continue;
		size_t i = 0;
		while (i < qw->n && strcmp(qw->lexemes[i], lexeme))
			i++;
		if (i == qw->n)
			continue;
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "term", lexeme);
		cJSON_AddNumberToObject(e, "passages", qw->df[i]);
		cJSON_AddNumberToObject(e, "idf", qw->idf[i]);
		cJSON_AddNumberToObject(e, "tf", tf->valuedouble);
		cJSON_AddNumberToObject(e, "heading_tf", htf->valuedouble);
		cJSON_AddNumberToObject(e, "score", plat_search_bm25_term(r, qw->idf[i], tf->valuedouble, htf->valuedouble,
									   tokens, qw->avg_tokens));
		cJSON_AddItemToArray(terms, e);
	}
	cJSON_Delete(tfs);
	return o;
}

int plat_search(struct plat_svc *svc, const struct plat_search_query *q, cJSON **results, struct plat_error *err)
{
	*results = NULL;
	struct plat_remote *remote;
	int rrc = plat_svc_remote(svc, &remote, err);
	if (rrc != 0)
		return rrc < 0 ? rrc : plat_search_remote(remote, q, results, err);
	struct plat_ai *embeddings = NULL;
	int erc = plat_svc_enter(svc, "search", PLAT_NEEDS_TENANT, err);
	if (erc == 0)
		erc = plat_svc_ai(svc, PLAT_AI_EMBEDDINGS, &embeddings, err);
	if (erc < 0)
		return erc;
	if (!q->text || !*q->text)
		return plat_error_set(err, PLAT_E_USAGE, "the query is empty");
	struct plat_search_ranking rk;
	ranking_of(svc, q, &rk);
	int k = q->k > 0 ? q->k : 10;
	int candidates = q->candidates > 0 ? q->candidates : (4 * k > 40 ? 4 * k : 40);
	struct plat_buf vec = PLAT_BUF_INIT, tag = PLAT_BUF_INIT;
	char model[128] = "";
	int rc = embed_query(embeddings, q->text, &vec, model, sizeof(model), err);
	if (rc < 0) {
		plat_buf_free(&vec);
		return rc;
	}
	double vector_weight = plat_search_vector_weight(rk.vector_weights, model);
	plat_documents_tag_filter(q->tag_key, q->tag_value, &tag);
	char cand[16], kk[16], ef[16], k1[32], b[32], hw[32], fw[32], vw[32];
	snprintf(cand, sizeof(cand), "%d", candidates);
	snprintf(kk, sizeof(kk), "%d", k);
	int ef_search = candidates < PLAT_SEARCH_EF_SEARCH ? PLAT_SEARCH_EF_SEARCH : candidates;
	snprintf(ef, sizeof(ef), "%d", ef_search > 1000 ? 1000 : ef_search);
	snprintf(k1, sizeof(k1), "%.17g", rk.k1);
	snprintf(b, sizeof(b), "%.17g", rk.b);
	snprintf(hw, sizeof(hw), "%.17g", rk.heading_weight);
	snprintf(fw, sizeof(fw), "%.17g", rk.fts_weight);
	snprintf(vw, sizeof(vw), "%.17g", vector_weight);
	/* Filters make HNSW skip entries; an iterative scan keeps going until it has enough
	 * (pgvector 0.8), instead of returning fewer neighbours than asked for. */
	const char *settings[] = {"hnsw.ef_search", ef, "hnsw.iterative_scan", "relaxed_order", NULL};
	const char *params[] = {svc->tenant_id, q->text, vec.data, cand, q->class_name, tag.len ? tag.data : NULL,
				q->since, q->document, model, kk, k1, b, hw, fw, vw, q->explain ? "t" : "f"};
	PGresult *res = NULL;
	rc = plat_db_exec_local(svc->db, settings, search_sql, 16, params, &res, err);
	plat_buf_free(&vec);
	plat_buf_free(&tag);
	if (rc < 0) {
		if (err->kind == PLAT_E_FAILURE && q->since) {
			plat_error_wrap(err, "'%s'", q->since);
			plat_error_param(err, "since");
		}
		return rc;
	}
	struct question qw = {0};
	if (q->explain && PQntuples(res) > 0)
		question_read(PQgetvalue(res, 0, 16), &qw);
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < PQntuples(res); i++) {
		cJSON *o = cJSON_CreateObject();
		const char *name = PQgetvalue(res, i, 1);
		int page = PQgetisnull(res, i, 2) ? 0 : atoi(PQgetvalue(res, i, 2));
		const char *anchor = PQgetisnull(res, i, 11) ? NULL : PQgetvalue(res, i, 11);
		cJSON_AddNumberToObject(o, "rank", i + 1);
		cJSON_AddNumberToObject(o, "score", atof(PQgetvalue(res, i, 4)));
		cJSON_AddStringToObject(o, "document_id", PQgetvalue(res, i, 0));
		cJSON_AddStringToObject(o, "document", name);
		if (page)
			cJSON_AddNumberToObject(o, "page", page);
		else
			cJSON_AddNullToObject(o, "page");
		cJSON_AddNumberToObject(o, "chunk", atoi(PQgetvalue(res, i, 3)));
		for (int col = 9; col <= 11; col++) {
			const char *field = col == 9 ? "title" : col == 10 ? "section" : "anchor";
			if (PQgetisnull(res, i, col))
				cJSON_AddNullToObject(o, field);
			else
				cJSON_AddStringToObject(o, field, PQgetvalue(res, i, col));
		}
		struct plat_buf loc = PLAT_BUF_INIT;
		location_of(name, anchor, page, &loc);
		cJSON_AddStringToObject(o, "location", loc.data);
		plat_buf_free(&loc);
		cJSON_AddItemToObject(o, "fts_rank", number_or_null(res, i, 5));
		cJSON_AddItemToObject(o, "vector_rank", number_or_null(res, i, 6));
		cJSON_AddStringToObject(o, "snippet", PQgetvalue(res, i, 7));
		cJSON_AddStringToObject(o, "text", PQgetvalue(res, i, 8));
		if (q->explain) {
			cJSON *x = cJSON_AddObjectToObject(o, "explain");
			if (PQgetisnull(res, i, 5))
				cJSON_AddNullToObject(x, "fts");
			else
				cJSON_AddItemToObject(x, "fts", explain_fts(&rk, &qw, PQgetvalue(res, i, 15), atof(PQgetvalue(res, i, 14)),
									    atof(PQgetvalue(res, i, 12)), atoi(PQgetvalue(res, i, 5))));
			if (PQgetisnull(res, i, 6)) {
				cJSON_AddNullToObject(x, "vector");
			} else {
				cJSON *v = cJSON_AddObjectToObject(x, "vector");
				cJSON_AddNumberToObject(v, "rank", atoi(PQgetvalue(res, i, 6)));
				cJSON_AddNumberToObject(v, "distance", atof(PQgetvalue(res, i, 13)));
				cJSON_AddStringToObject(v, "model", model);
			}
			cJSON *f = cJSON_AddObjectToObject(x, "fusion");
			cJSON_AddNumberToObject(f, "k", PLAT_SEARCH_RRF_K);
			cJSON_AddNumberToObject(f, "fts_weight", rk.fts_weight);
			cJSON_AddNumberToObject(f, "vector_weight", vector_weight);
			cJSON_AddStringToObject(x, "match", qw.match.len ? qw.match.data : "");
		}
		cJSON_AddItemToArray(arr, o);
	}
	PQclear(res);
	question_free(&qw);
	*results = arr;
	return 0;
}
