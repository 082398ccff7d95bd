/* The file:// driver: objects in a local directory.
 *
 * Key "a/b/name" lives at ROOT/a/b/.~XY/name, where XY are the first two hex digits of
 * sha256(name): the fan-out keeps any one directory small when a prefix (a tenant) holds
 * millions of objects. Segments starting with ".~" are refused as keys, so fan-out and
 * temporary files can never be mistaken for objects.
 *
 * Every path is resolved with openat(O_NOFOLLOW) one component at a time from the root,
 * so neither a key nor a symlink planted inside the tree reaches outside it. Writes go to
 * a temporary file that is fsynced and renamed into place, then the directory is fsynced:
 * a reader sees the old object or the new one, never a torn one. */
/* sync_file_range(2) is Linux's: it starts writeback while we still hash and write. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "hash/hash.h"

#include "mem/mem.h"
#include "store/store.h"
#include "str/str.h"

#define IO_CHUNK (1024 * 1024)
#define WRITEBACK_WINDOW (8LL * 1024 * 1024)

/* Streaming writes: start writeback of each finished window and wait for the one before
 * it, so dirty pages stay bounded and the final fsync has little left to do (instead of
 * flushing a whole large object at the end while nothing else happens). */
static void writeback(int fd, long long written, long long *flushed)
{
	while (written - *flushed >= WRITEBACK_WINDOW) {
		sync_file_range(fd, *flushed, WRITEBACK_WINDOW, SYNC_FILE_RANGE_WRITE);
		if (*flushed >= WRITEBACK_WINDOW)
			sync_file_range(fd, *flushed - WRITEBACK_WINDOW, WRITEBACK_WINDOW,
					SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
		*flushed += WRITEBACK_WINDOW;
	}
}

struct file_store {
	struct plat_store base;
	char *root;
	int root_fd;
};

static int io_error(struct plat_error *err, const char *what, const char *key)
{
	struct plat_buf k = PLAT_BUF_INIT;
	plat_str_escape_terminal(&k, key, strlen(key));
	int e = errno;
	enum plat_error_kind kind = e == ENOSPC || e == EDQUOT || e == EIO ? PLAT_E_UNAVAILABLE
				    : e == EACCES || e == EPERM         ? PLAT_E_PERMISSION
									: PLAT_E_FAILURE;
	int rc = plat_error_set(err, kind, "%s '%s': %s", what, k.data, strerror(e));
	plat_buf_free(&k);
	return rc;
}

static void fanout_name(const char *base, char out[5])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(base, strlen(base), md, &n, EVP_sha256(), NULL);
	snprintf(out, 5, ".~%02x", md[0]);
}

/* Open (creating with create) the directory that holds key's file; *base points at the
 * key's last segment. Returns a directory fd or -1 with errno set. */
static int open_object_dir(struct file_store *fs, const char *key, bool create, const char **base)
{
	char *copy = plat_xstrdup(key);
	char *last = strrchr(copy, '/');
	*base = key + (last ? (size_t)(last - copy) + 1 : 0);
	char fan[5];
	fanout_name(*base, fan);

	int fd = dup(fs->root_fd);
	char *seg = copy;
	for (;;) {
		const char *name;
		char *slash = strchr(seg, '/');
		if (slash) {
			*slash = '\0';
			name = seg;
		} else {
			name = fan; /* the last directory is the fan-out one */
		}
		int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, name, 0750) < 0 && errno != EEXIST) {
				next = -1;
			} else {
				fsync(fd); /* the new entry must survive a crash */
				next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			}
		}
		int saved = errno;
		close(fd);
		errno = saved;
		fd = next;
		if (fd < 0 || !slash)
			break;
		seg = slash + 1;
	}
	free(copy);
	return fd;
}

static int file_put(struct plat_store *s, const char *key, plat_store_reader read_fn, void *arg, int src_fd,
		    const char *content_type, plat_store_progress progress, void *progress_arg,
		    struct plat_store_put_result *res, struct plat_error *err)
{
	(void)content_type; /* the file driver keeps bytes only; metadata lives in PostgreSQL */
	struct file_store *fs = (struct file_store *)s;
	const char *base;
	int dir = open_object_dir(fs, key, true, &base);
	if (dir < 0)
		return io_error(err, "cannot create the directory for", key);

