/* The sandbox (limits on hostile work) and the text extractors on each document type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zip.h>

#include "extract/extract.h"
#include "io/io.h"
#include "mem/mem.h"

/* ---- hostile children ---- */

static int say_hello(void *arg, int fd)
{
	(void)arg;
	return plat_write_all(fd, "hello", 5);
}

static int refuse(void *arg, int fd)
{
	(void)arg;
	plat_write_all(fd, "not a document", 14);
	return 1;
}

static int crash(void *arg, int fd)
{
	(void)arg;
	(void)fd;
	raise(SIGSEGV);
	return 0;
}

static int hang(void *arg, int fd)
{
	(void)arg;
	(void)fd;
	for (;;)
		pause();
	return 0;
}

static int spin(void *arg, int fd)
{
	(void)arg;
	(void)fd;
	for (volatile unsigned long i = 0;; i++)
		;
	return 0;
}

static int hog(void *arg, int fd)
{
	(void)arg;
	(void)fd;
	for (;;) { /* plat_xmalloc aborts when the address-space limit is reached */
		char *p = plat_xmalloc(16 << 20);
		memset(p, 1, 16 << 20);
	}
	return 0;
}

static int flood(void *arg, int fd)
{
	(void)arg;
	char buf[4096];
	memset(buf, 'x', sizeof(buf));
	for (;;)
		if (plat_write_all(fd, buf, sizeof(buf)) < 0)
			return 1;
}

static void expect(plat_sandbox_fn fn, const struct plat_sandbox_limits *l, int rc, const char *needle)
{
	struct plat_buf out = PLAT_BUF_INIT;
	struct plat_error err = {0};
	int got = plat_sandbox_run(fn, NULL, l, &out, &err);
	if (got != rc || (needle && !strstr(err.message, needle)))
		fail_msg("rc %d (want %d), message '%s' (want '%s')", got, rc, err.message, needle ? needle : "");
	plat_buf_free(&out);
}

static void test_sandbox_limits(void **state)
{
	(void)state;
	struct plat_buf out = PLAT_BUF_INIT;
	struct plat_error err = {0};
	assert_int_equal(plat_sandbox_run(say_hello, NULL, NULL, &out, &err), 0);
	assert_string_equal(out.data, "hello");
	plat_buf_free(&out);
	expect(refuse, NULL, -PLAT_E_INVALID, "not a document");
	expect(crash, NULL, -PLAT_E_FAILURE, "crashed");
	struct plat_sandbox_limits quick = {.timeout_ms = 500};
	expect(hang, &quick, -PLAT_E_FAILURE, "did not finish within 500 ms");
	struct plat_sandbox_limits cpu = {.cpu_seconds = 1, .timeout_ms = 20000};
	expect(spin, &cpu, -PLAT_E_FAILURE, "ran out of CPU time");
#if !defined(__SANITIZE_ADDRESS__)
	/* (Under AddressSanitizer the sandbox cannot limit address space; see sandbox.c.) */
	struct plat_sandbox_limits small = {.memory_bytes = 128 << 20, .timeout_ms = 20000};
	expect(hog, &small, -PLAT_E_FAILURE, NULL);
#else
	(void)hog;
#endif
	struct plat_sandbox_limits little = {.max_output = 1 << 20};
	expect(flood, &little, -PLAT_E_FAILURE, "more than 1048576 bytes");
}

/* ---- documents ---- */

static char dir[64];

