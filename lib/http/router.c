/* Route matching, the OpenAPI description and problem details: everything of the server
 * that is pure data, testable without a socket. */
#include "http/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/authz.h"

/* One pattern against one path, segment by segment; params filled on a match. */
static bool match_pattern(const char *pattern, const char *path, struct plat_http_request *req)
{
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return false;
		p++, s++;
		const char *pe = strchr(p, '/'), *se = strchr(s, '/');
		size_t pl = pe ? (size_t)(pe - p) : strlen(p), sl = se ? (size_t)(se - s) : strlen(s);
		if (pl > 2 && p[0] == '{' && p[pl - 1] == '}') {
			/* An empty segment or one too long for the buffer is no id of ours. */
			if (sl == 0 || np >= PLAT_HTTP_MAX_PARAMS || sl >= sizeof(req->params[0].value))
				return false;
			if (req) {
				static __thread char names[PLAT_HTTP_MAX_PARAMS][32];
				size_t nl = pl - 2 < sizeof(names[0]) ? pl - 2 : sizeof(names[0]) - 1;
				memcpy(names[np], p + 1, nl);
				names[np][nl] = '\0';
				req->params[np].name = names[np];
				memcpy(req->params[np].value, s, sl);
				req->params[np].value[sl] = '\0';
			}
			np++;
		} else if (pl != sl || memcmp(p, s, pl) != 0) {
			return false;
		}
		p += pl, s += sl;
	}
	if (*p || *s)
		return false;
	if (req)
		req->nparams = np;
	return true;
}

int plat_http_match(const struct plat_http_route *table, const char *method, const char *path,
		    const struct plat_http_route **route, struct plat_http_request *req, char *allow, size_t allow_size)
{
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	bool path_known = false;
	if (allow && allow_size)
		allow[0] = '\0';
	for (const struct plat_http_route *r = table; r->method; r++) {
		if (!match_pattern(r->pattern, path, NULL))
			continue;
		path_known = true;
		if (strcmp(r->method, m) == 0) {
			match_pattern(r->pattern, path, req);
			*route = r;
			return 0;
		}
	}
	if (!path_known)
		return 404;
	if (allow) {
		size_t used = 0;
		for (const struct plat_http_route *r = table; r->method; r++) {
			if (!match_pattern(r->pattern, path, NULL))
				continue;
			int n = snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", r->method);
			if (n < 0 || (size_t)n >= allow_size - used)
				break;
			used += (size_t)n;
			if (strcmp(r->method, "GET") == 0) {
				n = snprintf(allow + used, allow_size - used, ", HEAD");
				if (n > 0 && (size_t)n < allow_size - used)
					used += (size_t)n;
			}
		}
	}
	return 405;
}

static const char problem_schema[] =
	"{\"type\":\"object\",\"required\":[\"type\",\"title\",\"status\"],\"properties\":{"
	"\"type\":{\"type\":\"string\"},\"title\":{\"type\":\"string\"},\"status\":{\"type\":\"integer\"},"
	"\"detail\":{\"type\":\"string\"},\"instance\":{\"type\":\"string\"},\"request_id\":{\"type\":\"string\"},"
	"\"param\":{\"type\":\"string\"}}}";

static cJSON *schema(const char *text)
{
	cJSON *s = text ? cJSON_Parse(text) : NULL;
	return s ? s : cJSON_CreateObject();
}

static void add_error(cJSON *responses, const char *code, const char *description)
{
	cJSON *r = cJSON_AddObjectToObject(responses, code);
	cJSON_AddStringToObject(r, "description", description);
	cJSON *content = cJSON_AddObjectToObject(r, "content");
	cJSON *mt = cJSON_AddObjectToObject(content, "application/problem+json");
	cJSON *ref = cJSON_AddObjectToObject(mt, "schema");
	cJSON_AddStringToObject(ref, "$ref", "#/components/schemas/Problem");
}

/* "/v1/documents/{id}" -> "documents_id" style operation ids: unique per method+path. */
static void operation_id(const struct plat_http_route *r, char *out, size_t size)
{
	size_t n = 0;
	for (const char *m = r->method; *m && n + 1 < size; m++)
		out[n++] = (char)(*m | 0x20);
	for (const char *p = r->pattern; *p && n + 1 < size; p++) {
		if (*p == '{' || *p == '}')
			continue;
		out[n++] = (*p == '/' || *p == '.') ? '_' : *p;
	}
	out[n] = '\0';
}

