/* YAML documents read into cJSON (mappings → objects, sequences → arrays, scalars →
 * strings, numbers, booleans or null by YAML 1.2's core schema), for input files such as
 * eval question sets. Anchors and aliases are refused: a small file must not expand into
 * a huge one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "output/output.h"

static cJSON *scalar(const yaml_event_t *e)
{
	const char *v = (const char *)e->data.scalar.value;
	if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cJSON_CreateString(v);
	if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
		return cJSON_CreateTrue();
	if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))
		return cJSON_CreateFalse();
	if (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL"))
		return cJSON_CreateNull();
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (!*end && end != v && errno == 0 && strspn(v, "+-0123456789.eE") == strlen(v))
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(v);
}

static int fail(struct plat_error *err, const char *name, const yaml_mark_t *m, const char *what)
{
	return plat_error_set(err, PLAT_E_INVALID, "%s:%zu:%zu: %s", name, m->line + 1, m->column + 1, what);
}

/* The node that starts with event e (already taken from the parser). */
static int node(yaml_parser_t *p, yaml_event_t *e, const char *name, int depth, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	if (depth > 64)
		return fail(err, name, &e->start_mark, "nested too deeply");
	switch (e->type) {
	case YAML_SCALAR_EVENT:
		*out = scalar(e);
		return 0;
	case YAML_ALIAS_EVENT:
		return fail(err, name, &e->start_mark, "aliases are not accepted");
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool map = e->type == YAML_MAPPING_START_EVENT;
		cJSON *c = map ? cJSON_CreateObject() : cJSON_CreateArray();
		for (;;) {
			yaml_event_t k;
			if (!yaml_parser_parse(p, &k)) {
				cJSON_Delete(c);
				return fail(err, name, &p->problem_mark, p->problem ? p->problem : "not valid YAML");
			}
			if (k.type == YAML_SEQUENCE_END_EVENT || k.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&k);
				break;
			}
			char *key = NULL;
			int rc = 0;
			if (map) {
				if (k.type != YAML_SCALAR_EVENT) {
					rc = fail(err, name, &k.start_mark, "a mapping key must be a plain value");
				} else {
					key = strdup((const char *)k.data.scalar.value);
					yaml_event_delete(&k);
					if (!yaml_parser_parse(p, &k)) {
						free(key);
						cJSON_Delete(c);
						return fail(err, name, &p->problem_mark, p->problem ? p->problem : "not valid YAML");
					}
				}
			}
			cJSON *child = NULL;
			if (rc == 0)
				rc = node(p, &k, name, depth + 1, &child, err);
			yaml_event_delete(&k);
			if (rc < 0) {
				free(key);
				cJSON_Delete(c);
				return rc;
			}
			if (map) {
				cJSON_DeleteItemFromObject(c, key); /* the last of duplicate keys wins */
				cJSON_AddItemToObject(c, key, child);
				free(key);
			} else {
				cJSON_AddItemToArray(c, child);
			}
		}
		*out = c;
		return 0;
	}
	default:
		return fail(err, name, &e->start_mark, "unexpected YAML structure");
	}
}

int plat_yaml_load(const char *name, const char *text, size_t len, cJSON **out, struct plat_error *err)
{
	*out = NULL;
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int rc = 0;
	cJSON *doc = NULL;
	for (bool done = false; !done && rc == 0;) {
		yaml_event_t e;
		if (!yaml_parser_parse(&p, &e)) {
			rc = fail(err, name, &p.problem_mark, p.problem ? p.problem : "not valid YAML");
			break;
		}
		switch (e.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		default:
			if (doc)
				rc = fail(err, name, &e.start_mark, "only one YAML document is accepted");
			else
				rc = node(&p, &e, name, 0, &doc, err);
		}
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	if (rc < 0) {
		cJSON_Delete(doc);
		return rc;
	}
	*out = doc ? doc : cJSON_CreateNull();
	return 0;
}
