/* Authorisation: roles and the one permission table (operation -> roles).
 *
 * Every service operation is named in the table, and plat_svc_enter() looks it up before
 * the operation starts: an operation missing from the table is refused (deny by default),
 * so a new service cannot ship unchecked. The table lives in authz.c and nowhere else;
 * the server (2.5) will read the same table for its routes. */
#ifndef PLAT_AUTH_AUTHZ_H
#define PLAT_AUTH_AUTHZ_H

#include <stdbool.h>

enum plat_role {
	PLAT_ROLE_NONE = 0,
	PLAT_ROLE_VIEWER = 1 << 0,  /* list, show, get, search, ask */
	PLAT_ROLE_EDITOR = 1 << 1,  /* viewer + upload, delete, retry */
	PLAT_ROLE_AUDITOR = 1 << 2, /* viewer (read-only) + the audit log and findings */
	PLAT_ROLE_ADMIN = 1 << 3,   /* everything in its tenant: users, tokens, purges, legal holds */
};

/* Who may run an operation, beyond its roles. */
enum plat_authz_kind {
	/* Checked against the caller's role in the call's tenant. */
	PLAT_AUTHZ_ROLES,
	/* Needs the credentials of the installation itself (schema migrations, the raw object
	 * store): in direct mode whoever holds them may run it, and no role check can add
	 * anything; the server exposes none of these. */
	PLAT_AUTHZ_OPERATOR,
	/* Runs as the built-in system principal (the consume workers). */
	PLAT_AUTHZ_SYSTEM,
	/* A step inside another operation that was checked already (publishing its events). */
	PLAT_AUTHZ_INTERNAL,
	/* Administration of the installation (tenants): the admin role in the default tenant. */
	PLAT_AUTHZ_INSTALLATION,
};

struct plat_permission {
	const char *operation;
	enum plat_authz_kind kind;
	unsigned roles; /* PLAT_ROLE_* bits, for PLAT_AUTHZ_ROLES and _INSTALLATION */
};

/* The table row for an operation, or NULL when the operation is unknown. */
const struct plat_permission *plat_authz_lookup(const char *operation);
/* The whole table, terminated by a row with a NULL operation (tests, the server's routes). */
const struct plat_permission *plat_authz_table(void);

/* Whether a principal with role may run the operation (unknown operations: never). */
bool plat_authz_allows(const char *operation, enum plat_role role);

/* "admin", "editor", "viewer", "auditor"; NONE for anything else. */
enum plat_role plat_role_parse(const char *name);
const char *plat_role_name(enum plat_role role);
/* "editor or admin": the roles of a mask, for messages. Writes into buf. */
const char *plat_roles_describe(unsigned roles, char *buf, unsigned size);

/* The name the consume workers act and are recorded under. Not a name a user can take. */
#define PLAT_SYSTEM_PRINCIPAL "system"

#endif
