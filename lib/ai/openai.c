/* OpenAI-compatible APIs: {base}/chat/completions (JSON replies through response_format
 * json_schema; SSE streaming with usage in the last chunk) and {base}/embeddings. The
 * base URL makes local servers (Ollama, vLLM, llama.cpp) work; they may need no key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_internal.h"

static struct curl_slist *headers(struct plat_ai *ai, struct plat_buf *auth, bool stream)
{
	struct curl_slist *h = curl_slist_append(NULL, "content-type: application/json");
	h = curl_slist_append(h, stream ? "accept: text/event-stream" : "accept: application/json");
	if (ai->api_key && *ai->api_key) {
		plat_buf_printf(auth, "authorization: Bearer %s", ai->api_key);
		h = curl_slist_append(h, auth->data);
	}
	return h;
}

static void wipe(struct plat_buf *b)
{
	if (b->data) /* it held the API key */
		memset(b->data, 0, b->len);
	plat_buf_free(b);
}

static void usage_from(const cJSON *usage, struct plat_ai_usage *u)
{
	const cJSON *in = cJSON_GetObjectItem(usage, "prompt_tokens"), *outp = cJSON_GetObjectItem(usage, "completion_tokens");
	if (cJSON_IsNumber(in))
		u->input_tokens = (long long)in->valuedouble;
	if (cJSON_IsNumber(outp))
		u->output_tokens = (long long)outp->valuedouble;
}

struct stream_state {
	const struct plat_ai_request *req;
	struct plat_ai_reply *out;
	struct plat_buf text;
	bool done;
};

static int on_event(void *arg, const char *event, const char *data)
{
	(void)event;
	struct stream_state *s = arg;
	if (!strcmp(data, "[DONE]")) {
		s->done = true;
		return 0;
	}
	cJSON *j = cJSON_Parse(data);
	int stop = 0;
	const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
	const cJSON *content = cJSON_GetObjectItem(cJSON_GetObjectItem(choice, "delta"), "content");
	if (cJSON_IsString(content) && *content->valuestring) {
		plat_buf_puts(&s->text, content->valuestring);
		if (s->req->on_token)
			stop = s->req->on_token(s->req->token_arg, content->valuestring, strlen(content->valuestring));
	}
	const cJSON *fr = cJSON_GetObjectItem(choice, "finish_reason");
	if (cJSON_IsString(fr)) {
		free(s->out->stop_reason);
		s->out->stop_reason = plat_xstrdup(fr->valuestring);
	}
	usage_from(cJSON_GetObjectItem(j, "usage"), &s->out->usage);
	cJSON_Delete(j);
	return stop;
}

static int openai_complete(struct plat_ai *ai, const struct plat_ai_request *req, struct plat_ai_reply *out,
			   struct plat_error *err)
{
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "model", ai->model);
	cJSON_AddNumberToObject(body, "max_tokens", req->max_tokens > 0 ? req->max_tokens : 1024);
	cJSON *msgs = cJSON_AddArrayToObject(body, "messages");
	if (req->system) {
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", "system");
		cJSON_AddStringToObject(m, "content", req->system);
		cJSON_AddItemToArray(msgs, m);
	}
	for (size_t i = 0; i < req->n_messages; i++) {
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", req->messages[i].role);
		cJSON_AddStringToObject(m, "content", req->messages[i].content);
		cJSON_AddItemToArray(msgs, m);
	}
	if (req->json_schema) {
		cJSON *schema = cJSON_Parse(req->json_schema);
		if (!cJSON_IsObject(schema)) {
			cJSON_Delete(schema);
			cJSON_Delete(body);
			return plat_error_set(err, PLAT_E_INTERNAL, "the JSON schema is not a JSON object");
		}
		cJSON *rf = cJSON_AddObjectToObject(body, "response_format");
		cJSON_AddStringToObject(rf, "type", "json_schema");
		cJSON *js = cJSON_AddObjectToObject(rf, "json_schema");
		cJSON_AddStringToObject(js, "name", req->schema_name ? req->schema_name : "result");
		cJSON_AddItemToObject(js, "schema", schema);
	}
	if (req->on_token) {
		cJSON_AddBoolToObject(body, "stream", 1);
		cJSON_AddBoolToObject(cJSON_AddObjectToObject(body, "stream_options"), "include_usage", 1);
	}
	char *json = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);

	struct plat_buf url = PLAT_BUF_INIT, auth = PLAT_BUF_INIT;
	plat_buf_printf(&url, "%s/chat/completions", ai->base_url);
	struct curl_slist *h = headers(ai, &auth, req->on_token != NULL);
	struct stream_state st = {.req = req, .out = out};
	struct ai_http http = {.provider = "openai", .url = url.data, .headers = h, .body = json,
			       .timeout_ms = ai->timeout_ms, .max_retries = ai->max_retries};
	if (req->on_token) {
		http.on_event = on_event;
		http.arg = &st;
	}
	int rc = ai_http_post(&http, err);
	if (rc == 0 && req->on_token) {
		if (!st.done && !st.text.len)
			rc = plat_error_set(err, PLAT_E_UNAVAILABLE, "openai: the stream ended without a reply");
		plat_buf_reserve(&st.text, 0);
		out->text = plat_buf_detach(&st.text);
	} else if (rc == 0) {
		cJSON *j = cJSON_Parse(http.resp.data ? http.resp.data : "");
		const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
		const cJSON *content = cJSON_GetObjectItem(cJSON_GetObjectItem(choice, "message"), "content");
		const cJSON *fr = cJSON_GetObjectItem(choice, "finish_reason");
		if (!cJSON_IsString(content))
			rc = plat_error_set(err, PLAT_E_FAILURE, "openai: the reply has no message content");
		else
			out->text = plat_xstrdup(content->valuestring);
		out->stop_reason = cJSON_IsString(fr) ? plat_xstrdup(fr->valuestring) : NULL;
		usage_from(cJSON_GetObjectItem(j, "usage"), &out->usage);
		cJSON_Delete(j);
	}
	if (rc == 0 && req->json_schema) {
		out->json = cJSON_Parse(out->text);
		if (!cJSON_IsObject(out->json))
			rc = plat_error_set(err, PLAT_E_FAILURE, "openai: the reply is not the JSON object the schema asks for");
	}
	out->usage.attempts = http.attempts;
	out->usage.latency_ms = http.latency_ms;
	plat_buf_free(&st.text);
	ai_http_free(&http);
	curl_slist_free_all(h);
	wipe(&auth);
	plat_buf_free(&url);
	cJSON_free(json);
	if (rc < 0)
		plat_ai_reply_free(out);
	return rc;
}

