/* API tokens (see apitoken.h). */
#include <pthread.h>
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

/* ---- cache ---- */

#define WAYS 4 /* slots probed per key; a full set evicts its entry closest to expiry */

struct cache_entry {
	bool used;
	unsigned char sha256[PLAT_APITOKEN_SHA256_LEN];
	long long until; /* Unix seconds */
	struct plat_auth_result res;
};

struct plat_auth_apitoken_cache {
	pthread_mutex_t lock;
	unsigned mask;
	long long ttl_s;
	struct cache_entry *slots;
};

struct plat_auth_apitoken_cache *plat_auth_apitoken_cache_new(unsigned capacity, long long ttl_s)
{
	unsigned n = WAYS;
	while (n < capacity && n < (1u << 24))
		n <<= 1;
	struct plat_auth_apitoken_cache *c = plat_xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->mask = n - 1;
	c->ttl_s = ttl_s > 0 ? ttl_s : 60;
	c->slots = plat_xcalloc(n, sizeof(*c->slots));
	return c;
}

void plat_auth_apitoken_cache_free(struct plat_auth_apitoken_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->slots);
	free(c);
}

/* The hash is uniform already: its first bytes are the slot. */
static unsigned home(const struct plat_auth_apitoken_cache *c, const unsigned char *sha)
{
	uint32_t h;
	memcpy(&h, sha, sizeof(h));
	return h & c->mask & ~(unsigned)(WAYS - 1);
}

void plat_auth_apitoken_cache_put(struct plat_auth_apitoken_cache *c, const unsigned char sha256[PLAT_APITOKEN_SHA256_LEN],
				  const struct plat_auth_result *res)
{
	long long now = (long long)time(NULL);
	long long until = now + c->ttl_s;
	if (res->expires_at > 0 && res->expires_at < until)
		until = res->expires_at;
	if (until <= now)
		return;
	pthread_mutex_lock(&c->lock);
	struct cache_entry *set = c->slots + home(c, sha256), *victim = set;
	for (int i = 0; i < WAYS; i++) {
		if (!set[i].used || !memcmp(set[i].sha256, sha256, PLAT_APITOKEN_SHA256_LEN) || set[i].until <= now) {
			victim = &set[i];
			break;
		}
		if (set[i].until < victim->until)
			victim = &set[i];
	}
	victim->used = true;
	memcpy(victim->sha256, sha256, PLAT_APITOKEN_SHA256_LEN);
	victim->until = until;
	victim->res = *res;
	victim->res.reason = PLAT_AUTH_OK;
	pthread_mutex_unlock(&c->lock);
}

bool plat_auth_apitoken_cache_get(struct plat_auth_apitoken_cache *c, const unsigned char sha256[PLAT_APITOKEN_SHA256_LEN],
				  struct plat_auth_result *res)
{
	long long now = (long long)time(NULL);
	bool hit = false;
	pthread_mutex_lock(&c->lock);
	struct cache_entry *set = c->slots + home(c, sha256);
	for (int i = 0; i < WAYS; i++) {
		if (set[i].used && !CRYPTO_memcmp(set[i].sha256, sha256, PLAT_APITOKEN_SHA256_LEN)) {
			if (set[i].until > now) {
				*res = set[i].res;
				hit = true;
			} else {
				set[i].used = false;
			}
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void plat_auth_apitoken_cache_forget(struct plat_auth_apitoken_cache *c, const unsigned char *sha256)
{
	pthread_mutex_lock(&c->lock);
	if (!sha256) {
		memset(c->slots, 0, ((size_t)c->mask + 1) * sizeof(*c->slots));
	} else {
		struct cache_entry *set = c->slots + home(c, sha256);
		for (int i = 0; i < WAYS; i++)
			if (set[i].used && !memcmp(set[i].sha256, sha256, PLAT_APITOKEN_SHA256_LEN))
				set[i].used = false;
	}
	pthread_mutex_unlock(&c->lock);
}

int plat_auth_apitoken_verify_cached(struct plat_auth_apitoken_cache *c, const char *token,
				     unsigned char sha256[PLAT_APITOKEN_SHA256_LEN], struct plat_auth_result *res,
				     struct plat_error *err)
{
	memset(res, 0, sizeof(*res));
	int rc = plat_auth_apitoken_check(token, res, err);
	if (rc < 0)
		return rc;
	plat_auth_apitoken_hash(token, sha256);
	return c && plat_auth_apitoken_cache_get(c, sha256, res) ? 1 : 0;
}
