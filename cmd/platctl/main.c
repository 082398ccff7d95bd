/* platctl: the command table and the run loop around every command.
 *
 * Like git.c: one table of {name, fn, summary, flags}. A command is a function with one
 * signature; main parses options from the tables, loads the configuration, sets up
 * logging and output, runs the command, and turns its error kind into the exit code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "documents/documents.h"
#include "ids/ids.h"
#include "io/io.h"
#include "platctl.h"
#include "str/str.h"

static const char *const output_choices[] = {"table", "json", "yaml", "ids", "markdown", "csv", NULL};
static const char *const log_format_choices[] = {"auto", "json", "text", NULL};

#define G(field) offsetof(struct global_opts, field)

const struct plat_opt platctl_global_opts[] = {
	{0, "config", PLAT_OPT_STRING, "FILE", "read configuration from FILE", NULL, 0, 0, PLAT_COMPLETE_FILE, G(config)},
	{0, "profile", PLAT_OPT_STRING, "NAME", "use the named profile of the configuration", NULL, 0, 0, PLAT_COMPLETE_NONE, G(profile)},
	{'o', "output", PLAT_OPT_CHOICE, "FORMAT", "output format", output_choices, 0, 0, PLAT_COMPLETE_CHOICES, G(output)},
	{0, "log-format", PLAT_OPT_CHOICE, "FORMAT", "log lines as json or text (default: text on a terminal)", log_format_choices, 0, 0, PLAT_COMPLETE_CHOICES, G(log_format)},
	{'q', "quiet", PLAT_OPT_BOOL, NULL, "only log errors", NULL, 0, 0, PLAT_COMPLETE_NONE, G(quiet)},
	{'v', "verbose", PLAT_OPT_COUNT, NULL, "log more (repeat for more detail)", NULL, 0, 0, PLAT_COMPLETE_NONE, G(verbose)},
	{0, "no-color", PLAT_OPT_BOOL, NULL, "never use colour (also: NO_COLOR)", NULL, 0, 0, PLAT_COMPLETE_NONE, G(no_color)},
	{'h', "help", PLAT_OPT_BOOL, NULL, "show help and exit", NULL, 0, 0, PLAT_COMPLETE_NONE, G(help)},
	{0, "version", PLAT_OPT_BOOL, NULL, "show the version and exit", NULL, 0, 0, PLAT_COMPLETE_NONE, G(version)},
	PLAT_OPT_END,
};

static const struct plat_cmd config_commands[] = {
	{"show", cmd_config_show, "show the effective configuration and where each value comes from", 0,
	 .args_usage = "[KEY...]",
	 .description = "Secrets are redacted: passwords inside URLs and secret keys print as [REDACTED].\n"
			"With KEY arguments only those keys are shown.",
	 .min_args = 0, .max_args = -1,
	 .args_complete = PLAT_COMPLETE_CONFIG_KEYS},
	{"validate", cmd_config_validate, "check a configuration file and report every problem", PLAT_CMD_NO_CONFIG,
	 .args_usage = "[FILE]",
	 .description = "Checks FILE, or the file platctl would read, against the key table: YAML syntax,\n"
			"types, allowed values, unknown keys (warnings) and every profile. Exits 3 when\n"
			"the file is invalid (or has warnings, with --strict).",
	 .opts = config_validate_opts, .opts_size = sizeof(struct config_validate_opts), .min_args = 0, .max_args = 1,
	 .args_complete = PLAT_COMPLETE_FILE},
	{"example", cmd_config_example, "print a fully commented example configuration", PLAT_CMD_NO_CONFIG,
	 .max_args = 0},
	{0},
};

static const struct plat_cmd dev_commands[] = {
	{"up", cmd_dev_up, "start the dev stack (initialise it the first time) and migrate it", 0,
	 .description = "Idempotent: a running stack is left running. Writes a 'dev' profile (database,\n"
			"file:// storage in the same directory, postgres events, builtin AI) into the user's\n"
			"config file and makes it the default, unless that file was written by hand.",
	 .opts = dev_up_opts, .opts_size = sizeof(struct dev_opts), .max_args = 0},
	{"down", cmd_dev_down, "stop the dev stack", 0,
	 .opts = dev_down_opts, .opts_size = sizeof(struct dev_opts), .max_args = 0},
	{"status", cmd_dev_status, "show whether the dev stack runs, and where (exit 7 when stopped)", 0,
	 .opts = dev_dir_opts, .opts_size = sizeof(struct dev_opts), .max_args = 0},
	{"env", cmd_dev_env, "print shell exports that point platctl at the dev stack", 0,
	 .description = "Use as: eval \"$(platctl dev env)\". With -o json or -o yaml, prints the keys instead.",
	 .opts = dev_dir_opts, .opts_size = sizeof(struct dev_opts), .max_args = 0},
	{0},
};

#define STORAGE(opts_table) .opts = opts_table, .opts_size = sizeof(struct storage_opts), \
	.opts_defaults = &storage_defaults

static const struct plat_cmd storage_commands[] = {
	{"ls", cmd_storage_ls, "list objects, optionally under a key prefix", 0, .args_usage = "[PREFIX]",
	 STORAGE(storage_ls_opts), .max_args = 1},
	{"put", cmd_storage_put, "upload a file (or - for standard input) as KEY", 0, .args_usage = "FILE KEY",
	 .description = "Prints the key, size and sha256 computed while uploading. Above storage.s3.part_size\n"
			"an S3 upload is a multipart upload with storage.s3.parallel parts in flight.",
	 STORAGE(storage_put_opts), .min_args = 2, .max_args = 2, .args_complete = PLAT_COMPLETE_FILE},
	{"get", cmd_storage_get, "download KEY to FILE (default: standard output)", 0, .args_usage = "KEY [FILE]",
	 STORAGE(storage_get_opts), .min_args = 1, .max_args = 2},
	{"stat", cmd_storage_stat, "show an object's size, modification time and ETag", 0, .args_usage = "KEY",
	 STORAGE(NULL), .min_args = 1, .max_args = 1},
	{"rm", cmd_storage_rm, "delete objects (deleting a missing object succeeds)", 0, .args_usage = "KEY...",
	 STORAGE(NULL), .min_args = 1, .max_args = -1},
	{"presign", cmd_storage_presign, "print a URL that downloads KEY without credentials (S3)", 0,
	 .args_usage = "KEY", STORAGE(storage_presign_opts), .min_args = 1, .max_args = 1},
	{0},
};

#define DOCS(table) .opts = table, .opts_size = sizeof(struct documents_opts), .opts_defaults = &documents_defaults

static const struct plat_cmd documents_commands[] = {
	{"list", cmd_documents_list, "list documents, newest first", 0,
	 .description = "-o ids prints only the ids, one per line, for scripts.",
	 DOCS(documents_list_opts), .max_args = 0},
	{"show", cmd_documents_show, "show a document: metadata, fields, summary and history", 0,
	 .args_usage = "ID", DOCS(NULL), .min_args = 1, .max_args = 1, .args_complete = PLAT_COMPLETE_DOCUMENT_IDS},
	{"get", cmd_documents_get, "download a document's content, checking its sha256 on the way", 0,
	 .args_usage = "ID [FILE]",
	 .description = "Writes to FILE (through a temporary file renamed at the end) or standard output (-,\n"
			"the default). Content whose sha256 does not match the document's fails loudly.",
	 DOCS(NULL), .min_args = 1, .max_args = 2, .args_complete = PLAT_COMPLETE_DOCUMENT_IDS},
	{"rm", cmd_documents_rm, "delete documents (soft; --purge also removes unshared content)", 0,
	 .args_usage = "ID...", DOCS(documents_rm_opts), .min_args = 1, .max_args = -1,
	 .args_complete = PLAT_COMPLETE_DOCUMENT_IDS},
	{"retry", cmd_documents_retry, "queue a failed or processed document for processing again", 0,
	 .args_usage = "ID", DOCS(NULL), .min_args = 1, .max_args = 1, .args_complete = PLAT_COMPLETE_DOCUMENT_IDS},
	{"hold", cmd_documents_hold, "put a legal hold on a document: nobody and no rule can delete it", 0,
	 .args_usage = "ID",
	 .description = "Admin only. The reason, the principal and the time are kept on the document and in\n"
			"the audit log. A held document survives 'documents rm' (exit 6) and every retention rule.",
	 DOCS(documents_hold_opts), .min_args = 1, .max_args = 1, .args_complete = PLAT_COMPLETE_DOCUMENT_IDS},
	{"release", cmd_documents_release, "release a document's legal hold", 0, .args_usage = "ID",
	 .description = "Admin only; audited with the reason given and the hold it ends.",
	 DOCS(documents_release_opts), .min_args = 1, .max_args = 1, .args_complete = PLAT_COMPLETE_DOCUMENT_IDS},
	{0},
};

static const struct plat_cmd migrate_commands[] = {
	{"up", cmd_migrate_up, "apply pending migrations", 0,
	 .description = "Each migration runs in its own transaction under an advisory lock, so concurrent runs\n"
			"apply each migration exactly once. Refuses (exit 6) when an applied migration was changed.",
	 .opts = migrate_up_opts, .opts_size = sizeof(struct migrate_opts), .max_args = 0},
	{"down", cmd_migrate_down, "revert applied migrations (the last one by default)", 0,
	 .opts = migrate_down_opts, .opts_size = sizeof(struct migrate_opts),
	 .opts_defaults = &migrate_down_defaults, .max_args = 0},
	{"status", cmd_migrate_status, "show applied, pending, modified and unknown migrations", 0, .max_args = 0},
	{"verify", cmd_migrate_verify, "check applied migrations against the ones built into platctl", 0,
	 .description = "Exits 6 naming the first migration whose recorded checksum differs from the one built\n"
			"into this binary, or that is applied but unknown to it.",
	 .max_args = 0},
	{0},
};

#define USER(table) .opts = table, .opts_size = sizeof(struct user_opts)

static const struct plat_cmd user_commands[] = {
	{"add", cmd_user_add, "add a user or service account to a tenant, with a role", 0, .args_usage = "NAME",
	 .description = "Users get a password from a prompt (twice) or from standard input with\n"
			"--password-stdin; service accounts (--service) have API tokens instead. Roles: admin\n"
			"(everything in the tenant), editor (upload, delete, retry), viewer (list, show, get,\n"
			"search, ask), auditor (read-only, plus the audit log and findings).",
	 USER(user_add_opts), .min_args = 1, .max_args = 1},
	{"list", cmd_user_list, "list the tenant's users and service accounts", 0, USER(user_tenant_opts), .max_args = 0},
	{"disable", cmd_user_disable, "disable a principal: it can no longer act, its tokens stop working", 0,
	 .args_usage = "NAME", USER(user_tenant_opts), .min_args = 1, .max_args = 1},
	{"enable", cmd_user_enable, "enable a disabled principal again", 0, .args_usage = "NAME", USER(user_tenant_opts),
	 .min_args = 1, .max_args = 1},
	{"passwd", cmd_user_passwd, "set a user's password (your own by default)", 0, .args_usage = "[NAME]",
	 USER(user_passwd_opts), .min_args = 0, .max_args = 1},
	{0},
};

#define TOKEN(table) .opts = table, .opts_size = sizeof(struct token_opts)

static const struct plat_cmd token_commands[] = {
	{"create", cmd_token_create, "create an API token for CI and cron; it is printed once", 0,
	 .description = "The token (plat_...) goes to standard output alone, so that TOKEN=$(platctl token\n"
			"create ...) works; -o json gives it with its metadata. Only its SHA-256 is stored: a\n"
			"lost token cannot be shown again, only revoked and replaced.",
	 TOKEN(token_create_opts), .max_args = 0},
	{"list", cmd_token_list, "list the tenant's API tokens (never the tokens themselves)", 0, TOKEN(token_tenant_opts),
	 .max_args = 0},
	{"revoke", cmd_token_revoke, "revoke an API token by name or id", 0, .args_usage = "NAME|ID",
	 TOKEN(token_tenant_opts), .min_args = 1, .max_args = 1},
	{0},
};

#define WEBHOOK(table) .opts = table, .opts_size = sizeof(struct webhook_opts)

static const struct plat_cmd webhook_commands[] = {
	{"add", cmd_webhook_add, "subscribe a URL to events; its signing secret is printed once", 0,
	 .description = "platctl serve POSTs each matching event to URL, signed with HMAC-SHA256 as\n"
			"platctl-notify(7) describes, and retries failures with backoff. The secret (whsec_...)\n"
			"goes to standard output alone, so that SECRET=$(platctl webhook add ...) works.\n"
			"Events: document.queued, document.processing, document.processed, document.failed,\n"
			"document.deleted, finding.opened, finding.resolved, finding.suppressed, or '*'.",
	 WEBHOOK(webhook_add_opts), .args_usage = "URL", .min_args = 1, .max_args = 1},
	{"list", cmd_webhook_list, "list the tenant's webhooks with their pending and failed deliveries", 0,
	 WEBHOOK(webhook_tenant_opts), .max_args = 0},
	{"delete", cmd_webhook_delete, "delete a webhook and its delivery log", 0, .args_usage = "ID",
	 WEBHOOK(webhook_tenant_opts), .min_args = 1, .max_args = 1},
	{"deliveries", cmd_webhook_deliveries, "show the delivery log, newest first (of one webhook, or all)", 0,
	 .args_usage = "[WEBHOOK]", WEBHOOK(webhook_deliveries_opts), .min_args = 0, .max_args = 1},
	{"redeliver", cmd_webhook_redeliver, "send a delivery's event again, as a new delivery", 0,
	 .args_usage = "DELIVERY", WEBHOOK(webhook_tenant_opts), .min_args = 1, .max_args = 1},
	{0},
};

static const struct plat_cmd tenant_commands[] = {
	{"add", cmd_tenant_add, "add a tenant", 0, .args_usage = "NAME", .min_args = 1, .max_args = 1},
	{"list", cmd_tenant_list, "list tenants with their principal and document counts", 0, .max_args = 0},
	{"show", cmd_tenant_show, "show one tenant (the configured one by default)", 0, .args_usage = "[NAME]",
	 .min_args = 0, .max_args = 1},
	{0},
};

static const struct plat_cmd audit_commands[] = {
	{"list", cmd_audit_list, "list the tenant's audit rows, newest first", 0,
	 .description = "-o ids prints only the ids, one per line, for scripts.",
	 .opts = audit_list_opts, .opts_size = sizeof(struct audit_opts), .opts_defaults = &audit_defaults,
	 .max_args = 0},
	{"verify", cmd_audit_verify, "check the tenant's audit hash chain (exit 1 naming the first broken link)", 0,
	 .description = "Recomputes every row's hash and link and compares the chain's end with its head, so an\n"
			"edited, deleted, reordered or truncated chain exits 1 naming the first broken row.",
	 .max_args = 0},
	{0},
};

static const struct plat_cmd findings_commands[] = {
	{"list", cmd_findings_list, "list the tenant's findings, most recently seen first", 0,
	 .opts = findings_list_opts, .opts_size = sizeof(struct findings_opts), .opts_defaults = &findings_defaults,
	 .max_args = 0},
	{"show", cmd_findings_show, "show one finding", 0, .args_usage = "ID",
	 .opts_size = sizeof(struct findings_opts), .min_args = 1, .max_args = 1},
	{"ack", cmd_findings_ack, "acknowledge an open finding (it stays open and still counts for --fail-on)", 0,
	 .args_usage = "ID", .opts = findings_note_opts, .opts_size = sizeof(struct findings_opts), .min_args = 1,
	 .max_args = 1},
	{"resolve", cmd_findings_resolve, "resolve an open finding by hand (a later run that still sees it reopens it)", 0,
	 .args_usage = "ID", .opts = findings_note_opts, .opts_size = sizeof(struct findings_opts), .min_args = 1,
	 .max_args = 1},
	{0},
};

static const struct plat_cmd compliance_commands[] = {
	{"validate", cmd_compliance_validate, "check the compliance rule files and report every problem", 0,
	 .description = "Reads the rules --rules names, else compliance.rules (a directory of *.yaml files or\n"
			"one file; platctl-rules(5)), and prints each problem as file:line:column on standard\n"
			"error, then how many rules and files were read. Needs no database. Exits 3 when a\n"
			"rule is invalid (or there are warnings, with --strict).",
	 .opts = compliance_validate_opts, .opts_size = sizeof(struct compliance_validate_opts), .max_args = 0},
	{"run", cmd_compliance_run, "evaluate the rules for the tenant and upsert their findings", 0,
	 .description = "Runs as the system principal under the tenant's lock: a second run at the same time\n"
			"says \"already running\" and exits 0 (or waits, with --wait). Findings are upserted (one\n"
			"open finding per rule and document) and resolved when no longer seen; everything the run\n"
			"changes is in the audit chain. Exits 1 when findings at or above --fail-on are open\n"
			"(acknowledged ones included), 3 for invalid rule files, 7 when the database is\n"
			"unavailable.",
	 .opts = compliance_run_opts, .opts_size = sizeof(struct compliance_run_opts),
	 .opts_defaults = &compliance_run_defaults, .max_args = 0},
	{"findings", NULL, "list, show, acknowledge and resolve findings", 0, .subs = findings_commands},
	{"report", cmd_compliance_report, "report a period's runs and findings (markdown, json or csv)", 0,
	 .description = "Markdown by default (-o table is markdown too); -o json is the whole report; -o csv\n"
			"is one row per finding opened or resolved in the period (RFC 4180).",
	 .opts = compliance_report_opts, .opts_size = sizeof(struct compliance_report_opts), .max_args = 0},
	{"plan", cmd_compliance_plan, "show what retention would flag or destroy, and when, without doing it", 0,
	 .description = "Every document of every enabled retention rule, soonest first, with the date its\n"
			"period ends, its review and what the runs will do: flag, destroy (approved), wait for\n"
			"review, held (a legal hold always wins) or nothing (rejected, or no date to count from).",
	 .opts = compliance_plan_opts, .opts_size = sizeof(struct retention_opts), .max_args = 0},
	{"approve", cmd_compliance_approve, "approve the destruction of a document under review", 0,
	 .args_usage = "ID",
	 .description = "The first run after the review window destroys it (its chunks, its row's text and,\n"
			"unless another live document shares it, its content), unless it is on legal hold.\n"
			"Admin only; audited. Exits 5 without a review, 6 when it was decided already.",
	 .opts = compliance_approve_opts, .opts_size = sizeof(struct retention_opts), .min_args = 1, .max_args = 1,
	 .args_complete = PLAT_COMPLETE_DOCUMENT_IDS},
	{"reject", cmd_compliance_reject, "keep a document under review: it is not destroyed under that rule", 0,
	 .args_usage = "ID",
	 .description = "Final for that rule and document; its finding is resolved with the reason as its note.\n"
			"Admin only; audited.",
	 .opts = compliance_reject_opts, .opts_size = sizeof(struct retention_opts), .min_args = 1, .max_args = 1,
	 .args_complete = PLAT_COMPLETE_DOCUMENT_IDS},
	{"certificate", cmd_compliance_certificate, "print a destroyed document's signed destruction certificate", 0,
	 .args_usage = "ID",
	 .description = "JSON whatever -o says: the destruction record from the audit chain, signed with\n"
			"compliance.signing_key (Ed25519) over its canonical JSON. 'compliance\n"
			"verify-certificate' checks it anywhere, without a database.",
	 .opts_size = sizeof(struct retention_opts), .min_args = 1, .max_args = 1,
	 .args_complete = PLAT_COMPLETE_DOCUMENT_IDS},
	{"verify-certificate", cmd_compliance_verify_certificate, "check a destruction certificate offline", PLAT_CMD_NO_CONFIG,
	 .args_usage = "FILE|-",
	 .description = "Exits 0 when the signature matches the certificate and the key it carries (and, with\n"
			"--public-key, that this is the key), 1 naming what is wrong otherwise.",
	 .opts = compliance_verify_opts, .opts_size = sizeof(struct retention_opts), .min_args = 1, .max_args = 1,
	 .args_complete = PLAT_COMPLETE_FILE},
	{0},
};

const struct plat_cmd platctl_commands[] = {
	{"config", NULL, "inspect and check the configuration", 0,
	 .description = "platctl reads the first of: --config FILE, $PLATCTL_CONFIG,\n"
			"$XDG_CONFIG_HOME/platctl/config.yaml, /etc/platctl/config.yaml. See platctl.yaml(5).",
	 .subs = config_commands},
	{"migrate", NULL, "apply, revert and check the database schema", 0,
	 .description = "Migrations are built into platctl and recorded in the table schema_migrations.",
	 .subs = migrate_commands},
	{"dev", NULL, "run the embedded single-machine stack (PostgreSQL + pgvector, local storage)", 0,
	 .subs = dev_commands},
	{"storage", NULL, "use the configured object store directly (file:// or s3://)", 0,
	 .description = "The same store uploads use: storage.url and the storage.s3.* keys of platctl.yaml(5).",
	 .subs = storage_commands},
	{"upload", cmd_upload, "upload documents: files, directories (-r) or standard input (-)", 0,
	 .args_usage = "FILE|DIR|-...",
	 .description = "Types are sniffed from the content (upload.allowed_types), sizes checked against\n"
			"upload.max_size. Content the tenant already has is reported as 'unchanged' unless\n"
			"--new-version. A batch where some files failed exits 1 and lists them.\n\n"
			"With -r, files of a type not allowed are skipped and counted, not failures; a file\n"
			"named on the command line is still refused. --include and --exclude choose the files\n"
			"of a walk: every file starts included, each rule in command-line order is matched\n"
			"against the file's path below DIR and against its base name, and the last rule that\n"
			"matches decides ('*' matches '/' too, as in aws s3 cp).",
	 .opts = upload_opts, .opts_size = sizeof(struct upload_opts), .opts_defaults = &upload_defaults,
	 .min_args = 1, .max_args = -1, .args_complete = PLAT_COMPLETE_FILE},
	{"consume", cmd_consume, "process uploaded documents: extract, classify, summarise, embed", 0,
	 .description = "Workers take document.uploaded events from the PostgreSQL queue or Kafka, run the\n"
			"pipeline and acknowledge (or store the offset) after it committed. SIGTERM/SIGINT stop\n"
			"fetching and finish what is in flight. Exits 1 when any document failed.",
	 .opts = consume_opts, .opts_size = sizeof(struct consume_opts), .opts_defaults = &consume_defaults,
	 .max_args = 0},
	{"serve", cmd_serve, "serve the REST API (OpenAPI at /openapi.json)", 0,
	 .description = "Serves the same operations as the commands over HTTP, each request checked with a\n"
			"bearer token (API token) and the same permission table. SIGTERM/SIGINT stop accepting,\n"
			"let the requests in flight finish and exit 0.",
	 .opts = serve_opts, .opts_size = sizeof(struct serve_opts), .opts_defaults = &serve_defaults,
	 .max_args = 0},
	{"documents", NULL, "list, show, download, delete, retry and hold documents", 0, .subs = documents_commands},
	{"audit", NULL, "list the audit log and verify its hash chain", 0, .subs = audit_commands},
	{"compliance", NULL, "check documents against compliance rules", 0,
	 .description = "Rules are YAML files (compliance.rules, platctl-rules(5)).", .subs = compliance_commands},
	{"ask", cmd_ask, "answer a question from the documents, with page citations", 0,
	 .description = "Retrieves passages as search does, refuses (exit 1) when none of them supports the\n"
			"question, and otherwise answers with [n] citations that map to document and page; every\n"
			"citation is checked against the retrieved sources. The exchange is stored in asks.",
	 .opts = ask_opts, .opts_size = sizeof(struct ask_opts), .opts_defaults = &ask_defaults,
	 .args_usage = "QUESTION...", .min_args = 1, .max_args = -1},
	{"eval", cmd_eval, "measure retrieval on a labelled question set: recall@k and MRR", 0,
	 .description = "FILE (YAML, - for standard input) lists questions with the documents (and pages) that\n"
			"should be found; each is searched as platctl search does. --min-recall and --min-mrr make\n"
			"the command fail below a threshold, to guard retrieval quality in CI.",
	 .opts = eval_opts, .opts_size = sizeof(struct eval_opts), .opts_defaults = &eval_defaults,
	 .args_usage = "FILE", .min_args = 1, .max_args = 1, .args_complete = PLAT_COMPLETE_FILE},
	{"search", cmd_search, "find passages in the documents: full-text and vector search, fused", 0,
	 .description = "Hybrid retrieval over the tenant's processed documents: PostgreSQL full-text search\n"
			"(websearch syntax: \"quoted phrases\", -excluded, or) and pgvector nearest neighbours,\n"
			"fused by reciprocal rank. No LLM is involved.",
	 .opts = search_opts, .opts_size = sizeof(struct search_opts), .opts_defaults = &search_defaults,
	 .args_usage = "QUERY...", .min_args = 1, .max_args = -1},
	{"user", NULL, "add, list, disable and enable principals; set passwords", 0,
	 .description = "Principals act in one tenant with one role. Direct-mode commands act as the\n"
			"principal the config key 'principal' names (PLATCTL_PRINCIPAL for one command; by\n"
			"default the OS user name). A tenant with no principals yet lets everyone act as its\n"
			"admin, until the first is added. See platctl-user(1) for the trust model.",
	 .subs = user_commands},
	{"token", NULL, "create, list and revoke API tokens", 0, .subs = token_commands},
	{"tenant", NULL, "add, list and show tenants (the default tenant's admins administer them)", 0,
	 .subs = tenant_commands},
	{"webhook", NULL, "send the tenant's events to other systems as signed HTTP POSTs", 0,
	 .subs = webhook_commands},
	{"whoami", cmd_whoami, "show the principal, tenant and role commands act as", 0, .max_args = 0},
	{"login", cmd_login, "log in to a platctl server, for remote mode", 0,
	 .description = "Verifies the credentials with the server and keeps them in\n"
			"$XDG_CONFIG_HOME/platctl/credentials.yaml (mode 0600), one entry per server and\n"
			"profile. Commands are remote when server.url names the server; with no config file,\n"
			"--server writes one that does. In CI: echo \"$TOKEN\" | platctl login --with-token.",
	 .opts = login_opts, .opts_size = sizeof(struct login_opts), .max_args = 0},
	{"logout", cmd_logout, "forget the credentials of the configured server (revoking its refresh token)", 0,
	 .max_args = 0},
	{"help", cmd_help, "show help for platctl or one of its commands", PLAT_CMD_NO_CONFIG,
	 .args_usage = "[COMMAND [SUBCOMMAND]]", .min_args = 0, .max_args = 2,
	 .args_complete = PLAT_COMPLETE_COMMANDS},
	{"version", cmd_version, "show version, build and library information", PLAT_CMD_NO_CONFIG,
	 .opts = version_opts, .opts_size = sizeof(struct version_opts), .max_args = 0},
	{"__complete", cmd_complete, "print shell completion candidates", PLAT_CMD_HIDDEN | PLAT_CMD_NO_CONFIG | PLAT_CMD_RAW_ARGS,
	 .args_usage = "WORD...", .max_args = -1},
	{"__commands", cmd_list_commands, "list the synopsis of every command", PLAT_CMD_HIDDEN | PLAT_CMD_NO_CONFIG,
	 .max_args = 0},
	{0},
};

static const struct plat_cmd root_command = {
	"platctl", NULL, "a document platform: upload, process, search and ask, check compliance", 0,
	.description = "Exit codes: 0 ok, 1 failure, 2 usage, 3 config, 4 auth/permission, 5 not found,\n"
		       "6 conflict, 7 unavailable (retry later), 70 internal error.",
	.subs = platctl_commands,
};

/* ---- output ---- */

