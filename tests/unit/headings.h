/* Checks of extracted headings, shared by the extraction tests. */
#ifndef PLAT_TEST_HEADINGS_H
#define PLAT_TEST_HEADINGS_H

#include <stdio.h>
#include <string.h>

#include "extract/extract.h"

static inline const struct plat_heading *heading(const struct plat_page *pg, size_t i)
{
	if (i >= pg->n_headings)
		fail_msg("page %d has %zu headings, not %zu", pg->number, pg->n_headings, i + 1);
	return &pg->headings[i];
}

/* Heading i of the page: its level, text, anchor, and its line in the page's text. */
static inline void expect_heading(const struct plat_page *pg, size_t i, int level, const char *text, const char *anchor,
			   const char *line)
{
	const struct plat_heading *h = heading(pg, i);
	if (h->level != level || strcmp(h->text, text) || (anchor ? !h->anchor || strcmp(h->anchor, anchor) : h->anchor != NULL))
		fail_msg("heading %zu: %d '%s' #%s (want %d '%s' #%s)", i, h->level, h->text, h->anchor ? h->anchor : "-",
			 level, text, anchor ? anchor : "-");
	if (strncmp(pg->text + h->offset, line, strlen(line)))
		fail_msg("heading '%s' at %zu: '%.30s' (want '%s')", text, h->offset, pg->text + h->offset, line);
	assert_true(h->offset == 0 || pg->text[h->offset - 1] == '\n');
}

#endif
