/* Builtin field extraction by rules. Patterns are POSIX extended regular expressions;
 * what a pattern cannot check (a real calendar date, an IBAN's mod-97 checksum, a phone
 * number's digit count) is checked in C after the match. */
#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ai/builtin.h"
#include "compliance/pii.h" /* the one mod-97 check */
#include "mem/mem.h"

static const char *const months[] = {"january", "february", "march", "april", "may", "june", "july",
				     "august", "september", "october", "november", "december"};

static int month_number(const char *s, size_t n)
{
	if (n < 3)
		return 0;
	for (int m = 0; m < 12; m++)
		if (strncasecmp(s, months[m], n < strlen(months[m]) ? n : strlen(months[m])) == 0 &&
		    (n == 3 || n == strlen(months[m]) || (n == 4 && s[3] == '.')))
			return m + 1;
	return 0;
}

static bool valid_date(int y, int m, int d)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= days[m - 1] + (m == 2 && leap);
}

static void add_unique(cJSON *arr, const char *v)
{
	for (cJSON *c = arr->child; c; c = c->next)
		if (cJSON_IsString(c) && !strcmp(c->valuestring, v))
			return;
	cJSON_AddItemToArray(arr, cJSON_CreateString(v));
}

/* Run re over text; for each match call fn(text, matches, arg). */
static void each_match(const char *pattern, int flags, const char *text, void (*fn)(const char *, regmatch_t *, void *),
		       void *arg)
{
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED | flags) != 0)
		return;
	regmatch_t m[8];
	const char *p = text;
	while (*p && regexec(&re, p, 8, m, p == text ? 0 : REG_NOTBOL) == 0) {
		fn(p, m, arg);
		p += m[0].rm_eo > m[0].rm_so ? m[0].rm_eo : m[0].rm_so + 1;
	}
	regfree(&re);
}

static int num(const char *s, regmatch_t g)
{
	return g.rm_so < 0 ? 0 : atoi(s + g.rm_so);
}

/* ---- dates ---- */

struct date_ctx {
	cJSON *dates;
	cJSON *expiry;
	const char *text; /* the whole text, to look back for "valid until" */
};

static void add_date(struct date_ctx *c, const char *base, regmatch_t whole, int y, int m, int d)
{
	if (!valid_date(y, m, d))
		return;
	char iso[40];
	snprintf(iso, sizeof(iso), "%04d-%02d-%02d", y, m, d);
	add_unique(c->dates, iso);
	/* An expiry or renewal date: one of these phrases shortly before the date. */
	static const char *const cues[] = {"valid until", "valid through", "expires on", "expires", "expiry date",
					   "expiration date", "renewal date", "renews on", "terminates on", "until"};
	const char *at = base + whole.rm_so;
	size_t back = (size_t)(at - c->text) < 48 ? (size_t)(at - c->text) : 48;
	char window[64];
	memcpy(window, at - back, back);
	window[back] = '\0';
	for (char *w = window; *w; w++)
		*w = (char)tolower((unsigned char)*w);
	for (size_t i = 0; i < sizeof(cues) / sizeof(cues[0]); i++)
		if (strstr(window, cues[i])) {
			add_unique(c->expiry, iso);
			break;
		}
}

static void on_iso(const char *s, regmatch_t *m, void *arg)
{
	add_date(arg, s, m[0], num(s, m[1]), num(s, m[2]), num(s, m[3]));
}

static void on_dmy(const char *s, regmatch_t *m, void *arg)
{
	/* 31.03.2027 and 31/03/2027: day first, as in most of the world's contracts. */
	add_date(arg, s, m[0], num(s, m[3]), num(s, m[2]), num(s, m[1]));
}

