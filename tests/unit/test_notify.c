/* lib/notify's signatures, templates, webhooks, heartbeat and configuration, against the
 * webhook receiver of tests/services/notify.sh, which checks signatures as
 * platctl-notify(7) says (notify_sinks.h starts it). The delivery log is checked in
 * PostgreSQL (TEST_DATABASE_URL; those tests skip without it). */
#include "notify_sinks.h"

/* ---- signatures ---- */

static void test_signature_known_value(void **state)
{
	(void)state;
	char sig[PLAT_NOTIFY_SIGNATURE_LEN + 1];
	assert_int_equal(plat_notify_webhook_sign("topsecret", "1700000000", "{\"a\":1}", 7, sig), 0);
	/* python3: hmac.new(b"topsecret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest() */
	assert_string_equal(sig, "sha256=6a939b0c71853d606167625a15168ee9188c6a511c773ef4f42d307f3849e50f");
}

static void test_verify_accepts_and_refuses(void **state)
{
	(void)state;
	const char *body = "{\"event\":\"x\"}";
	char sig[PLAT_NOTIFY_SIGNATURE_LEN + 1];
	plat_notify_webhook_sign("k3y-secret", "1700000000", body, strlen(body), sig);
	struct plat_error err = {0};
	assert_int_equal(plat_notify_webhook_verify("k3y-secret", "1700000000", body, strlen(body), sig, 1700000100, 300, &err), 0);

	/* A tampered body, a wrong secret, an old or a future timestamp, a changed timestamp. */
	const char *tampered = "{\"event\":\"y\"}";
	assert_int_equal(plat_notify_webhook_verify("k3y-secret", "1700000000", tampered, strlen(tampered), sig, 1700000100,
						    300, &err),
			 -PLAT_E_AUTH);
	assert_non_null(strstr(err.message, "does not match"));
	assert_int_equal(plat_notify_webhook_verify("other", "1700000000", body, strlen(body), sig, 1700000100, 300, &err),
			 -PLAT_E_AUTH);
	assert_int_equal(plat_notify_webhook_verify("k3y-secret", "1700000000", body, strlen(body), sig, 1700000301, 300, &err),
			 -PLAT_E_AUTH);
	assert_non_null(strstr(err.message, "replay window"));
	assert_int_equal(plat_notify_webhook_verify("k3y-secret", "1700000000", body, strlen(body), sig, 1699999000, 300, &err),
			 -PLAT_E_AUTH);
	assert_non_null(strstr(err.message, "ahead"));
	assert_int_equal(plat_notify_webhook_verify("k3y-secret", "1700000001", body, strlen(body), sig, 1700000100, 300, &err),
			 -PLAT_E_AUTH);

	/* Malformed headers and timestamps. */
	const char *bad_ts[] = {"", "17e8", "-1700000000", "1700000000 ", "99999999999999"};
	for (size_t i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++)
		assert_int_equal(plat_notify_webhook_verify("k3y-secret", bad_ts[i], body, strlen(body), sig, 1700000100, 300,
							    &err),
				 -PLAT_E_AUTH);
	const char *bad_sig[] = {"", "sha256=", "sha1=abc", sig + 7 /* no prefix */,
				 "sha256=zz939b0c71853d606167625a15168ee9188c6a511c773ef4f42d307f3849e50f"};
	for (size_t i = 0; i < sizeof(bad_sig) / sizeof(bad_sig[0]); i++)
		assert_int_equal(plat_notify_webhook_verify("k3y-secret", "1700000000", body, strlen(body), bad_sig[i],
							    1700000100, 300, &err),
				 -PLAT_E_AUTH);
	assert_int_equal(plat_notify_webhook_verify(NULL, "1700000000", body, strlen(body), sig, 1700000100, 300, &err),
			 -PLAT_E_CONFIG);

	/* Rotation: an old and a new signature, either order. */
	char two[2 * PLAT_NOTIFY_SIGNATURE_LEN + 8];
	snprintf(two, sizeof(two), "sha256=%064d, %s", 0, sig);
	assert_int_equal(plat_notify_webhook_verify("k3y-secret", "1700000000", body, strlen(body), two, 1700000100, 300, &err), 0);
}