static int openai_embed(struct plat_ai *ai, const char *const *texts, size_t n, struct plat_ai_vectors *out,
			struct plat_ai_usage *usage, struct plat_error *err)
{
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "model", ai->model);
	cJSON *input = cJSON_AddArrayToObject(body, "input");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(input, cJSON_CreateString(texts[i]));
	char *json = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	struct plat_buf url = PLAT_BUF_INIT, auth = PLAT_BUF_INIT;
	plat_buf_printf(&url, "%s/embeddings", ai->base_url);
	struct curl_slist *h = headers(ai, &auth, false);
	struct ai_http http = {.provider = "openai", .url = url.data, .headers = h, .body = json,
			       .timeout_ms = ai->timeout_ms, .max_retries = ai->max_retries};
	int rc = ai_http_post(&http, err);
	if (rc == 0) {
		cJSON *j = cJSON_Parse(http.resp.data ? http.resp.data : "");
		const cJSON *data = cJSON_GetObjectItem(j, "data");
		if (cJSON_GetArraySize(data) != (int)n) {
			rc = plat_error_set(err, PLAT_E_FAILURE, "openai: %d embeddings for %zu texts",
					    cJSON_GetArraySize(data), n);
		} else {
			out->n = n;
			out->dim = n ? cJSON_GetArraySize(cJSON_GetObjectItem(data->child, "embedding")) : 0;
			out->data = plat_xcalloc(n && out->dim ? n * (size_t)out->dim : 1, sizeof(float));
			for (const cJSON *d = data->child; d && rc == 0; d = d->next) {
				const cJSON *idx = cJSON_GetObjectItem(d, "index"), *emb = cJSON_GetObjectItem(d, "embedding");
				int i = cJSON_IsNumber(idx) ? idx->valueint : -1;
				/* The dimension is fixed per model: a reply that varies it is refused. */
				if (i < 0 || i >= (int)n || cJSON_GetArraySize(emb) != out->dim || out->dim == 0) {
					rc = plat_error_set(err, PLAT_E_FAILURE, "openai: malformed embedding in the reply");
					break;
				}
				int k = 0;
				for (const cJSON *x = emb->child; x; x = x->next)
					out->data[(size_t)i * (size_t)out->dim + (size_t)k++] = (float)x->valuedouble;
			}
			const cJSON *m = cJSON_GetObjectItem(j, "model");
			snprintf(out->model, sizeof(out->model), "%s", cJSON_IsString(m) ? m->valuestring : ai->model);
			usage_from(cJSON_GetObjectItem(j, "usage"), usage);
		}
		cJSON_Delete(j);
	}
	usage->attempts = http.attempts;
	usage->latency_ms = http.latency_ms;
	if (rc < 0)
		plat_ai_vectors_free(out);
	ai_http_free(&http);
	curl_slist_free_all(h);
	wipe(&auth);
	plat_buf_free(&url);
	cJSON_free(json);
	return rc;
}

const struct plat_ai_ops plat_ai_openai_ops = {"openai", openai_embed, openai_complete};