static int stdout_failed(struct plat_cli_ctx *ctx)
{
	return plat_error_set(&ctx->err, PLAT_E_FAILURE, "cannot write to standard output");
}

int platctl_print(struct plat_cli_ctx *ctx, const cJSON *data, const struct plat_output_column *columns)
{
	return plat_output_print(&ctx->out, data, columns) < 0 ? stdout_failed(ctx) : 0;
}

int platctl_print_object(struct plat_cli_ctx *ctx, cJSON *obj, const struct plat_output_column *columns)
{
	if (ctx->out.format != PLAT_OUT_TABLE && ctx->out.format != PLAT_OUT_IDS)
		return platctl_print(ctx, obj, NULL);
	cJSON *one = cJSON_CreateArray();
	cJSON_AddItemReferenceToArray(one, obj);
	int rc = platctl_print(ctx, one, columns);
	cJSON_Delete(one);
	return rc;
}

int platctl_write(struct plat_cli_ctx *ctx, const char *text)
{
	if (fputs(text, ctx->out.out) == EOF || fflush(ctx->out.out) != 0)
		return stdout_failed(ctx);
	return 0;
}

int platctl_parse_tag(struct plat_cli_ctx *ctx, const char *tag, char **key, const char **value)
{
	if (plat_tag_parse(tag, key, value, &ctx->err) < 0) {
		plat_error_wrap(&ctx->err, "option '--tag'");
		ctx->err.kind = PLAT_E_USAGE;
		return -PLAT_E_USAGE;
	}
	return 0;
}

