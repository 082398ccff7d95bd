/* lib/notify's e-mail and the compliance digest, against the SMTP sinks of
 * tests/services/notify.sh (python3-aiosmtpd; one plain, one requiring STARTTLS and AUTH)
 * and its webhook receiver (notify_sinks.h starts them). */
#include "notify_sinks.h"

static const char *summary_json =
	"{\"run_id\":\"11111111-2222-3333-4444-555555555555\",\"tenant\":\"default\",\"started_at\":\"2026-12-02T05:00:00Z\","
	"\"duration_ms\":42,\"opened\":2,\"resolved\":1,\"open\":5,\"failed\":true,\"fail_on\":\"high\","
	"\"findings\":[{\"rule\":\"contracts-expiry\",\"severity\":\"high\",\"message\":\"'Lease <A&B>' expires in 10 days\","
	"\"document_id\":\"0b7e8a7c-1b2a-4c3d-9e8f-000000000001\",\"name\":\"lease.pdf\"},"
	"{\"rule\":\"audit\",\"severity\":\"critical\",\"message\":\"the audit chain breaks at row 7\",\"document_id\":null}]}";

static void test_digest_email_both_parts(void **state)
{
	(void)state;
	NEED_DB();
	clear_mail();
	struct plat_notify_config c = mail_config();
	cJSON *summary = cJSON_Parse(summary_json), *res = NULL;
	struct plat_error err = {0};
	assert_int_equal(plat_notify_digest(&c, db, tenant_id, summary, &res, &err), 0);
	assert_string_equal(jstr(res, "email.status"), "sent");
	assert_string_equal(jstr(res, "webhook.status"), "skipped");
	assert_string_equal(jstr(res, "webhook.reason"), "not configured");
	assert_int_equal((int)jnum(res, "reminders"), 0);

	cJSON *box = mail();
	assert_int_equal(cJSON_GetArraySize(box), 1);
	const cJSON *m = cJSON_GetArrayItem(box, 0);
	assert_string_equal(jstr(m, "mail_from"), "platctl@example.test");
	assert_string_equal(jstr(m, "rcpt_tos.0"), "compliance@example.test");
	assert_string_equal(jstr(m, "rcpt_tos.1"), "legal@example.test");
	assert_non_null(strstr(jstr(m, "headers.subject"), "2 opened, 1 resolved, 5 open"));
	assert_non_null(jstr(m, "headers.date"));
	assert_non_null(strstr(jstr(m, "headers.message-id"), "@example.test>"));
	assert_non_null(strstr(jstr(m, "headers.message-id"), jstr(res, "email.delivery_id")));
	assert_string_equal(jstr(m, "content_type"), "multipart/alternative");
	assert_non_null(strstr(jstr(m, "raw"), "Auto-Submitted: auto-generated"));
	const cJSON *text = part_of(m, "text/plain"), *html = part_of(m, "text/html");
	assert_non_null(text);
	assert_non_null(html);
	assert_non_null(strstr(jstr(text, "text"), "- [high] contracts-expiry: 'Lease <A&B>' expires in 10 days"));
	assert_non_null(strstr(jstr(text, "text"), "document: lease.pdf (0b7e8a7c-1b2a-4c3d-9e8f-000000000001)"));
	assert_non_null(strstr(jstr(text, "text"), "the audit chain breaks at row 7"));
	assert_non_null(strstr(jstr(html, "text"), "&#39;Lease &lt;A&amp;B&gt;&#39; expires in 10 days"));
	assert_non_null(strstr(jstr(html, "text"), "severity <b>high</b> are open"));
	cJSON_Delete(box);

	cJSON *row = log_row(jstr(res, "email.delivery_id"));
	assert_string_equal(jstr(row, "channel"), "email");
	assert_string_equal(jstr(row, "status"), "sent");
	assert_int_equal((int)jnum(row, "response_code"), 250);
	assert_string_equal(jstr(row, "target"), "compliance@example.test, legal@example.test");
	cJSON_Delete(row);
	cJSON_Delete(res);

	/* A run that opened and resolved nothing sends no digest e-mail. */
	clear_mail();
	cJSON *quiet = cJSON_Parse("{\"tenant\":\"default\",\"opened\":0,\"resolved\":0,\"open\":3,\"findings\":[]}");
	assert_int_equal(plat_notify_digest(&c, db, tenant_id, quiet, &res, &err), 0);
	assert_string_equal(jstr(res, "email.status"), "skipped");
	box = mail();
	assert_int_equal(cJSON_GetArraySize(box), 0);
	cJSON_Delete(box);
	cJSON_Delete(res);
	cJSON_Delete(quiet);
	cJSON_Delete(summary);
}

