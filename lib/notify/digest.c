/* A compliance run's notifications: one digest (webhook and e-mail) per run, and one
 * reminder e-mail per recipient with all of that recipient's expiry reminders, so that a
 * run with 200 findings sends a handful of messages rather than 200. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem/mem.h"
#include "notify/internal.h"

/* The digest e-mail lists at most this many findings; the rest are counted. */
#define DIGEST_MAX_FINDINGS 50

static bool set(const char *s)
{
	return s && *s;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* The comma-separated list, trimmed, empty items dropped; the caller frees items and the
 * array. */
static char **split_list(const char *s, size_t *n)
{
	*n = 0;
	char **items = NULL;
	for (const char *p = s ? s : ""; *p;) {
		size_t len = strcspn(p, ",");
		const char *a = p, *b = p + len;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a) {
			items = plat_xrealloc(items, (*n + 1) * sizeof(*items));
			char *it = plat_xmalloc((size_t)(b - a) + 1);
			memcpy(it, a, (size_t)(b - a));
			it[b - a] = '\0';
			items[(*n)++] = it;
		}
		p += len + (p[len] == ',');
	}
	return items;
}

static void free_list(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

static cJSON *skipped(const char *reason)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", "skipped");
	cJSON_AddStringToObject(o, "reason", reason);
	return o;
}

static cJSON *outcome(const struct plat_notify_result *r, const char *code_name)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", r->status);
	cJSON_AddNumberToObject(o, "attempts", r->attempts);
	if (r->code)
		cJSON_AddNumberToObject(o, code_name, r->code);
	else
		cJSON_AddNullToObject(o, code_name);
	if (r->error[0])
		cJSON_AddStringToObject(o, "error", r->error);
	else
		cJSON_AddNullToObject(o, "error");
	if (r->delivery_id[0])
		cJSON_AddStringToObject(o, "delivery_id", r->delivery_id);
	return o;
}

/* Keep the first error for the return value, and go on with the other channels. */
static void remember(int rc, const struct plat_error *e, int *first_rc, struct plat_error *err)
{
	if (rc < 0 && *first_rc == 0) {
		*first_rc = rc;
		if (err)
			*err = *e;
	}
}

static int render_pair(const struct plat_notify_config *c, const char *base, const cJSON *ctx, char **text, char **html,
		       struct plat_error *err)
{
	char name[64];
	snprintf(name, sizeof(name), "%s.txt", base);
	if (plat_notify_render_named(c->templates_dir, name, ctx, text, err) < 0)
		return -err->kind;
	snprintf(name, sizeof(name), "%s.html", base);
	if (plat_notify_render_named(c->templates_dir, name, ctx, html, err) < 0) {
		free(*text);
		*text = NULL;
		return -err->kind;
	}
	return 0;
}

static int send_rendered(const struct plat_notify_config *c, struct plat_db *db, const char *tenant_id,
			 const char *base, const cJSON *ctx, const char *const *to, size_t n_to, const char *subject,
			 struct plat_notify_result *r, struct plat_error *err)
{
	char *text = NULL, *html = NULL;
	if (render_pair(c, base, ctx, &text, &html, err) < 0) {
		memset(r, 0, sizeof(*r));
		snprintf(r->status, sizeof(r->status), "failed");
		notify_set_error(r, "%s", err->message);
		return -err->kind;
	}
	struct plat_notify_email m = {.to = to, .n_to = n_to, .subject = subject, .text = text, .html = html};
	int rc = plat_notify_email_send(c, db, tenant_id, &m, r, err);
	free(text);
	free(html);
	return rc;
}

static int digest_email(const struct plat_notify_config *c, struct plat_db *db, const char *tenant_id,
			const cJSON *summary, cJSON *result, struct plat_error *err)
{
	size_t n_to;
	char **to = split_list(c->email_to, &n_to);
	if (!set(c->smtp_url) || !set(c->email_from) || n_to == 0) {
		free_list(to, n_to);
		cJSON_AddItemToObject(result, "email", skipped("not configured"));
		return 0;
	}
	const cJSON *findings = cJSON_GetObjectItemCaseSensitive(summary, "findings");
	int n_findings = cJSON_IsArray(findings) ? cJSON_GetArraySize(findings) : 0;
	double resolved = num(summary, "resolved");
	if (n_findings == 0 && num(summary, "opened") == 0 && resolved == 0) {
		free_list(to, n_to);
		cJSON_AddItemToObject(result, "email", skipped("nothing opened or resolved"));
		return 0;
	}
	cJSON *ctx = cJSON_Duplicate(summary, true);
	cJSON_DeleteItemFromObjectCaseSensitive(ctx, "reminders");
	if (n_findings > DIGEST_MAX_FINDINGS) {
		cJSON *list = cJSON_GetObjectItemCaseSensitive(ctx, "findings");
		while (cJSON_GetArraySize(list) > DIGEST_MAX_FINDINGS)
			cJSON_DeleteItemFromArray(list, DIGEST_MAX_FINDINGS);
		cJSON_AddNumberToObject(ctx, "more", n_findings - DIGEST_MAX_FINDINGS);
	}
	char subject[256];
	snprintf(subject, sizeof(subject), "[platctl] compliance %s: %.0f opened, %.0f resolved, %.0f open",
		 str(summary, "tenant", "digest"), num(summary, "opened"), resolved, num(summary, "open"));
	struct plat_notify_result r;
	int rc = send_rendered(c, db, tenant_id, "digest", ctx, (const char *const *)to, n_to, subject, &r, err);
	cJSON_Delete(ctx);
	free_list(to, n_to);
	cJSON_AddItemToObject(result, "email", outcome(&r, "smtp_code"));
	return rc;
}

