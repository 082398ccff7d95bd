/* The builtin AI provider: embeddings, summaries, field extraction, classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai.h"
#include "ai/builtin.h"
#include "mem/mem.h"

/* The largest component of the builtin embedding of a fixed text. */
#ifndef GOLDEN_EMBEDDING
#define GOLDEN_EMBEDDING "362:0.4942"
#endif

static double cosine(const float *a, const float *b)
{
	double d = 0;
	for (int i = 0; i < PLAT_AI_BUILTIN_DIM; i++)
		d += (double)a[i] * b[i];
	return d;
}

static void embed(const char *s, float *v)
{
	plat_ai_builtin_embed(s, strlen(s), v);
}

static void test_embeddings(void **state)
{
	(void)state;
	float a[PLAT_AI_BUILTIN_DIM], b[PLAT_AI_BUILTIN_DIM], c[PLAT_AI_BUILTIN_DIM], d[PLAT_AI_BUILTIN_DIM];
	embed("The supplier agreement expires on 31 March 2027.", a);
	embed("The supplier agreement expires on 31 March 2027.", b);
	assert_memory_equal(a, b, sizeof(a)); /* deterministic */
	assert_true(fabs(cosine(a, a) - 1.0) < 1e-5); /* unit length */
	embed("When does the supplier contract expire?", c);
	embed("Quarterly revenue grew twelve percent in the Nordic region.", d);
	assert_true(cosine(a, c) > cosine(a, d) + 0.1); /* related text is closer */
	/* Character trigrams: inflections overlap, unrelated words do not. */
	float x[PLAT_AI_BUILTIN_DIM], y[PLAT_AI_BUILTIN_DIM], z[PLAT_AI_BUILTIN_DIM];
	embed("termination", x);
	embed("terminations", y);
	embed("invoice", z);
	assert_true(cosine(x, y) > 0.4); /* 11 of 12 trigrams shared; the unigrams differ */
	assert_true(fabs(cosine(x, z)) < 0.3);
	/* Non-English text has features too; empty text is the zero vector. */
	embed("Die Vereinbarung endet am 31. März 2027.", x);
	assert_true(fabs(cosine(x, x) - 1.0) < 1e-5);
	embed("  ... !!! ", z);
	assert_true(cosine(z, z) == 0.0);
	/* Golden: the model's identity is its output; a change here is a new model version. */
	embed("platctl builtin embeddings", x);
	int best = 0;
	for (int i = 1; i < PLAT_AI_BUILTIN_DIM; i++)
		if (fabsf(x[i]) > fabsf(x[best]))
			best = i;
	char golden[64];
	snprintf(golden, sizeof(golden), "%d:%.4f", best, (double)x[best]);
	print_message("golden %s (model %s)\n", golden, PLAT_AI_BUILTIN_MODEL);
	assert_string_equal(golden, GOLDEN_EMBEDDING);
}

static void test_summary(void **state)
{
	(void)state;
	const char *text = "Acme and Globex signed a supply agreement in 2026. "
			   "The weather in March was unusually warm. "
			   "The agreement covers the supply of steel and the supply of aluminium. "
			   "Globex delivers steel and aluminium to Acme every month under the agreement.\n\n"
			   "Lunch was served at noon.";
	char *s = plat_ai_builtin_summarize(text, strlen(text), 2);
	assert_string_equal(s, "The agreement covers the supply of steel and the supply of aluminium. "
			       "Globex delivers steel and aluminium to Acme every month under the agreement.");
	free(s);
	s = plat_ai_builtin_summarize(text, strlen(text), 10); /* more than there are: all, in order */
	assert_non_null(strstr(s, "Acme and Globex signed") );
	assert_true(strstr(s, "Acme and Globex") < strstr(s, "Lunch"));
	free(s);
	s = plat_ai_builtin_summarize("", 0, 3);
	assert_string_equal(s, "");
	free(s);
	s = plat_ai_builtin_summarize("One line without a full stop", 28, 3);
	assert_string_equal(s, "One line without a full stop");
	free(s);
	/* 100,000 sentences (a 2,000-page PDF): all pairs would be 80 GB and abort; the
	 * candidates keep it small, and the summary still has three of them. */
	struct plat_buf big = PLAT_BUF_INIT;
	for (int i = 0; i < 100000; i++)
		plat_buf_printf(&big, "Sentence %d is about topic %d and supplier %d. ", i, i % 37, i % 11);
	s = plat_ai_builtin_summarize(big.data, big.len, 3);
	int dots = 0;
	for (const char *c = s; *c; c++)
		dots += *c == '.';
	assert_int_equal(dots, 3);
	free(s);
	plat_buf_free(&big);
}

