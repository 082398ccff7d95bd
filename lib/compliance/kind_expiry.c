/* Rule kind expiry: a date field within N days, or past, with escalating reminders.
 *
 * SQL picks each live document's first present field (one statement for the tenant);
 * the dates are parsed here because extracted values come in several human formats and
 * an invalid one (31.02.2027) must not abort the statement, which a cast would.
 *
 * Choices: a past date is at least "high", whatever the rule says (something already
 * lapsed); the reminder due is the smallest step at or above the days left (five days
 * before: the 7-day step), sent once per document, date and step, so a renewed date
 * starts its reminders over. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compliance/compliance.h"
#include "db/db.h"
#include "mem/mem.h"

#define REMINDER_BATCH 1000

static long long days_from_civil(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool valid_date(int y, int m, int d)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= (m == 2 && leap ? 29 : days[m - 1]);
}

/* 1..n digits at *p. */
static bool number(const char **p, int min, int max, int *out)
{
	int n = 0, v = 0;
	while (isdigit((unsigned char)(*p)[n]) && n < max)
		v = v * 10 + ((*p)[n++] - '0');
	if (n < min || isdigit((unsigned char)(*p)[n]))
		return false;
	*p += n;
	*out = v;
	return true;
}

static int month_name(const char **p)
{
	static const char *const names[] = {"january", "february", "march",     "april",   "may",      "june",
					    "july",    "august",   "september", "october", "november", "december"};
	size_t n = 0;
	while (isalpha((unsigned char)(*p)[n]))
		n++;
	if (n < 3)
		return 0;
	for (int m = 0; m < 12; m++) {
		size_t full = strlen(names[m]);
		/* The full name, its first three letters, or "Sept". */
		if ((n == full || n == 3 || (m == 8 && n == 4)) && n <= full && strncasecmp(*p, names[m], n) == 0) {
			*p += n;
			if (**p == '.')
				(*p)++;
			return m + 1;
		}
	}
	return 0;
}

static void spaces(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* ISO 2028-02-29 (a time may follow), 29.02.2028, 29/02/2028, "February 29, 2028",
 * "29 February 2028", "Feb 29 2028". Only real calendar dates. */
static bool parse_date(const char *s, int *y, int *m, int *d)
{
	const char *p = s;
	spaces(&p);
	if (isdigit((unsigned char)*p)) {
		const char *q = p;
		if (number(&q, 4, 4, y) && *q == '-' && (q++, number(&q, 2, 2, m)) && *q == '-' && (q++, number(&q, 2, 2, d))) {
			spaces(&q);
			return (!*q || *q == 'T' || isdigit((unsigned char)q[0])) && valid_date(*y, *m, *d);
		}
		q = p;
		if (number(&q, 1, 2, d) && (*q == '.' || *q == '/')) {
			char sep = *q++;
			if (!number(&q, 1, 2, m) || *q++ != sep || !number(&q, 4, 4, y))
				return false;
			spaces(&q);
			return !*q && valid_date(*y, *m, *d);
		}
		q = p;
		if (!number(&q, 1, 2, d))
			return false;
		spaces(&q);
		if (!(*m = month_name(&q)))
			return false;
		spaces(&q);
		if (*q == ',')
			q++;
		spaces(&q);
		if (!number(&q, 4, 4, y))
			return false;
		spaces(&q);
		return !*q && valid_date(*y, *m, *d);
	}
	if (!(*m = month_name(&p)))
		return false;
	spaces(&p);
	if (!number(&p, 1, 2, d))
		return false;
	if (p[0] && isalpha((unsigned char)p[0]) && isalpha((unsigned char)p[1]))
		p += 2; /* "February 29th, 2028" */
	if (*p == ',')
		p++;
	spaces(&p);
	if (!number(&p, 4, 4, y))
		return false;
	spaces(&p);
	return !*p && valid_date(*y, *m, *d);
}

/* The date a value means: a string, or of an array's strings the earliest not yet past,
 * else the latest past one. *bad: the first text that is not a date. */
static bool pick_date(const cJSON *v, long long today, long long *day, const char **bad)
{
	bool found = false;
	long long best_future = 0, best_past = 0;
	bool have_future = false, have_past = false;
	const cJSON *items = cJSON_IsArray(v) ? v->child : v;
	for (const cJSON *it = items; it; it = cJSON_IsArray(v) ? it->next : NULL) {
		int y, m, d;
		if (!cJSON_IsString(it) || !parse_date(it->valuestring, &y, &m, &d)) {
			if (!*bad)
				*bad = cJSON_IsString(it) ? it->valuestring : "(not a string)";
			continue;
		}
		long long x = days_from_civil(y, m, d);
		if (x >= today && (!have_future || x < best_future)) {
			best_future = x;
			have_future = true;
		} else if (x < today && (!have_past || x > best_past)) {
			best_past = x;
			have_past = true;
		}
		found = true;
	}
	if (found)
		*day = have_future ? best_future : best_past;
	return found;
}

static void civil_from_days(long long z, char out[16])
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long y = yoe + era * 400;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	y += m <= 2;
	snprintf(out, 16, "%04d-%02d-%02d", (int)(y % 10000), m % 100, d % 100);
}

