/* platctl compliance run | findings list|show|ack|resolve | report */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/compliance.h"
#include "io/io.h"
#include "platctl.h"
#include "str/str.h"

#define R(f) offsetof(struct compliance_run_opts, f)
#define F(f) offsetof(struct findings_opts, f)
#define P(f) offsetof(struct compliance_report_opts, f)

static const char *const severities[] = {"info", "low", "medium", "high", "critical", NULL};
/* --fail-on also takes "none": exit 0 whatever is open (the digest reports it). */
static const char *const thresholds[] = {"info", "low", "medium", "high", "critical", "none", NULL};

const struct plat_opt compliance_run_opts[] = {
	{0, "rules", PLAT_OPT_STRING, "PATH", "read the rules from PATH (a directory of *.yaml files or one file) instead of compliance.rules", NULL, 0, 0, PLAT_COMPLETE_FILE, R(rules)},
	{0, "only", PLAT_OPT_STRING, "RULE", "run only this rule (even when it is disabled)", NULL, 0, 0, 0, R(only)},
	{0, "kind", PLAT_OPT_STRING, "KIND[,KIND]", "run only rules of these kinds (expiry, required_fields, retention, pii, integrity, orphans, audit_chain)", NULL, 0, 0, 0, R(kind)},
	{0, "dry-run", PLAT_OPT_BOOL, NULL, "evaluate and report, change nothing (no findings, reminders, requeues or destruction)", NULL, 0, 0, 0, R(dry_run)},
	{0, "fail-on", PLAT_OPT_CHOICE, "SEVERITY", "exit 1 when findings of SEVERITY or above are open (default high; none: never)", thresholds, 0, 0, PLAT_COMPLETE_CHOICES, R(fail_on)},
	{0, "wait", PLAT_OPT_BOOL, NULL, "when another run of the tenant is going on, wait for it instead of skipping", NULL, 0, 0, 0, R(wait)},
	{0, "no-notify", PLAT_OPT_BOOL, NULL, "send no digest, reminders or heartbeat for this run", NULL, 0, 0, 0, R(no_notify)},
	PLAT_OPT_END,
};

const struct compliance_run_opts compliance_run_defaults = {.fail_on = "high"};

static const char *const statuses[] = {"open", "resolved", "suppressed", NULL};

const struct plat_opt findings_list_opts[] = {
	{0, "status", PLAT_OPT_CHOICE, "STATUS", "only findings in this status (open, resolved, suppressed)", statuses, 0, 0, PLAT_COMPLETE_CHOICES, F(status)},
	{0, "rule", PLAT_OPT_STRING, "RULE", "only findings of this rule", NULL, 0, 0, 0, F(rule)},
	{0, "severity", PLAT_OPT_CHOICE, "SEVERITY", "only findings of SEVERITY or above", severities, 0, 0, PLAT_COMPLETE_CHOICES, F(severity)},
	{0, "document", PLAT_OPT_STRING, "ID", "only findings about this document", NULL, 0, 0, PLAT_COMPLETE_DOCUMENT_IDS, F(document)},
	{0, "since", PLAT_OPT_STRING, "TIME", "only findings seen at or after TIME (RFC 3339, a date, or an age: 90m, 24h, 7d, 2w)", NULL, 0, 0, 0, F(since)},
	{0, "limit", PLAT_OPT_INT, "N", "at most N per page (default 50, at most 1000)", NULL, 1, 1000, 0, F(limit)},
	{0, "cursor", PLAT_OPT_STRING, "CURSOR", "the next page after a previous one (its next_cursor)", NULL, 0, 0, 0, F(cursor)},
	PLAT_OPT_END,
};

const struct plat_opt findings_note_opts[] = {
	{0, "note", PLAT_OPT_STRING, "TEXT", "a note kept with the finding and in the audit row", NULL, 0, 0, 0, F(note)},
	PLAT_OPT_END,
};

const struct findings_opts findings_defaults = {.limit = 50};

const struct plat_opt compliance_report_opts[] = {
	{0, "since", PLAT_OPT_STRING, "TIME", "start of the period (RFC 3339, a date, or an age: 24h, 7d, 2w); required", NULL, 0, 0, 0, P(since)},
	{0, "until", PLAT_OPT_STRING, "TIME", "end of the period, exclusive (as --since; default now)", NULL, 0, 0, 0, P(until)},
	PLAT_OPT_END,
};

