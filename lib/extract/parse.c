/* The helper's side of extraction (linked into platctl-extract only, never into platctl):
 * the parsers, reading the untrusted file from a descriptor and writing pages as frames
 * "P<number> <length>\n<bytes>" to another. They run after plat_sandbox_confine, so they
 * open nothing by name: libzip and poppler get the descriptor, libxml2 the bytes. */
#include "extract/extract.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <poppler.h>
#include <zip.h>

#include "io/io.h"
#include "mem/mem.h"
#include "str/str.h"

#define DOCX_TYPE "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#define MAX_XML (64u << 20) /* a larger document.xml is a zip bomb, not a document */

/* ---- frames ---- */

static int emit_page(int fd, int number, const char *text, size_t len)
{
	struct plat_buf clean = PLAT_BUF_INIT, frame = PLAT_BUF_INIT;
	plat_utf8_sanitize(&clean, text, len);
	plat_buf_reserve(&clean, 0);
	plat_buf_printf(&frame, "P%d %zu\n", number, clean.len);
	plat_buf_append(&frame, clean.data, clean.len);
	int rc = plat_write_all(fd, frame.data, frame.len);
	plat_buf_free(&clean);
	plat_buf_free(&frame);
	return rc;
}

static int fail(int fd, const char *msg)
{
	plat_write_all(fd, msg, strlen(msg));
	return 1;
}

static int read_all(int fd, struct plat_buf *b, size_t max)
{
	char chunk[65536];
	ssize_t n;
	while (((n = read(fd, chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR)) && b->len <= max)
		if (n > 0)
			plat_buf_append(b, chunk, (size_t)n);
	plat_buf_reserve(b, 0);
	return n < 0 || b->len > max ? -1 : 0;
}

struct job {
	int in; /* the untrusted file */
};

static int text_pages(struct job *j, int fd)
{
	struct plat_buf b = PLAT_BUF_INIT;
	if (read_all(j->in, &b, 1u << 30) < 0)
		return fail(fd, "cannot read the file");
	int page = 1, rc = 0;
	const char *p = b.data, *end = b.data + b.len;
	while (rc == 0) {
		const char *ff = memchr(p, '\f', (size_t)(end - p));
		const char *stop = ff ? ff : end;
		rc = emit_page(fd, page++, p, (size_t)(stop - p));
		if (!ff)
			break;
		p = ff + 1;
	}
	plat_buf_free(&b);
	return rc;
}

/* ---- HTML ---- */

static bool is_block(const char *n)
{
	static const char *const blocks[] = {"p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article",
					     "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
					     "title", "dt", "dd", "hr", NULL};
	for (const char *const *b = blocks; *b; b++)
		if (!strcmp(n, *b))
			return true;
	return false;
}

static void html_text(const char *t, struct plat_buf *out)
{
	/* Collapse runs of white space as a browser would. */
	for (; t && *t; t++) {
		bool space = *t == ' ' || *t == '\n' || *t == '\t' || *t == '\r';
		if (space) {
			if (out->len && out->data[out->len - 1] != ' ' && out->data[out->len - 1] != '\n')
				plat_buf_putc(out, ' ');
		} else {
			plat_buf_putc(out, *t);
		}
	}
}

static void end_line(struct plat_buf *out)
{
	if (out->len && out->data[out->len - 1] != '\n')
		plat_buf_putc(out, '\n');
}

/* Depth first with a stack of its own, not recursion: hostile HTML nests a million deep. */
static void html_walk(xmlNodePtr root, struct plat_buf *out)
{
	struct step {
		xmlNodePtr node;
		bool leaving; /* the element's children are done */
	};
	size_t n = 0, cap = 64;
	struct step *stack = plat_xmalloc(cap * sizeof(*stack));
	if (root)
		stack[n++] = (struct step){root, false};
	while (n) {
		struct step st = stack[--n];
		xmlNodePtr node = st.node;
		const char *name = (const char *)node->name;
		if (st.leaving) {
			if (is_block(name))
				end_line(out);
			continue;
		}
		if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
			html_text((const char *)node->content, out);
			continue;
		}
		if (node->type != XML_ELEMENT_NODE)
			continue;
		if (!strcmp(name, "script") || !strcmp(name, "style") || !strcmp(name, "noscript") ||
		    !strcmp(name, "template") || !strcmp(name, "svg"))
			continue;
		if (is_block(name))
			end_line(out);
		if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2])
			plat_buf_printf(out, "%.*s ", name[1] - '0', "######"); /* headings kept, as Markdown */
		/* Push the leaving step, then the children last-first so the first comes off next. */
		size_t kids = 0;
		for (xmlNodePtr k = node->children; k; k = k->next)
			kids++;
		if (n + kids + 1 > cap) {
			while (n + kids + 1 > cap)
				cap *= 2;
			stack = plat_xrealloc(stack, cap * sizeof(*stack));
		}
		stack[n++] = (struct step){node, true};
		size_t at = n + kids;
		for (xmlNodePtr k = node->children; k; k = k->next)
			stack[--at] = (struct step){k, false};
		n += kids;
	}
	free(stack);
}

