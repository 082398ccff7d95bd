/* The keys of each rule kind (platctl-rules(5)): what each may hold and what it means
 * when absent. rules.c has already checked the keys every rule has and refused keys of
 * another kind. */
#include "compliance/rules_internal.h"

#include <stdio.h>
#include <string.h>

static const char *const expiry_keys[] = {"fields", "field", "within", "steps", "owner", "backup", "backup_from", NULL};
static const char *const required_keys[] = {"fields", "tags", NULL};
static const char *const retention_keys[] = {"keep", "from", "action", "review", NULL};
static const char *const pii_keys[] = {"detect", NULL};
static const char *const integrity_keys[] = {"sample", NULL};
static const char *const orphans_keys[] = {"processing_timeout", "requeue", NULL};
static const char *const no_keys[] = {NULL};

const char *const *rules_kind_keys(enum plat_rule_kind kind)
{
	switch (kind) {
	case PLAT_RULE_EXPIRY: return expiry_keys;
	case PLAT_RULE_REQUIRED_FIELDS: return required_keys;
	case PLAT_RULE_RETENTION: return retention_keys;
	case PLAT_RULE_PII: return pii_keys;
	case PLAT_RULE_INTEGRITY: return integrity_keys;
	case PLAT_RULE_ORPHANS: return orphans_keys;
	default: return no_keys;
	}
}

/* A key that is present with a value (`key:` alone counts as absent). */
static yaml_node_t *value_of(struct rules_loader *l, yaml_node_t *map, const char *key)
{
	yaml_node_t *n = rules_get(l, map, key);
	return n && !rules_is_null(n) ? n : NULL;
}

/* ---- expiry ---- */

static int parse_steps(struct rules_loader *l, yaml_node_t *n, struct plat_rule *r, bool within_ok)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		rules_diag(l, n, false, "'steps': expected a list of days such as [90, 30, 7], found %s",
			   rules_node_kind(n));
		return -1;
	}
	size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count == 0) {
		rules_diag(l, n, false, "'steps': the list is empty (leave it out for one reminder at 'within')");
		return -1;
	}
	r->u.expiry.steps = plat_arena_alloc(l->arena, count * sizeof(int));
	int rc = 0;
	long long prev = -1;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *in = yaml_document_get_node(l->doc, *it);
		long long v;
		if (!in || rules_int(l, in, "steps", 0, 100000, &v) < 0) {
			rc = -1;
			continue;
		}
		if (within_ok && v > r->u.expiry.within_days) {
			rules_diag(l, in, false, "'steps': %lld is more than 'within' (%d days)", v, r->u.expiry.within_days);
			rc = -1;
		} else if (prev >= 0 && v >= prev) {
			rules_diag(l, in, false, "'steps': %lld does not come after %lld: steps must be strictly descending", v,
				   prev);
			rc = -1;
		}
		prev = v;
		r->u.expiry.steps[r->u.expiry.n_steps++] = (int)v;
	}
	return rc;
}

