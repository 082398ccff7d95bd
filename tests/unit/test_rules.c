/* Compliance rule files: every kind's valid form into the right fields, periods, each
 * malformed case at its exact position, duplicates across files, directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compliance/compliance.h"
#include "compliance/rules_internal.h"

struct loaded {
	int rc;
	struct plat_rule_set *set;
	struct plat_rule_diags diags;
	struct plat_error err;
};

static void load(struct loaded *l, const char *yaml)
{
	memset(l, 0, sizeof(*l));
	l->rc = plat_rules_load_buffer("t.yaml", yaml, strlen(yaml), &l->set, &l->diags, &l->err);
}

static void unload(struct loaded *l)
{
	plat_rule_set_free(l->set);
	plat_rule_diags_free(&l->diags);
}

static size_t errors(const struct loaded *l)
{
	size_t n = 0;
	for (size_t i = 0; i < l->diags.n; i++)
		n += !l->diags.items[i].warning;
	return n;
}

static void dump(const struct loaded *l)
{
	for (size_t i = 0; i < l->diags.n; i++) {
		char *s = plat_rule_diag_format(&l->diags.items[i]);
		fprintf(stderr, "  %s\n", s);
		free(s);
	}
}

static const struct plat_rule *only_rule(struct loaded *l, const char *yaml)
{
	load(l, yaml);
	if (l->rc != 0 || !l->set || l->set->n != 1)
		dump(l);
	assert_int_equal(l->rc, 0);
	assert_int_equal(l->set->n, 1);
	return &l->set->rules[0];
}

/* ---- names ---- */

static void test_names_round_trip(void **state)
{
	(void)state;
	for (int k = 0; k < PLAT_RULE__COUNT; k++)
		assert_int_equal(plat_rule_kind_parse(plat_rule_kind_name(k)), k);
	for (int s = 0; s < PLAT_SEV__COUNT; s++)
		assert_int_equal(plat_severity_parse(plat_severity_name(s)), s);
	assert_string_equal(plat_rule_kind_name(PLAT_RULE_REQUIRED_FIELDS), "required_fields");
	assert_string_equal(plat_severity_name(PLAT_SEV_CRITICAL), "critical");
	assert_int_equal(plat_rule_kind_parse("Expiry"), -1);
	assert_int_equal(plat_rule_kind_parse(""), -1);
	assert_int_equal(plat_severity_parse("urgent"), -1);
	assert_int_equal(plat_severity_parse(NULL), -1);
}

/* ---- each kind's valid form ---- */

