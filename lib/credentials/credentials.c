#include "credentials/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "io/io.h"
#include "mem/mem.h"
#include "output/output.h"

#define MAX_FILE (1 << 20) /* far more than any number of entries needs */

void plat_credential_clear(struct plat_credential *c)
{
	free(c->access_token);
	free(c->refresh_token);
	memset(c, 0, sizeof(*c));
}

char *plat_credentials_path(char **env)
{
	char *config = plat_config_user_path(env);
	if (!config)
		return NULL;
	char *slash = strrchr(config, '/');
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_printf(&b, "%.*s/credentials.yaml", (int)(slash - config), config);
	free(config);
	return plat_buf_detach(&b);
}

/* The entries of path (an empty array when there is no file). */
static int load(const char *path, cJSON **entries, struct plat_error *err)
{
	*entries = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT) {
			*entries = cJSON_CreateArray();
			return 0;
		}
		return plat_error_set(err, PLAT_E_CONFIG, "cannot open %s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return plat_error_set(err, PLAT_E_CONFIG, "%s is not a regular file", path);
	}
	/* Someone else could have read the tokens already; using them would hide that. */
	if (st.st_mode & 077) {
		close(fd);
		return plat_error_set(err, PLAT_E_CONFIG,
				      "%s is readable by others (mode %04o): it holds tokens; run chmod 600 %s "
				      "(and log in again if others may have read it)",
				      path, (unsigned)(st.st_mode & 07777), path);
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		return plat_error_set(err, PLAT_E_CONFIG, "%s belongs to another user (uid %u)", path,
				      (unsigned)st.st_uid);
	}
	char *text = plat_xmalloc(MAX_FILE + 1);
	long long n = plat_read_upto(fd, text, MAX_FILE + 1);
	int saved = errno;
	close(fd);
	if (n < 0 || n > MAX_FILE) {
		free(text);
		return plat_error_set(err, PLAT_E_CONFIG, "cannot read %s: %s", path,
				      n < 0 ? strerror(saved) : "larger than 1 MiB");
	}
	cJSON *doc = NULL;
	int rc = plat_yaml_load(path, text, (size_t)n, &doc, err);
	free(text);
	if (rc < 0)
		return plat_error_set(err, PLAT_E_CONFIG, "%s", err->message);
	cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(doc, "credentials");
	bool empty = !doc || cJSON_IsNull(doc) || (cJSON_IsObject(doc) && !list && !doc->child);
	cJSON_Delete(doc);
	if (empty) {
		*entries = cJSON_CreateArray();
		return 0;
	}
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(list);
		return plat_error_set(err, PLAT_E_CONFIG, "%s: not a credentials file (no list under \"credentials\")",
				      path);
	}
	*entries = list;
	return 0;
}

static const char *str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return s ? s : "";
}

static bool matches(const cJSON *e, const char *server, const char *profile)
{
	return strcmp(str(e, "server"), server) == 0 && strcmp(str(e, "profile"), profile) == 0;
}

int plat_credentials_find(const char *path, const char *server, const char *profile, struct plat_credential *out,
			  struct plat_error *err)
{
	memset(out, 0, sizeof(*out));
	cJSON *entries;
	int rc = load(path, &entries, err);
	if (rc < 0)
		return rc;
	const cJSON *e;
	rc = 0;
	cJSON_ArrayForEach(e, entries)
	{
		if (!cJSON_IsObject(e) || !matches(e, server, profile) || !*str(e, "access_token"))
			continue;
		snprintf(out->server, sizeof(out->server), "%s", server);
		snprintf(out->profile, sizeof(out->profile), "%s", profile);
		snprintf(out->kind, sizeof(out->kind), "%s", str(e, "kind"));
		out->access_token = plat_xstrdup(str(e, "access_token"));
		if (*str(e, "refresh_token"))
			out->refresh_token = plat_xstrdup(str(e, "refresh_token"));
		const cJSON *exp = cJSON_GetObjectItemCaseSensitive(e, "expires_at");
		out->expires_at = cJSON_IsNumber(exp) ? (long long)exp->valuedouble : 0;
		snprintf(out->token_endpoint, sizeof(out->token_endpoint), "%s", str(e, "token_endpoint"));
		snprintf(out->client_id, sizeof(out->client_id), "%s", str(e, "client_id"));
		rc = 1;
		break;
	}
	cJSON_Delete(entries);
	return rc;
}

/* A YAML double-quoted scalar: a JSON string is one (YAML 1.2 reads JSON). */
static void scalar(struct plat_buf *b, const char *key, const char *value)
{
	cJSON *s = cJSON_CreateString(value);
	char *q = cJSON_PrintUnformatted(s);
	plat_buf_printf(b, "    %s: %s\n", key, q);
	cJSON_free(q);
	cJSON_Delete(s);
}

