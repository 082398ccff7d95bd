#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"
#include "str/str.h"

int plat_store_key_check(const char *key, struct plat_error *err)
{
	struct plat_buf shown = PLAT_BUF_INIT;
	size_t len = key ? strlen(key) : 0;
	const char *why = NULL;
	if (len == 0)
		why = "is empty";
	else if (len > 1024)
		why = "is longer than 1024 bytes";
	else if (!plat_utf8_valid(key, len))
		why = "is not valid UTF-8";
	else if (key[0] == '/')
		why = "is absolute (starts with '/')";
	else if (key[len - 1] == '/')
		why = "ends with '/'";
	for (size_t i = 0; !why && i < len; i++) {
		unsigned char c = (unsigned char)key[i];
		if (c < 0x20 || c == 0x7f)
			why = "contains a control character";
	}
	for (const char *seg = key; !why && seg && *seg;) {
		size_t n = strcspn(seg, "/");
		if (n == 0)
			why = "has an empty segment ('//')";
		else if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			why = "has a '.' or '..' segment";
		else if (n >= 2 && seg[0] == '.' && seg[1] == '~')
			why = "has a segment starting with '.~' (reserved)";
		seg = seg[n] ? seg + n + 1 : NULL;
	}
	if (!why)
		return 0;
	plat_str_escape_terminal(&shown, key ? key : "", len > 200 ? 200 : len);
	int rc = plat_error_set(err, PLAT_E_INVALID, "invalid object key '%s%s': it %s", shown.data ? shown.data : "",
				len > 200 ? "..." : "", why);
	plat_buf_free(&shown);
	return rc;
}

int plat_store_open(const struct plat_store_options *o, struct plat_store **out, struct plat_error *err)
{
	*out = NULL;
	const char *url = o->url ? o->url : "";
	if (strncmp(url, "file://", 7) == 0) {
		if (url[7] != '/' || url[8] == '\0')
			return plat_error_set(err, PLAT_E_CONFIG, "storage.url '%s': expected file:///absolute/path", url);
		return plat_store_file_open(url + 7, out, err);
	}
	if (strncmp(url, "s3://", 5) == 0) {
		const char *b = url + 5;
		size_t blen = strcspn(b, "/");
		if (blen < 3 || blen > 63)
			return plat_error_set(err, PLAT_E_CONFIG, "storage.url '%s': bucket names are 3-63 characters", url);
		for (size_t i = 0; i < blen; i++) {
			char c = b[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
				return plat_error_set(err, PLAT_E_CONFIG,
						      "storage.url '%s': bucket names are lower-case letters, digits, '-' and '.'",
						      url);
		}
		char *bucket = plat_xmalloc(blen + 1);
		memcpy(bucket, b, blen);
		bucket[blen] = '\0';
		const char *prefix = b[blen] == '/' ? b + blen + 1 : "";
		int rc = 0;
		if (*prefix) {
			/* The prefix joins keys with '/', so it must itself be a valid key. */
			char *p = plat_xstrdup(prefix);
			size_t pl = strlen(p);
			while (pl && p[pl - 1] == '/')
				p[--pl] = '\0';
			rc = plat_store_key_check(p, err);
			if (rc == 0)
				rc = plat_store_s3_open(bucket, p, o, out, err);
			else
				rc = plat_error_set(err, PLAT_E_CONFIG, "storage.url '%s': bad prefix", url);
			free(p);
		} else {
			rc = plat_store_s3_open(bucket, "", o, out, err);
		}
		free(bucket);
		return rc;
	}
	if (!*url)
		return plat_error_set(err, PLAT_E_CONFIG,
				      "storage.url is not set (file:///path or s3://bucket; 'platctl dev up' sets one)");
	return plat_error_set(err, PLAT_E_CONFIG, "storage.url '%s': expected file:///path or s3://bucket[/prefix]", url);
}

void plat_store_close(struct plat_store *s)
{
	if (s)
		s->ops->close(s);
}

const char *plat_store_driver(const struct plat_store *s)
{
	return s->ops->name;
}

int plat_store_put(struct plat_store *s, const char *key, plat_store_reader read, void *arg, const char *content_type,
		   struct plat_store_put_result *res, struct plat_error *err)
{
	int rc = plat_store_key_check(key, err);
	return rc < 0 ? rc : s->ops->put(s, key, read, arg, -1, content_type, NULL, NULL, res, err);
}

int plat_store_put_fd(struct plat_store *s, const char *key, int fd, const char *content_type,
		      struct plat_store_put_result *res, struct plat_error *err)
{
	return plat_store_put_fd_progress(s, key, fd, content_type, NULL, NULL, res, err);
}

int plat_store_put_fd_progress(struct plat_store *s, const char *key, int fd, const char *content_type,
			       plat_store_progress progress, void *progress_arg, struct plat_store_put_result *res,
			       struct plat_error *err)
{
	int rc = plat_store_key_check(key, err);
	return rc < 0 ? rc : s->ops->put(s, key, NULL, NULL, fd, content_type, progress, progress_arg, res, err);
}

int plat_store_get(struct plat_store *s, const char *key, long long offset, long long length, plat_store_writer write,
		   void *arg, struct plat_error *err)
{
	int rc = plat_store_key_check(key, err);
	if (rc < 0)
		return rc;
	if (offset < 0)
		return plat_error_set(err, PLAT_E_INVALID, "byte range: negative offset");
	return s->ops->get(s, key, offset, length, write, arg, err);
}

int plat_store_head(struct plat_store *s, const char *key, struct plat_store_object *obj, struct plat_error *err)
{
	memset(obj, 0, sizeof(*obj));
	int rc = plat_store_key_check(key, err);
	return rc < 0 ? rc : s->ops->head(s, key, obj, err);
}

int plat_store_delete(struct plat_store *s, const char *key, struct plat_error *err)
{
	int rc = plat_store_key_check(key, err);
	return rc < 0 ? rc : s->ops->del(s, key, err);
}

int plat_store_list(struct plat_store *s, const char *prefix, const char *cursor, int limit, struct plat_store_list *out,
		    struct plat_error *err)
{
	memset(out, 0, sizeof(*out));
	if (limit < 1 || limit > 1000)
		return plat_error_set(err, PLAT_E_INVALID, "list limit must be 1 to 1000");
	return s->ops->list(s, prefix ? prefix : "", cursor, limit, out, err);
}

bool plat_store_can_presign(const struct plat_store *s)
{
	return s->ops->presign != NULL;
}

int plat_store_presign(struct plat_store *s, const char *key, int expires, char **url, struct plat_error *err)
{
	int rc = plat_store_key_check(key, err);
	if (rc < 0)
		return rc;
	if (expires < 1 || expires > 604800)
		return plat_error_set(err, PLAT_E_INVALID, "presigned URLs expire after 1 second to 7 days");
	if (!s->ops->presign)
		return plat_error_set(err, PLAT_E_INVALID, "the %s storage driver has no presigned URLs", s->ops->name);
	return s->ops->presign(s, key, expires, url, err);
}

void plat_store_object_free(struct plat_store_object *o)
{
	free(o->key);
	free(o->etag);
	free(o->last_modified);
	memset(o, 0, sizeof(*o));
}

void plat_store_list_free(struct plat_store_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		plat_store_object_free(&l->objects[i]);
	free(l->objects);
	free(l->next_cursor);
	memset(l, 0, sizeof(*l));
}
