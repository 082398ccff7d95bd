#include "search/ask.h"
#include "search/remote.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "store/store.h"
#include "ai/ai.h"
#include "ai/builtin.h"
#include "clock/clock.h"
#include "log/log.h"
#include "mem/mem.h"

#define NOT_FOUND_MARK "NOT_FOUND"

static const char system_prompt[] =
	"You answer questions using only the numbered sources the user gives you. Cite every claim "
	"with the number of its source in square brackets, like [2]. Never use knowledge that is not in "
	"the sources. If the sources do not contain the answer, reply with exactly " NOT_FOUND_MARK
	" and nothing else. Answer in the language of the question, in at most five sentences.";

int plat_ask_check_citations(const char *text, int n_sources, struct plat_error *err)
{
	int cited = 0;
	for (const char *p = strchr(text, '['); p; p = strchr(p + 1, '[')) {
		const char *q = p + 1;
		if (!isdigit((unsigned char)*q))
			continue;
		long n = strtol(q, (char **)&q, 10);
		if (*q != ']')
			continue;
		if (n < 1 || n > n_sources)
			return plat_error_set(err, PLAT_E_FAILURE,
					      "the answer cites [%ld], which is not one of the %d retrieved sources", n,
					      n_sources);
		cited++;
	}
	if (!cited)
		return plat_error_set(err, PLAT_E_FAILURE, "the answer cites none of the retrieved sources");
	return 0;
}

/* May every source leave the machine? The privacy gate per document (class, PII). */
static bool sources_may_leave(struct plat_svc *svc, const cJSON *sources, const char *allow, bool allow_pii,
			      const char **why)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, sources)
	{
		const char *params[] = {svc->tenant_id, cJSON_GetObjectItem(s, "document_id")->valuestring};
		PGresult *r;
		struct plat_error err = {0};
		if (plat_db_exec(svc->db, "SELECT coalesce(class, ''), fields::text FROM documents WHERE tenant_id = $1 AND id = $2",
				 2, params, &r, &err) < 0) {
			*why = "cannot read the sources' classes";
			return false;
		}
		bool ok = PQntuples(r) == 1;
		if (ok) {
			cJSON *fields = cJSON_Parse(PQgetvalue(r, 0, 1));
			ok = plat_ai_external_allowed(allow, allow_pii, PQgetvalue(r, 0, 0), fields, why);
			cJSON_Delete(fields);
		}
		PQclear(r);
		if (!ok)
			return false;
	}
	return true;
}

