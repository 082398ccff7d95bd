/* Chunking: budgets, sentence and paragraph boundaries, overlap, pages, sections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk/chunk.h"

static struct plat_pages pages_of(char **texts, int n)
{
	struct plat_pages p = {calloc((size_t)n, sizeof(struct plat_page)), (size_t)n};
	for (int i = 0; i < n; i++)
		p.pages[i] = (struct plat_page){i + 1, texts[i]};
	return p;
}

static void test_small_text_is_one_chunk(void **state)
{
	(void)state;
	char *t[] = {"One sentence. Two sentences."};
	struct plat_pages p = pages_of(t, 1);
	struct plat_chunks c;
	plat_chunk_pages(&p, 100, 10, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.chunks[0].text, "One sentence. Two sentences.");
	assert_int_equal(c.chunks[0].page, 1);
	assert_int_equal(c.chunks[0].tokens, 4);
	plat_chunks_free(&c);
	free(p.pages);
}

static void test_budget_boundaries_overlap_and_pages(void **state)
{
	(void)state;
	/* Ten sentences of five words on page 1, two on page 2. */
	char p1[1024] = "", p2[] = "Page two starts here now. It has a second sentence.";
	for (int i = 0; i < 10; i++) {
		char s[64];
		snprintf(s, sizeof(s), "%sSentence %d has five words.", i ? (i == 5 ? "\n\n" : " ") : "", i);
		strcat(p1, s);
	}
	char *t[] = {p1, p2};
	struct plat_pages p = pages_of(t, 2);
	struct plat_chunks c;
	plat_chunk_pages(&p, 16, 5, &c);
	/* Every chunk: within budget, whole sentences, one page. */
	for (size_t i = 0; i < c.n; i++) {
		assert_true(c.chunks[i].tokens <= 16);
		assert_int_equal(c.chunks[i].ord, (int)i);
		size_t len = strlen(c.chunks[i].text);
		assert_true(c.chunks[i].text[len - 1] == '.');
		assert_true(strncmp(c.chunks[i].text, "Sentence", 8) == 0 || strncmp(c.chunks[i].text, "Page", 4) == 0 ||
			    strncmp(c.chunks[i].text, "It", 2) == 0);
	}
	/* 3 sentences (15 words) per chunk, the last one repeated in the next (overlap 5). */
	assert_string_equal(c.chunks[0].text, "Sentence 0 has five words. Sentence 1 has five words. Sentence 2 has five words.");
	assert_true(strncmp(c.chunks[1].text, "Sentence 2 has five words.", 26) == 0);
	/* The paragraph break is kept inside a chunk. */
	bool para = false;
	for (size_t i = 0; i < c.n; i++)
		para |= strstr(c.chunks[i].text, "words.\n\nSentence 5") != NULL;
	assert_true(para);
	/* Page 2 starts a new chunk with its own page number. */
	assert_int_equal(c.chunks[c.n - 1].page, 2);
	assert_string_equal(c.chunks[c.n - 1].text, "Page two starts here now. It has a second sentence.");
	assert_int_equal(c.chunks[c.n - 2].page, 1);
	plat_chunks_free(&c);
	free(p.pages);
}

static void test_overlong_sentence_is_cut_at_words(void **state)
{
	(void)state;
	char long_s[4096] = "";
	for (int i = 0; i < 100; i++)
		strcat(long_s, "word ");
	char *t[] = {long_s, "", "   \n\n  "};
	struct plat_pages p = pages_of(t, 3);
	struct plat_chunks c;
	plat_chunk_pages(&p, 30, 0, &c);
	int total = 0;
	for (size_t i = 0; i < c.n; i++) {
		assert_true(c.chunks[i].tokens <= 30);
		total += c.chunks[i].tokens;
	}
	assert_int_equal(total, 100); /* no word lost, none duplicated without overlap */
	assert_int_equal(c.n, 4);
	plat_chunks_free(&c);
	free(p.pages);
}

