#include "search/search.h"

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

/* The question's words, with what BM25 needs about each: how many of the tenant's passages
 * hold it (term_stats), and how many passages there are and how long (passage_stats).
 * With web-search operators ("phrase", -word) the query means exactly that for which
 * passages match; an "or" alone is no sign of them: questions say "Ctrl-C or SIGTERM".
 * The snippet highlights every word. Columns: strict, the highlight tsquery, lexemes,
 * their passage counts (0 when no passage has it), their term ids (0: none), passages,
 * average tokens, the strict tsquery. */
static const char words_sql[] =
	"WITH s AS (SELECT $1 ~ '\"|(^|\\s)-\\S' AS strict),"
	" lex AS (SELECT l, coalesce(t.passages, 0) AS df, t.id"
	"  FROM unnest(tsvector_to_array(to_tsvector('english', $1))) l"
	"  LEFT JOIN term_stats t ON t.tenant_id = $2 AND t.lexeme = l),"
	" p AS (SELECT coalesce(max(passages), 0) AS n, coalesce(max(tokens::float8 / nullif(passages, 0)), 0) AS avgdl"
	"  FROM passage_stats WHERE tenant_id = $2)"
	" SELECT s.strict, (CASE WHEN s.strict THEN websearch_to_tsquery('english', $1)"
	"   ELSE replace(plainto_tsquery('english', $1)::text, ' & ', ' | ')::tsquery END)::text,"
	"  (SELECT coalesce(json_agg(l ORDER BY l), '[]') FROM lex)::text,"
	"  (SELECT coalesce(json_agg(df ORDER BY l), '[]') FROM lex)::text,"
	"  (SELECT coalesce(json_agg(coalesce(id, 0) ORDER BY l), '[]') FROM lex)::text,"
	"  p.n, p.avgdl, websearch_to_tsquery('english', $1)::text,"
	/* Filters make HNSW skip entries; an iterative scan keeps going until it has enough
	 * (pgvector 0.8), instead of returning fewer neighbours than asked for. */
	"  set_config('hnsw.ef_search', $3, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)"
	" FROM s, p";

/* The documents a search may return: the caller's tenant, processed, not deleted, and
 * the filters ($5 class, $6 tags, $7 since, $8 id or name). */
#define SEARCHABLE_DOCUMENTS(d)                                                                    \
	" " d ".tenant_id = $1 AND " d ".deleted_at IS NULL AND " d ".status = 'processed'"         \
	" AND ($5::text IS NULL OR " d ".class = $5)"                                               \
	" AND ($6::jsonb IS NULL OR " d ".tags @> $6::jsonb)"                                       \
	" AND ($7::timestamptz IS NULL OR " d ".created_at >= $7::timestamptz)"                     \
	" AND ($8::text IS NULL OR " d ".id::text = $8 OR " d ".name = $8)"

/* A passage's frequency of each question word ($13) in its text and in its headings
 * (title and section path): setweight marks the question's words, ts_filter keeps only
 * them, so only a few entries of each tsvector are unnested. */
#define TERM_FREQUENCIES(c)                                                                        \
	" SELECT u.lexeme, sum(coalesce(array_length(u.positions, 1), 1)) FILTER (WHERE NOT u.head) AS tf,"        \
	"  sum(coalesce(array_length(u.positions, 1), 1)) FILTER (WHERE u.head) AS head_tf FROM ("                  \
	"  SELECT x.lexeme, x.positions, false AS head FROM unnest(ts_filter(setweight(" c ".tsv, 'A', $13::text[]), '{a}')) x" \
	"  UNION ALL SELECT x.lexeme, x.positions, true FROM unnest(ts_filter(setweight(" c ".head_tsv, 'A', $13::text[]), '{a}')) x) u" \
	" GROUP BY u.lexeme"

/* One word's share of a passage's score, from its posting p and its words row w (BM25F:
 * see search_sql). */
#define TFN(p) p ".tf / (1 - $16::float8 + $16::float8 * " p ".tokens / $17::float8) + $18::float8 * " p ".head_tf"
#define BM25_TERM(p) "w.idf * (" TFN(p) ") * ($15::float8 + 1) / ((" TFN(p) ") + $15::float8)"

