/* Tokens for local accounts (POST /v1/auth/token, /v1/auth/revoke) and the one check of
 * a presented bearer token that the server makes.
 *
 * A login with a password, or a refresh, returns the OAuth 2.0 token response (RFC 6749
 * section 5.1): {"access_token", "token_type": "Bearer", "expires_in", "refresh_token",
 * "refresh_expires_in", "principal", "tenant", "role"}. The access token is an Ed25519 JWT
 * (localjwt.h) signed with auth.keys, valid auth.access_token_ttl; the refresh token rotates
 * on every use (refresh.h). Every refusal of a credential is PLAT_E_AUTH with one message
 * ("invalid credentials" or "invalid token"), whatever was wrong, and a wrong name costs
 * the same argon2 work as a wrong password. Logins and refreshes are audited. */
#ifndef PLAT_AUTH_LOGIN_H
#define PLAT_AUTH_LOGIN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "auth/auth.h"
#include "svc/svc.h"

#define PLAT_AUTH_BAD_CREDENTIALS "invalid credentials"

/* The password grant for principal name in the call's tenant. Operation "auth.token". */
int plat_auth_token_password(struct plat_svc *svc, const char *name, const char *password, size_t len, cJSON **out,
			     struct plat_error *err);

/* The refresh grant: the presented refresh token for the next one and a new access token.
 * The principal must still exist and be enabled. Operation "auth.token". */
int plat_auth_token_refresh(struct plat_svc *svc, const char *refresh_token, cJSON **out, struct plat_error *err);

/* Logout: revoke the refresh token's family. *out: {"revoked": true}. Operation "auth.revoke". */
int plat_auth_token_revoke(struct plat_svc *svc, const char *refresh_token, cJSON **out, struct plat_error *err);

/* The server's check of a bearer token: an API token (plat_...) or a local access token
 * (a JWT). On success res is filled; principal_id (37 bytes) is set for API tokens, whose
 * role is the token's own, and left empty for access tokens, whose principal and role the
 * call looks up (so a disabled principal or a changed role counts at once). Operation
 * "auth.verify". */
int plat_auth_verify_bearer(struct plat_svc *svc, const char *token, struct plat_auth_result *res,
			    char *principal_id, struct plat_error *err);

#endif
