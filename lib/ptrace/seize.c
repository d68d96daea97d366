/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/wait.h>

#include "sdump.h"
#define LOG_PREFIX "seize: "
#include "array.h"
#include "ctx.h"
#include "fault.h"
#include "proc.h"
#include "seize.h"
#include "util.h"
#include "procfs.h"

static bool is_seized(const struct seized *s, pid_t tid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->t[i].tid == tid)
			return true;
	return false;
}

static int add_thread(struct seized *s, pid_t tid, int sig)
{
	if (ARRAY_RESERVE(s->t, s->cap, s->n + 1, 16) < 0)
		return -ENOMEM;
	s->t[s->n++] = (struct seized_thread){ .tid = tid, .pending_sig = sig };
	return 0;
}

/*
 * The thread's own mask, for sd_seize_mask_run(). GETSIGMASK gives the
 * mask a call such as ppoll() puts back at its end.
 */
static void read_mask(struct seized_thread *t)
{
	t->mask_saved = ptrace(PTRACE_GETSIGMASK, t->tid, sizeof(t->sigmask), &t->sigmask) == 0;
}

int sd_seize_mask_run(struct seized_thread *t, int allow)
{
	uint64_t mask = ~0ull;

	if (!t->mask_saved)
		return 0;
	if (allow > 0)
		mask &= ~(1ull << (allow - 1));
	return ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(mask), &mask) < 0 ? -errno : 0;
}

void sd_seize_mask_own(struct seized_thread *t)
{
	if (t->mask_saved)
		(void)ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(t->sigmask), &t->sigmask);
}

/*
 * Seize one thread and wait until it is in a ptrace stop. Returns 1 when
 * seized, 0 when the thread no longer exists, -errno on failure.
 */
static int seize_thread(struct sdump_ctx *ctx, struct seized *s, pid_t tid)
{
	int status, sig = 0;
	pid_t w;

	if (s->n == 0)
		s->t_first_us = now_us();
	if (sd_ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
		int r = -errno;

		if (r == -ESRCH && tid != s->pid)
			return 0;
		return r;
	}
	if (sd_ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
		int r = -errno;

		/* seized but gone already: the kernel has reaped it for us */
		if (r == -ESRCH && tid != s->pid)
			return 0;
		(void)ptrace(PTRACE_DETACH, tid, NULL, NULL);
		return r;
	}
	for (;;) {
		w = waitpid(tid, &status, __WALL);
		if (w < 0) {
			int r = -errno;

			if (r == -EINTR)
				continue;
			if (r == -ECHILD && tid != s->pid)
				return 0;
			return r;
		}
		break;
	}
	if (WIFEXITED(status) || WIFSIGNALED(status))
		return tid == s->pid ? -ESRCH : 0;
	if (!WIFSTOPPED(status))
		return -EIO;
	/*
	 * PTRACE_EVENT_STOP: the interrupt (or a group stop) took it. Otherwise
	 * a signal was about to be delivered: the thread sits in
	 * signal-delivery-stop, which is as stopped as we need; the signal goes
	 * back with PTRACE_DETACH so that it is delivered as if we never came.
	 */
	if ((status >> 16) != PTRACE_EVENT_STOP)
		sig = WSTOPSIG(status);
	/* a job-control stop reports its own signal, an interrupt SIGTRAP */
	else if (WSTOPSIG(status) == SIGSTOP || WSTOPSIG(status) == SIGTSTP || WSTOPSIG(status) == SIGTTIN ||
		 WSTOPSIG(status) == SIGTTOU)
		s->group_stop_sig = WSTOPSIG(status);
	pr_debug(ctx, "thread %d stopped%s%s", tid, sig ? ", pending signal " : "",
		 sig ? strsignal(sig) : "");
	if (add_thread(s, tid, sig) < 0) {
		(void)ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)sig);
		return -ENOMEM;
	}
	/* now: injected system calls take the thread out of this stop later */
	if (sig && sd_ptrace(PTRACE_GETSIGINFO, tid, NULL, s->t[s->n - 1].siginfo) < 0)
		memset(s->t[s->n - 1].siginfo, 0, sizeof(s->t[s->n - 1].siginfo));
	read_mask(&s->t[s->n - 1]);
	return 1;
}

/* Seize every listed thread not seized yet; returns how many were new. */
static int seize_new_threads(struct sdump_ctx *ctx, struct seized *s)
{
	char path[PROC_PATH_MAX];
	struct dirent *de;
	int added = 0, r = 0;
	DIR *d;

	(void)sd_proc_path(path, s->pid, "task");
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (de->d_name[0] == '.' || *end || tid <= 0 || is_seized(s, (pid_t)tid))
			continue;
		r = seize_thread(ctx, s, (pid_t)tid);
		if (r < 0)
			break;
		added += r;
	}
	(void)closedir(d);
	return r < 0 ? r : added;
}

/* The TracerPid of @pid (0: none) and its name, from /proc. */
static pid_t tracer_of(pid_t pid, char *comm, size_t size)
{
	_cleanup_free_ char *status = NULL, *c = NULL;
	char path[PROC_PATH_MAX];
	const char *l;
	int t = 0;

	(void)snprintf(comm, size, "?");
	if (sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "status"), &status, NULL) < 0)
		return 0;
	l = strstr(status, "\nTracerPid:");
	if (!l || sscanf(l, "\nTracerPid: %d", &t) != 1 || t <= 0)
		return 0;
	if (sd_read_file(AT_FDCWD, sd_proc_path(path, t, "comm"), &c, NULL) == 0)
		(void)snprintf(comm, size, "%.*s", (int)strcspn(c, "\n"), c);
	return t;
}

