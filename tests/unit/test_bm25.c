/* The full-text half's ranking on real PostgreSQL (TEST_DATABASE_URL): the per-tenant term
 * statistics and postings the triggers of migrations 0003 and 0007 keep are compared with a
 * brute-force count over the chunks after documents are added, reprocessed, re-sectioned and
 * removed, and the BM25F
 * scores plat_search returns (and explains) with a brute-force computation of the formula
 * that uses neither the statistics tables nor the tokens column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "documents/documents.h"
#include "pipeline/pipeline.h"
#include "search/search.h"

#include "corpus.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static struct corpus C;

static void process(struct plat_svc *svc, const char *id)
{
	if (corpus_process(&C, svc, id) < 0)
		fail();
}

static void add(struct plat_svc *svc, const char *name, const char *text, char id[37])
{
	if (corpus_add(&C, svc, name, text, NULL, id) < 0)
		fail();
}

static long long count(const char *sql)
{
	struct plat_error err = {0};
	PGresult *r = NULL;
	if (plat_db_exec(C.db, sql, 0, NULL, &r, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
	if (PQntuples(r) != 1)
		fail_msg("%s: %d rows", sql, PQntuples(r));
	long long n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

static void exec_sql(const char *sql)
{
	struct plat_error err = {0};
	if (plat_db_exec(C.db, sql, 0, NULL, NULL, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
}

/* Rows in which the kept statistics and a count over the chunks differ (both ways). */
static long long stats_differences(void)
{
	return count("WITH brute AS (SELECT c.tenant_id, l AS lexeme, count(*) AS passages"
		     "  FROM chunks c, unnest(tsvector_to_array(c.tsv || c.head_tsv)) l GROUP BY 1, 2),"
		     " kept AS (SELECT tenant_id, lexeme, passages FROM term_stats)"
		     " SELECT (SELECT count(*) FROM (SELECT * FROM brute EXCEPT SELECT * FROM kept) a)"
		     "      + (SELECT count(*) FROM (SELECT * FROM kept EXCEPT SELECT * FROM brute) b)");
}

static long long totals_differences(void)
{
	return count("WITH tok AS (SELECT c.tenant_id, c.tokens,"
		     "   (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(c.tsv) u) AS counted,"
		     "   (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(c.head_tsv) u) AS head"
		     "  FROM chunks c),"
		     " brute AS (SELECT t.id AS tenant_id, count(tok.tenant_id) AS passages, coalesce(sum(tok.counted), 0) AS tokens,"
		     "   coalesce(sum(tok.head), 0) AS head_tokens FROM tenants t LEFT JOIN tok ON tok.tenant_id = t.id GROUP BY t.id)"
		     " SELECT (SELECT count(*) FROM tok WHERE tokens <> counted)"
		     "  + (SELECT count(*) FROM brute b LEFT JOIN passage_stats s USING (tenant_id)"
		     "     WHERE (b.passages > 0 OR s.passages > 0) AND (s.tenant_id IS NULL OR s.passages <> b.passages"
		     "      OR s.tokens <> b.tokens OR s.head_tokens <> b.head_tokens))");
}

/* Postings (migration 0007) that differ from each word's frequencies counted in the
 * chunks' tsvectors, both ways: one row per word and passage holding it. */
static long long postings_differences(void)
{
	return count("WITH brute AS (SELECT s.id AS term_id, c.id AS chunk_id, c.tokens,"
		     "   coalesce((SELECT sum(coalesce(array_length(u.positions, 1), 1)) FROM unnest(c.tsv) u WHERE u.lexeme = l), 0) AS tf,"
		     "   coalesce((SELECT sum(coalesce(array_length(u.positions, 1), 1)) FROM unnest(c.head_tsv) u WHERE u.lexeme = l), 0) AS head_tf"
		     "  FROM chunks c CROSS JOIN LATERAL unnest(tsvector_to_array(c.tsv || c.head_tsv)) l"
		     "  JOIN term_stats s ON s.tenant_id = c.tenant_id AND s.lexeme = l),"
		     " kept AS (SELECT term_id, chunk_id, tokens, tf::bigint, head_tf::bigint FROM term_postings)"
		     " SELECT (SELECT count(*) FROM (SELECT * FROM brute EXCEPT SELECT * FROM kept) a)"
		     "      + (SELECT count(*) FROM (SELECT * FROM kept EXCEPT SELECT * FROM brute) b)"
		     "      + (SELECT count(*) FROM chunks c, unnest(tsvector_to_array(c.tsv || c.head_tsv)) l"
		     "         WHERE NOT EXISTS (SELECT 1 FROM term_stats s WHERE s.tenant_id = c.tenant_id AND s.lexeme = l))");
}