/* ---- templates ---- */

static char *render(const char *tpl, const char *json, bool html)
{
	cJSON *ctx = cJSON_Parse(json);
	assert_non_null(ctx);
	char *out = NULL;
	struct plat_error err = {0};
	if (plat_notify_render(tpl, ctx, html, &out, &err) < 0)
		fail_msg("render: %s", err.message);
	cJSON_Delete(ctx);
	return out;
}

static void test_template_values_and_escaping(void **state)
{
	(void)state;
	const char *ctx = "{\"name\":\"<b>R&D</b> \\\"x\\\" 'y'\",\"n\":3,\"f\":0.5,\"t\":true,\"nil\":null,"
			  "\"run\":{\"id\":\"r1\"}}";
	char *s = render("{{name}}|{{n}}|{{f}}|{{t}}|{{nil}}|{{missing}}|{{run.id}}|{{ run.id }}", ctx, false);
	assert_string_equal(s, "<b>R&D</b> \"x\" 'y'|3|0.5|true|||r1|r1");
	free(s);
	s = render("<p>{{name}}</p>", ctx, true);
	assert_string_equal(s, "<p>&lt;b&gt;R&amp;D&lt;/b&gt; &quot;x&quot; &#39;y&#39;</p>");
	free(s);
}

static void test_template_sections(void **state)
{
	(void)state;
	const char *ctx = "{\"items\":[{\"a\":\"1\",\"tags\":[\"x\",\"y\"]},{\"a\":\"2\",\"tags\":[]}],\"top\":\"T\","
			  "\"empty\":[],\"yes\":true,\"no\":false,\"zero\":0,\"obj\":{\"k\":\"v\"}}";
	/* Section lines alone on their line leave no blank lines behind. */
	char *s = render("start\n{{#items}}\n- {{a}} {{top}}:{{#tags}}[{{.}}]{{/tags}}{{^tags}}none{{/tags}}\n{{/items}}\nend\n",
			 ctx, false);
	assert_string_equal(s, "start\n- 1 T:[x][y]\n- 2 T:none\nend\n");
	free(s);
	s = render("{{#empty}}E{{/empty}}{{^empty}}no items{{/empty}}|{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{#zero}}Z{{/zero}}"
		   "{{#missing}}M{{/missing}}{{^missing}}m{{/missing}}|{{#obj}}{{k}}{{top}}{{/obj}}|{{#items.0}}first {{a}}{{/items.0}}",
		   ctx, false);
	assert_string_equal(s, "no items|Ym|vT|first 1");
	free(s);
}

static void test_template_errors(void **state)
{
	(void)state;
	cJSON *ctx = cJSON_Parse("{\"a\":[1]}");
	const char *bad[] = {"line1\n{{#a}}never closed", "{{#a}}x{{/b}}", "{{/a}}", "x {{a", "{{}}", "{{#}}{{/}}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = (char *)"unset";
		struct plat_error err = {0};
		assert_int_equal(plat_notify_render(bad[i], ctx, false, &out, &err), -PLAT_E_INVALID);
		assert_null(out);
		assert_non_null(strstr(err.message, "template line"));
	}
	struct plat_error err = {0};
	char *out;
	assert_int_equal(plat_notify_render("ok\n{{#a}}\nopen", ctx, false, &out, &err), -PLAT_E_INVALID);
	assert_non_null(strstr(err.message, "line 2"));
	/* Nesting is bounded, not a stack overflow. */
	struct plat_buf deep = PLAT_BUF_INIT;
	for (int i = 0; i < 40; i++)
		plat_buf_puts(&deep, "{{#a}}");
	assert_int_equal(plat_notify_render(deep.data, ctx, false, &out, &err), -PLAT_E_INVALID);
	plat_buf_free(&deep);
	cJSON_Delete(ctx);
}

