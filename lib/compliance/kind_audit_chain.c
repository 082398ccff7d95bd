/* Rule kind audit_chain: the tenant's audit hash chain verifies against its head. A
 * broken chain is one finding (fingerprint "chain"); the next intact run resolves it. The
 * run's own audit row comes after this check, in the same transaction. */
#include <stdio.h>

#include "audit/audit.h"
#include "compliance/compliance.h"
#include "mem/mem.h"

int plat_compliance_eval_audit_chain(struct plat_compliance_run *run, const struct plat_rule *r,
				     struct plat_error *err)
{
	struct plat_svc *svc = plat_compliance_run_svc(run);
	struct plat_audit_check c;
	int rc = plat_audit_check_chain(svc->db, svc->tenant_id, &c, err);
	if (rc < 0)
		return rc;
	plat_compliance_checked(run, c.rows);
	if (c.broken_id == 0)
		return 0;
	char msg[256];
	snprintf(msg, sizeof(msg), "the audit chain of tenant '%s' is broken at id %lld: %s (%lld of %lld rows verified)",
		 svc->tenant, c.broken_id, c.reason, c.verified, c.rows);
	cJSON *details = cJSON_CreateObject();
	cJSON_AddNumberToObject(details, "broken_id", (double)c.broken_id);
	if (c.broken_at[0])
		cJSON_AddStringToObject(details, "broken_at", c.broken_at);
	else
		cJSON_AddNullToObject(details, "broken_at");
	cJSON_AddStringToObject(details, "reason", c.reason);
	cJSON_AddNumberToObject(details, "rows", (double)c.rows);
	cJSON_AddNumberToObject(details, "verified", (double)c.verified);
	/* Critical whatever the rule says: a broken chain means the record of everything else
	 * cannot be trusted. */
	struct plat_finding_report f = {.fingerprint = "chain", .severity = PLAT_SEV_CRITICAL, .message = msg,
					.details = details};
	rc = plat_compliance_report(run, r, &f, err);
	cJSON_Delete(details);
	return rc;
}