int platctl_parse_fraction(struct plat_cli_ctx *ctx, const char *opt, const char *value, bool zero_allowed,
			   double *out)
{
	double v;
	if (!value)
		return 0;
	if (!plat_str_to_double(value, &v) || v < 0 || v > 1 || (v == 0 && !zero_allowed))
		return plat_error_set(&ctx->err, PLAT_E_USAGE, "option '--%s': '%s' is not a number %s", opt, value,
				      zero_allowed ? "from 0 to 1" : "in (0, 1]");
	*out = v;
	return 0;
}

int platctl_services(struct plat_cli_ctx *ctx, struct plat_services **services)
{
	if (!ctx->services && plat_services_open(ctx->cfg, ctx->environ, NULL, &ctx->services, &ctx->err) < 0)
		return -(int)ctx->err.kind;
	*services = ctx->services;
	return 0;
}

int platctl_call_in(struct plat_cli_ctx *ctx, struct plat_svc *svc, const char *tenant)
{
	struct plat_services *services = NULL;
	int rc = platctl_services(ctx, &services);
	/* Every call of a run carries the run's request id: its logs and events tie together. */
	plat_svc_init(svc, services, &(struct plat_call){.request_id = plat_log_request_id(), .tenant = tenant});
	return rc;
}

int platctl_call(struct plat_cli_ctx *ctx, struct plat_svc *svc)
{
	return platctl_call_in(ctx, svc, NULL);
}

