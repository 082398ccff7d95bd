#include "search/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "store/store.h"
#include "ai/ai.h"
#include "ai/builtin.h"
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

/* The question as tsqueries: what the full-text half matches, and what snippets
 * highlight. Computed first and passed on as values, so the planner of the search sees
 * the words and can tell a selective match (the GIN index) from a broad one.
 *
 * With web-search operators ("phrase", -word) the query means exactly that, for both
 * halves. An "or" alone is no sign of them: questions say "Ctrl-C or SIGTERM", and
 * plain words are or-ed anyway. A plain question matches passages with any of its
 * words, ts_rank_cd favouring those with more of them close together (all of them rarely
 * share one passage) -- but not through words found in more than PLAT_SEARCH_COMMON_WORD
 * of all passages (the planner's statistics of chunks.tsv): as BM25's IDF says, they
 * carry almost no evidence, and ranking the tenth of the corpus that holds them would
 * cost more than the rest of the search together. A question of only common words keeps
 * its rarest. The snippet still highlights every word. Small corpora (under
 * PLAT_SEARCH_COMMON_MIN_PASSAGES) rank every word: there it costs nothing. */
static const char query_sql[] =
	"WITH mce AS (SELECT m.e, m.f FROM pg_stats st,"
	"  unnest(st.most_common_elems::text::text[], st.most_common_elem_freqs) m(e, f)"
	"  WHERE st.schemaname = current_schema() AND st.tablename = 'chunks' AND st.attname = 'tsv'"
	"  AND (SELECT reltuples FROM pg_class WHERE oid = 'chunks'::regclass) >= " STR(PLAT_SEARCH_COMMON_MIN_PASSAGES) "),"
	" lex AS (SELECT l, coalesce(mce.f, 0) AS f"
	"  FROM unnest(tsvector_to_array(to_tsvector('english', $1))) l LEFT JOIN mce ON mce.e = l),"
	" s AS (SELECT $1 ~ '\"|(^|\\s)-\\S' AS strict)"
	" SELECT strict, (CASE WHEN strict THEN websearch_to_tsquery('english', $1) ELSE coalesce("
	"   (SELECT string_agg(quote_literal(l), ' | ')::tsquery FROM lex WHERE f <= " STR(PLAT_SEARCH_COMMON_WORD) "),"
	"   (SELECT quote_literal(l)::tsquery FROM lex ORDER BY f, l LIMIT 1),"
	"   plainto_tsquery('english', $1)) END)::text,"
	"  (CASE WHEN strict THEN websearch_to_tsquery('english', $1)"
	"   ELSE replace(plainto_tsquery('english', $1)::text, ' & ', ' | ')::tsquery END)::text,"
	/* Filters make HNSW skip entries; an iterative scan keeps going until it has enough
	 * (pgvector 0.8), instead of returning fewer neighbours than asked for. */
	"  set_config('hnsw.ef_search', $2, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)"
	" FROM s";

/* The documents a search may return: the caller's tenant, processed, not deleted, and
 * the filters ($5 class, $6 tags, $7 since, $8 id or name). */
#define SEARCHABLE_DOCUMENTS(d)                                                                    \
	" " d ".tenant_id = $1 AND " d ".deleted_at IS NULL AND " d ".status = 'processed'"         \
	" AND ($5::text IS NULL OR " d ".class = $5)"                                               \
	" AND ($6::jsonb IS NULL OR " d ".tags @> $6::jsonb)"                                       \
	" AND ($7::timestamptz IS NULL OR " d ".created_at >= $7::timestamptz)"                     \
	" AND ($8::text IS NULL OR " d ".id::text = $8 OR " d ".name = $8)"

