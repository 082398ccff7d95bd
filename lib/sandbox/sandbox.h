/* Run untrusted work (parsing a PDF, a DOCX, HTML) in an empty process, so a hostile or
 * broken file can neither take the caller down, nor hang it, nor reach anything the caller
 * holds.
 *
 * The parent side, plat_sandbox_exec, starts a helper program with exec (never a bare fork
 * of the multithreaded caller, which could deadlock on a lock another thread held and would
 * inherit every connection and secret): the input on fd 0, a pipe for the result on fd 1,
 * nothing else open, an empty environment, no new privileges, memory/CPU/file-size limits,
 * its own session, killed when its parent dies, and — when started as root — the user
 * nobody and group nogroup. It reads the result within the time limit and kills the
 * helper when the limit passes.
 *
 * The helper side, plat_sandbox_confine (lib/sandbox/confine.c, linked into the helper
 * only, with libseccomp), installs a seccomp filter once the helper's libraries are
 * initialised and before it reads untrusted input: socket and network calls, exec, fork,
 * ptrace, process_vm_*, bpf, mount, namespaces, io_uring, keyrings, module and kexec calls
 * kill the process (SIGSYS); opening, creating or changing files by name fails with EACCES;
 * signals and prlimit reach only the helper itself. */
#ifndef PLAT_SANDBOX_H
#define PLAT_SANDBOX_H

#include <stddef.h>

#include "error/error.h"
#include "mem/mem.h"

struct plat_sandbox_limits {
	long long memory_bytes; /* address space the helper may add to what its libraries map
				 * (RLIMIT_AS, see plat_sandbox_confine); 0: 1 GiB */
	int cpu_seconds;        /* RLIMIT_CPU; 0: 30 */
	long long timeout_ms;   /* wall clock; 0: 60 s */
	size_t max_output;      /* bytes the helper may return; 0: 256 MiB */
};

/* The helper's exit status when it refused its input (PLAT_E_INVALID) or could not do its
 * work (PLAT_E_FAILURE); what it wrote to fd 1 is the message. */
#define PLAT_SANDBOX_EXIT_INVALID 3
#define PLAT_SANDBOX_EXIT_FAILURE 4

#define PLAT_SANDBOX_DEFAULT_MEMORY (1LL << 30)
/* Set before exec, RLIMIT_AS is memory_bytes plus this: room for the helper to load. */
#define PLAT_SANDBOX_LOAD_BYTES (256LL << 20)

/* Run the program argv[0] (a path; executed from a descriptor opened before the user
 * changes, so the directories above it need not be open to nobody — a "#!" wrapper script
 * is executed by its path instead) with argv, in_fd as its fd 0 (-1: fd 0 closed) and a
 * pipe as its fd 1. On success *out holds everything it wrote to fd 1 (NUL-terminated) and
 * it exited 0. Failures: PLAT_E_INVALID when it exited PLAT_SANDBOX_EXIT_INVALID (its
 * output is the message); PLAT_E_FAILURE when it exited PLAT_SANDBOX_EXIT_FAILURE or
 * otherwise, crashed, was killed for a forbidden system call (SIGSYS) or hit a limit (the
 * message says which); PLAT_E_INTERNAL when it could not be started (the message names
 * the program and the step that failed). */
int plat_sandbox_exec(const char *const argv[], int in_fd, const struct plat_sandbox_limits *limits,
		      struct plat_buf *out, struct plat_error *err);

/* In the helper, after its libraries are initialised and before it reads untrusted input:
 * lower RLIMIT_AS to the address space it has now plus memory_bytes (0: 1 GiB) — the
 * parser's budget, whatever its libraries happen to map — and install the seccomp filter
 * described above (with PR_SET_NO_NEW_PRIVS). Irreversible. 0, or PLAT_E_INTERNAL when
 * either failed (the helper must then refuse to parse). */
int plat_sandbox_confine(long long memory_bytes, struct plat_error *err);

#endif