static char doc_a[37], doc_b[37], doc_c[37], doc_other[37];

static int setup(void **state)
{
	(void)state;
	return corpus_open(&C, "bm25");
}

static int teardown(void **state)
{
	(void)state;
	return corpus_close(&C);
}

static void test_term_statistics_follow_the_chunks(void **state)
{
	(void)state;
	if (!C.db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, C.services, NULL);
	add(&svc, "a.txt",
	    "The backup job copies every database to the archive each night. A backup that fails raises an alert."
	    "\f"
	    "Restoring a backup: stop the service, restore the archive, start the service again.",
	    doc_a);
	add(&svc, "b.txt", "Invoices are paid within thirty days. Late invoices accrue interest of two percent.", doc_b);
	add(&svc, "c.txt", "Night shifts rotate weekly. The night team watches the alert queue and the backup dashboard.",
	    doc_c);
	plat_svc_done(&svc);
	plat_svc_init(&svc, C.services, &(struct plat_call){.tenant = "globex"});
	add(&svc, "other.txt", "Globex keeps its own backup archive, separate from every other tenant.", doc_other);
	plat_svc_done(&svc);
	assert_true(count("SELECT count(*) FROM term_stats") > 20);
	assert_true(count("SELECT count(*) FROM term_postings") > 20);
	assert_int_equal(stats_differences(), 0);
	assert_int_equal(totals_differences(), 0);
	assert_int_equal(postings_differences(), 0);
	/* Each tenant counts only its own passages. */
	assert_int_equal(count("SELECT passages FROM term_stats s JOIN tenants t ON t.id = s.tenant_id"
			       " WHERE t.name = 'default' AND lexeme = 'backup'"),
			 3);
	assert_int_equal(count("SELECT passages FROM term_stats s JOIN tenants t ON t.id = s.tenant_id"
			       " WHERE t.name = 'globex' AND lexeme = 'backup'"),
			 1);

	/* Reprocessing replaces a document's chunks in one transaction: counted once. */
	plat_svc_init(&svc, C.services, NULL);
	exec_sql("UPDATE documents SET status = 'queued'");
	process(&svc, doc_a);
	assert_int_equal(stats_differences(), 0);
	assert_int_equal(totals_differences(), 0);
	assert_int_equal(postings_differences(), 0);
	assert_int_equal(count("SELECT passages FROM term_stats WHERE lexeme = 'backup'"
			       " AND tenant_id = (SELECT id FROM tenants WHERE name = 'default')"),
			 3);

	/* Headings are counted with the text: a word only in a section path is a word of the
	 * passage, and a word in both counts the passage once. */
	exec_sql("UPDATE chunks SET section = 'Payment terms > Late invoices' WHERE document_id = (SELECT id FROM documents"
		 " WHERE name = 'b.txt')");
	assert_int_equal(stats_differences(), 0);
	assert_int_equal(totals_differences(), 0);
	assert_int_equal(postings_differences(), 0);
	assert_int_equal(count("SELECT passages FROM term_stats WHERE lexeme = 'payment'"), 1);
	assert_int_equal(count("SELECT passages FROM term_stats WHERE lexeme = 'invoic'"), 1);

	/* A removed document leaves the statistics (its chunks go), purged or not. */
	cJSON *res = NULL;
	struct plat_error err = {0};
	assert_int_equal(plat_documents_remove(&svc, doc_c, false, &res, &err), 0);
	cJSON_Delete(res);
	assert_int_equal(count("SELECT count(*) FROM chunks WHERE document_id = (SELECT id FROM documents WHERE name = 'c.txt')"),
			 0);
	assert_int_equal(stats_differences(), 0);
	assert_int_equal(totals_differences(), 0);
	assert_int_equal(postings_differences(), 0);
	assert_int_equal(count("SELECT count(*) FROM term_stats WHERE lexeme = 'shift'"), 0);
	assert_int_equal(plat_documents_remove(&svc, doc_b, true, &res, &err), 0);
	cJSON_Delete(res);
	assert_int_equal(stats_differences(), 0);
	assert_int_equal(totals_differences(), 0);
	assert_int_equal(postings_differences(), 0);
	plat_svc_done(&svc);
}

