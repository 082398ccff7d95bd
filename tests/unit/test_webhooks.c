/* Webhook subscriptions' pure parts: the event list, the URL check and the retry schedule.
 * The deliveries themselves run against PostgreSQL and a receiver in tests/cli/webhooks.bats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "webhooks/webhooks.h"

static char *events(const char *list, struct plat_error *err)
{
	cJSON *a = NULL;
	memset(err, 0, sizeof(*err));
	if (plat_webhooks_parse_events(list, &a, err) < 0)
		return NULL;
	char *s = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return s;
}

static void assert_events(const char *list, const char *want)
{
	struct plat_error err;
	char *got = events(list, &err);
	if (!got)
		fail_msg("'%s': %s", list, err.message);
	assert_string_equal(got, want);
	cJSON_free(got);
}

static void assert_events_refused(const char *list, const char *message_part)
{
	struct plat_error err;
	char *got = events(list, &err);
	if (got)
		fail_msg("'%s' was accepted as %s", list ? list : "(null)", got);
	assert_int_equal(err.kind, PLAT_E_USAGE);
	if (!strstr(err.message, message_part))
		fail_msg("'%s': '%s' lacks '%s'", list ? list : "(null)", err.message, message_part);
}

static void test_event_lists(void **state)
{
	(void)state;
	assert_events("document.processed", "[\"document.processed\"]");
	/* Spaces around names go; repeats count once; the order given is kept. */
	assert_events(" document.failed , finding.opened,document.failed", "[\"document.failed\",\"finding.opened\"]");
	/* "*" anywhere means everything, alone. */
	assert_events("document.failed,*", "[\"*\"]");
	for (const char *const *e = plat_webhook_events; *e; e++) {
		char want[80];
		snprintf(want, sizeof(want), "[\"%s\"]", *e);
		assert_events(*e, want);
	}
	assert_events_refused("document.procesed", "unknown event 'document.procesed'");
	assert_events_refused("Document.Processed", "unknown event");
	assert_events_refused("document.failed,", "empty event name");
	assert_events_refused("document.failed,,finding.opened", "empty event name");
	assert_events_refused("", "no events given");
	assert_events_refused(NULL, "no events given");
	char longname[200];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_events_refused(longname, "unknown event");
}

static void test_urls(void **state)
{
	(void)state;
	assert_null(plat_webhooks_url_problem("https://hooks.example.com/in"));
	assert_null(plat_webhooks_url_problem("http://127.0.0.1:8080/hook?x=1"));
	assert_null(plat_webhooks_url_problem("https://user:pw@[::1]:9/"));
	assert_non_null(plat_webhooks_url_problem(NULL));
	assert_non_null(plat_webhooks_url_problem(""));
	assert_non_null(plat_webhooks_url_problem("hooks.example.com/in"));
	assert_non_null(plat_webhooks_url_problem("ftp://example.com/"));
	assert_non_null(plat_webhooks_url_problem("file:///etc/passwd"));
	assert_non_null(plat_webhooks_url_problem("http://"));
	assert_non_null(plat_webhooks_url_problem("https://example.com/a b"));
	assert_non_null(plat_webhooks_url_problem("https://example.com/\r\nX-Injected: 1"));
	assert_non_null(plat_webhooks_url_problem("https://example.com/#frag"));
	char big[2100] = "https://example.com/";
	memset(big + strlen(big), 'a', sizeof(big) - strlen(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_non_null(plat_webhooks_url_problem(big));
}

static void test_backoff(void **state)
{
	(void)state;
	/* Doubling from the base, no jitter at 0. */
	assert_int_equal(plat_webhooks_backoff_ms(30000, 1, 0, 0), 30000);
	assert_int_equal(plat_webhooks_backoff_ms(30000, 2, 0, 0), 60000);
	assert_int_equal(plat_webhooks_backoff_ms(30000, 7, 0, 0), 1920000);
	/* Capped at an hour, however many tries (no overflow either). */
	assert_int_equal(plat_webhooks_backoff_ms(30000, 8, 0, 0), 3600000);
	assert_int_equal(plat_webhooks_backoff_ms(30000, 1000, 0, 0), 3600000);
	/* Jitter takes off up to a fifth, never adds. */
	long long j = plat_webhooks_backoff_ms(10000, 1, 0, 0.999);
	assert_true(j > 8000 && j <= 8010);
	assert_int_equal(plat_webhooks_backoff_ms(10000, 1, 0, 0.5), 9000);
	assert_int_equal(plat_webhooks_backoff_ms(10000, 1, 0, 7), plat_webhooks_backoff_ms(10000, 1, 0, 0.999));
	assert_int_equal(plat_webhooks_backoff_ms(10000, 1, 0, -1), 10000);
	/* The receiver's Retry-After wins when longer, up to an hour. */
	assert_int_equal(plat_webhooks_backoff_ms(200, 1, 5000, 0), 5000);
	assert_int_equal(plat_webhooks_backoff_ms(200, 1, 100, 0), 200);
	assert_int_equal(plat_webhooks_backoff_ms(200, 1, 86400000, 0), 3600000);
	/* The sum of the default schedule's seven waits: about an hour. */
	long long sum = 0;
	for (int a = 1; a < 8; a++)
		sum += plat_webhooks_backoff_ms(30000, a, 0, 0);
	assert_true(sum > 3500000 && sum < 4000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_lists),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