static int record(struct plat_svc *svc, cJSON *j, struct plat_error *err)
{
	char *sources = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "sources"));
	char *usage = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "usage"));
	char latency[24];
	snprintf(latency, sizeof(latency), "%d", cJSON_GetObjectItem(j, "latency_ms")->valueint);
	const cJSON *answer = cJSON_GetObjectItem(j, "answer");
	const char *params[] = {svc->tenant_id,
				svc->principal,
				cJSON_GetObjectItem(j, "question")->valuestring,
				cJSON_IsString(answer) ? answer->valuestring : NULL,
				cJSON_IsTrue(cJSON_GetObjectItem(j, "refused")) ? "t" : "f",
				sources,
				cJSON_GetObjectItem(j, "provider")->valuestring,
				cJSON_GetObjectItem(j, "model")->valuestring,
				usage,
				latency,
				svc->request_id};
	PGresult *r;
	int rc = plat_db_exec(svc->db,
			      "INSERT INTO asks (tenant_id, principal, question, answer, refused, sources, provider, model,"
			      " usage, latency_ms, request_id) VALUES ($1, $2, $3, $4, $5::bool, $6::jsonb, $7, $8,"
			      " $9::jsonb, $10::int, $11) RETURNING id",
			      11, params, &r, err);
	if (rc == 0) {
		cJSON_AddStringToObject(j, "id", PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	cJSON_free(sources);
	cJSON_free(usage);
	return rc;
}

int plat_ask(struct plat_svc *svc, const struct plat_ask_request *request, struct plat_ask_result *out,
	     struct plat_error *err)
{
	long long t0 = plat_clock_ms();
	out->json = NULL;
	out->refused = false;
	struct plat_remote *remote;
	int rc = plat_svc_remote(svc, &remote, err);
	if (rc != 0)
		return rc < 0 ? rc : plat_ask_remote(remote, request, out, err);
	struct plat_ai *chat = NULL;
	rc = plat_svc_enter(svc, "ask", PLAT_NEEDS_TENANT, err);
	if (rc == 0)
		rc = plat_svc_ai(svc, PLAT_AI_CHAT, &chat, err);
	if (rc < 0)
		return rc;
	/* The privacy gate's settings are the deployment's, not the caller's. */
	struct plat_ask_request r = *request;
	const struct plat_ask_request *req = &r;
	if (!r.external_allow && svc->cfg) {
		r.external_allow = plat_config_str(svc->cfg, PLAT_CFG_AI_EXTERNAL_ALLOW);
		r.external_allow_pii = plat_config_bool(svc->cfg, PLAT_CFG_AI_EXTERNAL_ALLOW_PII);
	}
	struct plat_ask_prepared prep;
	rc = plat_ask_prepare(svc, req, &prep, err);
	if (rc < 0)
		return rc;
	const char *question = req->query.text;
	cJSON *sources = prep.sources;
	prep.sources = NULL;
	int n = prep.n;
	double support = prep.support, min_support = prep.min_support;
	const char *provider = "builtin", *model = PLAT_AI_BUILTIN_MODEL, *why_builtin = NULL;
	char *answer = NULL;
	struct plat_ai_usage usage = {0};
	bool refused = prep.refused;

	if (!refused && chat && strcmp(plat_ai_provider(chat), "builtin") != 0 &&
	    sources_may_leave(svc, sources, req->external_allow, req->external_allow_pii, &why_builtin)) {
		struct plat_buf prompt = PLAT_BUF_INIT;
		plat_buf_puts(&prompt, "Sources:\n\n");
		cJSON *s;
		cJSON_ArrayForEach(s, sources)
		{
			char where[512];
			plat_ask_source_location(s, where, sizeof(where));
			plat_buf_printf(&prompt, "[%d] %s:\n%s\n\n", cJSON_GetObjectItem(s, "n")->valueint, where,
					cJSON_GetObjectItem(s, "text")->valuestring);
		}
		plat_buf_printf(&prompt, "Question: %s", question);
		struct plat_ai_message m = {"user", prompt.data};
		struct plat_ai_request ar = {.system = system_prompt, .messages = &m, .n_messages = 1, .max_tokens = 800,
					     .on_token = req->on_token, .token_arg = req->token_arg};
		struct plat_ai_reply reply;
		rc = plat_ai_complete(chat, &ar, &reply, err);
		plat_buf_free(&prompt);
		if (rc == 0) {
			provider = plat_ai_provider(chat);
			model = plat_ai_model(chat);
			usage = reply.usage;
			if (reply.text && strstr(reply.text, NOT_FOUND_MARK))
				refused = true;
			else
				answer = plat_xstrdup(reply.text ? reply.text : "");
			plat_ai_reply_free(&reply);
		}
	} else if (!refused) {
		if (why_builtin)
			PLAT_LOG_I("answering with builtin: a source may not leave the machine", "reason", why_builtin);
		answer = prep.answer;
		prep.answer = NULL;
		if (req->on_token)
			req->on_token(req->token_arg, answer, strlen(answer));
	}
	plat_ask_prepared_free(&prep);
	if (rc == 0 && !refused)
		rc = plat_ask_check_citations(answer, n, err);
	if (rc < 0) {
		free(answer);
		cJSON_Delete(sources);
		return rc;
	}

	/* Which sources the answer actually cites. */
	cJSON *src;
	cJSON_ArrayForEach(src, sources)
	{
		char mark[16];
		snprintf(mark, sizeof(mark), "[%d]", cJSON_GetObjectItem(src, "n")->valueint);
		cJSON_AddBoolToObject(src, "cited", answer && strstr(answer, mark) != NULL);
	}
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "question", question);
	if (refused)
		cJSON_AddNullToObject(j, "answer");
	else
		cJSON_AddStringToObject(j, "answer", answer);
	cJSON_AddBoolToObject(j, "refused", refused);
	cJSON_AddNumberToObject(j, "support", support);
	cJSON_AddNumberToObject(j, "min_support", min_support);
	cJSON_AddItemToObject(j, "sources", sources);
	cJSON_AddStringToObject(j, "provider", provider);
	cJSON_AddStringToObject(j, "model", model);
	cJSON *u = cJSON_AddObjectToObject(j, "usage");
	cJSON_AddNumberToObject(u, "input_tokens", (double)usage.input_tokens);
	cJSON_AddNumberToObject(u, "output_tokens", (double)usage.output_tokens);
	cJSON_AddNumberToObject(j, "latency_ms", (double)(plat_clock_ms() - t0));
	free(answer);
	rc = record(svc, j, err);
	if (rc < 0) {
		cJSON_Delete(j);
		return rc;
	}
	out->json = j;
	out->refused = refused;
	return 0;
}