static const char search_sql[] =
	/* Okapi BM25F: per word, tf~ = tf / (1 - b + b * tokens / avgdl) + heading weight *
	 * head_tf (headings are short: no length normalisation), scored idf * tf~ (k1 + 1) /
	 * (tf~ + k1), with idf computed from term_stats by the caller ($14, per word of $13).
	 *
	 * A plain question's candidates and their scores come from the postings alone
	 * (migration 0007): an index-only scan of each word's range, the passages holding a
	 * matching word ($23) kept. Web-search operators (phrases, -word) need positions: those
	 * questions take their passages from the GIN indexes and only the frequencies from the
	 * postings. */
	"WITH words AS (SELECT * FROM unnest($13::text[], $14::float8[], $22::int8[], $23::bool[]) w(lexeme, idf, term_id, matching)),"
	/* The common words' postings are looked up per candidate: scanning them all would
	 * aggregate a tenth of the corpus. */
	" matched AS ("
	"  SELECT p.chunk_id AS id, sum(" BM25_TERM("p") ") AS score"
	"  FROM words w JOIN term_postings p ON p.term_id = w.term_id"
	"  WHERE NOT $11::bool AND w.matching GROUP BY p.chunk_id),"
	" scored AS ("
	"  SELECT m.id, m.score + coalesce((SELECT sum(" BM25_TERM("p") ")"
	"   FROM words w JOIN term_postings p ON p.term_id = w.term_id AND p.chunk_id = m.id WHERE NOT w.matching), 0) AS score"
	"  FROM matched m"
	"  UNION ALL"
	"  SELECT c.id, (SELECT coalesce(sum(" BM25_TERM("p") "), 0)"
	"   FROM words w JOIN term_postings p ON p.term_id = w.term_id AND p.chunk_id = c.id)"
	"  FROM chunks c WHERE $11::bool AND c.tenant_id = $1 AND (c.tsv @@ $2::tsquery OR c.head_tsv @@ $2::tsquery)),"
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
	"  WHERE c.tenant_id = $1 AND c.embedding_model = $9 AND (NOT $11::bool OR c.tsv @@ $2::tsquery)"
	"  AND EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id AND" SEARCHABLE_DOCUMENTS("d") " OFFSET 0)"
	"  ORDER BY c.embedding <=> $3::vector LIMIT $4::int),"
	" knn AS (SELECT id, distance, row_number() OVER (ORDER BY distance, id) AS r FROM near),"
	/* Weighted reciprocal rank fusion: each half adds weight / (60 + its rank). */
	" fused AS ("
	"  SELECT coalesce(f.id, v.id) AS id,"
	"   coalesce($19::float8 / (" STR(PLAT_SEARCH_RRF_K) " + f.r), 0) + coalesce($20::float8 / (" STR(PLAT_SEARCH_RRF_K) " + v.r), 0) AS score,"
	"   f.r AS fr, f.score AS fs, v.r AS vr, v.distance AS vd"
	"  FROM fts f FULL JOIN knn v ON v.id = f.id)"
	/* The few fused passages and their documents are fetched by primary key. */
	" SELECT c.document_id, d.name, c.page, c.ord, f.score, f.fr, f.vr,"
	"  regexp_replace(ts_headline('english', c.text, $12::tsquery,"
	"   'StartSel=«, StopSel=», MinWords=12, MaxWords=30, MaxFragments=2, FragmentDelimiter=\" … \"'),"
	"   '\\s+', ' ', 'g'),"
	"  c.text, c.title, c.section, c.anchor, f.fs, f.vd, c.tokens,"
	"  CASE WHEN $21::bool THEN (SELECT json_agg(json_build_array(t.lexeme, coalesce(t.tf, 0), coalesce(t.head_tf, 0))"
	"   ORDER BY t.lexeme) FROM (" TERM_FREQUENCIES("c") ") t)::text END"
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

