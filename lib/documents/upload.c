/* plat_documents_upload: one document in, from a file descriptor or a read callback.
 *
 * Check the name, size and type (sniffed with libmagic from the content), hash it, skip
 * the upload when the tenant already has the content (outcome "unchanged"), otherwise
 * store the object under tenant/sha256 (hashed again while streaming, and compared), then
 * record the document, its outbox event and an audit row in one transaction. The object is
 * stored before the row exists, so an interrupted upload can leave an unreferenced object
 * (for the orphan check) but never a row without its object.
 *
 * Whether an object may be stored, reused or deleted is decided under one lock per
 * (tenant, sha256) — the same lock purge takes — so a purge racing an upload of the same
 * content can never delete an object a committed document is about to use. */
#include "documents/documents.h"
#include "documents/remote.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <magic.h>

#include "db/db.h"
#include "store/store.h"
#include "clock/clock.h"
#include "hash/hash.h"
#include "io/io.h"
#include "log/log.h"
#include "str/str.h"

#define IO_BUFFER (1 << 20)

/* libmagic's database takes milliseconds to load: one handle per thread, kept for the
 * thread's life (a server worker or an upload job serves many uploads). */
static pthread_key_t magic_key;
static pthread_once_t magic_once = PTHREAD_ONCE_INIT;

static void magic_release(void *m)
{
	magic_close((magic_t)m);
}

static void magic_key_make(void)
{
	pthread_key_create(&magic_key, magic_release);
}

static magic_t thread_magic(struct plat_error *err)
{
	pthread_once(&magic_once, magic_key_make);
	magic_t m = pthread_getspecific(magic_key);
	if (m)
		return m;
	m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	if (!m || magic_load(m, NULL) != 0) {
		if (m)
			magic_close(m);
		plat_error_set(err, PLAT_E_INTERNAL, "cannot load libmagic's database");
		return NULL;
	}
	pthread_setspecific(magic_key, m);
	return m;
}

/* Markup is judged by how it opens, before libmagic sees it, for two reasons: libmagic reads
 * an HTML page that mentions "(function" past its first few kilobytes as JavaScript (the
 * Python documentation's ctypes page is one), and it calls every page that opens with an
 * XML declaration text/xml, though DocBook/XSL, gtk-doc and other generators write XHTML
 * that way. A document that opens with an HTML tag is HTML whatever follows, as the WHATWG
 * sniffing rules have it; one that opens with an XML declaration is XHTML when its first
 * markup after that (comments and processing instructions aside) is an HTML doctype or an
 * html root element, and stays XML otherwise (a feed, a DocBook source, an SVG). */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

/* head[i..] starts with word, ignoring case, and has a byte after it. */
static bool at(const char *head, size_t i, size_t len, const char *word)
{
	size_t n = strlen(word);
	return len - i > n && !strncasecmp(head + i, word, n);
}

/* head[i..] opens the tag (or doctype) word: word then white space, '>' or, for an empty
 * element, '/'. */
static bool at_tag(const char *head, size_t i, size_t len, const char *word)
{
	size_t n = strlen(word);
	return at(head, i, len, word) && (is_space(head[i + n]) || head[i + n] == '>' || head[i + n] == '/');
}

/* Just past the first end after i, or len when the head ends first. */
static size_t past(const char *head, size_t i, size_t len, const char *end)
{
	size_t n = strlen(end);
	for (; i + n <= len; i++)
		if (!memcmp(head + i, end, n))
			return i + n;
	return len;
}

/* "text/html", "application/xhtml+xml", or NULL when the head does not open as either. */
static const char *sniff_markup(const char *head, size_t len)
{
	static const char *const html_tags[] = {"<!doctype html", "<html", "<head", "<body"};
	size_t i = len >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3) ? 3 : 0;
	while (i < len && is_space(head[i]))
		i++;
	bool xml = at(head, i, len, "<?xml") && is_space(head[i + 5]);
	if (xml)
		i = past(head, i, len, "?>");
	for (;;) {
		while (i < len && is_space(head[i]))
			i++;
		if (at(head, i, len, "<!--"))
			i = past(head, i + 4, len, "-->");
		else if (xml && at(head, i, len, "<?"))
			i = past(head, i + 2, len, "?>"); /* <?xml-stylesheet ...?> */
		else
			break;
	}
	/* An XML document's root is its first element: head or body cannot open one. */
	size_t tags = xml ? 2 : sizeof(html_tags) / sizeof(html_tags[0]);
	for (size_t t = 0; t < tags; t++)
		if (at_tag(head, i, len, html_tags[t]))
			return xml ? "application/xhtml+xml" : "text/html";
	return NULL;
}

