/* Compliance: rule sets, rule runs and their findings.
 *
 * Rules live in YAML files, one rule set per file (compliance.d/NAME.yaml, platctl-rules(5)).
 * Loading validates every rule and reports each problem as "file:line:column: message".
 * A run evaluates each rule of a tenant as the system principal: every rule kind looks at
 * the tenant's documents (or objects, or audit chain) and reports a finding per problem.
 * Findings are upserted idempotently: one open finding per rule and fingerprint (by
 * default the document), resolved automatically when a later run no longer reports it.
 *
 * Layering: rules.c parses and validates (no database), run.c is the run loop and the
 * findings store, one file per rule kind evaluates (kind_<name>.c), findings.c and
 * report.c read findings back, retention.c owns reviews, destruction and certificates. */
#ifndef PLAT_COMPLIANCE_H
#define PLAT_COMPLIANCE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "error/error.h"
#include "svc/svc.h"

/* ---- rules ---- */

enum plat_rule_kind {
	PLAT_RULE_EXPIRY,
	PLAT_RULE_REQUIRED_FIELDS,
	PLAT_RULE_RETENTION,
	PLAT_RULE_PII,
	PLAT_RULE_INTEGRITY,
	PLAT_RULE_ORPHANS,
	PLAT_RULE_AUDIT_CHAIN,
	PLAT_RULE__COUNT
};

/* Ordered: a threshold (--fail-on high) means that severity and everything above it. */
enum plat_severity {
	PLAT_SEV_INFO,
	PLAT_SEV_LOW,
	PLAT_SEV_MEDIUM,
	PLAT_SEV_HIGH,
	PLAT_SEV_CRITICAL,
	PLAT_SEV__COUNT
};

/* "expiry", "required_fields", ... and back; -1 for an unknown name. */
const char *plat_rule_kind_name(enum plat_rule_kind kind);
int plat_rule_kind_parse(const char *name);
/* "info" .. "critical" (the findings table's values) and back; -1 for an unknown name. */
const char *plat_severity_name(enum plat_severity sev);
int plat_severity_parse(const char *name);

/* PII categories of a pii rule (bits). */
enum plat_pii_kind {
	PLAT_PII_EMAIL = 1 << 0,
	PLAT_PII_PHONE = 1 << 1,
	PLAT_PII_IBAN = 1 << 2,        /* mod-97 checked */
	PLAT_PII_CARD = 1 << 3,        /* Luhn checked */
	PLAT_PII_NATIONAL_ID = 1 << 4, /* patterns of national identifiers (US SSN, UK NINO, ...) */
	PLAT_PII_ALL = (1 << 5) - 1,
};

enum plat_retention_action {
	PLAT_RETENTION_FLAG,    /* a finding when the period is over */
	PLAT_RETENTION_DESTROY, /* a finding, then destruction after the review window unless rejected */
};

struct plat_strings {
	char **items;
	size_t n;
};

/* One rule, as validated. Strings are owned by the rule set. Periods are PostgreSQL
 * interval text ("90 days", "7 years") so that calendar arithmetic happens in SQL. */
struct plat_rule {
	char *name;        /* unique across all loaded files: [a-z0-9][a-z0-9_.-]* */
	enum plat_rule_kind kind;
	enum plat_severity severity; /* default medium */
	char *description; /* NULL: none */
	char *file;        /* where it was defined, for messages */
	int line, column;
	bool enabled;             /* "enabled: false" keeps a rule in the file but out of runs */
	struct plat_strings classes; /* empty: every class (documents without a class included) */