void platctl_svc_close(struct plat_svc *svc)
{
	plat_svc_done(svc);
}

/* ---- setup ---- */

static bool env_set(char **env, const char *name)
{
	const char *v = plat_env_get(env, name);
	return v && *v;
}

static bool want_color(struct plat_cli_ctx *ctx, int fd)
{
	const char *mode = plat_config_str(ctx->cfg, PLAT_CFG_COLOR);
	if (strcmp(mode, "always") == 0)
		return true;
	if (strcmp(mode, "never") == 0)
		return false;
	const char *term = plat_env_get(ctx->environ, "TERM");
	return isatty(fd) && !(term && strcmp(term, "dumb") == 0);
}

static void setup_logging(struct plat_cli_ctx *ctx)
{
	int level = plat_log_level_parse(plat_config_str(ctx->cfg, PLAT_CFG_LOG_LEVEL));
	if (ctx->g.quiet)
		level = PLAT_LOG_ERROR;
	else if (ctx->g.verbose)
		level = level + ctx->g.verbose > PLAT_LOG_TRACE ? PLAT_LOG_TRACE : level + ctx->g.verbose;
	const char *fmt = plat_config_str(ctx->cfg, PLAT_CFG_LOG_FORMAT);
	struct plat_log_options lo = {
		.level = (enum plat_log_level)level,
		.format = !strcmp(fmt, "json") ? PLAT_LOG_FORMAT_JSON :
			  !strcmp(fmt, "text") ? PLAT_LOG_FORMAT_TEXT : PLAT_LOG_FORMAT_AUTO,
		.color = want_color(ctx, 2),
		.request_id = plat_log_request_id(),
		.fd = 2,
	};
	plat_log_setup(&lo);
}

