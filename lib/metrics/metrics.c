#include "metrics/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/io.h"

/* Latency buckets in seconds: fine where documents usually land, coarse for huge ones. */
static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct series {
	char *labels; /* "" when none */
	double value; /* counter, gauge */
	unsigned long long bucket[N_BUCKETS];
	unsigned long long count;
	double sum;
};

struct family {
	char *name, *help;
	enum plat_metric_type type;
	struct series *series;
	size_t n, cap;
};

struct plat_metrics {
	pthread_mutex_t lock;
	struct family *fam;
	size_t n, cap;
};

struct plat_metrics *plat_metrics_new(void)
{
	struct plat_metrics *m = plat_xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void plat_metrics_free(struct plat_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		for (size_t j = 0; j < m->fam[i].n; j++)
			free(m->fam[i].series[j].labels);
		free(m->fam[i].series);
		free(m->fam[i].name);
		free(m->fam[i].help);
	}
	free(m->fam);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct family *find(struct plat_metrics *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->fam[i].name, name) == 0)
			return &m->fam[i];
	return NULL;
}

void plat_metrics_describe(struct plat_metrics *m, const char *name, enum plat_metric_type type, const char *help)
{
	pthread_mutex_lock(&m->lock);
	if (!find(m, name)) {
		if (m->n == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 16;
			m->fam = plat_xrealloc(m->fam, m->cap * sizeof(*m->fam));
		}
		m->fam[m->n++] = (struct family){.name = plat_xstrdup(name), .help = plat_xstrdup(help), .type = type};
	}
	pthread_mutex_unlock(&m->lock);
}

/* Called with the lock held. An undeclared family is a programming error: ignored. */
static struct series *series_of(struct plat_metrics *m, const char *name, const char *labels)
{
	struct family *f = find(m, name);
	if (!f)
		return NULL;
	if (!labels)
		labels = "";
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->series[i].labels, labels) == 0)
			return &f->series[i];
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 4;
		f->series = plat_xrealloc(f->series, f->cap * sizeof(*f->series));
	}
	f->series[f->n] = (struct series){.labels = plat_xstrdup(labels)};
	return &f->series[f->n++];
}

int plat_metrics_add(struct plat_metrics *m, const char *name, const char *labels, double delta)
{
	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	struct family *f = find(m, name);
	/* Prometheus treats any decrease of a counter as a restart of the process: rate() and
	 * increase() would count a bogus reset. So a counter never goes down. */
	bool ok = f && !(f->type == PLAT_METRIC_COUNTER && !(delta >= 0));
	struct series *s = ok ? series_of(m, name, labels) : NULL;
	if (s)
		s->value += delta;
	pthread_mutex_unlock(&m->lock);
	return s ? 0 : -PLAT_E_INTERNAL;
}

void plat_metrics_set(struct plat_metrics *m, const char *name, const char *labels, double value)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	struct series *s = series_of(m, name, labels);
	if (s)
		s->value = value;
	pthread_mutex_unlock(&m->lock);
}

void plat_metrics_observe(struct plat_metrics *m, const char *name, const char *labels, double seconds)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	struct series *s = series_of(m, name, labels);
	if (s) {
		for (size_t i = 0; i < N_BUCKETS; i++)
			if (seconds <= buckets[i])
				s->bucket[i]++;
		s->count++;
		s->sum += seconds;
	}
	pthread_mutex_unlock(&m->lock);
}

/* name{labels[,extra]} */
static void sample(struct plat_buf *out, const char *name, const char *suffix, const char *labels, const char *extra)
{
	plat_buf_printf(out, "%s%s", name, suffix);
	if (*labels || extra)
		plat_buf_printf(out, "{%s%s%s}", labels, *labels && extra ? "," : "", extra ? extra : "");
}

void plat_metrics_render(struct plat_metrics *m, struct plat_buf *out)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++) {
		struct family *f = &m->fam[i];
		plat_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, types[f->type]);
		for (size_t j = 0; j < f->n; j++) {
			struct series *s = &f->series[j];
			if (f->type != PLAT_METRIC_HISTOGRAM) {
				sample(out, f->name, "", s->labels, NULL);
				plat_buf_printf(out, " %.17g\n", s->value);
				continue;
			}
			/* Bucket counts are cumulative already (observe counts every bucket >= value). */
			for (size_t b = 0; b < N_BUCKETS; b++) {
				char le[40];
				snprintf(le, sizeof(le), "le=\"%g\"", buckets[b]);
				sample(out, f->name, "_bucket", s->labels, le);
				plat_buf_printf(out, " %llu\n", s->bucket[b]);
			}
			sample(out, f->name, "_bucket", s->labels, "le=\"+Inf\"");
			plat_buf_printf(out, " %llu\n", s->count);
			sample(out, f->name, "_sum", s->labels, NULL);
			plat_buf_printf(out, " %.17g\n", s->sum);
			sample(out, f->name, "_count", s->labels, NULL);
			plat_buf_printf(out, " %llu\n", s->count);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

cJSON *plat_metrics_json(struct plat_metrics *m)
{
	cJSON *root = cJSON_CreateObject();
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++) {
		struct family *f = &m->fam[i];
		cJSON *arr = cJSON_AddArrayToObject(root, f->name);
		for (size_t j = 0; j < f->n; j++) {
			struct series *s = &f->series[j];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "labels", s->labels);
			if (f->type == PLAT_METRIC_HISTOGRAM) {
				cJSON_AddNumberToObject(o, "count", (double)s->count);
				cJSON_AddNumberToObject(o, "sum", s->sum);
			} else {
				cJSON_AddNumberToObject(o, "value", s->value);
			}
			cJSON_AddItemToArray(arr, o);
		}
	}
	pthread_mutex_unlock(&m->lock);
	return root;
}

int plat_metrics_write_file(struct plat_metrics *m, const char *path, struct plat_error *err)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_metrics_render(m, &b);
	size_t n = strlen(path) + 16;
	char *tmp = plat_xmalloc(n);
	snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
	int rc = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool ok = fd >= 0;
	if (ok) {
		ok = plat_write_all(fd, b.data ? b.data : "", b.len) == 0;
		ok = close(fd) == 0 && ok;
		ok = ok && rename(tmp, path) == 0;
	}
	if (!ok) {
		rc = plat_error_set(err, PLAT_E_PERMISSION, "cannot write metrics to %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	plat_buf_free(&b);
	return rc;
}
