/* Principals (users and service accounts) of a tenant, tenants, and who the caller is.
 *
 * Operations (each starts with plat_svc_enter and is checked against the permission
 * table): user.add, user.list, user.disable, user.enable, user.passwd (user.passwd.self
 * for one's own password), whoami, tenant.add, tenant.list, tenant.show. Every change
 * writes an audit row in the tenant's chain in the same transaction; no password or hash
 * ever reaches a row's details, a message or a log. */
#ifndef PLAT_AUTH_PRINCIPALS_H
#define PLAT_AUTH_PRINCIPALS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "auth/password.h"
#include "error/error.h"
#include "svc/svc.h"

struct plat_new_principal {
	const char *name;
	const char *kind;  /* "user" or "service" */
	const char *role;  /* admin, editor, viewer, auditor */
	const char *email; /* NULL: none */
	const char *password; /* users only; NULL: none yet (no password login) */
	size_t password_len;
};

/* Why a principal name is not acceptable, or NULL. Names are 1-64 characters of letters,
 * digits and . _ @ - starting with a letter or digit, and not the system principal's. */
const char *plat_principal_name_problem(const char *name);

/* The new principal as user list shows it. PLAT_E_CONFLICT when the name is taken. */
int plat_principals_add(struct plat_svc *svc, const struct plat_new_principal *np, cJSON **out,
			struct plat_error *err);
/* [{id, name, kind, role, email, disabled, created_at, created_by}], by name. */
int plat_principals_list(struct plat_svc *svc, cJSON **out, struct plat_error *err);
/* Disabling the tenant's last enabled admin is refused (PLAT_E_CONFLICT): nobody could
 * administer the tenant afterwards. */
int plat_principals_set_disabled(struct plat_svc *svc, const char *name, bool disabled, cJSON **out,
				 struct plat_error *err);
int plat_principals_passwd(struct plat_svc *svc, const char *name, const char *password, size_t len,
			   struct plat_error *err);

/* {principal, tenant, role, kind, bootstrap, mode}. */
int plat_whoami(struct plat_svc *svc, cJSON **out, struct plat_error *err);

/* Why a tenant name is not acceptable, or NULL. */
const char *plat_tenant_name_problem(const char *name);
int plat_tenants_add(struct plat_svc *svc, const char *name, cJSON **out, struct plat_error *err);
/* [{id, name, created_at, principals, documents}], by name. */
int plat_tenants_list(struct plat_svc *svc, cJSON **out, struct plat_error *err);
int plat_tenants_show(struct plat_svc *svc, const char *name, cJSON **out, struct plat_error *err);

#endif
