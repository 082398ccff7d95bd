#include "db/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "clock/clock.h"
#include "log/log.h"
#include "mem/mem.h"

/* Statements prepared on a connection, by their text: the server and the workers run the
 * same few dozen statements millions of times, and a prepared one skips parsing and
 * planning (for a point lookup, most of its cost). Bounded: statements past the cap run
 * unprepared rather than evicting, since the working set is the code's statements. */
#define PREPARED_MAX 256

struct prepared {
	unsigned long hash;
	char *sql;
	unsigned id; /* named plat_ID: never reused on a connection */
};

struct plat_db {
	PGconn *conn;
	char *target;
	char tenant_id[37]; /* row-level security: SET LOCAL in each transaction; empty: off */
	bool prepare;
	bool stale_seen; /* a pipelined statement failed as stale (see stale_plan) */
	struct prepared prepared[PREPARED_MAX];
	int n_prepared;
	unsigned next_prepared_id;
	bool deallocate_pending; /* forgotten inside a transaction: DEALLOCATE ALL when idle */
};

char *plat_db_describe_url(const char *url)
{
	char *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(url ? url : "", &errmsg);
	if (errmsg)
		PQfreemem(errmsg);
	const char *host = NULL, *hostaddr = NULL, *port = NULL;
	for (PQconninfoOption *o = opts; o && o->keyword; o++) {
		if (!o->val || !*o->val)
			continue;
		if (!strcmp(o->keyword, "host"))
			host = o->val;
		else if (!strcmp(o->keyword, "hostaddr"))
			hostaddr = o->val;
		else if (!strcmp(o->keyword, "port"))
			port = o->val;
	}
	/* libpq's own defaults, so the message names what was really tried. */
	if (!host && !hostaddr)
		host = getenv("PGHOST");
	if (!port)
		port = getenv("PGPORT");
	struct plat_buf b = PLAT_BUF_INIT;
	const char *h = host ? host : hostaddr ? hostaddr : "/var/run/postgresql";
	if (h[0] == '/')
		plat_buf_printf(&b, "socket %s/.s.PGSQL.%s", h, port ? port : "5432");
	else
		plat_buf_printf(&b, "%s:%s", h, port ? port : "5432");
	if (opts)
		PQconninfoFree(opts);
	return plat_buf_detach(&b);
}

