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
#include "search/search.h"

#include "harness.h"

static char url[512], root[64];
static struct plat_config *cfg;
static struct plat_services *services;
static struct plat_db *db;
static struct plat_taxonomy *taxonomy;
static char contract_id[37], policy_id[37];

static ssize_t text_read(void *arg, char *buf, size_t cap)
{
	const char **s = arg;
	size_t n = strlen(*s) < cap ? strlen(*s) : cap;
	memcpy(buf, *s, n);
	*s += n;
	return (ssize_t)n;
}

static int add(struct plat_svc *svc, const char *name, const char *text, const char *tags, char id[37])
{
	struct plat_error err = {0};
	const char *cursor = text;
	struct plat_upload_request req = {.src = {.fd = -1, .read = text_read, .read_arg = &cursor}, .name = name,
					  .tags_json = tags};
	cJSON *doc = NULL;
	if (plat_documents_upload(svc, &req, &doc, &err) < 0) {
		fprintf(stderr, "upload: %s\n", err.message);
		return -1;
	}
	snprintf(id, 37, "%s", cJSON_GetObjectItem(doc, "id")->valuestring);
	cJSON_Delete(doc);
	struct plat_pipeline p = {.svc = svc, .taxonomy = taxonomy, .external_allow = ""};
	enum plat_pipeline_outcome o;
	if (plat_pipeline_process(&p, id, &o, &err) < 0) {
		fprintf(stderr, "pipeline: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int setup(void **state)
{
	(void)state;
	int rc = harness_database("search", url, sizeof(url), &db);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	char surl[128];
	struct plat_error err = {0};
	if (harness_file_store("search", root, surl) < 0 || !(cfg = harness_config(url, surl)) ||
	    plat_db_exec(db, "INSERT INTO tenants (name) VALUES ('globex')", 0, NULL, NULL, &err) < 0 ||
	    plat_services_open(cfg, NULL, NULL, &services, &err) < 0 ||
	    plat_taxonomy_load("etc/platctl/classes.yaml", &taxonomy, &err) < 0)
		return -1;
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
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
	if (!db)
		return 0;
	plat_taxonomy_free(taxonomy);
	plat_services_close(services);
	plat_config_free(cfg);
	plat_db_close(db);
	return harness_remove(root);
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
	if (!db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
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
	plat_svc_init(&svc, services, &(struct plat_call){.tenant = "globex"});
	q = (struct plat_search_query){.text = "encrypted laptop", .k = 5};
	assert_int_equal(plat_search(&svc, &q, &r, &err), 0);
	assert_int_equal(cJSON_GetArraySize(r), 0);
	cJSON_Delete(r);
	plat_svc_done(&svc);
	plat_svc_init(&svc, services, &(struct plat_call){.tenant = "initech"});
	assert_int_equal(plat_search(&svc, &q, &r, &err), -PLAT_E_NOT_FOUND);
	plat_svc_done(&svc);
}

static void test_ask_answers_with_citations_or_refuses(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_ranks_filters_and_stays_in_its_tenant),
		cmocka_unit_test(test_ask_answers_with_citations_or_refuses),
	};
	return cmocka_run_group_tests_name("search", tests, setup, teardown);
}
