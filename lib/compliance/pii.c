/* The PII scanner of pii.h. One left-to-right pass: at each word start it tries an e-mail
 * address, an IBAN, a national identifier and a run of digits, in that order, and a match
 * consumes its bytes so no part of it is counted again as something else. Written by hand
 * rather than with regcomp: the checksums and the context (is this number a date, an
 * amount, an order number?) need C anyway, and one pass over 100k documents' chunks has
 * to be fast. */
#include "compliance/pii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"

/* Bytes of multi-byte UTF-8 characters count as word characters: a number glued to a
 * letter of any script ("€1234567890", "Nº12345678") is part of a word. */
static bool word_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
}

static bool digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static unsigned char lower(unsigned char c)
{
	return upper(c) ? (unsigned char)(c + 32) : c;
}

/* Whether a value may start at i: the text's start or no word character before it (a
 * no-break space, U+00A0, counts as a space). */
static bool boundary_before(const char *t, size_t i)
{
	if (i == 0 || !word_char((unsigned char)t[i - 1]))
		return true;
	return i >= 2 && (unsigned char)t[i - 2] == 0xc2 && (unsigned char)t[i - 1] == 0xa0;
}

static bool ascii_iprefix(const char *s, const char *p, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (lower((unsigned char)s[k]) != (unsigned char)p[k])
			return false;
	return true;
}

/* ---- checksums ---- */

bool plat_pii_iban_valid(const char *iban, size_t n)
{
	if (n < 15 || n > 34 || !upper((unsigned char)iban[0]) || !upper((unsigned char)iban[1]) ||
	    !digit((unsigned char)iban[2]) || !digit((unsigned char)iban[3]))
		return false;
	/* The first four characters move to the end, letters become 10..35, mod 97 must be 1. */
	int rem = 0;
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)iban[(k + 4) % n];
		if (digit(c))
			rem = (rem * 10 + (c - '0')) % 97;
		else if (upper(c))
			rem = (rem * 100 + (c - 'A' + 10)) % 97;
		else
			return false;
	}
	return rem == 1;
}

/* SWIFT's IBAN registry: the countries whose length is fixed. */
static const char iban_lengths[] = "AD24AE23AL28AT20AZ28BA20BE16BG22BH22BR29BY28CH21CR22CY28CZ24DE22DK18DO28EE20"
				   "EG29ES24FI18FO18FR27GB22GE22GI23GL18GR27GT28HR21HU28IE22IL23IQ23IS26IT27JO30"
				   "KW30KZ20LB28LC32LI21LT20LU20LV21LY25MC27MD24ME22MK19MR27MT31MU30NL18NO15PK24"
				   "PL28PS29PT25QA29RO24RS22SA24SC31SD18SE24SI19SK24SM27ST25SV28TL23TN24TR26UA29"
				   "VA22VG24XK20";

int plat_pii_iban_length(const char *country)
{
	for (const char *p = iban_lengths; *p; p += 4)
		if (p[0] == country[0] && p[1] == country[1])
			return (p[2] - '0') * 10 + (p[3] - '0');
	return 0;
}

bool plat_pii_luhn_valid(const char *digits, size_t n)
{
	if (n == 0)
		return false;
	int sum = 0;
	for (size_t k = 0; k < n; k++) {
		int d = digits[n - 1 - k] - '0';
		if (d < 0 || d > 9)
			return false;
		if (k % 2 == 1 && (d *= 2) > 9)
			d -= 9;
		sum += d;
	}
	return sum % 10 == 0;
}

/* ---- results ---- */

void plat_pii_result_init(struct plat_pii_result *r)
{
	memset(r, 0, sizeof(*r));
}

void plat_pii_result_reset(struct plat_pii_result *r)
{
	uint64_t *seen = r->seen;
	size_t cap = r->seen_cap;
	if (seen && r->seen_n)
		memset(seen, 0, cap * sizeof(*seen));
	memset(r, 0, sizeof(*r));
	r->seen = seen;
	r->seen_cap = cap;
}

