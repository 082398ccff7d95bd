/* The parent's side of the sandbox: start the helper with exec in an empty process. */
#define _GNU_SOURCE /* close_range, dup3, pipe2, sigabbrev_np */
#include "sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock/clock.h"

/* ---- who the helper runs as when platctl runs as root ---- */

static uid_t nobody_uid = 65534;
static gid_t nobody_gid = 65534;
static pthread_once_t nobody_once = PTHREAD_ONCE_INIT;

/* nobody and nogroup (nobody's own group where there is no nogroup); the overflow ids
 * 65534 where there is no such user. Looked up once, in the parent: NSS has no place in
 * a child between fork and exec. */
static void look_up_nobody(void)
{
	char buf[4096];
	struct passwd pw, *pwp = NULL;
	if (getpwnam_r("nobody", &pw, buf, sizeof(buf), &pwp) == 0 && pwp) {
		nobody_uid = pwp->pw_uid;
		nobody_gid = pwp->pw_gid;
	}
	struct group gr, *grp = NULL;
	if (getgrnam_r("nogroup", &gr, buf, sizeof(buf), &grp) == 0 && grp)
		nobody_gid = grp->gr_gid;
}

/* ---- in the child, between fork and exec ---- */

/* What failed before exec, sent to the parent on a close-on-exec pipe (which exec closes,
 * so the parent reads end-of-file when exec succeeded). */
enum stage { STAGE_FDS = 1, STAGE_LIMITS, STAGE_USER, STAGE_PRIVS, STAGE_EXEC };
static const char *const stage_names[] = {"", "descriptors", "limits", "user", "privileges", "exec"};

struct start {
	const char *path;
	char *const *argv;
	int in_fd, out_fd, report_fd, exe_fd;
	const struct plat_sandbox_limits *limits;
	bool drop; /* to nobody_uid/nobody_gid */
	pid_t parent;
};

__attribute__((noreturn)) static void child_fail(int report_fd, enum stage stage)
{
	int msg[2] = {(int)stage, errno};
	(void)!write(report_fd, msg, sizeof(msg));
	_exit(127);
}

/* Lower a limit (never raise it: an unprivileged parent could not, and a lower one the
 * caller set stays). */
static int lower_limit(int resource, rlim_t soft, rlim_t hard)
{
	struct rlimit cur;
	if (getrlimit(resource, &cur) < 0)
		return -1;
	if (cur.rlim_max != RLIM_INFINITY && hard > cur.rlim_max)
		hard = cur.rlim_max;
	if (soft > hard)
		soft = hard;
	struct rlimit l = {soft, hard};
	return setrlimit(resource, &l);
}

/* Only async-signal-safe calls from fork to exec: the parent is multithreaded, and any
 * lock another thread held at fork (malloc's, stdio's, NSS's) stays locked here forever. */