static void test_template_files_and_builtins(void **state)
{
	(void)state;
	cJSON *ctx = cJSON_Parse("{\"tenant\":\"acme\",\"opened\":1,\"resolved\":0,\"open\":1,"
				 "\"findings\":[{\"rule\":\"r\",\"severity\":\"high\",\"message\":\"<script>\"}]}");
	char *out;
	struct plat_error err = {0};
	/* A directory that does not exist: the built-in templates. */
	assert_int_equal(plat_notify_render_named("/nonexistent/notify", "digest.html", ctx, &out, &err), 0);
	assert_non_null(strstr(out, "&lt;script&gt;"));
	assert_null(strstr(out, "<script>"));
	free(out);
	assert_int_equal(plat_notify_render_named("/nonexistent/notify", "digest.txt", ctx, &out, &err), 0);
	assert_non_null(strstr(out, "- [high] r: <script>"));
	free(out);
	/* A file in the directory overrides the built-in one. */
	char dir[] = "/tmp/platctl-tpl-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/digest.txt", dir);
	FILE *f = fopen(path, "w");
	fputs("custom {{tenant}}", f);
	fclose(f);
	assert_int_equal(plat_notify_render_named(dir, "digest.txt", ctx, &out, &err), 0);
	assert_string_equal(out, "custom acme");
	free(out);
	f = fopen(path, "w");
	fputs("broken {{#tenant}}", f);
	fclose(f);
	assert_int_equal(plat_notify_render_named(dir, "digest.txt", ctx, &out, &err), -PLAT_E_INVALID);
	assert_non_null(strstr(err.message, path));
	assert_int_equal(plat_notify_render_named(dir, "nope.txt", ctx, &out, &err), -PLAT_E_NOT_FOUND);
	harness_remove(dir);
	cJSON_Delete(ctx);
}

/* ---- webhooks ---- */

static void test_webhook_retried_after_500(void **state)
{
	(void)state;
	NEED_DB();
	reset_receiver("[{\"status\": 500}]");
	/* The stored target keeps only the scheme, host and port: services put their token in
	 * the user info, the query or the path. */
	char url[600];
	snprintf(url, sizeof(url), "http://hookuser:hookpass@%s/hook/path-secret?token=qs-secret", hook_url + 7);
	struct plat_notify_config c = hook_config("");
	c.webhook_url = url;
	struct plat_notify_result r;
	struct plat_error err = {0};
	const char *body = "{\"run_id\":\"r1\",\"opened\":2}";
	assert_int_equal(plat_notify_webhook_post(&c, db, tenant_id, "compliance.digest", body, &r, &err), 0);
	assert_string_equal(r.status, "sent");
	assert_int_equal(r.attempts, 2);
	assert_int_equal(r.code, 200);

	cJSON *got = received();
	assert_int_equal(cJSON_GetArraySize(got), 2);
	for (int i = 0; i < 2; i++) {
		const cJSON *q = cJSON_GetArrayItem(got, i);
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(q, "verified")));
		assert_string_equal(jstr(q, "body"), body);
		assert_string_equal(jstr(q, "headers.x-platctl-event"), "compliance.digest");
		assert_string_equal(jstr(q, "headers.x-platctl-delivery"), r.delivery_id);
		assert_string_equal(jstr(q, "headers.content-type"), "application/json");
	}
	assert_int_equal((int)jnum(cJSON_GetArrayItem(got, 0), "status"), 500);
	assert_int_equal((int)jnum(cJSON_GetArrayItem(got, 1), "status"), 200);
	cJSON_Delete(got);

	cJSON *row = log_row(r.delivery_id);
	assert_string_equal(jstr(row, "channel"), "webhook");
	assert_string_equal(jstr(row, "status"), "sent");
	assert_string_equal(jstr(row, "event"), "compliance.digest");
	assert_int_equal((int)jnum(row, "attempts"), 2);
	assert_int_equal((int)jnum(row, "response_code"), 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(row, "sent")));
	char *all = cJSON_PrintUnformatted(row);
	assert_null(strstr(all, "hookpass"));
	assert_null(strstr(all, "qs-secret"));
	assert_null(strstr(all, secret));
	assert_null(strstr(all, "path-secret"));
	assert_null(strstr(all, "hookuser"));
	assert_non_null(strstr(jstr(row, "target"), hook_url + 7));
	assert_string_equal(jstr(row, "body.run_id"), "r1");
	free(all);
	cJSON_Delete(row);
}

