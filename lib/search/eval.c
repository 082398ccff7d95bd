#include "search/eval.h"

#include "search/ask.h"

#include "db/db.h"
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string or a list of strings (numbers for pages) as an array; NULL if neither. */
static cJSON *as_list(const cJSON *v, bool numbers)
{
	if (!v)
		return NULL;
	cJSON *out = cJSON_CreateArray();
	if (!cJSON_IsArray(v)) {
		if (numbers ? !cJSON_IsNumber(v) : !cJSON_IsString(v)) {
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_AddItemToArray(out, cJSON_Duplicate(v, 1));
		return out;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, v)
	{
		if (numbers ? !cJSON_IsNumber(e) : !cJSON_IsString(e) || !*e->valuestring) {
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
	}
	if (cJSON_GetArraySize(out) == 0) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

static bool contains(const cJSON *list, const cJSON *v)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, list)
	{
		if (cJSON_IsString(e) && cJSON_IsString(v) && !strcmp(e->valuestring, v->valuestring))
			return true;
		if (cJSON_IsNumber(e) && cJSON_IsNumber(v) && e->valuedouble == v->valuedouble)
			return true;
	}
	return false;
}

/* Check the whole set before running anything: a typo in question 40 should not cost
 * 39 searches first. */
static int validate(const char *name, const cJSON *set, struct plat_error *err)
{
	const cJSON *qs = cJSON_GetObjectItem(set, "questions");
	if (!cJSON_IsObject(set) || !cJSON_IsArray(qs) || cJSON_GetArraySize(qs) == 0)
		return plat_error_set(err, PLAT_E_INVALID, "%s: expected a mapping with a non-empty list 'questions'", name);
	const cJSON *k = cJSON_GetObjectItem(set, "k");
	if (k && (!cJSON_IsNumber(k) || k->valuedouble < 1 || k->valuedouble > 200))
		return plat_error_set(err, PLAT_E_INVALID, "%s: 'k' must be a number from 1 to 200", name);
	int i = 0;
	const cJSON *q;
	cJSON_ArrayForEach(q, qs)
	{
		const cJSON *text = cJSON_GetObjectItem(q, "question");
		if (!cJSON_IsString(text) || !*text->valuestring)
			return plat_error_set(err, PLAT_E_INVALID, "%s: questions[%d]: 'question' must be a non-empty text", name, i);
		const cJSON *answerable = cJSON_GetObjectItem(q, "answerable");
		if (answerable && !cJSON_IsBool(answerable))
			return plat_error_set(err, PLAT_E_INVALID, "%s: questions[%d]: 'answerable' must be true or false", name, i);
		const cJSON *expect_v = cJSON_GetObjectItem(q, "expect"), *pages = cJSON_GetObjectItem(q, "pages"),
			    *sections = cJSON_GetObjectItem(q, "sections");
		if (cJSON_IsFalse(answerable)) {
			/* Expectations of a question nothing answers would be counted nowhere. */
			if (expect_v || pages || sections)
				return plat_error_set(err, PLAT_E_INVALID,
						      "%s: questions[%d]: an unanswerable question ('answerable: false') takes no "
						      "'expect', 'pages' or 'sections'",
						      name, i);
			i++;
			continue;
		}
		cJSON *expect = as_list(expect_v, false);
		if (!expect)
			return plat_error_set(err, PLAT_E_INVALID,
					      "%s: questions[%d]: 'expect' must be a document name or a list of them", name, i);
		cJSON_Delete(expect);
		cJSON *p = as_list(pages, true);
		if (pages && !p)
			return plat_error_set(err, PLAT_E_INVALID, "%s: questions[%d]: 'pages' must be a number or a list of them",
					      name, i);
		cJSON_Delete(p);
		p = as_list(sections, false);
		if (sections && !p)
			return plat_error_set(err, PLAT_E_INVALID,
					      "%s: questions[%d]: 'sections' must be an anchor or a list of them", name, i);
		cJSON_Delete(p);
		i++;
	}
	return 0;
}

static int int_field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);
	return cJSON_IsNumber(v) ? v->valueint : 0;
}