static int today_days(struct plat_db *db, long long *today, struct plat_error *err)
{
	PGresult *res;
	int rc = plat_db_exec(db, "SELECT to_char((now() AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')", 0, NULL, &res, err);
	if (rc < 0)
		return rc;
	int y, m, d;
	sscanf(PQgetvalue(res, 0, 0), "%d-%d-%d", &y, &m, &d);
	PQclear(res);
	*today = days_from_civil(y, m, d);
	return 0;
}

/* Record the due reminders; what was not sent before goes into the summary. */
static int send_reminders(struct plat_compliance_run *run, const struct plat_rule *r, cJSON *due, struct plat_error *err)
{
	if (cJSON_GetArraySize(due) == 0)
		return 0;
	struct plat_svc *svc = plat_compliance_run_svc(run);
	char *text = cJSON_PrintUnformatted(due);
	const char *params[] = {svc->tenant_id, r->name, text ? text : "[]"};
	PGresult *res;
	int rc = plat_db_exec(
		svc->db,
		"WITH input AS (SELECT * FROM jsonb_to_recordset($3::jsonb) AS x(document_id uuid, name text,"
		"   expires_on date, days_left int, step int, \"to\" jsonb)),"
		" ins AS (INSERT INTO expiry_reminders (tenant_id, rule, document_id, expires_on, step_days, recipients)"
		"   SELECT $1::uuid, $2, document_id, expires_on, step,"
		"          ARRAY(SELECT jsonb_array_elements_text(\"to\")) FROM input"
		"   ON CONFLICT DO NOTHING RETURNING document_id, expires_on, step_days)"
		" SELECT json_build_object('rule', $2::text, 'document_id', i.document_id, 'name', i.name, 'expires_on', i.expires_on,"
		"   'days_left', i.days_left, 'step', i.step, 'to', i.\"to\")::text"
		" FROM ins JOIN input i ON i.document_id = ins.document_id AND i.expires_on = ins.expires_on"
		"   AND i.step = ins.step_days ORDER BY i.days_left, i.name",
		3, params, &res, err);
	free(text);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		cJSON *entry = cJSON_Parse(PQgetvalue(res, i, 0));
		if (entry)
			plat_compliance_add_reminder(run, entry);
	}
	PQclear(res);
	return 0;
}

/* The smallest step at or above days_left; -1 when none is due yet (or there are none). */
static int due_step(const struct plat_rule *r, long long days_left)
{
	int step = -1;
	for (size_t i = 0; i < r->u.expiry.n_steps; i++)
		if (r->u.expiry.steps[i] >= days_left && (step < 0 || r->u.expiry.steps[i] < step))
			step = r->u.expiry.steps[i];
	return step;
}

static cJSON *reminder(const struct plat_rule *r, const char *id, const char *name, const char *date, long long left,
		       int step)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "document_id", id);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "expires_on", date);
	cJSON_AddNumberToObject(o, "days_left", (double)left);
	cJSON_AddNumberToObject(o, "step", step);
	cJSON *to = cJSON_AddArrayToObject(o, "to");
	if (r->u.expiry.owner)
		cJSON_AddItemToArray(to, cJSON_CreateString(r->u.expiry.owner));
	if (r->u.expiry.backup && step <= r->u.expiry.backup_from_days)
		cJSON_AddItemToArray(to, cJSON_CreateString(r->u.expiry.backup));
	return o;
}