static void test_webhook_400_not_retried(void **state)
{
	(void)state;
	reset_receiver("[{\"status\": 400}]");
	struct plat_notify_config c = hook_config("/hook");
	struct plat_notify_result r;
	struct plat_error err = {0};
	assert_int_equal(plat_notify_webhook_post(&c, db, tenant_id, "compliance.digest", "{}", &r, &err), -PLAT_E_FAILURE);
	assert_string_equal(r.status, "failed");
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.code, 400);
	assert_non_null(strstr(err.message, "HTTP 400"));
	cJSON *got = received();
	assert_int_equal(cJSON_GetArraySize(got), 1);
	cJSON_Delete(got);

	/* A receiver with another secret answers 401: refused, not retried. */
	reset_receiver(NULL);
	c.webhook_secret = "not-the-receivers-secret";
	assert_int_equal(plat_notify_webhook_post(&c, NULL, NULL, "compliance.digest", "{}", &r, &err), -PLAT_E_FAILURE);
	assert_int_equal(r.code, 401);
	got = received();
	assert_int_equal(cJSON_GetArraySize(got), 1);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(got, 0), "verified")));
	cJSON_Delete(got);
}

static void test_webhook_receiver_down(void **state)
{
	(void)state;
	NEED_DB();
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", dead_port());
	struct plat_notify_config c = {.webhook_url = url, .webhook_secret = secret, .attempts = 3, .timeout_ms = 2000,
				       .backoff_ms = 10};
	struct plat_notify_result r;
	struct plat_error err = {0};
	assert_int_equal(plat_notify_webhook_post(&c, db, tenant_id, "compliance.digest", "{\"x\":1}", &r, &err),
			 -PLAT_E_UNAVAILABLE);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(err.message, "after 3 attempts"));
	cJSON *row = log_row(r.delivery_id);
	assert_string_equal(jstr(row, "status"), "failed");
	assert_int_equal((int)jnum(row, "attempts"), 3);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(row, "response_code")));
	assert_non_null(jstr(row, "last_error"));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(row, "sent")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(row, "tried")));
	cJSON_Delete(row);
}

static void test_webhook_retry_after(void **state)
{
	(void)state;
	reset_receiver("[{\"status\": 429, \"retry_after\": \"1\"}, {\"status\": 503, \"retry_after\": \"120\"}]");
	struct plat_notify_config c = hook_config("/hook");
	c.retry_after_cap_ms = 300; /* 120 s is cut to this */
	struct plat_notify_result r;
	struct plat_error err = {0};
	long long t0 = plat_clock_ms();
	assert_int_equal(plat_notify_webhook_post(&c, NULL, NULL, "compliance.digest", "{}", &r, &err), 0);
	long long took = plat_clock_ms() - t0;
	assert_int_equal(r.attempts, 3);
	assert_true(took >= 300 && took < 5000); /* the cap bounds both waits */
	(void)took;

	reset_receiver("[{\"status\": 429, \"retry_after\": \"1\"}]");
	c.retry_after_cap_ms = 0;
	t0 = plat_clock_ms();
	assert_int_equal(plat_notify_webhook_post(&c, NULL, NULL, "compliance.digest", "{}", &r, &err), 0);
	assert_true(plat_clock_ms() - t0 >= 1000); /* Retry-After: 1 is longer than the backoff */
}

