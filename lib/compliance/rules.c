/* Rule files: YAML → struct plat_rule_set, every problem with its file:line:column
 * (platctl-rules(5)). This file reads files and the keys every rule has; rules_kinds.c
 * the keys of each kind. Nothing here touches the database, so `compliance validate`
 * works on a machine that has none. */
#include "compliance/rules_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"
#include "str/str.h"

/* A rule file bigger than this is a mistake, not a rule set. */
#define RULES_MAX_BYTES (1024 * 1024)
#define RULE_NAME_MAX 100

/* The set the caller sees, and the arena its strings live in. */
struct rule_set_impl {
	struct plat_rule_set pub;
	struct plat_arena arena;
	size_t cap;
};

/* ---- names ---- */

static const char *const kind_names[PLAT_RULE__COUNT] = {
	[PLAT_RULE_EXPIRY] = "expiry",
	[PLAT_RULE_REQUIRED_FIELDS] = "required_fields",
	[PLAT_RULE_RETENTION] = "retention",
	[PLAT_RULE_PII] = "pii",
	[PLAT_RULE_INTEGRITY] = "integrity",
	[PLAT_RULE_ORPHANS] = "orphans",
	[PLAT_RULE_AUDIT_CHAIN] = "audit_chain",
};

static const char *const severity_names[PLAT_SEV__COUNT] = {"info", "low", "medium", "high", "critical"};

const char *plat_rule_kind_name(enum plat_rule_kind kind)
{
	return (unsigned)kind < PLAT_RULE__COUNT ? kind_names[kind] : "unknown";
}

int plat_rule_kind_parse(const char *name)
{
	for (int k = 0; name && k < PLAT_RULE__COUNT; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

const char *plat_severity_name(enum plat_severity sev)
{
	return (unsigned)sev < PLAT_SEV__COUNT ? severity_names[sev] : "unknown";
}

int plat_severity_parse(const char *name)
{
	for (int s = 0; name && s < PLAT_SEV__COUNT; s++)
		if (strcmp(name, severity_names[s]) == 0)
			return s;
	return -1;
}

/* ---- diagnostics ---- */

static void add_diag(struct plat_rule_diags *diags, const char *file, int line, int column, bool warning,
		     const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

static void add_diag(struct plat_rule_diags *diags, const char *file, int line, int column, bool warning,
		     const char *fmt, va_list ap)
{
	diags->items = plat_xrealloc(diags->items, (diags->n + 1) * sizeof(*diags->items));
	struct plat_rule_diag *d = &diags->items[diags->n++];
	struct plat_buf msg = PLAT_BUF_INIT;
	plat_buf_vprintf(&msg, fmt, ap);
	d->file = plat_xstrdup(file ? file : "");
	d->line = line;
	d->column = column;
	d->warning = warning;
	d->message = plat_buf_detach(&msg);
}

static void diag_at(struct plat_rule_diags *diags, const char *file, int line, int column, bool warning,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void diag_at(struct plat_rule_diags *diags, const char *file, int line, int column, bool warning,
		    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_diag(diags, file, line, column, warning, fmt, ap);
	va_end(ap);
}

void rules_diag(struct rules_loader *l, const yaml_node_t *at, bool warning, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_diag(l->diags, l->file, at ? RULES_LINE(at) : 0, at ? RULES_COL(at) : 0, warning, fmt, ap);
	va_end(ap);
}

char *plat_rule_diag_format(const struct plat_rule_diag *d)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_str_escape_terminal(&b, d->file ? d->file : "", d->file ? strlen(d->file) : 0);
	if (d->line > 0)
		plat_buf_printf(&b, ":%d:%d", d->line, d->column);
	plat_buf_puts(&b, d->warning ? ": warning: " : ": ");
	/* Messages quote keys and values from the file: a terminal must show them, not obey them. */
	plat_str_escape_terminal(&b, d->message, strlen(d->message));
	return plat_buf_detach(&b);
}

void plat_rule_diags_free(struct plat_rule_diags *diags)
{
	if (!diags)
		return;
	for (size_t i = 0; i < diags->n; i++) {
		free(diags->items[i].file);
		free(diags->items[i].message);
	}
	free(diags->items);
	diags->items = NULL;
	diags->n = 0;
}

/* ---- YAML values ---- */

const char *rules_node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "a scalar";
	}
}

bool rules_is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = (const char *)n->data.scalar.value;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

const char *rules_scalar(struct rules_loader *l, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SCALAR_NODE) {
		rules_diag(l, n, false, "'%s': expected a single value, found %s", key, rules_node_kind(n));
		return NULL;
	}
	const char *s = (const char *)n->data.scalar.value;
	if (!plat_utf8_valid(s, n->data.scalar.length) || strlen(s) != n->data.scalar.length) {
		rules_diag(l, n, false, "'%s': the value is not valid UTF-8 text", key);
		return NULL;
	}
	return s;
}

