/* Rule kind required_fields: fields a class must have filled in and tags it must carry.
 * One statement finds what each document lacks; only documents lacking something come
 * back, so a tenant in order costs a count and an empty result. */
#include <stdlib.h>
#include <string.h>

#include "compliance/compliance.h"
#include "db/db.h"
#include "mem/mem.h"

static char *json_strings(const struct plat_strings *s)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < s->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(s->items[i]));
	char *text = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return text;
}

static void list(struct plat_buf *b, const cJSON *a)
{
	const cJSON *it;
	bool first = true;
	cJSON_ArrayForEach(it, a)
	{
		if (cJSON_IsString(it)) {
			plat_buf_printf(b, "%s%s", first ? "" : ", ", it->valuestring);
			first = false;
		}
	}
}

int plat_compliance_eval_required(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err)
{
	struct plat_svc *svc = plat_compliance_run_svc(run);
	char *fields = json_strings(&r->u.required.fields), *tags = json_strings(&r->u.required.tags);
	const char *params[] = {svc->tenant_id, fields ? fields : "[]", tags ? tags : "[]",
				plat_compliance_classes_param(run, r)};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "SELECT count(*) FROM documents d WHERE d.tenant_id = $1::uuid AND d.deleted_at IS NULL"
			      " AND (d.status = 'processed' OR d.processed_at IS NOT NULL) AND length($2 || $3) > 0"
			      " AND ($4::jsonb IS NULL OR d.class IN (SELECT jsonb_array_elements_text($4::jsonb)))",
			      4, params, &res, err);
	if (rc == 0) {
		plat_compliance_checked(run, atoll(PQgetvalue(res, 0, 0)));
		PQclear(res);
		/* Empty: missing, null, a blank string, an empty array or object. */
		rc = plat_db_exec(
			svc->db,
			"SELECT id, name, fields::text, tags::text FROM ("
			" SELECT d.id, d.name,"
			"  (SELECT coalesce(jsonb_agg(e.k ORDER BY e.o), '[]') FROM jsonb_array_elements_text($2::jsonb)"
			"     WITH ORDINALITY AS e(k, o)"
			"   WHERE d.fields -> e.k IS NULL OR d.fields -> e.k IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)"
			"      OR (jsonb_typeof(d.fields -> e.k) = 'string' AND btrim(d.fields ->> e.k) = '')) AS fields,"
			"  (SELECT coalesce(jsonb_agg(e.k ORDER BY e.o), '[]') FROM jsonb_array_elements_text($3::jsonb)"
			"     WITH ORDINALITY AS e(k, o) WHERE NOT d.tags ? e.k) AS tags"
			" FROM documents d WHERE d.tenant_id = $1::uuid AND d.deleted_at IS NULL AND (d.status = 'processed' OR d.processed_at IS NOT NULL)"
			" AND ($4::jsonb IS NULL OR d.class IN (SELECT jsonb_array_elements_text($4::jsonb)))) m"
			" WHERE fields <> '[]' OR tags <> '[]' ORDER BY name, id",
			4, params, &res, err);
	}
	free(fields);
	free(tags);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		cJSON *details = cJSON_CreateObject();
		cJSON *mf = cJSON_Parse(PQgetvalue(res, i, 2)), *mt = cJSON_Parse(PQgetvalue(res, i, 3));
		struct plat_buf msg = PLAT_BUF_INIT;
		plat_buf_printf(&msg, "'%s' lacks", PQgetvalue(res, i, 1));
		if (cJSON_GetArraySize(mf) > 0) {
			plat_buf_puts(&msg, cJSON_GetArraySize(mf) == 1 ? " field " : " fields ");
			list(&msg, mf);
		}
		if (cJSON_GetArraySize(mt) > 0) {
			plat_buf_puts(&msg, cJSON_GetArraySize(mf) > 0 ? " and" : "");
			plat_buf_puts(&msg, cJSON_GetArraySize(mt) == 1 ? " tag " : " tags ");
			list(&msg, mt);
		}
		cJSON_AddItemToObject(details, "missing_fields", mf ? mf : cJSON_CreateArray());
		cJSON_AddItemToObject(details, "missing_tags", mt ? mt : cJSON_CreateArray());
		struct plat_finding_report f = {.document_id = PQgetvalue(res, i, 0), .severity = -1, .message = msg.data,
						.details = details};
		rc = plat_compliance_report(run, r, &f, err);
		plat_buf_free(&msg);
		cJSON_Delete(details);
	}
	PQclear(res);
	return rc;
}
