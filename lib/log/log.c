#include "log/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "io/io.h"
#include "str/str.h"

static struct {
	enum plat_log_level level;
	bool json;
	bool color;
	int fd;
	char request_id[64];
} log_state = {PLAT_LOG_WARN, true, false, 2, ""};

static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t n_secrets;
/* The shortest registered secret: a shorter value cannot hold one, which lets most of a
 * request line's values (a method, a route, a status) skip the lock and the search. */
static atomic_size_t min_secret_len = SIZE_MAX;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void plat_log_setup(const struct plat_log_options *opts)
{
	log_state.level = opts->level;
	log_state.fd = opts->fd;
	switch (opts->format) {
	case PLAT_LOG_FORMAT_JSON: log_state.json = true; break;
	case PLAT_LOG_FORMAT_TEXT: log_state.json = false; break;
	default: log_state.json = !isatty(opts->fd); break;
	}
	log_state.color = opts->color && !log_state.json;
	if (opts->request_id != log_state.request_id) /* re-setup may pass the current id */
		snprintf(log_state.request_id, sizeof(log_state.request_id), "%s",
			 opts->request_id ? opts->request_id : "");
}

void plat_log_set_level(enum plat_log_level level)
{
	log_state.level = level;
}

enum plat_log_level plat_log_get_level(void)
{
	return log_state.level;
}

bool plat_log_human(void)
{
	return !log_state.json && log_state.level <= PLAT_LOG_WARN;
}

bool plat_log_enabled(enum plat_log_level level)
{
	return level <= log_state.level;
}

/* The request id of the call this thread is serving (plat_log_set_thread_request_id):
 * the server runs many calls at once, each on its own thread. */
static _Thread_local char thread_request_id[65];

void plat_log_set_thread_request_id(const char *id)
{
	snprintf(thread_request_id, sizeof(thread_request_id), "%s", id ? id : "");
}

const char *plat_log_request_id(void)
{
	return thread_request_id[0] ? thread_request_id : log_state.request_id;
}

int plat_log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(s, "warning") == 0)
		return PLAT_LOG_WARN;
	return -1;
}

const char *plat_log_level_name(enum plat_log_level level)
{
	return (unsigned)level < sizeof(level_names) / sizeof(level_names[0]) ? level_names[level] : "?";
}

/* ---- redaction ---- */

void plat_log_add_secret(const char *value)
{
	if (!value || strlen(value) < 4)
		return;
	pthread_mutex_lock(&secrets_lock);
	for (size_t i = 0; i < n_secrets; i++) {
		if (strcmp(secrets[i], value) == 0) {
			pthread_mutex_unlock(&secrets_lock);
			return;
		}
	}
	secrets = plat_xrealloc(secrets, (n_secrets + 1) * sizeof(*secrets));
	secrets[n_secrets++] = plat_xstrdup(value);
	if (strlen(value) < atomic_load(&min_secret_len))
		atomic_store(&min_secret_len, strlen(value));
	pthread_mutex_unlock(&secrets_lock);
}

void plat_log_clear_secrets(void)
{
	pthread_mutex_lock(&secrets_lock);
	for (size_t i = 0; i < n_secrets; i++)
		free(secrets[i]);
	free(secrets);
	secrets = NULL;
	n_secrets = 0;
	atomic_store(&min_secret_len, SIZE_MAX);
	pthread_mutex_unlock(&secrets_lock);
}

static bool key_is_secret_uncached(const char *key);