static void test_webhook_timeout_retried(void **state)
{
	(void)state;
	reset_receiver("[{\"delay_ms\": 1500}]");
	struct plat_notify_config c = hook_config("/hook");
	c.timeout_ms = 400;
	struct plat_notify_result r;
	struct plat_error err = {0};
	if (plat_notify_webhook_post(&c, NULL, NULL, "compliance.digest", "{}", &r, &err) < 0)
		fail_msg("post: %s", err.message);
	assert_int_equal(r.attempts, 2); /* the first try timed out */
	assert_int_equal(r.code, 200);
	/* The receiver records the slow request when its delay is over: wait for it, so it
	 * does not land in the next test's list. */
	int n = 0;
	for (int i = 0; i < 50 && n < 2; i++) {
		cJSON *got = received();
		n = cJSON_GetArraySize(got);
		cJSON_Delete(got);
		if (n < 2)
			plat_sleep_ms(100);
	}
	assert_int_equal(n, 2);
}

static void test_webhook_bad_input(void **state)
{
	(void)state;
	reset_receiver(NULL);
	struct plat_notify_config c = hook_config("/hook");
	struct plat_notify_result r;
	struct plat_error err = {0};
	assert_int_equal(plat_notify_webhook_post(&c, NULL, NULL, "compliance.digest", "{not json", &r, &err), -PLAT_E_INVALID);
	assert_int_equal(plat_notify_webhook_post(&c, NULL, NULL, "bad\r\nX-Injected: 1", "{}", &r, &err), -PLAT_E_INVALID);
	assert_int_equal(plat_notify_webhook_post(&c, NULL, NULL, "", "{}", &r, &err), -PLAT_E_INVALID);
	c.webhook_secret = NULL;
	assert_int_equal(plat_notify_webhook_post(&c, NULL, NULL, "compliance.digest", "{}", &r, &err), -PLAT_E_CONFIG);
	c.webhook_url = NULL;
	assert_int_equal(plat_notify_webhook_post(&c, NULL, NULL, "compliance.digest", "{}", &r, &err), -PLAT_E_CONFIG);
	assert_string_equal(r.status, "skipped");
	c = hook_config("/hook");
	c.webhook_url = "ftp://127.0.0.1/hook"; /* only http and https */
	assert_true(plat_notify_webhook_post(&c, NULL, NULL, "compliance.digest", "{}", &r, &err) < 0);
	cJSON *got = received();
	assert_int_equal(cJSON_GetArraySize(got), 0); /* nothing reached the receiver */
	cJSON_Delete(got);
}

static void test_heartbeat(void **state)
{
	(void)state;
	reset_receiver("[{\"status\": 503}]");
	char url[600];
	snprintf(url, sizeof(url), "%s/beat/abc", hook_url);
	struct plat_notify_config c = {.heartbeat_url = url, .attempts = 3, .timeout_ms = 5000, .backoff_ms = 10};
	struct plat_error err = {0};
	assert_int_equal(plat_notify_heartbeat(&c, NULL, &err), 0);
	cJSON *got = received();
	assert_int_equal(cJSON_GetArraySize(got), 2);
	assert_string_equal(jstr(got, "1.method"), "GET");
	assert_string_equal(jstr(got, "1.path"), "/beat/abc");
	cJSON_Delete(got);
	c.heartbeat_url = NULL;
	assert_int_equal(plat_notify_heartbeat(&c, NULL, &err), 0); /* unset: nothing to do */
	char dead[64];
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d/beat", dead_port());
	assert_int_equal(plat_notify_heartbeat(&c, dead, &err), -PLAT_E_UNAVAILABLE);
}

/* ---- configuration ---- */

