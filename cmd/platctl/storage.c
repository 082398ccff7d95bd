/* platctl storage ls | put | get | stat | rm | presign: the configured object store,
 * directly, for operators checking storage.url and credentials (like `aws s3`). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/io.h"
#include "platctl.h"
#include "store/store.h"
#include "str/str.h"

#define S(f) offsetof(struct storage_opts, f)

const struct plat_opt storage_ls_opts[] = {
	{0, "limit", PLAT_OPT_INT, "N", "at most N objects per page (default 1000)", NULL, 1, 1000, 0, S(limit)},
	{0, "cursor", PLAT_OPT_STRING, "CURSOR", "continue after a previous page (its next_cursor)", NULL, 0, 0, 0, S(cursor)},
	{0, "all", PLAT_OPT_BOOL, NULL, "follow every page", NULL, 0, 0, 0, S(all)},
	PLAT_OPT_END,
};

const struct plat_opt storage_put_opts[] = {
	{0, "content-type", PLAT_OPT_STRING, "TYPE", "content type stored with the object (S3)", NULL, 0, 0, 0, S(content_type)},
	PLAT_OPT_END,
};

const struct plat_opt storage_get_opts[] = {
	{0, "offset", PLAT_OPT_INT, "N", "start at byte N", NULL, 0, 1LL << 50, 0, S(offset)},
	{0, "length", PLAT_OPT_INT, "N", "read N bytes", NULL, 0, 1LL << 50, 0, S(length)},
	PLAT_OPT_END,
};

const struct plat_opt storage_presign_opts[] = {
	{0, "expires", PLAT_OPT_INT, "SECONDS", "how long the URL works (default 3600, at most 604800)", NULL, 1, 604800, 0, S(expires)},
	PLAT_OPT_END,
};

const struct storage_opts storage_defaults = {.length = -1, .expires = 3600, .limit = 1000};

static cJSON *object_json(const struct plat_store_object *o)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "key", o->key ? o->key : "");
	cJSON_AddNumberToObject(j, "size", (double)o->size);
	if (o->last_modified)
		cJSON_AddStringToObject(j, "last_modified", o->last_modified);
	else
		cJSON_AddNullToObject(j, "last_modified");
	if (o->etag)
		cJSON_AddStringToObject(j, "etag", o->etag);
	else
		cJSON_AddNullToObject(j, "etag");
	return j;
}

int cmd_storage_ls(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	const struct storage_opts *o = opts;
	struct plat_store *st;
	int rc = platctl_open_store(ctx, &st);
	if (rc < 0)
		return rc;
	cJSON *objects = cJSON_CreateArray();
	char *cursor = o->cursor ? plat_xstrdup(o->cursor) : NULL;
	do {
		struct plat_store_list l;
		rc = plat_store_list(st, argc ? argv[0] : "", cursor, (int)o->limit, &l, &ctx->err);
		free(cursor);
		cursor = NULL;
		if (rc < 0)
			break;
		for (size_t i = 0; i < l.n; i++)
			cJSON_AddItemToArray(objects, object_json(&l.objects[i]));
		cursor = l.next_cursor;
		l.next_cursor = NULL;
		plat_store_list_free(&l);
	} while (o->all && cursor);
	plat_store_close(st);
	if (rc == 0) {
		if (ctx->out.format == PLAT_OUT_TABLE) {
			static const struct plat_output_column cols[] = {
				{"key", NULL}, {"size", NULL}, {"last_modified", "modified"}, {NULL, NULL}};
			rc = platctl_print(ctx, objects, cols);
			if (rc == 0 && cursor)
				plat_log(PLAT_LOG_WARN, "more objects follow", "next_cursor", cursor, (const char *)NULL);
		} else {
			cJSON *doc = cJSON_CreateObject();
			cJSON_AddItemToObject(doc, "objects", objects);
			objects = NULL;
			if (cursor)
				cJSON_AddStringToObject(doc, "next_cursor", cursor);
			else
				cJSON_AddNullToObject(doc, "next_cursor");
			rc = platctl_print(ctx, doc, NULL);
			cJSON_Delete(doc);
		}
	}
	cJSON_Delete(objects);
	free(cursor);
	return rc;
}

int cmd_storage_put(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	const struct storage_opts *o = opts;
	const char *src = argv[0], *key = argv[1];
	int fd = 0;
	if (strcmp(src, "-") != 0) {
		fd = open(src, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			struct plat_buf s = PLAT_BUF_INIT;
			plat_str_escape_terminal(&s, src, strlen(src));
			int rc = plat_error_set(&ctx->err, errno == ENOENT ? PLAT_E_NOT_FOUND : PLAT_E_FAILURE,
						"cannot open '%s': %s", s.data, strerror(errno));
			plat_buf_free(&s);
			return rc;
		}
	}
	struct plat_store *st;
	int rc = platctl_open_store(ctx, &st);
	struct plat_store_put_result res = {0};
	if (rc == 0) {
		rc = plat_store_put_fd(st, key, fd, o->content_type, &res, &ctx->err);
		plat_store_close(st);
	}
	if (fd > 0)
		close(fd);
	if (rc < 0)
		return rc;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "key", key);
	cJSON_AddNumberToObject(j, "size", (double)res.size);
	cJSON_AddStringToObject(j, "sha256", res.sha256);
	rc = platctl_print(ctx, j, NULL);
	cJSON_Delete(j);
	return rc;
}

static int write_to_fd(void *arg, const char *buf, size_t len)
{
	return plat_write_all(*(int *)arg, buf, len);
}

int cmd_storage_get(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	const struct storage_opts *o = opts;
	const char *key = argv[0], *dst = argc > 1 ? argv[1] : "-";
	struct plat_store *st;
	int rc = platctl_open_store(ctx, &st);
	if (rc < 0)
		return rc;
	int fd = 1;
	char *tmp = NULL;
	if (strcmp(dst, "-") != 0) {
		/* Into a temporary file renamed at the end: a failed download leaves no half file. */
		tmp = plat_arena_printf(&ctx->arena, "%s.platctl-XXXXXX", dst);
		fd = mkstemp(tmp);
		if (fd < 0) {
			plat_store_close(st);
			return plat_error_set(&ctx->err, PLAT_E_FAILURE, "cannot create '%s': %s", dst, strerror(errno));
		}
	}
	rc = plat_store_get(st, key, o->offset, o->length, write_to_fd, &fd, &ctx->err);
	plat_store_close(st);
	if (tmp) {
		if (rc == 0 && (fsync(fd) < 0 || rename(tmp, dst) < 0))
			rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "cannot write '%s': %s", dst, strerror(errno));
		close(fd);
		if (rc < 0)
			unlink(tmp);
	}
	return rc;
}

