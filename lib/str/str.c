#include "str/str.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when it is ill-formed.
 * Follows Unicode's Table 3-7 (well-formed byte sequences). */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0; /* no overlongs */
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* <= U+10FFFF */
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

bool plat_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_seq_len(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

void plat_utf8_sanitize(struct plat_buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_seq_len(p + i, len - i);
		if (n == 0) {
			plat_buf_append(out, "\xEF\xBF\xBD", 3);
			i++;
		} else {
			plat_buf_append(out, p + i, n);
			i += n;
		}
	}
}

void plat_str_escape_terminal(struct plat_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	plat_buf_reserve(out, 0); /* an empty name is still a string for "%s" */
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		size_t n = utf8_seq_len(p + i, len - i);
		if (n > 1) {
			/* C1 controls (U+0080..U+009F) are encoded as C2 80..C2 9F. */
			if (c == 0xC2 && p[i + 1] < 0xA0) {
				plat_buf_puts(out, "\\u00");
				plat_buf_putc(out, hex[p[i + 1] >> 4]);
				plat_buf_putc(out, hex[p[i + 1] & 15]);
			} else {
				plat_buf_append(out, p + i, n);
			}
			i += n;
			continue;
		}
		switch (c) {
		case '\\': plat_buf_puts(out, "\\\\"); break;
		case '\n': plat_buf_puts(out, "\\n"); break;
		case '\r': plat_buf_puts(out, "\\r"); break;
		case '\t': plat_buf_puts(out, "\\t"); break;
		default:
			if (n == 1 && c >= 0x20 && c != 0x7F) {
				plat_buf_putc(out, (char)c);
			} else {
				plat_buf_puts(out, "\\x");
				plat_buf_putc(out, hex[c >> 4]);
				plat_buf_putc(out, hex[c & 15]);
			}
		}
		i++;
	}
}

size_t plat_str_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	/* Three rows: two back (for transpositions), previous, current. */
	size_t *rows = plat_xcalloc(3 * (lb + 1), sizeof(size_t));
	size_t *r2 = rows, *r1 = rows + lb + 1, *r0 = rows + 2 * (lb + 1);
	for (size_t j = 0; j <= lb; j++)
		r1[j] = j;
	for (size_t i = 1; i <= la; i++) {
		r0[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = r1[j - 1] + cost;            /* substitution */
			if (r1[j] + 1 < best)
				best = r1[j] + 1;                   /* deletion */
			if (r0[j - 1] + 1 < best)
				best = r0[j - 1] + 1;               /* insertion */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    r2[j - 2] + 1 < best)
				best = r2[j - 2] + 1;               /* transposition */
			r0[j] = best;
		}
		size_t *t = r2;
		r2 = r1;
		r1 = r0;
		r0 = t;
	}
	size_t d = r1[lb];
	free(rows);
	return d;
}

bool plat_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool plat_str_to_double(const char *s, double *out)
{
	char *end = NULL;
	double d = strtod(s, &end);
	if (!*s || !end || *end)
		return false;
	*out = d;
	return true;
}

bool plat_str_to_seconds(const char *s, long long *out)
{
	static const struct {
		char unit;
		long long seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}, {'y', 365 * 86400}};
	if (!s || *s < '0' || *s > '9')
		return false;
	char *end = NULL;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (errno || !end || strlen(end) != 1 || n <= 0)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (*end == units[i].unit) {
			if (n > LLONG_MAX / units[i].seconds)
				return false;
			*out = n * units[i].seconds;
			return true;
		}
	}
	return false;
}
