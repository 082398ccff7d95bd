/* The helper's side of extraction (linked into platctl-extract only, never into platctl):
 * the parsers, reading the untrusted file from a descriptor and writing pages, headings and
 * titles as frames (extract.h) to another; PDF is in pdf.c. They run after
 * plat_sandbox_confine, so they open nothing by name: libzip and poppler get the
 * descriptor, libxml2 the bytes. */
#include "extract/extract.h"
#include "extract/helper.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

char *plat_extract_clean(const char *s, size_t len)
{
	struct plat_buf raw = PLAT_BUF_INIT, b = PLAT_BUF_INIT;
	plat_utf8_sanitize(&raw, s, len);
	plat_buf_reserve(&raw, 0);
	plat_buf_reserve(&b, 0);
	for (size_t i = 0; i < raw.len; i++) {
		char c = raw.data[i] ? raw.data[i] : ' ';
		if (plat_extract_blank(c)) {
			if (b.len && b.data[b.len - 1] != ' ')
				plat_buf_putc(&b, ' ');
		} else {
			plat_buf_putc(&b, c);
		}
	}
	/* Sphinx's and others' permalink sign after the heading's text. */
	while (b.len >= 2 && !memcmp(b.data + b.len - 2, "\xc2\xb6", 2))
		b.len -= 2;
	while (b.len && b.data[b.len - 1] == ' ')
		b.len--;
	b.data[b.len] = '\0';
	plat_buf_free(&raw);
	return plat_buf_detach(&b);
}

void plat_heads_add(struct plat_heads *h, size_t offset, int level, const char *text, size_t len, const char *anchor)
{
	char *t = plat_extract_clean(text, len);
	if (!*t || level < 1 || level > 3) {
		free(t);
		return;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->h = plat_xrealloc(h->h, h->cap * sizeof(*h->h));
	}
	char *a = anchor && *anchor ? plat_extract_clean(anchor, strlen(anchor)) : NULL;
	h->h[h->n++] = (struct plat_heading){offset, level, t, a};
}

void plat_heads_clear(struct plat_heads *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->h[i].text);
		free(h->h[i].anchor);
	}
	h->n = 0;
}

void plat_heads_free(struct plat_heads *h)
{
	plat_heads_clear(h);
	free(h->h);
	h->h = NULL;
	h->cap = 0;
}

/* The page, then its headings. The text is sanitised piece by piece between the headings'
 * offsets (each at the start of a line, so never inside a UTF-8 sequence), so the offsets
 * can follow the bytes the sanitising replaces. */
int plat_extract_emit_page(int fd, int number, const char *text, size_t len, const struct plat_heads *h)
{
	struct plat_buf clean = PLAT_BUF_INIT, frame = PLAT_BUF_INIT;
	size_t n = h ? h->n : 0, done = 0;
	size_t *at = plat_xcalloc(n ? n : 1, sizeof(*at));
	for (size_t i = 0; i < n; i++) {
		size_t o = h->h[i].offset < done ? done : h->h[i].offset > len ? len : h->h[i].offset;
		plat_utf8_sanitize(&clean, text + done, o - done);
		done = o;
		at[i] = clean.len;
	}
	plat_utf8_sanitize(&clean, text + done, len - done);
	plat_buf_reserve(&clean, 0);
	for (size_t i = 0; i < clean.len; i++)
		if (!clean.data[i])
			clean.data[i] = ' '; /* the reader's texts are C strings */
	plat_buf_printf(&frame, "P%d %zu\n", number, clean.len);
	plat_buf_append(&frame, clean.data, clean.len);
	for (size_t i = 0; i < n; i++) {
		const char *a = h->h[i].anchor ? h->h[i].anchor : "";
		plat_buf_printf(&frame, "H%d %zu %zu %zu\n%s%s", h->h[i].level, at[i], strlen(h->h[i].text), strlen(a),
				h->h[i].text, a);
	}
	int rc = plat_write_all(fd, frame.data, frame.len);
	free(at);
	plat_buf_free(&clean);
	plat_buf_free(&frame);
	return rc;
}

/* A title (T) or running header (R) frame; nothing for NULL. */
int plat_extract_emit_string(int fd, char kind, const char *s)
{
	if (!s || !*s)
		return 0;
	struct plat_buf frame = PLAT_BUF_INIT;
	char *c = plat_extract_clean(s, strlen(s));
	plat_buf_printf(&frame, "%c %zu\n%s", kind, strlen(c), c);
	int rc = plat_write_all(fd, frame.data, frame.len);
	free(c);
	plat_buf_free(&frame);
	return rc;
}

