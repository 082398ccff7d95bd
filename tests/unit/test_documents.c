/* The documents service on real PostgreSQL (TEST_DATABASE_URL) and the file store, through
 * the service context as the commands and the server use it: upload (created, unchanged,
 * new version, bad content, a failing stream, XHTML sniffing, skipped types), read
 * (verified), remove (with purge), requeue, and per-call request ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "documents/documents.h"
#include "hash/hash.h"
#include "migrate/migrate.h"
#include "store/store.h"

#include "harness.h"

static char url[512], root[64];
static struct plat_config *cfg;
static struct plat_services *services;
static struct plat_db *db; /* the test's own connection, for checks */

static int setup(void **state)
{
	(void)state;
	int rc = harness_database("docs", url, sizeof(url), &db);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	char surl[128];
	struct plat_error err = {0};
	if (harness_file_store("docs", root, surl) < 0 || !(cfg = harness_config(url, surl)))
		return -1;
	return plat_services_open(cfg, NULL, &(struct plat_services_options){.pool_size = 4}, &services, &err);
}

static int teardown(void **state)
{
	(void)state;
	if (!db)
		return 0;
	plat_services_close(services);
	plat_config_free(cfg);
	plat_db_close(db);
	return harness_remove(root);
}

static const char *value(const char *sql, const char *p1)
{
	static char out[4096];
	const char *params[] = {p1};
	PGresult *r;
	struct plat_error err = {0};
	if (plat_db_exec(db, sql, p1 ? 1 : 0, p1 ? params : NULL, &r, &err) < 0)
		fail_msg("%s", err.message);
	snprintf(out, sizeof(out), "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return out;
}

/* A stream of bytes, failing with errno after fail_after bytes when fail_after >= 0. */
struct stream {
	const char *s;
	size_t len, pos;
	long fail_after;
};

static ssize_t stream_read(void *arg, char *buf, size_t cap)
{
	struct stream *m = arg;
	if (m->fail_after >= 0 && m->pos >= (size_t)m->fail_after) {
		errno = EIO;
		return -1;
	}
	size_t n = m->len - m->pos < cap ? m->len - m->pos : cap;
	if (m->fail_after >= 0 && m->pos + n > (size_t)m->fail_after)
		n = (size_t)m->fail_after - m->pos;
	if (n > 7)
		n = 7; /* short reads, as a pipe gives them */
	memcpy(buf, m->s + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static int upload(struct plat_svc *svc, const char *name, const char *text, bool new_version, cJSON **doc,
		  struct plat_error *err)
{
	struct stream m = {text, strlen(text), 0, -1};
	struct plat_upload_request req = {.src = {.fd = -1, .read = stream_read, .read_arg = &m}, .name = name,
					  .new_version = new_version};
	return plat_documents_upload(svc, &req, doc, err);
}

static const char *str(const cJSON *doc, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, field);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static int count_files(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "find '%s' -type f | wc -l", root);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static void test_upload_created_unchanged_new_version(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
	struct plat_error err = {0};
	cJSON *a = NULL, *b = NULL, *c = NULL;
	const char *text = "Master services agreement between Acme and Globex. Valid until 2027-03-31.\n";
	assert_int_equal(upload(&svc, "msa.txt", text, false, &a, &err), 0);
	assert_string_equal(str(a, "outcome"), "created");
	assert_string_equal(str(a, "content_type"), "text/plain");
	char sha[65];
	plat_sha256_hex(text, strlen(text), sha);
	assert_string_equal(str(a, "sha256"), sha);
	assert_int_equal(upload(&svc, "copy.txt", text, false, &b, &err), 0);
	assert_string_equal(str(b, "outcome"), "unchanged");
	assert_string_equal(str(b, "id"), str(a, "id"));
	assert_int_equal(upload(&svc, "msa.txt", text, true, &c, &err), 0);
	assert_string_equal(str(c, "outcome"), "new_version");
	assert_int_equal(cJSON_GetObjectItem(c, "version")->valueint, 2);
	/* Each document's event carries the call's request id. */
	assert_string_equal(value("SELECT count(*) FROM outbox WHERE request_id = $1", svc.request_id), "2");
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	plat_svc_done(&svc);
}

static void test_upload_refuses_bad_content(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
	struct plat_error err = {0};
	cJSON *doc = NULL;
	int files = count_files();
	assert_int_equal(upload(&svc, "empty.txt", "", false, &doc, &err), -PLAT_E_INVALID);
	assert_non_null(strstr(err.message, "empty"));
	assert_int_equal(upload(&svc, "../x.txt", "text", false, &doc, &err), -PLAT_E_INVALID);
	assert_non_null(strstr(err.message, "invalid document name"));
	assert_int_equal(upload(&svc, "bin.txt", "\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00", false,
				&doc, &err), -PLAT_E_INVALID);
	assert_non_null(strstr(err.message, "not allowed"));
	/* A stream that fails midway is an error, never a shorter document. */
	const char *text = "A contract that is cut off in the middle of its second sentence, by a read error.";
	struct stream m = {text, strlen(text), 0, 20};
	struct plat_upload_request req = {.src = {.fd = -1, .read = stream_read, .read_arg = &m}, .name = "cut.txt"};
	assert_int_equal(plat_documents_upload(&svc, &req, &doc, &err), -PLAT_E_FAILURE);
	assert_non_null(strstr(err.message, "cannot read"));
	assert_null(doc);
	assert_string_equal(value("SELECT count(*) FROM documents WHERE name = $1", "cut.txt"), "0");
	assert_int_equal(count_files(), files);
	/* No command-line option in a library message. */
	assert_null(strstr(err.message, "--"));
	plat_svc_done(&svc);
}

/* The sniffed content type of text uploaded as name, or NULL when refused (err says why). */
static const char *sniffed(struct plat_svc *svc, const char *name, const char *text, struct plat_error *err)
{
	static char type[64];
	cJSON *doc = NULL;
	if (upload(svc, name, text, true, &doc, err) < 0)
		return NULL;
	snprintf(type, sizeof(type), "%s", str(doc, "content_type"));
	cJSON_Delete(doc);
	return type;
}

/* XHTML as DocBook/XSL and gtk-doc write it opens with an XML declaration, which libmagic
 * calls text/xml; other XML must stay refused. */
static void test_upload_sniffs_xhtml(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
	struct plat_error err = {0};
	static const char *const xhtml[] = {
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 "
		"Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html "
		"xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>Chapter 1</title></head><body><p>One.</p></body></html>\n",
		/* a byte order mark, white space, comments, a stylesheet instruction, upper case */
		"\xEF\xBB\xBF \r\n<?XML version='1.0'?>\n<!-- generated -->\n<?xml-stylesheet href=\"a.css\"?>\n"
		"<!-- twice --><!DOCTYPE HTML>\n<HTML><BODY><P>Two.</P></BODY></HTML>\n",
		/* no doctype: the root element says it */
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?><html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">"
		"<body><p>Three.</p></body></html>",
	};
	for (size_t i = 0; i < sizeof(xhtml) / sizeof(xhtml[0]); i++) {
		const char *t = sniffed(&svc, "page.html", xhtml[i], &err);
		if (!t)
			fail_msg("xhtml %zu refused: %s", i, err.message);
		assert_string_equal(t, "application/xhtml+xml");
	}
	/* Without the declaration it is HTML; a .xhtml name picks XHTML as .md picks Markdown. */
	const char *bare = "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>Four.</p></body></html>";
	assert_string_equal(sniffed(&svc, "four.html", bare, &err), "text/html");
	assert_string_equal(sniffed(&svc, "four.XHTML", bare, &err), "application/xhtml+xml");
	assert_string_equal(sniffed(&svc, "five.html", "<!-- header -->\n<!doctype html><p>Five.</p>", &err), "text/html");

	static const char *const not_xhtml[] = {
		"<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>News</title></channel></rss>\n",
		"<?xml version=\"1.0\"?>\n<!DOCTYPE book PUBLIC \"-//OASIS//DTD DocBook XML V4.5//EN\" "
		"\"http://www.oasis-open.org/docbook/xml/4.5/docbookx.dtd\">\n<book><title>Manual</title></book>\n",
		"<?xml version=\"1.0\" standalone=\"no\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" "
		"height=\"10\"><rect width=\"10\" height=\"10\"/></svg>\n",
		"<?xml version=\"1.0\"?>\n<!-- html --><htmlx><body>not html</body></htmlx>\n",
		"<?xml version=\"1.0\"?>\n<!DOCTYPE htmlbook>\n<htmlbook/>\n",
		/* an XML root cannot be body; the comment never ends within the head */
		"<?xml version=\"1.0\"?>\n<body><p>x</p></body>\n",
		"<?xml version=\"1.0\"?>\n<!-- <html> and no end\n",
	};
	for (size_t i = 0; i < sizeof(not_xhtml) / sizeof(not_xhtml[0]); i++) {
		const char *t = sniffed(&svc, "feed.html", not_xhtml[i], &err);
		if (t)
			fail_msg("xml %zu accepted as %s", i, t);
		assert_non_null(strstr(err.message, "is not allowed"));
	}
	plat_svc_done(&svc);
}

/* In a directory walk a type not allowed is an outcome, and nothing is hashed or stored. */
static void test_upload_skips_disallowed_types(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
	struct plat_error err = {0};
	int files = count_files();
	const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
	struct stream m = {png, sizeof(png) - 1, 0, -1};
	struct plat_upload_request req = {.src = {.fd = -1, .read = stream_read, .read_arg = &m}, .name = "logo.png",
					  .skip_disallowed = true};
	cJSON *doc = NULL;
	assert_int_equal(plat_documents_upload(&svc, &req, &doc, &err), 0);
	assert_string_equal(str(doc, "outcome"), "skipped");
	assert_string_equal(str(doc, "name"), "logo.png");
	assert_string_equal(str(doc, "content_type"), "image/png");
	assert_non_null(strstr(str(doc, "reason"), "type unknown (image/png) is not allowed"));
	assert_null(cJSON_GetObjectItem(doc, "id"));
	cJSON_Delete(doc);
	assert_string_equal(value("SELECT count(*) FROM documents WHERE name = $1", "logo.png"), "0");
	assert_int_equal(count_files(), files);
	/* Only the type is skipped: an empty file is still an error. */
	struct stream e = {"", 0, 0, -1};
	req.src.read_arg = &e;
	req.name = "empty.png";
	doc = NULL;
	assert_int_equal(plat_documents_upload(&svc, &req, &doc, &err), -PLAT_E_INVALID);
	assert_null(doc);
	/* A stylesheet is plain text to libmagic: its name narrows it, as .md does. */
	const char *css = "body { color: red; margin: 0 auto; }\n";
	assert_null(sniffed(&svc, "basic.css", css, &err));
	assert_non_null(strstr(err.message, "(text/css) is not allowed"));
	assert_string_equal(sniffed(&svc, "basic.txt", css, &err), "text/plain");
	/* Without the flag the same content is refused. */
	m.pos = 0;
	req.src.read_arg = &m;
	assert_int_equal(plat_documents_upload(&svc, &(struct plat_upload_request){.src = req.src, .name = "logo.png"},
						&doc, &err),
			 -PLAT_E_INVALID);
	assert_null(doc);
	plat_svc_done(&svc);
}

static int to_buf(void *arg, const char *buf, size_t len)
{
	plat_buf_append(arg, buf, len);
	return 0;
}

static void test_read_verifies_and_remove_purges(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
	struct plat_error err = {0};
	const char *text = "# Laptop policy\n\nAll laptops are encrypted with a passphrase.\n";
	cJSON *a = NULL, *b = NULL, *doc = NULL;
	assert_int_equal(upload(&svc, "policy.md", text, false, &a, &err), 0);
	assert_int_equal(upload(&svc, "policy.md", text, true, &b, &err), 0);
	struct plat_buf got = PLAT_BUF_INIT;
	assert_int_equal(plat_documents_read(&svc, str(a, "id"), to_buf, &got, &doc, &err), 0);
	assert_int_equal(got.len, strlen(text));
	assert_memory_equal(got.data, text, got.len);
	cJSON_Delete(doc);

	/* Two documents share the object: purging one keeps it. */
	cJSON *r = NULL;
	assert_int_equal(plat_documents_remove(&svc, str(a, "id"), true, &r, &err), 0);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(r, "object_purged")));
	cJSON_Delete(r);
	assert_int_equal(plat_documents_read(&svc, str(a, "id"), to_buf, &got, &doc, &err), -PLAT_E_NOT_FOUND);
	plat_buf_reset(&got);
	assert_int_equal(plat_documents_read(&svc, str(b, "id"), to_buf, &got, &doc, &err), 0);
	cJSON_Delete(doc);

	/* A corrupt object fails loudly. */
	char path[512];
	snprintf(path, sizeof(path), "find '%s' -type f -name '%s' -exec sh -c 'printf x >> \"$1\"' _ {} \\;", root,
		 str(b, "sha256"));
	assert_int_equal(system(path), 0);
	plat_buf_reset(&got);
	assert_int_equal(plat_documents_read(&svc, str(b, "id"), to_buf, &got, &doc, &err), -PLAT_E_FAILURE);
	assert_non_null(strstr(err.message, "corrupt"));
	assert_null(doc);

	/* The last user goes: the object goes with it. */
	assert_int_equal(plat_documents_remove(&svc, str(b, "id"), true, &r, &err), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "object_purged")));
	cJSON_Delete(r);
	/* Another tenant's id is not found, never forbidden; an unknown id likewise. */
	assert_int_equal(plat_documents_remove(&svc, "00000000-0000-0000-0000-000000000000", false, &r, &err),
			 -PLAT_E_NOT_FOUND);
	plat_buf_free(&got);
	cJSON_Delete(a);
	cJSON_Delete(b);
	plat_svc_done(&svc);
}