void plat_eval_rank(const cJSON *hits, const cJSON *expect, const cJSON *pages, const cJSON *sections,
		    struct plat_eval_ranks *out)
{
	memset(out, 0, sizeof(*out));
	int i = 0;
	const cJSON *h;
	cJSON_ArrayForEach(h, hits)
	{
		i++;
		int rank = int_field(h, "rank") > 0 ? int_field(h, "rank") : i;
		if (!contains(expect, cJSON_GetObjectItem(h, "document")))
			continue;
		if (!out->rank) {
			out->rank = rank;
			out->fts_rank = int_field(h, "fts_rank");
			out->vector_rank = int_field(h, "vector_rank");
		}
		/* Absent or null on results without sections: no match, never an error. */
		if (pages && !out->page_rank && contains(pages, cJSON_GetObjectItem(h, "page")))
			out->page_rank = rank;
		if (sections && !out->section_rank && contains(sections, cJSON_GetObjectItem(h, "anchor")))
			out->section_rank = rank;
	}
}

struct level {
	int questions, found;
	double rr;
};

static void level_add(struct level *l, int rank)
{
	l->questions++;
	if (rank) {
		l->found++;
		l->rr += 1.0 / rank;
	}
}

static cJSON *level_json(cJSON *o, const struct level *l)
{
	cJSON_AddNumberToObject(o, "questions", l->questions);
	cJSON_AddNumberToObject(o, "found", l->found);
	cJSON_AddNumberToObject(o, "recall_at_k", l->questions ? (double)l->found / l->questions : 0);
	cJSON_AddNumberToObject(o, "mrr", l->questions ? l->rr / l->questions : 0);
	return o;
}

static void add_rank(cJSON *r, const char *name, int rank, bool asked)
{
	if (asked && rank)
		cJSON_AddNumberToObject(r, name, rank);
	else
		cJSON_AddNullToObject(r, name);
}

static double round6(double v)
{
	return (double)llround(v * 1e6) / 1e6;
}