/* Flags are the highest layer of the configuration. */
static int apply_flags(struct plat_cli_ctx *ctx)
{
	if (env_set(ctx->environ, "NO_COLOR"))
		plat_config_set(ctx->cfg, PLAT_CFG_COLOR, "never", PLAT_CFG_SRC_ENV, "env NO_COLOR", NULL);
	if (ctx->g.no_color)
		plat_config_set(ctx->cfg, PLAT_CFG_COLOR, "never", PLAT_CFG_SRC_FLAG, "flag --no-color", NULL);
	if (ctx->g.output)
		plat_config_set(ctx->cfg, PLAT_CFG_OUTPUT_FORMAT, ctx->g.output, PLAT_CFG_SRC_FLAG, "flag --output", NULL);
	if (ctx->g.log_format)
		plat_config_set(ctx->cfg, PLAT_CFG_LOG_FORMAT, ctx->g.log_format, PLAT_CFG_SRC_FLAG, "flag --log-format", NULL);
	if (ctx->g.quiet && ctx->g.verbose)
		return plat_error_set(&ctx->err, PLAT_E_USAGE, "options '--quiet' and '--verbose' cannot be used together");
	return 0;
}

static int setup(struct plat_cli_ctx *ctx, unsigned flags)
{
	int rc = 0;
	if (!(flags & PLAT_CMD_NO_CONFIG)) {
		struct plat_config_load_options lo = {
			.path = ctx->g.config, .profile = ctx->g.profile, .environ = ctx->environ,
		};
		rc = plat_config_load(ctx->cfg, &lo, &ctx->err);
	}
	int frc = apply_flags(ctx);
	setup_logging(ctx);
	plat_config_register_secrets(ctx->cfg);
	for (size_t i = 0; i < plat_config_diag_count(ctx->cfg); i++) {
		const struct plat_config_diag *d = plat_config_diag(ctx->cfg, i);
		if (d->severity == PLAT_CFG_WARNING) {
			char *m = plat_config_diag_format(d);
			PLAT_LOG_W(m);
			free(m);
		}
	}
	if (rc < 0)
		return rc;
	if (frc < 0)
		return frc;
	ctx->out.out = stdout;
	ctx->out.format = (enum plat_output_format)plat_output_format_parse(
		plat_config_str(ctx->cfg, PLAT_CFG_OUTPUT_FORMAT));
	ctx->out.color = want_color(ctx, 1);
	return 0;
}

