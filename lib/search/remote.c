#include "search/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"

/* The body both routes read (routes.c search_query): the text under its name, filters. */
static cJSON *query_body(const struct plat_search_query *q, const char *text_name)
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, text_name, q->text ? q->text : "");
	if (q->k > 0)
		cJSON_AddNumberToObject(b, "k", q->k);
	if (q->class_name)
		cJSON_AddStringToObject(b, "class", q->class_name);
	if (q->since)
		cJSON_AddStringToObject(b, "since", q->since);
	if (q->document)
		cJSON_AddStringToObject(b, "document", q->document);
	if (q->tag_key) {
		struct plat_buf tag = PLAT_BUF_INIT;
		plat_buf_printf(&tag, "%s=%s", q->tag_key, q->tag_value ? q->tag_value : "");
		cJSON_AddStringToObject(b, "tag", tag.data);
		plat_buf_free(&tag);
	}
	return b;
}

/* What only the database side can do: eval's ranking sweeps. */
static int direct_only(const struct plat_search_query *q, struct plat_error *err)
{
	if (q->ranking || q->candidates)
		return plat_error_set(err, PLAT_E_CONFIG,
				      "a search with its own ranking settings runs against the database, not a server");
	return 0;
}

int plat_search_remote(struct plat_remote *r, const struct plat_search_query *q, cJSON **results,
		       struct plat_error *err)
{
	*results = NULL;
	if (!q->text || !*q->text)
		return plat_error_set(err, PLAT_E_USAGE, "the query is empty");
	int rc = direct_only(q, err);
	if (rc < 0)
		return rc;
	cJSON *body = query_body(q, "query");
	if (q->explain)
		cJSON_AddTrueToObject(body, "explain");
	cJSON *reply = NULL;
	rc = plat_remote_json(r, "POST", "/v1/search", body, &reply, NULL, err);
	cJSON_Delete(body);
	if (rc < 0)
		return rc;
	*results = cJSON_DetachItemFromObjectCaseSensitive(reply, "results");
	cJSON_Delete(reply);
	if (!cJSON_IsArray(*results)) {
		cJSON_Delete(*results);
		*results = NULL;
		return plat_error_set(err, PLAT_E_FAILURE, "the server at %s sent no results", plat_remote_url(r));
	}
	return 0;
}

/* The streamed answer (routes.c run_ask_stream): "token" {text} events, then "answer" with
 * the whole result, or "error" with problem details. */
struct ask_events {
	struct plat_remote *r;
	const struct plat_ask_request *req;
	cJSON *answer;
	struct plat_error *err;
	bool failed;
};

static int on_ask_event(void *arg, const char *event, const char *data)
{
	struct ask_events *a = arg;
	if (strcmp(event, "token") == 0) {
		cJSON *t = cJSON_Parse(data);
		const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "text"));
		int rc = text ? a->req->on_token(a->req->token_arg, text, strlen(text)) : 0;
		cJSON_Delete(t);
		if (rc != 0)
			plat_error_set(a->err, PLAT_E_FAILURE, "the answer's stream was stopped");
		return rc;
	}
	if (strcmp(event, "answer") == 0) {
		cJSON_Delete(a->answer);
		a->answer = cJSON_Parse(data);
	} else if (strcmp(event, "error") == 0) {
		cJSON *p = cJSON_Parse(data);
		plat_remote_problem(a->r, 0, p, a->err);
		cJSON_Delete(p);
		a->failed = true;
	}
	return 0;
}

int plat_ask_remote(struct plat_remote *r, const struct plat_ask_request *req, struct plat_ask_result *out,
		    struct plat_error *err)
{
	out->json = NULL;
	out->refused = false;
	if (!req->query.text || !*req->query.text)
		return plat_error_set(err, PLAT_E_USAGE, "the question is empty");
	int rc = direct_only(&req->query, err);
	if (rc < 0)
		return rc;
	cJSON *body = query_body(&req->query, "question");
	if (req->min_support > 0) /* 0: the server's ask.min_support, as direct uses its own */
		cJSON_AddNumberToObject(body, "min_support", req->min_support < 1e-6 ? 0 : req->min_support);
	if (req->context_tokens > 0)
		cJSON_AddNumberToObject(body, "context_tokens", req->context_tokens);
	cJSON *answer = NULL;
	if (req->on_token) {
		struct plat_error stream_err = {0};
		struct ask_events a = {.r = r, .req = req, .err = &stream_err};
		struct plat_remote_request q = {.method = "POST", .path = "/v1/ask", .json = body, .body_fd = -1,
						.sink_err = &stream_err};
		rc = plat_remote_events(r, &q, on_ask_event, &a, err);
		if (rc == 0 && a.failed)
			rc = plat_error_set(err, stream_err.kind, "%s", stream_err.message);
		else if (rc == 0 && !a.answer)
			rc = plat_error_set(err, PLAT_E_UNAVAILABLE, "the server at %s ended the answer's stream early",
					    plat_remote_url(r));
		answer = a.answer;
		if (rc < 0) {
			cJSON_Delete(answer);
			answer = NULL;
		}
	} else {
		rc = plat_remote_json(r, "POST", "/v1/ask", body, &answer, NULL, err);
	}
	cJSON_Delete(body);
	if (rc < 0)
		return rc;
	if (!cJSON_IsObject(answer)) {
		cJSON_Delete(answer);
		return plat_error_set(err, PLAT_E_FAILURE, "the server at %s sent no answer", plat_remote_url(r));
	}
	out->json = answer;
	out->refused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "refused"));
	return 0;
}
