/* lib/remote's client against a scripted HTTP responder on 127.0.0.1 in a thread: each
 * test says what the next replies are, byte for byte, and reads back what was sent.
 * Problem details to error kinds, a sink that only sees 2xx bodies, a streamed request
 * body, Server-Sent Events split anywhere, and an address nobody listens on. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/io.h"
#include "mem/mem.h"
#include "remote/remote.h"

#define MAX_REPLIES 4

struct responder {
	int listen_fd;
	int port;
	pthread_t thread;
	const char *replies[MAX_REPLIES]; /* sent in order, one per connection */
	size_t piece;                     /* >0: write replies this many bytes at a time */
	int n_replies;
	struct plat_buf request;          /* the last request, headers and body */
};

/* Read one request: headers, then Content-Length bytes or chunks until the last one. */
static void read_request(int fd, struct plat_buf *req)
{
	plat_buf_reset(req);
	char c[4096];
	while (!req->len || !strstr(req->data, "\r\n\r\n")) {
		ssize_t n = read(fd, c, 1);
		if (n <= 0)
			return;
		plat_buf_append(req, c, 1);
	}
	const char *cl = strcasestr(req->data, "Content-Length:");
	long long want = cl ? atoll(cl + 15) : 0;
	bool chunked = strcasestr(req->data, "Transfer-Encoding: chunked") != NULL;
	size_t head = req->len;
	while (!chunked && (long long)(req->len - head) < want) {
		ssize_t n = read(fd, c, sizeof(c));
		if (n <= 0)
			return;
		plat_buf_append(req, c, (size_t)n);
	}
	while (chunked && !strstr(req->data + head, "\r\n0\r\n\r\n") && strncmp(req->data + head, "0\r\n\r\n", 5)) {
		ssize_t n = read(fd, c, sizeof(c));
		if (n <= 0)
			return;
		plat_buf_append(req, c, (size_t)n);
	}
}

static void *serve(void *arg)
{
	struct responder *s = arg;
	for (int i = 0; i < s->n_replies; i++) {
		int fd = accept(s->listen_fd, NULL, NULL);
		if (fd < 0)
			break;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		read_request(fd, &s->request);
		const char *r = s->replies[i];
		size_t len = strlen(r), step = s->piece ? s->piece : len;
		/* MSG_NOSIGNAL: a client that stopped reading is a short write, not SIGPIPE. */
		for (size_t o = 0; o < len; o += step) {
			if (send(fd, r + o, len - o < step ? len - o : step, MSG_NOSIGNAL) < 0)
				break;
			if (s->piece)
				usleep(2000);
		}
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

static void start(struct responder *s)
{
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->listen_fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->listen_fd, 4), 0);
	socklen_t al = sizeof(a);
	getsockname(s->listen_fd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	s->request = (struct plat_buf)PLAT_BUF_INIT;
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

/* After the replies: the last request stays readable until release. */
static void stop(struct responder *s)
{
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
}

static void release(struct responder *s)
{
	plat_buf_free(&s->request);
}

static struct plat_remote *client(const struct responder *s, const char *token)
{
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s->port); /* the trailing '/' goes */
	struct plat_remote *r;
	struct plat_error err = {0};
	assert_int_equal(plat_remote_open(url, token, "0123456789abcdef0123456789abcdef", &r, &err), 0);
	return r;
}

#define REPLY(status, type, body)                                                                                  \
	"HTTP/1.1 " status "\r\nContent-Type: " type "\r\nConnection: close\r\n\r\n" body

static void test_query_and_segments(void **state)
{
	(void)state;
	struct plat_buf p = PLAT_BUF_INIT;
	plat_buf_puts(&p, "/v1/documents/");
	plat_remote_segment(&p, "a b/../c?d");
	plat_remote_query(&p, "name", "x&y=z é");
	plat_remote_query(&p, "skipped", NULL);
	plat_remote_query(&p, "tag", "team=ops");
	assert_string_equal(p.data, "/v1/documents/a%20b%2F..%2Fc%3Fd?name=x%26y%3Dz%20%C3%A9&tag=team%3Dops");
	plat_buf_free(&p);
}

static void test_json_and_headers(void **state)
{
	(void)state;
	struct responder s = {.n_replies = 1, .replies = {REPLY("200 OK", "application/json", "{\"ok\": true}")}};
	start(&s);
	struct plat_remote *r = client(&s, "plat_secret-token");
	cJSON *body = cJSON_CreateObject(), *out = NULL;
	cJSON_AddStringToObject(body, "q", "hello");
	struct plat_error err = {0};
	long status = 0;
	assert_int_equal(plat_remote_json(r, "POST", "/v1/search", body, &out, &status, &err), 0);
	stop(&s);
	assert_int_equal(status, 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "ok")));
	assert_non_null(strstr(s.request.data, "POST /v1/search HTTP/1.1\r\n"));
	assert_non_null(strstr(s.request.data, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(s.request.data, "Accept: application/json\r\n"));
	assert_non_null(strstr(s.request.data, "\r\n\r\n{\"q\":\"hello\"}"));
	release(&s);
	cJSON_Delete(out);
	cJSON_Delete(body);
	plat_remote_close(r);
}

