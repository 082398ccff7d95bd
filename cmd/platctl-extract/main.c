/* platctl-extract: the document parser platctl runs for every untrusted file, so that
 * poppler, GLib, cairo, libzip and libxml2's HTML parser run in a process holding nothing:
 * platctl starts it with exec (lib/sandbox), the file on fd 0, a pipe on fd 1, nothing
 * else open, an empty environment, memory/CPU limits, as nobody when platctl is root.
 * Here it initialises its libraries, installs its seccomp filter and only then reads the
 * file. Not for people to run: platctl finds it beside itself or in lib/platctl/.
 *
 *   platctl-extract [--memory-limit BYTES] --type CONTENT-TYPE
 *       pages of the file on fd 0 as frames on fd 1; exit 0, 3 (a bad file: fd 1 has the
 *       message) or 4 (it could not confine itself: the message). BYTES: the parser's
 *       address-space budget beyond its loaded libraries (default 1 GiB).
 *   platctl-extract [--memory-limit BYTES] --self-test NAME
 *       for the test suite: misbehave as NAME says, under the same confinement.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "extract/extract.h"
#include "io/io.h"
#include "mem/mem.h"
#include "sandbox/sandbox.h"

extern char **environ;

static int say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int say(const char *fmt, ...)
{
	struct plat_buf b = PLAT_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	plat_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	int rc = plat_write_all(1, b.data, b.len);
	plat_buf_free(&b);
	return rc;
}

static long long memory_limit; /* 0: the default */

static int confine(void)
{
	struct plat_error err = {0};
	if (plat_sandbox_confine(memory_limit, &err) < 0) {
		say("the parser could not confine itself: %s", err.message);
		exit(PLAT_SANDBOX_EXIT_FAILURE);
	}
	return 0;
}

/* What the process holds once its libraries are initialised, as "key value" lines: its
 * descriptors (from /proc/self/fd, which needs an open: so listed just before the filter
 * goes in), then, confined as for a parse, its users and groups, environment,
 * no_new_privs, limits and seccomp mode. */