	unsigned char rnd[8];
	RAND_bytes(rnd, sizeof(rnd));
	char tmp[32];
	snprintf(tmp, sizeof(tmp), ".~tmp.%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
		 rnd[5], rnd[6], rnd[7]);
	int out = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (out < 0) {
		int rc = io_error(err, "cannot create a temporary file for", key);
		close(dir);
		return rc;
	}

	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
	char *buf = plat_xmalloc(IO_CHUNK);
	long long total = 0, flushed = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read_fn ? read_fn(arg, buf, IO_CHUNK) : read(src_fd, buf, IO_CHUNK);
		if (n < 0 && errno == EINTR && !read_fn)
			continue;
		if (n < 0) {
			rc = io_error(err, "cannot read the data for", key);
			break;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(sha, buf, (size_t)n);
		total += n;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = io_error(err, "cannot write", key);
				break;
			}
			off += w;
		}
		if (rc < 0)
			break;
		writeback(out, total, &flushed);
		if (progress)
			progress(progress_arg, n);
	}
	if (rc == 0 && fsync(out) < 0)
		rc = io_error(err, "cannot flush", key);
	if (close(out) < 0 && rc == 0)
		rc = io_error(err, "cannot write", key);
	if (rc == 0 && renameat(dir, tmp, dir, base) < 0)
		rc = io_error(err, "cannot move into place", key);
	if (rc == 0 && fsync(dir) < 0)
		rc = io_error(err, "cannot flush the directory of", key);
	if (rc < 0)
		unlinkat(dir, tmp, 0);
	if (rc == 0) {
		unsigned char md[32];
		unsigned int mdlen = 0;
		EVP_DigestFinal_ex(sha, md, &mdlen);
		res->size = total;
		plat_hex(md, 32, res->sha256);
	}
	EVP_MD_CTX_free(sha);
	free(buf);
	close(dir);
	return rc;
}

static int open_object(struct file_store *fs, const char *key, struct plat_error *err, int *fd_out)
{
	const char *base;
	int dir = open_object_dir(fs, key, false, &base);
	int fd = dir < 0 ? -1 : openat(dir, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int saved = errno;
	if (dir >= 0)
		close(dir);
	errno = saved;
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
			struct plat_buf k = PLAT_BUF_INIT;
			plat_str_escape_terminal(&k, key, strlen(key));
			int rc = plat_error_set(err, PLAT_E_NOT_FOUND, "object '%s' not found", k.data);
			plat_buf_free(&k);
			return rc;
		}
		return io_error(err, "cannot open", key);
	}
	*fd_out = fd;
	return 0;
}

static int file_get(struct plat_store *s, const char *key, long long offset, long long length, plat_store_writer write_fn,
		    void *arg, struct plat_error *err)
{
	int fd;
	int rc = open_object((struct file_store *)s, key, err, &fd);
	if (rc < 0)
		return rc;
	char *buf = plat_xmalloc(IO_CHUNK);
	long long left = length < 0 ? -1 : length;
	while (left != 0) {
		size_t want = left < 0 || left > IO_CHUNK ? IO_CHUNK : (size_t)left;
		ssize_t n = pread(fd, buf, want, offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = io_error(err, "cannot read", key);
			break;
		}
		if (n == 0)
			break;
		if (write_fn(arg, buf, (size_t)n) < 0) {
			rc = plat_error_set(err, PLAT_E_FAILURE, "writing the object's data failed");
			break;
		}
		offset += n;
		if (left > 0)
			left -= n;
	}
	free(buf);
	close(fd);
	return rc;
}

static char *rfc3339(time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	char *s = plat_xmalloc(24);
	strftime(s, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return s;
}

static int file_head(struct plat_store *s, const char *key, struct plat_store_object *obj, struct plat_error *err)
{
	int fd;
	int rc = open_object((struct file_store *)s, key, err, &fd);
	if (rc < 0)
		return rc;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = io_error(err, "cannot stat", key);
	} else {
		obj->key = plat_xstrdup(key);
		obj->size = st.st_size;
		obj->last_modified = rfc3339(st.st_mtime);
	}
	close(fd);
	return rc;
}

static int file_delete(struct plat_store *s, const char *key, struct plat_error *err)
{
	struct file_store *fs = (struct file_store *)s;
	const char *base;
	int dir = open_object_dir(fs, key, false, &base);
	if (dir < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : io_error(err, "cannot open the directory of", key);
	int rc = 0;
	if (unlinkat(dir, base, 0) < 0 && errno != ENOENT)
		rc = io_error(err, "cannot delete", key);
	else
		fsync(dir);
	close(dir);
	return rc;
}

/* ---- listing ---- */

struct collected {
	char **keys;
	size_t n, cap;
};

static void collect(struct collected *c, const char *key)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->keys = plat_xrealloc(c->keys, c->cap * sizeof(*c->keys));
	}
	c->keys[c->n++] = plat_xstrdup(key);
}

