/* Storage operations: the configured object store itself, for operators checking
 * storage.url and credentials (platctl storage, like `aws s3`). Each is one call on a
 * service context; results are the -o json schema of `platctl storage`. */
#ifndef PLAT_STORAGE_H
#define PLAT_STORAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "error/error.h"
#include "svc/svc.h"

/* {objects: [{key, size, last_modified, etag}], next_cursor}: keys under prefix in key
 * order, at most limit (1..1000) a page; all follows every page. */
int plat_storage_list(struct plat_svc *svc, const char *prefix, const char *cursor, int limit, bool all,
		      cJSON **page, struct plat_error *err);

/* From a file descriptor (a pipe is streamed); {key, size, sha256}. */
int plat_storage_put(struct plat_svc *svc, const char *key, int fd, const char *content_type, cJSON **result,
		     struct plat_error *err);

/* Bytes [offset, offset + length) (length < 0: to the end) to write. */
typedef int (*plat_storage_sink)(void *arg, const char *buf, size_t len);
int plat_storage_get(struct plat_svc *svc, const char *key, long long offset, long long length,
		     plat_storage_sink write, void *arg, struct plat_error *err);

/* {key, size, last_modified, etag}; a missing object is PLAT_E_NOT_FOUND. */
int plat_storage_stat(struct plat_svc *svc, const char *key, cJSON **object, struct plat_error *err);

/* Deleting a missing object succeeds, as in S3. */
int plat_storage_delete(struct plat_svc *svc, const char *key, struct plat_error *err);

/* {url, expires_in}: a URL that reads key without credentials (S3). */
int plat_storage_presign(struct plat_svc *svc, const char *key, int expires_seconds, cJSON **result,
			 struct plat_error *err);

#endif
