/* The caller's side of extraction: find the helper, hand it the file, read its frames. */
#include "extract/extract.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem/mem.h"
#include "paths.h" /* build/gen: PLATCTL_LIBEXECDIR, the directory make install puts the helper in */

static int executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int plat_extract_helper(char *path, size_t size, struct plat_error *err)
{
	char exe[PATH_MAX], places[3][PATH_MAX + 64];
	int n = 0;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			/* Beside the binary: the build tree (./platctl and ./platctl-extract). */
			snprintf(places[n++], sizeof(places[0]), "%s/%s", exe, PLAT_EXTRACT_HELPER);
			/* An installed prefix, wherever it was moved: PREFIX/bin/platctl and
			 * PREFIX/lib/platctl/platctl-extract. */
			char *bin = strrchr(exe, '/');
			if (bin && !strcmp(bin, "/bin")) {
				*bin = '\0';
				snprintf(places[n++], sizeof(places[0]), "%s/lib/platctl/%s", exe, PLAT_EXTRACT_HELPER);
			}
		}
	}
	/* Where make install put it when this binary was built. */
	snprintf(places[n++], sizeof(places[0]), "%s/%s", PLATCTL_LIBEXECDIR, PLAT_EXTRACT_HELPER);
	for (int i = 0; i < n; i++) {
		if (i > 0 && !strcmp(places[i], places[0]))
			continue;
		if (executable(places[i])) {
			if (strlen(places[i]) >= size)
				return plat_error_set(err, PLAT_E_INTERNAL, "the parser's path is too long: '%s'", places[i]);
			memcpy(path, places[i], strlen(places[i]) + 1);
			return 0;
		}
	}
	struct plat_buf b = PLAT_BUF_INIT;
	for (int i = 0; i < n; i++)
		plat_buf_printf(&b, "%s'%s'", i ? ", " : "", places[i]);
	plat_error_set(err, PLAT_E_INTERNAL,
		       "the parser helper " PLAT_EXTRACT_HELPER " is not installed (looked for %s)", b.data);
	plat_buf_free(&b);
	return -PLAT_E_INTERNAL;
}

void plat_pages_free(struct plat_pages *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct plat_page *pg = &p->pages[i];
		free(pg->text);
		for (size_t h = 0; h < pg->n_headings; h++) {
			free(pg->headings[h].text);
			free(pg->headings[h].anchor);
		}
		free(pg->headings);
		free(pg->running);
	}
	free(p->pages);
	free(p->title);
	memset(p, 0, sizeof(*p));
}

/* A decimal number ending at the character stop (' ' or '\n'); *p moves past it. */
static bool number(const char **p, const char *end, char stop, unsigned long long max, unsigned long long *v)
{
	const char *s = *p;
	if (s >= end || *s < '0' || *s > '9')
		return false;
	unsigned long long n = 0;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned long long d = (unsigned long long)(*s - '0');
		if (n > max / 10 || n * 10 > max - d || d > max)
			return false;
		n = n * 10 + d;
	}
	if (s >= end || *s != stop)
		return false;
	*v = n;
	*p = s + 1;
	return true;
}

static char *bytes(const char *p, size_t len)
{
	char *s = plat_xmalloc(len + 1);
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* Read with bounds checks only: the helper is trusted with nothing, its output included. */
int plat_extract_frames(const char *data, size_t len, struct plat_pages *out)
{
	memset(out, 0, sizeof(*out));
	size_t cap = 0;
	const char *p = data, *end = data + len;
	while (p < end) {
		char kind = *p++;
		unsigned long long a = 0, b = 0, c = 0, d = 0;
		struct plat_page *last = out->n ? &out->pages[out->n - 1] : NULL;
		if (kind == 'P') {
			if (!number(&p, end, ' ', INT_MAX, &a) || a == 0 || !number(&p, end, '\n', (size_t)(end - p), &b))
				return -1;
			if (out->n == cap) {
				cap = cap ? cap * 2 : 8;
				out->pages = plat_xrealloc(out->pages, cap * sizeof(*out->pages));
			}
			out->pages[out->n++] = (struct plat_page){.number = (int)a, .text = bytes(p, (size_t)b)};
			p += b;
		} else if (kind == 'H') {
			if (!last || !number(&p, end, ' ', 3, &a) || a == 0 || !number(&p, end, ' ', SIZE_MAX, &b) ||
			    !number(&p, end, ' ', (size_t)(end - p), &c) || !number(&p, end, '\n', (size_t)(end - p), &d) ||
			    c + d > (unsigned long long)(end - p) || b > strlen(last->text) ||
			    (last->n_headings && b < last->headings[last->n_headings - 1].offset))
				return -1;
			last->headings = plat_xrealloc(last->headings, (last->n_headings + 1) * sizeof(*last->headings));
			last->headings[last->n_headings++] =
				(struct plat_heading){(size_t)b, (int)a, bytes(p, (size_t)c), d ? bytes(p + c, (size_t)d) : NULL};
			p += c + d;
		} else if (kind == 'R' || kind == 'T') {
			if (*p++ != ' ' || !number(&p, end, '\n', (size_t)(end - p), &a) || (kind == 'R' && !last))
				return -1;
			char **slot = kind == 'R' ? &last->running : &out->title;
			free(*slot);
			*slot = a ? bytes(p, (size_t)a) : NULL;
			p += a;
		} else if (kind == 'N') {
			if (*p++ != ' ' || !number(&p, end, '\n', SIZE_MAX, &a))
				return -1;
			out->running_lines = (size_t)a;
		} else {
			return -1;
		}
	}
	return 0;
}


int plat_extract_file(const char *path, const char *content_type, const struct plat_sandbox_limits *limits,
		      struct plat_pages *out, struct plat_error *err)
{
	memset(out, 0, sizeof(*out));
	char helper[PATH_MAX];
	int rc = plat_extract_helper(helper, sizeof(helper), err);
	if (rc < 0)
		return rc;
	/* Opened here, so the helper needs no access to the file's name (the pipeline's is a
	 * /proc/self/fd link only this process can follow) and opens nothing itself. */
	int in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (in < 0)
		return plat_error_set(err, PLAT_E_INVALID, "cannot open the file: %s", strerror(errno));
	char budget[32];
	snprintf(budget, sizeof(budget), "%lld",
		 limits && limits->memory_bytes > 0 ? limits->memory_bytes : PLAT_SANDBOX_DEFAULT_MEMORY);
	const char *argv[] = {helper, "--memory-limit", budget, "--type", content_type ? content_type : "", NULL};
	struct plat_buf raw = PLAT_BUF_INIT;
	rc = plat_sandbox_exec(argv, in, limits, &raw, err);
	close(in);
	if (rc == 0 && plat_extract_frames(raw.data ? raw.data : "", raw.len, out) < 0)
		rc = plat_error_set(err, PLAT_E_FAILURE, "the parser's output is malformed");
	if (rc < 0)
		plat_pages_free(out);
	plat_buf_free(&raw);
	return rc;
}
