/* The processing pipeline on real PostgreSQL (TEST_DATABASE_URL) with the file store. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "migrate/migrate.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

#include "harness.h"

static char url[512], root[64];
static struct plat_db *db;
static struct plat_store *store;
static struct plat_taxonomy *taxonomy;
static struct plat_svc svc;

static int setup(void **state)
{
	(void)state;
	int rc = harness_database("pipe", url, sizeof(url), &db);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	struct plat_error err = {0};
	char surl[128];
	if (harness_file_store("pipe", root, surl) < 0)
		return -1;
	struct plat_store_options so = {.url = surl};
	if (plat_store_open(&so, &store, &err) < 0 || plat_taxonomy_load("etc/platctl/classes.yaml", &taxonomy, &err) < 0)
		return -1;
	svc = (struct plat_svc){.db = db, .store = store, .tenant = "default", .principal = "worker", .request_id = "req-p"};
	return plat_svc_enter(&svc, "consume", PLAT_NEEDS_TENANT, &err) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!db)
		return 0;
	plat_db_close(db);
	plat_store_close(store);
	plat_taxonomy_free(taxonomy);
	return harness_remove(root);
}

struct mem {
	const char *s;
	size_t len, pos;
};

static ssize_t mem_read(void *arg, char *buf, size_t len)
{
	struct mem *m = arg;
	size_t n = m->len - m->pos < len ? m->len - m->pos : len;
	memcpy(buf, m->s + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/* Store content and record a document for it, as upload does. */
static char *add_document(const char *name, const char *type, const char *content, size_t len)
{
	struct plat_error err = {0};
	struct mem m = {content, len, 0};
	struct plat_store_put_result res;
	char tmpkey[128];
	snprintf(tmpkey, sizeof(tmpkey), "default/tmp-%s", name);
	assert_int_equal(plat_store_put(store, tmpkey, mem_read, &m, type, &res, &err), 0);
	char *key = plat_documents_storage_key(&svc, res.sha256);
	m.pos = 0;
	assert_int_equal(plat_store_put(store, key, mem_read, &m, type, &res, &err), 0);
	struct plat_new_document nd = {name, NULL, NULL, type, (long long)len, res.sha256, key, "{}"};
	cJSON *doc;
	const char *outcome;
	assert_int_equal(plat_documents_create(&svc, &nd, true, &doc, &outcome, &err), 0);
	char *id = plat_xstrdup(cJSON_GetObjectItem(doc, "id")->valuestring);
	cJSON_Delete(doc);
	free(key);
	return id;
}

static const char *value(const char *sql, const char *id)
{
	static char out[4096];
	const char *params[] = {id};
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(db, sql, 1, params, &r, &err) < 0)
		fail_msg("%s", err.message);
	snprintf(out, sizeof(out), "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return out;
}

