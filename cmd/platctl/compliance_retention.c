/* platctl compliance plan | approve | reject | certificate | verify-certificate */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compliance/compliance.h"
#include "io/io.h"
#include "platctl.h"
#include "str/str.h"

#define T(f) offsetof(struct retention_opts, f)

const struct plat_opt compliance_plan_opts[] = {
	{0, "rules", PLAT_OPT_STRING, "PATH", "read the rules from PATH (a directory of *.yaml files or one file) instead of compliance.rules", NULL, 0, 0, PLAT_COMPLETE_FILE, T(rules)},
	{0, "within", PLAT_OPT_STRING, "PERIOD", "only documents whose retention ends within PERIOD from now, or has ended ('30 days', '1 year')", NULL, 0, 0, 0, T(within)},
	PLAT_OPT_END,
};

const struct plat_opt compliance_approve_opts[] = {
	{0, "rule", PLAT_OPT_STRING, "RULE", "the rule whose review is decided (needed when the document has several pending)", NULL, 0, 0, 0, T(rule)},
	{0, "reason", PLAT_OPT_STRING, "TEXT", "why (kept with the review and in the audit log)", NULL, 0, 0, 0, T(reason)},
	PLAT_OPT_END,
};

const struct plat_opt compliance_reject_opts[] = {
	{0, "rule", PLAT_OPT_STRING, "RULE", "the rule whose review is decided (needed when the document has several pending)", NULL, 0, 0, 0, T(rule)},
	{0, "reason", PLAT_OPT_STRING, "TEXT", "why the document must be kept (required; becomes the finding's note)", NULL, 0, 0, 0, T(reason)},
	PLAT_OPT_END,
};

const struct plat_opt compliance_verify_opts[] = {
	{0, "public-key", PLAT_OPT_STRING, "PEM", "a PEM file with the public key the certificate must be signed with", NULL, 0, 0, PLAT_COMPLETE_FILE, T(public_key)},
	PLAT_OPT_END,
};

int cmd_compliance_plan(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct retention_opts *o = opts;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *plan = NULL;
	struct plat_rule_diags diags = {0};
	if (rc == 0)
		rc = plat_compliance_plan(&svc, &(struct plat_retention_plan_options){.rules_path = o->rules, .within = o->within},
					  &plan, &diags, &ctx->err);
	platctl_svc_close(&svc);
	platctl_print_rule_diags(&diags);
	plat_rule_diags_free(&diags);
	if (rc < 0)
		return rc;
	if (ctx->out.format == PLAT_OUT_TABLE || ctx->out.format == PLAT_OUT_IDS) {
		static const struct plat_output_column cols[] = {
			{"document_id", "id"}, {"name", NULL}, {"rule", NULL}, {"expires_at", "expires"},
			{"review_due_at", "review due"}, {"review_status", "review"}, {"will", NULL}, {NULL, NULL}};
		cJSON *docs = cJSON_GetObjectItemCaseSensitive(plan, "documents");
		/* -o ids: the documents' ids, as every other list prints them. */
		if (ctx->out.format == PLAT_OUT_IDS) {
			const cJSON *d;
			cJSON_ArrayForEach(d, docs)
			{
				cJSON *id = cJSON_DetachItemFromObjectCaseSensitive((cJSON *)d, "document_id");
				cJSON_AddItemToObject((cJSON *)d, "id", id);
			}
		}
		rc = platctl_print(ctx, docs, cols);
	} else {
		rc = platctl_print(ctx, plan, NULL);
	}
	cJSON_Delete(plan);
	return rc;
}

