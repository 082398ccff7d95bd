/* Configuration: one table of keys (config_keys.c) drives loading, validation,
 * `platctl config show`, and the commented example etc/platctl.yaml.
 *
 * Layers, lowest first: defaults < file (top level) < file profile < environment < flags.
 * The file is the first of: --config, $PLATCTL_CONFIG, $XDG_CONFIG_HOME/platctl/config.yaml
 * (~/.config when unset), /etc/platctl/config.yaml. A file named explicitly must exist.
 * Every key K can be set by the environment variable PLATCTL_<K upper-cased, '.' -> '_'>. */
#ifndef PLAT_CONFIG_H
#define PLAT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "error/error.h"

enum plat_config_key {
	PLAT_CFG_DATABASE_URL,
	PLAT_CFG_DATABASE_CONNECT_TIMEOUT,
	PLAT_CFG_DATABASE_OUTAGE_LIMIT,
	PLAT_CFG_DATABASE_ROW_SECURITY,
	PLAT_CFG_DATABASE_PREPARE,
	PLAT_CFG_STORAGE_URL,
	PLAT_CFG_S3_ENDPOINT,
	PLAT_CFG_S3_REGION,
	PLAT_CFG_S3_PATH_STYLE,
	PLAT_CFG_S3_TLS_VERIFY,
	PLAT_CFG_S3_ACCESS_KEY_ID,
	PLAT_CFG_S3_SECRET_ACCESS_KEY,
	PLAT_CFG_S3_SESSION_TOKEN,
	PLAT_CFG_S3_PART_SIZE,
	PLAT_CFG_S3_PARALLEL,
	PLAT_CFG_S3_MAX_RETRIES,
	PLAT_CFG_S3_TIMEOUT,
	PLAT_CFG_UPLOAD_ALLOWED_TYPES,
	PLAT_CFG_UPLOAD_MAX_SIZE,
	PLAT_CFG_EXTRACT_MEMORY_LIMIT,
	PLAT_CFG_EXTRACT_CPU_LIMIT,
	PLAT_CFG_EXTRACT_TIMEOUT,
	PLAT_CFG_EVENTS_BACKEND,
	PLAT_CFG_EVENTS_LEASE,
	PLAT_CFG_EVENTS_GRACE_PERIOD,
	PLAT_CFG_KAFKA_BROKERS,
	PLAT_CFG_KAFKA_TOPIC,
	PLAT_CFG_KAFKA_DEAD_LETTER_TOPIC,
	PLAT_CFG_KAFKA_GROUP,
	PLAT_CFG_KAFKA_SESSION_TIMEOUT,
	PLAT_CFG_KAFKA_PUBLISH_TIMEOUT,
	PLAT_CFG_KAFKA_REPUBLISH_AFTER,
	PLAT_CFG_AI_CHAT_PROVIDER,
	PLAT_CFG_AI_CHAT_MODEL,
	PLAT_CFG_AI_EMBEDDINGS_PROVIDER,
	PLAT_CFG_AI_EMBEDDINGS_MODEL,
	PLAT_CFG_AI_ANTHROPIC_BASE_URL,
	PLAT_CFG_AI_ANTHROPIC_API_KEY,
	PLAT_CFG_AI_OPENAI_BASE_URL,
	PLAT_CFG_AI_OPENAI_API_KEY,
	PLAT_CFG_AI_TIMEOUT,
	PLAT_CFG_AI_MAX_RETRIES,
	PLAT_CFG_AI_EXTERNAL_ALLOW,
	PLAT_CFG_AI_EXTERNAL_ALLOW_PII,
	PLAT_CFG_AI_TAXONOMY,
	PLAT_CFG_ASK_MIN_SUPPORT,
	PLAT_CFG_SEARCH_BM25_K1,
	PLAT_CFG_SEARCH_BM25_B,
	PLAT_CFG_SEARCH_HEADING_WEIGHT,
	PLAT_CFG_SEARCH_VECTOR_WEIGHT,
	/* lib/notify: webhooks, SMTP, heartbeat */
	PLAT_CFG_NOTIFY_WEBHOOK_URL,
	PLAT_CFG_NOTIFY_WEBHOOK_SECRET,
	PLAT_CFG_NOTIFY_WEBHOOK_ATTEMPTS,
	PLAT_CFG_NOTIFY_WEBHOOK_TIMEOUT,
	PLAT_CFG_NOTIFY_SMTP_URL,
	PLAT_CFG_NOTIFY_SMTP_USER,
	PLAT_CFG_NOTIFY_SMTP_PASSWORD,
	PLAT_CFG_NOTIFY_SMTP_STARTTLS,
	PLAT_CFG_NOTIFY_SMTP_CA_FILE,
	PLAT_CFG_NOTIFY_EMAIL_FROM,
	PLAT_CFG_NOTIFY_EMAIL_TO,
	PLAT_CFG_NOTIFY_TEMPLATES,
	PLAT_CFG_NOTIFY_HEARTBEAT_URL,
	/* lib/compliance (every compliance.* key here, together) */
	PLAT_CFG_COMPLIANCE_RULES,
	PLAT_CFG_COMPLIANCE_SIGNING_KEY,
	/* lib/auth: bearer tokens (local Ed25519 access + refresh tokens, API tokens, OIDC) */
	PLAT_CFG_AUTH_KEYS,
	PLAT_CFG_AUTH_ISSUER,
	PLAT_CFG_AUTH_AUDIENCE,
	PLAT_CFG_AUTH_ACCESS_TOKEN_TTL,
	PLAT_CFG_AUTH_REFRESH_TOKEN_TTL,
	PLAT_CFG_AUTH_LEEWAY,
	PLAT_CFG_AUTH_ARGON2_MEMORY,
	PLAT_CFG_AUTH_ARGON2_ITERATIONS,
	PLAT_CFG_AUTH_ARGON2_PARALLELISM,
	PLAT_CFG_AUTH_OIDC_ISSUER,
	PLAT_CFG_AUTH_OIDC_AUDIENCE,
	PLAT_CFG_AUTH_OIDC_JWKS_URL,
	PLAT_CFG_AUTH_OIDC_REFETCH_INTERVAL,
	PLAT_CFG_AUTH_OIDC_TENANT_CLAIM,
	PLAT_CFG_AUTH_OIDC_DEFAULT_TENANT,
	PLAT_CFG_AUTH_OIDC_ROLE_CLAIM,
	PLAT_CFG_AUTH_OIDC_ROLE_MAP,
	PLAT_CFG_AUTH_OIDC_DEFAULT_ROLE,
	PLAT_CFG_SERVER_RATE_LIMIT,
	PLAT_CFG_SERVER_RATE_BURST,
	PLAT_CFG_SERVER_CORS_ORIGINS,
	PLAT_CFG_SERVER_DOCS_DIR,
	PLAT_CFG_SERVER_CACHE_ENTRIES,
	PLAT_CFG_SERVER_CACHE_TTL,
	PLAT_CFG_SERVER_CONTENT_REDIRECT,
	PLAT_CFG_SERVER_URL,
	PLAT_CFG_WEBHOOKS_ATTEMPTS,
	PLAT_CFG_WEBHOOKS_BACKOFF,
	PLAT_CFG_TENANT,
	PLAT_CFG_PRINCIPAL,
	PLAT_CFG_LOG_LEVEL,
	PLAT_CFG_LOG_FORMAT,
	PLAT_CFG_OUTPUT_FORMAT,
	PLAT_CFG_COLOR,
	PLAT_CFG__COUNT
};

