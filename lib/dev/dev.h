/* The embedded single-machine stack behind `platctl dev`: a private PostgreSQL with
 * pgvector in one directory, on 127.0.0.1 and a free port, plus a file:// storage
 * directory beside it.
 *
 *   DIR/pg/       the cluster (owned by `postgres` when platctl runs as root: initdb
 *                 refuses root)
 *   DIR/run/      its unix socket
 *   DIR/storage/  objects for storage.url = file://DIR/storage
 *   DIR/pg.log    the server log
 *   DIR/port      the port chosen the first time, reused while it is free */
#ifndef PLAT_DEV_H
#define PLAT_DEV_H

#include <stdbool.h>

#include "error/error.h"

struct plat_dev {
	char *dir;
	char *pg_bindir;
	bool as_postgres; /* running as root: the cluster belongs to the postgres user */
};

struct plat_dev_status {
	bool initialized;
	bool running;
	int port;
	long pid;
	char *database_url;
	char *storage_url;
};

/* $XDG_DATA_HOME/platctl/dev (~/.local/share/... when unset). As root without
 * XDG_DATA_HOME, /var/lib/platctl/dev: the postgres user cannot enter /root. */
char *plat_dev_default_dir(void);

/* pg_bindir NULL: the newest /usr/lib/postgresql/N/bin with initdb and pg_ctl. */
int plat_dev_open(const char *dir, const char *pg_bindir, struct plat_dev *dev, struct plat_error *err);
void plat_dev_close(struct plat_dev *dev);

/* Initialise (first time), start if stopped, create the database. Idempotent. */
int plat_dev_up(struct plat_dev *dev, struct plat_dev_status *st, struct plat_error *err);
/* Stop if running (fast shutdown, waits). With purge also removes the directory. */
int plat_dev_down(struct plat_dev *dev, bool purge, bool *was_running, struct plat_error *err);
int plat_dev_status(struct plat_dev *dev, struct plat_dev_status *st, struct plat_error *err);
void plat_dev_status_free(struct plat_dev_status *st);

/* The managed config file holding the dev profile. It is written only when absent or
 * when it carries platctl's marker line; a file people wrote is never touched.
 * *written reports whether the file was (re)written. */
/* Migrate the stack's database to the latest schema; *applied counts the migrations. */
int plat_dev_migrate(const char *database_url, const char *applied_by, int *applied, struct plat_error *err);
/* The schema version of a running stack, or -1 when it cannot be read within 2 s. */
int plat_dev_schema_version(const char *database_url);

int plat_dev_write_profile(const char *path, const struct plat_dev_status *st, bool *written, struct plat_error *err);
/* Remove the managed config file (only if it carries the marker). */
int plat_dev_remove_profile(const char *path, bool *removed, struct plat_error *err);

#define PLAT_DEV_MARKER "# Managed by `platctl dev up`."

#endif
