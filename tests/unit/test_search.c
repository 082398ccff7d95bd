/* Search and ask as services, on real PostgreSQL (TEST_DATABASE_URL): documents uploaded
 * and processed through the service context, then found by plat_search with its filters,
 * only within the caller's tenant, and answered by plat_ask with checked citations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ai/builtin.h"
#include "db/db.h"
#include "documents/documents.h"
#include "migrate/migrate.h"
#include "pipeline/pipeline.h"
#include "search/ask.h"
#include "search/eval.h"
#include "search/search.h"

#include "corpus.h"

static struct corpus C;
static char contract_id[37], policy_id[37];

static int add(struct plat_svc *svc, const char *name, const char *text, const char *tags, char id[37])
{
	return corpus_add(&C, svc, name, text, tags, id);
}

static int setup(void **state)
{
	(void)state;
	int rc = corpus_open(&C, "search");
	if (rc != 0 || !C.db)
		return rc;
	struct plat_svc svc;
	plat_svc_init(&svc, C.services, NULL);
	rc = add(&svc, "msa.txt",
		 "MASTER SERVICES AGREEMENT between Acme Corporation and Globex Ltd. Either party may terminate "
		 "this agreement with ninety days written notice. The governing law is the law of New York.",
		 "{\"team\":\"legal\"}", contract_id);
	if (rc == 0)
		rc = add(&svc, "laptops.md",
			 "# Laptop policy\n\nEvery laptop is encrypted with full disk encryption. Lost laptops are "
			 "reported to the security team within one hour.\n",
			 "{\"team\":\"it\"}", policy_id);
	plat_svc_done(&svc);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	return corpus_close(&C);
}

static const char *top_document(const cJSON *results)
{
	const cJSON *first = cJSON_GetArrayItem(results, 0);
	const cJSON *id = cJSON_GetObjectItem(first, "document_id");
	return cJSON_IsString(id) ? id->valuestring : "";
}

static void test_search_ranks_filters_and_stays_in_its_tenant(void **state)
{
	(void)state;
	if (!C.db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, C.services, NULL);
	struct plat_error err = {0};
	cJSON *r = NULL;
	struct plat_search_query q = {.text = "terminate with written notice", .k = 5};
	assert_int_equal(plat_search(&svc, &q, &r, &err), 0);
	assert_true(cJSON_GetArraySize(r) >= 1);
	assert_string_equal(top_document(r), contract_id);
	cJSON_Delete(r);
	q = (struct plat_search_query){.text = "encrypted laptop", .k = 5};
	assert_int_equal(plat_search(&svc, &q, &r, &err), 0);
	assert_string_equal(top_document(r), policy_id);
	cJSON_Delete(r);
	/* A tag filter leaves out the other team's document. */
	q = (struct plat_search_query){.text = "encrypted laptop", .k = 5, .tag_key = "team", .tag_value = "legal"};
	assert_int_equal(plat_search(&svc, &q, &r, &err), 0);
	const cJSON *hit;
	cJSON_ArrayForEach(hit, r) assert_string_equal(cJSON_GetObjectItem(hit, "document_id")->valuestring, contract_id);
	cJSON_Delete(r);
	/* A bad time filter is about the parameter, and says so without naming a flag. */
	q = (struct plat_search_query){.text = "laptop", .since = "yesterday-ish"};
	assert_true(plat_search(&svc, &q, &r, &err) < 0);
	assert_string_equal(err.param, "since");
	assert_null(strstr(err.message, "--"));
	q = (struct plat_search_query){.text = ""};
	assert_int_equal(plat_search(&svc, &q, &r, &err), -PLAT_E_USAGE);
	plat_svc_done(&svc);

	/* Another tenant sees none of it. */
	plat_svc_init(&svc, C.services, &(struct plat_call){.tenant = "globex"});
	q = (struct plat_search_query){.text = "encrypted laptop", .k = 5};
	assert_int_equal(plat_search(&svc, &q, &r, &err), 0);
	assert_int_equal(cJSON_GetArraySize(r), 0);
	cJSON_Delete(r);
	plat_svc_done(&svc);
	plat_svc_init(&svc, C.services, &(struct plat_call){.tenant = "initech"});
	assert_int_equal(plat_search(&svc, &q, &r, &err), -PLAT_E_NOT_FOUND);
	plat_svc_done(&svc);
}

