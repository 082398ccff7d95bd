/* A response body written by a thread of the application while libmicrohttpd sends it. */
#ifndef PLAT_HTTP_PUSH_H
#define PLAT_HTTP_PUSH_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

struct plat_http_push;

/* The response and its writer's end; the writer calls plat_http_push_close exactly once. */
struct MHD_Response *plat_http_push_open(struct MHD_Connection *c, struct plat_http_push **out);
/* Append; -1 when the client has gone (the writer may stop early). */
int plat_http_push_write(struct plat_http_push *p, const char *data, size_t len);
/* The end of the body. */
void plat_http_push_close(struct plat_http_push *p);

#endif
