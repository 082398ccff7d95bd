/* The values of the key table that are not one literal: choice lists, validators and
 * computed defaults (lib/config/config_keys.c refers to them). */
#include "config/config_checks.h"

#include "str/str.h"

#include <ctype.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const plat_cfg_log_levels[] = {"error", "warn", "info", "debug", "trace", NULL};
const char *const plat_cfg_log_formats[] = {"auto", "json", "text", NULL};
const char *const plat_cfg_output_formats[] = {"table", "json", "yaml", "ids", "markdown", "csv", NULL};
const char *const plat_cfg_color_modes[] = {"auto", "always", "never", NULL};
const char *const plat_cfg_event_backends[] = {"auto", "postgres", "kafka", NULL};
const char *const plat_cfg_ai_providers[] = {"builtin", "anthropic", "openai", NULL};
const char *const plat_cfg_starttls_modes[] = {"required", "try", "off", NULL};

int plat_cfg_validate_storage_url(const char *v, char *why, size_t n)
{
	if (*v == '\0' || (strncmp(v, "file:///", 8) == 0 && v[8] != '\0') || (strncmp(v, "s3://", 5) == 0 && v[5] != '\0'))
		return 0;
	snprintf(why, n, "must be file:///absolute/path or s3://bucket[/prefix]");
	return -1;
}

int plat_cfg_validate_database_url(const char *v, char *why, size_t n)
{
	if (*v == '\0')
		return 0;
	if (strncmp(v, "postgres://", 11) == 0 || strncmp(v, "postgresql://", 13) == 0)
		return 0;
	/* A libpq conninfo string is a list of keyword=value pairs. */
	if (strchr(v, '=') && !strstr(v, "://"))
		return 0;
	snprintf(why, n, "must be a postgres:// URL or a libpq conninfo string");
	return -1;
}

int plat_cfg_validate_http_url(const char *v, char *why, size_t n)
{
	if (*v == '\0' || strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0)
		return 0;
	snprintf(why, n, "must be an http:// or https:// URL");
	return -1;
}

