/* What the unit tests that need PostgreSQL share: their own database on the harness's
 * server (TEST_DATABASE_URL, started by scripts/check.sh), migrated, and a file store in a
 * temporary directory. Header-only: each test is one translation unit. */
#ifndef PLAT_TEST_HARNESS_H
#define PLAT_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "db/db.h"
#include "migrate/migrate.h"

/* A new database "<prefix>_<pid>" (its name in name, 64 bytes), migrated; *url names it and
 * *db is connected to it. 1 when TEST_DATABASE_URL is not set (the test skips), -1 on
 * failure. */
static inline int harness_database_named(const char *prefix, char *name, char *url, size_t url_len,
					 struct plat_db **db)
{
	const char *admin = getenv("TEST_DATABASE_URL");
	if (!admin)
		return 1;
	struct plat_error err = {0};
	struct plat_db_options o = {.url = admin, .connect_timeout_ms = 10000};
	struct plat_db *a;
	if (plat_db_connect(&o, &a, &err) < 0)
		return -1;
	char sql[160];
	snprintf(name, 64, "%s_%ld", prefix, (long)getpid());
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name); /* a crashed earlier run's */
	plat_db_exec(a, sql, 0, NULL, NULL, NULL);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	int rc = plat_db_exec(a, sql, 0, NULL, NULL, &err);
	plat_db_close(a);
	if (rc < 0)
		return -1;
	const char *slash = strrchr(admin, '/');
	snprintf(url, url_len, "%.*s/%s", (int)(slash - admin), admin, name);
	o.url = url;
	if (plat_db_connect(&o, db, &err) < 0)
		return -1;
	struct plat_migrate_options mo = {.applied_by = "test"};
	int n;
	return plat_migrate_up(*db, &mo, &n, &err) < 0 ? -1 : 0;
}

static inline int harness_database(const char *prefix, char *url, size_t url_len, struct plat_db **db)
{
	char name[64];
	return harness_database_named(prefix, name, url, url_len, db);
}

/* A temporary directory (root, 64 bytes) and its file:// URL (surl, 128 bytes). */
static inline int harness_file_store(const char *prefix, char root[64], char surl[128])
{
	snprintf(root, 64, "/tmp/platctl-%s-XXXXXX", prefix);
	if (!mkdtemp(root))
		return -1;
	snprintf(surl, 128, "file://%s", root);
	return 0;
}

/* A configuration for services over that database and store, on the PostgreSQL queue. */
static inline struct plat_config *harness_config(const char *url, const char *surl)
{
	struct plat_config *cfg = plat_config_new();
	struct plat_error err = {0};
	if (plat_config_set(cfg, PLAT_CFG_DATABASE_URL, url, PLAT_CFG_SRC_FLAG, "test", &err) < 0 ||
	    plat_config_set(cfg, PLAT_CFG_STORAGE_URL, surl, PLAT_CFG_SRC_FLAG, "test", &err) < 0 ||
	    plat_config_set(cfg, PLAT_CFG_EVENTS_BACKEND, "postgres", PLAT_CFG_SRC_FLAG, "test", &err) < 0) {
		plat_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* rm -rf root, for teardown. */
static inline int harness_remove(const char *root)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
