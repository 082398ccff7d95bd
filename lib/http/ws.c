/* The WebSocket side of the live feed: one thread per upgraded connection. */
#define _GNU_SOURCE
#include "http/ws.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <wslay/wslay.h>

#include "log/log.h"
#include "mem/mem.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_PING_MS 15000
#define WS_CLOSE_WAIT_MS 2000 /* for the client's close frame after ours */

int plat_http_ws_accept(const char *key, char out[PLAT_WS_ACCEPT_LEN + 1])
{
	unsigned char raw[32];
	size_t n = key ? strlen(key) : 0;
	/* 16 bytes in base64 are 24 characters ending in "=="; anything else is no key. */
	if (n != 24 || key[22] != '=' || key[23] != '=' || EVP_DecodeBlock(raw, (const unsigned char *)key, 24) != 18)
		return -1;
	char buf[24 + sizeof(WS_GUID)];
	snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);
	unsigned char sha[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_Digest(buf, strlen(buf), sha, &len, EVP_sha1(), NULL) != 1 || len != 20)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, sha, 20);
	return 0;
}

struct ws_conn {
	struct plat_http_feed *feed;
	atomic_int *open;
	char tenant_id[37];
	long long from;
	MHD_socket sock;
	struct MHD_UpgradeResponseHandle *urh;
	char *extra;
	size_t extra_len, extra_off;
	int wake[2];
	bool eof;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *arg)
{
	(void)flags;
	struct ws_conn *w = arg;
	if (w->extra_off < w->extra_len) {
		size_t n = w->extra_len - w->extra_off < len ? w->extra_len - w->extra_off : len;
		memcpy(buf, w->extra + w->extra_off, n);
		w->extra_off += n;
		return (ssize_t)n;
	}
	ssize_t n;
	do
		n = recv(w->sock, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n <= 0) {
		w->eof = true;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *arg)
{
	(void)flags;
	struct ws_conn *w = arg;
	ssize_t n;
	do
		n = send(w->sock, data, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK ? WSLAY_ERR_WOULDBLOCK
										    : WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

/* The client's own messages carry nothing the feed needs; control frames wslay answers. */
static void ws_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	(void)ctx;
	(void)m;
	(void)arg;
}

/* Queue each pending event (one JSON text per line) as a text message. */
static void queue_events(wslay_event_context_ptr ctx, struct plat_buf *lines)
{
	size_t at = 0;
	while (at < lines->len) {
		char *nl = memchr(lines->data + at, '\n', lines->len - at);
		size_t end = nl ? (size_t)(nl - lines->data) : lines->len;
		struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)lines->data + at, end - at};
		wslay_event_queue_msg(ctx, &m);
		at = end + 1;
	}
	plat_buf_reset(lines);
}

static void serve(struct ws_conn *w)
{
	struct wslay_event_callbacks cb = {.recv_callback = ws_recv, .send_callback = ws_send,
					   .on_msg_recv_callback = ws_message};
	wslay_event_context_ptr ctx;
	if (wslay_event_context_server_init(&ctx, &cb, w) != 0)
		return;
	wslay_event_config_set_max_recv_msg_length(ctx, 4096);
	struct plat_http_stream *stream = plat_http_feed_subscribe(w->feed, w->tenant_id, w->from, w->wake[1]);
	struct plat_buf lines = PLAT_BUF_INIT;
	long long next_ping = now_ms() + WS_PING_MS, close_by = 0;
	/* Input libmicrohttpd read already is handled before anything else. */
	if (w->extra_len && wslay_event_recv(ctx) != 0 && !w->eof)
		goto out;
	for (;;) {
		bool ended;
		plat_http_feed_take(stream, &lines, &ended);
		queue_events(ctx, &lines);
		long long now = now_ms();
		if (!close_by && (ended || wslay_event_get_queued_msg_length(ctx) > PLAT_FEED_MAX_PENDING)) {
			/* Stopping, or a client that does not keep up: it resumes from its last id. */
			const char *why = ended ? "the server is stopping or the client fell behind" : "the client fell behind";
			wslay_event_queue_close(ctx, WSLAY_CODE_GOING_AWAY, (const uint8_t *)why, strlen(why));
			close_by = now + WS_CLOSE_WAIT_MS;
		}
		if (!close_by && now >= next_ping) {
			struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
			wslay_event_queue_msg(ctx, &ping);
			next_ping = now + WS_PING_MS;
		}
		if (wslay_event_want_write(ctx) && wslay_event_send(ctx) != 0)
			break;
		if (!wslay_event_want_read(ctx) && !wslay_event_want_write(ctx))
			break; /* the close handshake is done */
		if (close_by && now >= close_by)
			break;
		struct pollfd fds[2] = {
			{.fd = w->sock, .events = (short)((wslay_event_want_read(ctx) ? POLLIN : 0) |
							  (wslay_event_want_write(ctx) ? POLLOUT : 0))},
			{.fd = w->wake[0], .events = POLLIN}};
		long long until = close_by ? close_by : next_ping;
		int n = poll(fds, 2, (int)(until > now ? until - now : 0));
		if (n < 0 && errno != EINTR)
			break;
		if (fds[1].revents & POLLIN) {
			char buf[64];
			while (read(w->wake[0], buf, sizeof(buf)) > 0)
				;
		}
		if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && wslay_event_recv(ctx) != 0)
			break;
	}
out:
	plat_http_feed_unsubscribe(stream);
	plat_buf_free(&lines);
	wslay_event_context_free(ctx);
}

static void *ws_thread(void *arg)
{
	struct ws_conn *w = arg;
	serve(w);
	close(w->wake[0]);
	close(w->wake[1]);
	MHD_upgrade_action(w->urh, MHD_UPGRADE_ACTION_CLOSE);
	atomic_fetch_sub(w->open, 1);
	free(w->extra);
	free(w);
	return NULL;
}

void plat_http_ws_start(struct plat_http_feed *feed, atomic_int *open, const char *tenant_id, long long from,
			const char *extra, size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct ws_conn *w = plat_xcalloc(1, sizeof(*w));
	w->feed = feed;
	w->open = open;
	snprintf(w->tenant_id, sizeof(w->tenant_id), "%s", tenant_id);
	w->from = from;
	w->sock = sock;
	w->urh = urh;
	if (extra_len) {
		w->extra = plat_xmalloc(extra_len);
		memcpy(w->extra, extra, extra_len);
		w->extra_len = extra_len;
	}
	int fl = fcntl(sock, F_GETFL);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_t t;
	atomic_fetch_add(open, 1);
	if (fl < 0 || fcntl(sock, F_SETFL, fl | O_NONBLOCK) < 0 || pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pthread_create(&t, &attr, ws_thread, w) != 0) {
		plat_log(PLAT_LOG_WARN, "websocket: cannot serve the connection", "error", strerror(errno), (const char *)NULL);
		if (w->wake[0] > 0) {
			close(w->wake[0]);
			close(w->wake[1]);
		}
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		atomic_fetch_sub(open, 1);
		free(w->extra);
		free(w);
	}
	pthread_attr_destroy(&attr);
}
