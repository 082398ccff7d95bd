/* The helper's side of the sandbox: its seccomp filter (libseccomp). Linked into
 * platctl-extract only.
 *
 * A deny-list, not an allow-list: GLib, poppler, cairo and libxml2 between them use a
 * wide and version-dependent set of system calls (mmap flavours, futexes, eventfds,
 * clock and rseq calls, statx ...), and a missed one would fail documents at random after
 * an upgrade of any of them. What an exploited parser needs to hurt anyone is short:
 * reach the network, start a program, touch another process, change the system or open
 * a file. Those are refused here; everything else it could do is bounded by the limits
 * set before exec (memory, CPU, no file writes) and by running as nobody. */
#define _GNU_SOURCE
#include "sandbox/sandbox.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <seccomp.h>

/* Kill the whole process at once (SIGSYS): no exploit gets a second try. */
static const char *const kill_calls[] = {
	/* the network (and any socket: there is none to use) */
	"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto", "sendmsg", "sendmmsg",
	"recvfrom", "recvmsg", "recvmmsg", "shutdown", "getsockopt", "setsockopt", "getpeername", "getsockname",
	/* other programs and processes (threads are allowed: see clone below) */
	"execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
	"pidfd_open", "pidfd_getfd", "pidfd_send_signal", "kcmp", "migrate_pages", "move_pages",
	/* the kernel's programmable and privileged surfaces */
	"bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl",
	"add_key", "request_key", "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "syslog", "uselib", "iopl", "ioperm",
	"lookup_dcookie", "vhangup", "nfsservctl", "fanotify_init", "name_to_handle_at", "open_by_handle_at",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "personality",
	/* mounts and namespaces */
	"mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "open_tree", "move_mount", "fsopen", "fsconfig",
	"fsmount", "fspick", "mount_setattr",
	NULL,
};

/* Fail with EACCES: opening or changing a file by its name. The parsers get their input
 * as a descriptor and need no file; a library that opens one lazily (a font, a charset
 * table) sees a file it may not read, which every one of them handles. */
static const char *const eacces_calls[] = {
	"open", "openat", "openat2", "creat", "mknod", "mknodat", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat",
	"rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmodat", "fchmodat2",
	"chown", "lchown", "fchownat", "truncate", "utime", "utimes", "utimensat", "futimesat", "setxattr", "lsetxattr",
	"removexattr", "lremovexattr", "inotify_add_watch", "fanotify_mark",
	NULL,
};

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n, const struct scmp_arg_cmp *cmp,
	       struct plat_error *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr < 0)
		return 0; /* not a system call on this architecture (or newer than libseccomp) */
	int rc = n ? seccomp_rule_add_array(ctx, action, nr, n, cmp) : seccomp_rule_add(ctx, action, nr, 0);
	if (rc < 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot add the seccomp rule for %s: %s", name, strerror(-rc));
	return 0;
}

/* This process's address space now, in bytes (0 when it cannot be read). */
static long long address_space(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	long long pages = 0;
	if (f) {
		if (fscanf(f, "%lld", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * sysconf(_SC_PAGESIZE);
}

/* The budget on top of what the program and its libraries map once loaded (~70 MB here,
 * most of it ICU's data tables, shared and mostly never touched), so that
 * extract.memory_limit means the same whatever the libraries' versions. */
static int limit_memory(long long budget, struct plat_error *err)
{
	long long now = address_space();
	if (now <= 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot read the parser's address space from /proc/self/statm");
	rlim_t limit = (rlim_t)(now + (budget > 0 ? budget : PLAT_SANDBOX_DEFAULT_MEMORY));
	struct rlimit cur;
	if (getrlimit(RLIMIT_AS, &cur) < 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot read the address-space limit: %s", strerror(errno));
	if (cur.rlim_max != RLIM_INFINITY && limit > cur.rlim_max)
		limit = cur.rlim_max; /* never above the ceiling set before exec */
	struct rlimit l = {limit, limit};
	if (setrlimit(RLIMIT_AS, &l) < 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot limit the address space: %s", strerror(errno));
	return 0;
}

int plat_sandbox_confine(long long memory_bytes, struct plat_error *err)
{
	if (limit_memory(memory_bytes, err) < 0)
		return -PLAT_E_INTERNAL;
	/* Set by the parent before exec already; again here, so the filter never depends on it. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot set no_new_privs: %s", strerror(errno));
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot create a seccomp filter");
	int rc = 0;
	/* Another architecture's system calls (int 0x80 on x86-64) would bypass every rule. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0)
		rc = plat_error_set(err, PLAT_E_INTERNAL, "cannot set the seccomp filter's bad-architecture action");
	for (const char *const *c = kill_calls; rc == 0 && *c; c++)
		rc = add(ctx, SCMP_ACT_KILL_PROCESS, *c, 0, NULL, err);
	for (const char *const *c = eacces_calls; rc == 0 && *c; c++)
		rc = add(ctx, SCMP_ACT_ERRNO(EACCES), *c, 0, NULL, err);
	/* Threads yes, processes no: clone without CLONE_THREAD is a fork. clone3 passes its
	 * flags in memory a filter cannot read; ENOSYS makes the C library fall back to clone. */
	struct scmp_arg_cmp not_thread = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
	if (rc == 0)
		rc = add(ctx, SCMP_ACT_KILL_PROCESS, "clone", 1, &not_thread, err);
	if (rc == 0)
		rc = add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err);
	/* Signals and resource limits reach this process only (abort() and raise() signal
	 * themselves; the parent runs as the same user when platctl is not root). */
	pid_t self = getpid();
	struct scmp_arg_cmp other = SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)self);
	static const char *const signal_calls[] = {"kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", NULL};
	for (const char *const *c = signal_calls; rc == 0 && *c; c++)
		rc = add(ctx, SCMP_ACT_ERRNO(EPERM), *c, 1, &other, err);
	struct scmp_arg_cmp not_self = SCMP_A0(SCMP_CMP_NE, 0);
	if (rc == 0)
		rc = add(ctx, SCMP_ACT_ERRNO(EPERM), "prlimit64", 1, &not_self, err);
	if (rc == 0) {
		int lr = seccomp_load(ctx);
		if (lr < 0)
			rc = plat_error_set(err, PLAT_E_INTERNAL, "cannot load the seccomp filter: %s", strerror(-lr));
	}
	seccomp_release(ctx);
	return rc;
}
