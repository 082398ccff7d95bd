/* Text out of documents, page by page, as valid UTF-8: PDF (poppler-glib), HTML (libxml2's
 * HTML parser; scripts and styles dropped, headings kept), DOCX (libzip + libxml2,
 * word/document.xml; page breaks kept), text and Markdown (form feeds are page breaks).
 * Parsing runs in a child process under memory, CPU and time limits (lib/sandbox). */
#ifndef PLAT_EXTRACT_H
#define PLAT_EXTRACT_H

#include <stddef.h>

#include "error/error.h"
#include "sandbox/sandbox.h"

struct plat_page {
	int number; /* from 1 */
	char *text;
};

struct plat_pages {
	struct plat_page *pages;
	size_t n;
};

/* content_type as upload stored it (application/pdf, text/html, text/plain,
 * text/markdown, the DOCX type). A file that cannot be parsed is PLAT_E_INVALID; one that
 * crashes or exhausts a limit is PLAT_E_FAILURE with the reason. */
int plat_extract_file(const char *path, const char *content_type, const struct plat_sandbox_limits *limits,
		      struct plat_pages *out, struct plat_error *err);
void plat_pages_free(struct plat_pages *p);

#endif
