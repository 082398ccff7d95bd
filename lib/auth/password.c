#include "auth/password.h"

#include <argon2.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#define SALT_LEN 16
#define HASH_LEN 32

const char *plat_password_weakness(const char *password, size_t len)
{
	if (len < PLAT_PASSWORD_MIN)
		return "is shorter than 8 characters";
	if (len > PLAT_PASSWORD_MAX)
		return "is longer than 1024 bytes";
	if (memchr(password, '\0', len))
		return "contains a NUL byte";
	return NULL;
}

int plat_password_hash(const struct plat_password_params *p, const char *password, size_t len, char **encoded,
		       struct plat_error *err)
{
	*encoded = NULL;
	const char *weak = plat_password_weakness(password, len);
	if (weak)
		return plat_error_set(err, PLAT_E_INVALID, "the password %s", weak);
	unsigned char salt[SALT_LEN];
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return plat_error_set(err, PLAT_E_INTERNAL, "no random bytes for a password salt");
	size_t n = argon2_encodedlen(p->iterations, p->memory_kib, p->parallelism, SALT_LEN, HASH_LEN, Argon2_id);
	char *out = malloc(n);
	if (!out)
		return plat_error_set(err, PLAT_E_INTERNAL, "out of memory");
	int rc = argon2id_hash_encoded(p->iterations, p->memory_kib, p->parallelism, password, len, salt, SALT_LEN,
				       HASH_LEN, out, n);
	if (rc != ARGON2_OK) {
		free(out);
		return plat_error_set(err, PLAT_E_INTERNAL, "hashing a password: %s", argon2_error_message(rc));
	}
	*encoded = out;
	return 0;
}

bool plat_password_verify(const char *encoded, const char *password, size_t len)
{
	if (!encoded || strncmp(encoded, "$argon2id$", 10) != 0 || len > PLAT_PASSWORD_MAX)
		return false;
	return argon2id_verify(encoded, password, len) == ARGON2_OK;
}