static bool name_ends(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);
	return n > k && !strcasecmp(name + n - k, suffix);
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

int plat_documents_check_name(const char *raw, char **name, struct plat_error *err)
{
	*name = NULL;
	if (!raw || !*raw || !strcmp(raw, ".") || !strcmp(raw, "..") || strchr(raw, '/')) {
		struct plat_buf shown = PLAT_BUF_INIT;
		plat_str_escape_terminal(&shown, raw ? raw : "", raw ? strlen(raw) : 0);
		int rc = plat_error_set(err, PLAT_E_INVALID,
					"invalid document name '%s': names cannot be empty, '.', '..' or contain '/'",
					shown.data ? shown.data : "");
		plat_buf_free(&shown);
		return rc;
	}
	struct plat_buf b = PLAT_BUF_INIT;
	plat_utf8_sanitize(&b, raw, strlen(raw));
	*name = plat_buf_detach(&b);
	return 0;
}

static ssize_t read_source(const struct plat_upload_source *src, char *buf, size_t cap)
{
	if (src->read)
		return src->read(src->read_arg, buf, cap);
	for (;;) {
		ssize_t n = read(src->fd, buf, cap);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

/* A stream (a pipe, a socket, a request body) goes to an unlinked temporary file first:
 * the content is read twice (sniff + hash, then store) and S3 parts are retried from it.
 * The size limit is enforced while reading, so an endless stream costs limit + 1 bytes. */
static int spool(const struct plat_upload_source *src, long long limit, int *out_fd, long long *size,
		 struct plat_error *err)
{
	char path[] = "/tmp/platctl-upload-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return plat_error_set(err, PLAT_E_FAILURE, "cannot create a temporary file to buffer the content: %s",
				      strerror(errno));
	unlink(path);
	char *buf = plat_xmalloc(IO_BUFFER);
	*size = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read_source(src, buf, IO_BUFFER);
		if (n < 0) {
			/* Never end of file: a truncated document must not be stored. */
			rc = plat_error_set(err, PLAT_E_FAILURE, "cannot read the content: %s; nothing was stored",
					    strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (plat_write_all(fd, buf, (size_t)n) < 0) {
			rc = plat_error_set(err, PLAT_E_FAILURE, "cannot buffer the content: %s", strerror(errno));
			break;
		}
		*size += n;
		if (*size > limit) {
			rc = plat_error_set(err, PLAT_E_INVALID, "is larger than upload.max_size (%lld bytes)", limit);
			break;
		}
	}
	free(buf);
	if (rc == 0 && lseek(fd, 0, SEEK_SET) < 0)
		rc = plat_error_set(err, PLAT_E_FAILURE, "cannot rewind the buffered content: %s", strerror(errno));
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*out_fd = fd;
	return 0;
}

/* The head the type is sniffed from, read before anything is hashed: a walk over a
 * documentation tree meets archives and images it skips, and they need not be read whole. */
static int read_head(int fd, char *head, size_t cap, size_t *len, struct plat_error *err)
{
	*len = 0;
	while (*len < cap) {
		ssize_t n = pread(fd, head + *len, cap - *len, (off_t)*len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return plat_error_set(err, PLAT_E_FAILURE, "cannot read: %s", strerror(errno));
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return 0;
}

/* sha256 of everything, from the start. */
static int scan(int fd, char sha[65], long long *bytes, struct plat_error *err)
{
	struct plat_sha256 *h = plat_sha256_new();
	char *buf = plat_xmalloc(IO_BUFFER);
	*bytes = 0;
	int rc = 0;
	if (lseek(fd, 0, SEEK_SET) < 0)
		rc = plat_error_set(err, PLAT_E_FAILURE, "cannot rewind: %s", strerror(errno));
	while (rc == 0) {
		ssize_t n = read(fd, buf, IO_BUFFER);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = plat_error_set(err, PLAT_E_FAILURE, "cannot read: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		plat_sha256_update(h, buf, (size_t)n);
		*bytes += n;
	}
	plat_sha256_final(h, sha);
	plat_sha256_free(h);
	free(buf);
	return rc;
}

/* The lock every path that stores, reuses or deletes a tenant's object takes (a session
 * lock: it must outlast the object transfer, which runs outside any transaction). */
int plat_documents_lock_content(struct plat_svc *svc, const char *sha256, bool lock, struct plat_error *err)
{
	const char *params[] = {svc->tenant_id, sha256};
	return plat_db_exec(svc->db,
			    lock ? "SELECT pg_advisory_lock(hashtextextended($1 || ':' || $2, 0))"
				 : "SELECT pg_advisory_unlock(hashtextextended($1 || ':' || $2, 0))",
			    2, params, NULL, err);
}

static void add_ms(long long *slot, long long since)
{
	if (slot)
		*slot += plat_clock_ms() - since;
}

/* Store the object unless it is there, record the document; under the content lock. */
static int store_and_record(struct plat_svc *svc, const struct plat_upload_request *req, int fd,
			    const struct plat_new_document *nd, cJSON **doc, const char **outcome, struct plat_error *err)
{
	struct plat_upload_timings *t = req->timings;
	long long t0 = plat_clock_ms();
	struct plat_store_object obj;
	struct plat_error herr = {0};
	bool existed = false;
	int rc = plat_store_head(svc->store, nd->storage_key, &obj, &herr);
	if (rc == 0) {
		existed = true;
		plat_store_object_free(&obj);
	} else if (herr.kind != PLAT_E_NOT_FOUND) {
		*err = herr;
		return rc;
	}
	rc = 0;
	if (!existed) {
		struct plat_store_put_result res;
		if (lseek(fd, 0, SEEK_SET) < 0)
			return plat_error_set(err, PLAT_E_FAILURE, "cannot rewind: %s", strerror(errno));
		rc = plat_store_put_fd_progress(svc->store, nd->storage_key, fd, nd->content_type, req->on_progress,
						req->progress_arg, &res, err);
		if (rc == 0 && strcmp(res.sha256, nd->sha256) != 0) {
			plat_store_delete(svc->store, nd->storage_key, NULL);
			rc = plat_error_set(err, PLAT_E_CONFLICT, "the content changed while it was being uploaded");
		}
	}
	add_ms(t ? &t->store_ms : NULL, t0);
	if (rc < 0)
		return rc;
	t0 = plat_clock_ms();
	rc = plat_documents_create(svc, nd, req->new_version, doc, outcome, err);
	if (rc < 0 && !existed) {
		/* Still under the lock: nobody else can have started using the object. */
		bool in_use = true;
		if (plat_documents_key_in_use(svc, nd->storage_key, &in_use, NULL) == 0 && !in_use)
			plat_store_delete(svc->store, nd->storage_key, NULL);
	}
	add_ms(t ? &t->db_ms : NULL, t0);
	return rc;
}

int plat_documents_upload(struct plat_svc *svc, const struct plat_upload_request *req, cJSON **doc,
			  struct plat_error *err)
{
	*doc = NULL;
	struct plat_remote *remote;
	int rc = plat_svc_remote(svc, &remote, err);
	if (rc != 0)
		return rc < 0 ? rc : plat_documents_remote_upload(remote, req, doc, err);
	rc = plat_svc_enter(svc, "documents.upload", PLAT_NEEDS_TENANT | PLAT_NEEDS_STORE, err);
	if (rc < 0)
		return rc;
	const struct plat_config *cfg = svc->cfg;
	long long max_size = cfg ? plat_config_int(cfg, PLAT_CFG_UPLOAD_MAX_SIZE) : 1LL << 30;
	const char *allowed = cfg ? plat_config_str(cfg, PLAT_CFG_UPLOAD_ALLOWED_TYPES) : "pdf,html,txt,md,docx";
	char *name = NULL;
	if ((rc = plat_documents_check_name(req->name, &name, err)) < 0)
		return rc;

	/* A regular file is read in place; anything else is spooled. */
	int fd = -1;
	bool own_fd = false;
	long long size = 0;
	struct stat st;
	if (!req->src.read && req->src.fd >= 0) {
		if (fstat(req->src.fd, &st) < 0) {
			rc = plat_error_set(err, PLAT_E_FAILURE, "cannot stat: %s", strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = plat_error_set(err, PLAT_E_INVALID, "is a directory");
			goto out;
		}
		if (S_ISREG(st.st_mode)) {
			fd = req->src.fd;
			size = st.st_size;
			if (lseek(fd, 0, SEEK_SET) < 0) {
				rc = plat_error_set(err, PLAT_E_FAILURE, "cannot rewind: %s", strerror(errno));
				goto out;
			}
		}
	} else if (!req->src.read) {
		rc = plat_error_set(err, PLAT_E_INTERNAL, "an upload needs a file descriptor or a read function");
		goto out;
	}
	if (fd < 0) {
		if ((rc = spool(&req->src, max_size, &fd, &size, err)) < 0)
			goto out;
		own_fd = true;
	}
	if (size == 0) {
		rc = plat_error_set(err, PLAT_E_INVALID, "is empty");
		goto out;
	}
	if (size > max_size) {
		rc = plat_error_set(err, PLAT_E_INVALID, "is larger than upload.max_size (%lld bytes)", max_size);
		goto out;
	}

	char sha[65], head[65536];
	size_t head_len;
	if ((rc = read_head(fd, head, sizeof(head), &head_len, err)) < 0)
		goto out;
	magic_t magic = thread_magic(err);
	if (!magic) {
		rc = -PLAT_E_INTERNAL;
		goto out;
	}
	const char *mime = sniff_markup(head, head_len);
	if (!mime)
		mime = magic_buffer(magic, head, head_len);
	/* libmagic tells a stylesheet or a short script from prose only sometimes, so a walk over
	 * a documentation tree would index half its assets as text. The name may narrow plain
	 * text to what it is (as it picks Markdown), never widen what is accepted. */
	if (mime && !strcmp(mime, "text/plain")) {
		if (name_ends(name, ".css"))
			mime = "text/css";
		else if (name_ends(name, ".js") || name_ends(name, ".mjs"))
			mime = "text/javascript";
	}
	const char *type = type_of(mime ? mime : "application/octet-stream", name);
	if (!type || !type_allowed(allowed, type)) {
		struct plat_error refused = {0};
		rc = plat_error_set(&refused, PLAT_E_INVALID, "type %s (%s) is not allowed (upload.allowed_types: %s)",
				    type ? type : "unknown", mime ? mime : "?", allowed);
		if (req->skip_disallowed) {
			*doc = cJSON_CreateObject();
			cJSON_AddStringToObject(*doc, "name", name);
			cJSON_AddStringToObject(*doc, "content_type", mime ? mime : "application/octet-stream");
			cJSON_AddStringToObject(*doc, "outcome", "skipped");
			cJSON_AddStringToObject(*doc, "reason", refused.message);
			rc = 0;
		} else if (err) {
			*err = refused;
		}
		goto out;
	}
	/* The name only picks a subtype, as for Markdown: XHTML without an XML declaration
	 * reads as HTML, and a .xhtml name says which it is. */
	const char *content_type = !strcmp(type, "md")				    ? "text/markdown"
				   : !strcmp(type, "html") && (name_ends(name, ".xhtml") || name_ends(name, ".xht"))
					   ? "application/xhtml+xml"
					   : mime;

	long long scanned = 0, t0 = plat_clock_ms();
	rc = scan(fd, sha, &scanned, err);
	add_ms(req->timings ? &req->timings->hash_ms : NULL, t0);
	if (rc < 0)
		goto out;
	if (scanned != size) {
		rc = plat_error_set(err, PLAT_E_CONFLICT, "the content changed while it was being read");
		goto out;
	}

	const char *outcome = NULL;
	t0 = plat_clock_ms();
	if (!req->new_version) {
		rc = plat_documents_find_content(svc, sha, doc, err);
		add_ms(req->timings ? &req->timings->db_ms : NULL, t0);
		if (rc < 0)
			goto out;
		if (*doc) {
			cJSON_AddStringToObject(*doc, "outcome", "unchanged");
			goto out;
		}
	}
	char *key = plat_documents_storage_key(svc, sha);
	struct plat_new_document nd = {name, req->title, req->class_hint, content_type, size, sha, key,
				       req->tags_json ? req->tags_json : "{}"};
	rc = plat_documents_lock_content(svc, sha, true, err);
	if (rc == 0) {
		rc = store_and_record(svc, req, fd, &nd, doc, &outcome, err);
		struct plat_error uerr = {0};
		if (plat_documents_lock_content(svc, sha, false, &uerr) < 0)
			plat_log(PLAT_LOG_WARN, "releasing the content lock failed", "error", uerr.message,
				 (const char *)NULL);
	}
	free(key);
	if (rc == 0) {
		cJSON_AddStringToObject(*doc, "outcome", outcome);
		if (!req->defer_publish) {
			/* The document stands either way: unconfirmed events are the sweeper's. */
			struct plat_error perr = {0};
			if (plat_svc_publish_events(svc, &perr) < 0)
				plat_log(PLAT_LOG_WARN, perr.message, (const char *)NULL);
		}
	}
out:
	if (own_fd)
		close(fd);
	free(name);
	return rc;
}
