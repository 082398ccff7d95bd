#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "str/str.h"

/* ---- parsing ---- */

static bool takes_value(const struct plat_opt *o)
{
	return o->kind != PLAT_OPT_BOOL && o->kind != PLAT_OPT_COUNT;
}

static void choices_list(struct plat_buf *b, const char *const *choices)
{
	for (const char *const *c = choices; c && *c; c++)
		plat_buf_printf(b, "%s%s", c == choices ? "" : ", ", *c);
}

/* The option as the user wrote it, for messages: "--output" or "-o". */
static void opt_display(struct plat_buf *b, const struct plat_opt *o, bool as_short)
{
	if (as_short)
		plat_buf_printf(b, "-%c", o->short_name);
	else
		plat_buf_printf(b, "--%s", o->long_name);
}

static int store_value(const struct plat_opt *o, void *dest, const char *value, bool as_short,
		       struct plat_error *err)
{
	char *field = (char *)dest + o->offset;
	struct plat_buf name = PLAT_BUF_INIT;
	opt_display(&name, o, as_short);
	int rc = 0;
	switch (o->kind) {
	case PLAT_OPT_BOOL:
		*(bool *)field = true;
		break;
	case PLAT_OPT_COUNT:
		(*(int *)field)++;
		break;
	case PLAT_OPT_STRING:
		*(const char **)field = value;
		break;
	case PLAT_OPT_INT: {
		char *end;
		errno = 0;
		long long n = strtoll(value, &end, 10);
		if (errno || end == value || *end || n < o->min || n > o->max) {
			struct plat_buf shown = PLAT_BUF_INIT;
			plat_str_escape_terminal(&shown, value, strlen(value));
			rc = plat_error_set(err, PLAT_E_USAGE, "option '%s': '%s' is not an integer from %lld to %lld",
					    name.data, shown.data, o->min, o->max);
			plat_buf_free(&shown);
			break;
		}
		*(long long *)field = n;
		break;
	}
	case PLAT_OPT_CHOICE: {
		bool ok = false;
		for (const char *const *c = o->choices; c && *c && !ok; c++)
			ok = strcmp(*c, value) == 0;
		if (!ok) {
			struct plat_buf shown = PLAT_BUF_INIT, list = PLAT_BUF_INIT;
			plat_str_escape_terminal(&shown, value, strlen(value));
			choices_list(&list, o->choices);
			rc = plat_error_set(err, PLAT_E_USAGE, "option '%s': invalid value '%s' (expected one of: %s)",
					    name.data, shown.data, list.data ? list.data : "");
			plat_buf_free(&shown);
			plat_buf_free(&list);
			break;
		}
		*(const char **)field = value;
		break;
	}
	case PLAT_OPT_LIST: {
		struct plat_strlist *l = (struct plat_strlist *)field;
		l->items = plat_xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
		l->items[l->n++] = value;
		break;
	}
	case PLAT_OPT_RULE: {
		struct plat_rulelist *l = (struct plat_rulelist *)field;
		l->items = plat_xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
		l->items[l->n++] = (struct plat_rulelist_item){o, value};
		break;
	}
	}
	plat_buf_free(&name);
	return rc;
}

static const struct plat_opt *find_long(const struct plat_parse_table *t, size_t nt, const char *name,
					size_t len, void **dest)
{
	for (size_t i = 0; i < nt; i++)
		for (const struct plat_opt *o = t[i].opts; o && o->long_name; o++)
			if (strlen(o->long_name) == len && strncmp(o->long_name, name, len) == 0) {
				*dest = t[i].dest;
				return o;
			}
	return NULL;
}

static const struct plat_opt *find_short(const struct plat_parse_table *t, size_t nt, char c, void **dest)
{
	for (size_t i = 0; i < nt; i++)
		for (const struct plat_opt *o = t[i].opts; o && o->long_name; o++)
			if (o->short_name && o->short_name == c) {
				*dest = t[i].dest;
				return o;
			}
	return NULL;
}