static int decide(struct plat_cli_ctx *ctx, const struct retention_opts *o, const char *id, bool approve)
{
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *review = NULL;
	if (rc == 0)
		rc = approve ? plat_compliance_approve(&svc, id, o->rule, o->reason, &review, &ctx->err)
			     : plat_compliance_reject(&svc, id, o->rule, o->reason, &review, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	if (approve && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(review, "legal_hold")))
		plat_log(PLAT_LOG_WARN, "the document is on legal hold: it will not be destroyed until the hold is released",
			 "document", id, (const char *)NULL);
	static const struct plat_output_column cols[] = {{"document_id", "document"}, {"rule", NULL}, {"status", NULL},
							 {"due_at", "due"}, {"decided_by", "by"}, {NULL, NULL}};
	rc = platctl_print(ctx, review, cols);
	cJSON_Delete(review);
	return rc;
}

int cmd_compliance_approve(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	return decide(ctx, opts, argv[0], true);
}

int cmd_compliance_reject(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	return decide(ctx, opts, argv[0], false);
}

int cmd_compliance_certificate(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argc;
	struct plat_svc svc;
	int rc = platctl_call(ctx, &svc);
	cJSON *cert = NULL;
	if (rc == 0)
		rc = plat_compliance_certificate(&svc, argv[0], &cert, &ctx->err);
	platctl_svc_close(&svc);
	if (rc < 0)
		return rc;
	/* The certificate is a JSON document whatever -o says: it is meant to be kept as it is. */
	char *text = cJSON_Print(cert);
	cJSON_Delete(cert);
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_printf(&b, "%s\n", text);
	cJSON_free(text);
	rc = platctl_write(ctx, b.data);
	plat_buf_free(&b);
	return rc;
}

#define FILE_MAX (1 << 20)

/* A small file (or standard input for "-") read whole, NUL-terminated. */
static int read_small(struct plat_cli_ctx *ctx, const char *path, struct plat_buf *out)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return plat_error_set(&ctx->err, errno == ENOENT ? PLAT_E_NOT_FOUND : PLAT_E_FAILURE, "cannot read '%s': %s",
				      path, strerror(errno));
	char buf[8192];
	int rc = 0;
	for (;;) {
		long long n = plat_read_upto(fd, buf, sizeof(buf));
		if (n < 0) {
			rc = plat_error_set(&ctx->err, PLAT_E_FAILURE, "cannot read '%s': %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > FILE_MAX) {
			rc = plat_error_set(&ctx->err, PLAT_E_USAGE, "'%s' is larger than 1 MiB: not a certificate or a key", path);
			break;
		}
		plat_buf_append(out, buf, (size_t)n);
	}
	if (fd != 0)
		close(fd);
	if (rc == 0 && !out->data)
		plat_buf_puts(out, "");
	return rc;
}

int cmd_compliance_verify_certificate(struct plat_cli_ctx *ctx, void *opts, int argc, char **argv)
{
	(void)argc;
	const struct retention_opts *o = opts;
	struct plat_buf cert = PLAT_BUF_INIT, key = PLAT_BUF_INIT;
	int rc = read_small(ctx, argv[0], &cert);
	if (rc == 0 && o->public_key) {
		rc = read_small(ctx, o->public_key, &key);
		if (rc < 0)
			plat_error_wrap(&ctx->err, "option '--public-key'");
	}
	cJSON *result = NULL;
	if (rc == 0)
		rc = plat_compliance_certificate_verify(cert.data, o->public_key ? key.data : NULL, &result, &ctx->err);
	plat_buf_free(&cert);
	plat_buf_free(&key);
	if (rc < 0)
		return rc;
	static const struct plat_output_column cols[] = {{"valid", NULL}, {"document_id", "document"}, {"name", NULL},
							 {"destroyed_at", "destroyed"}, {"key_id", "key"}, {NULL, NULL}};
	rc = platctl_print(ctx, result, cols);
	cJSON_Delete(result);
	/* A certificate carries its own public key, so anyone can make one that is intact:
	 * only the operator's known key makes it evidence. */
	if (rc == 0 && !o->public_key)
		rc = plat_error_set(&ctx->err, PLAT_E_FAILURE,
				    "the certificate is intact, but not verified: its key was not compared with the "
				    "operator's (--public-key)");
	return rc;
}