/* BM25F straight from the definition, over every chunk of the tenant: IDF from a count of
 * passages holding each word, lengths from unnesting each tsvector. One row per chunk that
 * holds a word of the question: document name, chunk ord, score. */
static const char brute_bm25[] =
	"WITH q AS (SELECT DISTINCT l FROM unnest(tsvector_to_array(to_tsvector('english', $1))) l),"
	" c AS (SELECT c.*, (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(c.tsv) u) AS len"
	"  FROM chunks c WHERE c.tenant_id = (SELECT id FROM tenants WHERE name = 'default')),"
	" st AS (SELECT count(*)::float8 AS n, avg(len)::float8 AS avgdl FROM c),"
	" df AS (SELECT q.l, count(c.id)::float8 AS df FROM q LEFT JOIN c ON q.l = ANY (tsvector_to_array(c.tsv || c.head_tsv))"
	"  GROUP BY q.l),"
	" tf AS (SELECT c.id, c.document_id, c.ord, c.len, q.l,"
	"   coalesce((SELECT array_length(u.positions, 1) FROM unnest(c.tsv) u WHERE u.lexeme = q.l), 0) AS tf,"
	"   coalesce((SELECT array_length(u.positions, 1) FROM unnest(c.head_tsv) u WHERE u.lexeme = q.l), 0) AS htf"
	"  FROM c, q),"
	" part AS (SELECT tf.*, ln(1 + (st.n - df.df + 0.5) / (df.df + 0.5)) AS idf,"
	"   tf.tf / (1 - $3::float8 + $3::float8 * tf.len / st.avgdl) + $4::float8 * tf.htf AS tfn"
	"  FROM tf JOIN df USING (l), st)"
	" SELECT d.name, p.ord, sum(CASE WHEN p.tfn > 0 THEN p.idf * p.tfn * ($2::float8 + 1) / (p.tfn + $2::float8) ELSE 0 END)"
	" FROM part p JOIN documents d ON d.id = p.document_id GROUP BY d.name, p.ord"
	" HAVING sum(p.tf + p.htf) > 0 ORDER BY 3 DESC";

static double brute_score(PGresult *b, const char *name, int ord)
{
	for (int i = 0; i < PQntuples(b); i++)
		if (!strcmp(PQgetvalue(b, i, 0), name) && atoi(PQgetvalue(b, i, 1)) == ord)
			return atof(PQgetvalue(b, i, 2));
	return -1;
}

/* every: each passage holding a word of the question must be ranked (small corpora; on
 * big ones only passages with an uncommon word are). */
