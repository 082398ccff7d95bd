/* S3 credentials, found the way the AWS CLI finds them: explicit configuration, then
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, then the AWS_PROFILE (or
 * "default") profile of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 * ~/.aws/credentials). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "log/log.h"
#include "mem/mem.h"
#include "store/s3_internal.h"

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Read aws_access_key_id, aws_secret_access_key, aws_session_token of [profile]. */
static int read_shared_file(const char *path, const char *profile, struct s3_creds *c)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[4096];
	bool in = false;
	while (fgets(line, sizeof(line), f)) {
		char *l = trim(line);
		if (*l == '#' || *l == ';' || !*l)
			continue;
		if (*l == '[') {
			char *end = strchr(l, ']');
			if (end)
				*end = '\0';
			char *name = trim(l + 1);
			if (strncmp(name, "profile ", 8) == 0) /* the config file's spelling */
				name = trim(name + 8);
			in = strcmp(name, profile) == 0;
			continue;
		}
		char *eq = strchr(l, '=');
		if (!in || !eq)
			continue;
		*eq = '\0';
		char *k = trim(l), *v = trim(eq + 1);
		char **dst = !strcmp(k, "aws_access_key_id")       ? &c->access_key
			     : !strcmp(k, "aws_secret_access_key") ? &c->secret_key
			     : !strcmp(k, "aws_session_token")     ? &c->session_token
								   : NULL;
		if (dst) {
			free(*dst);
			*dst = plat_xstrdup(v);
		}
	}
	fclose(f);
	return 0;
}

int s3_find_creds(const struct plat_store_options *o, struct s3_creds *c, struct plat_error *err)
{
	memset(c, 0, sizeof(*c));
	char **env = o->environ;
	if (o->access_key_id && *o->access_key_id) {
		c->access_key = plat_xstrdup(o->access_key_id);
		c->secret_key = plat_xstrdup(o->secret_access_key ? o->secret_access_key : "");
		c->session_token = o->session_token && *o->session_token ? plat_xstrdup(o->session_token) : NULL;
		c->source = "configuration";
	} else if (plat_env_get(env, "AWS_ACCESS_KEY_ID") && *plat_env_get(env, "AWS_ACCESS_KEY_ID")) {
		const char *sk = plat_env_get(env, "AWS_SECRET_ACCESS_KEY"), *tok = plat_env_get(env, "AWS_SESSION_TOKEN");
		c->access_key = plat_xstrdup(plat_env_get(env, "AWS_ACCESS_KEY_ID"));
		c->secret_key = plat_xstrdup(sk ? sk : "");
		c->session_token = tok && *tok ? plat_xstrdup(tok) : NULL;
		c->source = "environment";
	} else {
		const char *file = plat_env_get(env, "AWS_SHARED_CREDENTIALS_FILE");
		const char *home = plat_env_get(env, "HOME");
		const char *profile = plat_env_get(env, "AWS_PROFILE");
		struct plat_buf path = PLAT_BUF_INIT;
		if (file && *file)
			plat_buf_puts(&path, file);
		else if (home && *home)
			plat_buf_printf(&path, "%s/.aws/credentials", home);
		if (path.len)
			read_shared_file(path.data, profile && *profile ? profile : "default", c);
		plat_buf_free(&path);
		c->source = "shared credentials file";
	}
	if (!c->access_key || !*c->access_key || !c->secret_key || !*c->secret_key) {
		s3_free_creds(c);
		return plat_error_set(err, PLAT_E_CONFIG,
				      "no S3 credentials: set storage.s3.access_key_id and storage.s3.secret_access_key, "
				      "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials");
	}
	/* Whatever happens later, these never reach a log line. */
	plat_log_add_secret(c->secret_key);
	plat_log_add_secret(c->session_token);
	return 0;
}

void s3_free_creds(struct s3_creds *c)
{
	free(c->access_key);
	if (c->secret_key)
		memset(c->secret_key, 0, strlen(c->secret_key));
	free(c->secret_key);
	free(c->session_token);
	memset(c, 0, sizeof(*c));
}
