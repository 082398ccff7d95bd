/* Shared between rules.c (files, YAML, the keys every rule has) and rules_kinds.c (the
 * keys of each kind). Not part of the module's interface. */
#ifndef PLAT_COMPLIANCE_RULES_INTERNAL_H
#define PLAT_COMPLIANCE_RULES_INTERNAL_H

#include <stdbool.h>

#include <yaml.h>

#include "compliance/compliance.h"
#include "mem/mem.h"

/* One file being loaded. Strings of the rules live in arena (the rule set's). */
struct rules_loader {
	struct plat_arena *arena;
	struct plat_rule_diags *diags;
	yaml_document_t *doc;
	const char *file;
};

#define RULES_LINE(n) ((int)(n)->start_mark.line + 1)
#define RULES_COL(n) ((int)(n)->start_mark.column + 1)

void rules_diag(struct rules_loader *l, const yaml_node_t *at, bool warning, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

const char *rules_node_kind(const yaml_node_t *n);
bool rules_is_null(const yaml_node_t *n);
/* The scalar's text, or NULL (and a diag naming key) when n is not a scalar. */
const char *rules_scalar(struct rules_loader *l, const yaml_node_t *n, const char *key);
/* The value of key in map, or NULL. */
yaml_node_t *rules_get(struct rules_loader *l, yaml_node_t *map, const char *key);

/* Typed values; each returns 0, or -1 after a diag at n. */
int rules_bool(struct rules_loader *l, yaml_node_t *n, const char *key, bool *out);
int rules_int(struct rules_loader *l, yaml_node_t *n, const char *key, long long min, long long max, long long *out);
/* Field, tag and class names: [A-Za-z0-9_.-/]+. */
bool rules_valid_name(const char *s);
int rules_name_list(struct rules_loader *l, yaml_node_t *n, const char *key, struct plat_strings *out);
/* A period ("90d", "6 months", "7y") as PostgreSQL interval text; *days is its length in
 * days when the unit is days or weeks, else -1. */
int rules_period(struct rules_loader *l, yaml_node_t *n, const char *key, char **interval, long long *days);
int rules_email(struct rules_loader *l, yaml_node_t *n, const char *key, char **out);

/* Period text without a node: 0 and the interval text, or -1. For tests and messages. */
int rules_parse_period(const char *s, char *interval, size_t len, long long *days);

/* The keys a kind has beyond the common ones (NULL-terminated). */
const char *const *rules_kind_keys(enum plat_rule_kind kind);
/* Fill r->u from the rule's mapping; 0 or -1 (diags added). */
int rules_kind_parse(struct rules_loader *l, yaml_node_t *map, struct plat_rule *r);
void rules_kind_json(const struct plat_rule *r, cJSON *o);

#endif