static char *write_file(const char *name, const void *data, size_t len)
{
	char *path = plat_xmalloc(256);
	snprintf(path, 256, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	fwrite(data, 1, len, f);
	fclose(f);
	return path;
}

static void extract(const char *path, const char *type, struct plat_pages *p)
{
	struct plat_error err = {0};
	if (plat_extract_file(path, type, NULL, p, &err) < 0)
		fail_msg("%s: %s", path, err.message);
}

static void test_text_and_markdown(void **state)
{
	(void)state;
	const char t[] = "First page \xff bad byte\fSecond page.";
	char *path = write_file("a.txt", t, sizeof(t) - 1);
	struct plat_pages p;
	extract(path, "text/plain", &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.pages[1].number, 2);
	assert_string_equal(p.pages[0].text, "First page \xef\xbf\xbd bad byte"); /* valid UTF-8 */
	assert_string_equal(p.pages[1].text, "Second page.");
	plat_pages_free(&p);
	free(path);
}

static void test_html(void **state)
{
	(void)state;
	const char h[] = "<html><head><title>T</title><style>p{color:red}</style><script>alert('x')</script></head>"
			 "<body><h1>Policy</h1><p>All   laptops\nare <b>encrypted</b> &amp; backed up.</p>"
			 "<ul><li>one</li><li>two</li></ul><noscript>js off</noscript></body></html>";
	char *path = write_file("a.html", h, sizeof(h) - 1);
	struct plat_pages p;
	extract(path, "text/html", &p);
	assert_int_equal(p.n, 1);
	const char *t = p.pages[0].text;
	assert_non_null(strstr(t, "# Policy\n"));
	assert_non_null(strstr(t, "All laptops are encrypted & backed up."));
	assert_non_null(strstr(t, "one\n"));
	assert_null(strstr(t, "alert"));
	assert_null(strstr(t, "color"));
	assert_null(strstr(t, "js off"));
	plat_pages_free(&p);
	free(path);

	/* 100,000 nested elements: past libxml2's default depth of 256 the rest of the file
	 * used to vanish without a word, and a recursive walk would overflow the stack. */
	struct plat_buf deep = PLAT_BUF_INIT;
	plat_buf_puts(&deep, "<html><body><p>Before the nesting.</p>");
	for (int i = 0; i < 100000; i++)
		plat_buf_puts(&deep, "<div>");
	plat_buf_puts(&deep, "Deep inside.");
	for (int i = 0; i < 100000; i++)
		plat_buf_puts(&deep, "</div>");
	plat_buf_puts(&deep, "<p>After the nesting.</p></body></html>");
	path = write_file("deep.html", deep.data, deep.len);
	extract(path, "text/html", &p);
	assert_int_equal(p.n, 1);
	assert_non_null(strstr(p.pages[0].text, "Before the nesting."));
	assert_non_null(strstr(p.pages[0].text, "Deep inside."));
	assert_non_null(strstr(p.pages[0].text, "After the nesting."));
	plat_pages_free(&p);
	plat_buf_free(&deep);
	free(path);
}

static char *make_docx(const char *name, const char *document_xml, size_t len)
{
	char *path = plat_xmalloc(256);
	snprintf(path, 256, "%s/%s", dir, name);
	int e;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &e);
	zip_source_t *src = zip_source_buffer(z, document_xml, len, 0);
	zip_file_add(z, "word/document.xml", src, ZIP_FL_OVERWRITE);
	assert_int_equal(zip_close(z), 0);
	return path;
}

#define W "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\""