	union {
		struct {
			struct plat_strings fields; /* the first date found among them counts (arrays: the earliest) */
			int within_days;            /* open a finding this many days before (and after: past) */
			int *steps;                 /* reminder days before expiry, descending (90, 60, 30, 14, 7, 1) */
			size_t n_steps;
			char *owner;      /* e-mail address the reminders go to (NULL: the digest only) */
			char *backup;     /* also from backup_from_days on (NULL: none) */
			int backup_from_days;
		} expiry;
		struct {
			struct plat_strings fields; /* each must be present and non-empty in documents.fields */
			struct plat_strings tags;   /* each must be a key of documents.tags */
		} required;
		struct {
			char *keep;       /* interval after the trigger, e.g. "7 years" */
			char *from_field; /* NULL: from the upload; else a date field of documents.fields */
			enum plat_retention_action action;
			char *review;     /* destroy: the review window after the period ends, e.g. "30 days" */
		} retention;
		struct {
			unsigned detect; /* enum plat_pii_kind bits */
		} pii;
		struct {
			bool sample;  /* false: every object each run */
			char *period; /* sample: every object is checked within this interval */
		} integrity;
		struct {
			char *processing_timeout; /* interval a document may stay in 'processing' before it is requeued */
			bool requeue;             /* default true */
		} orphans;
	} u;
};

struct plat_rule_set {
	struct plat_rule *rules;
	size_t n;
	struct plat_strings files; /* the files read, in order */
};

/* One problem found while loading: "file:line:column: message". */
struct plat_rule_diag {
	char *file;
	int line, column;
	char *message;
	bool warning; /* an unknown key: reported, not fatal */
};

struct plat_rule_diags {
	struct plat_rule_diag *items;
	size_t n;
};

/* "file:line:column: message" (warning: "file:line:column: warning: message"); malloc'd. */
char *plat_rule_diag_format(const struct plat_rule_diag *d);

/* Load every *.yaml file of a directory (sorted by name), or one file. Every problem goes
 * to diags (the caller frees them with plat_rule_diags_free); an error (PLAT_E_CONFIG, as for the configuration file)
 * when there is at least one that is not a warning, PLAT_E_NOT_FOUND for a missing
 * path, PLAT_E_FAILURE when it cannot be read. On success *set is the rule set. */
int plat_rules_load(const char *path, struct plat_rule_set **set, struct plat_rule_diags *diags,
		    struct plat_error *err);
/* For `compliance validate`: as plat_rules_load, but *set is filled whatever the
 * outcome (the files read and the rules that validated) unless the path is missing or
 * unreadable, so a report can list both. The caller frees it. */
int plat_rules_check(const char *path, struct plat_rule_set **set, struct plat_rule_diags *diags,
		     struct plat_error *err);
/* The same from a buffer (name is used in positions). */
int plat_rules_load_buffer(const char *name, const char *data, size_t len, struct plat_rule_set **set,
			   struct plat_rule_diags *diags, struct plat_error *err);
void plat_rule_set_free(struct plat_rule_set *set);
void plat_rule_diags_free(struct plat_rule_diags *diags);
const struct plat_rule *plat_rule_set_find(const struct plat_rule_set *set, const char *name);
/* A rule as JSON (for validate -o json and run summaries). */
cJSON *plat_rule_to_json(const struct plat_rule *r);

/* ---- runs ---- */

struct plat_compliance_options {
	const char *rules_path; /* NULL: the configuration's compliance.rules */
	const char *only;       /* NULL: every enabled rule; else one rule's name */
	unsigned kinds;         /* 1 << enum plat_rule_kind bits: only rules of these kinds; 0: all */
	bool dry_run;           /* evaluate and report, change nothing (no findings, requeues, destruction) */
	bool wait;              /* another run of the tenant holds the lock: wait for it instead of skipping */
	int fail_on;            /* enum plat_severity (PLAT_SEV__COUNT: none); the summary says whether findings at or above it are open */
	bool notify;            /* send the digest and ping the heartbeat; false: reminders are not recorded as sent */
};