static void test_expiry(void **state)
{
	(void)state;
	struct loaded l;
	const struct plat_rule *r = only_rule(&l, "rules:\n"
						  "  - name: contract-expiry\n"
						  "    kind: expiry\n"
						  "    severity: high\n"
						  "    description: \"Contracts that end soon\"\n"
						  "    classes: [contract, nda]\n"
						  "    fields: [expires_on, valid_until, expiry_dates]\n"
						  "    within: 90d\n"
						  "    steps: [90, 60, 30, 14, 7, 1]\n"
						  "    owner: legal@example.com\n"
						  "    backup: cfo@example.com\n"
						  "    backup_from: 7\n");
	assert_string_equal(r->name, "contract-expiry");
	assert_int_equal(r->kind, PLAT_RULE_EXPIRY);
	assert_int_equal(r->severity, PLAT_SEV_HIGH);
	assert_string_equal(r->description, "Contracts that end soon");
	assert_true(r->enabled);
	assert_string_equal(r->file, "t.yaml");
	assert_int_equal(r->line, 2);
	assert_int_equal(r->column, 5);
	assert_int_equal(r->classes.n, 2);
	assert_string_equal(r->classes.items[1], "nda");
	assert_int_equal(r->u.expiry.fields.n, 3);
	assert_string_equal(r->u.expiry.fields.items[2], "expiry_dates");
	assert_int_equal(r->u.expiry.within_days, 90);
	int steps[] = {90, 60, 30, 14, 7, 1};
	assert_int_equal(r->u.expiry.n_steps, 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(r->u.expiry.steps[i], steps[i]);
	assert_string_equal(r->u.expiry.owner, "legal@example.com");
	assert_string_equal(r->u.expiry.backup, "cfo@example.com");
	assert_int_equal(r->u.expiry.backup_from_days, 7);

	cJSON *j = plat_rule_to_json(r);
	char *s = cJSON_PrintUnformatted(j);
	assert_non_null(strstr(s, "\"name\":\"contract-expiry\",\"kind\":\"expiry\",\"severity\":\"high\""));
	assert_non_null(strstr(s, "\"within_days\":90,\"steps\":[90,60,30,14,7,1]"));
	assert_non_null(strstr(s, "\"backup_from\":7"));
	free(s);
	cJSON_Delete(j);
	unload(&l);

	/* The short forms and the defaults: one field, one step at 'within', medium, no owner. */
	r = only_rule(&l, "rules:\n- name: x\n  kind: expiry\n  field: renewal_date\n  within: 2w\n  enabled: false\n");
	assert_int_equal(r->severity, PLAT_SEV_MEDIUM);
	assert_false(r->enabled);
	assert_null(r->description);
	assert_int_equal(r->classes.n, 0);
	assert_int_equal(r->u.expiry.fields.n, 1);
	assert_string_equal(r->u.expiry.fields.items[0], "renewal_date");
	assert_int_equal(r->u.expiry.within_days, 14);
	assert_int_equal(r->u.expiry.n_steps, 1);
	assert_int_equal(r->u.expiry.steps[0], 14);
	assert_null(r->u.expiry.owner);
	assert_null(r->u.expiry.backup);
	unload(&l);

	/* A backup without backup_from hears from the first step on; 0 is a valid step. */
	r = only_rule(&l, "rules:\n- name: x\n  kind: expiry\n  fields: [d]\n  within: 30 days\n  steps: [30, 0]\n"
			  "  owner: a@b.example\n  backup: c@d.example\n");
	assert_int_equal(r->u.expiry.within_days, 30);
	assert_int_equal(r->u.expiry.steps[1], 0);
	assert_int_equal(r->u.expiry.backup_from_days, 30);
	unload(&l);
}

static void test_required_fields(void **state)
{
	(void)state;
	struct loaded l;
	const struct plat_rule *r = only_rule(&l, "rules:\n- name: invoice-fields\n  kind: required_fields\n"
						  "  classes: [invoice]\n  fields: [amounts, parties]\n  tags: [cost-center]\n");
	assert_int_equal(r->kind, PLAT_RULE_REQUIRED_FIELDS);
	assert_int_equal(r->u.required.fields.n, 2);
	assert_string_equal(r->u.required.fields.items[0], "amounts");
	assert_int_equal(r->u.required.tags.n, 1);
	assert_string_equal(r->u.required.tags.items[0], "cost-center");
	unload(&l);
	r = only_rule(&l, "rules:\n- name: t\n  kind: required_fields\n  tags: [owner]\n");
	assert_int_equal(r->u.required.fields.n, 0);
	assert_int_equal(r->u.required.tags.n, 1);
	unload(&l);
}

static void test_retention(void **state)
{
	(void)state;
	struct loaded l;
	const struct plat_rule *r = only_rule(&l, "rules:\n- name: contracts-7y\n  kind: retention\n  keep: 7y\n"
						  "  from: {field: signed_on}\n  action: destroy\n  review: 30d\n");
	assert_int_equal(r->kind, PLAT_RULE_RETENTION);
	assert_string_equal(r->u.retention.keep, "7 years");
	assert_string_equal(r->u.retention.from_field, "signed_on");
	assert_int_equal(r->u.retention.action, PLAT_RETENTION_DESTROY);
	assert_string_equal(r->u.retention.review, "30 days");
	cJSON *j = plat_rule_to_json(r);
	char *s = cJSON_PrintUnformatted(j);
	assert_non_null(strstr(s, "\"keep\":\"7 years\",\"from\":{\"field\":\"signed_on\"},\"action\":\"destroy\","
				  "\"review\":\"30 days\""));
	free(s);
	cJSON_Delete(j);
	unload(&l);

	r = only_rule(&l, "rules:\n- name: drafts\n  kind: retention\n  keep: 6 months\n  from: upload\n");
	assert_string_equal(r->u.retention.keep, "6 months");
	assert_null(r->u.retention.from_field);
	assert_int_equal(r->u.retention.action, PLAT_RETENTION_FLAG);
	assert_null(r->u.retention.review);
	unload(&l);
}

static void test_pii(void **state)
{
	(void)state;
	struct loaded l;
	const struct plat_rule *r =
		only_rule(&l, "rules:\n- name: no-pii\n  kind: pii\n  classes: [marketing]\n  detect: [email, iban, card]\n");
	assert_int_equal(r->u.pii.detect, PLAT_PII_EMAIL | PLAT_PII_IBAN | PLAT_PII_CARD);
	unload(&l);
	r = only_rule(&l, "rules:\n- name: no-pii\n  kind: pii\n  classes: [marketing]\n");
	assert_int_equal(r->u.pii.detect, PLAT_PII_ALL);
	unload(&l);
	r = only_rule(&l, "rules:\n- name: no-pii\n  kind: pii\n  classes: [marketing]\n  detect: all\n");
	assert_int_equal(r->u.pii.detect, PLAT_PII_ALL);
	cJSON *j = plat_rule_to_json(r);
	char *s = cJSON_PrintUnformatted(j);
	assert_non_null(strstr(s, "\"detect\":[\"email\",\"phone\",\"iban\",\"card\",\"national_id\"]"));
	free(s);
	cJSON_Delete(j);
	unload(&l);
	r = only_rule(&l, "rules:\n- name: no-pii\n  kind: pii\n  classes: [x]\n  detect: national_id\n");
	assert_int_equal(r->u.pii.detect, PLAT_PII_NATIONAL_ID);
	unload(&l);
}

static void test_integrity_orphans_audit_chain(void **state)
{
	(void)state;
	struct loaded l;
	const struct plat_rule *r = only_rule(&l, "rules:\n- name: all-objects\n  kind: integrity\n");
	assert_false(r->u.integrity.sample);
	assert_null(r->u.integrity.period);
	unload(&l);
	r = only_rule(&l, "rules:\n- name: i\n  kind: integrity\n  sample: false\n");
	assert_false(r->u.integrity.sample);
	unload(&l);
	r = only_rule(&l, "rules:\n- name: weekly\n  kind: integrity\n  sample: {period: 7d}\n");
	assert_true(r->u.integrity.sample);
	assert_string_equal(r->u.integrity.period, "7 days");
	unload(&l);

	r = only_rule(&l, "rules:\n- name: o\n  kind: orphans\n");
	assert_string_equal(r->u.orphans.processing_timeout, "1 hour");
	assert_true(r->u.orphans.requeue);
	unload(&l);
	r = only_rule(&l, "rules:\n- name: o\n  kind: orphans\n  processing_timeout: 30m\n  requeue: false\n");
	assert_string_equal(r->u.orphans.processing_timeout, "30 minutes");
	assert_false(r->u.orphans.requeue);
	unload(&l);

	r = only_rule(&l, "rules:\n- name: chain\n  kind: audit_chain\n  severity: critical\n");
	assert_int_equal(r->kind, PLAT_RULE_AUDIT_CHAIN);
	assert_int_equal(r->severity, PLAT_SEV_CRITICAL);
	unload(&l);
}

/* ---- periods ---- */

static void test_periods(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
		long long days;
	} ok[] = {
		{"90d", "90 days", 90},       {"1d", "1 day", 1},         {"30 days", "30 days", 30},
		{"1 day", "1 day", 1},        {"2w", "14 days", 14},      {"3 weeks", "21 days", 21},
		{"12h", "12 hours", -1},      {"1 hour", "1 hour", -1},   {"30m", "30 minutes", -1},
		{"45s", "45 seconds", -1},    {"6mo", "6 months", -1},    {"6 months", "6 months", -1},
		{"1 month", "1 month", -1},   {"7y", "7 years", -1},      {"7 years", "7 years", -1},
		{"1y", "1 year", -1},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char buf[64];
		long long days = 0;
		assert_int_equal(rules_parse_period(ok[i].in, buf, sizeof(buf), &days), 0);
		assert_string_equal(buf, ok[i].out);
		assert_int_equal(days, ok[i].days);
	}
	static const char *const bad[] = {"",     "d",    "90",   "0d",   "-3d",  "90x",     "90 dayz",
					  "9.5d", "90D",  " 90d", "90d ", "1e3d", "999999d", "90 d d"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[64];
		long long days;
		if (rules_parse_period(bad[i], buf, sizeof(buf), &days) == 0)
			fail_msg("period '%s' accepted as '%s'", bad[i], buf);
	}
}

