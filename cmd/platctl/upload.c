/* platctl upload FILE|DIR|- ...
 *
 * Collects the files (walking directories with -r), then uploads them with -j jobs, each
 * job a thread with its own service call context over the run's shared services. What an
 * upload is (sniffing, hashing, deduplication, the store-then-commit protocol) is
 * plat_documents_upload's; this file chooses files, shows progress and renders results. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock/clock.h"
#include "documents/documents.h"
#include "platctl.h"
#include "str/str.h"

#define U(f) offsetof(struct upload_opts, f)

const struct plat_opt upload_opts[] = {
	{'r', "recursive", PLAT_OPT_BOOL, NULL, "upload the files in directories, recursively", NULL, 0, 0, 0, U(recursive)},
	{0, "name", PLAT_OPT_STRING, "NAME", "document name (required for -, standard input)", NULL, 0, 0, 0, U(name)},
	{0, "title", PLAT_OPT_STRING, "TITLE", "document title", NULL, 0, 0, 0, U(title)},
	{0, "class", PLAT_OPT_STRING, "CLASS", "classification hint", NULL, 0, 0, 0, U(class_hint)},
	{0, "tag", PLAT_OPT_LIST, "KEY=VALUE", "tag the documents", NULL, 0, 0, 0, U(tags)},
	{0, "include", PLAT_OPT_RULE, "GLOB", "with -r: take in the files GLOB matches", NULL, 0, 0, 0, U(filters)},
	{0, "exclude", PLAT_OPT_RULE, "GLOB", "with -r: leave out the files GLOB matches", NULL, 0, 0, 0, U(filters)},
	{0, "new-version", PLAT_OPT_BOOL, NULL, "add a new version even when the content exists", NULL, 0, 0, 0, U(new_version)},
	{'j', "jobs", PLAT_OPT_INT, "N", "upload N files in parallel (default 1)", NULL, 1, 32, 0, U(jobs)},
	{0, "wait", PLAT_OPT_BOOL, NULL, "wait until the documents are processed (or failed)", NULL, 0, 0, 0, U(wait)},
	{0, "timeout", PLAT_OPT_INT, "SECONDS", "give up waiting after SECONDS (default 600), exit 7", NULL, 1, 86400, 0, U(timeout)},
	PLAT_OPT_END,
};

const struct upload_opts upload_defaults = {.jobs = 1, .timeout = 600};


struct item {
	char *path;      /* as given, or found under a directory; "-" for stdin */
	cJSON *result;
	enum plat_error_kind kind;
	bool walked;     /* found under a directory: a type not allowed is skipped, not refused */
	bool skipped;
};

/* The progress line on a terminal: files, bytes, rate and ETA for the whole batch, and
 * the file that moved last. Updated from the store's progress callbacks. */
struct progress {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool enabled, stop;
	bool erase; /* nothing was uploaded: the errors say it all, the line goes */
	long long total_bytes, done_bytes, start_ms;
	size_t files_total, files_done;
	char current[96];
	long long cur_size, cur_sent;
	pthread_t thread;
};

struct file_progress {
	struct progress *p;
	const char *name;
	long long size, sent;
};

struct batch {
	struct plat_cli_ctx *ctx;
	struct progress progress;
	/* where the time goes, summed over files (ms): reading+hashing, storage, PostgreSQL */
	long long hash_ms, store_ms, db_ms;
	const struct upload_opts *o;
	struct item *items;
	size_t n, cap, next;
	size_t excluded; /* by --include/--exclude */
	pthread_mutex_t lock;
	char *tags_json;
};

