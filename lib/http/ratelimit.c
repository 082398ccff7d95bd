#include "http/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"

#define SLOTS 4096 /* a power of two */
#define WINDOW 8

struct bucket {
	uint64_t key; /* 0: free */
	double tokens;
	long long at_ms; /* last refill, and last use */
};

struct plat_ratelimit {
	double rate, burst;
	pthread_mutex_t lock;
	struct bucket slots[SLOTS];
};

struct plat_ratelimit *plat_ratelimit_new(double rate, double burst)
{
	struct plat_ratelimit *rl = plat_xcalloc(1, sizeof(*rl));
	rl->rate = rate;
	rl->burst = burst < 1 ? 1 : burst;
	pthread_mutex_init(&rl->lock, NULL);
	return rl;
}

void plat_ratelimit_free(struct plat_ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

/* FNV-1a, never 0. */
static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

bool plat_ratelimit_take(struct plat_ratelimit *rl, const char *key, long long now_ms, int *retry_after_s)
{
	*retry_after_s = 0;
	if (rl->rate <= 0)
		return true;
	uint64_t h = hash(key);
	pthread_mutex_lock(&rl->lock);
	struct bucket *b = NULL, *oldest = NULL;
	for (int i = 0; i < WINDOW && !b; i++) {
		struct bucket *s = &rl->slots[(h + (uint64_t)i) & (SLOTS - 1)];
		if (s->key == h)
			b = s;
		else if (!oldest || s->key == 0 || (oldest->key != 0 && s->at_ms < oldest->at_ms))
			oldest = s;
	}
	if (!b) {
		b = oldest;
		b->key = h;
		b->tokens = rl->burst;
		b->at_ms = now_ms;
	}
	double elapsed = (double)(now_ms - b->at_ms) / 1000.0;
	if (elapsed > 0)
		b->tokens = fmin(rl->burst, b->tokens + elapsed * rl->rate);
	b->at_ms = now_ms;
	bool ok = b->tokens >= 1;
	if (ok)
		b->tokens -= 1;
	else
		*retry_after_s = (int)ceil((1 - b->tokens) / rl->rate);
	if (!ok && *retry_after_s < 1)
		*retry_after_s = 1;
	pthread_mutex_unlock(&rl->lock);
	return ok;
}
