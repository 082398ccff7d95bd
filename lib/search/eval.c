#include "search/eval.h"

#include "db/db.h"
#include "store/store.h"

#include <stdio.h>
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
		cJSON *expect = as_list(cJSON_GetObjectItem(q, "expect"), false);
		if (!expect)
			return plat_error_set(err, PLAT_E_INVALID,
					      "%s: questions[%d]: 'expect' must be a document name or a list of them", name, i);
		cJSON_Delete(expect);
		const cJSON *pages = cJSON_GetObjectItem(q, "pages");
		cJSON *p = as_list(pages, true);
		if (pages && !p)
			return plat_error_set(err, PLAT_E_INVALID, "%s: questions[%d]: 'pages' must be a number or a list of them",
					      name, i);
		cJSON_Delete(p);
		i++;
	}
	return 0;
}

int plat_eval(struct plat_svc *svc, const char *name, const cJSON *set, int k, cJSON **report, struct plat_error *err)
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
	int n = 0, found = 0;
	double rr = 0;
	const cJSON *q;
	cJSON_ArrayForEach(q, cJSON_GetObjectItem(set, "questions"))
	{
		const char *text = cJSON_GetObjectItem(q, "question")->valuestring;
		cJSON *expect = as_list(cJSON_GetObjectItem(q, "expect"), false);
		cJSON *pages = as_list(cJSON_GetObjectItem(q, "pages"), true);
		struct plat_search_query sq = {.text = text, .k = k};
		cJSON *hits = NULL;
		rc = plat_search(svc, &sq, &hits, err);
		if (rc < 0) {
			cJSON_Delete(expect);
			cJSON_Delete(pages);
			cJSON_Delete(results);
			return rc;
		}
		int rank = 0;
		const cJSON *h;
		cJSON_ArrayForEach(h, hits)
		{
			if (contains(expect, cJSON_GetObjectItem(h, "document")) &&
			    (!pages || contains(pages, cJSON_GetObjectItem(h, "page")))) {
				rank = cJSON_GetObjectItem(h, "rank")->valueint;
				break;
			}
		}
		n++;
		if (rank) {
			found++;
			rr += 1.0 / rank;
		}
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "question", text);
		cJSON_AddItemToObject(r, "expect", expect);
		cJSON_AddItemToObject(r, "pages", pages ? pages : cJSON_CreateNull());
		if (rank)
			cJSON_AddNumberToObject(r, "rank", rank);
		else
			cJSON_AddNullToObject(r, "rank");
		const cJSON *first = cJSON_GetArrayItem(hits, 0);
		char top[512] = "";
		if (first) {
			const cJSON *page = cJSON_GetObjectItem(first, "page");
			snprintf(top, sizeof(top), "%s p%d", cJSON_GetObjectItem(first, "document")->valuestring,
				 cJSON_IsNumber(page) ? page->valueint : 1);
		}
		cJSON_AddStringToObject(r, "top", top);
		cJSON_AddItemToArray(results, r);
		cJSON_Delete(hits);
	}
	cJSON *rep = cJSON_CreateObject();
	cJSON_AddNumberToObject(rep, "k", k);
	cJSON_AddNumberToObject(rep, "questions", n);
	cJSON_AddNumberToObject(rep, "found", found);
	cJSON_AddNumberToObject(rep, "recall_at_k", n ? (double)found / n : 0);
	cJSON_AddNumberToObject(rep, "mrr", n ? rr / n : 0);
	cJSON_AddItemToObject(rep, "results", results);
	*report = rep;
	return 0;
}
