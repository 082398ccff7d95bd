/* Where PDF text sits, through platctl-extract on generated PDFs: running headers and
 * footers out of the text (and plat_extract_running alone), the outline and larger type
 * as headings; and the frames the helper writes, checked like any untrusted input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extract/extract.h"
#include "mem/mem.h"

#include "headings.h"

static char dir[64]; /* scratch, made by setup */

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

/* A PDF of pages of lines (12 pt Helvetica, top to bottom; "# " and "## " before a line set
 * it in 20 and 16 pt), with an Info title and an
 * outline when given: entries with their level and page (from 0), some reached through a
 * named destination. */
struct outline_item {
	const char *title;
	int level, page;
	bool named;
};

static char *make_pdf_doc(const char *const *const *pages, int n, const char *title, const struct outline_item *ol,
			  int n_ol, size_t *len)
{
	/* 1 catalog, 2 pages, 3 font, 4 info, 5 dests, 6 outlines, then 2 per page, then items */
	int first_page = 7, first_item = 7 + 2 * n, total = first_item + n_ol - 1;
	long *offsets = plat_xcalloc((size_t)total + 1, sizeof(long));
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_puts(&b, "%PDF-1.4\n");
#define OBJ(k) (offsets[k] = (long)b.len, plat_buf_printf(&b, "%d 0 obj\n", k))
	OBJ(1);
	plat_buf_printf(&b, "<< /Type /Catalog /Pages 2 0 R /Dests 5 0 R%s >>\nendobj\n", n_ol ? " /Outlines 6 0 R" : "");
	OBJ(2);
	plat_buf_puts(&b, "<< /Type /Pages /Kids [");
	for (int i = 0; i < n; i++)
		plat_buf_printf(&b, "%d 0 R ", first_page + 2 * i);
	plat_buf_printf(&b, "] /Count %d >>\nendobj\n", n);
	OBJ(3);
	plat_buf_puts(&b, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
	OBJ(4);
	plat_buf_printf(&b, "<< /Producer (test)%s%s%s >>\nendobj\n", title ? " /Title (" : "", title ? title : "",
			title ? ")" : "");
	OBJ(5);
	plat_buf_puts(&b, "<<");
	for (int i = 0; i < n_ol; i++)
		if (ol[i].named)
			plat_buf_printf(&b, " /d%d [%d 0 R /XYZ 0 792 0]", i, first_page + 2 * ol[i].page);
	plat_buf_puts(&b, " >>\nendobj\n");
	/* The outline tree from the levels: parent, siblings, children. */
	int parent[64], prev[64], next[64], first[64], last[64], count[64];
	for (int i = 0; i < n_ol; i++) {
		parent[i] = -1, prev[i] = next[i] = first[i] = last[i] = -1, count[i] = 0;
		for (int k = i - 1; k >= 0; k--)
			if (ol[k].level < ol[i].level) {
				parent[i] = k;
				break;
			}
		for (int k = i - 1; k >= 0 && ol[k].level >= ol[i].level; k--)
			if (ol[k].level == ol[i].level && parent[k] == parent[i]) {
				prev[i] = k, next[k] = i;
				break;
			}
		if (parent[i] >= 0) {
			if (first[parent[i]] < 0)
				first[parent[i]] = i;
			last[parent[i]] = i;
		}
	}
	for (int i = 0; i < n_ol; i++)
		for (int k = parent[i]; k >= 0; k = parent[k])
			count[k]++;
	int top_first = -1, top_last = -1;
	for (int i = 0; i < n_ol; i++)
		if (parent[i] < 0) {
			top_first = top_first < 0 ? i : top_first;
			top_last = i;
		}
	OBJ(6);
	if (n_ol)
		plat_buf_printf(&b, "<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>\nendobj\n",
				first_item + top_first, first_item + top_last, n_ol);
	else
		plat_buf_puts(&b, "<< >>\nendobj\n");
	for (int i = 0; i < n; i++) {
		struct plat_buf c = PLAT_BUF_INIT;
		int y = 750;
		for (const char *const *l = pages[i]; *l; l++, y -= 24) {
			int hashes = (int)strspn(*l, "#"); /* "# " 20 pt, "## " 16 pt */
			plat_buf_printf(&c, "BT /F1 %d Tf 72 %d Td (%s) Tj ET\n", hashes == 1 ? 20 : hashes == 2 ? 16 : 12, y,
					*l + (hashes ? hashes + 1 : 0));
		}
		OBJ(first_page + 2 * i);
		plat_buf_printf(&b, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R"
				    " /Resources << /Font << /F1 3 0 R >> >> >>\nendobj\n", first_page + 2 * i + 1);
		OBJ(first_page + 2 * i + 1);
		plat_buf_printf(&b, "<< /Length %zu >>\nstream\n%s\nendstream\nendobj\n", c.len, c.data);
		plat_buf_free(&c);
	}
	for (int i = 0; i < n_ol; i++) {
		OBJ(first_item + i);
		plat_buf_printf(&b, "<< /Title (%s) /Parent %d 0 R", ol[i].title, parent[i] < 0 ? 6 : first_item + parent[i]);
		if (prev[i] >= 0)
			plat_buf_printf(&b, " /Prev %d 0 R", first_item + prev[i]);
		if (next[i] >= 0)
			plat_buf_printf(&b, " /Next %d 0 R", first_item + next[i]);
		if (first[i] >= 0)
			plat_buf_printf(&b, " /First %d 0 R /Last %d 0 R /Count %d", first_item + first[i], first_item + last[i],
					count[i]);
		if (ol[i].named)
			plat_buf_printf(&b, " /Dest /d%d", i);
		else
			plat_buf_printf(&b, " /Dest [%d 0 R /XYZ 0 792 0]", first_page + 2 * ol[i].page);
		plat_buf_puts(&b, " >>\nendobj\n");
	}
#undef OBJ
	long xref = (long)b.len;
	plat_buf_printf(&b, "xref\n0 %d\n0000000000 65535 f \n", total + 1);
	for (int i = 1; i <= total; i++)
		plat_buf_printf(&b, "%010ld 00000 n \n", offsets[i]);
	plat_buf_printf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%ld\n%%%%EOF\n", total + 1, xref);
	free(offsets);
	*len = b.len;
	return plat_buf_detach(&b);
}

/* A manual: its name on top of every page, "Chapter N: ..." below it on all but each
 * chapter's first page, "Page N" at the foot. */
static void test_pdf_running_headers(void **state)
{
	(void)state;
	static const char *const pages[8][8] = {
		{"Widget Manual", "1 Basics", "Widgets are small. Note well.", "They turn.", "Page 1", NULL},
		{"Widget Manual", "Chapter 1: Basics", "Note well.", "Widgets need oil.", "Page 2", NULL},
		{"Widget Manual", "Chapter 1: Basics", "Oil them weekly.", "Page 3", NULL},
		{"Widget Manual", "Chapter 1: Basics", "Clean them too.", "4", "Page 4", NULL},
		{"Widget Manual", "2 Advanced", "Widgets can fly.", "Page 5", NULL},
		{"Widget Manual", "Chapter 2: Advanced", "Flying needs wings.", "Page 6", NULL},
		{"Widget Manual", "Chapter 2: Advanced", "Wings need care.", "Page 7", NULL},
		{"Widget Manual", "Chapter 2: Advanced", "Land softly.", "Page 8", NULL},
	};
	const char *const *list[8];
	for (int i = 0; i < 8; i++)
		list[i] = pages[i];
	size_t len;
	char *pdf = make_pdf_doc(list, 8, "Widget Manual", NULL, 0, &len);
	char *path = write_file("manual.pdf", pdf, len);
	free(pdf);
	struct plat_pages p;
	extract(path, "application/pdf", &p);
	assert_int_equal(p.n, 8);
	assert_string_equal(p.title, "Widget Manual");
	assert_int_equal(p.running_lines, 8 + 8 + 6);
	for (size_t i = 0; i < p.n; i++) {
		const char *t = p.pages[i].text;
		if (strstr(t, "Widget Manual") || strstr(t, "Chapter") || strstr(t, "Page "))
			fail_msg("page %zu keeps a running line:\n%s", i + 1, t);
		const char *want = i < 4 ? "Chapter 1: Basics" : "Chapter 2: Advanced";
		if (!p.pages[i].running || strcmp(p.pages[i].running, want))
			fail_msg("page %zu's running header '%s' (want '%s')", i + 1, p.pages[i].running ? p.pages[i].running : "", want);
	}
	/* the text around them stays, the chapters' own titles and a line on two pages too */
	assert_non_null(strstr(p.pages[0].text, "1 Basics\n"));
	assert_non_null(strstr(p.pages[4].text, "2 Advanced\n"));
	assert_non_null(strstr(p.pages[1].text, "Note well."));
	assert_non_null(strstr(p.pages[3].text, "Clean them too.\n4\n")); /* a number, but not a footer */
	assert_int_equal(p.pages[0].n_headings, 0);
	plat_pages_free(&p);
	free(path);
	/* Two pages repeat nothing often enough. */
	pdf = make_pdf_doc(list, 2, NULL, NULL, 0, &len);
	path = write_file("short.pdf", pdf, len);
	free(pdf);
	extract(path, "application/pdf", &p);
	assert_int_equal(p.running_lines, 0);
	assert_non_null(strstr(p.pages[1].text, "Chapter 1: Basics"));
	assert_null(p.title);
	plat_pages_free(&p);
	free(path);
}

static void test_pdf_outline(void **state)
{
	(void)state;
	static const char *const p1[] = {"1 Basics", "Widgets are small.", "1.1 Setup", "Unpack the widget.", NULL};
	static const char *const p2[] = {"More setup text.", "1.2 Cleaning", "Use a cloth.", NULL};
	static const char *const p3[] = {"2 Advanced", "Widgets can fly.", "2.1 Deep", "Deeper still.", "2.1.1 Deeper",
					 "2.1.1.1 Too deep", NULL};
	const char *const *list[] = {p1, p2, p3};
	const struct outline_item ol[] = {
		{"1 Basics", 1, 0, false},  {"1.1 Setup", 2, 0, false}, {"Cleaning", 2, 1, true},
		{"Not on the page", 3, 1, false}, {"2 Advanced", 1, 2, false}, {"2.1 Deep", 2, 2, false},
		{"2.1.1 Deeper", 3, 2, false}, {"2.1.1.1 Too deep", 4, 2, false},
	};
	size_t len;
	char *pdf = make_pdf_doc(list, 3, NULL, ol, 8, &len);
	char *path = write_file("outline.pdf", pdf, len);
	free(pdf);
	struct plat_pages p;
	extract(path, "application/pdf", &p);
	assert_string_equal(p.title, "1 Basics"); /* no Info title: the outline's first entry */
	assert_int_equal(p.pages[0].n_headings, 2);
	expect_heading(&p.pages[0], 0, 1, "1 Basics", NULL, "1 Basics\n");
	expect_heading(&p.pages[0], 1, 2, "1.1 Setup", NULL, "1.1 Setup\nUnpack");
	/* through a named destination; the number the outline leaves out comes from the page */
	assert_int_equal(p.pages[1].n_headings, 2);
	expect_heading(&p.pages[1], 0, 2, "1.2 Cleaning", NULL, "1.2 Cleaning\n");
	expect_heading(&p.pages[1], 1, 3, "Not on the page", NULL, "1.2 Cleaning"); /* after the one before it */
	assert_int_equal(p.pages[2].n_headings, 3); /* level 4 is not kept */
	expect_heading(&p.pages[2], 1, 2, "2.1 Deep", NULL, "2.1 Deep\n");
	expect_heading(&p.pages[2], 2, 3, "2.1.1 Deeper", NULL, "2.1.1 Deeper\n");
	plat_pages_free(&p);
	free(path);
}

/* Without an outline, the lines set larger than the body are the headings. */
static void test_pdf_font_headings(void **state)
{
	(void)state;
	static const char *const p1[] = {"# Widgets", "Widgets are small and they turn.", "## Oiling", "Oil them weekly.",
					 "## Cleaning the", "## widget well", "Use a cloth.", NULL};
	static const char *const p2[] = {"More about cloths and water.", "# Flying", "Widgets can fly.", NULL};
	const char *const *list[] = {p1, p2};
	size_t len;
	char *pdf = make_pdf_doc(list, 2, NULL, NULL, 0, &len);
	char *path = write_file("fonts.pdf", pdf, len);
	free(pdf);
	struct plat_pages p;
	extract(path, "application/pdf", &p);
	assert_string_equal(p.title, "Widgets"); /* no Info title, no outline: the first heading */
	assert_int_equal(p.pages[0].n_headings, 3);
	expect_heading(&p.pages[0], 0, 1, "Widgets", NULL, "Widgets\n");
	expect_heading(&p.pages[0], 1, 2, "Oiling", NULL, "Oiling\n");
	expect_heading(&p.pages[0], 2, 2, "Cleaning the widget well", NULL, "Cleaning the\nwidget well\n"); /* one, wrapped */
	assert_int_equal(p.pages[1].n_headings, 1);
	expect_heading(&p.pages[1], 0, 1, "Flying", NULL, "Flying\n");
	plat_pages_free(&p);
	free(path);
}

/* A manual with no Info title whose outline starts at its preface (as texinfo's do): the
 * cover's largest type is its title, wrapped lines joined; a cover with nothing larger
 * than the body (a lone letter, a year) leaves the outline's first entry. */
static void test_pdf_cover_title(void **state)
{
	(void)state;
	static const char *const cover[] = {"# Widget", "# Handbook", "## Jane Doe", "Version 2 of the handbook.", NULL};
	static const char *const bare[] = {"# X", "# 2024", "Version 2 of the handbook.", NULL};
	static const char *const p2[] = {"Preface", "This handbook is about widgets and their care.", NULL};
	static const char *const p3[] = {"1 Oiling", "Oil the widgets weekly with light machine oil.", NULL};
	const struct outline_item ol[] = {{"Preface", 1, 1, false}, {"1 Oiling", 1, 2, false}};
	const char *const *list[] = {cover, p2, p3};
	const char *want[] = {"Widget Handbook", "Preface"};
	for (int i = 0; i < 2; i++) {
		list[0] = i ? bare : cover;
		size_t len;
		char *pdf = make_pdf_doc(list, 3, NULL, ol, 2, &len);
		char *path = write_file("cover.pdf", pdf, len);
		free(pdf);
		struct plat_pages p;
		extract(path, "application/pdf", &p);
		assert_non_null(p.title);
		assert_string_equal(p.title, want[i]);
		assert_int_equal(p.pages[1].n_headings, 1); /* the outline still gives the headings */
		expect_heading(&p.pages[1], 0, 1, "Preface", NULL, "Preface\n");
		plat_pages_free(&p);
		free(path);
	}
}

/* plat_extract_running alone, on texts as poppler gives them. */
static void test_running_lines(void **state)
{
	(void)state;
	char *t[5] = {
		plat_xstrdup("xi\nPreface\nBody one.\n"),
		plat_xstrdup("xii\nPreface\nBody two.\n\n"),
		plat_xstrdup("Chapter 3 Gears 13\nxiii\nBody three.\nfooter note 1\n"),
		plat_xstrdup("Chapter 3 Gears 14\nBody four.\nfooter note 2"),
		plat_xstrdup("Chapter 3 Gears 15\nBody five.\nfooter note 3\n"),
	};
	char *running[5];
	size_t removed = plat_extract_running(t, 5, "preface", running);
	/* roman page numbers (3), "Chapter 3 Gears N" (3), "footer note N" (3); "Preface" is on
	 * two pages only */
	assert_int_equal(removed, 9);
	assert_string_equal(t[0], "Preface\nBody one.\n");
	assert_string_equal(t[2], "Body three.\n");
	assert_string_equal(t[3], "Body four.\n");
	assert_null(running[0]); /* nothing before, and the next page starts no chapter */
	assert_string_equal(running[2], "Chapter 3 Gears");
	assert_string_equal(running[4], "Chapter 3 Gears");
	for (int i = 0; i < 5; i++) {
		free(t[i]);
		free(running[i]);
	}
	/* A chapter of one page has a header of the same kind as the others: removed, and its
	 * page's chapter; a line of a kind no running header has stays. */
	static const char *const kin[] = {"Chapter 1: Oil\nOne.\n", "Chapter 1: Oil\nTwo.\n", "Chapter 1: Oil\nThree.\n",
					  "Chapter 2: Gears\nFour.\n", "Chapter 2: Gears\nFive.\n", "Chapter 2: Gears\nSix.\n",
					  "Chapter 3: Wings\nSeven.\n", "Figure 1: a wing\nEight.\n"};
	char *k[8], *kr[8];
	for (int i = 0; i < 8; i++)
		k[i] = plat_xstrdup(kin[i]);
	assert_int_equal(plat_extract_running(k, 8, NULL, kr), 7);
	assert_string_equal(k[6], "Seven.\n");
	assert_string_equal(kr[6], "Chapter 3: Wings");
	assert_string_equal(k[7], "Figure 1: a wing\nEight.\n");
	assert_string_equal(kr[7], "Chapter 3: Wings");
	for (int i = 0; i < 8; i++) {
		free(k[i]);
		free(kr[i]);
	}
	/* Lettered the same way; a line of code that starts three pages of many is no header. */
	static const char *const app[] = {"Appendix A: Tools\nta\n", "Appendix A: Tools\ntb\n", "Appendix A: Tools\ntc\n",
					  "Appendix B: Index\ntd\n", "Appendix B: Index\nte\n", "Appendix B: Index\ntf\n",
					  "Appendix C: Notes\n#include <R.h>\n", "#include <R.h>\ntg\n", "th\n", "ti\n", "tj\n", "tk\n",
					  "#include <R.h>\ntl\n", "tm\n", "tn\n", "to\n", "tp\n", "tq\n", "tr\n", "#include <R.h>\nts\n"};
	char *ap[20], *apr[20];
	for (int i = 0; i < 20; i++)
		ap[i] = plat_xstrdup(app[i]);
	assert_int_equal(plat_extract_running(ap, 20, NULL, apr), 7);
	assert_string_equal(ap[6], "#include <R.h>\n");
	assert_string_equal(ap[7], "#include <R.h>\ntg\n");
	for (int i = 0; i < 20; i++) {
		free(ap[i]);
		free(apr[i]);
	}
	/* Nothing, and empty pages. */
	assert_int_equal(plat_extract_running(NULL, 0, NULL, running), 0);
	char *e[3] = {plat_xstrdup(""), plat_xstrdup("\n\n"), plat_xstrdup("")};
	assert_int_equal(plat_extract_running(e, 3, NULL, running), 0);
	for (int i = 0; i < 3; i++) {
		assert_null(running[i]);
		free(e[i]);
	}
}

/* The frames the helper writes are checked like any untrusted input. */
static void test_frames(void **state)
{
	(void)state;
	struct plat_pages p;
	const char good[] = "T 5\nTitleP1 10\n# A\nb\n## CH1 0 1 1\nAaH2 6 1 0\nCR 3\nRunN 4\n";
	assert_int_equal(plat_extract_frames(good, sizeof(good) - 1, &p), 0);
	assert_string_equal(p.title, "Title");
	assert_int_equal(p.pages[0].n_headings, 2);
	assert_string_equal(p.pages[0].headings[0].anchor, "a");
	assert_null(p.pages[0].headings[1].anchor);
	assert_string_equal(p.pages[0].running, "Run");
	assert_int_equal(p.running_lines, 4);
	plat_pages_free(&p);
	static const char *const bad[] = {
		"H1 0 1 0\nA",			/* a heading before any page */
		"P1 2\nabH1 3 1 0\nA",		/* past the page's end */
		"P1 2\nabH4 0 1 0\nA",		/* level 4 */
		"P1 2\nabH0 0 1 0\nA",		/* level 0 */
		"P1 4\nab\ncH1 3 1 0\nAH1 0 1 0\nB", /* offsets going back */
		"P1 2\nabH1 0 9 0\nA",		/* longer than what is left */
		"P1 2\nabR 9\nx",		/* too */
		"P0 1\na",			/* page 0 */
		"P1 99999999999999999999999\na", /* overflow */
		"P1 2\nabX",			/* unknown frame */
		"R 1\nx",			/* a running header before any page */
		"T1\nx",			/* no space */
		"P1 -1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = plat_extract_frames(bad[i], strlen(bad[i]), &p);
		plat_pages_free(&p);
		if (rc != -1)
			fail_msg("frames '%s' accepted", bad[i]);
	}
}

/* Words the lines broke, mended: the text alone, then a PDF through platctl-extract. */
static void mend(const char *const *in, size_t n, const char *const *want, size_t mended)
{
	char *t[8];
	for (size_t i = 0; i < n; i++)
		t[i] = plat_xstrdup(in[i]);
	assert_int_equal(plat_extract_mend_words(t, n), mended);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i], want[i]))
			fail_msg("page %zu:\n%s\nwant:\n%s", i + 1, t[i], want[i]);
		free(t[i]);
	}
}

