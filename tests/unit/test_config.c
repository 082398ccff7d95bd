/* Configuration: the key table, layering, validation with positions, the example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "log/log.h"
#include "mem/mem.h"

static struct plat_config *load(const char *yaml, const char *profile, int *rc)
{
	struct plat_config *cfg = plat_config_new();
	struct plat_error err = {0};
	*rc = plat_config_load_buffer(cfg, "test.yaml", yaml, strlen(yaml), profile, &err);
	return cfg;
}

static const struct plat_config_diag *find_diag(const struct plat_config *cfg, const char *needle)
{
	for (size_t i = 0; i < plat_config_diag_count(cfg); i++) {
		const struct plat_config_diag *d = plat_config_diag(cfg, i);
		if (strstr(d->message, needle) || (d->key && strcmp(d->key, needle) == 0))
			return d;
	}
	return NULL;
}

static void test_every_default_is_valid(void **state)
{
	(void)state;
	/* A default that fails its own validation would make every run fail; loading an
	 * empty document must produce no diagnostics at all. */
	int rc;
	struct plat_config *cfg = load("", NULL, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(plat_config_diag_count(cfg), 0);
	for (int k = 0; k < PLAT_CFG__COUNT; k++) {
		const struct plat_config_key_def *def = plat_config_key_def(k);
		assert_non_null(def->name);
		assert_non_null(def->doc);
		assert_non_null(def->section);
		if (def->default_value) {
			struct plat_error err = {0};
			assert_int_equal(plat_config_set(cfg, k, def->default_value, PLAT_CFG_SRC_FLAG, "t", &err), 0);
		}
	}
	assert_int_equal(plat_config_int(cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT), 10000);
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_TENANT), "default");
	assert_true(strlen(plat_config_str(cfg, PLAT_CFG_PRINCIPAL)) > 0);
	plat_config_free(cfg);
}

static void test_keys_with_a_parent_are_contiguous(void **state)
{
	(void)state;
	/* The example generator opens each mapping once; siblings must be adjacent. */
	for (int a = 0; a < PLAT_CFG__COUNT; a++) {
		const char *na = plat_config_key_def(a)->name;
		const char *dot = strrchr(na, '.');
		if (!dot)
			continue;
		size_t plen = (size_t)(dot - na) + 1;
		int last = -1;
		for (int b = 0; b < PLAT_CFG__COUNT; b++) {
			if (strncmp(plat_config_key_def(b)->name, na, plen) == 0) {
				if (last >= 0)
					assert_int_equal(b, last + 1);
				last = b;
			}
		}
	}
}

static void test_values_and_positions(void **state)
{
	(void)state;
	int rc;
	struct plat_config *cfg = load("database:\n"
				       "  url: postgres://a@b/c\n"
				       "  connect_timeout: 1500ms\n"
				       "log:\n"
				       "  level: debug\n",
				       NULL, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_DATABASE_URL), "postgres://a@b/c");
	assert_int_equal(plat_config_int(cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT), 1500);
	assert_string_equal(plat_config_origin(cfg, PLAT_CFG_LOG_LEVEL), "test.yaml:5:10");
	assert_int_equal(plat_config_source(cfg, PLAT_CFG_LOG_LEVEL), PLAT_CFG_SRC_FILE);
	assert_int_equal(plat_config_source(cfg, PLAT_CFG_TENANT), PLAT_CFG_SRC_DEFAULT);
	plat_config_free(cfg);
}

