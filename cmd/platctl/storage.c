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
#include "storage/storage.h"
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

int cmd_storage_ls(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	const struct storage_opts *o = opts;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *page = NULL;
	if (rc == 0) {
		rc = plat_storage_list(&svc, argc ? argv[0] : "", o->cursor, (int)o->limit, o->all, &page, &ctx->err);
		platctl_svc_close(&svc);
	}
	if (rc < 0)
		return rc;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		static const struct plat_output_column cols[] = {
			{"key", NULL}, {"size", NULL}, {"last_modified", "modified"}, {NULL, NULL}};
		rc = platctl_print(ctx, cJSON_GetObjectItemCaseSensitive(page, "objects"), cols);
		const cJSON *next = cJSON_GetObjectItemCaseSensitive(page, "next_cursor");
		if (rc == 0 && cJSON_IsString(next))
			plat_log(PLAT_LOG_WARN, "more objects follow", "next_cursor", next->valuestring, (const char *)NULL);
	} else {
		rc = platctl_print(ctx, page, NULL);
	}
	cJSON_Delete(page);
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
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *j = NULL;
	if (rc == 0) {
		rc = plat_storage_put(&svc, key, fd, o->content_type, &j, &ctx->err);
		platctl_svc_close(&svc);
	}
	if (fd > 0)
		close(fd);
	if (rc == 0)
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
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	if (rc < 0)
		return rc;
	int fd = 1;
	char *tmp = NULL;
	if (strcmp(dst, "-") != 0) {
		/* Into a temporary file renamed at the end: a failed download leaves no half file. */
		tmp = plat_arena_printf(&ctx->arena, "%s.platctl-XXXXXX", dst);
		fd = mkstemp(tmp);
		if (fd < 0) {
			platctl_svc_close(&svc);
			return plat_error_set(&ctx->err, PLAT_E_FAILURE, "cannot create '%s': %s", dst, strerror(errno));
		}
	}
	rc = plat_storage_get(&svc, key, o->offset, o->length, write_to_fd, &fd, &ctx->err);
	platctl_svc_close(&svc);
	if (tmp) {
		if (rc == 0 && (fsync(fd) < 0 || rename(tmp, dst) < 0))
			rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "cannot write '%s': %s", dst, strerror(errno));
		if (close(fd) < 0 && rc == 0)
			rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "cannot write '%s': %s", dst, strerror(errno));
		if (rc < 0)
			unlink(tmp);
	}
	return rc;
}

int cmd_storage_stat(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *j = NULL;
	if (rc == 0) {
		rc = plat_storage_stat(&svc, argv[0], &j, &ctx->err);
		platctl_svc_close(&svc);
	}
	if (rc == 0)
		rc = platctl_print(ctx, j, NULL);
	cJSON_Delete(j);
	return rc;
}

int cmd_storage_rm(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	for (int i = 0; i < argc && rc == 0; i++)
		rc = plat_storage_delete(&svc, argv[i], &ctx->err);
	platctl_svc_close(&svc);
	return rc;
}

int cmd_storage_presign(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	const struct storage_opts *o = opts;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *j = NULL;
	if (rc == 0) {
		rc = plat_storage_presign(&svc, argv[0], (int)o->expires, &j, &ctx->err);
		platctl_svc_close(&svc);
	}
	if (rc < 0)
		return rc;
	if (ctx->out.format == PLAT_OUT_TABLE) {
		struct plat_buf line = PLAT_BUF_INIT;
		plat_buf_printf(&line, "%s\n", cJSON_GetObjectItemCaseSensitive(j, "url")->valuestring);
		rc = platctl_write(ctx, line.data);
		plat_buf_free(&line);
	} else {
		rc = platctl_print(ctx, j, NULL);
	}
	cJSON_Delete(j);
	return rc;
}