/* Group reminders by recipient (case-insensitively, in the order first seen). */
static cJSON *group_reminders(const cJSON *reminders)
{
	cJSON *groups = cJSON_CreateArray();
	const cJSON *rem;
	cJSON_ArrayForEach(rem, reminders)
	{
		const cJSON *to = cJSON_GetObjectItemCaseSensitive(rem, "to"), *addr;
		cJSON_ArrayForEach(addr, to)
		{
			if (!cJSON_IsString(addr) || !*addr->valuestring)
				continue;
			cJSON *g = NULL, *it;
			cJSON_ArrayForEach(it, groups)
			{
				if (!strcasecmp(str(it, "to", ""), addr->valuestring)) {
					g = it;
					break;
				}
			}
			if (!g) {
				g = cJSON_CreateObject();
				cJSON_AddStringToObject(g, "to", addr->valuestring);
				cJSON_AddArrayToObject(g, "reminders");
				cJSON_AddItemToArray(groups, g);
			}
			cJSON *copy = cJSON_Duplicate(rem, true);
			cJSON_DeleteItemFromObjectCaseSensitive(copy, "to");
			cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(g, "reminders"), copy);
		}
	}
	cJSON *g;
	cJSON_ArrayForEach(g, groups)
	{
		cJSON_AddNumberToObject(g, "count", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "reminders")));
	}
	return groups;
}

static int reminder_emails(const struct plat_notify_config *c, struct plat_db *db, const char *tenant_id,
			   const cJSON *summary, cJSON *result, struct plat_error *err)
{
	const cJSON *reminders = cJSON_GetObjectItemCaseSensitive(summary, "reminders");
	int sent = 0, failed = 0, first_rc = 0;
	if (cJSON_GetArraySize(reminders) > 0 && (!set(c->smtp_url) || !set(c->email_from))) {
		cJSON_AddNumberToObject(result, "reminders", 0);
		cJSON_AddNumberToObject(result, "reminders_failed", 0);
		cJSON_AddStringToObject(result, "reminders_reason", "not configured");
		return 0;
	}
	cJSON *groups = group_reminders(reminders), *g;
	cJSON *errors = cJSON_CreateArray();
	cJSON_ArrayForEach(g, groups)
	{
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(g, "reminders");
		const char *to[] = {str(g, "to", "")};
		char subject[256];
		if (cJSON_GetArraySize(list) == 1) {
			const cJSON *one = cJSON_GetArrayItem(list, 0);
			snprintf(subject, sizeof(subject), "[platctl] '%s' expires on %s", str(one, "name", "a document"),
				 str(one, "expires_on", "?"));
		} else {
			snprintf(subject, sizeof(subject), "[platctl] %d documents expire soon", cJSON_GetArraySize(list));
		}
		for (char *p = subject; *p; p++) /* a name from a document must not break the header */
			if (*p == '\r' || *p == '\n')
				*p = ' ';
		struct plat_notify_result r;
		struct plat_error e = {0};
		int rc = send_rendered(c, db, tenant_id, "reminder", g, to, 1, subject, &r, &e);
		if (rc < 0) {
			failed++;
			cJSON *o = outcome(&r, "smtp_code");
			cJSON_AddStringToObject(o, "to", to[0]);
			cJSON_AddItemToArray(errors, o);
		} else {
			sent++;
		}
		remember(rc, &e, &first_rc, err);
	}
	cJSON_Delete(groups);
	cJSON_AddNumberToObject(result, "reminders", sent);
	cJSON_AddNumberToObject(result, "reminders_failed", failed);
	if (failed)
		cJSON_AddItemToObject(result, "reminder_errors", errors);
	else
		cJSON_Delete(errors);
	return first_rc;
}

int plat_notify_digest(const struct plat_notify_config *c, struct plat_db *db, const char *tenant_id,
		       const cJSON *summary, cJSON **result, struct plat_error *err)
{
	cJSON *res = cJSON_CreateObject();
	int first_rc = 0;
	struct plat_error e = {0};

	if (set(c->webhook_url)) {
		char *body = cJSON_PrintUnformatted(summary);
		struct plat_notify_result r;
		int rc = plat_notify_webhook_post(c, db, tenant_id, "compliance.digest", body ? body : "{}", &r, &e);
		cJSON_free(body);
		cJSON *o = outcome(&r, "http_status");
		cJSON_AddItemToObject(res, "webhook", o);
		remember(rc, &e, &first_rc, err);
	} else {
		cJSON_AddItemToObject(res, "webhook", skipped("not configured"));
	}

	memset(&e, 0, sizeof(e));
	remember(digest_email(c, db, tenant_id, summary, res, &e), &e, &first_rc, err);
	memset(&e, 0, sizeof(e));
	remember(reminder_emails(c, db, tenant_id, summary, res, &e), &e, &first_rc, err);
	*result = res;
	return first_rc;
}
