/* setgroups(2) is not POSIX: dropping root to the postgres user needs it. */
#define _DEFAULT_SOURCE
#include "dev/dev.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "db/db.h"
#include "log/log.h"
#include "migrate/migrate.h"
#include "io/io.h"
#include "mem/mem.h"

#define DEV_DATABASE "platctl"
#define DEV_SUPERUSER "postgres"

static char *path_join(const char *a, const char *b)
{
	struct plat_buf p = PLAT_BUF_INIT;
	plat_buf_printf(&p, "%s/%s", a, b);
	return plat_buf_detach(&p);
}

char *plat_dev_default_dir(void)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	if (xdg && xdg[0] == '/')
		return path_join(xdg, "platctl/dev");
	if (geteuid() == 0)
		return plat_xstrdup("/var/lib/platctl/dev");
	const char *home = getenv("HOME");
	struct plat_buf p = PLAT_BUF_INIT;
	plat_buf_printf(&p, "%s/.local/share/platctl/dev", home && *home ? home : "/tmp");
	return plat_buf_detach(&p);
}

static bool is_executable(const char *dir, const char *prog)
{
	char *p = path_join(dir, prog);
	bool ok = access(p, X_OK) == 0;
	free(p);
	return ok;
}

static char *find_pg_bindir(void)
{
	/* Newest major version first. */
	for (int v = 30; v >= 12; v--) {
		char dir[64];
		snprintf(dir, sizeof(dir), "/usr/lib/postgresql/%d/bin", v);
		if (is_executable(dir, "initdb") && is_executable(dir, "pg_ctl"))
			return plat_xstrdup(dir);
	}
	return NULL;
}

static int mkdir_p(const char *path, mode_t mode, struct plat_error *err)
{
	const char *failed;
	if (plat_mkdir_p(path, 0755, mode, &failed) < 0)
		return plat_error_set(err, PLAT_E_FAILURE, "cannot create directory '%s': %s", failed, strerror(errno));
	return 0;
}

