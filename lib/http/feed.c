/* The listener and the streams of GET /v1/events. */
#define _GNU_SOURCE
#include "http/feed.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "db/db.h"
#include "log/log.h"
#include "mem/mem.h"

struct plat_http_stream {
	struct plat_http_feed *feed;
	struct MHD_Connection *conn;
	char tenant_id[37];
	long long last_id;  /* the last event queued for this client */
	bool backfill;      /* resuming: the listener fills it from the table first */
	bool suspended, ended;
	int wake_fd;        /* a subscriber (a WebSocket): woken with a byte here; -1: an SSE response */
	struct plat_buf pending;
	size_t sent;        /* bytes of pending the client has */
	struct plat_http_stream *next;
};

struct plat_http_feed {
	struct plat_services *services;
	pthread_t thread;
	int wake[2]; /* a byte here: new streams to backfill, or stop */
	pthread_mutex_t lock;
	struct plat_http_stream *streams;
	int nstreams;
	bool stopping;
	long long max_id; /* the last event the listener read */
};

static void wake(struct plat_http_feed *f)
{
	char b = 1;
	while (write(f->wake[1], &b, 1) < 0 && errno == EINTR)
		;
}

/* Under the lock: let libmicrohttpd (or the subscriber) send what is pending. */
static void kick(struct plat_http_stream *s)
{
	if (s->wake_fd >= 0) {
		char b = 1;
		/* Non-blocking: a full pipe already holds a wake-up. */
		while (write(s->wake_fd, &b, 1) < 0 && errno == EINTR)
			;
		return;
	}
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
}

/* Under the lock: queue one SSE frame. */
static void queue_event(struct plat_http_stream *s, long long id, const char *type, const char *json)
{
	if (s->ended || id <= s->last_id)
		return;
	if (s->wake_fd >= 0) /* one JSON text per line: the jsonb text of an event has no newline */
		plat_buf_printf(&s->pending, "%s\n", json);
	else
		plat_buf_printf(&s->pending, "id: %lld\nevent: %s\ndata: %s\n\n", id, type, json);
	s->last_id = id;
	if (s->pending.len - s->sent > PLAT_FEED_MAX_PENDING) {
		/* Too slow to keep up: end it; the client resumes from its Last-Event-ID. */
		s->ended = true;
		plat_log(PLAT_LOG_INFO, "event stream ended: the client reads too slowly", (const char *)NULL);
	}
	kick(s);
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct plat_http_stream *s = cls;
	pthread_mutex_lock(&s->feed->lock);
	size_t avail = s->pending.len - s->sent;
	ssize_t n;
	if (avail > 0) {
		n = (ssize_t)(avail < max ? avail : max);
		memcpy(buf, s->pending.data + s->sent, (size_t)n);
		s->sent += (size_t)n;
		if (s->sent == s->pending.len) {
			plat_buf_reset(&s->pending);
			s->sent = 0;
		}
	} else if (s->ended) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		/* Nothing yet: park the connection until the listener has something. */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		n = 0;
	}
	pthread_mutex_unlock(&s->feed->lock);
	return n;
}

static void free_stream(void *cls)
{
	struct plat_http_stream *s = cls;
	struct plat_http_feed *f = s->feed;
	pthread_mutex_lock(&f->lock);
	for (struct plat_http_stream **p = &f->streams; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			f->nstreams--;
			break;
		}
	pthread_mutex_unlock(&f->lock);
	plat_buf_free(&s->pending);
	free(s);
}

/* List a new stream, from after last_id (-1: from now on). */
static void add_stream(struct plat_http_feed *f, struct plat_http_stream *s, long long last_id)
{
	pthread_mutex_lock(&f->lock);
	if (last_id >= 0) {
		s->last_id = last_id;
		s->backfill = true;
	} else {
		s->last_id = f->max_id;
	}
	s->ended = f->stopping;
	s->next = f->streams;
	f->streams = s;
	f->nstreams++;
	pthread_mutex_unlock(&f->lock);
	if (last_id >= 0)
		wake(f);
}

struct MHD_Response *plat_http_feed_open(struct plat_http_feed *f, struct MHD_Connection *c, const char *tenant_id,
					 long long last_id)
{
	struct plat_http_stream *s = plat_xcalloc(1, sizeof(*s));
	s->feed = f;
	s->conn = c;
	s->wake_fd = -1;
	snprintf(s->tenant_id, sizeof(s->tenant_id), "%s", tenant_id);
	/* Clients reconnect after 2 s, with the id of the last event they got. */
	plat_buf_puts(&s->pending, "retry: 2000\n\n");
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, read_stream, s, free_stream);
	if (!r) {
		plat_buf_free(&s->pending);
		free(s);
		return NULL;
	}
	add_stream(f, s, last_id);
	return r;
}