static void test_config_keys(void **state)
{
	(void)state;
	struct plat_config *cfg = plat_config_new();
	struct plat_error err = {0};
	const char *yaml = "notify:\n"
			   "  webhook:\n    url: https://u:hook-pw-77@hooks.example.test/x?k=1\n    secret: whsec-abcdef-123\n"
			   "    attempts: 7\n    timeout: 3s\n"
			   "  smtp:\n    url: smtps://mail.example.test:465\n    user: u\n    password: smtp-pw-123456\n"
			   "    starttls: try\n    ca_file: /etc/ssl/ca.pem\n"
			   "  email:\n    from: platctl <p@example.test>\n    to: a@example.test, b@example.test\n"
			   "  templates: /srv/tpl\n  heartbeat_url: https://hc.example.test/ping/abc\n";
	if (plat_config_load_buffer(cfg, "test.yaml", yaml, strlen(yaml), NULL, &err) < 0)
		fail_msg("load: %s", err.message);
	struct plat_notify_config c;
	plat_notify_config_from(cfg, &c);
	assert_string_equal(c.webhook_secret, "whsec-abcdef-123");
	assert_int_equal(c.attempts, 7);
	assert_int_equal(c.timeout_ms, 3000);
	assert_int_equal(c.starttls, PLAT_NOTIFY_STARTTLS_TRY);
	assert_string_equal(c.smtp_ca_file, "/etc/ssl/ca.pem");
	assert_string_equal(c.email_to, "a@example.test, b@example.test");
	assert_string_equal(c.templates_dir, "/srv/tpl");
	assert_string_equal(c.heartbeat_url, "https://hc.example.test/ping/abc");

	/* Secrets are redacted once registered, like every other secret. */
	plat_config_register_secrets(cfg);
	struct plat_buf b = PLAT_BUF_INIT;
	plat_redact(&b, "secret whsec-abcdef-123 password smtp-pw-123456 url pw hook-pw-77");
	assert_null(strstr(b.data, "whsec-abcdef-123"));
	assert_null(strstr(b.data, "smtp-pw-123456"));
	assert_null(strstr(b.data, "hook-pw-77"));
	plat_buf_free(&b);
	char *shown = plat_config_display_value(cfg, PLAT_CFG_NOTIFY_WEBHOOK_SECRET);
	assert_null(strstr(shown, "whsec"));
	free(shown);
	plat_log_clear_secrets();
	plat_config_free(cfg);

	/* Defaults, and values refused. */
	cfg = plat_config_new();
	plat_notify_config_from(cfg, &c);
	assert_null(c.webhook_url);
	assert_int_equal(c.attempts, 5);
	assert_int_equal(c.starttls, PLAT_NOTIFY_STARTTLS_REQUIRED);
	const struct {
		enum plat_config_key k;
		const char *v;
	} bad[] = {{PLAT_CFG_NOTIFY_SMTP_URL, "http://mail.example.test"},
		   {PLAT_CFG_NOTIFY_SMTP_STARTTLS, "maybe"},
		   {PLAT_CFG_NOTIFY_WEBHOOK_URL, "ftp://x"},
		   {PLAT_CFG_NOTIFY_WEBHOOK_ATTEMPTS, "0"},
		   {PLAT_CFG_NOTIFY_EMAIL_TO, "a@example.test, nobody"},
		   {PLAT_CFG_NOTIFY_EMAIL_FROM, "nobody"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(plat_config_set(cfg, bad[i].k, bad[i].v, PLAT_CFG_SRC_FLAG, "test", &err) < 0);
	plat_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_known_value),
		cmocka_unit_test(test_verify_accepts_and_refuses),
		cmocka_unit_test(test_template_values_and_escaping),
		cmocka_unit_test(test_template_sections),
		cmocka_unit_test(test_template_errors),
		cmocka_unit_test(test_template_files_and_builtins),
		cmocka_unit_test(test_webhook_retried_after_500),
		cmocka_unit_test(test_webhook_400_not_retried),
		cmocka_unit_test(test_webhook_receiver_down),
		cmocka_unit_test(test_webhook_retry_after),
		cmocka_unit_test(test_webhook_timeout_retried),
		cmocka_unit_test(test_webhook_bad_input),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_config_keys),
	};
	return cmocka_run_group_tests(tests, sinks_setup, sinks_teardown);
}
