/* The server's coherent cache (see cache.h): one hash table with chaining under one lock,
 * and a FIFO list for eviction. A lookup holds the lock for a hash, a compare and one
 * copy of a value of a few kilobytes, far less than the request around it; on two cores
 * striping would buy nothing measurable. */
#include "cache/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock/clock.h"
#include "mem/mem.h"

struct entry {
	struct entry *next_in_bucket;
	struct entry *older, *newer; /* the FIFO: oldest is evicted first */
	unsigned long hash;
	long long expires_ms;
	size_t len;
	char *key;
	unsigned char *val;
};

struct plat_cache {
	pthread_mutex_t lock;
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t n, max_entries;
	long long ttl_ms;
	struct entry *oldest, *newest;
	bool enabled;
	unsigned long long generation;
	struct plat_cache_stats stats;
};

static unsigned long key_hash(const char *key)
{
	unsigned long h = 14695981039346656037UL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211UL;
	return h;
}

struct plat_cache *plat_cache_new(size_t max_entries, long long ttl_ms)
{
	struct plat_cache *c = plat_xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->max_entries = max_entries ? max_entries : 1;
	c->ttl_ms = ttl_ms > 0 ? ttl_ms : 1;
	c->nbuckets = 16;
	while (c->nbuckets < c->max_entries)
		c->nbuckets *= 2;
	c->buckets = plat_xcalloc(c->nbuckets, sizeof(*c->buckets));
	return c;
}

static void unlink_entry(struct plat_cache *c, struct entry *e)
{
	struct entry **p = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*p != e)
		p = &(*p)->next_in_bucket;
	*p = e->next_in_bucket;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	c->n--;
	free(e->key);
	free(e->val);
	free(e);
}

static void drop_matching(struct plat_cache *c, const char *prefix)
{
	size_t pl = strlen(prefix);
	for (struct entry *e = c->oldest, *next; e; e = next) {
		next = e->newer;
		if (strncmp(e->key, prefix, pl) == 0)
			unlink_entry(c, e);
	}
}

void plat_cache_free(struct plat_cache *c)
{
	if (!c)
		return;
	drop_matching(c, "");
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void plat_cache_enable(struct plat_cache *c, bool on)
{
	pthread_mutex_lock(&c->lock);
	drop_matching(c, "");
	c->enabled = on;
	c->generation++;
	pthread_mutex_unlock(&c->lock);
}

static struct entry *find(struct plat_cache *c, const char *key, unsigned long h)
{
	for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->next_in_bucket)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

bool plat_cache_get(struct plat_cache *c, const char *key, void **val, size_t *len, unsigned long long *generation)
{
	*val = NULL;
	*len = 0;
	unsigned long h = key_hash(key);
	pthread_mutex_lock(&c->lock);
	*generation = c->generation;
	struct entry *e = c->enabled ? find(c, key, h) : NULL;
	if (e && e->expires_ms <= plat_clock_ms()) {
		unlink_entry(c, e);
		e = NULL;
	}
	if (e) {
		unsigned char *copy = plat_xmalloc(e->len + 1);
		memcpy(copy, e->val, e->len);
		copy[e->len] = '\0';
		*val = copy;
		*len = e->len;
		c->stats.hits++;
	} else {
		c->stats.misses++;
	}
	pthread_mutex_unlock(&c->lock);
	return e != NULL;
}

void plat_cache_put(struct plat_cache *c, const char *key, const void *val, size_t len,
		    unsigned long long generation, long long ttl_ms)
{
	unsigned long h = key_hash(key);
	/* Copies made outside the lock. */
	struct entry *n = plat_xcalloc(1, sizeof(*n));
	n->key = plat_xstrdup(key);
	n->val = plat_xmalloc(len ? len : 1);
	memcpy(n->val, val, len);
	n->len = len;
	n->hash = h;
	pthread_mutex_lock(&c->lock);
	if (!c->enabled || generation != c->generation) {
		c->stats.dropped++;
		pthread_mutex_unlock(&c->lock);
		free(n->key);
		free(n->val);
		free(n);
		return;
	}
	long long ttl = ttl_ms > 0 && ttl_ms < c->ttl_ms ? ttl_ms : c->ttl_ms;
	n->expires_ms = plat_clock_ms() + ttl;
	struct entry *old = find(c, key, h);
	if (old)
		unlink_entry(c, old);
	while (c->n >= c->max_entries && c->oldest) {
		unlink_entry(c, c->oldest);
		c->stats.evictions++;
	}
	struct entry **b = &c->buckets[h & (c->nbuckets - 1)];
	n->next_in_bucket = *b;
	*b = n;
	n->older = c->newest;
	if (c->newest)
		c->newest->newer = n;
	else
		c->oldest = n;
	c->newest = n;
	c->n++;
	c->stats.puts++;
	pthread_mutex_unlock(&c->lock);
}

void plat_cache_invalidate_prefix(struct plat_cache *c, const char *prefix)
{
	pthread_mutex_lock(&c->lock);
	drop_matching(c, prefix);
	c->generation++;
	c->stats.invalidations++;
	pthread_mutex_unlock(&c->lock);
}

void plat_cache_invalidate(struct plat_cache *c, const char *key)
{
	unsigned long h = key_hash(key);
	pthread_mutex_lock(&c->lock);
	struct entry *e = find(c, key, h);
	if (e)
		unlink_entry(c, e);
	c->generation++;
	c->stats.invalidations++;
	pthread_mutex_unlock(&c->lock);
}

void plat_cache_stats(struct plat_cache *c, struct plat_cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	out->entries = c->n;
	pthread_mutex_unlock(&c->lock);
}
