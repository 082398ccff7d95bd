/* The remote halves of search and ask: POST /v1/search and POST /v1/ask on the profile's
 * server, returning what the direct halves return. Not a public header. */
#ifndef PLAT_SEARCH_REMOTE_H
#define PLAT_SEARCH_REMOTE_H

#include "remote/remote.h"
#include "search/ask.h"

int plat_search_remote(struct plat_remote *r, const struct plat_search_query *q, cJSON **results,
		       struct plat_error *err);
int plat_ask_remote(struct plat_remote *r, const struct plat_ask_request *req, struct plat_ask_result *out,
		    struct plat_error *err);

#endif