static const char search_sql[] =
	/* The matching passages come from the GIN index and are ranked there. Each one's
	 * document is checked by primary key (OFFSET 0 keeps the planner from turning that
	 * into a join): joins were planned from the documents' statistics, and before the
	 * first ANALYZE of a fresh install those made the planner walk every chunk of every
	 * document for each of them. */
	"WITH fts AS ("
	"  SELECT m.id, row_number() OVER (ORDER BY m.rank DESC, m.id) AS r FROM ("
	"   SELECT c.id, ts_rank_cd(c.tsv, $2::tsquery) AS rank FROM chunks c"
	"   WHERE c.tenant_id = $1 AND c.tsv @@ $2::tsquery"
	"   AND EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id AND" SEARCHABLE_DOCUMENTS("d") " OFFSET 0)) m"
	"  ORDER BY r LIMIT $4::int),"
	/* The same check keeps the HNSW index scan the plan, with pgvector's iterative scan
	 * skipping what it filters out; as a join, the planner sorted every chunk by distance. */
	" near AS ("
	"  SELECT c.id, c.embedding <=> $3::vector AS distance FROM chunks c"
	"  WHERE c.tenant_id = $1 AND c.embedding_model = $9 AND (NOT $11::bool OR c.tsv @@ $2::tsquery)"
	"  AND EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id AND" SEARCHABLE_DOCUMENTS("d") " OFFSET 0)"
	"  ORDER BY c.embedding <=> $3::vector LIMIT $4::int),"
	" knn AS (SELECT id, row_number() OVER (ORDER BY distance, id) AS r FROM near),"
	" fused AS ("
	"  SELECT id, sum(1.0 / (" STR(PLAT_SEARCH_RRF_K) " + r)) AS score,"
	"   min(r) FILTER (WHERE half = 'f') AS fr, min(r) FILTER (WHERE half = 'v') AS vr"
	"  FROM (SELECT id, r, 'f' AS half FROM fts UNION ALL SELECT id, r, 'v' FROM knn) u GROUP BY id)"
	/* Both halves kept to searchable documents already: the few fused passages and
	 * their documents' names are fetched by primary key. */
	" SELECT c.document_id, (SELECT d.name FROM documents d WHERE d.id = c.document_id),"
	"  c.page, c.ord, f.score, f.fr, f.vr,"
	"  regexp_replace(ts_headline('english', c.text, $12::tsquery,"
	"   'StartSel=«, StopSel=», MinWords=12, MaxWords=30, MaxFragments=2, FragmentDelimiter=\" … \"'),"
	"   '\\s+', ' ', 'g'),"
	"  c.text"
	" FROM fused f CROSS JOIN LATERAL (SELECT * FROM chunks c WHERE c.id = f.id) c"
	" ORDER BY f.score DESC, c.id LIMIT $10::int";

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
	int k = q->k > 0 ? q->k : 10;
	int candidates = q->candidates > 0 ? q->candidates : (4 * k > 40 ? 4 * k : 40);
	struct plat_buf vec = PLAT_BUF_INIT, tag = PLAT_BUF_INIT;
	char model[128] = "";
	int rc = embed_query(embeddings, q->text, &vec, model, sizeof(model), err);
	if (rc < 0) {
		plat_buf_free(&vec);
		return rc;
	}
	plat_documents_tag_filter(q->tag_key, q->tag_value, &tag);
	char cand[16], kk[16], ef[16];
	snprintf(cand, sizeof(cand), "%d", candidates);
	snprintf(kk, sizeof(kk), "%d", k);
	int ef_search = candidates < PLAT_SEARCH_EF_SEARCH ? PLAT_SEARCH_EF_SEARCH : candidates;
	snprintf(ef, sizeof(ef), "%d", ef_search > 1000 ? 1000 : ef_search);
	PGresult *words = NULL, *res = NULL; /* words: strict, tsq, shown */
	rc = plat_db_begin(svc->db, err);
	if (rc == 0) {
		const char *qp[] = {q->text, ef};
		rc = plat_db_exec(svc->db, query_sql, 2, qp, &words, err);
	}
	if (rc == 0) {
		const char *params[] = {svc->tenant_id, PQgetvalue(words, 0, 1), vec.data, cand, q->class_name,
					tag.len ? tag.data : NULL, q->since, q->document, model, kk,
					PQgetvalue(words, 0, 0), PQgetvalue(words, 0, 2)};
		rc = plat_db_exec(svc->db, search_sql, 12, params, &res, err);
	}
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	else
		plat_db_rollback(svc->db);
	PQclear(words);
	plat_buf_free(&vec);
	plat_buf_free(&tag);
	if (rc < 0) {
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
		cJSON_AddNumberToObject(o, "rank", i + 1);
		cJSON_AddNumberToObject(o, "score", atof(PQgetvalue(res, i, 4)));
		cJSON_AddStringToObject(o, "document_id", PQgetvalue(res, i, 0));
		cJSON_AddStringToObject(o, "document", PQgetvalue(res, i, 1));
		if (PQgetisnull(res, i, 2))
			cJSON_AddNullToObject(o, "page");
		else
			cJSON_AddNumberToObject(o, "page", atoi(PQgetvalue(res, i, 2)));
		cJSON_AddNumberToObject(o, "chunk", atoi(PQgetvalue(res, i, 3)));
		for (int col = 5; col <= 6; col++) {
			const char *name = col == 5 ? "fts_rank" : "vector_rank";
			if (PQgetisnull(res, i, col))
				cJSON_AddNullToObject(o, name);
			else
				cJSON_AddNumberToObject(o, name, atoi(PQgetvalue(res, i, col)));
		}
		cJSON_AddStringToObject(o, "snippet", PQgetvalue(res, i, 7));
		cJSON_AddStringToObject(o, "text", PQgetvalue(res, i, 8));
		cJSON_AddItemToArray(arr, o);
	}
	PQclear(res);
	*results = arr;
	return 0;
}
