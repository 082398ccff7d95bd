/* platctl __complete WORD...: completion candidates for the shell scripts in completions/.
 * The scripts pass the words after "platctl"; the last one is being completed. Candidates
 * come from the same tables that drive parsing and --help. */
#include <stdio.h>

#include "platctl.h"

int cmd_complete(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	struct plat_buf out = PLAT_BUF_INIT;
	char *empty[] = {"", NULL};
	if (argc == 0)
		plat_cli_complete(&out, ctx->root->subs, ctx->global_opts, 1, empty);
	else
		plat_cli_complete(&out, ctx->root->subs, ctx->global_opts, argc, argv);
	if (out.len)
		fputs(out.data, stdout);
	plat_buf_free(&out);
	return 0;
}

static void list_commands(struct plat_buf *out, const char *path, const struct plat_cmd *table)
{
	for (const struct plat_cmd *c = table; c->name; c++) {
		if (c->flags & PLAT_CMD_HIDDEN)
			continue;
		struct plat_buf sub = PLAT_BUF_INIT;
		plat_buf_printf(&sub, "%s %s", path, c->name);
		if (c->subs)
			list_commands(out, sub.data, c->subs);
		else
			plat_cli_synopsis(out, sub.data, c);
		plat_buf_free(&sub);
	}
}

/* platctl __commands: the synopsis of every command, one per line. Tests use it to check
 * that every command answers --help and that man pages show the same synopsis. */
int cmd_list_commands(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	(void)argv;
	struct plat_buf out = PLAT_BUF_INIT;
	list_commands(&out, "platctl", ctx->root->subs);
	if (out.len)
		fputs(out.data, stdout);
	plat_buf_free(&out);
	return 0;
}
