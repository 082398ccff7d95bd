/* Notifications: signed webhooks, e-mail through SMTP, a heartbeat, and the digest a
 * compliance run sends (one message per run, not one per finding).
 *
 * Webhooks are JSON POSTs signed with HMAC-SHA256 over "TIMESTAMP.BODY" (the scheme a
 * receiver checks is platctl-notify(7); plat_notify_webhook_verify is that check), retried
 * with exponential backoff and jitter on connection errors, timeouts, 408, 425, 429 and 5xx.
 * E-mail goes through libcurl's SMTP (STARTTLS per configuration, or smtps://) as a
 * multipart/alternative message with a text and an HTML part rendered from templates.
 *
 * Every delivery is a row of the notifications table (the delivery log) when a database is
 * given: status, attempts, the last HTTP status or SMTP reply code, the last error. Neither
 * the log nor any message holds a secret, a URL's password or its query string.
 *
 * A lib module: nothing here prints; failures fill struct plat_error. */
#ifndef PLAT_NOTIFY_H
#define PLAT_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "error/error.h"

struct plat_config;
struct plat_db;

enum plat_notify_starttls {
	PLAT_NOTIFY_STARTTLS_REQUIRED, /* smtp://: refuse to send unless STARTTLS succeeds */
	PLAT_NOTIFY_STARTTLS_TRY,      /* smtp://: use it when the server offers it */
	PLAT_NOTIFY_STARTTLS_OFF,      /* smtp://: plain text (a loopback relay) */
};

/* Strings are borrowed (from the configuration, or a test's literals); NULL or "" is unset. */
struct plat_notify_config {
	const char *webhook_url;
	const char *webhook_secret;
	int attempts;                 /* tries per webhook, e-mail and heartbeat; 0: 5 */
	long long timeout_ms;         /* per try; 0: 10 s */
	const char *smtp_url;         /* smtp://host[:port] or smtps://host[:port] */
	const char *smtp_user;
	const char *smtp_password;
	enum plat_notify_starttls starttls;
	const char *smtp_ca_file;     /* CA bundle for the SMTP server's certificate; NULL: the system's */
	const char *email_from;       /* "addr@host" or "Name <addr@host>" */
	const char *email_to;         /* the digest's recipients, comma-separated */
	const char *templates_dir;    /* NULL: PLATCTL_SYSCONFDIR/platctl/notify, then the built-in ones */
	const char *heartbeat_url;
	/* Not configuration keys: tests shorten the waits. 0: 500 ms and 60 s. */
	long long backoff_ms;         /* the first retry's delay; doubled per retry, jittered */
	long long retry_after_cap_ms; /* the longest Retry-After honoured */
};

/* The notify.* keys of cfg (which must outlive c). */
void plat_notify_config_from(const struct plat_config *cfg, struct plat_notify_config *c);

/* What became of one delivery. */
struct plat_notify_result {
	char status[16];      /* "sent", "failed" or "skipped" (not configured) */
	int attempts;
	int code;             /* the last HTTP status or SMTP reply code; 0: none (no connection) */
	char delivery_id[37]; /* the X-Platctl-Delivery uuid, or the uuid in the e-mail's Message-ID */
	char error[256];      /* the last failure, redacted; "" when sent */
	long long retry_after_ms; /* the last reply's Retry-After; 0: none */
};

/* ---- webhooks ---- */

#define PLAT_NOTIFY_SIGNATURE_LEN (7 + 64) /* "sha256=" + 64 hex digits */

/* out = "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body). 0, or -1 when OpenSSL
 * failed (out is then a value no receiver accepts). */
int plat_notify_webhook_sign(const char *secret, const char *timestamp, const char *body, size_t body_len,
			      char out[PLAT_NOTIFY_SIGNATURE_LEN + 1]);

/* A receiver's check: timestamp (unix seconds, digits only) within window_s of now, and one
 * of the comma-separated "sha256=..." values of signature equal (in constant time) to the
 * signature of timestamp and body under secret. 0, or PLAT_E_AUTH saying which part failed. */
int plat_notify_webhook_verify(const char *secret, const char *timestamp, const char *body, size_t body_len,
			       const char *signature, long long now, long long window_s, struct plat_error *err);

/* POST body (JSON text) to c->webhook_url with the event, a new delivery id, the timestamp
 * and the signature (re-signed per try, so a late retry is not outside the replay window).
 * db NULL: no delivery log row; else tenant_id (a uuid) owns the row. 0 when a 2xx came
 * back; else PLAT_E_UNAVAILABLE (retries exhausted), PLAT_E_FAILURE (refused: other 4xx,
 * 3xx), PLAT_E_CONFIG (no URL or secret), PLAT_E_INVALID (body is not JSON). *r is filled
 * in every case. */
