/* The sandbox (the exec'd, confined helper: limits, descriptors, user, seccomp filter) and
 * the text extractors on each document type, with their headings and titles, all through
 * platctl-extract (PDF's running headers and outline: test_extract_pdf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zip.h>

#include "extract/extract.h"
#include "mem/mem.h"

#include "headings.h"

/* ---- the helper's self-tests: hostile or broken parsers, confined as a parse is ---- */

static char helper[4096];
static char dir[64]; /* scratch, made by setup */

/* Run platctl-extract --self-test NAME (with --memory-limit when l sets memory) on in_fd. */
static int self_test(const char *name, int in_fd, const struct plat_sandbox_limits *l, struct plat_buf *out,
		     struct plat_error *err)
{
	char budget[32];
	snprintf(budget, sizeof(budget), "%lld", l && l->memory_bytes ? l->memory_bytes : 1LL << 30);
	const char *argv[] = {helper, "--memory-limit", budget, "--self-test", name, NULL};
	return plat_sandbox_exec(argv, in_fd, l, out, err);
}

static void expect(const char *name, const struct plat_sandbox_limits *l, int rc, const char *needle)
{
	struct plat_buf out = PLAT_BUF_INIT;
	struct plat_error err = {0};
	int got = self_test(name, -1, l, &out, &err);
	if (got != rc || (needle && !strstr(err.message, needle)))
		fail_msg("%s: rc %d (want %d), message '%s' (want '%s'), output '%s'", name, got, rc, err.message,
			 needle ? needle : "", out.data ? out.data : "");
	plat_buf_free(&out);
}

static void test_helper_found(void **state)
{
	(void)state;
	struct plat_error err = {0};
	if (plat_extract_helper(helper, sizeof(helper), &err) < 0)
		fail_msg("%s", err.message);
	/* beside the test binary, as beside platctl (the Makefile links it there) */
	assert_non_null(strstr(helper, "/" PLAT_EXTRACT_HELPER));
	assert_int_equal(access(helper, X_OK), 0);
	/* what could not be started says so */
	const char *argv[] = {"/nonexistent/platctl-extract", "--type", "text/plain", NULL};
	struct plat_buf out = PLAT_BUF_INIT;
	assert_int_equal(plat_sandbox_exec(argv, -1, NULL, &out, &err), -PLAT_E_INTERNAL);
	assert_non_null(strstr(err.message, "cannot start the parser '/nonexistent/platctl-extract'"));
	plat_buf_free(&out);
}

static void test_sandbox_limits(void **state)
{
	(void)state;
	struct plat_buf out = PLAT_BUF_INIT;
	struct plat_error err = {0};
	assert_int_equal(self_test("hello", -1, NULL, &out, &err), 0);
	assert_string_equal(out.data, "hello");
	plat_buf_free(&out);
	expect("refuse", NULL, -PLAT_E_INVALID, "not a document");
	expect("crash", NULL, -PLAT_E_FAILURE, "crashed");
	struct plat_sandbox_limits quick = {.timeout_ms = 500};
	expect("hang", &quick, -PLAT_E_FAILURE, "did not finish within 500 ms");
	struct plat_sandbox_limits cpu = {.cpu_seconds = 1, .timeout_ms = 20000};
	expect("spin", &cpu, -PLAT_E_FAILURE, "ran out of CPU time");
	/* The helper is never built with AddressSanitizer, so this holds in the sanitized
	 * tests too. */
	struct plat_sandbox_limits small = {.memory_bytes = 128 << 20, .timeout_ms = 20000};
	expect("hog", &small, -PLAT_E_FAILURE, "out of memory");
	struct plat_sandbox_limits little = {.max_output = 1 << 20};
	expect("flood", &little, -PLAT_E_FAILURE, "more than 1048576 bytes");
}

/* The value of "key value" line key in the helper's state report. */
static const char *state_value(const char *report, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	for (const char *line = report; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			const char *v = line + klen + 1, *nl = strchr(v, '\n');
			size_t n = nl ? (size_t)(nl - v) : strlen(v);
			snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), v);
			return buf;
		}
	}
	fail_msg("no '%s' in the helper's report:\n%s", key, report);
	return NULL;
}

