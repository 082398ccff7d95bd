/* lib/notify against real receivers: tests/services/notify.sh starts a webhook receiver that
 * checks signatures as platctl-notify(7) says, a plain SMTP sink and a STARTTLS+AUTH sink
 * (python3-aiosmtpd), on 127.0.0.1. The delivery log is checked in PostgreSQL
 * (TEST_DATABASE_URL; those tests skip without it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock/clock.h"
#include "config/config.h"
#include "db/db.h"
#include "harness.h"
#include "log/log.h"
#include "mem/mem.h"
#include "notify/notify.h"

static char sink_dir[256], hook_url[256], secret[128], smtp_url[256], smtp_tls_url[256], smtp_ca[300],
	smtp_user[64], smtp_password[128];
static struct plat_db *db;
static char db_url[512], tenant_id[37];

/* ---- the services ---- */

static void export_value(const char *out, const char *name, char *dst, size_t len)
{
	char key[64];
	snprintf(key, sizeof(key), "export %s='", name);
	const char *p = strstr(out, key);
	if (!p)
		return;
	p += strlen(key);
	size_t n = strcspn(p, "'");
	snprintf(dst, len, "%.*s", (int)n, p);
}

/* tests/services/notify.sh from the source tree: the working directory (make check), else
 * up from the test binary (build/tests, build/asan/tests). */
