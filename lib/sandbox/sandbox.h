/* Run untrusted work (parsing a PDF, a DOCX, HTML) in a child process with memory, CPU
 * and time limits, so a hostile or broken file can neither take the caller down nor hang
 * it. The child writes its result to a pipe; the parent reads it within the time limit and
 * kills the child when the limit passes. */
#ifndef PLAT_SANDBOX_H
#define PLAT_SANDBOX_H

#include <stddef.h>

#include "error/error.h"
#include "mem/mem.h"

struct plat_sandbox_limits {
	long long memory_bytes; /* address space (RLIMIT_AS); 0: 1 GiB */
	int cpu_seconds;        /* RLIMIT_CPU; 0: 30 */
	long long timeout_ms;   /* wall clock; 0: 60 s */
	size_t max_output;      /* bytes the child may return; 0: 256 MiB */
};

/* In the child: do the work and write the result to out_fd (plat_write_all); return 0, or
 * non-zero after writing a message (a failure the parent reports as PLAT_E_INVALID). */
typedef int (*plat_sandbox_fn)(void *arg, int out_fd);

/* Run fn(arg) in a child. On success *out holds everything the child wrote. Failures:
 * PLAT_E_INVALID when fn failed (its output is the message), PLAT_E_FAILURE when the child
 * crashed or hit a limit (the message says which), PLAT_E_INTERNAL when it could not start. */
int plat_sandbox_run(plat_sandbox_fn fn, void *arg, const struct plat_sandbox_limits *limits, struct plat_buf *out,
		     struct plat_error *err);

#endif
