/* Document operations beyond the bookkeeping of documents.c: reading content (verified),
 * removal with purge, retry, waiting for processing, and the one tag parser. */
#include "documents/documents.h"
#include "documents/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "store/store.h"
#include "clock/clock.h"
#include "hash/hash.h"
#include "str/str.h"

int plat_tag_parse(const char *tag, char **key, const char **value, struct plat_error *err)
{
	*key = NULL;
	*value = NULL;
	if (!tag)
		return 0;
	const char *eq = strchr(tag, '=');
	if (!eq || eq == tag || !plat_utf8_valid(tag, strlen(tag))) {
		struct plat_buf shown = PLAT_BUF_INIT;
		plat_str_escape_terminal(&shown, tag, strlen(tag));
		int rc = plat_error_set(err, PLAT_E_INVALID, "'%s' is not KEY=VALUE (valid UTF-8)", shown.data);
		plat_buf_free(&shown);
		return rc;
	}
	*key = plat_xstrdup(tag);
	(*key)[eq - tag] = '\0';
	*value = eq + 1;
	return 0;
}

int plat_tags_json(const char *const *tags, size_t n, char **json, struct plat_error *err)
{
	*json = NULL;
	cJSON *t = cJSON_CreateObject();
	for (size_t i = 0; i < n; i++) {
		char *k;
		const char *v;
		if (plat_tag_parse(tags[i], &k, &v, err) < 0) {
			cJSON_Delete(t);
			return -PLAT_E_INVALID;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(t, k); /* the last one wins */
		cJSON_AddStringToObject(t, k, v);
		free(k);
	}
	char *s = cJSON_PrintUnformatted(t);
	cJSON_Delete(t);
	*json = plat_xstrdup(s);
	cJSON_free(s);
	return 0;
}

static const char *doc_string(const cJSON *doc, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, field);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

struct verified_sink {
	plat_documents_sink write;
	void *arg;
	struct plat_sha256 *sha;
	long long bytes;
};

static int verified_write(void *arg, const char *buf, size_t len)
{
	struct verified_sink *s = arg;
	plat_sha256_update(s->sha, buf, len);
	s->bytes += (long long)len;
	return s->write(s->arg, buf, len);
}

int plat_documents_read(struct plat_svc *svc, const char *id, plat_documents_sink write, void *arg, cJSON **doc,
			struct plat_error *err)
{
	*doc = NULL;
	struct plat_remote *remote;
	int rc = plat_svc_remote(svc, &remote, err);
	if (rc != 0)
		return rc < 0 ? rc : plat_documents_remote_read(remote, id, write, arg, doc, err);
	rc = plat_svc_enter(svc, "documents.read", PLAT_NEEDS_TENANT | PLAT_NEEDS_STORE, err);
	if (rc == 0)
		rc = plat_documents_get(svc, id, false, doc, err);
	if (rc < 0)
		return rc;
	const char *key = doc_string(*doc, "storage_key"), *want = doc_string(*doc, "sha256");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(*doc, "deleted")))
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "document '%s' was deleted", id);
	else if (!key || !want)
		rc = plat_error_set(err, PLAT_E_INTERNAL, "document '%s' has no storage key or sha256", id);
	struct verified_sink s = {write, arg, NULL, 0};
	if (rc == 0) {
		s.sha = plat_sha256_new();
		rc = plat_store_get(svc->store, key, 0, -1, verified_write, &s, err);
	}
	if (rc == 0) {
		/* The bytes must be the ones uploaded: a corrupt or swapped object fails loudly. */
		char got[PLAT_SHA256_HEX_LEN + 1];
		plat_sha256_final(s.sha, got);
		if (strcmp(got, want) != 0)
			rc = plat_error_set(err, PLAT_E_FAILURE,
					    "document '%s': the stored object is corrupt (sha256 %.12s…, expected %.12s…)", id,
					    got, want);
	}
	plat_sha256_free(s.sha);
	if (rc < 0) {
		cJSON_Delete(*doc);
		*doc = NULL;
	}
	return rc;
}

int plat_documents_content_url(struct plat_svc *svc, const char *id, int expires, cJSON **out,
			       struct plat_error *err)
{
	*out = NULL;
	int rc = plat_svc_enter(svc, "documents.read", PLAT_NEEDS_TENANT | PLAT_NEEDS_STORE, err);
	if (rc < 0 || !plat_store_can_presign(svc->store))
		return rc;
	cJSON *doc = NULL;
	if ((rc = plat_documents_get(svc, id, false, &doc, err)) < 0)
		return rc;
	const char *key = doc_string(doc, "storage_key"), *sha = doc_string(doc, "sha256");
	char *url = NULL;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "deleted")))
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "document '%s' was deleted", id);
	else if (!key || !sha)
		rc = plat_error_set(err, PLAT_E_INTERNAL, "document '%s' has no storage key or sha256", id);
	else
		rc = plat_store_presign(svc->store, key, expires, &url, err);
	if (rc == 0) {
		*out = cJSON_CreateObject();
		cJSON_AddStringToObject(*out, "url", url);
		char at[32];
		time_t t = time(NULL) + expires;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
		cJSON_AddStringToObject(*out, "expires_at", at);
		cJSON_AddStringToObject(*out, "sha256", sha);
		static const char *const copied[] = {"size", "content_type", "name"};
		for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, copied[i]);
			if (v)
				cJSON_AddItemToObject(*out, copied[i], cJSON_Duplicate(v, 1));
		}
	}
	free(url);
	cJSON_Delete(doc);
	return rc;
}

