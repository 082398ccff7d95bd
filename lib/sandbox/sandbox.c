#include "sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock/clock.h"

/* AddressSanitizer reserves terabytes of address space for its shadow memory, so an
 * address-space limit would stop every sanitized child at its first allocation. */
#if defined(__SANITIZE_ADDRESS__)
#define ADDRESS_LIMIT_WORKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ADDRESS_LIMIT_WORKS 0
#endif
#endif
#ifndef ADDRESS_LIMIT_WORKS
#define ADDRESS_LIMIT_WORKS 1
#endif

/* This process's address space, which a forked child starts with. */
static long long address_space(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long long pages = 0;
	if (f) {
		if (fscanf(f, "%lld", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * sysconf(_SC_PAGESIZE);
}

/* inherited: the address space the child starts with (read by the parent before fork). */
static void child_limits(const struct plat_sandbox_limits *l, long long inherited)
{
	/* The limit is the parser's budget on top of what the child inherited: a Kafka
	 * consumer's threads reserve hundreds of megabytes of stacks and malloc arenas, which
	 * an absolute RLIMIT_AS would have taken out of the parser's share. */
	long long budget = l->memory_bytes > 0 ? l->memory_bytes : 1LL << 30;
	long long limit = inherited + budget;
	struct rlimit as = {(rlim_t)limit, (rlim_t)limit};
	rlim_t cpu = (rlim_t)(l->cpu_seconds > 0 ? l->cpu_seconds : 30);
	struct rlimit cpu_lim = {cpu, cpu + 1}; /* SIGXCPU at the soft limit, SIGKILL one second on */
	struct rlimit no_files = {0, 0};        /* the parser has no business writing files */
	struct rlimit no_core = {0, 0};
	if (ADDRESS_LIMIT_WORKS)
		setrlimit(RLIMIT_AS, &as);
	setrlimit(RLIMIT_CPU, &cpu_lim);
	setrlimit(RLIMIT_FSIZE, &no_files);
	setrlimit(RLIMIT_CORE, &no_core);
}

int plat_sandbox_run(plat_sandbox_fn fn, void *arg, const struct plat_sandbox_limits *limits, struct plat_buf *out,
		     struct plat_error *err)
{
	struct plat_sandbox_limits l = limits ? *limits : (struct plat_sandbox_limits){0};
	size_t max_output = l.max_output ? l.max_output : (size_t)256 << 20;
	long long timeout = l.timeout_ms > 0 ? l.timeout_ms : 60000;
	int p[2];
	if (pipe(p) < 0)
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot create a pipe for the parser: %s", strerror(errno));
	fflush(NULL); /* nothing buffered is written twice */
	long long inherited = address_space();
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return plat_error_set(err, PLAT_E_INTERNAL, "cannot start the parser process: %s", strerror(errno));
	}
	if (pid == 0) {
		close(p[0]);
		/* Handlers inherited from the caller (a worker's SIGTERM handler, a test
		 * framework's SIGSEGV handler) have no business in the parser: a crash must
		 * end the child, visibly, as a signal. */
		for (int sig = 1; sig <= 64; sig++) /* NSIG is not POSIX; signal() refuses the rest */
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* The parsers' libraries complain on stderr (libxml2 even about memory with its
		 * errors switched off). Those lines are not ours to show, and with RLIMIT_FSIZE 0
		 * a stderr redirected to a file (cron's >> log 2>&1) would kill the child with
		 * SIGXFSZ at the first one. */
		int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (devnull >= 0) {
			dup2(devnull, STDERR_FILENO);
			close(devnull);
		}
		child_limits(&l, inherited);
		_exit(fn(arg, p[1]) == 0 ? 0 : 3);
	}
	close(p[1]);
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
		int r = poll(&pfd, 1, (int)(left < 1000 ? left : 1000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue;
		ssize_t n = read(p[0], buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break; /* EOF: the child closed its end (usually by exiting) */
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
		return plat_error_set(err, PLAT_E_FAILURE, "the parser %s (signal %d)",
				      sig == SIGXCPU || sig == SIGKILL ? "ran out of CPU time" :
				      sig == SIGSEGV || sig == SIGBUS ? "crashed" : "was killed",
				      sig);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		return plat_error_set(err, PLAT_E_INVALID, "%s", out->len ? out->data : "the file could not be parsed");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return plat_error_set(err, PLAT_E_FAILURE, "the parser failed (exit %d; out of memory?)",
				      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
