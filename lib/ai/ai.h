/* AI providers behind one interface: embeddings and completions (text, JSON matching a
 * schema, or streamed tokens), with per-call timeouts, retries on 429/5xx/529 that honour
 * retry-after, and usage returned for accounting.
 *
 *   builtin    offline and deterministic (lib/ai/builtin.h); embeddings only here — its
 *              summaries, classes, fields and answers are the task functions in builtin.h
 *   anthropic  the Messages API (POST /v1/messages); JSON through a forced tool; SSE
 *              streaming; no embeddings endpoint
 *   openai     OpenAI-compatible /v1/chat/completions and /v1/embeddings; base_url makes
 *              Ollama, vLLM, llama.cpp's server and the like work
 *
 * API keys never reach logs or error messages (they are registered with the redactor). */
#ifndef PLAT_AI_H
#define PLAT_AI_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "error/error.h"

struct plat_ai;

struct plat_ai_options {
	const char *provider;   /* builtin | anthropic | openai */
	const char *model;      /* provider's model name; NULL: the provider's default */
	const char *base_url;   /* NULL: https://api.anthropic.com or https://api.openai.com/v1 */
	const char *api_key;    /* NULL: ANTHROPIC_API_KEY or OPENAI_API_KEY from environ */
	const char *anthropic_version; /* NULL: "2023-06-01" */
	long long timeout_ms;   /* per attempt; 0: 60 s */
	int max_retries;        /* < 0: 4 */
	char **environ;         /* NULL: the process environment */
};

int plat_ai_open(const struct plat_ai_options *o, struct plat_ai **out, struct plat_error *err);
void plat_ai_close(struct plat_ai *ai);
const char *plat_ai_provider(const struct plat_ai *ai);
const char *plat_ai_model(const struct plat_ai *ai);

struct plat_ai_usage {
	long long input_tokens;
	long long output_tokens;
	long long latency_ms;
	int attempts;
};

struct plat_ai_vectors {
	size_t n;
	int dim;          /* fixed per provider + model */
	float *data;      /* n * dim */
	char model[128];  /* recorded with every vector */
};

void plat_ai_vectors_free(struct plat_ai_vectors *v);

int plat_ai_embed(struct plat_ai *ai, const char *const *texts, size_t n, struct plat_ai_vectors *out,
		  struct plat_ai_usage *usage, struct plat_error *err);

struct plat_ai_message {
	const char *role; /* "user" or "assistant" */
	const char *content;
};

/* Called with each piece of text as it arrives; return non-zero to stop. */
typedef int (*plat_ai_token_fn)(void *arg, const char *text, size_t len);

struct plat_ai_request {
	const char *system;
	const struct plat_ai_message *messages;
	size_t n_messages;
	const char *json_schema; /* a JSON Schema object as text: the reply is JSON matching it */
	const char *schema_name; /* the tool / schema name; NULL: "result" */
	int max_tokens;          /* 0: 1024 */
	plat_ai_token_fn on_token; /* set: stream the reply */
	void *token_arg;
};

struct plat_ai_reply {
	char *text;   /* the whole reply (also when streamed) */
	cJSON *json;  /* parsed, when json_schema was given */
	char *stop_reason;
	struct plat_ai_usage usage;
};

void plat_ai_reply_free(struct plat_ai_reply *r);

int plat_ai_complete(struct plat_ai *ai, const struct plat_ai_request *req, struct plat_ai_reply *out,
		     struct plat_error *err);

enum plat_ai_role {
	PLAT_AI_CHAT,       /* summaries, classes, fields, answers: ai.chat.* */
	PLAT_AI_EMBEDDINGS, /* vectors: ai.embeddings.* */
};

struct plat_config;

/* Options for a role from the configuration: the role's provider and model, that
 * provider's base_url and api_key, ai.timeout and ai.max_retries. Strings point into
 * cfg. */
void plat_ai_options_for(const struct plat_config *cfg, enum plat_ai_role role, char **environ,
			 struct plat_ai_options *out);

/* The privacy gate: may a document of this class, with these extracted fields (as from
 * plat_ai_builtin_extract), go to an external provider? allow_classes is
 * ai.external.allow ("a,b", "*" for all, "" for none). When it may not, *reason says why
 * (static text); callers then use builtin and record the choice. */
bool plat_ai_external_allowed(const char *allow_classes, bool allow_pii, const char *doc_class, const cJSON *fields,
			      const char **reason);

#endif
