/* PDF page text as words, not as the lines a typesetter broke them into. poppler gives
 * each printed line as it is, so a word hyphenated at a line's end reaches the chunks as
 * "re- ceives" once the chunker makes line breaks spaces: neither half is the word the
 * full-text index and ask's support look for (a third of the R manuals' chunks had one).
 * Typeset text also carries ligatures (U+FB01 for "fi") and soft hyphens, which split or
 * hide words the same way. */
#include "extract/extract.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"

/* Bytes of multi-byte UTF-8 count as letters (as the builtin provider's words do), so
 * "Ré-\nsumé" joins too. */
static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static bool letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool hspace(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool soft_hyphen(const char *s)
{
	return (unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xad;
}

/* U+2010 HYPHEN, which some producers write instead of '-'. */
static bool unicode_hyphen(const char *s)
{
	return (unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x80 && (unsigned char)s[2] == 0x90;
}

/* Ligatures out (U+FB00-FB06 are all three bytes and none expands past three), and soft
 * hyphens out where no line ends after them: they only mark where a word may break. In
 * place; returns the new length. */
size_t plat_extract_plain_letters(char *t, size_t len)
{
	static const char *const lig[] = {"ff", "fi", "fl", "ffi", "ffl", "st", "st"};
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		if (i + 2 < len && (unsigned char)t[i] == 0xef && (unsigned char)t[i + 1] == 0xac &&
		    (unsigned char)t[i + 2] >= 0x80 && (unsigned char)t[i + 2] <= 0x86) {
			const char *r = lig[(unsigned char)t[i + 2] - 0x80];
			size_t rn = strlen(r);
			memcpy(t + o, r, rn);
			o += rn;
			i += 3;
			continue;
		}
		if (i + 1 < len && soft_hyphen(t + i)) {
			size_t j = i + 2;
			while (j < len && hspace(t[j]))
				j++;
			if (j >= len || t[j] != '\n') {
				i += 2;
				continue;
			}
		}
		t[o++] = t[i++];
	}
	t[o] = '\0';
	return o;
}

/* A word broken at a line's end: "A-\nB", the hyphen at [hy, b0), B from b0 to b1. */
struct brk {
	size_t page, a0, hy, b0, b1;
	int kind;     /* '-' a hyphen (kept or not), 's' a soft hyphen, '_' an identifier's underscore */
	size_t joined, hyphened; /* indices into the keys */
};

struct key {
	char *s;
	size_t seen;
};

static int by_key(const void *x, const void *y)
{
	return strcmp(((const struct key *)x)->s, ((const struct key *)y)->s);
}

static char *lower(const char *a, size_t an, const char *mid, const char *b, size_t bn)
{
	size_t mn = strlen(mid);
	char *s = plat_xmalloc(an + mn + bn + 1), *o = s;
	for (size_t i = 0; i < an; i++)
		*o++ = (char)(a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i]);
	memcpy(o, mid, mn);
	o += mn;
	for (size_t i = 0; i < bn; i++)
		*o++ = (char)(b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i]);
	*o = '\0';
	return s;
}

/* The breaks on a page: a hyphen (or soft hyphen, or U+2010) right after a letter, then
 * only blanks to the line's end, and a letter first on the next line. An underscore at
 * the end of a line between two letters is an identifier the line broke
 * ("R_\nPreserveObject"): prose does not end a line with one. */
static void find_breaks(const char *t, size_t len, size_t page, struct brk **out, size_t *n, size_t *cap)
{
	for (size_t i = 1; i < len; i++) {
		size_t hn = t[i] == '-' || t[i] == '_' ? 1 : i + 1 < len && soft_hyphen(t + i) ? 2
			    : i + 2 < len && unicode_hyphen(t + i)                           ? 3
											     : 0;
		/* Letters on both sides: "pages 10-\n20" is a range, not a word. */
		bool (*side)(unsigned char) = t[i] == '_' ? word_byte : letter;
		if (!hn || !side((unsigned char)t[i - 1]))
			continue;
		size_t j = i + hn;
		while (j < len && hspace(t[j]))
			j++;
		if (j >= len || t[j] != '\n')
			continue;
		j++;
		while (j < len && hspace(t[j]))
			j++;
		if (j >= len || !side((unsigned char)t[j]))
			continue;
		size_t a0 = i;
		while (a0 > 0 && word_byte((unsigned char)t[a0 - 1]))
			a0--;
		size_t b1 = j;
		while (b1 < len && word_byte((unsigned char)t[b1]))
			b1++;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*out = plat_xrealloc(*out, *cap * sizeof(**out));
		}
		(*out)[(*n)++] = (struct brk){page, a0, i, j, b1, t[i] == '_' ? '_' : hn == 2 ? 's' : '-', 0, 0};
		/* On after the text mend moves up with the word: a line of one word that breaks
		 * again ("com-\npre-\nhensive") keeps its second break. */
		while (b1 < len && t[b1] != '\n' && !hspace(t[b1]))
			b1++;
		i = b1;
	}
}

static size_t key_index(struct key *keys, size_t nk, const char *s)
{
	struct key k = {(char *)s, 0};
	struct key *f = bsearch(&k, keys, nk, sizeof(*keys), by_key);
	return f ? (size_t)(f - keys) : SIZE_MAX;
}

/* How often each key occurs as a word of the document, a word being letters with single
 * hyphens inside ("tab-delimited"), never across a line's end. */
