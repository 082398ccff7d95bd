/* Output rendering: JSON, YAML (types survive a round trip), tables, markdown, csv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "output/output.h"

static cJSON *sample(void)
{
	cJSON *a = cJSON_CreateArray();
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", "report.pdf");
	cJSON_AddStringToObject(r, "flag", "true");
	cJSON_AddStringToObject(r, "num", "0123");
	cJSON_AddNumberToObject(r, "size", 1048576);
	cJSON_AddBoolToObject(r, "held", 1);
	cJSON_AddNullToObject(r, "class");
	cJSON_AddItemToArray(a, r);
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", "caf\xc3\xa9\n\x1b[2J.txt");
	cJSON_AddStringToObject(r, "flag", "");
	cJSON_AddStringToObject(r, "num", "- x: y");
	cJSON_AddNumberToObject(r, "size", 1.5);
	cJSON_AddBoolToObject(r, "held", 0);
	cJSON *tags = cJSON_AddArrayToObject(r, "class");
	cJSON_AddItemToArray(tags, cJSON_CreateString("a"));
	cJSON_AddItemToArray(tags, cJSON_CreateString("b"));
	cJSON_AddItemToArray(a, r);
	return a;
}

static void test_json_round_trip(void **state)
{
	(void)state;
	cJSON *a = sample();
	char *s = plat_output_render(PLAT_OUT_JSON, a, NULL);
	cJSON *b = cJSON_Parse(s);
	assert_true(cJSON_Compare(a, b, 1));
	cJSON_Delete(b);
	cJSON_Delete(a);
	free(s);
}

/* Parse YAML back with libyaml and check every scalar's style keeps strings strings. */
static void test_yaml_keeps_strings_strings(void **state)
{
	(void)state;
	cJSON *a = sample();
	char *s = plat_output_render(PLAT_OUT_YAML, a, NULL);
	assert_non_null(strstr(s, "flag: \"true\""));
	assert_non_null(strstr(s, "num: \"0123\""));
	assert_non_null(strstr(s, "flag: \"\""));
	assert_non_null(strstr(s, "held: true"));
	assert_non_null(strstr(s, "size: 1048576"));
	assert_non_null(strstr(s, "class: null"));
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)s, strlen(s));
	assert_true(yaml_parser_load(&p, &doc));
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	assert_int_equal(root->type, YAML_SEQUENCE_NODE);
	yaml_node_t *second = yaml_document_get_node(&doc, root->data.sequence.items.start[1]);
	yaml_node_pair_t *pair = second->data.mapping.pairs.start;
	yaml_node_t *name = yaml_document_get_node(&doc, pair->value);
	assert_string_equal((char *)name->data.scalar.value, "caf\xc3\xa9\n\x1b[2J.txt");
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	cJSON_Delete(a);
	free(s);
}

static void test_table(void **state)
{
	(void)state;
	cJSON *a = sample();
	static const struct plat_output_column cols[] = {{"name", "name"}, {"size", "bytes"}, {"class", NULL}, {NULL, NULL}};
	char *s = plat_output_render(PLAT_OUT_TABLE, a, cols);
	/* Widths count code points: "café" is 4 columns wide, not 5. */
	assert_string_equal(s, "NAME               BYTES    CLASS\n"
			       "report.pdf         1048576  -\n"
			       "caf\xc3\xa9\\n\\x1b[2J.txt  1.5      a,b\n");
	free(s);
	/* Without columns: every key of the first row. */
	s = plat_output_render(PLAT_OUT_TABLE, a, NULL);
	assert_non_null(strstr(s, "NAME"));
	assert_non_null(strstr(s, "HELD"));
	free(s);
	/* An object prints as key/value rows. */
	s = plat_output_render(PLAT_OUT_TABLE, a->child, NULL);
	assert_non_null(strstr(s, "name   report.pdf\n"));
	free(s);
	cJSON *empty = cJSON_CreateArray();
	s = plat_output_render(PLAT_OUT_TABLE, empty, cols);
	assert_string_equal(s, "NAME  BYTES  CLASS\n");
	free(s);
	cJSON_Delete(empty);
	cJSON_Delete(a);
	assert_int_equal(plat_output_format_parse("yaml"), PLAT_OUT_YAML);
	assert_int_equal(plat_output_format_parse("xml"), -1);
}

static void test_csv_and_markdown(void **state)
{
	(void)state;
	cJSON *a = sample();
	cJSON *r = cJSON_GetArrayItem(a, 1);
	cJSON_ReplaceItemInObjectCaseSensitive(r, "flag", cJSON_CreateString("say \"hi\", twice"));
	static const struct plat_output_column cols[] = {{"name", "name"}, {"flag", NULL}, {"size", "bytes"},
							 {"class", NULL}, {NULL, NULL}};
	/* RFC 4180: CRLF, keys as the header, quoted when a field holds , " CR or LF, quotes
	 * doubled; null empty; a nested value as JSON. */
	char *s = plat_output_render(PLAT_OUT_CSV, a, cols);
	assert_string_equal(s, "name,flag,size,class\r\n"
			       "report.pdf,true,1048576,\r\n"
			       "\"caf\xc3\xa9\n\x1b[2J.txt\",\"say \"\"hi\"\", twice\",1.5,\"[\"\"a\"\",\"\"b\"\"]\"\r\n");
	free(s);
	s = plat_output_render(PLAT_OUT_CSV, a->child, NULL);
	assert_non_null(strstr(s, "key,value\r\nname,report.pdf\r\n"));
	free(s);
	/* Markdown: a pipe table, | escaped, control characters made visible. */
	cJSON_ReplaceItemInObjectCaseSensitive(r, "flag", cJSON_CreateString("a|b"));
	s = plat_output_render(PLAT_OUT_MARKDOWN, a, cols);
	assert_string_equal(s, "| name | flag | bytes | class |\n"
			       "| --- | --- | --- | --- |\n"
			       "| report.pdf | true | 1048576 | - |\n"
			       "| caf\xc3\xa9\\\\n\\\\x1b[2J.txt | a\\|b | 1.5 | a,b |\n");
	free(s);
	assert_int_equal(plat_output_format_parse("csv"), PLAT_OUT_CSV);
	assert_int_equal(plat_output_format_parse("markdown"), PLAT_OUT_MARKDOWN);
	cJSON_Delete(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_yaml_keeps_strings_strings),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_csv_and_markdown),
	};
	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
