#include "output/output.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "mem/mem.h"
#include "str/str.h"

int plat_output_format_parse(const char *s)
{
	if (strcmp(s, "table") == 0)
		return PLAT_OUT_TABLE;
	if (strcmp(s, "json") == 0)
		return PLAT_OUT_JSON;
	if (strcmp(s, "yaml") == 0)
		return PLAT_OUT_YAML;
	if (strcmp(s, "ids") == 0)
		return PLAT_OUT_IDS;
	if (strcmp(s, "markdown") == 0)
		return PLAT_OUT_MARKDOWN;
	if (strcmp(s, "csv") == 0)
		return PLAT_OUT_CSV;
	return -1;
}

/* ---- JSON ---- */

static void render_json(struct plat_buf *b, const cJSON *data)
{
	char *s = cJSON_Print(data);
	if (s) {
		plat_buf_puts(b, s);
		cJSON_free(s);
	}
	plat_buf_putc(b, '\n');
}

/* ---- YAML (libyaml's emitter does the quoting and escaping) ---- */

static int yaml_buf_write(void *data, unsigned char *buffer, size_t size)
{
	plat_buf_append(data, buffer, size);
	return 1;
}

/* Would a plain scalar with this text read back as something other than a string? */
static bool yaml_plain_is_ambiguous(const char *s)
{
	static const char *const words[] = {"", "~", "null", "Null", "NULL", "true", "True", "TRUE",
					    "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No",
					    "NO", "on", "On", "ON", "off", "Off", "OFF", ".inf", ".nan", NULL};
	for (const char *const *w = words; *w; w++)
		if (strcmp(s, *w) == 0)
			return true;
	char *end;
	strtod(s, &end);
	return end != s && *end == '\0';
}

static void emit_scalar(yaml_emitter_t *em, const char *text, bool string)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	if (string && yaml_plain_is_ambiguous(text))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1, 1, style);
	yaml_emitter_emit(em, &ev);
}

static void emit_number(yaml_emitter_t *em, double d)
{
	char num[64];
	if (d == floor(d) && fabs(d) < 1e15)
		snprintf(num, sizeof(num), "%.0f", d);
	else
		snprintf(num, sizeof(num), "%.17g", d);
	emit_scalar(em, num, false);
}

static void emit_node(yaml_emitter_t *em, const cJSON *n)
{
	yaml_event_t ev;
	if (cJSON_IsObject(n)) {
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		yaml_emitter_emit(em, &ev);
		for (const cJSON *c = n->child; c; c = c->next) {
			emit_scalar(em, c->string ? c->string : "", true);
			emit_node(em, c);
		}
		yaml_mapping_end_event_initialize(&ev);
		yaml_emitter_emit(em, &ev);
	} else if (cJSON_IsArray(n)) {
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		yaml_emitter_emit(em, &ev);
		for (const cJSON *c = n->child; c; c = c->next)
			emit_node(em, c);
		yaml_sequence_end_event_initialize(&ev);
		yaml_emitter_emit(em, &ev);
	} else if (cJSON_IsString(n)) {
		emit_scalar(em, n->valuestring, true);
	} else if (cJSON_IsNumber(n)) {
		emit_number(em, n->valuedouble);
	} else if (cJSON_IsBool(n)) {
		emit_scalar(em, cJSON_IsTrue(n) ? "true" : "false", false);
	} else {
		emit_scalar(em, "null", false);
	}
}

static void render_yaml(struct plat_buf *b, const cJSON *data)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	yaml_emitter_initialize(&em);
	yaml_emitter_set_output(&em, yaml_buf_write, b);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	yaml_emitter_emit(&em, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	yaml_emitter_emit(&em, &ev);
	emit_node(&em, data);
	yaml_document_end_event_initialize(&ev, 1);
	yaml_emitter_emit(&em, &ev);
	yaml_stream_end_event_initialize(&ev);
	yaml_emitter_emit(&em, &ev);
	yaml_emitter_delete(&em);
}

/* ---- table ---- */

/* Text for one cell: strings escaped for the terminal, containers compact. */
static char *cell_text(const cJSON *v)
{
	struct plat_buf b = PLAT_BUF_INIT;
	if (!v || cJSON_IsNull(v)) {
		plat_buf_puts(&b, "-");
	} else if (cJSON_IsString(v)) {
		plat_str_escape_terminal(&b, v->valuestring, strlen(v->valuestring));
	} else if (cJSON_IsBool(v)) {
		plat_buf_puts(&b, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == floor(d) && fabs(d) < 1e15)
			plat_buf_printf(&b, "%.0f", d);
		else
			plat_buf_printf(&b, "%g", d);
	} else if (cJSON_IsArray(v)) {
		for (const cJSON *c = v->child; c; c = c->next) {
			char *t = cell_text(c);
			plat_buf_printf(&b, "%s%s", c == v->child ? "" : ",", t);
			free(t);
		}
	} else {
		char *s = cJSON_PrintUnformatted(v);
		plat_str_escape_terminal(&b, s, strlen(s));
		cJSON_free(s);
	}
	plat_buf_reserve(&b, 0);
	return plat_buf_detach(&b);
}

