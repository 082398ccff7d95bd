/* Chunking for retrieval: text split at paragraph and sentence boundaries into pieces of at
 * most a token budget, with an overlap of whole sentences, never across pages, each piece
 * carrying its page number. Tokens are approximated as words (whitespace-separated), which
 * is within ~30 % of BPE tokenisers on prose and needs no model. */
#ifndef PLAT_CHUNK_H
#define PLAT_CHUNK_H

#include <stddef.h>

#include "extract/extract.h"

struct plat_chunk {
	int ord;   /* from 0, across the document */
	int page;
	int tokens;
	char *text;
};

struct plat_chunks {
	struct plat_chunk *chunks;
	size_t n;
};

/* budget >= 16 tokens; overlap < budget / 2. */
void plat_chunk_pages(const struct plat_pages *pages, int budget, int overlap, struct plat_chunks *out);
void plat_chunks_free(struct plat_chunks *c);

#endif
