/* What the notification tests share: the receivers of tests/services/notify.sh (started
 * and stopped by the group setup and teardown), the test database, and readers of what
 * the receivers got. Header-only, like harness.h: each test is one translation unit. */
#ifndef PLAT_TEST_NOTIFY_SINKS_H
#define PLAT_TEST_NOTIFY_SINKS_H

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

static inline void export_value(const char *out, const char *name, char *dst, size_t len)
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
static inline int script_path(char *out, size_t len)
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

static inline int sinks_setup(void **state)
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

static inline int sinks_teardown(void **state)
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

static inline size_t collect(char *p, size_t size, size_t nmemb, void *arg)
{
	plat_buf_append(arg, p, size * nmemb);
	return size * nmemb;
}

/* A control request to the receiver; the parsed JSON reply. */
static inline cJSON *control(const char *method, const char *path, const char *json)
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

static inline void reset_receiver(const char *script)
{
	cJSON_Delete(control("DELETE", "/__control/received", NULL));
	if (script)
		cJSON_Delete(control("POST", "/__control/script", script));
}

static inline cJSON *received(void)
{
	return control("GET", "/__control/received", NULL);
}

static inline void clear_mail(void)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/mail/*.json", sink_dir);
	assert_int_equal(system(cmd), 0);
}

/* The messages the SMTP sinks accepted, oldest first (a JSON array). */
static inline cJSON *mail(void)
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

static inline const char *jstr(const cJSON *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	const cJSON *cur = o;
	for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
		cur = cJSON_IsArray(cur) ? cJSON_GetArrayItem(cur, atoi(tok)) : cJSON_GetObjectItemCaseSensitive(cur, tok);
	return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

static inline double jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* A port nothing listens on: bound, then closed. */
static inline int dead_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t l = sizeof(a);
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);
	return ntohs(a.sin_port);
}

static inline struct plat_notify_config hook_config(const char *path)
{
	static char url[600];
	snprintf(url, sizeof(url), "%s%s", hook_url, path);
	struct plat_notify_config c = {.webhook_url = url, .webhook_secret = secret, .attempts = 3, .timeout_ms = 5000,
				       .backoff_ms = 20};
	return c;
}

static inline struct plat_notify_config mail_config(void)
{
	struct plat_notify_config c = {.smtp_url = smtp_url, .starttls = PLAT_NOTIFY_STARTTLS_OFF,
				       .email_from = "platctl <platctl@example.test>",
				       .email_to = "compliance@example.test, legal@example.test", .attempts = 2,
				       .timeout_ms = 5000, .backoff_ms = 20};
	return c;
}

/* The delivery log row (JSON) for a delivery id. */
static inline cJSON *log_row(const char *delivery_id)
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

static inline const cJSON *part_of(const cJSON *m, const char *type)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(m, "parts"))
	{
		if (!strcmp(jstr(p, "content_type"), type))
			return p;
	}
	return NULL;
}


#endif