__attribute__((noreturn)) static void child(const struct start *s)
{
	/* Handlers and ignored signals (a worker's SIGTERM handler, an ignored SIGPIPE) and the
	 * caller's signal mask have no business in the helper: a crash must end it, visibly. */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig <= 64; sig++) /* NSIG is not POSIX; sigaction refuses the rest */
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Descriptors: 0 the input, 1 the result pipe, and until exec (close-on-exec) 2 the
	 * report pipe and 3 the helper's executable. Copies above 9 first, so no dup2
	 * overwrites a descriptor still to be moved; then everything from 4 up is closed —
	 * the worker's PostgreSQL, Kafka and S3 connections included. */
	int report = fcntl(s->report_fd, F_DUPFD_CLOEXEC, 10);
	if (report < 0)
		_exit(127);
	int in = s->in_fd >= 0 ? fcntl(s->in_fd, F_DUPFD_CLOEXEC, 10) : -1;
	int out = fcntl(s->out_fd, F_DUPFD_CLOEXEC, 10);
	int exe = fcntl(s->exe_fd, F_DUPFD_CLOEXEC, 10);
	if ((s->in_fd >= 0 && in < 0) || out < 0 || exe < 0)
		child_fail(report, STAGE_FDS);
	if (in >= 0 ? dup2(in, 0) < 0 : (close(0), false))
		child_fail(report, STAGE_FDS);
	if (dup2(out, 1) < 0 || dup3(report, 2, O_CLOEXEC) < 0)
		child_fail(report, STAGE_FDS);
	report = 2;
	if (dup3(exe, 3, O_CLOEXEC) < 0)
		child_fail(report, STAGE_FDS);
	if (close_range(4, ~0U, 0) < 0) {
		/* Kernels before 5.9: one by one, up to the descriptor limit. */
		struct rlimit nofile;
		int max = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY ?
				  (int)nofile.rlim_cur : 65536;
		for (int fd = 4; fd < max; fd++)
			close(fd);
	}

	/* Its own session: a terminal's ^C goes to platctl, which decides; and the helper
	 * can signal no process group but its own. */
	setsid();

	/* Limits. The address space here is a ceiling only — the caller's budget plus room for
	 * the helper's program and libraries to load (ICU alone maps 30 MB); the helper lowers
	 * it to its own size plus the budget once they are loaded (plat_sandbox_confine). */
	const struct plat_sandbox_limits *l = s->limits;
	rlim_t as = (rlim_t)(l->memory_bytes > 0 ? l->memory_bytes : PLAT_SANDBOX_DEFAULT_MEMORY) + PLAT_SANDBOX_LOAD_BYTES;
	rlim_t cpu = (rlim_t)(l->cpu_seconds > 0 ? l->cpu_seconds : 30);
	if (lower_limit(RLIMIT_AS, as, as) < 0 ||
	    lower_limit(RLIMIT_CPU, cpu, cpu + 1) < 0 || /* SIGXCPU at the soft limit, SIGKILL a second on */
	    lower_limit(RLIMIT_FSIZE, 0, 0) < 0 ||      /* it has no business writing files */
	    lower_limit(RLIMIT_CORE, 0, 0) < 0 ||       /* nor leaving the document in a core file */
	    lower_limit(RLIMIT_NOFILE, 64, 64) < 0)
		child_fail(report, STAGE_LIMITS);

	/* Started as root: nobody/nogroup, no supplementary groups. */
	if (s->drop) {
		if (setgroups(0, NULL) < 0 || setgid(nobody_gid) < 0 || setuid(nobody_uid) < 0)
			child_fail(report, STAGE_USER);
		if (setuid(0) == 0) { /* paranoia: there is no way back */
			errno = EPERM;
			child_fail(report, STAGE_USER);
		}
	}
	/* No new privileges (no set-uid exec, needed for the seccomp filter too); killed when
	 * the parent thread dies (set after setuid, which clears it); then check the parent
	 * did not die already. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(report, STAGE_PRIVS);
	if (getppid() != s->parent)
		_exit(127);
	if (chdir("/") < 0)
		child_fail(report, STAGE_PRIVS);

	/* An empty environment: no PLATCTL_* secrets, no LD_PRELOAD, no proxy settings. */
	char *const envp[] = {NULL};
	/* By descriptor: the directories above the helper need not be open to nobody (a
	 * build tree under /root). A script (a wrapper) cannot run from a close-on-exec
	 * descriptor (ENOENT): its interpreter opens it by name. */
	fexecve(3, s->argv, envp);
	if (errno == ENOENT)
		execve(s->path, s->argv, envp);
	child_fail(report, STAGE_EXEC);
}

/* ---- in the parent ---- */

static const char *signal_name(int sig)
{
	const char *n = sigabbrev_np(sig);
	return n ? n : "?";
}

