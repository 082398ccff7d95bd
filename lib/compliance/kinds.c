/* The evaluator of each rule kind. One line per kind, so adding a kind touches its own
 * file and this list only. */
#include "compliance/compliance.h"

static const struct {
	enum plat_rule_kind kind;
	plat_compliance_eval_fn eval;
} kinds[] = {
	{PLAT_RULE_EXPIRY, plat_compliance_eval_expiry},
	{PLAT_RULE_REQUIRED_FIELDS, plat_compliance_eval_required},
	{PLAT_RULE_RETENTION, plat_compliance_eval_retention},
	{PLAT_RULE_AUDIT_CHAIN, plat_compliance_eval_audit_chain},
	{PLAT_RULE_PII, plat_compliance_eval_pii},
	{PLAT_RULE_INTEGRITY, plat_compliance_eval_integrity},
	{PLAT_RULE_ORPHANS, plat_compliance_eval_orphans},
	{PLAT_RULE__COUNT, NULL},
};

plat_compliance_eval_fn plat_compliance_kind_eval(enum plat_rule_kind kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == kind)
			return kinds[i].eval;
	return NULL;
}