static void human_bytes(char *out, size_t n, double v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, n, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void on_progress(void *arg, long long bytes)
{
	struct file_progress *fp = arg;
	struct progress *p = fp->p;
	pthread_mutex_lock(&p->lock);
	long long now = fp->sent + bytes > fp->size ? fp->size : fp->sent + bytes;
	p->done_bytes += now - fp->sent;
	fp->sent = now;
	snprintf(p->current, sizeof(p->current), "%s", fp->name);
	p->cur_size = fp->size;
	p->cur_sent = fp->sent;
	pthread_mutex_unlock(&p->lock);
}

/* A file is finished (uploaded, unchanged or failed): count what it did not send. */
static void progress_file_done(struct progress *p, struct file_progress *fp)
{
	pthread_mutex_lock(&p->lock);
	p->done_bytes += fp->size - fp->sent;
	fp->sent = fp->size;
	p->files_done++;
	pthread_mutex_unlock(&p->lock);
}

static void render_progress(struct progress *p, bool final)
{
	pthread_mutex_lock(&p->lock);
	double secs = (double)(plat_clock_ms() - p->start_ms) / 1000.0;
	double rate = secs > 0 ? (double)p->done_bytes / secs : 0;
	char done[32], total[32], speed[32], eta[32] = "-";
	human_bytes(done, sizeof(done), (double)p->done_bytes);
	human_bytes(total, sizeof(total), (double)p->total_bytes);
	human_bytes(speed, sizeof(speed), rate);
	if (rate > 0 && p->total_bytes > p->done_bytes)
		snprintf(eta, sizeof(eta), "%.0fs", (double)(p->total_bytes - p->done_bytes) / rate);
	struct plat_buf cur = PLAT_BUF_INIT;
	if (p->current[0] && !final) {
		plat_str_escape_terminal(&cur, p->current, strlen(p->current));
		plat_buf_printf(&cur, " %lld%%", p->cur_size ? p->cur_sent * 100 / p->cur_size : 100);
	}
	fprintf(stderr, "\r\033[K%zu/%zu files  %s / %s  %s/s  ETA %s%s%s%s", p->files_done, p->files_total, done,
		total, speed, eta, cur.len ? "  | " : "", cur.len ? cur.data : "", final ? "\n" : "");
	fflush(stderr);
	plat_buf_free(&cur);
	pthread_mutex_unlock(&p->lock);
}

static void *progress_thread(void *arg)
{
	struct progress *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->wake, &p->lock, &until);
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->lock);
		render_progress(p, false);
		pthread_mutex_lock(&p->lock);
	}
	bool erase = p->erase;
	pthread_mutex_unlock(&p->lock);
	if (erase) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	} else {
		render_progress(p, true);
	}
	return NULL;
}

static void add_item(struct batch *b, const char *path, bool walked)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->items = plat_xrealloc(b->items, b->cap * sizeof(*b->items));
	}
	b->items[b->n++] = (struct item){plat_xstrdup(path), NULL, PLAT_OK, walked, false};
}

static int cmp_items(const void *a, const void *c)
{
	return strcmp(((const struct item *)a)->path, ((const struct item *)c)->path);
}

/* As aws s3 cp has it: every file starts included and the last rule matching it decides.
 * A rule matches the path below the walked directory or the base name, so "*.css" needs
 * no directory part, and fnmatch without FNM_PATHNAME lets a star cross '/', so a
 * directory's name, a slash and a star cover its whole subtree. */
static bool chosen(const struct plat_rulelist *rules, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	bool in = true;
	for (size_t i = 0; i < rules->n; i++) {
		const char *glob = rules->items[i].value;
		if (fnmatch(glob, rel, 0) == 0 || fnmatch(glob, base, 0) == 0)
			in = !strcmp(rules->items[i].opt->long_name, "include");
	}
	return in;
}

/* Regular files under dir, depth first; symbolic links are not followed. rel is where
 * paths below the walked directory start (for --include/--exclude). */