/* Run the rules for the call's tenant, as PLAT_SYSTEM_PRINCIPAL, under the tenant's
 * advisory lock. Operation "compliance.run".
 *
 * *summary: {"run_id", "tenant", "skipped": false, "dry_run", "started_at", "duration_ms",
 * "rules": [{"name", "kind", "severity", "checked", "opened", "resolved", "open",
 * "duration_ms", "error"}], "documents_checked", "opened", "resolved", "open",
 * "open_by_severity": {"info": n, ...}, "fail_on", "failed": bool (open findings at or above
 * fail_on), "notified": {...}, "reminders": [{document_id, name, expires_on, days_left,
 * step, to}] (every reminder due in this run), "findings": [{id, rule, severity, message,
 * document_id, name}] (the findings this run opened, at most 1000: for the digest)}. The
 * run's row in compliance_runs keeps the summary without the two lists. Acknowledged
 * findings count for "failed". When another run holds the lock and wait is false:
 * {"skipped": true, "reason": "already running"} and 0.
 *
 * A rule whose evaluation fails is recorded in its entry's "error" and the run goes on
 * with the next; the run then fails with that rule's error kind (PLAT_E_UNAVAILABLE when a
 * dependency went away). Invalid rule files are PLAT_E_CONFIG, with diags filled. */
int plat_compliance_run(struct plat_svc *svc, const struct plat_compliance_options *o, cJSON **summary,
			struct plat_rule_diags *diags, struct plat_error *err);
/* The same with rules already loaded (tests; a server that keeps its rule set). When a
 * rule failed and the run still stored its results, *summary is set although the call
 * returns the error. Operation "compliance.run". */
int plat_compliance_run_set(struct plat_svc *svc, const struct plat_rule_set *set,
			    const struct plat_compliance_options *o, cJSON **summary, struct plat_error *err);

/* What a rule kind sees while it evaluates. Each rule runs in one transaction on the
 * run's svc->db (rolled back when the rule fails, and in a dry run): a kind must not BEGIN
 * or COMMIT itself, and anything it does outside the database (deleting objects) it must
 * leave until after the commit, or skip in a dry run. */
struct plat_compliance_run;

struct plat_svc *plat_compliance_run_svc(struct plat_compliance_run *run);
bool plat_compliance_run_dry(const struct plat_compliance_run *run);
const char *plat_compliance_run_id(const struct plat_compliance_run *run);

/* A finding as a rule kind reports it. */
struct plat_finding_report {
	const char *document_id; /* NULL for findings that are not about a document */
	const char *object_key;  /* NULL unless about a stored object */
	const char *fingerprint; /* NULL: the document id, else the object key; else required */
	int severity;            /* -1: the rule's */
	const char *message;     /* one line: what is wrong, quoting the object */
	cJSON *details;          /* NULL or an object; borrowed */
};

/* Upsert an open finding for this run (a resolved one reopens). In a dry run it is only
 * counted. */
int plat_compliance_report(struct plat_compliance_run *run, const struct plat_rule *rule,
			   const struct plat_finding_report *f, struct plat_error *err);
/* How many documents (or objects, or rows) the rule looked at, added to its "checked". */
void plat_compliance_checked(struct plat_compliance_run *run, long long n);
/* A rule that looks at only part of its scope per run (sampled integrity) resolves its
 * own findings: the run then does not resolve what it did not see. Call before reporting. */
void plat_compliance_partial(struct plat_compliance_run *run);
/* For partial rules: the finding with this fingerprint is resolved if open. */
int plat_compliance_resolve(struct plat_compliance_run *run, const struct plat_rule *rule, const char *fingerprint,
			    struct plat_error *err);

/* The rule's classes as a JSON array text for a "$n::jsonb" parameter, NULL when the rule
 * applies to every class: "($n::jsonb IS NULL OR class IN (SELECT jsonb_array_elements_text($n::jsonb)))".
 * Allocated in the run's svc arena. */
const char *plat_compliance_classes_param(struct plat_compliance_run *run, const struct plat_rule *rule);
/* Add an entry to the summary's "reminders" (the expiry kind's); takes ownership. Dropped
 * when the rule fails. */
void plat_compliance_add_reminder(struct plat_compliance_run *run, cJSON *reminder);