/* ---- dispatch ---- */

static int usage_error(struct plat_cli_ctx *ctx, const char *path, int rc)
{
	plat_error_wrap(&ctx->err, "%s", path);
	struct plat_buf m = PLAT_BUF_INIT;
	plat_buf_printf(&m, "%s (see '%s --help')", ctx->err.message, path);
	snprintf(ctx->err.message, sizeof(ctx->err.message), "%s", m.data);
	plat_buf_free(&m);
	return rc;
}

static void print_help(const char *path, const struct plat_cmd *cmd, FILE *to)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_cli_help(&b, path, cmd, platctl_global_opts);
	fputs(b.data, to);
	plat_buf_free(&b);
}

static int dispatch(struct plat_cli_ctx *ctx, const struct plat_cmd *group, const char *path, int argc, char **argv);

/* A service error about a request parameter names it as this command spells it. */
static void name_option(struct plat_cli_ctx *ctx, const struct plat_cmd *cmd)
{
	if (!ctx->err.param[0] || !cmd->opts)
		return;
	for (const struct plat_opt *o = cmd->opts; o->long_name; o++) {
		if (!strcmp(o->long_name, ctx->err.param)) {
			plat_error_wrap(&ctx->err, "option '--%s'", o->long_name);
			break;
		}
	}
	ctx->err.param[0] = '\0';
}

