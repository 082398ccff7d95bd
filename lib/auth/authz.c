#include "auth/authz.h"

#include <stdio.h>
#include <string.h>

#define READERS (PLAT_ROLE_VIEWER | PLAT_ROLE_EDITOR | PLAT_ROLE_AUDITOR | PLAT_ROLE_ADMIN)
#define WRITERS (PLAT_ROLE_EDITOR | PLAT_ROLE_ADMIN)
#define AUDITORS (PLAT_ROLE_AUDITOR | PLAT_ROLE_ADMIN)
#define ADMINS PLAT_ROLE_ADMIN

/* The one permission table. Sorted by operation for reading, searched linearly (it is
 * short, and the lookup costs nothing next to the database round trip that follows). */
static const struct plat_permission permissions[] = {
	{"ask", PLAT_AUTHZ_ROLES, READERS},
	{"audit.list", PLAT_AUTHZ_ROLES, AUDITORS},
	{"audit.verify", PLAT_AUTHZ_ROLES, AUDITORS},
	/* Checking a presented token, before anyone is known: the request itself is then checked. */
	/* The caller's own identity (GET /v1/me): anyone with a role in the tenant. */
	{"auth.me", PLAT_AUTHZ_ROLES, READERS},
	{"auth.revoke", PLAT_AUTHZ_INTERNAL, 0},
	{"auth.token", PLAT_AUTHZ_INTERNAL, 0},
	{"auth.verify", PLAT_AUTHZ_INTERNAL, 0},
	/* Only an admin decides a destruction; auditors read what retention will do. */
	{"compliance.approve", PLAT_AUTHZ_ROLES, ADMINS},
	{"compliance.certificate", PLAT_AUTHZ_ROLES, AUDITORS},
	{"compliance.plan", PLAT_AUTHZ_ROLES, AUDITORS},
	{"compliance.reject", PLAT_AUTHZ_ROLES, ADMINS},
	{"compliance.report", PLAT_AUTHZ_ROLES, AUDITORS},
	/* Compliance runs come from timers, not people: they act as the system principal. */
	{"compliance.run", PLAT_AUTHZ_SYSTEM, 0},
	{"consume", PLAT_AUTHZ_SYSTEM, 0},
	{"documents.delete", PLAT_AUTHZ_ROLES, WRITERS},
	{"documents.get", PLAT_AUTHZ_ROLES, READERS},
	/* Admin only: whoever can release a hold can then delete the document. */
	{"documents.hold", PLAT_AUTHZ_ROLES, ADMINS},
	{"documents.list", PLAT_AUTHZ_ROLES, READERS},
	{"documents.purge", PLAT_AUTHZ_ROLES, ADMINS},
	{"documents.read", PLAT_AUTHZ_ROLES, READERS},
	{"documents.release", PLAT_AUTHZ_ROLES, ADMINS},
	{"documents.retry", PLAT_AUTHZ_ROLES, WRITERS},
	{"documents.upload", PLAT_AUTHZ_ROLES, WRITERS},
	{"documents.wait", PLAT_AUTHZ_ROLES, READERS},
	{"eval", PLAT_AUTHZ_ROLES, READERS},
	{"events.publish", PLAT_AUTHZ_INTERNAL, 0},
	{"events.stream", PLAT_AUTHZ_ROLES, READERS},
	{"findings.ack", PLAT_AUTHZ_ROLES, ADMINS},
	{"findings.list", PLAT_AUTHZ_ROLES, AUDITORS},
	{"findings.resolve", PLAT_AUTHZ_ROLES, ADMINS},
	{"findings.show", PLAT_AUTHZ_ROLES, AUDITORS},
	{"migrate.down", PLAT_AUTHZ_OPERATOR, 0},
	{"migrate.status", PLAT_AUTHZ_OPERATOR, 0},
	{"migrate.up", PLAT_AUTHZ_OPERATOR, 0},
	{"migrate.verify", PLAT_AUTHZ_OPERATOR, 0},
	{"search", PLAT_AUTHZ_ROLES, READERS},
	/* The server's readiness probe: reaches the database and the store, reads nothing of a tenant. */
	{"server.ready", PLAT_AUTHZ_INTERNAL, 0},
	{"storage.delete", PLAT_AUTHZ_OPERATOR, 0},
	{"storage.get", PLAT_AUTHZ_OPERATOR, 0},
	{"storage.list", PLAT_AUTHZ_OPERATOR, 0},
	{"storage.presign", PLAT_AUTHZ_OPERATOR, 0},
	{"storage.put", PLAT_AUTHZ_OPERATOR, 0},
	{"storage.stat", PLAT_AUTHZ_OPERATOR, 0},
	{"tenant.add", PLAT_AUTHZ_INSTALLATION, ADMINS},
	{"tenant.list", PLAT_AUTHZ_INSTALLATION, ADMINS},
	{"tenant.show", PLAT_AUTHZ_INSTALLATION, ADMINS},
	{"token.create", PLAT_AUTHZ_ROLES, ADMINS},
	{"token.list", PLAT_AUTHZ_ROLES, AUDITORS},
	{"token.revoke", PLAT_AUTHZ_ROLES, ADMINS},
	{"user.add", PLAT_AUTHZ_ROLES, ADMINS},
	{"user.disable", PLAT_AUTHZ_ROLES, ADMINS},
	{"user.enable", PLAT_AUTHZ_ROLES, ADMINS},
	{"user.list", PLAT_AUTHZ_ROLES, AUDITORS},
	{"user.passwd", PLAT_AUTHZ_ROLES, ADMINS},
	/* Changing one's own password, and asking who one is: every role. */
	{"user.passwd.self", PLAT_AUTHZ_ROLES, READERS},
	/* Webhooks carry the tenant's events to another system: an admin decides where. */
	{"webhook.add", PLAT_AUTHZ_ROLES, ADMINS},
	{"webhook.delete", PLAT_AUTHZ_ROLES, ADMINS},
	{"webhook.deliveries", PLAT_AUTHZ_ROLES, AUDITORS},
	{"webhook.list", PLAT_AUTHZ_ROLES, AUDITORS},
	{"webhook.redeliver", PLAT_AUTHZ_ROLES, ADMINS},
	{"whoami", PLAT_AUTHZ_ROLES, READERS},
	{NULL, 0, 0},
};