static void test_processes_a_contract_once(void **state)
{
	(void)state;
	if (!db)
		skip();
	const char text[] = "MASTER SERVICES AGREEMENT\n\nThis Agreement is made by and between Acme Corporation and "
			    "Globex Ltd, hereinafter the Parties. The Provider shall deliver the services. This agreement "
			    "is valid until 31.03.2027. Fees are EUR 1,200.00 per month.\fSchedule A lists the services. "
			    "The governing law is the law of New York.";
	char *id = add_document("msa.txt", "text/plain", text, sizeof(text) - 1);
	struct plat_pipeline p = {.svc = &svc, .taxonomy = taxonomy, .external_allow = "", .chunk_tokens = 20,
				  .chunk_overlap = 4};
	enum plat_pipeline_outcome o;
	struct plat_error err = {0};
	if (plat_pipeline_process(&p, id, &o, &err) < 0)
		fail_msg("%s", err.message);
	assert_int_equal(o, PLAT_PIPELINE_PROCESSED);
	assert_string_equal(value("SELECT status FROM documents WHERE id = $1", id), "processed");
	assert_string_equal(value("SELECT class FROM documents WHERE id = $1", id), "contract");
	assert_string_equal(value("SELECT ai_provider FROM documents WHERE id = $1", id), "builtin");
	assert_string_equal(value("SELECT fields->'expiry_dates'->>0 FROM documents WHERE id = $1", id), "2027-03-31");
	assert_string_equal(value("SELECT fields->'parties'->>0 FROM documents WHERE id = $1", id), "Acme Corporation");
	assert_true(strlen(value("SELECT summary FROM documents WHERE id = $1", id)) > 20);
	assert_string_equal(value("SELECT stage_timings ? 'extract_ms' AND stage_timings ? 'embed_ms' FROM documents"
				  " WHERE id = $1", id), "t");
	/* Chunks: several, on both pages, with 384-dim embeddings and searchable text. */
	assert_true(atoi(value("SELECT count(*) FROM chunks WHERE document_id = $1", id)) >= 3);
	assert_string_equal(value("SELECT string_agg(DISTINCT page::text, ',') FROM chunks WHERE document_id = $1", id), "1,2");
	assert_string_equal(value("SELECT bool_and(vector_dims(embedding) = 384 AND embedding_model = 'builtin-hash-384-v1')"
				  " FROM chunks WHERE document_id = $1", id), "t");
	assert_string_equal(value("SELECT count(*) > 0 FROM chunks WHERE document_id = $1"
				  " AND tsv @@ websearch_to_tsquery('english', 'governing law')", id), "t");
	assert_string_equal(value("SELECT count(*) FROM outbox WHERE aggregate_id = $1 AND event_type = 'document.processed'", id), "1");
	/* Again: the same pipeline version does nothing. */
	const char *first = plat_xstrdup(value("SELECT string_agg(id::text, ',' ORDER BY id) FROM chunks WHERE document_id = $1", id));
	assert_int_equal(plat_pipeline_process(&p, id, &o, &err), 0);
	assert_int_equal(o, PLAT_PIPELINE_SKIPPED);
	assert_string_equal(value("SELECT string_agg(id::text, ',' ORDER BY id) FROM chunks WHERE document_id = $1", id), first);
	free((void *)first);
	free(id);
}

static void test_failures_are_recorded(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_pipeline p = {.svc = &svc, .taxonomy = taxonomy, .external_allow = ""};
	enum plat_pipeline_outcome o;
	struct plat_error err = {0};
	/* Not a PDF at all. */
	char *id = add_document("fake.pdf", "application/pdf", "%PDF-1.4 nonsense", 17);
	assert_int_equal(plat_pipeline_process(&p, id, &o, &err), -PLAT_E_INVALID);
	assert_string_equal(value("SELECT status FROM documents WHERE id = $1", id), "failed");
	assert_non_null(strstr(value("SELECT error FROM documents WHERE id = $1", id), "not a readable PDF"));
	assert_string_equal(value("SELECT count(*) FROM chunks WHERE document_id = $1", id), "0");
	free(id);
	/* Content changed in the store behind the document's back. */
	id = add_document("changed.txt", "text/plain", "original text here.", 19);
	char key[256];
	snprintf(key, sizeof(key), "%s", value("SELECT storage_key FROM documents WHERE id = $1", id));
	struct mem m = {"tampered text", 13, 0};
	struct plat_store_put_result res;
	assert_int_equal(plat_store_put(store, key, mem_read, &m, NULL, &res, &err), 0);
	assert_int_equal(plat_pipeline_process(&p, id, &o, &err), -PLAT_E_FAILURE);
	assert_non_null(strstr(value("SELECT error FROM documents WHERE id = $1", id), "does not match"));
	free(id);
}

/* Redelivery can hand one document to several workers at once (an expired lease, a Kafka
 * rebalance): whatever the interleaving, exactly one of them saves it. */
struct racer {
	pthread_barrier_t *start;
	const char *id;
	enum plat_pipeline_outcome outcome;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct plat_error err = {0};
	struct plat_db_options o = {.url = url, .connect_timeout_ms = 10000};
	struct plat_db *mine;
	if (plat_db_connect(&o, &mine, &err) < 0) {
		r->rc = -1;
		return NULL;
	}
	struct plat_svc s = svc;
	s.db = mine;
	struct plat_pipeline p = {.svc = &s, .taxonomy = taxonomy, .external_allow = ""};
	pthread_barrier_wait(r->start);
	r->rc = plat_pipeline_process(&p, r->id, &r->outcome, &err);
	plat_db_close(mine);
	return NULL;
}