/* libpq messages are multi-line with tabs; one line reads better in logs and errors. */
static char *one_line(const char *msg)
{
	struct plat_buf raw = PLAT_BUF_INIT, out = PLAT_BUF_INIT;
	plat_buf_puts(&raw, msg ? msg : "");
	for (char *p = raw.data; p && *p; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
	while (raw.len && raw.data[raw.len - 1] == ' ')
		raw.data[--raw.len] = '\0';
	plat_redact(&out, raw.data ? raw.data : "");
	plat_buf_free(&raw);
	plat_buf_reserve(&out, 0);
	return plat_buf_detach(&out);
}

/* Failures no amount of waiting fixes: stop retrying and say so. */
static enum plat_error_kind classify_connect_error(const char *msg)
{
	static const char *const auth[] = {"password authentication failed", "no password supplied",
					   "authentication failed", "pg_hba.conf rejects", "role \"", NULL};
	static const char *const config[] = {"does not exist", "invalid sslmode", "invalid connection option",
					     "could not translate host name", "sslmode value", NULL};
	for (const char *const *s = auth; *s; s++)
		if (strstr(msg, *s))
			return PLAT_E_AUTH;
	for (const char *const *s = config; *s; s++)
		if (strstr(msg, *s))
			return PLAT_E_CONFIG;
	return PLAT_E_UNAVAILABLE;
}

/* Server notices ("relation already exists, skipping") are debug logs, not stray stderr. */
static void log_notice(void *arg, const char *message)
{
	(void)arg;
	char *m = one_line(message);
	plat_log(PLAT_LOG_DEBUG, "postgres notice", "notice", m, (const char *)NULL);
	free(m);
}

int plat_db_connect(const struct plat_db_options *opts, struct plat_db **out, struct plat_error *err)
{
	*out = NULL;
	if (!opts->url || !*opts->url)
		return plat_error_set(err, PLAT_E_CONFIG,
				      "database.url is not set (set PLATCTL_DATABASE_URL, or run 'platctl dev up')");
	char *parse_err = NULL;
	PQconninfoOption *parsed = PQconninfoParse(opts->url, &parse_err);
	if (!parsed) {
		char *m = one_line(parse_err ? parse_err : "out of memory");
		int rc = plat_error_set(err, PLAT_E_CONFIG, "invalid database.url: %s", m);
		free(m);
		if (parse_err)
			PQfreemem(parse_err);
		return rc;
	}
	PQconninfoFree(parsed);

	char *target = plat_db_describe_url(opts->url);
	long long deadline = plat_clock_ms() + opts->connect_timeout_ms;
	long long delay = 100;
	int attempts = 0;
	for (;;) {
		attempts++;
		long long remaining = deadline - plat_clock_ms();
		/* libpq's per-attempt timeout is in whole seconds, minimum 2. */
		long long per_try = remaining > 10000 ? 10 : remaining / 1000 + 1;
		if (per_try < 2)
			per_try = 2;
		char timeout[32];
		snprintf(timeout, sizeof(timeout), "%lld", per_try);
		const char *keys[] = {"dbname", "connect_timeout", "fallback_application_name", NULL};
		const char *vals[] = {opts->url, timeout, opts->application_name ? opts->application_name : "platctl", NULL};
		PGconn *conn = PQconnectdbParams(keys, vals, 1);
		if (!conn) {
			free(target);
			return plat_error_set(err, PLAT_E_INTERNAL, "out of memory connecting to PostgreSQL");
		}
		if (PQstatus(conn) == CONNECTION_OK) {
			PQsetNoticeProcessor(conn, log_notice, NULL);
			struct plat_db *db = plat_xcalloc(1, sizeof(*db));
			db->conn = conn;
			db->target = target;
			db->prepare = opts->prepare;
			*out = db;
			return 0;
		}
		char *msg = one_line(PQerrorMessage(conn));
		PQfinish(conn);
		enum plat_error_kind kind = classify_connect_error(msg);
		if (kind != PLAT_E_UNAVAILABLE || plat_clock_ms() + delay >= deadline) {
			int rc = plat_error_set(err, kind, "cannot connect to PostgreSQL at %s (%d attempt%s): %s", target,
						attempts, attempts == 1 ? "" : "s", msg);
			free(msg);
			free(target);
			return rc;
		}
		plat_log(PLAT_LOG_DEBUG, "database not reachable yet, retrying", "target", target, "error", msg,
			 (const char *)NULL);
		free(msg);
		unsigned char r = 0;
		RAND_bytes(&r, 1);
		plat_sleep_ms(delay + (delay * r) / 512); /* up to +50% jitter */
		delay = delay * 2 > 2000 ? 2000 : delay * 2;
	}
}

static void forget_prepared(struct plat_db *db)
{
	for (int i = 0; i < db->n_prepared; i++)
		free(db->prepared[i].sql);
	db->n_prepared = 0;
}

void plat_db_close(struct plat_db *db)
{
	if (!db)
		return;
	forget_prepared(db);
	PQfinish(db->conn);
	free(db->target);
	free(db);
}

PGconn *plat_db_pgconn(struct plat_db *db)
{
	return db->conn;
}

const char *plat_db_target(const struct plat_db *db)
{
	return db->target;
}

static enum plat_error_kind classify_result(PGconn *conn, const PGresult *res)
{
	if (PQstatus(conn) != CONNECTION_OK)
		return PLAT_E_UNAVAILABLE;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (!state)
		return PLAT_E_FAILURE;
	if (!strcmp(state, "23505") || !strcmp(state, "23503") || !strcmp(state, "40001") || !strcmp(state, "40P01"))
		return PLAT_E_CONFLICT;
	if (!strncmp(state, "08", 2) || !strcmp(state, "57P01") || !strcmp(state, "57P03") || !strcmp(state, "55P03") ||
	    !strcmp(state, "53300"))
		return PLAT_E_UNAVAILABLE;
	if (!strcmp(state, "42501"))
		return PLAT_E_PERMISSION;
	return PLAT_E_FAILURE;
}

/* A failed statement's error, as its kind; frees r. */
static int result_error(struct plat_db *db, PGresult *r, struct plat_error *err)
{
	enum plat_error_kind kind = classify_result(db->conn, r);
	const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char *msg = one_line(primary ? primary : PQerrorMessage(db->conn));
	int rc = kind == PLAT_E_UNAVAILABLE
			 ? plat_error_set(err, kind, "lost connection to PostgreSQL at %s: %s", db->target, msg)
			 : plat_error_set(err, kind, "%s", msg);
	free(msg);
	PQclear(r);
	return rc;
}

static unsigned long sql_hash(const char *sql)
{
	unsigned long h = 5381;
	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = h * 33 ^ *p;
	return h;
}

/* Only statements whose plan can be kept: DDL, transaction control and SET are run as
 * they come. */
static bool preparable(const char *sql)
{
	while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
		sql++;
	static const char *const verbs[] = {"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", NULL};
	for (const char *const *v = verbs; *v; v++) {
		size_t n = strlen(*v);
		if (strncasecmp(sql, *v, n) == 0 && (sql[n] == ' ' || sql[n] == '\n' || sql[n] == '('))
			return true;
	}
	return false;
}

/* The name sql is prepared under on this connection ("" when it runs unprepared),
 * preparing it first if needed: one more round trip, once per connection. A statement
 * that fails to prepare fails as it would have run. */
static int prepared_name(struct plat_db *db, const char *sql, int nparams, char name[24], struct plat_error *err)
{
	name[0] = '\0';
	if (!db->prepare || !preparable(sql))
		return 0;
	if (db->deallocate_pending && PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
		PQclear(PQexec(db->conn, "DEALLOCATE ALL"));
		db->deallocate_pending = false;
	}
	unsigned long h = sql_hash(sql);
	for (int i = 0; i < db->n_prepared; i++)
		if (db->prepared[i].hash == h && strcmp(db->prepared[i].sql, sql) == 0) {
			snprintf(name, 24, "plat_%u", db->prepared[i].id);
			return 0;
		}
	if (db->n_prepared == PREPARED_MAX)
		return 0;
	int i = db->n_prepared;
	char n[24];
	unsigned id = db->next_prepared_id++;
	snprintf(n, sizeof(n), "plat_%u", id);
	PGresult *r = PQprepare(db->conn, n, sql, nparams, NULL);
	if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
		return result_error(db, r, err);
	PQclear(r);
	db->prepared[i].hash = h;
	db->prepared[i].sql = plat_xstrdup(sql);
	db->prepared[i].id = id;
	db->n_prepared++;
	memcpy(name, n, sizeof(n));
	return 0;
}

/* A failure of a prepared statement that no longer fits the schema (a migration altered
 * a table it reads) or that the server forgot (a proxy ran DISCARD ALL). */
static bool stale_plan(const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!state)
		return false;
	return strcmp(state, "26000") == 0 ||
	       (strcmp(state, "0A000") == 0 && msg && strstr(msg, "cached plan must not change result type"));
}

