#include "ids/ids.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/rand.h>

/* Request ids must be unique, not secret (they go back to clients and into logs): a
 * per-thread splitmix64 stream seeded once from RAND_bytes, rather than RAND_bytes for
 * each id, whose fork check is a getpid system call every time (4 % of the server's time
 * on /healthz). A forked child reseeds, so it never repeats its parent's ids. */
static __thread uint64_t id_state;
static __thread bool id_seeded;
static pthread_once_t id_atfork_once = PTHREAD_ONCE_INIT;

static void id_reseed_in_child(void)
{
	id_seeded = false;
}

static void id_atfork(void)
{
	pthread_atfork(NULL, NULL, id_reseed_in_child);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

int plat_id_request(char out[PLAT_REQUEST_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	if (!id_seeded) {
		pthread_once(&id_atfork_once, id_atfork);
		if (RAND_bytes((unsigned char *)&id_state, (int)sizeof(id_state)) != 1) {
			out[0] = '\0';
			return -1;
		}
		id_seeded = true;
	}
	unsigned char raw[PLAT_REQUEST_ID_LEN / 2];
	for (size_t i = 0; i < sizeof(raw); i += 8) {
		uint64_t v = splitmix64(&id_state);
		memcpy(raw + i, &v, sizeof(raw) - i < 8 ? sizeof(raw) - i : 8);
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[PLAT_REQUEST_ID_LEN] = '\0';
	return 0;
}

bool plat_id_request_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}

bool plat_id_uuid_shaped(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}
