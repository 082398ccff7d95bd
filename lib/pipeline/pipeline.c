#include "pipeline/pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "db/db.h"
#include "store/store.h"
#include "audit/audit.h"
#include "chunk/chunk.h"
#include "clock/clock.h"
#include "extract/extract.h"
#include "hash/hash.h"
#include "io/io.h"
#include "log/log.h"
#include "mem/mem.h"
#include "metrics/metrics.h"

#define SCHEMA_DIM 384 /* chunks.embedding is vector(384) in migration 0001 */

static void mark_failed(struct plat_pipeline *p, const char *id, const struct plat_error *cause);

struct download {
	int fd;
	struct plat_sha256 *sha;
};

static int to_file(void *arg, const char *buf, size_t len)
{
	struct download *d = arg;
	plat_sha256_update(d->sha, buf, len);
	return plat_write_all(d->fd, buf, len);
}

/* The content into an unlinked temporary file, its sha256 checked against the row. */
static int fetch(struct plat_pipeline *p, const char *key, const char *sha256, char *path, int *fd_out,
		 struct plat_error *err)
{
	snprintf(path, 64, "/tmp/platctl-doc-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return plat_error_set(err, PLAT_E_UNAVAILABLE, "cannot create a temporary file: %s", strerror(errno));
	/* Unlinked at once: a worker that crashes or is killed leaves no copy of the document
	 * behind. The extraction child inherits the descriptor and opens it by this name. */
	unlink(path);
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	struct download d = {fd, plat_sha256_new()};
	int rc = plat_store_get(p->svc->store, key, 0, -1, to_file, &d, err);
	char got[PLAT_SHA256_HEX_LEN + 1];
	plat_sha256_final(d.sha, got);
	plat_sha256_free(d.sha);
	if (rc == 0 && strcmp(got, sha256) != 0)
		rc = plat_error_set(err, PLAT_E_FAILURE, "the stored content does not match the document's sha256");
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

/* "[0.1,0.2,...]" for pgvector's text input. */
static void vector_text(struct plat_buf *b, const float *v, int dim)
{
	plat_buf_putc(b, '[');
	for (int i = 0; i < dim; i++)
		plat_buf_printf(b, "%s%.7g", i ? "," : "", (double)v[i]);
	plat_buf_putc(b, ']');
}

/* One element of a PostgreSQL array literal: quoted, with " and \ escaped. */
static void array_element(struct plat_buf *b, const char *text)
{
	plat_buf_putc(b, '"');
	for (const char *c = text; *c; c++) {
		if (*c == '"' || *c == '\\')
			plat_buf_putc(b, '\\');
		plat_buf_putc(b, *c);
	}
	plat_buf_putc(b, '"');
}

/* The same, or an unquoted NULL element for NULL. */
static void array_element_or_null(struct plat_buf *b, const char *text)
{
	if (text)
		array_element(b, text);
	else
		plat_buf_puts(b, "NULL");
}

/* The stage's time into the document's stage_timings, and into the metrics. */
static void timing(struct plat_pipeline *p, cJSON *t, const char *stage, long long since)
{
	long long ms = plat_clock_ms() - since;
	char key[64], labels[80];
	snprintf(key, sizeof(key), "%s_ms", stage);
	cJSON_AddNumberToObject(t, key, (double)ms);
	snprintf(labels, sizeof(labels), "stage=\"%s\"", stage);
	plat_metrics_observe(p->metrics, PLAT_PIPELINE_STAGE_METRIC, labels, (double)ms / 1000.0);
}

void plat_pipeline_give_up(struct plat_pipeline *p, const char *id, const char *why)
{
	struct plat_error cause = {.kind = PLAT_E_FAILURE};
	snprintf(cause.message, sizeof(cause.message), "%s", why);
	mark_failed(p, id, &cause);
}

/* Mark the document failed with the error (best effort: the error is what matters). */
static void mark_failed(struct plat_pipeline *p, const char *id, const struct plat_error *cause)
{
	plat_db_rollback(p->svc->db);
	char version[16];
	snprintf(version, sizeof(version), "%d", PLAT_PIPELINE_VERSION);
	const char *params[] = {p->svc->tenant_id, id, cause->message, version};
	/* Never over a result another worker committed meanwhile. */
	plat_db_exec(p->svc->db,
		     "UPDATE documents SET status = 'failed', error = $3, updated_at = now()"
		     " WHERE tenant_id = $1 AND id = $2 AND NOT (status = 'processed' AND pipeline_version >= $4::int)",
		     4, params, NULL, NULL);
}

static char *summarise(struct plat_pipeline *p, bool external, const char *text, const char **provider,
		       struct plat_error *err)
{
	if (external && p->chat && strcmp(plat_ai_provider(p->chat), "builtin") != 0) {
		struct plat_ai_message m = {"user", text};
		struct plat_ai_request req = {
			.system = "Summarise the document in at most three sentences, in its own language.",
			.messages = &m, .n_messages = 1, .max_tokens = 300};
		struct plat_ai_reply r;
		if (plat_ai_complete(p->chat, &req, &r, err) < 0)
			return NULL;
		*provider = plat_ai_provider(p->chat);
		char *s = plat_xstrdup(r.text ? r.text : "");
		plat_ai_reply_free(&r);
		return s;
	}
	*provider = "builtin";
	return plat_ai_builtin_summarize(text, strlen(text), 3);
}

int plat_pipeline_process(struct plat_pipeline *p, const char *id, enum plat_pipeline_outcome *outcome,
			  struct plat_error *err)
{
	struct plat_svc *svc = p->svc;
	long long started = plat_clock_ms();
	*outcome = PLAT_PIPELINE_SKIPPED;
	/* Claim it: only documents not yet processed by this pipeline version. */
	char version[16];
	snprintf(version, sizeof(version), "%d", PLAT_PIPELINE_VERSION);
	const char *claim[] = {svc->tenant_id, id, version};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "UPDATE documents SET status = 'processing', attempts = attempts + 1, updated_at = now()"
			      " WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
			      " AND NOT (status = 'processed' AND pipeline_version >= $3::int)"
			      " RETURNING storage_key, sha256, content_type",
			      3, claim, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	char *key = plat_xstrdup(PQgetvalue(res, 0, 0)), *sha = plat_xstrdup(PQgetvalue(res, 0, 1)),
	     *ctype = plat_xstrdup(PQgetvalue(res, 0, 2));
	PQclear(res);

	cJSON *timings = cJSON_CreateObject();
	struct plat_pages pages = {0};
	struct plat_chunks chunks = {0};
	struct plat_ai_vectors vecs = {0};
	cJSON *fields = NULL;
	char *summary = NULL, *full = NULL;
	char path[64] = "";
	int fd = -1;
	const char *provider = "builtin", *why_builtin = NULL;
	double confidence = 0;
	const char *class_name = "other";

	long long t = plat_clock_ms();
	rc = fetch(p, key, sha, path, &fd, err);
	timing(p, timings, "download", t);
	if (rc == 0) {
		t = plat_clock_ms();
		rc = plat_extract_file(path, ctype, &p->limits, &pages, err);
		timing(p, timings, "extract", t);
	}
	if (rc == 0) {
		struct plat_buf b = PLAT_BUF_INIT;
		plat_buf_reserve(&b, 0);
		for (size_t i = 0; i < pages.n; i++)
			plat_buf_printf(&b, "%s%s", i ? "\n\n" : "", pages.pages[i].text);
		full = plat_buf_detach(&b);
		t = plat_clock_ms();
		class_name = plat_ai_builtin_classify(p->taxonomy, full, strlen(full), &confidence);
		fields = plat_ai_builtin_extract(full, strlen(full));
		timing(p, timings, "classify_extract", t);
		/* The privacy gate decides whether the text may leave the machine. */
		bool external = plat_ai_external_allowed(p->external_allow, p->external_allow_pii, class_name, fields,
							 &why_builtin);
		t = plat_clock_ms();
		summary = summarise(p, external, full, &provider, err);
		timing(p, timings, "summarise", t);
		if (!summary)
			rc = -(int)err->kind;
	}
	if (rc == 0) {
		t = plat_clock_ms();
		plat_chunk_pages(&pages, p->chunk_tokens ? p->chunk_tokens : 200, p->chunk_overlap ? p->chunk_overlap : 30,
				 &chunks);
		timing(p, timings, "chunk", t);
		const char **texts = plat_xcalloc(chunks.n ? chunks.n : 1, sizeof(*texts));
		for (size_t i = 0; i < chunks.n; i++)
			texts[i] = chunks.chunks[i].text;
		t = plat_clock_ms();
		if (p->embeddings)
			rc = plat_ai_embed(p->embeddings, texts, chunks.n, &vecs, NULL, err);
		else {
			vecs.n = chunks.n;
			vecs.dim = PLAT_AI_BUILTIN_DIM;
			vecs.data = plat_xcalloc(chunks.n ? chunks.n : 1, PLAT_AI_BUILTIN_DIM * sizeof(float));
			snprintf(vecs.model, sizeof(vecs.model), "%s", PLAT_AI_BUILTIN_MODEL);
			for (size_t i = 0; i < chunks.n; i++)
				plat_ai_builtin_embed(texts[i], strlen(texts[i]), vecs.data + i * PLAT_AI_BUILTIN_DIM);
		}
		timing(p, timings, "embed", t);
		free(texts);
		if (rc == 0 && chunks.n && vecs.dim != SCHEMA_DIM)
			rc = plat_error_set(err, PLAT_E_CONFIG,
					    "embeddings from '%s' have %d dimensions; the schema stores %d (use builtin or a "
					    "%d-dimension model)",
					    vecs.model, vecs.dim, SCHEMA_DIM, SCHEMA_DIM);
	}

	/* One transaction: chunks, fields, summary, class, status, timings, event, audit. */
	if (rc == 0)
		rc = plat_db_begin(svc->db, err);
	/* Another worker may have finished the same document meanwhile (a redelivered event after
	 * a rebalance or an expired lease): the row lock makes the second one see it and step
	 * back, so the effect stays exactly once — one set of chunks, one processed event. */
	bool already = false;
	if (rc == 0) {
		const char *lock[] = {svc->tenant_id, id, version};
		rc = plat_db_exec(svc->db,
				  "SELECT (status = 'processed' AND pipeline_version >= $3::int) OR deleted_at IS NOT NULL"
				  " FROM documents WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
				  3, lock, &res, err);
		if (rc == 0) {
			already = PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "t") == 0;
			PQclear(res);
		}
		if (rc == 0 && already) {
			plat_db_rollback(svc->db);
			goto out;
		}
	}
	const char *del[] = {svc->tenant_id, id};
	if (rc == 0)
		rc = plat_db_exec(svc->db, "DELETE FROM chunks WHERE tenant_id = $1 AND document_id = $2", 2, del, NULL, err);
	/* All chunks in one statement: one round trip instead of one per chunk. */
	if (rc == 0 && chunks.n > 0) {
		struct plat_buf ords = PLAT_BUF_INIT, pages_a = PLAT_BUF_INIT, texts_a = PLAT_BUF_INIT, vec_a = PLAT_BUF_INIT,
				titles_a = PLAT_BUF_INIT, sections_a = PLAT_BUF_INIT, anchors_a = PLAT_BUF_INIT;
		struct plat_buf *arrays[] = {&ords, &pages_a, &texts_a, &vec_a, &titles_a, &sections_a, &anchors_a};
		for (size_t a = 0; a < sizeof(arrays) / sizeof(arrays[0]); a++)
			plat_buf_putc(arrays[a], '{');
		for (size_t i = 0; i < chunks.n; i++) {
			const char *sep = i ? "," : "";
			const struct plat_chunk *c = &chunks.chunks[i];
			plat_buf_printf(&ords, "%s%d", sep, c->ord);
			plat_buf_printf(&pages_a, "%s%d", sep, c->page);
			plat_buf_puts(&texts_a, sep);
			array_element(&texts_a, c->text);
			plat_buf_printf(&vec_a, "%s\"", sep);
			vector_text(&vec_a, vecs.data + i * (size_t)vecs.dim, vecs.dim);
			plat_buf_putc(&vec_a, '"');
			plat_buf_puts(&titles_a, sep);
			array_element_or_null(&titles_a, c->title);
			plat_buf_puts(&sections_a, sep);
			array_element_or_null(&sections_a, c->section);
			plat_buf_puts(&anchors_a, sep);
			array_element_or_null(&anchors_a, c->anchor);
		}
		for (size_t a = 0; a < sizeof(arrays) / sizeof(arrays[0]); a++)
			plat_buf_putc(arrays[a], '}');
		const char *params[] = {svc->tenant_id, id,	    ords.data,	     pages_a.data,   texts_a.data,
					vec_a.data,	vecs.model, titles_a.data, sections_a.data, anchors_a.data};
		rc = plat_db_exec(svc->db,
				  "INSERT INTO chunks (tenant_id, document_id, ord, page, text, embedding, embedding_model,"
				  " title, section, anchor)"
				  " SELECT $1, $2, u.ord, u.page, u.text, u.embedding::vector, $7, u.title, u.section, u.anchor"
				  " FROM unnest($3::int[], $4::int[], $5::text[], $6::text[], $8::text[], $9::text[], $10::text[])"
				  " AS u(ord, page, text, embedding, title, section, anchor)",
				  10, params, NULL, err);
		for (size_t a = 0; a < sizeof(arrays) / sizeof(arrays[0]); a++)
			plat_buf_free(arrays[a]);
	}
	if (rc == 0) {
		timing(p, timings, "total", started);
		char *fj = cJSON_PrintUnformatted(fields), *tj = cJSON_PrintUnformatted(timings);
		char conf[32];
		snprintf(conf, sizeof(conf), "%.4f", confidence);
		const char *params[] = {svc->tenant_id, id, class_name, conf, summary, fj, tj, provider, version};
		rc = plat_db_exec(svc->db,
				  "UPDATE documents SET status = 'processed', class = $3, class_confidence = $4::real,"
				  " summary = $5, fields = $6::jsonb, stage_timings = $7::jsonb, ai_provider = $8,"
				  " pipeline_version = $9::int, error = NULL, processed_at = now(), updated_at = now()"
				  " WHERE tenant_id = $1 AND id = $2",
				  9, params, NULL, err);
		cJSON_free(fj);
		cJSON_free(tj);
	}
	if (rc == 0) {
		const char *ev[] = {svc->tenant_id, id, svc->request_id};
		rc = plat_db_exec(svc->db,
				  "INSERT INTO outbox (tenant_id, event_type, aggregate_id, payload, request_id)"
				  " VALUES ($1::uuid, 'document.processed', $2::uuid,"
				  "  jsonb_build_object('document_id', $2::uuid::text, 'tenant_id', $1::uuid::text), $3)",
				  3, ev, NULL, err);
	}
	if (rc == 0) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "class", class_name);
		cJSON_AddNumberToObject(d, "chunks", (double)chunks.n);
		cJSON_AddStringToObject(d, "ai_provider", provider);
		if (why_builtin)
			cJSON_AddStringToObject(d, "builtin_because", why_builtin);
		char *dj = cJSON_PrintUnformatted(d);
		cJSON_Delete(d);
		rc = plat_audit_append(svc->db, svc->tenant_id, svc->principal, "document.process", "document", id,
				       svc->request_id, dj, err);
		cJSON_free(dj);
	}
	if (rc == 0)
		rc = plat_db_commit(svc->db, err);
	if (rc < 0)
		mark_failed(p, id, err);
	else
		*outcome = PLAT_PIPELINE_PROCESSED;
out:
	if (fd >= 0)
		close(fd);
	plat_pages_free(&pages);
	plat_chunks_free(&chunks);
	plat_ai_vectors_free(&vecs);
	cJSON_Delete(fields);
	cJSON_Delete(timings);
	free(summary);
	free(full);
	free(key);
	free(sha);
	free(ctype);
	return rc;
}