int plat_dev_open(const char *dir, const char *pg_bindir, struct plat_dev *dev, struct plat_error *err)
{
	memset(dev, 0, sizeof(*dev));
	if (!dir || dir[0] != '/')
		return plat_error_set(err, PLAT_E_USAGE, "the dev directory must be an absolute path");
	/* pg_ctl hands its -o options (our socket directory) to a shell: a path with spaces,
	 * quotes or other shell syntax would break the start, or worse. */
	size_t ok = strspn(dir, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+-@,=~");
	if (dir[ok] != '\0')
		return plat_error_set(err, PLAT_E_USAGE,
				      "the dev directory may only contain letters, digits and / . _ + - @ , = ~ "
				      "(PostgreSQL's pg_ctl passes it through a shell)");
	dev->dir = plat_xstrdup(dir);
	while (strlen(dev->dir) > 1 && dev->dir[strlen(dev->dir) - 1] == '/')
		dev->dir[strlen(dev->dir) - 1] = '\0';
	dev->pg_bindir = pg_bindir ? plat_xstrdup(pg_bindir) : find_pg_bindir();
	if (!dev->pg_bindir || !is_executable(dev->pg_bindir, "initdb") || !is_executable(dev->pg_bindir, "pg_ctl")) {
		plat_dev_close(dev);
		plat_error_set(err, PLAT_E_UNAVAILABLE,
			       "PostgreSQL server binaries (initdb, pg_ctl) not found%s%s; install postgresql "
			       "(make deps) or name the directory that has them",
			       pg_bindir ? " in " : "", pg_bindir ? pg_bindir : "");
		return plat_error_param(err, "pg-bindir");
	}
	dev->as_postgres = geteuid() == 0;
	return 0;
}

void plat_dev_close(struct plat_dev *dev)
{
	free(dev->dir);
	free(dev->pg_bindir);
	memset(dev, 0, sizeof(*dev));
}

void plat_dev_status_free(struct plat_dev_status *st)
{
	free(st->database_url);
	free(st->storage_url);
	memset(st, 0, sizeof(*st));
}

/* Run a PostgreSQL program (as postgres when root), output appended to DIR/pg.log.
 * No descriptor beyond stdio is inherited: a test runner waiting on one must not wait
 * for the server. Returns the exit status, or -1 when it could not run. */
static int run_pg(struct plat_dev *dev, char *const argv[])
{
	char *log = path_join(dev->dir, "pg.log");
	struct passwd *pw = dev->as_postgres ? getpwnam("postgres") : NULL;
	if (dev->as_postgres && !pw) {
		free(log);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		free(log);
		return -1;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int nul = open("/dev/null", O_RDONLY);
		if (fd < 0 || nul < 0)
			_exit(127);
		if (pw && fchown(fd, pw->pw_uid, pw->pw_gid) < 0)
			_exit(127);
		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		long maxfd = sysconf(_SC_OPEN_MAX);
		for (long i = 3; i < (maxfd > 0 && maxfd < 65536 ? maxfd : 65536); i++)
			close((int)i);
		if (pw && (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0))
			_exit(126);
		/* The server's locale and timezone should not depend on the caller's shell. */
		setenv("LC_ALL", "C.UTF-8", 1);
		unsetenv("PGDATA");
		char *prog = path_join(dev->pg_bindir, argv[0]);
		execv(prog, argv);
		_exit(127);
	}
	free(log);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int log_tail_error(struct plat_dev *dev, const char *what, struct plat_error *err)
{
	return plat_error_set(err, PLAT_E_FAILURE, "%s failed; see %s/pg.log", what, dev->dir);
}

static bool port_free(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return false;
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = bind(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(s);
	return ok;
}

/* The kernel's choice of an unused port (bind to port 0), so concurrent dev stacks and
 * test clusters do not collide. */
static int pick_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int port = -1;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(s);
	return port;
}

static int read_int_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int v = -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int write_text_file(const char *path, const char *text, mode_t mode, struct plat_error *err)
{
	size_t n = strlen(path) + 8;
	char *tmp = plat_xmalloc(n);
	snprintf(tmp, n, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		int rc = plat_error_set(err, PLAT_E_FAILURE, "cannot write '%s': %s", path, strerror(errno));
		free(tmp);
		return rc;
	}
	size_t len = strlen(text);
	bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		int rc = plat_error_set(err, PLAT_E_FAILURE, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return rc;
	}
	free(tmp);
	return 0;
}

/* Running = postmaster.pid names a live process. */
static bool server_running(struct plat_dev *dev, long *pid)
{
	char *pidfile = path_join(dev->dir, "pg/postmaster.pid");
	int p = read_int_file(pidfile);
	free(pidfile);
	if (pid)
		*pid = p;
	return p > 0 && (kill(p, 0) == 0 || errno == EPERM);
}

static void fill_urls(struct plat_dev *dev, int port, struct plat_dev_status *st)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_printf(&b, "postgresql://%s@127.0.0.1:%d/%s", DEV_SUPERUSER, port, DEV_DATABASE);
	st->database_url = plat_buf_detach(&b);
	plat_buf_printf(&b, "file://%s/storage", dev->dir);
	st->storage_url = plat_buf_detach(&b);
}

int plat_dev_status(struct plat_dev *dev, struct plat_dev_status *st, struct plat_error *err)
{
	(void)err;
	memset(st, 0, sizeof(*st));
	char *version = path_join(dev->dir, "pg/PG_VERSION");
	st->initialized = access(version, F_OK) == 0;
	free(version);
	char *portfile = path_join(dev->dir, "port");
	st->port = read_int_file(portfile);
	free(portfile);
	st->running = st->initialized && server_running(dev, &st->pid);
	if (!st->running)
		st->pid = 0;
	if (st->port > 0)
		fill_urls(dev, st->port, st);
	return 0;
}

static int chown_to_postgres(struct plat_dev *dev, const char *path, struct plat_error *err)
{
	if (!dev->as_postgres)
		return 0;
	struct passwd *pw = getpwnam("postgres");
	if (!pw)
		return plat_error_set(err, PLAT_E_FAILURE, "running as root needs a 'postgres' user to own the cluster");
	if (chown(path, pw->pw_uid, pw->pw_gid) < 0)
		return plat_error_set(err, PLAT_E_FAILURE, "cannot hand '%s' to postgres: %s", path, strerror(errno));
	return 0;
}

static int create_database(struct plat_dev_status *st, struct plat_error *err)
{
	/* Connect to the maintenance database; CREATE DATABASE has no IF NOT EXISTS. */
	struct plat_buf url = PLAT_BUF_INIT;
	plat_buf_printf(&url, "postgresql://%s@127.0.0.1:%d/postgres", DEV_SUPERUSER, st->port);
	struct plat_db_options o = {.url = url.data, .connect_timeout_ms = 30000};
	struct plat_db *db;
	int rc = plat_db_connect(&o, &db, err);
	plat_buf_free(&url);
	if (rc < 0)
		return rc;
	const char *params[] = {DEV_DATABASE};
	PGresult *res;
	rc = plat_db_exec(db, "SELECT 1 FROM pg_database WHERE datname = $1", 1, params, &res, err);
	if (rc == 0) {
		bool exists = PQntuples(res) > 0;
		PQclear(res);
		if (!exists)
			rc = plat_db_exec(db, "CREATE DATABASE " DEV_DATABASE, 0, NULL, NULL, err);
	}
	plat_db_close(db);
	return rc;
}

static bool others_can_traverse(const char *dir)
{
	char *p = plat_xstrdup(dir);
	bool ok = true;
	for (char *slash = p; ok && slash;) {
		slash = strchr(slash + 1, '/');
		if (slash)
			*slash = '\0';
		struct stat sb;
		ok = stat(p, &sb) == 0 && (sb.st_mode & S_IXOTH);
		if (slash)
			*slash = '/';
	}
	free(p);
	return ok;
}

int plat_dev_up(struct plat_dev *dev, struct plat_dev_status *st, struct plat_error *err)
{
	memset(st, 0, sizeof(*st));
	int rc;
	char *pgdata = path_join(dev->dir, "pg"), *run = path_join(dev->dir, "run"),
	     *storage = path_join(dev->dir, "storage"), *portfile = path_join(dev->dir, "port");

	if ((rc = mkdir_p(dev->dir, 0755, err)) < 0 || (rc = mkdir_p(storage, 0750, err)) < 0 ||
	    (rc = mkdir_p(run, 0755, err)) < 0 || (rc = chown_to_postgres(dev, run, err)) < 0)
		goto out;
	/* The cluster's owner must be able to reach it through every parent directory. */
	if (dev->as_postgres && !others_can_traverse(dev->dir)) {
		rc = plat_error_set(err, PLAT_E_FAILURE,
				    "the postgres user cannot enter '%s' (a parent directory is private); "
				    "use a directory under /var/lib or /srv",
				    dev->dir);
		plat_error_param(err, "dir");
		goto out;
	}

	char *version = path_join(pgdata, "PG_VERSION");
	bool initialized = access(version, F_OK) == 0;
	free(version);
	if (!initialized) {
		if ((rc = mkdir_p(pgdata, 0700, err)) < 0 || (rc = chown_to_postgres(dev, pgdata, err)) < 0)
			goto out;
		char *argv[] = {"initdb", "-D", pgdata, "-U", DEV_SUPERUSER, "-A", "trust", "-E", "UTF8",
				"--locale=C.UTF-8", NULL};
		plat_log(PLAT_LOG_INFO, "initialising the dev cluster", "dir", pgdata, (const char *)NULL);
		if (run_pg(dev, argv) != 0) {
			rc = log_tail_error(dev, "initdb", err);
			goto out;
		}
	}

	long pid;
	int port = read_int_file(portfile);
	if (!server_running(dev, &pid)) {
		/* Reuse the port the profile names when it is free, so the profile stays right. */
		if (port <= 0 || !port_free(port))
			port = pick_port();
		if (port <= 0) {
			rc = plat_error_set(err, PLAT_E_UNAVAILABLE, "no free TCP port on 127.0.0.1");
			goto out;
		}
		struct plat_buf o = PLAT_BUF_INIT;
		plat_buf_printf(&o, "-p %d -k %s -c listen_addresses=127.0.0.1", port, run);
		char *log = path_join(dev->dir, "pg.log");
		char *argv[] = {"pg_ctl", "-D", pgdata, "-l", log, "-w", "-t", "60", "-o", o.data, "start", NULL};
		plat_log(PLAT_LOG_INFO, "starting the dev cluster", "port", o.data, (const char *)NULL);
		int st_rc = run_pg(dev, argv);
		free(log);
		plat_buf_free(&o);
		if (st_rc != 0) {
			rc = log_tail_error(dev, "starting PostgreSQL (pg_ctl start)", err);
			goto out;
		}
		char text[32];
		snprintf(text, sizeof(text), "%d\n", port);
		if ((rc = write_text_file(portfile, text, 0644, err)) < 0)
			goto out;
	}

	st->initialized = true;
	st->running = server_running(dev, &st->pid);
	st->port = port;
	fill_urls(dev, port, st);
	rc = create_database(st, err);
out:
	free(pgdata);
	free(run);
	free(storage);
	free(portfile);
	return rc;
}

static int remove_tree(const char *path)
{
	struct stat sb;
	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(path);
		if (!d)
			return -1;
		struct dirent *e;
		int rc = 0;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char *child = path_join(path, e->d_name);
			rc |= remove_tree(child);
			free(child);
		}
		closedir(d);
		return rc | rmdir(path);
	}
	return unlink(path);
}