static int write_atomically(const char *path, const struct plat_buf *text, struct plat_error *err)
{
	/* The directory too is the user's alone; an existing one is left as it is. */
	char *dir = plat_xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (plat_mkdir_p(dir, 0700, 0700, NULL) < 0) {
			int e = errno;
			free(dir);
			return plat_error_set(err, PLAT_E_CONFIG, "cannot make the directory of %s: %s", path, strerror(e));
		}
	}
	struct plat_buf tmp = PLAT_BUF_INIT;
	plat_buf_printf(&tmp, "%s.XXXXXX", path);
	mode_t old = umask(077);
	int fd = mkstemp(tmp.data);
	umask(old);
	int rc = 0;
	if (fd < 0) {
		rc = plat_error_set(err, PLAT_E_CONFIG, "cannot write %s: %s", path, strerror(errno));
	} else if (fchmod(fd, 0600) < 0 || plat_write_all(fd, text->data, text->len) < 0 || fsync(fd) < 0) {
		rc = plat_error_set(err, PLAT_E_CONFIG, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp.data);
	} else if (close(fd) < 0 || rename(tmp.data, path) < 0) {
		rc = plat_error_set(err, PLAT_E_CONFIG, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp.data);
	} else if (slash && slash != dir) {
		/* The rename itself must survive a crash. */
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	plat_buf_free(&tmp);
	free(dir);
	return rc;
}

static int save(const char *path, const cJSON *entries, struct plat_error *err)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_puts(&b, "# platctl credentials, written by platctl login and logout: bearer tokens.\n"
			  "# Keep it private (mode 0600); platctl refuses to read it otherwise.\n"
			  "credentials:\n");
	if (!cJSON_GetArraySize(entries))
		b.len -= 1, plat_buf_puts(&b, " []\n");
	const cJSON *e;
	cJSON_ArrayForEach(e, entries)
	{
		plat_buf_puts(&b, "  -\n");
		static const char *const keys[] = {"server", "profile", "kind", "access_token", "refresh_token",
						   "token_endpoint", "client_id"};
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (*str(e, keys[i]))
				scalar(&b, keys[i], str(e, keys[i]));
		const cJSON *exp = cJSON_GetObjectItemCaseSensitive(e, "expires_at");
		if (cJSON_IsNumber(exp) && exp->valuedouble > 0)
			plat_buf_printf(&b, "    expires_at: %lld\n", (long long)exp->valuedouble);
	}
	int rc = write_atomically(path, &b, err);
	plat_buf_free(&b);
	return rc;
}

int plat_credentials_store(const char *path, const struct plat_credential *c, struct plat_error *err)
{
	cJSON *entries;
	int rc = load(path, &entries, err);
	if (rc < 0)
		return rc;
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "server", c->server);
	cJSON_AddStringToObject(e, "profile", c->profile);
	cJSON_AddStringToObject(e, "kind", c->kind);
	cJSON_AddStringToObject(e, "access_token", c->access_token ? c->access_token : "");
	cJSON_AddStringToObject(e, "refresh_token", c->refresh_token ? c->refresh_token : "");
	cJSON_AddStringToObject(e, "token_endpoint", c->token_endpoint);
	cJSON_AddStringToObject(e, "client_id", c->client_id);
	if (c->expires_at > 0)
		cJSON_AddNumberToObject(e, "expires_at", (double)c->expires_at);
	int i = 0;
	const cJSON *old;
	bool replaced = false;
	cJSON_ArrayForEach(old, entries)
	{
		if (cJSON_IsObject(old) && matches(old, c->server, c->profile)) {
			cJSON_ReplaceItemInArray(entries, i, e);
			replaced = true;
			break;
		}
		i++;
	}
	if (!replaced)
		cJSON_AddItemToArray(entries, e);
	rc = save(path, entries, err);
	cJSON_Delete(entries);
	return rc;
}

int plat_credentials_remove(const char *path, const char *server, const char *profile, struct plat_error *err)
{
	cJSON *entries;
	int rc = load(path, &entries, err);
	if (rc < 0)
		return rc;
	int removed = 0;
	for (int i = cJSON_GetArraySize(entries) - 1; i >= 0; i--)
		if (cJSON_IsObject(cJSON_GetArrayItem(entries, i)) && matches(cJSON_GetArrayItem(entries, i), server, profile)) {
			cJSON_DeleteItemFromArray(entries, i);
			removed = 1;
		}
	if (removed && (rc = save(path, entries, err)) < 0)
		removed = rc;
	cJSON_Delete(entries);
	return removed;
}
