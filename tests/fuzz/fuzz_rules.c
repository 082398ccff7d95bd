/* libFuzzer target: any bytes as a compliance rule file. Loading must never crash, leak
 * or read out of bounds; it either yields a rule set (whose rules all render as JSON) or
 * reports problems. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "compliance/compliance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plat_rule_set *set = NULL;
	struct plat_rule_diags diags = {0};
	struct plat_error err = {0};
	int rc = plat_rules_load_buffer("fuzz.yaml", (const char *)data, size, &set, &diags, &err);
	if ((rc == 0) != (set != NULL))
		abort();
	for (size_t i = 0; set && i < set->n; i++) {
		cJSON *j = plat_rule_to_json(&set->rules[i]);
		char *s = cJSON_PrintUnformatted(j);
		if (!s || plat_rule_set_find(set, set->rules[i].name) != &set->rules[i])
			abort();
		free(s);
		cJSON_Delete(j);
	}
	for (size_t i = 0; i < diags.n; i++)
		free(plat_rule_diag_format(&diags.items[i]));
	plat_rule_set_free(set);
	plat_rule_diags_free(&diags);
	return 0;
}
