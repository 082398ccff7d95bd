/* Typed values of rule files: booleans, numbers, name lists, periods, e-mail addresses.
 * Each either returns the value or leaves a diag at the node it could not read. */
#include "compliance/rules_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rules_bool(struct rules_loader *l, yaml_node_t *n, const char *key, bool *out)
{
	static const char *const t[] = {"true", "yes", "on", "True", "TRUE"};
	static const char *const f[] = {"false", "no", "off", "False", "FALSE"};
	const char *s = rules_scalar(l, n, key);
	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(s, t[i]) == 0)
			return *out = true, 0;
		if (strcmp(s, f[i]) == 0)
			return *out = false, 0;
	}
	rules_diag(l, n, false, "'%s': expected true or false, found '%s'", key, s);
	return -1;
}

int rules_int(struct rules_loader *l, yaml_node_t *n, const char *key, long long min, long long max, long long *out)
{
	const char *s = rules_scalar(l, n, key);
	if (!s)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || *s == '+' || *s == ' ') {
		rules_diag(l, n, false, "'%s': expected a whole number, found '%s'", key, s);
		return -1;
	}
	if (v < min || v > max) {
		rules_diag(l, n, false, "'%s': %lld is out of range (%lld to %lld)", key, v, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Field, tag and class names: what a YAML author can type and a jsonb key can hold,
 * without the spaces and punctuation that only ever come from a typo. */
bool rules_valid_name(const char *s)
{
	if (!*s || strlen(s) > 200)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '.' || *p == '/'))
			return false;
	return true;
}

int rules_name_list(struct rules_loader *l, yaml_node_t *n, const char *key, struct plat_strings *out)
{
	out->items = NULL;
	out->n = 0;
	if (rules_is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		rules_diag(l, n, false, "'%s': expected a list of names, found %s", key, rules_node_kind(n));
		return -1;
	}
	size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	out->items = plat_arena_alloc(l->arena, (count ? count : 1) * sizeof(char *));
	int rc = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *in = yaml_document_get_node(l->doc, *it);
		if (!in)
			continue;
		const char *s = rules_scalar(l, in, key);
		if (!s) {
			rc = -1;
			continue;
		}
		if (!rules_valid_name(s)) {
			rules_diag(l, in, false, "'%s': '%s' is not a valid name (letters, digits, '_', '-', '.', '/')",
				   key, s);
			rc = -1;
			continue;
		}
		bool dup = false;
		for (size_t i = 0; i < out->n && !dup; i++)
			dup = strcmp(out->items[i], s) == 0;
		if (dup) {
			rules_diag(l, in, true, "'%s': '%s' is listed twice", key, s);
			continue;
		}
		out->items[out->n++] = plat_arena_strdup(l->arena, s);
	}
	return rc;
}

/* Units a period may be written in. Weeks become days and minutes/seconds stay what they
 * are, so the interval text is one PostgreSQL understands and one a reader recognises. */
static const struct period_unit {
	const char *names[4];
	const char *singular, *plural;
	long long factor; /* of the PostgreSQL unit */
	long long days;   /* length in days, 0 when not a whole number of days */
} period_units[] = {
	{{"s", "second", "seconds", NULL}, "second", "seconds", 1, 0},
	{{"m", "min", "minute", "minutes"}, "minute", "minutes", 1, 0},
	{{"h", "hour", "hours", NULL}, "hour", "hours", 1, 0},
	{{"d", "day", "days", NULL}, "day", "days", 1, 1},
	{{"w", "week", "weeks", NULL}, "day", "days", 7, 7},
	{{"mo", "month", "months", NULL}, "month", "months", 1, 0},
	{{"y", "year", "years", NULL}, "year", "years", 1, 0},
};

/* Big enough for any real retention period, small enough that no arithmetic overflows. */
#define PERIOD_MAX 100000

int rules_parse_period(const char *s, char *interval, size_t len, long long *days)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (errno || n <= 0 || n > PERIOD_MAX)
		return -1;
	while (*end == ' ')
		end++;
	for (size_t u = 0; u < sizeof(period_units) / sizeof(period_units[0]); u++) {
		const struct period_unit *pu = &period_units[u];
		for (size_t i = 0; i < 4 && pu->names[i]; i++) {
			if (strcmp(end, pu->names[i]) != 0)
				continue;
			long long v = n * pu->factor;
			snprintf(interval, len, "%lld %s", v, v == 1 ? pu->singular : pu->plural);
			*days = pu->days ? n * pu->days : -1;
			return 0;
		}
	}
	return -1;
}

int rules_period(struct rules_loader *l, yaml_node_t *n, const char *key, char **interval, long long *days)
{
	const char *s = rules_scalar(l, n, key);
	if (!s)
		return -1;
	char buf[64];
	if (rules_parse_period(s, buf, sizeof(buf), days) < 0) {
		rules_diag(l, n, false,
			   "'%s': invalid period '%s' (a positive number and a unit: 90d, 2w, 12h, 30m, 6mo, 7y, "
			   "\"30 days\", \"7 years\")",
			   key, s);
		return -1;
	}
	*interval = plat_arena_strdup(l->arena, buf);
	return 0;
}

/* Addresses are checked for shape only: the mail server decides whether they exist. */
static bool valid_email(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || strchr(at + 1, '@') || strlen(s) > 254)
		return false;
	const char *dot = strchr(at + 1, '.');
	if (!dot || dot == at + 1 || dot[1] == '\0' || s[strlen(s) - 1] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == ',' || *p == ';' || *p == '"' ||
		    *p == '(' || *p == ')' || *p == '\\' || (unsigned char)*p == 0x7f)
			return false;
	return true;
}

int rules_email(struct rules_loader *l, yaml_node_t *n, const char *key, char **out)
{
	const char *s = rules_scalar(l, n, key);
	if (!s)
		return -1;
	if (!valid_email(s)) {
		rules_diag(l, n, false, "'%s': '%s' is not an e-mail address", key, s);
		return -1;
	}
	*out = plat_arena_strdup(l->arena, s);
	return 0;
}