/* A PostgreSQL array literal of texts, each element quoted. */
static void text_array(struct plat_buf *b, const char *const *items, size_t n)
{
	plat_buf_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		plat_buf_puts(b, i ? ",\"" : "\"");
		for (const char *p = items[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				plat_buf_putc(b, '\\');
			plat_buf_putc(b, *p);
		}
		plat_buf_putc(b, '"');
	}
	plat_buf_putc(b, '}');
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

struct question {
	bool strict;
	char *highlight, *strict_query;
	size_t n;       /* words */
	char **lexemes; /* sorted */
	double *df, *idf;
	long long *term_id; /* term_stats.id, 0 when no passage has the word */
	bool *matching;     /* the word picks passages (see question_read) */
	double passages, avg_tokens;
	struct plat_buf match; /* the tsquery that picks the full-text half's passages */
};

static void question_free(struct question *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->lexemes[i]);
	free(q->lexemes);
	free(q->df);
	free(q->idf);
	free(q->term_id);
	free(q->matching);
	free(q->highlight);
	free(q->strict_query);
	plat_buf_free(&q->match);
	memset(q, 0, sizeof(*q));
}

/* What the words query returned, and which words pick the passages to rank. A plain
 * question matches passages with any of its words -- but not through words found in more
 * than PLAT_SEARCH_COMMON_WORD of all passages: as their IDF says they carry almost no
 * evidence, and scoring the tenth of the corpus that holds them would cost more than the
 * rest of the search together. They still count in the scores of the passages matched.
 * A question of only common words keeps its rarest. Small corpora (under
 * PLAT_SEARCH_COMMON_MIN_PASSAGES) match every word: there it costs nothing. */
