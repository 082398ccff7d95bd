/* Identifiers: request ids for log correlation (and, later, document ids). */
#ifndef PLAT_IDS_H
#define PLAT_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define PLAT_REQUEST_ID_LEN 32

/* 128 random bits as 32 lowercase hex characters plus NUL. Returns 0, or -1 when the
 * system's random source failed. */
int plat_id_request(char out[PLAT_REQUEST_ID_LEN + 1]);

/* Whether an externally supplied request id (PLATCTL_REQUEST_ID, X-Request-Id) is safe to
 * log and echo: 1-64 characters of [A-Za-z0-9._:-]. */
bool plat_id_request_valid(const char *s);

/* Whether s has the shape of a uuid (8-4-4-4-12 hex digits, either case), so that a bad id
 * is "not found" before it reaches a ::uuid cast. NULL: false. */
bool plat_id_uuid_shaped(const char *s);

#endif
