/* Anthropic's Messages API: POST {base}/v1/messages with x-api-key and anthropic-version.
 * Structured results come from a forced tool (tool_choice {type: tool}) whose input
 * schema is the caller's JSON schema; streaming reads the documented SSE events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_internal.h"

struct stream_state {
	const struct plat_ai_request *req;
	struct plat_ai_reply *out;
	struct plat_buf text;
	struct plat_buf tool_json; /* input_json_delta pieces */
	char *error;
};

static void usage_from(const cJSON *usage, struct plat_ai_usage *u)
{
	const cJSON *in = cJSON_GetObjectItem(usage, "input_tokens"), *outp = cJSON_GetObjectItem(usage, "output_tokens");
	if (cJSON_IsNumber(in))
		u->input_tokens = (long long)in->valuedouble;
	if (cJSON_IsNumber(outp))
		u->output_tokens = (long long)outp->valuedouble;
}

static int on_event(void *arg, const char *event, const char *data)
{
	struct stream_state *s = arg;
	cJSON *j = cJSON_Parse(data);
	int stop = 0;
	if (!strcmp(event, "message_start")) {
		usage_from(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "message"), "usage"), &s->out->usage);
	} else if (!strcmp(event, "content_block_delta")) {
		const cJSON *delta = cJSON_GetObjectItem(j, "delta");
		const cJSON *type = cJSON_GetObjectItem(delta, "type");
		if (cJSON_IsString(type) && !strcmp(type->valuestring, "text_delta")) {
			const cJSON *t = cJSON_GetObjectItem(delta, "text");
			if (cJSON_IsString(t)) {
				plat_buf_puts(&s->text, t->valuestring);
				if (s->req->on_token)
					stop = s->req->on_token(s->req->token_arg, t->valuestring, strlen(t->valuestring));
			}
		} else if (cJSON_IsString(type) && !strcmp(type->valuestring, "input_json_delta")) {
			const cJSON *t = cJSON_GetObjectItem(delta, "partial_json");
			if (cJSON_IsString(t))
				plat_buf_puts(&s->tool_json, t->valuestring);
		}
	} else if (!strcmp(event, "message_delta")) {
		usage_from(cJSON_GetObjectItem(j, "usage"), &s->out->usage);
		const cJSON *sr = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "delta"), "stop_reason");
		if (cJSON_IsString(sr)) {
			free(s->out->stop_reason);
			s->out->stop_reason = plat_xstrdup(sr->valuestring);
		}
	} else if (!strcmp(event, "error")) {
		const cJSON *e = cJSON_GetObjectItem(j, "error");
		const cJSON *t = cJSON_GetObjectItem(e, "type"), *m = cJSON_GetObjectItem(e, "message");
		struct plat_buf b = PLAT_BUF_INIT;
		plat_buf_printf(&b, "%s: %s", cJSON_IsString(t) ? t->valuestring : "error",
				cJSON_IsString(m) ? m->valuestring : "stream error");
		s->error = plat_buf_detach(&b);
		stop = 1;
	}
	cJSON_Delete(j);
	return stop;
}

static int parse_reply(const char *body, const struct plat_ai_request *req, struct plat_ai_reply *out,
		       struct plat_error *err)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *content = cJSON_GetObjectItem(j, "content");
	if (!cJSON_IsArray(content)) {
		cJSON_Delete(j);
		return plat_error_set(err, PLAT_E_FAILURE, "anthropic: the reply is not a Messages API message");
	}
	struct plat_buf text = PLAT_BUF_INIT;
	plat_buf_reserve(&text, 0);
	for (const cJSON *b = content->child; b; b = b->next) {
		const cJSON *type = cJSON_GetObjectItem(b, "type");
		if (!cJSON_IsString(type))
			continue;
		if (!strcmp(type->valuestring, "text") && cJSON_IsString(cJSON_GetObjectItem(b, "text")))
			plat_buf_puts(&text, cJSON_GetObjectItem(b, "text")->valuestring);
		else if (!strcmp(type->valuestring, "tool_use") && req->json_schema && !out->json)
			out->json = cJSON_Duplicate(cJSON_GetObjectItem(b, "input"), 1);
	}
	usage_from(cJSON_GetObjectItem(j, "usage"), &out->usage);
	const cJSON *sr = cJSON_GetObjectItem(j, "stop_reason");
	out->stop_reason = cJSON_IsString(sr) ? plat_xstrdup(sr->valuestring) : NULL;
	cJSON_Delete(j);
	if (out->json && !text.len) {
		char *s = cJSON_PrintUnformatted(out->json);
		plat_buf_puts(&text, s);
		cJSON_free(s);
	}
	out->text = plat_buf_detach(&text);
	if (req->json_schema && !cJSON_IsObject(out->json))
		return plat_error_set(err, PLAT_E_FAILURE, "anthropic: the reply has no tool result for the schema");
	return 0;
}

