/* Option parsing, help generation and completion from the option tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "platctl.h"

struct opts {
	bool force;
	int verbose;
	const char *name;
	long long jobs;
	const char *format;
	struct plat_strlist tags;
	struct plat_rulelist rules;
};

static const char *const formats[] = {"table", "json", NULL};

static const struct plat_opt test_opts[] = {
	{'f', "force", PLAT_OPT_BOOL, NULL, "force", NULL, 0, 0, 0, offsetof(struct opts, force)},
	{'v', "verbose", PLAT_OPT_COUNT, NULL, "more", NULL, 0, 0, 0, offsetof(struct opts, verbose)},
	{'n', "name", PLAT_OPT_STRING, "NAME", "a name", NULL, 0, 0, 0, offsetof(struct opts, name)},
	{'j', "jobs", PLAT_OPT_INT, "N", "parallel jobs", NULL, 1, 64, 0, offsetof(struct opts, jobs)},
	{'o', "output", PLAT_OPT_CHOICE, "FORMAT", "format", formats, 0, 0, PLAT_COMPLETE_CHOICES, offsetof(struct opts, format)},
	{0, "tag", PLAT_OPT_LIST, "K=V", "a tag", NULL, 0, 0, 0, offsetof(struct opts, tags)},
	{0, "include", PLAT_OPT_RULE, "GLOB", "take", NULL, 0, 0, 0, offsetof(struct opts, rules)},
	{0, "exclude", PLAT_OPT_RULE, "GLOB", "leave", NULL, 0, 0, 0, offsetof(struct opts, rules)},
	PLAT_OPT_END,
};

static int parse(struct opts *o, int argc, char **argv, struct plat_error *err)
{
	memset(o, 0, sizeof(*o));
	struct plat_parse_table t = {test_opts, o};
	return plat_cli_parse(argc, argv, &t, 1, false, NULL, err);
}

static void test_parse_forms(void **state)
{
	(void)state;
	struct opts o;
	struct plat_error err = {0};
	char *argv[] = {"a", "-fvv", "--name=x y", "-j4", "b", "-o", "json", "--tag", "k=v", "--tag=k2=v2",
			"-", "--", "--force", NULL};
	int n = parse(&o, 13, argv, &err);
	assert_int_equal(n, 4);
	assert_string_equal(argv[0], "a");
	assert_string_equal(argv[1], "b");
	assert_string_equal(argv[2], "-");
	assert_string_equal(argv[3], "--force");
	assert_true(o.force);
	assert_int_equal(o.verbose, 2);
	assert_string_equal(o.name, "x y");
	assert_int_equal(o.jobs, 4);
	assert_string_equal(o.format, "json");
	assert_int_equal(o.tags.n, 2);
	assert_string_equal(o.tags.items[1], "k2=v2");
	free(o.tags.items);
}

/* Two options filling one rule list keep their relative order, which a list each would lose. */
static void test_rules_keep_command_line_order(void **state)
{
	(void)state;
	struct opts o;
	struct plat_error err = {0};
	char *argv[] = {"--exclude", "*", "d", "--include=*.html", "--exclude", "_static/*", NULL};
	assert_int_equal(parse(&o, 6, argv, &err), 1);
	assert_int_equal(o.rules.n, 3);
	const char *want[][2] = {{"exclude", "*"}, {"include", "*.html"}, {"exclude", "_static/*"}};
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(o.rules.items[i].opt->long_name, want[i][0]);
		assert_string_equal(o.rules.items[i].value, want[i][1]);
	}
	free(o.rules.items);
	struct plat_buf help = PLAT_BUF_INIT;
	struct plat_cmd cmd = {"x", NULL, "x", 0, .opts = test_opts};
	plat_cli_help(&help, "platctl x", &cmd, NULL);
	assert_non_null(strstr(help.data, "--include GLOB"));
	assert_non_null(strstr(help.data, "take (repeatable)"));
	plat_buf_free(&help);
}

static void expect_usage(char **argv, int argc, const char *needle)
{
	struct opts o;
	struct plat_error err = {0};
	assert_int_equal(parse(&o, argc, argv, &err), -PLAT_E_USAGE);
	if (!strstr(err.message, needle))
		fail_msg("message '%s' lacks '%s'", err.message, needle);
	free(o.tags.items);
}

static void test_parse_errors_name_the_option(void **state)
{
	(void)state;
	expect_usage((char *[]){"--nmae", "x"}, 2, "unknown option '--nmae' (did you mean '--name'?)");
	expect_usage((char *[]){"-x"}, 1, "unknown option '-x'");
	expect_usage((char *[]){"--name"}, 1, "option '--name' needs a value");
	expect_usage((char *[]){"-n"}, 1, "option '-n' needs a value");
	expect_usage((char *[]){"--force=yes"}, 1, "option '--force' takes no value");
	expect_usage((char *[]){"-j", "0"}, 2, "option '-j': '0' is not an integer from 1 to 64");
	expect_usage((char *[]){"--jobs=4x"}, 1, "option '--jobs'");
	expect_usage((char *[]){"-o", "xml"}, 2, "option '-o': invalid value 'xml' (expected one of: table, json)");
	expect_usage((char *[]){"--output=\x1b[2J"}, 1, "\\x1b[2J");
}

