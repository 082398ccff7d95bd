/* PostgreSQL access through libpq.
 *
 * Connections come from database.url (a URL or conninfo string; TCP or a unix socket;
 * sslmode and every other libpq parameter honoured). Connecting retries with backoff
 * until the configured timeout while the server is down or starting. Errors name the
 * host and port and never the password.
 *
 * Queries only take parameters (PQexecParams, or prepared statements on connections that
 * ask for them): SQL is never formatted with values. */
#ifndef PLAT_DB_H
#define PLAT_DB_H

#include <stdbool.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "error/error.h"

struct plat_db;

struct plat_db_options {
	const char *url;
	long long connect_timeout_ms; /* total time to keep retrying; 0: one attempt */
	const char *application_name; /* NULL: "platctl" */
	/* Prepare each statement once per connection (long-running processes: a one-shot
	 * command would pay a round trip per statement for nothing). */
	bool prepare;
};

int plat_db_connect(const struct plat_db_options *opts, struct plat_db **out, struct plat_error *err);
void plat_db_close(struct plat_db *db);
PGconn *plat_db_pgconn(struct plat_db *db);
/* "host:port" (or the socket directory) of the connection, for messages. */
const char *plat_db_target(const struct plat_db *db);

/* Run sql with text parameters (NULL entries are SQL NULL). On success *res (if not NULL)
 * holds the result for the caller to PQclear; errors are mapped to kinds:
 * unique/foreign-key/serialization conflicts -> PLAT_E_CONFLICT, lost connection ->
 * PLAT_E_UNAVAILABLE, anything else -> PLAT_E_FAILURE. */
int plat_db_exec(struct plat_db *db, const char *sql, int nparams, const char *const *params, PGresult **res,
		 struct plat_error *err);

/* Run sql in a transaction of its own with SETTINGS (name, value, ..., NULL; at most 8
 * pairs) set LOCAL for it, and the tenant's setting (plat_db_set_tenant): BEGIN, the
 * settings, sql and COMMIT go out in one round trip (libpq's pipeline mode), where
 * plat_db_begin + plat_db_exec + plat_db_commit wait for each. Inside a transaction
 * already, the settings and sql run in it (and last until its end). Results and errors
 * as plat_db_exec. */
int plat_db_exec_local(struct plat_db *db, const char *const *settings, const char *sql, int nparams,
		       const char *const *params, PGresult **res, struct plat_error *err);

/* Row-level security (migration 0004): every transaction on db from now on sets
 * platctl.tenant_id to tenant_id with SET LOCAL, and a statement run outside a
 * transaction is wrapped in one that does. NULL turns it off. */
void plat_db_set_tenant(struct plat_db *db, const char *tenant_id);

/* Run sql, whose first row's first column is JSON text (json_build_object, json_agg):
 * *out is that value parsed, or NULL when there is no row. */
int plat_db_query_json(struct plat_db *db, const char *sql, int nparams, const char *const *params, cJSON **out,
		       struct plat_error *err);

int plat_db_begin(struct plat_db *db, struct plat_error *err);
int plat_db_commit(struct plat_db *db, struct plat_error *err);
/* Never fails the caller: a rollback after an error is best effort. */
void plat_db_rollback(struct plat_db *db);

/* Session-level advisory locks: wait (blocking) or try once. *got reports a try. */
int plat_db_advisory_lock(struct plat_db *db, long long key, bool wait, bool *got, struct plat_error *err);
int plat_db_advisory_unlock(struct plat_db *db, long long key, struct plat_error *err);

/* host:port (or socket dir) named by a URL/conninfo string, for messages before a
 * connection exists. Returns a malloc'd string. */
char *plat_db_describe_url(const char *url);

/* A small thread-safe pool for long-running processes (the server, workers). */
struct plat_db_pool;

int plat_db_pool_new(const struct plat_db_options *opts, int size, struct plat_db_pool **out, struct plat_error *err);
/* Borrow a connection, waiting while all are in use; a broken one is replaced. */
int plat_db_pool_acquire(struct plat_db_pool *pool, struct plat_db **out, struct plat_error *err);
void plat_db_pool_release(struct plat_db_pool *pool, struct plat_db *db);
void plat_db_pool_free(struct plat_db_pool *pool);

#endif