static int run_leaf(struct plat_cli_ctx *ctx, const struct plat_cmd *cmd, const char *path, int argc, char **argv)
{
	int npos = argc;
	void *opts = plat_arena_alloc(&ctx->arena, cmd->opts_size ? cmd->opts_size : 1);
	memset(opts, 0, cmd->opts_size ? cmd->opts_size : 1);
	if (cmd->opts_defaults)
		memcpy(opts, cmd->opts_defaults, cmd->opts_size);
	if (!(cmd->flags & PLAT_CMD_RAW_ARGS)) {
		struct plat_parse_table tables[] = {{platctl_global_opts, &ctx->g}, {cmd->opts, opts}};
		npos = plat_cli_parse(argc, argv, tables, 2, false, NULL, &ctx->err);
		if (npos < 0)
			return usage_error(ctx, path, npos);
		if (ctx->g.help) {
			print_help(path, cmd, stdout);
			return 0;
		}
		if (npos < cmd->min_args || (cmd->max_args >= 0 && npos > cmd->max_args)) {
			int rc;
			if (cmd->max_args == 0)
				rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "takes no arguments");
			else if (npos < cmd->min_args)
				rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "missing arguments: %s", cmd->args_usage);
			else
				rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "too many arguments (expected %s)", cmd->args_usage);
			return usage_error(ctx, path, rc);
		}
	}
	ctx->path = path;
	ctx->cmd = cmd;
	int rc = setup(ctx, cmd->flags);
	if (rc < 0)
		return rc == -PLAT_E_USAGE ? usage_error(ctx, path, rc) : rc;
	rc = cmd->fn(ctx, opts, npos, argv);
	if (rc < 0)
		name_option(ctx, cmd);
	if (rc == -PLAT_E_USAGE)
		return usage_error(ctx, path, rc);
	return rc;
}

static int dispatch(struct plat_cli_ctx *ctx, const struct plat_cmd *group, const char *path, int argc, char **argv)
{
	/* Global options may come before the (sub)command name. */
	int consumed = 0;
	struct plat_parse_table globals = {platctl_global_opts, &ctx->g};
	int rc = plat_cli_parse(argc, argv, &globals, 1, true, &consumed, &ctx->err);
	if (rc < 0)
		return usage_error(ctx, path, rc);
	if (ctx->g.version && group == &root_command) {
		ctx->g.version = false;
		return dispatch(ctx, group, path, 1, (char *[]){"version", NULL});
	}
	if (consumed >= argc) {
		if (ctx->g.help || group == &root_command) {
			print_help(path, group, stdout);
			return 0;
		}
		rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "a command is required");
		return usage_error(ctx, path, rc);
	}

	const char *name = argv[consumed];
	const struct plat_cmd *cmd = plat_cli_find(group->subs, name);
	if (!cmd) {
		struct plat_buf shown = PLAT_BUF_INIT, sugg = PLAT_BUF_INIT;
		plat_str_escape_terminal(&shown, name, strlen(name));
		if (plat_cli_suggest(group->subs, name, &sugg))
			rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "'%s' is not a command (did you mean %s?)",
					    shown.data, sugg.data);
		else
			rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "'%s' is not a command", shown.data);
		plat_buf_free(&shown);
		plat_buf_free(&sugg);
		return usage_error(ctx, path, rc);
	}
	char *sub_path = plat_arena_printf(&ctx->arena, "%s %s", path, cmd->name);
	if (cmd->subs)
		return dispatch(ctx, cmd, sub_path, argc - consumed - 1, argv + consumed + 1);
	return run_leaf(ctx, cmd, sub_path, argc - consumed - 1, argv + consumed + 1);
}

