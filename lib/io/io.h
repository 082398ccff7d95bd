/* Small POSIX I/O helpers. */
#ifndef PLAT_IO_H
#define PLAT_IO_H

#include <stddef.h>

/* Write all of buf, resuming after EINTR and short writes; 0 or -1 (errno set). */
int plat_write_all(int fd, const void *buf, size_t len);

/* Read until cap bytes or end of file, resuming after EINTR and short reads; the count,
 * or -1 (errno set). */
long long plat_read_upto(int fd, void *buf, size_t cap);

/* An unlinked temporary file in $TMPDIR (else /tmp), read-write and close-on-exec:
 * nothing is left behind however the process ends. -1 (errno set) on failure. */
int plat_tmpfile(void);

/* mkdir -p: the missing parents with parent_mode, path itself with mode (existing ones are
 * left as they are). 0, or -1 with errno set and *failed (failed may be NULL) naming the
 * directory that could not be made (per-thread storage). */
int plat_mkdir_p(const char *path, unsigned parent_mode, unsigned mode, const char **failed);

#endif
