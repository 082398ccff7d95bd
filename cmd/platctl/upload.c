/* platctl upload FILE|DIR|- ...
 *
 * Per file: check the name, size and type (sniffed with libmagic from the content), hash
 * it, skip the upload when the tenant already has the content (outcome "unchanged"),
 * otherwise store the object under tenant/sha256 (hashed again while streaming, and
 * compared), then record the document, its outbox event and an audit row in one
 * transaction. The object is stored before the row exists, so an interrupted upload can
 * leave an unreferenced object (for the orphan check) but never a row without its object.
 * If the transaction fails, an object this upload created is deleted again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <magic.h>
#include <openssl/evp.h>

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
	{0, "new-version", PLAT_OPT_BOOL, NULL, "add a new version even when the content exists", NULL, 0, 0, 0, U(new_version)},
	{'j', "jobs", PLAT_OPT_INT, "N", "upload N files in parallel (default 1)", NULL, 1, 32, 0, U(jobs)},
	{0, "wait", PLAT_OPT_BOOL, NULL, "wait until the documents are processed (or failed)", NULL, 0, 0, 0, U(wait)},
	{0, "timeout", PLAT_OPT_INT, "SECONDS", "give up waiting after SECONDS (default 600), exit 7", NULL, 1, 86400, 0, U(timeout)},
	PLAT_OPT_END,
};

const struct upload_opts upload_defaults = {.jobs = 1, .timeout = 600};


/* --wait: poll the uploaded documents until each is processed or failed. Updates each
 * result's status; returns the number that failed, or -1 on timeout or error. */
static int wait_for_processing(struct plat_cli_ctx *ctx, cJSON *results, long long timeout_s, int *failed)
{
	struct plat_svc svc = {.tenant = plat_config_str(ctx->cfg, PLAT_CFG_TENANT)};
	int rc = platctl_connect(ctx, &svc.db);
	if (rc == 0)
		rc = plat_svc_resolve_tenant(&svc, &ctx->err);
	long long deadline = plat_clock_ms() + timeout_s * 1000;
	*failed = 0;
	while (rc == 0) {
		int pending = 0;
		*failed = 0;
		for (cJSON *r = results->child; r && rc == 0; r = r->next) {
			const cJSON *id = cJSON_GetObjectItem(r, "id");
			if (!cJSON_IsString(id))
				continue;
			cJSON *doc = NULL;
			rc = plat_documents_get(&svc, id->valuestring, false, &doc, &ctx->err);
			if (rc < 0)
				break;
			const char *status = cJSON_GetObjectItem(doc, "status")->valuestring;
			cJSON_ReplaceItemInObject(r, "status", cJSON_CreateString(status));
			pending += strcmp(status, "processed") != 0 && strcmp(status, "failed") != 0;
			*failed += strcmp(status, "failed") == 0;
			cJSON_Delete(doc);
		}
		if (rc < 0 || pending == 0)
			break;
		if (plat_clock_ms() >= deadline) {
			rc = plat_error_set(&ctx->err, PLAT_E_UNAVAILABLE,
					    "%d document%s still not processed after %llds (is a 'platctl consume' worker running?)",
					    pending, pending == 1 ? "" : "s", timeout_s);
			break;
		}
		struct timespec ts = {0, 500 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	plat_db_close(svc.db);
	return rc;
}

struct item {
	char *path;      /* as given, or found under a directory; "-" for stdin */
	cJSON *result;
	enum plat_error_kind kind;
};

/* The progress line on a terminal: files, bytes, rate and ETA for the whole batch, and
 * the file that moved last. Updated from the store's progress callbacks. */
struct progress {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool enabled, stop;
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
	pthread_mutex_t lock;
	char *tags_json;
	const char *allowed;
	long long max_size;
	struct plat_store *store;
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
	pthread_mutex_unlock(&p->lock);
	render_progress(p, true);
	return NULL;
}

static void add_item(struct batch *b, const char *path)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->items = plat_xrealloc(b->items, b->cap * sizeof(*b->items));
	}
	b->items[b->n++] = (struct item){plat_xstrdup(path), NULL, PLAT_OK};
}

static int cmp_items(const void *a, const void *c)
{
	return strcmp(((const struct item *)a)->path, ((const struct item *)c)->path);
}