int plat_extract_fail(int fd, const char *msg)
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

/* Markdown's ATX headings (CommonMark: up to three spaces, 1-6 '#', a space or the line's
 * end; closing '#'s dropped), not inside fenced code, whose fence may span pages. */
struct fence {
	char c; /* '`' or '~' while inside a fenced block */
	size_t n;
};

static void markdown_headings(const char *p, size_t len, struct fence *f, struct plat_heads *h, char **title)
{
	for (size_t ls = 0; ls < len;) {
		const char *nl = memchr(p + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - p) : len, i = ls;
		while (i < le && i - ls < 3 && p[i] == ' ')
			i++;
		size_t run = 0;
		char c = i < le ? p[i] : 0;
		if (c == '`' || c == '~')
			while (i + run < le && p[i + run] == c)
				run++;
		if (run >= 3 && (!f->c || (c == f->c && run >= f->n))) {
			bool closing = f->c != 0;
			f->c = closing ? 0 : c;
			f->n = run;
		} else if (!f->c && c == '#') {
			while (i + run < le && p[i + run] == '#')
				run++;
			size_t t = i + run;
			if (run <= 6 && (t == le || p[t] == ' ' || p[t] == '\t')) {
				size_t e = le;
				while (e > t && plat_extract_blank(p[e - 1]))
					e--;
				size_t k = e;
				while (k > t && p[k - 1] == '#')
					k--;
				if (k == t || p[k - 1] == ' ' || p[k - 1] == '\t')
					e = k;
				if (run == 1 && !*title) {
					*title = plat_extract_clean(p + t, e - t);
					if (!**title) {
						free(*title);
						*title = NULL;
					}
				}
				plat_heads_add(h, ls, (int)run, p + t, e - t, NULL);
			}
		}
		ls = le + 1;
	}
}

static int text_pages(struct job *j, int fd, bool markdown)
{
	struct plat_buf b = PLAT_BUF_INIT;
	if (read_all(j->in, &b, 1u << 30) < 0)
		return plat_extract_fail(fd, "cannot read the file");
	int page = 1, rc = 0;
	const char *p = b.data, *end = b.data + b.len;
	struct plat_heads h = {0};
	struct fence f = {0};
	char *title = NULL;
	while (rc == 0) {
		const char *ff = memchr(p, '\f', (size_t)(end - p));
		const char *stop = ff ? ff : end;
		plat_heads_clear(&h);
		if (markdown)
			markdown_headings(p, (size_t)(stop - p), &f, &h, &title);
		rc = plat_extract_emit_page(fd, page++, p, (size_t)(stop - p), &h);
		if (!ff)
			break;
		p = ff + 1;
	}
	if (rc == 0)
		rc = plat_extract_emit_string(fd, 'T', title);
	free(title);
	plat_heads_free(&h);
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

static char *attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s = v && *v ? plat_xstrdup((const char *)v) : NULL;
	xmlFree(v);
	return s;
}

/* Where the walk is: the heading being read, the containers with an id around it (a
 * <section id> or <div id> names the first heading inside it, as in Sphinx's output). */
struct html_state {
	struct plat_buf *out;
	struct plat_heads *heads;
	char *title;
	size_t title_at; /* (size_t)-1: not inside <title> */
	xmlNodePtr heading;
	size_t navigation; /* depth of menus and sidebars around */
	size_t heading_at, heading_text_at;
	int heading_level;
	char *anchor_own, *anchor_a, *anchor_box;
	char *pending; /* an <a name> before any heading, with no text after it yet (DocBook) */
	size_t pending_at;
	struct box {
		xmlNodePtr node;
		char *id;
		bool named; /* a heading came inside it: its id is that heading's */
	} *boxes;
	size_t n_boxes, cap_boxes;
};

static bool is_heading(const char *name)
{
	return name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2];
}

/* Menus, sidebars and search boxes have headings ("Navigation", "Table of Contents") that
 * are not the document's: their text stays, their headings start no section. */
static bool is_navigation(xmlNodePtr node, const char *name)
{
	if (!strcmp(name, "nav") || !strcmp(name, "aside"))
		return true;
	char *role = attr(node, "role"), *cls = attr(node, "class");
	bool nav = (role && (!strcmp(role, "navigation") || !strcmp(role, "search") || !strcmp(role, "complementary"))) ||
		   (cls && strstr(cls, "sidebar"));
	free(role);
	free(cls);
	return nav;
}

