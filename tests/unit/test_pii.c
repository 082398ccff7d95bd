/* The PII scanner: what it must find (and how it masks it), and what only looks like PII
 * and must not count: dates, amounts, order numbers, a Luhn-invalid card, an IBAN with a
 * bad checksum, SSNs that cannot be issued. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/compliance.h"
#include "compliance/pii.h"

#define ALL ((1u << PLAT_PII_CATEGORIES) - 1)

static struct plat_pii_result scan(const char *text, unsigned detect)
{
	struct plat_pii_result r;
	plat_pii_result_init(&r);
	plat_pii_scan(&r, text, strlen(text), detect);
	return r;
}

/* The counts of all five categories, as "email phone iban card national_id". */
static const char *counts(const char *text)
{
	static char out[64];
	struct plat_pii_result r = scan(text, ALL);
	snprintf(out, sizeof(out), "%lld %lld %lld %lld %lld", r.count[0], r.count[1], r.count[2], r.count[3], r.count[4]);
	plat_pii_result_free(&r);
	return out;
}

static bool has_sample(const struct plat_pii_result *r, int cat, const char *want)
{
	for (int i = 0; i < r->samples[cat]; i++)
		if (strcmp(r->sample[cat][i], want) == 0)
			return true;
	return false;
}

/* No sample anywhere contains the secret. */
static void assert_not_leaked(const struct plat_pii_result *r, const char *secret)
{
	for (int c = 0; c < PLAT_PII_CATEGORIES; c++)
		for (int i = 0; i < r->samples[c]; i++)
			if (strstr(r->sample[c][i], secret))
				fail_msg("sample '%s' leaks '%s'", r->sample[c][i], secret);
}

static void test_category_bits_match_the_rule_model(void **state)
{
	(void)state;
	assert_int_equal(1u << PLAT_PII_CAT_EMAIL, PLAT_PII_EMAIL);
	assert_int_equal(1u << PLAT_PII_CAT_PHONE, PLAT_PII_PHONE);
	assert_int_equal(1u << PLAT_PII_CAT_IBAN, PLAT_PII_IBAN);
	assert_int_equal(1u << PLAT_PII_CAT_CARD, PLAT_PII_CARD);
	assert_int_equal(1u << PLAT_PII_CAT_NATIONAL_ID, PLAT_PII_NATIONAL_ID);
	assert_int_equal(ALL, PLAT_PII_ALL);
}

static void test_checksums(void **state)
{
	(void)state;
	assert_true(plat_pii_iban_valid("DE89370400440532013000", 22));
	assert_false(plat_pii_iban_valid("DE89370400440532013001", 22));
	assert_true(plat_pii_iban_valid("GB82WEST12345698765432", 22));
	assert_false(plat_pii_iban_valid("GB82west12345698765432", 22));
	assert_false(plat_pii_iban_valid("DE8937040044", 12));
	assert_int_equal(plat_pii_iban_length("DE"), 22);
	assert_int_equal(plat_pii_iban_length("NO"), 15);
	assert_int_equal(plat_pii_iban_length("QQ"), 0);
	assert_true(plat_pii_luhn_valid("4242424242424242", 16));
	assert_false(plat_pii_luhn_valid("4242424242424241", 16));
	assert_true(plat_pii_luhn_valid("378282246310005", 15));
	assert_false(plat_pii_luhn_valid("42a2", 4));
	assert_false(plat_pii_luhn_valid("", 0));
}

