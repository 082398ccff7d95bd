/* The route handlers (routes*.c) and what they share: request parsing that answers in
 * problem details naming the parameter. Private to lib/http. */
#ifndef PLAT_HTTP_HANDLERS_H
#define PLAT_HTTP_HANDLERS_H

#include "http/http.h"

/* The {id} path parameter (the first) as a uuid, else PLAT_E_USAGE naming it. what: "document". */
int plat_http_param_uuid(struct plat_http_request *req, const char *what, struct plat_error *err);

/* An integer query parameter in [lo, hi], dflt when absent. */
int plat_http_query_int(struct plat_http_request *req, const char *name, int lo, int hi, int dflt, int *out,
			struct plat_error *err);

/* A boolean query parameter: true, false, 1, 0 (absent: *out is left as it is, the
 * caller's default). */
int plat_http_query_bool(struct plat_http_request *req, const char *name, bool *out, struct plat_error *err);

/* The body as a JSON object (the server checked it parses), or an empty object when the route
 * takes an optional body and none came. Never NULL. */
cJSON *plat_http_body(struct plat_http_request *req);

/* A member of a body: NULL when absent; PLAT_E_USAGE naming it when present with another type. */
int plat_http_body_string(const cJSON *body, const char *name, const char **out, struct plat_error *err);
int plat_http_body_int(const cJSON *body, const char *name, long long lo, long long hi, long long *out,
		       bool *present, struct plat_error *err);
int plat_http_body_number(const cJSON *body, const char *name, double lo, double hi, double *out, bool *present,
			  struct plat_error *err);

int plat_http_h_documents_list(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_documents_show(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_documents_delete(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_documents_retry(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_documents_hold(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_documents_release(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_documents_content(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_documents_upload(struct plat_http_request *, struct plat_http_response *, struct plat_error *);

int plat_http_h_tokens_list(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_tokens_create(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_tokens_revoke(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_users_list(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_users_add(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_users_disable(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_users_enable(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_audit_list(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_audit_verify(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_findings_list(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_findings_ack(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_findings_resolve(struct plat_http_request *, struct plat_http_response *, struct plat_error *);

int plat_http_h_webhooks_list(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_webhooks_add(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_webhooks_delete(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_webhook_deliveries(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_webhook_redeliver(struct plat_http_request *, struct plat_http_response *, struct plat_error *);

int plat_http_h_docs(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_docs_file(struct plat_http_request *, struct plat_http_response *, struct plat_error *);

int plat_http_h_auth_token(struct plat_http_request *, struct plat_http_response *, struct plat_error *);
int plat_http_h_auth_revoke(struct plat_http_request *, struct plat_http_response *, struct plat_error *);

#endif
