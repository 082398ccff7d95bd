#include "migrate/migrate.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "clock/clock.h"
#include "db/db.h"
#include "hash/hash.h"
#include "mem/mem.h"

/* ---- parsing the embedded files ---- */

static const char UP_MARK[] = "-- migrate:up";
static const char DOWN_MARK[] = "-- migrate:down";

/* Start of the line holding mark (at the start of a line), or NULL. */
static const char *find_marker(const char *data, size_t len, const char *mark)
{
	size_t ml = strlen(mark);
	for (size_t i = 0; i + ml <= len; i++) {
		if ((i == 0 || data[i - 1] == '\n') && memcmp(data + i, mark, ml) == 0 &&
		    (i + ml == len || data[i + ml] == '\n' || data[i + ml] == '\r'))
			return data + i;
	}
	return NULL;
}

static bool blank(const char *s)
{
	/* Only whitespace and -- comments. */
	while (*s) {
		if (isspace((unsigned char)*s)) {
			s++;
		} else if (s[0] == '-' && s[1] == '-') {
			s += strcspn(s, "\n");
		} else {
			return false;
		}
	}
	return true;
}

/* Each migration already runs in a transaction; its own BEGIN/COMMIT would break that. */
static const char *transaction_statement(const char *sql)
{
	static const char *const words[] = {"BEGIN", "COMMIT", "ROLLBACK", "START TRANSACTION", "END"};
	for (const char *line = sql; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			size_t n = strlen(words[i]);
			if (strncasecmp(p, words[i], n) == 0) {
				const char *q = p + n;
				while (*q == ' ' || *q == '\t')
					q++;
				if (*q == ';')
					return words[i];
			}
		}
	}
	return NULL;
}

static char *dup_range(const char *a, const char *b)
{
	char *s = plat_xmalloc((size_t)(b - a) + 1);
	memcpy(s, a, (size_t)(b - a));
	s[b - a] = '\0';
	return s;
}

int plat_migration_parse(const char *file_name, const char *data, size_t len, struct plat_migration *m,
			 struct plat_error *err)
{
	memset(m, 0, sizeof(*m));
	size_t nl = strlen(file_name);
	size_t digits = strspn(file_name, "0123456789");
	if (digits != 4 || file_name[4] != '_' || nl < 10 || strcmp(file_name + nl - 4, ".sql") != 0 ||
	    strspn(file_name + 5, "abcdefghijklmnopqrstuvwxyz0123456789_") != nl - 9)
		return plat_error_set(err, PLAT_E_INTERNAL, "migration '%s': name must be NNNN_lowercase_name.sql",
				      file_name);
	m->version = atoi(file_name);
	snprintf(m->name, sizeof(m->name), "%.*s", (int)(nl - 9), file_name + 5);
	if (m->version < 1)
		return plat_error_set(err, PLAT_E_INTERNAL, "migration '%s': versions start at 0001", file_name);
	if (memchr(data, '\0', len))
		return plat_error_set(err, PLAT_E_INTERNAL, "migration '%s' contains a NUL byte", file_name);

	const char *up = find_marker(data, len, UP_MARK);
	const char *down = find_marker(data, len, DOWN_MARK);
	if (!up || !down || down < up)
		return plat_error_set(err, PLAT_E_INTERNAL, "migration '%s' needs '%s' then '%s' lines", file_name,
				      UP_MARK, DOWN_MARK);
	for (const char *p = data; p < down; p++) {
		m->down_line += *p == '\n';
		if (p < up)
			m->up_line += *p == '\n';
	}
	m->up_line++;
	m->down_line++;
	m->up = dup_range(up + strlen(UP_MARK), down);
	m->down = dup_range(down + strlen(DOWN_MARK), data + len);
	const char *bad = NULL;
	if (blank(m->up) || blank(m->down)) {
		plat_migration_free(m);
		return plat_error_set(err, PLAT_E_INTERNAL, "migration '%s' has an empty up or down part", file_name);
	}
	if ((bad = transaction_statement(m->up)) || (bad = transaction_statement(m->down))) {
		plat_migration_free(m);
		return plat_error_set(err, PLAT_E_INTERNAL,
				      "migration '%s' contains '%s;': each migration already runs in its own transaction",
				      file_name, bad);
	}

	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	plat_hex(md, mdlen < 32 ? mdlen : 32, m->checksum);
	return 0;
}

void plat_migration_free(struct plat_migration *m)
{
	free(m->up);
	free(m->down);
	m->up = m->down = NULL;
}