static void test_wrong_types_report_line_and_column(void **state)
{
	(void)state;
	int rc;
	struct plat_config *cfg = load("log:\n"
				       "  level: loud\n"
				       "database:\n"
				       "  connect_timeout: [1, 2]\n"
				       "tenant: Not A Slug\n"
				       "output: json\n",
				       NULL, &rc);
	assert_int_equal(rc, -PLAT_E_CONFIG);
	const struct plat_config_diag *d = find_diag(cfg, "log.level");
	assert_non_null(d);
	assert_int_equal(d->severity, PLAT_CFG_ERROR);
	assert_int_equal(d->line, 2);
	assert_int_equal(d->column, 10);
	assert_non_null(strstr(d->message, "expected one of"));
	d = find_diag(cfg, "database.connect_timeout");
	assert_non_null(d);
	assert_int_equal(d->line, 4);
	assert_non_null(strstr(d->message, "found a list"));
	d = find_diag(cfg, "tenant");
	assert_non_null(d);
	assert_int_equal(d->line, 5);
	d = find_diag(cfg, "output");
	assert_non_null(d);
	assert_non_null(strstr(d->message, "is a section"));
	/* Nothing invalid was applied. */
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_LOG_LEVEL), "warn");
	plat_config_free(cfg);
}

static void test_durations_and_ranges(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		long long ms;
	} good[] = {{"1s", 1000}, {"90", 90000}, {"2m", 120000}, {"1h", 3600000}, {"1500ms", 1500}};
	static const char *const bad[] = {"0s", "999ms", "2h", "-1s", "1.5s", "s", "10 s", "10sec", "99999999999999999999h"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct plat_config *cfg = plat_config_new();
		assert_int_equal(plat_config_set(cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT, good[i].text, PLAT_CFG_SRC_FLAG, "t", NULL), 0);
		assert_int_equal(plat_config_int(cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT), good[i].ms);
		plat_config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct plat_config *cfg = plat_config_new();
		struct plat_error err = {0};
		assert_int_equal(plat_config_set(cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT, bad[i], PLAT_CFG_SRC_FLAG, "t", &err),
				 -PLAT_E_CONFIG);
		assert_int_equal(err.kind, PLAT_E_CONFIG);
		plat_config_free(cfg);
	}
}

static void test_unknown_keys_warn_with_suggestion(void **state)
{
	(void)state;
	int rc;
	struct plat_config *cfg = load("log:\n  levle: info\nfrobnicate: 1\n", NULL, &rc);
	assert_int_equal(rc, 0); /* warnings do not fail loading */
	const struct plat_config_diag *d = find_diag(cfg, "log.levle");
	assert_non_null(d);
	assert_int_equal(d->severity, PLAT_CFG_WARNING);
	assert_non_null(strstr(d->message, "did you mean 'log.level'"));
	assert_int_equal(d->line, 2);
	assert_int_equal(d->column, 3);
	assert_non_null(find_diag(cfg, "frobnicate"));
	plat_config_free(cfg);
}

static void test_syntax_errors_and_odd_documents(void **state)
{
	(void)state;
	static const struct {
		const char *yaml;
		const char *needle;
		int line;
	} cases[] = {
		{"a: [1,\n b: 2", "YAML syntax error", 3},
		{"log:\n  level: info\n  level: debug\n", "duplicate key", 3},
		{"storage:\n  s3:\n    region: a\nstorage.s3.region: b\n", "already set on line 3", 4},
		{"- a\n- b\n", "must be a mapping", 1},
		{"tenant: a\n---\ntenant: b\n", "single YAML document", 3},
		{"? [a]\n: b\n", "mapping keys must be plain names", 1},
		{"profiles: [a]\n", "expected a mapping of profile names", 1},
		{"profiles:\n  x: 1\n", "must be a mapping of keys", 2},
		{"tenant: \"\\xff\"\n", "tenant", 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;
		struct plat_config *cfg = load(cases[i].yaml, NULL, &rc);
		assert_int_equal(rc, -PLAT_E_CONFIG);
		const struct plat_config_diag *d = find_diag(cfg, cases[i].needle);
		if (!d)
			fail_msg("case %zu: no diagnostic containing '%s'", i, cases[i].needle);
		assert_int_equal(d->line, cases[i].line);
		plat_config_free(cfg);
	}
}

static void test_null_values_keep_defaults(void **state)
{
	(void)state;
	int rc;
	struct plat_config *cfg = load("log:\n  level:\ndatabase: ~\n", NULL, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(plat_config_diag_count(cfg), 0);
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_LOG_LEVEL), "warn");
	plat_config_free(cfg);
}