static void on_month_name(const char *s, regmatch_t *m, void *arg)
{
	/* "March 31, 2027" (groups 1,2,3) or "31 March 2027" (groups 4,5,6) */
	if (m[1].rm_so >= 0) {
		int mo = month_number(s + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
		if (mo)
			add_date(arg, s, m[0], num(s, m[3]), mo, num(s, m[2]));
	} else {
		int mo = month_number(s + m[5].rm_so, (size_t)(m[5].rm_eo - m[5].rm_so));
		if (mo)
			add_date(arg, s, m[0], num(s, m[6]), mo, num(s, m[4]));
	}
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp((*(cJSON *const *)a)->valuestring, (*(cJSON *const *)b)->valuestring);
}

/* ISO dates sort chronologically as strings. */
static void sort_strings(cJSON *arr)
{
	int n = cJSON_GetArraySize(arr);
	if (n < 2)
		return;
	cJSON **items = plat_xcalloc((size_t)n, sizeof(*items));
	int i = 0;
	while (arr->child)
		items[i++] = cJSON_DetachItemViaPointer(arr, arr->child);
	qsort(items, (size_t)n, sizeof(*items), cmp_item);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, items[i]);
	free(items);
}

/* ---- money ---- */

/* "1,200.50" / "1.200,50" / "1 200" -> "1200.50" */
static bool normalise_amount(const char *s, size_t n, char *out, size_t cap)
{
	char digits[64];
	size_t k = 0;
	int last_sep = -1;
	for (size_t i = 0; i < n && k + 1 < sizeof(digits); i++) {
		if (isdigit((unsigned char)s[i]))
			digits[k++] = s[i];
		else if (s[i] == ',' || s[i] == '.')
			last_sep = (int)k, digits[k++] = s[i];
	}
	digits[k] = '\0';
	/* The last separator is a decimal point when exactly two digits follow it. */
	size_t o = 0;
	for (size_t i = 0; i < k && o + 2 < cap; i++) {
		if (digits[i] == ',' || digits[i] == '.') {
			if ((int)i == last_sep && k - i - 1 == 2)
				out[o++] = '.';
			continue;
		}
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return o > 0;
}

static const char *currency_of(const char *sym, size_t n)
{
	static const struct {
		const char *in, *code;
	} map[] = {{"€", "EUR"}, {"$", "USD"}, {"£", "GBP"}, {"eur", "EUR"}, {"usd", "USD"}, {"gbp", "GBP"},
		   {"chf", "CHF"}, {"euro", "EUR"}, {"euros", "EUR"}, {"dollars", "USD"}, {"pounds", "GBP"}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].in) == n && strncasecmp(map[i].in, sym, n) == 0)
			return map[i].code;
	return NULL;
}

struct money_ctx {
	cJSON *amounts;
};

static void add_amount(struct money_ctx *c, const char *s, regmatch_t whole, regmatch_t cur, regmatch_t amount)
{
	const char *code = currency_of(s + cur.rm_so, (size_t)(cur.rm_eo - cur.rm_so));
	char value[64];
	if (!code || !normalise_amount(s + amount.rm_so, (size_t)(amount.rm_eo - amount.rm_so), value, sizeof(value)))
		return;
	struct plat_buf t = PLAT_BUF_INIT;
	plat_buf_append(&t, s + whole.rm_so, (size_t)(whole.rm_eo - whole.rm_so));
	for (cJSON *a = c->amounts->child; a; a = a->next)
		if (!strcmp(cJSON_GetObjectItem(a, "text")->valuestring, t.data)) {
			plat_buf_free(&t);
			return;
		}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "value", value);
	cJSON_AddStringToObject(o, "currency", code);
	cJSON_AddStringToObject(o, "text", t.data);
	cJSON_AddItemToArray(c->amounts, o);
	plat_buf_free(&t);
}

static void on_money_before(const char *s, regmatch_t *m, void *arg)
{
	add_amount(arg, s, m[0], m[1], m[2]);
}

static void on_money_after(const char *s, regmatch_t *m, void *arg)
{
	add_amount(arg, s, m[0], m[4], m[1]); /* amount is group 1, currency group 4 */
}

/* ---- contacts, IBANs ---- */

static void on_email(const char *s, regmatch_t *m, void *arg)
{
	char *v = strndup(s + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so));
	add_unique(arg, v);
	free(v);
}

