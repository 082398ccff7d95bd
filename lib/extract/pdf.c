/* The PDF extractor (linked into platctl-extract only): poppler-glib's text page by page,
 * the outline as headings, running headers and footers out of the text. */
#include "extract/extract.h"
#include "extract/helper.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poppler.h>

#include "io/io.h"
#include "mem/mem.h"

struct outline_entry {
	int page; /* from 0 */
	int level;
	char *title;
};

struct outline {
	struct outline_entry *e;
	size_t n, cap;
};

/* The outline's entries of levels 1-3 in document order, each with the page its
 * destination is on (named destinations resolved). Depth is bounded by the levels kept, so
 * a hostile outline nested a million deep costs nothing. */
static void outline_walk(PopplerDocument *doc, PopplerIndexIter *it, int level, struct outline *o)
{
	do {
		PopplerAction *a = poppler_index_iter_get_action(it);
		if (a && a->type == POPPLER_ACTION_GOTO_DEST && a->goto_dest.title && a->goto_dest.dest) {
			PopplerDest *d = a->goto_dest.dest, *named = NULL;
			if (d->type == POPPLER_DEST_NAMED && d->named_dest)
				d = named = poppler_document_find_dest(doc, d->named_dest);
			if (d && d->page_num >= 1) {
				if (o->n == o->cap) {
					o->cap = o->cap ? o->cap * 2 : 32;
					o->e = plat_xrealloc(o->e, o->cap * sizeof(*o->e));
				}
				o->e[o->n++] = (struct outline_entry){d->page_num - 1, level,
								      plat_extract_clean(a->goto_dest.title, strlen(a->goto_dest.title))};
			}
			if (named)
				poppler_dest_free(named);
		}
		if (a)
			poppler_action_free(a);
		if (level < 3) {
			PopplerIndexIter *child = poppler_index_iter_get_child(it);
			if (child) {
				outline_walk(doc, child, level + 1, o);
				poppler_index_iter_free(child);
			}
		}
	} while (poppler_index_iter_next(it));
}

/* Does text at s start with title, white space and case aside? */
static bool starts_with(const char *s, const char *title)
{
	for (;;) {
		while (plat_extract_blank(*title))
			title++;
		while (plat_extract_blank(*s))
			s++;
		if (!*title)
			return true;
		if (!*s || g_ascii_tolower(*s) != g_ascii_tolower(*title))
			return false;
		s++, title++;
	}
}

/* The offset of the line, at or after from, where the heading's text starts, maybe after
 * a section number the outline leaves out ("2.1 Variations" for "Variations": *number and
 * *number_len say where it is); SIZE_MAX when the page does not show it. */
static size_t locate(const char *text, size_t from, const char *title, const char **number, size_t *number_len)
{
	*number = NULL;
	*number_len = 0;
	if (!*title)
		return SIZE_MAX;
	for (size_t ls = from, len = strlen(text); ls < len;) {
		const char *line = text + ls;
		if (starts_with(line, title))
			return ls;
		const char *w = line;
		while (*w == ' ' || *w == '\t')
			w++;
		const char *e = w;
		bool digit = false;
		while (*e && !plat_extract_blank(*e))
			digit |= *e >= '0' && *e <= '9', e++;
		if (digit && *e == ' ' && starts_with(e, title)) {
			*number = w;
			*number_len = (size_t)(e - w);
			return ls;
		}
		const char *nl = strchr(line, '\n');
		if (!nl)
			break;
		ls = (size_t)(nl - text) + 1;
	}
	return SIZE_MAX;
}

int plat_extract_pdf(int in, int fd)
{
	GError *gerr = NULL;
	PopplerDocument *doc = poppler_document_new_from_fd(in, NULL, &gerr); /* takes the fd */
	if (!doc) {
		struct plat_buf m = PLAT_BUF_INIT;
		plat_buf_printf(&m, "not a readable PDF: %s", gerr ? gerr->message : "unknown error");
		if (gerr)
			g_error_free(gerr);
		int rc = plat_extract_fail(fd, m.data);
		plat_buf_free(&m);
		return rc;
	}
	/* All pages first: running headers are what repeats across them. */
	int n = poppler_document_get_n_pages(doc);
	size_t np = n > 0 ? (size_t)n : 0;
	char **texts = plat_xcalloc(np ? np : 1, sizeof(*texts)), **running = plat_xcalloc(np ? np : 1, sizeof(*running));
	for (size_t i = 0; i < np; i++) {
		PopplerPage *page = poppler_document_get_page(doc, (int)i);
		char *text = page ? poppler_page_get_text(page) : NULL;
		texts[i] = plat_xstrdup(text ? text : "");
		g_free(text);
		if (page)
			g_object_unref(page);
	}
	struct outline o = {0};
	PopplerIndexIter *it = poppler_index_iter_new(doc);
	if (it) {
		outline_walk(doc, it, 1, &o);
		poppler_index_iter_free(it);
	}
	gchar *info = poppler_document_get_title(doc);
	char *title = info ? plat_extract_clean(info, strlen(info)) : NULL;
	g_free(info);
	if ((!title || !*title) && o.n) {
		free(title);
		title = plat_xstrdup(o.e[0].title);
	}
	size_t removed = plat_extract_running(texts, np, title, running);
	/* Each outline entry where its title shows on its page, else at the page's top (after
	 * the entry before it on the same page). */
	struct plat_heads *heads = plat_xcalloc(np ? np : 1, sizeof(*heads));
	for (size_t i = 0; i < o.n; i++) {
		size_t pg = (size_t)o.e[i].page;
		if (pg >= np)
			continue;
		struct plat_heads *h = &heads[pg];
		size_t from = h->n ? h->h[h->n - 1].offset : 0;
		const char *num;
		size_t num_len;
		size_t at = locate(texts[pg], from, o.e[i].title, &num, &num_len);
		/* The section's number is part of its name ("2.1 Variations on read.table"). */
		struct plat_buf name = PLAT_BUF_INIT;
		plat_buf_printf(&name, "%.*s%s%s", (int)num_len, num ? num : "", num ? " " : "", o.e[i].title);
		plat_heads_add(h, at == SIZE_MAX ? from : at, o.e[i].level, name.data, name.len, NULL);
		plat_buf_free(&name);
	}
	int rc = plat_extract_emit_string(fd, 'T', title);
	for (size_t i = 0; i < np && rc == 0; i++) {
		rc = plat_extract_emit_page(fd, (int)i + 1, texts[i], strlen(texts[i]), &heads[i]);
		if (rc == 0)
			rc = plat_extract_emit_string(fd, 'R', running[i]);
	}
	if (rc == 0 && removed) {
		char line[32];
		snprintf(line, sizeof(line), "N %zu\n", removed);
		rc = plat_write_all(fd, line, strlen(line));
	}
	for (size_t i = 0; i < np; i++) {
		free(texts[i]);
		free(running[i]);
		plat_heads_free(&heads[i]);
	}
	for (size_t i = 0; i < o.n; i++)
		free(o.e[i].title);
	free(o.e);
	free(heads);
	free(texts);
	free(running);
	free(title);
	g_object_unref(doc);
	return rc;
}