void plat_pii_result_free(struct plat_pii_result *r)
{
	free(r->seen);
	memset(r, 0, sizeof(*r));
}

/* FNV-1a over the category and the normalised value. */
static uint64_t value_hash(int cat, const char *v, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(cat + 1);
	h *= 1099511628211ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)v[i];
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

/* True when the value had not been seen (and now is). */
static bool remember(struct plat_pii_result *r, uint64_t h)
{
	if (r->seen_n * 2 >= r->seen_cap) {
		size_t cap = r->seen_cap ? r->seen_cap * 2 : 64;
		uint64_t *t = plat_xcalloc(cap, sizeof(*t));
		for (size_t i = 0; i < r->seen_cap; i++)
			if (r->seen[i]) {
				size_t j = (size_t)(r->seen[i] & (cap - 1));
				while (t[j])
					j = (j + 1) & (cap - 1);
				t[j] = r->seen[i];
			}
		free(r->seen);
		r->seen = t;
		r->seen_cap = cap;
	}
	size_t j = (size_t)(h & (r->seen_cap - 1));
	while (r->seen[j]) {
		if (r->seen[j] == h)
			return false;
		j = (j + 1) & (r->seen_cap - 1);
	}
	r->seen[j] = h;
	r->seen_n++;
	return true;
}

/* norm: the value as compared (digits only, upper case, ...); masked: what may be shown. */
static void found(struct plat_pii_result *r, int cat, const char *norm, size_t n, const char *masked)
{
	if (!remember(r, value_hash(cat, norm, n)))
		return;
	r->count[cat]++;
	if (r->samples[cat] < PLAT_PII_SAMPLES) {
		char *s = r->sample[cat][r->samples[cat]++];
		strncpy(s, masked, PLAT_PII_SAMPLE_LEN - 1);
		s[PLAT_PII_SAMPLE_LEN - 1] = '\0';
	}
}

/* "**** **** **** 4242": star groups of four for all but the last four characters. */
static void mask_grouped(char *out, size_t cap, const char *prefix, const char *v, size_t n)
{
	size_t o = 0, groups = n > 4 ? (n - 4) / 4 : 0;
	for (const char *p = prefix; *p && o + 1 < cap; p++)
		out[o++] = *p;
	for (size_t g = 0; g < groups && o + 6 < cap; g++) {
		memcpy(out + o, "**** ", 5);
		o += 5;
	}
	for (size_t k = n >= 4 ? n - 4 : 0; k < n && o + 1 < cap; k++)
		out[o++] = v[k];
	out[o] = '\0';
}

/* ---- e-mail addresses ---- */