static void test_ask_answers_with_citations_or_refuses(void **state)
{
	(void)state;
	if (!C.db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, C.services, NULL);
	struct plat_error err = {0};
	struct plat_ask_request req = {.query = {.text = "How much notice is needed to terminate the agreement?"}};
	struct plat_ask_result res = {0};
	assert_int_equal(plat_ask(&svc, &req, &res, &err), 0);
	assert_false(res.refused);
	const char *answer = cJSON_GetObjectItem(res.json, "answer")->valuestring;
	assert_non_null(strstr(answer, "[1]"));
	assert_int_equal(plat_ask_check_citations(answer, cJSON_GetArraySize(cJSON_GetObjectItem(res.json, "sources")),
						  &err),
			 0);
	cJSON_Delete(res.json);
	req.query.text = "What is the capital of Mongolia?";
	assert_int_equal(plat_ask(&svc, &req, &res, &err), 0);
	assert_true(res.refused);
	cJSON_Delete(res.json);
	plat_svc_done(&svc);
}

/* Ask's decision without asking anyone: the same sources and support as plat_ask, no
 * asks row; the support is the IDF-weighted coverage, so a question about the corpus
 * is supported and one about something it never mentions is not. */
static void test_prepare_decides_without_recording(void **state)
{
	(void)state;
	if (!C.db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, C.services, NULL);
	struct plat_error err = {0};
	struct plat_ask_prepared prep;
	struct plat_ask_request req = {.query = {.text = "Must lost laptops be reported to the security team?"}};
	assert_int_equal(plat_ask_prepare(&svc, &req, &prep, &err), 0);
	assert_false(prep.refused);
	assert_true(prep.support >= prep.min_support);
	assert_true(prep.min_support == PLAT_ASK_MIN_SUPPORT); /* no ask.min_support set */
	assert_non_null(strstr(prep.answer, "Lost laptops are reported to the security team within one hour. ["));
	const cJSON *first = cJSON_GetArrayItem(prep.sources, 0);
	assert_string_equal(cJSON_GetObjectItem(first, "document")->valuestring, "laptops.md");
	/* Where a source sits, whether or not search gave a section. */
	const cJSON *loc = cJSON_GetObjectItem(first, "location");
	assert_true(cJSON_IsNull(loc) || cJSON_IsString(loc));
	char where[256];
	plat_ask_source_location(first, where, sizeof(where));
	assert_non_null(strstr(where, "laptops.md"));
	plat_ask_prepared_free(&prep);

	req.query.text = "Which vaccinations are needed before travelling to Brazil?";
	assert_int_equal(plat_ask_prepare(&svc, &req, &prep, &err), 0);
	assert_true(prep.refused);
	assert_true(prep.support < 0.2);
	plat_ask_prepared_free(&prep);
	/* A threshold of 1 refuses all but complete coverage; the request's wins. */
	req = (struct plat_ask_request){.query = {.text = "Which law governs the agreement between Acme and Globex?"},
					.min_support = 1};
	assert_int_equal(plat_ask_prepare(&svc, &req, &prep, &err), 0);
	assert_true(prep.min_support == 1);
	assert_true(prep.support > 0.5);
	assert_int_equal(prep.refused, prep.support < 1);
	plat_ask_prepared_free(&prep);

	/* A name the documents never use refuses, however well the rest is covered; an
	 * ordinary word they do not use only weighs. */
	req = (struct plat_ask_request){.query = {.text = "Must lost laptops be reported to the Zorblaxian security team?"}};
	assert_int_equal(plat_ask_prepare(&svc, &req, &prep, &err), 0);
	assert_true(prep.refused);
	assert_true(prep.support == 0);
	assert_string_equal(prep.unknown_name, "zorblaxian");
	assert_true(prep.passage_coverage > 0.5);
	plat_ask_prepared_free(&prep);
	static const char *const names[] = {"with zorblax2 tools", "with zorblax_tool", "with ZorBlax"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char q[128];
		snprintf(q, sizeof(q), "Must lost laptops be reported to the security team %s?", names[i]);
		req = (struct plat_ask_request){.query = {.text = q}};
		assert_int_equal(plat_ask_prepare(&svc, &req, &prep, &err), 0);
		if (!prep.unknown_name || !prep.refused)
			fail_msg("'%s' is a name the documents never use", q);
		plat_ask_prepared_free(&prep);
	}
	req = (struct plat_ask_request){.query = {.text = "Zorblaxian laptops, lost: must they be reported to the security team?"}};
	assert_int_equal(plat_ask_prepare(&svc, &req, &prep, &err), 0);
	assert_null(prep.unknown_name); /* capitalised as the question's first word only */
	assert_true(prep.support > 0);
	plat_ask_prepared_free(&prep);
	req = (struct plat_ask_request){.query = {.text = "Must lost laptops be reported to the zorblaxian security team?"}};
	assert_int_equal(plat_ask_prepare(&svc, &req, &prep, &err), 0);
	assert_null(prep.unknown_name);
	assert_true(prep.support > 0 && prep.sources_coverage > prep.support / 2);
	plat_ask_prepared_free(&prep);

	PGresult *r;
	assert_int_equal(plat_db_exec(C.db, "SELECT count(*) FROM asks WHERE question LIKE '%Brazil%'", 0, NULL, &r, &err), 0);
	assert_string_equal(PQgetvalue(r, 0, 0), "0");
	PQclear(r);
	plat_svc_done(&svc);
}