static int unknown_option(const struct plat_parse_table *t, size_t nt, const char *arg, size_t len,
			  struct plat_error *err)
{
	struct plat_buf shown = PLAT_BUF_INIT;
	plat_str_escape_terminal(&shown, arg, len);
	const char *best = NULL;
	size_t best_d = 3;
	if (arg[0] == '-' && arg[1] == '-') {
		char *name = strndup(arg + 2, len - 2);
		for (size_t i = 0; i < nt; i++)
			for (const struct plat_opt *o = t[i].opts; o && o->long_name; o++) {
				size_t d = plat_str_edit_distance(name, o->long_name);
				if (d < best_d) {
					best_d = d;
					best = o->long_name;
				}
			}
		free(name);
	}
	int rc;
	if (best)
		rc = plat_error_set(err, PLAT_E_USAGE, "unknown option '%s' (did you mean '--%s'?)", shown.data, best);
	else
		rc = plat_error_set(err, PLAT_E_USAGE, "unknown option '%s'", shown.data);
	plat_buf_free(&shown);
	return rc;
}

int plat_cli_parse(int argc, char **argv, const struct plat_parse_table *tables, size_t ntables,
		   bool stop_at_positional, int *consumed, struct plat_error *err)
{
	int npos = 0;
	int i = 0;
	for (; i < argc; i++) {
		char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			if (stop_at_positional) {
				i++;
				break;
			}
			for (i++; i < argc; i++)
				argv[npos++] = argv[i];
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			if (stop_at_positional)
				break;
			argv[npos++] = arg;
			continue;
		}
		if (arg[1] == '-') {
			const char *name = arg + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			void *dest;
			const struct plat_opt *o = find_long(tables, ntables, name, len, &dest);
			if (!o)
				return unknown_option(tables, ntables, arg, eq ? (size_t)(eq - arg) : strlen(arg), err);
			const char *value = NULL;
			if (takes_value(o)) {
				if (eq)
					value = eq + 1;
				else if (i + 1 < argc)
					value = argv[++i];
				else
					return plat_error_set(err, PLAT_E_USAGE, "option '--%s' needs a value (%s)",
							      o->long_name, o->arg_name ? o->arg_name : "VALUE");
			} else if (eq) {
				return plat_error_set(err, PLAT_E_USAGE, "option '--%s' takes no value", o->long_name);
			}
			int rc = store_value(o, dest, value, false, err);
			if (rc < 0)
				return rc;
			continue;
		}
		/* One or more short options: -v, -vvq, -ojson, -o json */
		for (const char *p = arg + 1; *p; p++) {
			void *dest;
			const struct plat_opt *o = find_short(tables, ntables, *p, &dest);
			if (!o) {
				char bad[3] = {'-', *p, '\0'};
				return unknown_option(tables, ntables, bad, 2, err);
			}
			const char *value = NULL;
			if (takes_value(o)) {
				if (p[1])
					value = p + 1;
				else if (i + 1 < argc)
					value = argv[++i];
				else
					return plat_error_set(err, PLAT_E_USAGE, "option '-%c' needs a value (%s)",
							      o->short_name, o->arg_name ? o->arg_name : "VALUE");
			}
			int rc = store_value(o, dest, value, true, err);
			if (rc < 0)
				return rc;
			if (value)
				break;
		}
	}
	if (consumed)
		*consumed = i;
	return npos;
}

/* ---- lookup and suggestions ---- */

