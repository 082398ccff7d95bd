/* Shared between the S3 driver's files; not a public header. */
#ifndef PLAT_STORE_S3_INTERNAL_H
#define PLAT_STORE_S3_INTERNAL_H

#include <stdbool.h>

#include <curl/curl.h>

#include "mem/mem.h"
#include "sigv4/sigv4.h"
#include "store/store.h"

struct s3_creds {
	char *access_key;
	char *secret_key;
	char *session_token;
	const char *source; /* where they came from, for debug logs */
};

struct s3_store {
	struct plat_store base;
	char *bucket, *prefix, *scheme, *host, *region, *sigv4;
	bool path_style, tls_verify;
	struct s3_creds creds;
	long long part_size, timeout_ms;
	int parallel, max_retries;
};

/* One request, retried as a whole. */
struct s3_call {
	const char *method;
	char *url;
	struct curl_slist *headers; /* fixed part; the Range header is added per attempt */
	const char *op;             /* "upload", "download", ... for messages */
	const char *key;
	/* body */
	const char *mem;
	int fd;
	long long body_off, body_len, body_pos;
	bool has_body;
	/* download */
	plat_store_writer sink;
	void *sink_arg;
	bool sink_failed;
	long long range_off, range_len; /* range_len < 0: to the end */
	bool ranged;
	long long delivered;
	/* response */
	CURL *easy;
	struct curl_slist *attempt_headers;
	struct plat_buf resp;
	char etag[256];
	char last_modified[64];
	long long content_length;
	char curl_err[CURL_ERROR_SIZE];
	/* retries */
	int attempt;
	long long not_before_ms;
	void *owner; /* the multipart part this call belongs to */
	plat_store_progress progress;
	void *progress_arg;
	bool missing_ok; /* a 404 for the object (not the bucket) counts as success */
};

enum s3_outcome { OUT_DONE, OUT_RETRY, OUT_FAILED };

/* scheme://host[/bucket][/encoded key][?canonical query] */
char *s3_make_url(struct s3_store *s3, const char *key, const struct plat_sigv4_param *q, size_t nq);
void s3_call_init(struct s3_call *c, const char *method, char *url, const char *op, const char *key);
void s3_call_add_header(struct s3_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void s3_call_free(struct s3_call *c);
/* A fresh easy handle for the call's next attempt. */
CURL *s3_call_easy(struct s3_store *s3, struct s3_call *c);
/* Classify a finished attempt: done, retry (not_before_ms set), or failed (err set). */
enum s3_outcome s3_call_outcome(struct s3_store *s3, struct s3_call *c, CURLcode cc, int *rc, struct plat_error *err);
/* Perform with retries, sleeping between attempts. */
int s3_call_run(struct s3_store *s3, struct s3_call *c, struct plat_error *err);

/* put, single or multipart (s3_upload.c) */
int s3_put(struct plat_store *s, const char *key, plat_store_reader read, void *arg, int fd, const char *content_type,
	   plat_store_progress progress, void *progress_arg, struct plat_store_put_result *res, struct plat_error *err);

int s3_find_creds(const struct plat_store_options *o, struct s3_creds *c, struct plat_error *err);
void s3_free_creds(struct s3_creds *c);

/* Text of the first element named name (any namespace) in an XML document, or NULL.
 * Documents are parsed without network access or entity expansion. */
char *s3_xml_text(const char *xml, size_t len, const char *name);

/* ListObjectsV2: call fn for each <Contents>; returns 0 or -1 when the XML is bad. */
int s3_xml_list(const char *xml, size_t len,
		void (*fn)(void *arg, const char *key, long long size, const char *etag, const char *last_modified),
		void *arg, char **next_token, bool *truncated);

#endif