yaml_node_t *rules_get(struct rules_loader *l, yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(l->doc, p->value);
	}
	return NULL;
}

/* ---- rules ---- */

static const char *const common_keys[] = {"name", "kind", "severity", "description", "enabled", "classes", NULL};

static bool in_list(const char *const *list, const char *key)
{
	for (; list && *list; list++)
		if (strcmp(*list, key) == 0)
			return true;
	return false;
}

static bool valid_rule_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')) || strlen(s) > RULE_NAME_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return false;
	return true;
}

static void kind_list(struct plat_buf *b)
{
	for (int k = 0; k < PLAT_RULE__COUNT; k++)
		plat_buf_printf(b, "%s%s", k ? ", " : "", kind_names[k]);
}

/* A key no kind knows: a warning, with the nearest known key as a suggestion. */
static void unknown_key(struct rules_loader *l, yaml_node_t *kn, const char *key)
{
	const char *best = NULL;
	size_t best_d = 3;
	for (const char *const *c = common_keys; *c; c++) {
		size_t d = plat_str_edit_distance(key, *c);
		if (d < best_d)
			best_d = d, best = *c;
	}
	for (int k = 0; k < PLAT_RULE__COUNT; k++)
		for (const char *const *c = rules_kind_keys(k); *c; c++) {
			size_t d = plat_str_edit_distance(key, *c);
			if (d < best_d)
				best_d = d, best = *c;
		}
	if (best)
		rules_diag(l, kn, true, "unknown key '%s', ignored (did you mean '%s'?)", key, best);
	else
		rules_diag(l, kn, true, "unknown key '%s', ignored", key);
}

/* Keys: duplicates, unknown ones, and ones of another kind. kind < 0: the kind is not
 * known, so only duplicates and keys no kind has are reported. */
static int check_keys(struct rules_loader *l, yaml_node_t *map, int kind)
{
	int rc = 0;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(l->doc, p->key);
		if (!kn)
			continue;
		if (kn->type != YAML_SCALAR_NODE) {
			rules_diag(l, kn, false, "keys must be plain names, found %s", rules_node_kind(kn));
			rc = -1;
			continue;
		}
		const char *key = (const char *)kn->data.scalar.value;
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *qk = yaml_document_get_node(l->doc, q->key);
			if (qk && qk->type == YAML_SCALAR_NODE && strcmp((const char *)qk->data.scalar.value, key) == 0) {
				rules_diag(l, kn, false, "duplicate key '%s' (first on line %d)", key, RULES_LINE(qk));
				rc = -1;
				break;
			}
		}
		if (in_list(common_keys, key) || (kind >= 0 && in_list(rules_kind_keys(kind), key)))
			continue;
		int owner = -1;
		for (int k = 0; k < PLAT_RULE__COUNT && owner < 0; k++)
			if (in_list(rules_kind_keys(k), key))
				owner = k;
		if (owner < 0) {
			unknown_key(l, kn, key);
		} else if (kind >= 0) {
			rules_diag(l, kn, false, "'%s' is not a key of %s rules (it belongs to %s rules)", key,
				   kind_names[kind], kind_names[owner]);
			rc = -1;
		}
	}
	return rc;
}