static cJSON *hit(int rank, const char *doc, int page, const char *anchor, int fts, int vec)
{
	cJSON *h = cJSON_CreateObject();
	cJSON_AddNumberToObject(h, "rank", rank);
	cJSON_AddStringToObject(h, "document", doc);
	cJSON_AddNumberToObject(h, "page", page);
	if (anchor)
		cJSON_AddStringToObject(h, "anchor", anchor);
	else if (rank % 2)
		cJSON_AddNullToObject(h, "anchor"); /* null and absent alike */
	if (fts)
		cJSON_AddNumberToObject(h, "fts_rank", fts);
	else
		cJSON_AddNullToObject(h, "fts_rank");
	if (vec)
		cJSON_AddNumberToObject(h, "vector_rank", vec);
	return h;
}

/* Document, page and section ranks from one list of hits, as search would return them
 * with anchors (another document's anchor of the same name does not count). */
static void test_eval_ranks_pages_and_sections(void **state)
{
	(void)state;
	cJSON *hits = cJSON_CreateArray();
	cJSON_AddItemToArray(hits, hit(1, "other.html", 1, "pests", 1, 0));
	cJSON_AddItemToArray(hits, hit(2, "guide.html", 1, "watering", 0, 3));
	cJSON_AddItemToArray(hits, hit(3, "manual.pdf", 4, NULL, 2, 2));
	cJSON_AddItemToArray(hits, hit(4, "guide.html", 1, "pests", 5, 0));
	cJSON_AddItemToArray(hits, hit(5, "manual.pdf", 3, NULL, 0, 1));
	cJSON *expect = cJSON_CreateStringArray((const char *[]){"guide.html", "manual.pdf"}, 2);
	cJSON *pages = cJSON_CreateIntArray((const int[]){3}, 1);
	cJSON *sections = cJSON_CreateStringArray((const char *[]){"pests"}, 1);
	struct plat_eval_ranks r;
	plat_eval_rank(hits, expect, pages, sections, &r);
	assert_int_equal(r.rank, 2);
	assert_int_equal(r.fts_rank, 0); /* the first hit's halves: vectors only */
	assert_int_equal(r.vector_rank, 3);
	assert_int_equal(r.page_rank, 5);
	assert_int_equal(r.section_rank, 4);
	plat_eval_rank(hits, expect, NULL, NULL, &r);
	assert_int_equal(r.page_rank, 0);
	assert_int_equal(r.section_rank, 0);
	cJSON *nowhere = cJSON_CreateStringArray((const char *[]){"absent.txt"}, 1);
	plat_eval_rank(hits, nowhere, pages, sections, &r);
	assert_int_equal(r.rank + r.page_rank + r.section_rank + r.fts_rank + r.vector_rank, 0);
	cJSON_Delete(nowhere);
	cJSON_Delete(expect);
	cJSON_Delete(pages);
	cJSON_Delete(sections);
	cJSON_Delete(hits);
}

