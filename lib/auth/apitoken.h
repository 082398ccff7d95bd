/* API tokens for CI and cron: "plat_" + 31 base62 characters of randomness (184 bits) + 6
 * base62 characters of the CRC32 of those 31, the scheme GitHub uses for its tokens: a
 * leaked token is found by grepping for the prefix, and a mistyped one is refused without a
 * database lookup. Only SHA-256 of the token is stored (api_tokens.token_sha256, 32 bytes).
 *
 * The checksum is not a secret and proves nothing about authenticity; it only filters
 * typos and junk before the store is asked. */
#ifndef PLAT_AUTH_APITOKEN_H
#define PLAT_AUTH_APITOKEN_H

#include <stdbool.h>

#include "auth/auth.h"

#define PLAT_APITOKEN_PREFIX "plat_"
#define PLAT_APITOKEN_RANDOM_LEN 31
#define PLAT_APITOKEN_CHECKSUM_LEN 6
#define PLAT_APITOKEN_LEN (5 + PLAT_APITOKEN_RANDOM_LEN + PLAT_APITOKEN_CHECKSUM_LEN) /* 42 */
#define PLAT_APITOKEN_SHA256_LEN 32

/* A new token (NUL-terminated) and its SHA-256. Fails only when the random source does. */
int plat_auth_apitoken_generate(char token[PLAT_APITOKEN_LEN + 1], unsigned char sha256[PLAT_APITOKEN_SHA256_LEN],
				struct plat_error *err);

/* Format and checksum. Refusals: PLAT_AUTH_R_MALFORMED (not a platctl token: prefix,
 * length, characters), PLAT_AUTH_R_CHECKSUM (a platctl token with a typo), both with the
 * generic message. res may be NULL. */
int plat_auth_apitoken_check(const char *token, struct plat_auth_result *res, struct plat_error *err);

/* SHA-256 of the token as stored. */
void plat_auth_apitoken_hash(const char *token, unsigned char sha256[PLAT_APITOKEN_SHA256_LEN]);

#endif