static void test_emails(void **state)
{
	(void)state;
	struct plat_pii_result r =
		scan("Write to john.doe@example.com or <Jane_X+tag@mail.example.co.uk>. Again: JOHN.DOE@example.com.", ALL);
	assert_int_equal(r.count[PLAT_PII_CAT_EMAIL], 2); /* case-insensitively the same address once */
	assert_true(has_sample(&r, PLAT_PII_CAT_EMAIL, "j***@example.com"));
	assert_true(has_sample(&r, PLAT_PII_CAT_EMAIL, "J***@mail.example.co.uk"));
	assert_not_leaked(&r, "john.doe");
	assert_int_equal(r.count[PLAT_PII_CAT_PHONE], 0);
	plat_pii_result_free(&r);
	/* Not addresses: no TLD, a numeric TLD, an empty label, a bare @. */
	assert_string_equal(counts("a@b, user@localhost, x@10.0.0.1, y@example..com, @example.com, me@ex.c"),
			    "0 0 0 0 0");
	/* A local part that starts with a multi-byte letter: the sample stays valid UTF-8. */
	r = scan("\xc3\xa9lise@example.com", ALL);
	assert_int_equal(r.count[PLAT_PII_CAT_EMAIL], 1);
	assert_true(has_sample(&r, PLAT_PII_CAT_EMAIL, "****@example.com"));
	plat_pii_result_free(&r);
}

static void test_phones(void **state)
{
	(void)state;
	struct plat_pii_result r =
		scan("Call +49 30 1234567, or (555) 123-4567 in the US, 555-987-6543 too; tel. 030/1234567;"
		     " Mobile: 0171 2345678. Also 0044 20 7946 0958.",
		     ALL);
	assert_int_equal(r.count[PLAT_PII_CAT_PHONE], 6);
	assert_true(has_sample(&r, PLAT_PII_CAT_PHONE, "+** ** *****67"));
	assert_true(has_sample(&r, PLAT_PII_CAT_PHONE, "(***) ***-**67"));
	assert_not_leaked(&r, "1234567");
	plat_pii_result_free(&r);
	/* The same number written twice is one number. */
	assert_string_equal(counts("Phone +49 30 1234567 and phone +49-30-1234567"), "0 1 0 0 0");
	/* Too short or too long. */
	assert_string_equal(counts("Phone: 123 4567. Phone: +1 234 567 890 123 456 7"), "0 0 0 0 0");
}

static void test_phone_false_positives(void **state)
{
	(void)state;
	/* Dates in several notations. */
	assert_string_equal(counts("Signed on 2026-11-15, effective 15.11.2026 and 11/15/2026; 2026-11-15 10:30."),
			    "0 0 0 0 0");
	/* Amounts with or without a currency. */
	assert_string_equal(counts("Total EUR 12 345 678, $ 1,234,567.00, 1.234.567,89 EUR, 0.12345678 and 12345678 USD."),
			    "0 0 0 0 0");
	/* Even when shaped like a phone: a currency before or after, a decimal part. */
	assert_string_equal(counts("EUR 0301 234 567, 0301234567,00 and 0301 234567 CHF"), "0 0 0 0 0");
	/* Order, invoice and reference numbers. */
	assert_string_equal(counts("Order no. 0042-1234-5678, invoice #0301234567, ref 0800 123 4567, Customer ID 0123 4567 89."),
			    "0 0 0 0 0");
	/* Plain long numbers without a sign of being a phone, and numbers glued to words. */
	assert_string_equal(counts("Serial 12345678901; part A12345678; 987654321abc; 2019-2023 2024-2025."), "0 0 0 0 0");
	/* A phone word beats an earlier order word, and a word that only contains "id" is none. */
	assert_string_equal(counts("Order questions? Phone 030 1234567. We provide support 0800 1234567."),
			    "0 2 0 0 0");
}

static void test_ibans(void **state)
{
	(void)state;
	struct plat_pii_result r = scan("Pay to DE89 3704 0044 0532 0130 00 or GB82WEST12345698765432, ref 1.", ALL);
	assert_int_equal(r.count[PLAT_PII_CAT_IBAN], 2);
	assert_true(has_sample(&r, PLAT_PII_CAT_IBAN, "DE** **** **** **** 3000"));
	assert_true(has_sample(&r, PLAT_PII_CAT_IBAN, "GB** **** **** **** 5432"));
	assert_not_leaked(&r, "3704");
	/* Its digits are not also a phone or a card. */
	assert_int_equal(r.count[PLAT_PII_CAT_PHONE] + r.count[PLAT_PII_CAT_CARD], 0);
	plat_pii_result_free(&r);
	/* A bad checksum, the wrong length for the country, glued to more characters. */
	assert_string_equal(counts("DE89 3704 0044 0532 0130 01, DE89370400440532013, DE89370400440532013000X"),
			    "0 0 0 0 0");
	/* Norway's are the shortest (15); a country not in the table: 15-34 characters and
	 * mod-97 decide. Spaces only between groups of four. */
	assert_string_equal(counts("NO93 8601 1117 947 and NO93 8601 1117 948"), "0 0 1 0 0");
	assert_string_equal(counts("QQ70 1234 5678 9012 3456, QQ71 1234 5678 9012 3456"), "0 0 1 0 0");
	assert_string_equal(counts("DE89 37040044 0532 0130 00"), "0 0 0 0 0");
}