struct plat_http_stream *plat_http_feed_subscribe(struct plat_http_feed *f, const char *tenant_id, long long last_id,
						  int wake_fd)
{
	struct plat_http_stream *s = plat_xcalloc(1, sizeof(*s));
	s->feed = f;
	s->wake_fd = wake_fd;
	snprintf(s->tenant_id, sizeof(s->tenant_id), "%s", tenant_id);
	add_stream(f, s, last_id);
	return s;
}

void plat_http_feed_take(struct plat_http_stream *s, struct plat_buf *out, bool *ended)
{
	pthread_mutex_lock(&s->feed->lock);
	if (s->pending.len)
		plat_buf_append(out, s->pending.data, s->pending.len);
	plat_buf_reset(&s->pending);
	*ended = s->ended;
	pthread_mutex_unlock(&s->feed->lock);
}

void plat_http_feed_unsubscribe(struct plat_http_stream *s)
{
	if (s)
		free_stream(s);
}

int plat_http_feed_streams(struct plat_http_feed *f)
{
	pthread_mutex_lock(&f->lock);
	int n = f->nstreams;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* ---- the listener ---- */

static int listen_connect(struct plat_http_feed *f, struct plat_db **db)
{
	const struct plat_config *cfg = plat_services_config(f->services);
	struct plat_db_options o = {.url = plat_config_str(cfg, PLAT_CFG_DATABASE_URL),
				    .application_name = "platctl serve events"};
	struct plat_error err = {0};
	if (plat_db_connect(&o, db, &err) < 0) {
		plat_log(PLAT_LOG_WARN, "event feed: cannot connect; retrying", "error", err.message, (const char *)NULL);
		return -1;
	}
	PGresult *r = NULL;
	if (plat_db_exec(*db, "LISTEN platctl_events", 0, NULL, NULL, &err) < 0 ||
	    plat_db_exec(*db, "LISTEN platctl_cache", 0, NULL, NULL, &err) < 0 ||
	    plat_db_exec(*db, "SELECT platctl_events_head()", 0, NULL, &r, &err) < 0) {
		plat_log(PLAT_LOG_WARN, "event feed: cannot listen; retrying", "error", err.message, (const char *)NULL);
		plat_db_close(*db);
		*db = NULL;
		return -1;
	}
	long long max = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	/* From here on every change is heard: the cache may serve (emptied first, as
	 * changes made while nobody listened were not). */
	plat_services_cache_listening(f->services, true);
	pthread_mutex_lock(&f->lock);
	/* After a reconnect, what was missed meanwhile is read like any new event; only a
	 * first connection starts from the end. */
	if (f->max_id == 0)
		f->max_id = max;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* Rows of (id, tenant_id, type, json) into the matching streams; returns the last id. */
static long long deliver(struct plat_http_feed *f, PGresult *r, struct plat_http_stream *only)
{
	long long last = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		long long id = atoll(PQgetvalue(r, i, 0));
		const char *tenant = PQgetvalue(r, i, 1);
		for (struct plat_http_stream *s = only ? only : f->streams; s; s = only ? NULL : s->next)
			if (!s->backfill || s == only)
				if (strcmp(s->tenant_id, tenant) == 0)
					queue_event(s, id, PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
		last = id;
	}
	return last;
}

/* Read what is new and fill the streams that resume. 0, or -1 when the connection broke. */
static int pump(struct plat_http_feed *f, struct plat_db *db)
{
	struct plat_error err = {0};
	for (;;) {
		char from[24];
		pthread_mutex_lock(&f->lock);
		snprintf(from, sizeof(from), "%lld", f->max_id);
		pthread_mutex_unlock(&f->lock);
		const char *p[] = {from};
		PGresult *r;
		if (plat_db_exec(db, "SELECT * FROM platctl_events_after($1, NULL, NULL, 1000)", 1, p, &r, &err) < 0)
			return -1;
		pthread_mutex_lock(&f->lock);
		long long last = deliver(f, r, NULL);
		if (last > f->max_id)
			f->max_id = last;
		pthread_mutex_unlock(&f->lock);
		int n = PQntuples(r);
		PQclear(r);
		if (n < 1000)
			break;
	}
	/* Resuming streams: from their id up to what the others have, then they join them. */
	for (;;) {
		pthread_mutex_lock(&f->lock);
		struct plat_http_stream *s = f->streams;
		while (s && !s->backfill)
			s = s->next;
		char tenant[37], after[24], upto[24];
		if (s) {
			snprintf(tenant, sizeof(tenant), "%s", s->tenant_id);
			snprintf(after, sizeof(after), "%lld", s->last_id);
			snprintf(upto, sizeof(upto), "%lld", f->max_id);
		}
		pthread_mutex_unlock(&f->lock);
		if (!s)
			return 0;
		const char *p[] = {tenant, after, upto};
		PGresult *r;
		if (plat_db_exec(db, "SELECT * FROM platctl_events_after($2, $1::uuid, $3, 10000)", 3, p, &r, &err) < 0)
			return -1;
		pthread_mutex_lock(&f->lock);
		/* The stream may have gone meanwhile: deliver only if it is still listed. */
		for (struct plat_http_stream *t = f->streams; t; t = t->next)
			if (t == s) {
				deliver(f, r, s);
				if (PQntuples(r) < 10000) {
					s->backfill = false;
					if (s->last_id < atoll(upto))
						s->last_id = atoll(upto);
				}
				kick(s);
				break;
			}
		pthread_mutex_unlock(&f->lock);
		PQclear(r);
	}
}

static void keepalive(struct plat_http_feed *f)
{
	pthread_mutex_lock(&f->lock);
	for (struct plat_http_stream *s = f->streams; s; s = s->next)
		if (!s->ended && s->wake_fd < 0) { /* a subscriber pings on its own */
			plat_buf_puts(&s->pending, ": keepalive\n\n");
			kick(s);
		}
	pthread_mutex_unlock(&f->lock);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *listener(void *arg)
{
	struct plat_http_feed *f = arg;
	struct plat_db *db = NULL;
	long long next_keepalive = now_ms() + PLAT_FEED_KEEPALIVE_MS, next_prune = 0;
	int backoff_ms = 200;
	for (;;) {
		pthread_mutex_lock(&f->lock);
		bool stop = f->stopping;
		pthread_mutex_unlock(&f->lock);
		if (stop)
			break;
		if (!db) {
			if (listen_connect(f, &db) < 0) {
				poll(&(struct pollfd){.fd = f->wake[0], .events = POLLIN}, 1, backoff_ms);
				backoff_ms = backoff_ms < 5000 ? backoff_ms * 2 : 5000;
				continue;
			}
			backoff_ms = 200;
			if (pump(f, db) < 0)
				goto broken;
		}
		long long now = now_ms();
		if (now >= next_prune) {
			/* A week of events is plenty to resume from; older ones go. */
			struct plat_error err = {0};
			if (plat_db_exec(db, "SELECT platctl_events_prune(interval '7 days')", 0, NULL, NULL, &err) < 0)
				goto broken;
			next_prune = now + 3600 * 1000;
		}
		struct pollfd fds[2] = {{.fd = PQsocket(plat_db_pgconn(db)), .events = POLLIN},
					{.fd = f->wake[0], .events = POLLIN}};
		int timeout = (int)(next_keepalive - now);
		int n = poll(fds, 2, timeout > 0 ? timeout : 0);
		if (n < 0 && errno != EINTR)
			goto broken;
		if (fds[1].revents & POLLIN) {
			char buf[64];
			while (read(f->wake[0], buf, sizeof(buf)) > 0)
				;
		}
		PGconn *pg = plat_db_pgconn(db);
		if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(pg))
			goto broken;
		/* The queries of a pump may read notifications into libpq's queue, where poll
		 * cannot see them: pump until none is left. A wake-up is a stream that resumes;
		 * the cache's notifications need no pump. */
		bool pump_now = fds[1].revents & POLLIN;
		for (;;) {
			bool events = false;
			PGnotify *note;
			while ((note = PQnotifies(pg))) {
				if (strcmp(note->relname, "platctl_cache") == 0)
					plat_services_cache_notify(f->services, note->extra);
				else
					events = true;
				PQfreemem(note);
			}
			if (!events && !pump_now)
				break;
			pump_now = false;
			if (pump(f, db) < 0)
				goto broken;
		}
		if (now_ms() >= next_keepalive) {
			/* And a pump now and then, whatever was heard. */
			if (pump(f, db) < 0)
				goto broken;
			keepalive(f);
			next_keepalive = now_ms() + PLAT_FEED_KEEPALIVE_MS;
		}
		continue;
	broken:
		plat_log(PLAT_LOG_WARN, "event feed: the database connection broke; reconnecting", (const char *)NULL);
		plat_services_cache_listening(f->services, false);
		plat_db_close(db);
		db = NULL;
	}
	plat_db_close(db);
	return NULL;
}

int plat_http_feed_start(struct plat_services *services, struct plat_http_feed **out, struct plat_error *err)
{
	struct plat_http_feed *f = plat_xcalloc(1, sizeof(*f));
	f->services = services;
	pthread_mutex_init(&f->lock, NULL);
	if (pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(f);
		return plat_error_set(err, PLAT_E_FAILURE, "event feed: pipe: %s", strerror(errno));
	}
	int rc = pthread_create(&f->thread, NULL, listener, f);
	if (rc != 0) {
		close(f->wake[0]);
		close(f->wake[1]);
		free(f);
		return plat_error_set(err, PLAT_E_FAILURE, "event feed: thread: %s", strerror(rc));
	}
	*out = f;
	return 0;
}

void plat_http_feed_stop(struct plat_http_feed *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	for (struct plat_http_stream *s = f->streams; s; s = s->next) {
		s->ended = true;
		kick(s);
	}
	pthread_mutex_unlock(&f->lock);
	wake(f);
	pthread_join(f->thread, NULL);
}

void plat_http_feed_free(struct plat_http_feed *f)
{
	if (!f)
		return;
	close(f->wake[0]);
	close(f->wake[1]);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