static void test_stop_at_positional(void **state)
{
	(void)state;
	struct opts o = {0};
	struct plat_parse_table t = {test_opts, &o};
	char *argv[] = {"-v", "cmd", "--force"};
	int consumed = 0;
	assert_int_equal(plat_cli_parse(3, argv, &t, 1, true, &consumed, NULL), 0);
	assert_int_equal(consumed, 1);
	assert_false(o.force);
}

static char *complete(int n, char **words)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_cli_complete(&b, platctl_commands, platctl_global_opts, n, words);
	plat_buf_reserve(&b, 0);
	return plat_buf_detach(&b);
}

static void test_completion(void **state)
{
	(void)state;
	char *s = complete(1, (char *[]){"con"});
	assert_string_equal(s, "config\nconsume\n"); /* prefix matches, in table order */
	free(s);
	s = complete(1, (char *[]){""});
	assert_non_null(strstr(s, "version\n"));
	assert_null(strstr(s, "__complete")); /* hidden */
	free(s);
	s = complete(2, (char *[]){"config", ""});
	assert_string_equal(s, "show\nvalidate\nexample\n");
	free(s);
	s = complete(3, (char *[]){"config", "show", "--ou"});
	assert_string_equal(s, "--output\n");
	free(s);
	s = complete(3, (char *[]){"-o", "yaml", ""}); /* an option's value is skipped */
	assert_true(strncmp(s, "config\n", 7) == 0);
	assert_non_null(strstr(s, "\nversion\n"));
	free(s);
	s = complete(2, (char *[]){"nosuch", ""}); /* after an unknown command: nothing */
	assert_string_equal(s, "");
	free(s);
	s = complete(2, (char *[]){"-o", "j"});
	assert_string_equal(s, "json\n");
	free(s);
	s = complete(3, (char *[]){"config", "show", "database."});
	assert_string_equal(s, "database.url\ndatabase.connect_timeout\ndatabase.outage_limit\ndatabase.row_security\n"
			       "database.prepare\n");
	free(s);
	s = complete(3, (char *[]){"--config", "x", "ver"});
	assert_string_equal(s, "version\n");
	free(s);
	s = complete(2, (char *[]){"--config", ""});
	assert_string_equal(s, ":file\n");
	free(s);
	s = complete(2, (char *[]){"help", "conf"});
	assert_string_equal(s, "config\n");
	free(s);
}

static void test_help_lists_every_option(void **state)
{
	(void)state;
	struct plat_cmd cmd = {"demo", NULL, "do a demo", 0, .args_usage = "FILE...", .opts = test_opts};
	struct plat_buf b = PLAT_BUF_INIT;
	plat_cli_help(&b, "platctl demo", &cmd, platctl_global_opts);
	assert_non_null(strstr(b.data, "usage: platctl demo [options] FILE...\n"));
	for (const struct plat_opt *o = test_opts; o->long_name; o++) {
		char flag[64];
		snprintf(flag, sizeof(flag), "--%s", o->long_name);
		assert_non_null(strstr(b.data, flag));
	}
	for (const struct plat_opt *o = platctl_global_opts; o->long_name; o++)
		assert_non_null(strstr(b.data, o->long_name));
	assert_non_null(strstr(b.data, "(table, json)"));
	assert_non_null(strstr(b.data, "(repeatable)"));
	plat_buf_free(&b);
}

static void test_suggestions(void **state)
{
	(void)state;
	struct plat_buf b = PLAT_BUF_INIT;
	assert_int_equal(plat_cli_suggest(platctl_commands, "conifg", &b), 1);
	assert_string_equal(b.data, "'config'");
	plat_buf_reset(&b);
	assert_int_equal(plat_cli_suggest(platctl_commands, "vers", &b), 1);
	assert_string_equal(b.data, "'version'");
	plat_buf_reset(&b);
	assert_int_equal(plat_cli_suggest(platctl_commands, "zzzzzzzz", &b), 0);
	assert_int_equal(plat_cli_suggest(platctl_commands, "__complet", &b), 0); /* hidden */
	plat_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_errors_name_the_option),
		cmocka_unit_test(test_rules_keep_command_line_order),
		cmocka_unit_test(test_stop_at_positional),
		cmocka_unit_test(test_completion),
		cmocka_unit_test(test_help_lists_every_option),
		cmocka_unit_test(test_suggestions),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
