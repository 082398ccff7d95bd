/* Webhooks as a service: add, list, delete, the delivery log and redelivery. */
#include "webhooks/webhooks.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <openssl/rand.h>

#include "audit/audit.h"
#include "db/db.h"
#include "hash/hash.h"
#include "ids/ids.h"
#include "mem/mem.h"
#include "notify/notify.h"

const char *const plat_webhook_events[] = {
	"document.queued", "document.processing", "document.processed", "document.failed", "document.deleted",
	"finding.opened",  "finding.resolved",    "finding.suppressed", NULL,
};

static bool known_event(const char *e)
{
	for (const char *const *k = plat_webhook_events; *k; k++)
		if (strcmp(*k, e) == 0)
			return true;
	return false;
}

int plat_webhooks_parse_events(const char *list, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	cJSON *a = cJSON_CreateArray();
	bool all = false;
	const char *p = list ? list : "";
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char name[64];
		while (n && isspace((unsigned char)*p))
			p++, n--;
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n >= sizeof(name)) {
			cJSON_Delete(a);
			return plat_error_set(err, PLAT_E_USAGE, "unknown event '%.40s...'", p);
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (n == 0) {
			/* "a,,b" and a trailing comma are typos worth a word, not silence. */
			cJSON_Delete(a);
			return plat_error_set(err, PLAT_E_USAGE, "an empty event name in '%s'", list);
		}
		if (strcmp(name, "*") == 0) {
			all = true;
		} else if (!known_event(name)) {
			cJSON_Delete(a);
			char known[400] = "";
			for (const char *const *k = plat_webhook_events; *k; k++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", known[0] ? ", " : "", *k);
			return plat_error_set(err, PLAT_E_USAGE, "unknown event '%s' (%s, or * for all)", name, known);
		} else {
			bool dup = false;
			const cJSON *it;
			cJSON_ArrayForEach(it, a)
				dup = dup || strcmp(it->valuestring, name) == 0;
			if (!dup)
				cJSON_AddItemToArray(a, cJSON_CreateString(name));
		}
		p += (comma ? (size_t)(comma - p) + 1 : strlen(p));
		if (comma && !*p) {
			cJSON_Delete(a);
			return plat_error_set(err, PLAT_E_USAGE, "an empty event name in '%s'", list);
		}
	}
	if (all) {
		cJSON_Delete(a);
		a = cJSON_CreateArray();
		cJSON_AddItemToArray(a, cJSON_CreateString("*"));
	}
	if (cJSON_GetArraySize(a) == 0) {
		cJSON_Delete(a);
		return plat_error_set(err, PLAT_E_USAGE, "no events given (a comma-separated list, or * for all)");
	}
	*out = a;
	return 0;
}

const char *plat_webhooks_url_problem(const char *url)
{
	if (!url || !*url)
		return "is empty";
	if (strlen(url) > 2048)
		return "is longer than 2048 characters";
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f)
			return "has a space or a control character";
	CURLU *u = curl_url();
	const char *problem = NULL;
	char *scheme = NULL, *host = NULL, *frag = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		problem = "is not an absolute URL";
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		 (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		problem = "is not http:// or https://";
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		problem = "has no host";
	else if (curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK)
		problem = "has a fragment (#...), which is never sent";
	curl_free(scheme);
	curl_free(host);
	curl_free(frag);
	curl_url_cleanup(u);
	return problem;
}

long long plat_webhooks_backoff_ms(long long base_ms, int attempt, long long retry_after_ms, double jitter)
{
	const long long cap = 3600LL * 1000;
	long long wait = base_ms > 0 ? base_ms : 1;
	for (int i = 1; i < attempt && wait < cap; i++)
		wait *= 2;
	if (wait > cap)
		wait = cap;
	/* Less, never more, than the doubling: many receivers' retries then spread out
	 * instead of arriving together after an outage. */
	wait -= (long long)((double)wait * 0.2 * (jitter < 0 ? 0 : jitter >= 1 ? 0.999 : jitter));
	if (retry_after_ms > cap)
		retry_after_ms = cap;
	return wait > retry_after_ms ? wait : retry_after_ms;
}