static int html_pages(struct job *j, int fd)
{
	struct plat_buf b = PLAT_BUF_INIT;
	if (read_all(j->in, &b, 256u << 20) < 0)
		return fail(fd, "cannot read the file");
	/* HUGE lifts libxml2's nesting limit (256), past which the rest of the document would
	 * be dropped without a word; the child's memory limit still bounds the tree. */
	htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
	if (!ctxt) {
		plat_buf_free(&b);
		return fail(fd, "too large to parse within extract.memory_limit");
	}
	htmlDocPtr doc = htmlCtxtReadMemory(ctxt, b.data, (int)b.len, NULL, NULL,
					    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
						    HTML_PARSE_NONET | XML_PARSE_HUGE);
	/* Out of memory, the parser stops and RECOVER hands back the tree so far: a document
	 * cut short that would pass for a whole one. */
	bool out_of_memory = ctxt->errNo == XML_ERR_NO_MEMORY;
	htmlFreeParserCtxt(ctxt);
	plat_buf_free(&b);
	if (out_of_memory) {
		xmlFreeDoc(doc);
		return fail(fd, "too large to parse within extract.memory_limit");
	}
	if (!doc)
		return fail(fd, "not parseable as HTML");
	struct plat_buf text = PLAT_BUF_INIT;
	plat_buf_reserve(&text, 0);
	html_walk(xmlDocGetRootElement(doc), &text);
	xmlFreeDoc(doc);
	int rc = emit_page(fd, 1, text.data, text.len);
	plat_buf_free(&text);
	return rc;
}

/* ---- DOCX ---- */

struct docx_state {
	int fd;
	int page;
	struct plat_buf text;
};

static void docx_walk(xmlNodePtr n, struct docx_state *s)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		const char *name = (const char *)n->name;
		if (!strcmp(name, "t")) {
			xmlChar *t = xmlNodeGetContent(n);
			if (t)
				plat_buf_puts(&s->text, (const char *)t);
			xmlFree(t);
		} else if (!strcmp(name, "tab")) {
			plat_buf_putc(&s->text, '\t');
		} else if (!strcmp(name, "br") || !strcmp(name, "lastRenderedPageBreak")) {
			xmlChar *type = xmlGetProp(n, (const xmlChar *)"type");
			bool page = !strcmp(name, "lastRenderedPageBreak") || (type && !strcmp((char *)type, "page"));
			xmlFree(type);
			if (page && s->text.len) {
				emit_page(s->fd, s->page++, s->text.data, s->text.len);
				plat_buf_reset(&s->text);
			} else if (!page) {
				plat_buf_putc(&s->text, '\n');
			}
		} else {
			docx_walk(n->children, s);
			if (!strcmp(name, "p"))
				plat_buf_putc(&s->text, '\n');
		}
	}
}

