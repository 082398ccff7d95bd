/* The commented example configuration, generated from the key table so it cannot drift.
 * etc/platctl.yaml is this output; tests/cli/config.bats checks they are identical. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "mem/mem.h"

#define WRAP 88

static void comment_wrapped(struct plat_buf *b, int indent, const char *text)
{
	const char *p = text;
	while (*p) {
		plat_buf_printf(b, "%*s#", indent, "");
		int col = indent + 1;
		bool first = true;
		while (*p) {
			size_t w = strcspn(p, " ");
			if (!first && col + 1 + (int)w > WRAP)
				break;
			plat_buf_putc(b, ' ');
			plat_buf_append(b, p, w);
			col += 1 + (int)w;
			first = false;
			p += w;
			p += strspn(p, " ");
		}
		plat_buf_putc(b, '\n');
	}
}

/* Split "a.b.c" into at most 8 segments pointing into buf. */
static int split_key(const char *name, char *buf, size_t len, const char **segs)
{
	snprintf(buf, len, "%s", name);
	int n = 0;
	for (char *s = buf; s && n < 8;) {
		segs[n++] = s;
		s = strchr(s, '.');
		if (s)
			*s++ = '\0';
	}
	return n;
}

static bool needs_quotes(const char *v)
{
	return *v == '\0' || strpbrk(v, ":#{}[],&*!|>'\"%@`") != NULL || v[0] == ' ' || v[0] == '-';
}

char *plat_config_example(void)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_puts(&b,
		      "# platctl configuration.\n"
		      "#\n"
		      "# Generated from platctl's key table by `platctl config example`; every key is listed with\n"
		      "# its default. platctl reads the first of: --config FILE, $PLATCTL_CONFIG,\n"
		      "# $XDG_CONFIG_HOME/platctl/config.yaml (~/.config/... when unset), /etc/platctl/config.yaml.\n"
		      "#\n"
		      "# Precedence, highest first: command-line flags, environment, the active profile, the top\n"
		      "# level of this file, built-in defaults. Every key can be set from the environment as\n"
		      "# PLATCTL_<KEY> with dots as underscores (database.url -> PLATCTL_DATABASE_URL).\n"
		      "# `platctl config validate` checks a file; `platctl config show` prints the result.\n"
		      "\n"
		      "# Profile used when neither --profile nor PLATCTL_PROFILE names one.\n"
		      "#profile: dev\n");

	const char *prev_section = NULL;
	const char *prev[8] = {0};
	char prev_buf[256] = "";
	int prev_n = 0;
	for (int k = 0; k < PLAT_CFG__COUNT; k++) {
		const struct plat_config_key_def *def = plat_config_key_def(k);
		char buf[256];
		const char *segs[8];
		int n = split_key(def->name, buf, sizeof(buf), segs);

		if (!prev_section || strcmp(prev_section, def->section) != 0) {
			plat_buf_printf(&b, "\n# ---- %s ----\n", def->section);
			prev_section = def->section;
			prev_n = 0; /* a new section reopens its mappings */
		}
		/* Open the mappings this key needs that the previous key did not share. */
		int common = 0;
		while (common < n - 1 && common < prev_n - 1 && strcmp(segs[common], prev[common]) == 0)
			common++;
		for (int d = common; d < n - 1; d++)
			plat_buf_printf(&b, "%*s%s:\n", 2 * d, "", segs[d]);

		int indent = 2 * (n - 1);
		plat_buf_putc(&b, '\n');
		comment_wrapped(&b, indent, def->doc);
		if (def->choices) {
			struct plat_buf c = PLAT_BUF_INIT;
			plat_buf_puts(&c, "One of:");
			for (const char *const *ch = def->choices; *ch; ch++)
				plat_buf_printf(&c, " %s", *ch);
			plat_buf_putc(&c, '.');
			comment_wrapped(&b, indent, c.data);
			plat_buf_free(&c);
		}
		char env[128];
		plat_config_env_name(def->name, env, sizeof(env));
		plat_buf_printf(&b, "%*s# Environment: %s\n", indent, "", env);
		if (def->default_value) {
			const char *q = needs_quotes(def->default_value) ? "\"" : "";
			plat_buf_printf(&b, "%*s%s: %s%s%s\n", indent, "", segs[n - 1], q, def->default_value, q);
		} else {
			const char *ex = def->example ? def->example : "";
			const char *q = needs_quotes(ex) ? "\"" : "";
			plat_buf_printf(&b, "%*s#%s: %s%s%s\n", indent, "", segs[n - 1], q, ex, q);
		}

		memcpy(prev_buf, buf, sizeof(prev_buf));
		for (int i = 0; i < n; i++)
			prev[i] = prev_buf + (segs[i] - buf);
		prev_n = n;
	}

	plat_buf_puts(&b,
		      "\n# ---- profiles ----\n"
		      "# Named overlays on the keys above, chosen with --profile NAME or PLATCTL_PROFILE.\n"
		      "#profiles:\n"
		      "#  staging:\n"
		      "#    database:\n"
		      "#      url: postgres://platctl@db.staging.internal/platctl\n"
		      "#    log:\n"
		      "#      level: info\n");
	return plat_buf_detach(&b);
}