/* What the helper holds when it starts parsing: only its input and result descriptors —
 * not the caller's connections (a socket and a file left inheritable here, as a careless
 * library would) —, no environment, no privileges, its limits, the seccomp filter. */
static void test_helper_holds_nothing(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0); /* not close-on-exec */
	int leaky = open("/etc/hostname", O_RDONLY);
	assert_true(leaky >= 0);
	setenv("PLATCTL_DATABASE_URL", "postgresql://app:secret@db/prod", 1);
	char path[300];
	snprintf(path, sizeof(path), "%s/input.txt", dir);
	FILE *f = fopen(path, "w");
	fputs("input", f);
	fclose(f);
	int in = open(path, O_RDONLY | O_CLOEXEC);
	struct plat_sandbox_limits l = {.cpu_seconds = 7};
	struct plat_buf out = PLAT_BUF_INIT;
	struct plat_error err = {0};
	if (self_test("state", in, &l, &out, &err) < 0)
		fail_msg("%s", err.message);
	close(in);
	close(sv[0]);
	close(sv[1]);
	close(leaky);
	unsetenv("PLATCTL_DATABASE_URL");
	char v[512], want[512];
	/* exactly fds 0 and 1 */
	state_value(out.data, "fds", v, sizeof(v));
	snprintf(want, sizeof(want), "0=%s 1=pipe:[", path);
	if (strncmp(v, want, strlen(want)) || strchr(strchr(v, ' ') + 1, ' '))
		fail_msg("the helper holds descriptors '%s' (want only '%s...]')", v, want);
	assert_string_equal(state_value(out.data, "env", v, sizeof(v)), "0");
	assert_string_equal(state_value(out.data, "no_new_privs", v, sizeof(v)), "1");
	assert_string_equal(state_value(out.data, "rlimit_fsize", v, sizeof(v)), "0");
	assert_string_equal(state_value(out.data, "rlimit_cpu", v, sizeof(v)), "7");
	assert_string_equal(state_value(out.data, "sid", v, sizeof(v)), "1");
	assert_string_equal(state_value(out.data, "seccomp", v, sizeof(v)), "2"); /* SECCOMP_MODE_FILTER */
	/* 1 GiB on top of what its libraries map (~70 MB), below the 1 GiB + 256 MiB ceiling
	 * set before exec */
	long long as = atoll(state_value(out.data, "rlimit_as", v, sizeof(v)));
	if (as <= 1LL << 30 || as >= (1LL << 30) + (200LL << 20))
		fail_msg("RLIMIT_AS %lld", as);
	if (geteuid() == 0) { /* root: nobody and nogroup, no supplementary groups */
		struct passwd *pw = getpwnam("nobody");
		struct group *gr = getgrnam("nogroup");
		snprintf(want, sizeof(want), "%d %d", pw ? (int)pw->pw_uid : 65534, pw ? (int)pw->pw_uid : 65534);
		assert_string_equal(state_value(out.data, "uid", v, sizeof(v)), want);
		snprintf(want, sizeof(want), "%d %d", gr ? (int)gr->gr_gid : 65534, gr ? (int)gr->gr_gid : 65534);
		assert_string_equal(state_value(out.data, "gid", v, sizeof(v)), want);
		assert_string_equal(state_value(out.data, "groups", v, sizeof(v)), "0");
	} else {
		snprintf(want, sizeof(want), "%d %d", (int)getuid(), (int)geteuid());
		assert_string_equal(state_value(out.data, "uid", v, sizeof(v)), want);
	}
	plat_buf_free(&out);
}

/* Opening, creating or changing files by name is refused with EACCES; signalling or
 * limiting another process with EPERM; the helper lives on. */