cJSON *plat_http_openapi(const struct plat_http_route *table, const char *version)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "openapi", "3.1.0");
	cJSON *info = cJSON_AddObjectToObject(doc, "info");
	cJSON_AddStringToObject(info, "title", "platctl");
	/* The API's version (its paths are /v1), not the binary's. */
	cJSON_AddStringToObject(info, "version", version ? version : "1");
	cJSON_AddStringToObject(info, "description",
				"platctl's REST API: the same operations, permissions and JSON as the commands. "
				"Errors are RFC 9457 problem details.");
	/* Relative: the API is wherever this document was fetched from (behind a proxy too). */
	cJSON *server = cJSON_CreateObject();
	cJSON_AddStringToObject(server, "url", "/");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "servers"), server);
	cJSON *paths = cJSON_AddObjectToObject(doc, "paths");
	for (const struct plat_http_route *r = table; r->method; r++) {
		cJSON *item = cJSON_GetObjectItemCaseSensitive(paths, r->pattern);
		if (!item)
			item = cJSON_AddObjectToObject(paths, r->pattern);
		char lower[8] = {0};
		for (size_t i = 0; r->method[i] && i < sizeof(lower) - 1; i++)
			lower[i] = (char)(r->method[i] | 0x20);
		cJSON *op = cJSON_AddObjectToObject(item, lower);
		char id[128];
		operation_id(r, id, sizeof(id));
		cJSON_AddStringToObject(op, "operationId", id);
		cJSON_AddStringToObject(op, "summary", r->summary);
		if (r->operation) {
			cJSON_AddStringToObject(op, "x-permission", r->operation);
			const struct plat_permission *perm = plat_authz_lookup(r->operation);
			char roles[64] = "";
			if (perm && perm->kind == PLAT_AUTHZ_ROLES)
				plat_roles_describe(perm->roles, roles, sizeof(roles));
			if (*roles)
				cJSON_AddStringToObject(op, "x-roles", roles);
		} else {
			cJSON_AddItemToObject(op, "security", cJSON_CreateArray());
		}
		cJSON *params = NULL;
		for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
			const char *e = strchr(p, '}');
			if (!e)
				break;
			if (!params)
				params = cJSON_AddArrayToObject(op, "parameters");
			cJSON *prm = cJSON_CreateObject();
			char name[32];
			size_t nl = (size_t)(e - p - 1) < sizeof(name) - 1 ? (size_t)(e - p - 1) : sizeof(name) - 1;
			memcpy(name, p + 1, nl);
			name[nl] = '\0';
			cJSON_AddStringToObject(prm, "name", name);
			cJSON_AddStringToObject(prm, "in", "path");
			cJSON_AddBoolToObject(prm, "required", 1);
			cJSON *ps = cJSON_AddObjectToObject(prm, "schema");
			cJSON_AddStringToObject(ps, "type", "string");
			if (strcmp(name, "id") == 0)
				cJSON_AddStringToObject(ps, "format", "uuid");
			cJSON_AddItemToArray(params, prm);
		}
		if (r->request_schema || r->request_media) {
			cJSON *body = cJSON_AddObjectToObject(op, "requestBody");
			cJSON_AddBoolToObject(body, "required", !(r->flags & PLAT_HTTP_OPTIONAL_JSON_BODY));
			cJSON *content = cJSON_AddObjectToObject(body, "content");
			cJSON *mt = cJSON_AddObjectToObject(content, r->request_media ? r->request_media : "application/json");
			cJSON_AddItemToObject(mt, "schema", r->request_schema ? schema(r->request_schema)
									      : schema("{\"type\":\"string\",\"format\":\"binary\"}"));
			if (r->flags & PLAT_HTTP_STREAM_BODY) {
				/* Or as a form (lib/http/form.h): the fields take the query's place. */
				cJSON *form = cJSON_AddObjectToObject(content, "multipart/form-data");
				cJSON_AddItemToObject(
					form, "schema",
					schema("{\"type\":\"object\",\"required\":[\"file\"],\"properties\":{"
					       "\"file\":{\"type\":\"string\",\"format\":\"binary\"},"
					       "\"name\":{\"type\":\"string\"},\"title\":{\"type\":\"string\"},"
					       "\"class\":{\"type\":\"string\"},"
					       "\"tag\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
					       "\"new_version\":{\"type\":\"boolean\"}}}"));
			}
		}
		cJSON *responses = cJSON_AddObjectToObject(op, "responses");
		char code[8];
		snprintf(code, sizeof(code), "%d", r->status ? r->status : 200);
		cJSON *ok = cJSON_AddObjectToObject(responses, code);
		cJSON_AddStringToObject(ok, "description", "success");
		if (r->response_schema || r->response_media) {
			cJSON *content = cJSON_AddObjectToObject(ok, "content");
			cJSON *mt = cJSON_AddObjectToObject(content, r->response_media ? r->response_media : "application/json");
			cJSON_AddItemToObject(mt, "schema", r->response_schema ? schema(r->response_schema)
										: schema("{\"type\":\"string\"}"));
		}
		if (r->flags & PLAT_HTTP_STREAM_BODY) {
			/* The same content again: nothing new was stored. */
			cJSON *same = cJSON_AddObjectToObject(responses, "200");
			cJSON_AddStringToObject(same, "description", "unchanged: the same content is there already");
			cJSON *content = cJSON_AddObjectToObject(same, "content");
			cJSON *mt = cJSON_AddObjectToObject(content, "application/json");
			cJSON_AddItemToObject(mt, "schema", schema(r->response_schema));
		}
		if (r->handler && strstr(r->summary, "Range")) {
			cJSON *part = cJSON_AddObjectToObject(responses, "206");
			cJSON_AddStringToObject(part, "description", "the requested byte range");
			add_error(responses, "416", "the range is outside the content");
		}
		if (strstr(r->summary, "302")) {
			cJSON *moved = cJSON_AddObjectToObject(responses, "302");
			cJSON_AddStringToObject(moved, "description", "fetch the content from the presigned URL in Location");
			cJSON *h = cJSON_AddObjectToObject(cJSON_AddObjectToObject(moved, "headers"), "Location");
			cJSON_AddItemToObject(h, "schema", schema("{\"type\":\"string\",\"format\":\"uri\"}"));
			cJSON *mt = cJSON_AddObjectToObject(cJSON_AddObjectToObject(moved, "content"), "application/json");
			cJSON_AddItemToObject(mt, "schema",
					      schema("{\"type\":\"object\",\"required\":[\"url\",\"expires_at\",\"sha256\"],"
						     "\"properties\":{\"url\":{\"type\":\"string\"},\"expires_at\":{\"type\":"
						     "\"string\"},\"sha256\":{\"type\":\"string\"},\"size\":{\"type\":\"integer\"},"
						     "\"content_type\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"}}}"));
		}
		if (strstr(r->summary, "If-None-Match") || strstr(r->summary, "ETag"))
			cJSON_AddStringToObject(cJSON_AddObjectToObject(responses, "304"), "description", "not modified");
		if (r->operation) {
			add_error(responses, "401", "missing, malformed, forged or expired token");
			add_error(responses, "403", "the token's role may not run this operation");
		}
		if (r->request_schema)
			add_error(responses, "415", "the body is not application/json");
		if (r->request_schema || r->request_media)
			add_error(responses, "413", "the body is too large");
		add_error(responses, "400", "a malformed request");
		add_error(responses, "default", "an error");
	}
	cJSON *components = cJSON_AddObjectToObject(doc, "components");
	cJSON *schemas = cJSON_AddObjectToObject(components, "schemas");
	cJSON_AddItemToObject(schemas, "Problem", schema(problem_schema));
	cJSON *sec = cJSON_AddObjectToObject(components, "securitySchemes");
	cJSON *bearer = cJSON_AddObjectToObject(sec, "bearer");
	cJSON_AddStringToObject(bearer, "type", "http");
	cJSON_AddStringToObject(bearer, "scheme", "bearer");
	cJSON *security = cJSON_AddArrayToObject(doc, "security");
	cJSON *req = cJSON_CreateObject();
	cJSON_AddItemToObject(req, "bearer", cJSON_CreateArray());
	cJSON_AddItemToArray(security, req);
	return doc;
}

static const char *status_title(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 422: return "Unprocessable Content";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return status >= 500 ? "Server Error" : "Client Error";
	}
}

cJSON *plat_http_problem(const struct plat_error *err, int status, const char *instance, const char *request_id)
{
	if (status == 0)
		status = plat_error_http_status(err->kind);
	cJSON *p = cJSON_CreateObject();
	/* The kind's stable name is the type: clients branch on it, not on the message. */
	char type[64];
	snprintf(type, sizeof(type), "urn:platctl:error:%s", plat_error_kind_name(err->kind));
	cJSON_AddStringToObject(p, "type", type);
	cJSON_AddStringToObject(p, "title", status_title(status));
	cJSON_AddNumberToObject(p, "status", status);
	/* An internal error's message is for the log, not for the client. */
	const char *detail = err->kind == PLAT_E_INTERNAL ? "internal error" : err->message;
	cJSON_AddStringToObject(p, "detail", *detail ? detail : status_title(status));
	if (instance)
		cJSON_AddStringToObject(p, "instance", instance);
	if (request_id)
		cJSON_AddStringToObject(p, "request_id", request_id);
	if (err->param[0])
		cJSON_AddStringToObject(p, "param", err->param);
	return p;
}