static struct {
	pthread_once_t once;
	struct plat_migration *list;
	size_t n;
	struct plat_error err;
} embedded = {PTHREAD_ONCE_INIT, NULL, 0, {0}};

static void free_embedded(void)
{
	for (size_t i = 0; i < embedded.n; i++)
		plat_migration_free(&embedded.list[i]);
	free(embedded.list);
}

static void load_embedded(void)
{
	size_t n = 0;
	while (plat_migration_files[n].name)
		n++;
	embedded.list = plat_xcalloc(n ? n : 1, sizeof(*embedded.list));
	for (size_t i = 0; i < n; i++) {
		const struct plat_migration_file *f = &plat_migration_files[i];
		if (plat_migration_parse(f->name, f->data, f->len, &embedded.list[i], &embedded.err) < 0)
			return;
		embedded.n = i + 1;
		if (embedded.list[i].version != (int)i + 1) {
			plat_error_set(&embedded.err, PLAT_E_INTERNAL, "migration '%s': expected version %04zu",
				       f->name, i + 1);
			return;
		}
	}
	atexit(free_embedded);
}

int plat_migrations(const struct plat_migration **out, size_t *n, struct plat_error *err)
{
	pthread_once(&embedded.once, load_embedded);
	if (embedded.err.kind != PLAT_OK) {
		if (err)
			*err = embedded.err;
		return -(int)embedded.err.kind;
	}
	*out = embedded.list;
	*n = embedded.n;
	return 0;
}

/* ---- status ---- */

const char *plat_migration_state_name(enum plat_migration_state s)
{
	switch (s) {
	case PLAT_MIGRATION_APPLIED: return "applied";
	case PLAT_MIGRATION_MODIFIED: return "modified";
	case PLAT_MIGRATION_UNKNOWN: return "unknown";
	default: return "pending";
	}
}

static char *xdup_or_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : plat_xstrdup(PQgetvalue(r, row, col));
}

int plat_migrate_status(struct plat_db *db, struct plat_migration_status **out, size_t *n, struct plat_error *err)
{
	*out = NULL;
	*n = 0;
	const struct plat_migration *ms;
	size_t nm;
	int rc = plat_migrations(&ms, &nm, err);
	if (rc < 0)
		return rc;

	PGresult *exists = NULL, *applied = NULL;
	rc = plat_db_exec(db, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, &exists, err);
	if (rc < 0)
		return rc;
	bool have_table = strcmp(PQgetvalue(exists, 0, 0), "t") == 0;
	PQclear(exists);
	int napplied = 0;
	if (have_table) {
		rc = plat_db_exec(db,
				  "SELECT version, name, checksum,"
				  " to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), applied_by"
				  " FROM schema_migrations ORDER BY version",
				  0, NULL, &applied, err);
		if (rc < 0)
			return rc;
		napplied = PQntuples(applied);
	}

	struct plat_migration_status *st = plat_xcalloc(nm + (size_t)napplied + 1, sizeof(*st));
	size_t k = 0;
	for (size_t i = 0; i < nm; i++, k++) {
		st[k].version = ms[i].version;
		st[k].name = plat_xstrdup(ms[i].name);
		st[k].checksum = plat_xstrdup(ms[i].checksum);
		st[k].state = PLAT_MIGRATION_PENDING;
		for (int r = 0; r < napplied; r++) {
			if (atoi(PQgetvalue(applied, r, 0)) != ms[i].version)
				continue;
			st[k].db_checksum = xdup_or_null(applied, r, 2);
			st[k].applied_at = xdup_or_null(applied, r, 3);
			st[k].applied_by = xdup_or_null(applied, r, 4);
			st[k].state = strcmp(st[k].db_checksum, ms[i].checksum) == 0 ? PLAT_MIGRATION_APPLIED
										: PLAT_MIGRATION_MODIFIED;
		}
	}
	for (int r = 0; r < napplied; r++) {
		int v = atoi(PQgetvalue(applied, r, 0));
		bool known = false;
		for (size_t i = 0; i < nm && !known; i++)
			known = ms[i].version == v;
		if (known)
			continue;
		st[k].version = v;
		st[k].name = xdup_or_null(applied, r, 1);
		st[k].checksum = xdup_or_null(applied, r, 2);
		st[k].db_checksum = xdup_or_null(applied, r, 2);
		st[k].applied_at = xdup_or_null(applied, r, 3);
		st[k].applied_by = xdup_or_null(applied, r, 4);
		st[k].state = PLAT_MIGRATION_UNKNOWN;
		k++;
	}
	PQclear(applied);
	*out = st;
	*n = k;
	return 0;
}

