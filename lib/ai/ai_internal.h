/* Shared by the AI provider files; not a public header. */
#ifndef PLAT_AI_INTERNAL_H
#define PLAT_AI_INTERNAL_H

#include <curl/curl.h>

#include "ai/ai.h"
#include "mem/mem.h"

struct plat_ai_ops {
	const char *name;
	int (*embed)(struct plat_ai *ai, const char *const *texts, size_t n, struct plat_ai_vectors *out,
		     struct plat_ai_usage *usage, struct plat_error *err);
	int (*complete)(struct plat_ai *ai, const struct plat_ai_request *req, struct plat_ai_reply *out,
			struct plat_error *err);
};

struct plat_ai {
	const struct plat_ai_ops *ops;
	char *model;
	char *base_url;
	char *api_key;
	char *anthropic_version;
	long long timeout_ms;
	int max_retries;
};

extern const struct plat_ai_ops plat_ai_builtin_ops, plat_ai_anthropic_ops, plat_ai_openai_ops;

/* One JSON POST with retries. With on_event set, the reply is a server-sent event stream:
 * each event is handed over as it completes (whatever the network's chunking); a stream
 * that breaks after events were delivered is not retried. Without it, the body is in
 * body. Error replies are mapped with provider-specific messages by ai_http_error. */
struct ai_http {
	const char *provider; /* for messages */
	const char *url;
	struct curl_slist *headers;
	const char *body;
	long long timeout_ms;
	int max_retries;
	int (*on_event)(void *arg, const char *event, const char *data);
	void *arg;
	/* out */
	long status;
	struct plat_buf resp;
	int attempts;
	long long latency_ms;
};

int ai_http_post(struct ai_http *h, struct plat_error *err);
void ai_http_free(struct ai_http *h);

#endif