static void test_helper_cannot_open_files(void **state)
{
	(void)state;
	struct plat_buf out = PLAT_BUF_INIT;
	struct plat_error err = {0};
	if (self_test("files", -1, NULL, &out, &err) < 0)
		fail_msg("%s", err.message);
	assert_string_equal(out.data, "open EACCES\nopenat EACCES\ncreat EACCES\nfopen EACCES\nopendir EACCES\n"
				      "mkdir EACCES\nunlink EACCES\nrename EACCES\nkill_parent EPERM\nkill_all EPERM\n"
				      "prlimit_parent EPERM\n");
	plat_buf_free(&out);
}

/* Each of these kills the helper at once (SIGSYS), and the caller says so. */
static void test_helper_forbidden_calls(void **state)
{
	(void)state;
	static const char *const realistic[] = {"socket", "connect", "execve", "ptrace", "fork", NULL};
	for (const char *const *t = realistic; *t; t++)
		expect(*t, NULL, -PLAT_E_FAILURE, "the parser attempted a forbidden system call and was killed (signal 31, SIGSYS)");
	/* the rest of the list, by name with zero arguments */
	static const char *const calls[] = {
		"syscall:socketpair", "syscall:bind", "syscall:listen", "syscall:accept4", "syscall:sendmsg",
		"syscall:recvmsg", "syscall:execveat", "syscall:vfork", "syscall:process_vm_readv",
		"syscall:process_vm_writev", "syscall:pidfd_open", "syscall:pidfd_getfd", "syscall:bpf",
		"syscall:perf_event_open", "syscall:userfaultfd", "syscall:io_uring_setup", "syscall:keyctl",
		"syscall:add_key", "syscall:init_module", "syscall:kexec_load", "syscall:mount", "syscall:umount2",
		"syscall:pivot_root", "syscall:chroot", "syscall:unshare", "syscall:setns", "syscall:open_by_handle_at",
		"syscall:fsopen", "syscall:move_mount", NULL,
	};
	for (const char *const *t = calls; *t; t++)
		expect(*t, NULL, -PLAT_E_FAILURE, "SIGSYS");
}

/* ---- documents ---- */

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

	/* Declared charsets are converted inside the confined helper (which cannot open
	 * iconv's modules): windows-1252's curly quotes and euro sign, Shift_JIS. */
	const char w[] = "<html><head><meta charset=\"windows-1252\"></head><body><p>caf\xe9 \x93quoted\x94 \x80 5</p></body></html>";
	path = write_file("w.html", w, sizeof(w) - 1);
	extract(path, "text/html", &p);
	assert_non_null(strstr(p.pages[0].text, "caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x82\xac 5"));
	plat_pages_free(&p);
	free(path);
	const char sj[] = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=shift_jis\"></head>"
			  "<body><p>\x93\xfa\x96\x7b</p></body></html>";
	path = write_file("sj.html", sj, sizeof(sj) - 1);
	extract(path, "text/html", &p);
	assert_non_null(strstr(p.pages[0].text, "\xe6\x97\xa5\xe6\x9c\xac")); /* 日本 */
	plat_pages_free(&p);
	free(path);
}

static char *make_docx_styled(const char *name, const char *document_xml, size_t len, const char *styles_xml)
{
	char *path = plat_xmalloc(256);
	snprintf(path, 256, "%s/%s", dir, name);
	int e;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &e);
	zip_source_t *src = zip_source_buffer(z, document_xml, len, 0);
	zip_file_add(z, "word/document.xml", src, ZIP_FL_OVERWRITE);
	if (styles_xml)
		zip_file_add(z, "word/styles.xml", zip_source_buffer(z, styles_xml, strlen(styles_xml), 0), ZIP_FL_OVERWRITE);
	assert_int_equal(zip_close(z), 0);
	return path;
}