/* ---- malformed files, each at its position ---- */

static void test_malformed_positions(void **state)
{
	(void)state;
	static const struct {
		const char *yaml;
		int line, column;
		const char *message;
	} cases[] = {
		{"rules: [\n", 2, 1, "YAML syntax error"},
		{"rules:\n  - name: a\n   kind: expiry\n", 3, 4, "YAML syntax error"},
		{"- name: a\n", 1, 1, "must be a mapping with a 'rules' list, found a list"},
		{"rulez: []\n", 1, 1, "no 'rules' list"},
		{"rules: {name: a}\n", 1, 8, "expected a list of rules, found a mapping"},
		{"rules:\n  - just a string\n", 2, 5, "a rule must be a mapping"},
		{"rules:\n- kind: audit_chain\n", 2, 3, "has no 'name'"},
		{"rules:\n- name: Upper\n  kind: audit_chain\n", 2, 9, "'Upper' is not a valid rule name"},
		{"rules:\n- name: -x\n  kind: audit_chain\n", 2, 9, "is not a valid rule name"},
		{"rules:\n- name: [a]\n  kind: audit_chain\n", 2, 9, "'name': expected a single value, found a list"},
		{"rules:\n- name: a\n", 2, 3, "has no 'kind'"},
		{"rules:\n- name: a\n  kind: expiration\n", 3, 9, "unknown rule kind 'expiration' (expected one of: expiry,"},
		{"rules:\n- name: a\n  kind: audit_chain\n  severity: urgent\n", 4, 13, "unknown severity 'urgent'"},
		{"rules:\n- name: a\n  kind: audit_chain\n  enabled: maybe\n", 4, 12, "expected true or false"},
		{"rules:\n- name: a\n  kind: audit_chain\n  classes: contract\n", 4, 12, "expected a list of names"},
		{"rules:\n- name: a\n  kind: audit_chain\n  classes: [ok, \"two words\"]\n", 4, 17, "'two words' is not a valid name"},
		{"rules:\n- name: a\n  kind: audit_chain\n  kind: expiry\n", 4, 3, "duplicate key 'kind' (first on line 3)"},
		{"rules:\n- name: a\n  kind: audit_chain\n  within: 9d\n", 4, 3,
		 "'within' is not a key of audit_chain rules (it belongs to expiry rules)"},
		{"rules:\n- name: a\n  kind: retention\n  keep: 1y\n  steps: [1]\n", 5, 3, "'steps' is not a key of retention rules"},
		/* expiry */
		{"rules:\n- name: a\n  kind: expiry\n  within: 9d\n", 2, 3, "needs 'fields' (or 'field')"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n", 2, 3, "needs 'within'"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: []\n  within: 9d\n", 4, 11, "'fields': the list is empty"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  field: e\n  within: 9d\n", 5, 10, "use one of them"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: soon\n", 5, 11, "invalid period 'soon'"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: 3mo\n", 5, 11, "must be in days or weeks"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: 30d\n  steps: [30, 14, 14]\n", 6, 19,
		 "14 does not come after 14: steps must be strictly descending"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: 30d\n  steps: [60, 30]\n", 6, 11,
		 "60 is more than 'within' (30 days)"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: 30d\n  steps: [30, -1]\n", 6, 15, "out of range"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: 30d\n  steps: [30, seven]\n", 6, 15,
		 "expected a whole number, found 'seven'"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: 30d\n  steps: 30\n", 6, 10, "expected a list of days"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: 30d\n  owner: legal\n", 6, 10,
		 "'owner': 'legal' is not an e-mail address"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: 30d\n  owner: a@b.example\n  backup: \"x y@z.example\"\n",
		 7, 11, "'backup': 'x y@z.example' is not an e-mail address"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: 30d\n  backup: c@d.example\n", 6, 11,
		 "'backup' needs an 'owner'"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: 30d\n  owner: a@b.example\n  backup_from: 7\n", 7, 16,
		 "'backup_from' needs a 'backup'"},
		{"rules:\n- name: a\n  kind: expiry\n  fields: [d]\n  within: 30d\n  steps: [30, 7]\n  owner: a@b.example\n"
		 "  backup: c@d.example\n  backup_from: 5\n",
		 9, 16, "'backup_from': 5 is not one of the steps"},
		/* required_fields */
		{"rules:\n- name: a\n  kind: required_fields\n", 2, 3, "needs 'fields' or 'tags'"},
		{"rules:\n- name: a\n  kind: required_fields\n  fields: []\n  tags: []\n", 2, 3, "needs 'fields' or 'tags'"},
		/* retention */
		{"rules:\n- name: a\n  kind: retention\n", 2, 3, "needs 'keep'"},
		{"rules:\n- name: a\n  kind: retention\n  keep: forever\n", 4, 9, "invalid period 'forever'"},
		{"rules:\n- name: a\n  kind: retention\n  keep: 7y\n  action: destroy\n", 2, 3, "'action: destroy' needs 'review'"},
		{"rules:\n- name: a\n  kind: retention\n  keep: 7y\n  review: 30d\n", 5, 11, "applies to 'action: destroy' only"},
		{"rules:\n- name: a\n  kind: retention\n  keep: 7y\n  action: shred\n", 5, 11, "expected flag or destroy, found 'shred'"},
		{"rules:\n- name: a\n  kind: retention\n  keep: 7y\n  from: field:signed_on\n", 5, 9,
		 "expected 'upload' or a date field as {field: NAME}"},
		{"rules:\n- name: a\n  kind: retention\n  keep: 7y\n  from: {column: x}\n", 5, 10, "the only key is 'field'"},
		{"rules:\n- name: a\n  kind: retention\n  keep: 7y\n  action: destroy\n  review: 2x\n", 6, 11, "invalid period '2x'"},
		/* pii */
		{"rules:\n- name: a\n  kind: pii\n", 2, 3, "needs 'classes'"},
		{"rules:\n- name: a\n  kind: pii\n  classes: [x]\n  detect: [email, ssn]\n", 5, 19, "unknown kind of personal data 'ssn'"},
		{"rules:\n- name: a\n  kind: pii\n  classes: [x]\n  detect: []\n", 5, 11, "'detect': the list is empty"},
		/* integrity, orphans */
		{"rules:\n- name: a\n  kind: integrity\n  sample: true\n", 4, 11, "sample: {period: 7d}"},
		{"rules:\n- name: a\n  kind: integrity\n  sample: {period: 7}\n", 4, 20, "invalid period '7'"},
		{"rules:\n- name: a\n  kind: integrity\n  sample: {}\n", 4, 11, "needs a 'period'"},
		{"rules:\n- name: a\n  kind: orphans\n  processing_timeout: 1 fortnight\n", 4, 23, "invalid period '1 fortnight'"},
		{"rules:\n- name: a\n  kind: orphans\n  requeue: sometimes\n", 4, 12, "expected true or false"},
		/* a second document */
		{"rules:\n- name: a\n  kind: audit_chain\n---\nrules: []\n", 5, 1, "a single YAML document"},
	};
	int failed = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct loaded l;
		load(&l, cases[i].yaml);
		const struct plat_rule_diag *hit = NULL;
		for (size_t j = 0; j < l.diags.n && !hit; j++)
			if (!l.diags.items[j].warning && strstr(l.diags.items[j].message, cases[i].message))
				hit = &l.diags.items[j];
		if (!hit || hit->line != cases[i].line || hit->column != cases[i].column || l.rc != -PLAT_E_CONFIG ||
		    l.set) {
			fprintf(stderr, "case %zu: want %d:%d %s, rc %d, got:\n", i, cases[i].line, cases[i].column,
				cases[i].message, l.rc);
			dump(&l);
			failed++;
			unload(&l);
			continue;
		}
		assert_string_equal(hit->file, "t.yaml");
		assert_int_equal(l.err.kind, PLAT_E_CONFIG);
		assert_non_null(strstr(l.err.message, "t.yaml:"));
		unload(&l);
	}
	assert_int_equal(failed, 0);
}

