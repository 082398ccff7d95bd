/* A tiny template renderer for the notification bodies: {{name}}, {{#section}}, {{^inverted}}
 * over a cJSON context (a Mustache subset). Written here rather than taken from a library
 * because Debian has no C Mustache library, and this subset is all the templates need. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"
#include "notify/internal.h"
#include "paths.h" /* build/gen: PLATCTL_SYSCONFDIR, under which make install puts the templates */

#define MAX_DEPTH 16

struct render {
	const char *tpl;
	bool html;
	const cJSON *stack[MAX_DEPTH];
	int depth;
	struct plat_buf *out;
	struct plat_error *err;
};

static int line_of(const char *tpl, const char *at)
{
	int line = 1;
	for (const char *p = tpl; p < at; p++)
		line += *p == '\n';
	return line;
}

/* name in one context: "." is the context itself, "a.b" walks objects. */
static const cJSON *lookup_in(const cJSON *ctx, const char *name, size_t len)
{
	if (len == 1 && name[0] == '.')
		return ctx;
	const cJSON *cur = ctx;
	while (len) {
		size_t seg = 0;
		while (seg < len && name[seg] != '.')
			seg++;
		char key[128];
		if (seg >= sizeof(key))
			return NULL;
		memcpy(key, name, seg);
		key[seg] = '\0';
		if (cJSON_IsArray(cur) && seg > 0 && strspn(key, "0123456789") == seg && seg < 9)
			cur = cJSON_GetArrayItem(cur, atoi(key)); /* {{#list.0}}: the list is not empty */
		else if (cJSON_IsObject(cur))
			cur = cJSON_GetObjectItemCaseSensitive(cur, key);
		else
			return NULL;
		if (!cur)
			return NULL;
		name += seg;
		len -= seg;
		if (len) {
			name++;
			len--;
		}
	}
	return cur;
}

/* The innermost context whose first segment resolves decides (Mustache's rule). */
static const cJSON *lookup(const struct render *r, const char *name, size_t len)
{
	if (len == 1 && name[0] == '.')
		return r->stack[r->depth - 1];
	size_t first = 0;
	while (first < len && name[first] != '.')
		first++;
	for (int i = r->depth - 1; i >= 0; i--) {
		if (lookup_in(r->stack[i], name, first))
			return lookup_in(r->stack[i], name, len);
	}
	return NULL;
}

static void put_escaped(struct render *r, const char *s)
{
	if (!r->html) {
		plat_buf_puts(r->out, s);
		return;
	}
	for (; *s; s++) {
		switch (*s) {
		case '&': plat_buf_puts(r->out, "&amp;"); break;
		case '<': plat_buf_puts(r->out, "&lt;"); break;
		case '>': plat_buf_puts(r->out, "&gt;"); break;
		case '"': plat_buf_puts(r->out, "&quot;"); break;
		case '\'': plat_buf_puts(r->out, "&#39;"); break;
		default: plat_buf_putc(r->out, *s);
		}
	}
}