static void test_request_carries_token_and_id(void **state)
{
	(void)state;
	struct responder s = {.n_replies = 1, .replies = {REPLY("204 No Content", "application/json", "")}};
	start(&s);
	struct plat_remote *r = client(&s, "plat_secret-token");
	cJSON *out = NULL;
	struct plat_error err = {0};
	assert_int_equal(plat_remote_json(r, "DELETE", "/v1/tokens/x", NULL, &out, NULL, &err), 0);
	stop(&s);
	assert_null(out);
	assert_non_null(strstr(s.request.data, "DELETE /v1/tokens/x HTTP/1.1\r\n"));
	assert_non_null(strstr(s.request.data, "Authorization: Bearer plat_secret-token\r\n"));
	assert_non_null(strstr(s.request.data, "X-Request-ID: 0123456789abcdef0123456789abcdef\r\n"));
	release(&s);
	plat_remote_close(r);
}

static void test_problems_map_to_kinds(void **state)
{
	(void)state;
	struct responder s = {
		.n_replies = 4,
		.replies = {REPLY("409 Conflict", "application/problem+json",
				  "{\"type\": \"urn:platctl:error:conflict\", \"title\": \"Conflict\", \"status\": 409, "
				  "\"detail\": \"document 'x' is already on legal hold\", \"param\": \"id\"}"),
			    REPLY("404 Not Found", "text/html", "<h1>not here</h1>"),
			    REPLY("503 Service Unavailable", "application/problem+json", "{\"type\": \"about:blank\"}"),
			    REPLY("200 OK", "application/json", "not json")}};
	start(&s);
	struct plat_remote *r = client(&s, NULL);
	cJSON *out = NULL;
	struct plat_error err = {0};
	long status = 0;
	assert_int_equal(plat_remote_json(r, "GET", "/a", NULL, &out, &status, &err), -PLAT_E_CONFLICT);
	assert_int_equal(status, 409);
	assert_string_equal(err.message, "document 'x' is already on legal hold");
	assert_string_equal(err.param, "id");
	err = (struct plat_error){0};
	assert_int_equal(plat_remote_json(r, "GET", "/b", NULL, &out, &status, &err), -PLAT_E_NOT_FOUND);
	assert_non_null(strstr(err.message, "answered HTTP 404"));
	err = (struct plat_error){0};
	assert_int_equal(plat_remote_json(r, "GET", "/c", NULL, &out, NULL, &err), -PLAT_E_UNAVAILABLE);
	err = (struct plat_error){0};
	assert_int_equal(plat_remote_json(r, "GET", "/d", NULL, &out, NULL, &err), -PLAT_E_FAILURE);
	assert_non_null(strstr(err.message, "not JSON (GET /d)"));
	assert_null(out);
	stop(&s);
	release(&s);
	plat_remote_close(r);
}

struct collected {
	struct plat_buf bytes;
	int calls;
	int stop_after; /* >0: refuse the call after this many */
	struct plat_error *err;
};

static int collect(void *arg, const char *data, size_t len)
{
	struct collected *c = arg;
	if (c->stop_after && c->calls >= c->stop_after) {
		plat_error_set(c->err, PLAT_E_FAILURE, "disk full");
		return -1;
	}
	c->calls++;
	plat_buf_append(&c->bytes, data, len);
	return 0;
}

static void test_sink_and_streamed_body(void **state)
{
	(void)state;
	struct responder s = {.n_replies = 2,
			      .replies = {REPLY("200 OK", "application/octet-stream", "the bytes of a document"),
					  REPLY("413 Content Too Large", "application/problem+json",
						"{\"type\": \"urn:platctl:error:invalid\", \"detail\": \"too large\"}")}};
	start(&s);
	struct plat_remote *r = client(&s, NULL);
	struct collected c = {PLAT_BUF_INIT, 0, 0, NULL};
	struct plat_error err = {0};
	struct plat_remote_request q = {.method = "GET", .path = "/content", .body_fd = -1, .sink = collect,
					.sink_arg = &c};
	assert_int_equal(plat_remote_send(r, &q, NULL, NULL, &err), 0);
	assert_int_equal(c.bytes.len, strlen("the bytes of a document"));
	assert_memory_equal(c.bytes.data, "the bytes of a document", c.bytes.len);
	/* A refusal's problem is the error; the sink sees none of it. */
	plat_buf_reset(&c.bytes);
	int fd = plat_tmpfile();
	assert_true(fd >= 0);
	plat_write_all(fd, "0123456789", 10);
	lseek(fd, 0, SEEK_SET);
	struct plat_remote_request up = {.method = "POST", .path = "/v1/documents?name=x", .body_fd = fd,
					 .body_size = 10, .content_type = "text/plain", .sink = collect,
					 .sink_arg = &c};
	assert_int_equal(plat_remote_send(r, &up, NULL, NULL, &err), -PLAT_E_INVALID);
	assert_string_equal(err.message, "too large");
	assert_int_equal(c.bytes.len, 0);
	stop(&s);
	assert_non_null(strstr(s.request.data, "POST /v1/documents?name=x HTTP/1.1\r\n"));
	assert_non_null(strstr(s.request.data, "Content-Length: 10\r\n"));
	assert_non_null(strstr(s.request.data, "Content-Type: text/plain\r\n"));
	assert_non_null(strstr(s.request.data, "\r\n\r\n0123456789"));
	close(fd);
	release(&s);
	plat_buf_free(&c.bytes);
	plat_remote_close(r);
}