static void test_mend_words(void **state)
{
	(void)state;
	/* a syllable break joins and the rest of the word moves up; the page keeps its lines */
	static const char *const a[] = {"If you have access to Ex-\ncel, export the data.\nNext line.\n"};
	static const char *const a2[] = {"If you have access to Excel,\nexport the data.\nNext line.\n"};
	mend(a, 1, a2, 1);
	/* the document decides: "tab-delimited" spelled so elsewhere (another page) keeps its
	 * hyphen, "Excel" used elsewhere joins even with a capital; a capital second half
	 * seen nowhere is a compound of names; a lower-case one a syllable break */
	static const char *const b[] = {"Use tab-\ndelimited files.\nSee Springer-\nVerlag books and Doc-\nBook too.\n",
					"A tab-delimited file, and DocBook.\nIt re-  \n   ceives words.\n"};
	static const char *const b2[] = {"Use tab-delimited\nfiles.\nSee Springer-Verlag\nbooks and DocBook\ntoo.\n",
					 "A tab-delimited file, and DocBook.\nIt receives\nwords.\n"};
	mend(b, 2, b2, 4);
	/* soft hyphens: at a line's end a break, elsewhere nothing; U+2010 like '-'; an
	 * identifier broken after its underscore; ligatures made letters */
	static const char *const c[] = {"re\xc2\xad\nceives it; dis\xc2\xadplay.\nwell\xe2\x80\x90\nknown R_\nPreserveObject x.\n"
					"the \xef\xac\x81rst e\xef\xac\x83" "cient \xef\xac\x82ow\n"};
	static const char *const c2[] = {"receives\nit; display.\nwellknown\nR_PreserveObject\nx.\nthe first efficient flow\n"};
	mend(c, 1, c2, 3);
	/* left alone: numbers ("10-\n20" is a range), a dash after a space, a line ending in a
	 * hyphen before a blank or a non-letter, the text's very end, an empty page */
	static const char *const d[] = {"pages 10-\n20 here\nand -\nthat word-\n\nnext word-\n(x) last-", "", "-\n-"};
	mend(d, 3, d, 0);
	/* a one-word line broken again keeps the second break for the next line */
	static const char *const e[] = {"com-\npre-\nhensive words\n"};
	static const char *const e2[] = {"compre-\nhensive words\n"};
	mend(e, 1, e2, 1);
}