int plat_eval(struct plat_svc *svc, const char *name, const cJSON *set, int k, double min_support, cJSON **report,
	      struct plat_error *err)
{
	*report = NULL;
	int rc = plat_svc_enter(svc, "eval", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	rc = validate(name, set, err);
	if (rc < 0)
		return rc;
	if (k <= 0)
		k = cJSON_IsNumber(cJSON_GetObjectItem(set, "k")) ? cJSON_GetObjectItem(set, "k")->valueint : 10;
	cJSON *results = cJSON_CreateArray();
	struct level doc = {0}, page = {0}, section = {0};
	int answerable_n = 0, false_refusals = 0, unanswerable_n = 0, false_answers = 0;
	int fts_found = 0, vector_found = 0, both = 0;
	double threshold = plat_ask_min_support(svc, min_support);
	const cJSON *q;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(set, "questions"))
	{
		const char *text = cJSON_GetObjectItem(q, "question")->valuestring;
		bool answerable = !cJSON_IsFalse(cJSON_GetObjectItem(q, "answerable"));
		cJSON *expect = answerable ? as_list(cJSON_GetObjectItem(q, "expect"), false) : NULL;
		cJSON *pages = as_list(cJSON_GetObjectItem(q, "pages"), true);
		cJSON *sections = as_list(cJSON_GetObjectItem(q, "sections"), false);
		struct plat_search_query sq = {.text = text, .k = k};
		cJSON *hits = NULL;
		rc = plat_search(svc, &sq, &hits, err);
		/* Would ask answer? Its own decision on its own retrieval, nothing recorded and
		 * no provider asked. */
		struct plat_ask_prepared prep = {0};
		struct plat_ask_request ar = {.query = {.text = text}, .min_support = threshold};
		if (rc == 0)
			rc = plat_ask_prepare(svc, &ar, &prep, err);
		if (rc < 0) {
			cJSON_Delete(hits);
			cJSON_Delete(expect);
			cJSON_Delete(pages);
			cJSON_Delete(sections);
			cJSON_Delete(results);
			return rc;
		}
		struct plat_eval_ranks rk = {0};
		if (answerable) {
			plat_eval_rank(hits, expect, pages, sections, &rk);
			level_add(&doc, rk.rank);
			if (pages)
				level_add(&page, rk.page_rank);
			if (sections)
				level_add(&section, rk.section_rank);
			bool f = rk.fts_rank > 0 && rk.fts_rank <= k, v = rk.vector_rank > 0 && rk.vector_rank <= k;
			fts_found += f;
			vector_found += v;
			both += f && v;
			answerable_n++;
			false_refusals += prep.refused;
		} else {
			unanswerable_n++;
			false_answers += !prep.refused;
		}
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "question", text);
		cJSON_AddItemToObject(r, "expect", expect ? expect : cJSON_CreateNull());
		cJSON_AddItemToObject(r, "pages", pages ? pages : cJSON_CreateNull());
		cJSON_AddItemToObject(r, "sections", sections ? sections : cJSON_CreateNull());
		cJSON_AddBoolToObject(r, "answerable", answerable);
		add_rank(r, "rank", rk.rank, answerable);
		add_rank(r, "page_rank", rk.page_rank, pages != NULL);
		add_rank(r, "section_rank", rk.section_rank, sections != NULL);
		add_rank(r, "fts_rank", rk.fts_rank, rk.rank > 0);
		add_rank(r, "vector_rank", rk.vector_rank, rk.rank > 0);
		cJSON_AddBoolToObject(r, "refused", prep.refused);
		cJSON_AddNumberToObject(r, "support", round6(prep.support));
		cJSON *parts = cJSON_AddObjectToObject(r, "support_parts");
		cJSON_AddNumberToObject(parts, "sentence", round6(prep.sentence_coverage));
		cJSON_AddNumberToObject(parts, "passage", round6(prep.passage_coverage));
		cJSON_AddNumberToObject(parts, "sources", round6(prep.sources_coverage));
		if (prep.unknown_name)
			cJSON_AddStringToObject(parts, "unknown", prep.unknown_name);
		else
			cJSON_AddNullToObject(parts, "unknown");
		const cJSON *first = cJSON_GetArrayItem(hits, 0);
		char top[512] = "";
		if (first) {
			const cJSON *doc_name = cJSON_GetObjectItem(first, "document");
			const cJSON *pg = cJSON_GetObjectItem(first, "page");
			snprintf(top, sizeof(top), "%s p%d", cJSON_IsString(doc_name) ? doc_name->valuestring : "",
				 cJSON_IsNumber(pg) ? pg->valueint : 1);
		}
		cJSON_AddStringToObject(r, "top", top);
		cJSON_AddItemToArray(results, r);
		cJSON_Delete(hits);
		plat_ask_prepared_free(&prep);
	}
	cJSON *rep = cJSON_CreateObject();
	cJSON_AddNumberToObject(rep, "k", k);
	level_json(rep, &doc);
	level_json(cJSON_AddObjectToObject(rep, "page"), &page);
	level_json(cJSON_AddObjectToObject(rep, "section"), &section);
	cJSON *ref = cJSON_AddObjectToObject(rep, "refusals");
	cJSON_AddNumberToObject(ref, "answerable", answerable_n);
	cJSON_AddNumberToObject(ref, "false_refusals", false_refusals);
	cJSON_AddNumberToObject(ref, "false_refusal_rate", answerable_n ? (double)false_refusals / answerable_n : 0);
	cJSON_AddNumberToObject(ref, "unanswerable", unanswerable_n);
	cJSON_AddNumberToObject(ref, "false_answers", false_answers);
	cJSON_AddNumberToObject(ref, "false_answer_rate", unanswerable_n ? (double)false_answers / unanswerable_n : 0);
	cJSON_AddNumberToObject(ref, "min_support", threshold);
	cJSON *halves = cJSON_AddObjectToObject(rep, "halves");
	cJSON_AddNumberToObject(halves, "fts_found", fts_found);
	cJSON_AddNumberToObject(halves, "vector_found", vector_found);
	cJSON_AddNumberToObject(halves, "both", both);
	cJSON_AddNumberToObject(halves, "fts_only", fts_found - both);
	cJSON_AddNumberToObject(halves, "vector_only", vector_found - both);
	cJSON_AddItemToObject(rep, "results", results);
	*report = rep;
	return 0;
}