static int parse_expiry(struct rules_loader *l, yaml_node_t *map, struct plat_rule *r)
{
	int rc = 0;
	yaml_node_t *fields = value_of(l, map, "fields"), *field = value_of(l, map, "field");
	if (fields && field) {
		rules_diag(l, field, false, "'field' and 'fields' together: use one of them");
		rc = -1;
	} else if (fields) {
		if (rules_name_list(l, fields, "fields", &r->u.expiry.fields) < 0)
			rc = -1;
		else if (r->u.expiry.fields.n == 0)
			rules_diag(l, fields, false, "'fields': the list is empty"), rc = -1;
	} else if (field) {
		const char *s = rules_scalar(l, field, "field");
		if (!s) {
			rc = -1;
		} else if (!rules_valid_name(s)) {
			rules_diag(l, field, false, "'field': '%s' is not a valid field name", s);
			rc = -1;
		} else {
			r->u.expiry.fields.items = plat_arena_alloc(l->arena, sizeof(char *));
			r->u.expiry.fields.items[0] = plat_arena_strdup(l->arena, s);
			r->u.expiry.fields.n = 1;
		}
	} else {
		rules_diag(l, map, false, "an expiry rule needs 'fields' (or 'field'): the date fields to look at");
		rc = -1;
	}

	bool within_ok = false;
	yaml_node_t *n = value_of(l, map, "within");
	if (!n) {
		rules_diag(l, map, false, "an expiry rule needs 'within' (how long before the date a finding opens, e.g. 90d)");
		rc = -1;
	} else {
		char *interval;
		long long days;
		if (rules_period(l, n, "within", &interval, &days) < 0) {
			rc = -1;
		} else if (days < 0) {
			rules_diag(l, n, false, "'within': must be in days or weeks (e.g. 90d, 12w), found '%s'",
				   (const char *)n->data.scalar.value);
			rc = -1;
		} else {
			r->u.expiry.within_days = (int)days;
			within_ok = true;
		}
	}

	if ((n = value_of(l, map, "steps"))) {
		if (parse_steps(l, n, r, within_ok) < 0)
			rc = -1;
	} else if (within_ok) {
		r->u.expiry.steps = plat_arena_alloc(l->arena, sizeof(int));
		r->u.expiry.steps[0] = r->u.expiry.within_days;
		r->u.expiry.n_steps = 1;
	}

	yaml_node_t *owner = value_of(l, map, "owner"), *backup = value_of(l, map, "backup");
	yaml_node_t *from = value_of(l, map, "backup_from");
	if (owner && rules_email(l, owner, "owner", &r->u.expiry.owner) < 0)
		rc = -1;
	if (backup) {
		if (!owner) {
			rules_diag(l, backup, false, "'backup' needs an 'owner': the backup is told in addition to the owner");
			rc = -1;
		} else if (rules_email(l, backup, "backup", &r->u.expiry.backup) < 0) {
			rc = -1;
		}
	}
	if (from) {
		long long v;
		if (!backup) {
			rules_diag(l, from, false, "'backup_from' needs a 'backup'");
			rc = -1;
		} else if (rules_int(l, from, "backup_from", 0, 100000, &v) < 0) {
			rc = -1;
		} else {
			bool is_step = false;
			for (size_t i = 0; i < r->u.expiry.n_steps; i++)
				is_step |= r->u.expiry.steps[i] == v;
			if (!is_step && r->u.expiry.n_steps) {
				rules_diag(l, from, false, "'backup_from': %lld is not one of the steps", v);
				rc = -1;
			}
			r->u.expiry.backup_from_days = (int)v;
		}
	} else if (backup && r->u.expiry.n_steps) {
		r->u.expiry.backup_from_days = r->u.expiry.steps[0]; /* every reminder */
	}
	return rc;
}

/* ---- required_fields ---- */

static int parse_required(struct rules_loader *l, yaml_node_t *map, struct plat_rule *r)
{
	int rc = 0;
	yaml_node_t *n;
	if ((n = rules_get(l, map, "fields")) && rules_name_list(l, n, "fields", &r->u.required.fields) < 0)
		rc = -1;
	if ((n = rules_get(l, map, "tags")) && rules_name_list(l, n, "tags", &r->u.required.tags) < 0)
		rc = -1;
	if (rc == 0 && r->u.required.fields.n == 0 && r->u.required.tags.n == 0) {
		rules_diag(l, map, false, "a required_fields rule needs 'fields' or 'tags' (a non-empty list)");
		rc = -1;
	}
	return rc;
}

/* ---- retention ---- */

static int parse_from(struct rules_loader *l, yaml_node_t *n, struct plat_rule *r)
{
	if (n->type == YAML_SCALAR_NODE) {
		const char *s = rules_scalar(l, n, "from");
		if (s && strcmp(s, "upload") == 0)
			return 0;
		if (s)
			rules_diag(l, n, false, "'from': expected 'upload' or a date field as {field: NAME}, found '%s'", s);
		return -1;
	}
	if (n->type != YAML_MAPPING_NODE) {
		rules_diag(l, n, false, "'from': expected 'upload' or {field: NAME}, found %s", rules_node_kind(n));
		return -1;
	}
	int rc = 0;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(l->doc, p->key);
		if (kn && (kn->type != YAML_SCALAR_NODE || strcmp((const char *)kn->data.scalar.value, "field") != 0)) {
			rules_diag(l, kn, false, "'from': the only key is 'field'");
			rc = -1;
		}
	}
	yaml_node_t *f = value_of(l, n, "field");
	if (!f) {
		rules_diag(l, n, false, "'from': expected {field: NAME}");
		return -1;
	}
	const char *s = rules_scalar(l, f, "from.field");
	if (!s)
		return -1;
	if (!rules_valid_name(s)) {
		rules_diag(l, f, false, "'from.field': '%s' is not a valid field name", s);
		return -1;
	}
	r->u.retention.from_field = plat_arena_strdup(l->arena, s);
	return rc;
}