enum plat_config_type {
	PLAT_CFG_T_STRING,
	PLAT_CFG_T_INT,
	PLAT_CFG_T_BOOL,
	PLAT_CFG_T_ENUM,
	PLAT_CFG_T_DURATION, /* "500ms", "10s", "5m", "2h" or bare seconds; held in milliseconds */
	PLAT_CFG_T_SIZE,     /* "16MiB", "512KiB", "1GiB" or bare bytes; held in bytes */
};

/* Key flags */
/* search.vector_weight's default (measured: bench/bench_eval.sh); lib/search uses it too. */
#define PLAT_SEARCH_VECTOR_WEIGHTS_DEFAULT "builtin-hash-384-v1=0.1,*=1"

#define PLAT_CFG_SECRET     0x1u /* the whole value is secret: shown as [REDACTED] */
#define PLAT_CFG_SECRET_URL 0x2u /* a URL or conninfo whose password part is secret */

struct plat_config_key_def {
	const char *name;
	enum plat_config_type type;
	const char *default_value;     /* NULL: unset unless default_fn gives one */
	const char *(*default_fn)(void); /* computed default, e.g. the OS user name */
	const char *const *choices;    /* PLAT_CFG_T_ENUM: NULL-terminated */
	long long min, max;            /* INT, DURATION (ms) and SIZE (bytes); min == max: no range */
	unsigned flags;
	/* Extra check beyond the type; returns 0 or fills why (a short phrase). */
	int (*validate)(const char *value, char *why, size_t why_len);
	const char *section;           /* heading in the example config */
	const char *doc;               /* what it does; wrapped into the example config */
	const char *example;           /* an illustrative value for the example config */
};

