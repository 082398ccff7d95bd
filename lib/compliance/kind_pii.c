/* The pii rule kind: processed documents of classes that must not hold personal data,
 * scanned chunk by chunk (pii.h) for the rule's categories. One finding per document:
 * "'NAME' holds 2 e-mail addresses and 1 IBAN (pages 1, 3)", details {"counts":
 * {category: n}, "samples": {category: [masked]}, "pages": [...]}. Counts are distinct
 * values; samples are masked, so neither the finding nor a log line carries the data.
 * Documents found clean are not reported, so the run resolves their earlier findings.
 *
 * The chunks are read through a cursor in pages, ordered by document and position, so a
 * tenant's whole text never sits in memory at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/compliance.h"
#include "compliance/pii.h"
#include "db/db.h"
#include "mem/mem.h"

#define PAGE 1000      /* chunk rows per FETCH (the statement says it too) */
#define MAX_PAGES 1000 /* page numbers kept per document, for the details */
#define MSG_PAGES 10   /* ... and named in the message */

_Static_assert(PLAT_PII_EMAIL == 1 << PLAT_PII_CAT_EMAIL && PLAT_PII_PHONE == 1 << PLAT_PII_CAT_PHONE &&
		       PLAT_PII_IBAN == 1 << PLAT_PII_CAT_IBAN && PLAT_PII_CARD == 1 << PLAT_PII_CAT_CARD &&
		       PLAT_PII_NATIONAL_ID == 1 << PLAT_PII_CAT_NATIONAL_ID,
	       "the rule's detect bits are the scanner's categories");

struct doc_scan {
	char id[37];
	char *name;
	struct plat_pii_result r;
	int pages[MAX_PAGES];
	int n_pages;
	bool more_pages;
};

static void add_page(struct doc_scan *d, int page)
{
	int lo = 0, hi = d->n_pages;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (d->pages[mid] < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < d->n_pages && d->pages[lo] == page)
		return;
	if (d->n_pages == MAX_PAGES) {
		d->more_pages = true;
		return;
	}
	memmove(d->pages + lo + 1, d->pages + lo, (size_t)(d->n_pages - lo) * sizeof(int));
	d->pages[lo] = page;
	d->n_pages++;
}

/* "2 e-mail addresses and 1 IBAN" */
static void describe(const struct plat_pii_result *r, struct plat_buf *m)
{
	int parts = 0, total = 0;
	for (int c = 0; c < PLAT_PII_CATEGORIES; c++)
		total += r->count[c] > 0;
	for (int c = 0; c < PLAT_PII_CATEGORIES; c++) {
		if (!r->count[c])
			continue;
		if (parts)
			plat_buf_puts(m, parts == total - 1 ? " and " : ", ");
		plat_buf_printf(m, "%lld %s", r->count[c], plat_pii_category_noun((enum plat_pii_category)c, r->count[c]));
		parts++;
	}
}