/* Parse one rule mapping into r; 0, or -1 when it has errors (diags added). */
static int parse_rule(struct rules_loader *l, yaml_node_t *map, struct plat_rule *r, yaml_node_t **name_node)
{
	int rc = 0;
	memset(r, 0, sizeof(*r));
	r->file = plat_arena_strdup(l->arena, l->file);
	r->line = RULES_LINE(map);
	r->column = RULES_COL(map);
	r->severity = PLAT_SEV_MEDIUM;
	r->enabled = true;

	yaml_node_t *n = rules_get(l, map, "name");
	*name_node = n;
	if (!n || rules_is_null(n)) {
		rules_diag(l, n ? n : map, false, "the rule has no 'name'");
		rc = -1;
	} else {
		const char *s = rules_scalar(l, n, "name");
		if (!s) {
			rc = -1;
		} else if (!valid_rule_name(s)) {
			rules_diag(l, n, false,
				   "'name': '%s' is not a valid rule name (lowercase letters, digits, '_', '.', '-', "
				   "starting with a letter or digit, at most %d characters)",
				   s, RULE_NAME_MAX);
			rc = -1;
		} else {
			r->name = plat_arena_strdup(l->arena, s);
		}
	}

	int kind = -1;
	n = rules_get(l, map, "kind");
	if (!n || rules_is_null(n)) {
		rules_diag(l, n ? n : map, false, "the rule has no 'kind'");
		rc = -1;
	} else {
		const char *s = rules_scalar(l, n, "kind");
		if (s && (kind = plat_rule_kind_parse(s)) < 0) {
			struct plat_buf b = PLAT_BUF_INIT;
			kind_list(&b);
			rules_diag(l, n, false, "'kind': unknown rule kind '%s' (expected one of: %s)", s, b.data);
			plat_buf_free(&b);
		}
		if (kind < 0)
			rc = -1;
		else
			r->kind = (enum plat_rule_kind)kind;
	}

	if ((n = rules_get(l, map, "severity")) && !rules_is_null(n)) {
		const char *s = rules_scalar(l, n, "severity");
		int sev = s ? plat_severity_parse(s) : -1;
		if (s && sev < 0)
			rules_diag(l, n, false,
				   "'severity': unknown severity '%s' (expected one of: info, low, medium, high, critical)", s);
		if (sev < 0)
			rc = -1;
		else
			r->severity = (enum plat_severity)sev;
	}
	if ((n = rules_get(l, map, "description")) && !rules_is_null(n)) {
		const char *s = rules_scalar(l, n, "description");
		if (s)
			r->description = plat_arena_strdup(l->arena, s);
		else
			rc = -1;
	}
	if ((n = rules_get(l, map, "enabled")) && rules_bool(l, n, "enabled", &r->enabled) < 0)
		rc = -1;
	if ((n = rules_get(l, map, "classes")) && rules_name_list(l, n, "classes", &r->classes) < 0)
		rc = -1;

	if (check_keys(l, map, kind) < 0)
		rc = -1;
	if (kind >= 0 && rules_kind_parse(l, map, r) < 0)
		rc = -1;
	return rc;
}

static void set_add(struct rule_set_impl *s, const struct plat_rule *r)
{
	if (s->pub.n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->pub.rules = plat_xrealloc(s->pub.rules, s->cap * sizeof(*s->pub.rules));
	}
	s->pub.rules[s->pub.n++] = *r;
}