/* The rule kinds: one function each, in kind_<name>.c, listed in kinds.c. */
typedef int (*plat_compliance_eval_fn)(struct plat_compliance_run *run, const struct plat_rule *r,
				       struct plat_error *err);
/* The evaluator of a kind; NULL when this build has none (the run reports that rule as failed). */
plat_compliance_eval_fn plat_compliance_kind_eval(enum plat_rule_kind kind);

int plat_compliance_eval_expiry(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err);
int plat_compliance_eval_required(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err);
int plat_compliance_eval_retention(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err);
int plat_compliance_eval_pii(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err);
int plat_compliance_eval_integrity(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err);
int plat_compliance_eval_orphans(struct plat_compliance_run *run, const struct plat_rule *r, struct plat_error *err);
int plat_compliance_eval_audit_chain(struct plat_compliance_run *run, const struct plat_rule *r,
				     struct plat_error *err);

/* ---- findings and reports ---- */

struct plat_findings_filter {
	const char *status;      /* NULL: every status; else open, resolved or suppressed */
	const char *rule;        /* NULL or a rule's name */
	int min_severity;        /* -1: any; else enum plat_severity and above */
	const char *document_id; /* NULL or a document's id */
	const char *since;       /* last seen at or after (as plat_audit_parse_time reads it) */
	int limit;               /* 1..1000 */
	const char *cursor;      /* a previous page's next_cursor */
};

/* The tenant's findings, most recently seen first. *out: {"findings": [finding], "next_cursor":
 * string or null}; a finding: {id, rule, kind, fingerprint, severity, status, document_id,
 * document_name, object_key, message, details, first_seen_at (the current open period's
 * start), last_seen_at, times_seen, last_run_id, acknowledged_at, acknowledged_by, note,
 * resolved_at, resolved_by}. Bad filters are PLAT_E_USAGE naming the parameter.
 * Operation "findings.list" (auditor, admin). */
int plat_compliance_findings_list(struct plat_svc *svc, const struct plat_findings_filter *f, cJSON **out,
				  struct plat_error *err);
/* One finding; PLAT_E_NOT_FOUND. Operation "findings.show". */
int plat_compliance_findings_show(struct plat_svc *svc, const char *id, cJSON **out, struct plat_error *err);
/* Acknowledge an open finding (it stays open and still counts for fail_on: acknowledging
 * says someone knows, not that it is fixed), with an optional note. Audited
 * ("finding.ack"). PLAT_E_CONFLICT for a finding that is not open. Operation "findings.ack"
 * (admin). *out: the finding afterwards. */
int plat_compliance_findings_ack(struct plat_svc *svc, const char *id, const char *note, cJSON **out,
				 struct plat_error *err);
/* Resolve an open finding by hand (resolved_by: the caller); a later run that still sees
 * the problem reopens it. Audited ("finding.resolve"). Operation "findings.resolve" (admin). */
int plat_compliance_findings_resolve(struct plat_svc *svc, const char *id, const char *note, cJSON **out,
				     struct plat_error *err);

/* A period's compliance report (since inclusive, until exclusive; NULL until: now), both as
 * plat_audit_parse_time reads them. *out: {"tenant", "since", "until", "runs": {"count",
 * "failed", "dry_run" (excluded), "last": {id, started_at, status} or null}, "opened": n,
 * "resolved": n, "open": n, "open_by_severity": {...}, "open_by_rule": [{rule, kind, open,
 * by_severity}], "opened_findings": [{id, rule, severity, message, document_id,
 * first_seen_at}], "resolved_findings": [{id, rule, severity, message, resolved_at,
 * resolved_by}]} (lists capped at 1000). Operation "compliance.report" (auditor, admin). */
int plat_compliance_period_report(struct plat_svc *svc, const char *since, const char *until, cJSON **out,
				  struct plat_error *err);


/* ---- retention: plan, reviews, destruction certificates (retention.c) ---- */

/* Delete the objects of documents destroyed by committed runs (a run only records them, so
 * that a failed commit never leaves a live document without its content), each under its
 * content lock and only when no live document uses it by now. Called after every real
 * run; what fails stays pending for the next. *purged: objects deleted. */
