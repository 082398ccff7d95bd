/* A scanner for personal data in text: e-mail addresses, phone numbers, IBANs, payment
 * card numbers and national identifiers. Pure C (no database, no configuration, no
 * allocation beyond its own set of seen values), so the builtin field extractor shares
 * its checksums and the pii rule kind runs it over millions of chunks.
 *
 * What counts (each value is one category at most; see pii.c for the details):
 *   email        local@domain.tld, the TLD two or more letters
 *   phone        8-15 digits with + / spaces / dashes / dots / parentheses, and a sign that
 *                it is a phone: a leading + or (, a national trunk 0 with grouping, the
 *                North American 3-3-4 shape, or a phone word just before it ("tel", "phone",
 *                ...). Dates, amounts and numbers after an order/invoice/reference word
 *                are not phones.
 *   iban         country, check digits, BBAN; the country's length where known (else
 *                15-34), mod-97 = 1
 *   card         13-19 digits, optionally grouped by spaces or dashes, Luhn-valid, with a
 *                known issuer prefix and a length that issuer uses
 *   national_id  US SSN (AAA-GG-SSSS, grouped: area not 000, 666 or 9xx, group not 00,
 *                serial not 0000); UK National Insurance number (prefix letters as HMRC
 *                allocates them, six digits, suffix A-D); Spanish DNI (8 digits and the
 *                mod-23 check letter) and NIE (X/Y/Z, 7 digits, check letter)
 *
 * Results never hold a value itself: counts of distinct values (remembered as 64-bit
 * hashes) and a few masked samples ("j***@example.com", "**** **** **** 4242"). */
#ifndef PLAT_PII_H
#define PLAT_PII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Category indexes; bit (1 << index) is the category's enum plat_pii_kind bit. */
enum plat_pii_category {
	PLAT_PII_CAT_EMAIL,
	PLAT_PII_CAT_PHONE,
	PLAT_PII_CAT_IBAN,
	PLAT_PII_CAT_CARD,
	PLAT_PII_CAT_NATIONAL_ID,
	PLAT_PII_CATEGORIES
};

#define PLAT_PII_SAMPLES 3
#define PLAT_PII_SAMPLE_LEN 64

struct plat_pii_result {
	long long count[PLAT_PII_CATEGORIES]; /* distinct values seen by every scan so far */
	char sample[PLAT_PII_CATEGORIES][PLAT_PII_SAMPLES][PLAT_PII_SAMPLE_LEN];
	int samples[PLAT_PII_CATEGORIES];
	/* private: hashes of the values seen (open addressing, 0 = empty) */
	uint64_t *seen;
	size_t seen_cap, seen_n;
};

void plat_pii_result_init(struct plat_pii_result *r);
/* Forget everything (counts, samples, seen values), keeping the memory for the next text. */
void plat_pii_result_reset(struct plat_pii_result *r);
void plat_pii_result_free(struct plat_pii_result *r);

/* Scan len bytes of text (NUL not needed) for the categories in detect (1 << category
 * bits). Returns how many values were found in this text, repeated ones included (so a
 * caller can tell which pages hold any). */
long long plat_pii_scan(struct plat_pii_result *r, const char *text, size_t len, unsigned detect);

/* "email", "phone", "iban", "card", "national_id"; singular and plural nouns for messages
 * ("e-mail address", "e-mail addresses"). */
const char *plat_pii_category_name(enum plat_pii_category c);
const char *plat_pii_category_noun(enum plat_pii_category c, long long n);

/* The checks themselves, for the builtin extractor and the tests. iban: compact (no
 * spaces), upper case. digits: only digits. */
bool plat_pii_iban_valid(const char *iban, size_t n);
/* The IBAN length of a country (two upper-case letters), 0 when not in the table. */
int plat_pii_iban_length(const char *country);
bool plat_pii_luhn_valid(const char *digits, size_t n);

#endif
