/* libFuzzer target: any bytes as a configuration file, with and without a profile.
 * Loading must never crash, leak or read out of bounds; it either succeeds or reports. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const profiles[] = {NULL, "dev", "default"};
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		struct plat_config *cfg = plat_config_new();
		struct plat_error err = {0};
		plat_config_load_buffer(cfg, "fuzz.yaml", (const char *)data, size, profiles[i], &err);
		for (size_t d = 0; d < plat_config_diag_count(cfg); d++)
			free(plat_config_diag_format(plat_config_diag(cfg, d)));
		for (int k = 0; k < PLAT_CFG__COUNT; k++)
			free(plat_config_display_value(cfg, k));
		plat_config_free(cfg);
	}
	return 0;
}