/* Walk the directory dir (whose keys start with key_prefix) collecting keys that start
 * with prefix. Symlinks are never followed. */
static void walk(int dir, const char *key_prefix, const char *prefix, struct collected *c)
{
	DIR *d = fdopendir(dir);
	if (!d) {
		close(dir);
		return;
	}
	/* dir may be a dup() of the root fd, which shares its read position: start over. */
	rewinddir(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue; /* only directories live outside fan-out dirs */
		int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		if (name[0] == '.' && name[1] == '~') {
			DIR *fd = fdopendir(sub);
			if (!fd) {
				close(sub);
				continue;
			}
			struct dirent *f;
			while ((f = readdir(fd))) {
				if (f->d_name[0] == '.' && (f->d_name[1] == '~' || f->d_name[1] == '\0' ||
							    (f->d_name[1] == '.' && f->d_name[2] == '\0')))
					continue;
				struct stat fst;
				if (fstatat(dirfd(fd), f->d_name, &fst, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(fst.st_mode))
					continue;
				struct plat_buf k = PLAT_BUF_INIT;
				plat_buf_printf(&k, "%s%s", key_prefix, f->d_name);
				if (plat_str_has_prefix(k.data, prefix))
					collect(c, k.data);
				plat_buf_free(&k);
			}
			closedir(fd);
		} else {
			struct plat_buf kp = PLAT_BUF_INIT;
			plat_buf_printf(&kp, "%s%s/", key_prefix, name);
			/* Descend only where keys can still match the prefix. */
			size_t common = kp.len < strlen(prefix) ? kp.len : strlen(prefix);
			if (strncmp(kp.data, prefix, common) == 0)
				walk(sub, kp.data, prefix, c);
			else
				close(sub);
			plat_buf_free(&kp);
		}
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int file_list(struct plat_store *s, const char *prefix, const char *cursor, int limit, struct plat_store_list *out,
		     struct plat_error *err)
{
	struct file_store *fs = (struct file_store *)s;
	(void)err;
	struct collected c = {0};
	walk(dup(fs->root_fd), "", prefix, &c);
	qsort(c.keys, c.n, sizeof(*c.keys), cmp_str);
	out->objects = plat_xcalloc((size_t)limit, sizeof(*out->objects));
	size_t i = 0;
	if (cursor && *cursor)
		while (i < c.n && strcmp(c.keys[i], cursor) <= 0)
			i++;
	for (; i < c.n && out->n < (size_t)limit; i++) {
		struct plat_store_object o = {0};
		struct plat_error ignore = {0};
		if (file_head(s, c.keys[i], &o, &ignore) == 0)
			out->objects[out->n++] = o;
	}
	if (i < c.n && out->n > 0)
		out->next_cursor = plat_xstrdup(out->objects[out->n - 1].key);
	for (size_t k = 0; k < c.n; k++)
		free(c.keys[k]);
	free(c.keys);
	return 0;
}

static void file_close(struct plat_store *s)
{
	struct file_store *fs = (struct file_store *)s;
	close(fs->root_fd);
	free(fs->root);
	free(fs);
}

static const struct plat_store_ops file_ops = {
	.name = "file",
	.put = file_put,
	.get = file_get,
	.head = file_head,
	.del = file_delete,
	.list = file_list,
	.presign = NULL,
	.close = file_close,
};

int plat_store_file_open(const char *root, struct plat_store **out, struct plat_error *err)
{
	/* The root may not exist yet (a fresh install): create it, private to the owner. */
	if (mkdir(root, 0750) < 0 && errno != EEXIST)
		return plat_error_set(err, PLAT_E_CONFIG, "storage root '%s': cannot create: %s", root, strerror(errno));
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return plat_error_set(err, PLAT_E_CONFIG, "storage root '%s': %s", root, strerror(errno));
	struct file_store *fs = plat_xcalloc(1, sizeof(*fs));
	fs->base.ops = &file_ops;
	fs->root = plat_xstrdup(root);
	fs->root_fd = fd;
	*out = &fs->base;
	return 0;
}