static void count_keys(char **texts, size_t n, struct key *keys, size_t nk)
{
	char buf[128];
	for (size_t p = 0; p < n; p++) {
		const char *t = texts[p];
		for (size_t i = 0; t[i];) {
			if (!word_byte((unsigned char)t[i])) {
				i++;
				continue;
			}
			size_t j = i, bn = 0;
			bool fits = true;
			for (;;) {
				while (word_byte((unsigned char)t[j])) {
					if (bn + 1 < sizeof(buf))
						buf[bn++] = (char)(t[j] >= 'A' && t[j] <= 'Z' ? t[j] + 32 : t[j]);
					else
						fits = false;
					j++;
				}
				if (t[j] == '-' && word_byte((unsigned char)t[j + 1])) {
					if (bn + 1 < sizeof(buf))
						buf[bn++] = '-';
					j++;
					continue;
				}
				break;
			}
			buf[bn] = '\0';
			size_t k = fits ? key_index(keys, nk, buf) : SIZE_MAX;
			if (k != SIZE_MAX)
				keys[k].seen++;
			i = j;
		}
	}
}

/* Join a hyphenated word? A soft hyphen always: it only ever marks a break. Otherwise the
 * document decides where it can: the joined word used elsewhere in it ("Excel" for
 * "Ex-\ncel") joins, a compound spelled with its hyphen elsewhere ("tab-delimited") keeps
 * it; neither seen, a lower-case second half is a syllable break ("re-\nceives") and an
 * upper-case one a compound of names ("Springer-\nVerlag"). */
static bool join(const struct brk *b, const char *t, const struct key *keys)
{
	if (b->kind == 's')
		return true;
	size_t joined = keys[b->joined].seen, hyphened = keys[b->hyphened].seen;
	if (joined || hyphened)
		return joined >= hyphened;
	return !(t[b->b0] >= 'A' && t[b->b0] <= 'Z');
}

/* The page with its breaks mended: "Ex-\ncel, export" becomes "Excel,\nexport", the line
 * break moved after the word so the page keeps its lines. */
static char *mend(const char *t, size_t len, const struct brk *b, size_t nb, const struct key *keys)
{
	struct plat_buf o = PLAT_BUF_INIT;
	plat_buf_reserve(&o, len + 1);
	size_t at = 0;
	for (size_t i = 0; i < nb; i++) {
		plat_buf_append(&o, t + at, b[i].hy - at);
		if (b[i].kind == '_')
			plat_buf_putc(&o, '_');
		else if (b[i].kind == '-' && !join(&b[i], t, keys))
			plat_buf_putc(&o, '-');
		size_t e = b[i].b1;
		while (e < len && t[e] != '\n' && !hspace(t[e]))
			e++;
		plat_buf_append(&o, t + b[i].b0, e - b[i].b0);
		if (e < len && hspace(t[e])) {
			plat_buf_putc(&o, '\n');
			e++;
		}
		at = e;
	}
	plat_buf_append(&o, t + at, len - at);
	plat_buf_reserve(&o, 0);
	return plat_buf_detach(&o);
}

size_t plat_extract_mend_words(char **texts, size_t n)
{
	struct brk *b = NULL;
	size_t nb = 0, cap = 0;
	for (size_t p = 0; p < n; p++)
		find_breaks(texts[p], plat_extract_plain_letters(texts[p], strlen(texts[p])), p, &b, &nb, &cap);
	if (!nb)
		return 0;
	struct key *keys = plat_xcalloc(2 * nb, sizeof(*keys));
	for (size_t i = 0; i < nb; i++) {
		const char *t = texts[b[i].page];
		keys[2 * i].s = lower(t + b[i].a0, b[i].hy - b[i].a0, "", t + b[i].b0, b[i].b1 - b[i].b0);
		keys[2 * i + 1].s = lower(t + b[i].a0, b[i].hy - b[i].a0, "-", t + b[i].b0, b[i].b1 - b[i].b0);
	}
	size_t nk = 2 * nb;
	qsort(keys, nk, sizeof(*keys), by_key);
	size_t u = 0;
	for (size_t i = 0; i < nk; i++) {
		if (u && !strcmp(keys[u - 1].s, keys[i].s))
			free(keys[i].s);
		else
			keys[u++] = keys[i];
	}
	nk = u;
	for (size_t i = 0; i < nb; i++) {
		const char *t = texts[b[i].page];
		char *j = lower(t + b[i].a0, b[i].hy - b[i].a0, "", t + b[i].b0, b[i].b1 - b[i].b0);
		char *h = lower(t + b[i].a0, b[i].hy - b[i].a0, "-", t + b[i].b0, b[i].b1 - b[i].b0);
		b[i].joined = key_index(keys, nk, j);
		b[i].hyphened = key_index(keys, nk, h);
		free(j);
		free(h);
	}
	count_keys(texts, n, keys, nk);
	for (size_t s = 0; s < nb;) {
		size_t e = s;
		while (e < nb && b[e].page == b[s].page)
			e++;
		char *m = mend(texts[b[s].page], strlen(texts[b[s].page]), b + s, e - s, keys);
		free(texts[b[s].page]);
		texts[b[s].page] = m;
		s = e;
	}
	for (size_t i = 0; i < nk; i++)
		free(keys[i].s);
	free(keys);
	free(b);
	return nb;
}