static int anthropic_complete(struct plat_ai *ai, const struct plat_ai_request *req, struct plat_ai_reply *out,
			      struct plat_error *err)
{
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "model", ai->model);
	cJSON_AddNumberToObject(body, "max_tokens", req->max_tokens > 0 ? req->max_tokens : 1024);
	if (req->system)
		cJSON_AddStringToObject(body, "system", req->system);
	cJSON *msgs = cJSON_AddArrayToObject(body, "messages");
	for (size_t i = 0; i < req->n_messages; i++) {
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", req->messages[i].role);
		cJSON_AddStringToObject(m, "content", req->messages[i].content);
		cJSON_AddItemToArray(msgs, m);
	}
	const char *tool = req->schema_name ? req->schema_name : "result";
	if (req->json_schema) {
		cJSON *schema = cJSON_Parse(req->json_schema);
		if (!cJSON_IsObject(schema)) {
			cJSON_Delete(schema);
			cJSON_Delete(body);
			return plat_error_set(err, PLAT_E_INTERNAL, "the JSON schema for '%s' is not a JSON object", tool);
		}
		cJSON *tools = cJSON_AddArrayToObject(body, "tools");
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "name", tool);
		cJSON_AddStringToObject(t, "description", "Report the result in this exact structure.");
		cJSON_AddItemToObject(t, "input_schema", schema);
		cJSON_AddItemToArray(tools, t);
		cJSON *choice = cJSON_AddObjectToObject(body, "tool_choice");
		cJSON_AddStringToObject(choice, "type", "tool");
		cJSON_AddStringToObject(choice, "name", tool);
	}
	if (req->on_token)
		cJSON_AddBoolToObject(body, "stream", 1);
	char *json = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);

	struct plat_buf url = PLAT_BUF_INIT, key = PLAT_BUF_INIT, ver = PLAT_BUF_INIT;
	plat_buf_printf(&url, "%s/v1/messages", ai->base_url);
	plat_buf_printf(&key, "x-api-key: %s", ai->api_key);
	plat_buf_printf(&ver, "anthropic-version: %s", ai->anthropic_version);
	struct curl_slist *h = curl_slist_append(NULL, "content-type: application/json");
	h = curl_slist_append(h, key.data);
	h = curl_slist_append(h, ver.data);
	h = curl_slist_append(h, req->on_token ? "accept: text/event-stream" : "accept: application/json");
	struct stream_state st = {.req = req, .out = out};
	struct ai_http http = {.provider = "anthropic", .url = url.data, .headers = h, .body = json,
			       .timeout_ms = ai->timeout_ms, .max_retries = ai->max_retries};
	if (req->on_token) {
		http.on_event = on_event;
		http.arg = &st;
	}
	int rc = ai_http_post(&http, err);
	if (rc == 0 && st.error)
		rc = plat_error_set(err, PLAT_E_UNAVAILABLE, "anthropic: the stream reported %s", st.error);
	if (rc == 0 && !req->on_token)
		rc = parse_reply(http.resp.data ? http.resp.data : "", req, out, err);
	if (rc == 0 && req->on_token) {
		plat_buf_reserve(&st.text, 0);
		out->text = plat_buf_detach(&st.text);
		if (req->json_schema) {
			out->json = cJSON_Parse(st.tool_json.data ? st.tool_json.data : "");
			if (!cJSON_IsObject(out->json))
				rc = plat_error_set(err, PLAT_E_FAILURE, "anthropic: the streamed tool input is not JSON");
		}
	}
	out->usage.attempts = http.attempts;
	out->usage.latency_ms = http.latency_ms;
	plat_buf_free(&st.text);
	plat_buf_free(&st.tool_json);
	free(st.error);
	ai_http_free(&http);
	curl_slist_free_all(h);
	if (key.data) /* the header held the API key */
		memset(key.data, 0, key.len);
	plat_buf_free(&url);
	plat_buf_free(&key);
	plat_buf_free(&ver);
	cJSON_free(json);
	if (rc < 0)
		plat_ai_reply_free(out);
	return rc;
}

static int anthropic_embed(struct plat_ai *ai, const char *const *texts, size_t n, struct plat_ai_vectors *out,
			   struct plat_ai_usage *usage, struct plat_error *err)
{
	(void)ai;
	(void)texts;
	(void)n;
	(void)out;
	(void)usage;
	return plat_error_set(err, PLAT_E_CONFIG,
			      "Anthropic has no embeddings endpoint: set ai.embeddings.provider to builtin or openai");
}

const struct plat_ai_ops plat_ai_anthropic_ops = {"anthropic", anthropic_embed, anthropic_complete};