static int report_state(void)
{
	struct plat_buf b = PLAT_BUF_INIT;
	plat_buf_puts(&b, "fds");
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		say("cannot list /proc/self/fd: %s\n", strerror(errno));
		return 1;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d)) {
			char link[300] = "", target[512];
			snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
			ssize_t n = readlink(link, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = '\0';
			plat_buf_printf(&b, " %s=%s", e->d_name, target);
		}
	closedir(d);
	confine();
	int n_env = 0;
	for (char **v = environ; v && *v; v++)
		n_env++;
	struct rlimit as, cpu, fsize;
	getrlimit(RLIMIT_AS, &as);
	getrlimit(RLIMIT_CPU, &cpu);
	getrlimit(RLIMIT_FSIZE, &fsize);
	plat_buf_printf(&b, "\nuid %d %d\ngid %d %d\ngroups %d\nenv %d\nno_new_privs %d\ndumpable %d\n", (int)getuid(),
			(int)geteuid(), (int)getgid(), (int)getegid(), getgroups(0, NULL), n_env,
			prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	plat_buf_printf(&b, "rlimit_as %lld\nrlimit_cpu %lld\nrlimit_fsize %lld\nsid %d\n", (long long)as.rlim_cur,
			(long long)cpu.rlim_cur, (long long)fsize.rlim_cur, getsid(0) == getpid());
	plat_buf_printf(&b, "seccomp %d\n", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	int rc = plat_write_all(1, b.data, b.len);
	plat_buf_free(&b);
	return rc;
}

/* An attempt that must fail with EACCES (or EPERM): "<what> <errno name>". */
static void attempt(const char *what, int rc)
{
	say("%s %s\n", what, rc < 0 ? strerrorname_np(errno) : "succeeded");
}

/* For the test suite (tests/unit/test_extract.c): each NAME does one hostile or broken
 * thing after the same warm-up and confinement as a parse. The process is killed, or it
 * reports on fd 1 what happened. */
static int self_test(const char *name)
{
	if (!strcmp(name, "state"))
		return report_state();
	confine();
	if (!strcmp(name, "hello"))
		return say("hello");
	if (!strcmp(name, "refuse")) {
		say("not a document");
		return PLAT_SANDBOX_EXIT_INVALID;
	}
	if (!strcmp(name, "crash"))
		raise(SIGSEGV);
	if (!strcmp(name, "hang"))
		for (;;)
			pause();
	if (!strcmp(name, "spin"))
		for (volatile unsigned long i = 0;; i++)
			;
	if (!strcmp(name, "hog"))
		for (;;) { /* plat_xmalloc aborts when the address-space limit is reached */
			char *p = plat_xmalloc(16 << 20);
			memset(p, 1, 16 << 20);
		}
	if (!strcmp(name, "flood")) {
		char buf[4096];
		memset(buf, 'x', sizeof(buf));
		while (plat_write_all(1, buf, sizeof(buf)) == 0)
			;
		return 1;
	}
	if (!strcmp(name, "files")) { /* each refused: EACCES */
		attempt("open", open("/etc/passwd", O_RDONLY));
		attempt("openat", openat(AT_FDCWD, "/etc/hostname", O_RDONLY));
		attempt("creat", creat("/tmp/platctl-extract-self-test", 0600));
		FILE *f = fopen("/proc/self/status", "r");
		attempt("fopen", f ? 0 : -1);
		attempt("opendir", opendir("/proc/self/fd") ? 0 : -1);
		attempt("mkdir", mkdir("/tmp/platctl-extract-self-test", 0700));
		attempt("unlink", unlink("/tmp/platctl-extract-self-test"));
		attempt("rename", rename("/tmp/platctl-extract-a", "/tmp/platctl-extract-b"));
		/* signals and limits for anyone else: EPERM */
		attempt("kill_parent", kill(getppid(), 0));
		attempt("kill_all", kill(-1, 0));
		struct rlimit r = {1, 1};
		attempt("prlimit_parent", prlimit(getppid(), RLIMIT_CPU, NULL, &r));
		return 0;
	}
	/* Each of the rest must kill the process (SIGSYS); returning is a failure. */
	long rc = 0;
	if (!strcmp(name, "socket")) {
		rc = socket(AF_INET, SOCK_STREAM, 0);
	} else if (!strcmp(name, "connect")) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		rc = connect(1, (struct sockaddr *)&a, sizeof(a));
	} else if (!strcmp(name, "execve")) {
		char *const argv[] = {"sh", "-c", "true", NULL}, *const envp[] = {NULL};
		rc = execve("/bin/sh", argv, envp);
	} else if (!strcmp(name, "ptrace")) {
		rc = ptrace(PTRACE_ATTACH, getppid(), NULL, NULL);
	} else if (!strcmp(name, "fork")) {
		rc = fork(); /* glibc's fork is clone without CLONE_THREAD */
		if (rc == 0)
			_exit(0);
	} else if (!strncmp(name, "syscall:", 8)) {
		/* Any call by name, with zero arguments. */
		int nr = seccomp_syscall_resolve_name(name + 8);
		if (nr < 0)
			return say("unknown system call %s", name + 8), 1;
		rc = syscall(nr, 0, 0, 0, 0, 0, 0);
	} else {
		say("unknown self-test %s", name);
		return 2;
	}
	say("%s returned %ld (%s): not confined", name, rc, rc < 0 ? strerrorname_np(errno) : "ok");
	return 1;
}

static __attribute__((noreturn)) void usage(void)
{
	fprintf(stderr, "usage: platctl-extract [--memory-limit BYTES] --type CONTENT-TYPE <file >frames\n"
			"(run by platctl, not by people: see platctl-consume(1))\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int i = 1;
	if (i + 1 < argc && !strcmp(argv[i], "--memory-limit")) {
		char *end;
		memory_limit = strtoll(argv[i + 1], &end, 10);
		if (*end || memory_limit <= 0)
			usage();
		i += 2;
	}
	if (argc != i + 2 || (strcmp(argv[i], "--type") && strcmp(argv[i], "--self-test")))
		usage();
	/* What the libraries would load lazily, loaded now, while they still may open files. */
	plat_extract_warm_up();
	if (!strcmp(argv[i], "--self-test"))
		return self_test(argv[i + 1]);
	confine();
	if (plat_extract_parse(0, argv[i + 1], 1) != 0)
		return PLAT_SANDBOX_EXIT_INVALID;
	return 0;
}
