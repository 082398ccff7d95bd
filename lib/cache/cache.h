/* An in-process cache of what the server reads on every request (token lookups, tenant
 * ids, document rows), kept coherent across instances by PostgreSQL's LISTEN/NOTIFY.
 *
 * It is correct only while something delivers the invalidations: the cache starts
 * disabled (every get misses, every put is dropped), is enabled by the listener once its
 * LISTEN is in place, and is emptied and disabled again whenever that connection breaks,
 * since notifications sent meanwhile are lost.
 *
 * A reader that misses fetches from the database and puts the value back; a change that
 * committed while it fetched must not be overwritten by what it read before. So a get
 * (hit or miss) returns the cache's generation, every invalidation advances it, and a put
 * made with an older generation is dropped. Entries also expire after a TTL, which bounds
 * staleness should a notification ever go missing, and the cache holds at most a given
 * number of entries (the oldest go first).
 *
 * Keys are strings; values are bytes copied in and out, so nothing a caller holds is
 * shared between threads. Thread-safe. */
#ifndef PLAT_CACHE_H
#define PLAT_CACHE_H

#include <stdbool.h>
#include <stddef.h>

struct plat_cache;

struct plat_cache_stats {
	unsigned long long hits, misses, puts, dropped, invalidations, evictions;
	size_t entries;
};

/* max_entries >= 1, ttl_ms >= 1. Disabled until plat_cache_enable. */
struct plat_cache *plat_cache_new(size_t max_entries, long long ttl_ms);
void plat_cache_free(struct plat_cache *c);

/* The invalidations reach us (true) or may not (false: emptied, and off). */
void plat_cache_enable(struct plat_cache *c, bool on);

/* A hit copies the value into a malloc'd *val (NUL-terminated past *len, for text) and
 * returns true. Either way *generation is set for a later plat_cache_put. */
bool plat_cache_get(struct plat_cache *c, const char *key, void **val, size_t *len, unsigned long long *generation);

/* Store a copy of val under key, unless the cache changed since generation was read (or
 * is disabled). ttl_ms 0: the cache's TTL; else the shorter of the two. */
void plat_cache_put(struct plat_cache *c, const char *key, const void *val, size_t len,
		    unsigned long long generation, long long ttl_ms);

/* Drop the entries whose key starts with prefix ("" drops all). */
void plat_cache_invalidate_prefix(struct plat_cache *c, const char *prefix);
void plat_cache_invalidate(struct plat_cache *c, const char *key);

void plat_cache_stats(struct plat_cache *c, struct plat_cache_stats *out);

#endif
