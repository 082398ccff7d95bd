/* What the webhook, e-mail and digest code share: configuration, retry timing, ids, URLs
 * that are safe to show, and the delivery log. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "clock/clock.h"
#include "config/config.h"
#include "db/db.h"
#include "log/log.h"
#include "mem/mem.h"
#include "notify/internal.h"

/* Embedded from etc/platctl/notify by the build (scripts/embed-data.sh). */
extern const char plat_notify_tpl_digest_txt[], plat_notify_tpl_digest_html[];
extern const char plat_notify_tpl_reminder_txt[], plat_notify_tpl_reminder_html[];

static const char *str_or_null(const struct plat_config *cfg, enum plat_config_key k)
{
	const char *v = plat_config_str(cfg, k);
	return *v ? v : NULL;
}

void plat_notify_config_from(const struct plat_config *cfg, struct plat_notify_config *c)
{
	memset(c, 0, sizeof(*c));
	c->webhook_url = str_or_null(cfg, PLAT_CFG_NOTIFY_WEBHOOK_URL);
	c->webhook_secret = str_or_null(cfg, PLAT_CFG_NOTIFY_WEBHOOK_SECRET);
	c->attempts = (int)plat_config_int(cfg, PLAT_CFG_NOTIFY_WEBHOOK_ATTEMPTS);
	c->timeout_ms = plat_config_int(cfg, PLAT_CFG_NOTIFY_WEBHOOK_TIMEOUT);
	c->smtp_url = str_or_null(cfg, PLAT_CFG_NOTIFY_SMTP_URL);
	c->smtp_user = str_or_null(cfg, PLAT_CFG_NOTIFY_SMTP_USER);
	c->smtp_password = str_or_null(cfg, PLAT_CFG_NOTIFY_SMTP_PASSWORD);
	const char *tls = plat_config_str(cfg, PLAT_CFG_NOTIFY_SMTP_STARTTLS);
	c->starttls = !strcmp(tls, "off") ? PLAT_NOTIFY_STARTTLS_OFF
		      : !strcmp(tls, "try") ? PLAT_NOTIFY_STARTTLS_TRY
					    : PLAT_NOTIFY_STARTTLS_REQUIRED;
	c->smtp_ca_file = str_or_null(cfg, PLAT_CFG_NOTIFY_SMTP_CA_FILE);
	c->email_from = str_or_null(cfg, PLAT_CFG_NOTIFY_EMAIL_FROM);
	c->email_to = str_or_null(cfg, PLAT_CFG_NOTIFY_EMAIL_TO);
	c->templates_dir = str_or_null(cfg, PLAT_CFG_NOTIFY_TEMPLATES);
	c->heartbeat_url = str_or_null(cfg, PLAT_CFG_NOTIFY_HEARTBEAT_URL);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void notify_curl_init(void)
{
	pthread_once(&curl_once, curl_init_once);
}

int notify_attempts(const struct plat_notify_config *c)
{
	return c->attempts > 0 ? c->attempts : 5;
}

long long notify_timeout_ms(const struct plat_notify_config *c)
{
	return c->timeout_ms > 0 ? c->timeout_ms : 10000;
}

long long notify_backoff_ms(const struct plat_notify_config *c, int retry, long long retry_after_ms)
{
	long long base = c->backoff_ms > 0 ? c->backoff_ms : 500;
	long long cap = c->retry_after_cap_ms > 0 ? c->retry_after_cap_ms : 60000;
	long long d = base << (retry - 1 < 8 ? retry - 1 : 8);
	unsigned short r = 0;
	RAND_bytes((unsigned char *)&r, sizeof(r));
	/* Full delay halved plus a random half: receivers that came back are not hit by every
	 * sender at the same instant. */
	d = d / 2 + (d / 2) * r / 65535;
	if (retry_after_ms > d)
		d = retry_after_ms;
	return d < cap ? d : cap;
}

void notify_uuid(char out[37])
{
	unsigned char b[16] = {0};
	if (RAND_bytes(b, sizeof(b)) != 1) {
		/* Still unique enough to correlate a delivery; never a security token. */
		long long t = plat_clock_ms();
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)(t >> (8 * (i % 8)));
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

char *notify_safe_url(const char *url)
{
	CURLU *u = curl_url();
	char *s = NULL;
	if (url && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
		/* Only the scheme, host and port: webhook and heartbeat services put their token in
		 * the path (Slack's /services/T../B../XXXX, healthchecks.io's /<uuid>) as often as in
		 * the query or the user info. */
		curl_url_set(u, CURLUPART_USER, NULL, 0);
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		curl_url_set(u, CURLUPART_PATH, "/", 0);
		curl_url_set(u, CURLUPART_QUERY, NULL, 0);
		curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
		curl_url_get(u, CURLUPART_URL, &s, 0);
	}
	curl_url_cleanup(u);
	char *out = plat_xstrdup(s ? s : "(invalid URL)");
	curl_free(s);
	return out;
}

char *plat_notify_safe_url(const char *url)
{
	return notify_safe_url(url);
}

void notify_set_error(struct plat_notify_result *r, const char *fmt, ...)
{
	char raw[sizeof(r->error)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	struct plat_buf b = PLAT_BUF_INIT;
	plat_redact(&b, raw);
	snprintf(r->error, sizeof(r->error), "%s", b.data ? b.data : "");
	plat_buf_free(&b);
}

void notify_log_start(struct plat_db *db, const char *tenant_id, const char *channel, const char *target,
		      const char *subject, const char *event, const char *delivery_id, const cJSON *body,
		      char id[37])
{
	id[0] = '\0';
	if (!db)
		return;
	char *json = body ? cJSON_PrintUnformatted(body) : NULL;
	const char *p[] = {tenant_id, channel, target, subject, json ? json : "{}", event, delivery_id};
	PGresult *res = NULL;
	struct plat_error err = {0};
	if (plat_db_exec(db,
			 "INSERT INTO notifications (tenant_id, channel, target, subject, body, event, delivery_id)"
			 " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::uuid) RETURNING id",
			 7, p, &res, &err) == 0 &&
	    PQntuples(res) == 1)
		snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
	else
		PLAT_LOG_W("could not write the delivery log", "channel", channel, "target", target, "error",
			   err.message);
	if (res)
		PQclear(res);
	cJSON_free(json);
}

void notify_log_finish(struct plat_db *db, const char *id, const struct plat_notify_result *r)
{
	if (!db || !*id)
		return;
	char attempts[16], code[16];
	snprintf(attempts, sizeof(attempts), "%d", r->attempts);
	snprintf(code, sizeof(code), "%d", r->code);
	const char *status = strcmp(r->status, "sent") ? "failed" : "sent";
	const char *p[] = {id, status, attempts, r->code ? code : NULL, r->error[0] ? r->error : NULL};
	struct plat_error err = {0};
	if (plat_db_exec(db,
			 "UPDATE notifications SET status = $2, attempts = $3::int, response_code = $4::int,"
			 " last_error = $5, last_attempt_at = now(),"
			 " sent_at = CASE WHEN $2 = 'sent' THEN now() END WHERE id = $1::uuid",
			 5, p, NULL, &err) < 0)
		PLAT_LOG_W("could not update the delivery log", "id", id, "error", err.message);
}

const char *notify_builtin_template(const char *name)
{
	static const struct {
		const char *name, *text;
	} t[] = {
		{"digest.txt", plat_notify_tpl_digest_txt},
		{"digest.html", plat_notify_tpl_digest_html},
		{"reminder.txt", plat_notify_tpl_reminder_txt},
		{"reminder.html", plat_notify_tpl_reminder_html},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].name, name))
			return t[i].text;
	return NULL;
}
