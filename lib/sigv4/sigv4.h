/* AWS Signature Version 4, for what libcurl's CURLOPT_AWS_SIGV4 does not do: presigned
 * URLs (query-string authentication). Requests themselves are signed by libcurl; the S3
 * driver hands it canonical paths and sorted, encoded queries so both agree.
 * Reference: AWS "Signature Calculations for the Authorization Header" and
 * "Authenticating Requests: Using Query Parameters"; tests/unit/test_sigv4.c reproduces
 * the documented examples. */
#ifndef PLAT_SIGV4_H
#define PLAT_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "mem/mem.h"

/* URI-encode per SigV4: A-Z a-z 0-9 - . _ ~ stay, everything else %XX (upper case);
 * '/' stays when keep_slash (object key paths). */
void plat_sigv4_uri_encode(struct plat_buf *out, const char *s, size_t len, int keep_slash);

struct plat_sigv4_param {
	const char *name;  /* raw (unencoded) */
	const char *value; /* raw; "" for a bare flag like ?uploads */
};

/* Append the canonical query string: encoded name=value pairs sorted by name, then value. */
void plat_sigv4_canonical_query(struct plat_buf *out, const struct plat_sigv4_param *params, size_t n);

struct plat_sigv4_header {
	const char *name;  /* any case; signed lower-cased */
	const char *value;
};

struct plat_sigv4_request {
	const char *method;
	const char *canonical_uri;   /* already encoded, e.g. "/bucket/a%20b.txt" */
	const char *canonical_query; /* from plat_sigv4_canonical_query, may be "" */
	const struct plat_sigv4_header *headers; /* must include host */
	size_t n_headers;
	const char *payload_hash;    /* hex sha256, or "UNSIGNED-PAYLOAD" */
	const char *amz_date;        /* 20130524T000000Z */
	const char *region;
	const char *service;
	const char *access_key;
	const char *secret_key;
};

/* Fill signature (64 hex + NUL) and signed_headers ("host;range;x-amz-date"). */
void plat_sigv4_sign(const struct plat_sigv4_request *r, char signature[65], struct plat_buf *signed_headers);

/* A presigned URL: base is "scheme://host[:port]", host_header the Host value signed.
 * expires in seconds (1..604800). Returns a malloc'd URL. */
char *plat_sigv4_presign(const char *method, const char *base, const char *host_header, const char *canonical_uri,
			 const char *region, const char *service, const char *access_key, const char *secret_key,
			 const char *session_token, time_t now, int expires);

void plat_sigv4_amz_date(time_t t, char out[17]);
void plat_sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
