/* Credentials file: entries per server and profile, mode 0600, atomic replacement,
 * refusal of a file others can read, and files that are not credentials files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "credentials/credentials.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/plat-cred-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/platctl/credentials.yaml", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *server, const char *profile, const char *access, const char *refresh, long long exp)
{
	struct plat_credential c = {.expires_at = exp};
	snprintf(c.server, sizeof(c.server), "%s", server);
	snprintf(c.profile, sizeof(c.profile), "%s", profile);
	snprintf(c.kind, sizeof(c.kind), "token");
	c.access_token = (char *)access;
	c.refresh_token = (char *)refresh;
	struct plat_error err = {0};
	assert_int_equal(plat_credentials_store(path, &c, &err), 0);
}

static void test_store_find_remove(void **state)
{
	(void)state;
	struct plat_credential c;
	struct plat_error err = {0};
	assert_int_equal(plat_credentials_find(path, "https://a.example", "default", &c, &err), 0); /* no file */
	put("https://a.example", "default", "tok-a", NULL, 0);
	/* Quotes, a backslash, a colon and a '#' survive the YAML round trip. */
	put("https://b.example:8443", "ci", "t\"o\\k: #b", "refresh-b", 1900000000);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char d[128];
	snprintf(d, sizeof(d), "%s/platctl", dir);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(plat_credentials_find(path, "https://b.example:8443", "ci", &c, &err), 1);
	assert_string_equal(c.access_token, "t\"o\\k: #b");
	assert_string_equal(c.refresh_token, "refresh-b");
	assert_int_equal(c.expires_at, 1900000000);
	plat_credential_clear(&c);
	/* Same server, another profile: a separate entry. */
	assert_int_equal(plat_credentials_find(path, "https://b.example:8443", "default", &c, &err), 0);
	/* Replaced in place, the other entry kept. */
	put("https://a.example", "default", "tok-a2", NULL, 0);
	assert_int_equal(plat_credentials_find(path, "https://a.example", "default", &c, &err), 1);
	assert_string_equal(c.access_token, "tok-a2");
	assert_null(c.refresh_token);
	plat_credential_clear(&c);
	assert_int_equal(plat_credentials_find(path, "https://b.example:8443", "ci", &c, &err), 1);
	plat_credential_clear(&c);
	assert_int_equal(plat_credentials_remove(path, "https://a.example", "default", &err), 1);
	assert_int_equal(plat_credentials_remove(path, "https://a.example", "default", &err), 0);
	assert_int_equal(plat_credentials_find(path, "https://a.example", "default", &c, &err), 0);
	assert_int_equal(plat_credentials_find(path, "https://b.example:8443", "ci", &c, &err), 1);
	plat_credential_clear(&c);
	/* No temporary file is left beside it. */
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s/platctl' | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_refused(void **state)
{
	(void)state;
	put("https://a.example", "default", "tok-a", NULL, 0);
	struct plat_credential c;
	struct plat_error err = {0};
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(plat_credentials_find(path, "https://a.example", "default", &c, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "chmod 600"));
	assert_non_null(strstr(err.message, "0644"));
	assert_null(strstr(err.message, "tok-a"));
	/* Storing refuses too: it would rewrite a file that has been exposed. */
	struct plat_credential n = {.access_token = "x"};
	assert_int_equal(plat_credentials_store(path, &n, &err), -PLAT_E_CONFIG);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(plat_credentials_find(path, "https://a.example", "default", &c, &err), 1);
	plat_credential_clear(&c);
	/* Not a credentials file. */
	FILE *f = fopen(path, "w");
	fputs("credentials: {a: 1}\n", f);
	fclose(f);
	assert_int_equal(plat_credentials_find(path, "https://a.example", "default", &c, &err), -PLAT_E_CONFIG);
	f = fopen(path, "w");
	fputs("credentials: [\n", f);
	fclose(f);
	assert_int_equal(plat_credentials_find(path, "https://a.example", "default", &c, &err), -PLAT_E_CONFIG);
	/* An empty file holds no entries. */
	f = fopen(path, "w");
	fclose(f);
	assert_int_equal(plat_credentials_find(path, "https://a.example", "default", &c, &err), 0);
}

static void test_path(void **state)
{
	(void)state;
	char *env1[] = {"XDG_CONFIG_HOME=/x/cfg", "HOME=/home/u", NULL};
	char *p = plat_credentials_path(env1);
	assert_string_equal(p, "/x/cfg/platctl/credentials.yaml");
	free(p);
	char *env2[] = {"HOME=/home/u", NULL};
	p = plat_credentials_path(env2);
	assert_string_equal(p, "/home/u/.config/platctl/credentials.yaml");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_find_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test(test_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