/* ---- sections ---- */

static void test_sections_title_and_anchor(void **state)
{
	(void)state;
	/* As the HTML extractor gives them: the title repeated as the first heading. */
	char text[] = "Guide\n# Guide\nIntro here.\n## Install\nRun the installer. It asks nothing.\n"
		      "### Linux\nUse the package.\n## Usage\nUse it daily.";
	struct plat_heading h[] = {
		{(size_t)(strstr(text, "# Guide") - text), 1, "Guide", "top"},
		{(size_t)(strstr(text, "## Install") - text), 2, "Install", "install"},
		{(size_t)(strstr(text, "### Linux") - text), 3, "Linux", NULL},
		{(size_t)(strstr(text, "## Usage") - text), 2, "Usage", NULL},
	};
	struct plat_page pg = {.number = 1, .text = text, .headings = h, .n_headings = 4};
	struct plat_pages p = {.pages = &pg, .n = 1, .title = "Guide"};
	struct plat_chunks c;
	plat_chunk_pages(&p, 100, 10, &c);
	assert_int_equal(c.n, 5);
	const char *want[][4] = {
		{"Guide", NULL, NULL, "Guide"},
		{"# Guide\n\nIntro here.", NULL, NULL, NULL}, /* the title is no section */
		{"## Install\n\nRun the installer. It asks nothing.", "Install", "install", NULL},
		{"### Linux\n\nUse the package.", "Install > Linux", "install", NULL}, /* the innermost anchor there is */
		{"## Usage\n\nUse it daily.", "Usage", NULL, NULL},
	};
	for (size_t i = 0; i < c.n; i++) {
		const char *text_want = want[i][3] ? want[i][3] : want[i][0];
		assert_string_equal(c.chunks[i].text, text_want);
		assert_string_equal(c.chunks[i].title, "Guide");
		if (want[i][1])
			assert_string_equal(c.chunks[i].section, want[i][1]);
		else
			assert_null(c.chunks[i].section);
		if (want[i][2])
			assert_string_equal(c.chunks[i].anchor, want[i][2]);
		else
			assert_null(c.chunks[i].anchor);
	}
	plat_chunks_free(&c);
}

static void test_chunks_never_span_sections(void **state)
{
	(void)state;
	/* Two sections on page 1 (the second going on over page 2), each longer than a chunk. */
	char p1[2048] = "", p2[1024] = "";
	strcat(p1, "Alpha\n");
	for (int i = 0; i < 8; i++)
		strcat(p1, "Alpha words make this sentence. ");
	size_t beta = strlen(p1);
	strcat(p1, "\nBeta\n");
	for (int i = 0; i < 8; i++)
		strcat(p1, "Beta words make this sentence. ");
	for (int i = 0; i < 3; i++)
		strcat(p2, "Beta goes on here. ");
	struct plat_heading h1[] = {{0, 1, "Alpha", NULL}, {beta + 1, 2, "Beta", NULL}};
	struct plat_page pages[] = {
		{.number = 1, .text = p1, .headings = h1, .n_headings = 2},
		{.number = 2, .text = p2, .running = "Chapter 9: ignored"}, /* a heading says better */
	};
	struct plat_pages p = {.pages = pages, .n = 2};
	struct plat_chunks c;
	plat_chunk_pages(&p, 16, 5, &c);
	bool seen_beta = false;
	for (size_t i = 0; i < c.n; i++) {
		const char *t = c.chunks[i].text;
		assert_true(c.chunks[i].tokens <= 16);
		assert_null(c.chunks[i].title);
		bool alpha = strstr(t, "Alpha") != NULL, b = strstr(t, "Beta") != NULL;
		assert_true(alpha != b); /* never both */
		assert_string_equal(c.chunks[i].section, alpha ? "Alpha" : "Alpha > Beta");
		if (b && !seen_beta) {
			assert_true(strncmp(t, "Beta\n\nBeta words", 16) == 0); /* the heading opens its chunk */
			seen_beta = true;
		}
	}
	assert_true(seen_beta);
	assert_int_equal(c.chunks[c.n - 1].page, 2);
	assert_string_equal(c.chunks[c.n - 1].section, "Alpha > Beta");
	plat_chunks_free(&c);
}

