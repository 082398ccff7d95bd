/* External OIDC access tokens (see oidc.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjose/cjose.h>
#include <cjson/cJSON.h>

#include "auth/jwks.h"
#include "auth/jws.h"
#include "auth/oidc.h"
#include "clock/clock.h"
#include "mem/mem.h"

#define JWKS_MAX_BYTES (1024 * 1024)

struct role_pair {
	char *external;
	char role[PLAT_AUTH_ROLE_MAX];
};

struct plat_auth_oidc {
	char *issuer, *audience, *jwks_url, *tenant_claim, *default_tenant, *role_claim, *default_role;
	long long leeway_s, refetch_interval_ms, max_age_ms, timeout_ms;
	size_t max_token_len;
	struct role_pair *roles;
	size_t n_roles;

	/* Only one fetch at a time; held across the HTTP request, never while verifying. */
	pthread_mutex_t fetch_lock;
	/* Guards everything below; held only for pointer swaps and counters. */
	pthread_mutex_t lock;
	struct jwks *set;
	bool attempted;
	long long last_attempt_ms, fetched_ms;
	struct plat_auth_oidc_stats stats;
};

static char *dup_or(const char *s, const char *dflt)
{
	return s && s[0] ? plat_xstrdup(s) : dflt ? plat_xstrdup(dflt) : NULL;
}

static int parse_role_map(struct plat_auth_oidc *v, const char *spec, struct plat_error *err)
{
	if (!spec || !spec[0])
		return 0;
	char *copy = plat_xstrdup(spec), *save = NULL;
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strrchr(item, '=');
		while (*item == ' ')
			item++;
		if (!eq || eq == item || !plat_auth_role_valid(eq + 1)) {
			free(copy);
			return plat_error_set(err, PLAT_E_CONFIG,
					      "role map '%s': each entry must be external=role with role one of admin, "
					      "editor, viewer, auditor", spec);
		}
		*eq = '\0';
		v->roles = plat_xrealloc(v->roles, (v->n_roles + 1) * sizeof(*v->roles));
		v->roles[v->n_roles].external = plat_xstrdup(item);
		snprintf(v->roles[v->n_roles].role, PLAT_AUTH_ROLE_MAX, "%s", eq + 1);
		v->n_roles++;
	}
	free(copy);
	return 0;
}

int plat_auth_oidc_new(const struct plat_auth_oidc_options *o, struct plat_auth_oidc **out, struct plat_error *err)
{
	*out = NULL;
	if (!o->issuer || !o->issuer[0])
		return plat_error_set(err, PLAT_E_CONFIG, "OIDC verification needs the issuer");
	if (!o->audience || !o->audience[0])
		return plat_error_set(err, PLAT_E_CONFIG, "OIDC verification needs the audience");
	if (!o->jwks_url || !o->jwks_url[0])
		return plat_error_set(err, PLAT_E_CONFIG, "OIDC verification needs the JWKS URL");
	if (o->default_role && o->default_role[0] && !plat_auth_role_valid(o->default_role))
		return plat_error_set(err, PLAT_E_CONFIG, "OIDC default role '%s' is not a role", o->default_role);
	if (o->leeway_s < 0 || o->refetch_interval_s < 0 || o->jwks_max_age_s < 0)
		return plat_error_set(err, PLAT_E_CONFIG, "OIDC leeway and intervals cannot be negative");
	struct plat_auth_oidc *v = plat_xcalloc(1, sizeof(*v));
	v->issuer = plat_xstrdup(o->issuer);
	v->audience = plat_xstrdup(o->audience);
	v->jwks_url = plat_xstrdup(o->jwks_url);
	v->tenant_claim = dup_or(o->tenant_claim, "tenant");
	v->default_tenant = dup_or(o->default_tenant, NULL);
	v->role_claim = dup_or(o->role_claim, "role");
	v->default_role = dup_or(o->default_role, NULL);
	v->leeway_s = o->leeway_s;
	v->refetch_interval_ms = (o->refetch_interval_s ? o->refetch_interval_s : 60) * 1000;
	v->max_age_ms = (o->jwks_max_age_s ? o->jwks_max_age_s : 3600) * 1000;
	v->timeout_ms = o->http_timeout_ms > 0 ? o->http_timeout_ms : 5000;
	v->max_token_len = o->max_token_len ? o->max_token_len : 8192;
	pthread_mutex_init(&v->fetch_lock, NULL);
	pthread_mutex_init(&v->lock, NULL);
	if (parse_role_map(v, o->role_map, err) < 0) {
		plat_auth_oidc_free(v);
		return -PLAT_E_CONFIG;
	}
	*out = v;
	return 0;
}

