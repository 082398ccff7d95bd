#include "remote/session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "credentials/credentials.h"
#include "io/io.h"
#include "log/log.h"
#include "mem/mem.h"
#include "remote/remote.h"
#include "svc/svc.h"

static const char *profile_of(const struct plat_svc *svc)
{
	const char *p = plat_config_profile(svc->cfg);
	return p && *p ? p : "default";
}

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Who the token is, asked of the server: GET /v1/me. */
static int me_with(const char *server, const char *token, const char *request_id, cJSON **me, struct plat_error *err)
{
	struct plat_remote *r;
	int rc = plat_remote_open(server, token, request_id, &r, err);
	if (rc < 0)
		return rc;
	rc = plat_remote_json(r, "GET", "/v1/me", NULL, me, NULL, err);
	plat_remote_close(r);
	if (rc == -PLAT_E_AUTH)
		plat_error_set(err, PLAT_E_AUTH, "the server at %s refused the token: %s", server, err->message);
	else if (rc == 0 && !str(*me, "principal")) {
		cJSON_Delete(*me);
		*me = NULL;
		rc = plat_error_set(err, PLAT_E_FAILURE, "the server at %s answered GET /v1/me without a principal", server);
	}
	return rc;
}

/* The password grant: {access_token, expires_in, refresh_token, ...}. */
static int password_grant(struct plat_svc *svc, const char *server, const struct plat_login_options *o, cJSON **tok,
			  struct plat_error *err)
{
	struct plat_remote *r;
	int rc = plat_remote_open(server, NULL, svc->request_id, &r, err);
	if (rc < 0)
		return rc;
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "grant_type", "password");
	cJSON_AddStringToObject(body, "username", o->user ? o->user : svc->principal);
	char *pw = plat_xmalloc(o->password_len + 1);
	memcpy(pw, o->password, o->password_len);
	pw[o->password_len] = '\0';
	cJSON_AddStringToObject(body, "password", pw);
	plat_wipe(pw, o->password_len);
	free(pw);
	const char *tenant = plat_config_str(svc->cfg, PLAT_CFG_TENANT);
	if (*tenant)
		cJSON_AddStringToObject(body, "tenant", tenant);
	rc = plat_remote_json(r, "POST", "/v1/auth/token", body, tok, NULL, err);
	cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "password");
	if (cJSON_IsString(m))
		plat_wipe(m->valuestring, strlen(m->valuestring));
	cJSON_Delete(body);
	plat_remote_close(r);
	if (rc == 0 && !str(*tok, "access_token")) {
		cJSON_Delete(*tok);
		*tok = NULL;
		rc = plat_error_set(err, PLAT_E_FAILURE, "the server at %s sent no access token", server);
	}
	return rc;
}

static bool is_configured(const struct plat_svc *svc, const char *server)
{
	char *base = plat_remote_base(plat_config_str(svc->cfg, PLAT_CFG_SERVER_URL));
	bool same = strcmp(base, server) == 0;
	free(base);
	return same;
}

/* With no configuration file at all, a new one of the user's that names the server; a
 * file that exists is the operator's and is not rewritten (*written stays NULL). */
