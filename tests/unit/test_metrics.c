/* lib/metrics: the Prometheus text format (cumulative buckets, +Inf, _sum, _count, labels)
 * and the atomic file write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/metrics.h"

static void test_render(void **state)
{
	(void)state;
	struct plat_metrics *m = plat_metrics_new();
	plat_metrics_describe(m, "jobs_total", PLAT_METRIC_COUNTER, "Jobs done.");
	plat_metrics_describe(m, "queue_depth", PLAT_METRIC_GAUGE, "Jobs waiting.");
	plat_metrics_describe(m, "stage_seconds", PLAT_METRIC_HISTOGRAM, "Time per stage.");
	plat_metrics_add(m, "jobs_total", "outcome=\"ok\"", 2);
	plat_metrics_add(m, "jobs_total", "outcome=\"ok\"", 1);
	plat_metrics_add(m, "jobs_total", "outcome=\"failed\"", 1);
	plat_metrics_set(m, "queue_depth", NULL, 7);
	plat_metrics_set(m, "queue_depth", NULL, 4);
	plat_metrics_observe(m, "stage_seconds", "stage=\"extract\"", 0.003);
	plat_metrics_observe(m, "stage_seconds", "stage=\"extract\"", 0.2);
	plat_metrics_observe(m, "stage_seconds", "stage=\"extract\"", 1000);
	plat_metrics_add(m, "undeclared", NULL, 1); /* ignored, not a crash */
	struct plat_buf b = PLAT_BUF_INIT;
	plat_metrics_render(m, &b);
	const char *t = b.data;
	assert_non_null(strstr(t, "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\n"));
	assert_non_null(strstr(t, "jobs_total{outcome=\"ok\"} 3\n"));
	assert_non_null(strstr(t, "jobs_total{outcome=\"failed\"} 1\n"));
	assert_non_null(strstr(t, "# TYPE queue_depth gauge\nqueue_depth 4\n"));
	assert_non_null(strstr(t, "# TYPE stage_seconds histogram\n"));
	/* cumulative: 0.003 is in every bucket, 0.2 from 0.25 on, 1000 only in +Inf */
	assert_non_null(strstr(t, "stage_seconds_bucket{stage=\"extract\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(t, "stage_seconds_bucket{stage=\"extract\",le=\"0.1\"} 1\n"));
	assert_non_null(strstr(t, "stage_seconds_bucket{stage=\"extract\",le=\"0.25\"} 2\n"));
	assert_non_null(strstr(t, "stage_seconds_bucket{stage=\"extract\",le=\"600\"} 2\n"));
	assert_non_null(strstr(t, "stage_seconds_bucket{stage=\"extract\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(t, "stage_seconds_count{stage=\"extract\"} 3\n"));
	assert_non_null(strstr(t, "stage_seconds_sum{stage=\"extract\"} 1000.203"));
	assert_null(strstr(t, "undeclared"));
	plat_buf_free(&b);

	cJSON *j = plat_metrics_json(m);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "jobs_total")), 2);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "stage_seconds"), 0), "count")->valueint, 3);
	cJSON_Delete(j);
	plat_metrics_free(m);
}

/* Counters never go down: a negative delta is refused and the value stays; gauges may. */
static void test_counter_never_decreases(void **state)
{
	(void)state;
	struct plat_metrics *m = plat_metrics_new();
	plat_metrics_describe(m, "attempts_total", PLAT_METRIC_COUNTER, "Attempts.");
	plat_metrics_describe(m, "in_flight", PLAT_METRIC_GAUGE, "Now.");
	plat_metrics_add(m, "attempts_total", NULL, 2);
	plat_metrics_add(m, "attempts_total", NULL, -1); /* refused */
	plat_metrics_add(m, "attempts_total", NULL, NAN); /* refused */
	plat_metrics_add(m, "attempts_total", NULL, 0);
	plat_metrics_add(m, "in_flight", NULL, 3);
	plat_metrics_add(m, "in_flight", NULL, -1); /* a gauge may go down */
	struct plat_buf b = PLAT_BUF_INIT;
	plat_metrics_render(m, &b);
	assert_non_null(strstr(b.data, "\nattempts_total 2\n"));
	assert_non_null(strstr(b.data, "\nin_flight 2\n"));
	plat_buf_free(&b);
	plat_metrics_free(m);
}

static void test_write_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/platctl-metrics-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/m.prom", dir);
	struct plat_metrics *m = plat_metrics_new();
	plat_metrics_describe(m, "x_total", PLAT_METRIC_COUNTER, "X.");
	plat_metrics_add(m, "x_total", NULL, 5);
	struct plat_error err = {0};
	assert_int_equal(plat_metrics_write_file(m, path, &err), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[256] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "x_total 5\n"));
	/* an unwritable place: an error naming the path, and no temp file left */
	char bad[160];
	snprintf(bad, sizeof(bad), "%s/missing/m.prom", dir);
	assert_int_equal(plat_metrics_write_file(m, bad, &err), -PLAT_E_PERMISSION);
	assert_non_null(strstr(err.message, bad));
	plat_metrics_free(m);
	unlink(path);
	assert_int_equal(rmdir(dir), 0); /* empty: the temp file was renamed away */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_counter_never_decreases),
		cmocka_unit_test(test_write_file),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
