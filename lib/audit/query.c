/* The audit operations: listing a tenant's rows and checking its chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "db/db.h"
#include "mem/mem.h"
#include "str/str.h"

/* ---- times ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil):
 * timegm is not POSIX. */
static long long days_from_civil(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* Exactly n digits at *p, advancing it. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool parse_age(const char *s, long long now, long long *secs)
{
	static const struct {
		char unit;
		long long mult;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 9 || !s[n] || s[n + 1])
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (s[n] == units[i].unit) {
			*secs = now - atoll(s) * units[i].mult;
			return true;
		}
	}
	return false;
}

static bool parse_rfc3339(const char *s, long long *secs, int *micros)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	*micros = 0;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
		return false;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return false;
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return false;
		if (*p == ':' && (p++, !digits(&p, 2, &sec)))
			return false;
		/* 60: a leap second, which the seconds count cannot tell from the next one. */
		if (h > 23 || mi > 59 || sec > 60)
			return false;
		if (*p == '.') {
			p++;
			size_t n = strspn(p, "0123456789");
			if (n == 0)
				return false;
			for (size_t i = 0; i < 6; i++)
				*micros = *micros * 10 + (i < n ? p[i] - '0' : 0);
			p += n;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
			if (!digits(&p, 2, &oh) || (*p == ':' && (p++, !digits(&p, 2, &om))) || oh > 23 || om > 59)
				return false;
			off = sign * (oh * 3600 + om * 60);
		}
		if (*p)
			return false;
	}
	*secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return true;
}

static int bad_value(struct plat_error *err, const char *param, const char *what, const char *value,
		     const char *expected)
{
	struct plat_buf b = PLAT_BUF_INIT;
	size_t len = strlen(value);
	plat_str_escape_terminal(&b, value, len > 64 ? 64 : len);
	plat_error_set(err, PLAT_E_USAGE, "invalid %s '%s'%s%s", what, b.data ? b.data : "", expected ? ": " : "",
		       expected ? expected : "");
	plat_buf_free(&b);
	return plat_error_param(err, param);
}

int plat_audit_parse_time(const char *text, long long now, char out[32], struct plat_error *err)
{
	long long secs;
	int micros = 0;
	if (!parse_age(text, now, &secs) && !parse_rfc3339(text, &secs, &micros))
		return plat_error_set(err, PLAT_E_USAGE,
				      "expected RFC 3339 (2026-11-01T09:30:00Z), a date (2026-11-01) or an age (90m, 24h, 7d, 2w)");
	/* Years 1 to 9999, as the text form has four digits. */
	if (secs < -62135596800LL || secs > 253402300799LL)
		return plat_error_set(err, PLAT_E_USAGE, "out of range (years 1 to 9999)");
	time_t t = (time_t)secs;
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return plat_error_set(err, PLAT_E_USAGE, "out of range (years 1 to 9999)");
	/* The compiler cannot bound struct tm's fields; the range check above does. */
	char buf[96];
	int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
	if (n < 0 || n >= 32)
		return plat_error_set(err, PLAT_E_USAGE, "out of range (years 1 to 9999)");
	memcpy(out, buf, (size_t)n + 1);
	return 0;
}

static int time_param(const char *text, const char *param, long long now, char out[32], struct plat_error *err)
{
	if (!text)
		return 0;
	struct plat_error why = {0};
	if (plat_audit_parse_time(text, now, out, &why) < 0)
		return bad_value(err, param, "time", text, why.message);
	return 0;
}

/* ---- list ---- */

/* The cursor is the id of a page's last row: the next page is what came before it. */
static int check_cursor(const char *cursor, struct plat_error *err)
{
	size_t n = strspn(cursor, "0123456789");
	if (n == 0 || n > 18 || cursor[n] || atoll(cursor) <= 0)
		return bad_value(err, "cursor", "cursor", cursor, "use the next_cursor of a previous page");
	return 0;
}

static int check_filter(const struct plat_audit_filter *f, char *action_prefix, struct plat_error *err)
{
	if (f->limit < 1 || f->limit > 1000) {
		plat_error_set(err, PLAT_E_USAGE, "invalid limit %d: from 1 to 1000", f->limit);
		return plat_error_param(err, "limit");
	}
	if (f->actor && !*f->actor)
		return bad_value(err, "actor", "actor", f->actor, "a principal's name");
	if (f->action) {
		const char *star = strchr(f->action, '*');
		if (!*f->action || (star && star[1]))
			return bad_value(err, "action", "action", f->action,
					 "an action (document.upload) or a prefix ending in '*' (document.*)");
		if (star)
			snprintf(action_prefix, 128, "%.*s", (int)(star - f->action), f->action);
	}
	if ((f->object_id && !f->object_type) || (f->object_type && !*f->object_type) || (f->object_id && !*f->object_id)) {
		struct plat_buf shown = PLAT_BUF_INIT;
		plat_buf_printf(&shown, "%s%s%s", f->object_type ? f->object_type : "", f->object_id ? "/" : "",
				f->object_id ? f->object_id : "");
		int rc = bad_value(err, "object", "object", shown.data ? shown.data : "",
				   "a type, or a type and an id (document/ID)");
		plat_buf_free(&shown);
		return rc;
	}
	return f->cursor ? check_cursor(f->cursor, err) : 0;
}

