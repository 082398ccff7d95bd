/* lib/http's pure half: path matching with {params}, 404/405 with Allow, the OpenAPI
 * description covering every route of the table, and problem details. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/authz.h"
#include "http/http.h"
#include "http/ws.h"

static int noop(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	(void)req, (void)resp, (void)err;
	return 0;
}

static const struct plat_http_route table[] = {
	{"GET", "/v1/documents", noop, "documents.list", 0, "list", NULL, NULL, 0},
	{"GET", "/v1/documents/{id}", noop, "documents.get", 0, "show", NULL, NULL, 0},
	{"DELETE", "/v1/documents/{id}", noop, "documents.delete", 0, "rm", NULL, NULL, 0},
	{"POST", "/v1/documents/{id}/retry", noop, "documents.retry", 0, "retry", NULL, NULL, 0},
	{NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, 0},
};

static void test_match(void **state)
{
	(void)state;
	const struct plat_http_route *r = NULL;
	struct plat_http_request req = {0};
	char allow[64];
	assert_int_equal(plat_http_match(table, "GET", "/v1/documents", &r, &req, allow, sizeof(allow)), 0);
	assert_ptr_equal(r, &table[0]);
	assert_int_equal(req.nparams, 0);
	assert_int_equal(plat_http_match(table, "DELETE", "/v1/documents/abc", &r, &req, allow, sizeof(allow)), 0);
	assert_ptr_equal(r, &table[2]);
	assert_int_equal(req.nparams, 1);
	assert_string_equal(req.params[0].name, "id");
	assert_string_equal(req.params[0].value, "abc");
	assert_int_equal(plat_http_match(table, "POST", "/v1/documents/x-1/retry", &r, &req, allow, sizeof(allow)), 0);
	assert_ptr_equal(r, &table[3]);
	assert_string_equal(req.params[0].value, "x-1");
	/* HEAD is GET without a body. */
	assert_int_equal(plat_http_match(table, "HEAD", "/v1/documents/abc", &r, &req, allow, sizeof(allow)), 0);
	assert_ptr_equal(r, &table[1]);
}

static void test_not_found_and_method(void **state)
{
	(void)state;
	const struct plat_http_route *r = NULL;
	struct plat_http_request req = {0};
	char allow[64];
	const char *missing[] = {"/", "/v1", "/v1/documents/", "/v1/documents//retry", "/v1/documents/a/b",
				 "/v1/documentsx", "/v1/documents/a/retry/", "//v1/documents"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(*missing); i++)
		assert_int_equal(plat_http_match(table, "GET", missing[i], &r, &req, allow, sizeof(allow)), 404);
	assert_int_equal(plat_http_match(table, "PUT", "/v1/documents/abc", &r, &req, allow, sizeof(allow)), 405);
	assert_string_equal(allow, "GET, HEAD, DELETE");
	assert_int_equal(plat_http_match(table, "GET", "/v1/documents/a/retry", &r, &req, allow, sizeof(allow)), 405);
	assert_string_equal(allow, "POST");
	/* A segment longer than any id is refused, not truncated into a match. */
	char longpath[600] = "/v1/documents/";
	memset(longpath + strlen(longpath), 'a', 400);
	assert_int_equal(plat_http_match(table, "GET", longpath, &r, &req, allow, sizeof(allow)), 404);
}

/* Every route of the server's own table is described, with its error responses, and
 * every schema text in the table is valid JSON; every protected route names an
 * operation the permission table knows. */
