/* JWS compact serialisation and JWT claim checks shared by localjwt.c and oidc.c; not a
 * public header. Parsing is strict (exactly three parts, unpadded canonical base64url,
 * JSON objects) so a token has one encoding and a tampered one cannot re-parse. */
#ifndef PLAT_AUTH_JWS_H
#define PLAT_AUTH_JWS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "auth/auth.h"

/* Unpadded base64url of n bytes into out (at least 4 * n / 3 + 4 bytes), NUL-terminated;
 * returns the length. */
size_t plat_b64url_encode(const unsigned char *in, size_t n, char *out);
/* Decode len characters; out holds at least 3 * len / 4 + 1 bytes. -1 on any character
 * outside the alphabet, padding, an impossible length or non-zero trailing bits. */
long plat_b64url_decode(const char *in, size_t len, unsigned char *out);

struct jws_parts {
	const char *signing_input; /* header.payload, as it appears in the token */
	size_t signing_len;
	cJSON *header;             /* owned */
	cJSON *claims;             /* owned */
	unsigned char *sig;        /* owned */
	size_t sig_len;
	const char *alg, *kid, *typ; /* borrowed from header; kid/typ may be NULL */
};

/* Split, decode and parse a compact JWS of at most max_len bytes. Refuses alg "none", HS*
 * and a crit header (no extension is understood) before any key is looked at. */
int jws_parse(const char *token, size_t max_len, struct jws_parts *p, struct plat_auth_result *res,
	      struct plat_error *err);
void jws_parts_free(struct jws_parts *p);

struct jwt_expect {
	const char *issuer;   /* exact */
	const char *audience; /* exact, or one element of an aud array */
	long long leeway_s;
	long long now;        /* Unix seconds */
};

/* exp (required), nbf, iat, iss, aud and sub (required). Fills subject, token_id and
 * expires_at. */
int jwt_check_claims(const cJSON *claims, const struct jwt_expect *x, struct plat_auth_result *res,
		     struct plat_error *err);

/* Verify an Ed25519 signature over data. 1 good, 0 bad. */
int jws_ed25519_verify(void *evp_pkey, const char *data, size_t len, const unsigned char *sig, size_t sig_len);

#endif
