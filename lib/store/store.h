/* Object storage behind one interface, with two drivers chosen by storage.url:
 *
 *   file:///path          a local directory: atomic writes (temp file, fsync, rename),
 *                         fan-out directories, keys that can never leave the root
 *   s3://bucket[/prefix]  S3 or a compatible service over libcurl, SigV4-signed by
 *                         libcurl; multipart upload above the part size with parts in
 *                         flight in parallel; retries with backoff on 5xx/429/timeouts
 *
 * put streams from a reader and computes size and sha256 on the way; get streams to a
 * writer, optionally a byte range. Keys are checked the same way for both drivers. */
#ifndef PLAT_STORE_H
#define PLAT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error/error.h"

struct plat_store;

struct plat_store_options {
	const char *url; /* storage.url */
	/* S3 only; NULL/0 fall back to the documented defaults and the AWS_* environment. */
	const char *endpoint;
	const char *region;
	bool path_style;
	bool tls_verify;
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;
	long long part_size;
	int parallel;
	int max_retries;
	long long timeout_ms;
	char **environ; /* for AWS_* lookups; NULL: the process environment */
};

int plat_store_open(const struct plat_store_options *o, struct plat_store **out, struct plat_error *err);
void plat_store_close(struct plat_store *s);
/* "file" or "s3" */
const char *plat_store_driver(const struct plat_store *s);

/* Fill buf with up to len bytes; return the count, 0 at the end, or -1 (errno set). */
typedef ssize_t (*plat_store_reader)(void *arg, char *buf, size_t len);
/* Consume len bytes; return 0, or -1 to stop the transfer. */
typedef int (*plat_store_writer)(void *arg, const char *buf, size_t len);

struct plat_store_put_result {
	long long size;
	char sha256[65];
};

int plat_store_put(struct plat_store *s, const char *key, plat_store_reader read, void *arg, const char *content_type,
		   struct plat_store_put_result *res, struct plat_error *err);
/* From a file descriptor. A regular file is read with pread, so S3 parts are streamed
 * from it and retried without holding them in memory. */
int plat_store_put_fd(struct plat_store *s, const char *key, int fd, const char *content_type,
		      struct plat_store_put_result *res, struct plat_error *err);

/* Called with the number of bytes just sent (a retried part counts again; callers clamp). */
typedef void (*plat_store_progress)(void *arg, long long bytes);

int plat_store_put_fd_progress(struct plat_store *s, const char *key, int fd, const char *content_type,
			       plat_store_progress progress, void *progress_arg, struct plat_store_put_result *res,
			       struct plat_error *err);

/* length < 0: to the end. A missing object is PLAT_E_NOT_FOUND. */
int plat_store_get(struct plat_store *s, const char *key, long long offset, long long length, plat_store_writer write,
		   void *arg, struct plat_error *err);

struct plat_store_object {
	char *key;
	long long size;
	char *etag;          /* may be NULL */
	char *last_modified; /* RFC 3339 UTC, may be NULL */
};

int plat_store_head(struct plat_store *s, const char *key, struct plat_store_object *obj, struct plat_error *err);
/* Deleting a missing object succeeds, as in S3. */
int plat_store_delete(struct plat_store *s, const char *key, struct plat_error *err);

struct plat_store_list {
	struct plat_store_object *objects;
	size_t n;
	char *next_cursor; /* NULL on the last page */
};

/* Keys starting with prefix, in key order, at most limit (1..1000), after cursor. */
int plat_store_list(struct plat_store *s, const char *prefix, const char *cursor, int limit, struct plat_store_list *out,
		    struct plat_error *err);
void plat_store_list_free(struct plat_store_list *l);
void plat_store_object_free(struct plat_store_object *o);

/* A URL anyone can GET the object with for expires seconds (S3 only). */
int plat_store_presign(struct plat_store *s, const char *key, int expires, char **url, struct plat_error *err);
/* Whether the driver has presigned URLs. */
bool plat_store_can_presign(const struct plat_store *s);

/* Keys: 1-1024 bytes of valid UTF-8, no control characters, no leading or trailing '/',
 * no empty, "." or ".." segment, and no segment starting with ".~" (reserved by the file
 * driver for fan-out and temporary files). */
int plat_store_key_check(const char *key, struct plat_error *err);

/* ---- for drivers ---- */
struct plat_store_ops {
	const char *name;
	int (*put)(struct plat_store *s, const char *key, plat_store_reader read, void *arg, int fd,
		   const char *content_type, plat_store_progress progress, void *progress_arg,
		   struct plat_store_put_result *res, struct plat_error *err);
	int (*get)(struct plat_store *s, const char *key, long long offset, long long length, plat_store_writer write,
		   void *arg, struct plat_error *err);
	int (*head)(struct plat_store *s, const char *key, struct plat_store_object *obj, struct plat_error *err);
	int (*del)(struct plat_store *s, const char *key, struct plat_error *err);
	int (*list)(struct plat_store *s, const char *prefix, const char *cursor, int limit, struct plat_store_list *out,
		    struct plat_error *err);
	int (*presign)(struct plat_store *s, const char *key, int expires, char **url, struct plat_error *err);
	void (*close)(struct plat_store *s);
};

struct plat_store {
	const struct plat_store_ops *ops;
};

int plat_store_file_open(const char *root, struct plat_store **out, struct plat_error *err);
int plat_store_s3_open(const char *bucket, const char *prefix, const struct plat_store_options *o,
		       struct plat_store **out, struct plat_error *err);

#endif