static void set_release(struct plat_auth_oidc *v, struct jwks *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&v->lock);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&v->lock);
	if (last)
		jwks_free(s);
}

void plat_auth_oidc_free(struct plat_auth_oidc *v)
{
	if (!v)
		return;
	set_release(v, v->set);
	for (size_t i = 0; i < v->n_roles; i++)
		free(v->roles[i].external);
	free(v->roles);
	free(v->issuer);
	free(v->audience);
	free(v->jwks_url);
	free(v->tenant_claim);
	free(v->default_tenant);
	free(v->role_claim);
	free(v->default_role);
	pthread_mutex_destroy(&v->fetch_lock);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

/* Fetch and install a new set; called with fetch_lock held. */
static int fetch_locked(struct plat_auth_oidc *v, struct plat_error *err)
{
	struct plat_buf body = PLAT_BUF_INIT;
	struct jwks *s = NULL;
	int rc = jwks_fetch(v->jwks_url, v->timeout_ms, JWKS_MAX_BYTES, &body, err);
	if (rc == 0)
		rc = jwks_parse(body.data ? body.data : "", body.len, &s, err);
	plat_buf_free(&body);
	struct jwks *old = NULL;
	pthread_mutex_lock(&v->lock);
	if (rc == 0) {
		s->refs = 1;
		old = v->set;
		v->set = s;
		v->fetched_ms = plat_clock_ms();
		v->stats.fetches++;
		v->stats.keys = s->n;
	} else {
		v->stats.fetch_failures++;
		snprintf(v->stats.last_error, sizeof(v->stats.last_error), "%s", err->message);
	}
	pthread_mutex_unlock(&v->lock);
	set_release(v, old);
	return rc;
}

int plat_auth_oidc_refresh(struct plat_auth_oidc *v, struct plat_error *err)
{
	pthread_mutex_lock(&v->fetch_lock);
	pthread_mutex_lock(&v->lock);
	v->attempted = true;
	v->last_attempt_ms = plat_clock_ms();
	pthread_mutex_unlock(&v->lock);
	int rc = fetch_locked(v, err);
	pthread_mutex_unlock(&v->fetch_lock);
	return rc;
}

/* Fetch unless one happened within the interval. Waits for a fetch in flight, so a burst
 * of tokens with the new kid all see the set the first one fetched. */
static void maybe_fetch(struct plat_auth_oidc *v, bool wait)
{
	if (wait)
		pthread_mutex_lock(&v->fetch_lock);
	else if (pthread_mutex_trylock(&v->fetch_lock) != 0)
		return;
	long long now = plat_clock_ms();
	pthread_mutex_lock(&v->lock);
	bool allowed = !v->attempted || now - v->last_attempt_ms >= v->refetch_interval_ms;
	if (allowed) {
		v->attempted = true;
		v->last_attempt_ms = now;
	}
	pthread_mutex_unlock(&v->lock);
	if (allowed) {
		struct plat_error e = {0};
		fetch_locked(v, &e);
	}
	pthread_mutex_unlock(&v->fetch_lock);
}

/* The current set with a reference held, and whether it is due for a refetch. */
static struct jwks *set_acquire(struct plat_auth_oidc *v, bool *stale)
{
	pthread_mutex_lock(&v->lock);
	struct jwks *s = v->set;
	if (s)
		s->refs++;
	*stale = !s || plat_clock_ms() - v->fetched_ms >= v->max_age_ms;
	pthread_mutex_unlock(&v->lock);
	return s;
}

static bool verify_signature(const struct jwk_key *k, const char *token, const struct jws_parts *p)
{
	if (k->type == JWK_ED25519)
		return jws_ed25519_verify(k->ed, p->signing_input, p->signing_len, p->sig, p->sig_len) == 1;
	cjose_err cerr;
	cjose_jws_t *jws = cjose_jws_import(token, strlen(token), &cerr);
	if (!jws)
		return false;
	/* cjose picks its algorithm from the header: the caller has made sure the header
	 * names this key's algorithm. */
	bool ok = cjose_jws_verify(jws, k->cj, &cerr);
	cjose_jws_release(jws);
	return ok;
}

static bool claim_has(const cJSON *claim, const char *value)
{
	if (cJSON_IsString(claim))
		return claim->valuestring && !strcmp(claim->valuestring, value);
	const cJSON *e;
	if (cJSON_IsArray(claim))
		cJSON_ArrayForEach(e, claim)
		{
			if (cJSON_IsString(e) && e->valuestring && !strcmp(e->valuestring, value))
				return true;
		}
	return false;
}

static const char *map_role(const struct plat_auth_oidc *v, const cJSON *claims)
{
	const cJSON *claim = cJSON_GetObjectItemCaseSensitive(claims, v->role_claim);
	if (v->n_roles) {
		for (size_t i = 0; claim && i < v->n_roles; i++)
			if (claim_has(claim, v->roles[i].external))
				return v->roles[i].role;
	} else {
		static const char *const roles[] = {"admin", "editor", "viewer", "auditor"};
		for (size_t i = 0; claim && i < sizeof(roles) / sizeof(roles[0]); i++)
			if (claim_has(claim, roles[i]))
				return roles[i];
	}
	return v->default_role;
}

/* A tenant name as tenants.name allows it. */
static bool tenant_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int map_claims(const struct plat_auth_oidc *v, const cJSON *claims, struct plat_auth_result *res,
		      struct plat_error *err)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(claims, v->tenant_claim);
	const char *tenant = cJSON_IsString(t) ? t->valuestring : t ? NULL : v->default_tenant;
	if (!tenant || !tenant_name_ok(tenant))
		return plat_auth_refuse(err, res, PLAT_AUTH_R_NO_TENANT);
	const char *role = map_role(v, claims);
	if (!role)
		return plat_auth_refuse(err, res, PLAT_AUTH_R_NO_ROLE);
	snprintf(res->tenant, sizeof(res->tenant), "%s", tenant);
	snprintf(res->role, sizeof(res->role), "%s", role);
	res->kind = PLAT_AUTH_OIDC;
	return 0;
}

