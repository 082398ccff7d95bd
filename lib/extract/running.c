/* Running headers and footers: printed on every page of a manual ("Chapter 2: Spreadsheet-like
 * data 11"), glued into the text they would be repeated in every chunk, matched by every
 * query for the chapter's words and cut sentences in two at each page break. They are found
 * by repetition alone, as a reader finds them: no font or position information is needed,
 * so the same code serves any source of page texts. */
#include "extract/extract.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"

#define ZONE 3	      /* lines at each end of a page that may be a header or footer */
#define MIN_PAGES 3   /* a line on fewer pages is text that happens to repeat */
#define MAX_LINE 200  /* longer lines are text */

struct line {
	size_t page, start, end; /* end: past the line's newline, if any */
	int zone;		 /* 0 top, 1 bottom */
	char *key;		 /* normalised */
	size_t group;
};

struct group {
	size_t pages, first, last;
	int zone;
	const char *key;
	bool numeric;  /* a page number: no letters */
	bool document; /* the document's name: repeats through the whole document */
	bool kin;      /* on fewer pages, but of a kind with running headers: "Chapter #: ..." */
	char *kind;
};

/* On three pages or more, and on at least 40 % of those from its first to its last: a
 * header is on (nearly) every page of its chapter, or every other one; a line of code
 * that happens to start a few pages of a long manual is not. Page numbers count anywhere. */
static bool repeats(const struct group *g)
{
	return g->pages >= MIN_PAGES && (g->numeric || g->pages * 5 >= (g->last - g->first + 1) * 2);
}

static bool running_group(const struct group *g)
{
	return repeats(g) || g->kin;
}

/* The kind of a header: its first two words when the second is a number or a letter, both
 * made '#' ("Chapter #:", "Appendix #:", "Section #"); NULL for other lines. */
static char *kind_of(const char *key)
{
	const char *sp = strchr(key, ' ');
	const char *end = sp ? strchr(sp + 1, ' ') : NULL;
	if (!end || sp == key)
		return NULL;
	const char *w = sp + 1;
	size_t wn = (size_t)(end - w), mark = strspn(w, "#");
	if (!mark && isupper((unsigned char)*w))
		mark = 1; /* A, B ... */
	if (!mark || strspn(w + mark, ".:") != wn - mark)
		return NULL;
	for (const char *c = key; c < sp; c++)
		if (!isalpha((unsigned char)*c))
			return NULL;
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_printf(&b, "%.*s #%.*s", (int)(sp - key), key, (int)(wn - mark), w + mark);
	return plat_buf_detach(&b);
}

static int by_kind(const void *a, const void *b)
{
	const struct group *x = *(const struct group *const *)a, *y = *(const struct group *const *)b;
	if (x->zone != y->zone)
		return x->zone - y->zone;
	return strcmp(x->kind, y->kind);
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static bool roman(const char *s, size_t n)
{
	if (n == 0 || n > 7)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("ivxlcdmIVXLCDM", s[i]))
			return false;
	return true;
}

/* White space collapsed, runs of digits and roman numerals at either end of the line made
 * '#', so that page 11 and page 12 (or xi and xii) compare equal. NULL for a line that
 * cannot be a header: empty, too long, or without a letter or digit. */
static char *normalise(const char *s, size_t n)
{
	while (n && space(s[n - 1]))
		n--;
	while (n && space(*s))
		s++, n--;
	if (n == 0 || n > MAX_LINE)
		return NULL;
	struct plat_buf b = PLAT_BUF_INIT;
	bool alnum = false;
	size_t i = 0;
	while (i < n) {
		if (space(s[i])) {
			while (i < n && space(s[i]))
				i++;
			plat_buf_putc(&b, ' ');
			continue;
		}
		size_t w = i;
		while (w < n && !space(s[w]))
			w++;
		bool edge = i == 0 || w == n;
		if (edge && roman(s + i, w - i)) {
			plat_buf_putc(&b, '#');
			alnum = true;
			i = w;
			continue;
		}
		for (; i < w; i++) {
			unsigned char c = (unsigned char)s[i];
			if (isdigit(c)) {
				while (i + 1 < w && isdigit((unsigned char)s[i + 1]))
					i++;
				plat_buf_putc(&b, '#');
				alnum = true;
			} else {
				alnum |= isalpha(c) || c >= 0x80;
				plat_buf_putc(&b, (char)c);
			}
		}
	}
	if (!alnum) {
		plat_buf_free(&b);
		return NULL;
	}
	plat_buf_reserve(&b, 0);
	return plat_buf_detach(&b);
}

