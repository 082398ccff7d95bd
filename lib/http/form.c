/* multipart/form-data uploads (see form.h). */
#include "http/form.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "http/http.h"
#include "io/io.h"
#include "mem/mem.h"

#define FORM_FIELDS_MAX 80          /* 63 tags and the rest */
#define FORM_FIELD_BYTES (16 * 1024) /* all fields together: they are names and tags */

struct field {
	char key[32];
	struct plat_buf value;
};

struct plat_http_form {
	struct MHD_Connection *conn;
	struct MHD_PostProcessor *pp;
	int spool_fd;
	long long limit, file_size;
	bool file_seen, file_done; /* a file part began; a second one is refused */
	char file_key[32];
	char *filename;
	struct field fields[FORM_FIELDS_MAX];
	int nfields;
	size_t field_bytes;
	int verdict; /* 0, or the status plat_http_form_finish returns */
	char problem[160];
};

bool plat_http_form_is_multipart(const char *ct)
{
	return ct && strncasecmp(ct, "multipart/form-data", 19) == 0 && (ct[19] == ';' || ct[19] == ' ' || !ct[19]);
}

static enum MHD_Result refuse(struct plat_http_form *f, int status, const char *msg)
{
	if (!f->verdict) {
		f->verdict = status;
		snprintf(f->problem, sizeof(f->problem), "%s", msg);
	}
	return MHD_NO;
}

static enum MHD_Result part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
			    const char *content_type, const char *transfer_encoding, const char *data, uint64_t off,
			    size_t size)
{
	(void)kind, (void)content_type, (void)transfer_encoding;
	struct plat_http_form *f = cls;
	if (f->verdict)
		return MHD_NO;
	if (!key)
		key = "";
	if (filename) {
		/* The file part: straight to the spool, as a raw body would go. */
		if (off == 0) {
			if (f->file_seen && (strcmp(key, f->file_key) != 0 || f->file_done))
				return refuse(f, 400, "the form has more than one file: upload one document per request");
			f->file_seen = true;
			snprintf(f->file_key, sizeof(f->file_key), "%s", key);
			free(f->filename);
			f->filename = plat_xstrdup(filename);
		}
		if (f->file_size + (long long)size > f->limit)
			return refuse(f, 413, "");
		if (size && plat_write_all(f->spool_fd, data, size) < 0)
			return refuse(f, 503, "");
		f->file_size += (long long)size;
		return MHD_YES;
	}
	if (f->file_seen)
		f->file_done = true;
	if (f->field_bytes + size > FORM_FIELD_BYTES)
		return refuse(f, 400, "the form's fields are larger than 16 KiB");
	struct field *last = f->nfields ? &f->fields[f->nfields - 1] : NULL;
	if (off == 0 || !last || strcmp(last->key, key) != 0) {
		if (f->nfields == FORM_FIELDS_MAX)
			return refuse(f, 400, "the form has more than 80 fields");
		if (strlen(key) >= sizeof(last->key))
			return refuse(f, 400, "a form field's name is longer than 31 bytes");
		last = &f->fields[f->nfields++];
		snprintf(last->key, sizeof(last->key), "%s", key);
		last->value = (struct plat_buf)PLAT_BUF_INIT;
		plat_buf_reserve(&last->value, 0);
	}
	plat_buf_append(&last->value, data, size);
	f->field_bytes += size;
	return MHD_YES;
}

struct plat_http_form *plat_http_form_new(struct MHD_Connection *c, int spool_fd, long long limit,
					  struct plat_error *err)
{
	struct plat_http_form *f = plat_xcalloc(1, sizeof(*f));
	f->conn = c;
	f->spool_fd = spool_fd;
	f->limit = limit;
	f->pp = MHD_create_post_processor(c, 64 * 1024, part, f);
	if (!f->pp) {
		free(f);
		plat_error_set(err, PLAT_E_USAGE, "the multipart/form-data body has no boundary");
		return NULL;
	}
	return f;
}

void plat_http_form_free(struct plat_http_form *f)
{
	if (!f)
		return;
	if (f->pp)
		MHD_destroy_post_processor(f->pp);
	for (int i = 0; i < f->nfields; i++)
		plat_buf_free(&f->fields[i].value);
	free(f->filename);
	free(f);
}

void plat_http_form_feed(struct plat_http_form *f, const char *data, size_t size)
{
	if (!f->verdict && MHD_post_process(f->pp, data, size) != MHD_YES)
		refuse(f, 400, "the multipart/form-data body is malformed");
}

int plat_http_form_finish(struct plat_http_form *f, struct plat_error *err)
{
	/* Destroying the processor flushes what it held back; a body cut short is an error. */
	if (f->pp && MHD_destroy_post_processor(f->pp) != MHD_YES)
		refuse(f, 400, "the multipart/form-data body ends before its closing boundary");
	f->pp = NULL;
	if (!f->verdict && !f->file_seen)
		refuse(f, 400, "the form has no file part: send the document as a file field (curl -F file=@PATH)");
	switch (f->verdict) {
	case 0:
		return 0;
	case 413:
		plat_error_set(err, PLAT_E_INVALID, "the file is larger than %lld bytes", f->limit);
		break;
	case 503:
		plat_error_set(err, PLAT_E_UNAVAILABLE, "cannot spool the body: %s", strerror(errno ? errno : ENOSPC));
		break;
	default:
		plat_error_set(err, PLAT_E_USAGE, "%s", f->problem);
	}
	return f->verdict;
}

const char *plat_http_form_value(const struct plat_http_form *f, const char *key)
{
	for (int i = 0; i < f->nfields; i++)
		if (strcmp(f->fields[i].key, key) == 0)
			return f->fields[i].value.data;
	return NULL;
}

int plat_http_form_values(const struct plat_http_form *f, const char *key, const char **values, int max)
{
	int n = 0;
	for (int i = 0; i < f->nfields && n < max; i++)
		if (strcmp(f->fields[i].key, key) == 0)
			values[n++] = f->fields[i].value.data;
	return n;
}

const char *plat_http_form_filename(const struct plat_http_form *f)
{
	return f->filename ? f->filename : "";
}

long long plat_http_form_file_size(const struct plat_http_form *f)
{
	return f->file_size;
}

const char *plat_http_form_query(void *form, const char *name)
{
	struct plat_http_form *f = form;
	const char *v = plat_http_form_value(f, name);
	if (!v && strcmp(name, "name") == 0 && f->filename && *f->filename)
		v = f->filename;
	return v ? v : MHD_lookup_connection_value(f->conn, MHD_GET_ARGUMENT_KIND, name);
}

int plat_http_form_query_all(void *form, const char *name, const char **values, int max)
{
	struct plat_http_form *f = form;
	int n = plat_http_form_values(f, name, values, max);
	return n + (n < max ? plat_http_conn_query_all(f->conn, name, values + n, max - n) : 0);
}

const char *plat_http_form_header(void *form, const char *name)
{
	return MHD_lookup_connection_value(((struct plat_http_form *)form)->conn, MHD_HEADER_KIND, name);
}