const struct plat_permission *plat_authz_table(void)
{
	return permissions;
}

const struct plat_permission *plat_authz_lookup(const char *operation)
{
	for (const struct plat_permission *p = permissions; operation && p->operation; p++)
		if (strcmp(p->operation, operation) == 0)
			return p;
	return NULL;
}

bool plat_authz_allows(const char *operation, enum plat_role role)
{
	const struct plat_permission *p = plat_authz_lookup(operation);
	if (!p)
		return false;
	switch (p->kind) {
	case PLAT_AUTHZ_ROLES:
	case PLAT_AUTHZ_INSTALLATION:
		return (p->roles & (unsigned)role) != 0;
	case PLAT_AUTHZ_OPERATOR:
	case PLAT_AUTHZ_SYSTEM:
	case PLAT_AUTHZ_INTERNAL:
		return false; /* no role grants these: they are decided by how the call is made */
	}
	return false;
}

static const struct {
	enum plat_role role;
	const char *name;
} role_names[] = {
	{PLAT_ROLE_ADMIN, "admin"},
	{PLAT_ROLE_EDITOR, "editor"},
	{PLAT_ROLE_VIEWER, "viewer"},
	{PLAT_ROLE_AUDITOR, "auditor"},
};

enum plat_role plat_role_parse(const char *name)
{
	for (size_t i = 0; name && i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (strcmp(role_names[i].name, name) == 0)
			return role_names[i].role;
	return PLAT_ROLE_NONE;
}

const char *plat_role_name(enum plat_role role)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (role_names[i].role == role)
			return role_names[i].name;
	return "none";
}

const char *plat_roles_describe(unsigned roles, char *buf, unsigned size)
{
	const char *names[4];
	int n = 0;
	/* Least privileged first: "editor or admin" reads as "at least editor". */
	static const enum plat_role order[] = {PLAT_ROLE_VIEWER, PLAT_ROLE_AUDITOR, PLAT_ROLE_EDITOR, PLAT_ROLE_ADMIN};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (roles & (unsigned)order[i])
			names[n++] = plat_role_name(order[i]);
	buf[0] = '\0';
	size_t used = 0;
	for (int i = 0; i < n && used < size; i++) {
		const char *sep = i == 0 ? "" : i == n - 1 ? (n > 2 ? ", or " : " or ") : ", ";
		int w = snprintf(buf + used, size - used, "%s%s", sep, names[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (n == 0)
		snprintf(buf, size, "no role");
	return buf;
}