/* Forget every prepared statement, so that the next run of each prepares it afresh; the
 * server's side goes now, or (inside a transaction) before the next statement. */
static void drop_prepared(struct plat_db *db)
{
	if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		PQclear(PQexec(db->conn, "DEALLOCATE ALL"));
	else
		db->deallocate_pending = true;
	forget_prepared(db);
}

static int exec_raw(struct plat_db *db, const char *sql, int nparams, const char *const *params, PGresult **res,
		    struct plat_error *err)
{
	if (res)
		*res = NULL;
	for (int attempt = 0;; attempt++) {
		char name[24];
		int rc = prepared_name(db, sql, nparams, name, err);
		if (rc < 0)
			return rc;
		PGresult *r = name[0] ? PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0)
				      : PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
		ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (res)
				*res = r;
			else
				PQclear(r);
			return 0;
		}
		if (name[0] && stale_plan(r)) {
			drop_prepared(db);
			/* Again only outside a transaction: inside one, the error has aborted it. */
			if (attempt == 0 && PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
				PQclear(r);
				continue;
			}
		}
		return result_error(db, r, err);
	}
}

void plat_db_set_tenant(struct plat_db *db, const char *tenant_id)
{
	snprintf(db->tenant_id, sizeof(db->tenant_id), "%s", tenant_id ? tenant_id : "");
}