static void test_all_problems_are_collected(void **state)
{
	(void)state;
	struct loaded l;
	load(&l, "rules:\n"
		 "- name: a\n  kind: expiry\n  within: 3x\n" /* no fields, bad within */
		 "- name: b\n  kind: nope\n"
		 "- name: c\n  kind: retention\n  keep: 1y\n  action: destroy\n");
	assert_int_equal(l.rc, -PLAT_E_CONFIG);
	assert_int_equal(errors(&l), 4);
	/* In file order, so a reader goes through the file once. */
	for (size_t i = 1; i < l.diags.n; i++)
		assert_true(l.diags.items[i - 1].line <= l.diags.items[i].line);
	assert_non_null(strstr(l.err.message, "(and 3 more problems)"));
	unload(&l);
}

static void test_unknown_keys_warn(void **state)
{
	(void)state;
	struct loaded l;
	load(&l, "version: 1\nrules:\n- name: a\n  kind: audit_chain\n  severty: high\n  colour: red\n");
	assert_int_equal(l.rc, 0);
	assert_non_null(l.set);
	assert_int_equal(l.set->n, 1);
	assert_int_equal(errors(&l), 0);
	assert_int_equal(l.diags.n, 3);
	assert_int_equal(l.diags.items[0].line, 1);
	assert_true(l.diags.items[1].warning);
	assert_int_equal(l.diags.items[1].line, 5);
	assert_int_equal(l.diags.items[1].column, 3);
	assert_string_equal(l.diags.items[1].message, "unknown key 'severty', ignored (did you mean 'severity'?)");
	char *s = plat_rule_diag_format(&l.diags.items[2]);
	assert_string_equal(s, "t.yaml:6:3: warning: unknown key 'colour', ignored");
	free(s);
	assert_int_equal(l.set->rules[0].severity, PLAT_SEV_MEDIUM);
	unload(&l);

	/* An empty file or an empty list: valid, and said. */
	load(&l, "");
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.set->n, 0);
	assert_int_equal(l.diags.n, 1);
	assert_true(l.diags.items[0].warning);
	unload(&l);
	load(&l, "rules: []\n");
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.diags.n, 1);
	assert_true(l.diags.items[0].warning);
	unload(&l);
}

