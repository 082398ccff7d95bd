/* The service context: what every operation runs with.
 *
 * Two layers. struct plat_services is built once from the configuration and shared: the
 * database pool, the object store, the event publisher and the AI provider per role, all
 * safe to use from many threads at once. struct plat_svc is one call's state: the acting
 * principal and tenant, the request id, the connection borrowed from the pool and a scratch
 * arena. A command run makes one; the server (2.5) will make one per request, on its own
 * thread, over the same plat_services.
 *
 * Every operation (documents, search, ask, eval, storage, migrate, the worker) is one
 * function taking a struct plat_svc and starting with plat_svc_enter(): that one place is
 * where the permission check of access control (2.3) goes, and where the call's
 * dependencies are made ready. Services never print and never exit; they return cJSON in
 * the documented -o json schema or stream to a sink, and fill a struct plat_error whose
 * message names no command-line option. */
#ifndef PLAT_SVC_H
#define PLAT_SVC_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "error/error.h"
#include "mem/mem.h"

struct plat_services;
struct plat_db;
struct plat_store;
struct plat_ai;
struct plat_publisher;

struct plat_services_options {
	int pool_size; /* most connections open at once; 0: 64 (opened only as needed) */
};

/* Called by a process that runs many calls (serve) before its first one: its database
 * connections prepare their statements (database.prepare), and it gets the coherent
 * cache (server.cache_entries; lib/cache/cache.h), disabled until its invalidations
 * are listened to (plat_services_cache_notify). */
void plat_services_long_running(struct plat_services *s);

/* The cache; NULL when there is none (a command run, or server.cache_entries 0). */
struct plat_cache;
struct plat_cache *plat_services_cache(struct plat_services *s);

/* Remote mode: server.url is set, and the services call that server's REST API. */
bool plat_services_remote_mode(const struct plat_services *s);

/* The cache's listener: "document:ID" or "auth" from the platctl_cache channel (migration
 * 0014); anything else empties the cache. Listening says when those notifications reach
 * it (the LISTEN is in place) and when they may not (its connection broke): the cache
 * serves only in between. */
void plat_services_cache_notify(struct plat_services *s, const char *payload);
void plat_services_cache_listening(struct plat_services *s, bool listening);

/* Cache keys, for the services that read through the cache. */
#define PLAT_CACHE_TOKEN "t:"     /* + SHA-256 hex of an API token */
#define PLAT_CACHE_TENANT "n:"    /* + tenant name */
#define PLAT_CACHE_DOCUMENT "d:"  /* + document id (+ PLAT_CACHE_WITH_HISTORY) */
#define PLAT_CACHE_WITH_HISTORY "+h"

/* Nothing is connected yet: each dependency opens the first time a call needs it, so a
 * command that only reads storage never needs the database. cfg and environ must outlive
 * the services. */
int plat_services_open(const struct plat_config *cfg, char **environ, const struct plat_services_options *o,
		       struct plat_services **out, struct plat_error *err);
void plat_services_close(struct plat_services *s);
const struct plat_config *plat_services_config(const struct plat_services *s);
char **plat_services_environ(const struct plat_services *s);

/* Who is calling, for which tenant, under which request id. NULLs take the configuration's
 * tenant and principal, and a new request id. */
struct plat_call {
	const char *principal;
	const char *tenant;
	const char *request_id;
	/* Set by a caller that verified the principal itself (the server, from a token): its
	 * role in the tenant, and the principal's id. 0: look the principal up by name. */
	int role;
	const char *principal_id;
};

/* One call's context. The fields are read by the services (and by the pipeline); set them
 * only through plat_svc_init and plat_svc_enter. */
struct plat_svc {
	struct plat_services *services;
	const struct plat_config *cfg;
	struct plat_db *db;       /* borrowed for the call once it needs the database */
	struct plat_store *store; /* shared, once the call needs storage */
	const char *tenant;       /* name */
	char tenant_id[37];       /* resolved by plat_svc_enter (PLAT_NEEDS_TENANT) */
	const char *principal;
	char principal_id[37]; /* empty: bootstrap, system or operator calls */
	int role;              /* enum plat_role, once plat_svc_enter checked a role */
	bool identity_known;   /* principal and role resolved (looked up once per call) */
	bool bootstrap;        /* the tenant has no principals yet: acting as its admin */
	char request_id[65];
	struct plat_arena arena; /* scratch, freed by plat_svc_done */
	bool own_db;             /* db came from the pool (not set by a caller) */
};