int plat_audit_list(struct plat_svc *svc, const struct plat_audit_filter *f, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "audit.list", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	char since[32], until[32], prefix[128] = "";
	long long now = (long long)time(NULL);
	if (f->action && strlen(f->action) >= sizeof(prefix))
		return bad_value(err, "action", "action", f->action, "too long");
	if ((rc = check_filter(f, prefix, err)) < 0 || (rc = time_param(f->since, "since", now, since, err)) < 0 ||
	    (rc = time_param(f->until, "until", now, until, err)) < 0)
		return rc;
	/* The fixed-width UTC form orders as text does. */
	if (f->since && f->until && strcmp(since, until) >= 0) {
		plat_error_set(err, PLAT_E_USAGE, "the time range is empty: since %s is not before until %s", since, until);
		return plat_error_param(err, "until");
	}
	bool is_prefix = f->action && strchr(f->action, '*');
	char limit[16];
	snprintf(limit, sizeof(limit), "%d", f->limit + 1);
	const char *params[] = {svc->tenant_id, f->since ? since : NULL, f->until ? until : NULL, f->actor,
				is_prefix ? NULL : f->action, is_prefix ? prefix : NULL, f->object_type, f->object_id,
				f->cursor, limit};
	PGresult *res;
	rc = plat_db_exec(svc->db,
			  "SELECT id, json_build_object('id', id, 'at', to_char(at AT TIME ZONE 'UTC',"
			  "  'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'principal', principal, 'action', action,"
			  "  'object_type', object_type, 'object_id', object_id, 'request_id', request_id,"
			  "  'details', details, 'hash', encode(hash, 'hex'), 'prev_hash', encode(prev_hash, 'hex'))::text"
			  " FROM audit_log WHERE tenant_id = $1"
			  " AND ($2::timestamptz IS NULL OR at >= $2::timestamptz)"
			  " AND ($3::timestamptz IS NULL OR at < $3::timestamptz)"
			  " AND ($4::text IS NULL OR principal = $4)"
			  " AND ($5::text IS NULL OR action = $5)"
			  " AND ($6::text IS NULL OR starts_with(action, $6))"
			  " AND ($7::text IS NULL OR object_type = $7)"
			  " AND ($8::text IS NULL OR object_id = $8)"
			  " AND ($9::bigint IS NULL OR id < $9::bigint)"
			  " ORDER BY id DESC LIMIT $10::int",
			  10, params, &res, err);
	if (rc < 0)
		return rc;
	cJSON *page = cJSON_CreateObject();
	cJSON *entries = cJSON_AddArrayToObject(page, "entries");
	int n = PQntuples(res);
	for (int i = 0; i < n && i < f->limit; i++) {
		cJSON *row = cJSON_Parse(PQgetvalue(res, i, 1));
		if (!row) {
			PQclear(res);
			cJSON_Delete(page);
			return plat_error_set(err, PLAT_E_INTERNAL, "audit row %s: the database returned invalid JSON",
					      PQgetvalue(res, i, 0));
		}
		cJSON_AddItemToArray(entries, row);
	}
	if (n > f->limit)
		cJSON_AddStringToObject(page, "next_cursor", PQgetvalue(res, f->limit - 1, 0));
	else
		cJSON_AddNullToObject(page, "next_cursor");
	PQclear(res);
	*out = page;
	return 0;
}

/* ---- verify ---- */

int plat_audit_verify_chain(struct plat_svc *svc, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "audit.verify", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	struct plat_audit_check c;
	if ((rc = plat_audit_check_chain(svc->db, svc->tenant_id, &c, err)) < 0)
		return rc;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "ok", c.broken_id == 0);
	cJSON_AddNumberToObject(r, "rows", (double)c.rows);
	cJSON_AddNumberToObject(r, "verified", (double)c.verified);
	if (c.broken_id) {
		cJSON *b = cJSON_AddObjectToObject(r, "first_broken");
		cJSON_AddNumberToObject(b, "id", (double)c.broken_id);
		if (c.broken_at[0])
			cJSON_AddStringToObject(b, "at", c.broken_at);
		else
			cJSON_AddNullToObject(b, "at");
		cJSON_AddStringToObject(b, "reason", c.reason);
	} else {
		cJSON_AddNullToObject(r, "first_broken");
	}
	if (c.head_hash[0]) {
		cJSON *h = cJSON_AddObjectToObject(r, "head");
		cJSON_AddNumberToObject(h, "last_id", (double)c.head_id);
		cJSON_AddStringToObject(h, "last_hash", c.head_hash);
	} else {
		cJSON_AddNullToObject(r, "head");
	}
	*out = r;
	return 0;
}