/* plat_eval over the two documents: an answerable question found and answered, an
 * unanswerable one refused, and the set checked before anything runs. */
static void test_eval_counts_refusals(void **state)
{
	(void)state;
	if (!C.db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, C.services, NULL);
	struct plat_error err = {0};
	const char *yaml = "{\"k\": 3, \"questions\": ["
			   "{\"question\": \"How quickly are lost laptops reported?\", \"expect\": \"laptops.md\", \"pages\": 1},"
			   "{\"question\": \"Who painted the Mona Lisa?\", \"answerable\": false}]}";
	cJSON *set = cJSON_Parse(yaml), *rep = NULL;
	assert_int_equal(plat_eval(&svc, "set", set, 0, 0, &rep, &err), 0);
	assert_int_equal(cJSON_GetObjectItem(rep, "questions")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(rep, "found")->valueint, 1);
	const cJSON *page = cJSON_GetObjectItem(rep, "page"), *ref = cJSON_GetObjectItem(rep, "refusals");
	assert_int_equal(cJSON_GetObjectItem(page, "found")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "section"), "questions")->valueint, 0);
	assert_int_equal(cJSON_GetObjectItem(ref, "answerable")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(ref, "false_refusals")->valueint, 0);
	assert_int_equal(cJSON_GetObjectItem(ref, "unanswerable")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(ref, "false_answers")->valueint, 0);
	const cJSON *r1 = cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "results"), 1);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r1, "refused")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r1, "rank")));
	cJSON_Delete(rep);
	/* Everything refused at a threshold nothing reaches... */
	assert_int_equal(plat_eval(&svc, "set", set, 0, 1.0 + 1e-9, &rep, &err), 0);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "refusals"), "false_refusals")->valueint, 1);
	cJSON_Delete(rep);
	cJSON_Delete(set);
	/* ...and an unanswerable question with expectations is a mistake in the set. */
	set = cJSON_Parse("{\"questions\": [{\"question\": \"x?\", \"answerable\": false, \"expect\": \"a.txt\"}]}");
	assert_int_equal(plat_eval(&svc, "set", set, 0, 0, &rep, &err), -PLAT_E_INVALID);
	assert_non_null(strstr(err.message, "questions[0]: an unanswerable question"));
	cJSON_Delete(set);
	set = cJSON_Parse("{\"questions\": [{\"question\": \"x?\", \"expect\": \"a.txt\", \"sections\": [1]}]}");
	assert_int_equal(plat_eval(&svc, "set", set, 0, 0, &rep, &err), -PLAT_E_INVALID);
	assert_non_null(strstr(err.message, "'sections' must be an anchor or a list of them"));
	cJSON_Delete(set);
	plat_svc_done(&svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_ranks_filters_and_stays_in_its_tenant),
		cmocka_unit_test(test_ask_answers_with_citations_or_refuses),
		cmocka_unit_test(test_prepare_decides_without_recording),
		cmocka_unit_test(test_eval_ranks_pages_and_sections),
		cmocka_unit_test(test_eval_counts_refusals),
	};
	return cmocka_run_group_tests_name("search", tests, setup, teardown);
}
