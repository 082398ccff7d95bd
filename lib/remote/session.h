/* platctl login, logout and the token refresh of remote mode: the credentials of a
 * platctl server, kept in the credentials file (lib/credentials) per server and profile. */
#ifndef PLAT_REMOTE_SESSION_H
#define PLAT_REMOTE_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "error/error.h"

struct plat_svc;

struct plat_login_options {
	const char *server; /* NULL: the configured server.url */
	/* One way in: */
	const char *token;    /* a token the caller has (an API token, an access token) */
	bool with_password;   /* a local account of the server: name and password */
	const char *user;     /* NULL: the call's principal */
	const char *password;
	size_t password_len;
};

/* Verify the credentials against the server (GET /v1/me with the token, or the password
 * grant of POST /v1/auth/token), then store them for the server and the active profile.
 * When no configuration file exists, a server given here is recorded as server.url in a
 * new one (the user's), so that the commands that follow are remote.
 * *out: {server, profile, principal, tenant, role, kind, expires_at, credentials,
 * configured (server.url names this server), config (the file written, or null)}.
 * PLAT_E_USAGE with no server; PLAT_E_AUTH when the server refuses them; the
 * credentials file's errors (PLAT_E_CONFIG). Nothing is stored on failure. */
int plat_session_login(struct plat_svc *svc, const struct plat_login_options *o, cJSON **out, struct plat_error *err);

/* Forget the credentials of the configured server and profile, revoking the refresh
 * token at the server first (POST /v1/auth/revoke) when there is one; a server that cannot
 * be reached does not keep them stored. *out: {server, profile, removed, revoked}. */
int plat_session_logout(struct plat_svc *svc, cJSON **out, struct plat_error *err);

#endif