/* The URL as listings show it: no password, no query string (where tokens live). */
static char *listed_url(const char *url)
{
	CURLU *u = curl_url();
	char *s = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		curl_url_set(u, CURLUPART_QUERY, NULL, 0);
		curl_url_get(u, CURLUPART_URL, &s, 0);
	}
	curl_url_cleanup(u);
	char *out = plat_xstrdup(s ? s : "(invalid URL)");
	curl_free(s);
	return out;
}

static void list_url(cJSON *row)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(row, "url");
	if (cJSON_IsString(u)) {
		char *safe = listed_url(u->valuestring);
		cJSON_ReplaceItemInObjectCaseSensitive(row, "url", cJSON_CreateString(safe));
		free(safe);
	}
}

#define WEBHOOK_JSON                                                                                                 \
	"json_build_object('id', w.id, 'url', w.url, 'events', to_json(w.events), 'description', w.description,"    \
	" 'created_at', to_char(w.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                 \
	" 'created_by', w.created_by)"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define DELIVERY_JSON                                                                                                \
	"json_build_object('id', d.id, 'webhook_id', d.webhook_id, 'event_id', d.event_id, 'event', d.event,"       \
	" 'status', d.status, 'attempts', d.attempts, 'last_status', d.last_status, 'last_error', d.last_error,"    \
	" 'created_at', " TS("d.created_at") ", 'next_at', CASE WHEN d.status = 'pending' THEN " TS("d.next_at")     \
	" END, 'finished_at', " TS("d.finished_at") ", 'redelivery_of', d.redelivery_of)"

int plat_webhooks_add(struct plat_svc *svc, const struct plat_new_webhook *nw, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "webhook.add", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	const char *problem = plat_webhooks_url_problem(nw->url);
	if (problem) {
		char *safe = nw->url ? listed_url(nw->url) : plat_xstrdup("");
		plat_error_set(err, PLAT_E_USAGE, "the webhook URL '%s' %s", safe, problem);
		free(safe);
		return plat_error_param(err, "url");
	}
	if (nw->description && strlen(nw->description) > 500) {
		plat_error_set(err, PLAT_E_USAGE, "a description has at most 500 characters");
		return plat_error_param(err, "description");
	}
	cJSON *events = NULL;
	if ((rc = plat_webhooks_parse_events(nw->events, &events, err)) < 0)
		return plat_error_param(err, "events");
	/* A Postgres array literal of names that parse_events allowed ([a-z.*] only). */
	char arr[512] = "{";
	const cJSON *e;
	cJSON_ArrayForEach(e, events)
		snprintf(arr + strlen(arr), sizeof(arr) - strlen(arr), "%s\"%s\"", arr[1] ? "," : "", e->valuestring);
	snprintf(arr + strlen(arr), sizeof(arr) - strlen(arr), "}");
	cJSON_Delete(events);

	unsigned char rnd[32];
	char secret[6 + 64 + 1];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return plat_error_set(err, PLAT_E_FAILURE, "no random bytes for the webhook secret");
	memcpy(secret, "whsec_", 6);
	plat_hex(rnd, sizeof(rnd), secret + 6);
	plat_wipe(rnd, sizeof(rnd));

	if ((rc = plat_db_begin(svc->db, err)) < 0)
		goto out;
	const char *params[] = {svc->tenant_id, nw->url, arr, secret, nw->description ? nw->description : "",
				svc->principal};
	PGresult *res = NULL;
	rc = plat_db_exec(svc->db,
			  "WITH w AS (INSERT INTO webhooks (tenant_id, url, events, secret, description, created_by)"
			  " VALUES ($1::uuid, $2, $3::text[], $4, $5, $6) RETURNING *)"
			  " SELECT " WEBHOOK_JSON "::text, w.id FROM w",
			  6, params, &res, err);
	cJSON *row = NULL;
	if (rc == 0) {
		row = cJSON_Parse(PQgetvalue(res, 0, 0));
		cJSON *d = cJSON_CreateObject();
		char *safe = plat_notify_safe_url(nw->url); /* the audit trail is read by auditors too */
		cJSON_AddStringToObject(d, "url", safe);
		free(safe);
		cJSON_AddItemToObject(d, "events", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(row, "events"), 1));
		char *ds = cJSON_PrintUnformatted(d);
		rc = plat_audit_append(svc->db, svc->tenant_id, svc->principal, "webhook.add", "webhook", PQgetvalue(res, 0, 1),
				       svc->request_id, ds, err);
		cJSON_free(ds);
		cJSON_Delete(d);
	}
	PQclear(res);
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	if (rc < 0) {
		plat_db_rollback(svc->db);
		cJSON_Delete(row);
		goto out;
	}
	list_url(row);
	cJSON_AddStringToObject(row, "secret", secret);
	*out = row;