static void test_answers_cite_passages(void **state)
{
	(void)state;
	struct plat_ai_passage p[] = {
		{"The supplier agreement with Globex expires on 31 March 2027. Renewal needs 90 days notice.", 1},
		{"Quarterly revenue grew by twelve percent. The Nordic region led growth.", 2},
		{"All laptops must be encrypted. Passwords must not be shared.", 3},
	};
	double score;
	char *a = plat_ai_builtin_answer("When does the Globex supplier agreement expire?", p, 3, 1, &score);
	assert_string_equal(a, "The supplier agreement with Globex expires on 31 March 2027. [1]");
	assert_true(score > 0.5);
	free(a);
	a = plat_ai_builtin_answer("Must laptops be encrypted?", p, 3, 2, &score);
	assert_true(strncmp(a, "All laptops must be encrypted. [3]", 34) == 0);
	free(a);
	/* Nothing relevant: a low score the caller can refuse on. */
	double none;
	a = plat_ai_builtin_answer("What colour is the office cat?", p, 3, 1, &none);
	assert_true(none < score / 2);
	free(a);
	a = plat_ai_builtin_answer("anything", NULL, 0, 3, &none);
	assert_string_equal(a, "");
	assert_true(none == 0);
	free(a);
}

/* Weighted terms decide: the sentence with the question's rare words answers, not the
 * first one that shares its common words; stems match their inflections but a short
 * stem is no prefix of longer words; support splits into its parts. */
