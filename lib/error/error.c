#include "error/error.h"

#include <stdio.h>
#include <string.h>

/* The one place exit codes and HTTP statuses are decided. README.md and man/platctl.1.scd
 * document the exit codes; tests/unit/test_error.c checks they agree with this table. */
static const struct plat_error_kind_info kind_table[PLAT_E__COUNT] = {
	[PLAT_OK]            = {"ok",          0,  200},
	[PLAT_E_FAILURE]     = {"failure",     1,  500},
	[PLAT_E_USAGE]       = {"usage",       2,  400},
	[PLAT_E_CONFIG]      = {"config",      3,  500},
	[PLAT_E_AUTH]        = {"auth",        4,  401},
	[PLAT_E_PERMISSION]  = {"permission",  4,  403},
	[PLAT_E_INVALID]     = {"invalid",     1,  422},
	[PLAT_E_NOT_FOUND]   = {"not_found",   5,  404},
	[PLAT_E_CONFLICT]    = {"conflict",    6,  409},
	[PLAT_E_UNAVAILABLE] = {"unavailable", 7,  503},
	[PLAT_E_INTERNAL]    = {"internal",    70, 500},
};

const struct plat_error_kind_info *plat_error_kind_info(enum plat_error_kind kind)
{
	if ((int)kind < 0 || kind >= PLAT_E__COUNT)
		kind = PLAT_E_INTERNAL;
	return &kind_table[kind];
}

int plat_error_exit_code(enum plat_error_kind kind)
{
	return plat_error_kind_info(kind)->exit_code;
}

int plat_error_http_status(enum plat_error_kind kind)
{
	return plat_error_kind_info(kind)->http_status;
}

const char *plat_error_kind_name(enum plat_error_kind kind)
{
	return plat_error_kind_info(kind)->name;
}

int plat_error_setv(struct plat_error *err, enum plat_error_kind kind, const char *fmt, va_list ap)
{
	if (err) {
		err->kind = kind;
		err->param[0] = '\0';
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
	}
	return -(int)kind;
}

int plat_error_set(struct plat_error *err, enum plat_error_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = plat_error_setv(err, kind, fmt, ap);
	va_end(ap);
	return rc;
}

void plat_error_wrap(struct plat_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	char prefix[PLAT_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t plen = strlen(prefix);
	memcpy(prefix + plen, ": ", 3);
	plen += 2;
	/* Shift the old message right, truncating its tail if the result would not fit. */
	size_t old_len = strlen(err->message);
	if (plen + old_len >= sizeof(err->message))
		old_len = sizeof(err->message) - 1 - plen;
	memmove(err->message + plen, err->message, old_len);
	memcpy(err->message, prefix, plen);
	err->message[plen + old_len] = '\0';
}

void plat_error_clear(struct plat_error *err)
{
	if (err) {
		err->kind = PLAT_OK;
		err->message[0] = '\0';
		err->param[0] = '\0';
	}
}

int plat_error_param(struct plat_error *err, const char *param)
{
	if (!err)
		return -PLAT_E_INTERNAL;
	snprintf(err->param, sizeof(err->param), "%s", param ? param : "");
	return -(int)err->kind;
}
