#include "storage/storage.h"

#include <stdlib.h>

#include "mem/mem.h"
#include "store/store.h"

static cJSON *object_json(const struct plat_store_object *o)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "key", o->key ? o->key : "");
	cJSON_AddNumberToObject(j, "size", (double)o->size);
	if (o->last_modified)
		cJSON_AddStringToObject(j, "last_modified", o->last_modified);
	else
		cJSON_AddNullToObject(j, "last_modified");
	if (o->etag)
		cJSON_AddStringToObject(j, "etag", o->etag);
	else
		cJSON_AddNullToObject(j, "etag");
	return j;
}

int plat_storage_list(struct plat_svc *svc, const char *prefix, const char *cursor, int limit, bool all,
		      cJSON **page, struct plat_error *err)
{
	*page = NULL;
	int rc = plat_svc_enter(svc, "storage.list", PLAT_NEEDS_STORE, err);
	if (rc < 0)
		return rc;
	cJSON *objects = cJSON_CreateArray();
	char *next = cursor ? plat_xstrdup(cursor) : NULL;
	do {
		struct plat_store_list l;
		rc = plat_store_list(svc->store, prefix ? prefix : "", next, limit, &l, err);
		free(next);
		next = NULL;
		if (rc < 0)
			break;
		for (size_t i = 0; i < l.n; i++)
			cJSON_AddItemToArray(objects, object_json(&l.objects[i]));
		next = l.next_cursor;
		l.next_cursor = NULL;
		plat_store_list_free(&l);
	} while (all && next);
	if (rc < 0) {
		cJSON_Delete(objects);
		free(next);
		return rc;
	}
	*page = cJSON_CreateObject();
	cJSON_AddItemToObject(*page, "objects", objects);
	if (next)
		cJSON_AddStringToObject(*page, "next_cursor", next);
	else
		cJSON_AddNullToObject(*page, "next_cursor");
	free(next);
	return 0;
}

int plat_storage_put(struct plat_svc *svc, const char *key, int fd, const char *content_type, cJSON **result,
		     struct plat_error *err)
{
	*result = NULL;
	int rc = plat_svc_enter(svc, "storage.put", PLAT_NEEDS_STORE, err);
	struct plat_store_put_result res = {0};
	if (rc == 0)
		rc = plat_store_put_fd(svc->store, key, fd, content_type, &res, err);
	if (rc < 0)
		return rc;
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "key", key);
	cJSON_AddNumberToObject(*result, "size", (double)res.size);
	cJSON_AddStringToObject(*result, "sha256", res.sha256);
	return 0;
}

int plat_storage_get(struct plat_svc *svc, const char *key, long long offset, long long length,
		     plat_storage_sink write, void *arg, struct plat_error *err)
{
	int rc = plat_svc_enter(svc, "storage.get", PLAT_NEEDS_STORE, err);
	if (rc == 0)
		rc = plat_store_get(svc->store, key, offset, length, write, arg, err);
	return rc;
}

int plat_storage_stat(struct plat_svc *svc, const char *key, cJSON **object, struct plat_error *err)
{
	*object = NULL;
	int rc = plat_svc_enter(svc, "storage.stat", PLAT_NEEDS_STORE, err);
	struct plat_store_object obj;
	if (rc == 0)
		rc = plat_store_head(svc->store, key, &obj, err);
	if (rc < 0)
		return rc;
	*object = object_json(&obj);
	plat_store_object_free(&obj);
	return 0;
}

int plat_storage_delete(struct plat_svc *svc, const char *key, struct plat_error *err)
{
	int rc = plat_svc_enter(svc, "storage.delete", PLAT_NEEDS_STORE, err);
	if (rc == 0)
		rc = plat_store_delete(svc->store, key, err);
	return rc;
}

int plat_storage_presign(struct plat_svc *svc, const char *key, int expires_seconds, cJSON **result,
			 struct plat_error *err)
{
	*result = NULL;
	int rc = plat_svc_enter(svc, "storage.presign", PLAT_NEEDS_STORE, err);
	char *url = NULL;
	if (rc == 0)
		rc = plat_store_presign(svc->store, key, expires_seconds, &url, err);
	if (rc < 0)
		return rc;
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "url", url);
	cJSON_AddNumberToObject(*result, "expires_in", expires_seconds);
	free(url);
	return 0;
}