static int by_place(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int by_key(const void *a, const void *b)
{
	const struct line *x = *(const struct line *const *)a, *y = *(const struct line *const *)b;
	if (x->zone != y->zone)
		return x->zone - y->zone;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->page < y->page ? -1 : x->page > y->page;
}

/* The candidate lines of one page: its first and last ZONE non-blank lines (on a short
 * page a line can be both). */
static void candidates(const char *text, size_t page, struct line **lines, size_t *n, size_t *cap)
{
	size_t len = strlen(text);
	struct line all[2 * ZONE];
	size_t top = 0, n_all = 0;
	for (size_t p = 0; p < len && top < ZONE;) {
		const char *nl = memchr(text + p, '\n', len - p);
		size_t end = nl ? (size_t)(nl - text) + 1 : len;
		bool blank = true;
		for (size_t i = p; i < end; i++)
			blank &= space(text[i]);
		if (!blank) {
			all[n_all++] = (struct line){page, p, end, 0, NULL, 0};
			top++;
		}
		p = end;
	}
	for (size_t e = len, bottom = 0; e > 0 && bottom < ZONE;) {
		size_t end = e, s = e;
		if (text[s - 1] == '\n')
			s--;
		while (s > 0 && text[s - 1] != '\n')
			s--;
		bool blank = true;
		for (size_t i = s; i < end; i++)
			blank &= space(text[i]);
		if (!blank) {
			all[n_all++] = (struct line){page, s, end, 1, NULL, 0};
			bottom++;
		}
		e = s;
	}
	for (size_t i = 0; i < n_all; i++) {
		all[i].key = normalise(text + all[i].start, all[i].end - all[i].start);
		if (!all[i].key)
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*lines = plat_xrealloc(*lines, *cap * sizeof(**lines));
		}
		(*lines)[(*n)++] = all[i];
	}
}

/* The line as a section name: white space collapsed, page numbers at its ends cut off. */
static char *display(const char *s, size_t n)
{
	char *k = plat_xmalloc(n + 1);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (space(s[i])) {
			if (m && k[m - 1] != ' ')
				k[m++] = ' ';
		} else {
			k[m++] = s[i];
		}
	}
	k[m] = '\0';
	/* Cut number words from both ends. */
	for (;;) {
		while (m && k[m - 1] == ' ')
			k[--m] = '\0';
		char *last = strrchr(k, ' ');
		char *w = last ? last + 1 : k;
		size_t wn = strlen(w);
		bool num = wn > 0 && (roman(w, wn) || strspn(w, "0123456789") == wn);
		if (!num || w == k)
			break;
		*w = '\0';
		m = (size_t)(w - k);
	}
	for (;;) {
		char *sp = strchr(k, ' ');
		if (!sp)
			break;
		size_t wn = (size_t)(sp - k);
		if (!(roman(k, wn) || strspn(k, "0123456789") == wn))
			break;
		memmove(k, sp + 1, strlen(sp + 1) + 1);
	}
	return k;
}

static bool same_text(const char *a, const char *b)
{
	for (;;) {
		while (space(*a))
			a++;
		while (space(*b))
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		a++, b++;
	}
}

