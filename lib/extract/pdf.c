/* The PDF extractor (linked into platctl-extract only): poppler-glib's text page by page,
 * the outline as headings (or, without one, the lines in larger type), running headers
 * and footers out of the text. */
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

/* Each outline entry costs a search of its page's text: a hostile outline's million
 * entries for one page would take the parse's whole CPU budget. */
#define MAX_PAGE_HEADINGS 1000
#define MAX_OUTLINE 1000000

struct outline_entry {
	int page; /* from 0 */
	int level;
	char *title;
	bool seen; /* kept only where the page shows it (a line found by its size) */
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
			if (d && d->page_num >= 1 && o->n < MAX_OUTLINE) {
				if (o->n == o->cap) {
					o->cap = o->cap ? o->cap * 2 : 32;
					o->e = plat_xrealloc(o->e, o->cap * sizeof(*o->e));
				}
				o->e[o->n++] = (struct outline_entry){d->page_num - 1, level,
								      plat_extract_clean(a->goto_dest.title, strlen(a->goto_dest.title)), false};
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

static void outline_add(struct outline *o, int page, int level, char *title, bool seen)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 32;
		o->e = plat_xrealloc(o->e, o->cap * sizeof(*o->e));
	}
	o->e[o->n++] = (struct outline_entry){page, level, title, seen};
}

#define MAX_SIZES 256 /* distinct font sizes counted; a hostile file has no more say */

struct size_count {
	int size; /* tenths of a point */
	size_t chars;
};

static void count_size(struct size_count *h, size_t *n, int size)
{
	for (size_t i = 0; i < *n; i++)
		if (h[i].size == size) {
			h[i].chars++;
			return;
		}
	if (*n < MAX_SIZES)
		h[(*n)++] = (struct size_count){size, 1};
}

static int by_size_down(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x < y) - (x > y);
}

/* The font size (tenths of a point) of each character of page i's text as poppler gave it,
 * which the attributes' character indices count in; NULL when the page cannot be read. */
static int *char_sizes(PopplerDocument *doc, const char *text, size_t i)
{
	PopplerPage *page = poppler_document_get_page(doc, (int)i);
	if (!page)
		return NULL;
	long chars = g_utf8_strlen(text, -1);
	int *sizes = plat_xcalloc((size_t)chars + 1, sizeof(int));
	GList *attrs = poppler_page_get_text_attributes(page);
	for (GList *l = attrs; l; l = l->next) {
		const PopplerTextAttributes *a = l->data;
		for (long k = a->start_index < 0 ? 0 : a->start_index; k <= a->end_index && k < chars; k++)
			sizes[k] = (int)(a->font_size * 10 + 0.5);
	}
	poppler_page_free_text_attributes(attrs);
	g_object_unref(page);
	return sizes;
}

/* Counts the visible characters of text by size into hist. */
static void count_sizes(const char *text, const int *sizes, struct size_count *hist, size_t *n_hist)
{
	long k = 0, chars = g_utf8_strlen(text, -1);
	for (const char *c = text; *c && k < chars; c = g_utf8_next_char(c), k++)
		if (!plat_extract_blank(*c))
			count_size(hist, n_hist, sizes[k]);
}

/* The body text's size: the one most characters have. */
static int body_size(const struct size_count *hist, size_t n_hist)
{
	int body = 0;
	size_t most = 0;
	for (size_t i = 0; i < n_hist; i++)
		if (hist[i].chars > most)
			most = hist[i].chars, body = hist[i].size;
	return body;
}

/* A line at ls (up to its newline or the end, returned) whose characters start at index
 * *k of sizes: its smallest size in *min, 0 unless it could be a heading (2-150 visible
 * characters, a letter among them). *k ends past the line. */
static const char *line_size(const char *ls, const int *sizes, long *k, int *min)
{
	size_t visible = 0;
	bool letter = false;
	const char *c = ls;
	*min = 0;
	for (; *c && *c != '\n'; c = g_utf8_next_char(c), (*k)++) {
		if (plat_extract_blank(*c))
			continue;
		int sz = sizes[*k];
		*min = visible++ ? (sz < *min ? sz : *min) : sz;
		letter |= g_unichar_isalpha(g_utf8_get_char(c));
	}
	if (visible < 2 || visible > 150 || !letter)
		*min = 0;
	return c;
}

/* A large line is set at least 15 % larger than the body text. */
static bool larger(int size, int body)
{
	return body > 0 && (long)size * 100 >= (long)body * 115;
}

#define TITLE_BODY_PAGES 10 /* a cover page has too little text to say the body's size */
#define TITLE_LINES 3

/* For a PDF without an Info title: the line(s) in the largest type on page 1, when that
 * type is larger than the body text (which the first pages say), a title wrapped over
 * consecutive lines joined. The outline's first entry is no title in texinfo's and
 * LaTeX's manuals ("Acknowledgements", "Preface"); their cover page shows it. */
