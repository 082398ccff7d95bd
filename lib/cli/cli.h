/* Command-line machinery: option tables, the command tree, parsing, generated --help and
 * completion candidates. The tables are the single source for all three, so an option
 * cannot exist without appearing in --help and in shell completion.
 *
 * Option values land in a caller-supplied struct at the offset each option names, which
 * keeps the tables const and lets the same table be read for help and completion. */
#ifndef PLAT_CLI_H
#define PLAT_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "error/error.h"
#include "mem/mem.h"

enum plat_opt_kind {
	PLAT_OPT_BOOL,    /* --flag: sets a bool */
	PLAT_OPT_COUNT,   /* -v -v: increments an int */
	PLAT_OPT_STRING,  /* --name VALUE / --name=VALUE / -nVALUE: sets a const char * */
	PLAT_OPT_INT,     /* like STRING, parsed into a long long within [min, max] */
	PLAT_OPT_CHOICE,  /* like STRING, must be one of choices */
	PLAT_OPT_LIST,    /* repeatable STRING: appends to a struct plat_strlist */
	PLAT_OPT_RULE,    /* repeatable STRING: appends to a struct plat_rulelist that several
			   * options share (--include/--exclude, whose order decides) */
};

/* How a value or positional argument completes in the shell. */
enum plat_complete {
	PLAT_COMPLETE_NONE,
	PLAT_COMPLETE_FILE,
	PLAT_COMPLETE_DIR,
	PLAT_COMPLETE_CHOICES,  /* from the option's choices */
	PLAT_COMPLETE_COMMANDS, /* platctl command names (for `help`) */
	PLAT_COMPLETE_CONFIG_KEYS,
	PLAT_COMPLETE_DOCUMENT_IDS, /* the shell asks `platctl documents list -o ids` */
};

struct plat_strlist {
	const char **items;
	size_t n;
};

/* Values in command-line order, each with the option that gave it. */
struct plat_rulelist {
	struct plat_rulelist_item {
		const struct plat_opt *opt;
		const char *value;
	} *items;
	size_t n;
};

struct plat_opt {
	char short_name;        /* 0: long only */
	const char *long_name;  /* NULL ends a table */
	enum plat_opt_kind kind;
	const char *arg_name;   /* shown in help: FILE, N, ... */
	const char *help;
	const char *const *choices; /* PLAT_OPT_CHOICE: NULL-terminated */
	long long min, max;     /* PLAT_OPT_INT */
	enum plat_complete complete;
	size_t offset;          /* where the value goes in the options struct */
};

#define PLAT_OPT_END {0, NULL, 0, NULL, NULL, NULL, 0, 0, 0, 0}

struct plat_cli_ctx;

/* One signature for every command: the context, the parsed options struct, and the
 * positional arguments. Returns 0 or a negative error kind (the context's error says why). */
typedef int (*plat_cmd_fn)(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);

/* Command flags */
#define PLAT_CMD_HIDDEN    0x1u /* not listed or completed (internal helpers) */
#define PLAT_CMD_NO_CONFIG 0x2u /* runs without loading the configuration */
#define PLAT_CMD_RAW_ARGS  0x4u /* gets argv unparsed (the completion helper) */

struct plat_cmd {
	const char *name;
	plat_cmd_fn fn;           /* NULL for a group: then subs is set */
	const char *summary;      /* one line, lower case, no full stop */
	unsigned flags;
	/* ---- details used by the parser, --help and completion ---- */
	const char *args_usage;   /* positional part of the synopsis: "[KEY...]" */
	const char *description;  /* paragraphs for --help; may be NULL */
	const struct plat_opt *opts; /* may be NULL */
	size_t opts_size;         /* sizeof the options struct */
	const void *opts_defaults; /* copied into the options struct before parsing; NULL: zeroes */
	int min_args, max_args;   /* positional arguments; max -1: unlimited */
	enum plat_complete args_complete;
	const struct plat_cmd *subs; /* NULL-name terminated */
};

/* Parse argv (not including the command words) with the global and command tables.
 * Options and positionals may be interleaved; "--" ends options. With stop_at_positional
 * parsing ends at the first positional (used before a command or subcommand name).
 * Positionals are packed to the front of argv; returns their count, or -PLAT_E_USAGE. */
struct plat_parse_table {
	const struct plat_opt *opts;
	void *dest;
};

int plat_cli_parse(int argc, char **argv, const struct plat_parse_table *tables, size_t ntables,
		   bool stop_at_positional, int *consumed, struct plat_error *err);

/* Lookup by name among non-hidden and hidden entries; NULL when absent. */
const struct plat_cmd *plat_cli_find(const struct plat_cmd *table, const char *name);

/* Names at the smallest edit distance (at most 2) from name, or that name is a prefix of;
 * appended to out as "'a', 'b'". Returns how many. */
size_t plat_cli_suggest(const struct plat_cmd *table, const char *name, struct plat_buf *out);

/* Generated help. path is the command words ("platctl config show"). */
void plat_cli_help(struct plat_buf *out, const char *path, const struct plat_cmd *cmd,
		   const struct plat_opt *global_opts);
/* The synopsis lines of a command (one per leaf under it), as in its man page. */
void plat_cli_synopsis(struct plat_buf *out, const char *path, const struct plat_cmd *cmd);

/* Completion candidates, one per line, for the words typed after the program name; the
 * last word is the one being completed (possibly empty). A line ":file" or ":dir" asks the
 * shell to complete paths. */
void plat_cli_complete(struct plat_buf *out, const struct plat_cmd *root, const struct plat_opt *global_opts,
		       int nwords, char **words);

#endif
