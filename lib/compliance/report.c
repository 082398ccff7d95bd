/* The compliance report of a period: what the runs of the period did and what is open
 * now. One statement builds it, so its parts agree with each other. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "compliance/compliance.h"
#include "db/db.h"
#include "mem/mem.h"
#include "str/str.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define LIST_MAX "1000"

static int time_param(const char *text, const char *param, char out[32], struct plat_error *err)
{
	struct plat_error why = {0};
	if (plat_audit_parse_time(text, (long long)time(NULL), out, &why) == 0)
		return 0;
	struct plat_buf b = PLAT_BUF_INIT;
	size_t len = strlen(text);
	plat_str_escape_terminal(&b, text, len > 64 ? 64 : len);
	plat_error_set(err, PLAT_E_USAGE, "invalid time '%s': %s", b.data ? b.data : "", why.message);
	plat_buf_free(&b);
	return plat_error_param(err, param);
}

int plat_compliance_period_report(struct plat_svc *svc, const char *since, const char *until, cJSON **out,
				  struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "compliance.report", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	char s[32], u[32];
	if (!since) {
		plat_error_set(err, PLAT_E_USAGE, "a report needs the start of its period");
		return plat_error_param(err, "since");
	}
	if ((rc = time_param(since, "since", s, err)) < 0 || (until && (rc = time_param(until, "until", u, err)) < 0))
		return rc;
	/* Without an end the period runs to the statement's now(), not to the current whole
	 * second that an age gives, which would leave out what happened within it. */
	if (until && strcmp(s, u) >= 0) {
		plat_error_set(err, PLAT_E_USAGE, "the period is empty: since %s is not before until %s", s, u);
		return plat_error_param(err, until ? "until" : "since");
	}
	const char *params[] = {svc->tenant_id, s, until ? u : NULL, svc->tenant};
	cJSON *r = NULL;
	rc = plat_db_query_json(
		svc->db,
		"WITH p AS (SELECT $1::uuid AS t, $2::timestamptz AS since, coalesce($3::timestamptz, now()) AS until),"
		" runs AS (SELECT r.* FROM compliance_runs r, p WHERE r.tenant_id = p.t AND NOT r.dry_run"
		"   AND r.started_at >= p.since AND r.started_at < p.until),"
		" opened AS (SELECT f.* FROM findings f, p WHERE f.tenant_id = p.t"
		"   AND f.first_seen_at >= p.since AND f.first_seen_at < p.until),"
		" resolved AS (SELECT f.* FROM findings f, p WHERE f.tenant_id = p.t AND f.status = 'resolved'"
		"   AND f.resolved_at >= p.since AND f.resolved_at < p.until),"
		" open AS (SELECT f.* FROM findings f, p WHERE f.tenant_id = p.t AND f.status = 'open'),"
		" sev AS (SELECT s, o FROM unnest(ARRAY['info', 'low', 'medium', 'high', 'critical']) WITH ORDINALITY AS x(s, o))"
		" SELECT json_build_object("
		"  'tenant', $4::text,"
		"  'since', " TS("p.since") ", 'until', " TS("p.until") ","
		"  'runs', (SELECT json_build_object('count', count(*), 'failed', count(*) FILTER (WHERE status = 'failed'),"
		"     'last', (SELECT json_build_object('id', id, 'started_at', " TS("started_at") ", 'status', status)"
		"              FROM runs ORDER BY started_at DESC LIMIT 1)) FROM runs),"
		"  'opened', (SELECT count(*) FROM opened),"
		"  'resolved', (SELECT count(*) FROM resolved),"
		"  'open', (SELECT count(*) FROM open),"
		"  'open_by_severity', (SELECT json_object_agg(s, (SELECT count(*) FROM open WHERE severity = s) ORDER BY o)"
		"     FROM sev),"
		"  'open_by_rule', (SELECT coalesce(json_agg(x ORDER BY x.open DESC, x.rule), '[]') FROM ("
		"     SELECT rule, max(kind) AS kind, sum(n)::bigint AS open, json_object_agg(severity, n) AS by_severity"
		"     FROM (SELECT rule, max(kind) AS kind, severity, count(*) AS n FROM open GROUP BY rule, severity) o"
		"     GROUP BY rule) x),"
		"  'opened_findings', (SELECT coalesce(json_agg(json_build_object('id', id, 'rule', rule, 'severity', severity,"
		"     'message', message, 'document_id', document_id, 'first_seen_at', " TS("first_seen_at") ")"
		"     ORDER BY first_seen_at, id), '[]') FROM (SELECT * FROM opened ORDER BY first_seen_at, id LIMIT " LIST_MAX ") o),"
		"  'resolved_findings', (SELECT coalesce(json_agg(json_build_object('id', id, 'rule', rule, 'severity', severity,"
		"     'message', message, 'resolved_at', " TS("resolved_at") ", 'resolved_by', resolved_by)"
		"     ORDER BY resolved_at, id), '[]') FROM (SELECT * FROM resolved ORDER BY resolved_at, id LIMIT " LIST_MAX ") o)"
		" )::text FROM p",
		4, params, &r, err);
	if (rc < 0)
		return rc;
	if (!r)
		return plat_error_set(err, PLAT_E_INTERNAL, "the report query returned no row");
	*out = r;
	return 0;
}