int plat_dev_down(struct plat_dev *dev, bool purge, bool *was_running, struct plat_error *err)
{
	long pid;
	*was_running = server_running(dev, &pid);
	if (*was_running) {
		char *pgdata = path_join(dev->dir, "pg");
		char *argv[] = {"pg_ctl", "-D", pgdata, "-m", "fast", "-w", "-t", "60", "stop", NULL};
		int rc = run_pg(dev, argv);
		free(pgdata);
		if (rc != 0)
			return log_tail_error(dev, "stopping PostgreSQL (pg_ctl stop)", err);
		/* pg_ctl -w returns once the pid file is gone; make sure the process is too. */
		struct timespec tick = {0, 50 * 1000 * 1000};
		for (int i = 0; i < 100 && kill((pid_t)pid, 0) == 0; i++)
			nanosleep(&tick, NULL);
	}
	if (!purge)
		return 0;
	/* Only ever delete what dev up made: refuse a directory that is not a dev stack, and
	 * remove the known entries rather than whatever else the directory holds. */
	char *version = path_join(dev->dir, "pg/PG_VERSION"), *portfile = path_join(dev->dir, "port");
	bool is_stack = strcmp(dev->dir, "/") != 0 && (access(version, F_OK) == 0 || access(portfile, F_OK) == 0);
	free(version);
	free(portfile);
	if (!is_stack)
		return plat_error_set(err, PLAT_E_FAILURE, "'%s' is not a dev stack (no pg/PG_VERSION or port): not purging",
				      dev->dir);
	static const char *const entries[] = {"pg", "run", "storage", "pg.log", "port"};
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		char *path = path_join(dev->dir, entries[i]);
		int rc = remove_tree(path);
		free(path);
		if (rc < 0)
			return plat_error_set(err, PLAT_E_FAILURE, "cannot remove '%s/%s': %s", dev->dir, entries[i],
					      strerror(errno));
	}
	if (rmdir(dev->dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		return plat_error_set(err, PLAT_E_FAILURE, "cannot remove '%s': %s", dev->dir, strerror(errno));
	return 0;
}

/* ---- the managed profile ---- */

static int is_managed(const char *path, bool *exists, bool *managed)
{
	*exists = *managed = false;
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	*exists = true;
	char line[256] = "";
	if (fgets(line, sizeof(line), f))
		*managed = strncmp(line, PLAT_DEV_MARKER, strlen(PLAT_DEV_MARKER)) == 0;
	fclose(f);
	return 0;
}

/* A YAML double-quoted scalar: the directory may hold quotes, backslashes or worse. */
static void yaml_double_quoted(struct plat_buf *out, const char *s)
{
	plat_buf_putc(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			plat_buf_printf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			plat_buf_printf(out, "\\x%02x", *p);
		else
			plat_buf_putc(out, (char)*p);
	}
	plat_buf_putc(out, '"');
}

int plat_dev_write_profile(const char *path, const struct plat_dev_status *st, bool *written, struct plat_error *err)
{
	*written = false;
	bool exists, managed;
	if (is_managed(path, &exists, &managed) < 0)
		return plat_error_set(err, PLAT_E_FAILURE, "cannot read '%s': %s", path, strerror(errno));
	if (exists && !managed)
		return 0;
	char *dir = plat_xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		int rc = mkdir_p(dir, 0700, err);
		if (rc < 0) {
			free(dir);
			return rc;
		}
	}
	free(dir);
	struct plat_buf db_url = PLAT_BUF_INIT, store_url = PLAT_BUF_INIT, y = PLAT_BUF_INIT;
	yaml_double_quoted(&db_url, st->database_url);
	yaml_double_quoted(&store_url, st->storage_url);
	plat_buf_printf(&y,
			"%s\n"
			"# platctl rewrites this file while the line above is here; delete that line to take\n"
			"# the file over, and platctl will leave it alone. See platctl.yaml(5).\n"
			"profile: dev\n"
			"profiles:\n"
			"  dev:\n"
			"    database:\n"
			"      url: %s\n"
			"    storage:\n"
			"      url: %s\n"
			"    events:\n"
			"      backend: postgres\n"
			"    ai:\n"
			"      chat:\n"
			"        provider: builtin\n"
			"      embeddings:\n"
			"        provider: builtin\n",
			PLAT_DEV_MARKER, db_url.data, store_url.data);
	int rc = write_text_file(path, y.data, 0600, err);
	plat_buf_free(&y);
	plat_buf_free(&db_url);
	plat_buf_free(&store_url);
	if (rc == 0)
		*written = true;
	return rc;
}