static void load_document(struct rule_set_impl *s, struct rules_loader *l)
{
	yaml_node_t *root = yaml_document_get_root_node(l->doc);
	if (!root || rules_is_null(root)) {
		rules_diag(l, root, true, "the file has no rules");
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		rules_diag(l, root, false, "a rule file must be a mapping with a 'rules' list, found %s",
			   rules_node_kind(root));
		return;
	}
	yaml_node_t *list = NULL;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(l->doc, p->key);
		if (!kn)
			continue;
		if (kn->type == YAML_SCALAR_NODE && strcmp((const char *)kn->data.scalar.value, "rules") == 0) {
			if (list)
				rules_diag(l, kn, false, "duplicate key 'rules'");
			else
				list = yaml_document_get_node(l->doc, p->value);
		} else if (kn->type == YAML_SCALAR_NODE) {
			const char *key = (const char *)kn->data.scalar.value;
			if (plat_str_edit_distance(key, "rules") < 3)
				rules_diag(l, kn, true, "unknown key '%s', ignored (did you mean 'rules'?)", key);
			else
				rules_diag(l, kn, true, "unknown key '%s', ignored", key);
		} else {
			rules_diag(l, kn, false, "keys must be plain names, found %s", rules_node_kind(kn));
		}
	}
	if (!list) {
		rules_diag(l, root, false, "the file has no 'rules' list");
		return;
	}
	if (rules_is_null(list) ||
	    (list->type == YAML_SEQUENCE_NODE && list->data.sequence.items.top == list->data.sequence.items.start)) {
		rules_diag(l, list, true, "the file has no rules");
		return;
	}
	if (list->type != YAML_SEQUENCE_NODE) {
		rules_diag(l, list, false, "'rules': expected a list of rules, found %s", rules_node_kind(list));
		return;
	}
	for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
		yaml_node_t *rn = yaml_document_get_node(l->doc, *it);
		if (!rn)
			continue;
		if (rn->type != YAML_MAPPING_NODE) {
			rules_diag(l, rn, false, "a rule must be a mapping of keys, found %s", rules_node_kind(rn));
			continue;
		}
		struct plat_rule r;
		yaml_node_t *name_node = NULL;
		int rc = parse_rule(l, rn, &r, &name_node);
		if (r.name) {
			/* Named by the first definition, so the reader knows which one to rename. */
			const struct plat_rule *first = plat_rule_set_find(&s->pub, r.name);
			if (first) {
				rules_diag(l, name_node, false, "duplicate rule name '%s' (first defined at %s:%d)", r.name,
					   first->file, first->line);
				rc = -1;
			}
		}
		if (rc == 0)
			set_add(s, &r);
	}
}

/* In file order, as a reader goes through the file, rather than in the order of the checks. */
static void sort_diags(struct plat_rule_diags *diags, size_t from)
{
	for (size_t i = from + 1; i < diags->n; i++) {
		struct plat_rule_diag d = diags->items[i];
		size_t j = i;
		while (j > from && (diags->items[j - 1].line > d.line ||
				    (diags->items[j - 1].line == d.line && diags->items[j - 1].column > d.column))) {
			diags->items[j] = diags->items[j - 1];
			j--;
		}
		diags->items[j] = d;
	}
}