static long long num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int parse_kinds(struct plat_cli_ctx *ctx, const char *list, unsigned *kinds)
{
	*kinds = 0;
	if (!list)
		return 0;
	char *copy = plat_arena_strdup(&ctx->arena, list), *save = NULL;
	for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		int kind = plat_rule_kind_parse(k);
		if (kind < 0) {
			struct plat_buf b = PLAT_BUF_INIT;
			plat_str_escape_terminal(&b, k, strlen(k) > 64 ? 64 : strlen(k));
			plat_error_set(&ctx->err, PLAT_E_USAGE,
				       "option '--kind': unknown rule kind '%s' (expiry, required_fields, retention, pii, "
				       "integrity, orphans, audit_chain)",
				       b.data ? b.data : "");
			plat_buf_free(&b);
			return -PLAT_E_USAGE;
		}
		*kinds |= 1u << kind;
	}
	if (!*kinds)
		return plat_error_set(&ctx->err, PLAT_E_USAGE, "option '--kind': no rule kind given");
	return 0;
}

static int print_run(struct plat_cli_ctx *ctx, cJSON *s)
{
	if (ctx->out.format != PLAT_OUT_TABLE && ctx->out.format != PLAT_OUT_MARKDOWN)
		return platctl_print(ctx, s, NULL);
	cJSON *rules = cJSON_GetObjectItemCaseSensitive(s, "rules");
	cJSON *e;
	cJSON_ArrayForEach(e, rules)
	{
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "error")))
			cJSON_ReplaceItemInObjectCaseSensitive(e, "error", cJSON_CreateString("-"));
	}
	static const struct plat_output_column cols[] = {
		{"name", "rule"},   {"kind", NULL},	  {"checked", NULL},	 {"opened", NULL}, {"resolved", NULL},
		{"open", NULL},	    {"duration_ms", "ms"}, {"error", NULL},	 {NULL, NULL}};
	int rc = cJSON_GetArraySize(rules) ? platctl_print(ctx, rules, cols) : 0;
	if (rc < 0)
		return rc;
	const cJSON *obs = cJSON_GetObjectItemCaseSensitive(s, "open_by_severity");
	char line[512];
	snprintf(line, sizeof(line),
		 "%s%d rules, %lld checked, %lld opened, %lld resolved, %lld open (critical %lld, high %lld, medium %lld, "
		 "low %lld, info %lld), %lld ms\n",
		 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "dry_run")) ? "dry run: " : "", cJSON_GetArraySize(rules),
		 num(s, "documents_checked"), num(s, "opened"), num(s, "resolved"), num(s, "open"), num(obs, "critical"),
		 num(obs, "high"), num(obs, "medium"), num(obs, "low"), num(obs, "info"), num(s, "duration_ms"));
	return platctl_write(ctx, line);
}

int cmd_compliance_run(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct compliance_run_opts *o = opts;
	struct plat_compliance_options co = {.rules_path = o->rules, .only = o->only, .dry_run = o->dry_run,
					     .wait = o->wait, .notify = !o->no_notify,
					     .fail_on = strcmp(o->fail_on, "none") == 0 ? PLAT_SEV__COUNT
										       : plat_severity_parse(o->fail_on)};
	int rc = parse_kinds(ctx, o->kind, &co.kinds);
	if (rc < 0)
		return rc;
	struct plat_svc svc;
	cJSON *s = NULL;
	struct plat_rule_diags diags = {0};
	if ((rc = platctl_call(ctx, &svc)) == 0)
		rc = plat_compliance_run(&svc, &co, &s, &diags, &ctx->err);
	platctl_svc_close(&svc);
	platctl_print_rule_diags(&diags);
	plat_rule_diags_free(&diags);
	if (rc < 0 && ctx->err.kind == PLAT_E_NOT_FOUND && !s && !o->rules && !o->only)
		plat_error_wrap(&ctx->err, "compliance.rules");
	if (!s)
		return rc;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "skipped"))) {
		plat_log(PLAT_LOG_WARN, "another compliance run of this tenant is going on: already running, skipped",
			 (const char *)NULL);
		const char *msg = "compliance run skipped: already running\n";
		plat_write_all(2, msg, strlen(msg));
		int prc = ctx->out.format == PLAT_OUT_TABLE ? 0 : platctl_print(ctx, s, NULL);
		cJSON_Delete(s);
		return prc;
	}
	int prc = print_run(ctx, s);
	if (rc == 0 && prc < 0)
		rc = prc;
	if (rc == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "failed")))
		rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "open findings at or above %s (%lld open in all)", o->fail_on,
				    num(s, "open"));
	cJSON_Delete(s);
	return rc;
}

