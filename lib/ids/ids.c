#include "ids/ids.h"

#include <string.h>

#include <openssl/rand.h>

int plat_id_request(char out[PLAT_REQUEST_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[PLAT_REQUEST_ID_LEN / 2];
	if (RAND_bytes(raw, (int)sizeof(raw)) != 1) {
		out[0] = '\0';
		return -1;
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