static void load_text(struct rule_set_impl *s, struct plat_rule_diags *diags, const char *name, const char *data,
		      size_t len)
{
	s->pub.files.items = plat_xrealloc(s->pub.files.items, (s->pub.files.n + 1) * sizeof(char *));
	s->pub.files.items[s->pub.files.n++] = plat_arena_strdup(&s->arena, name);

	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		diag_at(diags, name, 0, 0, false, "cannot initialise the YAML parser");
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		diag_at(diags, name, (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1, false,
			"YAML syntax error: %s%s%s", parser.problem ? parser.problem : "unknown problem",
			parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return;
	}
	struct rules_loader l = {&s->arena, diags, &doc, s->pub.files.items[s->pub.files.n - 1]};
	size_t first = diags->n;
	load_document(s, &l);
	sort_diags(diags, first);

	/* A second document would be silently ignored: refuse it. */
	yaml_document_t next;
	if (yaml_parser_load(&parser, &next)) {
		yaml_node_t *root = yaml_document_get_root_node(&next);
		if (root)
			rules_diag(&l, root, false, "a rule file must be a single YAML document");
		yaml_document_delete(&next);
	} else {
		diag_at(diags, name, (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1, false,
			"YAML syntax error: %s", parser.problem ? parser.problem : "unknown problem");
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
}

static struct rule_set_impl *set_new(void)
{
	struct rule_set_impl *s = plat_xcalloc(1, sizeof(*s));
	plat_arena_init(&s->arena, 0);
	return s;
}

void plat_rule_set_free(struct plat_rule_set *set)
{
	if (!set)
		return;
	struct rule_set_impl *s = (struct rule_set_impl *)set;
	plat_arena_free(&s->arena);
	free(s->pub.rules);
	free(s->pub.files.items);
	free(s);
}

const struct plat_rule *plat_rule_set_find(const struct plat_rule_set *set, const char *name)
{
	for (size_t i = 0; set && name && i < set->n; i++)
		if (strcmp(set->rules[i].name, name) == 0)
			return &set->rules[i];
	return NULL;
}

/* The outcome: PLAT_E_CONFIG naming the first error when there is one; else the set.
 * keep: the set goes to the caller either way. */
static int finish(struct rule_set_impl *s, const struct plat_rule_diags *diags, size_t first_diag, bool keep,
		  struct plat_rule_set **set, struct plat_error *err)
{
	size_t errors = 0;
	const struct plat_rule_diag *first = NULL;
	for (size_t i = first_diag; i < diags->n; i++)
		if (!diags->items[i].warning && errors++ == 0)
			first = &diags->items[i];
	if (!first || keep)
		*set = &s->pub;
	if (!first)
		return 0;
	if (!keep)
		plat_rule_set_free(&s->pub);
	char *msg = plat_rule_diag_format(first);
	if (errors > 1)
		plat_error_set(err, PLAT_E_CONFIG, "invalid compliance rules: %s (and %zu more problems)", msg, errors - 1);
	else
		plat_error_set(err, PLAT_E_CONFIG, "invalid compliance rules: %s", msg);
	free(msg);
	return -PLAT_E_CONFIG;
}

int plat_rules_load_buffer(const char *name, const char *data, size_t len, struct plat_rule_set **set,
			   struct plat_rule_diags *diags, struct plat_error *err)
{
	*set = NULL;
	size_t first_diag = diags->n;
	struct rule_set_impl *s = set_new();
	load_text(s, diags, name, data ? data : "", data ? len : 0);
	return finish(s, diags, first_diag, false, set, err);
}

/* 0 and the file's text, or a negative error kind. */
static int read_file(const char *path, struct plat_buf *out, struct plat_rule_diags *diags, struct plat_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return plat_error_set(err, PLAT_E_NOT_FOUND, "rule file '%s' not found", path);
		return plat_error_set(err, PLAT_E_FAILURE, "cannot open rule file '%s': %s", path, strerror(errno));
	}
	plat_buf_reserve(out, RULES_MAX_BYTES + 1);
	long long n = plat_read_upto(fd, out->data, RULES_MAX_BYTES + 1);
	int saved = errno;
	close(fd);
	if (n < 0)
		return plat_error_set(err, PLAT_E_FAILURE, "cannot read rule file '%s': %s", path, strerror(saved));
	if (n > RULES_MAX_BYTES) {
		diag_at(diags, path, 0, 0, false, "the file is larger than %d bytes", RULES_MAX_BYTES);
		out->len = 0;
		out->data[0] = '\0';
		return 1;
	}
	out->len = (size_t)n;
	out->data[n] = '\0';
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.yaml of dir, sorted (byte order, so the order is the same in every locale). */
static int list_dir(const char *dir, struct plat_strings *out, struct plat_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return plat_error_set(err, PLAT_E_FAILURE, "cannot read rule directory '%s': %s", dir, strerror(errno));
	struct dirent *e;
	size_t cap = 0;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		/* Dot files are editors' backups and lock files, not rule sets. */
		if (e->d_name[0] == '.' || n <= 5 || strcmp(e->d_name + n - 5, ".yaml") != 0)
			continue;
		struct plat_buf p = PLAT_BUF_INIT;
		plat_buf_printf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
		struct stat st;
		if (stat(p.data, &st) != 0 || !S_ISREG(st.st_mode)) {
			plat_buf_free(&p);
			continue;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->items = plat_xrealloc(out->items, cap * sizeof(char *));
		}
		out->items[out->n++] = plat_buf_detach(&p);
	}
	closedir(d);
	if (out->n)
		qsort(out->items, out->n, sizeof(char *), cmp_names);
	return 0;
}

static int load_path(const char *path, bool keep, struct plat_rule_set **set, struct plat_rule_diags *diags,
		     struct plat_error *err)
{
	*set = NULL;
	if (!path || !*path)
		return plat_error_set(err, PLAT_E_CONFIG, "no rule path is configured");
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return plat_error_set(err, PLAT_E_NOT_FOUND, "rule path '%s' not found", path);
		return plat_error_set(err, PLAT_E_FAILURE, "cannot read rule path '%s': %s", path, strerror(errno));
	}
	struct plat_strings files = {NULL, 0};
	if (S_ISDIR(st.st_mode)) {
		int rc = list_dir(path, &files, err);
		if (rc < 0)
			return rc;
	} else {
		files.items = plat_xmalloc(sizeof(char *));
		files.items[files.n++] = plat_xstrdup(path);
	}

	size_t first_diag = diags->n;
	struct rule_set_impl *s = set_new();
	int rc = 0;
	for (size_t i = 0; i < files.n && rc == 0; i++) {
		struct plat_buf text = PLAT_BUF_INIT;
		rc = read_file(files.items[i], &text, diags, err);
		if (rc == 0)
			load_text(s, diags, files.items[i], text.data, text.len);
		rc = rc > 0 ? 0 : rc;
		plat_buf_free(&text);
	}
	for (size_t i = 0; i < files.n; i++)
		free(files.items[i]);
	free(files.items);
	if (rc < 0) {
		plat_rule_set_free(&s->pub);
		return rc;
	}
	/* Each file without rules has said so; an empty directory has no file to say it. */
	if (S_ISDIR(st.st_mode) && s->pub.files.n == 0)
		diag_at(diags, path, 0, 0, true, "no rules: the directory has no *.yaml files");
	return finish(s, diags, first_diag, keep, set, err);
}

int plat_rules_load(const char *path, struct plat_rule_set **set, struct plat_rule_diags *diags,
		    struct plat_error *err)
{
	return load_path(path, false, set, diags, err);
}

int plat_rules_check(const char *path, struct plat_rule_set **set, struct plat_rule_diags *diags,
		     struct plat_error *err)
{
	return load_path(path, true, set, diags, err);
}

/* ---- JSON ---- */

static cJSON *strings_json(const struct plat_strings *s)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < s->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(s->items[i]));
	return a;
}

cJSON *plat_rule_to_json(const struct plat_rule *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", r->name);
	cJSON_AddStringToObject(o, "kind", plat_rule_kind_name(r->kind));
	cJSON_AddStringToObject(o, "severity", plat_severity_name(r->severity));
	if (r->description)
		cJSON_AddStringToObject(o, "description", r->description);
	else
		cJSON_AddNullToObject(o, "description");
	cJSON_AddBoolToObject(o, "enabled", r->enabled);
	cJSON_AddItemToObject(o, "classes", strings_json(&r->classes));
	cJSON_AddStringToObject(o, "file", r->file ? r->file : "");
	cJSON_AddNumberToObject(o, "line", r->line);
	cJSON_AddNumberToObject(o, "column", r->column);
	rules_kind_json(r, o);
	return o;
}
