/* Chunking: budgets, sentence and paragraph boundaries, overlap, pages. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_text_is_one_chunk),
		cmocka_unit_test(test_budget_boundaries_overlap_and_pages),
		cmocka_unit_test(test_overlong_sentence_is_cut_at_words),
	};
	return cmocka_run_group_tests_name("chunk", tests, NULL, NULL);
}
