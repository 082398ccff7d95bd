/* Provider selection, the builtin provider's share of the interface, and results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ai/ai_internal.h"
#include "ai/builtin.h"
#include "config/config.h"
#include "log/log.h"

static const struct plat_ai_ops *const providers[] = {&plat_ai_builtin_ops, &plat_ai_anthropic_ops,
						      &plat_ai_openai_ops};

int plat_ai_open(const struct plat_ai_options *o, struct plat_ai **out, struct plat_error *err)
{
	*out = NULL;
	const char *name = o->provider && *o->provider ? o->provider : "builtin";
	const struct plat_ai_ops *ops = NULL;
	for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (!strcmp(providers[i]->name, name))
			ops = providers[i];
	if (!ops)
		return plat_error_set(err, PLAT_E_CONFIG, "unknown AI provider '%s' (builtin, anthropic, openai)", name);
	struct plat_ai *ai = plat_xcalloc(1, sizeof(*ai));
	ai->ops = ops;
	ai->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
	ai->max_retries = o->max_retries >= 0 ? o->max_retries : 4;
	const char *key = o->api_key && *o->api_key ? o->api_key : NULL;
	if (!strcmp(name, "anthropic")) {
		ai->base_url = plat_xstrdup(o->base_url && *o->base_url ? o->base_url : "https://api.anthropic.com");
		ai->model = plat_xstrdup(o->model && *o->model ? o->model : "claude-sonnet-4-5");
		ai->anthropic_version = plat_xstrdup(o->anthropic_version ? o->anthropic_version : "2023-06-01");
		if (!key)
			key = plat_env_get(o->environ, "ANTHROPIC_API_KEY");
	} else if (!strcmp(name, "openai")) {
		ai->base_url = plat_xstrdup(o->base_url && *o->base_url ? o->base_url : "https://api.openai.com/v1");
		ai->model = plat_xstrdup(o->model && *o->model ? o->model : "gpt-4o-mini");
		if (!key)
			key = plat_env_get(o->environ, "OPENAI_API_KEY");
	} else {
		ai->model = plat_xstrdup(PLAT_AI_BUILTIN_MODEL);
	}
	while (ai->base_url && strlen(ai->base_url) > 8 && ai->base_url[strlen(ai->base_url) - 1] == '/')
		ai->base_url[strlen(ai->base_url) - 1] = '\0';
	if (strcmp(name, "builtin") != 0) {
		/* A local OpenAI-compatible server may need no key; the real APIs refuse without. */
		if (!key && !strcmp(name, "anthropic")) {
			plat_ai_close(ai);
			return plat_error_set(err, PLAT_E_CONFIG,
					      "no Anthropic API key: set ai.anthropic.api_key or ANTHROPIC_API_KEY");
		}
		ai->api_key = plat_xstrdup(key ? key : "");
		plat_log_add_secret(ai->api_key);
	}
	*out = ai;
	return 0;
}

void plat_ai_close(struct plat_ai *ai)
{
	if (!ai)
		return;
	free(ai->model);
	free(ai->base_url);
	if (ai->api_key)
		memset(ai->api_key, 0, strlen(ai->api_key));
	free(ai->api_key);
	free(ai->anthropic_version);
	free(ai);
}

const char *plat_ai_provider(const struct plat_ai *ai)
{
	return ai->ops->name;
}

const char *plat_ai_model(const struct plat_ai *ai)
{
	return ai->model;
}

int plat_ai_embed(struct plat_ai *ai, const char *const *texts, size_t n, struct plat_ai_vectors *out,
		  struct plat_ai_usage *usage, struct plat_error *err)
{
	memset(out, 0, sizeof(*out));
	struct plat_ai_usage ignore;
	memset(usage ? usage : &ignore, 0, sizeof(ignore));
	return ai->ops->embed(ai, texts, n, out, usage ? usage : &ignore, err);
}

