/* Webhooks over the API: add, list, delete, the delivery log and redelivery. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/handlers.h"
#include "mem/mem.h"
#include "webhooks/webhooks.h"

int plat_http_h_webhooks_list(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *list = NULL;
	int rc = plat_webhooks_list(req->svc, &list, err);
	if (rc < 0)
		return rc;
	resp->json = cJSON_CreateObject();
	cJSON_AddItemToObject(resp->json, "webhooks", list);
	return 0;
}

/* "events", an array of names, as the comma-separated list the service parses. */
static int body_events(const cJSON *body, char **out, struct plat_error *err)
{
	*out = NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "events");
	if (!cJSON_IsArray(e)) {
		plat_error_set(err, PLAT_E_USAGE, e ? "events must be an array of event types" : "events is required");
		return plat_error_param(err, "events");
	}
	struct plat_buf b = PLAT_BUF_INIT;
	const cJSON *it;
	cJSON_ArrayForEach(it, e) {
		if (!cJSON_IsString(it) || strchr(it->valuestring, ',')) {
			plat_buf_free(&b);
			plat_error_set(err, PLAT_E_USAGE, "events must be an array of event types");
			return plat_error_param(err, "events");
		}
		if (b.len)
			plat_buf_append(&b, ",", 1);
		plat_buf_append(&b, it->valuestring, strlen(it->valuestring));
	}
	*out = plat_xstrdup(b.data ? b.data : "");
	plat_buf_free(&b);
	return 0;
}

int plat_http_h_webhooks_add(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	cJSON *body = plat_http_body(req);
	struct plat_new_webhook nw = {0};
	char *events = NULL;
	int rc = plat_http_body_string(body, "url", &nw.url, err);
	if (rc == 0)
		rc = plat_http_body_string(body, "description", &nw.description, err);
	if (rc == 0 && !nw.url) {
		plat_error_set(err, PLAT_E_USAGE, "url is required");
		rc = plat_error_param(err, "url");
	}
	if (rc == 0)
		rc = body_events(body, &events, err);
	if (rc == 0) {
		nw.events = events;
		rc = plat_webhooks_add(req->svc, &nw, &resp->json, err);
	}
	free(events);
	cJSON_Delete(body);
	if (rc == 0) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(resp->json, "id");
		if (cJSON_IsString(id))
			plat_http_add_header(resp, "Location", "/v1/webhooks/%s", id->valuestring);
	}
	return rc;
}

int plat_http_h_webhooks_delete(struct plat_http_request *req, struct plat_http_response *resp, struct plat_error *err)
{
	int rc = plat_http_param_uuid(req, "webhook", err);
	return rc < 0 ? rc : plat_webhooks_delete(req->svc, req->params[0].value, &resp->json, err);
}

int plat_http_h_webhook_deliveries(struct plat_http_request *req, struct plat_http_response *resp,
				   struct plat_error *err)
{
	struct plat_webhook_delivery_filter f = {.webhook_id = req->query(req->conn, "webhook"),
						 .status = req->query(req->conn, "status")};
	int rc = plat_http_query_int(req, "limit", 1, 1000, 100, &f.limit, err);
	cJSON *list = NULL;
	if (rc == 0)
		rc = plat_webhooks_deliveries(req->svc, &f, &list, err);
	if (rc < 0)
		return rc;
	resp->json = cJSON_CreateObject();
	cJSON_AddItemToObject(resp->json, "deliveries", list);
	return 0;
}

int plat_http_h_webhook_redeliver(struct plat_http_request *req, struct plat_http_response *resp,
				  struct plat_error *err)
{
	int rc = plat_http_param_uuid(req, "delivery", err);
	return rc < 0 ? rc : plat_webhooks_redeliver(req->svc, req->params[0].value, &resp->json, err);
}
