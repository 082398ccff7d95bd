#include "chunk/chunk.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"

/* A unit is a sentence (or, for an over-long sentence, a run of words). */
struct unit {
	const char *s;
	size_t n;
	int words;
	bool paragraph_start;
};

static int count_words(const char *s, size_t n)
{
	int w = 0;
	bool in = false;
	for (size_t i = 0; i < n; i++) {
		bool space = s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r';
		if (!space && !in)
			w++;
		in = !space;
	}
	return w;
}

static void push(struct unit **u, size_t *n, size_t *cap, struct unit v)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*u = plat_xrealloc(*u, *cap * sizeof(**u));
	}
	(*u)[(*n)++] = v;
}

/* Split text[0..len) into sentence units; a sentence longer than budget words becomes runs
 * of budget words. After a heading (the text's first line), a paragraph starts. */
static void units_of(const char *text, size_t len, bool heading, int budget, struct unit **u, size_t *n)
{
	size_t cap = 0;
	*n = 0;
	*u = NULL;
	size_t start = 0;
	bool para = true;
	for (size_t i = 0; i <= len; i++) {
		bool end = i == len, blank = false;
		if (!end && heading && text[i] == '\n')
			end = blank = true, heading = false;
		else if (!end && (text[i] == '.' || text[i] == '!' || text[i] == '?') &&
			 (i + 1 == len || text[i + 1] == ' ' || text[i + 1] == '\n'))
			end = true;
		else if (!end && text[i] == '\n' && i + 1 < len && text[i + 1] == '\n')
			end = blank = true;
		if (!end)
			continue;
		size_t a = start, b = i < len && !blank ? i + 1 : i;
		while (a < b && (text[a] == ' ' || text[a] == '\n' || text[a] == '\t' || text[a] == '\r'))
			a++;
		while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\n' || text[b - 1] == '\t' || text[b - 1] == '\r'))
			b--;
		int w = count_words(text + a, b - a);
		if (w > budget) {
			/* Runs of budget words, cut at spaces. */
			size_t p = a;
			while (p < b) {
				size_t q = p;
				int taken = 0;
				bool in = false;
				while (q < b) {
					bool space = text[q] == ' ' || text[q] == '\n' || text[q] == '\t';
					if (!space && !in && ++taken > budget)
						break;
					in = !space;
					q++;
				}
				size_t e = q;
				while (e > p && (text[e - 1] == ' ' || text[e - 1] == '\n'))
					e--;
				push(u, n, &cap, (struct unit){text + p, e - p, count_words(text + p, e - p), para});
				para = false;
				p = q;
				while (p < b && (text[p] == ' ' || text[p] == '\n'))
					p++;
			}
		} else if (w > 0) {
			push(u, n, &cap, (struct unit){text + a, b - a, w, para});
			para = false;
		}
		if (blank)
			para = true;
		start = i + 1;
	}
}

/* Where the chunks being made sit. */
struct place {
	int page;
	const char *title, *section, *anchor;
};

static char *dup(const char *s)
{
	return s ? plat_xstrdup(s) : NULL;
}

/* A heading with no text of its own before the next heading (a chapter's title right
 * above its first section's): alone it would be a chunk of a few words that matches its
 * words better than any passage about them, so it opens the document's next chunk. */
struct held {
	struct plat_buf text;
	int words;
	struct place at; /* where it was, for a heading that ends the document */
};

static void hold(struct held *h, const struct place *at, const struct unit *u)
{
	if (h->text.len)
		plat_buf_puts(&h->text, "\n\n");
	for (size_t k = 0; k < u->n; k++)
		plat_buf_putc(&h->text, u->s[k] == '\n' ? ' ' : u->s[k]);
	h->words += u->words;
	free((char *)h->at.section);
	free((char *)h->at.anchor);
	h->at = (struct place){at->page, at->title, dup(at->section), dup(at->anchor)};
}

static void emit(struct plat_chunks *out, size_t *cap, const struct place *at, const struct unit *u, size_t from,
		 size_t to, struct held *held)
{
	struct plat_buf b = PLAT_BUF_INIT;
	int words = held->words;
	if (held->text.len) {
		plat_buf_append(&b, held->text.data, held->text.len);
		if (to > from)
			plat_buf_puts(&b, "\n\n");
		plat_buf_reset(&held->text);
		held->words = 0;
	}
	for (size_t i = from; i < to; i++) {
		if (i > from)
			plat_buf_puts(&b, u[i].paragraph_start ? "\n\n" : " ");
		for (size_t k = 0; k < u[i].n; k++)
			plat_buf_putc(&b, u[i].s[k] == '\n' ? ' ' : u[i].s[k]);
		words += u[i].words;
	}
	if (out->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		out->chunks = plat_xrealloc(out->chunks, *cap * sizeof(*out->chunks));
	}
	plat_buf_reserve(&b, 0);
	out->chunks[out->n] = (struct plat_chunk){(int)out->n, at->page,	   words,	  plat_buf_detach(&b),
						  dup(at->title),   dup(at->section), dup(at->anchor)};
	out->n++;
}

