/* Text out of documents, page by page, as valid UTF-8: PDF (poppler-glib), HTML (libxml2's
 * HTML parser; scripts and styles dropped, headings kept), DOCX (libzip + libxml2,
 * word/document.xml; page breaks kept), text and Markdown (form feeds are page breaks).
 *
 * With the text comes where it sits, so a chunk can name its section and an HTML citation
 * can link to it: the document's title and the headings of levels 1-3, each at the offset
 * of its line in its page's text (the heading's text stays in the page text). HTML: <title>
 * or the first h1; h1-h3, their anchor the heading's id, an <a name|id> inside it, or the
 * id of the <section>/<div>/<article> it opens. PDF: the Info title, else the outline's first
 * entry; the outline's entries (levels 1-3, placed where their title's text is found on the
 * destination page), or without an outline lines set in larger fonts than the body. Lines
 * repeated at the top or bottom of PDF pages (running headers and footers, page numbers)
 * are removed from the text; the one that names the page's chapter becomes the page's
 * running header, the section of its chunks when no heading says better. DOCX: paragraphs
 * styled Title and Heading 1-3. Markdown: ATX headings (# ...) outside fenced code.
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

struct plat_heading {
	size_t offset; /* of the heading's line in its page's text */
	int level;     /* 1..3 */
	char *text;
	char *anchor; /* HTML: the id a link to the heading uses; else NULL */
};

struct plat_page {
	int number; /* from 1 */
	char *text;
	struct plat_heading *headings; /* by offset */
	size_t n_headings;
	char *running; /* PDF: the chapter its running header names (removed from text), or NULL */
};

struct plat_pages {
	struct plat_page *pages;
	size_t n;
	char *title;	       /* or NULL */
	size_t running_lines; /* PDF: lines removed as running headers and footers */
};

/* content_type as upload stored it (application/pdf, text/html, text/plain,
 * text/markdown, the DOCX type). A file that cannot be parsed is PLAT_E_INVALID; one that
 * crashes the parser, makes it attempt a forbidden system call or exhausts a limit is
 * PLAT_E_FAILURE with the reason; PLAT_E_INTERNAL when the helper cannot be found (the
 * message names where it was looked for) or started. */
int plat_extract_file(const char *path, const char *content_type, const struct plat_sandbox_limits *limits,
		      struct plat_pages *out, struct plat_error *err);
void plat_pages_free(struct plat_pages *p);

/* The helper's frames (below) into out, checked: -1 (out holds what was read before the
 * fault; free it) when they are malformed, as from a parser gone wrong. */
int plat_extract_frames(const char *data, size_t len, struct plat_pages *out);

/* The helper's path into path[size] (the first of the places above that holds an
 * executable file); PLAT_E_INTERNAL naming every place looked in when there is none. */
int plat_extract_helper(char *path, size_t size, struct plat_error *err);

/* ---- in the helper only (lib/extract/parse.c, linked into platctl-extract) ---- */

/* Initialise the parsers' libraries on built-in documents, so what they load lazily
 * (GLib's types, poppler's globals, libxml2's tables) is loaded before the seccomp filter
 * forbids opening files. */
void plat_extract_warm_up(void);

/* Parse the file on descriptor in (consumed) as content_type; write the pages as frames
 * to out. 0, or non-zero after writing a message to out (the file is not valid: the helper
 * exits PLAT_SANDBOX_EXIT_INVALID). The frames, lengths in bytes:
 *   P<number> <length>\n<text>                      a page
 *   H<level> <offset> <length> <length>\n<text><anchor>  a heading of the page before it
 *   R <length>\n<text>                              the page before it's running header
 *   T <length>\n<text>                              the document's title
 *   N <count>\n                                     running header/footer lines removed */
int plat_extract_parse(int in, const char *content_type, int out);

/* ---- on both sides ---- */

/* Running headers and footers out of the pages' texts (n of them, each malloc'd; changed in
 * place): a line among the first or last three of a page whose text, digits and roman
 * numerals at its ends counted as equal, comes back at the same end of at least three
 * pages and of 40 % of the pages from its first to its last (a chapter's header, not a
 * line of code that starts a few pages of a long manual), or of the same kind ("Chapter
 * #: ...", "Appendix #: ...") as two such. Pure numbers (page numbers) and the lines that
 * repeat through the whole document (its name) are only removed; the others name a
 * chapter: running[i] (malloc'd, or NULL) is the one on page i, else the next page's when
 * page i opens a new chapter, else the one before; page numbers cut off, never equal to
 * title. Returns how many lines were removed. */
size_t plat_extract_running(char **texts, size_t n, const char *title, char **running);

/* Words a PDF's lines broke, mended in the pages' texts (n of them, each malloc'd; each
 * may be replaced): "re-\nceives" joined, a compound's hyphen kept where the document
 * spells it so ("tab-delimited") or its second half is capitalised ("Springer-Verlag"),
 * soft hyphens joined, an identifier broken after an underscore joined; the line break
 * moves after the word, so a page keeps its lines. Ligatures (U+FB00-FB06) become their
 * letters. Returns how many breaks it mended. */
size_t plat_extract_mend_words(char **texts, size_t n);

/* s (of len bytes) with ligatures made letters and soft hyphens dropped, in place (it never
 * grows); returns the new length. */
size_t plat_extract_plain_letters(char *s, size_t len);

#endif