static void test_duplicate_within_a_file(void **state)
{
	(void)state;
	struct loaded l;
	load(&l, "rules:\n- name: a\n  kind: audit_chain\n- name: b\n  kind: audit_chain\n- name: a\n  kind: orphans\n");
	assert_int_equal(l.rc, -PLAT_E_CONFIG);
	assert_int_equal(l.diags.n, 1);
	assert_int_equal(l.diags.items[0].line, 6);
	assert_int_equal(l.diags.items[0].column, 9);
	assert_string_equal(l.diags.items[0].message, "duplicate rule name 'a' (first defined at t.yaml:2)");
	unload(&l);
}

/* ---- files and directories ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_dir(const char *dir, const char *const *names)
{
	char path[512];
	for (; *names; names++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *names);
		unlink(path);
	}
	rmdir(dir);
}

static void test_directory(void **state)
{
	(void)state;
	char dir[] = "/tmp/platctl-rules-XXXXXX";
	assert_non_null(mkdtemp(dir));
	write_file(dir, "20-retention.yaml", "rules:\n- name: keep\n  kind: retention\n  keep: 7y\n");
	write_file(dir, "10-expiry.yaml", "rules:\n- name: exp\n  kind: expiry\n  field: d\n  within: 9d\n");
	write_file(dir, "README", "not: [yaml\n");
	write_file(dir, "notes.yml.bak", "garbage: [\n");
	write_file(dir, ".hidden.yaml", "garbage: [\n");
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/sub.yaml", dir);
	assert_int_equal(mkdir(sub, 0700), 0);

	struct plat_rule_set *set;
	struct plat_rule_diags diags = {0};
	struct plat_error err = {0};
	assert_int_equal(plat_rules_load(dir, &set, &diags, &err), 0);
	assert_int_equal(diags.n, 0);
	assert_int_equal(set->n, 2);
	assert_int_equal(set->files.n, 2);
	/* Sorted by name: 10- before 20-. */
	assert_non_null(strstr(set->files.items[0], "/10-expiry.yaml"));
	assert_non_null(strstr(set->files.items[1], "/20-retention.yaml"));
	assert_string_equal(set->rules[0].name, "exp");
	assert_non_null(strstr(set->rules[1].file, "/20-retention.yaml"));
	assert_ptr_equal(plat_rule_set_find(set, "keep"), &set->rules[1]);
	assert_null(plat_rule_set_find(set, "nope"));
	plat_rule_set_free(set);

	/* The same name in two files: refused in the second, naming the first. */
	write_file(dir, "30-again.yaml", "# again\nrules:\n  - kind: audit_chain\n    name: exp\n");
	assert_int_equal(plat_rules_load(dir, &set, &diags, &err), -PLAT_E_CONFIG);
	assert_null(set);
	assert_int_equal(diags.n, 1);
	assert_non_null(strstr(diags.items[0].file, "/30-again.yaml"));
	assert_int_equal(diags.items[0].line, 4);
	assert_int_equal(diags.items[0].column, 11);
	char want[600];
	snprintf(want, sizeof(want), "duplicate rule name 'exp' (first defined at %s/10-expiry.yaml:2)", dir);
	assert_string_equal(diags.items[0].message, want);
	assert_int_equal(err.kind, PLAT_E_CONFIG);
	plat_rule_diags_free(&diags);

	/* One file of the directory, named on its own. */
	char one[600];
	snprintf(one, sizeof(one), "%s/20-retention.yaml", dir);
	assert_int_equal(plat_rules_load(one, &set, &diags, &err), 0);
	assert_int_equal(set->n, 1);
	plat_rule_set_free(set);

	rmdir(sub);
	remove_dir(dir, (const char *const[]){"10-expiry.yaml", "20-retention.yaml", "30-again.yaml", "README",
					      "notes.yml.bak", ".hidden.yaml", NULL});
}

