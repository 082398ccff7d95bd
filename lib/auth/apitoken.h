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

/* A thread-safe in-memory cache of verified tokens, keyed by their hash, so the server
 * does not ask the database on every request. An entry lives at most ttl_s seconds (a
 * revocation takes effect within that), and never past the token's own expiry. */
struct plat_auth_apitoken_cache;

struct plat_auth_apitoken_cache *plat_auth_apitoken_cache_new(unsigned capacity, long long ttl_s);
void plat_auth_apitoken_cache_free(struct plat_auth_apitoken_cache *c);
/* Remember a verified token's result (kind, subject, tenant, role, token_id, expires_at). */
void plat_auth_apitoken_cache_put(struct plat_auth_apitoken_cache *c, const unsigned char sha256[PLAT_APITOKEN_SHA256_LEN],
				  const struct plat_auth_result *res);
/* true and *res filled when a live entry exists. */
bool plat_auth_apitoken_cache_get(struct plat_auth_apitoken_cache *c, const unsigned char sha256[PLAT_APITOKEN_SHA256_LEN],
				  struct plat_auth_result *res);
/* Drop one token (token revoke in the same process) or, with sha256 NULL, every entry. */
void plat_auth_apitoken_cache_forget(struct plat_auth_apitoken_cache *c, const unsigned char *sha256);

/* check + hash + cache lookup: 1 hit (res filled), 0 miss (sha256 filled: ask the store,
 * then _cache_put), or a negative error (refused, res->reason set). */
int plat_auth_apitoken_verify_cached(struct plat_auth_apitoken_cache *c, const char *token,
				     unsigned char sha256[PLAT_APITOKEN_SHA256_LEN], struct plat_auth_result *res,
				     struct plat_error *err);

#endif