static void test_answers_weigh_terms(void **state)
{
	(void)state;
	struct plat_ai_passage p[] = {
		{"The kettle must stand on a flat surface. Fill the kettle with water before you switch it on.", 1},
		{"Limescale collects in hard water areas. Descale the kettle once a month with white vinegar and water.", 2},
	};
	/* "descal" (Snowball's stem of "descaled") weighs most; "kettle" and "water" are everywhere. */
	struct plat_ai_term t[] = {{"descaled", "descal", 3.0}, {"kettle", "kettl", 0.5}, {"often", NULL, 0}};
	struct plat_ai_support sup;
	char *a = plat_ai_builtin_answer_terms("How often should the kettle be descaled?", p, 2, t, 3, 1, &sup);
	assert_string_equal(a, "Descale the kettle once a month with white vinegar and water. [2]");
	assert_true(fabs(sup.sentence_coverage - 1.0) < 1e-9); /* zero-weight words count for nothing */
	assert_true(fabs(sup.passage_coverage - 1.0) < 1e-9);
	assert_true(fabs(sup.support - 1.0) < 1e-9);
	assert_int_equal(sup.sentences, 1);
	free(a);

	/* A rare word nowhere in the passages: support falls by its weight. */
	struct plat_ai_term wifi[] = {{"wi", "wi", 2.0}, {"fi", "fi", 2.0}, {"kettle", "kettl", 0.5}, {"reset", "reset", 1.5}};
	a = plat_ai_builtin_answer_terms("How do I reset the kettle's Wi-Fi?", p, 2, wifi, 4, 3, &sup);
	/* "fi" is not "fill", "wi" not "with": only "kettle" is found, 0.5 of 6. */
	assert_true(fabs(sup.sentence_coverage - 0.5 / 6) < 1e-9);
	assert_true(sup.support < 0.2);
	free(a);

	/* Words spread over the sources: each passage has half, all of them together all. */
	struct plat_ai_passage two[] = {{"Descale the kettle every month.", 1}, {"Vinegar dissolves limescale.", 2}};
	struct plat_ai_term dv[] = {{"descale", "descal", 1.0}, {"vinegar", "vinegar", 1.0}};
	a = plat_ai_builtin_answer_terms("descale with vinegar", two, 2, dv, 2, 1, &sup);
	assert_true(fabs(sup.sentence_coverage - 0.5) < 1e-9);
	assert_true(fabs(sup.passage_coverage - 0.5) < 1e-9);
	assert_true(fabs(sup.sources_coverage - 1.0) < 1e-9);
	free(a);
	a = plat_ai_builtin_answer_terms("descale with vinegar", two, 1, dv, 2, 1, &sup);
	assert_true(fabs(sup.sources_coverage - 0.5) < 1e-9); /* only the sources given count */
	free(a);

	/* Typographic quotes, dashes and a possessive around a word are not part of it (TeX
	 * writes `long' as U+2018 long U+2019); letters beyond them still are. */
	struct plat_ai_passage typo[] = {{"The \xe2\x80\x98long\xe2\x80\x99 form\xe2\x80\x94of the user\xe2\x80\x99s table.", 1}};
	struct plat_ai_term lu[] = {{"long", "long", 1.0}, {"form", "form", 1.0}, {"user", "user", 1.0}};
	a = plat_ai_builtin_answer_terms("long form user", typo, 1, lu, 3, 1, &sup);
	assert_true(fabs(sup.sentence_coverage - 1.0) < 1e-9);
	free(a);
	struct plat_ai_passage glued[] = {{"The \xc3\xa9long form of the users table.", 1}};
	a = plat_ai_builtin_answer_terms("long form user", glued, 1, lu, 3, 1, &sup);
	assert_true(fabs(sup.sentence_coverage - 2.0 / 3) < 1e-9); /* "élong" is no "long" */
	free(a);

	/* Inflections through the stem: "terminated" and "termination" for "termin"; "copies"
	 * and "copy" for "copi". */
	struct plat_ai_passage q[] = {{"Termination needs ninety days notice. Two copies are kept by each party.", 4}};
	struct plat_ai_term term[] = {{"terminated", "termin", 1.0}};
	a = plat_ai_builtin_answer_terms("terminated", q, 1, term, 1, 1, &sup);
	assert_string_equal(a, "Termination needs ninety days notice. [4]");
	free(a);
	struct plat_ai_term copy[] = {{"copy", "copi", 1.0}};
	a = plat_ai_builtin_answer_terms("copy", q, 1, copy, 1, 1, &sup);
	assert_string_equal(a, "Two copies are kept by each party. [4]");
	free(a);

	/* Headings answer nothing, and no terms at all support nothing. */
	struct plat_ai_passage h[] = {{"Descaling the kettle\n\nDescale it monthly with vinegar.", 1}};
	a = plat_ai_builtin_answer_terms("descaled kettle", h, 1, t, 2, 3, &sup);
	assert_string_equal(a, "Descale it monthly with vinegar. [1]");
	free(a);
	a = plat_ai_builtin_answer_terms("what is it", p, 2, NULL, 0, 3, &sup);
	assert_true(sup.support == 0);
	free(a);

	/* "How often" wants a frequency: of two sentences with the same words, the one with it. */
	struct plat_ai_passage f[] = {
		{"If the kettle switches off early, descale the kettle. Descale the kettle once a month with vinegar.", 1}};
	a = plat_ai_builtin_answer_terms("How often should the kettle be descaled?", f, 1, t, 3, 1, &sup);
	assert_string_equal(a, "Descale the kettle once a month with vinegar. [1]");
	free(a);
	a = plat_ai_builtin_answer_terms("Why should the kettle be descaled?", f, 1, t, 3, 1, &sup);
	assert_string_equal(a, "If the kettle switches off early, descale the kettle. [1]");
	free(a);

	size_t n;
	char **w = plat_ai_builtin_words("How, how HOW often?", &n, true);
	assert_int_equal(n, 2);
	assert_string_equal(w[0], "how");
	assert_string_equal(w[1], "often");
	assert_null(w[2]);
	plat_ai_builtin_words_free(w);
	w = plat_ai_builtin_words("How, how often?", &n, false);
	assert_int_equal(n, 3);
	plat_ai_builtin_words_free(w);
}

/* A name given as one item of a list ("such as A, B, C, or D"; "in C, Java or
 * JavaScript") is mentioned, not explained: it covers nothing in the sentence, the
 * passage or the sources, while the words the list hangs on still count, and a name
 * that a sentence is about elsewhere in the passage counts again. */
