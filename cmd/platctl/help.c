/* platctl help [COMMAND [SUBCOMMAND]]: the same text as COMMAND --help. */
#include <stdio.h>
#include <string.h>

#include "platctl.h"
#include "str/str.h"

int cmd_help(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	const struct plat_cmd *cmd = ctx->root;
	struct plat_buf path = PLAT_BUF_INIT;
	plat_buf_puts(&path, "platctl");
	int rc = 0;
	for (int i = 0; i < argc; i++) {
		const struct plat_cmd *next = cmd->subs ? plat_cli_find(cmd->subs, argv[i]) : NULL;
		if (!next || (next->flags & PLAT_CMD_HIDDEN)) {
			struct plat_buf shown = PLAT_BUF_INIT, sugg = PLAT_BUF_INIT;
			plat_str_escape_terminal(&shown, argv[i], strlen(argv[i]));
			if (cmd->subs && plat_cli_suggest(cmd->subs, argv[i], &sugg))
				rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "no help for '%s %s' (did you mean %s?)",
						    path.data, shown.data, sugg.data);
			else
				rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "no help for '%s %s': no such command",
						    path.data, shown.data);
			plat_buf_free(&shown);
			plat_buf_free(&sugg);
			goto out;
		}
		cmd = next;
		plat_buf_printf(&path, " %s", cmd->name);
	}
	struct plat_buf text = PLAT_BUF_INIT;
	plat_cli_help(&text, path.data, cmd, ctx->global_opts);
	rc = platctl_write(ctx, text.data);
	plat_buf_free(&text);
out:
	plat_buf_free(&path);
	return rc;
}
