/* SigV4 against the examples AWS documents for S3 (examplebucket, 20130524). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sigv4/sigv4.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* "Example: GET Object" (Range header). */
static void test_get_object_example(void **state)
{
	(void)state;
	struct plat_sigv4_header h[] = {
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"Range", "bytes=0-9"},
		{"x-amz-content-sha256", EMPTY_SHA},
		{"x-amz-date", "20130524T000000Z"},
	};
	struct plat_sigv4_request r = {"GET", "/test.txt", "", h, 4, EMPTY_SHA, "20130524T000000Z", "us-east-1", "s3", AK, SK};
	char sig[65];
	struct plat_buf sh = PLAT_BUF_INIT;
	plat_sigv4_sign(&r, sig, &sh);
	assert_string_equal(sh.data, "host;range;x-amz-content-sha256;x-amz-date");
	assert_string_equal(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	plat_buf_free(&sh);
}

/* "Example: PUT Object" (payload "Welcome to Amazon S3."). */
static void test_put_object_example(void **state)
{
	(void)state;
	char payload[65];
	plat_sigv4_sha256_hex("Welcome to Amazon S3.", 21, payload);
	assert_string_equal(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	struct plat_buf uri = PLAT_BUF_INIT;
	plat_sigv4_uri_encode(&uri, "/test$file.text", 15, 1);
	assert_string_equal(uri.data, "/test%24file.text");
	struct plat_sigv4_header h[] = {
		{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"x-amz-content-sha256", payload},
		{"x-amz-date", "20130524T000000Z"},
		{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
	};
	struct plat_sigv4_request r = {"PUT", uri.data, "", h, 5, payload, "20130524T000000Z", "us-east-1", "s3", AK, SK};
	char sig[65];
	struct plat_buf sh = PLAT_BUF_INIT;
	plat_sigv4_sign(&r, sig, &sh);
	assert_string_equal(sig, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	plat_buf_free(&sh);
	plat_buf_free(&uri);
}

/* "Example: GET Bucket Lifecycle" (?lifecycle) and "List Objects" (?max-keys=2&prefix=J). */
static void test_query_examples(void **state)
{
	(void)state;
	struct plat_sigv4_param lc[] = {{"lifecycle", ""}};
	struct plat_buf q = PLAT_BUF_INIT;
	plat_sigv4_canonical_query(&q, lc, 1);
	assert_string_equal(q.data, "lifecycle=");
	struct plat_sigv4_header h[] = {
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"x-amz-content-sha256", EMPTY_SHA},
		{"x-amz-date", "20130524T000000Z"},
	};
	struct plat_sigv4_request r = {"GET", "/", q.data, h, 3, EMPTY_SHA, "20130524T000000Z", "us-east-1", "s3", AK, SK};
	char sig[65];
	struct plat_buf sh = PLAT_BUF_INIT;
	plat_sigv4_sign(&r, sig, &sh);
	assert_string_equal(sig, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
	plat_buf_reset(&q);
	plat_buf_reset(&sh);
	struct plat_sigv4_param list[] = {{"prefix", "J"}, {"max-keys", "2"}}; /* unsorted on purpose */
	plat_sigv4_canonical_query(&q, list, 2);
	assert_string_equal(q.data, "max-keys=2&prefix=J");
	r.canonical_query = q.data;
	plat_sigv4_sign(&r, sig, &sh);
	assert_string_equal(sig, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	plat_buf_free(&q);
	plat_buf_free(&sh);
}

/* "Example: Presigned URL" (GET test.txt, expires 86400). */
static void test_presigned_example(void **state)
{
	(void)state;
	time_t t = 1369353600; /* 2013-05-24T00:00:00Z */
	char *url = plat_sigv4_presign("GET", "https://examplebucket.s3.amazonaws.com", "examplebucket.s3.amazonaws.com",
				       "/test.txt", "us-east-1", "s3", AK, SK, NULL, t, 86400);
	assert_string_equal(url, "https://examplebucket.s3.amazonaws.com/test.txt"
				 "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
				 "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
				 "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
				 "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	free(url);
}

static void test_uri_encoding(void **state)
{
	(void)state;
	struct plat_buf b = PLAT_BUF_INIT;
	const char key[] = "a b/c+d=e~f_g.h-i/\xc3\xa9*";
	plat_sigv4_uri_encode(&b, key, sizeof(key) - 1, 1);
	assert_string_equal(b.data, "a%20b/c%2Bd%3De~f_g.h-i/%C3%A9%2A");
	plat_buf_reset(&b);
	plat_sigv4_uri_encode(&b, "a/b", 3, 0);
	assert_string_equal(b.data, "a%2Fb");
	plat_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_object_example),
		cmocka_unit_test(test_put_object_example),
		cmocka_unit_test(test_query_examples),
		cmocka_unit_test(test_presigned_example),
		cmocka_unit_test(test_uri_encoding),
	};
	return cmocka_run_group_tests_name("sigv4", tests, NULL, NULL);
}