static bool local_char(unsigned char c)
{
	return word_char(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool domain_char(unsigned char c)
{
	return (c < 0x80 && word_char(c)) || c == '-' || c == '.';
}

/* At a word start: local@domain.tld; *end past it. */
static bool try_email(struct plat_pii_result *r, const char *t, size_t len, size_t i, size_t *end, bool count)
{
	size_t at = i;
	while (at < len && at - i < 64 && local_char((unsigned char)t[at]) && t[at] != '@')
		at++;
	if (at == i || at >= len || t[at] != '@' || t[at - 1] == '.')
		return false;
	size_t d = at + 1, e = d;
	while (e < len && e - d < 253 && domain_char((unsigned char)t[e]))
		e++;
	while (e > d && (t[e - 1] == '.' || t[e - 1] == '-')) /* the end of a sentence */
		e--;
	/* At least one dot, labels not empty, the last label two or more letters. */
	size_t last_dot = 0;
	for (size_t k = d; k < e; k++)
		if (t[k] == '.') {
			if (k == d || t[k - 1] == '.')
				return false;
			last_dot = k;
		}
	if (!last_dot || e - last_dot - 1 < 2)
		return false;
	for (size_t k = last_dot + 1; k < e; k++)
		if (digit((unsigned char)t[k]) || t[k] == '-')
			return false;
	*end = e;
	if (count) {
		char norm[320], masked[PLAT_PII_SAMPLE_LEN];
		size_t n = e - i < sizeof(norm) ? e - i : sizeof(norm);
		for (size_t k = 0; k < n; k++)
			norm[k] = (char)lower((unsigned char)t[i + k]);
		size_t dl = e - d;
		/* The first character only when it is one byte: half a UTF-8 sequence is no text. */
		char first = (unsigned char)t[i] < 0x80 ? t[i] : '*';
		if (dl > PLAT_PII_SAMPLE_LEN - 8)
			snprintf(masked, sizeof(masked), "%c***@…%.*s", first, PLAT_PII_SAMPLE_LEN - 12, t + e - (PLAT_PII_SAMPLE_LEN - 12));
		else
			snprintf(masked, sizeof(masked), "%c***@%.*s", first, (int)dl, t + d);
		found(r, PLAT_PII_CAT_EMAIL, norm, n, masked);
	}
	return true;
}

/* ---- IBANs ---- */

static bool try_iban(struct plat_pii_result *r, const char *t, size_t len, size_t i, size_t *end)
{
	if (i + 4 > len || !upper((unsigned char)t[i]) || !upper((unsigned char)t[i + 1]) ||
	    !digit((unsigned char)t[i + 2]) || !digit((unsigned char)t[i + 3]))
		return false;
	int want = plat_pii_iban_length(t + i);
	char c[40];
	size_t ends[40], n = 0, k = i, group = 0;
	/* Characters of the IBAN, a single space allowed after each group of four (the printed
	 * form), so that words after it are not taken in. */
	while (k < len && n < 34) {
		unsigned char ch = (unsigned char)t[k];
		if (digit(ch) || upper(ch)) {
			c[n] = (char)ch;
			ends[n++] = ++k;
			group++;
		} else if (ch == ' ' && group == 4 && k + 1 < len &&
			   (digit((unsigned char)t[k + 1]) || upper((unsigned char)t[k + 1]))) {
			k++;
			group = 0;
		} else
			break;
		if (want && (int)n == want)
			break;
	}
	if (want) {
		/* Exactly the country's length, not glued to more letters or digits. */
		if ((int)n != want || (ends[n - 1] < len && word_char((unsigned char)t[ends[n - 1]])) ||
		    !plat_pii_iban_valid(c, n))
			return false;
	} else {
		/* Unknown country: the longest prefix that ends a group and passes mod-97. */
		while (n >= 15 && (!plat_pii_iban_valid(c, n) ||
				   (ends[n - 1] < len && word_char((unsigned char)t[ends[n - 1]]))))
			n--;
		if (n < 15)
			return false;
	}
	*end = ends[n - 1];
	char masked[PLAT_PII_SAMPLE_LEN], prefix[8] = {c[0], c[1], '*', '*', ' ', 0};
	mask_grouped(masked, sizeof(masked), prefix, c + 4, n - 4);
	found(r, PLAT_PII_CAT_IBAN, c, n, masked);
	return true;
}

/* ---- national identifiers with letters: UK NINO, Spanish DNI / NIE ---- */

static bool try_nino(struct plat_pii_result *r, const char *t, size_t len, size_t i, size_t *end)
{
	/* First letter not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; some pairs are
	 * never issued. Digits may be printed in pairs ("AB 12 34 56 C"). */
	if (i + 9 > len || !upper((unsigned char)t[i]) || !upper((unsigned char)t[i + 1]) ||
	    strchr("DFIQUV", t[i]) || strchr("DFIOQUV", t[i + 1]))
		return false;
	static const char *const never[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
	for (size_t k = 0; k < sizeof(never) / sizeof(never[0]); k++)
		if (t[i] == never[k][0] && t[i + 1] == never[k][1])
			return false;
	size_t k = i + 2, nd = 0;
	char norm[9] = {t[i], t[i + 1]};
	bool spaced = k < len && t[k] == ' ';
	while (nd < 6) {
		if (spaced && nd % 2 == 0) {
			if (k >= len || t[k] != ' ')
				return false;
			k++;
		}
		if (k >= len || !digit((unsigned char)t[k]))
			return false;
		norm[2 + nd++] = t[k++];
	}
	if (spaced && k < len && t[k] == ' ')
		k++;
	if (k >= len || t[k] < 'A' || t[k] > 'D' || (k + 1 < len && word_char((unsigned char)t[k + 1])))
		return false;
	norm[8] = t[k];
	*end = k + 1;
	char masked[PLAT_PII_SAMPLE_LEN];
	snprintf(masked, sizeof(masked), "** ** ** %c%c %c", norm[6], norm[7], norm[8]);
	found(r, PLAT_PII_CAT_NATIONAL_ID, norm, 9, masked);
	return true;
}

static bool try_dni(struct plat_pii_result *r, const char *t, size_t len, size_t i, size_t *end)
{
	static const char letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";
	if (i + 9 > len)
		return false;
	char norm[9];
	long num = 0;
	size_t k = i;
	if (t[k] == 'X' || t[k] == 'Y' || t[k] == 'Z')
		num = t[k] - 'X'; /* NIE: the letter stands for a leading 0, 1 or 2 */
	else if (!digit((unsigned char)t[k]))
		return false;
	else
		num = t[k] - '0';
	norm[0] = t[k++];
	for (int d = 1; d < 8; d++, k++) {
		if (!digit((unsigned char)t[k]))
			return false;
		num = num * 10 + (t[k] - '0');
		norm[d] = t[k];
	}
	if (t[k] == '-' && k + 1 < len)
		k++;
	if (k >= len || !upper((unsigned char)t[k]) || (k + 1 < len && word_char((unsigned char)t[k + 1])) ||
	    t[k] != letters[num % 23])
		return false;
	norm[8] = t[k];
	*end = k + 1;
	char masked[PLAT_PII_SAMPLE_LEN];
	snprintf(masked, sizeof(masked), "******%c%c%c", norm[6], norm[7], norm[8]);
	found(r, PLAT_PII_CAT_NATIONAL_ID, norm, 9, masked);
	return true;
}

/* ---- runs of digits: SSNs, cards, phones ---- */

#define MAX_GROUPS 12

struct run {
	size_t start, end;       /* bytes of the run in the text */
	char digits[48];         /* its digits */
	size_t nd;
	size_t group_len[MAX_GROUPS];
	size_t group_end[MAX_GROUPS]; /* byte offset after each group */
	char sep[MAX_GROUPS];    /* the separator before group g (g >= 1): ' ', '-', '.', '/' or '(' ')' */
	size_t ng;
	bool plus, paren;        /* begins with + or ( */
	bool overflow;           /* too many digits or groups to be any one value */
};

static bool sep_char(unsigned char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')';
}

/* Digits with single separators between groups (") " and " (" as well); ends at anything
 * else, or at a separator not followed by a digit. */
static void read_run(const char *t, size_t len, size_t i, struct run *rn)
{
	memset(rn, 0, sizeof(*rn));
	rn->start = i;
	size_t k = i;
	if (t[k] == '+')
		rn->plus = true, k++;
	else if (t[k] == '(')
		rn->paren = true, k++;
	bool in_group = false;
	while (k < len) {
		unsigned char c = (unsigned char)t[k];
		if (digit(c)) {
			if (!in_group) {
				if (rn->ng == MAX_GROUPS) {
					rn->overflow = true;
					break;
				}
				rn->ng++;
				in_group = true;
			}
			if (rn->nd < sizeof(rn->digits))
				rn->digits[rn->nd++] = (char)c;
			else
				rn->overflow = true;
			rn->group_len[rn->ng - 1]++;
			k++;
			rn->end = rn->group_end[rn->ng - 1] = k;
			continue;
		}
		if (!sep_char(c))
			break;
		/* One separator, or two when one of them is a parenthesis. */
		size_t s = k + 1;
		if (s < len && sep_char((unsigned char)t[s]) && (c == ')' || t[s] == '(') && t[s] != c)
			s++;
		if (s >= len || !digit((unsigned char)t[s]))
			break;
		if (rn->ng < MAX_GROUPS)
			rn->sep[rn->ng] = (char)c;
		in_group = false;
		k = s;
	}
}

static bool ssn_valid(const char *d)
{
	int area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	return area != 0 && area != 666 && area < 900 && !(d[3] == '0' && d[4] == '0') && memcmp(d + 5, "0000", 4) != 0;
}

/* An issuer with this prefix uses this many digits. */
static bool card_issuer(const char *d, size_t n)
{
	int p2 = (d[0] - '0') * 10 + (d[1] - '0'), p3 = p2 * 10 + (d[2] - '0'), p4 = p3 * 10 + (d[3] - '0');
	if (d[0] == '4')
		return n == 13 || n == 16 || n == 19;           /* Visa */
	if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
		return n == 16;                                 /* Mastercard */
	if (p2 == 34 || p2 == 37)
		return n == 15;                                 /* American Express */
	if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65)
		return n >= 16 && n <= 19;                      /* Discover */
	if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38)
		return n >= 14 && n <= 19;                      /* Diners Club */
	if (p4 >= 3528 && p4 <= 3589)
		return n >= 16 && n <= 19;                      /* JCB */
	if (p2 == 62)
		return n >= 16 && n <= 19;                      /* UnionPay */
	if (p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759 || (p4 >= 6761 && p4 <= 6763))
		return n >= 13 && n <= 19;                      /* Maestro */
	return false;
}

/* The card among the run's first groups: an expiry date ("12/27") or a security code may
 * follow it, but not more groups like its own (then it is part of a longer number). *end:
 * after its last group. */
static bool find_card(struct plat_pii_result *r, const struct run *rn, size_t *end)
{
	if (rn->plus || rn->paren)
		return false;
	size_t nd = 0, best = 0, best_g = 0;
	for (size_t g = 0; g < rn->ng && g < MAX_GROUPS; g++) {
		if (g > 0 && ((rn->sep[g] != ' ' && rn->sep[g] != '-') || rn->sep[g] != rn->sep[1]))
			break; /* "4242 4242-4242 4242" is not how cards are printed */
		nd += rn->group_len[g];
		if (nd > 19)
			break;
		if (nd >= 13 && card_issuer(rn->digits, nd) && plat_pii_luhn_valid(rn->digits, nd))
			best = nd, best_g = g;
	}
	size_t next = best_g + 1;
	if (!best || (best_g > 0 && next < rn->ng && rn->sep[next] == rn->sep[1] && rn->group_len[next] >= 4))
		return false;
	char masked[PLAT_PII_SAMPLE_LEN];
	mask_grouped(masked, sizeof(masked), "", rn->digits, best);
	found(r, PLAT_PII_CAT_CARD, rn->digits, best, masked);
	*end = rn->group_end[best_g];
	return true;
}

/* Lower-cased, the up to 24 bytes before the run. */
static void before(const char *t, size_t start, char *out)
{
	size_t back = start < 24 ? start : 24, o = 0;
	for (size_t k = start - back; k < start; k++)
		out[o++] = (char)lower((unsigned char)t[k]);
	out[o] = '\0';
}

/* The last position in s where one of the words begins (not inside another word: "id"
 * is not in "paid"), -1 for none. */
static int last_cue(const char *s, const char *const *words, size_t n)
{
	int best = -1;
	for (size_t i = 0; i < n; i++)
		for (const char *p = strstr(s, words[i]); p; p = strstr(p + 1, words[i]))
			if (p - s > best && (p == s || !word_char((unsigned char)p[-1])))
				best = (int)(p - s);
	return best;
}

static bool money_near(const char *t, size_t len, const struct run *rn, const char *prev)
{
	/* A currency right before, or a decimal part or currency right after. */
	size_t pl = strlen(prev);
	while (pl && prev[pl - 1] == ' ')
		pl--;
	static const char *const cur[] = {"$", "\xe2\x82\xac", "\xc2\xa3", "eur", "usd", "gbp", "chf"};
	for (size_t i = 0; i < sizeof(cur) / sizeof(cur[0]); i++) {
		size_t cl = strlen(cur[i]);
		if (pl >= cl && memcmp(prev + pl - cl, cur[i], cl) == 0)
			return true;
	}
	size_t e = rn->end;
	if (e + 1 < len && (t[e] == ',' || t[e] == '.') && digit((unsigned char)t[e + 1]))
		return true;
	while (e < len && t[e] == ' ')
		e++;
	for (size_t i = 0; i < sizeof(cur) / sizeof(cur[0]); i++) {
		size_t cl = strlen(cur[i]);
		if (e + cl <= len && ascii_iprefix(t + e, cur[i], cl))
			return true;
	}
	return false;
}

static bool phone(const struct run *rn, const char *t, size_t len)
{
	if (rn->nd < 8 || rn->nd > 15 || rn->overflow)
		return false;
	/* A date: three groups of 1-4, 1-2 and 1-4 digits between the same - . or / */
	if (rn->ng == 3 && !rn->plus && !rn->paren && rn->sep[1] == rn->sep[2] &&
	    (rn->sep[1] == '-' || rn->sep[1] == '.' || rn->sep[1] == '/') && rn->group_len[0] <= 4 &&
	    rn->group_len[1] <= 2 && rn->group_len[2] <= 4)
		return false;
	/* A slash only between area and number, not as a date or fraction. */
	for (size_t g = 1; g < rn->ng; g++)
		if (rn->sep[g] == '/' && rn->ng > 2)
			return false;
	char prev[32];
	before(t, rn->start, prev);
	if (money_near(t, len, rn, prev))
		return false;
	static const char *const yes[] = {"phone", "tel", "mobile", "mob.", "fax", "call", "cell", "whatsapp",
					  "contact", "hotline"};
	static const char *const no[] = {"order", "invoice", "ref", "no.", "nr", "#", "account", "customer",
					 "id", "iban", "case", "ticket", "serial", "tax", "vat"};
	int y = last_cue(prev, yes, sizeof(yes) / sizeof(yes[0])), n = last_cue(prev, no, sizeof(no) / sizeof(no[0]));
	if (n > y)
		return false;
	if (y >= 0 || rn->plus || rn->paren)
		return true;
	if (rn->ng >= 2 && rn->sep[1] == '.' && rn->group_len[0] == 1)
		return false; /* a decimal: "0.12345678" */
	if (rn->digits[0] == '0' && rn->ng >= 2)
		return true; /* a national number with its trunk prefix ("030 1234 5678") or 00 */
	/* North America: NXX-NXX-XXXX */
	return rn->ng == 3 && rn->group_len[0] == 3 && rn->group_len[1] == 3 && rn->group_len[2] == 4 &&
	       rn->digits[0] >= '2' && rn->digits[3] >= '2' && rn->sep[1] != '/' && rn->sep[1] == rn->sep[2];
}

static void mask_phone(const struct run *rn, const char *t, char *out, size_t cap)
{
	size_t o = 0, seen = 0;
	for (size_t k = rn->start; k < rn->end && o + 1 < cap; k++) {
		char c = t[k];
		if (digit((unsigned char)c))
			c = ++seen + 2 > rn->nd ? c : '*';
		out[o++] = c;
	}
	out[o] = '\0';
}

/* Returns where the scan goes on: after an SSN or a card (what follows may be another
 * value), else after the run. */
static size_t digit_run(struct plat_pii_result *r, const char *t, size_t len, unsigned detect, struct run *rn,
			long long *hits)
{
	/* Glued to a word after it ("12345678abc"): a code, not a value. */
	if (rn->end < len && word_char((unsigned char)t[rn->end]))
		return rn->end;
	/* US SSN: three groups 3-2-4 between dashes or spaces (another separator may follow:
	 * "123-45-6789 987-65-4321"); invalid ones are nothing, not a phone. */
	if (rn->ng >= 3 && (rn->ng == 3 || rn->sep[3] != rn->sep[1]) && !rn->plus && !rn->paren && rn->group_len[0] == 3 && rn->group_len[1] == 2 &&
	    rn->group_len[2] == 4 && rn->sep[1] == rn->sep[2] && (rn->sep[1] == '-' || rn->sep[1] == ' ')) {
		if ((detect & 1u << PLAT_PII_CAT_NATIONAL_ID) && ssn_valid(rn->digits)) {
			char masked[PLAT_PII_SAMPLE_LEN];
			snprintf(masked, sizeof(masked), "***-**-%.4s", rn->digits + 5);
			found(r, PLAT_PII_CAT_NATIONAL_ID, rn->digits, 9, masked);
			++*hits;
		}
		return rn->group_end[2];
	}
	size_t end;
	if ((detect & 1u << PLAT_PII_CAT_CARD) && find_card(r, rn, &end)) {
		++*hits;
		return end;
	}
	if ((detect & 1u << PLAT_PII_CAT_PHONE) && phone(rn, t, len)) {
		char masked[PLAT_PII_SAMPLE_LEN];
		mask_phone(rn, t, masked, sizeof(masked));
		/* The same number written differently is one number: compare the digits. */
		found(r, PLAT_PII_CAT_PHONE, rn->digits, rn->nd, masked);
		++*hits;
	}
	return rn->end;
}

long long plat_pii_scan(struct plat_pii_result *r, const char *t, size_t len, unsigned detect)
{
	long long hits = 0;
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)t[i];
		bool start = boundary_before(t, i);
		if (!start || !(word_char(c) || c == '+' || c == '(')) {
			i++;
			continue;
		}
		size_t end = i;
		/* Most words are just words: a token (up to the next space) with no digit and no
		 * '@' can be none of the values, except the two letters that open a spaced NINO. */
		if (!digit(c) && c != '+' && c != '(') {
			size_t k = i;
			bool maybe = false;
			while (k < len && t[k] != ' ' && t[k] != '\n' && t[k] != '\t' && !maybe) {
				maybe = digit((unsigned char)t[k]) || t[k] == '@';
				k++;
			}
			if (!maybe && !(k - i == 2 && upper(c) && upper((unsigned char)t[i + 1]))) {
				i = k;
				continue;
			}
		}
		/* An e-mail address is consumed even when not asked for: its digits are no phone. */
		if (local_char(c) && try_email(r, t, len, i, &end, detect & 1u << PLAT_PII_CAT_EMAIL)) {
			hits += (detect & 1u << PLAT_PII_CAT_EMAIL) != 0;
			i = end;
			continue;
		}
		if ((detect & 1u << PLAT_PII_CAT_IBAN) && try_iban(r, t, len, i, &end)) {
			hits++;
			i = end;
			continue;
		}
		if ((detect & 1u << PLAT_PII_CAT_NATIONAL_ID) &&
		    (try_nino(r, t, len, i, &end) || try_dni(r, t, len, i, &end))) {
			hits++;
			i = end;
			continue;
		}
		if (digit(c) || ((c == '+' || c == '(') && i + 1 < len && digit((unsigned char)t[i + 1]))) {
			struct run rn;
			read_run(t, len, i, &rn);
			if (rn.end > i) {
				i = digit_run(r, t, len, detect, &rn, &hits);
				continue;
			}
		}
		/* The rest of this word. */
		i++;
		while (i < len && word_char((unsigned char)t[i]))
			i++;
	}
	return hits;
}

const char *plat_pii_category_name(enum plat_pii_category c)
{
	static const char *const names[] = {"email", "phone", "iban", "card", "national_id"};
	return (unsigned)c < PLAT_PII_CATEGORIES ? names[c] : "unknown";
}

const char *plat_pii_category_noun(enum plat_pii_category c, long long n)
{
	static const char *const one[] = {"e-mail address", "phone number", "IBAN", "card number", "national id"};
	static const char *const many[] = {"e-mail addresses", "phone numbers", "IBANs", "card numbers", "national ids"};
	if ((unsigned)c >= PLAT_PII_CATEGORIES)
		return "value";
	return n == 1 ? one[c] : many[c];
}
