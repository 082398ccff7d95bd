/* The Anthropic and OpenAI providers against tests/services/fake_ai.py, which answers
 * in the documented shapes and injects faults on request (make check starts it and sets
 * TEST_AI_URL and TEST_AI_KEY). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "ai/ai.h"
#include "config/config.h"
#include "log/log.h"
#include "mem/mem.h"

static const char *url, *key;

#define NEED_FAKE()                                                   \
	do {                                                          \
		if (!url || !key)                                     \
			skip(); /* make check always provides it */ \
	} while (0)

static void control(const char *method, const char *path, const char *json)
{
	CURL *c = curl_easy_init();
	char u[256];
	snprintf(u, sizeof(u), "%s%s", url, path);
	struct curl_slist *h = curl_slist_append(NULL, "content-type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (json)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	FILE *null = fopen("/dev/null", "w");
	curl_easy_setopt(c, CURLOPT_WRITEDATA, null);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	fclose(null);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static void script(const char *steps)
{
	control("DELETE", "/__control/script", NULL);
	if (steps)
		control("POST", "/__control/script", steps);
}

static struct plat_ai *open_ai(const char *provider, const char *k, long long timeout_ms, int retries)
{
	char base[256];
	snprintf(base, sizeof(base), "%s%s", url, strcmp(provider, "openai") ? "" : "/v1");
	struct plat_ai_options o = {.provider = provider, .base_url = base, .api_key = k, .model = "test-model",
				    .timeout_ms = timeout_ms, .max_retries = retries};
	struct plat_ai *ai;
	struct plat_error err = {0};
	if (plat_ai_open(&o, &ai, &err) < 0)
		fail_msg("open: %s", err.message);
	return ai;
}

static const struct plat_ai_message hello[] = {{"user", "hello there world"}};

static void test_anthropic_text_and_usage(void **state)
{
	(void)state;
	NEED_FAKE();
	script(NULL);
	struct plat_ai *ai = open_ai("anthropic", key, 5000, 2);
	struct plat_ai_request req = {.system = "be brief", .messages = hello, .n_messages = 1};
	struct plat_ai_reply r;
	struct plat_error err = {0};
	assert_int_equal(plat_ai_complete(ai, &req, &r, &err), 0);
	assert_string_equal(r.text, "echo: hello there world");
	assert_string_equal(r.stop_reason, "end_turn");
	assert_true(r.usage.input_tokens > 0 && r.usage.output_tokens > 0);
	assert_int_equal(r.usage.attempts, 1);
	plat_ai_reply_free(&r);
	plat_ai_close(ai);
}

static void test_anthropic_json_through_a_tool(void **state)
{
	(void)state;
	NEED_FAKE();
	script("[{\"json\": {\"class\": \"contract\", \"confidence\": 0.9}}]");
	struct plat_ai *ai = open_ai("anthropic", key, 5000, 2);
	struct plat_ai_request req = {.messages = hello, .n_messages = 1, .schema_name = "classify",
				      .json_schema = "{\"type\":\"object\",\"properties\":{\"class\":{\"type\":\"string\"},"
						     "\"confidence\":{\"type\":\"number\"}},\"required\":[\"class\",\"confidence\"]}"};
	struct plat_ai_reply r;
	struct plat_error err = {0};
	assert_int_equal(plat_ai_complete(ai, &req, &r, &err), 0);
	assert_string_equal(cJSON_GetObjectItem(r.json, "class")->valuestring, "contract");
	assert_string_equal(r.stop_reason, "tool_use");
	plat_ai_reply_free(&r);
	plat_ai_close(ai);
}

struct tokens {
	struct plat_buf text;
	int calls;
};

static int on_token(void *arg, const char *t, size_t n)
{
	struct tokens *tk = arg;
	plat_buf_append(&tk->text, t, n);
	tk->calls++;
	return 0;
}

static void test_streams_split_at_every_byte(void **state)
{
	(void)state;
	NEED_FAKE();
	const char *providers[] = {"anthropic", "openai"};
	for (int p = 0; p < 2; p++) {
		/* One byte per write: event lines, JSON and UTF-8 characters all arrive in pieces. */
		script("[{\"sse_chunk\": 1, \"pause_ms\": 0.2, \"text\": \"Grüße aus der Stadt — fünf Wörter\"}]");
		struct plat_ai *ai = open_ai(providers[p], key, 10000, 0);
		struct tokens tk = {PLAT_BUF_INIT, 0};
		struct plat_ai_request req = {.messages = hello, .n_messages = 1, .on_token = on_token, .token_arg = &tk};
		struct plat_ai_reply r;
		struct plat_error err = {0};
		if (plat_ai_complete(ai, &req, &r, &err) < 0)
			fail_msg("%s: %s", providers[p], err.message);
		assert_string_equal(r.text, "Grüße aus der Stadt — fünf Wörter");
		assert_string_equal(tk.text.data, r.text);
		assert_true(tk.calls > 1);
		assert_true(r.usage.output_tokens > 0);
		plat_ai_reply_free(&r);
		plat_buf_free(&tk.text);
		plat_ai_close(ai);
	}
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_retries(void **state)
{
	(void)state;
	NEED_FAKE();
	struct plat_ai_request req = {.messages = hello, .n_messages = 1};
	struct plat_ai_reply r;
	struct plat_error err = {0};
	struct plat_ai *ai = open_ai("anthropic", key, 5000, 3);

	/* 429 with retry-after: 1 second is waited, then it works. */
	script("[{\"status\": 429, \"retry_after\": \"1\"}]");
	long long t0 = now_ms();
	assert_int_equal(plat_ai_complete(ai, &req, &r, &err), 0);
	assert_int_equal(r.usage.attempts, 2);
	assert_true(now_ms() - t0 >= 950);
	plat_ai_reply_free(&r);

	/* 529 overloaded and a body cut in half are retried too. */
	script("[{\"status\": 529}, {\"cut\": true}]");
	assert_int_equal(plat_ai_complete(ai, &req, &r, &err), 0);
	assert_int_equal(r.usage.attempts, 3);
	plat_ai_reply_free(&r);

	/* A server that keeps failing: a clear error after max_retries + 1 attempts, exit 7. */
	script("[{\"status\": 500}, {\"status\": 500}, {\"status\": 500}, {\"status\": 500}]");
	assert_int_equal(plat_ai_complete(ai, &req, &r, &err), -PLAT_E_UNAVAILABLE);
	assert_non_null(strstr(err.message, "HTTP 500 after 4 attempts"));
	plat_ai_close(ai);

	/* Slower than the timeout: one attempt times out, the retry answers. */
	ai = open_ai("openai", key, 1000, 1);
	script("[{\"delay_ms\": 3000}]");
	assert_int_equal(plat_ai_complete(ai, &req, &r, &err), 0);
	assert_int_equal(r.usage.attempts, 2);
	plat_ai_reply_free(&r);
	plat_ai_close(ai);
	ai = open_ai("openai", key, 1000, 0);
	script("[{\"delay_ms\": 3000}]");
	assert_int_equal(plat_ai_complete(ai, &req, &r, &err), -PLAT_E_UNAVAILABLE);
	assert_non_null(strstr(err.message, "openai"));
	plat_ai_close(ai);
	script(NULL);
}

static void test_errors_are_clear_and_keep_keys_secret(void **state)
{
	(void)state;
	NEED_FAKE();
	script(NULL);
	struct plat_ai_request req = {.messages = hello, .n_messages = 1};
	struct plat_ai_reply r;
	struct plat_error err = {0};
	const char *wrong = "sk-wrong-key-0123456789";
	for (int p = 0; p < 2; p++) {
		struct plat_ai *ai = open_ai(p ? "openai" : "anthropic", wrong, 5000, 2);
		assert_int_equal(plat_ai_complete(ai, &req, &r, &err), -PLAT_E_AUTH);
		assert_null(strstr(err.message, wrong));
		assert_non_null(strstr(err.message, "HTTP 401"));
		plat_ai_close(ai);
	}
	/* An error event in the middle of a stream. */
	script("[{\"sse_error\": true}]");
	struct plat_ai *ai = open_ai("anthropic", key, 5000, 2);
	struct tokens tk = {PLAT_BUF_INIT, 0};
	req.on_token = on_token;
	req.token_arg = &tk;
	assert_int_equal(plat_ai_complete(ai, &req, &r, &err), -PLAT_E_UNAVAILABLE);
	assert_non_null(strstr(err.message, "overloaded_error"));
	plat_buf_free(&tk.text);
	plat_ai_close(ai);
	/* What each provider cannot do. */
	ai = open_ai("anthropic", key, 5000, 0);
	const char *texts[] = {"a"};
	struct plat_ai_vectors v;
	assert_int_equal(plat_ai_embed(ai, texts, 1, &v, NULL, &err), -PLAT_E_CONFIG);
	plat_ai_close(ai);
	struct plat_ai_options o = {.provider = "builtin"};
	assert_int_equal(plat_ai_open(&o, &ai, &err), 0);
	req.on_token = NULL;
	assert_int_equal(plat_ai_complete(ai, &req, &r, &err), -PLAT_E_INVALID);
	plat_ai_close(ai);
	o.provider = "gemini";
	assert_int_equal(plat_ai_open(&o, &ai, &err), -PLAT_E_CONFIG);
	plat_log_clear_secrets();
}

static void test_openai_json_and_embeddings(void **state)
{
	(void)state;
	NEED_FAKE();
	script("[{\"json\": {\"summary\": \"short\"}}]");
	struct plat_ai *ai = open_ai("openai", key, 5000, 2);
	struct plat_ai_request req = {.messages = hello, .n_messages = 1, .schema_name = "summary",
				      .json_schema = "{\"type\":\"object\",\"properties\":{\"summary\":{\"type\":\"string\"}},"
						     "\"required\":[\"summary\"]}"};
	struct plat_ai_reply r;
	struct plat_error err = {0};
	assert_int_equal(plat_ai_complete(ai, &req, &r, &err), 0);
	assert_string_equal(cJSON_GetObjectItem(r.json, "summary")->valuestring, "short");
	plat_ai_reply_free(&r);

	script(NULL);
	const char *texts[] = {"alpha", "beta", "alpha"};
	struct plat_ai_vectors v;
	struct plat_ai_usage u;
	assert_int_equal(plat_ai_embed(ai, texts, 3, &v, &u, &err), 0);
	assert_int_equal(v.n, 3);
	assert_true(v.dim > 0);
	assert_string_equal(v.model, "test-model");
	assert_memory_equal(v.data, v.data + 2 * v.dim, (size_t)v.dim * sizeof(float)); /* same text, same vector */
	double norm = 0;
	for (int i = 0; i < v.dim; i++)
		norm += (double)v.data[i] * v.data[i];
	assert_true(fabs(norm - 1.0) < 1e-3);
	plat_ai_vectors_free(&v);
	plat_ai_close(ai);
}

static void test_roles_from_configuration(void **state)
{
	(void)state;
	NEED_FAKE();
	script(NULL);
	struct plat_config *cfg = plat_config_new();
	char base[256];
	snprintf(base, sizeof(base), "%s/v1", url);
	plat_config_set(cfg, PLAT_CFG_AI_CHAT_PROVIDER, "anthropic", PLAT_CFG_SRC_FLAG, "t", NULL);
	plat_config_set(cfg, PLAT_CFG_AI_ANTHROPIC_BASE_URL, url, PLAT_CFG_SRC_FLAG, "t", NULL);
	plat_config_set(cfg, PLAT_CFG_AI_EMBEDDINGS_PROVIDER, "openai", PLAT_CFG_SRC_FLAG, "t", NULL);
	plat_config_set(cfg, PLAT_CFG_AI_EMBEDDINGS_MODEL, "embed-x", PLAT_CFG_SRC_FLAG, "t", NULL);
	plat_config_set(cfg, PLAT_CFG_AI_OPENAI_BASE_URL, base, PLAT_CFG_SRC_FLAG, "t", NULL);
	plat_config_set(cfg, PLAT_CFG_AI_OPENAI_API_KEY, key, PLAT_CFG_SRC_FLAG, "t", NULL);
	/* The chat key comes from the environment, as ANTHROPIC_API_KEY. */
	char env_key[256];
	snprintf(env_key, sizeof(env_key), "ANTHROPIC_API_KEY=%s", key);
	char *env[] = {env_key, NULL};
	struct plat_ai_options o;
	struct plat_ai *chat, *emb;
	struct plat_error err = {0};
	plat_ai_options_for(cfg, PLAT_AI_CHAT, env, &o);
	assert_int_equal(plat_ai_open(&o, &chat, &err), 0);
	assert_string_equal(plat_ai_provider(chat), "anthropic");
	plat_ai_options_for(cfg, PLAT_AI_EMBEDDINGS, env, &o);
	assert_int_equal(plat_ai_open(&o, &emb, &err), 0);
	assert_string_equal(plat_ai_model(emb), "embed-x");
	struct plat_ai_request req = {.messages = hello, .n_messages = 1};
	struct plat_ai_reply r;
	assert_int_equal(plat_ai_complete(chat, &req, &r, &err), 0);
	plat_ai_reply_free(&r);
	const char *texts[] = {"x"};
	struct plat_ai_vectors v;
	assert_int_equal(plat_ai_embed(emb, texts, 1, &v, NULL, &err), 0);
	assert_string_equal(v.model, "embed-x");
	plat_ai_vectors_free(&v);
	plat_ai_close(chat);
	plat_ai_close(emb);
	/* No key anywhere: a configuration error naming where to put one. */
	char *none[] = {NULL};
	plat_ai_options_for(cfg, PLAT_AI_CHAT, none, &o);
	assert_int_equal(plat_ai_open(&o, &chat, &err), -PLAT_E_CONFIG);
	assert_non_null(strstr(err.message, "ANTHROPIC_API_KEY"));
	plat_config_free(cfg);
	plat_log_clear_secrets();
}

int main(void)
{
	url = getenv("TEST_AI_URL");
	key = getenv("TEST_AI_KEY");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anthropic_text_and_usage),
		cmocka_unit_test(test_anthropic_json_through_a_tool),
		cmocka_unit_test(test_streams_split_at_every_byte),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_errors_are_clear_and_keep_keys_secret),
		cmocka_unit_test(test_openai_json_and_embeddings),
		cmocka_unit_test(test_roles_from_configuration),
	};
	int rc = cmocka_run_group_tests_name("ai_remote", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
