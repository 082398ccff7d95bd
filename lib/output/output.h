/* Rendering of command results on stdout: table for people, JSON and YAML for programs.
 *
 * Commands build a cJSON value (the same value `-o json` prints, so the schemas stay
 * one thing) and hand it here. Only data goes to stdout; logs go to stderr. */
#ifndef PLAT_OUTPUT_H
#define PLAT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "error/error.h"

enum plat_output_format {
	PLAT_OUT_TABLE,
	PLAT_OUT_JSON,
	PLAT_OUT_YAML,
	PLAT_OUT_IDS, /* the "id" of each element (or of the object), one per line: for scripts */
	PLAT_OUT_MARKDOWN, /* a pipe table, for reports pasted into tickets and wikis */
	PLAT_OUT_CSV,      /* RFC 4180: CRLF, fields with , " CR or LF quoted, quotes doubled */
};

/* Returns the format for "table|json|yaml|ids|markdown|csv", or -1. */
int plat_output_format_parse(const char *s);

struct plat_output_column {
	const char *key;    /* field of each row object */
	const char *header; /* shown in the header line */
};

struct plat_output {
	FILE *out;
	enum plat_output_format format;
	bool color;
};

/* Print data. For tables (and markdown and csv): an array of objects is one row per
 * element with the given columns (all keys of the first row when columns is NULL); an
 * object is printed as KEY/VALUE rows. csv heads its columns with the keys themselves
 * and leaves null empty; nested values are JSON. Returns 0, or -1 when writing failed (e.g. EPIPE). */
int plat_output_print(const struct plat_output *o, const cJSON *data, const struct plat_output_column *columns);

/* Render to a malloc'd string (tests). */
char *plat_output_render(enum plat_output_format format, const cJSON *data,
			 const struct plat_output_column *columns);

/* Parse one YAML document (text of len bytes; name is used in errors as name:line:col)
 * into cJSON. Errors are PLAT_E_INVALID. */
int plat_yaml_load(const char *name, const char *text, size_t len, cJSON **out, struct plat_error *err);

#endif