size_t plat_extract_running(char **texts, size_t n, const char *title, char **running)
{
	for (size_t i = 0; i < n; i++)
		running[i] = NULL;
	struct line *lines = NULL;
	size_t n_lines = 0, cap = 0;
	for (size_t i = 0; i < n; i++)
		candidates(texts[i], i, &lines, &n_lines, &cap);
	struct line **order = plat_xcalloc(n_lines ? n_lines : 1, sizeof(*order));
	for (size_t i = 0; i < n_lines; i++)
		order[i] = &lines[i];
	if (n_lines)
		qsort(order, n_lines, sizeof(*order), by_key);
	/* Groups of equal lines at the same end of pages, counted once per page. */
	struct group *groups = plat_xcalloc(n_lines ? n_lines : 1, sizeof(*groups));
	size_t n_groups = 0;
	for (size_t i = 0; i < n_lines;) {
		size_t j = i;
		struct group g = {0, order[i]->page, order[i]->page, order[i]->zone, order[i]->key, true, false, false, NULL};
		for (const char *c = order[i]->key; *c; c++)
			g.numeric &= !(isalpha((unsigned char)*c) || (unsigned char)*c >= 0x80);
		for (; j < n_lines && order[j]->zone == order[i]->zone && !strcmp(order[j]->key, order[i]->key); j++) {
			if (j == i || order[j]->page != order[j - 1]->page)
				g.pages++;
			g.last = order[j]->page;
			order[j]->group = n_groups;
		}
		groups[n_groups++] = g;
		i = j;
	}
	/* A header that repeats all through the document, or across other headers' whole
	 * stretches (the manual's name on even pages, chapters on odd ones), is not a chapter. */
	size_t n_strong = 0;
	size_t *strong = plat_xcalloc(n_groups ? n_groups : 1, sizeof(*strong));
	for (size_t a = 0; a < n_groups; a++)
		if (repeats(&groups[a]) && !groups[a].numeric)
			strong[n_strong++] = a;
	for (size_t a = 0; a < n_strong; a++) {
		struct group *g = &groups[strong[a]];
		if (g->pages * 10 >= n * 9)
			g->document = true;
		for (size_t b = 0; b < n_strong && !g->document; b++) {
			const struct group *h = &groups[strong[b]];
			if (h->pages < g->pages && g->first <= h->first && h->last <= g->last)
				g->document = true;
		}
	}
	/* A chapter too short to repeat its header three times still has one of the same kind
	 * as two that did ("Chapter 3: Importing ..." among "Chapter #: ..."). */
	struct group **kinds = plat_xcalloc(n_groups ? n_groups : 1, sizeof(*kinds));
	size_t n_kinds = 0;
	for (size_t a = 0; a < n_groups; a++)
		if (!groups[a].numeric && (groups[a].kind = kind_of(groups[a].key)))
			kinds[n_kinds++] = &groups[a];
	if (n_kinds)
		qsort(kinds, n_kinds, sizeof(*kinds), by_kind);
	for (size_t a = 0; a < n_kinds;) {
		size_t b = a, chapters = 0;
		for (; b < n_kinds && by_kind(&kinds[a], &kinds[b]) == 0; b++)
			chapters += repeats(kinds[b]) && !kinds[b]->document;
		for (size_t k = a; k < b && chapters >= 2; k++)
			kinds[k]->kin = !repeats(kinds[k]);
		a = b;
	}
	for (size_t a = 0; a < n_kinds; a++)
		free(kinds[a]->kind);
	free(kinds);
	free(strong);
	/* Per page: the chapter its header names, the most specific one when there are two. */
	size_t removed = 0;
	long *chapter = plat_xcalloc(n ? n : 1, sizeof(*chapter)); /* line index + 1, or 0 */
	for (size_t i = 0; i < n_lines; i++) {
		struct group *g = &groups[lines[i].group];
		if (!running_group(g))
			continue;
		if (!g->numeric && !g->document) {
			long *c = &chapter[lines[i].page];
			if (!*c || groups[lines[*c - 1].group].pages > g->pages)
				*c = (long)i + 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!chapter[i])
			continue;
		const struct line *l = &lines[chapter[i] - 1];
		char *name = display(texts[i] + l->start, l->end - l->start);
		if (!*name || (title && same_text(name, title))) {
			free(name);
			chapter[i] = 0;
		} else {
			running[i] = name;
		}
	}
	/* A page without one is its chapter's first (the next page names a new chapter) or
	 * continues the one before. */
	const char *prev = NULL;
	for (size_t i = 0; i < n; i++) {
		if (chapter[i]) {
			prev = running[i];
			continue;
		}
		const char *next = i + 1 < n && chapter[i + 1] ? running[i + 1] : NULL;
		const char *pick = next && (!prev || strcmp(next, prev)) ? next : prev;
		if (pick)
			running[i] = plat_xstrdup(pick);
	}
	if (n_lines)
		qsort(lines, n_lines, sizeof(*lines), by_place); /* order[] and chapter[] are done with */
	for (size_t p = 0, i = 0; p < n; p++) {
		char *t = texts[p];
		size_t w = 0, r = 0, len = strlen(t);
		for (; i < n_lines && lines[i].page == p; i++) {
			if (!running_group(&groups[lines[i].group]) || lines[i].start < r)
				continue; /* text, or a line of both ends removed already */
			memmove(t + w, t + r, lines[i].start - r);
			w += lines[i].start - r;
			r = lines[i].end;
			removed++;
		}
		memmove(t + w, t + r, len - r);
		t[w + len - r] = '\0';
	}
	for (size_t i = 0; i < n_lines; i++)
		free(lines[i].key);
	free(lines);
	free(order);
	free(groups);
	free(chapter);
	return removed;
}
