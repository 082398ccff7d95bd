/* Passwords of local accounts: argon2id (libargon2), stored as PHC strings
 * ($argon2id$v=19$m=...,t=...,p=...$salt$hash) so the parameters travel with each hash and
 * can be raised in the configuration without invalidating old ones. */
#ifndef PLAT_AUTH_PASSWORD_H
#define PLAT_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "error/error.h"

struct plat_password_params {
	unsigned memory_kib;
	unsigned iterations;
	unsigned parallelism;
};

/* Longest password accepted (argon2 takes more; a bound keeps hashing cost bounded). */
#define PLAT_PASSWORD_MAX 1024
#define PLAT_PASSWORD_MIN 8
/* A buffer that holds the longest password, one byte to detect a longer one, and a NUL. */
#define PLAT_PASSWORD_BUF (PLAT_PASSWORD_MAX + 2)

/* Why a password is not acceptable (length, NUL bytes), or NULL when it is. */
const char *plat_password_weakness(const char *password, size_t len);

/* A malloc'd PHC string. PLAT_E_INVALID for an unacceptable password. */
int plat_password_hash(const struct plat_password_params *p, const char *password, size_t len, char **encoded,
		       struct plat_error *err);

/* Whether password matches the PHC string (constant time in the hash comparison). A
 * malformed encoded string never matches. */
bool plat_password_verify(const char *encoded, const char *password, size_t len);

#endif