int plat_dev_remove_profile(const char *path, bool *removed, struct plat_error *err)
{
	*removed = false;
	bool exists, managed;
	if (is_managed(path, &exists, &managed) < 0)
		return plat_error_set(err, PLAT_E_FAILURE, "cannot read '%s': %s", path, strerror(errno));
	if (!managed)
		return 0;
	if (unlink(path) < 0)
		return plat_error_set(err, PLAT_E_FAILURE, "cannot remove '%s': %s", path, strerror(errno));
	*removed = true;
	return 0;
}

int plat_dev_migrate(const char *database_url, const char *applied_by, int *applied, struct plat_error *err)
{
	struct plat_db_options o = {.url = database_url, .connect_timeout_ms = 30000};
	struct plat_db *db;
	int rc = plat_db_connect(&o, &db, err);
	if (rc < 0)
		return rc;
	struct plat_migrate_options mo = {.applied_by = applied_by};
	rc = plat_migrate_up(db, &mo, applied, err);
	plat_db_close(db);
	return rc;
}

int plat_dev_schema_version(const char *database_url)
{
	struct plat_db_options o = {.url = database_url, .connect_timeout_ms = 2000};
	struct plat_db *db;
	struct plat_error err = {0};
	if (plat_db_connect(&o, &db, &err) < 0)
		return -1;
	int version, latest;
	if (plat_migrate_version(db, &version, &latest, &err) < 0)
		version = -1;
	plat_db_close(db);
	return version;
}