const struct plat_config_key_def *plat_config_key_def(enum plat_config_key key);
/* Returns the key for a dotted name, or -1. */
int plat_config_key_lookup(const char *name);
/* "database.url" -> "PLATCTL_DATABASE_URL" into buf. */
void plat_config_env_name(const char *key_name, char *buf, size_t len);

enum plat_config_source {
	PLAT_CFG_SRC_DEFAULT,
	PLAT_CFG_SRC_FILE,
	PLAT_CFG_SRC_ENV,
	PLAT_CFG_SRC_FLAG,
};

enum plat_config_severity { PLAT_CFG_WARNING, PLAT_CFG_ERROR };

struct plat_config_diag {
	enum plat_config_severity severity;
	char *file;    /* NULL for environment/flags */
	int line, column; /* 1-based; 0 when unknown */
	char *key;     /* NULL when the problem is not about one key */
	char *message;
};

struct plat_config;

struct plat_config_load_options {
	const char *path;    /* --config: must exist */
	const char *profile; /* --profile */
	char **environ;      /* NULL: the process environment */
	bool no_search;      /* do not look in the default locations (tests) */
};

struct plat_config *plat_config_new(void);
void plat_config_free(struct plat_config *cfg);

/* Find, read and apply the file, then the environment. On failure returns -PLAT_E_CONFIG
 * with err naming file:line:column and the key; all problems are in the diagnostics. */
int plat_config_load(struct plat_config *cfg, const struct plat_config_load_options *opts,
		     struct plat_error *err);

/* Apply YAML text as if read from a file called name (tests and the fuzzer). */
int plat_config_load_buffer(struct plat_config *cfg, const char *name, const char *data, size_t len,
			    const char *profile, struct plat_error *err);

/* Apply one value from a flag or the environment; origin names it ("--output"). */
int plat_config_set(struct plat_config *cfg, enum plat_config_key key, const char *value,
		    enum plat_config_source source, const char *origin, struct plat_error *err);

const char *plat_config_str(const struct plat_config *cfg, enum plat_config_key key); /* "" if unset */
long long plat_config_int(const struct plat_config *cfg, enum plat_config_key key);   /* ints, durations (ms) */
bool plat_config_bool(const struct plat_config *cfg, enum plat_config_key key);
bool plat_config_is_set(const struct plat_config *cfg, enum plat_config_key key);
enum plat_config_source plat_config_source(const struct plat_config *cfg, enum plat_config_key key);
/* "default", "/etc/platctl/config.yaml:12:8", "env PLATCTL_DATABASE_URL", "flag --output" */
const char *plat_config_origin(const struct plat_config *cfg, enum plat_config_key key);
/* The value with secrets replaced; the caller frees it. */
char *plat_config_display_value(const struct plat_config *cfg, enum plat_config_key key);

const char *plat_config_file(const struct plat_config *cfg);    /* NULL when none was found */
const char *plat_config_profile(const struct plat_config *cfg); /* NULL when none is active */

size_t plat_config_diag_count(const struct plat_config *cfg);
const struct plat_config_diag *plat_config_diag(const struct plat_config *cfg, size_t i);
/* "file:line:column: key 'k': message" */
char *plat_config_diag_format(const struct plat_config_diag *d);

/* NAME's value in an environment array (NULL: absent), like getenv for any envp. */
const char *plat_env_get(char **env, const char *name);

/* The user's config file path ($XDG_CONFIG_HOME/platctl/config.yaml, else
 * ~/.config/platctl/config.yaml), whether or not it exists; NULL without HOME. */
char *plat_config_user_path(char **environ);

/* Register every secret value with the log redactor. */
void plat_config_register_secrets(const struct plat_config *cfg);

/* Write the fully commented example config generated from the key table. */
char *plat_config_example(void);

#endif