/* Regular files under dir, depth first; symbolic links are not followed. */
static void walk_dir(struct batch *b, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		add_item(b, dir); /* reported when processed */
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct plat_buf p = PLAT_BUF_INIT;
		plat_buf_printf(&p, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p.data, &st) == 0 && S_ISDIR(st.st_mode))
			walk_dir(b, p.data);
		else if (lstat(p.data, &st) == 0 && S_ISREG(st.st_mode))
			add_item(b, p.data);
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
	plat_log(PLAT_LOG_ERROR, full.data, "kind", plat_error_kind_name(kind), (const char *)NULL);
	plat_buf_free(&msg);
	plat_buf_free(&path);
	plat_buf_free(&full);
	return -(int)kind;
}

/* The document name: valid UTF-8 (invalid bytes become U+FFFD), no '/', not "." or "..". */
static char *document_name(const char *given, const char *path, struct item *it)
{
	const char *raw = given;
	if (!raw) {
		const char *slash = strrchr(path, '/');
		raw = slash ? slash + 1 : path;
	}
	if (!*raw || !strcmp(raw, ".") || !strcmp(raw, "..") || strchr(raw, '/')) {
		struct plat_buf shown = PLAT_BUF_INIT;
		plat_str_escape_terminal(&shown, raw, strlen(raw));
		fail(it, PLAT_E_INVALID, "invalid document name '%s': names cannot be empty, '.', '..' or contain '/'",
		     shown.data ? shown.data : "");
		plat_buf_free(&shown);
		return NULL;
	}
	struct plat_buf name = PLAT_BUF_INIT;
	plat_utf8_sanitize(&name, raw, strlen(raw));
	return plat_buf_detach(&name);
}

/* libmagic reads an HTML page that mentions "(function" past its first few kilobytes as
 * JavaScript (the Python documentation's ctypes page is one). A document that opens with
 * an HTML tag is HTML whatever follows, as the WHATWG sniffing rules have it. */
static bool opens_as_html(const char *head, size_t len)
{
	static const char *const tags[] = {"<!doctype html", "<html", "<head", "<body"};
	size_t i = len >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3) ? 3 : 0;
	while (i < len && head[i] && strchr(" \t\r\n\f", head[i]))
		i++;
	for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
		size_t n = strlen(tags[t]);
		if (len - i > n && !strncasecmp(head + i, tags[t], n) && head[i + n] &&
		    strchr(" \t\r\n\f>", head[i + n]))
			return true;
	}
	return false;
}