static void put_value(struct render *r, const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return;
	if (cJSON_IsString(v)) {
		put_escaped(r, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		char num[64];
		double d = v->valuedouble;
		if (d == floor(d) && fabs(d) < 1e15)
			snprintf(num, sizeof(num), "%lld", (long long)d);
		else
			snprintf(num, sizeof(num), "%g", d);
		put_escaped(r, num);
	} else if (cJSON_IsBool(v)) {
		put_escaped(r, cJSON_IsTrue(v) ? "true" : "false");
	} else {
		char *s = cJSON_PrintUnformatted(v);
		put_escaped(r, s ? s : "");
		cJSON_free(s);
	}
}

static bool truthy(const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return false;
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0';
	if (cJSON_IsArray(v))
		return cJSON_GetArraySize(v) > 0;
	return true;
}

/* Render tpl[from..] until {{/name}} closing the section opened at opened (or the end
 * when name is NULL); *end is set after the closing tag. emit false: only find the end. */
static int render_span(struct render *r, const char *from, const char *name, size_t name_len, const char *opened,
		       bool emit, const char **end)
{
	const char *p = from;
	for (;;) {
		const char *open = strstr(p, "{{");
		if (!open) {
			if (name)
				return plat_error_set(r->err, PLAT_E_INVALID, "template line %d: section '%.*s' is not closed",
						      line_of(r->tpl, opened), (int)name_len, name);
			if (emit)
				plat_buf_puts(r->out, p);
			*end = p + strlen(p);
			return 0;
		}
		if (emit)
			plat_buf_append(r->out, p, (size_t)(open - p));
		const char *close = strstr(open + 2, "}}");
		if (!close)
			return plat_error_set(r->err, PLAT_E_INVALID, "template line %d: '{{' without '}}'",
					      line_of(r->tpl, open));
		const char *tag = open + 2;
		char sigil = *tag;
		if (sigil == '#' || sigil == '^' || sigil == '/')
			tag++;
		while (*tag == ' ')
			tag++;
		size_t len = (size_t)(close - tag);
		while (len && tag[len - 1] == ' ')
			len--;
		if (len == 0)
			return plat_error_set(r->err, PLAT_E_INVALID, "template line %d: empty tag", line_of(r->tpl, open));
		const char *after = close + 2;
		/* A section tag alone on its line takes the line with it, so loops leave no blank lines. */
		if (sigil == '#' || sigil == '^' || sigil == '/') {
			const char *ls = open;
			while (ls > r->tpl && (ls[-1] == ' ' || ls[-1] == '\t'))
				ls--;
			const char *le = after;
			while (*le == ' ' || *le == '\t')
				le++;
			if ((ls == r->tpl || ls[-1] == '\n') && (*le == '\n' || *le == '\0')) {
				if (emit && r->out->len >= (size_t)(open - ls)) {
					r->out->len -= (size_t)(open - ls);
					r->out->data[r->out->len] = '\0';
				}
				after = *le == '\n' ? le + 1 : le;
			}
		}
		if (sigil == '/') {
			if (!name || len != name_len || strncmp(tag, name, len))
				return plat_error_set(r->err, PLAT_E_INVALID, "template line %d: '{{/%.*s}}' closes no open section",
						      line_of(r->tpl, open), (int)len, tag);
			*end = after;
			return 0;
		}
		if (sigil == '#' || sigil == '^') {
			const cJSON *v = emit ? lookup(r, tag, len) : NULL;
			const char *sec_end = NULL;
			int rc;
			if (!emit || (sigil == '^' && truthy(v)) || (sigil == '#' && !truthy(v))) {
				rc = render_span(r, after, tag, len, open, false, &sec_end);
			} else if (sigil == '^') {
				rc = render_span(r, after, tag, len, open, true, &sec_end);
			} else if (r->depth >= MAX_DEPTH) {
				return plat_error_set(r->err, PLAT_E_INVALID, "template line %d: sections nested too deep",
						      line_of(r->tpl, open));
			} else if (cJSON_IsArray(v)) {
				rc = 0;
				const cJSON *it;
				cJSON_ArrayForEach(it, v)
				{
					r->stack[r->depth++] = it;
					rc = render_span(r, after, tag, len, open, true, &sec_end);
					r->depth--;
					if (rc < 0)
						break;
				}
			} else {
				const cJSON *inner = cJSON_IsObject(v) ? v : r->stack[r->depth - 1];
				r->stack[r->depth++] = inner;
				rc = render_span(r, after, tag, len, open, true, &sec_end);
				r->depth--;
			}
			if (rc < 0)
				return rc;
			p = sec_end;
			continue;
		}
		if (emit)
			put_value(r, lookup(r, tag, len));
		p = after;
	}
}

int plat_notify_render(const char *tpl, const cJSON *ctx, bool html, char **out, struct plat_error *err)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_reserve(&b, strlen(tpl) + 1);
	struct render r = {.tpl = tpl, .html = html, .depth = 1, .out = &b, .err = err};
	r.stack[0] = ctx;
	const char *end;
	if (render_span(&r, tpl, NULL, 0, tpl, true, &end) < 0) {
		plat_buf_free(&b);
		*out = NULL;
		return -err->kind;
	}
	*out = plat_buf_detach(&b);
	return 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct plat_buf b = PLAT_BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (1u << 20))
		plat_buf_append(&b, chunk, n);
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		plat_buf_free(&b);
		return NULL;
	}
	plat_buf_reserve(&b, 0);
	return plat_buf_detach(&b);
}

int plat_notify_render_named(const char *dir, const char *name, const cJSON *ctx, char **out, struct plat_error *err)
{
	const char *builtin = notify_builtin_template(name);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : PLATCTL_SYSCONFDIR "/platctl/notify", name);
	char *text = read_file(path);
	if (!text && errno != ENOENT && dir && *dir)
		return plat_error_set(err, PLAT_E_CONFIG, "cannot read template '%s': %s", path, strerror(errno));
	if (!text && !builtin)
		return plat_error_set(err, PLAT_E_NOT_FOUND, "no template '%s'", name);
	size_t nl = strlen(name);
	bool html = nl > 5 && !strcmp(name + nl - 5, ".html");
	int rc = plat_notify_render(text ? text : builtin, ctx, html, out, err);
	if (rc < 0)
		plat_error_wrap(err, "template '%s'", text ? path : name);
	free(text);
	return rc;
}
