/* GET /v1/ws: the live feed of GET /v1/events over a WebSocket (RFC 6455), framed by
 * libwslay. After libmicrohttpd switched the connection's protocol, a thread of its own
 * serves it: each event of the tenant is one text message (the JSON the SSE data lines
 * carry, {id, type, at, data}, whose id a client resumes from with ?after=), a ping every
 * 15 s keeps it open through proxies, the client's pings are answered and its messages
 * ignored. A client too slow to take PLAT_FEED_MAX_PENDING bytes, and every client when the
 * server stops, gets close code 1001 and resumes elsewhere. Private to lib/http. */
#ifndef PLAT_HTTP_WS_H
#define PLAT_HTTP_WS_H

#include <stdatomic.h>
#include <stddef.h>

#include <microhttpd.h>

#include "http/feed.h"

#define PLAT_WS_ACCEPT_LEN 28

/* The Sec-WebSocket-Accept value for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's
 * GUID)). 0, or -1 when key is not the base64 of 16 bytes. */
int plat_http_ws_accept(const char *key, char out[PLAT_WS_ACCEPT_LEN + 1]);

/* Serve an upgraded connection on a thread of its own (called from libmicrohttpd's upgrade
 * handler, which must not block): subscribe to tenant_id's events after from (-1: from
 * now on), with extra (bytes libmicrohttpd read past the request) as the first input.
 * *open counts the connections being served, for the server's shutdown. On failure the
 * connection is closed at once. */
void plat_http_ws_start(struct plat_http_feed *feed, atomic_int *open, const char *tenant_id, long long from,
			const char *extra, size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh);

#endif