out:
	plat_wipe(secret, sizeof(secret));
	return rc;
}

#define WEBHOOK_LIST_JSON                                                                                            \
	"(" WEBHOOK_JSON "::jsonb || json_build_object("                                                               \
	"'pending', (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id"                            \
	" AND d.status IN ('pending', 'delivering')),"                                                                \
	" 'failed', (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'failed'),"  \
	" 'last_delivery_at', (SELECT " TS("max(d.finished_at)") " FROM webhook_deliveries d"                        \
	" WHERE d.webhook_id = w.id),"                                                                                \
	" 'last_status', (SELECT d.status FROM webhook_deliveries d WHERE d.webhook_id = w.id"                        \
	" AND d.finished_at IS NOT NULL ORDER BY d.finished_at DESC LIMIT 1))::jsonb)"

int plat_webhooks_list(struct plat_svc *svc, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "webhook.list", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	const char *params[] = {svc->tenant_id};
	rc = plat_db_query_json(svc->db,
				"SELECT coalesce(json_agg(" WEBHOOK_LIST_JSON " ORDER BY w.created_at, w.id), '[]')::text"
				" FROM webhooks w WHERE w.tenant_id = $1::uuid",
				1, params, out, err);
	if (rc == 0) {
		cJSON *row;
		cJSON_ArrayForEach(row, *out)
			list_url(row);
	}
	return rc;
}

static int webhook_id_problem(const char *what, const char *id, struct plat_error *err)
{
	if (id && plat_id_uuid_shaped(id))
		return 0;
	plat_error_set(err, PLAT_E_USAGE, "'%.40s' is not a %s id (a uuid)", id ? id : "", what);
	return plat_error_param(err, "id");
}

int plat_webhooks_delete(struct plat_svc *svc, const char *id, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "webhook.delete", PLAT_NEEDS_TENANT, err);
	if (rc < 0 || (rc = webhook_id_problem("webhook", id, err)) < 0)
		return rc;
	if ((rc = plat_db_begin(svc->db, err)) < 0)
		return rc;
	const char *params[] = {svc->tenant_id, id};
	PGresult *res = NULL;
	/* The listing is taken before the row goes, with its counts. */
	rc = plat_db_exec(svc->db,
			  "WITH w AS (SELECT * FROM webhooks WHERE tenant_id = $1::uuid AND id = lower($2)::uuid FOR UPDATE),"
			  " listed AS (SELECT " WEBHOOK_LIST_JSON "::text AS j, w.id, w.url FROM w),"
			  " gone AS (DELETE FROM webhooks x USING listed WHERE x.id = listed.id)"
			  " SELECT j, id, url FROM listed",
			  2, params, &res, err);
	if (rc == 0 && PQntuples(res) == 0)
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "no webhook '%s' in tenant '%s'", id, svc->tenant);
	cJSON *row = NULL;
	if (rc == 0) {
		row = cJSON_Parse(PQgetvalue(res, 0, 0));
		char *safe = plat_notify_safe_url(PQgetvalue(res, 0, 2));
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "url", safe);
		free(safe);
		char *ds = cJSON_PrintUnformatted(d);
		rc = plat_audit_append(svc->db, svc->tenant_id, svc->principal, "webhook.delete", "webhook",
				       PQgetvalue(res, 0, 1), svc->request_id, ds, err);
		cJSON_free(ds);
		cJSON_Delete(d);
	}
	PQclear(res);
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	if (rc < 0) {
		plat_db_rollback(svc->db);
		cJSON_Delete(row);
		return rc;
	}
	list_url(row);
	*out = row;
	return 0;
}