static void check_question_in(struct plat_svc *svc, const char *question, const struct plat_search_ranking *rk,
			      bool every)
{
	char k1[32], b[32], hw[32];
	snprintf(k1, sizeof(k1), "%.17g", rk->k1);
	snprintf(b, sizeof(b), "%.17g", rk->b);
	snprintf(hw, sizeof(hw), "%.17g", rk->heading_weight);
	const char *params[] = {question, k1, b, hw};
	struct plat_error err = {0};
	PGresult *brute = NULL;
	if (plat_db_exec(C.db, brute_bm25, 4, params, &brute, &err) < 0)
		fail_msg("brute force: %s", err.message);
	assert_true(PQntuples(brute) > 0);
	cJSON *r = NULL;
	struct plat_search_query q = {.text = question, .k = 50, .explain = true, .ranking = rk};
	assert_int_equal(plat_search(svc, &q, &r, &err), 0);
	int in_fts = 0;
	double last = INFINITY;
	const cJSON *hit;
	cJSON_ArrayForEach(hit, r)
	{
		const cJSON *fts = cJSON_GetObjectItem(cJSON_GetObjectItem(hit, "explain"), "fts");
		if (!cJSON_IsObject(fts))
			continue; /* found by the vector half only: weighted 0 here, so after the rest */
		in_fts++;
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(hit, "document"));
		int ord = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(hit, "chunk"));
		double score = cJSON_GetNumberValue(cJSON_GetObjectItem(fts, "score"));
		double expected = brute_score(brute, name, ord);
		if (fabs(score - expected) > 1e-9 * (1 + expected))
			fail_msg("'%s': %s chunk %d scored %.12g, brute force %.12g", question, name, ord, score, expected);
		/* The explanation's parts add up to the score. */
		double parts = 0;
		const cJSON *t;
		cJSON_ArrayForEach(t, cJSON_GetObjectItem(fts, "terms"))
		parts += cJSON_GetNumberValue(cJSON_GetObjectItem(t, "score"));
		assert_true(fabs(parts - score) < 1e-9 * (1 + score));
		/* With the vector half weighted 0, the fused order is BM25's. */
		assert_true(score <= last + 1e-12);
		last = score;
	}
	/* Every passage holding a word of the question was ranked. */
	if (every)
		assert_int_equal(in_fts, PQntuples(brute));
	else
		assert_true(in_fts > 0);
	PQclear(brute);
	cJSON_Delete(r);
}

static void check_question(struct plat_svc *svc, const char *question, const struct plat_search_ranking *rk)
{
	check_question_in(svc, question, rk, true);
}

static void test_bm25f_scores_are_the_formula(void **state)
{
	(void)state;
	if (!C.db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, C.services, NULL);
	char extra[37];
	add(&svc, "runbook.md",
	    "# Backups\n\nThe backup of the archive runs nightly; a failed backup pages the night team.\n\n"
	    "# Alerts\n\nEvery alert names the service, the host and the runbook section to follow.\n",
	    extra);
	exec_sql("UPDATE chunks SET title = 'Operations runbook', section = 'Restoring the archive'"
		 " WHERE ord = 0 AND document_id = (SELECT id FROM documents WHERE name = 'a.txt')");
	struct plat_search_ranking rk;
	plat_search_ranking_defaults(&rk);
	rk.vector_weights = "*=0";
	check_question(&svc, "restore the backup archive", &rk);
	check_question(&svc, "which alert pages the night team", &rk);
	rk.k1 = 2.0;
	rk.b = 0.3;
	rk.heading_weight = 4;
	check_question(&svc, "restoring an archive runbook", &rk);

	/* Headings weigh in: the chunk whose section names the words ranks first. */
	cJSON *r = NULL;
	struct plat_error err = {0};
	struct plat_search_query q = {.text = "restoring archive", .k = 3, .ranking = &rk};
	assert_int_equal(plat_search(&svc, &q, &r, &err), 0);
	const cJSON *first = cJSON_GetArrayItem(r, 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(first, "document")), "a.txt");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(first, "section")), "Restoring the archive");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(first, "title")), "Operations runbook");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(first, "location")), "a.txt, page 1");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(first, "anchor")));
	assert_null(cJSON_GetObjectItem(first, "explain"));
	cJSON_Delete(r);

	/* The location names the page; an anchor replaces it. */
	q = (struct plat_search_query){.text = "stop the service restore", .k = 1, .ranking = &rk};
	assert_int_equal(plat_search(&svc, &q, &r, &err), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(r, 0), "location")), "a.txt, page 2");
	cJSON_Delete(r);
	exec_sql("UPDATE chunks SET anchor = 'restore-steps' WHERE page = 2");
	assert_int_equal(plat_search(&svc, &q, &r, &err), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(r, 0), "location")),
			    "a.txt#restore-steps");
	cJSON_Delete(r);

	/* Words in no passage, quotes and backslashes reach the query as words, not syntax. */
	const char *odd[] = {"zzyzx qwertyuiop", "it's o'clock \\ back\\slash", "'; DROP TABLE chunks; --",
			     "\"night team\" -invoices", "!!! ||| &&&"};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		q = (struct plat_search_query){.text = odd[i], .k = 5, .explain = true};
		if (plat_search(&svc, &q, &r, &err) != 0)
			fail_msg("'%s': %s", odd[i], err.message);
		cJSON_Delete(r);
	}
	assert_true(count("SELECT count(*) FROM chunks") > 0);

	/* A corpus big enough for common words (PLAT_SEARCH_COMMON_MIN_PASSAGES): 'archive'
	 * in every filler passage matches nothing by itself, but still counts, looked up per
	 * candidate, in the scores of the passages the rarer words match. */
	exec_sql("INSERT INTO chunks (tenant_id, document_id, ord, page, text)"
		 " SELECT d.tenant_id, d.id, 1000 + i, 1, 'filler passage ' || i || ' kept in the archive, archive shelf ' || (i % 97)"
		 " FROM documents d, generate_series(1, " STR(PLAT_SEARCH_COMMON_MIN_PASSAGES) ") i WHERE d.name = 'runbook.md'");
	assert_int_equal(postings_differences(), 0);
	assert_true(count("SELECT passages FROM term_stats s JOIN tenants t ON t.id = s.tenant_id"
			   " WHERE t.name = 'default' AND lexeme = 'archiv'") > PLAT_SEARCH_COMMON_MIN_PASSAGES);
	plat_search_ranking_defaults(&rk);
	rk.vector_weights = "*=0";
	check_question_in(&svc, "restore the backup archive", &rk, false);
	q = (struct plat_search_query){.text = "restore the backup archive", .k = 50, .explain = true, .ranking = &rk};
	assert_int_equal(plat_search(&svc, &q, &r, &err), 0);
	const cJSON *hit;
	cJSON_ArrayForEach(hit, r)
	assert_true(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(hit, "text")), "filler") == NULL);
	cJSON_Delete(r);
	exec_sql("DELETE FROM chunks WHERE ord >= 1000");
	assert_int_equal(postings_differences(), 0);
	assert_int_equal(stats_differences(), 0);
	plat_svc_done(&svc);
}