static int record_server(struct plat_svc *svc, const char *server, char **written, struct plat_error *err)
{
	*written = NULL;
	if (plat_config_file(svc->cfg))
		return 0;
	char *path = plat_config_user_path(plat_services_environ(svc->services));
	if (!path || access(path, F_OK) == 0) {
		free(path);
		return 0;
	}
	struct plat_buf y = PLAT_BUF_INIT;
	cJSON *q = cJSON_CreateString(server);
	char *quoted = cJSON_PrintUnformatted(q);
	plat_buf_printf(&y, "# Written by platctl login: commands call this server (remote mode).\n"
			    "# See platctl.yaml(5); platctl config example prints every key.\n"
			    "server:\n  url: %s\n", quoted);
	cJSON_free(quoted);
	cJSON_Delete(q);
	char *dir = plat_xstrdup(path);
	*strrchr(dir, '/') = '\0';
	(void)plat_mkdir_p(dir, 0700, 0700, NULL); /* a failure shows as the open's */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = 0;
	if (fd < 0 || plat_write_all(fd, y.data, y.len) < 0 || fsync(fd) < 0)
		rc = plat_error_set(err, PLAT_E_CONFIG, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		*written = path;
	else
		free(path);
	free(dir);
	plat_buf_free(&y);
	return rc;
}

int plat_session_login(struct plat_svc *svc, const struct plat_login_options *o, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	const char *given = o->server && *o->server ? o->server : plat_config_str(svc->cfg, PLAT_CFG_SERVER_URL);
	if (!*given)
		return plat_error_set(err, PLAT_E_USAGE, "no server to log in to: give its URL, or set server.url");
	char why[256];
	if (plat_config_key_def(PLAT_CFG_SERVER_URL)->validate(given, why, sizeof(why)) < 0)
		return plat_error_set(err, PLAT_E_USAGE, "server URL: %s", why);
	if (!o->token == !o->with_password)
		return plat_error_set(err, PLAT_E_USAGE, "log in with either a token or a user's password");
	char *server = plat_remote_base(given);
	char *path = plat_credentials_path(plat_services_environ(svc->services));
	struct plat_credential c = {0};
	cJSON *tok = NULL, *me = NULL;
	int rc = 0;
	if (!path)
		rc = plat_error_set(err, PLAT_E_CONFIG, "no home directory to keep the credentials in");
	if (rc == 0 && o->token) {
		plat_log_add_secret(o->token);
		snprintf(c.kind, sizeof(c.kind), "token");
		c.access_token = plat_xstrdup(o->token);
	} else if (rc == 0) {
		snprintf(c.kind, sizeof(c.kind), "password");
		rc = password_grant(svc, server, o, &tok, err);
		if (rc == 0) {
			c.access_token = plat_xstrdup(str(tok, "access_token"));
			plat_log_add_secret(c.access_token);
			if (str(tok, "refresh_token")) {
				c.refresh_token = plat_xstrdup(str(tok, "refresh_token"));
				plat_log_add_secret(c.refresh_token);
			}
		}
	}
	if (rc == 0)
		rc = me_with(server, c.access_token, svc->request_id, &me, err);
	if (rc == 0) {
		snprintf(c.server, sizeof(c.server), "%s", server);
		snprintf(c.profile, sizeof(c.profile), "%s", profile_of(svc));
		const cJSON *exp = cJSON_GetObjectItemCaseSensitive(me, "expires_at");
		c.expires_at = cJSON_IsNumber(exp) ? (long long)exp->valuedouble : 0;
		rc = plat_credentials_store(path, &c, err);
	}
	if (rc == 0) {
		cJSON *o2 = cJSON_CreateObject();
		cJSON_AddStringToObject(o2, "server", server);
		cJSON_AddStringToObject(o2, "profile", c.profile);
		cJSON_AddStringToObject(o2, "principal", str(me, "principal"));
		cJSON_AddStringToObject(o2, "tenant", str(me, "tenant") ? str(me, "tenant") : "");
		cJSON_AddStringToObject(o2, "role", str(me, "role") ? str(me, "role") : "");
		cJSON_AddStringToObject(o2, "kind", c.kind);
		if (c.expires_at)
			cJSON_AddNumberToObject(o2, "expires_at", (double)c.expires_at);
		else
			cJSON_AddNullToObject(o2, "expires_at");
		cJSON_AddStringToObject(o2, "credentials", path);
		char *written = NULL;
		bool configured = is_configured(svc, server);
		if (!configured && o->server && record_server(svc, server, &written, err) == 0 && written)
			configured = true;
		cJSON_AddBoolToObject(o2, "configured", configured);
		if (written)
			cJSON_AddStringToObject(o2, "config", written);
		else
			cJSON_AddNullToObject(o2, "config");
		free(written);
		*out = o2;
	}
	if (c.access_token)
		plat_wipe(c.access_token, strlen(c.access_token));
	if (c.refresh_token)
		plat_wipe(c.refresh_token, strlen(c.refresh_token));
	plat_credential_clear(&c);
	cJSON_Delete(tok);
	cJSON_Delete(me);
	free(path);
	free(server);
	return rc;
}

int plat_session_logout(struct plat_svc *svc, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	const char *url = plat_config_str(svc->cfg, PLAT_CFG_SERVER_URL);
	if (!*url)
		return plat_error_set(err, PLAT_E_USAGE, "not in remote mode: server.url is not set");
	char *server = plat_remote_base(url);
	char *path = plat_credentials_path(plat_services_environ(svc->services));
	if (!path) {
		free(server);
		return plat_error_set(err, PLAT_E_CONFIG, "no home directory with credentials");
	}
	struct plat_credential c;
	int found = plat_credentials_find(path, server, profile_of(svc), &c, err);
	int rc = found < 0 ? found : 0;
	bool revoked = false;
	if (found == 1 && c.refresh_token) {
		/* Revoked first: a stolen copy of the file must not outlive the logout. */
		struct plat_remote *r;
		rc = plat_remote_open(server, NULL, svc->request_id, &r, err);
		if (rc == 0) {
			cJSON *body = cJSON_CreateObject(), *res = NULL;
			cJSON_AddStringToObject(body, "token", c.refresh_token);
			rc = plat_remote_json(r, "POST", "/v1/auth/revoke", body, &res, NULL, err);
			cJSON_Delete(body);
			cJSON_Delete(res);
			plat_remote_close(r);
			revoked = rc == 0;
		}
		/* A token the server no longer knows is as good as revoked. */
		if (rc == -PLAT_E_AUTH || rc == -PLAT_E_NOT_FOUND)
			rc = 0;
	}
	int removed = 0;
	if (found == 1 && rc == 0)
		removed = plat_credentials_remove(path, server, profile_of(svc), err);
	if (removed < 0)
		rc = removed;
	if (found == 1)
		plat_credential_clear(&c);
	if (rc == 0) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "server", server);
		cJSON_AddStringToObject(o, "profile", profile_of(svc));
		cJSON_AddBoolToObject(o, "removed", removed == 1);
		cJSON_AddBoolToObject(o, "revoked", revoked);
		*out = o;
	}
	free(path);
	free(server);
	return rc;
}