int plat_webhooks_deliveries(struct plat_svc *svc, const struct plat_webhook_delivery_filter *f, cJSON **out,
			     struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "webhook.deliveries", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	if (f->webhook_id && (rc = webhook_id_problem("webhook", f->webhook_id, err)) < 0)
		return plat_error_param(err, "webhook");
	static const char *const statuses[] = {"pending", "delivering", "delivered", "failed", NULL};
	if (f->status) {
		bool ok = false;
		for (const char *const *s = statuses; *s; s++)
			ok = ok || strcmp(*s, f->status) == 0;
		if (!ok) {
			plat_error_set(err, PLAT_E_USAGE, "unknown delivery status '%.40s' (pending, delivering, delivered or failed)",
				       f->status);
			return plat_error_param(err, "status");
		}
	}
	if (f->limit < 0 || f->limit > 1000) {
		plat_error_set(err, PLAT_E_USAGE, "a limit is 1 to 1000");
		return plat_error_param(err, "limit");
	}
	if (f->webhook_id) {
		/* An unknown webhook is a 404, not an empty log that looks like silence. */
		const char *p[] = {svc->tenant_id, f->webhook_id};
		PGresult *r = NULL;
		if ((rc = plat_db_exec(svc->db, "SELECT 1 FROM webhooks WHERE tenant_id = $1::uuid AND id = lower($2)::uuid", 2,
				       p, &r, err)) < 0)
			return rc;
		int n = PQntuples(r);
		PQclear(r);
		if (n == 0)
			return plat_error_set(err, PLAT_E_NOT_FOUND, "no webhook '%s' in tenant '%s'", f->webhook_id, svc->tenant);
	}
	char limit[16];
	snprintf(limit, sizeof(limit), "%d", f->limit ? f->limit : 100);
	const char *params[] = {svc->tenant_id, f->webhook_id, f->status, limit};
	return plat_db_query_json(svc->db,
				  "SELECT coalesce(json_agg(j ORDER BY created_at DESC, id DESC), '[]')::text FROM ("
				  "SELECT " DELIVERY_JSON " AS j, d.created_at, d.id FROM webhook_deliveries d"
				  " WHERE d.tenant_id = $1::uuid AND ($2::uuid IS NULL OR d.webhook_id = $2::uuid)"
				  " AND ($3::text IS NULL OR d.status = $3) ORDER BY d.created_at DESC, d.id DESC"
				  " LIMIT $4::int) x",
				  4, params, out, err);
}

int plat_webhooks_redeliver(struct plat_svc *svc, const char *id, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "webhook.redeliver", PLAT_NEEDS_TENANT, err);
	if (rc < 0 || (rc = webhook_id_problem("delivery", id, err)) < 0)
		return rc;
	if ((rc = plat_db_begin(svc->db, err)) < 0)
		return rc;
	const char *params[] = {svc->tenant_id, id};
	PGresult *res = NULL;
	rc = plat_db_exec(svc->db,
			  "WITH d AS (INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event, body, redelivery_of)"
			  " SELECT o.tenant_id, o.webhook_id, o.event_id, o.event, o.body, o.id FROM webhook_deliveries o"
			  " WHERE o.tenant_id = $1::uuid AND o.id = lower($2)::uuid RETURNING *)"
			  " SELECT " DELIVERY_JSON "::text, d.id, pg_notify('platctl_webhooks', '') FROM d",
			  2, params, &res, err);
	if (rc == 0 && PQntuples(res) == 0)
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "no webhook delivery '%s' in tenant '%s'", id, svc->tenant);
	cJSON *row = NULL;
	if (rc == 0) {
		row = cJSON_Parse(PQgetvalue(res, 0, 0));
		char details[80];
		snprintf(details, sizeof(details), "{\"redelivery_of\": \"%s\"}", id);
		rc = plat_audit_append(svc->db, svc->tenant_id, svc->principal, "webhook.redeliver", "webhook_delivery",
				       PQgetvalue(res, 0, 1), svc->request_id, details, err);
	}
	PQclear(res);
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	if (rc < 0) {
		plat_db_rollback(svc->db);
		cJSON_Delete(row);
		return rc;
	}
	*out = row;
	return 0;
}
