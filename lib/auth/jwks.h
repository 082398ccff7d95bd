/* A JSON Web Key Set: fetched over libcurl and turned into verification keys; used by
 * oidc.c, not a public header. */
#ifndef PLAT_AUTH_JWKS_H
#define PLAT_AUTH_JWKS_H

#include <stddef.h>

#include <cjose/cjose.h>
#include <openssl/evp.h>

#include "error/error.h"
#include "mem/mem.h"

enum jwk_type { JWK_RSA, JWK_EC, JWK_ED25519 };

struct jwk_key {
	char *kid;
	enum jwk_type type;
	const char *alg;  /* "RS256", "ES256", "EdDSA": what a token signed with it must say */
	cjose_jwk_t *cj;  /* RSA, EC */
	EVP_PKEY *ed;     /* Ed25519 */
};

struct jwks {
	int refs; /* guarded by the owner's lock: verifiers hold the set they started with */
	size_t n;
	struct jwk_key *keys;
};

/* GET url into body (at most max_bytes). */
int jwks_fetch(const char *url, long long timeout_ms, size_t max_bytes, struct plat_buf *body, struct plat_error *err);

/* The usable signing keys of a JWKS document; keys of other types, for encryption, with
 * an algorithm platctl does not accept or without a kid are left out. An empty result is
 * an error. */
int jwks_parse(const char *json, size_t len, struct jwks **out, struct plat_error *err);
void jwks_free(struct jwks *s);
const struct jwk_key *jwks_find(const struct jwks *s, const char *kid);

#endif