int cmd_storage_stat(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	struct plat_store *st;
	int rc = platctl_open_store(ctx, &st);
	if (rc < 0)
		return rc;
	struct plat_store_object obj;
	rc = plat_store_head(st, argv[0], &obj, &ctx->err);
	plat_store_close(st);
	if (rc < 0)
		return rc;
	cJSON *j = object_json(&obj);
	rc = platctl_print(ctx, j, NULL);
	cJSON_Delete(j);
	plat_store_object_free(&obj);
	return rc;
}

int cmd_storage_rm(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	struct plat_store *st;
	int rc = platctl_open_store(ctx, &st);
	if (rc < 0)
		return rc;
	for (int i = 0; i < argc && rc == 0; i++)
		rc = plat_store_delete(st, argv[i], &ctx->err);
	plat_store_close(st);
	return rc;
}

int cmd_storage_presign(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	const struct storage_opts *o = opts;
	struct plat_store *st;
	int rc = platctl_open_store(ctx, &st);
	if (rc < 0)
		return rc;
	char *url = NULL;
	rc = plat_store_presign(st, argv[0], (int)o->expires, &url, &ctx->err);
	plat_store_close(st);
	if (rc < 0)
		return rc;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		struct plat_buf line = PLAT_BUF_INIT;
		plat_buf_printf(&line, "%s\n", url);
		rc = platctl_write(ctx, line.data);
		plat_buf_free(&line);
	} else {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "url", url);
		cJSON_AddNumberToObject(j, "expires_in", (double)o->expires);
		rc = platctl_print(ctx, j, NULL);
		cJSON_Delete(j);
	}
	free(url);
	return rc;
}