/* Map libmagic's MIME type to an upload type name, or NULL. */
static const char *type_of(const char *mime, const char *name)
{
	size_t n = strlen(name);
	bool md_name = (n > 3 && !strcmp(name + n - 3, ".md")) || (n > 9 && !strcmp(name + n - 9, ".markdown"));
	if (!strcmp(mime, "application/pdf"))
		return "pdf";
	if (!strcmp(mime, "text/markdown"))
		return "md";
	/* Markdown is plain text to libmagic; the name only picks the subtype of text. */
	if (!strcmp(mime, "text/plain"))
		return md_name ? "md" : "txt";
	if (!strcmp(mime, "text/html") || !strcmp(mime, "application/xhtml+xml"))
		return "html";
	if (!strcmp(mime, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
		return "docx";
	return NULL;
}

static bool type_allowed(const char *allowed, const char *type)
{
	size_t tl = strlen(type);
	for (const char *p = allowed; *p;) {
		size_t len = strcspn(p, ",");
		if (len == tl && !strncmp(p, type, tl))
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

/* Copy standard input into an unlinked temporary file, at most limit + 1 bytes. */
static int spool_stdin(long long limit, long long *size)
{
	char path[] = "/tmp/platctl-upload-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	char *buf = plat_xmalloc(1 << 20);
	*size = 0;
	for (;;) {
		ssize_t n = read(0, buf, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (write(fd, buf, (size_t)n) != n) {
			close(fd);
			free(buf);
			return -1;
		}
		*size += n;
		if (*size > limit)
			break;
	}
	free(buf);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* First pass: sha256 of everything and the head for libmagic. */
static int scan(int fd, char sha[65], char *head, size_t head_cap, size_t *head_len)
{
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	EVP_DigestInit_ex(h, EVP_sha256(), NULL);
	char *buf = plat_xmalloc(1 << 20);
	*head_len = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, buf, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if (*head_len < head_cap) {
			size_t take = head_cap - *head_len < (size_t)n ? head_cap - *head_len : (size_t)n;
			memcpy(head + *head_len, buf, take);
			*head_len += take;
		}
		EVP_DigestUpdate(h, buf, (size_t)n);
	}
	unsigned char md[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(h, md, &len);
	for (int i = 0; i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(h);
	free(buf);
	return rc;
}

static void add_time(struct batch *b, long long *slot, long long since)
{
	pthread_mutex_lock(&b->lock);
	*slot += plat_clock_ms() - since;
	pthread_mutex_unlock(&b->lock);
}

static void upload_file(struct batch *b, struct plat_svc *svc, magic_t magic, struct item *it, struct file_progress *fp);

static void upload_one(struct batch *b, struct plat_svc *svc, magic_t magic, struct item *it)
{
	struct file_progress fp = {&b->progress, it->path, 0, 0};
	struct stat st;
	if (strcmp(it->path, "-") != 0 && stat(it->path, &st) == 0 && S_ISREG(st.st_mode))
		fp.size = st.st_size;
	upload_file(b, svc, magic, it, &fp);
	progress_file_done(&b->progress, &fp);
}

static void upload_file(struct batch *b, struct plat_svc *svc, magic_t magic, struct item *it, struct file_progress *fp)
{
	const struct upload_opts *o = b->o;
	bool is_stdin = !strcmp(it->path, "-");
	if (is_stdin && !o->name) {
		fail(it, PLAT_E_USAGE, "--name is required when reading standard input");
		return;
	}
	char *name = document_name(o->name, it->path, it);
	if (!name)
		return;
	int fd;
	long long size;
	if (is_stdin) {
		fd = spool_stdin(b->max_size, &size);
		if (fd < 0) {
			fail(it, PLAT_E_FAILURE, "cannot buffer standard input: %s", strerror(errno));
			free(name);
			return;
		}
	} else {
		fd = open(it->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fail(it, errno == ENOENT ? PLAT_E_NOT_FOUND : errno == EACCES ? PLAT_E_PERMISSION : PLAT_E_FAILURE,
			     "cannot open: %s", strerror(errno));
			free(name);
			return;
		}
		struct stat st;
		fstat(fd, &st);
		if (S_ISDIR(st.st_mode)) {
			fail(it, PLAT_E_INVALID, "is a directory (use -r to upload its files)");
			goto out_fd;
		}
		if (!S_ISREG(st.st_mode)) {
			fail(it, PLAT_E_INVALID, "is not a regular file");
			goto out_fd;
		}
		size = st.st_size;
	}
	if (size == 0) {
		fail(it, PLAT_E_INVALID, "is empty");
		goto out_fd;
	}
	if (size > b->max_size) {
		fail(it, PLAT_E_INVALID, "is larger than upload.max_size (%lld bytes)", b->max_size);
		goto out_fd;
	}

	char sha[65], head[65536];
	size_t head_len;
	long long t0 = plat_clock_ms();
	int scanned = scan(fd, sha, head, sizeof(head), &head_len);
	add_time(b, &b->hash_ms, t0);
	if (scanned < 0) {
		fail(it, PLAT_E_FAILURE, "cannot read: %s", strerror(errno));
		goto out_fd;
	}
	const char *mime = opens_as_html(head, head_len) ? "text/html" : magic_buffer(magic, head, head_len);
	const char *type = type_of(mime ? mime : "application/octet-stream", name);
	if (!type || !type_allowed(b->allowed, type)) {
		fail(it, PLAT_E_INVALID, "type %s (%s) is not allowed (upload.allowed_types: %s)", type ? type : "unknown",
		     mime ? mime : "?", b->allowed);
		goto out_fd;
	}
	const char *content_type = !strcmp(type, "md") ? "text/markdown" : mime;

	struct plat_error err = {0};
	cJSON *doc = NULL;
	const char *outcome = NULL;
	t0 = plat_clock_ms();
	bool known = !o->new_version && plat_documents_find_content(svc, sha, &doc, &err) == 0 && doc;
	add_time(b, &b->db_ms, t0);
	if (known) {
		cJSON_AddStringToObject(doc, "outcome", "unchanged");
		it->result = doc;
		goto out_fd;
	}

	char *key = plat_documents_storage_key(svc, sha);
	t0 = plat_clock_ms();
	struct plat_store_object obj;
	bool existed = plat_store_head(b->store, key, &obj, &err) == 0;
	if (existed)
		plat_store_object_free(&obj);
	int rc = 0;
	if (!existed) {
		struct plat_store_put_result res;
		lseek(fd, 0, SEEK_SET);
		rc = plat_store_put_fd_progress(b->store, key, fd, content_type, b->progress.enabled ? on_progress : NULL,
						fp, &res, &err);
		if (rc == 0 && strcmp(res.sha256, sha) != 0) {
			plat_store_delete(b->store, key, NULL);
			rc = plat_error_set(&err, PLAT_E_CONFLICT, "the file changed while it was being uploaded");
		}
	}
	add_time(b, &b->store_ms, t0);
	if (rc == 0) {
		t0 = plat_clock_ms();
		struct plat_new_document nd = {name, o->title, o->class_hint, content_type, size, sha, key, b->tags_json};
		rc = plat_documents_create(svc, &nd, o->new_version, &doc, &outcome, &err);
		if (rc < 0 && !existed) {
			bool in_use = true;
			if (plat_documents_key_in_use(svc, key, &in_use, NULL) == 0 && !in_use)
				plat_store_delete(b->store, key, NULL);
		}
		add_time(b, &b->db_ms, t0);
	}
	free(key);
	if (rc < 0) {
		fail(it, err.kind, "%s", err.message);
	} else {
		cJSON_AddStringToObject(doc, "outcome", outcome);
		it->result = doc;
	}
out_fd:
	close(fd);
	free(name);
}

static void *worker(void *arg)
{
	struct batch *b = arg;
	struct plat_cli_ctx *ctx = b->ctx;
	struct plat_svc svc = {.store = b->store, .tenant = plat_config_str(ctx->cfg, PLAT_CFG_TENANT),
			       .principal = plat_config_str(ctx->cfg, PLAT_CFG_PRINCIPAL),
			       .request_id = plat_log_request_id()};
	struct plat_error err = {0};
	struct plat_db_options dbo = {.url = plat_config_str(ctx->cfg, PLAT_CFG_DATABASE_URL),
				      .connect_timeout_ms = plat_config_int(ctx->cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT)};
	int rc = plat_db_connect(&dbo, &svc.db, &err);
	if (rc == 0)
		rc = plat_svc_resolve_tenant(&svc, &err);
	magic_t magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	if (!magic || magic_load(magic, NULL) != 0) {
		rc = plat_error_set(&err, PLAT_E_INTERNAL, "cannot load libmagic's database");
	}
	for (;;) {
		pthread_mutex_lock(&b->lock);
		size_t i = b->next++;
		pthread_mutex_unlock(&b->lock);
		if (i >= b->n)
			break;
		if (rc < 0)
			fail(&b->items[i], err.kind, "%s", err.message);
		else
			upload_one(b, &svc, magic, &b->items[i]);
	}
	if (magic)
		magic_close(magic);
	plat_db_close(svc.db);
	return NULL;
}

static char *tags_json(struct plat_cli_ctx *ctx, const struct plat_strlist *tags)
{
	cJSON *t = cJSON_CreateObject();
	for (size_t i = 0; i < tags->n; i++) {
		const char *eq = strchr(tags->items[i], '=');
		if (!eq || eq == tags->items[i] || !plat_utf8_valid(tags->items[i], strlen(tags->items[i]))) {
			plat_error_set(&ctx->err, PLAT_E_USAGE, "option '--tag': '%s' is not KEY=VALUE", tags->items[i]);
			cJSON_Delete(t);
			return NULL;
		}
		char *k = strndup(tags->items[i], (size_t)(eq - tags->items[i]));
		cJSON_DeleteItemFromObjectCaseSensitive(t, k);
		cJSON_AddStringToObject(t, k, eq + 1);
		free(k);
	}
	char *s = cJSON_PrintUnformatted(t);
	cJSON_Delete(t);
	return s;
}

int cmd_upload(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	struct upload_opts *o = opts;
	struct batch b = {.ctx = ctx, .o = o, .allowed = plat_config_str(ctx->cfg, PLAT_CFG_UPLOAD_ALLOWED_TYPES),
			  .max_size = plat_config_int(ctx->cfg, PLAT_CFG_UPLOAD_MAX_SIZE)};
	pthread_mutex_init(&b.lock, NULL);
	b.tags_json = tags_json(ctx, &o->tags);
	free(o->tags.items);
	if (!b.tags_json)
		return -PLAT_E_USAGE;
	int stdin_count = 0;
	for (int i = 0; i < argc; i++) {
		struct stat st;
		stdin_count += !strcmp(argv[i], "-");
		if (o->recursive && strcmp(argv[i], "-") != 0 && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			walk_dir(&b, argv[i]);
		else
			add_item(&b, argv[i]);
	}
	int rc = 0;
	if (stdin_count > 1)
		rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "standard input (-) can be uploaded once per command");
	else if (o->name && b.n > 1)
		rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "--name names one document; %zu were given", b.n);
	if (rc == 0)
		rc = platctl_open_store(ctx, &b.store);
	if (rc < 0) {
		for (size_t i = 0; i < b.n; i++)
			free(b.items[i].path);
		free(b.items);
		cJSON_free(b.tags_json);
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
	if (p->enabled)
		pthread_create(&p->thread, NULL, progress_thread, p);

	int jobs = o->jobs < (long long)b.n ? (int)o->jobs : (int)b.n;
	pthread_t *th = plat_xcalloc((size_t)(jobs > 0 ? jobs : 1), sizeof(*th));
	for (int t = 0; t < jobs; t++)
		pthread_create(&th[t], NULL, worker, &b);
	for (int t = 0; t < jobs; t++)
		pthread_join(th[t], NULL);
	free(th);
	plat_store_close(b.store);
	if (p->enabled) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);

	size_t failed = 0;
	enum plat_error_kind first_kind = PLAT_OK;
	cJSON *results = cJSON_CreateArray();
	for (size_t i = 0; i < b.n; i++) {
		if (b.items[i].kind != PLAT_OK) {
			failed++;
			if (first_kind == PLAT_OK)
				first_kind = b.items[i].kind;
		}
		cJSON_AddItemToArray(results, b.items[i].result);
		free(b.items[i].path);
	}
	free(b.items);
	cJSON_free(b.tags_json);
	pthread_mutex_destroy(&b.lock);

	char files[24], hash_ms[24], store_ms[24], db_ms[24], wall_ms[24];
	snprintf(files, sizeof(files), "%zu", b.n);
	snprintf(hash_ms, sizeof(hash_ms), "%lld", b.hash_ms);
	snprintf(store_ms, sizeof(store_ms), "%lld", b.store_ms);
	snprintf(db_ms, sizeof(db_ms), "%lld", b.db_ms);
	snprintf(wall_ms, sizeof(wall_ms), "%lld", plat_clock_ms() - p->start_ms);
	plat_log(PLAT_LOG_INFO, "upload finished", "files", files, "failed", failed ? "yes" : "no", "wall_ms", wall_ms,
		 "hash_ms", hash_ms, "storage_ms", store_ms, "postgres_ms", db_ms, (const char *)NULL);

	/* Events go to Kafka now that their transactions committed; unconfirmed ones are the
	 * sweeper's, so the upload itself stands either way. */
	struct plat_error publish_err = {0};
	int publish_rc = 0;
	if (failed < b.n) {
		struct plat_error keep = ctx->err;
		publish_rc = platctl_publish_events(ctx, NULL);
		publish_err = ctx->err;
		ctx->err = keep;
	}

	int processing_failed = 0;
	int wait_rc = 0;
	if (o->wait && failed < b.n)
		wait_rc = wait_for_processing(ctx, results, o->timeout, &processing_failed);

	static const struct plat_output_column cols[] = {{"outcome", NULL}, {"name", NULL}, {"id", NULL},
							 {"size", NULL}, {"content_type", "type"}, {"status", NULL},
							 {"error", NULL}, {NULL, NULL}};
	rc = platctl_print(ctx, results, cols);
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
	if (b.n == 1)
		return plat_error_set(&ctx->err, first_kind, "upload failed");
	return plat_error_set(&ctx->err, PLAT_E_FAILURE, "%zu of %zu files failed", failed, b.n);
}