static void test_empty_and_missing(void **state)
{
	(void)state;
	char dir[] = "/tmp/platctl-rules-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct plat_rule_set *set;
	struct plat_rule_diags diags = {0};
	struct plat_error err = {0};
	assert_int_equal(plat_rules_load(dir, &set, &diags, &err), 0);
	assert_int_equal(set->n, 0);
	assert_int_equal(diags.n, 1);
	assert_true(diags.items[0].warning);
	assert_string_equal(diags.items[0].file, dir);
	assert_int_equal(diags.items[0].line, 0);
	char *s = plat_rule_diag_format(&diags.items[0]);
	assert_non_null(strstr(s, ": warning: no rules"));
	assert_null(strstr(s, ":0:"));
	free(s);
	plat_rule_set_free(set);
	plat_rule_diags_free(&diags);

	char missing[600];
	snprintf(missing, sizeof(missing), "%s/none", dir);
	assert_int_equal(plat_rules_load(missing, &set, &diags, &err), -PLAT_E_NOT_FOUND);
	assert_null(set);
	assert_non_null(strstr(err.message, "not found"));

	/* A file that cannot be read is a failure, not a configuration problem. */
	if (geteuid() != 0) {
		write_file(dir, "secret.yaml", "rules: []\n");
		snprintf(missing, sizeof(missing), "%s/secret.yaml", dir);
		chmod(missing, 0);
		assert_int_equal(plat_rules_load(missing, &set, &diags, &err), -PLAT_E_FAILURE);
		unlink(missing);
	}
	rmdir(dir);
}


