/* E-mail through libcurl's SMTP: STARTTLS (or smtps://), AUTH from the configuration, and
 * a multipart/alternative message built with curl_mime, so the MIME framing, boundaries and
 * quoted-printable encoding are curl's and not hand-written here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "clock/clock.h"
#include "log/log.h"
#include "mem/mem.h"
#include "notify/internal.h"

/* The bare address of "Name <addr>" or "addr", into out; false when it is not one. */
static bool bare_address(const char *s, char *out, size_t len)
{
	const char *lt = strchr(s, '<');
	const char *start = lt ? lt + 1 : s;
	size_t n = lt ? strcspn(start, ">") : strlen(s);
	if (lt && start[n] != '>')
		return false;
	for (; !lt && n && (start[0] == ' ' || start[0] == '\t'); n--)
		start++;
	while (n && (start[n - 1] == ' ' || start[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= len)
		return false;
	const char *at = memchr(start, '@', n);
	if (!at || at == start || at == start + n - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)start[i] <= ' ' || strchr("<>,;\"()\\", start[i]) || start[i] == 0x7f)
			return false;
	memcpy(out, start, n);
	out[n] = '\0';
	return true;
}

static bool has_line_break(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

static bool ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* RFC 2047 B-encoded words of at most 75 characters each (45 bytes of input), cut between
 * UTF-8 sequences, joined by spaces on one header line. */
static void encode_words(struct plat_buf *b, const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		size_t n = len - i < 45 ? len - i : 45;
		while (n < len - i && n > 0 && ((unsigned char)s[i + n] & 0xc0) == 0x80)
			n--; /* s[i + n] continues a sequence: end before its lead byte */
		if (n == 0)
			n = len - i < 45 ? len - i : 45;
		unsigned char enc[64];
		int el = EVP_EncodeBlock(enc, (const unsigned char *)s + i, (int)n);
		plat_buf_printf(b, "%s=?UTF-8?B?%.*s?=", i ? " " : "", el, (const char *)enc);
		i += n;
	}
}

static void subject_header(struct plat_buf *b, const char *subject)
{
	plat_buf_puts(b, "Subject: ");
	if (ascii_printable(subject))
		plat_buf_puts(b, subject);
	else
		encode_words(b, subject);
}

/* RFC 5322 date in UTC, with English names whatever the locale. */
static void date_header(struct plat_buf *b)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	plat_buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
			tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static struct curl_slist *append_buf(struct curl_slist *h, struct plat_buf *b)
{
	h = curl_slist_append(h, b->data);
	plat_buf_reset(b);
	return h;
}

static curl_mimepart *add_text_part(curl_mime *mime, const char *type, const char *text)
{
	/* Lines end in CRLF on the wire; a bare LF would be quoted-printable encoded as =0A and
	 * the part would arrive as one long line. */
	struct plat_buf b = PLAT_BUF_INIT;
	for (const char *p = text; *p; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			plat_buf_putc(&b, '\r');
		plat_buf_putc(&b, *p);
	}
	curl_mimepart *p = curl_mime_addpart(mime);
	curl_mime_data(p, b.data ? b.data : "", CURL_ZERO_TERMINATED); /* curl copies it */
	plat_buf_free(&b);
	curl_mime_type(p, type);
	/* Long lines and UTF-8 pass any relay unchanged. */
	curl_mime_encoder(p, "quoted-printable");
	return p;
}

/* The message: headers in CURLOPT_HTTPHEADER, the body as curl_mime. With an HTML part
 * the top level is multipart/alternative (text first, the preferred last, RFC 2046 5.1.4):
 * curl takes the root part's type from that header and adds the boundary itself. */
static curl_mime *build_message(CURL *e, const struct plat_notify_email *m, const char *from, const char *msgid,
				struct curl_slist **headers)
{
	struct plat_buf b = PLAT_BUF_INIT;
	struct curl_slist *h = NULL;
	date_header(&b);
	h = append_buf(h, &b);
	if (ascii_printable(from))
		plat_buf_printf(&b, "From: %s", from);
	else {
		char addr[320];
		bare_address(from, addr, sizeof(addr));
		plat_buf_printf(&b, "From: <%s>", addr);
	}
	h = append_buf(h, &b);
	plat_buf_puts(&b, "To: ");
	for (size_t i = 0; i < m->n_to; i++)
		plat_buf_printf(&b, "%s%s", i ? ", " : "", m->to[i]);
	h = append_buf(h, &b);
	subject_header(&b, m->subject ? m->subject : "");
	h = append_buf(h, &b);
	plat_buf_printf(&b, "Message-ID: %s", msgid);
	h = append_buf(h, &b);
	h = curl_slist_append(h, "Auto-Submitted: auto-generated"); /* RFC 3834: no auto-replies */
	plat_buf_free(&b);

	curl_mime *mime = curl_mime_init(e);
	if (m->html) {
		h = curl_slist_append(h, "Content-Type: multipart/alternative");
		add_text_part(mime, "text/plain; charset=utf-8", m->text ? m->text : "");
		add_text_part(mime, "text/html; charset=utf-8", m->html);
	} else {
		add_text_part(mime, "text/plain; charset=utf-8", m->text ? m->text : "");
	}
	*headers = h;
	return mime;
}

static bool retryable_curl(CURLcode c)
{
	return c == CURLE_OPERATION_TIMEDOUT || c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST ||
	       c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_SSL_CONNECT_ERROR;
}

int plat_notify_email_send(const struct plat_notify_config *c, struct plat_db *db, const char *tenant_id,
			   const struct plat_notify_email *m, struct plat_notify_result *r, struct plat_error *err)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->status, sizeof(r->status), "failed");
	if (!c->smtp_url || !*c->smtp_url) {
		snprintf(r->status, sizeof(r->status), "skipped");
		snprintf(r->error, sizeof(r->error), "not configured");
		return plat_error_set(err, PLAT_E_CONFIG, "no SMTP server is configured");
	}
	char from[320];
	if (!c->email_from || has_line_break(c->email_from) || !bare_address(c->email_from, from, sizeof(from))) {
		notify_set_error(r, "no valid sender address");
		return plat_error_set(err, PLAT_E_CONFIG, "the sender address '%s' is not an e-mail address",
				      c->email_from ? c->email_from : "");
	}
	if (m->n_to == 0) {
		notify_set_error(r, "no recipients");
		return plat_error_set(err, PLAT_E_INVALID, "an e-mail needs at least one recipient");
	}
	struct curl_slist *rcpt = NULL;
	for (size_t i = 0; i < m->n_to; i++) {
		char addr[320], line[330];
		if (has_line_break(m->to[i]) || !bare_address(m->to[i], addr, sizeof(addr))) {
			curl_slist_free_all(rcpt);
			notify_set_error(r, "invalid recipient address");
			return plat_error_set(err, PLAT_E_INVALID, "recipient '%s' is not an e-mail address", m->to[i]);
		}
		snprintf(line, sizeof(line), "<%s>", addr);
		rcpt = curl_slist_append(rcpt, line);
	}
	if (has_line_break(m->subject)) {
		curl_slist_free_all(rcpt);
		notify_set_error(r, "subject with a line break");
		return plat_error_set(err, PLAT_E_INVALID, "an e-mail subject cannot contain a line break");
	}

	notify_curl_init();
	notify_uuid(r->delivery_id);
	char msgid[400], mail_from[330];
	snprintf(msgid, sizeof(msgid), "<%s@%s>", r->delivery_id, strchr(from, '@') + 1);
	snprintf(mail_from, sizeof(mail_from), "<%s>", from);
	char *safe = notify_safe_url(c->smtp_url);

	struct plat_buf target = PLAT_BUF_INIT;
	cJSON *logbody = cJSON_CreateObject(), *to = cJSON_AddArrayToObject(logbody, "to");
	for (size_t i = 0; i < m->n_to; i++) {
		plat_buf_printf(&target, "%s%s", i ? ", " : "", m->to[i]);
		cJSON_AddItemToArray(to, cJSON_CreateString(m->to[i]));
	}
	cJSON_AddStringToObject(logbody, "server", safe);
	cJSON_AddStringToObject(logbody, "message_id", msgid);
	char log_id[37];
	notify_log_start(db, tenant_id, "email", target.data, m->subject ? m->subject : "", NULL, r->delivery_id,
			 logbody, log_id);
	cJSON_Delete(logbody);
	plat_buf_free(&target);

	bool implicit_tls = !strncmp(c->smtp_url, "smtps://", 8);
	long use_ssl = implicit_tls || c->starttls == PLAT_NOTIFY_STARTTLS_REQUIRED ? CURLUSESSL_ALL
		       : c->starttls == PLAT_NOTIFY_STARTTLS_TRY		     ? CURLUSESSL_TRY
										     : CURLUSESSL_NONE;
	int attempts = notify_attempts(c);
	long long timeout = notify_timeout_ms(c);
	int rc = 0;
	for (int i = 1;; i++) {
		CURL *e = curl_easy_init();
		struct curl_slist *headers = NULL;
		curl_mime *mime = build_message(e, m, c->email_from, msgid, &headers);
		char cerr[CURL_ERROR_SIZE] = "";
		curl_easy_setopt(e, CURLOPT_URL, c->smtp_url);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_USE_SSL, use_ssl);
		if (c->smtp_ca_file && *c->smtp_ca_file)
			curl_easy_setopt(e, CURLOPT_CAINFO, c->smtp_ca_file);
		if (c->smtp_user && *c->smtp_user) {
			curl_easy_setopt(e, CURLOPT_USERNAME, c->smtp_user);
			curl_easy_setopt(e, CURLOPT_PASSWORD, c->smtp_password ? c->smtp_password : "");
		}
		curl_easy_setopt(e, CURLOPT_MAIL_FROM, mail_from);
		curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout < 10000 ? timeout : 10000));
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
		CURLcode cc = curl_easy_perform(e);
		long code = 0;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_cleanup(e);
		curl_mime_free(mime);
		curl_slist_free_all(headers);
		r->attempts = i;
		r->code = (int)code;
		if (cc == CURLE_OK) {
			snprintf(r->status, sizeof(r->status), "sent");
			r->error[0] = '\0';
			break;
		}
		if (code)
			notify_set_error(r, "SMTP %ld: %s", code, cerr[0] ? cerr : curl_easy_strerror(cc));
		else
			notify_set_error(r, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
		/* 4xx replies are transient by definition (RFC 5321 4.2.1); 5xx are final. */
		bool retry = code >= 400 && code < 500 ? true : code >= 500 ? false : retryable_curl(cc);
		if (!retry || i >= attempts) {
			snprintf(r->status, sizeof(r->status), "failed");
			rc = plat_error_set(err, retry ? PLAT_E_UNAVAILABLE : PLAT_E_FAILURE, "e-mail through '%s': %s%s%d attempt%s)",
					    safe, r->error, retry ? " (after " : " (refused, ", i, i == 1 ? "" : "s");
			break;
		}
		long long wait = notify_backoff_ms(c, i, 0);
		char ws[24];
		snprintf(ws, sizeof(ws), "%lld", wait);
		PLAT_LOG_I("e-mail failed, retrying", "server", safe, "error", r->error, "wait_ms", ws);
		plat_sleep_ms(wait);
	}
	notify_log_finish(db, log_id, r);
	curl_slist_free_all(rcpt);
	free(safe);
	return rc;
}
