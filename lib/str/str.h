/* String helpers that every layer needs: UTF-8 checks, safe printing, edit distance. */
#ifndef PLAT_STR_H
#define PLAT_STR_H

#include <stdbool.h>
#include <stddef.h>

#include "mem/mem.h"

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool plat_utf8_valid(const char *s, size_t len);

/* Append s to out, replacing each ill-formed UTF-8 sequence with U+FFFD. */
void plat_utf8_sanitize(struct plat_buf *out, const char *s, size_t len);

/* Append s to out so a terminal shows it literally: control characters and ill-formed
 * UTF-8 become \n, \t, \xNN escapes, and backslash becomes \\. For names that come from
 * users and files. */
void plat_str_escape_terminal(struct plat_buf *out, const char *s, size_t len);

/* Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions),
 * for did-you-mean suggestions. */
size_t plat_str_edit_distance(const char *a, const char *b);

bool plat_str_has_prefix(const char *s, const char *prefix);

/* s, the whole of it, as a decimal number (strtod's syntax): false for "", "0.5x" or "x". */
bool plat_str_to_double(const char *s, double *out);

/* A positive duration with one unit, s m h d w y ("30d", "12h"), in seconds: false for
 * "", "0d", "30", "3x" or an overflow. */
bool plat_str_to_seconds(const char *s, long long *out);

#endif
