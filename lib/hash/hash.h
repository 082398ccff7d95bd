/* SHA-256 (OpenSSL's EVP) for content addressing, and lowercase hex for digests: the one
 * place platctl turns bytes into a digest string. */
#ifndef PLAT_HASH_H
#define PLAT_HASH_H

#include <stddef.h>

#define PLAT_SHA256_HEX_LEN 64

struct plat_sha256;

struct plat_sha256 *plat_sha256_new(void);
void plat_sha256_update(struct plat_sha256 *h, const void *data, size_t len);
/* The digest as 64 lowercase hex digits and a NUL; the context can be reused after. */
void plat_sha256_final(struct plat_sha256 *h, char out[PLAT_SHA256_HEX_LEN + 1]);
void plat_sha256_free(struct plat_sha256 *h);

/* One buffer at once. */
void plat_sha256_hex(const void *data, size_t len, char out[PLAT_SHA256_HEX_LEN + 1]);

/* n bytes as 2n lowercase hex digits and a NUL. */
void plat_hex(const unsigned char *bytes, size_t n, char *out);

#endif
