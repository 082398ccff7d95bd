/* A response body written by another thread (POST /v1/ask streaming its answer): the
 * writer appends, libmicrohttpd reads, and a connection with nothing to read is suspended
 * until the writer has more. Shared by the two sides until both let go. */
#define _GNU_SOURCE
#include "http/push.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"

struct plat_http_push {
	pthread_mutex_t lock;
	struct MHD_Connection *conn;
	struct plat_buf pending;
	size_t sent;
	bool suspended, ended, gone;
	int refs;
};

static void unref(struct plat_http_push *p)
{
	pthread_mutex_lock(&p->lock);
	bool last = --p->refs == 0;
	pthread_mutex_unlock(&p->lock);
	if (!last)
		return;
	plat_buf_free(&p->pending);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void kick(struct plat_http_push *p)
{
	if (p->suspended && !p->gone) {
		p->suspended = false;
		MHD_resume_connection(p->conn);
	}
}

static ssize_t read_push(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct plat_http_push *p = cls;
	ssize_t n;
	pthread_mutex_lock(&p->lock);
	size_t avail = p->pending.len - p->sent;
	if (avail) {
		n = (ssize_t)(avail < max ? avail : max);
		memcpy(buf, p->pending.data + p->sent, (size_t)n);
		p->sent += (size_t)n;
		if (p->sent == p->pending.len) {
			plat_buf_reset(&p->pending);
			p->sent = 0;
		}
	} else if (p->ended) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		p->suspended = true;
		MHD_suspend_connection(p->conn);
		n = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

static void free_push(void *cls)
{
	struct plat_http_push *p = cls;
	pthread_mutex_lock(&p->lock);
	p->gone = true;
	pthread_mutex_unlock(&p->lock);
	unref(p);
}

struct MHD_Response *plat_http_push_open(struct MHD_Connection *c, struct plat_http_push **out)
{
	struct plat_http_push *p = plat_xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->conn = c;
	p->refs = 2;
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, read_push, p, free_push);
	if (!r) {
		pthread_mutex_destroy(&p->lock);
		free(p);
		return NULL;
	}
	*out = p;
	return r;
}

int plat_http_push_write(struct plat_http_push *p, const char *data, size_t len)
{
	pthread_mutex_lock(&p->lock);
	bool gone = p->gone;
	if (!gone) {
		plat_buf_append(&p->pending, data, len);
		kick(p);
	}
	pthread_mutex_unlock(&p->lock);
	return gone ? -1 : 0;
}

void plat_http_push_close(struct plat_http_push *p)
{
	pthread_mutex_lock(&p->lock);
	p->ended = true;
	kick(p);
	pthread_mutex_unlock(&p->lock);
	unref(p);
}