static void test_pdf_mended_words(void **state)
{
	(void)state;
	static const char *const p1[] = {"The function re-", "ceives a tab-", "delimited file from Ex-", "cel users.",
					 "A tab-delimited file is plain text.", NULL};
	const char *const *list[] = {p1};
	size_t len;
	char *pdf = make_pdf_doc(list, 1, NULL, NULL, 0, &len);
	char *path = write_file("hyphens.pdf", pdf, len);
	free(pdf);
	struct plat_pages p;
	extract(path, "application/pdf", &p);
	assert_int_equal(p.n, 1);
	if (!strstr(p.pages[0].text, "The function receives\na tab-delimited\nfile from Excel\nusers."))
		fail_msg("the lines' broken words are not mended:\n%s", p.pages[0].text);
	plat_pages_free(&p);
	free(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/platctl-extract-pdf-XXXXXX");
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
		cmocka_unit_test(test_pdf_running_headers),
		cmocka_unit_test(test_pdf_outline),
		cmocka_unit_test(test_pdf_font_headings),
		cmocka_unit_test(test_pdf_cover_title),
		cmocka_unit_test(test_running_lines),
		cmocka_unit_test(test_mend_words),
		cmocka_unit_test(test_pdf_mended_words),
		cmocka_unit_test(test_frames),
	};
	return cmocka_run_group_tests_name("extract_pdf", tests, setup, teardown);
}