static void html_enter(struct html_state *st, xmlNodePtr node, const char *name)
{
	if (is_navigation(node, name))
		st->navigation++;
	if (st->navigation)
		return;
	if (!strcmp(name, "section") || !strcmp(name, "div") || !strcmp(name, "article")) {
		char *id = attr(node, "id");
		if (id) {
			if (st->n_boxes == st->cap_boxes) {
				st->cap_boxes = st->cap_boxes ? st->cap_boxes * 2 : 16;
				st->boxes = plat_xrealloc(st->boxes, st->cap_boxes * sizeof(*st->boxes));
			}
			st->boxes[st->n_boxes++] = (struct box){node, id, false};
		}
	} else if (is_heading(name)) {
		/* A box names its first heading only; marking stops at the first box marked
		 * already, as every box outside it was marked with it. */
		const char *box = st->n_boxes && !st->boxes[st->n_boxes - 1].named ? st->boxes[st->n_boxes - 1].id : NULL;
		for (size_t i = st->n_boxes; i-- > 0 && !st->boxes[i].named;)
			st->boxes[i].named = true;
		if (!st->heading && name[1] <= '3') {
			st->heading = node;
			st->heading_level = name[1] - '0';
			st->heading_at = st->out->len;
			st->heading_text_at = st->out->len + (size_t)st->heading_level + 1; /* past "## " */
			st->anchor_own = attr(node, "id");
			st->anchor_box = box ? plat_xstrdup(box) : NULL;
			bool text_since = false;
			for (size_t i = st->pending_at; st->pending && i < st->out->len; i++)
				text_since |= !plat_extract_blank(st->out->data[i]);
			if (st->pending && !text_since) {
				free(st->anchor_box);
				st->anchor_box = st->pending; /* before the box's id: it is nearer */
				st->pending = NULL;
			}
		}
		free(st->pending);
		st->pending = NULL;
	} else if (!strcmp(name, "a") && st->heading && !st->anchor_a) {
		st->anchor_a = attr(node, "id");
		if (!st->anchor_a)
			st->anchor_a = attr(node, "name");
	} else if (!strcmp(name, "a") && !st->heading) {
		char *a = attr(node, "id");
		if (!a)
			a = attr(node, "name");
		if (a) {
			free(st->pending);
			st->pending = a;
			st->pending_at = st->out->len;
		}
	} else if (!strcmp(name, "title") && !st->title && st->title_at == (size_t)-1) {
		st->title_at = st->out->len;
	}
}

static void html_leave(struct html_state *st, xmlNodePtr node, const char *name)
{
	if (st->navigation) {
		st->navigation -= is_navigation(node, name);
		return;
	}
	if (st->n_boxes && st->boxes[st->n_boxes - 1].node == node)
		free(st->boxes[--st->n_boxes].id);
	if (node == st->heading) {
		const char *a = st->anchor_own ? st->anchor_own : st->anchor_a ? st->anchor_a : st->anchor_box;
		size_t from = st->heading_text_at < st->out->len ? st->heading_text_at : st->out->len;
		plat_heads_add(st->heads, st->heading_at, st->heading_level, st->out->data + from, st->out->len - from, a);
		if (!st->title && st->heading_level == 1 && st->heads->n)
			st->title = plat_xstrdup(st->heads->h[st->heads->n - 1].text);
		free(st->anchor_own);
		free(st->anchor_a);
		free(st->anchor_box);
		st->anchor_own = st->anchor_a = st->anchor_box = NULL;
		st->heading = NULL;
	} else if (!strcmp(name, "title") && st->title_at != (size_t)-1) {
		char *t = plat_extract_clean(st->out->data + st->title_at, st->out->len - st->title_at);
		if (*t) {
			free(st->title);
			st->title = t;
		} else {
			free(t);
		}
		st->title_at = (size_t)-1;
	}
}

