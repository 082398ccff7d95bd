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

#endif
