/* The live feed behind GET /v1/events (Server-Sent Events): one listener thread per server
 * with its own database connection LISTENs on platctl_events (migration 0012), reads the
 * new rows of the events table and hands each one to the streams of its tenant.
 *
 * Only the listener writes to streams, so each stream gets its events in id order without
 * gaps: a stream resuming from Last-Event-ID is filled from the table by the listener
 * before it gets anything new. A stream whose client reads too slowly to keep up (more than
 * PLAT_FEED_MAX_PENDING bytes waiting) is ended; the client reconnects with Last-Event-ID
 * and loses nothing. Private to lib/http (it knows libmicrohttpd). */
#ifndef PLAT_HTTP_FEED_H
#define PLAT_HTTP_FEED_H

#include <microhttpd.h>

#include "error/error.h"
#include "mem/mem.h"
#include "svc/svc.h"

#define PLAT_FEED_MAX_PENDING (1 << 20)
#define PLAT_FEED_KEEPALIVE_MS 15000

struct plat_http_feed;
struct plat_http_stream;

/* Start the listener; it connects (and reconnects) on its own, so a database that is down
 * at start only delays the feed. */
int plat_http_feed_start(struct plat_services *services, struct plat_http_feed **out, struct plat_error *err);
/* End every stream (their clients see the end of the response) and stop the listener. */
void plat_http_feed_stop(struct plat_http_feed *feed);
/* After libmicrohttpd stopped (its responses free their streams into the feed). */
void plat_http_feed_free(struct plat_http_feed *feed);
/* How many streams are open, for /metrics. */
int plat_http_feed_streams(struct plat_http_feed *feed);

/* A stream for a client of tenant_id on connection c, from after event last_id (-1: from
 * now on). The response reads from it; libmicrohttpd frees the stream with the response. */
struct MHD_Response *plat_http_feed_open(struct plat_http_feed *feed, struct MHD_Connection *c,
					 const char *tenant_id, long long last_id);

/* A subscriber that is not a libmicrohttpd response (a WebSocket, lib/http/ws.c): its
 * events wait as JSON texts, one per line ({id, type, at, data}), and a byte written to
 * wake_fd (non-blocking; the subscriber's) says there is something new or that the stream
 * ended. The subscriber takes them with plat_http_feed_take and must unsubscribe before
 * the feed is freed. */
struct plat_http_stream *plat_http_feed_subscribe(struct plat_http_feed *feed, const char *tenant_id,
						  long long last_id, int wake_fd);
/* Append what is pending to out; *ended once the feed stopped or the subscriber fell more
 * than PLAT_FEED_MAX_PENDING behind (what is pending then is still given). */
void plat_http_feed_take(struct plat_http_stream *s, struct plat_buf *out, bool *ended);
void plat_http_feed_unsubscribe(struct plat_http_stream *s);

#endif