static void test_openapi_covers_routes(void **state)
{
	(void)state;
	const struct plat_http_route *routes = plat_http_routes();
	cJSON *doc = plat_http_openapi(routes, "1.2.3");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "openapi")->valuestring, "3.1.0");
	cJSON *paths = cJSON_GetObjectItemCaseSensitive(doc, "paths");
	int n = 0;
	for (const struct plat_http_route *r = routes; r->method; r++, n++) {
		cJSON *item = cJSON_GetObjectItemCaseSensitive(paths, r->pattern);
		assert_non_null(item);
		char lower[8] = {0};
		for (size_t i = 0; r->method[i]; i++)
			lower[i] = (char)(r->method[i] | 0x20);
		cJSON *op = cJSON_GetObjectItemCaseSensitive(item, lower);
		assert_non_null(op);
		cJSON *responses = cJSON_GetObjectItemCaseSensitive(op, "responses");
		assert_non_null(cJSON_GetObjectItemCaseSensitive(responses, "default"));
		if (r->request_schema) {
			cJSON *s = cJSON_Parse(r->request_schema);
			assert_non_null(s);
			cJSON_Delete(s);
		}
		if (r->response_schema) {
			cJSON *s = cJSON_Parse(r->response_schema);
			assert_non_null(s);
			cJSON_Delete(s);
		}
		if (!(r->flags & PLAT_HTTP_PUBLIC)) {
			assert_non_null(r->operation);
			assert_non_null(plat_authz_lookup(r->operation));
			assert_non_null(cJSON_GetObjectItemCaseSensitive(responses, "401"));
			assert_non_null(cJSON_GetObjectItemCaseSensitive(responses, "403"));
		}
		if (strchr(r->pattern, '{'))
			assert_non_null(cJSON_GetObjectItemCaseSensitive(op, "parameters"));
	}
	assert_true(n >= 10);
	cJSON *problem = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "components"), "schemas"),
		"Problem");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(problem, "required"));
	cJSON_Delete(doc);
}

static void test_problem(void **state)
{
	(void)state;
	struct plat_error err = {0};
	plat_error_set(&err, PLAT_E_NOT_FOUND, "document 'x' not found");
	cJSON *p = plat_http_problem(&err, 0, "/v1/documents/x", "rid-1");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "status")->valueint, 404);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(p, "type")->valuestring, "urn:platctl:error:not_found");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(p, "title")->valuestring, "Not Found");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(p, "detail")->valuestring, "document 'x' not found");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(p, "instance")->valuestring, "/v1/documents/x");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(p, "request_id")->valuestring, "rid-1");
	cJSON_Delete(p);
	/* An internal error's message stays in the log. */
	plat_error_set(&err, PLAT_E_INTERNAL, "pointer 0x1234 was null");
	p = plat_http_problem(&err, 0, NULL, NULL);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "status")->valueint, 500);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(p, "detail")->valuestring, "internal error");
	cJSON_Delete(p);
	/* An explicit status wins over the kind's, and the parameter is named. */
	plat_error_set(&err, PLAT_E_USAGE, "limit must be an integer");
	plat_error_param(&err, "limit");
	p = plat_http_problem(&err, 400, NULL, NULL);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "status")->valueint, 400);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(p, "param")->valuestring, "limit");
	cJSON_Delete(p);
}

static void test_listen(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	unsigned len;
	struct plat_error err = {0};
	assert_int_equal(plat_http_parse_listen("127.0.0.1:8080", &ss, &len, &err), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(plat_http_parse_listen("[::1]:0", &ss, &len, &err), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	const char *bad[] = {"8080", ":8080", "localhost:80", "1.2.3.4:", "1.2.3.4:70000", "[::1:80", "1.2.3.4:8x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(plat_http_parse_listen(bad[i], &ss, &len, &err), -PLAT_E_USAGE);
		assert_string_equal(err.param, "listen");
	}
}

/* RFC 6455's own example, and keys that are not 16 bytes of base64. */
static void test_ws_accept(void **state)
{
	(void)state;
	char out[PLAT_WS_ACCEPT_LEN + 1];
	assert_int_equal(plat_http_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(plat_http_ws_accept(NULL, out), -1);
	assert_int_equal(plat_http_ws_accept("", out), -1);
	assert_int_equal(plat_http_ws_accept("dGhlIHNhbXBsZSBub25jZQ=", out), -1);
	assert_int_equal(plat_http_ws_accept("dGhlIHNhbXBsZSBub25jZQ===", out), -1);
	assert_int_equal(plat_http_ws_accept("dGhlIHNhbXBsZSBub25jZQAA", out), -1);
	assert_int_equal(plat_http_ws_accept("dGhlIHNhbXBsZSBub25j!Q==", out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_not_found_and_method),
		cmocka_unit_test(test_openapi_covers_routes),
		cmocka_unit_test(test_problem),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_ws_accept),
	};
	return cmocka_run_group_tests_name("http_routes", tests, NULL, NULL);
}