static void walk_dir(struct batch *b, const char *dir, size_t rel)
{
	DIR *d = opendir(dir);
	if (!d) {
		add_item(b, dir, false); /* reported when processed */
		return;
	}
	size_t dl = strlen(dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct plat_buf p = PLAT_BUF_INIT;
		plat_buf_printf(&p, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", e->d_name);
		struct stat st;
		if (lstat(p.data, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk_dir(b, p.data, rel);
		} else if (lstat(p.data, &st) == 0 && S_ISREG(st.st_mode)) {
			if (chosen(&b->o->filters, p.data + rel))
				add_item(b, p.data, true);
			else
				b->excluded++;
		}
		plat_buf_free(&p);
	}
	closedir(d);
}

static int fail(struct item *it, enum plat_error_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct item *it, enum plat_error_kind kind, const char *fmt, ...)
{
	struct plat_buf msg = PLAT_BUF_INIT, path = PLAT_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	plat_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	plat_str_escape_terminal(&path, it->path, strlen(it->path));
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "path", path.data);
	cJSON_AddStringToObject(r, "outcome", "failed");
	struct plat_buf full = PLAT_BUF_INIT;
	plat_buf_printf(&full, "'%s': %s", path.data, msg.data);
	cJSON_AddStringToObject(r, "error", full.data);
	cJSON_AddNumberToObject(r, "exit_code", plat_error_exit_code(kind));
	it->result = r;
	it->kind = kind;
	plat_buf_free(&msg);
	plat_buf_free(&path);
	plat_buf_free(&full);
	return -(int)kind;
}

static void add_times(struct batch *b, const struct plat_upload_timings *t)
{
	pthread_mutex_lock(&b->lock);
	b->hash_ms += t->hash_ms;
	b->store_ms += t->store_ms;
	b->db_ms += t->db_ms;
	pthread_mutex_unlock(&b->lock);
}

static void upload_file(struct batch *b, struct plat_svc *svc, struct item *it, struct file_progress *fp)
{
	const struct upload_opts *o = b->o;
	bool is_stdin = !strcmp(it->path, "-");
	if (is_stdin && !o->name) {
		fail(it, PLAT_E_USAGE, "--name is required when reading standard input");
		return;
	}
	int fd = 0;
	if (!is_stdin) {
		fd = open(it->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fail(it, errno == ENOENT ? PLAT_E_NOT_FOUND : errno == EACCES ? PLAT_E_PERMISSION : PLAT_E_FAILURE,
			     "cannot open: %s", strerror(errno));
			return;
		}
		struct stat st;
		if (fstat(fd, &st) < 0) {
			fail(it, PLAT_E_FAILURE, "cannot stat: %s", strerror(errno));
			close(fd);
			return;
		}
		if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
			fail(it, PLAT_E_INVALID, S_ISDIR(st.st_mode) ? "is a directory (use -r to upload its files)"
								 : "is not a regular file");
			close(fd);
			return;
		}
	}
	const char *slash = strrchr(it->path, '/');
	struct plat_upload_timings times = {0};
	struct plat_upload_request req = {
		.src = {.fd = fd},
		.name = o->name ? o->name : slash ? slash + 1 : it->path,
		.title = o->title,
		.class_hint = o->class_hint,
		.tags_json = b->tags_json,
		.new_version = o->new_version,
		.defer_publish = true, /* once for the batch, after every upload */
		.skip_disallowed = it->walked,
		.on_progress = b->progress.enabled ? on_progress : NULL,
		.progress_arg = fp,
		.timings = &times,
	};
	cJSON *doc = NULL;
	struct plat_error err = {0};
	if (plat_documents_upload(svc, &req, &doc, &err) < 0) {
		fail(it, err.kind, "%s", err.message);
	} else {
		const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(doc, "outcome");
		it->skipped = cJSON_IsString(outcome) && !strcmp(outcome->valuestring, "skipped");
		if (it->skipped) {
			struct plat_buf path = PLAT_BUF_INIT;
			plat_str_escape_terminal(&path, it->path, strlen(it->path));
			cJSON_AddStringToObject(doc, "path", path.data);
			plat_buf_free(&path);
		}
		it->result = doc;
	}
	if (!is_stdin)
		close(fd);
	add_times(b, &times);
}

static void upload_one(struct batch *b, struct plat_svc *svc, struct item *it)
{
	struct file_progress fp = {&b->progress, it->path, 0, 0};
	struct stat st;
	if (strcmp(it->path, "-") != 0 && stat(it->path, &st) == 0 && S_ISREG(st.st_mode))
		fp.size = st.st_size;
	upload_file(b, svc, it, &fp);
	progress_file_done(&b->progress, &fp);
}

static void *worker(void *arg)
{
	struct batch *b = arg;
	struct plat_svc svc;
	struct plat_error err = {0};
	int rc = platctl_call(b->ctx, &svc);
	if (rc < 0)
		err = b->ctx->err;
	for (;;) {
		pthread_mutex_lock(&b->lock);
		size_t i = b->next++;
		pthread_mutex_unlock(&b->lock);
		if (i >= b->n)
			break;
		if (rc < 0)
			fail(&b->items[i], err.kind, "%s", err.message);
		else
			upload_one(b, &svc, &b->items[i]);
	}
	if (rc == 0)
		platctl_svc_close(&svc);
	return NULL;
}

/* "skipped 54 files of types not allowed (text/css 20, image/png 18, ...)", the most
 * frequent type first. */
static void log_skipped(const cJSON *results, size_t skipped)
{
	struct count {
		const char *type;
		size_t n;
	} *counts = plat_xcalloc(skipped, sizeof(*counts));
	size_t kinds = 0;
	for (const cJSON *r = results->child; r; r = r->next) {
		const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(r, "outcome");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "content_type");
		if (!cJSON_IsString(outcome) || strcmp(outcome->valuestring, "skipped") != 0 || !cJSON_IsString(t))
			continue;
		size_t k = 0;
		while (k < kinds && strcmp(counts[k].type, t->valuestring) != 0)
			k++;
		if (k == kinds)
			counts[kinds++] = (struct count){t->valuestring, 0};
		counts[k].n++;
	}
	for (size_t i = 1; i < kinds; i++) /* insertion sort: a handful of types */
		for (size_t j = i; j > 0 && counts[j].n > counts[j - 1].n; j--) {
			struct count c = counts[j];
			counts[j] = counts[j - 1];
			counts[j - 1] = c;
		}
	struct plat_buf msg = PLAT_BUF_INIT, types = PLAT_BUF_INIT;
	for (size_t k = 0; k < kinds; k++)
		plat_buf_printf(&types, "%s%s %zu", k ? ", " : "", counts[k].type, counts[k].n);
	plat_buf_printf(&msg, "skipped %zu file%s of types not allowed (%s)", skipped, skipped == 1 ? "" : "s",
			types.data ? types.data : "");
	plat_log(PLAT_LOG_WARN, msg.data, (const char *)NULL);
	plat_buf_free(&msg);
	plat_buf_free(&types);
	free(counts);
}