static void test_email_encoded_subject_and_bad_addresses(void **state)
{
	(void)state;
	clear_mail();
	struct plat_notify_config c = mail_config();
	const char *to[] = {"Jürgen <juergen@example.test>"};
	const char *subject = "Vertrag läuft ab: Überprüfung nötig — 期限切れ間近の契約書が三件あります、ご確認ください";
	struct plat_notify_email m = {.to = to, .n_to = 1, .subject = subject, .text = "Grüße\n", .html = NULL};
	struct plat_notify_result r;
	struct plat_error err = {0};
	assert_int_equal(plat_notify_email_send(&c, NULL, NULL, &m, &r, &err), 0);
	cJSON *box = mail();
	assert_int_equal(cJSON_GetArraySize(box), 1);
	const cJSON *msg = cJSON_GetArrayItem(box, 0);
	assert_string_equal(jstr(msg, "headers.subject"), subject); /* decoded by Python's email package */
	assert_non_null(strstr(jstr(msg, "raw"), "Subject: =?UTF-8?B?"));
	assert_string_equal(jstr(msg, "rcpt_tos.0"), "juergen@example.test");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(msg, "parts")), 1);
	assert_string_equal(jstr(msg, "parts.0.content_type"), "text/plain");
	assert_string_equal(jstr(msg, "parts.0.text"), "Grüße\r\n"); /* CRLF on the wire, not =0A */
	/* No line of the header block is longer than RFC 5322's 998. */
	const char *raw = jstr(msg, "raw");
	for (const char *line = raw; line && *line;) {
		const char *nl = strstr(line, "\r\n");
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		assert_true(len <= 998);
		if (len == 0)
			break;
		line = nl ? nl + 2 : NULL;
	}
	cJSON_Delete(box);

	const char *bad_to[][1] = {{"no-at-sign"}, {"a@b\r\nBcc: victim@example.test"}, {"<unterminated@x"}, {"@x"}};
	for (size_t i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++) {
		m.to = bad_to[i];
		assert_int_equal(plat_notify_email_send(&c, NULL, NULL, &m, &r, &err), -PLAT_E_INVALID);
	}
	m.to = to;
	m.subject = "hi\r\nBcc: victim@example.test";
	assert_int_equal(plat_notify_email_send(&c, NULL, NULL, &m, &r, &err), -PLAT_E_INVALID);
	m.subject = "hi";
	m.n_to = 0;
	assert_int_equal(plat_notify_email_send(&c, NULL, NULL, &m, &r, &err), -PLAT_E_INVALID);
	m.n_to = 1;
	c.email_from = "not an address";
	assert_int_equal(plat_notify_email_send(&c, NULL, NULL, &m, &r, &err), -PLAT_E_CONFIG);
	c = mail_config();
	c.smtp_url = NULL;
	assert_int_equal(plat_notify_email_send(&c, NULL, NULL, &m, &r, &err), -PLAT_E_CONFIG);
	box = mail();
	assert_int_equal(cJSON_GetArraySize(box), 0 + 1); /* only the first message */
	cJSON_Delete(box);
}