static void test_cards(void **state)
{
	(void)state;
	struct plat_pii_result r = scan("Visa 4242 4242 4242 4242 exp 12/27, MC 5555-5555-5555-4444, Amex 378282246310005,"
					" again 4242424242424242, with expiry 4000 0566 5566 5556 12/27 and CVC 4111 1111 1111 1111 123.",
					ALL);
	assert_int_equal(r.count[PLAT_PII_CAT_CARD], 5);
	assert_true(has_sample(&r, PLAT_PII_CAT_CARD, "**** **** **** 4242"));
	assert_true(has_sample(&r, PLAT_PII_CAT_CARD, "**** **** **** 4444"));
	assert_true(has_sample(&r, PLAT_PII_CAT_CARD, "**** **** 0005"));
	assert_not_leaked(&r, "4242 4242");
	assert_int_equal(r.count[PLAT_PII_CAT_PHONE], 0);
	plat_pii_result_free(&r);
	/* Luhn-invalid, an unknown issuer prefix (Luhn-valid), mixed separators, a longer number,
	 * too few digits. */
	assert_string_equal(counts("4242 4242 4242 4241; 1234 5678 9012 3452; 4242 4242-4242 4242;"
				   " 4242 4242 4242 4242 4242; 4242 4242 4242"),
			    "0 0 0 0 0");
}

static void test_national_ids(void **state)
{
	(void)state;
	struct plat_pii_result r = scan("SSN 123-45-6789; NINO AB 12 34 56 C and JG103759A; DNI 12345678Z, NIE X1234567L.", ALL);
	assert_int_equal(r.count[PLAT_PII_CAT_NATIONAL_ID], 5);
	assert_true(has_sample(&r, PLAT_PII_CAT_NATIONAL_ID, "***-**-6789"));
	assert_true(has_sample(&r, PLAT_PII_CAT_NATIONAL_ID, "** ** ** 56 C"));
	assert_not_leaked(&r, "123-45");
	plat_pii_result_free(&r);
	/* SSNs never issued: area 000, 666, 9xx; group 00; serial 0000. Not phones either. */
	assert_string_equal(counts("000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567, 123-45-0000"), "0 0 0 0 0");
	/* Two in a row, one valid. */
	assert_string_equal(counts("SSNs 123-45-6789 000-45-6789"), "0 0 0 0 1");
	/* NINO: a prefix never issued (GB, D.., .O), a bad suffix; DNI/NIE with the wrong letter. */
	assert_string_equal(counts("GB123456A DA123456A AO123456A AB123456E 12345678A X1234567A"), "0 0 0 0 0");
}

static void test_only_requested_categories(void **state)
{
	(void)state;
	const char *text = "john@example.com +49 30 1234567 DE89370400440532013000 4242424242424242 123-45-6789";
	struct plat_pii_result r = scan(text, PLAT_PII_IBAN | PLAT_PII_CARD);
	assert_int_equal(r.count[PLAT_PII_CAT_EMAIL], 0);
	assert_int_equal(r.count[PLAT_PII_CAT_PHONE], 0);
	assert_int_equal(r.count[PLAT_PII_CAT_IBAN], 1);
	assert_int_equal(r.count[PLAT_PII_CAT_CARD], 1);
	assert_int_equal(r.count[PLAT_PII_CAT_NATIONAL_ID], 0);
	plat_pii_result_free(&r);
	assert_string_equal(counts(text), "1 1 1 1 1");
}

