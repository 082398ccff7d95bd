/* The caller's side of extraction: find the helper, hand it the file, read its frames. */
#include "extract/extract.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
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
	for (size_t i = 0; i < p->n; i++)
		free(p->pages[i].text);
	free(p->pages);
	p->pages = NULL;
	p->n = 0;
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
	/* Frames "P<number> <length>\n<bytes>", read with bounds checks only: the helper is
	 * trusted with nothing, its output included. */
	size_t cap = 0;
	for (size_t off = 0; rc == 0 && off < raw.len;) {
		const char *p = raw.data + off, *end = raw.data + raw.len;
		char *stop;
		long number = 0;
		unsigned long long len = 0;
		bool ok = *p == 'P' && p[1] >= '0' && p[1] <= '9';
		if (ok) {
			errno = 0;
			number = strtol(p + 1, &stop, 10);
			ok = errno == 0 && number > 0 && number <= INT_MAX && *stop == ' ' && stop[1] >= '0' && stop[1] <= '9';
			p = stop + 1;
		}
		if (ok) {
			len = strtoull(p, &stop, 10);
			ok = errno == 0 && *stop == '\n' && len <= (unsigned long long)(end - stop - 1);
			p = stop + 1;
		}
		if (!ok) {
			rc = plat_error_set(err, PLAT_E_FAILURE, "the parser's output is malformed");
			break;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 8;
			out->pages = plat_xrealloc(out->pages, cap * sizeof(*out->pages));
		}
		char *text = plat_xmalloc((size_t)len + 1);
		memcpy(text, p, (size_t)len);
		text[len] = '\0';
		out->pages[out->n++] = (struct plat_page){(int)number, text};
		off = (size_t)(p - raw.data) + (size_t)len;
	}
	if (rc < 0)
		plat_pages_free(out);
	plat_buf_free(&raw);
	return rc;
}