static char *make_docx(const char *name, const char *document_xml, size_t len)
{
	return make_docx_styled(name, document_xml, len, NULL);
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

/* ---- where the text sits: headings, titles, running headers ---- */

static void test_html_headings(void **state)
{
	(void)state;
	const char h[] =
		"<html><head><title>Guide</title></head><body>"
		"<nav><h2>Navigation</h2><a href=\"x\">home</a></nav><div role=\"navigation\"><h3 id=\"toc\">Contents</h3></div>"
		"<h1>Guide</h1><p>Intro.</p>"
		"<h2 id=\"install\">Install</h2><p>Run it.</p>"
		"<section id=\"usage\"><span id=\"x\"></span><h2>Usage<a class=\"headerlink\" href=\"#usage\">\xc2\xb6</a></h2>"
		"<p>Use it.</p><section id=\"flags\"><h3>Flags</h3><p>Flags text.</p><h4 id=\"deep\">Deep</h4><p>Deeper.</p>"
		"</section><h3>Second in usage</h3><p>More.</p></section>"
		"<div id=\"faq\"><h2><a name=\"questions\"></a>FAQ</h2><p>Ask.</p></div>"
		"<h2 id=\"empty\"> </h2>"
		"<div class=\"refentry\"><a name=\"ref.one\"></a><div class=\"titlepage\"></div><h2>Ref one</h2><p>R.</p></div>"
		"<a name=\"stale\"></a><p>Text between.</p><h2>Ref two</h2></body></html>";
	char *path = write_file("headings.html", h, sizeof(h) - 1);
	struct plat_pages p;
	extract(path, "text/html", &p);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.title, "Guide");
	const struct plat_page *pg = &p.pages[0];
	assert_int_equal(pg->n_headings, 8); /* not the menus', not h4, not the empty one */
	expect_heading(pg, 0, 1, "Guide", NULL, "# Guide\nIntro.");
	expect_heading(pg, 1, 2, "Install", "install", "## Install\n");
	expect_heading(pg, 2, 2, "Usage", "usage", "## Usage\n"); /* the section's id; no permalink sign */
	expect_heading(pg, 3, 3, "Flags", "flags", "### Flags\n");
	expect_heading(pg, 4, 3, "Second in usage", NULL, "### Second in usage\n"); /* usage names Usage */
	expect_heading(pg, 5, 2, "FAQ", "questions", "## FAQ\n");		     /* <a name> before the div's id */
	expect_heading(pg, 6, 2, "Ref one", "ref.one", "## Ref one\n"); /* DocBook's <a name> just before it */
	expect_heading(pg, 7, 2, "Ref two", NULL, "## Ref two");	 /* not one with text in between */
	assert_null(strstr(pg->text, "\xc2\xb6"));
	assert_non_null(strstr(pg->text, "Navigation")); /* the menu's text stays */
	plat_pages_free(&p);
	free(path);
	/* No <title>: the first h1; no headings at all: none. */
	const char h2[] = "<html><body><h2>Before</h2><h1 id=\"t\">Real  title</h1><p>x</p></body></html>";
	path = write_file("notitle.html", h2, sizeof(h2) - 1);
	extract(path, "text/html", &p);
	assert_string_equal(p.title, "Real title");
	assert_int_equal(p.pages[0].n_headings, 2);
	plat_pages_free(&p);
	free(path);
	path = write_file("plain.html", "<p>just text</p>", 16);
	extract(path, "text/html", &p);
	assert_null(p.title);
	assert_int_equal(p.pages[0].n_headings, 0);
	plat_pages_free(&p);
	free(path);
}

static void test_markdown_headings(void **state)
{
	(void)state;
	/* A bad byte before a heading (three bytes once replaced) must not shift its offset;
	 * a fence left open at a page break goes on on the next page. */
	const char md[] = "# The Title\n\xff intro\n## A #\n```sh\n# not a heading\n```\n   ### A.1 ###\n#### four\n#nospace\n"
			  "    # indented code\n~~~\n# code\f# still code\n~~~\n## B\ntext\n";
	char *path = write_file("a.md", md, sizeof(md) - 1);
	struct plat_pages p;
	extract(path, "text/markdown", &p);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.title, "The Title");
	assert_int_equal(p.pages[0].n_headings, 3);
	expect_heading(&p.pages[0], 0, 1, "The Title", NULL, "# The Title\n");
	expect_heading(&p.pages[0], 1, 2, "A", NULL, "## A #\n");
	expect_heading(&p.pages[0], 2, 3, "A.1", NULL, "   ### A.1 ###");
	assert_int_equal(p.pages[1].n_headings, 1);
	expect_heading(&p.pages[1], 0, 2, "B", NULL, "## B\ntext");
	plat_pages_free(&p);
	/* The same bytes as plain text have no headings and no title. */
	extract(path, "text/plain", &p);
	assert_null(p.title);
	assert_int_equal(p.pages[0].n_headings + p.pages[1].n_headings, 0);
	plat_pages_free(&p);
	free(path);
}

