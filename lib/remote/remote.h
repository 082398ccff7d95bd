/* The client of remote mode: a platctl server's REST API over libcurl, one connection
 * reused for every request of a command. What the server answers comes back as the
 * direct implementation would return it: JSON in the -o json schema, or a plat_error
 * whose kind is the one the server's problem details name (urn:platctl:error:KIND), so
 * exit codes are the same in both modes. */
#ifndef PLAT_REMOTE_H
#define PLAT_REMOTE_H

#include <cjson/cJSON.h>

#include "error/error.h"

struct plat_remote;

/* The form of a server URL that credentials are filed under: without trailing slashes.
 * The caller frees it. */
char *plat_remote_base(const char *url);

/* base_url: http(s)://host[:port][/prefix]; token: the bearer token (NULL: none, for
 * public routes). request_id is sent as X-Request-ID (NULL: none). */
int plat_remote_open(const char *base_url, const char *token, const char *request_id, struct plat_remote **out,
		     struct plat_error *err);
void plat_remote_close(struct plat_remote *r);
const char *plat_remote_url(const struct plat_remote *r);

/* METHOD path (from the base URL, "/v1/me"), with body as JSON when not NULL. 0 and *out
 * the response (NULL for an empty one) for a 2xx. Otherwise the server's problem as the
 * error (its detail the message, its kind the kind; a reply that is not a problem maps
 * by status); a server that cannot be reached is PLAT_E_UNAVAILABLE naming the URL;
 * 401 is PLAT_E_AUTH. *status (may be NULL) gets the HTTP status, 0 when none came. */
int plat_remote_json(struct plat_remote *r, const char *method, const char *path, const cJSON *body, cJSON **out,
		     long *status, struct plat_error *err);

#endif