static int finish(struct plat_compliance_run *run, const struct plat_rule *rule, struct doc_scan *d,
		  struct plat_error *err)
{
	long long total = 0;
	for (int c = 0; c < PLAT_PII_CATEGORIES; c++)
		total += d->r.count[c];
	int rc = 0;
	if (total > 0) {
		struct plat_buf m = PLAT_BUF_INIT;
		plat_buf_printf(&m, "'%s' holds ", d->name);
		describe(&d->r, &m);
		if (d->n_pages) {
			plat_buf_puts(&m, d->n_pages == 1 ? " (page " : " (pages ");
			for (int i = 0; i < d->n_pages && i < MSG_PAGES; i++)
				plat_buf_printf(&m, "%s%d", i ? ", " : "", d->pages[i]);
			plat_buf_puts(&m, d->n_pages > MSG_PAGES || d->more_pages ? ", …)" : ")");
		}
		cJSON *details = cJSON_CreateObject();
		cJSON *counts = cJSON_AddObjectToObject(details, "counts");
		cJSON *samples = cJSON_AddObjectToObject(details, "samples");
		for (int c = 0; c < PLAT_PII_CATEGORIES; c++) {
			if (!d->r.count[c])
				continue;
			const char *name = plat_pii_category_name((enum plat_pii_category)c);
			cJSON_AddNumberToObject(counts, name, (double)d->r.count[c]);
			cJSON *s = cJSON_AddArrayToObject(samples, name);
			for (int i = 0; i < d->r.samples[c]; i++)
				cJSON_AddItemToArray(s, cJSON_CreateString(d->r.sample[c][i]));
		}
		cJSON *pages = cJSON_AddArrayToObject(details, "pages");
		for (int i = 0; i < d->n_pages; i++)
			cJSON_AddItemToArray(pages, cJSON_CreateNumber(d->pages[i]));
		if (d->more_pages)
			cJSON_AddBoolToObject(details, "pages_truncated", true);
		struct plat_finding_report f = {.document_id = d->id, .severity = -1, .message = m.data, .details = details};
		rc = plat_compliance_report(run, rule, &f, err);
		cJSON_Delete(details);
		plat_buf_free(&m);
	}
	free(d->name);
	d->name = NULL;
	d->id[0] = '\0';
	d->n_pages = 0;
	d->more_pages = false;
	plat_pii_result_reset(&d->r);
	return rc;
}

int plat_compliance_eval_pii(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err)
{
	struct plat_svc *svc = plat_compliance_run_svc(run);
	unsigned detect = r->u.pii.detect ? r->u.pii.detect : PLAT_PII_ALL;
	const char *params[] = {svc->tenant_id, plat_compliance_classes_param(run, r)};
	/* Documents without chunks come through the left join once, with no text: checked, clean. */
	int rc = plat_db_exec(svc->db,
			      "DECLARE pii_chunks NO SCROLL CURSOR FOR"
			      " SELECT d.id, d.name, c.page, c.text FROM documents d"
			      " LEFT JOIN chunks c ON c.document_id = d.id AND c.tenant_id = d.tenant_id"
			      " WHERE d.tenant_id = $1::uuid AND (d.status = 'processed' OR d.processed_at IS NOT NULL) AND d.deleted_at IS NULL"
			      " AND ($2::jsonb IS NULL OR d.class IN (SELECT jsonb_array_elements_text($2::jsonb)))"
			      " ORDER BY d.id, c.ord",
			      2, params, NULL, err);
	struct doc_scan *d = plat_xcalloc(1, sizeof(*d));
	plat_pii_result_init(&d->r);
	long long docs = 0;
	while (rc == 0) {
		PGresult *res;
		if ((rc = plat_db_exec(svc->db, "FETCH 1000 FROM pii_chunks", 0, NULL, &res, err)) < 0)
			break;
		int n = PQntuples(res);
		for (int i = 0; rc == 0 && i < n; i++) {
			const char *id = PQgetvalue(res, i, 0);
			if (strcmp(id, d->id) != 0) {
				if (d->id[0] && (rc = finish(run, r, d, err)) < 0)
					break;
				snprintf(d->id, sizeof(d->id), "%s", id);
				d->name = plat_xstrdup(PQgetvalue(res, i, 1));
				docs++;
			}
			if (PQgetisnull(res, i, 3))
				continue;
			long long hits = plat_pii_scan(&d->r, PQgetvalue(res, i, 3), (size_t)PQgetlength(res, i, 3), detect);
			if (hits > 0 && !PQgetisnull(res, i, 2))
				add_page(d, atoi(PQgetvalue(res, i, 2)));
		}
		PQclear(res);
		if (n < PAGE)
			break;
	}
	if (rc == 0 && d->id[0])
		rc = finish(run, r, d, err);
	if (rc == 0)
		rc = plat_db_exec(svc->db, "CLOSE pii_chunks", 0, NULL, NULL, err);
	plat_compliance_checked(run, docs);
	free(d->name);
	plat_pii_result_free(&d->r);
	free(d);
	return rc;
}