void plat_migrate_status_free(struct plat_migration_status *st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(st[i].name);
		free(st[i].applied_at);
		free(st[i].applied_by);
		free(st[i].checksum);
		free(st[i].db_checksum);
	}
	free(st);
}

static int drift_error(const struct plat_migration_status *st, size_t n, struct plat_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (st[i].state == PLAT_MIGRATION_MODIFIED)
			return plat_error_set(err, PLAT_E_CONFLICT,
					      "migration %04d_%s was changed after it was applied (recorded checksum %.12s, "
					      "embedded %.12s)",
					      st[i].version, st[i].name, st[i].db_checksum, st[i].checksum);
		if (st[i].state == PLAT_MIGRATION_UNKNOWN)
			return plat_error_set(err, PLAT_E_CONFLICT,
					      "migration %04d_%s is applied but unknown to this platctl (a newer version "
					      "applied it?)",
					      st[i].version, st[i].name ? st[i].name : "?");
	}
	return 0;
}

int plat_migrate_verify(struct plat_db *db, struct plat_error *err)
{
	struct plat_migration_status *st;
	size_t n;
	int rc = plat_migrate_status(db, &st, &n, err);
	if (rc < 0)
		return rc;
	rc = drift_error(st, n, err);
	plat_migrate_status_free(st, n);
	return rc;
}

/* ---- applying ---- */

/* Run a multi-statement script (simple query protocol) inside the open transaction. On
 * error the message carries the line of the migration file where it happened. */
static int run_script(struct plat_db *db, const struct plat_migration *m, const char *part, const char *sql,
		      struct plat_error *err)
{
	PGresult *r = PQexec(plat_db_pgconn(db), sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
		PQclear(r);
		return 0;
	}
	const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *pos = r ? PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : NULL;
	int line = 0;
	if (pos) {
		/* The position counts characters from 1 in the part; count its lines. */
		long p = atol(pos);
		line = 1;
		for (long i = 0; i < p - 1 && sql[i]; i++)
			line += sql[i] == '\n';
	}
	char where[48] = "";
	if (line)
		snprintf(where, sizeof(where), " at line %d of the file",
			 (strcmp(part, "up") == 0 ? m->up_line : m->down_line) + line - 1);
	int rc = plat_error_set(err, PQstatus(plat_db_pgconn(db)) == CONNECTION_OK ? PLAT_E_FAILURE : PLAT_E_UNAVAILABLE,
				"migration %04d_%s (%s) failed%s: %s", m->version, m->name, part, where,
				primary ? primary : PQerrorMessage(plat_db_pgconn(db)));
	PQclear(r);
	return rc;
}

static int take_lock(struct plat_db *db, bool no_wait, struct plat_error *err)
{
	bool got = false;
	int rc = plat_db_advisory_lock(db, PLAT_MIGRATE_LOCK_KEY, !no_wait, &got, err);
	if (rc < 0)
		return rc;
	if (!got)
		return plat_error_set(err, PLAT_E_UNAVAILABLE,
				      "another migration is running on %s (advisory lock held); retry later",
				      plat_db_target(db));
	return 0;
}

static void release_lock(struct plat_db *db)
{
	plat_db_advisory_unlock(db, PLAT_MIGRATE_LOCK_KEY, NULL);
}

static int ensure_table(struct plat_db *db, struct plat_error *err)
{
	return plat_db_exec(db,
			    "CREATE TABLE IF NOT EXISTS schema_migrations ("
			    " version integer PRIMARY KEY,"
			    " name text NOT NULL,"
			    " checksum text NOT NULL,"
			    " applied_at timestamptz NOT NULL DEFAULT now(),"
			    " applied_by text NOT NULL)",
			    0, NULL, NULL, err);
}

static int apply_one(struct plat_db *db, const struct plat_migration *m, bool up, const struct plat_migrate_options *o,
		     struct plat_error *err)
{
	long long t0 = plat_clock_ms();
	int rc = plat_db_begin(db, err);
	if (rc < 0)
		return rc;
	rc = run_script(db, m, up ? "up" : "down", up ? m->up : m->down, err);
	if (rc == 0) {
		char version[16];
		snprintf(version, sizeof(version), "%d", m->version);
		if (up) {
			const char *params[] = {version, m->name, m->checksum, o->applied_by ? o->applied_by : "unknown"};
			rc = plat_db_exec(db,
					  "INSERT INTO schema_migrations (version, name, checksum, applied_by)"
					  " VALUES ($1, $2, $3, $4)",
					  4, params, NULL, err);
		} else {
			const char *params[] = {version};
			rc = plat_db_exec(db, "DELETE FROM schema_migrations WHERE version = $1", 1, params, NULL, err);
		}
	}
	if (rc == 0)
		rc = plat_db_commit(db, err);
	if (rc < 0) {
		plat_db_rollback(db);
		return rc;
	}
	if (o->on_applied)
		o->on_applied(o->arg, m, up, plat_clock_ms() - t0);
	return 0;
}

