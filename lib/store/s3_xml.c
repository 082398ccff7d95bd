/* The few S3 XML replies the driver reads, parsed with libxml2 (no network, no entity
 * expansion: replies come from a server we do not control). */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "mem/mem.h"
#include "store/s3_internal.h"

static xmlDocPtr parse(const char *xml, size_t len)
{
	if (!xml || len == 0 || len > 64 * 1024 * 1024)
		return NULL;
	return xmlReadMemory(xml, (int)len, "s3.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static xmlNodePtr find(xmlNodePtr n, const char *name)
{
	for (; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
		xmlNodePtr c = find(n->children, name);
		if (c)
			return c;
	}
	return NULL;
}

static char *text_of(xmlNodePtr n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	if (!t)
		return NULL;
	char *s = plat_xstrdup((const char *)t);
	xmlFree(t);
	return s;
}

static char *child_text(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr c = parent->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return text_of(c);
	return NULL;
}

char *s3_xml_text(const char *xml, size_t len, const char *name)
{
	xmlDocPtr doc = parse(xml, len);
	if (!doc)
		return NULL;
	char *s = text_of(find(xmlDocGetRootElement(doc), name));
	xmlFreeDoc(doc);
	return s;
}

int s3_xml_list(const char *xml, size_t len,
		void (*fn)(void *arg, const char *key, long long size, const char *etag, const char *last_modified),
		void *arg, char **next_token, bool *truncated)
{
	*next_token = NULL;
	*truncated = false;
	xmlDocPtr doc = parse(xml, len);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || strcmp((const char *)root->name, "ListBucketResult") != 0) {
		if (doc)
			xmlFreeDoc(doc);
		return -1;
	}
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!strcmp((const char *)c->name, "Contents")) {
			char *key = child_text(c, "Key"), *size = child_text(c, "Size"), *etag = child_text(c, "ETag"),
			     *lm = child_text(c, "LastModified");
			if (key)
				fn(arg, key, size ? atoll(size) : 0, etag, lm);
			free(key);
			free(size);
			free(etag);
			free(lm);
		} else if (!strcmp((const char *)c->name, "IsTruncated")) {
			char *t = text_of(c);
			*truncated = t && !strcmp(t, "true");
			free(t);
		} else if (!strcmp((const char *)c->name, "NextContinuationToken")) {
			free(*next_token);
			*next_token = text_of(c);
		}
	}
	xmlFreeDoc(doc);
	return 0;
}
