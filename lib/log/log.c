#include "log/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

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
	pthread_mutex_unlock(&secrets_lock);
}

bool plat_log_key_is_secret(const char *key)
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
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), date ? "%Y-%m-%dT%H:%M:%S" : "%H:%M:%S", &tm);
	snprintf(dst, n, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

/* Redacted, valid-UTF-8 copy of a value; the caller frees it. */
static char *clean_value(const char *key, const char *value)
{
	struct plat_buf red = PLAT_BUF_INIT, out = PLAT_BUF_INIT;
	if (key && plat_log_key_is_secret(key))
		plat_buf_puts(&red, PLAT_REDACTED);
	else
		plat_redact(&red, value ? value : "");
	plat_utf8_sanitize(&out, red.data, red.len);
	plat_buf_free(&red);
	plat_buf_reserve(&out, 0);
	return plat_buf_detach(&out);
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
	va_list ap;

	if (log_state.json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "time", ts);
		cJSON_AddStringToObject(o, "level", plat_log_level_name(level));
		cJSON_AddStringToObject(o, "msg", clean_msg);
		if (plat_log_request_id()[0])
			cJSON_AddStringToObject(o, "request_id", plat_log_request_id());
		va_start(ap, msg);
		for (const char *k; (k = va_arg(ap, const char *));) {
			const char *v = va_arg(ap, const char *);
			char *cv = clean_value(k, v);
			cJSON_AddStringToObject(o, k, cv);
			free(cv);
		}
		va_end(ap);
		char *s = cJSON_PrintUnformatted(o);
		plat_buf_puts(&line, s);
		cJSON_free(s);
		cJSON_Delete(o);
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