static void on_phone(const char *s, regmatch_t *m, void *arg)
{
	size_t digits = 0;
	for (regoff_t i = m[0].rm_so; i < m[0].rm_eo; i++)
		digits += isdigit((unsigned char)s[i]) != 0;
	/* E.164 allows at most 15 digits; fewer than 8 is a number, not a phone. Dates and
	 * amounts look similar: they contain a date-like separator run or a decimal comma. */
	if (digits < 8 || digits > 15)
		return;
	char *v = strndup(s + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so));
	regex_t date;
	regcomp(&date, "^[0-9]{1,4}[-./][0-9]{1,2}[-./][0-9]{1,4}$", REG_EXTENDED | REG_NOSUB);
	if (regexec(&date, v, 0, NULL, 0) != 0)
		add_unique(arg, v);
	regfree(&date);
	free(v);
}

static void on_iban(const char *s, regmatch_t *m, void *arg)
{
	char compact[40];
	size_t k = 0;
	for (regoff_t i = m[0].rm_so; i < m[0].rm_eo && k + 1 < sizeof(compact); i++)
		if (s[i] != ' ')
			compact[k++] = (char)toupper((unsigned char)s[i]);
	compact[k] = '\0';
	/* A greedy match may have taken a following word: shrink until the checksum holds. */
	for (; k >= 15; compact[--k] = '\0')
		if (plat_pii_iban_valid(compact, k)) {
			add_unique(arg, compact);
			return;
		}
}

/* ---- parties ---- */

static void trim_party(char *p)
{
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == ',' || p[n - 1] == '"'))
		p[--n] = '\0';
	char *s = p;
	while (*s == ' ' || *s == '"')
		s++;
	memmove(p, s, strlen(s) + 1);
}

static void on_parties(const char *s, regmatch_t *m, void *arg)
{
	for (int g = 1; g <= 2; g++) {
		char *v = strndup(s + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
		trim_party(v);
		if (*v)
			add_unique(arg, v);
		free(v);
	}
}

cJSON *plat_ai_builtin_extract(const char *text, size_t len)
{
	char *t = strndup(text, len); /* regexec needs a NUL-terminated string */
	cJSON *out = cJSON_CreateObject();
	struct date_ctx dc = {cJSON_AddArrayToObject(out, "dates"), cJSON_AddArrayToObject(out, "expiry_dates"), t};
	each_match("([0-9]{4})-([0-9]{2})-([0-9]{2})", 0, t, on_iso, &dc);
	each_match("([0-9]{1,2})[./]([0-9]{1,2})[./]([0-9]{4})", 0, t, on_dmy, &dc);
	each_match("([A-Za-z]{3,9}\\.?) ([0-9]{1,2}),? ([0-9]{4})|([0-9]{1,2}) ([A-Za-z]{3,9}\\.?),? ([0-9]{4})", 0, t,
		   on_month_name, &dc);

	sort_strings(dc.dates);
	sort_strings(dc.expiry);

	struct money_ctx mc = {cJSON_AddArrayToObject(out, "amounts")};
	each_match("(€|\\$|£|EUR|USD|GBP|CHF) ?([0-9]{1,3}([.,' ]?[0-9]{3})*([.,][0-9]{2})?)", REG_ICASE, t,
		   on_money_before, &mc);
	each_match("([0-9]{1,3}([.,' ]?[0-9]{3})*([.,][0-9]{2})?) ?(€|EUR|USD|GBP|CHF|euros?|dollars|pounds)",
		   REG_ICASE, t, on_money_after, &mc);

	each_match("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}", 0, t, on_email, cJSON_AddArrayToObject(out, "emails"));
	each_match("\\+?\\(?[0-9][0-9 ()./-]{6,}[0-9]", 0, t, on_phone, cJSON_AddArrayToObject(out, "phones"));
	each_match("[A-Z]{2}[0-9]{2}( ?[A-Z0-9]){11,30}", 0, t, on_iban, cJSON_AddArrayToObject(out, "ibans"));
	each_match("between ([A-Z][^,;()\n]{1,80}) and ([A-Z][^,;()\n.]{1,80})", 0, t, on_parties,
		   cJSON_AddArrayToObject(out, "parties"));
	free(t);
	return out;
}