/* ---- findings ---- */

static const struct plat_output_column finding_cols[] = {
	{"id", NULL},	     {"severity", NULL}, {"status", NULL},	 {"rule", NULL},
	{"document_name", "document"}, {"message", NULL},  {"last_seen_at", "last seen"}, {NULL, NULL}};

int cmd_findings_list(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct findings_opts *o = opts;
	struct plat_findings_filter f = {.status = o->status, .rule = o->rule,
					 .min_severity = o->severity ? plat_severity_parse(o->severity) : -1,
					 .document_id = o->document, .since = o->since, .limit = (int)o->limit,
					 .cursor = o->cursor};
	struct plat_svc svc;
	cJSON *page = NULL;
	int rc = platctl_call(ctx, &svc);
	if (rc == 0)
		rc = plat_compliance_findings_list(&svc, &f, &page, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	cJSON *list = cJSON_GetObjectItemCaseSensitive(page, "findings");
	const char *next = str(page, "next_cursor");
	if (ctx->out.format == PLAT_OUT_JSON || ctx->out.format == PLAT_OUT_YAML) {
		rc = platctl_print(ctx, page, NULL);
	} else {
		rc = platctl_print(ctx, list, finding_cols);
		if (rc == 0 && next)
			plat_log(PLAT_LOG_WARN, "more findings follow", "next_cursor", next, (const char *)NULL);
	}
	cJSON_Delete(page);
	return rc;
}

static int finding_result(struct plat_cli_ctx *ctx, int rc, cJSON *f)
{
	if (rc < 0)
		return rc;
	rc = platctl_print(ctx, f, NULL);
	cJSON_Delete(f);
	return rc;
}

int cmd_findings_show(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	struct plat_svc svc;
	cJSON *f = NULL;
	int rc = platctl_call(ctx, &svc);
	if (rc == 0)
		rc = plat_compliance_findings_show(&svc, argv[0], &f, &ctx->err);
	platctl_svc_close(&svc);
	return finding_result(ctx, rc, f);
}

/* ack and resolve: the same call shape, one service each. */
static int change_finding(struct plat_cli_ctx *ctx, const struct findings_opts *o, const char *id,
			  int (*change)(struct plat_svc *, const char *, const char *, cJSON **, struct plat_error *))
{
	struct plat_svc svc;
	cJSON *f = NULL;
	int rc = platctl_call(ctx, &svc);
	if (rc == 0)
		rc = change(&svc, id, o->note, &f, &ctx->err);
	platctl_svc_close(&svc);
	return finding_result(ctx, rc, f);
}

int cmd_findings_ack(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	return change_finding(ctx, opts, argv[0], plat_compliance_findings_ack);
}

int cmd_findings_resolve(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	return change_finding(ctx, opts, argv[0], plat_compliance_findings_resolve);
}

/* ---- report ---- */

/* csv: one row per finding opened or resolved in the period, a table for spreadsheets. */
static cJSON *report_rows(const cJSON *r)
{
	cJSON *rows = cJSON_CreateArray();
	static const char *const lists[] = {"opened_findings", "resolved_findings"};
	for (int l = 0; l < 2; l++) {
		const cJSON *f;
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(r, lists[l]))
		{
			cJSON *row = cJSON_CreateObject();
			cJSON_AddStringToObject(row, "event", l == 0 ? "opened" : "resolved");
			static const char *const keys[] = {"id", "rule", "severity", "document_id", "message"};
			for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
				const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, keys[k]);
				cJSON_AddItemToObject(row, keys[k], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
			}
			const char *at = str(f, l == 0 ? "first_seen_at" : "resolved_at");
			cJSON_AddItemToObject(row, "at", at ? cJSON_CreateString(at) : cJSON_CreateNull());
			const cJSON *by = cJSON_GetObjectItemCaseSensitive(f, "resolved_by");
			cJSON_AddItemToObject(row, "by", by ? cJSON_Duplicate(by, 1) : cJSON_CreateNull());
			cJSON_AddItemToArray(rows, row);
		}
	}
	return rows;
}

static void md_table(struct plat_buf *b, const cJSON *data, const struct plat_output_column *cols)
{
	if (cJSON_GetArraySize(data) == 0) {
		plat_buf_puts(b, "None.\n\n");
		return;
	}
	char *t = plat_output_render(PLAT_OUT_MARKDOWN, data, cols);
	plat_buf_printf(b, "%s\n", t ? t : "");
	free(t);
}