static void test_running_header_is_the_section_without_headings(void **state)
{
	(void)state;
	struct plat_page pages[] = {
		{.number = 1, .text = "Front matter."},
		{.number = 2, .text = "Gears turn.", .running = "Chapter 2: Gears"},
	};
	struct plat_pages p = {.pages = pages, .n = 2, .title = "Manual"};
	struct plat_chunks c;
	plat_chunk_pages(&p, 50, 5, &c);
	assert_int_equal(c.n, 2);
	assert_null(c.chunks[0].section);
	assert_string_equal(c.chunks[1].section, "Chapter 2: Gears");
	assert_string_equal(c.chunks[1].title, "Manual");
	assert_null(c.chunks[1].anchor);
	plat_chunks_free(&c);
	/* Offsets out of range (never from the reader, which checks them) are clamped. */
	struct plat_heading h[] = {{500, 1, "Late", NULL}};
	struct plat_page odd = {.number = 1, .text = "Short text.", .headings = h, .n_headings = 1};
	struct plat_pages q = {.pages = &odd, .n = 1};
	plat_chunk_pages(&q, 50, 5, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.chunks[0].text, "Short text.");
	assert_null(c.chunks[0].section);
	plat_chunks_free(&c);
}

/* A heading with no text before the next one opens the next chunk, over a page break too;
 * one that ends the document is a chunk of its own. */
static void test_heading_only_stretch_opens_the_next_chunk(void **state)
{
	(void)state;
	struct plat_heading h1[] = {{0, 1, "Gears", "gears"}, {6, 2, "Teeth", "teeth"}, {24, 2, "Oil", "oil"}};
	struct plat_heading h2[] = {{12, 1, "Index", "index"}};
	struct plat_page pages[] = {
		{.number = 1, .text = "Gears\nTeeth\nTeeth mesh.\nOil\n", .headings = h1, .n_headings = 3},
		{.number = 2, .text = "Oil is thin.\nIndex\n", .headings = h2, .n_headings = 1},
	};
	struct plat_pages p = {.pages = pages, .n = 2, .title = "Manual"};
	struct plat_chunks c;
	plat_chunk_pages(&p, 50, 5, &c);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.chunks[0].text, "Gears\n\nTeeth\n\nTeeth mesh.");
	assert_string_equal(c.chunks[0].section, "Gears > Teeth");
	assert_string_equal(c.chunks[0].anchor, "teeth");
	assert_int_equal(c.chunks[0].tokens, 4);
	assert_string_equal(c.chunks[1].text, "Oil\n\nOil is thin."); /* page 1's last line */
	assert_int_equal(c.chunks[1].page, 2);
	assert_string_equal(c.chunks[1].section, "Gears > Oil");
	assert_string_equal(c.chunks[2].text, "Index"); /* nothing follows it */
	assert_string_equal(c.chunks[2].section, "Index");
	assert_string_equal(c.chunks[2].anchor, "index");
	assert_string_equal(c.chunks[2].title, "Manual");
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(c.chunks[i].ord, (int)i);
	plat_chunks_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_text_is_one_chunk),
		cmocka_unit_test(test_budget_boundaries_overlap_and_pages),
		cmocka_unit_test(test_overlong_sentence_is_cut_at_words),
		cmocka_unit_test(test_sections_title_and_anchor),
		cmocka_unit_test(test_chunks_never_span_sections),
		cmocka_unit_test(test_running_header_is_the_section_without_headings),
		cmocka_unit_test(test_heading_only_stretch_opens_the_next_chunk),
	};
	return cmocka_run_group_tests_name("chunk", tests, NULL, NULL);
}