int plat_cfg_validate_type_list(const char *v, char *why, size_t n)
{
	static const char *const known[] = {"pdf", "txt", "md", "html", "docx"};
	const char *p = v;
	while (*p) {
		size_t len = strcspn(p, ",");
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !ok; i++)
			ok = strlen(known[i]) == len && strncmp(known[i], p, len) == 0;
		if (!ok) {
			snprintf(why, n, "'%.*s' is not one of pdf, txt, md, html, docx", (int)len, p);
			return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

int plat_cfg_validate_support(const char *v, char *why, size_t n)
{
	double d;
	if (plat_str_to_double(v, &d) && d > 0 && d <= 1)
		return 0;
	snprintf(why, n, "must be a number greater than 0 and at most 1");
	return -1;
}

/* A number from lo to hi, as text (the table has no number type). */
static int plat_cfg_validate_number_range(const char *v, double lo, double hi, char *why, size_t n)
{
	double d;
	if (plat_str_to_double(v, &d) && d >= lo && d <= hi)
		return 0;
	snprintf(why, n, "must be a number from %g to %g", lo, hi);
	return -1;
}

int plat_cfg_validate_bm25_k1(const char *v, char *why, size_t n)
{
	return plat_cfg_validate_number_range(v, 0, 10, why, n);
}

int plat_cfg_validate_unit_fraction(const char *v, char *why, size_t n)
{
	return plat_cfg_validate_number_range(v, 0, 1, why, n);
}

int plat_cfg_validate_weight(const char *v, char *why, size_t n)
{
	return plat_cfg_validate_number_range(v, 0, 100, why, n);
}

/* MODEL=WEIGHT[,MODEL=WEIGHT...], "*" for any other model. */
int plat_cfg_validate_weight_list(const char *v, char *why, size_t n)
{
	const char *p = v;
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		char w[64];
		if (!eq || eq == p || (size_t)(p + len - eq - 1) >= sizeof(w)) {
			snprintf(why, n, "'%.*s' is not MODEL=WEIGHT", (int)len, p);
			return -1;
		}
		snprintf(w, sizeof(w), "%.*s", (int)(p + len - eq - 1), eq + 1);
		if (plat_cfg_validate_weight(w, why, n) < 0) {
			char inner[128];
			snprintf(inner, sizeof(inner), "%s", why);
			snprintf(why, n, "'%.*s': the weight %s", (int)len, p, inner);
			return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Tenant names appear in storage keys and URLs: keep them to a safe slug. */
int plat_cfg_validate_slug(const char *v, char *why, size_t n)
{
	size_t len = strlen(v);
	bool ok = len >= 1 && len <= 63 && (islower((unsigned char)v[0]) || isdigit((unsigned char)v[0]));
	for (size_t i = 0; ok && i < len; i++)
		ok = islower((unsigned char)v[i]) || isdigit((unsigned char)v[i]) || v[i] == '-' || v[i] == '_';
	if (ok)
		return 0;
	snprintf(why, n, "must be 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter or digit");
	return -1;
}

int plat_cfg_validate_principal(const char *v, char *why, size_t n)
{
	size_t len = strlen(v);
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			snprintf(why, n, "must not contain control characters");
			return -1;
		}
	}
	if (len > 200) {
		snprintf(why, n, "must be at most 200 bytes");
		return -1;
	}
	return 0;
}

/* ---- auth.* (lib/auth checks these again when it builds its verifiers) ---- */

static bool plat_cfg_is_role(const char *v, size_t len)
{
	static const char *const roles[] = {"admin", "editor", "viewer", "auditor"};
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strlen(roles[i]) == len && !strncmp(roles[i], v, len))
			return true;
	return false;
}

int plat_cfg_validate_role_or_empty(const char *v, char *why, size_t n)
{
	if (!*v || plat_cfg_is_role(v, strlen(v)))
		return 0;
	snprintf(why, n, "must be one of admin, editor, viewer, auditor");
	return -1;
}

int plat_cfg_validate_slug_or_empty(const char *v, char *why, size_t n)
{
	return *v ? plat_cfg_validate_slug(v, why, n) : 0;
}

int plat_cfg_validate_jwks_url(const char *v, char *why, size_t n)
{
	if (*v == '\0' || !strncmp(v, "https://", 8) || !strncmp(v, "http://", 7) || !strncmp(v, "file:///", 8))
		return 0;
	snprintf(why, n, "must be an https://, http:// or file:/// URL");
	return -1;
}

/* EXTERNAL=ROLE,...: the part after the last '=' of each entry is a role. */
int plat_cfg_validate_role_map(const char *v, char *why, size_t n)
{
	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ",");
		const char *eq = NULL;
		for (const char *q = p; q < p + len; q++)
			if (*q == '=')
				eq = q;
		if (!eq || eq == p || !plat_cfg_is_role(eq + 1, (size_t)(p + len - eq - 1))) {
			snprintf(why, n, "'%.*s' is not EXTERNAL=ROLE with ROLE one of admin, editor, viewer, auditor",
				 (int)len, p);
			return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Direct-mode commands act as the OS user who runs them, unless principal names another. */
const char *plat_cfg_os_user_name(void)
{
	static char name[256];
	if (name[0])
		return name;
	struct passwd *pw = getpwuid(geteuid());
	if (pw && pw->pw_name)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "uid-%ld", (long)geteuid());
	return name;
}

int plat_cfg_validate_smtp_url(const char *v, char *why, size_t n)
{
	if (*v == '\0' || strncmp(v, "smtp://", 7) == 0 || strncmp(v, "smtps://", 8) == 0)
		return 0;
	snprintf(why, n, "must be an smtp:// or smtps:// URL");
	return -1;
}

/* One address ("a@b" or "Name <a@b>"): an '@' inside, no control characters. */
static bool address_ok(const char *p, size_t len)
{
	bool at = false;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
		at = at || p[i] == '@';
	}
	return at;
}

int plat_cfg_validate_email(const char *v, char *why, size_t n)
{
	if (*v == '\0' || address_ok(v, strlen(v)))
		return 0;
	snprintf(why, n, "must be an e-mail address");
	return -1;
}

int plat_cfg_validate_email_list(const char *v, char *why, size_t n)
{
	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ",");
		size_t sp = strspn(p, " ");
		if (len > sp && !address_ok(p, len)) {
			snprintf(why, n, "'%.*s' is not an e-mail address", (int)len, p);
			return -1;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}
