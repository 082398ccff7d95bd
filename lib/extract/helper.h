/* Inside platctl-extract only: what the extractors (parse.c, pdf.c) share to write their
 * frames (extract.h). */
#ifndef PLAT_EXTRACT_HELPER_H
#define PLAT_EXTRACT_HELPER_H

#include <stdbool.h>
#include <stddef.h>

#include "extract/extract.h"

/* The headings of the page being built, offsets into its raw (not yet sanitised) text. */
struct plat_heads {
	struct plat_heading *h;
	size_t n, cap;
};

static inline bool plat_extract_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Valid UTF-8 with white space collapsed and trimmed (malloc'd): a heading's or a title's
 * text. */
char *plat_extract_clean(const char *s, size_t len);

/* A heading of level 1-3 at offset (its line's start); an empty one is dropped. */
void plat_heads_add(struct plat_heads *h, size_t offset, int level, const char *text, size_t len, const char *anchor);
void plat_heads_clear(struct plat_heads *h);
void plat_heads_free(struct plat_heads *h);

/* The frames: a page with its headings (h may be NULL), a title (T) or running header (R)
 * (nothing for NULL), a message for a file that is not valid (returns 1). */
int plat_extract_emit_page(int fd, int number, const char *text, size_t len, const struct plat_heads *h);
int plat_extract_emit_string(int fd, char kind, const char *s);
int plat_extract_fail(int fd, const char *msg);

int plat_extract_pdf(int in, int fd);

#endif