static void test_docx(void **state)
{
	(void)state;
	const char xml[] = "<w:document " W "><w:body>"
			   "<w:p><w:r><w:t>Supplier agreement</w:t></w:r></w:p>"
			   "<w:p><w:r><w:t xml:space=\"preserve\">between Acme </w:t><w:tab/><w:t>and Globex.</w:t></w:r></w:p>"
			   "<w:p><w:r><w:br w:type=\"page\"/><w:t>Schedule A</w:t></w:r></w:p>"
			   "</w:body></w:document>";
	char *path = make_docx("a.docx", xml, sizeof(xml) - 1);
	struct plat_pages p;
	extract(path, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", &p);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.pages[0].text, "Supplier agreement\nbetween Acme \tand Globex.\n");
	assert_string_equal(p.pages[1].text, "Schedule A\n");
	plat_pages_free(&p);
	free(path);
	/* A zip bomb: 80 MB of zeros in a few hundred KB is refused before it is read. */
	size_t big = 80u << 20;
	char *zeros = plat_xcalloc(1, big);
	path = make_docx("bomb.docx", zeros, big);
	free(zeros);
	struct plat_error err = {0};
	assert_int_equal(plat_extract_file(path, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
					   NULL, &p, &err), -PLAT_E_INVALID);
	assert_non_null(strstr(err.message, "too large"));
	free(path);
	path = write_file("notzip.docx", "hello", 5);
	assert_int_equal(plat_extract_file(path, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
					   NULL, &p, &err), -PLAT_E_INVALID);
	free(path);
}

/* A two-page PDF with correct cross-reference offsets. */
static char *make_pdf(size_t *len)
{
	const char *objs[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R /Resources << /Font << /F1 7 0 R >> >> >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 6 0 R /Resources << /Font << /F1 7 0 R >> >> >>",
		NULL, NULL,
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	};
	const char *streams[] = {"BT /F1 24 Tf 72 700 Td (Hello page one) Tj ET", "BT /F1 24 Tf 72 700 Td (Second page) Tj ET"};
	struct plat_buf b = PLAT_BUF_INIT;
	long offsets[8];
	plat_buf_puts(&b, "%PDF-1.4\n");
	for (int i = 0; i < 7; i++) {
		offsets[i] = (long)b.len;
		if (objs[i])
			plat_buf_printf(&b, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
		else
			plat_buf_printf(&b, "%d 0 obj\n<< /Length %zu >>\nstream\n%s\nendstream\nendobj\n", i + 1,
					strlen(streams[i - 4]), streams[i - 4]);
	}
	long xref = (long)b.len;
	plat_buf_puts(&b, "xref\n0 8\n0000000000 65535 f \n");
	for (int i = 0; i < 7; i++)
		plat_buf_printf(&b, "%010ld 00000 n \n", offsets[i]);
	plat_buf_printf(&b, "trailer\n<< /Size 8 /Root 1 0 R >>\nstartxref\n%ld\n%%%%EOF\n", xref);
	*len = b.len;
	return plat_buf_detach(&b);
}

static void test_pdf(void **state)
{
	(void)state;
	size_t len;
	char *pdf = make_pdf(&len);
	char *path = write_file("a.pdf", pdf, len);
	struct plat_pages p;
	extract(path, "application/pdf", &p);
	assert_int_equal(p.n, 2);
	assert_non_null(strstr(p.pages[0].text, "Hello page one"));
	assert_non_null(strstr(p.pages[1].text, "Second page"));
	assert_int_equal(p.pages[1].number, 2);
	plat_pages_free(&p);
	free(path);
	/* Damaged: the first half of it, and garbage. */
	path = write_file("half.pdf", pdf, len / 2);
	struct plat_error err = {0};
	int rc = plat_extract_file(path, "application/pdf", NULL, &p, &err);
	assert_true(rc == 0 || rc == -PLAT_E_INVALID); /* poppler may recover some of it; it never crashes */
	if (rc == 0)
		plat_pages_free(&p);
	free(path);
	path = write_file("garbage.pdf", "%PDF-1.4\n\x01\x02garbage", 19);
	assert_int_equal(plat_extract_file(path, "application/pdf", NULL, &p, &err), -PLAT_E_INVALID);
	assert_non_null(strstr(err.message, "not a readable PDF"));
	free(path);
	free(pdf);
	assert_int_equal(plat_extract_file("/nonexistent", "image/png", NULL, &p, &err), -PLAT_E_INVALID);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/platctl-extract-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sandbox_limits),
		cmocka_unit_test(test_text_and_markdown),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_docx),
		cmocka_unit_test(test_pdf),
	};
	return cmocka_run_group_tests_name("extract", tests, setup, teardown);
}