/* The chunks of one stretch of a page, all in one section. */
static void chunk_text(const char *text, size_t len, bool heading, int budget, int overlap, const struct place *at,
		       struct plat_chunks *out, size_t *cap, struct held *held)
{
	struct unit *u;
	size_t n;
	units_of(text, len, heading, budget, &u, &n);
	if (heading && n == 1) {
		hold(held, at, &u[0]);
		free(u);
		return;
	}
	size_t from = 0;
	while (from < n) {
		/* Fill up to the budget with whole units. */
		size_t to = from;
		int words = 0;
		while (to < n && (to == from || words + u[to].words <= budget))
			words += u[to++].words;
		emit(out, cap, at, u, from, to, held);
		if (to >= n)
			break;
		/* The next chunk repeats the last whole units that fit in the overlap. */
		size_t next = to;
		int back = 0;
		while (next > from + 1 && back + u[next - 1].words <= overlap)
			back += u[--next].words;
		from = next;
	}
	free(u);
}

static bool same_text(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ' || *a == '\t' || *a == '\n')
			a++;
		while (*b == ' ' || *b == '\t' || *b == '\n')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if ((*a >= 'A' && *a <= 'Z' ? *a + 32 : *a) != (*b >= 'A' && *b <= 'Z' ? *b + 32 : *b))
			return false;
		a++, b++;
	}
}

/* The heading path as "a > b > c" into b; false when it is empty. */
static bool path_text(struct plat_heading *const path[3], struct plat_buf *b)
{
	plat_buf_reset(b);
	for (int l = 0; l < 3; l++)
		if (path[l])
			plat_buf_printf(b, "%s%s", b->len ? " > " : "", path[l]->text);
	return b->len > 0;
}

void plat_chunk_pages(const struct plat_pages *pages, int budget, int overlap, struct plat_chunks *out)
{
	if (budget < 16)
		budget = 16;
	if (overlap < 0 || overlap >= budget / 2)
		overlap = budget / 8;
	memset(out, 0, sizeof(*out));
	size_t cap = 0;
	/* The first heading is left out of the paths when it repeats the title. */
	const struct plat_heading *title_heading = NULL;
	for (size_t p = 0; p < pages->n; p++)
		if (pages->pages[p].n_headings) {
			const struct plat_heading *h = &pages->pages[p].headings[0];
			if (pages->title && same_text(h->text, pages->title))
				title_heading = h;
			break;
		}
	struct plat_heading *path[3] = {NULL, NULL, NULL};
	struct plat_buf section = PLAT_BUF_INIT;
	struct held held = {PLAT_BUF_INIT, 0, {0, NULL, NULL, NULL}};
	for (size_t p = 0; p < pages->n; p++) {
		const struct plat_page *pg = &pages->pages[p];
		size_t len = strlen(pg->text);
		/* Stretches between headings: before the first, then from each heading on. */
		for (size_t h = 0; h <= pg->n_headings; h++) {
			struct plat_heading *head = h ? &pg->headings[h - 1] : NULL;
			if (head) {
				int l = head->level < 1 ? 0 : head->level > 3 ? 2 : head->level - 1;
				path[l] = head == title_heading ? NULL : head;
				for (int k = l + 1; k < 3; k++)
					path[k] = NULL;
			}
			size_t from = head ? head->offset : 0;
			size_t to = h < pg->n_headings ? pg->headings[h].offset : len;
			if (from > len)
				from = len;
			if (to > len || to < from)
				to = to > len ? len : from;
			struct place at = {pg->number, pages->title, NULL, NULL};
			at.section = path_text(path, &section) ? section.data : pg->running;
			for (int k = 2; k >= 0 && !at.anchor; k--)
				if (path[k] && path[k]->anchor)
					at.anchor = path[k]->anchor;
			chunk_text(pg->text + from, to - from, head != NULL, budget, overlap, &at, out, &cap, &held);
		}
	}
	if (held.text.len)
		emit(out, &cap, &held.at, NULL, 0, 0, &held);
	free((char *)held.at.section);
	free((char *)held.at.anchor);
	plat_buf_free(&held.text);
	plat_buf_free(&section);
}

void plat_chunks_free(struct plat_chunks *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->chunks[i].text);
		free(c->chunks[i].title);
		free(c->chunks[i].section);
		free(c->chunks[i].anchor);
	}
	free(c->chunks);
	memset(c, 0, sizeof(*c));
}