int plat_sandbox_exec(const char *const argv[], int in_fd, const struct plat_sandbox_limits *limits,
		      struct plat_buf *out, struct plat_error *err)
{
	struct plat_sandbox_limits l = limits ? *limits : (struct plat_sandbox_limits){0};
	size_t max_output = l.max_output ? l.max_output : (size_t)256 << 20;
	long long timeout = l.timeout_ms > 0 ? l.timeout_ms : 60000;
	const char *path = argv[0];
	bool drop = geteuid() == 0;
	if (drop)
		pthread_once(&nobody_once, look_up_nobody);
	/* Everything opened here is close-on-exec from the start, so a helper another thread
	 * starts meanwhile inherits none of it past its own exec. */
	int exe = open(path, O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot start the parser '%s': %s", path, strerror(errno));
	int p[2], r[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(exe);
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot create a pipe for the parser: %s", strerror(errno));
	}
	if (pipe2(r, O_CLOEXEC) < 0) {
		close(exe);
		close(p[0]);
		close(p[1]);
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot create a pipe for the parser: %s", strerror(errno));
	}
	struct start s = {path, (char *const *)argv, in_fd, p[1], r[1], exe, &l, drop, getpid()};
	pid_t pid = fork();
	if (pid == 0)
		child(&s);
	int fork_errno = errno;
	close(p[1]);
	close(r[1]);
	close(exe);
	if (pid < 0) {
		close(p[0]);
		close(r[0]);
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot start the parser process: %s", strerror(fork_errno));
	}
	/* End of file: exec succeeded. Two ints: the stage that failed and its errno. */
	int report[2] = {0, 0};
	ssize_t got;
	while ((got = read(r[0], report, sizeof(report))) < 0 && errno == EINTR)
		;
	close(r[0]);
	if (got != 0) {
		close(p[0]);
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		int stage = got == (ssize_t)sizeof(report) && report[0] > 0 && report[0] <= STAGE_EXEC ? report[0] : 0;
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot start the parser '%s' (%s%s): %s", path,
				      stage ? stage_names[stage] : "setup", drop && stage == STAGE_EXEC ? " as nobody" : "",
				      stage ? strerror(report[1]) : "it exited");
	}

	fcntl(p[0], F_SETFL, O_NONBLOCK);
	long long deadline = plat_clock_ms() + timeout;
	bool timed_out = false, too_big = false;
	char buf[65536];
	for (;;) {
		long long left = deadline - plat_clock_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd pfd = {p[0], POLLIN, 0};
		int n_ready = poll(&pfd, 1, (int)(left < 1000 ? left : 1000));
		if (n_ready < 0 && errno == EINTR)
			continue;
		if (n_ready == 0)
			continue;
		ssize_t n = read(p[0], buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break; /* EOF: the helper closed its end (usually by exiting) */
		if (out->len + (size_t)n > max_output) {
			too_big = true;
			break;
		}
		plat_buf_append(out, buf, (size_t)n);
	}
	close(p[0]);
	if (timed_out || too_big)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	plat_buf_reserve(out, 0);
	if (timed_out)
		return plat_error_set(err, PLAT_E_FAILURE, "the parser did not finish within %lld ms", timeout);
	if (too_big)
		return plat_error_set(err, PLAT_E_FAILURE, "the parser produced more than %zu bytes", max_output);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		const char *what = sig == SIGSYS                    ? "attempted a forbidden system call and was killed" :
				   sig == SIGXCPU || sig == SIGKILL ? "ran out of CPU time" :
				   sig == SIGSEGV || sig == SIGBUS  ? "crashed" :
				   sig == SIGABRT || sig == SIGTRAP ? "aborted (out of memory?)" :
				   sig == SIGXFSZ                   ? "tried to write a file" :
								      "was killed";
		return plat_error_set(err, PLAT_E_FAILURE, "the parser %s (signal %d, SIG%s)", what, sig, signal_name(sig));
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (code == PLAT_SANDBOX_EXIT_INVALID)
		return plat_error_set(err, PLAT_E_INVALID, "%s", out->len ? out->data : "the file could not be parsed");
	if (code == PLAT_SANDBOX_EXIT_FAILURE)
		return plat_error_set(err, PLAT_E_FAILURE, "the parser failed: %s", out->len ? out->data : "no reason given");
	if (code == 127)
		return plat_error_set(err, PLAT_E_FAILURE,
				      "the parser could not load its libraries within the memory limit (exit 127)");
	if (code != 0)
		return plat_error_set(err, PLAT_E_FAILURE, "the parser failed (exit %d; out of memory?)", code);
	return 0;
}
