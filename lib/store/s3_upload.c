/* S3 uploads: one PUT up to the part size, multipart upload above it.
 *
 * From a regular file, parts are hashed with a first pread pass and then streamed from
 * the file by curl, so memory stays small whatever the object's size and a retried part
 * is simply read again. From a stream (stdin, a pipe, a callback) each part is buffered,
 * so at most `parallel` parts are held in memory. The whole object's sha256 is computed
 * in order as parts are prepared. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "hash/hash.h"

#include "clock/clock.h"
#include "log/log.h"
#include "mem/mem.h"
#include "store/s3_internal.h"
#include "str/str.h"

struct part {
	struct s3_call call;
	int number;
	char *buf; /* stream mode */
	bool in_flight, done;
};

struct upload {
	struct s3_store *s3;
	const char *key;
	const char *content_type;
	/* a regular file, read with pread */
	int fd;
	long long start, size, next_off;
	/* or a stream */
	plat_store_reader read;
	void *arg;
	int stream_fd;
	char *first;
	size_t first_len;
	bool source_done;
	EVP_MD_CTX *whole;
	long long total;
	int next_number;
	char *upload_id;
	plat_store_progress progress;
	void *progress_arg;
};

static ssize_t stream_read(struct upload *u, char *buf, size_t len)
{
	if (u->read)
		return u->read(u->arg, buf, len);
	ssize_t n;
	do
		n = read(u->stream_fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Fill buf as far as the stream allows; returns bytes read or -1. */
static ssize_t stream_fill(struct upload *u, char *buf, size_t cap)
{
	size_t got = 0;
	while (got < cap) {
		ssize_t n = stream_read(u, buf + got, cap - got);
		if (n < 0)
			return -1;
		if (n == 0) {
			u->source_done = true;
			break;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void hex32(const unsigned char *md, char out[65])
{
	plat_hex(md, 32, out);
}

/* sha256 of a file range (and feed the whole-object hash); -1 on read errors. */
static int hash_range(struct upload *u, long long off, long long len, char out[65])
{
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	EVP_DigestInit_ex(h, EVP_sha256(), NULL);
	char *buf = plat_xmalloc(1 << 20);
	int rc = 0;
	while (len > 0) {
		ssize_t n = pread(u->fd, buf, len > (1 << 20) ? (1 << 20) : (size_t)len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -1;
			break;
		}
		EVP_DigestUpdate(h, buf, (size_t)n);
		EVP_DigestUpdate(u->whole, buf, (size_t)n);
		off += n;
		len -= n;
	}
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex(h, md, &mdlen);
	hex32(md, out);
	EVP_MD_CTX_free(h);
	free(buf);
	return rc;
}

static void hash_mem(struct upload *u, const char *buf, size_t len, char out[65])
{
	plat_sigv4_sha256_hex(buf, len, out);
	EVP_DigestUpdate(u->whole, buf, len);
}

static void add_common_headers(struct upload *u, struct s3_call *c, const char *payload_sha)
{
	s3_call_add_header(c, "x-amz-content-sha256: %s", payload_sha);
	if (u->s3->creds.session_token)
		s3_call_add_header(c, "x-amz-security-token: %s", u->s3->creds.session_token);
}

static int read_error(struct upload *u, struct plat_error *err)
{
	struct plat_buf k = PLAT_BUF_INIT;
	plat_str_escape_terminal(&k, u->key, strlen(u->key));
	int rc = plat_error_set(err, PLAT_E_FAILURE, "upload of '%s': cannot read the data: %s", k.data, strerror(errno));
	plat_buf_free(&k);
	return rc;
}

/* ---- one PUT ---- */

static int put_single(struct upload *u, const char *mem, long long len, struct plat_error *err)
{
	char sha[65];
	if (mem) {
		hash_mem(u, mem, (size_t)len, sha);
	} else if (hash_range(u, u->start, len, sha) < 0) {
		return read_error(u, err);
	}
	struct s3_call c;
	s3_call_init(&c, "PUT", s3_make_url(u->s3, u->key, NULL, 0), "upload", u->key);
	add_common_headers(u, &c, sha);
	s3_call_add_header(&c, "Content-Type: %s", u->content_type ? u->content_type : "application/octet-stream");
	c.has_body = true;
	c.progress = u->progress;
	c.progress_arg = u->progress_arg;
	c.mem = mem;
	c.fd = u->fd;
	c.body_off = u->start;
	c.body_len = len;
	int rc = s3_call_run(u->s3, &c, err);
	s3_call_free(&c);
	u->total = len;
	return rc;
}

/* ---- multipart ---- */

static int create_upload(struct upload *u, struct plat_error *err)
{
	struct plat_sigv4_param q[] = {{"uploads", ""}};
	struct s3_call c;
	char empty[65];
	plat_sigv4_sha256_hex("", 0, empty);
	s3_call_init(&c, "POST", s3_make_url(u->s3, u->key, q, 1), "upload", u->key);
	add_common_headers(u, &c, empty);
	s3_call_add_header(&c, "Content-Type: %s", u->content_type ? u->content_type : "application/octet-stream");
	c.has_body = true;
	c.mem = "";
	int rc = s3_call_run(u->s3, &c, err);
	if (rc == 0) {
		u->upload_id = s3_xml_text(c.resp.data, c.resp.len, "UploadId");
		if (!u->upload_id || !*u->upload_id)
			rc = plat_error_set(err, PLAT_E_FAILURE, "upload: S3 started a multipart upload without an UploadId");
	}
	s3_call_free(&c);
	return rc;
}

/* Best effort, with the usual retries: an aborted upload leaves no parts behind. */
static void abort_upload(struct upload *u)
{
	struct plat_sigv4_param q[] = {{"uploadId", u->upload_id}};
	struct s3_call c;
	s3_call_init(&c, "DELETE", s3_make_url(u->s3, u->key, q, 1), "abort", u->key);
	add_common_headers(u, &c, "UNSIGNED-PAYLOAD");
	struct plat_error ignore = {0};
	if (s3_call_run(u->s3, &c, &ignore) < 0)
		plat_log(PLAT_LOG_WARN, "could not abort a failed multipart upload; a bucket lifecycle rule "
					"(AbortIncompleteMultipartUpload) will remove it", "error", ignore.message,
			 (const char *)NULL);
	s3_call_free(&c);
}

/* Prepare the next part (hashing it), or NULL when the source is exhausted. */
static struct part *next_part(struct upload *u, int *rc, struct plat_error *err)
{
	char *buf = NULL;
	long long len;
	char sha[65];
	if (u->fd >= 0) {
		long long left = u->start + u->size - u->next_off;
		if (left <= 0) {
			u->source_done = true;
			return NULL;
		}
		len = left < u->s3->part_size ? left : u->s3->part_size;
		if (hash_range(u, u->next_off, len, sha) < 0) {
			*rc = read_error(u, err);
			return NULL;
		}
	} else {
		if (u->first) {
			buf = u->first;
			len = (long long)u->first_len;
			u->first = NULL;
		} else {
			if (u->source_done)
				return NULL;
			buf = plat_xmalloc((size_t)u->s3->part_size);
			ssize_t n = stream_fill(u, buf, (size_t)u->s3->part_size);
			if (n < 0) {
				free(buf);
				*rc = read_error(u, err);
				return NULL;
			}
			if (n == 0) {
				free(buf);
				return NULL;
			}
			len = n;
		}
		hash_mem(u, buf, (size_t)len, sha);
	}
	struct part *p = plat_xcalloc(1, sizeof(*p));
	p->number = ++u->next_number;
	p->buf = buf;
	char num[16];
	snprintf(num, sizeof(num), "%d", p->number);
	struct plat_sigv4_param q[] = {{"partNumber", num}, {"uploadId", u->upload_id}};
	s3_call_init(&p->call, "PUT", s3_make_url(u->s3, u->key, q, 2), "upload", u->key);
	add_common_headers(u, &p->call, sha);
	p->call.has_body = true;
	p->call.mem = buf;
	p->call.fd = buf ? -1 : u->fd;
	p->call.body_off = buf ? 0 : u->next_off;
	p->call.body_len = len;
	p->call.owner = p;
	p->call.progress = u->progress;
	p->call.progress_arg = u->progress_arg;
	u->next_off += buf ? 0 : len;
	u->total += len;
	return p;
}

static void start_part(struct upload *u, CURLM *m, struct part *p)
{
	CURL *e = s3_call_easy(u->s3, &p->call);
	curl_multi_add_handle(m, e);
	p->in_flight = true;
}

static void free_part(struct part *p)
{
	s3_call_free(&p->call);
	free(p->buf);
	free(p);
}

static int complete_upload(struct upload *u, struct part **parts, size_t n, struct plat_error *err)
{
	struct plat_buf xml = PLAT_BUF_INIT;
	plat_buf_puts(&xml, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (size_t i = 0; i < n; i++)
		plat_buf_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", parts[i]->number,
				parts[i]->call.etag);
	plat_buf_puts(&xml, "</CompleteMultipartUpload>");
	char sha[65];
	plat_sigv4_sha256_hex(xml.data, xml.len, sha);
	struct plat_sigv4_param q[] = {{"uploadId", u->upload_id}};
	struct s3_call c;
	s3_call_init(&c, "POST", s3_make_url(u->s3, u->key, q, 1), "upload", u->key);
	add_common_headers(u, &c, sha);
	s3_call_add_header(&c, "Content-Type: application/xml");
	c.has_body = true;
	c.mem = xml.data;
	c.body_len = (long long)xml.len;
	int rc = s3_call_run(u->s3, &c, err);
	/* S3 can answer 200 and still report an error in the body. */
	if (rc == 0 && c.resp.len && strstr(c.resp.data, "<Error>")) {
		char *code = s3_xml_text(c.resp.data, c.resp.len, "Code");
		rc = plat_error_set(err, PLAT_E_UNAVAILABLE, "upload: completing the multipart upload failed (%s)",
				    code ? code : "unknown error");
		free(code);
	}
	s3_call_free(&c);
	plat_buf_free(&xml);
	return rc;
}

static int put_multipart(struct upload *u, struct plat_error *err)
{
	int rc = create_upload(u, err);
	if (rc < 0)
		return rc;
	CURLM *m = curl_multi_init();
	struct part **parts = NULL;
	size_t n = 0, cap = 0;
	int active = 0;
	bool failed = false;
	for (;;) {
		long long now = plat_clock_ms();
		int waiting = 0;
		long long earliest = -1;
		for (size_t i = 0; i < n; i++) {
			struct part *p = parts[i];
			if (p->done || p->in_flight)
				continue;
			if (p->call.not_before_ms <= now && active < u->s3->parallel) {
				start_part(u, m, p);
				active++;
			} else {
				waiting++;
				if (earliest < 0 || p->call.not_before_ms < earliest)
					earliest = p->call.not_before_ms;
			}
		}
		/* Parts waiting for a retry still hold their buffers: they count against parallel. */
		while (!u->source_done && active + waiting < u->s3->parallel) {
			struct part *p = next_part(u, &rc, err);
			if (!p)
				break;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				parts = plat_xrealloc(parts, cap * sizeof(*parts));
			}
			parts[n++] = p;
			start_part(u, m, p);
			active++;
		}
		if (rc < 0) {
			failed = true;
			break;
		}
		if (active == 0) {
			if (waiting == 0 && u->source_done)
				break;
			if (earliest > now)
				plat_sleep_ms(earliest - now);
			continue;
		}
		int running;
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 100, NULL);
		CURLMsg *msg;
		int q;
		while ((msg = curl_multi_info_read(m, &q))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			/* msg is invalid once its handle is removed: keep what we need first. */
			CURL *easy = msg->easy_handle;
			CURLcode cc = msg->data.result;
			struct s3_call *c;
			curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&c);
			struct part *p = c->owner;
			int prc = 0;
			enum s3_outcome o = s3_call_outcome(u->s3, c, cc, &prc, err);
			curl_multi_remove_handle(m, easy);
			curl_easy_cleanup(easy);
			c->easy = NULL;
			p->in_flight = false;
			active--;
			if (o == OUT_DONE) {
				p->done = true;
				free(p->buf);
				p->buf = NULL;
				p->call.mem = NULL;
			} else if (o == OUT_FAILED) {
				failed = true;
				rc = prc;
			}
		}
		if (failed)
			break;
	}
	for (size_t i = 0; i < n; i++) {
		if (parts[i]->in_flight && parts[i]->call.easy) {
			curl_multi_remove_handle(m, parts[i]->call.easy);
			curl_easy_cleanup(parts[i]->call.easy);
			parts[i]->call.easy = NULL;
		}
	}
	curl_multi_cleanup(m);
	if (!failed)
		rc = complete_upload(u, parts, n, err);
	if (rc < 0)
		abort_upload(u);
	for (size_t i = 0; i < n; i++)
		free_part(parts[i]);
	free(parts);
	return rc;
}

int s3_put(struct plat_store *s, const char *key, plat_store_reader read_fn, void *arg, int fd, const char *content_type,
	   plat_store_progress progress, void *progress_arg, struct plat_store_put_result *res, struct plat_error *err)
{
	struct upload u = {.s3 = (struct s3_store *)s, .key = key, .content_type = content_type, .fd = -1,
			   .read = read_fn, .arg = arg, .stream_fd = -1, .progress = progress,
			   .progress_arg = progress_arg};
	u.whole = EVP_MD_CTX_new();
	EVP_DigestInit_ex(u.whole, EVP_sha256(), NULL);
	int rc;
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		u.fd = fd;
		u.start = lseek(fd, 0, SEEK_CUR);
		if (u.start < 0)
			u.start = 0;
		u.size = st.st_size > u.start ? st.st_size - u.start : 0;
		u.next_off = u.start;
		rc = u.size <= u.s3->part_size ? put_single(&u, NULL, u.size, err) : put_multipart(&u, err);
	} else {
		if (fd >= 0)
			u.stream_fd = fd;
		/* Read one part's worth: a short stream is one PUT from memory. */
		u.first = plat_xmalloc((size_t)u.s3->part_size);
		ssize_t got = stream_fill(&u, u.first, (size_t)u.s3->part_size);
		if (got < 0) {
			rc = read_error(&u, err);
		} else if (u.source_done) {
			rc = put_single(&u, u.first, got, err);
		} else {
			u.first_len = (size_t)got;
			rc = put_multipart(&u, err);
		}
		free(u.first);
	}
	if (rc == 0) {
		unsigned char md[32];
		unsigned int mdlen = 0;
		EVP_DigestFinal_ex(u.whole, md, &mdlen);
		hex32(md, res->sha256);
		res->size = u.total;
	}
	EVP_MD_CTX_free(u.whole);
	free(u.upload_id);
	return rc;
}