static int report_one(struct plat_compliance_run *run, const struct plat_rule *r, PGresult *res, int i, long long today,
		      cJSON *due, struct plat_error *err)
{
	const char *id = PQgetvalue(res, i, 0), *name = PQgetvalue(res, i, 1), *field = PQgetvalue(res, i, 2);
	cJSON *value = cJSON_Parse(PQgetvalue(res, i, 3));
	long long day = 0;
	const char *bad = NULL;
	bool ok = value && pick_date(value, today, &day, &bad);
	struct plat_buf msg = PLAT_BUF_INIT;
	cJSON *details = cJSON_CreateObject();
	cJSON_AddStringToObject(details, "field", field);
	int rc = 0, sev = -1;
	bool finding = false;
	if (!ok) {
		plat_buf_printf(&msg, "'%s': %s '%.80s' is not a date", name, field, bad ? bad : "");
		cJSON_AddStringToObject(details, "value", bad ? bad : "");
		finding = true;
	} else {
		char date[16];
		civil_from_days(day, date);
		long long left = day - today;
		int step = due_step(r, left);
		cJSON_AddStringToObject(details, "expires_on", date);
		cJSON_AddNumberToObject(details, "days_left", (double)left);
		if (step >= 0)
			cJSON_AddNumberToObject(details, "step", step);
		else
			cJSON_AddNullToObject(details, "step");
		if (left > 0)
			plat_buf_printf(&msg, "'%s' expires on %s (in %lld day%s)", name, date, left, left == 1 ? "" : "s");
		else if (left == 0)
			plat_buf_printf(&msg, "'%s' expires on %s (today)", name, date);
		else
			plat_buf_printf(&msg, "'%s' expired on %s (%lld day%s ago)", name, date, -left, left == -1 ? "" : "s");
		if (left < 0 && r->severity < PLAT_SEV_HIGH)
			sev = PLAT_SEV_HIGH;
		finding = left <= r->u.expiry.within_days;
		if (step >= 0)
			cJSON_AddItemToArray(due, reminder(r, id, name, date, left, step));
	}
	if (finding) {
		struct plat_finding_report f = {.document_id = id, .severity = sev, .message = msg.data, .details = details};
		rc = plat_compliance_report(run, r, &f, err);
	}
	plat_buf_free(&msg);
	cJSON_Delete(details);
	cJSON_Delete(value);
	return rc;
}

int plat_compliance_eval_expiry(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err)
{
	struct plat_svc *svc = plat_compliance_run_svc(run);
	long long today;
	int rc = today_days(svc->db, &today, err);
	if (rc < 0)
		return rc;
	cJSON *fields = cJSON_CreateArray();
	for (size_t i = 0; i < r->u.expiry.fields.n; i++)
		cJSON_AddItemToArray(fields, cJSON_CreateString(r->u.expiry.fields.items[i]));
	char *ftext = cJSON_PrintUnformatted(fields);
	cJSON_Delete(fields);
	const char *params[] = {svc->tenant_id, ftext ? ftext : "[]", plat_compliance_classes_param(run, r)};
	PGresult *res;
	rc = plat_db_exec(svc->db,
			  "SELECT count(*) FROM documents d WHERE d.tenant_id = $1::uuid AND d.deleted_at IS NULL"
			  " AND (d.status = 'processed' OR d.processed_at IS NOT NULL) AND length($2) > 0"
			  " AND ($3::jsonb IS NULL OR d.class IN (SELECT jsonb_array_elements_text($3::jsonb)))",
			  3, params, &res, err);
	if (rc == 0) {
		plat_compliance_checked(run, atoll(PQgetvalue(res, 0, 0)));
		PQclear(res);
		/* A field counts when it holds something: not null, "" or []. */
		rc = plat_db_exec(
			svc->db,
			"SELECT d.id, d.name, f.key, (d.fields -> f.key)::text FROM documents d"
			" CROSS JOIN LATERAL (SELECT e.key FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS e(key, ord)"
			"   WHERE d.fields -> e.key NOT IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb) ORDER BY e.ord LIMIT 1) f"
			" WHERE d.tenant_id = $1::uuid AND d.deleted_at IS NULL AND (d.status = 'processed' OR d.processed_at IS NOT NULL)"
			" AND ($3::jsonb IS NULL OR d.class IN (SELECT jsonb_array_elements_text($3::jsonb)))"
			" ORDER BY d.name, d.id",
			3, params, &res, err);
	}
	free(ftext);
	if (rc < 0)
		return rc;
	cJSON *due = cJSON_CreateArray();
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		rc = report_one(run, r, res, i, today, due, err);
		if (rc == 0 && cJSON_GetArraySize(due) >= REMINDER_BATCH) {
			rc = send_reminders(run, r, due, err);
			cJSON_Delete(due);
			due = cJSON_CreateArray();
		}
	}
	PQclear(res);
	if (rc == 0)
		rc = send_reminders(run, r, due, err);
	cJSON_Delete(due);
	return rc;
}