static void test_sink_stops_with_its_error(void **state)
{
	(void)state;
	struct responder s = {.n_replies = 1, .piece = 4,
			      .replies = {REPLY("200 OK", "application/octet-stream", "0123456789abcdefghij")}};
	start(&s);
	struct plat_remote *r = client(&s, NULL);
	struct plat_error sink_err = {0}, err = {0};
	struct collected c = {PLAT_BUF_INIT, 0, 1, &sink_err};
	struct plat_remote_request q = {.method = "GET", .path = "/content", .body_fd = -1, .sink = collect,
					.sink_arg = &c, .sink_err = &sink_err};
	assert_int_equal(plat_remote_send(r, &q, NULL, NULL, &err), -PLAT_E_FAILURE);
	assert_string_equal(err.message, "disk full");
	stop(&s);
	release(&s);
	plat_buf_free(&c.bytes);
	plat_remote_close(r);
}

struct events {
	struct plat_buf log;
};

static int on_event(void *arg, const char *event, const char *data)
{
	struct events *e = arg;
	plat_buf_printf(&e->log, "[%s|%s]", event, data);
	return 0;
}

static void test_server_sent_events(void **state)
{
	(void)state;
	/* Written 3 bytes at a time: fields, lines and events split anywhere. The last event
	 * has no blank line after it: cut short, it is not dispatched. */
	struct responder s = {.n_replies = 1, .piece = 3,
			      .replies = {REPLY("200 OK", "text/event-stream",
						": keep-alive\n\nevent: token\ndata: {\"text\": \"Hel\"}\n\n"
						"event: token\r\ndata:{\"text\": \"lo\"}\r\n\r\n"
						"data: line one\ndata: line two\n\n"
						"event: answer\ndata: {\"answer\": \"Hello\"}")}};
	start(&s);
	struct plat_remote *r = client(&s, NULL);
	struct events e = {PLAT_BUF_INIT};
	struct plat_error err = {0};
	struct plat_remote_request q = {.method = "POST", .path = "/v1/ask", .body_fd = -1};
	assert_int_equal(plat_remote_events(r, &q, on_event, &e, &err), 0);
	assert_string_equal(e.log.data, "[token|{\"text\": \"Hel\"}][token|{\"text\": \"lo\"}]"
					"[message|line one\nline two]");
	stop(&s);
	assert_non_null(strstr(s.request.data, "Accept: text/event-stream\r\n"));
	release(&s);
	plat_buf_free(&e.log);
	plat_remote_close(r);
}

static void test_unreachable_names_the_server(void **state)
{
	(void)state;
	/* A port just closed: nothing listens there. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	socklen_t al = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &al);
	close(fd);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	struct plat_remote *r;
	struct plat_error err = {0};
	assert_int_equal(plat_remote_open(url, NULL, NULL, &r, &err), 0);
	cJSON *out = NULL;
	assert_int_equal(plat_remote_json(r, "GET", "/v1/me", NULL, &out, NULL, &err), -PLAT_E_UNAVAILABLE);
	char want[96];
	snprintf(want, sizeof(want), "cannot reach the server at %s: ", url);
	assert_non_null(strstr(err.message, want));
	plat_remote_close(r);
	assert_int_equal(plat_remote_open("ftp://example.com", NULL, NULL, &r, &err), -PLAT_E_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_and_segments),
		cmocka_unit_test(test_json_and_headers),
		cmocka_unit_test(test_request_carries_token_and_id),
		cmocka_unit_test(test_problems_map_to_kinds),
		cmocka_unit_test(test_sink_and_streamed_body),
		cmocka_unit_test(test_sink_stops_with_its_error),
		cmocka_unit_test(test_server_sent_events),
		cmocka_unit_test(test_unreachable_names_the_server),
	};
	return cmocka_run_group_tests_name("remote", tests, NULL, NULL);
}