static void test_email_starttls_and_auth(void **state)
{
	(void)state;
	clear_mail();
	struct plat_notify_config c = mail_config();
	c.smtp_url = smtp_tls_url;
	c.starttls = PLAT_NOTIFY_STARTTLS_REQUIRED;
	c.smtp_ca_file = smtp_ca;
	c.smtp_user = smtp_user;
	c.smtp_password = smtp_password;
	const char *to[] = {"ops@example.test"};
	struct plat_notify_email m = {.to = to, .n_to = 1, .subject = "over TLS", .text = "t", .html = "<p>h</p>"};
	struct plat_notify_result r;
	struct plat_error err = {0};
	if (plat_notify_email_send(&c, NULL, NULL, &m, &r, &err) < 0)
		fail_msg("send: %s", err.message);
	cJSON *box = mail();
	assert_int_equal(cJSON_GetArraySize(box), 1);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(box, 0), "tls")));
	assert_string_equal(jstr(box, "0.auth_user"), smtp_user);
	assert_string_equal(jstr(box, "0.sink"), "smtp_tls");
	cJSON_Delete(box);

	/* A wrong password is refused (535) and not retried; the password is in no message. */
	c.smtp_password = "wrong-password-123";
	int rc = plat_notify_email_send(&c, NULL, NULL, &m, &r, &err);
	if (rc != -PLAT_E_FAILURE)
		fail_msg("wrong password: %d %s (code %d, %d attempts)", rc, err.message, r.code, r.attempts);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.code, 535);
	assert_null(strstr(err.message, "wrong-password-123"));

	/* STARTTLS required, and the server offers none: nothing is sent. */
	c = mail_config();
	c.starttls = PLAT_NOTIFY_STARTTLS_REQUIRED;
	assert_int_equal(plat_notify_email_send(&c, NULL, NULL, &m, &r, &err), -PLAT_E_FAILURE);
	/* try: plain text is fine with a server that has no STARTTLS. */
	c.starttls = PLAT_NOTIFY_STARTTLS_TRY;
	assert_int_equal(plat_notify_email_send(&c, NULL, NULL, &m, &r, &err), 0);
	/* The TLS sink's certificate is not in the system's CA bundle. */
	c = mail_config();
	c.smtp_url = smtp_tls_url;
	c.starttls = PLAT_NOTIFY_STARTTLS_REQUIRED;
	c.smtp_user = smtp_user;
	c.smtp_password = smtp_password;
	c.attempts = 1;
	assert_true(plat_notify_email_send(&c, NULL, NULL, &m, &r, &err) < 0);
	box = mail();
	assert_int_equal(cJSON_GetArraySize(box), 2); /* the TLS one and the "try" one */
	cJSON_Delete(box);

	/* A server that is down: retried, then unavailable. */
	char dead[64];
	snprintf(dead, sizeof(dead), "smtp://127.0.0.1:%d", dead_port());
	c = mail_config();
	c.smtp_url = dead;
	assert_int_equal(plat_notify_email_send(&c, NULL, NULL, &m, &r, &err), -PLAT_E_UNAVAILABLE);
	assert_int_equal(r.attempts, 2);
}

static void test_reminders_grouped_per_recipient(void **state)
{
	(void)state;
	clear_mail();
	reset_receiver(NULL);
	struct plat_notify_config c = mail_config();
	struct plat_notify_config h = hook_config("/hook");
	c.webhook_url = h.webhook_url;
	c.webhook_secret = h.webhook_secret;
	cJSON *summary = cJSON_Parse(
		"{\"tenant\":\"default\",\"opened\":0,\"resolved\":0,\"open\":0,\"findings\":[],\"reminders\":["
		"{\"rule\":\"exp\",\"document_id\":\"d1\",\"name\":\"lease.pdf\",\"expires_on\":\"2027-01-01\",\"days_left\":30,"
		"\"step\":30,\"to\":[\"owner@example.test\"]},"
		"{\"rule\":\"exp\",\"document_id\":\"d2\",\"name\":\"nda.pdf\",\"expires_on\":\"2026-12-09\",\"days_left\":7,"
		"\"step\":7,\"to\":[\"Owner@Example.test\",\"backup@example.test\"]},"
		"{\"rule\":\"exp\",\"document_id\":\"d3\",\"name\":\"cert.pdf\",\"expires_on\":\"2026-12-03\",\"days_left\":1,"
		"\"step\":1,\"to\":[\"other@example.test\"]}]}");
	cJSON *res = NULL;
	struct plat_error err = {0};
	assert_int_equal(plat_notify_digest(&c, NULL, NULL, summary, &res, &err), 0);
	assert_int_equal((int)jnum(res, "reminders"), 3);
	assert_int_equal((int)jnum(res, "reminders_failed"), 0);
	assert_string_equal(jstr(res, "email.status"), "skipped"); /* nothing opened: no digest e-mail */
	assert_string_equal(jstr(res, "webhook.status"), "sent");  /* the webhook gets every run */

	cJSON *box = mail();
	assert_int_equal(cJSON_GetArraySize(box), 3);
	const cJSON *m;
	int seen = 0;
	cJSON_ArrayForEach(m, box)
	{
		const char *rcpt = jstr(m, "rcpt_tos.0");
		const char *text = jstr(part_of(m, "text/plain"), "text");
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(m, "rcpt_tos")), 1);
		if (!strcmp(rcpt, "owner@example.test")) {
			assert_non_null(strstr(text, "lease.pdf"));
			assert_non_null(strstr(text, "nda.pdf"));
			assert_null(strstr(text, "cert.pdf"));
			assert_string_equal(jstr(m, "headers.subject"), "[platctl] 2 documents expire soon");
			seen |= 1;
		} else if (!strcmp(rcpt, "backup@example.test")) {
			assert_non_null(strstr(text, "nda.pdf"));
			assert_null(strstr(text, "lease.pdf"));
			assert_string_equal(jstr(m, "headers.subject"), "[platctl] 'nda.pdf' expires on 2026-12-09");
			seen |= 2;
		} else if (!strcmp(rcpt, "other@example.test")) {
			assert_non_null(strstr(text, "cert.pdf (1 days left)") ? text : strstr(text, "cert.pdf"));
			assert_non_null(part_of(m, "text/html"));
			seen |= 4;
		}
	}
	assert_int_equal(seen, 7);
	cJSON_Delete(box);
	cJSON *got = received();
	assert_int_equal(cJSON_GetArraySize(got), 1);
	cJSON_Delete(got);
	cJSON_Delete(res);

	/* A recipient the server refuses does not stop the others; the run hears of it. */
	clear_mail();
	cJSON_DeleteItemFromObject(summary, "reminders");
	cJSON_AddItemToObject(summary, "reminders",
			      cJSON_Parse("[{\"name\":\"a\",\"to\":[\"bad\\r\\nx@example.test\"]},{\"name\":\"b\",\"to\":[\"ok@example.test\"]}]"));
	c.webhook_url = NULL;
	assert_int_equal(plat_notify_digest(&c, NULL, NULL, summary, &res, &err), -PLAT_E_INVALID);
	assert_int_equal((int)jnum(res, "reminders"), 1);
	assert_int_equal((int)jnum(res, "reminders_failed"), 1);
	box = mail();
	assert_int_equal(cJSON_GetArraySize(box), 1);
	cJSON_Delete(box);
	cJSON_Delete(res);
	cJSON_Delete(summary);
}