static const char profile_yaml[] = "profile: staging\n"
				   "tenant: top\n"
				   "log:\n  level: info\n"
				   "profiles:\n"
				   "  staging:\n"
				   "    tenant: staging\n"
				   "  dev:\n"
				   "    tenant: dev\n"
				   "    log:\n      level: debug\n"
				   "  broken:\n"
				   "    log:\n      level: nope\n";

static void test_profiles(void **state)
{
	(void)state;
	int rc;
	/* The file's own `profile` key picks one when none is given. */
	struct plat_config *cfg = load(profile_yaml, NULL, &rc);
	assert_int_equal(rc, -PLAT_E_CONFIG); /* the broken profile is checked even when inactive */
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_TENANT), "staging");
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_LOG_LEVEL), "info");
	assert_string_equal(plat_config_profile(cfg), "staging");
	plat_config_free(cfg);

	cfg = load(profile_yaml, "dev", &rc);
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_TENANT), "dev");
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_LOG_LEVEL), "debug");
	plat_config_free(cfg);

	cfg = load(profile_yaml, "default", &rc);
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_TENANT), "top");
	plat_config_free(cfg);

	/* "name:" with nothing under it is a defined, empty profile. */
	cfg = load("tenant: top\nprofiles:\n  empty:\n", "empty", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_TENANT), "top");
	plat_config_free(cfg);

	cfg = load(profile_yaml, "prod", &rc);
	assert_non_null(find_diag(cfg, "profile 'prod' is not defined"));
	plat_config_free(cfg);
}

static char *write_temp(const char *text)
{
	char *path = plat_xstrdup("/tmp/platctl-test-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_layers_env_over_file_over_default(void **state)
{
	(void)state;
	char *path = write_temp("tenant: fromfile\nlog:\n  level: info\ndatabase:\n  connect_timeout: 5s\n");
	char *env[] = {"PLATCTL_TENANT=fromenv", "PLATCTL_LOG_LEVEL=", "PLATCTL_BOGUS=1", "HOME=/nonexistent", NULL};
	struct plat_config *cfg = plat_config_new();
	struct plat_error err = {0};
	struct plat_config_load_options lo = {.path = path, .environ = env};
	assert_int_equal(plat_config_load(cfg, &lo, &err), 0);
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_TENANT), "fromenv");
	assert_string_equal(plat_config_origin(cfg, PLAT_CFG_TENANT), "env PLATCTL_TENANT");
	/* An empty variable is treated as unset: the file's value stays. */
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_LOG_LEVEL), "info");
	assert_int_equal(plat_config_int(cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT), 5000);
	assert_non_null(find_diag(cfg, "PLATCTL_BOGUS"));
	/* Flags beat everything. */
	assert_int_equal(plat_config_set(cfg, PLAT_CFG_TENANT, "fromflag", PLAT_CFG_SRC_FLAG, "flag --tenant", &err), 0);
	assert_string_equal(plat_config_str(cfg, PLAT_CFG_TENANT), "fromflag");
	plat_config_free(cfg);
	unlink(path);
	free(path);
}

static void test_missing_and_unreadable_files(void **state)
{
	(void)state;
	char *env[] = {NULL};
	struct plat_config *cfg = plat_config_new();
	struct plat_error err = {0};
	struct plat_config_load_options lo = {.path = "/nonexistent/platctl.yaml", .environ = env};
	assert_int_equal(plat_config_load(cfg, &lo, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "/nonexistent/platctl.yaml"));
	plat_config_free(cfg);

	cfg = plat_config_new();
	lo.path = "/tmp";
	assert_int_equal(plat_config_load(cfg, &lo, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "is a directory"));
	plat_config_free(cfg);

	/* PLATCTL_CONFIG names a file explicitly too: it must exist. */
	char *env2[] = {"PLATCTL_CONFIG=/nonexistent/x.yaml", NULL};
	cfg = plat_config_new();
	struct plat_config_load_options lo2 = {.environ = env2};
	assert_int_equal(plat_config_load(cfg, &lo2, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "/nonexistent/x.yaml"));
	plat_config_free(cfg);

	/* A profile without any file is an error, except "default". */
	char *env3[] = {"HOME=/nonexistent", NULL};
	cfg = plat_config_new();
	struct plat_config_load_options lo3 = {.environ = env3, .profile = "dev", .no_search = true};
	assert_int_equal(plat_config_load(cfg, &lo3, &err), -PLAT_E_CONFIG);
	plat_config_free(cfg);
}

