/* GET /docs: Swagger UI over /openapi.json, from the files make install puts in
 * server.docs_dir (swagger-ui-dist from npm, and web/docs): served from this origin, no
 * CDN. Only the files listed here are served, so no path can leave the directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "http/handlers.h"
#include "paths.h" /* build/gen: PLATCTL_DOCSDIR, where make install puts the files */

static const struct {
	const char *name;
	const char *content_type;
} docs_files[] = {
	{"index.html", "text/html; charset=utf-8"},
	{"init.js", "text/javascript; charset=utf-8"},
	{"swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
	{"swagger-ui.css", "text/css; charset=utf-8"},
	{"favicon-32x32.png", "image/png"},
	{NULL, NULL},
};

/* Swagger UI styles elements inline and draws images as data: URLs; everything else comes
 * from this origin. */
#define DOCS_CSP                                                                                                     \
	"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "           \
	"connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'"

static int send_docs_file(struct plat_http_request *req, struct plat_http_response *resp, const char *name,
			  struct plat_error *err)
{
	int which = -1;
	for (int i = 0; docs_files[i].name; i++)
		if (strcmp(docs_files[i].name, name) == 0)
			which = i;
	if (which < 0)
		return plat_error_set(err, PLAT_E_NOT_FOUND, "no such file of the API documentation");
	const char *dir = plat_config_str(plat_services_config(req->svc->services), PLAT_CFG_SERVER_DOCS_DIR);
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : PLATCTL_DOCSDIR, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return plat_error_set(err, PLAT_E_NOT_FOUND,
				      "the API documentation (Swagger UI) is not installed in '%s' (server.docs_dir)",
				      dir && *dir ? dir : PLATCTL_DOCSDIR);
	}
	resp->content_type = docs_files[which].content_type;
	resp->csp = DOCS_CSP;
	resp->cache_control = "public, max-age=3600";
	resp->send_fd = true;
	resp->fd = fd;
	resp->fd_offset = 0;
	resp->fd_len = st.st_size;
	return 0;
}

int plat_http_h_docs(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	return send_docs_file(req, resp, "index.html", err);
}

int plat_http_h_docs_file(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	return send_docs_file(req, resp, req->params[0].value, err);
}
