#define _GNU_SOURCE
#include "io/io.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int plat_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

long long plat_read_upto(int fd, void *buf, size_t cap)
{
	char *p = buf;
	size_t got = 0;
	while (got < cap) {
		ssize_t n = read(fd, p + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long long)got;
}

int plat_mkdir_p(const char *path, unsigned parent_mode, unsigned mode, const char **failed)
{
	static _Thread_local char at[4096];
	snprintf(at, sizeof(at), "%s", path);
	if (failed)
		*failed = at;
	for (char *s = at + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(at, (mode_t)parent_mode) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(at, (mode_t)mode) < 0 && errno != EEXIST ? -1 : 0;
}

int plat_tmpfile(void)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	/* A file system without O_TMPFILE: a named file, unlinked at once. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/platctl-tmp-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}
