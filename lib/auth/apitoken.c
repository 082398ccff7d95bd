/* API tokens (see apitoken.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth/apitoken.h"
#include "mem/mem.h"

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* CRC-32 (IEEE, zlib's): six lines instead of linking zlib for one checksum. */
static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static void checksum_chars(const char *random_part, char out[PLAT_APITOKEN_CHECKSUM_LEN])
{
	uint32_t v = crc32_ieee((const unsigned char *)random_part, PLAT_APITOKEN_RANDOM_LEN);
	for (int i = PLAT_APITOKEN_CHECKSUM_LEN - 1; i >= 0; i--) {
		out[i] = base62[v % 62];
		v /= 62;
	}
}

int plat_auth_apitoken_generate(char token[PLAT_APITOKEN_LEN + 1], unsigned char sha256[PLAT_APITOKEN_SHA256_LEN],
				struct plat_error *err)
{
	memcpy(token, PLAT_APITOKEN_PREFIX, 5);
	char *r = token + 5;
	size_t have = 0;
	while (have < PLAT_APITOKEN_RANDOM_LEN) {
		unsigned char buf[64];
		if (RAND_bytes(buf, sizeof(buf)) != 1)
			return plat_error_set(err, PLAT_E_INTERNAL, "generating a token: the random source failed");
		/* Rejection sampling: bytes >= 248 would make the first 248 % 62 digits likelier. */
		for (size_t i = 0; i < sizeof(buf) && have < PLAT_APITOKEN_RANDOM_LEN; i++)
			if (buf[i] < 248)
				r[have++] = base62[buf[i] % 62];
		OPENSSL_cleanse(buf, sizeof(buf));
	}
	checksum_chars(r, r + PLAT_APITOKEN_RANDOM_LEN);
	token[PLAT_APITOKEN_LEN] = '\0';
	plat_auth_apitoken_hash(token, sha256);
	return 0;
}

static bool is_base62(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int plat_auth_apitoken_check(const char *token, struct plat_auth_result *res, struct plat_error *err)
{
	if (!token || strnlen(token, PLAT_APITOKEN_LEN + 1) != PLAT_APITOKEN_LEN ||
	    memcmp(token, PLAT_APITOKEN_PREFIX, 5) != 0)
		return plat_auth_refuse(err, res, PLAT_AUTH_R_MALFORMED);
	for (size_t i = 5; i < PLAT_APITOKEN_LEN; i++)
		if (!is_base62(token[i]))
			return plat_auth_refuse(err, res, PLAT_AUTH_R_MALFORMED);
	char want[PLAT_APITOKEN_CHECKSUM_LEN];
	checksum_chars(token + 5, want);
	if (CRYPTO_memcmp(want, token + 5 + PLAT_APITOKEN_RANDOM_LEN, PLAT_APITOKEN_CHECKSUM_LEN) != 0)
		return plat_auth_refuse(err, res, PLAT_AUTH_R_CHECKSUM);
	return 0;
}

void plat_auth_apitoken_hash(const char *token, unsigned char sha256[PLAT_APITOKEN_SHA256_LEN])
{
	unsigned int n = 0;
	EVP_Digest(token, strlen(token), sha256, &n, EVP_sha256(), NULL);
}