int plat_notify_webhook_post(const struct plat_notify_config *c, struct plat_db *db, const char *tenant_id,
			     const char *event, const char *body, struct plat_notify_result *r, struct plat_error *err);

/* One delivery of a subscription (a webhook of the REST server): its own URL, secret and
 * delivery id, which stays the same over retries so that a receiver can drop repeats. */
struct plat_notify_webhook {
	const char *url;
	const char *secret;
	const char *event;
	const char *delivery_id;
	const char *body; /* JSON text */
};

/* One signed try of w, for a caller that keeps its own delivery log and schedules the
 * retries (across restarts, as the webhook deliveries of platctl serve do): c gives the
 * timeout only. 0 on a 2xx; PLAT_E_UNAVAILABLE when a later try may succeed (connection
 * error, timeout, 408, 425, 429, 5xx; r->retry_after_ms says when the receiver asked),
 * PLAT_E_FAILURE when it refused, PLAT_E_INVALID when w lacks a part. *r is filled. */
int plat_notify_webhook_try(const struct plat_notify_config *c, const struct plat_notify_webhook *w,
			    struct plat_notify_result *r, struct plat_error *err);

/* The URL without its password and query string, as logs and listings show it; malloc'd. */
char *plat_notify_safe_url(const char *url);

/* GET url (NULL: c->heartbeat_url), retried like a webhook. An unset URL is a no-op. */
int plat_notify_heartbeat(const struct plat_notify_config *c, const char *url, struct plat_error *err);

/* ---- e-mail ---- */

struct plat_notify_email {
	const char *const *to; /* addresses, n_to of them */
	size_t n_to;
	const char *subject;   /* UTF-8; RFC 2047 encoded when not ASCII */
	const char *text;      /* the text/plain part */
	const char *html;      /* the text/html part; NULL: the text part alone (in multipart/mixed) */
};

/* Send one message through c->smtp_url from c->email_from. Retried on connection errors
 * and 4xx SMTP replies. Logged like a webhook (channel "email"). 0 or PLAT_E_UNAVAILABLE,
 * PLAT_E_FAILURE (a 5xx reply), PLAT_E_CONFIG (no server or sender), PLAT_E_INVALID (an
 * address with a line break or no '@'). */
int plat_notify_email_send(const struct plat_notify_config *c, struct plat_db *db, const char *tenant_id,
			   const struct plat_notify_email *m, struct plat_notify_result *r, struct plat_error *err);

/* ---- templates ---- */

/* Render a template: {{name}} (dotted paths: {{a.b}}, {{list.0}}; {{.}} the current item) is the value
 * from the innermost context that has it, "" when none has; {{#name}}...{{/name}} repeats
 * for each element of an array (an object or a true value renders once, with it as the
 * context; false, null, 0, "", [] and missing skip it); {{^name}}...{{/name}} renders when
 * {{#name}} would not. html escapes & < > " ' in values. PLAT_E_INVALID with the line for
 * an unclosed or mismatched section or tag. */
int plat_notify_render(const char *tpl, const cJSON *ctx, bool html, char **out, struct plat_error *err);

/* Render the template file NAME ("digest.txt", "reminder.html", ...) from dir (NULL: the
 * default directory), or the built-in copy when the file is not there. ".html" names are
 * HTML-escaped. */
int plat_notify_render_named(const char *dir, const char *name, const cJSON *ctx, char **out,
			     struct plat_error *err);

/* ---- the compliance digest ---- */

/* One run's notifications. summary is the run's summary (plat_compliance_run) with
 * "findings" (opened in this run: [{rule, severity, message, document_id, name}]) and
 * "reminders" ([{document_id, name, expires_on, days_left, step, to: [...]}]).
 * Sends: the webhook "compliance.digest" (the summary as its body); one e-mail to
 * c->email_to when the run opened or resolved findings; one reminder e-mail per recipient
 * with all of that recipient's reminders. Anything not configured is skipped.
 * *result: {"webhook": {"status", "attempts", "http_status", "error"}, "email": {"status",
 * "attempts", "smtp_code", "error"}, "reminders": n sent, "reminders_failed": n}; skipped
 * ones carry "reason". Returns 0 when nothing failed, else the first failure's error (the
 * result still says what was sent). */
int plat_notify_digest(const struct plat_notify_config *c, struct plat_db *db, const char *tenant_id,
		       const cJSON *summary, cJSON **result, struct plat_error *err);

#endif
