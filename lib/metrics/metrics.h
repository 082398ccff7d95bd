/* In-process metrics: counters, gauges and latency histograms, rendered in the Prometheus
 * text exposition format (version 0.0.4) or as JSON. consume writes them to a file for
 * node_exporter's textfile collector; serve will expose the same registry on /metrics.
 * Thread-safe: workers record concurrently. */
#ifndef PLAT_METRICS_H
#define PLAT_METRICS_H

#include <cjson/cJSON.h>

#include "error/error.h"
#include "mem/mem.h"

enum plat_metric_type { PLAT_METRIC_COUNTER, PLAT_METRIC_GAUGE, PLAT_METRIC_HISTOGRAM };

struct plat_metrics;

struct plat_metrics *plat_metrics_new(void);
void plat_metrics_free(struct plat_metrics *m);

/* Declare a family once, before recording: name, type and help text. */
void plat_metrics_describe(struct plat_metrics *m, const char *name, enum plat_metric_type type, const char *help);

/* labels: NULL, or a Prometheus label set without braces, e.g. stage="extract". Values of
 * a family with several label sets are kept apart. A counter only goes up: a negative (or
 * NaN) delta on a counter is refused and leaves it unchanged, as is a family never
 * described; both return -PLAT_E_INTERNAL (a programming error), otherwise 0. */
int plat_metrics_add(struct plat_metrics *m, const char *name, const char *labels, double delta);
void plat_metrics_set(struct plat_metrics *m, const char *name, const char *labels, double value);
/* Histograms have latency buckets from 5 ms to 10 min (seconds). */
void plat_metrics_observe(struct plat_metrics *m, const char *name, const char *labels, double seconds);

void plat_metrics_render(struct plat_metrics *m, struct plat_buf *out);
cJSON *plat_metrics_json(struct plat_metrics *m);
/* Replace PATH atomically (temp file + rename), so a collector never reads half a file. */
int plat_metrics_write_file(struct plat_metrics *m, const char *path, struct plat_error *err);

#endif
