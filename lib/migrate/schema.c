/* The migrate operations on a service context: what `platctl migrate` and the server run. */
#include "migrate/migrate.h"

#include <stdio.h>

#include "log/log.h"

struct applied_log {
	cJSON *list;
	void (*caller)(void *arg, const struct plat_migration *m, bool up, long long ms);
	void *caller_arg;
};

static void on_applied(void *arg, const struct plat_migration *m, bool up, long long ms)
{
	struct applied_log *log = arg;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "version", m->version);
	cJSON_AddStringToObject(j, "name", m->name);
	cJSON_AddNumberToObject(j, "duration_ms", (double)ms);
	cJSON_AddItemToArray(log->list, j);
	char v[16], d[32];
	snprintf(v, sizeof(v), "%04d", m->version);
	snprintf(d, sizeof(d), "%lld", ms);
	plat_log(PLAT_LOG_INFO, up ? "migration applied" : "migration reverted", "version", v, "name", m->name,
		 "duration_ms", d, (const char *)NULL);
	if (log->caller)
		log->caller(log->caller_arg, m, up, ms);
}

int plat_migrate_run(struct plat_svc *svc, bool up, const struct plat_migrate_options *o, cJSON **result,
		     struct plat_error *err)
{
	*result = NULL;
	if (!up && o->to >= 0 && o->steps) {
		plat_error_set(err, PLAT_E_USAGE, "give either a target version or a number of steps, not both");
		return plat_error_param(err, "steps");
	}
	int rc = plat_svc_enter(svc, up ? "migrate.up" : "migrate.down", PLAT_NEEDS_DB, err);
	if (rc < 0)
		return rc;
	struct applied_log log = {cJSON_CreateArray(), o->on_applied, o->arg};
	struct plat_migrate_options mo = *o;
	mo.applied_by = o->applied_by ? o->applied_by : svc->principal;
	mo.on_applied = on_applied;
	mo.arg = &log;
	int count = 0, version = 0, latest = 0;
	rc = up ? plat_migrate_up(svc->db, &mo, &count, err) : plat_migrate_down(svc->db, &mo, &count, err);
	if (rc == 0)
		rc = plat_migrate_version(svc->db, &version, &latest, err);
	if (rc < 0) {
		cJSON_Delete(log.list);
		return rc;
	}
	*result = cJSON_CreateObject();
	cJSON_AddItemToObject(*result, up ? "applied" : "reverted", log.list);
	cJSON_AddNumberToObject(*result, "version", version);
	cJSON_AddNumberToObject(*result, "latest", latest);
	return 0;
}

int plat_migrate_report(struct plat_svc *svc, cJSON **result, struct plat_error *err)
{
	*result = NULL;
	int rc = plat_svc_enter(svc, "migrate.status", PLAT_NEEDS_DB, err);
	struct plat_migration_status *st = NULL;
	size_t n = 0;
	if (rc == 0)
		rc = plat_migrate_status(svc->db, &st, &n, err);
	if (rc < 0)
		return rc;
	cJSON *rows = cJSON_CreateArray();
	int version, latest, pending = 0;
	plat_migrate_versions(st, n, &version, &latest);
	for (size_t i = 0; i < n; i++) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddNumberToObject(r, "version", st[i].version);
		cJSON_AddStringToObject(r, "name", st[i].name ? st[i].name : "");
		cJSON_AddStringToObject(r, "state", plat_migration_state_name(st[i].state));
		if (st[i].applied_at) {
			cJSON_AddStringToObject(r, "applied_at", st[i].applied_at);
			cJSON_AddStringToObject(r, "applied_by", st[i].applied_by);
		} else {
			cJSON_AddNullToObject(r, "applied_at");
			cJSON_AddNullToObject(r, "applied_by");
		}
		cJSON_AddStringToObject(r, "checksum", st[i].checksum ? st[i].checksum : "");
		cJSON_AddItemToArray(rows, r);
		pending += st[i].state == PLAT_MIGRATION_PENDING;
	}
	plat_migrate_status_free(st, n);
	*result = cJSON_CreateObject();
	cJSON_AddNumberToObject(*result, "version", version);
	cJSON_AddNumberToObject(*result, "latest", latest);
	cJSON_AddNumberToObject(*result, "pending", pending);
	cJSON_AddItemToObject(*result, "migrations", rows);
	return 0;
}

int plat_migrate_check(struct plat_svc *svc, cJSON **result, struct plat_error *err)
{
	*result = NULL;
	int rc = plat_svc_enter(svc, "migrate.verify", PLAT_NEEDS_DB, err);
	int version = 0, latest = 0;
	if (rc == 0)
		rc = plat_migrate_verify(svc->db, err);
	if (rc == 0)
		rc = plat_migrate_version(svc->db, &version, &latest, err);
	if (rc < 0)
		return rc;
	*result = cJSON_CreateObject();
	cJSON_AddBoolToObject(*result, "ok", 1);
	cJSON_AddNumberToObject(*result, "verified", version);
	cJSON_AddNumberToObject(*result, "latest", latest);
	return 0;
}