/* Common start of up and down: lock, make sure the table exists, read the status and
 * refuse on drift. On success the lock is held and the caller releases it. */
static int prepare_run(struct plat_db *db, const struct plat_migrate_options *o, struct plat_migration_status **st,
		       size_t *n, struct plat_error *err)
{
	*st = NULL;
	*n = 0;
	int rc = take_lock(db, o->no_wait, err);
	if (rc < 0)
		return rc;
	if ((rc = ensure_table(db, err)) == 0 && (rc = plat_migrate_status(db, st, n, err)) == 0)
		rc = drift_error(*st, *n, err);
	if (rc < 0) {
		plat_migrate_status_free(*st, *n);
		*st = NULL;
		*n = 0;
		release_lock(db);
	}
	return rc;
}

int plat_migrate_up(struct plat_db *db, const struct plat_migrate_options *o, int *applied, struct plat_error *err)
{
	*applied = 0;
	const struct plat_migration *ms;
	size_t nm;
	int rc = plat_migrations(&ms, &nm, err);
	if (rc < 0)
		return rc;
	if (o->to < 0 || o->to > (int)nm)
	{
		plat_error_set(err, PLAT_E_USAGE, "%d: this platctl knows migrations 1 to %zu", o->to, nm);
		return plat_error_param(err, "to");
	}
	struct plat_migration_status *st;
	size_t n;
	if ((rc = prepare_run(db, o, &st, &n, err)) < 0)
		return rc;
	int target = o->to ? o->to : (int)nm;
	for (size_t i = 0; i < nm && rc == 0; i++) {
		if (st[i].state != PLAT_MIGRATION_PENDING || ms[i].version > target)
			continue;
		rc = apply_one(db, &ms[i], true, o, err);
		*applied += rc == 0;
	}
	plat_migrate_status_free(st, n);
	release_lock(db);
	return rc;
}

int plat_migrate_down(struct plat_db *db, const struct plat_migrate_options *o, int *reverted, struct plat_error *err)
{
	*reverted = 0;
	const struct plat_migration *ms;
	size_t nm;
	int rc = plat_migrations(&ms, &nm, err);
	if (rc < 0)
		return rc;
	if (o->to > (int)nm)
	{
		plat_error_set(err, PLAT_E_USAGE, "%d: this platctl knows migrations 1 to %zu", o->to, nm);
		return plat_error_param(err, "to");
	}
	struct plat_migration_status *st;
	size_t n;
	if ((rc = prepare_run(db, o, &st, &n, err)) < 0)
		return rc;
	int steps = o->to >= 0 ? (int)nm : (o->steps > 0 ? o->steps : 1);
	for (size_t i = nm; i-- > 0 && rc == 0 && steps > 0;) {
		if (st[i].state != PLAT_MIGRATION_APPLIED)
			continue;
		if (o->to >= 0 && ms[i].version <= o->to)
			break;
		rc = apply_one(db, &ms[i], false, o, err);
		*reverted += rc == 0;
		steps--;
	}
	plat_migrate_status_free(st, n);
	release_lock(db);
	return rc;
}

void plat_migrate_versions(const struct plat_migration_status *st, size_t n, int *current, int *latest)
{
	*current = 0;
	*latest = 0;
	for (size_t i = 0; i < n; i++) {
		if (st[i].state != PLAT_MIGRATION_PENDING && st[i].version > *current)
			*current = st[i].version;
		if (st[i].state != PLAT_MIGRATION_UNKNOWN && st[i].version > *latest)
			*latest = st[i].version;
	}
}

int plat_migrate_version(struct plat_db *db, int *current, int *latest, struct plat_error *err)
{
	struct plat_migration_status *st;
	size_t n;
	int rc = plat_migrate_status(db, &st, &n, err);
	if (rc < 0)
		return rc;
	plat_migrate_versions(st, n, current, latest);
	plat_migrate_status_free(st, n);
	return 0;
}