static void test_accumulates_and_resets(void **state)
{
	(void)state;
	struct plat_pii_result r;
	plat_pii_result_init(&r);
	const char *page1 = "a@example.com b@example.com", *page2 = "nothing here", *page3 = "A@example.com c@example.com";
	assert_int_equal(plat_pii_scan(&r, page1, strlen(page1), ALL), 2);
	assert_int_equal(plat_pii_scan(&r, page2, strlen(page2), ALL), 0);
	assert_int_equal(plat_pii_scan(&r, page3, strlen(page3), ALL), 2); /* hits count repeats */
	assert_int_equal(r.count[PLAT_PII_CAT_EMAIL], 3);
	assert_int_equal(r.samples[PLAT_PII_CAT_EMAIL], 3);
	/* Many distinct values: the set grows, samples stop at PLAT_PII_SAMPLES. */
	char buf[64];
	for (int i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "user%d@example.com", i);
		plat_pii_scan(&r, buf, strlen(buf), ALL);
	}
	assert_int_equal(r.count[PLAT_PII_CAT_EMAIL], 1003);
	assert_int_equal(r.samples[PLAT_PII_CAT_EMAIL], PLAT_PII_SAMPLES);
	plat_pii_result_reset(&r);
	assert_int_equal(r.count[PLAT_PII_CAT_EMAIL], 0);
	assert_int_equal(plat_pii_scan(&r, page1, strlen(page1), ALL), 2);
	assert_int_equal(r.count[PLAT_PII_CAT_EMAIL], 2);
	plat_pii_result_free(&r);
}

static void test_edges(void **state)
{
	(void)state;
	/* Values at the very start and end of a text that is not NUL-terminated. */
	char buf[] = {'4', '2', '4', '2', '4', '2', '4', '2', '4', '2', '4', '2', '4', '2', '4', '2', 'X'};
	struct plat_pii_result r;
	plat_pii_result_init(&r);
	assert_int_equal(plat_pii_scan(&r, buf, 16, ALL), 1);
	assert_int_equal(plat_pii_scan(&r, "", 0, ALL), 0);
	assert_int_equal(plat_pii_scan(&r, "+", 1, ALL), 0);
	assert_int_equal(plat_pii_scan(&r, "DE89", 4, ALL), 0);
	assert_int_equal(plat_pii_scan(&r, "x@", 2, ALL), 0);
	assert_int_equal(plat_pii_scan(&r, "AB 12 34", 8, ALL), 0);
	plat_pii_result_free(&r);
	/* A no-break space before a value; a multi-byte letter glued to a number. */
	assert_string_equal(counts("mail:\xc2\xa0john@example.com \xe2\x82\xac" "0301234567 N\xc2\xba" "0301234567"),
			    "1 0 0 0 0");
	/* Long runs of digits and separators do not take forever nor match. */
	char big[20000];
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		big[i] = '1', big[i + 1] = ' ';
	big[sizeof(big) - 2] = '1';
	big[sizeof(big) - 1] = '\0';
	assert_string_equal(counts(big), "0 0 0 0 0");
	assert_string_equal(plat_pii_category_name(PLAT_PII_CAT_NATIONAL_ID), "national_id");
	assert_string_equal(plat_pii_category_noun(PLAT_PII_CAT_EMAIL, 2), "e-mail addresses");
	assert_string_equal(plat_pii_category_noun(PLAT_PII_CAT_IBAN, 1), "IBAN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_category_bits_match_the_rule_model),
		cmocka_unit_test(test_checksums),
		cmocka_unit_test(test_emails),
		cmocka_unit_test(test_phones),
		cmocka_unit_test(test_phone_false_positives),
		cmocka_unit_test(test_ibans),
		cmocka_unit_test(test_cards),
		cmocka_unit_test(test_national_ids),
		cmocka_unit_test(test_only_requested_categories),
		cmocka_unit_test(test_accumulates_and_resets),
		cmocka_unit_test(test_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