/* SET LOCAL rather than a session setting: it cannot outlive the transaction, so a
 * connection handed to another call (or shared by a transaction-pooling proxy) never
 * carries one tenant's setting into another's statements. */
static int begin_tenant_scoped(struct plat_db *db, struct plat_error *err)
{
	int rc = exec_raw(db, "BEGIN", 0, NULL, NULL, err);
	if (rc < 0 || !db->tenant_id[0])
		return rc;
	const char *params[] = {db->tenant_id};
	if ((rc = exec_raw(db, "SELECT set_config('platctl.tenant_id', $1, true)", 1, params, NULL, err)) < 0)
		plat_db_rollback(db);
	return rc;
}

static int exec_pipelined(struct plat_db *db, const char *setup, int nsetup, const char *const *setup_params,
			  const char *sql, int nparams, const char *const *params, PGresult **res,
			  struct plat_error *err);

int plat_db_exec(struct plat_db *db, const char *sql, int nparams, const char *const *params, PGresult **res,
		 struct plat_error *err)
{
	if (!db->tenant_id[0] || PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		return exec_raw(db, sql, nparams, params, res, err);
	/* A statement outside a transaction becomes one, so that it carries the setting too:
	 * BEGIN, the setting, the statement and COMMIT in one round trip. */
	if (res)
		*res = NULL;
	const char *tp[] = {db->tenant_id};
	return exec_pipelined(db, "SELECT set_config('platctl.tenant_id', $1, true)", 1, tp, sql, nparams, params, res,
			      err);
}

/* One pipelined statement's result: the first error, else the last result (into *res
 * when res is not NULL), read up to the NULL that ends the statement's results. */
static int pipeline_result(struct plat_db *db, PGresult **res, struct plat_error *err)
{
	PGresult *last = NULL, *r;
	int rc = 0;
	while ((r = PQgetResult(db->conn))) {
		ExecStatusType st = PQresultStatus(r);
		if (rc == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			if (st == PGRES_PIPELINE_ABORTED) {
				rc = plat_error_set(err, PLAT_E_FAILURE, "statement skipped after an earlier error");
				PQclear(r);
			} else {
				db->stale_seen = db->stale_seen || stale_plan(r);
				rc = result_error(db, r, err);
			}
			continue;
		}
		PQclear(last);
		last = r;
	}
	if (rc == 0 && res)
		*res = last;
	else
		PQclear(last);
	return rc;
}

static int exec_pipelined_once(struct plat_db *db, const char *setup, int nsetup, const char *const *setup_params,
			       const char *sql, int nparams, const char *const *params, PGresult **res,
			       struct plat_error *err)
{
	char name[24];
	int rc = prepared_name(db, sql, nparams, name, err);
	if (rc < 0)
		return rc;
	if (!PQenterPipelineMode(db->conn))
		return result_error(db, NULL, err);
	int sent = PQsendQueryParams(db->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) &&
		   PQsendQueryParams(db->conn, setup, nsetup, NULL, setup_params, NULL, NULL, 0) &&
		   (name[0] ? PQsendQueryPrepared(db->conn, name, nparams, params, NULL, NULL, 0)
			    : PQsendQueryParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0)) &&
		   PQsendQueryParams(db->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) && PQpipelineSync(db->conn);
	if (!sent) {
		rc = result_error(db, NULL, err);
	} else {
		PGresult *out = NULL;
		struct plat_error later; /* after the first error: skipped statements */
		for (int i = 0; i < 4; i++) {
			int one = pipeline_result(db, i == 2 ? &out : NULL, rc == 0 ? err : &later);
			if (rc == 0 && one < 0)
				rc = one;
		}
		PGresult *sync = PQgetResult(db->conn); /* PGRES_PIPELINE_SYNC */
		if (rc == 0 && PQresultStatus(sync) != PGRES_PIPELINE_SYNC)
			rc = plat_error_set(err, PLAT_E_UNAVAILABLE, "lost connection to PostgreSQL at %s", db->target);
		PQclear(sync);
		if (rc == 0 && res)
			*res = out;
		else
			PQclear(out);
	}
	PQexitPipelineMode(db->conn);
	if (PQtransactionStatus(db->conn) == PQTRANS_INERROR || PQtransactionStatus(db->conn) == PQTRANS_INTRANS)
		plat_db_rollback(db);
	return rc;
}

