/* SPDX-License-Identifier: MIT */
/*
 * Batches of injected calls: a final dump reads its process's state
 * through some 100 system calls, and each one on its own is three round
 * trips with the target's thread (to the call's entry stop, to its exit
 * stop, back to an event stop). A batch writes the calls into a table
 * after the scratch area and resumes the thread once, at the trampoline's
 * batch code (inject_tramp.c), which makes every call, stores its answer
 * in the table and ends with tgkill() of the thread itself with a signal
 * whose default action is to ignore it, that the thread does not block
 * and the process does not catch. The kernel reports even an ignored
 * signal to the tracer (sig_ignored() is false for a traced thread): the
 * thread stops in signal-delivery-stop, sdump reads the answers with one
 * pread(), drops the signal and puts the registers back. Tracer killed in
 * between: the thread, untraced, discards the signal and falls into the
 * trampoline's tail, which puts its own registers back.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "inject: "
#include "ctx.h"
#include "fault.h"
#include "inject.h"
#include "inject_priv.h"
#include "procfs.h"
#include "util.h"

/* A table entry's answer before the call made it: no system call returns it. */
#define NOT_RUN LONG_MIN

/* What the batch may end on, in order of preference: all ignored by default. */
static const int end_signals[] = { SIGURG, SIGWINCH, SIGCHLD };

/* The mask after @key ("\nSigBlk:") in a status file, all set when it is not there. */
static uint64_t status_mask(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtoull(p + strlen(key), NULL, 16) : ~(uint64_t)0;
}

/*
 * The signal to end a batch of thread @tid on, or 0: one neither pending
 * (its tgkill would merge with it), blocked (it would not stop the
 * thread) nor caught (the thread would run the handler, our tracer dead).
 * Ignored, by default or SIG_IGN: a traced thread still stops for it.
 */
static int end_signal(pid_t pid, pid_t tid)
{
	_cleanup_free_ char *buf = NULL;
	char path[PROC_PATH_MAX];
	uint64_t busy;

	if (sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "task/%d/status", (int)tid), &buf, NULL) < 0)
		return 0;
	busy = status_mask(buf, "\nSigPnd:") | status_mask(buf, "\nShdPnd:") |
	       status_mask(buf, "\nSigBlk:") | status_mask(buf, "\nSigCgt:");
	for (size_t i = 0; i < sizeof(end_signals) / sizeof(end_signals[0]); i++)
		if (!(busy & (uint64_t)1 << (end_signals[i] - 1)))
			return end_signals[i];
	return 0;
}

static int one_at_a_time(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
			 struct seized_thread *t, struct inject_batch_call *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = sd_inject_call(ctx, inj, s, t, calls[i].nr, calls[i].args, 0, &calls[i].ret);

		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The tests' SIGKILL in the middle of a batch (SDUMP_FAULT=die:N at its
 * call @k): once the thread has made the calls before it (their answers
 * in the table), or after a while.
 */
static void die_after(struct sdump_ctx *ctx, const struct injector *inj, pid_t tid, uint64_t table,
		      size_t k, size_t n)
{
	struct timespec pause = { 0, 50000 };
	long ret = NOT_RUN;

	for (int i = 0; k > 0 && i < 2000 && ret == NOT_RUN; i++) {
		if (pread(inj->mem_fd, &ret, sizeof(ret),
			  (off_t)(table + (k - 1) * sizeof(struct inject_batch_call) +
				  offsetof(struct inject_batch_call, ret))) != (ssize_t)sizeof(ret))
			ret = NOT_RUN;
		if (ret == NOT_RUN)
			(void)nanosleep(&pause, NULL);
	}
	pr_debug(ctx, "thread %d: killed (SDUMP_FAULT) in a batch of %zu calls, %s its call %zu", tid, n,
		 k > 0 && ret != NOT_RUN ? "after" : "before", k > 0 && ret != NOT_RUN ? k : k + 1);
	(void)raise(SIGKILL);
}

/*
 * Whether the signal-delivery-stop of @t for @stopsig is the batch's end:
 * @sig, where the trampoline's tgkill returns. Sent by someone else too,
 * the two merged: that one is kept for the detach.
 */
static bool at_end(const struct injector *inj, struct seized_thread *t, int stopsig, int sig)
{
	struct user_regs_struct regs;
	siginfo_t si;

	if (stopsig != sig || ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) < 0 ||
	    regs.rip != sd_inject_tramp_batch_ip(inj, true))
		return false;
	if (ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &si) == 0 &&
	    (si.si_code != SI_TKILL || si.si_pid != inj->pid) && !t->pending_sig) {
		t->pending_sig = sig;
		t->resend_sig = true;
	}
	return true;
}

/* Resume @t at the batch and wait for its end; other signals on the way kept for the detach. */
static int run_to_end(struct sdump_ctx *ctx, struct injector *inj, struct seized_thread *t, int sig,
		      ssize_t die_at, uint64_t table, size_t n)
{
	int status;

	if (fault_fails(FAULT_PTRACE) || ptrace(PTRACE_CONT, t->tid, NULL, NULL) < 0)
		return -errno;
	if (die_at >= 0)
		die_after(ctx, inj, t->tid, table, (size_t)die_at, n);
	for (;;) {
		int r = sd_inject_wait_thread(t->tid, &status);

		if (r < 0)
			return r;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		if (!WIFSTOPPED(status))
			return -EIO;
		if ((status >> 16) == 0) {
			int stopsig = WSTOPSIG(status);

			if (at_end(inj, t, stopsig, sig))
				return 0;
			/* not ours: dropped now (the thread leaves its stop), sent again at detach */
			if (stopsig != SIGTRAP && !t->pending_sig) {
				t->pending_sig = stopsig;
				t->resend_sig = true;
			}
		}
		if (ptrace(PTRACE_CONT, t->tid, NULL, NULL) < 0)
			return -errno;
	}
}

