/* Builtin classification: a taxonomy of weighted keywords per class (YAML). A class
 * scores the sum of weight * (1 + ln count) of its keywords found as whole words or
 * phrases; the confidence is the winner's share of all scores. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "ai/builtin.h"
#include "mem/mem.h"

struct keyword {
	char *text; /* lower case */
	double weight;
};

struct class_def {
	char *name;
	struct keyword *kw;
	size_t n;
};

struct plat_taxonomy {
	struct class_def *classes;
	size_t n;
};

void plat_taxonomy_free(struct plat_taxonomy *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		for (size_t k = 0; k < t->classes[i].n; k++)
			free(t->classes[i].kw[k].text);
		free(t->classes[i].kw);
		free(t->classes[i].name);
	}
	free(t->classes);
	free(t);
}

static yaml_node_t *value_of(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static int bad(struct plat_error *err, const char *name, yaml_node_t *n, const char *what)
{
	return plat_error_set(err, PLAT_E_CONFIG, "%s:%d:%d: %s", name, n ? (int)n->start_mark.line + 1 : 0,
			      n ? (int)n->start_mark.column + 1 : 0, what);
}

int plat_taxonomy_load_buffer(const char *name, const char *yaml, size_t len, struct plat_taxonomy **out,
			      struct plat_error *err)
{
	*out = NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &doc)) {
		int rc = plat_error_set(err, PLAT_E_CONFIG, "%s:%d:%d: YAML syntax error: %s", name,
					(int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1,
					parser.problem ? parser.problem : "?");
		yaml_parser_delete(&parser);
		return rc;
	}
	struct plat_taxonomy *t = plat_xcalloc(1, sizeof(*t));
	int rc = 0;
	yaml_node_t *classes = value_of(&doc, yaml_document_get_root_node(&doc), "classes");
	if (!classes || classes->type != YAML_MAPPING_NODE) {
		rc = bad(err, name, classes ? classes : yaml_document_get_root_node(&doc), "expected 'classes:' with a mapping of classes");
		goto out;
	}
	size_t nc = (size_t)(classes->data.mapping.pairs.top - classes->data.mapping.pairs.start);
	t->classes = plat_xcalloc(nc ? nc : 1, sizeof(*t->classes));
	for (yaml_node_pair_t *p = classes->data.mapping.pairs.start; p < classes->data.mapping.pairs.top && rc == 0; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);
		yaml_node_t *kws = value_of(&doc, v, "keywords");
		if (!k || k->type != YAML_SCALAR_NODE || !kws || kws->type != YAML_MAPPING_NODE) {
			rc = bad(err, name, v ? v : k, "each class needs 'keywords:' mapping words to weights");
			break;
		}
		struct class_def *c = &t->classes[t->n++];
		c->name = plat_xstrdup((char *)k->data.scalar.value);
		size_t nk = (size_t)(kws->data.mapping.pairs.top - kws->data.mapping.pairs.start);
		c->kw = plat_xcalloc(nk ? nk : 1, sizeof(*c->kw));
		for (yaml_node_pair_t *q = kws->data.mapping.pairs.start; q < kws->data.mapping.pairs.top; q++) {
			yaml_node_t *word = yaml_document_get_node(&doc, q->key);
			yaml_node_t *weight = yaml_document_get_node(&doc, q->value);
			char *end = NULL;
			double w = weight && weight->type == YAML_SCALAR_NODE ? strtod((char *)weight->data.scalar.value, &end) : 0;
			if (!word || word->type != YAML_SCALAR_NODE || !end || *end || !(w > 0) || w > 1000) {
				rc = bad(err, name, weight ? weight : word, "keyword weights are numbers above 0 (at most 1000)");
				break;
			}
			char *lower = plat_xstrdup((char *)word->data.scalar.value);
			for (char *x = lower; *x; x++)
				*x = (char)tolower((unsigned char)*x);
			c->kw[c->n++] = (struct keyword){lower, w};
		}
	}
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0) {
		plat_taxonomy_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* build/gen/taxonomy_data.c, made by scripts/embed-data.sh. */
extern const char plat_taxonomy_builtin_yaml[];
extern const size_t plat_taxonomy_builtin_yaml_len;

int plat_taxonomy_builtin(struct plat_taxonomy **out, struct plat_error *err)
{
	return plat_taxonomy_load_buffer("builtin taxonomy", plat_taxonomy_builtin_yaml, plat_taxonomy_builtin_yaml_len,
					 out, err);
}

int plat_taxonomy_load(const char *path, struct plat_taxonomy **out, struct plat_error *err)
{
	if (!path || !*path)
		return plat_taxonomy_builtin(out, err);
	FILE *f = fopen(path, "r");
	if (!f)
		return plat_error_set(err, PLAT_E_CONFIG, "cannot open taxonomy '%s': %s", path, strerror(errno));
	struct plat_buf b = PLAT_BUF_INIT;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (1 << 20))
		plat_buf_append(&b, chunk, n);
	fclose(f);
	plat_buf_reserve(&b, 0);
	int rc = plat_taxonomy_load_buffer(path, b.data, b.len, out, err);
	plat_buf_free(&b);
	return rc;
}

static bool is_word(char c)
{
	return isalnum((unsigned char)c) || (unsigned char)c >= 0x80;
}

/* Whole-word (or whole-phrase) occurrences of kw in the lower-cased text. */
static int occurrences(const char *low, const char *kw)
{
	int count = 0;
	size_t kl = strlen(kw);
	for (const char *p = strstr(low, kw); p; p = strstr(p + 1, kw)) {
		bool start_ok = p == low || !is_word(p[-1]);
		bool end_ok = !is_word(p[kl]);
		count += start_ok && end_ok;
	}
	return count;
}

const char *plat_ai_builtin_classify(const struct plat_taxonomy *t, const char *text, size_t len, double *confidence)
{
	char *low = plat_xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)text[i]);
	low[len] = '\0';
	double best = 0, total = 0;
	const char *winner = "other";
	for (size_t i = 0; t && i < t->n; i++) {
		double score = 0;
		for (size_t k = 0; k < t->classes[i].n; k++) {
			int c = occurrences(low, t->classes[i].kw[k].text);
			if (c > 0)
				score += t->classes[i].kw[k].weight * (1.0 + log((double)c));
		}
		total += score;
		if (score > best) { /* ties: the class listed first */
			best = score;
			winner = t->classes[i].name;
		}
	}
	free(low);
	/* Share of the evidence, damped when there is little of it. */
	*confidence = best > 0 ? (best / total) * (1.0 - exp(-best / 5.0)) : 0;
	return winner;
}