static char *type_title(PopplerDocument *doc, char **texts, size_t np)
{
	struct size_count hist[MAX_SIZES];
	size_t n_hist = 0;
	int *first = NULL;
	for (size_t i = 0; i < np && i < TITLE_BODY_PAGES; i++) {
		int *sizes = char_sizes(doc, texts[i], i);
		if (!sizes)
			continue;
		count_sizes(texts[i], sizes, hist, &n_hist);
		if (i == 0)
			first = sizes;
		else
			free(sizes);
	}
	int body = body_size(hist, n_hist), top = 0;
	long k = 0;
	for (const char *ls = first ? texts[0] : ""; *ls;) {
		int min;
		const char *c = line_size(ls, first, &k, &min);
		if (min > top)
			top = min;
		if (!*c)
			break;
		ls = c + 1, k++;
	}
	struct plat_buf t = PLAT_BUF_INIT;
	int taken = 0;
	k = 0;
	for (const char *ls = larger(top, body) ? texts[0] : ""; *ls && taken < TITLE_LINES;) {
		int min;
		const char *c = line_size(ls, first, &k, &min);
		if (min == top) {
			if (taken++)
				plat_buf_putc(&t, ' ');
			plat_buf_append(&t, ls, (size_t)(c - ls));
		} else if (taken) {
			break;
		}
		if (!*c)
			break;
		ls = c + 1, k++;
	}
	free(first);
	char *title = t.len ? plat_extract_clean(t.data, t.len) : NULL;
	plat_buf_free(&t);
	return title;
}

/* Without an outline: the large lines, the three largest such sizes levels 1-3, a heading
 * wrapped over consecutive lines joined. texts are the pages' texts as poppler gave them. */
static void font_headings(PopplerDocument *doc, char **texts, size_t np, struct outline *o)
{
	struct size_count hist[MAX_SIZES];
	size_t n_hist = 0;
	int **sizes = plat_xcalloc(np ? np : 1, sizeof(*sizes));
	for (size_t i = 0; i < np; i++) {
		sizes[i] = char_sizes(doc, texts[i], i);
		if (sizes[i])
			count_sizes(texts[i], sizes[i], hist, &n_hist);
	}
	int body = body_size(hist, n_hist);
	/* The lines, then the levels their sizes make. */
	struct line {
		size_t page;
		int size;
		struct plat_buf text;
	} *lines = NULL;
	size_t n_lines = 0, cap = 0;
	for (size_t i = 0; i < np && body > 0; i++) {
		if (!sizes[i])
			continue;
		long k = 0;
		bool previous = false; /* the line before was a heading's */
		for (const char *ls = texts[i]; *ls;) {
			int min;
			const char *c = line_size(ls, sizes[i], &k, &min);
			bool big = min && larger(min, body);
			if (big && previous && lines[n_lines - 1].size == min) {
				plat_buf_putc(&lines[n_lines - 1].text, ' ');
				plat_buf_append(&lines[n_lines - 1].text, ls, (size_t)(c - ls));
			} else if (big) {
				if (n_lines == cap) {
					cap = cap ? cap * 2 : 32;
					lines = plat_xrealloc(lines, cap * sizeof(*lines));
				}
				lines[n_lines] = (struct line){i, min, PLAT_BUF_INIT};
				plat_buf_append(&lines[n_lines++].text, ls, (size_t)(c - ls));
			}
			previous = big;
			if (!*c)
				break;
			ls = c + 1;
			k++;
		}
	}
	int levels[3] = {0, 0, 0}, n_levels = 0;
	{
		int *all = plat_xcalloc(n_lines ? n_lines : 1, sizeof(int));
		for (size_t i = 0; i < n_lines; i++)
			all[i] = lines[i].size;
		qsort(all, n_lines, sizeof(int), by_size_down);
		for (size_t i = 0; i < n_lines && n_levels < 3; i++)
			if (!n_levels || all[i] != levels[n_levels - 1])
				levels[n_levels++] = all[i];
		free(all);
	}
	for (size_t i = 0; i < n_lines; i++) {
		int level = 0;
		for (int l = 0; l < n_levels; l++)
			if (lines[i].size == levels[l])
				level = l + 1;
		plat_buf_reserve(&lines[i].text, 0);
		if (level)
			outline_add(o, (int)lines[i].page, level, plat_extract_clean(lines[i].text.data, lines[i].text.len), true);
		plat_buf_free(&lines[i].text);
	}
	free(lines);
	for (size_t i = 0; i < np; i++)
		free(sizes[i]);
	free(sizes);
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
	if (!o.n)
		font_headings(doc, texts, np, &o);
	gchar *info = poppler_document_get_title(doc);
	char *title = info ? plat_extract_clean(info, strlen(info)) : NULL;
	g_free(info);
	if (!title || !*title) {
		free(title);
		title = type_title(doc, texts, np);
	}
	if (!title && o.n)
		title = plat_xstrdup(o.e[0].title);
	size_t removed = plat_extract_running(texts, np, title, running);
	/* After the running headers (found as whole lines) and before the headings are
	 * placed, which find their titles in the mended text. */
	plat_extract_mend_words(texts, np);
	for (size_t i = 0; i < o.n; i++)
		plat_extract_plain_letters(o.e[i].title, strlen(o.e[i].title));
	/* Each outline entry where its title shows on its page, else at the page's top (after
	 * the entry before it on the same page); a line found by its size where it still is. */
	struct plat_heads *heads = plat_xcalloc(np ? np : 1, sizeof(*heads));
	for (size_t i = 0; i < o.n; i++) {
		size_t pg = (size_t)o.e[i].page;
		if (pg >= np)
			continue;
		struct plat_heads *h = &heads[pg];
		if (h->n >= MAX_PAGE_HEADINGS)
			continue;
		size_t from = h->n ? h->h[h->n - 1].offset : 0;
		const char *num;
		size_t num_len;
		size_t at = locate(texts[pg], from, o.e[i].title, &num, &num_len);
		if (at == SIZE_MAX && o.e[i].seen)
			continue; /* a large line that was a running header */
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