/* Depth first with a stack of its own, not recursion: hostile HTML nests a million deep. */
static void html_walk(xmlNodePtr root, struct html_state *hs)
{
	struct plat_buf *out = hs->out;
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
			html_leave(hs, node, name);
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
		if (!strcmp(name, "a")) {
			/* Permalink signs (Sphinx, MkDocs) are not text. */
			char *cls = attr(node, "class");
			bool link = cls && strstr(cls, "headerlink");
			free(cls);
			if (link)
				continue;
		}
		if (is_block(name))
			end_line(out);
		html_enter(hs, node, name);
		if (is_heading(name))
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
		return plat_extract_fail(fd, "cannot read the file");
	/* HUGE lifts libxml2's nesting limit (256), past which the rest of the document would
	 * be dropped without a word; the child's memory limit still bounds the tree. */
	htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
	if (!ctxt) {
		plat_buf_free(&b);
		return plat_extract_fail(fd, "too large to parse within extract.memory_limit");
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
		return plat_extract_fail(fd, "too large to parse within extract.memory_limit");
	}
	if (!doc)
		return plat_extract_fail(fd, "not parseable as HTML");
	struct plat_buf text = PLAT_BUF_INIT;
	plat_buf_reserve(&text, 0);
	struct plat_heads h = {0};
	struct html_state hs = {.out = &text, .heads = &h, .title_at = (size_t)-1};
	html_walk(xmlDocGetRootElement(doc), &hs);
	xmlFreeDoc(doc);
	int rc = plat_extract_emit_page(fd, 1, text.data, text.len, &h);
	if (rc == 0)
		rc = plat_extract_emit_string(fd, 'T', hs.title);
	free(hs.title);
	free(hs.anchor_own);
	free(hs.anchor_a);
	free(hs.anchor_box);
	free(hs.pending);
	for (size_t i = 0; i < hs.n_boxes; i++)
		free(hs.boxes[i].id);
	free(hs.boxes);
	plat_heads_free(&h);
	plat_buf_free(&text);
	return rc;
}

/* ---- DOCX ---- */

/* Paragraph styles that make headings: their ids, from word/styles.xml (where a German
 * Word names "heading 1" berschrift1) or, without it, Word's own ids. */
struct docx_style {
	char *id;
	int level; /* 0: Title */
};

struct docx_state {
	int fd;
	int page;
	struct plat_buf text;
	struct plat_heads heads;
	char *title, *first_heading;
	struct docx_style *styles;
	size_t n_styles;
};

/* The level a style name or id stands for: 1-3 for "heading 1".."heading 3" (any case and
 * spacing), 0 for Title, -1 for anything else. */
static int style_level(const char *name)
{
	if (!strcasecmp(name, "title"))
		return 0;
	if (strncasecmp(name, "heading", 7))
		return -1;
	const char *d = name + 7;
	while (*d == ' ')
		d++;
	return d[0] >= '1' && d[0] <= '9' && !d[1] ? d[0] - '0' : -1;
}

static void docx_styles(const char *xml, size_t len, struct docx_state *s)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, "styles.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
									XML_PARSE_NOWARNING);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "style"))
			continue;
		char *id = attr(n, "styleId");
		int level = -1;
		for (xmlNodePtr k = n->children; k && id; k = k->next)
			if (k->type == XML_ELEMENT_NODE && !strcmp((const char *)k->name, "name")) {
				char *v = attr(k, "val");
				level = v ? style_level(v) : -1;
				free(v);
			}
		if (id && level >= 0) {
			s->styles = plat_xrealloc(s->styles, (s->n_styles + 1) * sizeof(*s->styles));
			s->styles[s->n_styles++] = (struct docx_style){id, level};
		} else {
			free(id);
		}
	}
	xmlFreeDoc(doc);
}

/* The heading level of the paragraph p (its w:pPr/w:pStyle), 0 for a Title, -1 for text. */
static int docx_level(xmlNodePtr p, const struct docx_state *s)
{
	for (xmlNodePtr pr = p->children; pr; pr = pr->next) {
		if (pr->type != XML_ELEMENT_NODE || strcmp((const char *)pr->name, "pPr"))
			continue;
		for (xmlNodePtr k = pr->children; k; k = k->next) {
			if (k->type != XML_ELEMENT_NODE || strcmp((const char *)k->name, "pStyle"))
				continue;
			char *v = attr(k, "val");
			int level = -1;
			if (v && s->n_styles) {
				for (size_t i = 0; i < s->n_styles; i++)
					if (!strcmp(s->styles[i].id, v))
						level = s->styles[i].level;
			} else if (v) {
				level = style_level(v);
			}
			free(v);
			return level;
		}
	}
	return -1;
}

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
				plat_extract_emit_page(s->fd, s->page++, s->text.data, s->text.len, &s->heads);
				plat_heads_clear(&s->heads);
				plat_buf_reset(&s->text);
			} else if (!page) {
				plat_buf_putc(&s->text, '\n');
			}
		} else if (!strcmp(name, "p")) {
			int level = docx_level(n, s), page = s->page;
			size_t at = s->text.len;
			docx_walk(n->children, s);
			/* A heading cut by a page break is the new page's first line. */
			if (page != s->page)
				at = 0;
			if (level == 0 && !s->title)
				s->title = plat_extract_clean(s->text.data + at, s->text.len - at);
			else if (level >= 1 && level <= 3) {
				plat_heads_add(&s->heads, at, level, s->text.data + at, s->text.len - at, NULL);
				if (!s->first_heading && s->heads.n)
					s->first_heading = plat_xstrdup(s->heads.h[s->heads.n - 1].text);
			}
			plat_buf_putc(&s->text, '\n');
		} else {
			docx_walk(n->children, s);
		}
	}
}

