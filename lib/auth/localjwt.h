/* Access tokens platctl issues for its local accounts: JWS compact, Ed25519 through
 * OpenSSL, header {"alg":"EdDSA","typ":"at+jwt","kid":...}, claims iss, sub, aud, exp, iat,
 * nbf, jti, tenant, role.
 *
 * Keys live in a keyring loaded from PEM files (PKCS#8 Ed25519 private keys, mode 0600 or
 * stricter): a directory's *.pem files, or a list of files. The key whose file name sorts
 * last signs, so naming files by creation time (ed25519-20261202T0230Z.pem, which
 * plat_auth_localjwt_key_name makes) makes the newest one sign; every key in the ring
 * verifies, so a rotated-out key keeps its tokens valid until they expire, and the
 * operator deletes its file once the access-token lifetime has passed. A key's kid is the
 * base64url of the first 8 bytes of SHA-256 of its raw public key. */
#ifndef PLAT_AUTH_LOCALJWT_H
#define PLAT_AUTH_LOCALJWT_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"

#define PLAT_LOCALJWT_KID_LEN 11
#define PLAT_LOCALJWT_MAX_LEN 8192 /* refused on size before parsing */

struct plat_auth_keyring;

/* What the auth.keys setting names: a directory (its *.pem files) or a comma-separated
 * list of files. */
int plat_auth_keyring_load(const char *spec, struct plat_auth_keyring **out, struct plat_error *err);
/* Every *.pem in dir (at least one). */
int plat_auth_keyring_load_dir(const char *dir, struct plat_auth_keyring **out, struct plat_error *err);
/* The files named, in any order (at least one). */
int plat_auth_keyring_load_files(const char *const *paths, size_t n, struct plat_auth_keyring **out,
				 struct plat_error *err);
void plat_auth_keyring_free(struct plat_auth_keyring *kr);
size_t plat_auth_keyring_count(const struct plat_auth_keyring *kr);
/* kid of the signing key. */
const char *plat_auth_keyring_signing_kid(const struct plat_auth_keyring *kr);

/* Sign data with the ring's signing key: *sig is the base64url of the 64-byte Ed25519
 * signature (malloc'd). For signed documents other than tokens (destruction certificates). */
int plat_auth_keyring_sign(const struct plat_auth_keyring *kr, const void *data, size_t len, char **sig,
			   struct plat_error *err);
/* The signing key's public key as PEM (SubjectPublicKeyInfo), malloc'd; NULL on failure. */
char *plat_auth_keyring_public_pem(const struct plat_auth_keyring *kr);
/* Check a base64url Ed25519 signature over data against a public key in PEM. 0 when it
 * verifies, with kid (may be NULL) the key's id; else PLAT_E_FAILURE saying why (not a
 * PEM Ed25519 public key, a malformed or a wrong signature). Pure: no files, no clock. */
int plat_auth_ed25519_verify_pem(const char *public_pem, const void *data, size_t len, const char *sig,
				 char kid[PLAT_LOCALJWT_KID_LEN + 1], struct plat_error *err);
/* Whether two PEM public keys are the same Ed25519 key (false when either does not parse). */
bool plat_auth_ed25519_same_key(const char *pem_a, const char *pem_b);

/* "ed25519-YYYYMMDDTHHMMSSZ.pem" for now (UTC), so the newest key's name sorts last. */
void plat_auth_localjwt_key_name(char out[40]);
/* A new Ed25519 private key written to path as PEM, mode 0600, atomically (a temporary
 * file in the same directory, fsync, rename); refuses to replace an existing file. kid
 * (may be NULL) receives its key id. */
int plat_auth_localjwt_key_generate(const char *path, char kid[PLAT_LOCALJWT_KID_LEN + 1], struct plat_error *err);

struct plat_auth_localjwt_claims {
	const char *issuer;
	const char *subject;  /* principal name (or id) */
	const char *audience;
	const char *tenant;
	const char *role;
	long long ttl_s;      /* > 0 */
	long long now;        /* Unix seconds; 0: the clock */
};

/* A signed token (malloc'd, for the caller to free) with a random jti. */
int plat_auth_localjwt_issue(const struct plat_auth_keyring *kr, const struct plat_auth_localjwt_claims *c,
			     char **token, struct plat_error *err);

struct plat_auth_localjwt_verify_options {
	const char *issuer;   /* required, exact */
	const char *audience; /* required, exact */
	long long leeway_s;   /* clock skew allowed on exp, nbf, iat */
	long long now;        /* 0: the clock */
};

/* Refusals are PLAT_E_AUTH "invalid token" with res->reason set. On success res holds
 * kind PLAT_AUTH_LOCAL, subject, tenant, role, token_id (jti) and expires_at. */
int plat_auth_localjwt_verify(const struct plat_auth_keyring *kr, const struct plat_auth_localjwt_verify_options *o,
			      const char *token, struct plat_auth_result *res, struct plat_error *err);

#endif