static int docx_pages(struct job *j, int fd)
{
	int err = 0;
	zip_t *z = zip_fdopen(j->in, ZIP_RDONLY, &err); /* takes the fd */
	if (!z)
		return fail(fd, "not a DOCX file (not a zip archive)");
	zip_stat_t st;
	if (zip_stat(z, "word/document.xml", 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
		zip_close(z);
		return fail(fd, "not a DOCX file (no word/document.xml)");
	}
	if (st.size > MAX_XML) {
		zip_close(z);
		return fail(fd, "word/document.xml is too large (a zip bomb?)");
	}
	zip_file_t *f = zip_fopen(z, "word/document.xml", 0);
	char *xml = plat_xmalloc((size_t)st.size + 1);
	zip_int64_t got = f ? zip_fread(f, xml, st.size) : -1;
	if (f)
		zip_fclose(f);
	zip_close(z);
	if (got != (zip_int64_t)st.size) {
		free(xml);
		return fail(fd, "cannot read word/document.xml");
	}
	xmlDocPtr doc = xmlReadMemory(xml, (int)st.size, "document.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
									  XML_PARSE_NOWARNING);
	free(xml);
	if (!doc)
		return fail(fd, "word/document.xml is not well-formed XML");
	struct docx_state s = {fd, 1, PLAT_BUF_INIT};
	plat_buf_reserve(&s.text, 0);
	docx_walk(xmlDocGetRootElement(doc), &s);
	xmlFreeDoc(doc);
	int rc = 0;
	if (s.text.len || s.page == 1)
		rc = emit_page(fd, s.page, s.text.data, s.text.len);
	plat_buf_free(&s.text);
	return rc;
}

/* ---- PDF ---- */

static int pdf_pages(struct job *j, int fd)
{
	GError *gerr = NULL;
	PopplerDocument *doc = poppler_document_new_from_fd(j->in, NULL, &gerr); /* takes the fd */
	if (!doc) {
		struct plat_buf m = PLAT_BUF_INIT;
		plat_buf_printf(&m, "not a readable PDF: %s", gerr ? gerr->message : "unknown error");
		if (gerr)
			g_error_free(gerr);
		int rc = fail(fd, m.data);
		plat_buf_free(&m);
		return rc;
	}
	int n = poppler_document_get_n_pages(doc);
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		char *text = page ? poppler_page_get_text(page) : NULL;
		rc = emit_page(fd, i + 1, text ? text : "", text ? strlen(text) : 0);
		g_free(text);
		if (page)
			g_object_unref(page);
	}
	g_object_unref(doc);
	return rc;
}

int plat_extract_parse(int in, const char *content_type, int fd)
{
	struct job job = {in}, *j = &job;
	const char *t = content_type ? content_type : "";
	if (!strcmp(t, "application/pdf"))
		return pdf_pages(j, fd);
	if (!strcmp(t, "text/html") || !strcmp(t, "application/xhtml+xml"))
		return html_pages(j, fd);
	if (!strcmp(t, DOCX_TYPE))
		return docx_pages(j, fd);
	if (!strncmp(t, "text/", 5))
		return text_pages(j, fd);
	return fail(fd, "no text extractor for this content type");
}

/* ---- warm-up: what the libraries load lazily, loaded before the seccomp filter ---- */

/* A one-page PDF with text in a standard font, its cross-reference offsets right. */
static void tiny_pdf(struct plat_buf *b)
{
	const char *objs[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Length 37 >>\nstream\nBT /F1 12 Tf 72 700 Td (warm) Tj ET\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	};
	long offsets[5];
	plat_buf_puts(b, "%PDF-1.4\n");
	for (int i = 0; i < 5; i++) {
		offsets[i] = (long)b->len;
		plat_buf_printf(b, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
	}
	long xref = (long)b->len;
	plat_buf_puts(b, "xref\n0 6\n0000000000 65535 f \n");
	for (int i = 0; i < 5; i++)
		plat_buf_printf(b, "%010ld 00000 n \n", offsets[i]);
	plat_buf_printf(b, "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%ld\n%%%%EOF\n", xref);
}

/* Charsets need nothing here: libxml2 asks iconv first, whose modules (gconv) cannot be
 * opened once the filter is in place, and then ICU, linked in with its data. */
void plat_extract_warm_up(void)
{
	/* libxml2: its global state, the HTML and XML parsers. */
	xmlInitParser();
	static const char html[] = "<html><head><meta charset=\"utf-8\"><title>t</title></head><body><p>warm</p></body></html>";
	htmlDocPtr h = htmlReadMemory(html, (int)sizeof(html) - 1, NULL, NULL,
				      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	xmlFreeDoc(h);
	static const char xml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><d><t>warm</t></d>";
	xmlFreeDoc(xmlReadMemory(xml, (int)sizeof(xml) - 1, "warm.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR));
	/* poppler and GLib: the type system, poppler's global parameters, the text output. */
	struct plat_buf pdf = PLAT_BUF_INIT;
	tiny_pdf(&pdf);
	GBytes *bytes = g_bytes_new(pdf.data, pdf.len);
	plat_buf_free(&pdf);
	/* Kept until exit: poppler-glib frees its global parameters with the last document,
	 * and building them again (scanning poppler-data's directories) would come after the
	 * filter. */
	static PopplerDocument *keep;
	keep = poppler_document_new_from_bytes(bytes, NULL, NULL);
	if (keep) {
		PopplerPage *page = poppler_document_get_page(keep, 0);
		if (page) {
			g_free(poppler_page_get_text(page));
			g_object_unref(page);
		}
	}
	g_bytes_unref(bytes);
}