static int parse_retention(struct rules_loader *l, yaml_node_t *map, struct plat_rule *r)
{
	int rc = 0;
	long long days;
	yaml_node_t *n = value_of(l, map, "keep");
	if (!n) {
		rules_diag(l, map, false, "a retention rule needs 'keep' (how long documents are kept, e.g. 7y)");
		rc = -1;
	} else if (rules_period(l, n, "keep", &r->u.retention.keep, &days) < 0) {
		rc = -1;
	}
	if ((n = value_of(l, map, "from")) && parse_from(l, n, r) < 0)
		rc = -1;

	r->u.retention.action = PLAT_RETENTION_FLAG;
	bool action_ok = true;
	if ((n = value_of(l, map, "action"))) {
		const char *s = rules_scalar(l, n, "action");
		if (s && strcmp(s, "destroy") == 0) {
			r->u.retention.action = PLAT_RETENTION_DESTROY;
		} else if (!s || strcmp(s, "flag") != 0) {
			if (s)
				rules_diag(l, n, false, "'action': expected flag or destroy, found '%s'", s);
			rc = -1;
			action_ok = false;
		}
	}
	n = value_of(l, map, "review");
	if (action_ok && r->u.retention.action == PLAT_RETENTION_DESTROY && !n) {
		rules_diag(l, map, false,
			   "'action: destroy' needs 'review': the window (e.g. 30d) in which a destruction can be rejected");
		rc = -1;
	} else if (action_ok && r->u.retention.action == PLAT_RETENTION_FLAG && n) {
		rules_diag(l, n, false, "'review' applies to 'action: destroy' only (this rule only flags)");
		rc = -1;
	} else if (n && rules_period(l, n, "review", &r->u.retention.review, &days) < 0) {
		rc = -1;
	}
	return rc;
}

/* ---- pii ---- */

static const struct {
	const char *name;
	unsigned bit;
} pii_names[] = {
	{"email", PLAT_PII_EMAIL}, {"phone", PLAT_PII_PHONE}, {"iban", PLAT_PII_IBAN},
	{"card", PLAT_PII_CARD},   {"national_id", PLAT_PII_NATIONAL_ID}, {"all", PLAT_PII_ALL},
};

static int pii_bit(struct rules_loader *l, yaml_node_t *n, unsigned *bits)
{
	const char *s = rules_scalar(l, n, "detect");
	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(pii_names) / sizeof(pii_names[0]); i++)
		if (strcmp(s, pii_names[i].name) == 0)
			return *bits |= pii_names[i].bit, 0;
	rules_diag(l, n, false, "'detect': unknown kind of personal data '%s' (expected all or some of: email, phone, "
		   "iban, card, national_id)", s);
	return -1;
}

static int parse_pii(struct rules_loader *l, yaml_node_t *map, struct plat_rule *r)
{
	int rc = 0;
	yaml_node_t *n = value_of(l, map, "detect");
	r->u.pii.detect = PLAT_PII_ALL;
	if (n && n->type == YAML_SEQUENCE_NODE) {
		r->u.pii.detect = 0;
		for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			yaml_node_t *in = yaml_document_get_node(l->doc, *it);
			if (in && pii_bit(l, in, &r->u.pii.detect) < 0)
				rc = -1;
		}
		if (n->data.sequence.items.top == n->data.sequence.items.start) {
			rules_diag(l, n, false, "'detect': the list is empty (leave it out to detect all)");
			rc = -1;
		}
	} else if (n) {
		r->u.pii.detect = 0;
		if (pii_bit(l, n, &r->u.pii.detect) < 0)
			rc = -1;
	}
	if (r->classes.n == 0) {
		rules_diag(l, map, false, "a pii rule needs 'classes': the document classes that must not hold personal data");
		rc = -1;
	}
	return rc;
}

/* ---- integrity, orphans ---- */

static int parse_integrity(struct rules_loader *l, yaml_node_t *map, struct plat_rule *r)
{
	yaml_node_t *n = value_of(l, map, "sample");
	r->u.integrity.sample = false;
	if (!n)
		return 0;
	if (n->type == YAML_SCALAR_NODE) {
		bool b;
		if (rules_bool(l, n, "sample", &b) < 0)
			return -1;
		if (b) {
			rules_diag(l, n, false, "'sample': say over which period every object is checked: sample: {period: 7d}");
			return -1;
		}
		return 0;
	}
	if (n->type != YAML_MAPPING_NODE) {
		rules_diag(l, n, false, "'sample': expected false or {period: 7d}, found %s", rules_node_kind(n));
		return -1;
	}
	int rc = 0;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(l->doc, p->key);
		if (kn && (kn->type != YAML_SCALAR_NODE || strcmp((const char *)kn->data.scalar.value, "period") != 0))
			rules_diag(l, kn, true, "'sample': unknown key, ignored (the only key is 'period')");
	}
	yaml_node_t *pn = value_of(l, n, "period");
	long long days;
	if (!pn) {
		rules_diag(l, n, false, "'sample': needs a 'period' (every object is checked within it, e.g. 7d)");
		rc = -1;
	} else if (rules_period(l, pn, "sample.period", &r->u.integrity.period, &days) < 0) {
		rc = -1;
	} else {
		r->u.integrity.sample = true;
	}
	return rc;
}