/* A usage error can happen before the configuration is read: honour the environment's
 * logging settings for it. Invalid values are left for the real load to report. */
static void early_logging(struct plat_cli_ctx *ctx)
{
	static const enum plat_config_key keys[] = {PLAT_CFG_LOG_LEVEL, PLAT_CFG_LOG_FORMAT, PLAT_CFG_COLOR};
	struct plat_config *real = ctx->cfg;
	ctx->cfg = plat_config_new();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char name[128];
		plat_config_env_name(plat_config_key_def(keys[i])->name, name, sizeof(name));
		const char *v = plat_env_get(ctx->environ, name);
		if (v && *v)
			plat_config_set(ctx->cfg, keys[i], v, PLAT_CFG_SRC_ENV, name, NULL);
	}
	apply_flags(ctx);
	setup_logging(ctx);
	plat_config_free(ctx->cfg);
	ctx->cfg = real;
}

/* Where a person can look next, for the failures that have an obvious next step. */
static const char *hint_for(const struct plat_cli_ctx *ctx, enum plat_error_kind kind)
{
	const char *m = ctx->err.message;
	if (kind == PLAT_E_CONFIG && strstr(m, "compliance rules"))
		return ctx->cmd && ctx->cmd->fn == cmd_compliance_validate
			       ? NULL /* it just did */
			       : "'platctl compliance validate' lists every problem of the rule files";
	if (kind == PLAT_E_CONFIG)
		return "'platctl config validate' lists every problem of the configuration";
	if (kind == PLAT_E_UNAVAILABLE && (strstr(m, "PostgreSQL") || strstr(m, "database") || strstr(m, "connect to")))
		return "is PostgreSQL running? 'platctl config show database.url' shows where platctl looks "
		       "('platctl dev up' starts a local one)";
	if (kind == PLAT_E_NOT_FOUND && strstr(m, "tenant '"))
		return "'platctl migrate up' creates the schema and the default tenant; 'tenant' in the configuration names it";
	if (kind == PLAT_E_AUTH)
		return "check the credentials in the configuration ('platctl config show')";
	return NULL;
}

/* The final error line; returns the exit code of the error's kind. */
static int report_failure(const struct plat_cli_ctx *ctx, int rc)
{
	enum plat_error_kind kind = (enum plat_error_kind)-rc;
	int code = plat_error_exit_code(kind);
	char exit_str[16];
	snprintf(exit_str, sizeof(exit_str), "%d", code);
	const char *msg = ctx->err.message[0] ? ctx->err.message : "failed";
	const char *hint = plat_log_human() ? hint_for(ctx, kind) : NULL;
	plat_log(PLAT_LOG_ERROR, msg, "kind", plat_error_kind_name(kind), "exit_code", exit_str, (const char *)NULL);
	if (hint) {
		struct plat_buf line = PLAT_BUF_INIT;
		plat_buf_printf(&line, "hint: %s\n", hint);
		plat_write_all(2, line.data, line.len);
		plat_buf_free(&line);
	}
	return code;
}

void platctl_fail_now(struct plat_cli_ctx *ctx, int rc)
{
	int code = report_failure(ctx, rc);
	fflush(stdout);
	_exit(code);
}

int platctl_run(int argc, char **argv, char **environ)
{
	struct plat_cli_ctx ctx = {0};
	ctx.environ = environ;
	ctx.root = &root_command;
	ctx.global_opts = platctl_global_opts;
	plat_arena_init(&ctx.arena, 0);
	ctx.cfg = plat_config_new();

	/* The request id ties together every log line of this run (and, through events and
	 * HTTP headers, of the work it causes elsewhere). A caller may pass its own. */
	char rid[PLAT_REQUEST_ID_LEN + 1] = "";
	const char *given = plat_env_get(environ, "PLATCTL_REQUEST_ID");
	if (given && plat_id_request_valid(given))
		snprintf(rid, sizeof(rid), "%s", given);
	else
		plat_id_request(rid);
	struct plat_log_options lo = {PLAT_LOG_WARN, PLAT_LOG_FORMAT_AUTO, false, rid, 2};
	plat_log_setup(&lo);
	early_logging(&ctx);

	int rc = dispatch(&ctx, &root_command, "platctl", argc > 0 ? argc - 1 : 0, argv + (argc > 0));
	if (rc < 0 && !ctx.cmd)
		early_logging(&ctx); /* a usage error before any command: -v, -q and --log-format parsed by now */
	int code = rc < 0 ? report_failure(&ctx, rc) : 0;
	plat_services_close(ctx.services);
	plat_config_free(ctx.cfg);
	plat_arena_free(&ctx.arena);
	plat_log_clear_secrets();
	return code;
}

#ifndef PLATCTL_NO_MAIN
extern char **environ;

int main(int argc, char **argv)
{
	return platctl_run(argc, argv, environ);
}
#endif