static void test_secrets_are_redacted_and_registered(void **state)
{
	(void)state;
	struct plat_config *cfg = plat_config_new();
	assert_int_equal(plat_config_set(cfg, PLAT_CFG_DATABASE_URL, "postgres://app:p%40ssw0rd!@db:5432/x",
					 PLAT_CFG_SRC_ENV, "env", NULL), 0);
	char *shown = plat_config_display_value(cfg, PLAT_CFG_DATABASE_URL);
	assert_null(strstr(shown, "ssw0rd"));
	assert_non_null(strstr(shown, PLAT_REDACTED));
	free(shown);

	plat_config_register_secrets(cfg);
	struct plat_buf b = PLAT_BUF_INIT;
	plat_redact(&b, "auth failed for p@ssw0rd! and p%40ssw0rd!");
	assert_null(strstr(b.data, "ssw0rd"));
	plat_buf_free(&b);
	plat_log_clear_secrets();

	/* An invalid secret value must not be echoed in the error either. */
	struct plat_error err = {0};
	assert_int_equal(plat_config_set(cfg, PLAT_CFG_DATABASE_URL, "mysql://u:topsecret@h/x", PLAT_CFG_SRC_ENV,
					 "env PLATCTL_DATABASE_URL", &err), -PLAT_E_CONFIG);
	assert_null(strstr(err.message, "topsecret"));
	plat_config_free(cfg);
}

static void test_example_config_loads_cleanly(void **state)
{
	(void)state;
	char *text = plat_config_example();
	int rc;
	struct plat_config *cfg = load(text, NULL, &rc);
	for (size_t i = 0; i < plat_config_diag_count(cfg); i++) {
		char *m = plat_config_diag_format(plat_config_diag(cfg, i));
		print_error("%s\n", m);
		free(m);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(plat_config_diag_count(cfg), 0);
	/* Every key is documented in it, with its environment variable. */
	for (int k = 0; k < PLAT_CFG__COUNT; k++) {
		char env[128];
		plat_config_env_name(plat_config_key_def(k)->name, env, sizeof(env));
		assert_non_null(strstr(text, env));
	}
	plat_config_free(cfg);
	free(text);
}

static void test_env_names(void **state)
{
	(void)state;
	char buf[64];
	plat_config_env_name("database.connect_timeout", buf, sizeof(buf));
	assert_string_equal(buf, "PLATCTL_DATABASE_CONNECT_TIMEOUT");
	plat_config_env_name("database.connect_timeout", buf, 12);
	assert_string_equal(buf, "PLATCTL_DAT");
	assert_int_equal(plat_config_key_lookup("log.level"), PLAT_CFG_LOG_LEVEL);
	assert_int_equal(plat_config_key_lookup("log"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_default_is_valid),
		cmocka_unit_test(test_keys_with_a_parent_are_contiguous),
		cmocka_unit_test(test_values_and_positions),
		cmocka_unit_test(test_wrong_types_report_line_and_column),
		cmocka_unit_test(test_durations_and_ranges),
		cmocka_unit_test(test_unknown_keys_warn_with_suggestion),
		cmocka_unit_test(test_syntax_errors_and_odd_documents),
		cmocka_unit_test(test_null_values_keep_defaults),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_layers_env_over_file_over_default),
		cmocka_unit_test(test_missing_and_unreadable_files),
		cmocka_unit_test(test_secrets_are_redacted_and_registered),
		cmocka_unit_test(test_example_config_loads_cleanly),
		cmocka_unit_test(test_env_names),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