static void question_read(PGresult *w, struct question *q)
{
	q->strict = PQgetvalue(w, 0, 0)[0] == 't';
	q->highlight = plat_xstrdup(PQgetvalue(w, 0, 1));
	q->passages = atof(PQgetvalue(w, 0, 5));
	q->avg_tokens = atof(PQgetvalue(w, 0, 6));
	q->strict_query = plat_xstrdup(PQgetvalue(w, 0, 7));
	cJSON *lex = cJSON_Parse(PQgetvalue(w, 0, 2)), *df = cJSON_Parse(PQgetvalue(w, 0, 3));
	cJSON *ids = cJSON_Parse(PQgetvalue(w, 0, 4));
	size_t n = (size_t)cJSON_GetArraySize(lex);
	q->lexemes = plat_xcalloc(n ? n : 1, sizeof(*q->lexemes));
	q->df = plat_xcalloc(n ? n : 1, sizeof(*q->df));
	q->idf = plat_xcalloc(n ? n : 1, sizeof(*q->idf));
	q->term_id = plat_xcalloc(n ? n : 1, sizeof(*q->term_id));
	q->matching = plat_xcalloc(n ? n : 1, sizeof(*q->matching));
	for (size_t i = 0; i < n; i++) {
		const char *l = cJSON_GetStringValue(cJSON_GetArrayItem(lex, (int)i));
		const cJSON *d = cJSON_GetArrayItem(df, (int)i), *id = cJSON_GetArrayItem(ids, (int)i);
		if (!l || !cJSON_IsNumber(d) || !cJSON_IsNumber(id))
			continue;
		q->term_id[q->n] = (long long)id->valuedouble;
		q->lexemes[q->n] = plat_xstrdup(l);
		q->df[q->n] = d->valuedouble;
		q->idf[q->n] = bm25_idf(q->passages, d->valuedouble);
		q->n++;
	}
	cJSON_Delete(lex);
	cJSON_Delete(df);
	cJSON_Delete(ids);
	if (q->strict) {
		plat_buf_puts(&q->match, q->strict_query);
		return;
	}
	bool big = q->passages >= PLAT_SEARCH_COMMON_MIN_PASSAGES;
	size_t rarest = SIZE_MAX;
	for (size_t i = 0; i < q->n; i++) {
		if (q->df[i] <= 0)
			continue; /* in no passage: nothing to match */
		if (rarest == SIZE_MAX || q->df[i] < q->df[rarest])
			rarest = i;
		if (big && q->df[i] > PLAT_SEARCH_COMMON_WORD * q->passages)
			continue;
		if (q->match.len)
			plat_buf_puts(&q->match, " | ");
		tsquery_operand(&q->match, q->lexemes[i]);
		q->matching[i] = true;
	}
	if (!q->match.len && rarest != SIZE_MAX) {
		tsquery_operand(&q->match, q->lexemes[rarest]);
		q->matching[rarest] = true;
	}
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
	struct plat_buf vec = PLAT_BUF_INIT, tag = PLAT_BUF_INIT, lex = PLAT_BUF_INIT, idf = PLAT_BUF_INIT;
	struct plat_buf ids = PLAT_BUF_INIT, matching = PLAT_BUF_INIT;
	char model[128] = "";
	int rc = embed_query(embeddings, q->text, &vec, model, sizeof(model), err);
	if (rc < 0) {
		plat_buf_free(&vec);
		return rc;
	}
	double vector_weight = plat_search_vector_weight(rk.vector_weights, model);
	plat_documents_tag_filter(q->tag_key, q->tag_value, &tag);
	char cand[16], kk[16], ef[16], k1[32], b[32], avgdl[32], hw[32], fw[32], vw[32];
	snprintf(cand, sizeof(cand), "%d", candidates);
	snprintf(kk, sizeof(kk), "%d", k);
	int ef_search = candidates < PLAT_SEARCH_EF_SEARCH ? PLAT_SEARCH_EF_SEARCH : candidates;
	snprintf(ef, sizeof(ef), "%d", ef_search > 1000 ? 1000 : ef_search);
	struct question qw = {0};
	PGresult *words = NULL, *res = NULL;
	rc = plat_db_begin(svc->db, err);
	if (rc == 0) {
		const char *qp[] = {q->text, svc->tenant_id, ef};
		rc = plat_db_exec(svc->db, words_sql, 3, qp, &words, err);
	}
	if (rc == 0) {
		question_read(words, &qw);
		text_array(&lex, (const char *const *)qw.lexemes, qw.n);
		plat_buf_putc(&idf, '{');
		for (size_t i = 0; i < qw.n; i++)
			plat_buf_printf(&idf, "%s%.17g", i ? "," : "", qw.idf[i]);
		plat_buf_putc(&idf, '}');
		plat_buf_putc(&ids, '{');
		plat_buf_putc(&matching, '{');
		for (size_t i = 0; i < qw.n; i++) {
			plat_buf_printf(&ids, "%s%lld", i ? "," : "", qw.term_id[i]);
			plat_buf_printf(&matching, "%s%c", i ? "," : "", qw.matching[i] ? 't' : 'f');
		}
		plat_buf_putc(&ids, '}');
		plat_buf_putc(&matching, '}');
		snprintf(k1, sizeof(k1), "%.17g", rk.k1);
		snprintf(b, sizeof(b), "%.17g", rk.b);
		snprintf(avgdl, sizeof(avgdl), "%.17g", qw.avg_tokens > 0 ? qw.avg_tokens : 1);
		snprintf(hw, sizeof(hw), "%.17g", rk.heading_weight);
		snprintf(fw, sizeof(fw), "%.17g", rk.fts_weight);
		snprintf(vw, sizeof(vw), "%.17g", vector_weight);
		/* No word of the question is in any passage: the full-text half matches nothing. */
		const char *match = qw.match.len ? qw.match.data : "";
		const char *params[] = {svc->tenant_id, match, vec.data, cand, q->class_name,
					tag.len ? tag.data : NULL, q->since, q->document, model, kk,
					qw.strict ? "t" : "f", qw.highlight, lex.data, idf.data, k1, b, avgdl, hw, fw, vw,
					q->explain ? "t" : "f", ids.data, matching.data};
		rc = plat_db_exec(svc->db, search_sql, 23, params, &res, err);
	}
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	else
		plat_db_rollback(svc->db);
	PQclear(words);
	plat_buf_free(&vec);
	plat_buf_free(&tag);
	plat_buf_free(&lex);
	plat_buf_free(&idf);
	plat_buf_free(&ids);
	plat_buf_free(&matching);
	if (rc < 0) {
		question_free(&qw);
		PQclear(res);
		if (err->kind == PLAT_E_FAILURE && q->since) {
			plat_error_wrap(err, "'%s'", q->since);
			plat_error_param(err, "since");
		}
		return rc;
	}
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
