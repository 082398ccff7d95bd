/* POST /v1/documents as multipart/form-data (what a browser's <form> and `curl -F` send):
 * libmicrohttpd's post processor parses the parts as they arrive; the one file part goes
 * to the request's spool file, as a raw body would, and the small fields (name, title,
 * class, tag, new_version) are kept for the handler. Nothing is buffered whole. */
#ifndef PLAT_HTTP_FORM_H
#define PLAT_HTTP_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "error/error.h"

struct MHD_Connection;
struct plat_http_form;

/* Whether a Content-Type is multipart/form-data. */
bool plat_http_form_is_multipart(const char *content_type);

/* A parser for the connection's body, writing the file part to spool_fd, at most limit
 * bytes of it. NULL with err (PLAT_E_USAGE) when the body cannot be parsed (no boundary). */
struct plat_http_form *plat_http_form_new(struct MHD_Connection *c, int spool_fd, long long limit,
					  struct plat_error *err);
void plat_http_form_free(struct plat_http_form *f);

/* Feed what arrived. */
void plat_http_form_feed(struct plat_http_form *f, const char *data, size_t size);

/* After the last byte: the form's verdict. 413 (the file is larger than the limit), 503
 * (the spool could not be written), 400 (malformed, no file part, two file parts, fields
 * too large), with err; 0 when the form is good. */
int plat_http_form_finish(struct plat_http_form *f, struct plat_error *err);

/* The request's accessors for its handler when the body is a form (req->conn is then the
 * form): a field, or else the query parameter of that name ("name" defaulting to the
 * file's name); every value of a repeated one, fields first; headers as they came. */
const char *plat_http_form_query(void *form, const char *name);
int plat_http_form_query_all(void *form, const char *name, const char **values, int max);
const char *plat_http_form_header(void *form, const char *name);

/* A field's first value (NULL when absent), every value of a repeated one, the file
 * part's filename ("" when the part had none) and its size. */
const char *plat_http_form_value(const struct plat_http_form *f, const char *key);
int plat_http_form_values(const struct plat_http_form *f, const char *key, const char **values, int max);
const char *plat_http_form_filename(const struct plat_http_form *f);
long long plat_http_form_file_size(const struct plat_http_form *f);

#endif
