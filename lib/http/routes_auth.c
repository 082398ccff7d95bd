/* /v1/auth: tokens for local accounts (the password and refresh grants) and logout. */
#include "http/handlers.h"

#include <string.h>

#include "auth/login.h"
#include "mem/mem.h"

/* The call acts in the tenant the body names (else the server's), as nobody yet. */
static void enter_tenant(struct plat_http_request *req, const char *tenant)
{
	struct plat_services *services = req->svc->services;
	plat_svc_done(req->svc);
	plat_svc_init(req->svc, services, &(struct plat_call){.tenant = tenant, .request_id = req->request_id});
}

static void wipe_body(struct plat_http_request *req, cJSON *body)
{
	for (cJSON *m = body ? body->child : NULL; m; m = m->next)
		if (cJSON_IsString(m))
			plat_wipe(m->valuestring, strlen(m->valuestring));
	cJSON_Delete(body);
	if (req->body)
		plat_wipe((char *)req->body, req->body_len);
}

int plat_http_h_auth_token(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *body = plat_http_body(req);
	const char *grant = NULL, *tenant = NULL, *user = NULL, *password = NULL, *refresh = NULL;
	int rc = plat_http_body_string(body, "grant_type", &grant, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "tenant", &tenant, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "username", &user, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "password", &password, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "refresh_token", &refresh, err);
	if (rc == 0 && (!grant || (strcmp(grant, "password") != 0 && strcmp(grant, "refresh_token") != 0))) {
		plat_error_set(err, PLAT_E_USAGE, "grant_type must be password or refresh_token");
		rc = plat_error_param(err, "grant_type");
	}
	if (rc == 0) {
		enter_tenant(req, tenant);
		if (strcmp(grant, "password") == 0)
			rc = plat_auth_token_password(req->svc, user, password, password ? strlen(password) : 0, &resp->json,
						      err);
		else
			rc = plat_auth_token_refresh(req->svc, refresh, &resp->json, err);
	}
	wipe_body(req, body);
	return rc;
}

int plat_http_h_auth_revoke(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *body = plat_http_body(req);
	const char *tenant = NULL, *token = NULL;
	int rc = plat_http_body_string(body, "tenant", &tenant, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "token", &token, err);
	if (rc == 0) {
		enter_tenant(req, tenant);
		rc = plat_auth_token_revoke(req->svc, token, &resp->json, err);
	}
	wipe_body(req, body);
	return rc;
}