static void test_concurrent_workers_save_once(void **state)
{
	(void)state;
	if (!db)
		skip();
	const char text[] = "Racing workers. Each of them reads this text. Only one may save it.";
	char *id = add_document("race.txt", "text/plain", text, sizeof(text) - 1);
	enum { N = 4 };
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, N);
	struct racer r[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		r[i] = (struct racer){.start = &start, .id = id};
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	int saved = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].rc, 0);
		saved += r[i].outcome == PLAT_PIPELINE_PROCESSED;
	}
	pthread_barrier_destroy(&start);
	assert_int_equal(saved, 1);
	assert_string_equal(value("SELECT status FROM documents WHERE id = $1", id), "processed");
	assert_string_equal(value("SELECT count(*) FROM outbox WHERE aggregate_id = $1 AND event_type = 'document.processed'", id), "1");
	assert_string_equal(value("SELECT count(*) = count(DISTINCT ord) FROM chunks WHERE document_id = $1", id), "t");
	assert_string_equal(value("SELECT count(*) FROM audit_log WHERE object_id = $1 AND action = 'document.process'", id), "1");
	free(id);
}

/* Each chunk is stored with where it sits: the title, the heading path, the anchor. */
static void test_chunks_know_their_section(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_pipeline p = {.svc = &svc, .taxonomy = taxonomy, .external_allow = ""};
	enum plat_pipeline_outcome o;
	struct plat_error err = {0};
	const char md[] = "# Handbook\n\nWelcome to the handbook.\n\n## Leave\n\nStaff take leave in writing.\n\n"
			  "### Sick leave\n\nCall in before nine.\n";
	char *id = add_document("handbook.md", "text/markdown", md, sizeof(md) - 1);
	if (plat_pipeline_process(&p, id, &o, &err) < 0)
		fail_msg("%s", err.message);
	assert_string_equal(value("SELECT string_agg(coalesce(section, '-') || '|' || coalesce(anchor, '-'), ';' ORDER BY ord)"
				  " FROM chunks WHERE document_id = $1", id),
			    "-|-;Leave|-;Leave > Sick leave|-");
	assert_string_equal(value("SELECT bool_and(title = 'Handbook') FROM chunks WHERE document_id = $1", id), "t");
	assert_string_equal(value("SELECT text FROM chunks WHERE document_id = $1 AND section = 'Leave > Sick leave'", id),
			    "### Sick leave\n\nCall in before nine.");
	free(id);
	const char html[] = "<html><head><title>Policies</title></head><body><h1>Policies</h1><p>All of them.</p>"
			    "<section id=\"travel\"><h2>Travel</h2><p>Book early.</p><h3 id=\"rail\">Rail</h3><p>Go by train.</p>"
			    "</section></body></html>";
	id = add_document("policies.html", "text/html", html, sizeof(html) - 1);
	if (plat_pipeline_process(&p, id, &o, &err) < 0)
		fail_msg("%s", err.message);
	assert_string_equal(value("SELECT section || '|' || anchor || '|' || title FROM chunks WHERE document_id = $1"
				  " AND text LIKE '%Book early%'", id),
			    "Travel|travel|Policies");
	assert_string_equal(value("SELECT section || '|' || anchor FROM chunks WHERE document_id = $1"
				  " AND text LIKE '%train%'", id),
			    "Travel > Rail|rail");
	assert_string_equal(value("SELECT count(*) FROM chunks WHERE document_id = $1 AND text LIKE '%early%train%'", id), "0");
	free(id);
	/* Plain text has none of them: NULLs, not empty strings. */
	id = add_document("plain.txt", "text/plain", "Just a note. Nothing more.", 26);
	if (plat_pipeline_process(&p, id, &o, &err) < 0)
		fail_msg("%s", err.message);
	assert_string_equal(value("SELECT count(*) FROM chunks WHERE document_id = $1"
				  " AND title IS NULL AND section IS NULL AND anchor IS NULL", id), "1");
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_processes_a_contract_once),
		cmocka_unit_test(test_failures_are_recorded),
		cmocka_unit_test(test_chunks_know_their_section),
		cmocka_unit_test(test_concurrent_workers_save_once),
	};
	return cmocka_run_group_tests_name("pipeline", tests, setup, teardown);
}
