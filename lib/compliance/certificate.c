/* Destruction certificates: a destroyed document's record from the audit chain, signed so
 * that someone without access to the platform (an auditor, a court, the data subject) can
 * check it with nothing but the certificate and the operator's public key.
 *
 * The signature covers the canonical JSON of the "certificate" member (sorted keys, no
 * whitespace), so pretty-printing or reordering the file does not break it, while any
 * changed value does. The public key travels with the certificate for convenience only:
 * a verifier that does not compare it with a key it got elsewhere learns that the
 * certificate is intact, not who issued it. */
#include <stdlib.h>
#include <string.h>

#include "auth/localjwt.h"
#include "compliance/compliance.h"
#include "db/db.h"
#include "ids/ids.h"
#include "mem/mem.h"
#include "str/str.h"

static int by_key(const void *a, const void *b)
{
	return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* A copy of v whose objects have their members in byte order of their names. */
static cJSON *sorted_copy(const cJSON *v)
{
	if (cJSON_IsArray(v)) {
		cJSON *a = cJSON_CreateArray();
		const cJSON *e;
		cJSON_ArrayForEach(e, v)
		cJSON_AddItemToArray(a, sorted_copy(e));
		return a;
	}
	if (!cJSON_IsObject(v))
		return cJSON_Duplicate(v, 1);
	int n = cJSON_GetArraySize(v);
	cJSON **members = plat_xcalloc((size_t)n + 1, sizeof(*members));
	int i = 0;
	const cJSON *m;
	cJSON_ArrayForEach(m, v)
	members[i++] = (cJSON *)m;
	qsort(members, (size_t)n, sizeof(*members), by_key);
	cJSON *o = cJSON_CreateObject();
	for (i = 0; i < n; i++)
		cJSON_AddItemToObject(o, members[i]->string, sorted_copy(members[i]));
	free(members);
	return o;
}

char *plat_compliance_canonical_json(const cJSON *v)
{
	cJSON *s = sorted_copy(v);
	char *text = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	char *out = text ? plat_xstrdup(text) : NULL;
	cJSON_free(text);
	return out;
}

static int not_destroyed(const char *id, struct plat_error *err)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_str_escape_terminal(&b, id, strlen(id) > 100 ? 100 : strlen(id));
	int rc = plat_error_set(err, PLAT_E_NOT_FOUND, "document '%s' has no destruction record", b.data ? b.data : "");
	plat_buf_free(&b);
	return rc;
}

static void copy_member(cJSON *to, const cJSON *from, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);
	cJSON_AddItemToObject(to, key, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
}