static void test_requeue_and_request_ids(void **state)
{
	(void)state;
	if (!db)
		skip();
	struct plat_svc one, two;
	plat_svc_init(&one, services, &(struct plat_call){.request_id = "req-one-0001"});
	plat_svc_init(&two, services, &(struct plat_call){.request_id = "req-two-0002"});
	struct plat_error err = {0};
	cJSON *a = NULL, *b = NULL, *doc = NULL;
	assert_int_equal(upload(&one, "one.txt", "The first call's document, about invoices.\n", false, &a, &err), 0);
	assert_int_equal(upload(&two, "two.txt", "The second call's document, about laptops.\n", false, &b, &err), 0);
	assert_string_equal(value("SELECT request_id FROM outbox WHERE aggregate_id = $1::uuid", str(a, "id")),
			    "req-one-0001");
	assert_string_equal(value("SELECT request_id FROM outbox WHERE aggregate_id = $1::uuid", str(b, "id")),
			    "req-two-0002");
	/* Only failed or processed documents are requeued. */
	assert_int_equal(plat_documents_requeue(&one, str(a, "id"), &doc, &err), -PLAT_E_CONFLICT);
	const char *params[] = {str(a, "id")};
	assert_int_equal(plat_db_exec(db, "UPDATE documents SET status = 'failed', error = 'x' WHERE id = $1", 1, params,
				      NULL, &err),
			 0);
	assert_int_equal(plat_documents_requeue(&one, str(a, "id"), &doc, &err), 0);
	assert_string_equal(str(doc, "status"), "queued");
	assert_string_equal(value("SELECT count(*) FROM outbox WHERE aggregate_id = $1::uuid AND event_type = "
				  "'document.uploaded'",
				  str(a, "id")),
			    "2");
	cJSON_Delete(doc);
	cJSON_Delete(a);
	cJSON_Delete(b);
	plat_svc_done(&one);
	plat_svc_done(&two);
}