static void free_items(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->items[i].path);
	free(b->items);
	b->items = NULL;
	b->n = 0;
}

int cmd_upload(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	struct upload_opts *o = opts;
	struct batch b = {.ctx = ctx, .o = o};
	pthread_mutex_init(&b.lock, NULL);
	int rc = plat_tags_json((const char *const *)o->tags.items, o->tags.n, &b.tags_json, &ctx->err);
	free(o->tags.items);
	if (rc < 0) {
		free(o->filters.items);
		plat_error_wrap(&ctx->err, "option '--tag'");
		ctx->err.kind = PLAT_E_USAGE;
		return -PLAT_E_USAGE;
	}
	int stdin_count = 0, dirs = 0;
	for (int i = 0; i < argc; i++) {
		struct stat st;
		stdin_count += !strcmp(argv[i], "-");
		if (o->recursive && strcmp(argv[i], "-") != 0 && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			dirs++;
			size_t len = strlen(argv[i]);
			walk_dir(&b, argv[i], len + (argv[i][len - 1] != '/'));
		} else {
			add_item(&b, argv[i], false);
		}
	}
	if (o->filters.n && !o->recursive)
		rc = plat_error_set(&ctx->err, PLAT_E_USAGE,
				    "--include and --exclude choose files in directories: they need -r");
	else if (stdin_count > 1)
		rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "standard input (-) can be uploaded once per command");
	else if (o->name && b.n > 1)
		rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "--name names one document; %zu were given", b.n);
	else if (b.n == 0 && b.excluded)
		rc = plat_error_set(&ctx->err, PLAT_E_FAILURE,
				    "nothing to upload: --include/--exclude left out all %zu files", b.excluded);
	else if (b.n == 0)
		rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "nothing to upload: %s no files",
				    dirs == 1 ? "the directory has" : "the directories have");
	free(o->filters.items);
	if (rc < 0) {
		free_items(&b);
		free(b.tags_json);
		return rc;
	}
	qsort(b.items, b.n, sizeof(*b.items), cmp_items);

	/* A progress line only for a person watching: both streams on a terminal, not -q. */
	struct progress *p = &b.progress;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->enabled = isatty(1) && isatty(2) && !ctx->g.quiet;
	p->files_total = b.n;
	p->start_ms = plat_clock_ms();
	for (size_t i = 0; i < b.n; i++) {
		struct stat st;
		if (stat(b.items[i].path, &st) == 0 && S_ISREG(st.st_mode))
			p->total_bytes += st.st_size;
	}
	if (p->enabled && pthread_create(&p->thread, NULL, progress_thread, p) != 0)
		p->enabled = false;

	int jobs = o->jobs < (long long)b.n ? (int)o->jobs : (int)b.n;
	pthread_t *th = plat_xcalloc((size_t)jobs, sizeof(*th));
	int started = 0;
	for (int t = 0; t < jobs; t++)
		started += pthread_create(&th[started], NULL, worker, &b) == 0;
	if (started == 0)
		worker(&b); /* no threads to be had: upload on this one */
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	free(th);
	if (p->enabled) {
		bool all_failed = true;
		for (size_t i = 0; i < b.n && all_failed; i++)
			all_failed = b.items[i].kind != PLAT_OK;
		pthread_mutex_lock(&p->lock);
		p->erase = all_failed;
		p->stop = true;
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);

	/* Each failure is reported once: one file's is the command's error; a batch lists
	 * its failures in order, then sums them up. */
	size_t failed = 0, skipped = 0;
	enum plat_error_kind first_kind = PLAT_OK;
	struct plat_error single = {0};
	cJSON *results = cJSON_CreateArray();
	for (size_t i = 0; i < b.n; i++) {
		if (b.items[i].skipped) {
			skipped++;
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(b.items[i].result, "content_type");
			const cJSON *path = cJSON_GetObjectItemCaseSensitive(b.items[i].result, "path");
			plat_log(PLAT_LOG_INFO, "skipped: type not allowed", "path", cJSON_IsString(path) ? path->valuestring : "",
				 "content_type", cJSON_IsString(t) ? t->valuestring : "", (const char *)NULL);
		}
		if (b.items[i].kind != PLAT_OK) {
			failed++;
			const cJSON *e = cJSON_GetObjectItemCaseSensitive(b.items[i].result, "error");
			const char *text = cJSON_IsString(e) ? e->valuestring : "failed";
			if (first_kind == PLAT_OK) {
				first_kind = b.items[i].kind;
				plat_error_set(&single, first_kind, "%s", text);
			}
			if (b.n > 1)
				plat_log(PLAT_LOG_ERROR, text, "kind", plat_error_kind_name(b.items[i].kind), (const char *)NULL);
		}
		cJSON_AddItemToArray(results, b.items[i].result);
	}
	size_t total = b.n;
	free_items(&b);
	free(b.tags_json);
	pthread_mutex_destroy(&b.lock);

	char files[24], hash_ms[24], store_ms[24], db_ms[24], wall_ms[24];
	if (skipped)
		log_skipped(results, skipped);
	snprintf(files, sizeof(files), "%zu", total);
	snprintf(hash_ms, sizeof(hash_ms), "%lld", b.hash_ms);
	snprintf(store_ms, sizeof(store_ms), "%lld", b.store_ms);
	snprintf(db_ms, sizeof(db_ms), "%lld", b.db_ms);
	snprintf(wall_ms, sizeof(wall_ms), "%lld", plat_clock_ms() - p->start_ms);
	char skipped_s[24], excluded_s[24];
	snprintf(skipped_s, sizeof(skipped_s), "%zu", skipped);
	snprintf(excluded_s, sizeof(excluded_s), "%zu", b.excluded);
	plat_log(PLAT_LOG_INFO, "upload finished", "files", files, "failed", failed ? "yes" : "no", "skipped", skipped_s,
		 "excluded", excluded_s, "wall_ms", wall_ms,
		 "hash_ms", hash_ms, "storage_ms", store_ms, "postgres_ms", db_ms, (const char *)NULL);

	/* Events go to Kafka now that their transactions committed; unconfirmed ones are the
	 * sweeper's, so the upload itself stands either way. */
	struct plat_error publish_err = {0};
	int publish_rc = 0, processing_failed = 0, wait_rc = 0;
	struct plat_svc svc;
	if (failed < total && platctl_call(ctx, &svc) == 0) {
		publish_rc = plat_svc_publish_events(&svc, &publish_err);
		if (o->wait)
			wait_rc = plat_documents_wait(&svc, results, o->timeout * 1000, &processing_failed, &ctx->err);
		platctl_svc_close(&svc);
	}

	static const struct plat_output_column cols[] = {{"outcome", NULL}, {"name", NULL}, {"id", NULL},
							 {"size", NULL}, {"content_type", "type"}, {"status", NULL},
							 {"error", NULL}, {NULL, NULL}};
	/* A table of nothing but failures says again what stderr said; skipped files are a
	 * count there (the log line), and one element each in the structured formats. */
	if (ctx->out.format == PLAT_OUT_TABLE) {
		cJSON *rows = cJSON_CreateArray();
		for (cJSON *r = results->child; r; r = r->next) {
			const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(r, "outcome");
			if (!cJSON_IsString(outcome) || strcmp(outcome->valuestring, "skipped") != 0)
				cJSON_AddItemReferenceToArray(rows, r);
		}
		if (failed + skipped < total)
			rc = platctl_print(ctx, rows, cols);
		cJSON_Delete(rows);
	} else {
		rc = platctl_print(ctx, results, cols);
	}
	cJSON_Delete(results);
	if (rc == 0 && wait_rc < 0)
		return wait_rc;
	if (rc == 0 && failed == 0 && processing_failed > 0)
		return plat_error_set(&ctx->err, PLAT_E_FAILURE, "%d document%s failed processing (see documents show)",
				      processing_failed, processing_failed == 1 ? "" : "s");
	if (rc == 0 && failed == 0 && publish_rc < 0) {
		ctx->err = publish_err;
		return publish_rc;
	}
	if (rc < 0 || failed == 0)
		return rc;
	/* One file: its own exit code. A batch: 1, and which files failed is above. */
	if (total == 1) {
		ctx->err = single;
		return -(int)first_kind;
	}
	return plat_error_set(&ctx->err, PLAT_E_FAILURE, "%zu of %zu files failed", failed, total);
}