int plat_compliance_certificate(struct plat_svc *svc, const char *document_id, cJSON **cert, struct plat_error *err)
{
	*cert = NULL;
	int rc = plat_svc_enter(svc, "compliance.certificate", PLAT_NEEDS_TENANT, err);
	if (rc < 0)
		return rc;
	const char *key_path = plat_config_str(svc->cfg, PLAT_CFG_COMPLIANCE_SIGNING_KEY);
	if (!key_path || !*key_path)
		return plat_error_set(err, PLAT_E_CONFIG,
				      "no key to sign destruction certificates (set compliance.signing_key to an Ed25519 "
				      "private key in PEM)");
	if (!plat_id_uuid_shaped(document_id))
		return not_destroyed(document_id, err);
	struct plat_auth_keyring *kr = NULL;
	if ((rc = plat_auth_keyring_load_files(&key_path, 1, &kr, err)) < 0) {
		plat_error_wrap(err, "compliance.signing_key");
		return rc;
	}
	const char *params[] = {svc->tenant_id, document_id};
	PGresult *res = NULL;
	rc = plat_db_exec(svc->db,
			  "SELECT id, encode(hash, 'hex'), encode(prev_hash, 'hex'), details::text FROM audit_log"
			  " WHERE tenant_id = $1::uuid AND object_type = 'document' AND object_id = $2"
			  " AND action = 'document.destroyed' ORDER BY id DESC LIMIT 1",
			  2, params, &res, err);
	if (rc == 0 && PQntuples(res) == 0)
		rc = not_destroyed(document_id, err);
	cJSON *details = rc == 0 ? cJSON_Parse(PQgetvalue(res, 0, 3)) : NULL;
	if (rc == 0 && !cJSON_IsObject(details))
		rc = plat_error_set(err, PLAT_E_INTERNAL, "the destruction record of document '%s' is not a JSON object",
				    document_id);
	cJSON *c = NULL, *content = NULL;
	if (rc == 0) {
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "type", "destruction");
		cJSON_AddStringToObject(c, "tenant", svc->tenant);
		static const char *const fields[] = {"document_id", "name", "sha256", "size", "rule", "approver",
						     "approved_at", "destroyed_at"};
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			copy_member(c, details, fields[i]);
		content = cJSON_AddObjectToObject(c, "content");
		cJSON_AddBoolToObject(content, "deleted", false);
		const cJSON *shared = cJSON_GetObjectItemCaseSensitive(details, "content_shared");
		if (cJSON_IsTrue(shared))
			cJSON_AddStringToObject(content, "kept", "another live document shares it");
		cJSON *a = cJSON_AddObjectToObject(c, "audit");
		cJSON_AddNumberToObject(a, "id", atof(PQgetvalue(res, 0, 0)));
		cJSON_AddStringToObject(a, "hash", PQgetvalue(res, 0, 1));
		if (PQgetisnull(res, 0, 2))
			cJSON_AddNullToObject(a, "prev_hash");
		else
			cJSON_AddStringToObject(a, "prev_hash", PQgetvalue(res, 0, 2));
	}
	cJSON_Delete(details);
	PQclear(res);
	res = NULL;
	/* The content is deleted after the destroying run committed, and recorded then. */
	if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(content, "kept"))
		rc = plat_db_exec(svc->db,
				  "SELECT action, id, encode(hash, 'hex'),"
				  " to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), details->>'reason'"
				  " FROM audit_log WHERE tenant_id = $1::uuid AND object_type = 'document' AND object_id = $2"
				  " AND action IN ('document.content_deleted', 'document.content_kept') ORDER BY id DESC LIMIT 1",
				  2, params, &res, err);
	if (rc == 0 && res && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "document.content_deleted") == 0) {
		cJSON_ReplaceItemInObjectCaseSensitive(content, "deleted", cJSON_CreateTrue());
		cJSON_AddStringToObject(content, "deleted_at", PQgetvalue(res, 0, 3));
		cJSON *ca = cJSON_AddObjectToObject(content, "audit");
		cJSON_AddNumberToObject(ca, "id", atof(PQgetvalue(res, 0, 1)));
		cJSON_AddStringToObject(ca, "hash", PQgetvalue(res, 0, 2));
	} else if (rc == 0 && res && PQntuples(res) == 1) {
		cJSON_AddStringToObject(content, "kept", PQgetisnull(res, 0, 4) ? "kept" : PQgetvalue(res, 0, 4));
	} else if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(content, "kept")) {
		cJSON_AddStringToObject(content, "pending", "to be deleted by the next compliance run");
	}
	PQclear(res);
	char *canon = c ? plat_compliance_canonical_json(c) : NULL, *sig = NULL, *pem = NULL;
	if (rc == 0)
		rc = plat_auth_keyring_sign(kr, canon, strlen(canon), &sig, err);
	if (rc == 0 && !(pem = plat_auth_keyring_public_pem(kr)))
		rc = plat_error_set(err, PLAT_E_INTERNAL, "cannot encode the signing key's public key");
	if (rc == 0) {
		*cert = cJSON_CreateObject();
		cJSON_AddItemToObject(*cert, "certificate", c);
		c = NULL;
		cJSON *s = cJSON_AddObjectToObject(*cert, "signature");
		cJSON_AddStringToObject(s, "alg", "EdDSA");
		cJSON_AddStringToObject(s, "key_id", plat_auth_keyring_signing_kid(kr));
		cJSON_AddStringToObject(s, "public_key", pem);
		cJSON_AddStringToObject(s, "value", sig);
	}
	cJSON_Delete(c);
	free(canon);
	free(sig);
	free(pem);
	plat_auth_keyring_free(kr);
	return rc;
}

static const char *member_string(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int invalid(struct plat_error *err, const char *why)
{
	return plat_error_set(err, PLAT_E_FAILURE, "invalid certificate: %s", why);
}

int plat_compliance_certificate_verify(const char *json, const char *expected_public_pem, cJSON **result,
				       struct plat_error *err)
{
	*result = NULL;
	cJSON *doc = json ? cJSON_Parse(json) : NULL;
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return invalid(err, "not a JSON object");
	}
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "certificate");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "signature");
	const char *alg = member_string(s, "alg"), *kid = member_string(s, "key_id"),
		   *pem = member_string(s, "public_key"), *value = member_string(s, "value");
	int rc = 0;
	char got_kid[PLAT_LOCALJWT_KID_LEN + 1] = "";
	if (!cJSON_IsObject(c) || !cJSON_IsObject(s))
		rc = invalid(err, "it needs a \"certificate\" and a \"signature\" object");
	else if (!alg || strcmp(alg, "EdDSA"))
		rc = invalid(err, "the signature's alg is not EdDSA");
	else if (!pem || !value || !kid)
		rc = invalid(err, "the signature needs key_id, public_key and value");
	else if (!member_string(c, "type") || strcmp(member_string(c, "type"), "destruction"))
		rc = invalid(err, "not a destruction certificate");
	if (rc == 0) {
		char *canon = plat_compliance_canonical_json(c);
		struct plat_error verr = {0};
		if (plat_auth_ed25519_verify_pem(pem, canon, strlen(canon), value, got_kid, &verr) < 0)
			rc = invalid(err, verr.message);
		free(canon);
	}
	if (rc == 0 && strcmp(got_kid, kid))
		rc = invalid(err, "the key_id is not the public key's");
	if (rc == 0 && expected_public_pem && !plat_auth_ed25519_same_key(pem, expected_public_pem))
		rc = invalid(err, "signed with another key than the one expected");
	if (rc == 0) {
		*result = cJSON_CreateObject();
		cJSON_AddBoolToObject(*result, "valid", 1);
		cJSON_AddStringToObject(*result, "key_id", got_kid);
		cJSON_AddBoolToObject(*result, "key_checked", expected_public_pem != NULL);
		static const char *const fields[] = {"document_id", "name", "sha256", "rule", "approver", "destroyed_at"};
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			copy_member(*result, c, fields[i]);
	}
	cJSON_Delete(doc);
	return rc;
}