/* A member of the archive, at most MAX_XML bytes; NULL (and *msg) when it cannot be read. */
static char *zip_member(zip_t *z, const char *name, size_t *len, const char **msg)
{
	zip_stat_t st;
	if (zip_stat(z, name, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
		*msg = "not a DOCX file (no word/document.xml)";
		return NULL;
	}
	if (st.size > MAX_XML) {
		*msg = "word/document.xml is too large (a zip bomb?)";
		return NULL;
	}
	zip_file_t *f = zip_fopen(z, name, 0);
	char *xml = plat_xmalloc((size_t)st.size + 1);
	zip_int64_t got = f ? zip_fread(f, xml, st.size) : -1;
	if (f)
		zip_fclose(f);
	if (got != (zip_int64_t)st.size) {
		free(xml);
		*msg = "cannot read word/document.xml";
		return NULL;
	}
	*len = (size_t)st.size;
	return xml;
}

static int docx_pages(struct job *j, int fd)
{
	int err = 0;
	zip_t *z = zip_fdopen(j->in, ZIP_RDONLY, &err); /* takes the fd */
	if (!z)
		return plat_extract_fail(fd, "not a DOCX file (not a zip archive)");
	const char *msg = NULL;
	size_t len = 0, styles_len = 0;
	char *xml = zip_member(z, "word/document.xml", &len, &msg);
	const char *ignored;
	char *styles = xml ? zip_member(z, "word/styles.xml", &styles_len, &ignored) : NULL;
	zip_close(z);
	if (!xml)
		return plat_extract_fail(fd, msg);
	struct docx_state s = {fd, 1, PLAT_BUF_INIT, {0}, NULL, NULL, NULL, 0};
	if (styles)
		docx_styles(styles, styles_len, &s);
	free(styles);
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, "document.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
									   XML_PARSE_NOWARNING);
	free(xml);
	int rc = 0;
	if (!doc) {
		rc = plat_extract_fail(fd, "word/document.xml is not well-formed XML");
	} else {
		plat_buf_reserve(&s.text, 0);
		docx_walk(xmlDocGetRootElement(doc), &s);
		xmlFreeDoc(doc);
		if (s.text.len || s.page == 1)
			rc = plat_extract_emit_page(fd, s.page, s.text.data, s.text.len, &s.heads);
		if (rc == 0)
			rc = plat_extract_emit_string(fd, 'T', s.title && *s.title ? s.title : s.first_heading);
	}
	free(s.title);
	free(s.first_heading);
	for (size_t i = 0; i < s.n_styles; i++)
		free(s.styles[i].id);
	free(s.styles);
	plat_heads_free(&s.heads);
	plat_buf_free(&s.text);
	return rc;
}

int plat_extract_parse(int in, const char *content_type, int fd)
{
	struct job job = {in}, *j = &job;
	const char *t = content_type ? content_type : "";
	if (!strcmp(t, "application/pdf"))
		return plat_extract_pdf(j->in, fd);
	if (!strcmp(t, "text/html") || !strcmp(t, "application/xhtml+xml"))
		return html_pages(j, fd);
	if (!strcmp(t, DOCX_TYPE))
		return docx_pages(j, fd);
	if (!strncmp(t, "text/", 5))
		return text_pages(j, fd, !strcmp(t, "text/markdown") || !strcmp(t, "text/x-markdown"));
	return plat_extract_fail(fd, "no text extractor for this content type");
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