static void test_answers_discount_list_items(void **state)
{
	(void)state;
	struct plat_ai_term t[] = {{"continuous", "continu", 1.0}, {"integration", "integr", 1.0}, {"github", "github", 4.0},
				   {"actions", "action", 2.0}};
	const char *q = "How do I set up continuous integration with GitHub Actions?";
	struct plat_ai_passage listed[] = {
		{"Tests should be driven by a continuous integration system such as Buildbot, Jenkins, GitHub Actions, "
		 "or AppVeyor.",
		 1}};
	struct plat_ai_support sup;
	char *a = plat_ai_builtin_answer_terms(q, listed, 1, t, 4, 1, &sup);
	assert_true(fabs(sup.sentence_coverage - 2.0 / 8) < 1e-9);
	assert_true(fabs(sup.passage_coverage - 2.0 / 8) < 1e-9);
	assert_true(fabs(sup.sources_coverage - 2.0 / 8) < 1e-9);
	free(a);
	/* No Oxford comma, and an aside in parentheses whose commas separate nothing. */
	struct plat_ai_passage no_oxford[] = {
		{"It is much like continuous integration with Jenkins, GitHub Actions (hosted, free) or AppVeyor.", 1}};
	a = plat_ai_builtin_answer_terms(q, no_oxford, 1, t, 4, 1, &sup);
	assert_true(fabs(sup.sentence_coverage - 2.0 / 8) < 1e-9);
	free(a);
	/* Two names are no list; neither is a sentence about the name itself. */
	struct plat_ai_passage pair[] = {
		{"Continuous integration runs on Jenkins or GitHub Actions.", 1},
		{"GitHub Actions runs continuous integration from a workflow file in the repository.", 2}};
	a = plat_ai_builtin_answer_terms(q, pair, 1, t, 4, 1, &sup);
	assert_true(fabs(sup.sentence_coverage - 1.0) < 1e-9);
	free(a);
	a = plat_ai_builtin_answer_terms(q, pair + 1, 1, t, 4, 1, &sup);
	assert_true(fabs(sup.sentence_coverage - 1.0) < 1e-9);
	free(a);
	/* Named in a list here and explained in the next sentence: the passage covers it. */
	struct plat_ai_passage both[] = {
		{"Use a continuous integration system such as Buildbot, Jenkins, GitHub Actions, or AppVeyor. GitHub "
		 "Actions reads its workflow from the repository.",
		 1}};
	a = plat_ai_builtin_answer_terms(q, both, 1, t, 4, 1, &sup);
	assert_true(fabs(sup.passage_coverage - 1.0) < 1e-9);
	free(a);
	/* Commas and parentheses in any order: coverage stays a share. */
	static const char *const odd[] = {
		", , , GitHub Actions, , or.", ") GitHub, (Actions, continuous) integration, a, b, or c.",
		"((((GitHub, Actions, x, y)))) and continuous integration.", "GitHub,Actions,continuous,integration.",
		"a, b, c, d, e, f, g, h and GitHub Actions for continuous integration in a very long tail here."};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		struct plat_ai_passage o[] = {{odd[i], 1}};
		a = plat_ai_builtin_answer_terms(q, o, 1, t, 4, 1, &sup);
		assert_true(sup.sentence_coverage >= 0 && sup.sentence_coverage <= 1);
		assert_true(sup.passage_coverage >= sup.sentence_coverage - 1e-9 && sup.passage_coverage <= 1);
		free(a);
	}
}

static cJSON *extract(const char *s)
{
	return plat_ai_builtin_extract(s, strlen(s));
}

static char *list(cJSON *o, const char *field)
{
	char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(o, field));
	return s;
}

#define EXPECT_LIST(obj, field, want)                     \
	do {                                              \
		char *got_ = list(obj, field);            \
		if (strcmp(got_, want) != 0)              \
			fail_msg("%s: %s != %s", field, got_, want); \
		cJSON_free(got_);                         \
	} while (0)