static char *report_markdown(const cJSON *r)
{
	struct plat_buf b = PLAT_BUF_INIT;
	struct plat_buf name = PLAT_BUF_INIT;
	const char *tenant = str(r, "tenant");
	plat_str_escape_terminal(&name, tenant ? tenant : "", tenant ? strlen(tenant) : 0);
	const cJSON *runs = cJSON_GetObjectItemCaseSensitive(r, "runs");
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(runs, "last");
	plat_buf_printf(&b, "# Compliance report: %s\n\nPeriod: %s to %s\n\n## Runs\n\n%lld runs, %lld failed", name.data,
			str(r, "since"), str(r, "until"), num(runs, "count"), num(runs, "failed"));
	if (cJSON_IsObject(last))
		plat_buf_printf(&b, "; the last %s at %s (%s)", str(last, "status"), str(last, "started_at"), str(last, "id"));
	plat_buf_printf(&b, ".\n\n## Findings\n\n%lld opened and %lld resolved in the period; %lld open now.\n\n",
			num(r, "opened"), num(r, "resolved"), num(r, "open"));
	cJSON *sev = cJSON_CreateArray();
	const cJSON *obs = cJSON_GetObjectItemCaseSensitive(r, "open_by_severity");
	for (int s = PLAT_SEV__COUNT - 1; s >= 0; s--) {
		cJSON *row = cJSON_CreateObject();
		const char *n = plat_severity_name((enum plat_severity)s);
		cJSON_AddStringToObject(row, "severity", n);
		cJSON_AddNumberToObject(row, "open", (double)num(obs, n));
		cJSON_AddItemToArray(sev, row);
	}
	md_table(&b, sev, NULL);
	cJSON_Delete(sev);
	plat_buf_puts(&b, "## Open by rule\n\n");
	static const struct plat_output_column rule_cols[] = {{"rule", NULL}, {"kind", NULL}, {"open", NULL}, {NULL, NULL}};
	md_table(&b, cJSON_GetObjectItemCaseSensitive(r, "open_by_rule"), rule_cols);
	plat_buf_puts(&b, "## Opened in the period\n\n");
	static const struct plat_output_column opened_cols[] = {
		{"first_seen_at", "opened"}, {"severity", NULL}, {"rule", NULL}, {"message", NULL}, {"id", NULL}, {NULL, NULL}};
	md_table(&b, cJSON_GetObjectItemCaseSensitive(r, "opened_findings"), opened_cols);
	plat_buf_puts(&b, "## Resolved in the period\n\n");
	static const struct plat_output_column resolved_cols[] = {{"resolved_at", "resolved"}, {"resolved_by", "by"},
								  {"severity", NULL},	       {"rule", NULL},
								  {"message", NULL},	       {"id", NULL},
								  {NULL, NULL}};
	md_table(&b, cJSON_GetObjectItemCaseSensitive(r, "resolved_findings"), resolved_cols);
	plat_buf_free(&name);
	plat_buf_reserve(&b, 0);
	return plat_buf_detach(&b);
}

int cmd_compliance_report(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct compliance_report_opts *o = opts;
	if (!o->since)
		return plat_error_set(&ctx->err, PLAT_E_USAGE, "option '--since' is required: the start of the period");
	if (ctx->out.format == PLAT_OUT_IDS)
		return plat_error_set(&ctx->err, PLAT_E_USAGE, "a report has no ids: use -o markdown, json or csv");
	struct plat_svc svc;
	cJSON *r = NULL;
	int rc = platctl_call(ctx, &svc);
	if (rc == 0)
		rc = plat_compliance_period_report(&svc, o->since, o->until, &r, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	if (ctx->out.format == PLAT_OUT_CSV) {
		cJSON *rows = report_rows(r);
		static const struct plat_output_column cols[] = {{"event", NULL},    {"at", NULL},	    {"id", NULL},
								 {"rule", NULL},     {"severity", NULL},    {"document_id", NULL},
								 {"by", NULL},	     {"message", NULL},	    {NULL, NULL}};
		rc = platctl_print(ctx, rows, cols);
		cJSON_Delete(rows);
	} else if (ctx->out.format == PLAT_OUT_TABLE || ctx->out.format == PLAT_OUT_MARKDOWN) {
		char *md = report_markdown(r);
		rc = platctl_write(ctx, md);
		free(md);
	} else {
		rc = platctl_print(ctx, r, NULL);
	}
	cJSON_Delete(r);
	return rc;
}