bool plat_log_key_is_secret(const char *key)
{
	/* A server logs the same few keys (string literals) on every request: each thread
	 * remembers the verdicts of its last keys, checked by content, not only by address. */
	static _Thread_local struct {
		const char *addr;
		char copy[24];
		bool secret;
	} seen[16];
	static _Thread_local unsigned next;
	for (unsigned i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
		if (seen[i].addr == key && strcmp(seen[i].copy, key) == 0)
			return seen[i].secret;
	bool secret = key_is_secret_uncached(key);
	if (strlen(key) < sizeof(seen[0].copy)) {
		unsigned i = next++ % (sizeof(seen) / sizeof(seen[0]));
		seen[i].addr = key;
		strcpy(seen[i].copy, key);
		seen[i].secret = secret;
	}
	return secret;
}

static bool key_is_secret_uncached(const char *key)
{
	static const char *const words[] = {"password", "passwd", "secret", "token", "api_key",
					    "apikey", "authorization", "cookie", "credential",
					    "private_key", "access_key"};
	char lower[128];
	size_t n = strlen(key);
	if (n >= sizeof(lower))
		n = sizeof(lower) - 1;
	for (size_t i = 0; i < n; i++)
		lower[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
	lower[n] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(lower, words[i]))
			return true;
	return false;
}

/* Case-insensitive strstr for an ASCII needle (strcasestr is a GNU extension). */
static const char *find_ascii_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

bool plat_secret_span_url(const char *auth, size_t *off, size_t *len)
{
	/* Like libpq: the user info ends at the last '@' before the path; the password may
	 * hold '?', '#' or ':' unencoded. Whitespace and quotes end a URL inside a message. */
	size_t end = strcspn(auth, "/ \t\n\"'");
	const char *at = NULL;
	for (size_t i = 0; i < end; i++)
		if (auth[i] == '@')
			at = auth + i;
	if (!at)
		return false;
	const char *colon = memchr(auth, ':', (size_t)(at - auth));
	if (!colon)
		return false;
	*off = (size_t)(colon + 1 - auth);
	*len = (size_t)(at - colon - 1);
	return true;
}

bool plat_secret_span_keyword(const char *s, size_t pos, size_t *off, size_t *len)
{
	/* In a URL query (?password=...&...) '&' and '#' end the value; in a conninfo string
	 * only whitespace does (libpq), unless the value is quoted. */
	bool in_query = pos > 0 && (s[pos - 1] == '?' || s[pos - 1] == '&');
	const char *q = s + pos + strlen("password");
	while (*q == ' ' || *q == '\t')
		q++;
	if (*q != '=')
		return false;
	q++;
	while (*q == ' ' || *q == '\t')
		q++;
	const char *v = q;
	if (*q == '\'') {
		q++;
		/* libpq escapes with a backslash; a doubled quote (SQL habit) is taken as part of
		 * the value too, so a mistaken quoting style over-redacts, never leaks. */
		while (*q && !(*q == '\'' && q[1] != '\'')) {
			if ((*q == '\\' || *q == '\'') && q[1])
				q++;
			q++;
		}
		if (*q == '\'')
			q++;
	} else {
		q += strcspn(q, in_query ? " \t\n&#" : " \t\n");
	}
	*off = (size_t)(v - s);
	*len = (size_t)(q - v);
	return true;
}

/* Copy s to out, replacing the password of "scheme://user:PASSWORD@" and "password=VALUE". */
static void redact_structural(struct plat_buf *out, const char *s)
{
	const char *p = s;
	while (*p) {
		const char *scheme = strstr(p, "://");
		const char *kw = find_ascii_ci(p, "password");
		if (!scheme && !kw) {
			plat_buf_puts(out, p);
			return;
		}
		size_t off, len;
		if (scheme && (!kw || scheme < kw)) {
			const char *auth = scheme + 3;
			if (plat_secret_span_url(auth, &off, &len)) {
				plat_buf_append(out, p, (size_t)(auth + off - p));
				plat_buf_puts(out, PLAT_REDACTED);
				p = auth + off + len;
			} else {
				plat_buf_append(out, p, (size_t)(auth - p));
				p = auth;
			}
			continue;
		}
		if (plat_secret_span_keyword(s, (size_t)(kw - s), &off, &len)) {
			plat_buf_append(out, p, (size_t)(s + off - p));
			plat_buf_puts(out, PLAT_REDACTED);
			p = s + off + len;
		} else {
			plat_buf_append(out, p, (size_t)(kw + strlen("password") - p));
			p = kw + strlen("password");
		}
	}
}

/* Replace every registered secret value in s. */
static void redact_registered(struct plat_buf *out, const char *s)
{
	struct plat_buf tmp = PLAT_BUF_INIT;
	plat_buf_puts(&tmp, s);
	pthread_mutex_lock(&secrets_lock);
	for (size_t i = 0; i < n_secrets; i++) {
		const char *hit = strstr(tmp.data, secrets[i]);
		if (!hit)
			continue;
		struct plat_buf next = PLAT_BUF_INIT;
		const char *p = tmp.data;
		size_t sl = strlen(secrets[i]);
		while (hit) {
			plat_buf_append(&next, p, (size_t)(hit - p));
			plat_buf_puts(&next, PLAT_REDACTED);
			p = hit + sl;
			hit = strstr(p, secrets[i]);
		}
		plat_buf_puts(&next, p);
		plat_buf_free(&tmp);
		tmp = next;
	}
	pthread_mutex_unlock(&secrets_lock);
	plat_buf_append(out, tmp.data, tmp.len);
	plat_buf_free(&tmp);
}

void plat_redact(struct plat_buf *out, const char *s)
{
	/* Registered values first: a pattern match could cut a known secret in two and
	 * leave its tail behind. */
	struct plat_buf known = PLAT_BUF_INIT;
	plat_buf_reserve(&known, 0); /* an empty input is still a string below */
	redact_registered(&known, s ? s : "");
	redact_structural(out, known.data);
	plat_buf_reserve(out, 0);
	plat_buf_free(&known);
}

/* ---- emit ---- */

static void format_time(char *dst, size_t n, bool date)
{
	/* The second's text is made once per second and thread: a server logs every request. */
	static _Thread_local char base[32];
	static _Thread_local time_t base_sec = -1;
	static _Thread_local bool base_date;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != base_sec || date != base_date) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		strftime(base, sizeof(base), date ? "%Y-%m-%dT%H:%M:%S" : "%H:%M:%S", &tm);
		base_sec = ts.tv_sec;
		base_date = date;
	}
	snprintf(dst, n, "%s.%03dZ", base, (int)(ts.tv_nsec / 1000000));
}