int plat_documents_purge_object(struct plat_svc *svc, const char *storage_key, const char *sha256, bool dry_run,
				bool *purged, struct plat_error *err)
{
	*purged = false;
	/* Under the content lock an upload of the same content either committed (the
	 * object is in use) or has not looked for the object yet (it stores it again). */
	int rc = plat_documents_lock_content(svc, sha256, true, err);
	if (rc < 0)
		return rc;
	bool in_use = true;
	rc = plat_documents_key_in_use(svc, storage_key, &in_use, err);
	if (rc == 0 && !in_use) {
		if (!dry_run)
			rc = plat_store_delete(svc->store, storage_key, err);
		*purged = rc == 0;
	}
	plat_documents_lock_content(svc, sha256, false, NULL);
	return rc;
}

int plat_documents_remove(struct plat_svc *svc, const char *id, bool purge, cJSON **result, struct plat_error *err)
{
	*result = NULL;
	struct plat_remote *remote;
	int rc = plat_svc_remote(svc, &remote, err);
	if (rc != 0)
		return rc < 0 ? rc : plat_documents_remote_remove(remote, id, purge, result, err);
	rc = plat_svc_enter(svc, purge ? "documents.purge" : "documents.delete",
				PLAT_NEEDS_TENANT | (purge ? PLAT_NEEDS_STORE : 0), err);
	char *key = NULL, *sha = NULL;
	if (rc == 0)
		rc = plat_documents_delete(svc, id, &key, &sha, err);
	bool purged = false;
	if (rc == 0 && purge)
		rc = plat_documents_purge_object(svc, key, sha, false, &purged, err);
	if (rc == 0) {
		*result = cJSON_CreateObject();
		cJSON_AddStringToObject(*result, "id", id);
		cJSON_AddBoolToObject(*result, "deleted", 1);
		cJSON_AddBoolToObject(*result, "object_purged", purged);
	}
	free(key);
	free(sha);
	return rc;
}

int plat_documents_requeue(struct plat_svc *svc, const char *id, cJSON **doc, struct plat_error *err)
{
	*doc = NULL;
	struct plat_remote *remote;
	int rc = plat_svc_remote(svc, &remote, err);
	if (rc != 0)
		return rc < 0 ? rc : plat_documents_remote_requeue(remote, id, doc, err);
	rc = plat_svc_enter(svc, "documents.retry", PLAT_NEEDS_TENANT, err);
	if (rc == 0)
		rc = plat_documents_retry(svc, id, doc, err);
	if (rc == 0 && (rc = plat_svc_publish_events(svc, err)) < 0) {
		cJSON_Delete(*doc);
		*doc = NULL;
	}
	return rc;
}

int plat_documents_wait(struct plat_svc *svc, cJSON *docs, long long timeout_ms, int *failed, struct plat_error *err)
{
	*failed = 0;
	/* Remote: each document's status is asked of the server (plat_documents_get's half). */
	struct plat_remote *remote;
	int rc = plat_svc_remote(svc, &remote, err);
	if (rc == 0)
		rc = plat_svc_enter(svc, "documents.wait", PLAT_NEEDS_TENANT, err);
	else if (rc > 0)
		rc = 0;
	long long deadline = plat_clock_ms() + timeout_ms;
	while (rc == 0) {
		int pending = 0;
		*failed = 0;
		cJSON *r;
		cJSON_ArrayForEach(r, docs)
		{
			const char *id = doc_string(r, "id");
			if (!id)
				continue;
			cJSON *doc = NULL;
			if ((rc = plat_documents_get(svc, id, false, &doc, err)) < 0)
				break;
			const char *status = doc_string(doc, "status");
			status = status ? status : "unknown";
			cJSON_DeleteItemFromObjectCaseSensitive(r, "status");
			cJSON_AddStringToObject(r, "status", status);
			pending += strcmp(status, "processed") != 0 && strcmp(status, "failed") != 0;
			*failed += strcmp(status, "failed") == 0;
			cJSON_Delete(doc);
		}
		if (rc < 0 || pending == 0)
			break;
		if (plat_clock_ms() >= deadline) {
			rc = plat_error_set(err, PLAT_E_UNAVAILABLE,
					    "%d document%s still not processed after %llds (is a consume worker running?)",
					    pending, pending == 1 ? "" : "s", timeout_ms / 1000);
			break;
		}
		plat_sleep_ms(500);
	}
	return rc;
}
