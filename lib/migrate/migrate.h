/* Schema migrations: numbered SQL files in lib/db/migrations/ (NNNN_name.sql, each with a
 * "-- migrate:up" and a "-- migrate:down" part), embedded in the binary at build time.
 *
 * Applied migrations are recorded in schema_migrations(version, name, checksum,
 * applied_at, applied_by). Each runs in its own transaction; a session advisory lock
 * serialises concurrent runs, so each migration is applied exactly once. */
#ifndef PLAT_MIGRATE_H
#define PLAT_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "error/error.h"
#include "svc/svc.h"

struct plat_db;

/* As embedded by scripts/embed-migrations.sh; the list ends with a NULL name. */
struct plat_migration_file {
	const char *name;
	const char *data;
	size_t len;
};
extern const struct plat_migration_file plat_migration_files[];

struct plat_migration {
	int version;
	char name[128];   /* "initial" from 0001_initial.sql */
	char *up, *down;
	int up_line, down_line; /* line of each marker in the file, for error messages */
	char checksum[65]; /* sha256 of the whole file, hex */
};

/* Parse one migration file; fills err naming the file when it is malformed. */
int plat_migration_parse(const char *file_name, const char *data, size_t len, struct plat_migration *out,
			 struct plat_error *err);
void plat_migration_free(struct plat_migration *m);

/* The embedded migrations, parsed once, in version order. */
int plat_migrations(const struct plat_migration **out, size_t *n, struct plat_error *err);

enum plat_migration_state {
	PLAT_MIGRATION_PENDING,
	PLAT_MIGRATION_APPLIED,
	PLAT_MIGRATION_MODIFIED, /* applied, but the checksum differs from the embedded file */
	PLAT_MIGRATION_UNKNOWN,  /* applied, but not embedded in this binary (newer platctl?) */
};

struct plat_migration_status {
	int version;
	char *name;
	enum plat_migration_state state;
	char *applied_at;   /* NULL when pending */
	char *applied_by;
	char *checksum;     /* embedded (or recorded, for UNKNOWN) */
	char *db_checksum;  /* recorded, NULL when pending */
};

const char *plat_migration_state_name(enum plat_migration_state s);

int plat_migrate_status(struct plat_db *db, struct plat_migration_status **out, size_t *n, struct plat_error *err);
void plat_migrate_status_free(struct plat_migration_status *st, size_t n);

struct plat_migrate_options {
	int to;          /* up: apply through this version (0: latest); down: keep through this version */
	int steps;       /* down: how many to revert when to < 0 (default 1) */
	bool no_wait;    /* fail with PLAT_E_UNAVAILABLE instead of waiting for the lock */
	const char *applied_by;
	/* Called after each migration commits (may be NULL). */
	void (*on_applied)(void *arg, const struct plat_migration *m, bool up, long long ms);
	void *arg;
};

/* Apply pending migrations. Refuses (PLAT_E_CONFLICT) when an applied migration's
 * checksum no longer matches. *applied counts what this call did. */
int plat_migrate_up(struct plat_db *db, const struct plat_migrate_options *o, int *applied, struct plat_error *err);
int plat_migrate_down(struct plat_db *db, const struct plat_migrate_options *o, int *reverted, struct plat_error *err);
/* The highest applied version (0: none) and the highest this binary knows. */
void plat_migrate_versions(const struct plat_migration_status *st, size_t n, int *current, int *latest);
int plat_migrate_version(struct plat_db *db, int *current, int *latest, struct plat_error *err);

/* PLAT_E_CONFLICT naming the first modified or unknown migration. */
int plat_migrate_verify(struct plat_db *db, struct plat_error *err);

#define PLAT_MIGRATE_LOCK_KEY 0x706c61746d696772LL /* "platmigr" */

/* ---- operations (the database of the service context; no tenant needed) ---- */

/* Apply (up) or revert migrations as o says (o->on_applied is the service's own: every
 * step is logged). *result: {applied|reverted: [{version, name, duration_ms}], version,
 * latest}. */
int plat_migrate_run(struct plat_svc *svc, bool up, const struct plat_migrate_options *o, cJSON **result,
		     struct plat_error *err);
/* {version, latest, pending, migrations: [{version, name, state, applied_at, applied_by,
 * checksum}]} */
int plat_migrate_report(struct plat_svc *svc, cJSON **result, struct plat_error *err);
/* {ok: true, verified, latest}, or PLAT_E_CONFLICT naming the migration that drifted. */
int plat_migrate_check(struct plat_svc *svc, cJSON **result, struct plat_error *err);

#endif