/* BEGIN, the settings (and the tenant), the statement, COMMIT: sent together, read back in
 * order. On an error the server skips the rest up to the sync; an explicit transaction
 * is then left failed, and rolled back here. A stale prepared statement (see
 * stale_plan) aborted nothing but its own transaction: run it once more, unprepared. */
static int exec_pipelined(struct plat_db *db, const char *setup, int nsetup, const char *const *setup_params,
			  const char *sql, int nparams, const char *const *params, PGresult **res,
			  struct plat_error *err)
{
	db->stale_seen = false;
	int rc = exec_pipelined_once(db, setup, nsetup, setup_params, sql, nparams, params, res, err);
	if (rc < 0 && db->stale_seen && db->n_prepared && PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
		drop_prepared(db);
		plat_error_clear(err);
		rc = exec_pipelined_once(db, setup, nsetup, setup_params, sql, nparams, params, res, err);
	}
	return rc;
}

int plat_db_exec_local(struct plat_db *db, const char *const *settings, const char *sql, int nparams,
		       const char *const *params, PGresult **res, struct plat_error *err)
{
	if (res)
		*res = NULL;
	/* SELECT set_config($1, $2, true), ... for each pair, the tenant's included. */
	const char *sp[2 * 8 + 2];
	int n = 0;
	struct plat_buf setup = PLAT_BUF_INIT;
	plat_buf_puts(&setup, "SELECT true");
	for (int i = 0; settings && settings[i] && settings[i + 1] && n < 2 * 8; i += 2) {
		sp[n] = settings[i];
		sp[n + 1] = settings[i + 1];
		plat_buf_printf(&setup, ", set_config($%d, $%d, true)", n + 1, n + 2);
		n += 2;
	}
	if (db->tenant_id[0]) {
		sp[n] = "platctl.tenant_id";
		sp[n + 1] = db->tenant_id;
		plat_buf_printf(&setup, ", set_config($%d, $%d, true)", n + 1, n + 2);
		n += 2;
	}
	int rc;
	if (PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		/* Inside the caller's transaction: the settings last until its end. */
		rc = exec_raw(db, setup.data, n, sp, NULL, err);
		if (rc == 0)
			rc = exec_raw(db, sql, nparams, params, res, err);
	} else {
		rc = exec_pipelined(db, setup.data, n, sp, sql, nparams, params, res, err);
	}
	plat_buf_free(&setup);
	return rc;
}

int plat_db_query_json(struct plat_db *db, const char *sql, int nparams, const char *const *params, cJSON **out,
		       struct plat_error *err)
{
	*out = NULL;
	PGresult *res;
	int rc = plat_db_exec(db, sql, nparams, params, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) && !(*out = cJSON_Parse(PQgetvalue(res, 0, 0))))
		rc = plat_error_set(err, PLAT_E_INTERNAL, "a query's JSON result does not parse");
	PQclear(res);
	return rc;
}

int plat_db_begin(struct plat_db *db, struct plat_error *err)
{
	return begin_tenant_scoped(db, err);
}

int plat_db_commit(struct plat_db *db, struct plat_error *err)
{
	return exec_raw(db, "COMMIT", 0, NULL, NULL, err);
}