static void test_dates(void **state)
{
	(void)state;
	cJSON *o = extract("Signed 2026-11-22. Valid until 31.03.2027; renewal date: March 31, 2028. "
			   "Not dates: 2027-13-01, 30.02.2027, 2027-02-29, February 30, 2026. Leap: 29 February 2028.");
	EXPECT_LIST(o, "dates", "[\"2026-11-22\",\"2027-03-31\",\"2028-02-29\",\"2028-03-31\"]");
	EXPECT_LIST(o, "expiry_dates", "[\"2027-03-31\",\"2028-03-31\"]");
	cJSON_Delete(o);
	o = extract("Mayday on 12 Foo 2026 and 99/99/2026.");
	EXPECT_LIST(o, "dates", "[]");
	cJSON_Delete(o);
}

static void test_money(void **state)
{
	(void)state;
	cJSON *o = extract("Fee EUR 1,200.50 per month, a deposit of $5,000 and 1.200,50 € for extras; "
			   "also 300 euros, GBP 99 and CHF 1'250.00. Not money: 2026 items, version 1.2.");
	char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(o, "amounts"));
	assert_non_null(strstr(s, "{\"value\":\"1200.50\",\"currency\":\"EUR\",\"text\":\"EUR 1,200.50\"}"));
	assert_non_null(strstr(s, "{\"value\":\"5000\",\"currency\":\"USD\",\"text\":\"$5,000\"}"));
	assert_non_null(strstr(s, "{\"value\":\"1200.50\",\"currency\":\"EUR\",\"text\":\"1.200,50 €\"}"));
	assert_non_null(strstr(s, "\"value\":\"300\",\"currency\":\"EUR\""));
	assert_non_null(strstr(s, "\"value\":\"99\",\"currency\":\"GBP\""));
	assert_non_null(strstr(s, "\"value\":\"1250.00\",\"currency\":\"CHF\""));
	assert_null(strstr(s, "2026"));
	cJSON_free(s);
	cJSON_Delete(o);
}

static void test_contacts_ibans_parties(void **state)
{
	(void)state;
	cJSON *o = extract("This Agreement is made between Acme Corporation and Globex Ltd, dated today. "
			   "Contact legal@acme.example or +49 30 1234567; fax (555) 123-4567. "
			   "Pay to DE89 3704 0044 0532 0130 00 or GB82 WEST 1234 5698 7654 32. "
			   "Not an IBAN: DE89 3704 0044 0532 0130 01. Not an email: a@b. Not a phone: 12345.");
	EXPECT_LIST(o, "parties", "[\"Acme Corporation\",\"Globex Ltd\"]");
	EXPECT_LIST(o, "emails", "[\"legal@acme.example\"]");
	EXPECT_LIST(o, "ibans", "[\"DE89370400440532013000\",\"GB82WEST12345698765432\"]");
	char *phones = list(o, "phones");
	assert_non_null(strstr(phones, "+49 30 1234567"));
	assert_non_null(strstr(phones, "(555) 123-4567"));
	assert_null(strstr(phones, "12345\""));
	cJSON_free(phones);
	cJSON_Delete(o);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	struct plat_buf b = PLAT_BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		plat_buf_append(&b, chunk, n);
	fclose(f);
	plat_buf_reserve(&b, 0);
	return plat_buf_detach(&b);
}

static void test_classification_accuracy(void **state)
{
	(void)state;
	struct plat_taxonomy *t;
	struct plat_error err = {0};
	if (plat_taxonomy_load(NULL, &t, &err) < 0) /* the builtin one, as consume uses by default */
		fail_msg("%s", err.message);
	DIR *d = opendir("tests/data/classify");
	assert_non_null(d);
	int total = 0, right = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "tests/data/classify/%s", e->d_name);
		char *text = read_file(path);
		double conf;
		const char *got = plat_ai_builtin_classify(t, text, strlen(text), &conf);
		size_t label_len = strcspn(e->d_name, "-");
		bool ok = strlen(got) == label_len && !strncmp(got, e->d_name, label_len);
		if (!ok)
			print_message("misclassified %s as %s (%.2f)\n", e->d_name, got, conf);
		assert_true(conf >= 0 && conf <= 1);
		right += ok;
		total++;
		free(text);
	}
	closedir(d);
	print_message("builtin classification accuracy: %d/%d = %.0f%%\n", right, total, 100.0 * right / total);
	assert_true(total >= 15);
	assert_true(right * 10 >= total * 8); /* at least 80% on the labelled set */
	double conf;
	assert_string_equal(plat_ai_builtin_classify(t, "lorem ipsum dolor", 17, &conf), "other");
	assert_true(conf == 0);
	plat_taxonomy_free(t);

	static const char *const bad[] = {"classes: [a]\n", "classes:\n  x:\n    keywords:\n      word: -1\n",
					  "classes:\n  x: {}\n", "nope: 1\n", "classes: {x: {keywords: {a: zero}}}\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(plat_taxonomy_load_buffer("t.yaml", bad[i], strlen(bad[i]), &t, &err), -PLAT_E_CONFIG);
		assert_non_null(strstr(err.message, "t.yaml:"));
	}
}

