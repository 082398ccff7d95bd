/* Administration over the API: tokens, users, the audit log and compliance findings, with
 * the service calls of platctl token, user, audit and compliance findings. */
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/principals.h"
#include "auth/tokens.h"
#include "compliance/compliance.h"
#include "str/str.h"

/* A list the services return as an array, as the object {name: array}. */
static int wrap(cJSON *array, const char *name, struct plat_http_response *resp)
{
	resp->json = cJSON_CreateObject();
	cJSON_AddItemToObject(resp->json, name, array);
	return 0;
}

int plat_http_h_tokens_list(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *list = NULL;
	int rc = plat_tokens_list(req->svc, &list, err);
	return rc < 0 ? rc : wrap(list, "tokens", resp);
}

int plat_http_h_tokens_create(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *body = plat_http_body(req);
	struct plat_new_token nt = {0};
	const char *expires = NULL;
	int rc = plat_http_body_string(body, "name", &nt.name, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "role", &nt.role, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "principal", &nt.principal, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "expires", &expires, err);
	if (rc == 0 && (!nt.name || !nt.role)) {
		plat_error_set(err, PLAT_E_USAGE, "name and role are required");
		rc = plat_error_param(err, nt.name ? "role" : "name");
	}
	if (rc == 0 && expires && !plat_str_to_seconds(expires, &nt.expires_in)) {
		plat_error_set(err, PLAT_E_USAGE, "expires '%.32s' is not a duration (a number and one of s, m, h, d, w, y: 30d)",
			       expires);
		rc = plat_error_param(err, "expires");
	}
	if (rc == 0)
		rc = plat_tokens_create(req->svc, &nt, &resp->json, err);
	cJSON_Delete(body);
	return rc;
}

int plat_http_h_tokens_revoke(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	int rc = plat_http_param_uuid(req, "token", err);
	return rc < 0 ? rc : plat_tokens_revoke(req->svc, req->params[0].value, &resp->json, err);
}

int plat_http_h_users_list(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *list = NULL;
	int rc = plat_principals_list(req->svc, &list, err);
	return rc < 0 ? rc : wrap(list, "users", resp);
}

int plat_http_h_users_add(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *body = plat_http_body(req);
	struct plat_new_principal np = {.kind = "user"};
	int rc = plat_http_body_string(body, "name", &np.name, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "role", &np.role, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "kind", &np.kind, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "email", &np.email, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "password", &np.password, err);
	if (rc == 0 && (!np.name || !np.role)) {
		plat_error_set(err, PLAT_E_USAGE, "name and role are required");
		rc = plat_error_param(err, np.name ? "role" : "name");
	}
	if (rc == 0 && !np.kind)
		np.kind = "user";
	if (rc == 0 && strcmp(np.kind, "user") != 0 && strcmp(np.kind, "service") != 0) {
		plat_error_set(err, PLAT_E_USAGE, "kind must be user or service");
		rc = plat_error_param(err, "kind");
	}
	if (rc == 0 && np.password && strcmp(np.kind, "service") == 0) {
		plat_error_set(err, PLAT_E_USAGE, "a service account has no password: it uses API tokens");
		rc = plat_error_param(err, "password");
	}
	if (rc == 0) {
		np.password_len = np.password ? strlen(np.password) : 0;
		rc = plat_principals_add(req->svc, &np, &resp->json, err);
	}
	/* The body held the password: nothing of it outlives the request. */
	cJSON *pw = cJSON_GetObjectItemCaseSensitive(body, "password");
	if (cJSON_IsString(pw))
		plat_wipe(pw->valuestring, strlen(pw->valuestring));
	cJSON_Delete(body);
	if (req->body)
		plat_wipe((char *)req->body, req->body_len);
	return rc;
}

int plat_http_h_users_disable(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	return plat_principals_set_disabled(req->svc, req->params[0].value, true, &resp->json, err);
}

int plat_http_h_users_enable(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	return plat_principals_set_disabled(req->svc, req->params[0].value, false, &resp->json, err);
}

int plat_http_h_audit_list(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	struct plat_audit_filter f = {.since = req->query(req->conn, "since"),
				      .until = req->query(req->conn, "until"),
				      .actor = req->query(req->conn, "actor"),
				      .action = req->query(req->conn, "action"),
				      .object_type = req->query(req->conn, "object_type"),
				      .object_id = req->query(req->conn, "object_id"),
				      .cursor = req->query(req->conn, "cursor")};
	int rc = plat_http_query_int(req, "limit", 1, 1000, 100, &f.limit, err);
	return rc < 0 ? rc : plat_audit_list(req->svc, &f, &resp->json, err);
}

int plat_http_h_audit_verify(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	return plat_audit_verify_chain(req->svc, &resp->json, err);
}

int plat_http_h_findings_list(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	struct plat_findings_filter f = {.status = req->query(req->conn, "status"),
					 .rule = req->query(req->conn, "rule"),
					 .min_severity = -1,
					 .document_id = req->query(req->conn, "document"),
					 .since = req->query(req->conn, "since"),
					 .cursor = req->query(req->conn, "cursor")};
	const char *sev = req->query(req->conn, "severity");
	if (sev && (f.min_severity = plat_severity_parse(sev)) < 0) {
		plat_error_set(err, PLAT_E_USAGE, "severity must be info, low, medium, high or critical");
		return plat_error_param(err, "severity");
	}
	int rc = plat_http_query_int(req, "limit", 1, 1000, 100, &f.limit, err);
	return rc < 0 ? rc : plat_compliance_findings_list(req->svc, &f, &resp->json, err);
}

static int ack_or_resolve(struct plat_http_request *req, struct plat_http_response *resp, bool ack,
			  struct plat_error *err)
{
	int rc = plat_http_param_uuid(req, "finding", err);
	cJSON *body = plat_http_body(req);
	const char *note = NULL;
	if (rc == 0)
		rc = plat_http_body_string(body, "note", &note, err);
	if (rc == 0)
		rc = ack ? plat_compliance_findings_ack(req->svc, req->params[0].value, note, &resp->json, err)
			 : plat_compliance_findings_resolve(req->svc, req->params[0].value, note, &resp->json, err);
	cJSON_Delete(body);
	return rc;
}

int plat_http_h_findings_ack(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	return ack_or_resolve(req, resp, true, err);
}

int plat_http_h_findings_resolve(struct plat_http_request *req, struct plat_http_response *resp,
				 struct plat_error *err)
{
	return ack_or_resolve(req, resp, false, err);
}
