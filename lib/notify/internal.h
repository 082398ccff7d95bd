/* Shared by the files of lib/notify: the delivery log, retry timing, safe URLs. Private. */
#ifndef PLAT_NOTIFY_INTERNAL_H
#define PLAT_NOTIFY_INTERNAL_H

#include <stdbool.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "notify/notify.h"

/* curl_global_init once per process. */
void notify_curl_init(void);

int notify_attempts(const struct plat_notify_config *c);
long long notify_timeout_ms(const struct plat_notify_config *c);
/* How long to wait before retry number `retry` (1: the first): exponential with jitter,
 * or the server's Retry-After when that is longer, up to the cap. */
long long notify_backoff_ms(const struct plat_notify_config *c, int retry, long long retry_after_ms);

/* A random (version 4) uuid. */
void notify_uuid(char out[37]);

/* url without its password, query string and fragment, for logs, messages and the
 * delivery log; malloc'd. Something that does not parse as a URL becomes "(invalid URL)". */
char *notify_safe_url(const char *url);

/* Copy a curl or server message into r->error with secrets removed. */
void notify_set_error(struct plat_notify_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The delivery log (the notifications table). Best effort: a row that cannot be written
 * is logged as a warning and the delivery goes on (id is then ""). body is borrowed. */
void notify_log_start(struct plat_db *db, const char *tenant_id, const char *channel, const char *target,
		      const char *subject, const char *event, const char *delivery_id, const cJSON *body,
		      char id[37]);
void notify_log_finish(struct plat_db *db, const char *id, const struct plat_notify_result *r);

/* Built-in templates (etc/platctl/notify, embedded by the build): NULL for an unknown name. */
const char *notify_builtin_template(const char *name);

#endif