/* One context per thread over shared services, as the server will run requests. */
struct uploader {
	int n;
	int failures;
	char request_id[65];
};

static void *upload_many(void *arg)
{
	struct uploader *u = arg;
	struct plat_svc svc;
	plat_svc_init(&svc, services, NULL);
	snprintf(u->request_id, sizeof(u->request_id), "%s", svc.request_id);
	for (int i = 0; i < 10; i++) {
		char text[128], name[32];
		/* Half the content is shared by every thread: they race on the same objects. */
		snprintf(text, sizeof(text), "Document %d of thread %d, about encrypted laptops.\n", i, i % 2 ? u->n : 0);
		snprintf(name, sizeof(name), "par%d-%d.txt", u->n, i);
		struct plat_error err = {0};
		cJSON *doc = NULL;
		if (upload(&svc, name, text, false, &doc, &err) < 0)
			u->failures++;
		cJSON_Delete(doc);
		plat_svc_done(&svc);
		plat_svc_init(&svc, services, &(struct plat_call){.request_id = u->request_id});
	}
	plat_svc_done(&svc);
	return NULL;
}

static void test_contexts_per_thread_over_shared_services(void **state)
{
	(void)state;
	if (!db)
		skip();
	enum { N = 8 };
	struct uploader u[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		u[i] = (struct uploader){.n = i + 1};
		assert_int_equal(pthread_create(&th[i], NULL, upload_many, &u[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(u[i].failures, 0);
	}
	/* Shared content once per tenant; the rest once each. Each event under its thread's id. */
	assert_string_equal(value("SELECT count(DISTINCT sha256) FROM documents WHERE name LIKE 'par%'", NULL), "45");
	for (int i = 0; i < N; i++) {
		int mine = atoi(value("SELECT count(*) FROM outbox WHERE request_id = $1", u[i].request_id));
		assert_true(mine >= 5 && mine <= 10);
	}
}

static void test_tag_parser(void **state)
{
	(void)state;
	struct plat_error err = {0};
	char *k;
	const char *v;
	assert_int_equal(plat_tag_parse("team=legal", &k, &v, &err), 0);
	assert_string_equal(k, "team");
	assert_string_equal(v, "legal");
	free(k);
	assert_int_equal(plat_tag_parse("=x", &k, &v, &err), -PLAT_E_INVALID);
	assert_int_equal(plat_tag_parse("novalue", &k, &v, &err), -PLAT_E_INVALID);
	assert_int_equal(plat_tag_parse("k=\xff\xfe", &k, &v, &err), -PLAT_E_INVALID);
	char *json;
	const char *tags[] = {"a=1", "b=2", "a=3"};
	assert_int_equal(plat_tags_json(tags, 3, &json, &err), 0);
	assert_string_equal(json, "{\"b\":\"2\",\"a\":\"3\"}");
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_created_unchanged_new_version),
		cmocka_unit_test(test_upload_refuses_bad_content),
		cmocka_unit_test(test_upload_sniffs_xhtml),
		cmocka_unit_test(test_upload_skips_disallowed_types),
		cmocka_unit_test(test_read_verifies_and_remove_purges),
		cmocka_unit_test(test_requeue_and_request_ids),
		cmocka_unit_test(test_contexts_per_thread_over_shared_services),
		cmocka_unit_test(test_tag_parser),
	};
	return cmocka_run_group_tests_name("documents", tests, setup, teardown);
}