static void test_hostile_input(void **state)
{
	(void)state;
	struct loaded l;
	/* Not UTF-8: refused at the value, not passed on to messages and SQL. */
	load(&l, "rules:\n- name: a\n  kind: audit_chain\n  description: \"caf\xe9\"\n");
	assert_int_equal(l.rc, -PLAT_E_CONFIG);
	assert_int_equal(l.diags.n, 1);
	assert_int_equal(l.diags.items[0].line, 1); /* libyaml refuses the stream itself */
	unload(&l);

	/* Keys and values are quoted in messages, escaped for a terminal. */
	load(&l, "rules:\n- name: a\n  kind: audit_chain\n  \"\\e[31mred\": 1\n  severity: \"\\e[2J\"\n");
	assert_int_equal(l.rc, -PLAT_E_CONFIG);
	assert_int_equal(l.diags.n, 2);
	char *m = plat_rule_diag_format(&l.diags.items[0]);
	assert_string_equal(m, "t.yaml:4:3: warning: unknown key '\\x1b[31mred', ignored");
	free(m);
	m = plat_rule_diag_format(&l.diags.items[1]);
	assert_non_null(strstr(m, "unknown severity '\\x1b[2J'"));
	free(m);
	unload(&l);

	/* Aliases are shared nodes, walked where they are used. */
	const struct plat_rule *r = only_rule(&l, "rules:\n- name: a\n  kind: pii\n  classes: &c [policy, report]\n"
						  "  detect: [email]\n");
	assert_int_equal(r->classes.n, 2);
	unload(&l);
	load(&l, "base: &b {kind: audit_chain}\nrules:\n- name: a\n  kind: audit_chain\n- *b\n");
	assert_int_equal(l.rc, -PLAT_E_CONFIG); /* the alias has no name: reported where the mapping is */
	assert_int_equal(l.diags.items[l.diags.n - 1].line, 1);
	unload(&l);

	/* Deep nesting where a name is expected is a type error, not a recursion. */
	load(&l, "rules:\n- name: a\n  kind: audit_chain\n  classes: [[[[[[x]]]]]]\n");
	assert_int_equal(l.rc, -PLAT_E_CONFIG);
	assert_int_equal(l.diags.items[0].column, 13);
	unload(&l);

	/* A file over 1 MiB is refused before it is parsed. */
	char dir[] = "/tmp/platctl-rules-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[600];
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("rules: []\n", f);
	for (int i = 0; i < 70000; i++)
		fputs("# padding padding\n", f);
	fclose(f);
	struct plat_rule_set *set;
	struct plat_rule_diags diags = {0};
	struct plat_error err = {0};
	assert_int_equal(plat_rules_load(path, &set, &diags, &err), -PLAT_E_CONFIG);
	assert_int_equal(diags.n, 1);
	assert_non_null(strstr(diags.items[0].message, "larger than"));
	plat_rule_diags_free(&diags);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_required_fields),
		cmocka_unit_test(test_retention),
		cmocka_unit_test(test_pii),
		cmocka_unit_test(test_integrity_orphans_audit_chain),
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_malformed_positions),
		cmocka_unit_test(test_all_problems_are_collected),
		cmocka_unit_test(test_unknown_keys_warn),
		cmocka_unit_test(test_duplicate_within_a_file),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_hostile_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
