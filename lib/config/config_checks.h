/* Choice lists, validators and computed defaults of the configuration key table, kept apart
 * from the table itself (config_keys.c) so that each stays readable. Private to lib/config. */
#ifndef PLAT_CONFIG_CHECKS_H
#define PLAT_CONFIG_CHECKS_H

#include <stddef.h>

extern const char *const plat_cfg_log_levels[];
extern const char *const plat_cfg_log_formats[];
extern const char *const plat_cfg_output_formats[];
extern const char *const plat_cfg_color_modes[];
extern const char *const plat_cfg_event_backends[];
extern const char *const plat_cfg_ai_providers[];
extern const char *const plat_cfg_starttls_modes[];
int plat_cfg_validate_storage_url(const char *v, char *why, size_t n);
int plat_cfg_validate_database_url(const char *v, char *why, size_t n);
int plat_cfg_validate_http_url(const char *v, char *why, size_t n);
int plat_cfg_validate_type_list(const char *v, char *why, size_t n);
int plat_cfg_validate_support(const char *v, char *why, size_t n);
int plat_cfg_validate_bm25_k1(const char *v, char *why, size_t n);
int plat_cfg_validate_unit_fraction(const char *v, char *why, size_t n);
int plat_cfg_validate_weight(const char *v, char *why, size_t n);
int plat_cfg_validate_weight_list(const char *v, char *why, size_t n);
int plat_cfg_validate_slug(const char *v, char *why, size_t n);
int plat_cfg_validate_principal(const char *v, char *why, size_t n);
int plat_cfg_validate_role_or_empty(const char *v, char *why, size_t n);
int plat_cfg_validate_slug_or_empty(const char *v, char *why, size_t n);
int plat_cfg_validate_jwks_url(const char *v, char *why, size_t n);
int plat_cfg_validate_role_map(const char *v, char *why, size_t n);
int plat_cfg_validate_smtp_url(const char *v, char *why, size_t n);
int plat_cfg_validate_email(const char *v, char *why, size_t n);
int plat_cfg_validate_email_list(const char *v, char *why, size_t n);
const char *plat_cfg_os_user_name(void);

#endif