static void test_docx_headings(void **state)
{
	(void)state;
	/* Style ids as a German Word names them, mapped through styles.xml. */
	const char styles[] = "<w:styles " W ">"
			      "<w:style w:type=\"paragraph\" w:styleId=\"Titel\"><w:name w:val=\"Title\"/></w:style>"
			      "<w:style w:type=\"paragraph\" w:styleId=\"berschrift1\"><w:name w:val=\"heading 1\"/></w:style>"
			      "<w:style w:type=\"paragraph\" w:styleId=\"berschrift2\"><w:name w:val=\"heading 2\"/></w:style>"
			      "<w:style w:type=\"paragraph\" w:styleId=\"berschrift4\"><w:name w:val=\"heading 4\"/></w:style>"
			      "</w:styles>";
#define P(style, text) "<w:p><w:pPr><w:pStyle w:val=\"" style "\"/></w:pPr><w:r><w:t>" text "</w:t></w:r></w:p>"
	const char xml[] = "<w:document " W "><w:body>" P("Titel", "Supplier agreement")
		P("berschrift1", "1 Parties") "<w:p><w:r><w:t>Acme and Globex.</w:t></w:r></w:p>"
		P("berschrift2", "1.1 Acme") P("berschrift4", "Too deep")
		"<w:p><w:r><w:br w:type=\"page\"/><w:t>Next page.</w:t></w:r></w:p>" P("berschrift1", "2 Terms")
		P("Heading1", "not a style of this file") "</w:body></w:document>";
	char *path = make_docx_styled("styled.docx", xml, sizeof(xml) - 1, styles);
	struct plat_pages p;
	extract(path, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", &p);
	assert_string_equal(p.title, "Supplier agreement");
	assert_int_equal(p.n, 2);
	assert_int_equal(p.pages[0].n_headings, 2);
	expect_heading(&p.pages[0], 0, 1, "1 Parties", NULL, "1 Parties\nAcme");
	expect_heading(&p.pages[0], 1, 2, "1.1 Acme", NULL, "1.1 Acme\n");
	assert_int_equal(p.pages[1].n_headings, 1);
	expect_heading(&p.pages[1], 0, 1, "2 Terms", NULL, "2 Terms\n");
	plat_pages_free(&p);
	free(path);
	/* Without styles.xml, Word's own ids; no Title: the first heading is the title. */
	const char xml2[] = "<w:document " W "><w:body>" P("Heading2", "Scope") "<w:p><w:r><w:t>All.</w:t></w:r></w:p>"
		P("Heading3", "Detail") "</w:body></w:document>";
	path = make_docx("plain-styles.docx", xml2, sizeof(xml2) - 1);
	extract(path, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", &p);
	assert_string_equal(p.title, "Scope");
	assert_int_equal(p.pages[0].n_headings, 2);
	expect_heading(&p.pages[0], 1, 3, "Detail", NULL, "Detail\n");
	plat_pages_free(&p);
	free(path);
#undef P
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
		cmocka_unit_test(test_helper_found),
		cmocka_unit_test(test_sandbox_limits),
		cmocka_unit_test(test_helper_holds_nothing),
		cmocka_unit_test(test_helper_cannot_open_files),
		cmocka_unit_test(test_helper_forbidden_calls),
		cmocka_unit_test(test_text_and_markdown),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_docx),
		cmocka_unit_test(test_pdf),
		cmocka_unit_test(test_html_headings),
		cmocka_unit_test(test_markdown_headings),
		cmocka_unit_test(test_docx_headings),
	};
	return cmocka_run_group_tests_name("extract", tests, setup, teardown);
}
