/* Memory helpers: an arena for per-operation scratch memory, and a growable byte buffer.
 *
 * An arena belongs to one command run or one request: everything allocated from it is freed
 * at once by plat_arena_free(), so scratch strings need no individual ownership. Long-lived
 * objects use malloc/free with explicit ownership instead. */
#ifndef PLAT_MEM_H
#define PLAT_MEM_H

#include <stdarg.h>
#include <stddef.h>

struct plat_arena_block;

struct plat_arena {
	struct plat_arena_block *head;
	size_t block_size;
};

void plat_arena_init(struct plat_arena *a, size_t block_size);
void plat_arena_free(struct plat_arena *a);

/* Aborts on out-of-memory: a CLI or worker cannot do anything useful without memory. */
void *plat_arena_alloc(struct plat_arena *a, size_t size);
char *plat_arena_strdup(struct plat_arena *a, const char *s);
char *plat_arena_strndup(struct plat_arena *a, const char *s, size_t n);
char *plat_arena_printf(struct plat_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Growable byte buffer, always NUL-terminated. */
struct plat_buf {
	char *data;
	size_t len;
	size_t cap;
};

#define PLAT_BUF_INIT {NULL, 0, 0}

void plat_buf_reserve(struct plat_buf *b, size_t extra);
void plat_buf_append(struct plat_buf *b, const void *data, size_t len);
void plat_buf_puts(struct plat_buf *b, const char *s);
void plat_buf_putc(struct plat_buf *b, char c);
void plat_buf_printf(struct plat_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void plat_buf_vprintf(struct plat_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void plat_buf_reset(struct plat_buf *b);
/* Hand the string to the caller (who frees it) and leave b empty. */
char *plat_buf_detach(struct plat_buf *b);
void plat_buf_free(struct plat_buf *b);

/* malloc/realloc/strdup that abort with a message on failure. */
void *plat_xmalloc(size_t size);
void *plat_xcalloc(size_t n, size_t size);
void *plat_xrealloc(void *p, size_t size);
char *plat_xstrdup(const char *s);

/* Zero memory that held a secret, in a way the compiler keeps. */
void plat_wipe(void *p, size_t n);

#endif