int plat_auth_oidc_verify(struct plat_auth_oidc *v, const char *token, struct plat_auth_result *res,
			  struct plat_error *err)
{
	memset(res, 0, sizeof(*res));
	struct jws_parts p;
	int rc = jws_parse(token, v->max_token_len, &p, res, err);
	if (rc < 0)
		return rc;
	enum plat_auth_reason r = PLAT_AUTH_OK;
	/* RFC 9068 asks for at+jwt; many issuers still send JWT or nothing. */
	if (p.typ && strcasecmp(p.typ, "at+jwt") && strcasecmp(p.typ, "application/at+jwt") && strcasecmp(p.typ, "JWT")) {
		r = PLAT_AUTH_R_TYPE;
		goto out;
	}
	if (!p.kid) {
		r = PLAT_AUTH_R_UNKNOWN_KID;
		goto out;
	}
	bool stale;
	struct jwks *s = set_acquire(v, &stale);
	if (stale) {
		maybe_fetch(v, !s);
		set_release(v, s);
		s = set_acquire(v, &stale);
	}
	const struct jwk_key *k = jwks_find(s, p.kid);
	if (!k && s) {
		/* An unknown kid: the issuer may have rotated. */
		maybe_fetch(v, true);
		set_release(v, s);
		s = set_acquire(v, &stale);
		k = jwks_find(s, p.kid);
	}
	if (!s)
		r = PLAT_AUTH_R_KEYS_UNAVAILABLE;
	else if (!k)
		r = PLAT_AUTH_R_UNKNOWN_KID;
	else if (strcmp(p.alg, k->alg)) /* the key decides the algorithm, never the header */
		r = PLAT_AUTH_R_ALG_MISMATCH;
	else if (!verify_signature(k, token, &p))
		r = PLAT_AUTH_R_BAD_SIGNATURE;
	set_release(v, s);
	if (r != PLAT_AUTH_OK)
		goto out;
	struct jwt_expect x = {
		.issuer = v->issuer, .audience = v->audience, .leeway_s = v->leeway_s, .now = (long long)time(NULL)};
	rc = jwt_check_claims(p.claims, &x, res, err);
	if (rc == 0)
		rc = map_claims(v, p.claims, res, err);
	jws_parts_free(&p);
	return rc;
out:
	jws_parts_free(&p);
	return plat_auth_refuse(err, res, r);
}

void plat_auth_oidc_stats(struct plat_auth_oidc *v, struct plat_auth_oidc_stats *s)
{
	pthread_mutex_lock(&v->lock);
	*s = v->stats;
	pthread_mutex_unlock(&v->lock);
}
