/* Small POSIX I/O helpers. */
#ifndef PLAT_IO_H
#define PLAT_IO_H

#include <stddef.h>

/* Write all of buf, resuming after EINTR and short writes; 0 or -1 (errno set). */
int plat_write_all(int fd, const void *buf, size_t len);

#endif