static int run_batch(struct sdump_ctx *ctx, struct injector *inj, struct seized_thread *t,
		     struct inject_batch_call *calls, size_t n, int sig)
{
	struct inject_batch_call table[INJECT_BATCH_MAX];
	const uint64_t table_addr = inj->scratch + inj->scratch_len;
	struct user_regs_struct saved, regs;
	size_t idx[INJECT_BATCH_MAX], m = 0;
	ssize_t die_at = -1;
	uint64_t ip;
	sigset_t oldmask;
	int r, e;

	/* the fault plan, per call as one at a time: failed ones not run, a death among them */
	for (size_t i = 0; i < n; i++) {
		r = sd_fault_check(FAULT_INJECT);
		if (r < 0) {
			pr_debug(ctx, "thread %d: syscall %ld = %d (injected fault)", t->tid, calls[i].nr, r);
			calls[i].ret = r;
			continue;
		}
		if (die_at < 0 && sd_fault_check(FAULT_DIE))
			die_at = (ssize_t)m;
		table[m] = calls[i];
		table[m].ret = NOT_RUN;
		idx[m++] = i;
	}
	if (m == 0)
		return 0;
	if (pwrite(inj->mem_fd, table, m * sizeof(table[0]), (off_t)table_addr) !=
	    (ssize_t)(m * sizeof(table[0])))
		return sd_err(ctx, errno ? -errno : -EIO, "cannot write the call table into pid %d", inj->pid);
	if (fault_fails(FAULT_PTRACE) || ptrace(PTRACE_GETREGS, t->tid, NULL, &saved) < 0)
		return sd_err(ctx, -errno, "cannot read registers of thread %d", t->tid);
	(void)ptrace(PTRACE_SETOPTIONS, t->tid, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD | inj->ptrace_opts));
	r = sd_inject_tramp_arm(inj, t, &saved, &ip);
	if (r < 0)
		return sd_err(ctx, r, "cannot write the trampoline of pid %d", inj->pid);
	/* resuming it from signal-delivery-stop drops its signal: send it again at detach */
	if (t->pending_sig)
		t->resend_sig = true;
	regs = saved;
	regs.rip = sd_inject_tramp_batch_ip(inj, false);
	regs.rbx = table_addr;
	regs.r12 = m;
	regs.r13 = (unsigned long long)inj->pid;
	regs.r14 = (unsigned long long)t->tid;
	regs.r15 = (unsigned long long)sig;
	regs.orig_rax = (unsigned long long)-1;
	/* as for one call: nothing may end us while the thread is not as it was */
	/* every signal of the thread's blocked but the one that ends the batch */
	r = sd_inject_enter(t, sig, &regs, true, &oldmask);
	if (r < 0)
		return sd_err(ctx, r, "cannot set registers of thread %d", t->tid);
	r = run_to_end(ctx, inj, t, sig, die_at, table_addr, m);
	if (r == 0 && sd_pread_all(inj->mem_fd, table, m * sizeof(table[0]), (off_t)table_addr) !=
			      (ssize_t)(m * sizeof(table[0])))
		r = errno ? -errno : -EIO;
	/* whatever failed (a fault's ESRCH included), the thread must not run on at the batch */
	(void)sd_seize_mask_run(t, 0);
	e = sd_inject_restore_thread(t, &saved);
	sd_inject_leave(t, &oldmask);
	if (r < 0)
		return sd_err(ctx, r, "cannot run a batch of %zu syscalls in thread %d", m, t->tid);
	if (e < 0)
		return sd_err(ctx, e, "cannot restore thread %d after a batch of syscalls", t->tid);
	for (size_t k = 0; k < m; k++) {
		calls[idx[k]].ret = table[k].ret;
		pr_debug(ctx, "thread %d: syscall %ld = %ld (batch)", t->tid, table[k].nr, table[k].ret);
	}
	return 0;
}

int sd_inject_batch(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
		 struct seized_thread *t, struct inject_batch_call *calls, size_t n)
{
	int sig;

	if (!t)
		t = sd_inject_pick_thread(s);
	/* the table and the code: a trampoline, so never where a seccomp filter sees our calls */
	if (!inj->tramp || !inj->scratch || inj->mem_fd < 0 || n < 2)
		return one_at_a_time(ctx, inj, s, t, calls, n);
	sig = end_signal(inj->pid, t->tid);
	if (!sig) {
		pr_debug(ctx, "thread %d: no signal to end a batch on: one call at a time", t->tid);
		return one_at_a_time(ctx, inj, s, t, calls, n);
	}
	for (size_t done = 0; done < n;) {
		size_t k = n - done < INJECT_BATCH_MAX ? n - done : INJECT_BATCH_MAX;
		int r = run_batch(ctx, inj, t, calls + done, k, sig);

		if (r < 0)
			return r;
		done += k;
	}
	return 0;
}