static int script_path(char *out, size_t len)
{
	if (access("tests/services/notify.sh", X_OK) == 0) {
		snprintf(out, len, "tests/services/notify.sh");
		return 0;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	for (int up = 0; up < 5; up++) {
		char *slash = strrchr(exe, '/');
		if (!slash)
			break;
		*slash = '\0';
		snprintf(out, len, "%s/tests/services/notify.sh", exe);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

static int group_setup(void **state)
{
	(void)state;
	char script[PATH_MAX + 64], cmd[PATH_MAX + 128];
	if (script_path(script, sizeof(script)) < 0) {
		fprintf(stderr, "test_notify: tests/services/notify.sh not found\n");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "%s start --owner %ld", script, (long)getpid());
	FILE *p = popen(cmd, "r");
	struct plat_buf out = PLAT_BUF_INIT;
	char chunk[512];
	size_t n;
	while (p && (n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		plat_buf_append(&out, chunk, n);
	int rc = p ? pclose(p) : -1;
	if (rc != 0 || !out.data) {
		fprintf(stderr, "test_notify: notify.sh start failed\n");
		plat_buf_free(&out);
		return -1;
	}
	export_value(out.data, "TEST_NOTIFY_DIR", sink_dir, sizeof(sink_dir));
	export_value(out.data, "TEST_WEBHOOK_URL", hook_url, sizeof(hook_url));
	export_value(out.data, "TEST_WEBHOOK_SECRET", secret, sizeof(secret));
	export_value(out.data, "TEST_SMTP_URL", smtp_url, sizeof(smtp_url));
	export_value(out.data, "TEST_SMTP_TLS_URL", smtp_tls_url, sizeof(smtp_tls_url));
	export_value(out.data, "TEST_SMTP_CA", smtp_ca, sizeof(smtp_ca));
	export_value(out.data, "TEST_SMTP_USER", smtp_user, sizeof(smtp_user));
	export_value(out.data, "TEST_SMTP_PASSWORD", smtp_password, sizeof(smtp_password));
	plat_buf_free(&out);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	int h = harness_database("notify", db_url, sizeof(db_url), &db);
	if (h < 0)
		return -1;
	if (h == 0) {
		PGresult *res = NULL;
		if (plat_db_exec(db, "SELECT id FROM tenants WHERE name = 'default'", 0, NULL, &res, NULL) < 0)
			return -1;
		snprintf(tenant_id, sizeof(tenant_id), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (db)
		plat_db_close(db);
	char script[PATH_MAX + 64], cmd[PATH_MAX + 400];
	if (sink_dir[0] && script_path(script, sizeof(script)) == 0) {
		snprintf(cmd, sizeof(cmd), "%s stop '%s'", script, sink_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "test_notify: notify.sh stop failed\n");
	}
	return 0;
}

#define NEED_DB()                     \
	do {                          \
		if (!db)              \
			skip(); \
	} while (0)

static size_t collect(char *p, size_t size, size_t nmemb, void *arg)
{
	plat_buf_append(arg, p, size * nmemb);
	return size * nmemb;
}

/* A control request to the receiver; the parsed JSON reply. */
static cJSON *control(const char *method, const char *path, const char *json)
{
	CURL *c = curl_easy_init();
	char u[512];
	snprintf(u, sizeof(u), "%s%s", hook_url, path);
	struct plat_buf b = PLAT_BUF_INIT;
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (json)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	cJSON *j = cJSON_Parse(b.data ? b.data : "");
	plat_buf_free(&b);
	assert_non_null(j);
	return j;
}

static void reset_receiver(const char *script)
{
	cJSON_Delete(control("DELETE", "/__control/received", NULL));
	if (script)
		cJSON_Delete(control("POST", "/__control/script", script));
}

static cJSON *received(void)
{
	return control("GET", "/__control/received", NULL);
}

static void clear_mail(void)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/mail/*.json", sink_dir);
	assert_int_equal(system(cmd), 0);
}

/* The messages the SMTP sinks accepted, oldest first (a JSON array). */
static cJSON *mail(void)
{
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/mail", sink_dir);
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	cJSON *all = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t l = strlen(nm);
		if (nm[0] != '.' && l > 5 && !strcmp(nm + l - 5, ".json")) {
			char path[600];
			snprintf(path, sizeof(path), "%s/%s", dir, nm);
			FILE *f = fopen(path, "r");
			struct plat_buf b = PLAT_BUF_INIT;
			char chunk[4096];
			size_t k;
			while (f && (k = fread(chunk, 1, sizeof(chunk), f)) > 0)
				plat_buf_append(&b, chunk, k);
			if (f)
				fclose(f);
			cJSON *m = cJSON_Parse(b.data ? b.data : "");
			assert_non_null(m);
			cJSON_AddItemToArray(all, m);
			plat_buf_free(&b);
		}
		free(names[i]);
	}
	free(names);
	return all;
}

static const char *jstr(const cJSON *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	const cJSON *cur = o;
	for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
		cur = cJSON_IsArray(cur) ? cJSON_GetArrayItem(cur, atoi(tok)) : cJSON_GetObjectItemCaseSensitive(cur, tok);
	return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* A port nothing listens on: bound, then closed. */
static int dead_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t l = sizeof(a);
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);
	return ntohs(a.sin_port);
}

static struct plat_notify_config hook_config(const char *path)
{
	static char url[600];
	snprintf(url, sizeof(url), "%s%s", hook_url, path);
	struct plat_notify_config c = {.webhook_url = url, .webhook_secret = secret, .attempts = 3, .timeout_ms = 5000,
				       .backoff_ms = 20};
	return c;
}

static struct plat_notify_config mail_config(void)
{
	struct plat_notify_config c = {.smtp_url = smtp_url, .starttls = PLAT_NOTIFY_STARTTLS_OFF,
				       .email_from = "platctl <platctl@example.test>",
				       .email_to = "compliance@example.test, legal@example.test", .attempts = 2,
				       .timeout_ms = 5000, .backoff_ms = 20};
	return c;
}

/* The delivery log row (JSON) for a delivery id. */
static cJSON *log_row(const char *delivery_id)
{
	const char *p[] = {delivery_id};
	cJSON *row = NULL;
	struct plat_error err = {0};
	if (plat_db_query_json(db,
			       "SELECT json_build_object('channel', channel, 'target', target, 'subject', subject, 'status', status,"
			       " 'attempts', attempts, 'response_code', response_code, 'last_error', last_error, 'event', event,"
			       " 'sent', sent_at IS NOT NULL, 'tried', last_attempt_at IS NOT NULL, 'body', body)::text"
			       " FROM notifications WHERE delivery_id = $1::uuid",
			       1, p, &row, &err) < 0)
		fail_msg("log: %s", err.message);
	assert_non_null(row);
	return row;
}

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
	/* The stored target loses the password and the query string. */
	char url[600];
	snprintf(url, sizeof(url), "http://hookuser:hookpass@%s/hook/path?token=qs-secret", hook_url + 7);
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
	assert_non_null(strstr(jstr(row, "target"), "/hook/path"));
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

/* ---- e-mail ---- */

static const cJSON *part_of(const cJSON *m, const char *type)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(m, "parts"))
	{
		if (!strcmp(jstr(p, "content_type"), type))
			return p;
	}
	return NULL;
}

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
		cmocka_unit_test(test_webhook_bad_input),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_digest_email_both_parts),
		cmocka_unit_test(test_email_encoded_subject_and_bad_addresses),
		cmocka_unit_test(test_email_starttls_and_auth),
		cmocka_unit_test(test_reminders_grouped_per_recipient),
		cmocka_unit_test(test_digest_nothing_configured),
		cmocka_unit_test(test_digest_webhook_failure_reported),
		cmocka_unit_test(test_config_keys),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
