/* Structured logging to stderr.
 *
 * One line per event: JSON ({"time","level","msg","request_id",fields...}) for machines, or
 * text when stderr is a terminal: "platctl: msg" for errors and warnings at the default
 * level, logfmt-like records with -v. Every message and field value passes through
 * the redactor first: registered secret values, passwords inside URLs and conninfo strings,
 * and the values of fields whose names look secret never reach the output.
 *
 * Thread-safe: each line is written with one write(2). */
#ifndef PLAT_LOG_H
#define PLAT_LOG_H

#include <stdbool.h>

#include "mem/mem.h"

enum plat_log_level {
	PLAT_LOG_ERROR,
	PLAT_LOG_WARN,
	PLAT_LOG_INFO,
	PLAT_LOG_DEBUG,
	PLAT_LOG_TRACE,
};

enum plat_log_format {
	PLAT_LOG_FORMAT_AUTO, /* text on a terminal, JSON otherwise */
	PLAT_LOG_FORMAT_JSON,
	PLAT_LOG_FORMAT_TEXT,
};

struct plat_log_options {
	enum plat_log_level level;
	enum plat_log_format format;
	bool color;            /* colour levels in text format */
	const char *request_id; /* copied */
	int fd;                /* normally 2; tests point it elsewhere */
};

void plat_log_setup(const struct plat_log_options *opts);
void plat_log_set_level(enum plat_log_level level);
enum plat_log_level plat_log_get_level(void);
bool plat_log_enabled(enum plat_log_level level);
/* Text for a person without -v: errors and warnings print as one "platctl: ..." line. */
bool plat_log_human(void);
/* The request id log lines carry: the calling thread's, when a service call set one,
 * otherwise the process's (plat_log_setup). */
const char *plat_log_request_id(void);
/* Log this thread's lines under id (a service call's); NULL or "" goes back to the
 * process's. */
void plat_log_set_thread_request_id(const char *id);

/* Parse "error|warn|info|debug|trace"; returns -1 for anything else. */
int plat_log_level_parse(const char *s);
const char *plat_log_level_name(enum plat_log_level level);

/* Emit msg with key/value string pairs, terminated by NULL. Prefer the macros. */
void plat_log(enum plat_log_level level, const char *msg, ...) __attribute__((sentinel));

#define PLAT_LOG_E(...) plat_log(PLAT_LOG_ERROR, __VA_ARGS__, (const char *)0)
#define PLAT_LOG_W(...) plat_log(PLAT_LOG_WARN, __VA_ARGS__, (const char *)0)
#define PLAT_LOG_I(...) plat_log(PLAT_LOG_INFO, __VA_ARGS__, (const char *)0)
#define PLAT_LOG_D(...) plat_log(PLAT_LOG_DEBUG, __VA_ARGS__, (const char *)0)

/* The redaction list: any occurrence of a registered value is replaced by "[REDACTED]".
 * Values shorter than 4 bytes are ignored (they would redact ordinary words). */
void plat_log_add_secret(const char *value);
void plat_log_clear_secrets(void);

/* True for field names that carry secrets: password, secret, token, api_key, ... */
bool plat_log_key_is_secret(const char *key);

/* Append s to out with secrets removed: registered values, the password in
 * scheme://user:password@host URLs, and password=... in libpq conninfo strings. */
void plat_redact(struct plat_buf *out, const char *s);

/* Where a password is, for the redactor and for registering secrets from URLs:
 * in URL user info (auth points just after "://"), or after the keyword "password" at
 * s[pos] ("password=VALUE", quoted or not). Offsets are from auth or s. */
bool plat_secret_span_url(const char *auth, size_t *off, size_t *len);
bool plat_secret_span_keyword(const char *s, size_t pos, size_t *off, size_t *len);

#define PLAT_REDACTED "[REDACTED]"

#endif
