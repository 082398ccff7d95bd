/* Where the server listens and what it serves TLS with: checked before it starts. */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"

int plat_http_parse_listen(const char *listen, struct sockaddr_storage *ss, unsigned *len, struct plat_error *err)
{
	memset(ss, 0, sizeof(*ss));
	char host[64];
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(host))
		goto bad;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 0 || port > 65535)
		goto bad;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (host[0] == '[') {
		size_t hl = strlen(host);
		if (hl < 3 || host[hl - 1] != ']')
			goto bad;
		host[hl - 1] = '\0';
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((unsigned short)port);
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			goto bad;
		*len = sizeof(*a);
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		goto bad;
	*len = sizeof(*a);
	return 0;
bad:
	plat_error_set(err, PLAT_E_USAGE, "listen address '%.64s' is not ADDR:PORT (IPv4, or [IPv6])", listen);
	return plat_error_param(err, "listen");
}

/* A PEM file into b (NUL-terminated, as libmicrohttpd takes it). A key that others may read
 * is refused: whoever can read it can be this server. */
int plat_http_load_pem(const char *path, const char *what, bool secret, struct plat_buf *b, struct plat_error *err)
{
	if (!path)
		return plat_error_set(err, PLAT_E_USAGE, "TLS needs both a certificate and a key");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return plat_error_set(err, PLAT_E_CONFIG, "cannot read the TLS %s '%s': %s", what, path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 1 << 20) {
		close(fd);
		return plat_error_set(err, PLAT_E_CONFIG, "the TLS %s '%s' is not a regular file of at most 1 MiB", what, path);
	}
	if (secret && (st.st_mode & S_IROTH)) {
		close(fd);
		return plat_error_set(err, PLAT_E_CONFIG, "the TLS key '%s' is readable by everyone: chmod o-r it first", path);
	}
	plat_buf_reserve(b, (size_t)st.st_size + 1);
	long long n = plat_read_upto(fd, b->data, (size_t)st.st_size);
	int e = errno;
	close(fd);
	if (n < 0)
		return plat_error_set(err, PLAT_E_CONFIG, "cannot read the TLS %s '%s': %s", what, path, strerror(e));
	b->len = (size_t)n;
	b->data[n] = '\0';
	if (!strstr(b->data, "-----BEGIN "))
		return plat_error_set(err, PLAT_E_CONFIG, "the TLS %s '%s' is not PEM (no -----BEGIN line)", what, path);
	return 0;
}