/* The taxonomy compiled into the binary loads without any file (NULL, "" or by name) and
 * is etc/platctl/classes.yaml: both classify every labelled document the same way. */
static void test_builtin_taxonomy(void **state)
{
	(void)state;
	struct plat_taxonomy *builtin, *by_null, *by_empty, *file;
	struct plat_error err = {0};
	if (plat_taxonomy_builtin(&builtin, &err) < 0 || plat_taxonomy_load(NULL, &by_null, &err) < 0 ||
	    plat_taxonomy_load("", &by_empty, &err) < 0 || plat_taxonomy_load("etc/platctl/classes.yaml", &file, &err) < 0)
		fail_msg("%s", err.message);
	const char *contract = "This Agreement is made by and between Acme Ltd and Globex GmbH (the parties). "
			       "Governing law: England. In witness whereof the parties have signed.";
	double conf;
	assert_string_equal(plat_ai_builtin_classify(builtin, contract, strlen(contract), &conf), "contract");
	assert_true(conf > 0.5);
	DIR *d = opendir("tests/data/classify");
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "tests/data/classify/%s", e->d_name);
		char *text = read_file(path);
		double c[4];
		const char *got[4] = {
			plat_ai_builtin_classify(builtin, text, strlen(text), &c[0]),
			plat_ai_builtin_classify(by_null, text, strlen(text), &c[1]),
			plat_ai_builtin_classify(by_empty, text, strlen(text), &c[2]),
			plat_ai_builtin_classify(file, text, strlen(text), &c[3]),
		};
		for (int i = 1; i < 4; i++) {
			assert_string_equal(got[i], got[0]);
			assert_true(c[i] == c[0]);
		}
		free(text);
		n++;
	}
	closedir(d);
	assert_true(n >= 15);
	plat_taxonomy_free(builtin);
	plat_taxonomy_free(by_null);
	plat_taxonomy_free(by_empty);
	plat_taxonomy_free(file);
	/* a file named explicitly must still exist */
	assert_int_equal(plat_taxonomy_load("/nonexistent/classes.yaml", &file, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "cannot open taxonomy '/nonexistent/classes.yaml'"));
}

static void test_privacy_gate(void **state)
{
	(void)state;
	const char *why;
	cJSON *clean = extract("Quarterly revenue grew 12%.");
	cJSON *pii = extract("Contact jane@acme.example about the renewal.");
	assert_true(plat_ai_external_allowed("report, policy", false, "report", clean, &why));
	assert_null(why);
	assert_false(plat_ai_external_allowed("report,policy", false, "contract", clean, &why));
	assert_non_null(strstr(why, "ai.external.allow"));
	assert_false(plat_ai_external_allowed("", false, "report", clean, &why)); /* default: nothing leaves */
	assert_false(plat_ai_external_allowed("*", false, "report", pii, &why));
	assert_non_null(strstr(why, "personal data"));
	assert_true(plat_ai_external_allowed("*", true, "report", pii, &why));
	assert_true(plat_ai_external_allowed("other", false, NULL, clean, &why)); /* unclassified is "other" */
	assert_false(plat_ai_external_allowed("reports", false, "report", clean, &why)); /* whole names only */
	cJSON_Delete(clean);
	cJSON_Delete(pii);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embeddings),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_answers_cite_passages),
		cmocka_unit_test(test_answers_weigh_terms),
		cmocka_unit_test(test_answers_discount_list_items),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_money),
		cmocka_unit_test(test_contacts_ibans_parties),
		cmocka_unit_test(test_classification_accuracy),
		cmocka_unit_test(test_builtin_taxonomy),
		cmocka_unit_test(test_privacy_gate),
	};
	return cmocka_run_group_tests_name("ai_builtin", tests, NULL, NULL);
}