static void test_digest_nothing_configured(void **state)
{
	(void)state;
	struct plat_notify_config c = {0};
	cJSON *summary = cJSON_Parse(summary_json), *res = NULL;
	cJSON_AddItemToObject(summary, "reminders", cJSON_Parse("[{\"name\":\"a\",\"to\":[\"x@example.test\"]}]"));
	struct plat_error err = {0};
	assert_int_equal(plat_notify_digest(&c, NULL, NULL, summary, &res, &err), 0);
	assert_string_equal(jstr(res, "webhook.reason"), "not configured");
	assert_string_equal(jstr(res, "email.reason"), "not configured");
	assert_string_equal(jstr(res, "reminders_reason"), "not configured");
	assert_int_equal((int)jnum(res, "reminders"), 0);
	cJSON_Delete(res);
	cJSON_Delete(summary);
}

static void test_digest_webhook_failure_reported(void **state)
{
	(void)state;
	reset_receiver("[{\"status\": 500}, {\"status\": 500}, {\"status\": 500}]");
	clear_mail();
	struct plat_notify_config c = mail_config();
	struct plat_notify_config h = hook_config("/hook");
	c.webhook_url = h.webhook_url;
	c.webhook_secret = h.webhook_secret;
	c.attempts = 3;
	cJSON *summary = cJSON_Parse(summary_json), *res = NULL;
	struct plat_error err = {0};
	assert_int_equal(plat_notify_digest(&c, NULL, NULL, summary, &res, &err), -PLAT_E_UNAVAILABLE);
	assert_string_equal(jstr(res, "webhook.status"), "failed");
	assert_int_equal((int)jnum(cJSON_GetObjectItem(res, "webhook"), "attempts"), 3);
	assert_int_equal((int)jnum(cJSON_GetObjectItem(res, "webhook"), "http_status"), 500);
	assert_string_equal(jstr(res, "email.status"), "sent"); /* the e-mail went all the same */
	cJSON *got = received();
	assert_int_equal(cJSON_GetArraySize(got), 3);
	/* The body is the summary. */
	cJSON *body = cJSON_Parse(jstr(cJSON_GetArrayItem(got, 0), "body"));
	assert_string_equal(jstr(body, "run_id"), "11111111-2222-3333-4444-555555555555");
	cJSON_Delete(body);
	cJSON_Delete(got);
	cJSON_Delete(res);
	cJSON_Delete(summary);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_email_both_parts),
		cmocka_unit_test(test_email_encoded_subject_and_bad_addresses),
		cmocka_unit_test(test_email_starttls_and_auth),
		cmocka_unit_test(test_reminders_grouped_per_recipient),
		cmocka_unit_test(test_digest_nothing_configured),
		cmocka_unit_test(test_digest_webhook_failure_reported),
	};
	return cmocka_run_group_tests(tests, sinks_setup, sinks_teardown);
}
