/* A corpus for the search tests: a fresh database with a second tenant (globex), a file
 * store, the services over them and the builtin taxonomy, and documents uploaded and
 * processed through the service context as consume would. */
#ifndef PLAT_TEST_CORPUS_H
#define PLAT_TEST_CORPUS_H

#include <stdio.h>
#include <string.h>

#include "documents/documents.h"
#include "pipeline/pipeline.h"

#include "harness.h"

struct corpus {
	char url[512], root[64];
	struct plat_config *cfg;
	struct plat_services *services;
	struct plat_db *db;
	struct plat_taxonomy *taxonomy;
};

/* 0 with c->db set; 0 with c->db NULL when there is no TEST_DATABASE_URL (skip); -1. */
static inline int corpus_open(struct corpus *c, const char *prefix)
{
	memset(c, 0, sizeof(*c));
	int rc = harness_database(prefix, c->url, sizeof(c->url), &c->db);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	char surl[128];
	struct plat_error err = {0};
	if (harness_file_store(prefix, c->root, surl) < 0 || !(c->cfg = harness_config(c->url, surl)) ||
	    plat_db_exec(c->db, "INSERT INTO tenants (name) VALUES ('globex')", 0, NULL, NULL, &err) < 0 ||
	    plat_services_open(c->cfg, NULL, NULL, &c->services, &err) < 0 ||
	    plat_taxonomy_load("etc/platctl/classes.yaml", &c->taxonomy, &err) < 0)
		return -1;
	return 0;
}

static inline int corpus_close(struct corpus *c)
{
	if (!c->db)
		return 0;
	plat_taxonomy_free(c->taxonomy);
	plat_services_close(c->services);
	plat_config_free(c->cfg);
	plat_db_close(c->db);
	return harness_remove(c->root);
}

static inline ssize_t corpus_text_read(void *arg, char *buf, size_t cap)
{
	const char **s = arg;
	size_t n = strlen(*s) < cap ? strlen(*s) : cap;
	memcpy(buf, *s, n);
	*s += n;
	return (ssize_t)n;
}

/* Process document id (again), as a consume worker would. */
static inline int corpus_process(struct corpus *c, struct plat_svc *svc, const char *id)
{
	struct plat_error err = {0};
	struct plat_pipeline p = {.svc = svc, .taxonomy = c->taxonomy, .external_allow = ""};
	enum plat_pipeline_outcome o;
	if (plat_svc_enter(svc, "consume", PLAT_NEEDS_TENANT | PLAT_NEEDS_STORE, &err) < 0 ||
	    plat_pipeline_process(&p, id, &o, &err) < 0) {
		fprintf(stderr, "processing %s: %s\n", id, err.message);
		return -1;
	}
	return 0;
}

/* Upload text as name (tags: a JSON object or NULL) and process it; its id into id. */
static inline int corpus_add(struct corpus *c, struct plat_svc *svc, const char *name, const char *text,
			     const char *tags, char id[37])
{
	struct plat_error err = {0};
	const char *cursor = text;
	struct plat_upload_request req = {.src = {.fd = -1, .read = corpus_text_read, .read_arg = &cursor},
					  .name = name, .tags_json = tags};
	cJSON *doc = NULL;
	if (plat_documents_upload(svc, &req, &doc, &err) < 0) {
		fprintf(stderr, "upload %s: %s\n", name, err.message);
		return -1;
	}
	snprintf(id, 37, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(doc, "id")));
	cJSON_Delete(doc);
	return corpus_process(c, svc, id);
}

#endif
