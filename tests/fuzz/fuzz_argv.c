/* libFuzzer target: any bytes as a command line (NUL-separated arguments) run through
 * platctl's dispatcher in-process. The environment names no database and no store, so
 * commands that need one stop at their configuration check; `dev` would start or delete a
 * real cluster, so command lines naming it are skipped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "platctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Keep the fuzzer's own output readable: platctl's stdout and logs go nowhere. */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *argv[66] = {"platctl"};
	int argc = 1;
	for (size_t i = 0; i <= size && argc < 65; i++) {
		if (i == 0 || buf[i - 1] == '\0')
			argv[argc++] = buf + i;
	}
	argv[argc] = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "dev") == 0) {
			free(buf);
			return 0;
		}
	}
	/* The environment is fixed: no config file is searched, logs are dropped. */
	char *env[] = {"HOME=/nonexistent", "XDG_CONFIG_HOME=/nonexistent", "PLATCTL_LOG_LEVEL=error", NULL};
	int saved = dup(2);
	int devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 2);
	platctl_run(argc, argv, env);
	dup2(saved, 2);
	close(saved);
	close(devnull);
	free(buf);
	return 0;
}
