/* What every command file sees: the run context and the command entry points. */
#ifndef PLATCTL_H
#define PLATCTL_H

#include <stdbool.h>

#include "cli/cli.h"
#include "config/config.h"
#include "error/error.h"
#include "log/log.h"
#include "mem/mem.h"
#include "output/output.h"
#include "svc/svc.h"

struct global_opts {
	const char *config;
	const char *profile;
	const char *output;
	const char *log_format;
	int verbose;
	bool quiet;
	bool no_color;
	bool help;
	bool version;
};

/* One per run: everything a command needs, built by main.c before the command runs. */
struct plat_cli_ctx {
	struct global_opts g;
	struct plat_config *cfg;   /* loaded unless the command has PLAT_CMD_NO_CONFIG */
	struct plat_output out;    /* stdout in the chosen format */
	struct plat_error err;     /* filled when a command returns < 0 */
	struct plat_arena arena;   /* scratch memory freed when the run ends */
	const char *path;          /* "platctl config show" */
	const struct plat_cmd *cmd;
	const struct plat_cmd *root;
	const struct plat_opt *global_opts;
	char **environ;
	struct plat_services *services; /* opened by the first service call, closed at exit */
};

/* The command tree and the global options (main.c). */
extern const struct plat_cmd platctl_commands[];
extern const struct plat_opt platctl_global_opts[];

/* Run platctl with argv; returns the process exit code. main() is a thin wrapper, so the
 * argv fuzzer can call this in-process. */
int platctl_run(int argc, char **argv, char **environ);
/* Report ctx->err with rc's exit code and end the process now, without cleanup: for a
 * command that must not wait for threads still at work. */
void platctl_fail_now(struct plat_cli_ctx *ctx, int rc) __attribute__((noreturn));

