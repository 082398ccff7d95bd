/* Per-principal token buckets for the server: rate tokens a second up to burst, one per
 * request. A fixed table (no allocation per client, so a flood of new names cannot grow
 * memory): a key hashes to a window of slots; when all are taken, the least recently used
 * one is reused, which at worst gives a long-idle principal a fresh bucket. */
#ifndef PLAT_HTTP_RATELIMIT_H
#define PLAT_HTTP_RATELIMIT_H

#include <stdbool.h>

struct plat_ratelimit;

/* rate 0: every request is allowed. */
struct plat_ratelimit *plat_ratelimit_new(double rate, double burst);
void plat_ratelimit_free(struct plat_ratelimit *rl);

/* Take one token for key at now_ms (a monotonic clock). false: none left, and
 * *retry_after_s says in how many whole seconds one will be (at least 1). */
bool plat_ratelimit_take(struct plat_ratelimit *rl, const char *key, long long now_ms, int *retry_after_s);

#endif
