#include "svc/svc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai.h"
#include "auth/authz.h"
#include "auth/localjwt.h"
#include "auth/oidc.h"
#include "cache/cache.h"
#include "db/db.h"
#include "events/events.h"
#include "ids/ids.h"
#include "credentials/credentials.h"
#include "log/log.h"
#include "remote/remote.h"
#include "store/store.h"

struct plat_services {
	const struct plat_config *cfg;
	char **environ;
	int pool_size;
	bool long_running;
	struct plat_cache *cache;
	/* Each dependency is opened by the first call that needs it, under the lock. */
	pthread_mutex_t lock;
	struct plat_db_pool *pool;
	struct plat_store *store;
	struct plat_ai *ai[2];
	struct plat_publisher *pub;
	bool pub_checked;
	struct plat_auth_keyring *keyring; /* auth.keys, loaded by the first call that signs or verifies */
	struct plat_auth_oidc *oidc;       /* auth.oidc.*, made by the first call that verifies */
	struct plat_remote *remote;        /* server.url: the client, made by the first call */
};

int plat_services_open(const struct plat_config *cfg, char **environ, const struct plat_services_options *o,
		       struct plat_services **out, struct plat_error *err)
{
	(void)err;
	struct plat_services *s = plat_xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	s->environ = environ;
	s->pool_size = o && o->pool_size > 0 ? o->pool_size : 64;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

void plat_services_close(struct plat_services *s)
{
	if (!s)
		return;
	plat_publisher_close(s->pub);
	for (size_t i = 0; i < sizeof(s->ai) / sizeof(s->ai[0]); i++)
		plat_ai_close(s->ai[i]);
	plat_store_close(s->store);
	plat_auth_keyring_free(s->keyring);
	plat_auth_oidc_free(s->oidc);
	plat_remote_close(s->remote);
	plat_cache_free(s->cache);
	plat_db_pool_free(s->pool);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void plat_services_long_running(struct plat_services *s)
{
	pthread_mutex_lock(&s->lock);
	s->long_running = true;
	long long entries = plat_config_int(s->cfg, PLAT_CFG_SERVER_CACHE_ENTRIES);
	if (!s->cache && entries > 0)
		s->cache = plat_cache_new((size_t)entries, plat_config_int(s->cfg, PLAT_CFG_SERVER_CACHE_TTL));
	pthread_mutex_unlock(&s->lock);
}

char **plat_services_environ(const struct plat_services *s)
{
	return s->environ;
}

bool plat_services_remote_mode(const struct plat_services *s)
{
	/* The server is what remote mode calls: it never calls one itself. */
	return s && !s->long_running && *plat_config_str(s->cfg, PLAT_CFG_SERVER_URL);
}

/* The token for url: $PLATCTL_TOKEN, else the credentials file's entry for the server
 * and the active profile. */
static int remote_token(struct plat_services *s, const char *url, char **token, struct plat_error *err)
{
	*token = NULL;
	const char *env = plat_env_get(s->environ, "PLATCTL_TOKEN");
	if (env && *env) {
		*token = plat_xstrdup(env);
		return 0;
	}
	char *path = plat_credentials_path(s->environ);
	if (!path)
		return plat_error_set(err, PLAT_E_AUTH, "not logged in to %s (no home directory for the credentials)", url);
	const char *profile = plat_config_profile(s->cfg);
	struct plat_credential c;
	char *base = plat_remote_base(url);
	int rc = plat_credentials_find(path, base, profile && *profile ? profile : "default", &c, err);
	free(base);
	free(path);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return plat_error_set(err, PLAT_E_AUTH, "not logged in to %s: run platctl login", url);
	*token = c.access_token;
	c.access_token = NULL;
	plat_credential_clear(&c);
	return 0;
}

int plat_svc_remote(struct plat_svc *svc, struct plat_remote **r, struct plat_error *err)
{
	*r = NULL;
	struct plat_services *s = svc->services;
	if (!plat_services_remote_mode(s))
		return 0;
	pthread_mutex_lock(&s->lock);
	int rc = 0;
	if (!s->remote) {
		const char *url = plat_config_str(s->cfg, PLAT_CFG_SERVER_URL);
		char *token = NULL;
		rc = remote_token(s, url, &token, err);
		if (rc == 0) {
			plat_log_add_secret(token);
			rc = plat_remote_open(url, token, svc->request_id, &s->remote, err);
		}
		if (token)
			plat_wipe(token, strlen(token));
		free(token);
	}
	*r = s->remote;
	pthread_mutex_unlock(&s->lock);
	return rc < 0 ? rc : 1;
}

struct plat_cache *plat_services_cache(struct plat_services *s)
{
	return s ? s->cache : NULL;
}

void plat_services_cache_listening(struct plat_services *s, bool listening)
{
	if (s->cache)
		plat_cache_enable(s->cache, listening);
}

void plat_services_cache_notify(struct plat_services *s, const char *payload)
{
	if (!s->cache)
		return;
	if (strncmp(payload, "document:", 9) == 0 && plat_id_uuid_shaped(payload + 9)) {
		/* Its two entries by key: a worker's stream of status changes must not scan the
		 * whole cache under its lock once per change. */
		char key[64];
		snprintf(key, sizeof(key), PLAT_CACHE_DOCUMENT "%s", payload + 9);
		plat_cache_invalidate(s->cache, key);
		snprintf(key, sizeof(key), PLAT_CACHE_DOCUMENT "%s" PLAT_CACHE_WITH_HISTORY, payload + 9);
		plat_cache_invalidate(s->cache, key);
	} else if (strcmp(payload, "auth") == 0) {
		plat_cache_invalidate_prefix(s->cache, PLAT_CACHE_TOKEN);
		plat_cache_invalidate_prefix(s->cache, PLAT_CACHE_TENANT);
	} else {
		plat_cache_invalidate_prefix(s->cache, "");
	}
}

const struct plat_config *plat_services_config(const struct plat_services *s)
{
	return s->cfg;
}

static int open_pool(struct plat_services *s, struct plat_error *err)
{
	struct plat_db_options o = {
		.url = plat_config_str(s->cfg, PLAT_CFG_DATABASE_URL),
		.connect_timeout_ms = plat_config_int(s->cfg, PLAT_CFG_DATABASE_CONNECT_TIMEOUT),
		.prepare = s->long_running && plat_config_bool(s->cfg, PLAT_CFG_DATABASE_PREPARE),
	};
	return plat_db_pool_new(&o, s->pool_size, &s->pool, err);
}

static int open_store(struct plat_services *s, struct plat_error *err)
{
	const struct plat_config *c = s->cfg;
	struct plat_store_options o = {
		.url = plat_config_str(c, PLAT_CFG_STORAGE_URL),
		.endpoint = plat_config_str(c, PLAT_CFG_S3_ENDPOINT),
		.region = plat_config_str(c, PLAT_CFG_S3_REGION),
		.path_style = plat_config_bool(c, PLAT_CFG_S3_PATH_STYLE),
		.tls_verify = plat_config_bool(c, PLAT_CFG_S3_TLS_VERIFY),
		.access_key_id = plat_config_str(c, PLAT_CFG_S3_ACCESS_KEY_ID),
		.secret_access_key = plat_config_str(c, PLAT_CFG_S3_SECRET_ACCESS_KEY),
		.session_token = plat_config_str(c, PLAT_CFG_S3_SESSION_TOKEN),
		.part_size = plat_config_int(c, PLAT_CFG_S3_PART_SIZE),
		.parallel = (int)plat_config_int(c, PLAT_CFG_S3_PARALLEL),
		.max_retries = (int)plat_config_int(c, PLAT_CFG_S3_MAX_RETRIES),
		.timeout_ms = plat_config_int(c, PLAT_CFG_S3_TIMEOUT),
		.environ = s->environ,
	};
	return plat_store_open(&o, &s->store, err);
}

void plat_svc_init(struct plat_svc *svc, struct plat_services *services, const struct plat_call *call)
{
	memset(svc, 0, sizeof(*svc));
	svc->services = services;
	svc->cfg = services ? services->cfg : NULL;
	svc->tenant = call && call->tenant ? call->tenant : svc->cfg ? plat_config_str(svc->cfg, PLAT_CFG_TENANT) : "";
	svc->principal = call && call->principal ? call->principal
			 : svc->cfg ? plat_config_str(svc->cfg, PLAT_CFG_PRINCIPAL) : "";
	if (call && call->role && call->principal_id) {
		svc->role = call->role;
		snprintf(svc->principal_id, sizeof(svc->principal_id), "%s", call->principal_id);
		svc->identity_known = true;
	}
	if (call && call->request_id && plat_id_request_valid(call->request_id))
		snprintf(svc->request_id, sizeof(svc->request_id), "%s", call->request_id);
	else
		plat_id_request(svc->request_id);
	plat_arena_init(&svc->arena, 0);
}

void plat_svc_done(struct plat_svc *svc)
{
	if (svc->own_db && svc->db) {
		plat_db_set_tenant(svc->db, NULL);
		plat_db_pool_release(svc->services->pool, svc->db);
	}
	svc->db = NULL;
	svc->own_db = false;
	plat_arena_free(&svc->arena);
	plat_log_set_thread_request_id(NULL);
}

static int resolve_tenant(struct plat_svc *svc, struct plat_error *err)
{
	struct plat_cache *cache = plat_services_cache(svc->services);
	char key[80];
	/* A name too long for the key is not cached: a truncated key could name another. */
	if ((size_t)snprintf(key, sizeof(key), PLAT_CACHE_TENANT "%s", svc->tenant) >= sizeof(key))
		cache = NULL;
	unsigned long long gen = 0;
	void *hit = NULL;
	size_t len;
	int rc = 0;
	if (cache && plat_cache_get(cache, key, &hit, &len, &gen) && len < sizeof(svc->tenant_id)) {
		memcpy(svc->tenant_id, hit, len + 1);
	} else {
		const char *params[] = {svc->tenant};
		PGresult *res;
		if ((rc = plat_db_exec(svc->db, "SELECT id FROM tenants WHERE name = $1", 1, params, &res, err)) < 0) {
			free(hit);
			return rc;
		}
		if (PQntuples(res) == 0)
			rc = plat_error_set(err, PLAT_E_NOT_FOUND, "tenant '%s' does not exist (is the schema migrated?)",
					    svc->tenant);
		else
			snprintf(svc->tenant_id, sizeof(svc->tenant_id), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		if (rc == 0 && cache)
			plat_cache_put(cache, key, svc->tenant_id, strlen(svc->tenant_id), gen, 0);
	}
	free(hit);
	if (rc == 0 && svc->cfg && plat_config_bool(svc->cfg, PLAT_CFG_DATABASE_ROW_SECURITY))
		plat_db_set_tenant(svc->db, svc->tenant_id);
	return rc;
}

/* The principal's role in the tenant from a row of id, role, disabled and "the tenant has
 * no principals" at column COL (id null: no such principal). */
static int principal_from(struct plat_svc *svc, PGresult *res, int col, struct plat_error *err)
{
	int rc = 0;
	if (!PQgetisnull(res, 0, col)) {
		if (strcmp(PQgetvalue(res, 0, col + 2), "t") == 0) {
			rc = plat_error_set(err, PLAT_E_AUTH, "principal '%s' is disabled in tenant '%s'", svc->principal,
					    svc->tenant);
		} else {
			snprintf(svc->principal_id, sizeof(svc->principal_id), "%s", PQgetvalue(res, 0, col));
			svc->role = plat_role_parse(PQgetvalue(res, 0, col + 1));
		}
	} else if (strcmp(PQgetvalue(res, 0, col + 3), "t") == 0) {
		svc->role = PLAT_ROLE_ADMIN;
		svc->bootstrap = true;
		plat_log(PLAT_LOG_INFO, "tenant has no principals yet: acting as its admin", "tenant", svc->tenant,
			 "principal", svc->principal, (const char *)NULL);
	} else {
		rc = plat_error_set(err, PLAT_E_AUTH, "principal '%s' is not known in tenant '%s' (an admin adds it)",
				    svc->principal, svc->tenant);
	}
	svc->identity_known = rc == 0;
	return rc;
}

/* The principal's role in the tenant, looked up by name once per call. */
static int resolve_principal(struct plat_svc *svc, struct plat_error *err)
{
	const char *params[] = {svc->tenant_id, svc->principal};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "SELECT p.id, p.role, p.disabled,"
			      " NOT EXISTS (SELECT 1 FROM principals q WHERE q.tenant_id = $1::uuid)"
			      " FROM (SELECT 1) one LEFT JOIN principals p ON p.tenant_id = $1::uuid AND p.name = $2",
			      2, params, &res, err);
	if (rc < 0)
		return rc;
	rc = principal_from(svc, res, 0, err);
	PQclear(res);
	return rc;
}

/* Tenant and principal in one statement: a CLI call runs in a fresh backend, where every
 * statement is planned cold, so each one saved is a search's worth of milliseconds
 * (issue 14). Only without row-level security: there the principals policy needs the
 * tenant's id set before the principal is looked up (resolve_tenant, resolve_principal). */
static int resolve_identity(struct plat_svc *svc, struct plat_error *err)
{
	const char *params[] = {svc->tenant, svc->principal};
	PGresult *res;
	int rc = plat_db_exec(svc->db,
			      "SELECT t.id, p.id, p.role, p.disabled,"
			      " NOT EXISTS (SELECT 1 FROM principals q WHERE q.tenant_id = t.id)"
			      " FROM tenants t LEFT JOIN principals p ON p.tenant_id = t.id AND p.name = $2"
			      " WHERE t.name = $1",
			      2, params, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		rc = plat_error_set(err, PLAT_E_NOT_FOUND, "tenant '%s' does not exist (is the schema migrated?)", svc->tenant);
	} else {
		snprintf(svc->tenant_id, sizeof(svc->tenant_id), "%s", PQgetvalue(res, 0, 0));
		rc = principal_from(svc, res, 1, err);
	}
	PQclear(res);
	return rc;
}

int plat_svc_check_role(const char *operation, int role, const char *principal, const char *tenant,
			struct plat_error *err)
{
	const struct plat_permission *perm = plat_authz_lookup(operation);
	if (!perm)
		return plat_error_set(err, PLAT_E_INTERNAL, "operation '%s' is not in the permission table", operation);
	if (perm->kind != PLAT_AUTHZ_ROLES && perm->kind != PLAT_AUTHZ_INSTALLATION)
		return 0;
	if (perm->kind == PLAT_AUTHZ_INSTALLATION && strcmp(tenant, "default") != 0)
		return plat_error_set(err, PLAT_E_PERMISSION,
				      "permission denied: %s is administration of the installation, which needs the admin "
				      "role in tenant 'default'",
				      perm->operation);
	if (plat_authz_allows(perm->operation, (enum plat_role)role))
		return 0;
	char roles[64];
	plat_roles_describe(perm->roles, roles, sizeof(roles));
	plat_log(PLAT_LOG_INFO, "permission denied", "operation", perm->operation, "principal", principal, "role",
		 plat_role_name((enum plat_role)role), (const char *)NULL);
	return plat_error_set(err, PLAT_E_PERMISSION,
			      "permission denied: %s needs the %s role; '%s' has the %s role in tenant '%s'", perm->operation,
			      roles, principal, plat_role_name((enum plat_role)role), tenant);
}

int plat_svc_enter(struct plat_svc *svc, const char *operation, unsigned needs, struct plat_error *err)
{
	/* Every log line of the call carries its request id, whichever thread runs it. */
	plat_log_set_thread_request_id(svc->request_id);
	plat_log(PLAT_LOG_DEBUG, "service call", "operation", operation, "tenant", svc->tenant, (const char *)NULL);
	const struct plat_permission *perm = plat_authz_lookup(operation);
	if (!perm)
		return plat_error_set(err, PLAT_E_INTERNAL, "operation '%s' is not in the permission table", operation);
	/* A service with a remote implementation takes it before entering (plat_svc_remote);
	 * one without must not act on the database behind the configured server's back. */
	if (plat_services_remote_mode(svc->services))
		return plat_error_set(err, PLAT_E_CONFIG,
				      "%s does not run in remote mode yet (server.url is set to %s); without "
				      "server.url it runs against the database directly",
				      operation, plat_config_str(svc->cfg, PLAT_CFG_SERVER_URL));
	if (perm->kind == PLAT_AUTHZ_SYSTEM)
		svc->principal = PLAT_SYSTEM_PRINCIPAL;
	bool checked = perm->kind == PLAT_AUTHZ_ROLES || perm->kind == PLAT_AUTHZ_INSTALLATION;
	if (checked)
		needs |= PLAT_NEEDS_TENANT;
	struct plat_services *s = svc->services;
	int rc = 0;
	if ((needs & PLAT_NEEDS_DB) && !svc->db) {
		if (!s)
			return plat_error_set(err, PLAT_E_INTERNAL, "%s: no database for this call", operation);
		pthread_mutex_lock(&s->lock);
		if (!s->pool)
			rc = open_pool(s, err);
		pthread_mutex_unlock(&s->lock);
		if (rc == 0)
			rc = plat_db_pool_acquire(s->pool, &svc->db, err);
		if (rc < 0)
			return rc;
		svc->own_db = true;
	}
	bool row_security = svc->cfg && plat_config_bool(svc->cfg, PLAT_CFG_DATABASE_ROW_SECURITY);
	if (checked && !svc->tenant_id[0] && !svc->identity_known && !row_security) {
		if ((rc = resolve_identity(svc, err)) < 0)
			return rc;
	} else if ((needs & PLAT_NEEDS_TENANT & ~PLAT_NEEDS_DB) && !svc->tenant_id[0] &&
		   (rc = resolve_tenant(svc, err)) < 0) {
		return rc;
	}
	if (checked && !svc->identity_known && (rc = resolve_principal(svc, err)) < 0)
		return rc;
	if (checked && (rc = plat_svc_check_role(operation, svc->role, svc->principal, svc->tenant, err)) < 0)
		return rc;
	if ((needs & PLAT_NEEDS_STORE) && !svc->store) {
		if (!s)
			return plat_error_set(err, PLAT_E_INTERNAL, "%s: no object store for this call", operation);
		pthread_mutex_lock(&s->lock);
		if (!s->store)
			rc = open_store(s, err);
		svc->store = s->store;
		pthread_mutex_unlock(&s->lock);
	}
	return rc;
}

int plat_svc_keyring(struct plat_svc *svc, const struct plat_auth_keyring **kr, struct plat_error *err)
{
	struct plat_services *s = svc->services;
	*kr = NULL;
	const char *spec = svc->cfg ? plat_config_str(svc->cfg, PLAT_CFG_AUTH_KEYS) : NULL;
	if (!spec || !*spec)
		return plat_error_set(err, PLAT_E_CONFIG,
				      "local accounts need signing keys: set auth.keys to a directory of Ed25519 PEM files");
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	if (!s->keyring)
		rc = plat_auth_keyring_load(spec, &s->keyring, err);
	*kr = s->keyring;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int plat_svc_oidc(struct plat_svc *svc, struct plat_auth_oidc **v, struct plat_error *err)
{
	struct plat_services *s = svc->services;
	const struct plat_config *c = svc->cfg;
	*v = NULL;
	const char *issuer = c ? plat_config_str(c, PLAT_CFG_AUTH_OIDC_ISSUER) : NULL;
	if (!s || !issuer || !*issuer)
		return 0;
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	if (!s->oidc) {
		struct plat_auth_oidc_options o = {
			.issuer = issuer,
			.audience = plat_config_str(c, PLAT_CFG_AUTH_OIDC_AUDIENCE),
			.jwks_url = plat_config_str(c, PLAT_CFG_AUTH_OIDC_JWKS_URL),
			.leeway_s = plat_config_int(c, PLAT_CFG_AUTH_LEEWAY) / 1000,
			.refetch_interval_s = plat_config_int(c, PLAT_CFG_AUTH_OIDC_REFETCH_INTERVAL) / 1000,
			.tenant_claim = plat_config_str(c, PLAT_CFG_AUTH_OIDC_TENANT_CLAIM),
			.default_tenant = plat_config_str(c, PLAT_CFG_AUTH_OIDC_DEFAULT_TENANT),
			.role_claim = plat_config_str(c, PLAT_CFG_AUTH_OIDC_ROLE_CLAIM),
			.role_map = plat_config_str(c, PLAT_CFG_AUTH_OIDC_ROLE_MAP),
			.default_role = plat_config_str(c, PLAT_CFG_AUTH_OIDC_DEFAULT_ROLE),
		};
		rc = plat_auth_oidc_new(&o, &s->oidc, err);
	}
	*v = s->oidc;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int plat_svc_ai(struct plat_svc *svc, int role, struct plat_ai **ai, struct plat_error *err)
{
	struct plat_services *s = svc->services;
	if (role < 0 || role > PLAT_AI_EMBEDDINGS)
		return plat_error_set(err, PLAT_E_INTERNAL, "no AI role %d", role);
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	if (!s->ai[role]) {
		struct plat_ai_options ao;
		plat_ai_options_for(s->cfg, (enum plat_ai_role)role, s->environ, &ao);
		rc = plat_ai_open(&ao, &s->ai[role], err);
	}
	*ai = s->ai[role];
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int plat_svc_publisher(struct plat_svc *svc, struct plat_publisher **pub, struct plat_error *err)
{
	struct plat_services *s = svc->services;
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	if (!s->pub_checked && plat_events_backend(s->cfg) == PLAT_EVENTS_KAFKA) {
		struct plat_kafka_options ko;
		plat_kafka_options_for(s->cfg, &ko);
		rc = plat_publisher_open(&ko, &s->pub, err);
	}
	s->pub_checked = rc == 0;
	*pub = s->pub;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int plat_svc_publish_events(struct plat_svc *svc, struct plat_error *err)
{
	if (plat_services_remote_mode(svc->services))
		return 0; /* the server published what its calls wrote */
	struct plat_publisher *pub = NULL;
	int rc = plat_svc_publisher(svc, &pub, err);
	if (rc < 0 || !pub)
		return rc; /* postgres: the outbox is the queue; NOTIFY went out with the commit */
	if ((rc = plat_svc_enter(svc, "events.publish", PLAT_NEEDS_DB, err)) < 0)
		return rc;
	struct plat_publish_counts pc = {0};
	struct plat_outbox_filter f = {.request_id = svc->request_id, .limit = 1000000};
	rc = plat_publish_outbox(pub, svc->db, &f, &pc, err);
	if (rc == 0 && pc.failed > 0)
		rc = plat_error_set(err, PLAT_E_UNAVAILABLE,
				    "Kafka did not confirm %lld event%s within events.kafka.publish_timeout; the documents are "
				    "stored and the consume workers republish the events",
				    pc.failed, pc.failed == 1 ? "" : "s");
	return rc;
}

int plat_svc_open(const struct plat_config *cfg, char **environ, const char *request_id, struct plat_svc **out,
		  struct plat_error *err)
{
	struct plat_services *s;
	int rc = plat_services_open(cfg, environ, NULL, &s, err);
	if (rc < 0)
		return rc;
	*out = plat_xcalloc(1, sizeof(**out));
	plat_svc_init(*out, s, &(struct plat_call){.request_id = request_id});
	return 0;
}

void plat_svc_close(struct plat_svc *svc)
{
	if (!svc)
		return;
	struct plat_services *s = svc->services;
	plat_svc_done(svc);
	plat_services_close(s);
	free(svc);
}