void plat_svc_init(struct plat_svc *svc, struct plat_services *services, const struct plat_call *call);
/* Give the connection back and free the arena. The context can be entered again after
 * plat_svc_init. */
void plat_svc_done(struct plat_svc *svc);

/* Remote mode's entry: 0 in direct mode (run the call here); 1 and *r the server's client
 * in remote mode, made by the run's first call with the token ($PLATCTL_TOKEN, else the
 * one platctl login stored for the server and profile). PLAT_E_AUTH when there is none. */
struct plat_remote;
int plat_svc_remote(struct plat_svc *svc, struct plat_remote **r, struct plat_error *err);

/* What an operation needs before it starts. */
enum plat_svc_needs {
	PLAT_NEEDS_DB = 1 << 0,
	PLAT_NEEDS_TENANT = 1 << 1 | PLAT_NEEDS_DB, /* the tenant's id, looked up once */
	PLAT_NEEDS_STORE = 1 << 2,
};

/* The entry of every operation: names it, checks that the principal may run it (the
 * permission table of lib/auth/authz.c) and makes its dependencies ready.
 *
 * The principal is looked up by name in the call's tenant, once per call. A tenant with
 * no principals at all is in bootstrap: its callers act as admin until the first
 * principal is added (a fresh installation has to be administered by someone, and in
 * direct mode the database credentials already allow everything). Operations of the
 * installation itself (migrations, the raw object store) are not role-checked: only the
 * credentials they need guard them. The consume workers act as PLAT_SYSTEM_PRINCIPAL.
 *
 * Errors: PLAT_E_PERMISSION naming the operation and the roles it needs, PLAT_E_AUTH for
 * an unknown or disabled principal, PLAT_E_UNAVAILABLE when the database or the store
 * cannot be reached, PLAT_E_CONFIG when they are misconfigured, PLAT_E_NOT_FOUND for an
 * unknown tenant. */
int plat_svc_enter(struct plat_svc *svc, const char *operation, unsigned needs, struct plat_error *err);

/* The permission check plat_svc_enter makes, for a caller that knows the role already (the
 * server, before it reads a request's body): 0 when role may run operation in tenant,
 * else PLAT_E_PERMISSION naming the operation, the roles it needs and the principal's. */
int plat_svc_check_role(const char *operation, int role, const char *principal, const char *tenant,
			struct plat_error *err);

/* auth.keys (the Ed25519 keys of local access tokens), loaded once per plat_services.
 * PLAT_E_CONFIG when unset or unreadable. */
struct plat_auth_keyring;
int plat_svc_keyring(struct plat_svc *svc, const struct plat_auth_keyring **kr, struct plat_error *err);

/* The external issuer's verifier (auth.oidc.*), made once per plat_services. *v NULL and 0
 * when auth.oidc.issuer is unset; PLAT_E_CONFIG when the rest is incomplete. */
struct plat_auth_oidc;
int plat_svc_oidc(struct plat_svc *svc, struct plat_auth_oidc **v, struct plat_error *err);

/* The provider configured for a role (enum plat_ai_role), opened once per plat_services. */
int plat_svc_ai(struct plat_svc *svc, int role, struct plat_ai **ai, struct plat_error *err);

/* Kafka only (events.backend: kafka): the shared publisher; *pub NULL on postgres. */
int plat_svc_publisher(struct plat_svc *svc, struct plat_publisher **pub, struct plat_error *err);

/* After a call's transactions committed: publish the outbox events this call wrote (its
 * request id) to Kafka. Nothing to do on postgres, where the outbox is the queue. Failure
 * to confirm is PLAT_E_UNAVAILABLE; the events stay in the outbox for the sweeper. */
int plat_svc_publish_events(struct plat_svc *svc, struct plat_error *err);

/* Add {library: version} for the libraries platctl runs with to libs (an object). */
void plat_library_versions(cJSON *libs);

/* Convenience for a command run: services and one call in one object, closed together. */
int plat_svc_open(const struct plat_config *cfg, char **environ, const char *request_id, struct plat_svc **out,
		  struct plat_error *err);
void plat_svc_close(struct plat_svc *svc);

#endif
