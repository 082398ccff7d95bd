/* Chunking for retrieval: text split at paragraph and sentence boundaries into pieces of at
 * most a token budget, with an overlap of whole sentences, never across pages nor sections,
 * each piece carrying its page number and where it sits: the document's title, the path of
 * headings (levels 1-3, " > " between them; the first heading left out when it is the
 * title; the page's running header when no heading is known) and the innermost of those
 * headings' anchors. A heading starts a chunk and is its first line. Tokens are
 * approximated as words (whitespace-separated), which is within ~30 % of BPE tokenisers on
 * prose and needs no model. */
#ifndef PLAT_CHUNK_H
#define PLAT_CHUNK_H

#include <stddef.h>

#include "extract/extract.h"

struct plat_chunk {
	int ord;   /* from 0, across the document */
	int page;
	int tokens;
	char *text;
	char *title, *section, *anchor; /* or NULL */
};

struct plat_chunks {
	struct plat_chunk *chunks;
	size_t n;
};

/* budget >= 16 tokens; overlap < budget / 2. */
void plat_chunk_pages(const struct plat_pages *pages, int budget, int overlap, struct plat_chunks *out);
void plat_chunks_free(struct plat_chunks *c);

#endif
