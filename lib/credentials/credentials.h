/* The credentials platctl login keeps for remote mode: one entry per server and profile
 * in $XDG_CONFIG_HOME/platctl/credentials.yaml (~/.config/platctl/... when unset).
 *
 * The file holds bearer tokens, so it is the user's alone: written with mode 0600 into a
 * directory made 0700, atomically (a temporary file in the same directory, fsync'd, then
 * renamed over the old one, so a crash leaves the old file or the new one, never half of
 * either), and refused on reading when its group or others may read it. */
#ifndef PLAT_CREDENTIALS_H
#define PLAT_CREDENTIALS_H

#include <stdbool.h>

#include "error/error.h"

struct plat_credential {
	char server[512];  /* the server's base URL, as the profile names it */
	char profile[128]; /* "default" when no profile is active */
	char kind[32];     /* how it was obtained: token, password, device, client_credentials */
	char *access_token;
	char *refresh_token;     /* NULL when none */
	long long expires_at;    /* the access token's, Unix seconds; 0: not known / never */
	char token_endpoint[512]; /* where refresh_token is redeemed; empty: the server's own */
	char client_id[256];     /* the OAuth client the tokens were issued to; empty: none */
};

void plat_credential_clear(struct plat_credential *c); /* frees the tokens */

/* The file's path; NULL without HOME and XDG_CONFIG_HOME. The caller frees it. */
char *plat_credentials_path(char **environ);

/* 1 and *out filled when path holds an entry for (server, profile); 0 when it has none
 * (or there is no file). PLAT_E_CONFIG for a file that group or others can read (the
 * message says how to fix it) or that is not a credentials file. */
int plat_credentials_find(const char *path, const char *server, const char *profile, struct plat_credential *out,
			  struct plat_error *err);

/* Add or replace c's entry (by server and profile), keeping the others. */
int plat_credentials_store(const char *path, const struct plat_credential *c, struct plat_error *err);

/* 1 when an entry was removed, 0 when there was none. */
int plat_credentials_remove(const char *path, const char *server, const char *profile, struct plat_error *err);

#endif
