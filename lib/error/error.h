/* Error kinds and the one table that maps them to exit codes and HTTP statuses.
 *
 * Functions that can fail return 0 or a negative error kind (-PLAT_E_...) and fill a
 * struct plat_error. Messages are lowercase, say what failed first, quote the object,
 * and never carry secrets. */
#ifndef PLAT_ERROR_H
#define PLAT_ERROR_H

#include <stdarg.h>

enum plat_error_kind {
	PLAT_OK = 0,
	PLAT_E_FAILURE,     /* the operation failed for a reason the caller can act on */
	PLAT_E_USAGE,       /* bad command line */
	PLAT_E_CONFIG,      /* bad or missing configuration */
	PLAT_E_AUTH,        /* not authenticated */
	PLAT_E_PERMISSION,  /* authenticated but not allowed */
	PLAT_E_INVALID,     /* bad input data (a file, a request body) */
	PLAT_E_NOT_FOUND,
	PLAT_E_CONFLICT,
	PLAT_E_UNAVAILABLE, /* a dependency is down or busy: retry later */
	PLAT_E_INTERNAL,    /* a bug: should never happen */
	PLAT_E__COUNT
};

#define PLAT_ERROR_MSG_MAX 512

struct plat_error {
	enum plat_error_kind kind;
	char message[PLAT_ERROR_MSG_MAX];
	/* The request parameter the error is about ("since", "cursor"), named as the command
	 * line names its option and the API its field, so each front end can point at it
	 * ("option '--since': ...") while library messages name no flag. Empty: none. */
	char param[32];
};

struct plat_error_kind_info {
	const char *name;   /* stable, used in JSON error bodies */
	int exit_code;
	int http_status;
};

/* The table row for a kind; unknown kinds map to PLAT_E_INTERNAL. */
const struct plat_error_kind_info *plat_error_kind_info(enum plat_error_kind kind);

int plat_error_exit_code(enum plat_error_kind kind);
int plat_error_http_status(enum plat_error_kind kind);
const char *plat_error_kind_name(enum plat_error_kind kind);

/* Fill err (which may be NULL) and return -kind, so callers can write
 * `return plat_error_set(err, PLAT_E_NOT_FOUND, "document '%s' not found", id);` */
int plat_error_set(struct plat_error *err, enum plat_error_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int plat_error_setv(struct plat_error *err, enum plat_error_kind kind, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Prefix the existing message with context: "loading config: <old message>". */
void plat_error_wrap(struct plat_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void plat_error_clear(struct plat_error *err);

/* Mark the error as being about a request parameter; returns -err->kind. */
int plat_error_param(struct plat_error *err, const char *param);

#endif