/* Columns on a terminal: code points, not bytes (cells are valid UTF-8 after escaping). */
static size_t display_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

static void pad_cell(struct plat_buf *b, const char *text, size_t width, bool last)
{
	plat_buf_puts(b, text);
	if (!last)
		for (size_t w = display_width(text); w < width + 2; w++)
			plat_buf_putc(b, ' ');
}

static void render_rows(struct plat_buf *b, size_t ncols, const char **headers, char ***cells, size_t nrows,
			bool color)
{
	size_t *width = plat_xcalloc(ncols, sizeof(size_t));
	for (size_t c = 0; c < ncols; c++) {
		width[c] = display_width(headers[c]);
		for (size_t r = 0; r < nrows; r++) {
			size_t w = display_width(cells[r][c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	if (color)
		plat_buf_puts(b, "\033[1m");
	for (size_t c = 0; c < ncols; c++)
		pad_cell(b, headers[c], width[c], c + 1 == ncols);
	if (color)
		plat_buf_puts(b, "\033[0m");
	plat_buf_putc(b, '\n');
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < ncols; c++)
			pad_cell(b, cells[r][c], width[c], c + 1 == ncols);
		plat_buf_putc(b, '\n');
	}
	free(width);
}

static char *upper_dup(const char *s)
{
	char *u = plat_xstrdup(s);
	for (char *p = u; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	return u;
}

static void render_table(struct plat_buf *b, const cJSON *data, const struct plat_output_column *columns,
			 bool color)
{
	if (cJSON_IsArray(data)) {
		size_t ncols = 0;
		const cJSON *first = data->child;
		if (columns) {
			while (columns[ncols].key)
				ncols++;
		} else if (first && cJSON_IsObject(first)) {
			for (const cJSON *c = first->child; c; c = c->next)
				ncols++;
		}
		if (ncols == 0) {
			/* An array of scalars: one per line. */
			for (const cJSON *c = data->child; c; c = c->next) {
				char *t = cell_text(c);
				plat_buf_printf(b, "%s\n", t);
				free(t);
			}
			return;
		}
		const char **keys = plat_xcalloc(ncols, sizeof(char *));
		const char **headers = plat_xcalloc(ncols, sizeof(char *));
		size_t i = 0;
		if (columns) {
			for (; i < ncols; i++) {
				keys[i] = columns[i].key;
				headers[i] = upper_dup(columns[i].header ? columns[i].header : columns[i].key);
			}
		} else {
			for (const cJSON *c = first->child; c; c = c->next, i++) {
				keys[i] = c->string;
				headers[i] = upper_dup(c->string);
			}
		}
		size_t nrows = (size_t)cJSON_GetArraySize(data);
		char ***cells = plat_xcalloc(nrows ? nrows : 1, sizeof(char **));
		size_t r = 0;
		for (const cJSON *row = data->child; row; row = row->next, r++) {
			cells[r] = plat_xcalloc(ncols, sizeof(char *));
			for (size_t c = 0; c < ncols; c++)
				cells[r][c] = cell_text(cJSON_GetObjectItemCaseSensitive(row, keys[c]));
		}
		render_rows(b, ncols, headers, cells, nrows, color);
		for (r = 0; r < nrows; r++) {
			for (size_t c = 0; c < ncols; c++)
				free(cells[r][c]);
			free(cells[r]);
		}
		for (i = 0; i < ncols; i++)
			free((char *)headers[i]);
		free(cells);
		free(keys);
		free(headers);
	} else if (cJSON_IsObject(data)) {
		/* KEY VALUE rows; no header line, like `kubectl describe`. */
		size_t width = 0;
		for (const cJSON *c = data->child; c; c = c->next)
			if (strlen(c->string) > width)
				width = strlen(c->string);
		for (const cJSON *c = data->child; c; c = c->next) {
			char *t = cell_text(c);
			plat_buf_printf(b, "%s%-*s%s  %s\n", color ? "\033[1m" : "", (int)width, c->string,
					color ? "\033[0m" : "", t);
			free(t);
		}
	} else {
		char *t = cell_text(data);
		plat_buf_printf(b, "%s\n", t);
		free(t);
	}
}

static void render_ids(struct plat_buf *b, const cJSON *data)
{
	const cJSON *one = cJSON_IsObject(data) ? data : NULL;
	for (const cJSON *c = one ? one : (cJSON_IsArray(data) ? data->child : NULL); c; c = one ? NULL : c->next) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
		if (cJSON_IsString(id)) {
			plat_str_escape_terminal(b, id->valuestring, strlen(id->valuestring));
			plat_buf_putc(b, '\n');
		}
	}
}

/* ---- markdown and csv ---- */

static char *csv_text(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return plat_xstrdup("");
	if (cJSON_IsString(v))
		return plat_xstrdup(v->valuestring);
	if (cJSON_IsNumber(v) || cJSON_IsBool(v))
		return cell_text(v);
	char *s = cJSON_PrintUnformatted(v);
	char *copy = plat_xstrdup(s ? s : "");
	cJSON_free(s);
	return copy;
}

static void put_field(struct plat_buf *b, const char *text, bool csv)
{
	if (csv) {
		if (!text[strcspn(text, ",\"\r\n")]) {
			plat_buf_puts(b, text);
			return;
		}
		plat_buf_putc(b, '"');
		for (const char *p = text; *p; p++) {
			if (*p == '"')
				plat_buf_putc(b, '"');
			plat_buf_putc(b, *p);
		}
		plat_buf_putc(b, '"');
		return;
	}
	plat_buf_putc(b, ' ');
	for (const char *p = text; *p; p++) {
		if (*p == '|' || *p == '\\')
			plat_buf_putc(b, '\\');
		plat_buf_putc(b, *p);
	}
	plat_buf_puts(b, " |");
}

static void put_row(struct plat_buf *b, const char **fields, size_t n, bool csv)
{
	if (!csv)
		plat_buf_putc(b, '|');
	for (size_t i = 0; i < n; i++) {
		if (csv && i)
			plat_buf_putc(b, ',');
		put_field(b, fields[i], csv);
	}
	plat_buf_puts(b, csv ? "\r\n" : "\n");
}

static void render_grid(struct plat_buf *b, const cJSON *data, const struct plat_output_column *columns, bool csv)
{
	static const char *const kv[] = {"key", "value"};
	const cJSON *first = cJSON_IsArray(data) ? data->child : NULL;
	bool rows_are_objects = cJSON_IsArray(data) && (columns || (first && cJSON_IsObject(first)));
	size_t ncols = 0;
	const char **keys;
	if (rows_are_objects && columns) {
		while (columns[ncols].key)
			ncols++;
		keys = plat_xcalloc(ncols ? ncols : 1, sizeof(char *));
		for (size_t i = 0; i < ncols; i++)
			keys[i] = columns[i].key;
	} else if (rows_are_objects) {
		for (const cJSON *c = first->child; c; c = c->next)
			ncols++;
		keys = plat_xcalloc(ncols ? ncols : 1, sizeof(char *));
		size_t i = 0;
		for (const cJSON *c = first->child; c; c = c->next)
			keys[i++] = c->string;
	} else {
		ncols = cJSON_IsObject(data) ? 2 : 1;
		keys = plat_xcalloc(2, sizeof(char *));
		keys[0] = ncols == 2 ? kv[0] : kv[1];
		keys[1] = kv[1];
	}
	const char **heads = plat_xcalloc(ncols ? ncols : 1, sizeof(char *));
	for (size_t i = 0; i < ncols; i++)
		heads[i] = rows_are_objects && columns && columns[i].header && !csv ? columns[i].header : keys[i];
	put_row(b, heads, ncols, csv);
	if (!csv) {
		plat_buf_putc(b, '|');
		for (size_t i = 0; i < ncols; i++)
			plat_buf_puts(b, " --- |");
		plat_buf_putc(b, '\n');
	}
	char **cells = plat_xcalloc(ncols ? ncols : 1, sizeof(char *));
	const cJSON *items = cJSON_IsArray(data) || cJSON_IsObject(data) ? data->child : data;
	for (const cJSON *row = items; row; row = (cJSON_IsArray(data) || cJSON_IsObject(data)) ? row->next : NULL) {
		for (size_t c = 0; c < ncols; c++) {
			const cJSON *v = rows_are_objects ? cJSON_GetObjectItemCaseSensitive(row, keys[c])
					 : ncols == 2 && c == 0 ? NULL : row;
			if (ncols == 2 && c == 0 && !rows_are_objects)
				cells[c] = plat_xstrdup(row->string ? row->string : "");
			else
				cells[c] = csv ? csv_text(v) : cell_text(v);
		}
		put_row(b, (const char **)cells, ncols, csv);
		for (size_t c = 0; c < ncols; c++)
			free(cells[c]);
	}
	free(cells);
	free(heads);
	free(keys);
}

static void render(struct plat_buf *b, enum plat_output_format format, const cJSON *data,
		   const struct plat_output_column *columns, bool color)
{
	switch (format) {
	case PLAT_OUT_JSON: render_json(b, data); break;
	case PLAT_OUT_YAML: render_yaml(b, data); break;
	case PLAT_OUT_IDS: render_ids(b, data); break;
	case PLAT_OUT_MARKDOWN: render_grid(b, data, columns, false); break;
	case PLAT_OUT_CSV: render_grid(b, data, columns, true); break;
	default: render_table(b, data, columns, color); break;
	}
}

char *plat_output_render(enum plat_output_format format, const cJSON *data, const struct plat_output_column *columns)
{
	struct plat_buf b = PLAT_BUF_INIT;
	render(&b, format, data, columns, false);
	plat_buf_reserve(&b, 0);
	return plat_buf_detach(&b);
}

int plat_output_print(const struct plat_output *o, const cJSON *data, const struct plat_output_column *columns)
{
	struct plat_buf b = PLAT_BUF_INIT;
	render(&b, o->format, data, columns, o->color);
	size_t n = b.len ? fwrite(b.data, 1, b.len, o->out) : 0;
	int rc = (n == b.len && fflush(o->out) == 0) ? 0 : -1;
	plat_buf_free(&b);
	return rc;
}