static int parse_orphans(struct rules_loader *l, yaml_node_t *map, struct plat_rule *r)
{
	int rc = 0;
	long long days;
	yaml_node_t *n = value_of(l, map, "processing_timeout");
	r->u.orphans.processing_timeout = plat_arena_strdup(l->arena, "1 hour");
	r->u.orphans.requeue = true;
	if (n && rules_period(l, n, "processing_timeout", &r->u.orphans.processing_timeout, &days) < 0)
		rc = -1;
	if ((n = value_of(l, map, "requeue")) && rules_bool(l, n, "requeue", &r->u.orphans.requeue) < 0)
		rc = -1;
	return rc;
}

int rules_kind_parse(struct rules_loader *l, yaml_node_t *map, struct plat_rule *r)
{
	switch (r->kind) {
	case PLAT_RULE_EXPIRY: return parse_expiry(l, map, r);
	case PLAT_RULE_REQUIRED_FIELDS: return parse_required(l, map, r);
	case PLAT_RULE_RETENTION: return parse_retention(l, map, r);
	case PLAT_RULE_PII: return parse_pii(l, map, r);
	case PLAT_RULE_INTEGRITY: return parse_integrity(l, map, r);
	case PLAT_RULE_ORPHANS: return parse_orphans(l, map, r);
	default: return 0;
	}
}

/* ---- JSON ---- */

static cJSON *strings(const struct plat_strings *s)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < s->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(s->items[i]));
	return a;
}

static void add_opt_string(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

void rules_kind_json(const struct plat_rule *r, cJSON *o)
{
	switch (r->kind) {
	case PLAT_RULE_EXPIRY: {
		cJSON_AddItemToObject(o, "fields", strings(&r->u.expiry.fields));
		cJSON_AddNumberToObject(o, "within_days", r->u.expiry.within_days);
		cJSON *steps = cJSON_AddArrayToObject(o, "steps");
		for (size_t i = 0; i < r->u.expiry.n_steps; i++)
			cJSON_AddItemToArray(steps, cJSON_CreateNumber(r->u.expiry.steps[i]));
		add_opt_string(o, "owner", r->u.expiry.owner);
		add_opt_string(o, "backup", r->u.expiry.backup);
		if (r->u.expiry.backup)
			cJSON_AddNumberToObject(o, "backup_from", r->u.expiry.backup_from_days);
		else
			cJSON_AddNullToObject(o, "backup_from");
		break;
	}
	case PLAT_RULE_REQUIRED_FIELDS:
		cJSON_AddItemToObject(o, "fields", strings(&r->u.required.fields));
		cJSON_AddItemToObject(o, "tags", strings(&r->u.required.tags));
		break;
	case PLAT_RULE_RETENTION:
		cJSON_AddStringToObject(o, "keep", r->u.retention.keep);
		if (r->u.retention.from_field) {
			cJSON *from = cJSON_AddObjectToObject(o, "from");
			cJSON_AddStringToObject(from, "field", r->u.retention.from_field);
		} else {
			cJSON_AddStringToObject(o, "from", "upload");
		}
		cJSON_AddStringToObject(o, "action", r->u.retention.action == PLAT_RETENTION_DESTROY ? "destroy" : "flag");
		add_opt_string(o, "review", r->u.retention.review);
		break;
	case PLAT_RULE_PII: {
		cJSON *d = cJSON_AddArrayToObject(o, "detect");
		for (size_t i = 0; i < sizeof(pii_names) / sizeof(pii_names[0]); i++)
			if (pii_names[i].bit != PLAT_PII_ALL && (r->u.pii.detect & pii_names[i].bit))
				cJSON_AddItemToArray(d, cJSON_CreateString(pii_names[i].name));
		break;
	}
	case PLAT_RULE_INTEGRITY:
		cJSON_AddBoolToObject(o, "sample", r->u.integrity.sample);
		add_opt_string(o, "period", r->u.integrity.period);
		break;
	case PLAT_RULE_ORPHANS:
		cJSON_AddStringToObject(o, "processing_timeout", r->u.orphans.processing_timeout);
		cJSON_AddBoolToObject(o, "requeue", r->u.orphans.requeue);
		break;
	default:
		break;
	}
}