/* A value that redaction and UTF-8 repair would return unchanged, decided without copying
 * it: printable ASCII, no ':' (so no "scheme://user:password@") and no '=' (so no
 * "password=..."), and too short to hold a registered secret. */
static bool plain_value(const char *v)
{
	size_t n = 0;
	for (const unsigned char *c = (const unsigned char *)v; *c; c++, n++)
		if (*c < 0x20 || *c > 0x7e || *c == ':' || *c == '=')
			return false;
	return n < atomic_load(&min_secret_len);
}

/* Redacted, valid-UTF-8 copy of a value; the caller frees it. */
static char *clean_value(const char *key, const char *value)
{
	struct plat_buf red = PLAT_BUF_INIT, out = PLAT_BUF_INIT;
	bool secret_key = key && plat_log_key_is_secret(key);
	if (!secret_key && plain_value(value ? value : ""))
		return plat_xstrdup(value ? value : "");
	if (secret_key)
		plat_buf_puts(&red, PLAT_REDACTED);
	else
		plat_redact(&red, value ? value : "");
	plat_utf8_sanitize(&out, red.data, red.len);
	plat_buf_free(&red);
	plat_buf_reserve(&out, 0);
	return plat_buf_detach(&out);
}

/* A JSON string of valid UTF-8 s (clean_value made it so), escaped as cJSON escapes. */
static void json_string(struct plat_buf *line, const char *s)
{
	plat_buf_putc(line, '"');
	for (const char *c = s; *c;) {
		size_t n = 0;
		while (c[n] && (unsigned char)c[n] >= 0x20 && c[n] != '"' && c[n] != '\\')
			n++;
		plat_buf_append(line, c, n);
		c += n;
		if (!*c)
			break;
		switch (*c) {
		case '"': plat_buf_puts(line, "\\\""); break;
		case '\\': plat_buf_puts(line, "\\\\"); break;
		case '\b': plat_buf_puts(line, "\\b"); break;
		case '\f': plat_buf_puts(line, "\\f"); break;
		case '\n': plat_buf_puts(line, "\\n"); break;
		case '\r': plat_buf_puts(line, "\\r"); break;
		case '\t': plat_buf_puts(line, "\\t"); break;
		default: plat_buf_printf(line, "\\u%04x", (unsigned char)*c); break;
		}
		c++;
	}
	plat_buf_putc(line, '"');
}

static void json_member(struct plat_buf *line, const char *sep, const char *key, const char *value)
{
	plat_buf_puts(line, sep);
	json_string(line, key);
	plat_buf_putc(line, ':');
	json_string(line, value);
}