/* Commands: one signature each (plat_cmd_fn). */
int cmd_version(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_help(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_complete(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_list_commands(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_config_show(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_config_validate(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_config_example(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_dev_up(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_dev_down(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_dev_status(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_dev_env(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_storage_ls(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_storage_put(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_storage_get(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_storage_stat(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_storage_rm(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_storage_presign(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_upload(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_documents_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_documents_show(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_documents_get(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_documents_rm(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_documents_retry(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_documents_hold(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_documents_release(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_consume(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_serve(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_search(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_ask(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_eval(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_migrate_up(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_migrate_down(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_migrate_status(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_migrate_verify(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_user_add(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_user_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_user_disable(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_user_enable(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_user_passwd(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_whoami(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_login(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_logout(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);

/* A password from the terminal (not echoed), or a secret (one line) from standard input;
 * the length, or -1 with ctx->err set. The caller wipes buf. */
long long platctl_prompt_password(struct plat_cli_ctx *ctx, const char *prompt, char *buf, size_t cap);
long long platctl_read_secret_stdin(struct plat_cli_ctx *ctx, const char *what, char *buf, size_t cap);
int cmd_token_create(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_token_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_token_revoke(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_webhook_add(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_webhook_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_webhook_delete(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_webhook_deliveries(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_webhook_redeliver(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_tenant_add(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_tenant_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_tenant_show(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_audit_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_audit_verify(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_compliance_validate(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_compliance_run(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_compliance_report(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_compliance_plan(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_compliance_approve(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_compliance_reject(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_compliance_certificate(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_compliance_verify_certificate(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_findings_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_findings_show(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_findings_ack(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);
int cmd_findings_resolve(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv);

/* Option structs and tables the command table refers to. */
struct version_opts {
	bool short_form;
};
extern const struct plat_opt version_opts[];

struct config_validate_opts {
	bool strict;
};
extern const struct plat_opt config_validate_opts[];

struct dev_opts {
	const char *dir;
	const char *pg_bindir;
	bool no_profile;
	bool purge;
};
extern const struct plat_opt dev_up_opts[];
extern const struct plat_opt dev_down_opts[];
extern const struct plat_opt dev_dir_opts[];

struct storage_opts {
	long long limit;
	const char *cursor;
	bool all;
	const char *content_type;
	long long offset;
	long long length;
	long long expires;
};
extern const struct plat_opt storage_ls_opts[];
extern const struct plat_opt storage_put_opts[];
extern const struct plat_opt storage_get_opts[];
extern const struct plat_opt storage_presign_opts[];
extern const struct storage_opts storage_defaults;

struct upload_opts {
	bool recursive;
	const char *name;
	const char *title;
	const char *class_hint;
	struct plat_strlist tags;
	struct plat_rulelist filters; /* --include and --exclude, in order */
	bool new_version;
	long long jobs;
	bool wait;
	long long timeout;
};
extern const struct plat_opt upload_opts[];
extern const struct upload_opts upload_defaults;

struct documents_opts {
	const char *status;
	const char *class_name;
	const char *tag;
	const char *since;
	const char *name;
	long long limit;
	const char *cursor;
	bool purge;
	const char *reason;
};
extern const struct plat_opt documents_list_opts[];
extern const struct plat_opt documents_rm_opts[];
extern const struct plat_opt documents_hold_opts[];
extern const struct plat_opt documents_release_opts[];
extern const struct documents_opts documents_defaults;

struct consume_opts {
	long long concurrency;
	bool once;
	long long max_messages;
	long long idle_exit;
	long long max_attempts;
	const char *metrics_file;
};
extern const struct plat_opt consume_opts[];

struct search_opts {
	long long k;
	const char *class_name;
	const char *tag;
	const char *since;
	const char *doc;
	bool explain;
};
extern const struct plat_opt search_opts[];
extern const struct search_opts search_defaults;

struct ask_opts {
	long long k;
	const char *class_name;
	const char *tag;
	const char *since;
	const char *doc;
	bool stream;
	const char *min_support;
	long long context_tokens;
};
extern const struct plat_opt ask_opts[];
extern const struct ask_opts ask_defaults;

struct eval_opts {
	long long k;
	const char *min_recall;
	const char *min_mrr;
	const char *min_support;
};
extern const struct plat_opt eval_opts[];
extern const struct eval_opts eval_defaults;
extern const struct consume_opts consume_defaults;

struct serve_opts {
	const char *listen;
	long long threads;
	long long max_body;
	long long max_connections;
	long long timeout;
	const char *tls_cert;
	const char *tls_key;
};
extern const struct plat_opt serve_opts[];
extern const struct serve_opts serve_defaults;

struct migrate_opts {
	long long to;
	long long steps;
	bool no_wait;
};
extern const struct plat_opt migrate_up_opts[];
extern const struct plat_opt migrate_down_opts[];
extern const struct migrate_opts migrate_down_defaults;

struct audit_opts {
	const char *since;
	const char *until;
	const char *actor;
	const char *action;
	const char *object;
	long long limit;
	const char *cursor;
};
extern const struct plat_opt audit_list_opts[];
extern const struct audit_opts audit_defaults;

struct compliance_validate_opts {
	const char *rules;
	bool strict;
};
extern const struct plat_opt compliance_validate_opts[];

struct compliance_run_opts {
	const char *rules;
	const char *only;
	const char *kind;
	bool dry_run;
	const char *fail_on;
	bool wait;
	bool no_notify;
};
extern const struct plat_opt compliance_run_opts[];
extern const struct compliance_run_opts compliance_run_defaults;

struct findings_opts {
	const char *status;
	const char *rule;
	const char *severity;
	const char *document;
	const char *since;
	long long limit;
	const char *cursor;
	const char *note;
};
extern const struct plat_opt findings_list_opts[];
extern const struct plat_opt findings_note_opts[];
extern const struct findings_opts findings_defaults;

struct compliance_report_opts {
	const char *since;
	const char *until;
};
extern const struct plat_opt compliance_report_opts[];

/* compliance plan, approve, reject, certificate, verify-certificate */
struct retention_opts {
	const char *rules;
	const char *within;
	const char *rule;
	const char *reason;
	const char *public_key;
};
extern const struct plat_opt compliance_plan_opts[];
extern const struct plat_opt compliance_approve_opts[];
extern const struct plat_opt compliance_reject_opts[];
extern const struct plat_opt compliance_verify_opts[];

/* Print a command's result in the format chosen with -o; fails with PLAT_E_FAILURE when
 * stdout cannot be written. */
int platctl_print(struct plat_cli_ctx *ctx, const cJSON *data, const struct plat_output_column *columns);
/* One object: a one-row table under columns (or its ids), else the object itself. */
int platctl_print_object(struct plat_cli_ctx *ctx, cJSON *obj, const struct plat_output_column *columns);

/* Write text to stdout (text output modes); fails like platctl_print. */
int platctl_write(struct plat_cli_ctx *ctx, const char *text);
/* Rule-file problems on stderr, one "file:line:column: message" per line; -1 when stderr
 * cannot be written. */
struct plat_rule_diags;
int platctl_print_rule_diags(const struct plat_rule_diags *diags);

/* --tag KEY=VALUE: *key allocated (free it), *value points into tag; both NULL without. */
int platctl_parse_tag(struct plat_cli_ctx *ctx, const char *tag, char **key, const char **value);

/* --OPT VALUE, a number from 0 to 1 (above 0 unless zero_allowed) into *out; without
 * VALUE, *out is left as it is. */
int platctl_parse_fraction(struct plat_cli_ctx *ctx, const char *opt, const char *value, bool zero_allowed,
			   double *out);

/* The run's shared services (opened on first use). */
int platctl_services(struct plat_cli_ctx *ctx, struct plat_services **services);
/* A service call's context for this run (the configured tenant and principal, the run's
 * request id); platctl_svc_close gives its connection back. One per thread. */
int platctl_call(struct plat_cli_ctx *ctx, struct plat_svc *svc);
/* The same in another tenant (NULL: the configured one). */
int platctl_call_in(struct plat_cli_ctx *ctx, struct plat_svc *svc, const char *tenant);
void platctl_svc_close(struct plat_svc *svc);

struct user_opts {
	const char *role;
	const char *tenant;
	const char *email;
	bool service;
	bool password_stdin;
	bool no_password;
};
struct login_opts {
	const char *server;
	bool with_token;
	bool password;
	bool password_stdin;
	const char *user;
};
extern const struct plat_opt login_opts[];

extern const struct plat_opt user_add_opts[];
extern const struct plat_opt user_tenant_opts[];
extern const struct plat_opt user_passwd_opts[];

struct token_opts {
	const char *name;
	const char *role;
	const char *tenant;
	const char *expires;
	const char *principal;
};
extern const struct plat_opt token_create_opts[];
extern const struct plat_opt token_tenant_opts[];

struct webhook_opts {
	const char *events;
	const char *description;
	const char *tenant;
	const char *status;
	long long limit;
};
extern const struct plat_opt webhook_add_opts[];
extern const struct plat_opt webhook_tenant_opts[];
extern const struct plat_opt webhook_deliveries_opts[];

#endif