void plat_db_rollback(struct plat_db *db)
{
	PQclear(PQexec(db->conn, "ROLLBACK"));
}

int plat_db_advisory_lock(struct plat_db *db, long long key, bool wait, bool *got, struct plat_error *err)
{
	char k[32];
	snprintf(k, sizeof(k), "%lld", key);
	const char *params[] = {k};
	PGresult *res;
	int rc = plat_db_exec(db, wait ? "SELECT pg_advisory_lock($1::bigint), true" : "SELECT pg_try_advisory_lock($1::bigint)",
			      1, params, &res, err);
	if (rc < 0)
		return rc;
	bool ok = wait || strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	if (got)
		*got = ok;
	PQclear(res);
	return 0;
}

int plat_db_advisory_unlock(struct plat_db *db, long long key, struct plat_error *err)
{
	char k[32];
	snprintf(k, sizeof(k), "%lld", key);
	const char *params[] = {k};
	return plat_db_exec(db, "SELECT pg_advisory_unlock($1::bigint)", 1, params, NULL, err);
}

/* ---- pool ---- */

struct plat_db_pool {
	pthread_mutex_t lock;
	pthread_cond_t available;
	struct plat_db_options opts;
	char *url;
	struct plat_db **idle;
	int n_idle;
	int n_open; /* idle + borrowed */
	int size;
};

int plat_db_pool_new(const struct plat_db_options *opts, int size, struct plat_db_pool **out, struct plat_error *err)
{
	if (size < 1)
		return plat_error_set(err, PLAT_E_INTERNAL, "database pool size must be at least 1");
	struct plat_db_pool *p = plat_xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->available, NULL);
	p->url = plat_xstrdup(opts->url ? opts->url : "");
	p->opts = *opts;
	p->opts.url = p->url;
	p->idle = plat_xcalloc((size_t)size, sizeof(*p->idle));
	p->size = size;
	/* Open one now so a bad URL fails at start-up, not on the first request. */
	struct plat_db *db;
	int rc = plat_db_connect(&p->opts, &db, err);
	if (rc < 0) {
		plat_db_pool_free(p);
		return rc;
	}
	p->idle[p->n_idle++] = db;
	p->n_open = 1;
	*out = p;
	return 0;
}

int plat_db_pool_acquire(struct plat_db_pool *p, struct plat_db **out, struct plat_error *err)
{
	pthread_mutex_lock(&p->lock);
	while (p->n_idle == 0 && p->n_open >= p->size)
		pthread_cond_wait(&p->available, &p->lock);
	if (p->n_idle > 0) {
		struct plat_db *db = p->idle[--p->n_idle];
		pthread_mutex_unlock(&p->lock);
		if (PQstatus(db->conn) == CONNECTION_OK) {
			*out = db;
			return 0;
		}
		/* Broken while idle (server restart): replace it. */
		plat_db_close(db);
	} else {
		p->n_open++;
		pthread_mutex_unlock(&p->lock);
	}
	int rc = plat_db_connect(&p->opts, out, err);
	if (rc < 0) {
		pthread_mutex_lock(&p->lock);
		p->n_open--;
		pthread_cond_signal(&p->available);
		pthread_mutex_unlock(&p->lock);
	}
	return rc;
}

void plat_db_pool_release(struct plat_db_pool *p, struct plat_db *db)
{
	/* A connection left inside a transaction or broken is not reused. */
	bool reusable = PQstatus(db->conn) == CONNECTION_OK && PQtransactionStatus(db->conn) == PQTRANS_IDLE;
	pthread_mutex_lock(&p->lock);
	if (reusable) {
		p->idle[p->n_idle++] = db;
	} else {
		p->n_open--;
	}
	pthread_cond_signal(&p->available);
	pthread_mutex_unlock(&p->lock);
	if (!reusable)
		plat_db_close(db);
}

void plat_db_pool_free(struct plat_db_pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->n_idle; i++)
		plat_db_close(p->idle[i]);
	free(p->idle);
	free(p->url);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->available);
	free(p);
}