static void logfmt_value(struct plat_buf *line, const char *v)
{
	bool quote = *v == '\0' || strpbrk(v, " =\"\t") != NULL;
	if (!quote) {
		plat_str_escape_terminal(line, v, strlen(v));
		return;
	}
	plat_buf_putc(line, '"');
	/* Escape whole spans between quotes, so multi-byte UTF-8 stays intact. */
	for (const char *c = v; *c;) {
		size_t n = strcspn(c, "\"");
		plat_str_escape_terminal(line, c, n);
		c += n;
		if (*c == '"') {
			plat_buf_puts(line, "\\\"");
			c++;
		}
	}
	plat_buf_putc(line, '"');
}

void plat_log(enum plat_log_level level, const char *msg, ...)
{
	if (!plat_log_enabled(level))
		return;

	int saved_errno = errno;
	char ts[48];
	format_time(ts, sizeof(ts), log_state.json);
	char *clean_msg = clean_value(NULL, msg);
	struct plat_buf line = PLAT_BUF_INIT;
	plat_buf_reserve(&line, 512); /* one allocation for a request's line */
	va_list ap;

	if (log_state.json) {
		json_member(&line, "{", "time", ts);
		json_member(&line, ",", "level", plat_log_level_name(level));
		json_member(&line, ",", "msg", clean_msg);
		if (plat_log_request_id()[0])
			json_member(&line, ",", "request_id", plat_log_request_id());
		va_start(ap, msg);
		for (const char *k; (k = va_arg(ap, const char *));) {
			const char *v = va_arg(ap, const char *);
			if (v && !plat_log_key_is_secret(k) && plain_value(v)) {
				json_member(&line, ",", k, v);
				continue;
			}
			char *cv = clean_value(k, v);
			json_member(&line, ",", k, cv);
			free(cv);
		}
		va_end(ap);
		plat_buf_putc(&line, '}');
	} else if (level <= PLAT_LOG_WARN && log_state.level <= PLAT_LOG_WARN) {
		/* A person at a terminal who asked for no detail: one plain line, as gh and kubectl
		 * print theirs. The fields machines need (kind, exit code) stay out; the others
		 * follow in parentheses, because they carry what the message refers to. */
		/* Usage errors already start with the command path ("platctl documents: ..."). */
		if (strncmp(clean_msg, "platctl ", 8) != 0 && strncmp(clean_msg, "platctl:", 8) != 0)
			plat_buf_puts(&line, "platctl: ");
		if (level == PLAT_LOG_WARN)
			plat_buf_puts(&line, log_state.color ? "\033[33mwarning:\033[0m " : "warning: ");
		plat_str_escape_terminal(&line, clean_msg, strlen(clean_msg));
		int shown = 0;
		va_start(ap, msg);
		for (const char *k; (k = va_arg(ap, const char *));) {
			const char *v = va_arg(ap, const char *);
			if (!strcmp(k, "kind") || !strcmp(k, "exit_code"))
				continue;
			char *cv = clean_value(k, v);
			plat_buf_printf(&line, "%s%s=", shown++ ? " " : " (", k);
			logfmt_value(&line, cv);
			free(cv);
		}
		va_end(ap);
		if (shown)
			plat_buf_putc(&line, ')');
	} else {
		static const char *const colors[] = {"\033[31m", "\033[33m", "\033[32m", "\033[36m", "\033[90m"};
		plat_buf_printf(&line, "time=%s level=", ts);
		if (log_state.color)
			plat_buf_printf(&line, "%s%s\033[0m", colors[level], plat_log_level_name(level));
		else
			plat_buf_puts(&line, plat_log_level_name(level));
		plat_buf_puts(&line, " msg=");
		logfmt_value(&line, clean_msg);
		va_start(ap, msg);
		for (const char *k; (k = va_arg(ap, const char *));) {
			const char *v = va_arg(ap, const char *);
			char *cv = clean_value(k, v);
			plat_buf_printf(&line, " %s=", k);
			logfmt_value(&line, cv);
			free(cv);
		}
		va_end(ap);
		if (plat_log_request_id()[0])
			plat_buf_printf(&line, " request_id=%s", plat_log_request_id());
	}
	plat_buf_putc(&line, '\n');
	plat_write_all(log_state.fd, line.data, line.len); /* nowhere to report a failure */
	plat_buf_free(&line);
	free(clean_msg);
	errno = saved_errno;
}