/*
 * Why tracing may be refused, and what to do about it: the rule, and what
 * Yama (when the kernel has it) says here now.
 */
static int seize_eperm(struct sdump_ctx *ctx, pid_t pid)
{
	static const char *const scope_rule[] = {
		"no restriction of its own",
		"only an ancestor or CAP_SYS_PTRACE may trace; 0 lifts that",
		"only CAP_SYS_PTRACE may trace",
		"no process may be traced until reboot",
	};
	_cleanup_free_ char *buf = NULL;
	char yama[160] = "", tcomm[32];
	int scope = -1;
	pid_t tracer;

	if (sd_read_file(AT_FDCWD, "/proc/sys/kernel/yama/ptrace_scope", &buf, NULL) == 0 &&
	    sscanf(buf, "%d", &scope) == 1)
		(void)snprintf(yama, sizeof(yama),
			       ", and with kernel.yama.ptrace_scope allowing it (it is %d here%s%s)",
			       scope, scope >= 0 && scope <= 3 ? ": " : "",
			       scope >= 0 && scope <= 3 ? scope_rule[scope] : "");
	/* a process has one tracer: whoever asks, that is what to say */
	tracer = tracer_of(pid, tcomm, sizeof(tcomm));
	if (tracer > 0)
		return sd_errx(ctx, -EPERM,
			       "cannot seize pid %d: Operation not permitted; it is traced already, by pid %d (%s), and a process has one tracer: let that one (a debugger, strace, another sdump) detach first",
			       pid, tracer, tcomm);
	/* root has CAP_SYS_PTRACE: what stops it is Yama's last mode, or what root cannot lift here */
	if (geteuid() == 0 && scope == 3)
		return sd_errx(ctx, -EPERM,
			       "cannot seize pid %d: Operation not permitted; kernel.yama.ptrace_scope is 3 here: no process may be traced until reboot, root neither",
			       pid);
	if (geteuid() == 0)
		return sd_errx(ctx, -EPERM,
			       "cannot seize pid %d: Operation not permitted, even as root: a security module (SELinux, AppArmor) or a user namespace sdump is not privileged in forbids tracing it; run sdump where it may (the host, not a container)",
			       pid);
	return sd_errx(ctx, -EPERM,
		       "cannot seize pid %d: Operation not permitted; run sdump as the process's user or with CAP_SYS_PTRACE%s",
		       pid, yama);
}

bool sd_seize_task_is_dead(pid_t pid)
{
	_cleanup_free_ char *stat = NULL;
	char path[PROC_PATH_MAX], state;
	uint64_t start;

	(void)sd_proc_path(path, pid, "stat");
	if (sd_read_file(AT_FDCWD, path, &stat, NULL) < 0 || sd_proc_parse_stat(stat, &state, &start) < 0)
		return true;
	return state == 'Z' || state == 'X';
}

int sd_seize_process(struct sdump_ctx *ctx, pid_t pid, struct seized *ret_s)
{
	struct seized s = { .pid = pid };
	int r;

	/* The leader first: its failure (no such process, no permission) is the one to report. */
	r = seize_thread(ctx, &s, pid);
	if (r == 0)
		r = -ESRCH;
	while (r >= 0) {
		r = seize_new_threads(ctx, &s);
		if (r == 0)
			break;
	}
	if (r < 0) {
		sd_seize_detach(ctx, &s, NULL);
		/* a process that is exiting refuses PTRACE_SEIZE with EPERM too: say what it is */
		if (r == -ESRCH || (r == -EPERM && sd_seize_task_is_dead(pid)))
			return sd_errx(ctx, -ESRCH, "cannot seize pid %d: no such process", pid);
		if (r == -EPERM)
			return seize_eperm(ctx, pid);
		return sd_err(ctx, r, "cannot seize pid %d", pid);
	}
	pr_debug(ctx, "pid %d: %zu threads stopped", pid, s.n);
	*ret_s = s;
	return 0;
}

void sd_seize_detach(struct sdump_ctx *ctx, struct seized *s, uint64_t *ret_t_us)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct seized_thread *t = &s->t[i];

		int sig = t->resend_sig ? 0 : t->pending_sig;

		if (t->mask_saved && ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(t->sigmask), &t->sigmask) < 0 &&
		    errno != ESRCH)
			pr_warn(ctx, "cannot put back the signal mask of thread %d, ignoring: %s", t->tid,
				strerror(errno));
		if (ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)sig) < 0 && errno != ESRCH)
			pr_warn(ctx, "cannot detach thread %d, ignoring: %s", t->tid, strerror(errno));
		/* its siginfo is lost: the signal comes back as if sent by tgkill() */
		if (t->resend_sig && t->pending_sig)
			(void)syscall(SYS_tgkill, s->pid, t->tid, t->pending_sig);
	}
	if (ret_t_us)
		*ret_t_us = now_us();
	zfree(&s->t);
	s->n = s->cap = 0;
}
