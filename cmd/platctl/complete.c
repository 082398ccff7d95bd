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