int plat_ai_complete(struct plat_ai *ai, const struct plat_ai_request *req, struct plat_ai_reply *out,
		     struct plat_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!ai->ops->complete)
		return plat_error_set(err, PLAT_E_INVALID,
				      "the %s provider does not write free text; its summaries, classes, fields and answers "
				      "come from its own rules",
				      ai->ops->name);
	return ai->ops->complete(ai, req, out, err);
}

void plat_ai_vectors_free(struct plat_ai_vectors *v)
{
	free(v->data);
	memset(v, 0, sizeof(*v));
}

void plat_ai_reply_free(struct plat_ai_reply *r)
{
	free(r->text);
	free(r->stop_reason);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

/* ---- builtin ---- */

static int builtin_embed(struct plat_ai *ai, const char *const *texts, size_t n, struct plat_ai_vectors *out,
			 struct plat_ai_usage *usage, struct plat_error *err)
{
	(void)ai;
	(void)err;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	out->n = n;
	out->dim = PLAT_AI_BUILTIN_DIM;
	out->data = plat_xcalloc(n ? n : 1, PLAT_AI_BUILTIN_DIM * sizeof(float));
	snprintf(out->model, sizeof(out->model), "%s", PLAT_AI_BUILTIN_MODEL);
	for (size_t i = 0; i < n; i++)
		plat_ai_builtin_embed(texts[i], strlen(texts[i]), out->data + i * PLAT_AI_BUILTIN_DIM);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	usage->latency_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	usage->attempts = 1;
	return 0;
}

const struct plat_ai_ops plat_ai_builtin_ops = {"builtin", builtin_embed, NULL};

/* ---- the privacy gate ---- */

static bool listed(const char *list, const char *item)
{
	size_t il = strlen(item);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ",");
		size_t trimmed = len;
		while (trimmed && p[trimmed - 1] == ' ')
			trimmed--;
		if ((trimmed == 1 && *p == '*') || (trimmed == il && !strncmp(p, item, il)))
			return true;
		p += len;
	}
	return false;
}

bool plat_ai_external_allowed(const char *allow_classes, bool allow_pii, const char *doc_class, const cJSON *fields,
			      const char **reason)
{
	*reason = NULL;
	if (!listed(allow_classes ? allow_classes : "", doc_class && *doc_class ? doc_class : "other")) {
		*reason = "its class is not in ai.external.allow";
		return false;
	}
	if (!allow_pii) {
		static const char *const pii[] = {"emails", "phones", "ibans"};
		for (size_t i = 0; i < sizeof(pii) / sizeof(pii[0]); i++)
			if (cJSON_GetArraySize(cJSON_GetObjectItem(fields, pii[i])) > 0) {
				*reason = "it contains personal data and ai.external.allow_pii is false";
				return false;
			}
	}
	return true;
}

/* ---- configuration ---- */

void plat_ai_options_for(const struct plat_config *cfg, enum plat_ai_role role, char **environ,
			 struct plat_ai_options *out)
{
	memset(out, 0, sizeof(*out));
	bool chat = role == PLAT_AI_CHAT;
	out->provider = plat_config_str(cfg, chat ? PLAT_CFG_AI_CHAT_PROVIDER : PLAT_CFG_AI_EMBEDDINGS_PROVIDER);
	out->model = plat_config_str(cfg, chat ? PLAT_CFG_AI_CHAT_MODEL : PLAT_CFG_AI_EMBEDDINGS_MODEL);
	if (!strcmp(out->provider, "anthropic")) {
		out->base_url = plat_config_str(cfg, PLAT_CFG_AI_ANTHROPIC_BASE_URL);
		out->api_key = plat_config_str(cfg, PLAT_CFG_AI_ANTHROPIC_API_KEY);
	} else if (!strcmp(out->provider, "openai")) {
		out->base_url = plat_config_str(cfg, PLAT_CFG_AI_OPENAI_BASE_URL);
		out->api_key = plat_config_str(cfg, PLAT_CFG_AI_OPENAI_API_KEY);
	}
	out->timeout_ms = plat_config_int(cfg, PLAT_CFG_AI_TIMEOUT);
	out->max_retries = (int)plat_config_int(cfg, PLAT_CFG_AI_MAX_RETRIES);
	out->environ = environ;
}
