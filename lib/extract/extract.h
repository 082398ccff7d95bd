/* Text out of documents, page by page, as valid UTF-8: PDF (poppler-glib), HTML (libxml2's
 * HTML parser; scripts and styles dropped, headings kept), DOCX (libzip + libxml2,
 * word/document.xml; page breaks kept), text and Markdown (form feeds are page breaks).
 *
 * Parsing runs in platctl-extract, a helper program started with exec and confined by
 * lib/sandbox (empty environment, only its input and result descriptors, memory/CPU/time
 * limits, nobody when started as root, a seccomp filter), so the parsers' libraries
 * (poppler, GLib, cairo, libzip) are not even loaded by platctl. The helper is found
 * beside the running binary (the build tree: ./platctl-extract), in ../lib/platctl/ from
 * its bin directory (an installed prefix), or in the directory it was built for
 * (LIBEXECDIR, default /usr/local/lib/platctl). */
#ifndef PLAT_EXTRACT_H
#define PLAT_EXTRACT_H

#include <stddef.h>

#include "error/error.h"
#include "sandbox/sandbox.h"

#define PLAT_EXTRACT_HELPER "platctl-extract"

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
 * crashes the parser, makes it attempt a forbidden system call or exhausts a limit is
 * PLAT_E_FAILURE with the reason; PLAT_E_INTERNAL when the helper cannot be found (the
 * message names where it was looked for) or started. */
int plat_extract_file(const char *path, const char *content_type, const struct plat_sandbox_limits *limits,
		      struct plat_pages *out, struct plat_error *err);
void plat_pages_free(struct plat_pages *p);

/* The helper's path into path[size] (the first of the places above that holds an
 * executable file); PLAT_E_INTERNAL naming every place looked in when there is none. */
int plat_extract_helper(char *path, size_t size, struct plat_error *err);

/* ---- in the helper only (lib/extract/parse.c, linked into platctl-extract) ---- */

/* Initialise the parsers' libraries on built-in documents, so what they load lazily
 * (GLib's types, poppler's globals, libxml2's tables) is loaded before the seccomp filter
 * forbids opening files. */
void plat_extract_warm_up(void);

/* Parse the file on descriptor in (consumed) as content_type; write the pages as frames
 * "P<number> <length>\n<text>" to out. 0, or non-zero after writing a message to out (the
 * file is not valid: the helper exits PLAT_SANDBOX_EXIT_INVALID). */
int plat_extract_parse(int in, const char *content_type, int out);

#endif
