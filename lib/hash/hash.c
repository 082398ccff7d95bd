#include "hash/hash.h"

#include <stdlib.h>

#include <openssl/evp.h>

#include "mem/mem.h"

struct plat_sha256 {
	EVP_MD_CTX *md;
};

void plat_hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

struct plat_sha256 *plat_sha256_new(void)
{
	struct plat_sha256 *h = plat_xcalloc(1, sizeof(*h));
	h->md = EVP_MD_CTX_new();
	if (!h->md || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
		abort(); /* only out of memory: OpenSSL always has SHA-256 */
	return h;
}

void plat_sha256_update(struct plat_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->md, data, len);
}

void plat_sha256_final(struct plat_sha256 *h, char out[PLAT_SHA256_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(h->md, md, &len);
	plat_hex(md, 32, out);
	EVP_DigestInit_ex(h->md, EVP_sha256(), NULL);
}

void plat_sha256_free(struct plat_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

void plat_sha256_hex(const void *data, size_t len, char out[PLAT_SHA256_HEX_LEN + 1])
{
	struct plat_sha256 *h = plat_sha256_new();
	plat_sha256_update(h, data, len);
	plat_sha256_final(h, out);
	plat_sha256_free(h);
}