static void test_vector_weights_per_model(void **state)
{
	(void)state;
	const char *spec = "builtin-hash-384-v1=0.3,text-embedding-3-small=1.5,*=0.8";
	assert_true(fabs(plat_search_vector_weight(spec, "builtin-hash-384-v1") - 0.3) < 1e-12);
	assert_true(fabs(plat_search_vector_weight(spec, "text-embedding-3-small") - 1.5) < 1e-12);
	assert_true(fabs(plat_search_vector_weight(spec, "text-embedding-3") - 0.8) < 1e-12);
	assert_true(fabs(plat_search_vector_weight("a=2", "b") - 1) < 1e-12);
	assert_true(fabs(plat_search_vector_weight(NULL, "b") - 1) < 1e-12);
	/* The share of one word: 0 without it, rising with its frequency, saturating. */
	struct plat_search_ranking rk;
	plat_search_ranking_defaults(&rk);
	double one = plat_search_bm25_term(&rk, 2, 1, 0, 100, 100);
	double two = plat_search_bm25_term(&rk, 2, 2, 0, 100, 100);
	assert_true(plat_search_bm25_term(&rk, 2, 0, 0, 100, 100) == 0);
	assert_true(fabs(one - 2) < 1e-12); /* tf 1 at average length: exactly the IDF */
	assert_true(two > one && two < 2 * one);
	assert_true(plat_search_bm25_term(&rk, 2, 1, 0, 200, 100) < one); /* longer: less */
	assert_true(plat_search_bm25_term(&rk, 2, 0, 1, 100, 100) > one); /* a heading word weighs 3 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_term_statistics_follow_the_chunks),
		cmocka_unit_test(test_bm25f_scores_are_the_formula),
		cmocka_unit_test(test_vector_weights_per_model),
	};
	return cmocka_run_group_tests_name("bm25", tests, setup, teardown);
}