const struct plat_cmd *plat_cli_find(const struct plat_cmd *table, const char *name)
{
	for (const struct plat_cmd *c = table; c && c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

size_t plat_cli_suggest(const struct plat_cmd *table, const char *name, struct plat_buf *out)
{
	size_t best = 3, n = 0;
	for (const struct plat_cmd *c = table; c && c->name; c++) {
		if (c->flags & PLAT_CMD_HIDDEN)
			continue;
		size_t d = plat_str_has_prefix(c->name, name) && *name ? 1 : plat_str_edit_distance(name, c->name);
		if (d < best)
			best = d;
	}
	if (best > 2)
		return 0;
	for (const struct plat_cmd *c = table; c && c->name; c++) {
		if (c->flags & PLAT_CMD_HIDDEN)
			continue;
		size_t d = plat_str_has_prefix(c->name, name) && *name ? 1 : plat_str_edit_distance(name, c->name);
		if (d == best)
			plat_buf_printf(out, "%s'%s'", n++ ? ", " : "", c->name);
	}
	return n;
}

/* ---- help ---- */

static void opt_usage(struct plat_buf *b, const struct plat_opt *o)
{
	size_t start = b->len;
	if (o->short_name)
		plat_buf_printf(b, "  -%c, --%s", o->short_name, o->long_name);
	else
		plat_buf_printf(b, "      --%s", o->long_name);
	if (takes_value(o))
		plat_buf_printf(b, " %s", o->arg_name ? o->arg_name : "VALUE");
	size_t width = b->len - start;
	if (width < 28)
		plat_buf_printf(b, "%*s", (int)(28 - width), "");
	else
		plat_buf_puts(b, "\n                            ");
	plat_buf_puts(b, o->help);
	if (o->kind == PLAT_OPT_CHOICE) {
		plat_buf_puts(b, " (");
		choices_list(b, o->choices);
		plat_buf_putc(b, ')');
	}
	if (o->kind == PLAT_OPT_LIST || o->kind == PLAT_OPT_RULE)
		plat_buf_puts(b, " (repeatable)");
	plat_buf_putc(b, '\n');
}

static void synopsis_line(struct plat_buf *out, const char *path, const struct plat_cmd *cmd)
{
	plat_buf_printf(out, "%s", path);
	if (cmd->subs)
		plat_buf_puts(out, " <command>");
	plat_buf_puts(out, " [options]");
	if (cmd->args_usage && *cmd->args_usage)
		plat_buf_printf(out, " %s", cmd->args_usage);
	plat_buf_putc(out, '\n');
}

void plat_cli_synopsis(struct plat_buf *out, const char *path, const struct plat_cmd *cmd)
{
	if (!cmd->subs) {
		synopsis_line(out, path, cmd);
		return;
	}
	for (const struct plat_cmd *s = cmd->subs; s->name; s++) {
		if (s->flags & PLAT_CMD_HIDDEN)
			continue;
		struct plat_buf sub = PLAT_BUF_INIT;
		plat_buf_printf(&sub, "%s %s", path, s->name);
		plat_cli_synopsis(out, sub.data, s);
		plat_buf_free(&sub);
	}
}

void plat_cli_help(struct plat_buf *out, const char *path, const struct plat_cmd *cmd,
		   const struct plat_opt *global_opts)
{
	plat_buf_puts(out, "usage: ");
	synopsis_line(out, path, cmd);
	plat_buf_printf(out, "\n%s.\n", cmd->summary);
	if (cmd->description)
		plat_buf_printf(out, "\n%s\n", cmd->description);
	if (cmd->subs) {
		plat_buf_puts(out, "\nCommands:\n");
		for (const struct plat_cmd *s = cmd->subs; s->name; s++)
			if (!(s->flags & PLAT_CMD_HIDDEN))
				plat_buf_printf(out, "  %-12s  %s\n", s->name, s->summary);
	}
	if (cmd->opts && cmd->opts->long_name) {
		plat_buf_puts(out, "\nOptions:\n");
		for (const struct plat_opt *o = cmd->opts; o->long_name; o++)
			opt_usage(out, o);
	}
	if (global_opts) {
		plat_buf_puts(out, "\nGlobal options:\n");
		for (const struct plat_opt *o = global_opts; o->long_name; o++)
			opt_usage(out, o);
	}
	if (cmd->subs)
		plat_buf_printf(out, "\nRun '%s <command> --help' for a command's options.\n", path);
}

/* ---- completion ---- */

static const struct plat_opt *complete_find(const struct plat_opt *a, const struct plat_opt *b, const char *w)
{
	const struct plat_opt *tabs[2] = {a, b};
	for (int t = 0; t < 2; t++) {
		for (const struct plat_opt *o = tabs[t]; o && o->long_name; o++) {
			if (w[0] == '-' && w[1] == '-') {
				size_t len = strcspn(w + 2, "=");
				if (strlen(o->long_name) == len && strncmp(o->long_name, w + 2, len) == 0)
					return o;
			} else if (w[0] == '-' && w[1] && !w[2] && o->short_name == w[1]) {
				return o;
			}
		}
	}
	return NULL;
}

static void complete_values(struct plat_buf *out, enum plat_complete how, const char *const *choices,
			    const struct plat_cmd *root, const char *word)
{
	switch (how) {
	case PLAT_COMPLETE_FILE: plat_buf_puts(out, ":file\n"); break;
	case PLAT_COMPLETE_DIR: plat_buf_puts(out, ":dir\n"); break;
	case PLAT_COMPLETE_CHOICES:
		for (const char *const *c = choices; c && *c; c++)
			if (plat_str_has_prefix(*c, word))
				plat_buf_printf(out, "%s\n", *c);
		break;
	case PLAT_COMPLETE_COMMANDS:
		for (const struct plat_cmd *c = root; c->name; c++)
			if (!(c->flags & PLAT_CMD_HIDDEN) && plat_str_has_prefix(c->name, word))
				plat_buf_printf(out, "%s\n", c->name);
		break;
	case PLAT_COMPLETE_CONFIG_KEYS:
		for (int k = 0; k < PLAT_CFG__COUNT; k++)
			if (plat_str_has_prefix(plat_config_key_def(k)->name, word))
				plat_buf_printf(out, "%s\n", plat_config_key_def(k)->name);
		break;
	case PLAT_COMPLETE_DOCUMENT_IDS: plat_buf_puts(out, ":documents\n"); break;
	case PLAT_COMPLETE_NONE: break;
	}
}

void plat_cli_complete(struct plat_buf *out, const struct plat_cmd *root, const struct plat_opt *global_opts,
		       int nwords, char **words)
{
	static const struct plat_cmd no_cmd = {0};
	const struct plat_cmd *level = root; /* the table whose names may come next */
	const struct plat_cmd *cmd = NULL;   /* the command chosen so far */
	bool options_ended = false;
	if (nwords < 1)
		return;

	for (int i = 0; i < nwords - 1; i++) {
		const char *w = words[i];
		if (!options_ended && strcmp(w, "--") == 0) {
			options_ended = true;
			continue;
		}
		if (!options_ended && w[0] == '-' && w[1]) {
			const struct plat_opt *o = complete_find(global_opts, cmd ? cmd->opts : NULL, w);
			if (o && takes_value(o) && !strchr(w, '=') && (w[1] == '-' || !w[2]))
				i++; /* skip the option's value */
			continue;
		}
		if (level) {
			const struct plat_cmd *c = plat_cli_find(level, w);
			if (!c)
				return; /* unknown command: nothing sensible to offer */
			cmd = c;
			level = c->subs;
		}
	}

	const char *word = words[nwords - 1];
	const char *prev = nwords >= 2 ? words[nwords - 2] : NULL;
	if (prev && !options_ended && prev[0] == '-') {
		const struct plat_opt *o = complete_find(global_opts, cmd ? cmd->opts : NULL, prev);
		if (o && takes_value(o) && !strchr(prev, '=') && (prev[1] == '-' || !prev[2])) {
			complete_values(out, o->choices ? PLAT_COMPLETE_CHOICES : o->complete, o->choices, root, word);
			return;
		}
	}
	if (!options_ended && word[0] == '-') {
		const struct plat_opt *tabs[2] = {cmd ? cmd->opts : NULL, global_opts};
		for (int t = 0; t < 2; t++)
			for (const struct plat_opt *o = tabs[t]; o && o->long_name; o++) {
				struct plat_buf cand = PLAT_BUF_INIT;
				plat_buf_printf(&cand, "--%s", o->long_name);
				if (plat_str_has_prefix(cand.data, word))
					plat_buf_printf(out, "%s\n", cand.data);
				plat_buf_free(&cand);
			}
		return;
	}
	if (level) {
		for (const struct plat_cmd *c = level; c->name; c++)
			if (!(c->flags & PLAT_CMD_HIDDEN) && plat_str_has_prefix(c->name, word))
				plat_buf_printf(out, "%s\n", c->name);
		return;
	}
	complete_values(out, (cmd ? cmd : &no_cmd)->args_complete, NULL, root, word);
}