int plat_compliance_purge_pending(struct plat_svc *svc, int *purged, struct plat_error *err);

struct plat_retention_plan_options {
	const char *rules_path; /* NULL: the configuration's compliance.rules */
	const char *within;     /* NULL: every document; else an interval ("30 days"): only those whose
				 * retention ends before now + within (past ones included) */
};

/* What the tenant's enabled retention rules would do, and when, without doing it. *out:
 * {"tenant", "within", "documents": [{document_id, name, class, rule, action ("flag" |
 * "destroy"), trigger (RFC 3339 or null: no date in the rule's field), expires_at,
 * expired, review_due_at (destroy rules: when the review window ends or would end),
 * review_status (null: no review yet), legal_hold, will: "flag" | "destroy" | "wait for
 * review" | "held" | "nothing"}]}, soonest first. A bad within is PLAT_E_USAGE (parameter
 * "within"); invalid rule files PLAT_E_CONFIG with diags. Operation "compliance.plan"
 * (auditor, admin). */
int plat_compliance_plan(struct plat_svc *svc, const struct plat_retention_plan_options *o, cJSON **out,
			 struct plat_rule_diags *diags, struct plat_error *err);

/* Decide a destroy rule's pending review of a document: approved documents are destroyed by
 * the first run after the review window (unless on legal hold); a rejection is final and
 * resolves the document's open finding of that rule, the reason as its note. rule NULL:
 * the document's only pending review (PLAT_E_USAGE, parameter "rule", when it has several).
 * A reason is required to reject (PLAT_E_USAGE, parameter "reason"). PLAT_E_NOT_FOUND when
 * the document has no review (of that rule), PLAT_E_CONFLICT when it was decided already.
 * Audited ("retention.approve" / "retention.reject"). *out: {id, document_id, rule, status,
 * expired_at, due_at, decided_by, decided_at, reason, legal_hold}. Operations
 * "compliance.approve" and "compliance.reject" (admin). */
int plat_compliance_approve(struct plat_svc *svc, const char *document_id, const char *rule, const char *reason,
			    cJSON **out, struct plat_error *err);
int plat_compliance_reject(struct plat_svc *svc, const char *document_id, const char *rule, const char *reason,
			   cJSON **out, struct plat_error *err);

/* A destroyed document's destruction record from the audit chain, signed with the key at
 * compliance.signing_key (PLAT_E_CONFIG when none is configured or it cannot be read):
 * {"certificate": {"type": "destruction", "tenant", "document_id", "name", "sha256",
 * "size", "rule", "approver", "approved_at", "destroyed_at", "object_purged", "audit":
 * {"id", "hash", "prev_hash"}}, "signature": {"alg": "EdDSA", "key_id", "public_key"
 * (PEM), "value" (base64url Ed25519 over the canonical JSON of "certificate")}}. The
 * canonical JSON is the value with every object's keys sorted by byte order and no
 * whitespace (RFC 8785 for what a certificate holds: strings, integers, booleans, null).
 * PLAT_E_NOT_FOUND when the document was not destroyed. Operation "compliance.certificate"
 * (auditor, admin). */
int plat_compliance_certificate(struct plat_svc *svc, const char *document_id, cJSON **cert, struct plat_error *err);

/* Verify a certificate offline (no database, no configuration): the JSON text's signature
 * over its canonical "certificate" with the public key it carries, that key's id, and when
 * expected_public_pem is given, that it is that key. 0 when valid, with *result {valid:
 * true, key_id, document_id, name, sha256, destroyed_at}; PLAT_E_FAILURE naming what is
 * wrong otherwise. */
int plat_compliance_certificate_verify(const char *json, const char *expected_public_pem, cJSON **result,
				       struct plat_error *err);
/* The canonical JSON text of a value (malloc'd): sorted keys, no whitespace. */
char *plat_compliance_canonical_json(const cJSON *v);

#endif
