#include "mem/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
	fprintf(stderr, "platctl: out of memory allocating %zu bytes\n", size);
	abort();
}

void *plat_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		out_of_memory(size);
	return p;
}

void *plat_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *plat_xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (!q)
		out_of_memory(size);
	return q;
}

char *plat_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(plat_xmalloc(n), s, n);
}

/* ---- arena ---- */

struct plat_arena_block {
	struct plat_arena_block *next;
	size_t used;
	size_t size;
	max_align_t data[];
};

#define ARENA_DEFAULT_BLOCK 8192

void plat_arena_init(struct plat_arena *a, size_t block_size)
{
	a->head = NULL;
	a->block_size = block_size ? block_size : ARENA_DEFAULT_BLOCK;
}

void plat_arena_free(struct plat_arena *a)
{
	struct plat_arena_block *b = a->head;
	while (b) {
		struct plat_arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
}

void *plat_arena_alloc(struct plat_arena *a, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;

	struct plat_arena_block *b = a->head;
	if (!b || b->size - b->used < size) {
		size_t want = size > a->block_size ? size : a->block_size;
		if (want > SIZE_MAX - sizeof(*b))
			out_of_memory(want);
		b = plat_xmalloc(sizeof(*b) + want);
		b->size = want;
		b->used = 0;
		/* A block bigger than the default goes behind the head so the head's free
		 * space stays usable for the next small allocation. */
		if (a->head && want > a->block_size) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

char *plat_arena_strndup(struct plat_arena *a, const char *s, size_t n)
{
	char *p = plat_arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *plat_arena_strdup(struct plat_arena *a, const char *s)
{
	return plat_arena_strndup(a, s, strlen(s));
}

char *plat_arena_printf(struct plat_arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	char *p = plat_arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

/* ---- buf ---- */

void plat_buf_reserve(struct plat_buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		out_of_memory(SIZE_MAX);
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = plat_xrealloc(b->data, cap);
	b->cap = cap;
	b->data[b->len] = '\0'; /* a fresh buffer is a valid empty string */
}

void plat_buf_append(struct plat_buf *b, const void *data, size_t len)
{
	plat_buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void plat_buf_puts(struct plat_buf *b, const char *s)
{
	plat_buf_append(b, s, strlen(s));
}

void plat_buf_putc(struct plat_buf *b, char c)
{
	plat_buf_append(b, &c, 1);
}

void plat_buf_vprintf(struct plat_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	if (n > 0) {
		plat_buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	} else {
		plat_buf_reserve(b, 0);
		b->data[b->len] = '\0';
	}
	va_end(ap2);
}

void plat_buf_printf(struct plat_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	plat_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void plat_buf_reset(struct plat_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *plat_buf_detach(struct plat_buf *b)
{
	plat_buf_reserve(b, 0);
	char *s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void plat_buf_free(struct plat_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void plat_wipe(void *p, size_t n)
{
	/* Through a volatile pointer, so the compiler cannot drop stores to memory that is
	 * about to die (a password buffer on the stack). */
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}
